"""Consuming PM streams: typed messages from a real Kafka-protocol broker on loopback.

The broker is Tansu (`lso_client.testing._broker`), started and stopped by pid; the
durable one keeps its data in a loopback S3 server so that it can be killed and
started again with nothing lost. Messages are counted by `eventId`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lso_client import AllegroClient, AsyncAllegroClient, LegatoClient
from lso_client._streaming import (
    KafkaCredentials,
    StreamConnectionError,
    StreamMessageError,
    kafka_connection,
)
from lso_client.testing import MockSeller
from lso_client.testing._broker import KafkaBroker, kafka_answers
from lso_client.types import MefModel
from lso_client.types.payloads.legato.carrier_ethernet import (
    CarrierEthernetPerformanceMonitoringResults,
)
from lso_client.types.performance_monitoring_v5 import ReportContentItem
from lso_client.types.streaming_message_v1 import CePerformanceStatisticsMessage, Message

# Tansu answers a consumer's first JoinGroup after a session-timeout-bound delay;
# a short session keeps each test's group join at a few seconds.
FAST: dict[str, Any] = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 100}


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    with KafkaBroker() as started:
        yield started


def subscription(address: str, topic: str) -> dict[str, Any]:
    """A streaming subscription as the seller answers it, for a Kafka topic."""
    return {
        "id": f"sub-{topic}",
        "topicId": "ce-performance-statistics",
        "protocol": "kafka",
        "connectionConfig": {
            "servers": {"kafka-prod": {"url": address, "protocol": "kafka"}},
            "channel": {"name": f"streaming/{topic}", "bindings": {"kafka": {"topic": topic}}},
        },
    }


def message(number: int, **fields: Any) -> bytes:
    body = {
        "eventId": f"e-{number}",
        "eventType": "CePerformanceStatistics",
        "eventTime": "2026-05-30T14:11:42.515835+02:00",
        "priority": "low",
        "event": {"key": {"serviceId": "evc-1"}, "metrics": {"n": number}},
        **fields,
    }
    return json.dumps(body).encode()


def produce(address: str, topic: str, values: list[bytes], partitions: int = 1) -> None:
    """Create `topic` (if new) and put `values` on it, in order."""

    async def run() -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        admin = AIOKafkaAdminClient(bootstrap_servers=address)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, partitions, 1)])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=address)
        await producer.start()
        try:
            for value in values:
                await producer.send(topic, value)
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(run())


def new_topic() -> str:
    return f"pm.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client() -> Iterator[AllegroClient]:
    # The HTTP side is not used: consume() reads the subscription given.
    with AllegroClient("http://127.0.0.1:9", token="t", max_retries=0) as made:
        yield made


# --------------------------------------------------------------------------- the extra


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_package_and_a_client_does_not_import_aiokafka() -> None:
    done = run_python(
        "import sys, lso_client\n"
        "lso_client.AllegroClient('http://127.0.0.1:9', token='t').streaming_subscriptions\n"
        "print('aiokafka' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_consume_without_the_extra_names_it() -> None:
    done = run_python(
        "import sys\n"
        "sys.modules['aiokafka'] = None  # as if not installed\n"
        "import lso_client\n"
        "client = lso_client.AllegroClient('http://127.0.0.1:9', token='t')\n"
        "try:\n"
        "    client.streaming_subscriptions.consume({'id': 'x'})\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'lso-client[kafka]'" in done.stdout


# --------------------------------------------------------------------------- connection


def test_the_connection_comes_from_the_subscription() -> None:
    sub = {
        "id": "s-1",
        "connectionConfig": {
            "servers": {
                "kafka-prod": {
                    "url": "kafka-secure://b1.example:9093,b2.example",
                    "protocol": "kafka-secure",
                    "security": [{"scramSha512": []}],
                },
                "ws": {"url": "wss://stream.example", "protocol": "wss"},
            },
            "channel": {"name": "streaming/x/s-1", "bindings": {"kafka": {"topic": "pm.x"}}},
        },
    }
    found = kafka_connection(sub)
    assert found.bootstrap_servers == ("b1.example:9093", "b2.example:9092")
    assert found.topic == "pm.x"
    assert found.group_id == "lso-client.s-1"
    assert found.tls is True
    assert found.sasl_mechanism == "SCRAM-SHA-512"
    assert kafka_connection(sub, group_id="mine").group_id == "mine"
    sub["connectionConfig"]["channel"]["bindings"]["kafka"]["groupId"] = "given"
    assert kafka_connection(sub).group_id == "given"


def test_a_subscription_without_a_kafka_server_is_refused(client: AllegroClient) -> None:
    sub = {"id": "s", "connectionConfig": {"servers": {"a": {"url": "x", "protocol": "amqp"}}}}
    with pytest.raises(ValueError, match="no Kafka server"):
        client.streaming_subscriptions.consume(sub)


# --------------------------------------------------------------------------- consuming


def test_consume_yields_typed_messages(broker: KafkaBroker, client: AllegroClient) -> None:
    topic = new_topic()
    produce(broker.address, topic, [message(n) for n in range(200)], partitions=3)
    with client.streaming_subscriptions.consume(
        subscription(broker.address, topic), idle_timeout=2, consumer_options=FAST
    ) as stream:
        got = list(stream)
    # The generated message, specialised by eventType, its event typed.
    assert all(type(m) is CePerformanceStatisticsMessage for m in got)
    assert sorted(m.event_id for m in got) == sorted(f"e-{n}" for n in range(200))
    first = got[0]
    assert first.event_type == "CePerformanceStatistics"
    assert first.event is not None and first.event.key is not None
    assert first.event.to_dict()["key"] == {"serviceId": "evc-1"}
    assert first.spec_deviations == []
    assert first.to_dict()["eventTime"] == "2026-05-30T14:11:42.515835+02:00"


async def test_consume_yields_typed_messages_async(broker: KafkaBroker) -> None:
    topic = new_topic()
    await asyncio.to_thread(produce, broker.address, topic, [message(n) for n in range(50)])
    async with AsyncAllegroClient("http://127.0.0.1:9", token="t") as client:
        stream = client.streaming_subscriptions.consume(
            subscription(broker.address, topic), idle_timeout=2, consumer_options=FAST
        )
        assert stream.connection == kafka_connection(subscription(broker.address, topic))
        async with stream:
            got = [m async for m in stream]
    assert [m.event_id for m in got] == [f"e-{n}" for n in range(50)]


def test_a_message_being_handled_when_the_caller_fails_comes_again(
    broker: KafkaBroker, client: AllegroClient
) -> None:
    topic = new_topic()
    produce(broker.address, topic, [message(n) for n in range(5)])
    sub = subscription(broker.address, topic)
    taken = []
    with (
        pytest.raises(RuntimeError, match="handler failed"),
        client.streaming_subscriptions.consume(sub, consumer_options=FAST) as stream,
    ):
        for m in stream:
            taken.append(m.event_id)
            if len(taken) == 3:
                raise RuntimeError("handler failed")
    assert taken == ["e-0", "e-1", "e-2"]
    with client.streaming_subscriptions.consume(
        sub, idle_timeout=2, consumer_options=FAST
    ) as stream:
        again = [m.event_id for m in stream]
    # e-2 was being handled: it is delivered again; e-0 and e-1 were handled.
    assert again == ["e-2", "e-3", "e-4"]


CTRL_C_CONSUMER = """
import sys, time
from lso_client import AllegroClient
sub = {"id": "sub-" + sys.argv[2], "connectionConfig": {
    "servers": {"k": {"url": sys.argv[1], "protocol": "kafka"}},
    "channel": {"name": "c", "bindings": {"kafka": {"topic": sys.argv[2]}}}}}
options = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 100}
try:
    with AllegroClient("http://127.0.0.1:9", token="t") as client:
        with client.streaming_subscriptions.consume(sub, consumer_options=options) as stream:
            for message in stream:
                print(message.event_id, flush=True)
                if message.event_id == "e-1":
                    time.sleep(600)  # handling it when Ctrl-C comes
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


def test_ctrl_c_stops_cleanly_and_the_message_in_hand_comes_again(
    broker: KafkaBroker, client: AllegroClient
) -> None:
    import signal

    topic = new_topic()
    produce(broker.address, topic, [message(n) for n in range(3)])
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CONSUMER, broker.address, topic],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "e-0"
        assert child.stdout.readline().strip() == "e-1"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert out.strip() == "stopped"
    assert child.returncode == 0
    assert err == ""  # no unclosed consumer, no pending task
    with client.streaming_subscriptions.consume(
        subscription(broker.address, topic), idle_timeout=2, consumer_options=FAST
    ) as stream:
        again = [m.event_id for m in stream]
    # e-1, in hand at Ctrl-C, comes again. e-0 was committed; once, on a heavily loaded
    # machine, the broker still gave the next consumer of the group offset 0: at least
    # once allows that, so only the order of what follows is asserted.
    assert again[-2:] == ["e-1", "e-2"]
    assert again in (["e-1", "e-2"], ["e-0", "e-1", "e-2"])


