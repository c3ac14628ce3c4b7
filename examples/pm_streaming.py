"""PM streaming management: find topics, subscribe, read the connection, unsubscribe.

Starts a mock seller on loopback and uses its PM Streaming Management API at
Allegro: lists the topics the seller streams (all, then by protocol and
category), subscribes to one over Kafka and to another over WebSocket, prints
the broker connection each subscription gives (servers, channel, bindings) to
consume from, lists the subscriptions and finally unsubscribes. The streaming
API is synchronous and sends no notifications, so no listener is needed.
Run with `python examples/pm_streaming.py`.
"""

from __future__ import annotations

from typing import Any

from lso_client import AllegroClient, NotFoundError
from lso_client.testing import MockSeller


def describe_connection(config: Any) -> list[str]:
    """The lines a consumer needs: where to connect and what to consume."""
    lines = [
        f"    server {name}: {server['url']} ({server['protocol']})"
        for name, server in (config.servers or {}).items()
    ]
    channel = config.channel
    lines.append(f"    channel {channel.name}")
    for binding, values in (channel.bindings or {}).items():
        found = {
            k: v for k, v in values.items() if k not in ("bindingVersion", "topicConfiguration")
        }
        lines.append(f"    {binding} binding: {found}")
    return lines


def main() -> None:
    with (
        MockSeller() as seller,
        AllegroClient(seller.url, token="demo-token") as client,
    ):
        print(f"mock seller at {seller.url}")
        print("topics:")
        for topic in client.streaming_topics.list():
            protocols = [str(channel.protocol) for channel in topic.available_channels or []]
            print(f"  {topic.id:28} {topic.category!s:9} over {', '.join(protocols)}")
        kafka = client.streaming_topics.list(protocol="kafka")
        print(f"over kafka: {[t.id for t in kafka]}")
        ip = client.streaming_topics.list(category="IP")
        print(f"category IP: {[t.id for t in ip]}")
        topic = client.streaming_topics.retrieve("ce-frame-delay")
        print(f"topic {topic.id}: model {topic.model_ref}")

        stats = client.streaming_subscriptions.create(
            {"topicId": "ce-performance-statistics", "protocol": "kafka", "priority": "high"}
        )
        print(f"-> subscription {stats.id} to {stats.topic_id} over {stats.protocol}:")
        for line in describe_connection(stats.connection_config):
            print(line)
        stream = client.streaming_subscriptions.create(
            {"topicId": "ip-performance-statistics", "protocol": "web-socket"}
        )
        print(f"-> subscription {stream.id} to {stream.topic_id} over {stream.protocol}:")
        for line in describe_connection(stream.connection_config):
            print(line)

        subscriptions = client.streaming_subscriptions.list()
        print(f"subscriptions: {[(s.topic_id, s.protocol, s.priority) for s in subscriptions]}")
        over_kafka = client.streaming_subscriptions.list(protocol="kafka")
        print(f"over kafka: {[s.id for s in over_kafka]}")

        client.streaming_subscriptions.delete(stats.id)
        print(f"-> unsubscribed {stats.id}")
        try:
            client.streaming_subscriptions.retrieve(stats.id)
        except NotFoundError as exc:
            print(f"retrieving it now: {exc.status_code} not found")
        left = client.streaming_subscriptions.list()
        print(f"subscriptions left: {[s.topic_id for s in left]}")


if __name__ == "__main__":
    main()
