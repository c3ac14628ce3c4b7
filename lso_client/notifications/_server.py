"""Serve an ASGI app on loopback from a background thread (listener, mock seller).

The server protects itself from slow and abusive clients:

* a connection must deliver a request's headers within `header_timeout` seconds of
  connecting (or of its previous response); uvicorn itself waits forever for them;
* at most `max_connections` connections are open: a new one evicts the oldest
  connection still waiting for its headers (a slowloris victim) or, when every
  connection is busy with a request, is closed at once; this keeps file descriptors
  from running out, which makes asyncio's accept loop spin and log a traceback per try;
* uvicorn's `limit_concurrency` backs that up (503 beyond it), h11 buffers at most
  `max_header_bytes` of incomplete headers, idle keep-alive connections close after
  `keep_alive_timeout`;
* what is closed or refused is counted (`guard_stats`) and summarised in the log at most
  once per `_SUMMARY_EVERY` seconds, and repeated warnings of uvicorn and asyncio are
  rate-limited, so an attack cannot fill the disk with log lines.

The body of a request is the application's to bound (uvicorn has no body timeout): the
notification listener does so with its `body_timeout`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .._extras import require

if TYPE_CHECKING:
    import uvicorn

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no file-descriptor limit to read
    resource = None  # type: ignore[assignment]

__all__ = ["BackgroundServer", "GuardStats", "guarded_config", "new_guard"]

logger = logging.getLogger("lso_client.server")

_SUMMARY_EVERY = 60.0
_FD_RESERVE = 64  # file descriptors kept free for the application (inbox, clients, logs)


@dataclass(frozen=True)
class GuardStats:
    """What the connection guard has refused since the server started.

    `header_timeouts`: connections closed for not sending a request's headers in time;
    `evicted`: connections waiting for their headers closed to make room for a new one;
    `refused`: new connections closed at once because every connection was busy.
    """

    header_timeouts: int = 0
    evicted: int = 0
    refused: int = 0


class _Guard:
    """Per-server state shared by every connection's protocol object."""

    def __init__(self, header_timeout: float, max_connections: int) -> None:
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        # Connections waiting for a request's headers, oldest first.
        self.waiting: OrderedDict[Any, None] = OrderedDict()  # guarded protocols
        self.counts = {"header_timeouts": 0, "evicted": 0, "refused": 0}
        self._reported = dict(self.counts)
        self._last_summary = time.monotonic()

    def count(self, name: str) -> None:
        self.counts[name] += 1
        now = time.monotonic()
        if now - self._last_summary >= _SUMMARY_EVERY:
            self.summarise(now)

    def summarise(self, now: float | None = None) -> None:
        new = {k: v - self._reported[k] for k, v in self.counts.items()}
        self._last_summary = time.monotonic() if now is None else now
        self._reported = dict(self.counts)
        if any(new.values()):
            logger.warning(
                "closed slow or excess connections: %d header timeouts, %d evicted, %d refused",
                new["header_timeouts"],
                new["evicted"],
                new["refused"],
            )

    def stats(self) -> GuardStats:
        return GuardStats(**self.counts)


@functools.cache
def _guarded_protocol() -> type[Any]:
    """uvicorn's h11 protocol with a header timeout and a connection cap; built on first
    use, as uvicorn is the `listener` extra's and not imported with the package."""
    require("listener", "uvicorn")
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class _GuardedH11Protocol(H11Protocol):
        """uvicorn's h11 protocol with a header timeout and a connection cap."""

        guard: _Guard  # set on the per-server subclass

        _header_timer: asyncio.TimerHandle | None = None
        _started_cycle: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            guard = self.guard
            if len(self.connections) > guard.max_connections:
                victim = next(iter(guard.waiting), None)
                if victim is None:
                    guard.count("refused")
                    transport.abort()
                    return
                guard.count("evicted")
                victim._drop()
            self._start_waiting()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self.cycle is not self._started_cycle:
                self._started_cycle = self.cycle  # a request's headers are in
                self._stop_waiting()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._start_waiting()  # before super(): it may start a pipelined request
            super().on_response_complete()

        def _start_waiting(self) -> None:
            self._stop_waiting()
            self.guard.waiting[self] = None
            self._header_timer = self.loop.call_later(self.guard.header_timeout, self._timed_out)

        def _stop_waiting(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            self.guard.waiting.pop(self, None)

        def _timed_out(self) -> None:
            self._header_timer = None
            self.guard.count("header_timeouts")
            self._drop()

        def _drop(self) -> None:
            self._stop_waiting()
            if not self.transport.is_closing():
                self.transport.abort()  # no lingering close: the descriptor is freed now

    return _GuardedH11Protocol


class _RateLimit(logging.Filter):
    """Lets through at most `burst` records per message template per `period` seconds,
    then one line saying how many were suppressed."""

    def __init__(self, burst: int = 5, period: float = _SUMMARY_EVERY) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, object], list[float]] = {}  # key -> [start, seen]

    def reset(self) -> None:
        """Forget the records counted so far (tests)."""
        with self._lock:
            self._windows.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window[0] >= self.period:
                suppressed = int(window[1]) - self.burst if window is not None else 0
                self._windows[key] = [now, 1]
                if suppressed > 0:
                    record.msg = f"{record.msg} (and {suppressed} similar messages suppressed)"
                if len(self._windows) > 1000:  # bounded even with many templates
                    self._windows.clear()
                return True
            window[1] += 1
            return window[1] <= self.burst


