"""PM Streaming Management (v1) as an API module of the mock seller.

Topics are fixed (seeded per reference point); subscriptions are created, listed,
retrieved and deleted synchronously, as W147 assumes, each answered with the
`connectionConfig` a consumer needs (AsyncAPI servers and channel bindings).
`GET subscription` also speaks AsyncAPI when asked with
`Accept: application/vnd.aai.asyncapi+json`. The API has no hub and no events.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._api import ApiModule
from ._filters import Body, Filters, field_at
from ._http import (
    ApiError,
    Request,
    Response,
    Route,
    Unprocessable,
    dump_json,
    json_response,
    page_response,
    unprocessable,
)
from ._runtime import SellerContext
from ._store import Record, Store

__all__ = ["ASYNCAPI_CONTENT_TYPE", "PROTOCOLS", "StreamingManagementApi", "default_topics"]

ASYNCAPI_CONTENT_TYPE = "application/vnd.aai.asyncapi+json"
TOPIC_CATEGORIES = frozenset(
    {"Layer 1", "Ethernet", "IP", "SD-WAN", "Computing", "Storage", "Memory"}
)

_KAFKA = {"protocol": "kafka", "description": "Apache Kafka, one topic per subscription"}
_AMQP = {"protocol": "amqp", "description": "AMQP 0-9-1, a routing key per subscription"}
_WS = {"protocol": "web-socket", "description": "WebSocket stream, one channel per subscription"}


@dataclass(frozen=True)
class _Protocol:
    server: dict[str, Any]
    bindings: dict[str, Any]


PROTOCOLS: Mapping[str, _Protocol] = {
    "kafka": _Protocol(
        {"url": "broker.seller.example:9093", "protocol": "kafka-secure"},
        {
            "kafka": {
                "partitions": 3,
                "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": 604800000},
                "bindingVersion": "0.4.0",
            }
        },
    ),
    "amqp": _Protocol(
        {"url": "amqps://broker.seller.example:5671", "protocol": "amqps"},
        {
            "amqp": {
                "is": "routingKey",
                "exchange": {"type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.3.0",
            }
        },
    ),
    "web-socket": _Protocol(
        {"url": "wss://stream.seller.example/mef", "protocol": "wss"},
        {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
    ),
}


def default_topics(reference_point: str) -> list[dict[str, Any]]:
    """A few topics of the kinds W147 shows: per category, with Kafka, AMQP or WebSocket."""
    schemas = f"https://seller.example/schemas/{reference_point}"
    return [
        {
            "id": "ce-performance-statistics",
            "category": "Ethernet",
            "modelRef": f"{schemas}/ethernet/cePerformanceStatistics.1.0.0.schema.json",
            "availableChannels": [_KAFKA, _WS],
        },
        {
            "id": "ce-frame-delay",
            "category": "Ethernet",
            "modelRef": f"{schemas}/ethernet/ceFrameDelay.1.0.0.schema.json",
            "availableChannels": [_KAFKA, _AMQP],
        },
        {
            "id": "ip-performance-statistics",
            "category": "IP",
            "modelRef": f"{schemas}/ip/ipPerformanceStatistics.1.0.0.schema.json",
            "availableChannels": [_KAFKA, _AMQP, _WS],
        },
        {
            "id": "sdwan-tunnel-statistics",
            "category": "SD-WAN",
            "modelRef": f"{schemas}/sdwan/tunnelStatistics.1.0.0.schema.json",
            "availableChannels": [_AMQP, _WS],
        },
        {
            "id": "computing-cpu",
            "category": "Computing",
            "modelRef": f"{schemas}/computing/cpu.1.0.0.schema.json",
            "availableChannels": [_KAFKA],
        },
    ]


_TOPIC_FILTERS = Filters(
    equals={"category": field_at("category"), "protocol": field_at("availableChannels", "protocol")}
)
_SUBSCRIPTION_FILTERS = Filters(
    equals={"topicId": field_at("topicId"), "protocol": field_at("protocol")}
)


def _protocols(topic: Body) -> frozenset[str]:
    return frozenset(str(channel["protocol"]) for channel in topic["availableChannels"])


class StreamingManagementApi(ApiModule):
    """`topic`, `topic/{id}`, `subscription`, `subscription/{id}` at one reference point.

    The streaming API has no hub and sends no notifications.
    """

    def __init__(
        self,
        reference_point: str,
        context: SellerContext,
        topics: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(context)
        self.reference_point = reference_point
        self.base_path = f"/mefApi/{reference_point}/streamingManagement/v1/"
        self._topics: Store[Record] = Store("topic", _TOPIC_FILTERS)
        self._subscriptions: Store[Record] = Store("subscription", _SUBSCRIPTION_FILTERS)
        self._initial = copy.deepcopy(
            topics if topics is not None else default_topics(reference_point)
        )
        for topic in self._initial:
            self.add_topic(topic)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "topic", self.list_handler(self._topics)),
            Route("GET", "topic/{id}", self.retrieve_handler(self._topics)),
            Route("GET", "subscription", self._list_subscriptions),
            Route("POST", "subscription", self._subscribe),
            Route("GET", "subscription/{id}", self.retrieve_handler(self._subscriptions)),
            Route("DELETE", "subscription/{id}", self._unsubscribe),
        ]

    # -- control and inspection (any thread) ---------------------------------------------

    def add_topic(self, topic: dict[str, Any]) -> None:
        """Offer one more topic (`id` and at least one `availableChannels` entry)."""
        channels = topic.get("availableChannels")
        if not isinstance(topic.get("id"), str) or not isinstance(channels, list) or not channels:
            raise ValueError("a topic needs an 'id' and at least one available channel")
        if topic.get("category") is not None and topic["category"] not in TOPIC_CATEGORIES:
            raise ValueError(f"unknown topic category {topic['category']!r}")
        body = copy.deepcopy(topic)
        with self._lock:
            self._topics.save(Record(body["id"], body))

    def topics(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(topic.body) for topic in self._topics.all()]

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(sub.json) for sub in self._subscriptions.all()]

    def reset(self) -> None:
        """Forget every subscription and go back to the initial topics."""
        with self._lock:
            self._subscriptions.clear()
            self._topics.clear()
        for topic in self._initial:
            self.add_topic(topic)

    # -- HTTP handlers (serving loop) ------------------------------------------------------

    def _subscribe(self, request: Request, _: dict[str, str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "invalidBody", "The body must be a JSON object")
        errors = [
            unprocessable("missingProperty", f"'{name}' is required", f"/{name}")
            for name in ("topicId", "protocol")
            if not isinstance(body.get(name), str) or not body[name]
        ]
        if errors:
            raise Unprocessable(errors)
        with self._lock:
            topic = self._topics.get(body["topicId"])
        if topic is None:
            raise Unprocessable(
                [unprocessable("referenceNotFound", "no topic has this id", "/topicId")]
            )
        protocol: str = body["protocol"]
        protocols = _protocols(topic.body)
        if protocol not in protocols:
            offered = ", ".join(sorted(protocols))
            raise Unprocessable(
                [
                    unprocessable(
                        "invalidValue", f"the topic is offered over {offered} only", "/protocol"
                    )
                ]
            )
        subscription_id = self._ctx.new_id()
        # The request's extension fields (W147 5.3.1.2) are kept and echoed.
        created = {**body, "id": subscription_id}
        created.setdefault("priority", "medium")
        created["connectionConfig"] = self._connection(topic.body["id"], protocol, subscription_id)
        self._stream_to(topic.body["id"], created["connectionConfig"])
        with self._lock:
            sub = self._subscriptions.save(Record(subscription_id, created))
        return json_response(201, sub.json)

    def _list_subscriptions(self, request: Request, _: dict[str, str]) -> Response:
        with self._lock:
            chosen = self._subscriptions.matching(self._subscriptions.filters.from_query(request))
        if _wants_asyncapi(request.headers.get("accept", "")):
            return Response(
                200,
                dump_json(_asyncapi([sub.body for sub in chosen], self.reference_point)),
                [("content-type", ASYNCAPI_CONTENT_TYPE)],
            )
        return page_response(
            request, [sub.json for sub in chosen], max_page_size=self._ctx.max_page_size
        )

    def _unsubscribe(self, _: Request, params: dict[str, str]) -> Response:
        with self._lock:
            sub = self._subscriptions.require(params["id"])
            self._subscriptions.remove(sub.id)
        topic = _kafka_topic(sub.body.get("connectionConfig", {}))
        if self._ctx.streams is not None and topic is not None:
            self._ctx.streams.remove_topic(self.reference_point, topic)
        return Response(204)

    # -- helpers ------------------------------------------------------------------------------

    def _connection(self, topic_id: str, protocol: str, subscription_id: str) -> dict[str, Any]:
        known = PROTOCOLS.get(protocol)
        name = f"streaming/{topic_id}/{subscription_id}"
        if known is None:
            # A protocol added with a custom topic: a channel name and no bindings.
            return {"servers": {}, "channel": {"name": name}}
        bindings = copy.deepcopy(known.bindings)
        for binding in bindings.values():
            if "partitions" in binding:
                binding["topic"] = f"{self.reference_point}.{topic_id}.{subscription_id}"
            if "exchange" in binding:
                binding["exchange"]["name"] = f"{self.reference_point}.{topic_id}"
        server = dict(known.server)
        if protocol == "kafka" and self._ctx.streams is not None:
            # A real broker on loopback, without TLS.
            server = {"url": self._ctx.streams.address, "protocol": "kafka"}
        return {
            "servers": {f"{protocol}-prod": server},
            "channel": {"name": name, "bindings": bindings},
        }

    def _stream_to(self, topic_id: str, config: dict[str, Any]) -> None:
        """With a real broker, create a Kafka subscription's topic and stream PM to it."""
        streams = self._ctx.streams
        topic = _kafka_topic(config)
        if streams is None or topic is None:
            return
        partitions = config["channel"]["bindings"]["kafka"].get("partitions", 1)
        streams.add_topic(self.reference_point, topic, topic_id, int(partitions))


