"""PM streams over TLS: a `kafka-secure` subscription read from a broker that serves Kafka
over TLS only (and one that also asks for a client certificate), with certificates made
here. A broker the client cannot trust is a `StreamConnectionError` in bounded time."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _servers import Issued, issue, make_ca, server_context

from lso_client import AllegroClient, AsyncAllegroClient
from lso_client._streaming import StreamConnectionError
from lso_client.testing._broker import KafkaBroker, kafka_answers
from lso_client.types.streaming_message_v1 import CePerformanceStatisticsMessage

FAST: dict[str, Any] = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 100}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    directory = tmp_path_factory.mktemp("pki")
    ca = make_ca(directory, "stream-ca")
    return {
        "ca": ca,
        "server": issue(directory, ca, "broker", server=True),
        "client": issue(directory, ca, "buyer", server=False),
        "other-ca": make_ca(directory, "other-ca"),
    }


@pytest.fixture(scope="module")
def tls_broker(pki: dict[str, Issued]) -> Iterator[KafkaBroker]:
    with KafkaBroker(tls=server_context(pki["server"])) as broker:
        yield broker


def trusting(ca: Issued, client: Issued | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca.cert))
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


def secure_subscription(address: str, topic: str) -> dict[str, Any]:
    return {
        "id": f"sub-{topic}",
        "connectionConfig": {
            "servers": {"kafka-tls": {"url": address, "protocol": "kafka-secure"}},
            "channel": {"name": topic, "bindings": {"kafka": {"topic": topic}}},
        },
    }


def produce(address: str, context: ssl.SSLContext, topic: str, count: int) -> None:
    async def run() -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(
            bootstrap_servers=address, security_protocol="SSL", ssl_context=context
        )
        await producer.start()
        try:
            for number in range(count):
                body = {
                    "eventId": f"e-{number}",
                    "eventType": "CePerformanceStatistics",
                    "event": {"key": {"serviceId": "evc-1"}},
                }
                await producer.send(topic, json.dumps(body).encode())
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(run())


def new_topic() -> str:
    return f"tls.{uuid.uuid4().hex[:12]}"


def test_the_broker_speaks_only_tls_at_its_address(tls_broker: KafkaBroker) -> None:
    host, port = tls_broker.address.split(":")
    assert not kafka_answers(host, int(port), timeout=2.0)  # a plaintext request goes nowhere


def test_a_kafka_secure_subscription_is_read_over_tls(
    tls_broker: KafkaBroker, pki: dict[str, Issued]
) -> None:
    topic = new_topic()
    produce(tls_broker.address, trusting(pki["ca"]), topic, 30)
    with (
        AllegroClient("http://127.0.0.1:9", token="t") as client,
        client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, topic),
            ssl_context=trusting(pki["ca"]),
            idle_timeout=3,
            consumer_options=FAST,
        ) as stream,
    ):
        assert stream.connection.tls
        got = list(stream)
    assert all(type(m) is CePerformanceStatisticsMessage for m in got)
    assert sorted(m.event_id for m in got) == sorted(f"e-{n}" for n in range(30))


async def test_a_kafka_secure_subscription_is_read_over_tls_async(
    tls_broker: KafkaBroker, pki: dict[str, Issued]
) -> None:
    topic = new_topic()
    await asyncio.to_thread(produce, tls_broker.address, trusting(pki["ca"]), topic, 10)
    async with AsyncAllegroClient("http://127.0.0.1:9", token="t") as client:
        stream = client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, topic),
            ssl_context=trusting(pki["ca"]),
            idle_timeout=3,
            consumer_options=FAST,
        )
        async with stream:
            got = [m.event_id async for m in stream]
    assert sorted(got) == sorted(f"e-{n}" for n in range(10))


@pytest.mark.parametrize("trust", ["default trust", "another CA"])
def test_a_broker_the_client_cannot_trust_is_a_connection_error_in_bounded_time(
    tls_broker: KafkaBroker, pki: dict[str, Issued], trust: str
) -> None:
    options: dict[str, Any] = {}
    if trust == "another CA":
        options["ssl_context"] = trusting(pki["other-ca"])
    started = time.monotonic()
    with (
        AllegroClient("http://127.0.0.1:9", token="t") as client,
        pytest.raises(StreamConnectionError, match="could not start the consumer") as raised,
        client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, new_topic()), reconnect_timeout=2, **options
        ) as stream,
    ):
        list(stream)
    assert time.monotonic() - started < 30
    assert tls_broker.address in str(raised.value)
    assert "(TLS certificate verification failed: unable to get local issuer" in str(raised.value)


def test_a_broker_that_asks_for_a_client_certificate(pki: dict[str, Issued]) -> None:
    context = server_context(pki["server"], client_ca=pki["ca"])
    with (
        KafkaBroker(tls=context) as broker,
        AllegroClient("http://127.0.0.1:9", token="t") as client,
    ):
        topic = new_topic()
        with_cert = trusting(pki["ca"], pki["client"])
        produce(broker.address, with_cert, topic, 5)
        with client.streaming_subscriptions.consume(
            secure_subscription(broker.address, topic),
            ssl_context=with_cert,
            idle_timeout=3,
            consumer_options=FAST,
        ) as stream:
            assert sorted(m.event_id for m in stream) == [f"e-{n}" for n in range(5)]
        with (
            pytest.raises(StreamConnectionError),
            client.streaming_subscriptions.consume(
                secure_subscription(broker.address, topic),
                ssl_context=trusting(pki["ca"]),  # no client certificate
                reconnect_timeout=2,
            ) as stream,
        ):
            list(stream)


# --------------------------------------------------------------------------- the client's TLS


def test_a_stream_trusts_what_the_client_trusts(
    tls_broker: KafkaBroker, pki: dict[str, Issued]
) -> None:
    topic = new_topic()
    produce(tls_broker.address, trusting(pki["ca"]), topic, 3)
    with (
        AllegroClient("http://127.0.0.1:9", token="t", verify=str(pki["ca"].cert)) as client,
        client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, topic), idle_timeout=3, consumer_options=FAST
        ) as stream,
    ):
        assert sorted(m.event_id for m in stream) == [f"e-{n}" for n in range(3)]


async def test_an_async_stream_trusts_what_the_client_trusts(
    tls_broker: KafkaBroker, pki: dict[str, Issued]
) -> None:
    topic = new_topic()
    await asyncio.to_thread(produce, tls_broker.address, trusting(pki["ca"]), topic, 3)
    async with AsyncAllegroClient(
        "http://127.0.0.1:9", token="t", verify=str(pki["ca"].cert)
    ) as client:
        stream = client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, topic), idle_timeout=3, consumer_options=FAST
        )
        async with stream:
            got = [m.event_id async for m in stream]
    assert sorted(got) == [f"e-{n}" for n in range(3)]


def test_a_stream_presents_the_clients_certificate_and_trusts_a_profiles_ca(
    pki: dict[str, Issued], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.lab]\nbase_url = "http://127.0.0.1:9"\ntoken = "t"\n'
        f'ca = "{pki["ca"].cert}"\ncert = "{pki["client"].cert}"\nkey = "{pki["client"].key}"\n'
    )
    context = server_context(pki["server"], client_ca=pki["ca"])
    with (
        KafkaBroker(tls=context) as broker,
        AllegroClient.from_profile("lab", config_file=config) as client,
    ):
        topic = new_topic()
        produce(broker.address, trusting(pki["ca"], pki["client"]), topic, 2)
        with client.streaming_subscriptions.consume(
            secure_subscription(broker.address, topic), idle_timeout=3, consumer_options=FAST
        ) as stream:
            assert sorted(m.event_id for m in stream) == ["e-0", "e-1"]


def test_an_ssl_context_wins_over_the_clients_tls(
    tls_broker: KafkaBroker, pki: dict[str, Issued]
) -> None:
    with (
        AllegroClient("http://127.0.0.1:9", token="t", verify=str(pki["ca"].cert)) as client,
        pytest.raises(StreamConnectionError, match="TLS certificate verification failed"),
        client.streaming_subscriptions.consume(
            secure_subscription(tls_broker.address, new_topic()),
            ssl_context=trusting(pki["other-ca"]),
            reconnect_timeout=2,
        ) as stream,
    ):
        list(stream)