_rate_limit = _RateLimit()


def _quiet(name: str) -> None:
    target = logging.getLogger(name)
    if _rate_limit not in target.filters:
        target.addFilter(_rate_limit)


def guarded_config(
    app: Any,
    guard: _Guard,
    *,
    log_level: str = "warning",
    lifespan: Literal["auto", "on", "off"] = "off",
    keep_alive_timeout: float = 5.0,
    max_header_bytes: int = 16 * 1024,
) -> uvicorn.Config:
    """The uvicorn settings of a guarded server (`BackgroundServer`, the benchmarks).

    Raises `MissingExtraError` when uvicorn (the `listener` extra) is not installed.
    """
    uv = require("listener", "uvicorn")
    protocol = type("GuardedH11Protocol", (_guarded_protocol(),), {"guard": guard})
    for name in ("uvicorn.error", "asyncio"):
        _quiet(name)
    config: uvicorn.Config = uv.Config(
        app,
        http=protocol,
        log_level=log_level,
        lifespan=lifespan,
        access_log=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=int(max(1, keep_alive_timeout)),
        # A backstop: the guard keeps connections (and so requests) below it.
        limit_concurrency=guard.max_connections + 1,
        h11_max_incomplete_event_size=max_header_bytes,
    )
    return config


def new_guard(header_timeout: float = 10.0, max_connections: int = 1000) -> _Guard:
    """A connection guard, its connection cap kept below the file-descriptor limit."""
    if header_timeout <= 0:
        raise ValueError("header_timeout must be > 0")
    if max_connections < 1:
        raise ValueError("max_connections must be >= 1")
    budget = _fd_budget()
    return _Guard(
        header_timeout, max_connections if budget is None else min(max_connections, budget)
    )


def _fd_budget() -> int | None:
    if resource is None:  # pragma: no cover
        return None
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):  # pragma: no cover - platform dependent
        return None
    return None if soft == resource.RLIM_INFINITY else max(16, soft - _FD_RESERVE)


class BackgroundServer:
    """Run `app` with uvicorn in a daemon thread; usable as a context manager.

    `port=0` picks a free port; the bound address is available as `url` once
    `start()` returns. `header_timeout`, `max_connections` (capped below the process's
    file-descriptor limit), `keep_alive_timeout` and `max_header_bytes` bound what slow
    or abusive clients can hold; `lifespan="on"` sends the app ASGI lifespan events.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        header_timeout: float = 10.0,
        max_connections: int = 1000,
        keep_alive_timeout: float = 5.0,
        max_header_bytes: int = 16 * 1024,
        lifespan: Literal["auto", "on", "off"] = "off",
    ) -> None:
        if keep_alive_timeout <= 0:
            raise ValueError("keep_alive_timeout must be > 0")
        self._app = app
        self._host = host
        self._port = port
        self._log_level = log_level
        self._startup_timeout = startup_timeout
        self._guard = new_guard(header_timeout, max_connections)
        self._keep_alive_timeout = keep_alive_timeout
        self._max_header_bytes = max_header_bytes
        self._lifespan = lifespan
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._socket is None:
            raise RuntimeError("server is not running")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """`http://host:port` of the running server."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def guard_stats(self) -> GuardStats:
        """Connections closed or refused by the guard (slow headers, too many)."""
        return self._guard.stats()

    def start(self) -> BackgroundServer:
        """Bind, start serving from a daemon thread, and return once it accepts.

        Raises `MissingExtraError` when uvicorn (the `listener` extra) is not installed.
        """
        if self.running:
            return self
        uv = require("listener", "uvicorn")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # An explicit TCP protocol: asyncio turns Nagle off only on sockets that say so,
        # and with Nagle on every small response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        sock.listen(1024)
        sock.setblocking(False)
        self._socket = sock
        config = guarded_config(
            self._app,
            self._guard,
            log_level=self._log_level,
            lifespan=self._lifespan,
            keep_alive_timeout=self._keep_alive_timeout,
            max_header_bytes=self._max_header_bytes,
        )
        server: uvicorn.Server = uv.Server(config)
        # uvicorn installs no signal handlers outside the main thread.
        self._server = server
        thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"lso-client-server-{self.port}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        deadline = threading.Event()
        waited = 0.0
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the background server failed to start")
            if waited >= self._startup_timeout:
                self.stop()
                raise RuntimeError("the background server did not start in time")
            deadline.wait(0.01)
            waited += 0.01
        return self

    def stop(self) -> None:
        """Ask the server to exit, wait for its thread (10 s at most), close the socket."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._guard.summarise()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