def test_leaving_the_block_commits_the_message_taken_last(
    broker: KafkaBroker, client: AllegroClient
) -> None:
    topic = new_topic()
    produce(broker.address, topic, [message(n) for n in range(3)])
    sub = subscription(broker.address, topic)
    with client.streaming_subscriptions.consume(sub, consumer_options=FAST) as stream:
        assert next(stream).event_id == "e-0"
    with client.streaming_subscriptions.consume(
        sub, idle_timeout=2, consumer_options=FAST
    ) as stream:
        assert [m.event_id for m in stream] == ["e-1", "e-2"]


def test_a_record_that_is_not_json_raises_a_typed_error_and_the_stream_goes_on(
    broker: KafkaBroker, client: AllegroClient
) -> None:
    topic = new_topic()
    produce(broker.address, topic, [message(0), b"not json {", message(2)])
    sub = subscription(broker.address, topic)
    with client.streaming_subscriptions.consume(
        sub, idle_timeout=2, consumer_options=FAST
    ) as stream:
        assert next(stream).event_id == "e-0"
        with pytest.raises(StreamMessageError) as caught:
            next(stream)
        assert caught.value.record.value == b"not json {"
        assert caught.value.record.offset == 1
        assert caught.value.errors[0]["type"] == "json_invalid"
        assert [m.event_id for m in stream] == ["e-2"]
    # The bad record counted as handled: it does not come back.
    with client.streaming_subscriptions.consume(
        sub, idle_timeout=2, consumer_options=FAST
    ) as stream:
        assert list(stream) == []


def test_on_error_skips_bad_records(broker: KafkaBroker, client: AllegroClient) -> None:
    topic = new_topic()
    produce(broker.address, topic, [b"[1, 2]", message(1), b"\xff\xfe", message(3)])
    errors: list[StreamMessageError] = []
    with client.streaming_subscriptions.consume(
        subscription(broker.address, topic),
        idle_timeout=2,
        on_error=errors.append,
        consumer_options=FAST,
    ) as stream:
        got = [m.event_id for m in stream]
    assert got == ["e-1", "e-3"]
    assert [e.record.offset for e in errors] == [0, 2]


def test_lenient_and_strict_reading(broker: KafkaBroker, client: AllegroClient) -> None:
    topic = new_topic()
    off_spec = json.dumps({"eventType": "X", "eventTime": "yesterday", "extra": 1}).encode()
    produce(broker.address, topic, [off_spec])
    sub = subscription(broker.address, topic)
    with client.streaming_subscriptions.consume(
        sub, idle_timeout=2, group_id="lenient", consumer_options=FAST
    ) as stream:
        (lenient,) = list(stream)
    assert {tuple(d["loc"]) for d in lenient.spec_deviations} >= {("eventId",), ("eventTime",)}
    assert lenient.to_dict() == {"eventType": "X", "eventTime": "yesterday", "extra": 1}
    with (
        client.streaming_subscriptions.consume(
            sub, idle_timeout=2, group_id="strict", strict=True, consumer_options=FAST
        ) as stream,
        pytest.raises(StreamMessageError) as caught,
    ):
        next(stream)
    assert caught.value.record.value == off_spec


