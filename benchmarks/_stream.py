"""Scenario (h): PM stream messages consumed and typed, against the raw client's floor.

A Tansu broker (`lso_client.testing._broker`) runs on loopback; one topic of three
partitions holds `count` PM messages of the shape the mock seller publishes (about
600 bytes each). Each contender reads all of them in a consumer group of its own,
from the earliest offset, committing offsets per batch:

* `aiokafka + json.loads` (the floor): `getmany()` batches, each value decoded to a
  dict, offsets committed after each batch.
* `consume()`, sync: `client.streaming_subscriptions.consume(subscription)`, typed
  typed `Message`s (the sync stream drives aiokafka on a private loop thread).
* `consume()`, async: the same on `AsyncAllegroClient`.

The clock starts when the first message is in hand (a group join takes seconds on
this broker and is not what is measured) and stops at the last one. Every contender
must see every `eventId` once: a run that loses or doubles one is marked FAIL.

    python -m benchmarks._stream [--messages 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from ._harness import Row

SCENARIO = "(h) stream"
FAST = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 100}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _message(number: int) -> bytes:
    return json.dumps(
        {
            "eventId": f"{number:08d}-{uuid.uuid4()}",
            "eventType": "CePerformanceStatistics",
            "eventTime": "2026-05-30T14:11:42.515835+02:00",
            "priority": "low",
            "event": {
                "key": {
                    "performanceJobId": "job-17",
                    "serviceId": "evc-0042",
                    "@type": "ServiceRef",
                },
                "metrics": {
                    "measurementTime": {
                        "measurementStartDate": "2026-05-30T14:00:00.000+00:00",
                        "measurementEndDate": "2026-05-30T14:05:00.000+00:00",
                        "measurementInterval": {"timeDurationValue": 5, "timeDurationUnits": "MIN"},
                    },
                    "measurementData": [
                        {
                            "@type": "urn:acme:lso:spec:carrier-ethernet-pm:v1",
                            "oneWayFrameDelayMs": 12.5 + number % 7,
                            "frameDelayVariationMs": 1.25,
                            "frameLossRatio": 0.000125,
                            "availabilityPercent": 99.9875,
                        }
                    ],
                },
            },
        }
    ).encode()


def _produce(address: str, topic: str, count: int) -> None:
    async def run() -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=address)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 3, 1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=address, linger_ms=20)
        await producer.start()
        try:
            for number in range(count):
                await producer.send(topic, _message(number))
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(run())


def _floor(address: str, topic: str, count: int) -> tuple[float, set[str]]:
    async def run() -> tuple[float, set[str]]:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=address,
            group_id=f"floor-{uuid.uuid4()}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **FAST,
        )
        await consumer.start()
        ids: set[str] = set()
        seen = 0
        started = 0.0
        try:
            while seen < count:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                if batches and not started:
                    started = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        ids.add(json.loads(record.value)["eventId"])
                        seen += 1
                if batches:
                    await consumer.commit()
            return time.perf_counter() - started, ids
        finally:
            await consumer.stop()

    return asyncio.run(run())


def _subscription(address: str, topic: str) -> dict[str, Any]:
    return {
        "id": "bench",
        "connectionConfig": {
            "servers": {"kafka-prod": {"url": address, "protocol": "kafka"}},
            "channel": {"name": topic, "bindings": {"kafka": {"topic": topic}}},
        },
    }


def _sdk_sync(address: str, topic: str, count: int) -> tuple[float, set[str]]:
    from lso_client import AllegroClient

    ids: set[str] = set()
    with AllegroClient("http://127.0.0.1:9", token="t") as client:
        stream = client.streaming_subscriptions.consume(
            _subscription(address, topic), group_id=f"sync-{uuid.uuid4()}", consumer_options=FAST
        )
        with stream:
            started = 0.0
            for message in stream:
                if not started:
                    started = time.perf_counter()
                ids.add(message.event_id)
                if len(ids) >= count:
                    break
            return time.perf_counter() - started, ids


def _sdk_async(address: str, topic: str, count: int) -> tuple[float, set[str]]:
    from lso_client import AsyncAllegroClient

    async def run() -> tuple[float, set[str]]:
        ids: set[str] = set()
        async with AsyncAllegroClient("http://127.0.0.1:9", token="t") as client:
            stream = client.streaming_subscriptions.consume(
                _subscription(address, topic),
                group_id=f"async-{uuid.uuid4()}",
                consumer_options=FAST,
            )
            async with stream:
                started = 0.0
                async for message in stream:
                    if not started:
                        started = time.perf_counter()
                    ids.add(message.event_id)
                    if len(ids) >= count:
                        break
                return time.perf_counter() - started, ids

    return asyncio.run(run())


CONTENDERS: list[tuple[str, Callable[[str, str, int], tuple[float, set[str]]]]] = [
    ("aiokafka + json.loads (floor)", _floor),
    ("consume(), sync, typed", _sdk_sync),
    ("consume(), async, typed", _sdk_async),
]


def run(count: int, runs: int) -> list[Row]:
    """Rows of scenario (h): messages per second, interleaved rounds, medians."""
    from lso_client.testing._broker import KafkaBroker

    samples: dict[str, list[float]] = {name: [] for name, _ in CONTENDERS}
    failures: dict[str, str] = {}
    with KafkaBroker() as broker:
        topic = f"bench.{uuid.uuid4().hex[:8]}"
        _log(f"(h) producing {count:,} messages")
        _produce(broker.address, topic, count)
        for round_number in range(runs):
            shift = round_number % len(CONTENDERS)
            for name, contender in CONTENDERS[shift:] + CONTENDERS[:shift]:
                _log(f"(h) {name}, {count:,} messages, run {round_number + 1}")
                seconds, ids = contender(broker.address, topic, count)
                if len(ids) != count:
                    failures[name] = f"FAIL: {len(ids)} of {count} eventIds"
                samples[name].append(count / seconds)
    floor = statistics.median(samples[CONTENDERS[0][0]])
    rows = []
    for name, _ in CONTENDERS:
        rate = statistics.median(samples[name])
        rows.append(
            Row(
                f"{SCENARIO} {count // 1000}k",
                name,
                rate,
                "msg/s",
                floor / rate,
                failures.get(name, "ok"),
                "3 partitions, ~600 B messages, commit per batch",
                samples[name],
            )
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._stream")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for row in run(args.messages, args.runs):
        samples = ", ".join(f"{s:,.0f}" for s in row.samples)
        print(
            f"{row.scenario:14} {row.contender:32} {row.value or 0:>10,.0f} {row.unit} "
            f"{row.ratio or 0:5.2f}x  {row.check}  [{samples}]"
        )


if __name__ == "__main__":
    main()
