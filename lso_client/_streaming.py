"""Consuming a PM stream: typed messages from the broker a streaming subscription names.

`client.streaming_subscriptions.consume(subscription)` reads the subscription's
`connectionConfig` (AsyncAPI servers and channel bindings: bootstrap servers, topic,
group id, TLS) and yields each message parsed into a model, leniently or strictly as
HTTP responses are (`spec_deviations`). Kafka is read through aiokafka, the optional
extra `lso-client[kafka]`; importing `lso_client` never imports it. The sync stream
drives the same asyncio consumer on a private event loop thread, one batch per call
into it, so both twins share one mechanism and one set of semantics.

Delivery is at least once. A message counts as handled once the caller asks for the
next one, calls `commit()`, or leaves the `with` block without an exception; the
offsets of handled messages are committed when the next batch is fetched (in the
background, while the caller works through that batch: a commit is a round trip to the
broker) and on close, or at once by `commit()`. A commit that fails is tried again with
the next one. A message being handled when the caller fails (an exception, Ctrl-C), and
at most one batch handled before it whose commit was still on its way, are delivered
again to the next consumer of the group.

A record that cannot be read as the model (not JSON, the wrong kind of JSON, or a
departure from the spec in strict mode) raises `StreamMessageError`, carrying the raw
record; the stream stays usable (iterate again to go on) and the bad record counts as
handled, so it does not come back. `on_error=callback` instead hands the error to the
callback and skips the record.

When the broker goes away, aiokafka reconnects by itself with `retry_backoff_ms`
between attempts; starting the consumer and committing are retried with exponential
backoff and jitter for up to `reconnect_timeout` seconds, after which
`StreamConnectionError` is raised (saying so when the broker's TLS certificate failed
verification). Credentials are passed by the caller and never appear in a message, a log
line or a repr.

A `kafka-secure` server is read over TLS with the client's own TLS settings (its `verify`
and `cert`, the context its HTTP transport uses); `ssl_context=` wins over them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, overload
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from typing_extensions import Self, Unpack

from ._errors import LSOError
from ._events import parse_message
from ._generated.streaming_message_v1 import Message
from ._parsing import parse_json
from ._resource import AsyncResource, SyncResource
from ._tls import ssl_context

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "AsyncMessageStream",
    "AsyncStreamingResource",
    "ConsumeOptions",
    "KafkaConnection",
    "KafkaCredentials",
    "MessageStream",
    "StreamConnectionError",
    "StreamMessageError",
    "StreamRecord",
    "SyncStreamingResource",
    "kafka_connection",
]

logger = logging.getLogger("lso_client")

M = TypeVar("M", bound=BaseModel)
_DEFAULT_PORT = 9092
# How long a group join may keep the idle clock of `idle_timeout` stopped.
_JOIN_GRACE = 30.0


# --------------------------------------------------------------------------- models


# What a stream yields when the caller names no model: the generated `Message`, read as
# `parse_message` reads it (the class its `eventType` selects).
DefaultMessage = Message


@dataclass(frozen=True)
class StreamRecord:
    """One record as the broker gave it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int | None = None


@dataclass(frozen=True)
class KafkaCredentials:
    """SASL credentials for the broker (the password never appears in a repr or a log)."""

    username: str
    password: str = field(repr=False)
    mechanism: str = "PLAIN"


# --------------------------------------------------------------------------- errors