def _kafka_topic(config: dict[str, Any]) -> str | None:
    kafka = config.get("channel", {}).get("bindings", {}).get("kafka", {})
    topic = kafka.get("topic")
    return topic if isinstance(topic, str) else None


def _wants_asyncapi(accept: str) -> bool:
    """Whether the Accept header prefers AsyncAPI over JSON (first listed wins)."""
    for part in accept.split(","):
        kind = part.split(";", 1)[0].strip().lower()
        if kind == ASYNCAPI_CONTENT_TYPE:
            return True
        if kind in ("application/json", "*/*", "application/*"):
            return False
    return False


# The AsyncAPI message of every channel: the PM Message (Message.yaml), whose `event`
# the message's eventType specializes.
_EVENT_MESSAGE: dict[str, Any] = {
    "name": "Event",
    "contentType": "application/json",
    "payload": {
        "type": "object",
        "required": ["eventId", "eventType"],
        "properties": {
            "eventId": {"type": "string"},
            "eventTime": {"type": "string", "format": "date-time"},
            "eventType": {"type": "string"},
            "priority": {"type": "string", "enum": ["low", "medium", "high"]},
            "description": {"type": "string"},
            "event": {"type": "object"},
        },
    },
}


def _asyncapi(subscriptions: list[dict[str, Any]], reference_point: str) -> dict[str, Any]:
    """The listing as the AsyncAPI 2.6 document W147 use case 5 shows: the subscriptions'
    servers, one channel per subscription read through its `subscribe` operation (which
    carries the channel's bindings, where the guide puts them), and the message."""
    servers: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for sub in subscriptions:
        config = sub.get("connectionConfig", {})
        servers.update(config.get("servers", {}))
        channel = config.get("channel", {})
        described: dict[str, Any] = {"description": f"subscription {sub['id']}"}
        if config.get("servers"):
            described["servers"] = sorted(config["servers"])
        channels[channel.get("name", sub["id"])] = {
            **described,
            "subscribe": {
                "operationId": f"consume-{sub['id']}",
                "description": f"topic {sub['topicId']} over {sub['protocol']}",
                "bindings": channel.get("bindings", {}),
                "message": {"$ref": "#/components/messages/Event"},
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {"title": f"Mock seller streams at {reference_point}", "version": "1.0.0"},
        "servers": servers,
        "channels": channels,
        "components": {"messages": {"Event": copy.deepcopy(_EVENT_MESSAGE)}},
    }