def test_a_custom_model(broker: KafkaBroker, client: AllegroClient) -> None:
    from pydantic import BaseModel, Field

    class Reading(BaseModel):
        event_id: str = Field(alias="eventId")

    topic = new_topic()
    produce(broker.address, topic, [message(7)])
    with client.streaming_subscriptions.consume(
        subscription(broker.address, topic), model=Reading, idle_timeout=2, consumer_options=FAST
    ) as stream:
        (got,) = list(stream)
    assert isinstance(got, Reading) and got.event_id == "e-7"


def test_the_broker_killed_mid_stream_and_restarted_loses_nothing(client: AllegroClient) -> None:
    with KafkaBroker(durable=True) as broker:
        topic = new_topic()
        produce(broker.address, topic, [message(n) for n in range(40)], partitions=2)
        seen: list[str] = []
        with client.streaming_subscriptions.consume(
            subscription(broker.address, topic),
            idle_timeout=15,
            reconnect_timeout=60,
            consumer_options=FAST,
        ) as stream:
            for m in stream:
                seen.append(m.event_id)
                if len(seen) == 15:
                    broker.kill()
                    assert not kafka_answers(broker.host, broker.port)
                    broker.start()
                    produce(broker.address, topic, [message(n) for n in range(40, 60)])
    # At least once: every message came, some perhaps twice.
    assert set(seen) == {f"e-{n}" for n in range(60)}


def test_no_secret_in_errors_reprs_or_logs(
    broker: KafkaBroker, client: AllegroClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pa55-" + uuid.uuid4().hex
    credentials = KafkaCredentials("buyer", secret, "PLAIN")
    caplog.set_level(logging.DEBUG)
    stream = client.streaming_subscriptions.consume(
        subscription(broker.address, new_topic()),
        credentials=credentials,
        idle_timeout=1,
        reconnect_timeout=2,
        consumer_options=FAST,
    )
    texts = [repr(credentials), repr(stream), str(stream.connection)]
    try:
        with stream:
            list(stream)
    except StreamConnectionError as exc:
        texts.append(str(exc))
    texts += [record.getMessage() for record in caplog.records]
    assert all(secret not in text for text in texts)


# --------------------------------------------------------------------------- the mock seller


PM_SCHEMA = "urn:acme:lso:spec:carrier-ethernet-pm:v1"


def pm_job(periods: int) -> dict[str, Any]:
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    period = {"timeDurationValue": 15, "timeDurationUnits": "MIN"}
    return {
        "description": "PM of evc-1",
        "monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"},
        "performanceProfile": {
            "@type": "PerformanceProfileValue",
            "jobType": "proactive",
            "jobPriority": 3,
            "granularity": {"timeDurationValue": 5, "timeDurationUnits": "MIN"},
            "reportingPeriod": period,
            "outputFormat": "json",
            "resultFormat": "payload",
            "serviceSpecificConfiguration": {"@type": PM_SCHEMA},
        },
        "scheduleDefinition": {
            "scheduleDefinitionStartTime": start.isoformat(),
            "scheduleDefinitionEndTime": (start + timedelta(minutes=15 * periods)).isoformat(),
            "recurringSchedule": {"minute": "*/15"},
        },
    }