class StreamMessageError(LSOError):
    """A streamed record could not be read as the model; `record` is the record as
    received, `errors` the reasons (validation errors, or the JSON error)."""

    def __init__(
        self, message: str, *, record: StreamRecord, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.record = record
        self.errors = list(errors or [])


class StreamConnectionError(LSOError):
    """The broker could not be reached (or the consumer not started) in `reconnect_timeout`."""


# --------------------------------------------------------------------------- connection


@dataclass(frozen=True)
class KafkaConnection:
    """Where and how to consume: read from a subscription by `kafka_connection`."""

    bootstrap_servers: tuple[str, ...]
    topic: str
    group_id: str
    tls: bool = False
    sasl_mechanism: str | None = None


def _as_dict(subscription: Any) -> dict[str, Any]:
    if isinstance(subscription, BaseModel):
        dumped: dict[str, Any] = subscription.model_dump(mode="json", by_alias=True)
        return dumped
    if isinstance(subscription, Mapping):
        return dict(subscription)
    raise TypeError(f"a subscription is a model or a mapping, not {type(subscription).__name__}")


def _hosts(url: str) -> list[str]:
    hosts = []
    for part in url.split(","):
        part = part.strip()
        if not part:
            continue
        netloc = urlsplit(part if "://" in part else f"kafka://{part}").netloc or part
        host, _, port = netloc.rpartition(":")
        if not host or not port.isdigit():
            host, port = netloc, str(_DEFAULT_PORT)
        hosts.append(f"{host}:{port}")
    return hosts


_SASL_NAMES = {
    "plain": "PLAIN",
    "scramsha256": "SCRAM-SHA-256",
    "scramsha512": "SCRAM-SHA-512",
    "oauthbearer": "OAUTHBEARER",
    "gssapi": "GSSAPI",
}


def kafka_connection(subscription: Any, *, group_id: str | None = None) -> KafkaConnection:
    """The Kafka connection a streaming subscription describes.

    Bootstrap servers come from the `servers` whose protocol is Kafka (`kafka`,
    `kafka-secure`: TLS), the topic from the channel's Kafka binding (`topic`, else the
    channel name), the group id from `group_id`, else the binding's `groupId`, else
    `lso-client.<subscription id>`. A server `security` entry naming a SASL mechanism
    (`plain`, `scramSha256`, `scramSha512`, ...) sets the mechanism.
    """
    body = _as_dict(subscription)
    config = body.get("connectionConfig") or {}
    servers = config.get("servers") or {}
    hosts: list[str] = []
    tls = False
    mechanism: str | None = None
    for server in servers.values():
        if not isinstance(server, Mapping):
            continue
        protocol = str(server.get("protocol", "")).lower()
        if not protocol.startswith("kafka"):
            continue
        hosts += _hosts(str(server.get("url") or server.get("host") or ""))
        tls = tls or protocol == "kafka-secure"
        for requirement in server.get("security") or []:
            names = requirement if isinstance(requirement, Mapping) else {}
            for name in names:
                found = _SASL_NAMES.get(str(name).replace("-", "").replace("_", "").lower())
                mechanism = mechanism or found
    if not hosts:
        raise ValueError("the subscription names no Kafka server in connectionConfig.servers")
    channel = config.get("channel") or {}
    binding = (channel.get("bindings") or {}).get("kafka") or {}
    topic = binding.get("topic") or channel.get("name")
    if not isinstance(topic, str) or not topic:
        raise ValueError("the subscription names no Kafka topic (channel binding or name)")
    chosen = group_id or binding.get("groupId")
    if not isinstance(chosen, str) or not chosen:
        chosen = f"lso-client.{body.get('id', topic)}"
    return KafkaConnection(tuple(hosts), topic, chosen, tls, mechanism)


class ConsumeOptions(TypedDict, total=False):
    """Options of `consume()`, besides the subscription and the model."""

    group_id: str
    credentials: KafkaCredentials
    ssl_context: ssl.SSLContext
    start_from: str
    idle_timeout: float | None
    reconnect_timeout: float
    on_error: Callable[[StreamMessageError], None]
    strict: bool
    max_batch: int
    consumer_options: Mapping[str, Any]


def _tls_failure(exc: ssl.SSLError) -> str:
    """What a TLS error says, without anything secret: a certificate that failed
    verification, or another handshake failure (a client certificate refused, ...)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "certificate verify failed"
        return f"TLS certificate verification failed: {reason}"
    return f"TLS handshake failed: {exc.reason or type(exc).__name__}"


class _TLSFailures(logging.Filter):
    """The last TLS failure aiokafka met connecting to these bootstrap servers.

    aiokafka does not chain the error of a failed bootstrap connection to the
    `KafkaConnectionError` it raises; it logs it (`Unable connect to "host:port": error`),
    the exception among the record's arguments. This filter, on aiokafka's loggers while a
    consumer starts, keeps the TLS errors of records that name one of these servers and
    lets every record through (a filter, not a handler: where the records go is unchanged).
    """

    _LOGGERS = ("aiokafka", "aiokafka.client", "aiokafka.conn")

    def __init__(self, servers: tuple[str, ...]) -> None:
        super().__init__()
        self._servers = servers
        self.last: str | None = None

    def watch(self) -> None:
        for name in self._LOGGERS:
            logging.getLogger(name).addFilter(self)

    def unwatch(self) -> None:
        for name in self._LOGGERS:
            logging.getLogger(name).removeFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        found = [a for a in args if isinstance(a, ssl.SSLError)]
        if found and any(server in record.getMessage() for server in self._servers):
            self.last = _tls_failure(found[-1])
        return True


def _aiokafka() -> Any:
    from ._extras import require

    return require("kafka", "aiokafka")


# --------------------------------------------------------------------------- the consumer


class _Consumer:
    """The aiokafka consumer of one stream, with its retries; used on one event loop."""

    def __init__(
        self,
        connection: KafkaConnection,
        options: ConsumeOptions,
        tls_context: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self.connection = connection
        self._options = options
        # The TLS context without `ssl_context`: the client's own (its verify and cert).
        self._tls_context = tls_context
        self._consumer: Any = None
        self._kafka = _aiokafka()
        self.reconnect_timeout = float(options.get("reconnect_timeout", 300.0))
        self.idle_timeout = options.get("idle_timeout")
        self.max_batch = int(options.get("max_batch", 500))
        # The commit running in the background (see `refill`): it gives the offsets it
        # could not commit.
        self._committing: asyncio.Future[dict[tuple[str, int], int]] | None = None

    def _settings(self) -> dict[str, Any]:
        c = self.connection
        credentials = self._options.get("credentials")
        settings: dict[str, Any] = {
            "bootstrap_servers": list(c.bootstrap_servers),
            "group_id": c.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": self._options.get("start_from", "earliest"),
            "retry_backoff_ms": 200,
        }
        context = self._options.get("ssl_context")
        tls = c.tls or context is not None
        if tls:
            if context is None:
                context = self._tls_context() if self._tls_context else ssl.create_default_context()
            settings["ssl_context"] = context
        if credentials is not None:
            settings["security_protocol"] = "SASL_SSL" if tls else "SASL_PLAINTEXT"
            settings["sasl_mechanism"] = credentials.mechanism or c.sasl_mechanism or "PLAIN"
            settings["sasl_plain_username"] = credentials.username
            settings["sasl_plain_password"] = credentials.password
        elif tls:
            settings["security_protocol"] = "SSL"
        settings.update(self._options.get("consumer_options") or {})
        return settings

    def _describe(self) -> str:
        c = self.connection
        return f"topic {c.topic!r} (group {c.group_id!r}) at {','.join(c.bootstrap_servers)}"

    async def _retrying(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        from tenacity import (
            AsyncRetrying,
            retry_if_exception_type,
            stop_after_delay,
            wait_exponential,
            wait_random,
        )

        errors = self._kafka.errors
        tls_failures = _TLSFailures(self.connection.bootstrap_servers)
        try:
            tls_failures.watch()
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type((errors.KafkaError, OSError)),
                wait=wait_exponential(multiplier=0.1, max=5.0) + wait_random(0, 0.1),
                stop=stop_after_delay(self.reconnect_timeout),
                reraise=True,
            ):
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        logger.info("stream: %s again for %s", what, self._describe())
                    return await call()
        except (errors.KafkaError, OSError) as exc:
            tls = _tls_failure(exc) if isinstance(exc, ssl.SSLError) else tls_failures.last
            raise StreamConnectionError(
                f"could not {what} for {self._describe()} in {self.reconnect_timeout} s: "
                f"{type(exc).__name__}" + (f" ({tls})" if tls else "")
            ) from None
        finally:
            tls_failures.unwatch()
        raise AssertionError("unreachable")  # pragma: no cover

    async def open(self) -> None:
        async def start() -> None:
            consumer = self._kafka.AIOKafkaConsumer(self.connection.topic, **self._settings())
            try:
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            self._consumer = consumer

        await self._retrying("start the consumer", start)

    async def commit(self, done: dict[tuple[str, int], int], *, retry: bool) -> bool:
        """Commit `done` (next offsets per partition); False when it could not be."""
        if not done or self._consumer is None:
            return True
        tp = self._kafka.structs.TopicPartition
        offsets = {tp(topic, partition): offset for (topic, partition), offset in done.items()}
        errors = self._kafka.errors
        try:
            if retry:
                await self._retrying("commit offsets", lambda: self._consumer.commit(offsets))
            else:
                await self._consumer.commit(offsets)
            return True
        except (errors.CommitFailedError, errors.IllegalStateError) as exc:
            # The group moved on (a rebalance): those records go to the new owner again.
            logger.warning(
                "stream: offsets not committed (%s); they will be delivered again",
                type(exc).__name__,
            )
            return True
        except (errors.KafkaError, OSError, StreamConnectionError) as exc:
            logger.warning("stream: commit failed for %s: %s", self._describe(), type(exc).__name__)
            return False

    async def settle(self) -> dict[tuple[str, int], int]:
        """Wait for the background commit; the offsets it could not commit."""
        task, self._committing = self._committing, None
        if task is None:
            return {}
        return await task

    async def refill(self, reader: _Reader[Any]) -> list[Any]:
        """Start committing what `reader` handled, in the background, and fetch the next
        records; offsets a previous background commit failed on go with this one."""
        reader._restore(await self.settle())
        done = reader._pending()
        if done:

            async def commit() -> dict[tuple[str, int], int]:
                return {} if await self.commit(done, retry=False) else done

            self._committing = asyncio.ensure_future(commit())
        return await self.fetch()

    async def commit_now(self, reader: _Reader[Any], *, retry: bool = True) -> bool:
        """Commit what `reader` handled (after the background commit); False, with the
        offsets kept in `reader`, when it could not be."""
        reader._restore(await self.settle())
        done = reader._pending()
        if await self.commit(done, retry=retry):
            return True
        reader._restore(done)
        return False

    async def fetch(self) -> list[Any]:
        """The next records (waiting for them), or [] once `idle_timeout` passed without any.

        The idle clock runs while the consumer has partitions assigned: joining the group
        (or rejoining it after an outage) is not idleness, for up to `_JOIN_GRACE` seconds
        (a topic that never gets assigned ends the iteration all the same)."""
        idle = self.idle_timeout
        waited = 0.0
        joining = 0.0
        while True:
            wait = 1.0 if idle is None else max(0.0, min(1.0, idle - waited))
            assigned = bool(self._consumer.assignment())
            started = time.monotonic()
            try:
                batches = await self._consumer.getmany(
                    timeout_ms=int(wait * 1000), max_records=self.max_batch
                )
            except self._kafka.errors.KafkaError as exc:
                logger.warning(
                    "stream: reconnecting to %s after %s", self._describe(), type(exc).__name__
                )
                await self.close()
                await self.open()
                continue
            records = [record for batch in batches.values() for record in batch]
            if records:
                return records
            spent = time.monotonic() - started
            if assigned and self._consumer.assignment():
                waited += spent
            else:
                joining += spent
                if joining > _JOIN_GRACE:
                    waited += spent
            if idle is not None and waited >= idle:
                return []

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()


# --------------------------------------------------------------------------- streams


class _Reader(Generic[M]):
    """What both twins share: the buffer of fetched records, parsing, and the offsets
    of handled records waiting to be committed."""

    def __init__(
        self,
        model: type[M] | None,
        options: ConsumeOptions,
        default_strict: bool,
        reference_point: str = "allegro",
    ) -> None:
        strict = self._strict = bool(options.get("strict", default_strict))
        # Read as an HTTP response is read (`parse_json`), the default as `parse_message`.
        self._read: Callable[[bytes], M]
        if model is None:
            self._name = "Message"
            self._read = lambda raw: parse_message(
                raw, reference_point=reference_point, strict=strict
            )
        else:
            self._name = getattr(model, "__name__", "message")
            self._read = lambda raw: parse_json(model, raw, strict=strict).value
        self._on_error = options.get("on_error")
        self._buffer: deque[Any] = deque()
        self._taken: Any = None
        self._taken_last: Any = None
        self._done: dict[tuple[str, int], int] = {}
        self._closed = False

    @property
    def last_record(self) -> StreamRecord | None:
        """The record of the message (or bad record) taken last."""
        r = self._taken_last
        if r is None:
            return None
        return StreamRecord(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)

    def _settle(self) -> None:
        """The caller is past the record it took: it is handled."""
        r = self._taken
        if r is not None:
            self._done[(r.topic, r.partition)] = r.offset + 1
            self._taken = None

    def _pending(self) -> dict[tuple[str, int], int]:
        done, self._done = self._done, {}
        return done

    def _restore(self, done: dict[tuple[str, int], int]) -> None:
        for key, offset in done.items():
            self._done[key] = max(offset, self._done.get(key, 0))

    def _next_buffered(self) -> M | None:
        self._settle()
        while self._buffer:
            record = self._buffer.popleft()
            self._taken = self._taken_last = record
            try:
                return self._parse(record)
            except StreamMessageError as error:
                if self._on_error is None:
                    raise
                self._on_error(error)
                self._settle()
        return None

    def _parse(self, record: Any) -> M:
        value = record.value
        if value is None:
            raise StreamMessageError("the record has no value", record=self._record(record))
        try:
            return self._read(value)
        except json.JSONDecodeError as exc:
            raise StreamMessageError(
                f"the record at offset {record.offset} is not JSON: {exc.msg}",
                record=self._record(record),
                errors=[{"loc": [], "type": "json_invalid", "msg": exc.msg}],
            ) from None
        except ValidationError as exc:
            errors = [
                {"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
                for e in exc.errors(include_url=False)
            ]
            raise StreamMessageError(
                f"the record at offset {record.offset} is not a valid "
                f"{self._name} ({len(errors)} errors)",
                record=self._record(record),
                errors=errors,
            ) from None

    @staticmethod
    def _record(r: Any) -> StreamRecord:
        return StreamRecord(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)


class AsyncMessageStream(_Reader[M]):
    """Typed messages of a streaming subscription: `async with` it, `async for` over it.

    See `lso_client._streaming` (module docs) for delivery and error semantics."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[KafkaConnection]],
        model: type[M] | None,
        options: ConsumeOptions,
        default_strict: bool = False,
        reference_point: str = "allegro",
        connection: KafkaConnection | None = None,
        tls_context: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        _aiokafka()
        super().__init__(model, options, default_strict, reference_point)
        self._connect = connect
        self._connection = connection
        self._options = options
        self._tls_context = tls_context
        self._consumer: _Consumer | None = None

    @property
    def connection(self) -> KafkaConnection | None:
        """Where the stream reads from; None until the stream opens when it was given a
        subscription id (the subscription is retrieved then)."""
        return self._connection

    async def _open(self) -> _Consumer:
        if self._consumer is None:
            if self._closed:
                raise RuntimeError("the stream is closed")
            self._connection = await self._connect()
            consumer = _Consumer(self._connection, self._options, self._tls_context)
            await consumer.open()
            self._consumer = consumer
        return self._consumer

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose(handled=exc_type is None)

    def __aiter__(self) -> AsyncIterator[M]:
        return self

    async def __anext__(self) -> M:
        while True:
            message = self._next_buffered()
            if message is not None:
                return message
            consumer = await self._open()
            records = await consumer.refill(self)
            if not records:
                raise StopAsyncIteration
            self._buffer.extend(records)

    async def commit(self) -> None:
        """Commit through the message taken last (it counts as handled)."""
        self._settle()
        if self._consumer is not None and not await self._consumer.commit_now(self):
            raise StreamConnectionError("the offsets could not be committed")

    async def aclose(self, *, handled: bool = True) -> None:
        """Commit what was handled (the message taken last too when `handled`) and stop."""
        if self._closed:
            return
        self._closed = True
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        if handled:
            self._settle()
        try:
            await consumer.commit_now(self)
        finally:
            await consumer.close()


class _LoopThread:
    """A private event loop in a daemon thread, running the sync stream's consumer."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="lso-client-stream", daemon=True
        )
        self._thread.start()

    def run(self, coro: Awaitable[Any], timeout: float | None = None) -> Any:
        future = asyncio.run_coroutine_threadsafe(_awaited(coro), self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10.0)
        if not self._thread.is_alive():
            self.loop.close()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class MessageStream(_Reader[M]):
    """Typed messages of a streaming subscription: use it in a `with` block, iterate it.

    See `lso_client._streaming` (module docs) for delivery and error semantics."""

    def __init__(
        self,
        connection: KafkaConnection,
        model: type[M] | None,
        options: ConsumeOptions,
        default_strict: bool = False,
        reference_point: str = "allegro",
        tls_context: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        _aiokafka()
        super().__init__(model, options, default_strict, reference_point)
        self._connection = connection
        self._options = options
        self._tls_context = tls_context
        self._thread: _LoopThread | None = None
        self._consumer: _Consumer | None = None

    @property
    def connection(self) -> KafkaConnection:
        """Where the stream reads from."""
        return self._connection

    def _open(self) -> tuple[_LoopThread, _Consumer]:
        if self._closed:
            raise RuntimeError("the stream is closed")
        if self._thread is None:
            self._thread = _LoopThread()
        if self._consumer is None:
            consumer = _Consumer(self._connection, self._options, self._tls_context)
            self._thread.run(consumer.open())
            self._consumer = consumer
        return self._thread, self._consumer

    def __enter__(self) -> Self:
        try:
            self._open()
        except BaseException:
            self.close(handled=False)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(handled=exc_type is None)

    def __iter__(self) -> Iterator[M]:
        return self

    def __next__(self) -> M:
        while True:
            message = self._next_buffered()
            if message is not None:
                return message
            thread, consumer = self._open()
            records = thread.run(consumer.refill(self))
            if not records:
                raise StopIteration
            self._buffer.extend(records)

    def commit(self) -> None:
        """Commit through the message taken last (it counts as handled)."""
        self._settle()
        thread, consumer = self._thread, self._consumer
        if thread is None or consumer is None:
            return
        if not thread.run(consumer.commit_now(self)):
            raise StreamConnectionError("the offsets could not be committed")

    def close(self, *, handled: bool = True) -> None:
        """Commit what was handled (the message taken last too when `handled`) and stop."""
        if self._closed:
            return
        self._closed = True
        thread, self._thread = self._thread, None
        consumer, self._consumer = self._consumer, None
        if thread is None:
            return
        try:
            if consumer is not None:
                if handled:
                    self._settle()

                async def finish() -> None:
                    try:
                        await consumer.commit_now(self)
                    finally:
                        await consumer.close()

                thread.run(finish(), timeout=consumer.reconnect_timeout + 30.0)
        finally:
            thread.close()


# --------------------------------------------------------------------------- resources


def _client_tls(client: Any) -> Callable[[], ssl.SSLContext]:
    """The TLS context of a client's streams without `ssl_context`: the one its HTTP
    transport uses (its `verify` and `cert`), built when a TLS stream opens."""
    transport = client._transport
    return lambda: ssl_context(transport.verify, transport.cert)


class SyncStreamingResource(SyncResource):
    """A resource that also consumes the streams its subscriptions describe."""

    @overload
    def consume(
        self, subscription: Any, /, *, model: None = None, **options: Unpack[ConsumeOptions]
    ) -> MessageStream[DefaultMessage]: ...

    @overload
    def consume(
        self, subscription: Any, /, *, model: type[M], **options: Unpack[ConsumeOptions]
    ) -> MessageStream[M]: ...

    def consume(
        self, subscription: Any, /, *, model: Any = None, **options: Unpack[ConsumeOptions]
    ) -> MessageStream[Any]:
        """The messages of a Kafka streaming subscription, typed as `model`.

        Args:
            subscription: the subscription (as returned by `create` or `retrieve`, or a
                mapping), or its id (then retrieved first).
            model: the model each message is parsed into; by default the generated
                `Message`, specialised by `eventType` as `lso_client.parse_message` reads it
                (`CePerformanceStatisticsMessage` for `CePerformanceStatistics`).
            **options: `group_id`, `credentials` (`KafkaCredentials`), `ssl_context`
                (default: the client's own TLS settings, its `verify` and `cert`),
                `start_from` (`earliest` or `latest`, for a new group), `idle_timeout`
                (seconds without a message that end the iteration; default: wait),
                `reconnect_timeout` (300 s), `on_error` (a callback that gets each
                `StreamMessageError` and skips the record instead of raising), `strict`
                (the client's by default), `max_batch`, `consumer_options` (passed to
                aiokafka's consumer).

        Returns:
            A `MessageStream`: use it as a context manager and iterate it.

        Raises:
            MissingExtraError: aiokafka is not installed (`pip install 'lso-client[kafka]'`).
            ValueError: the subscription names no Kafka server or topic.
        """
        _aiokafka()
        if isinstance(subscription, str):
            subscription = getattr(self, "retrieve")(subscription)  # noqa: B009
        connection = kafka_connection(subscription, group_id=options.get("group_id"))
        return MessageStream(
            connection,
            model,
            options,
            bool(self._client.strict),
            self._client.reference_point,
            tls_context=_client_tls(self._client),
        )


class AsyncStreamingResource(AsyncResource):
    """A resource that also consumes the streams its subscriptions describe."""

    @overload
    def consume(
        self, subscription: Any, /, *, model: None = None, **options: Unpack[ConsumeOptions]
    ) -> AsyncMessageStream[DefaultMessage]: ...

    @overload
    def consume(
        self, subscription: Any, /, *, model: type[M], **options: Unpack[ConsumeOptions]
    ) -> AsyncMessageStream[M]: ...

    def consume(
        self, subscription: Any, /, *, model: Any = None, **options: Unpack[ConsumeOptions]
    ) -> AsyncMessageStream[Any]:
        """The messages of a Kafka streaming subscription, typed as `model`
        (`async with client.streaming_subscriptions.consume(sub) as stream:`).

        Args and errors as the sync client's `consume`; a subscription id is retrieved
        when the stream opens.
        """
        _aiokafka()
        group_id = options.get("group_id")

        async def connect() -> KafkaConnection:
            found = subscription
            if isinstance(found, str):
                found = await getattr(self, "retrieve")(found)  # noqa: B009
            return kafka_connection(found, group_id=group_id)

        # A subscription given as an object is read (and a bad one refused) now.
        known = (
            None
            if isinstance(subscription, str)
            else kafka_connection(subscription, group_id=group_id)
        )
        return AsyncMessageStream(
            connect,
            model,
            options,
            bool(self._client.strict),
            self._client.reference_point,
            connection=known,
            tls_context=_client_tls(self._client),
        )
