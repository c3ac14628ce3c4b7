"""The mock seller's PM stream: messages for running PM jobs on a real Kafka broker.

A `StreamPublisher` owns an aiokafka producer on a private event loop thread (the
`kafka` extra), and, when asked to, the broker itself (`KafkaBroker`). Streaming
subscriptions over Kafka register their topic here; each report a PM job produces
then becomes one message per measurement item on every such topic of the same
reference point, shaped as MEF 133.1's `Message`: `eventId`, `eventType` (the topic's
event type, e.g. `CePerformanceStatistics`), `eventTime`, `priority` and an `event`
with the `key` of what was measured and its `metrics`.

What `metrics` holds depends on the event type. `CePerformanceStatistics` has the shape
the PM streaming guide shows (frame delay, frame loss ratio, availability and high-loss
intervals, made up per measurement interval), which the SDK types by default. Every
other event type carries the report's `ReportContentItem` itself (`measurementTime`,
and `measurementData`: the PM results payloads of the job), which a consumer types by
passing a model (`consume(sub, model=...)`) whose metrics are the generated
`ReportContentItem`: the measurements are then typed by the payload models.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import random
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .._streaming import _aiokafka, _LoopThread
from ._broker import KafkaBroker

__all__ = ["StreamPublisher", "event_type_of"]


def event_type_of(topic_id: str) -> str:
    """The event type of a topic: `ce-performance-statistics` -> `CePerformanceStatistics`."""
    return "".join(part[:1].upper() + part[1:] for part in topic_id.replace("_", "-").split("-"))


class StreamPublisher:
    """Publishes PM messages to Kafka topics registered by streaming subscriptions.

    Args:
        broker: the bootstrap servers of a running broker, a `KafkaBroker` (started
            here if it is not running), or None to start a memory-only one here.
        clock: the seller's clock, for `eventTime`.
    """

    def __init__(self, broker: str | KafkaBroker | None, clock: Callable[[], datetime]) -> None:
        self._kafka = _aiokafka()
        self._own_broker: KafkaBroker | None = None
        if broker is None:
            broker = self._own_broker = KafkaBroker()
        if isinstance(broker, KafkaBroker):
            if not broker.running:
                broker.start()
            self.broker: KafkaBroker | None = broker
            self.address = broker.address
        else:
            self.broker = None
            self.address = broker
        self._clock = clock
        self._lock = threading.Lock()
        # reference point -> {kafka topic: event type}
        self._topics: dict[str, dict[str, str]] = {}
        self._thread = _LoopThread()
        self._producer: Any = None
        self._starting = asyncio.Lock()
        self._pending: set[Any] = set()
        self.published = 0

    async def _ensure_producer(self) -> Any:
        # Reports publish concurrently: one of them starts the producer, the others wait.
        async with self._starting:
            if self._producer is None:
                producer = self._kafka.AIOKafkaProducer(bootstrap_servers=self.address, linger_ms=5)
                await producer.start()
                self._producer = producer
        return self._producer

    def add_topic(self, reference_point: str, topic: str, topic_id: str, partitions: int) -> None:
        """Create `topic` on the broker (if new) and publish PM messages of
        `reference_point` to it."""

        async def create() -> None:
            admin_module = importlib.import_module("aiokafka.admin")
            admin = admin_module.AIOKafkaAdminClient(bootstrap_servers=self.address)
            await admin.start()
            try:
                new = admin_module.NewTopic(topic, partitions, 1)
                with contextlib.suppress(self._kafka.errors.TopicAlreadyExistsError):
                    await admin.create_topics([new])
            finally:
                await admin.close()

        self._thread.run(create(), timeout=30.0)
        with self._lock:
            self._topics.setdefault(reference_point, {})[topic] = event_type_of(topic_id)

    def remove_topic(self, reference_point: str, topic: str) -> None:
        """Stop publishing to `topic` (the subscription was deleted)."""
        with self._lock:
            self._topics.get(reference_point, {}).pop(topic, None)

    def topics(self, reference_point: str) -> dict[str, str]:
        """The topics PM messages of `reference_point` go to, with their event types."""
        with self._lock:
            return dict(self._topics.get(reference_point, {}))

    def report(self, reference_point: str, report: dict[str, Any]) -> None:
        """Publish the measurements of one PM job report (from any thread; not waited for)."""
        targets = self.topics(reference_point)
        contents = report.get("reportContent")
        if not targets or not isinstance(contents, list):
            return
        job = report.get("performanceJob") or {}
        now = self._clock().isoformat().replace("+00:00", "Z")
        messages: list[tuple[str, bytes, bytes | None]] = []
        for content in contents:
            monitored = content.get("monitoredObject") or {}
            job_id = job.get("id") or job.get("performanceJobId")
            key = {"performanceJobId": job_id, **_key_of(monitored)}
            # Keyed by job: a job's messages share a partition, so they stay in order.
            record_key = str(job_id).encode() if job_id is not None else None
            for item in content.get("reportContentItem") or []:
                for topic, event_type in targets.items():
                    message = {
                        "eventId": str(uuid.uuid4()),
                        "eventType": event_type,
                        "eventTime": now,
                        "priority": "low",
                        "event": _event(event_type, key, item),
                    }
                    messages.append((topic, json.dumps(message).encode(), record_key))
        if messages:
            self.send(messages)

    def send(self, messages: list[tuple[str, bytes, bytes | None]]) -> None:
        """Hand `(topic, value, key)` records to the producer (from any thread)."""

        async def publish() -> None:
            producer = await self._ensure_producer()
            for topic, value, key in messages:
                await producer.send(topic, value, key=key)
            self.published += len(messages)

        future = asyncio.run_coroutine_threadsafe(publish(), self._thread.loop)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Any) -> None:
        with self._lock:
            self._pending.discard(future)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every message handed over so far is on the broker."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result(timeout)

        async def flush() -> None:
            if self._producer is not None:
                await self._producer.flush()

        self._thread.run(flush(), timeout=timeout)

    def close(self) -> None:
        """Flush, stop the producer, and stop the broker if it was started here."""
        try:
            # Closing must not fail because the broker went away.
            with contextlib.suppress(Exception):
                self.flush(10.0)

            async def stop() -> None:
                producer, self._producer = self._producer, None
                if producer is not None:
                    await producer.stop()

            with contextlib.suppress(Exception):
                self._thread.run(stop(), timeout=10.0)
        finally:
            self._thread.close()
            if self._own_broker is not None:
                self._own_broker.stop()


def _event(event_type: str, key: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The `event` of one message about one measurement item (see the module docs)."""
    if event_type != "CePerformanceStatistics":
        return {"key": key, "metrics": item}
    # The same interval of the same job gives the same figures on every topic and run.
    when = (item.get("measurementTime") or {}).get("measurementStartDate")
    rng = random.Random(f"{key.get('performanceJobId')}:{key.get('serviceId')}:{when}")
    return {
        # The guide's key names the service (and its end points); the job is ours.
        "key": {k: v for k, v in key.items() if k != "@type"},
        "metrics": {
            "oneWayHighLossIntervals": {
                "consecutiveNumberP": rng.randint(1, 10),
                "measuredOneWayChli": rng.randint(0, 3),
            },
            "oneWayFrameDelay": {
                "measuredOneWayFd": round(rng.uniform(2.0, 20.0), 3),
                "oneWayFdPercentile": round(rng.uniform(0.9, 0.999), 4),
            },
            "oneWayAvailability": {"oneWayAvailability": round(rng.uniform(0.999, 1.0), 6)},
            "oneWayFrameLossRatio": {"measuredOneWayFlr": round(rng.uniform(0.0, 1e-4), 8)},
        },
    }


def _key_of(monitored: Any) -> dict[str, Any]:
    if isinstance(monitored, list):
        monitored = monitored[0] if monitored else {}
    if not isinstance(monitored, dict):
        return {}
    return {k: v for k, v in monitored.items() if isinstance(v, (str, int, float, bool))}