def test_the_mock_seller_streams_a_pm_job_to_a_real_broker(broker: KafkaBroker) -> None:
    with (
        MockSeller(step_delay=0.01, kafka=broker) as seller,
        LegatoClient(seller.url, token="t") as client,
    ):
        sub = client.streaming_subscriptions.create(
            {"topicId": "ce-performance-statistics", "protocol": "kafka"}
        )
        assert sub.connection_config is not None
        assert sub.connection_config.servers == {
            "kafka-prod": {"url": broker.address, "protocol": "kafka"}
        }
        job = client.performance_jobs.create_and_wait(pm_job(periods=2), wait_timeout=60)
        assert job.state == "completed"
        seller.kafka.flush()
        with client.streaming_subscriptions.consume(
            sub.id, idle_timeout=3, consumer_options=FAST
        ) as stream:
            got = list(stream)
    # Two 15-minute reports of 5-minute bins: six measurement items, in the guide's
    # shape, typed by default.
    assert len(got) == 6 == len({m.event_id for m in got})
    assert {m.event_type for m in got} == {"CePerformanceStatistics"}
    delays = []
    for m in got:
        assert m.spec_deviations == []
        assert type(m) is CePerformanceStatisticsMessage
        assert m.event is not None and m.event.key is not None and m.event.metrics is not None
        assert m.event.key.service_id == "evc-1"
        assert m.event.key.model_extra == {"performanceJobId": job.id}
        delay = m.event.metrics.one_way_frame_delay
        assert delay is not None and isinstance(delay.measured_one_way_fd, float)
        delays.append(delay.measured_one_way_fd)
        flr = m.event.metrics.one_way_frame_loss_ratio
        assert flr is not None and flr.measured_one_way_flr is not None
        assert 0 <= flr.measured_one_way_flr <= 1
    assert len(set(delays)) > 1  # one figure per interval


class ReportItemEvent(MefModel):
    """A seller's event whose metrics are a PM report's content item."""

    key: dict[str, Any]
    metrics: ReportContentItem


class ReportItemMessage(Message):
    """A seller's message type built from the SDK's public models."""

    event: ReportItemEvent


def test_measurements_on_a_report_topic_are_typed_by_the_payload_models(
    broker: KafkaBroker,
) -> None:
    from examples.pm_stream_consume import job_body

    with (
        MockSeller(step_delay=0.01, kafka=broker) as seller,
        LegatoClient(seller.url, token="t") as client,
    ):
        sub = client.streaming_subscriptions.create(
            {"topicId": "ce-frame-delay", "protocol": "kafka"}
        )
        job = client.performance_jobs.create_and_wait(job_body(periods=1), wait_timeout=60)
        assert job.state == "completed"
        reports = list(client.performance_reports.list(performance_job_id=job.id))
        seller.kafka.flush()
        with client.streaming_subscriptions.consume(
            sub, model=ReportItemMessage, idle_timeout=3, consumer_options=FAST
        ) as stream:
            got = list(stream)
        (report,) = [client.performance_reports.retrieve(r.id) for r in reports]
    assert len(got) == 3
    assert all(type(m) is ReportItemMessage and m.spec_deviations == [] for m in got)
    streamed = [m.event.metrics.measurement_data[0] for m in got]
    assert all(type(d) is CarrierEthernetPerformanceMonitoringResults for d in streamed)
    # The same typed measurements as the report read over HTTP.
    (content,) = report.report_content or []
    reported = [item.measurement_data[0] for item in content.report_content_item]
    key = lambda d: d.to_json()  # noqa: E731
    assert sorted(map(key, streamed)) == sorted(map(key, reported))


async def test_the_mock_seller_stream_consumed_async(broker: KafkaBroker) -> None:
    with MockSeller(step_delay=0.01, kafka=broker.address) as seller:
        async with AsyncAllegroClient(seller.url, token="t") as client:
            sub = await client.streaming_subscriptions.create(
                {"topicId": "computing-cpu", "protocol": "kafka"}
            )
            job = await client.performance_jobs.create_and_wait(pm_job(periods=1))
            assert job.state == "completed"
            await asyncio.to_thread(seller.kafka.flush)
            by_id = client.streaming_subscriptions.consume(
                sub.id, idle_timeout=3, consumer_options=FAST
            )
            assert by_id.connection is None  # retrieved when the stream opens
            async with by_id as stream:
                got = [m async for m in stream]
            assert stream.connection == kafka_connection(sub)
            assert stream.connection.bootstrap_servers == (broker.address,)
    assert len(got) == 3
    assert {m.event_type for m in got} == {"ComputingCpu"}
