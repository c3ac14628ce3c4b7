"""Reading a response body within bounds of time and size.

httpcore's read timeout applies to each socket read, so a seller that drips a body a byte
at a time keeps a call alive indefinitely, and httpx inflates a compressed body whole, so a
small gzip body can take gigabytes. Here the body is read from the stream:

- against a wall-clock end (the earlier of the call's deadline and the read timeout counted
  from the response head): checked between chunks; the first read waits at most until the
  end (its per-read timeout is capped); a later read that would block is cut by the
  watchdog, which shuts the connection's socket down at the end (sync), or by a cancel
  scope (async);
- against a size limit counted on the decoded bytes as they arrive: compressed input is
  decoded in small slices, so a gzip bomb stops near the limit.

The httpx clients the SDK creates also read through `bound_reads`: every socket read and
write of a sync call with a deadline waits at most until the deadline, and none starts
after it, so a seller dripping its status line and headers cannot hold the call either.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

import httpx

from . import _logging
from ._errors import ResponseTooLargeError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "BodyBudget",
    "bound_reads",
    "call_time_left",
    "ends_by",
    "read_body_async",
    "read_body_sync",
]

DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
# Compressed input is decoded this many bytes at a time; deflate expands at most ~1032x,
# so one slice adds at most ~4 MiB beyond the limit.
_DECODE_SLICE = 4096


class BodyBudget:
    """What one response body may take: a size limit (decoded bytes; None: no limit) and a
    time left in seconds (None: no bound)."""

    __slots__ = ("limit", "seconds")

    def __init__(self, limit: int | None, seconds: float | None) -> None:
        self.limit = limit
        self.seconds = seconds


def _too_large(request: httpx.Request, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{request.method} {_logging.redact_url(request.url)}: the response body exceeds "
        f"max_response_bytes={limit:,} (counted after decompression); pass a larger "
        "max_response_bytes to the client or to the call to accept it",
        request=request,
        limit=limit,
    )


def _timed_out(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("the response body did not arrive in time", request=request)


class _Reader:
    """The bookkeeping shared by the sync and async loops."""

    def __init__(self, response: httpx.Response, budget: BodyBudget) -> None:
        self.response = response
        self.request = response.request
        self.limit = budget.limit
        self.parts: list[bytes] = []
        self.size = 0
        self.end = None if budget.seconds is None else time.monotonic() + budget.seconds
        # One pass over the raw headers: two lookups by name cost twice as much.
        encoding = length = b""
        for name, value in response.headers.raw:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"content-encoding":
                encoding = value
        self.decoder: Any = (
            response._get_content_decoder()
            if encoding and encoding.strip().lower() != b"identity"
            else None
        )
        self.length = int(length) if length.isdigit() else None
        limit = self.limit
        if limit is not None and self.decoder is None and (self.length or 0) > limit:
            raise _too_large(self.request, limit)
        if budget.seconds is not None:
            if budget.seconds <= 0:
                # The time ran out with the head (a zero per-read timeout would make the
                # socket non-blocking: a ReadError, not a timeout).
                raise _timed_out(self.request)
            # The first read of the body waits no longer than the time left; httpcore reads
            # this per-read timeout when the body's first read begins.
            timeouts = self.request.extensions.get("timeout")
            if isinstance(timeouts, dict):
                current = timeouts.get("read")
                left = budget.seconds
                timeouts["read"] = left if current is None else min(current, left)

    def time_left(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check_time(self) -> None:
        if self.end is not None and time.monotonic() >= self.end:
            raise _timed_out(self.request)

    def add(self, chunk: bytes) -> None:
        if self.decoder is None:
            self._keep(chunk)
            return
        for start in range(0, len(chunk), _DECODE_SLICE):
            self._keep(self.decoder.decode(chunk[start : start + _DECODE_SLICE]))

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise _too_large(self.request, self.limit)
        self.parts.append(data)

    def more_to_read(self) -> bool:
        """Whether the next chunk may need the socket (it is known complete otherwise)."""
        return self.length is None or self.response.num_bytes_downloaded < self.length

    def finish(self) -> None:
        if self.decoder is not None:
            self._keep(self.decoder.flush())
        parts = self.parts
        self.response._content = parts[0] if len(parts) == 1 else b"".join(parts)


def _already_read(response: httpx.Response, budget: BodyBudget) -> bool:
    """Whether the body was read before it came here (a mocked transport answering with
    content, an auth flow that needed the body): then only its size is checked."""
    content: bytes | None = getattr(response, "_content", None)
    if content is None:
        return False
    if budget.limit is not None and len(content) > budget.limit:
        raise _too_large(response.request, budget.limit)
    return True


def read_body_sync(response: httpx.Response, budget: BodyBudget) -> None:
    """Read `response`'s body into `response.content` within `budget`; close the response.

    Raises `httpx.ReadTimeout` when the time runs out, `ResponseTooLargeError` past the limit.
    """
    watch: _Watch | None = None
    try:
        if _already_read(response, budget):
            return
        reader = _Reader(response, budget)
        try:
            for chunk in response.iter_raw():
                reader.add(chunk)
                reader.check_time()
                if watch is None and reader.end is not None and reader.more_to_read():
                    watch = _arm_watchdog(response, reader.time_left() or 0.0)
                    if watch is not None and isinstance(response.stream, httpx.SyncByteStream):
                        response.stream = _DisarmOnClose(response.stream, watch)
            reader.finish()
        except httpx.TransportError:
            if watch is not None and watch.fired:
                raise _timed_out(reader.request) from None
            raise
    finally:
        if watch is not None:
            watch.cancel()
        response.close()


async def read_body_async(response: httpx.Response, budget: BodyBudget) -> None:
    """`read_body_sync` for an async response; the end is enforced by a cancel scope."""
    try:
        if _already_read(response, budget):
            return
        reader = _Reader(response, budget)
        left = reader.time_left()
        if left is None:
            async for chunk in response.aiter_raw():
                reader.add(chunk)
        else:
            import anyio

            with anyio.move_on_after(max(left, 0.0)) as scope:
                async for chunk in response.aiter_raw():
                    reader.add(chunk)
                    reader.check_time()
            if scope.cancelled_caught:
                raise _timed_out(reader.request)
        reader.finish()
    finally:
        await response.aclose()


# --------------------------------------------------------------------------- the watchdog


class _Watch:
    """One armed bound: at `when`, shut down `sock` unless cancelled first."""

    __slots__ = ("cancelled", "fired", "lock", "sock", "when")

    def __init__(self, when: float, sock: socket.socket) -> None:
        self.when = when
        self.sock = sock
        self.fired = False
        self.cancelled = False
        self.lock = threading.Lock()

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True

    def fire(self) -> None:
        with self.lock:
            if self.cancelled:
                return
            self.fired = True
            # The plain socket's shutdown (not SSLSocket's, which drops its TLS object
            # under the reader's feet): a blocked recv returns at once.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class _DisarmOnClose(httpx.SyncByteStream):
    """A watched response's body stream. httpx closes it as soon as the body is read, which
    hands the connection back to the pool, where another call may take it at once: the watch
    is cancelled first, so the watchdog never shuts down a socket another call is using."""

    def __init__(self, stream: httpx.SyncByteStream, watch: _Watch) -> None:
        self._stream = stream
        self._watch = watch

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        self._watch.cancel()
        self._stream.close()


class _Watchdog:
    """One daemon thread firing the watches of every slow body, earliest first."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        """A fresh state: at start-up, and in a forked child, which has none of the
        parent's threads (and whose copy of the lock may be held)."""
        self._heap: list[tuple[float, int, _Watch]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._compact_at = 1024

    def arm(self, seconds: float, sock: socket.socket) -> _Watch:
        watch = _Watch(time.monotonic() + seconds, sock)
        with self._wake:
            if len(self._heap) >= self._compact_at:
                # Watches are cancelled where they are; drop the dead ones now and then.
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._compact_at = max(1024, 2 * len(self._heap))
            heapq.heappush(self._heap, (watch.when, next(self._counter), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lso-client-body-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is watch:
                self._wake.notify()
        return watch

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                when, _, watch = self._heap[0]
                now = time.monotonic()
                if when > now:
                    self._wake.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            watch.fire()


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_WATCHDOG._start)


def _arm_watchdog(response: httpx.Response, seconds: float) -> _Watch | None:
    """Arm the watchdog on the socket of `response`'s HTTP/1.1 connection (an HTTP/2
    socket is shared, and a mocked transport has none: those keep the per-read bound)."""
    if response.http_version != "HTTP/1.1":
        return None
    stream = response.extensions.get("network_stream")
    get_extra_info: Callable[[str], Any] | None = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    sock = get_extra_info("socket")
    if not isinstance(sock, socket.socket):
        return None
    return _WATCHDOG.arm(seconds, sock)


# --------------------------------------------------------------------------- bounded sockets

# When the sync call running in this context must be over (`time.monotonic()`), if it has a
# deadline: read by the streams of the clients the SDK created.
_CALL_END: ContextVar[float | None] = ContextVar("lso_client_call_end", default=None)


@contextmanager
def ends_by(seconds: float | None) -> Iterator[None]:
    """Within the block, socket reads and writes of SDK-created clients end within
    `seconds` from now (None: no bound)."""
    if seconds is None:
        yield
        return
    token = _CALL_END.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _CALL_END.reset(token)


def call_time_left() -> float | None:
    """Seconds the sync call running in this context has left (None: no deadline): for the
    requests it makes on the side, such as a token request in its auth flow."""
    end = _CALL_END.get()
    return None if end is None else end - time.monotonic()


def _capped(timeout: float | None) -> float | None:
    end = _CALL_END.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        import httpcore  # loaded already: httpx's transport uses it

        raise httpcore.ReadTimeout("the deadline of the call passed")
    return left if timeout is None else min(timeout, left)


class _BoundedStream:
    """An httpcore network stream whose every read and write waits no longer than the call
    has left. (Duck-typed: importing httpcore here would import anyio with the package.)"""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._stream.read(max_bytes, _capped(timeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _capped(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _BoundedStream:
        return _BoundedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _BoundedBackend:
    """An httpcore network backend opening `_BoundedStream`s over another's streams."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _BoundedStream:
        return _BoundedStream(
            self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _BoundedStream:
        return _BoundedStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_reads(client: httpx.Client) -> bool:
    """Make the connections of an httpx client the SDK created read through
    `_BoundedStream`: its own transport's and those of the proxies it mounted (from
    `HTTP_PROXY` and the like). False (and nothing changed) where httpx's internals differ."""
    mounts: dict[Any, Any] = getattr(client, "_mounts", None) or {}
    transports = [getattr(client, "_transport", None), *mounts.values()]
    pools: list[Any] = [getattr(transport, "_pool", None) for transport in transports if transport]
    backends = [getattr(pool, "_network_backend", None) for pool in pools]
    if not backends or not all(hasattr(backend, "connect_tcp") for backend in backends):
        return False
    bounded = False
    for pool, backend in zip(pools, backends, strict=True):
        if not isinstance(backend, _BoundedBackend):
            pool._network_backend = _BoundedBackend(backend)
            bounded = True
    return bounded
