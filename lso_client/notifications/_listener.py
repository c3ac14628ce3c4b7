"""The buyer-side notification listener: an ASGI app that receives seller callbacks.

Sellers POST `<callback><notification API base path>/listener/<eventType>`. Sellers and
the specs disagree on the prefix, so the listener routes on the last path segment and
passes the whole path to the resolver only as a hint for which API and version the
event belongs to. A callback may carry a per-subscription segment
(`<listener url>/subscriptions/<id>`, see `callback_url`), reported as
`Notification.subscription`.

Delivery model (at least once):

* An accepted notification is written to the inbox before the seller gets its 204; a
  repeat of its `eventId` through the same callback path (its *channel*) is answered 204
  and not delivered again. De-duplication lives in the inbox, so replicas sharing a
  Redis inbox share it.
* Handlers then run as background tasks on the server's event loop. The entry leaves the
  inbox once every handler has succeeded. When one raises, the entry is retried after
  `retry_delay` seconds, doubling up to `max_retry_delay`, running only the handlers that
  have not yet succeeded; after `max_attempts` failed deliveries it becomes a dead letter
  (`dead_letters()`, `replay_dead_letters()`, `purge_dead_letters()`).
* Entries left in the inbox by a process that died (or by a replica, on Redis) are
  delivered when their lease (`lease`, renewed while handlers run) runs out, or, for a
  SQLite inbox on the same host, as soon as the inbox is opened again.
* Notifications about the same resource (`event.id`) are delivered in arrival order;
  notifications about different resources are delivered concurrently. A retry comes
  after the resource's later notifications. The handlers of one notification run one
  after the other, in registration order.
* Async handlers are awaited on the server loop; sync handlers run in a worker thread.
* `stop()` (and `join()`) wait for in-flight deliveries, with a timeout; what is still
  in a durable inbox is delivered by the next listener that opens it.

The listener runs on asyncio (uvicorn, or any asyncio-based ASGI server).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import json
import logging
import os
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from pydantic import BaseModel, TypeAdapter, ValidationError

from .. import _parsing
from .._extras import require
from ._events import CatalogResolver
from ._inbox import Inbox, InboxEntry, MemoryInbox, live_owners
from ._server import BackgroundServer, GuardStats, _RateLimit

__all__ = [
    "DEFAULT_INBOX",
    "Authenticator",
    "DeadLetter",
    "EventResolver",
    "Handler",
    "ListenerStats",
    "Notification",
    "NotificationListener",
    "default_inbox",
]

logger = logging.getLogger("lso_client.listener")
# What any caller can provoke (bad tokens, garbage or slow bodies, duplicates, an inbox
# that is down) goes to a child logger that is rate-limited, so that an attack cannot
# flood the log; what the application's own handlers do is logged in full.
abuse_logger = logging.getLogger("lso_client.listener.requests")
abuse_logger.addFilter(_RateLimit(burst=20))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: What `NotificationListener()` uses when neither `inbox=` nor the `LSO_CLIENT_INBOX`
#: environment variable says otherwise: see `default_inbox()`.
DEFAULT_INBOX = "default"

# Default SQLite inboxes open in this process, by path: a second listener must not share
# one implicitly (listeners sharing an inbox deliver each other's events).
_default_paths_open: set[str] = set()
_default_paths_lock = threading.Lock()

# MEF event types are camelCase names: letters and digits only.
_EVENT_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,199}")
_SUBSCRIPTIONS = "subscriptions"
_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class EventResolver(Protocol):
    """Maps a callback path and event type to the model of the whole notification."""

    def resolve(self, path: str, event_type: str) -> type[BaseModel] | None:
        """The model of the notification POSTed to `path` for `event_type`; None when
        unknown (the listener then delivers the JSON object, or answers 400)."""
        ...


Authenticator = Callable[[str | None], "bool | Awaitable[bool]"]

_JSON_CONTENT_TYPE = b"application/json;charset=utf-8"
_REASON_MAX = 255  # MEF `Error.reason` maxLength
_datetime_adapter: TypeAdapter[datetime] | None = None


@dataclass(frozen=True, eq=False)
class Notification:
    """One accepted notification, as handlers receive it.

    `payload` is the parsed envelope (a model from the resolver) or, when the resolver
    knows no model for the event type and unknown events are accepted, the JSON object.
    `headers` has lower-case names and omits `authorization`, so handlers that log
    notifications do not leak the seller's token.

    `channel` is the callback path without its event-type segment: the hub (and, with
    per-subscription callbacks, the subscription) the event came through; an `eventId`
    is de-duplicated within its channel. `subscription` is the id of the
    per-subscription callback path (`.../subscriptions/<id>/...`), None without one.
    `attempt` is 1 on the first delivery and counts up on retries.
    """

    event_type: str
    event_id: str | None
    event_time: datetime | None
    payload: BaseModel | dict[str, Any]
    path: str
    headers: Mapping[str, str]
    received_at: datetime
    deviations: list[dict[str, Any]]
    channel: str = ""
    subscription: str | None = None
    attempt: int = 1

    @property
    def event(self) -> Any:
        """The envelope's `event` part (a model or a dict)."""
        if isinstance(self.payload, BaseModel):
            return getattr(self.payload, "event", None)
        return self.payload.get("event")


Handler = Callable[[Notification], "Awaitable[None] | None"]
H = TypeVar("H", bound=Handler)
Tap = Callable[[Notification], None]


@dataclass(frozen=True)
class ListenerStats:
    """Counters since the listener was created (this process only).

    `received` counts every HTTP request; each ends up `rejected` (any non-204
    answer), a `duplicate`, or accepted into the inbox. An accepted event is `delivered`
    once all its handlers have succeeded; `handler_errors` counts handler calls that
    raised, `retries` deliveries scheduled again after a failure, `dead_lettered`
    events that failed `max_attempts` times.
    """

    received: int = 0
    delivered: int = 0
    duplicates: int = 0
    rejected: int = 0
    handler_errors: int = 0
    retries: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True)
class DeadLetter:
    """An event whose handlers failed `max_attempts` times.

    `id` identifies it for `replay_dead_letters` and `purge_dead_letters`; `error`
    describes the last failure; `attempts` counts failed deliveries; `failed_at` is when
    it was given up.
    """

    id: str
    notification: Notification
    attempts: int
    error: str | None
    failed_at: datetime | None


@dataclass
class _Entry:
    handler: Handler
    event_types: set[str] | None  # casefolded; None means every event


class _Reject(Exception):
    """An error answer to the seller, with a MEF `Error` body."""

    def __init__(
        self,
        status: int,
        code: str,
        reason: str,
        message: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.message = message
        self.headers = list(headers)


def _state_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lso-client"


def default_inbox() -> str:
    """Where `NotificationListener()` keeps its events by default: `"memory"` in an
    interactive session (a notebook, a REPL, `python -c`), otherwise a SQLite file of
    the running program in the user's state directory
    (`$XDG_STATE_HOME/lso-client/inbox-<program>-<hash of its path>.sqlite3`, by default
    under `~/.local/state`; `%LOCALAPPDATA%` on Windows).

    The program (`sys.argv[0]`, resolved) names the file, so a restarted program finds
    the events it left, while other programs, even started in the same directory, never
    receive them.
    """
    program = sys.argv[0] if sys.argv else ""
    if not program or program == "-c" or not os.path.isfile(program):
        return "memory"
    resolved = os.path.realpath(program)
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", Path(resolved).stem)[:40] or "program"
    return str(_state_dir() / f"inbox-{stem}-{digest}.sqlite3")


def _open_inbox(
    inbox: Inbox | str | os.PathLike[str] | None, dedupe_window: int
) -> tuple[Inbox, bool]:
    """The inbox, and whether it is the implicit default SQLite file."""
    if isinstance(inbox, Inbox):
        return inbox, False
    where = os.fspath(inbox) if inbox is not None else os.environ.get("LSO_CLIENT_INBOX")
    implicit = not where or where == DEFAULT_INBOX
    if implicit:
        where = default_inbox()
    assert where is not None
    if where == "memory":
        return MemoryInbox(dedupe_window=dedupe_window), False
        return MemoryInbox(dedupe_window=dedupe_window)
    if where.startswith(("redis://", "rediss://", "unix://")):
        from ._redis import RedisInbox

        return RedisInbox(where, dedupe_window=dedupe_window), False
    from ._sqlite import SQLiteInbox

    return SQLiteInbox(where, dedupe_window=dedupe_window), implicit


def _handler_keys(handlers: list[Handler]) -> list[str]:
    """Names that identify handlers across processes: module, qualified name, and an
    occurrence number for handlers that share them."""
    seen: dict[str, int] = {}
    keys = []
    for handler in handlers:
        name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
        base = f"{getattr(handler, '__module__', '')}:{name}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(f"{base}#{seen[base]}")
    return keys


def _describe_failure(exc: BaseException) -> str:
    return f"{type(exc).__qualname__}: {exc}"[:1000]


class NotificationListener:
    """Receives MEF notifications; an ASGI app (mountable in Starlette, FastAPI, ...).

    `authenticate`: `None` accepts every caller; a `str` is the expected bearer token
    (compared in constant time); a callable receives the bearer token (or `None` when
    the request carries none) and returns, or awaits to, whether to accept it. Sync
    callables run in a worker thread, so they may do network I/O (token introspection).

    `strict=True` rejects notifications that violate the spec (400), including an
    `eventType` in the body that differs from the path; the default records such
    deviations on the `Notification` and logs them at WARNING.

    `accept_unknown_events`: when the resolver has no model for an event type (or there
    is no resolver), deliver the JSON object as the payload; when false, answer 400.

    `inbox`: where accepted events wait for their handlers. `"memory"` keeps them in
    this process (tests, notebooks); a path is a SQLite file (survives a crash); a
    `redis://` URL is a Redis inbox shared by replicas; or an `Inbox` instance
    (`MemoryInbox`, `SQLiteInbox`, `RedisInbox`). By default the `LSO_CLIENT_INBOX`
    environment variable (same forms), else `default_inbox()`: a SQLite file of the
    running program in the user's state directory (memory in an interactive session),
    which a second listener of the same process may not share (it raises when opened;
    give it an `inbox=`). Listeners that share an inbox on purpose (replicas) must
    register the same handlers: each delivers the others' events. The inbox is opened
    on first use, not when constructed.

    `dedupe_window`: how many recent (channel, `eventId`) pairs an inbox created from
    `inbox` remembers; a repeat gets 204 and is not delivered again. `0` turns
    de-duplication off. Give it to the constructor of an `Inbox` instance instead.

    `max_attempts`, `retry_delay`, `max_retry_delay`: a failed delivery is retried after
    `retry_delay` s, doubling up to `max_retry_delay`, until `max_attempts` deliveries
    failed; then the event is a dead letter. `lease`: seconds an event being delivered
    stays reserved for this listener (renewed while its handlers run); another replica,
    or this listener after a restart, delivers it once the lease runs out.
    `poll_interval`: how often the inbox is checked for events to deliver that did not
    arrive here (retries, replays, events of other replicas). `max_deliveries`: events
    delivered at once; beyond it, accepted events wait in the inbox, up to `max_pending`
    events waiting or being delivered (None: no bound): beyond that the seller gets 503
    `serviceUnavailable` with `Retry-After` and re-sends later, so that callers (with no
    token to check, anyone) cannot fill memory or disk faster than the handlers work.

    `max_body_bytes` and `body_timeout` bound the request body (413 beyond the size,
    408 when it takes longer to arrive).

    Answers, checked in this order: 404 `notFound` unless the path ends in
    `/listener/<eventType>` with an event type made of letters and digits; 405 unless
    POST; 401 `missingCredentials` / `invalidCredentials`; 400 `invalidBody` for a
    non-JSON content type; 413 `payloadTooLarge` over `max_body_bytes`; 408
    `requestTimeout` for a body slower than `body_timeout`; 400 `invalidBody` for a body
    that is empty, not a JSON object, lacks `eventType` or `event`, or fails the model;
    503 `serviceUnavailable` beyond `max_pending`; 500 `internalError` when the
    authenticator, resolver or inbox raises; otherwise 204.
    Error bodies are MEF `Error` objects (`code`, `reason`, optional `message`).
    """

    def __init__(
        self,
        *,
        resolver: EventResolver | None = None,
        reference_point: str | None = None,
        authenticate: Authenticator | str | None = None,
        strict: bool = False,
        accept_unknown_events: bool = True,
        inbox: Inbox | str | os.PathLike[str] | None = None,
        dedupe_window: int = 10_000,
        max_attempts: int = 5,
        retry_delay: float = 1.0,
        max_retry_delay: float = 300.0,
        lease: float = 30.0,
        poll_interval: float = 1.0,
        max_deliveries: int = 1000,
        max_pending: int | None = 10_000,
        max_body_bytes: int = 5_000_000,
        body_timeout: float = 10.0,
    ) -> None:
        if dedupe_window < 0:
            raise ValueError("dedupe_window must be >= 0")
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be > 0")
        if isinstance(authenticate, str) and not authenticate:
            raise ValueError("the expected bearer token must not be empty")
        if max_attempts < 1 or max_deliveries < 1:
            raise ValueError("max_attempts and max_deliveries must be >= 1")
        if max_pending is not None and max_pending < max_deliveries:
            raise ValueError("max_pending must be >= max_deliveries")
        if min(retry_delay, max_retry_delay) < 0 or min(lease, poll_interval, body_timeout) <= 0:
            raise ValueError("delays must be >= 0 and lease, poll_interval, body_timeout > 0")
        # By default events parse into the generated models of the API that sent them.
        self._resolver = resolver if resolver is not None else CatalogResolver(reference_point)
        self._authenticate = authenticate
        self._strict = strict
        self._accept_unknown = accept_unknown_events
        self._max_body = max_body_bytes
        self._body_timeout = body_timeout
        self._inbox, self._implicit_inbox = _open_inbox(inbox, dedupe_window)
        self._inbox_open = False
        self._open_lock = threading.Lock()
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._lease = lease
        self._poll_interval = poll_interval
        self._max_deliveries = max_deliveries
        self._max_pending = max_pending
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

        self._lock = threading.Lock()
        # A list, not a dict: handlers need not be hashable (dataclass instances).
        self._handlers: list[_Entry] = []
        self._keys: list[str] | None = None  # _handler_keys of _handlers, when computed
        self._taps: list[Tap] = []
        self._counts = dict.fromkeys(
            (
                "received",
                "delivered",
                "duplicates",
                "rejected",
                "handler_errors",
                "retries",
                "dead_lettered",
            ),
            0,
        )
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        # Entries being delivered by this listener (their leases are renewed).
        self._delivering: dict[str, int] = {}
        # Whether accepted events may be waiting for a free delivery slot.
        self._backlog = False
        # Strong references to running deliveries (the loop keeps only weak ones), and
        # the last delivery per (loop, resource id) to keep per-resource order.
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[None]] = {}
        # The pump: claims events this listener did not receive (retries, other
        # replicas', a dead process's); one per event loop serving the listener.
        self._pump: asyncio.Task[None] | None = None
        self._pump_loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        # Requests reading their body, with deadlines, and those the watchdog cancelled.
        self._watchdog: asyncio.Task[None] | None = None
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._server: BackgroundServer | None = None

    @property
    def inbox(self) -> Inbox:
        """The inbox accepted events wait in."""
        return self._inbox

    # -- handler registry -------------------------------------------------------------

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Decorator: call the function for these event types (every event when none)."""

        def register(handler: H) -> H:
            self.add_handler(handler, *event_types)
            return handler

        return register

    def add_handler(self, handler: Handler, *event_types: str) -> None:
        """Register `handler` for `event_types` (every event when none are given).

        Event types match the last path segment case-insensitively. Registering a
        handler again widens its set of event types; it is still called once per event.
        """
        if not callable(handler):
            raise TypeError("handler must be callable")
        wanted = {t.casefold() for t in event_types} if event_types else None
        with self._lock:
            for entry in self._handlers:
                if entry.handler == handler:
                    current = entry.event_types
                    entry.event_types = (
                        None if current is None or wanted is None else current | wanted
                    )
                    return
            # Copy on write: deliveries iterate a snapshot without the lock.
            self._handlers = [*self._handlers, _Entry(handler, wanted)]
            self._keys = None

    def remove_handler(self, handler: Handler) -> None:
        """Unregister `handler` for every event type; unknown handlers are ignored."""
        with self._lock:
            self._handlers = [e for e in self._handlers if e.handler != handler]
            self._keys = None

    def add_tap(self, fn: Tap) -> None:
        """Call `fn` on the server thread for each accepted, non-duplicate notification,
        before the 204 is sent and before any handler runs. `fn` must be quick."""
        with self._lock:
            self._taps.append(fn)

    def remove_tap(self, fn: Tap) -> None:
        """Stop calling `fn`; unknown taps are ignored."""
        with self._lock:
            if fn in self._taps:
                self._taps.remove(fn)

    def _handlers_for(self, event_type: str) -> list[tuple[str, Handler]]:
        key = event_type.casefold()
        with self._lock:
            handlers = self._handlers
            keys = self._keys
            if keys is None:
                keys = self._keys = _handler_keys([e.handler for e in handlers])
        return [
            (k, e.handler)
            for k, e in zip(keys, handlers, strict=True)
            if e.event_types is None or key in e.event_types
        ]

    # -- statistics and lifecycle -----------------------------------------------------

    @property
    def stats(self) -> ListenerStats:
        """Counters since the listener was created."""
        with self._lock:
            return ListenerStats(**self._counts)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def join(self, timeout: float | None = None) -> bool:
        """Wait until no delivery is in flight; returns False on timeout.

        Retries waiting for their delay are not in flight. Call it from a thread other
        than the server's (it blocks).
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        header_timeout: float = 10.0,
        max_connections: int = 1000,
    ) -> NotificationListener:
        """Serve the listener from a background thread (scripts, notebooks, tests).

        `header_timeout`: seconds a connection may take to send a request's headers;
        `max_connections`: open connections at most (the oldest still sending its
        headers is closed to make room). Events left in the inbox are delivered at once.
        Serving needs uvicorn, the `listener` extra (`MissingExtraError` without it); the
        listener as an ASGI application mounted elsewhere does not.
        """
        if self._server is not None and self._server.running:
            return self
        require("listener", "uvicorn")
        self._open()
        self._server = BackgroundServer(
            self,
            host=host,
            port=port,
            header_timeout=header_timeout,
            max_connections=max_connections,
            lifespan="on",
        ).start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Wait up to `timeout` seconds for in-flight deliveries, stop the server and
        close the inbox (what is left in a durable inbox is delivered on the next start)."""
        server = self._server
        if server is None:
            return
        if not self.join(timeout):
            logger.warning("stopping the listener with notification handlers still running")
        server.stop()
        self._server = None
        self.close()

    def close(self) -> None:
        """Close the inbox (it is opened again on next use)."""
        with self._lock:
            was_open, self._inbox_open = self._inbox_open, False
        if was_open:
            live_owners.discard(self._owner)
            self._inbox.close()
            self._release_default_path()

    @property
    def url(self) -> str:
        """Base URL of the running server: the value to register as hub `callback`."""
        if self._server is None or not self._server.running:
            raise RuntimeError("the listener is not running; call start() first")
        return self._server.url

    @property
    def guard_stats(self) -> GuardStats:
        """Connections the server closed or refused (slow headers, too many); see
        `start()`. Only for a listener started with `start()`."""
        if self._server is None:
            raise RuntimeError("the listener is not running; call start() first")
        return self._server.guard_stats

    def callback_url(self, subscription: str | None = None) -> str:
        """A callback URL of its own for one hub subscription: `url` plus
        `/subscriptions/<id>`, with a new opaque id when none is given. Notifications
        sent to it carry `subscription=<id>` and are de-duplicated apart from other
        subscriptions'."""
        return subscription_callback(self.url, subscription)

    def __enter__(self) -> NotificationListener:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> NotificationListener:
        """For a listener mounted in your own ASGI app (whose router may not pass it
        lifespan events): open the inbox and start delivering on the running loop, so
        events left in a durable inbox are delivered before the first request arrives.
        Use it in the application's lifespan: `async with listener: yield`."""
        await self._io(self._open)
        self._ensure_pump()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop_pump()
        await self._io(self.close)

    # -- dead letters -----------------------------------------------------------------

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        """Events given up after `max_attempts` failed deliveries, oldest first."""
        self._open()
        found = []
        for entry in self._inbox.dead_letters(limit):
            failed = entry.failed_at
            found.append(
                DeadLetter(
                    id=entry.id,
                    notification=self._rebuild(entry, strict=False),
                    attempts=entry.attempts,
                    error=entry.error,
                    failed_at=None
                    if failed is None
                    else datetime.fromtimestamp(failed, timezone.utc),
                )
            )
        return found

    def replay_dead_letters(self, ids: Collection[str] | None = None) -> int:
        """Deliver dead letters (all, or those with these ids) again, with a fresh
        `max_attempts`; handlers that had succeeded are not called again. Returns how
        many were replayed. The server delivers them (here, or on another replica)."""
        self._open()
        count = self._inbox.replay(ids)
        self._wake_threadsafe()
        return count

    def purge_dead_letters(self, ids: Collection[str] | None = None) -> int:
        """Delete dead letters (all, or those with these ids); returns how many."""
        self._open()
        return self._inbox.purge(ids)

    def pending(self) -> int:
        """Events in the inbox not yet delivered (dead letters excluded)."""
        self._open()
        return self._inbox.pending()

    async def dead_letters_async(self, limit: int | None = None) -> list[DeadLetter]:
        """`dead_letters` for async code (a network inbox is read in a worker thread)."""
        found: list[DeadLetter] = await self._io(self.dead_letters, limit)
        return found

    async def replay_dead_letters_async(self, ids: Collection[str] | None = None) -> int:
        """`replay_dead_letters` for async code."""
        return int(await self._io(self.replay_dead_letters, ids))

    async def purge_dead_letters_async(self, ids: Collection[str] | None = None) -> int:
        """`purge_dead_letters` for async code."""
        return int(await self._io(self.purge_dead_letters, ids))

    async def pending_async(self) -> int:
        """`pending` for async code."""
        return int(await self._io(self.pending))

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        self._count("received")
        try:
            await self._handle(scope, receive, send)
        except _Reject as rej:
            self._count("rejected")
            log = abuse_logger.warning if rej.status in (401, 408, 503) else abuse_logger.info
            log("rejected notification %s: %s %s", _log_path(scope), rej.status, rej.reason)
            await _send_error(send, rej)
        except Exception:
            self._count("rejected")
            abuse_logger.exception("failed to process notification %s", _log_path(scope))
            await _send_error(send, _Reject(500, "internalError", "Internal server error"))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._io(self._open)
                    self._ensure_pump()
                except Exception as exc:
                    logger.exception("the notification inbox could not be opened")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop_pump()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _full_path(scope)
        event_type = _event_type_of(scope, path)
        if scope["method"] != "POST":
            raise _Reject(
                405,
                "methodNotAllowed",
                "Notifications must be delivered with POST",
                headers=[(b"allow", b"POST")],
            )
        headers = _headers(scope)
        await self._check_credentials(headers.get("authorization"))
        _check_content_type(headers.get("content-type"))
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            raise self._too_large()
        self._ensure_pump()
        raw = await self._read_body_in_time(receive)

        notification = await self._parse(path, event_type, raw, headers)
        entry = _entry_for(notification, raw)
        if not self._inbox_open:
            await self._io(self._open)
        deliver_now = self._in_flight < self._max_deliveries
        # Counted only when events already wait: no per-event work while handlers keep up.
        if (
            not deliver_now
            and self._max_pending is not None
            and await self._io(self._inbox.pending) >= self._max_pending
        ):
            raise _Reject(
                503,
                "serviceUnavailable",
                "Too many notifications wait for delivery; send it again later",
                headers=[(b"retry-after", b"5")],
            )
        owner = self._owner if deliver_now else None
        accepted = (
            await self._io(self._inbox.put, entry, owner=owner, lease=self._lease)
            if self._inbox.blocking
            else self._inbox.put(entry, owner=owner, lease=self._lease)
        )
        if not accepted:
            self._count("duplicates")
            abuse_logger.info("duplicate notification %.200s ignored", notification.event_id)
            await _send_no_content(send)
            return
        if notification.deviations:
            # What the body holds is the caller's: rate-limited and cut short.
            abuse_logger.warning(
                "notification %s %.200s deviates from the spec: %.500s",
                event_type,
                notification.event_id,
                notification.deviations,
            )
        for tap in self._snapshot_taps():
            try:
                tap(notification)
            except Exception:
                logger.exception("notification tap %r failed", tap)
        if deliver_now:
            self._schedule(entry, notification)
        else:
            self._backlog = True
            if self._wake is not None:
                self._wake.set()
        await _send_no_content(send)

    async def _check_credentials(self, authorization: str | None) -> None:
        check = self._authenticate
        if check is None:
            return
        token = _bearer_token(authorization)
        if isinstance(check, str):
            accepted = token is not None and hmac.compare_digest(
                token.encode("utf-8"), check.encode("utf-8")
            )
        else:
            result = (
                check(token)
                if _is_async_callable(check)
                else await anyio.to_thread.run_sync(check, token)
            )
            accepted = bool(await result) if inspect.isawaitable(result) else bool(result)
        if accepted:
            return
        challenge = [(b"www-authenticate", b"Bearer")]
        if token is None:
            raise _Reject(401, "missingCredentials", "No bearer token provided", headers=challenge)
        challenge = [(b"www-authenticate", b'Bearer error="invalid_token"')]
        raise _Reject(
            401, "invalidCredentials", "The bearer token is invalid or expired", headers=challenge
        )

    def _too_large(self) -> _Reject:
        return _Reject(
            413,
            "payloadTooLarge",
            f"The notification body exceeds {self._max_body} bytes",
        )

    async def _read_body_in_time(self, receive: Receive) -> bytes:
        """The body, or a 408 when it takes longer than `body_timeout` (uvicorn has no
        body timeout). The watchdog cancels reads past their deadline: one task for all
        requests instead of a timer, or a task (`asyncio.wait_for`), per request."""
        task = asyncio.current_task()
        assert task is not None
        self._reading[task] = time.monotonic() + self._body_timeout
        try:
            return await self._read_body(receive)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:  # Python 3.11+: this cancellation is handled
                uncancel()
            raise _Reject(
                408, "requestTimeout", f"The body did not arrive within {self._body_timeout:g} s"
            ) from None
        finally:
            del self._reading[task]
            self._expired.discard(task)

    async def _watch_reads(self) -> None:
        """Cancel body reads past their deadline (checked every quarter timeout)."""
        while True:
            await asyncio.sleep(self._body_timeout / 4)
            now = time.monotonic()
            for task, deadline in list(self._reading.items()):
                if deadline <= now and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Reject(400, "invalidBody", "The client disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _parse(
        self,
        path: str,
        event_type: str,
        raw: bytes,
        headers: Mapping[str, str],
        received_at: datetime | None = None,
        attempt: int = 1,
    ) -> Notification:
        if not raw.strip():
            raise _Reject(400, "invalidBody", "The request body is empty")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise _Reject(
                400, "invalidBody", "The request body is not valid JSON", str(exc)
            ) from None
        if not isinstance(body, dict):
            raise _Reject(400, "invalidBody", "The request body is not a JSON object")
        model = self._resolver.resolve(path, event_type) if self._resolver else None
        # `event` is required by every MEF envelope but the catalog's (TMF-style) one.
        required = (
            ("eventType", "event") if model is None or _requires_event(model) else ("eventType",)
        )
        missing = [name for name in required if body.get(name) is None]
        if missing:
            raise _Reject(400, "invalidBody", f"The notification lacks {' and '.join(missing)}")
        if "event" in body and not isinstance(body["event"], dict):
            raise _Reject(400, "invalidBody", "The notification's event is not a JSON object")

        deviations: list[dict[str, Any]] = []
        body_type = body["eventType"]
        if not isinstance(body_type, str) or body_type != event_type:
            # Route on the path as documented; a sloppy body is recorded, not fatal.
            if self._strict:
                raise _Reject(
                    400,
                    "invalidBody",
                    "eventType in the body differs from the listener path",
                    f"path says {event_type!r}, body says {body_type!r}",
                )
            deviations.append(
                {
                    "loc": ["eventType"],
                    "type": "event_type_mismatch",
                    "msg": f"eventType differs from the listener path segment {event_type!r}",
                    "input": body_type,
                }
            )

        payload: BaseModel | dict[str, Any]
        if model is None:
            if not self._accept_unknown:
                raise _Reject(400, "invalidBody", f"Unknown event type {event_type!r}")
            payload = body
            deviations.extend(_envelope_deviations(body))
        else:
            try:
                payload, found = _parse_model(model, raw, self._strict)
            except ValueError as exc:  # pydantic.ValidationError and JSONDecodeError
                raise _Reject(
                    400,
                    "invalidBody",
                    "The notification does not match the spec",
                    _describe(exc),
                ) from None
            # The model may report what the listener already noted (a differing eventType).
            noted = {tuple(d["loc"]) for d in deviations}
            deviations.extend(d for d in found if tuple(d["loc"]) not in noted)

        event_id = body.get("eventId")
        return Notification(
            event_type=event_type,
            event_id=str(event_id) if isinstance(event_id, (str, int)) else None,
            event_time=_parse_datetime(body.get("eventTime")),
            payload=payload,
            path=path,
            headers=MappingProxyType({k: v for k, v in headers.items() if k != "authorization"}),
            received_at=received_at or datetime.now(timezone.utc),
            deviations=deviations,
            channel=_channel_of(path),
            subscription=_subscription_of(path),
            attempt=attempt,
        )

    def _rebuild(self, entry: InboxEntry, *, strict: bool = True) -> Notification:
        """The notification of an inbox entry (parsed again; it parsed when accepted).

        When it no longer parses into a model (the resolver or strictness changed, or
        the resolver raises), the payload is the JSON object; a body that is not one
        raises, or, with `strict=False` (listing dead letters), gives an empty payload.
        """
        received = datetime.fromtimestamp(entry.received_at, timezone.utc)
        coroutine = self._parse(
            entry.path, entry.event_type, entry.body, entry.headers, received, entry.attempts + 1
        )
        try:
            # _parse awaits nothing: run it to completion without a loop.
            coroutine.send(None)
        except StopIteration as done:
            notification: Notification = done.value
            return notification
        except Exception as exc:
            # The resolver or strictness changed since: hand over the JSON object.
            reason = exc.reason if isinstance(exc, _Reject) else _describe_failure(exc)
            logger.warning("stored notification %s no longer parses: %s", entry.id, reason)
            try:
                body = json.loads(entry.body)
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, RecursionError):
                if strict:
                    raise
                body = {}
            return Notification(
                event_type=entry.event_type,
                event_id=entry.event_id,
                event_time=_parse_datetime(body.get("eventTime")),
                payload=body,
                path=entry.path,
                headers=MappingProxyType(dict(entry.headers)),
                received_at=received,
                deviations=[],
                channel=entry.channel,
                subscription=entry.subscription,
                attempt=entry.attempts + 1,
            )
        coroutine.close()
        raise RuntimeError("parsing a stored notification awaited")  # pragma: no cover

    def _snapshot_taps(self) -> list[Tap]:
        with self._lock:
            return list(self._taps)

    # -- inbox and delivery -----------------------------------------------------------

    async def _io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call an inbox method: in a worker thread when the inbox does network I/O."""
        if self._inbox.blocking:
            return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
        return fn(*args, **kwargs)

    def _open(self) -> None:
        if self._inbox_open:
            return
        with self._open_lock:
            if self._inbox_open:
                return
            if self._implicit_inbox:
                self._claim_default_path()
            live_owners.add(self._owner)
            try:
                self._inbox.open()
            except BaseException:
                live_owners.discard(self._owner)
                self._release_default_path()
                raise
            self._inbox_open = True

    def _claim_default_path(self) -> None:
        path = str(getattr(self._inbox, "path", ""))
        with _default_paths_lock:
            if path in _default_paths_open:
                raise RuntimeError(
                    "another NotificationListener of this process already uses the default"
                    f" inbox {path!r}; give each listener its own: inbox=<path>, or"
                    " inbox='memory'"
                )
            _default_paths_open.add(path)

    def _release_default_path(self) -> None:
        if self._implicit_inbox:
            with _default_paths_lock:
                _default_paths_open.discard(str(getattr(self._inbox, "path", "")))

    def _ensure_pump(self) -> None:
        loop = asyncio.get_running_loop()
        if self._pump is not None and not self._pump.done() and self._pump_loop is loop:
            return
        self._pump_loop = loop
        self._wake = asyncio.Event()
        self._pump = loop.create_task(self._run_pump(self._wake))
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = loop.create_task(self._watch_reads())

    async def _stop_pump(self) -> None:
        pump, self._pump = self._pump, None
        watchdog, self._watchdog = self._watchdog, None
        for task in (pump, watchdog):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task})

    def _wake_threadsafe(self) -> None:
        loop, wake = self._pump_loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(wake.set)

    async def _run_pump(self, wake: asyncio.Event) -> None:
        """Claim and deliver what this listener did not receive itself: retries that
        are due, replayed dead letters, events of dead processes or other replicas, and
        events left waiting because `max_deliveries` were in flight; renew the leases of
        events being delivered."""
        renewed = time.monotonic()
        while True:
            wake.clear()
            try:
                if not self._inbox_open:
                    await self._io(self._open)
                free = self._max_deliveries - self._in_flight
                if free > 0:
                    entries = await self._io(self._inbox.claim, self._owner, free, self._lease)
                    if len(entries) < free:
                        self._backlog = False
                    for entry in entries:
                        await self._schedule_stored(entry)
                if time.monotonic() - renewed >= self._lease / 3:
                    renewed = time.monotonic()
                    with self._lock:
                        ids = list(self._delivering)
                    if ids:
                        await self._io(self._inbox.renew, self._owner, ids, self._lease)
            except asyncio.CancelledError:
                raise
            except Exception:
                abuse_logger.exception("the notification inbox failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), min(self._poll_interval, self._lease / 3))

    async def _schedule_stored(self, entry: InboxEntry) -> None:
        """Deliver a claimed entry; one that cannot be made a notification again (a
        resolver that now raises) becomes a dead letter instead of coming back forever."""
        try:
            notification = self._rebuild(entry)
        except Exception as exc:
            logger.exception("stored notification %s cannot be rebuilt", entry.id)
            failed = replace(entry, error=_describe_failure(exc), failed_at=time.time())
            if await self._io(self._inbox.bury, failed, owner=self._owner):
                self._count("dead_lettered")
            return
        self._schedule(entry, notification)

    def _schedule(self, entry: InboxEntry, notification: Notification) -> None:
        loop = asyncio.get_running_loop()
        resource = _resource_id(notification)
        key = (loop, resource) if resource is not None else None
        previous = self._tails.get(key) if key is not None else None
        with self._lock:
            self._in_flight += 1
            self._delivering[entry.id] = self._delivering.get(entry.id, 0) + 1
        task = loop.create_task(self._deliver(entry, notification, previous))
        self._tasks.add(task)
        if key is not None:
            self._tails[key] = task

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if key is not None and self._tails.get(key) is t:
                del self._tails[key]
            with self._idle:
                self._in_flight -= 1
                left = self._delivering.pop(entry.id, 1) - 1
                if left:
                    self._delivering[entry.id] = left
                self._idle.notify_all()
            if self._backlog and self._wake is not None:
                self._wake.set()

        task.add_done_callback(done)

    async def _deliver(
        self,
        entry: InboxEntry,
        notification: Notification,
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        done = list(entry.done)
        failure: BaseException | None = None
        for key, handler in self._handlers_for(notification.event_type):
            if key in done:
                continue  # succeeded on an earlier attempt
            try:
                result = (
                    handler(notification)
                    if _is_async_callable(handler)
                    else await anyio.to_thread.run_sync(handler, notification)
                )
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._count("handler_errors")
                logger.exception(
                    "notification handler %r failed for %s %.200s (attempt %d of %d)",
                    handler,
                    notification.event_type,
                    notification.event_id,
                    notification.attempt,
                    self._max_attempts,
                )
                failure = failure or exc
            else:
                done.append(key)
        try:
            await self._settle(entry, notification, done, failure)
        except Exception:
            logger.exception(
                "the inbox failed to record the delivery of %s %.200s; it will be delivered again",
                notification.event_type,
                notification.event_id,
            )

    async def _settle(
        self,
        entry: InboxEntry,
        notification: Notification,
        done: list[str],
        failure: BaseException | None,
    ) -> None:
        if failure is None:
            await self._io(self._inbox.ack, entry.id)
            self._count("delivered")
            return
        failed = replace(
            entry, attempts=entry.attempts + 1, done=tuple(done), error=_describe_failure(failure)
        )
        if failed.attempts >= self._max_attempts:
            failed.failed_at = time.time()
            if not await self._io(self._inbox.bury, failed, owner=self._owner):
                self._lost_lease(notification)
                return
            self._count("dead_lettered")
            logger.error(
                "notification %s %.200s failed %d times and is now a dead letter (%s): %s",
                notification.event_type,
                notification.event_id,
                failed.attempts,
                entry.id,
                failed.error,
            )
            return
        delay = min(self._max_retry_delay, self._retry_delay * 2 ** (failed.attempts - 1))
        if not await self._io(self._inbox.release, failed, delay, owner=self._owner):
            self._lost_lease(notification)
            return
        self._count("retries")
        wake = self._wake
        if wake is not None:
            asyncio.get_running_loop().call_later(delay, wake.set)

    @staticmethod
    def _lost_lease(notification: Notification) -> None:
        # The lease ran out while the handlers ran (renewals failed or came too late) and
        # another listener claimed the event: its delivery settles it, not this one.
        logger.warning(
            "notification %s %.200s: its lease ran out during delivery and another listener"
            " claimed it; leaving the retry to that one",
            notification.event_type,
            notification.event_id,
        )


def subscription_callback(url: str, subscription: str | None = None) -> str:
    """`url` plus `/subscriptions/<id>` (a new opaque id when `subscription` is None)."""
    key = subscription if subscription is not None else secrets.token_urlsafe(9)
    if not _SUBSCRIPTION_ID.fullmatch(key):
        raise ValueError("a subscription id is 1 to 64 letters, digits, '-' or '_'")
    return f"{url.rstrip('/')}/{_SUBSCRIPTIONS}/{key}"


# -- helpers ------------------------------------------------------------------------------


def _full_path(scope: Scope) -> str:
    # Starlette-style mounts keep the full path and set root_path; older routers strip
    # the prefix from path. Either way report the path the seller used.
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        return root.rstrip("/") + path
    return path


def _log_path(scope: Scope) -> str:
    """The request path, safe to log: control characters escaped, length bounded."""
    return repr(_full_path(scope)[:200])


def _event_type_of(scope: Scope, path: str) -> str:
    """The event type in the last path segment, or a 404.

    Only MEF event-type names (letters and digits) are routed: a catch-all handler must
    never see `..`, a NUL, a backslash or a percent-encoded segment as an event type.
    """
    segments = path.rstrip("/").split("/")
    if len(segments) < 3 or segments[-2].casefold() != "listener" or not segments[-1]:
        raise _Reject(404, "notFound", "No notification listener at this path")
    event_type = segments[-1]
    raw = scope.get("raw_path")
    raw_last = raw.rstrip(b"/").rsplit(b"/", 1)[-1] if isinstance(raw, bytes) else None
    if not _EVENT_TYPE.fullmatch(event_type) or (
        raw_last is not None and raw_last != event_type.encode("ascii")
    ):
        raise _Reject(404, "notFound", "The last path segment is not an event type")
    return event_type


def _channel_of(path: str) -> str:
    """The callback path without its event-type segment."""
    return path.rstrip("/").rsplit("/", 1)[0]


def _subscription_of(path: str) -> str | None:
    if f"/{_SUBSCRIPTIONS}/" not in path:
        return None
    segments = path.split("/")
    for i, segment in enumerate(segments[:-3]):
        if segment == _SUBSCRIPTIONS and _SUBSCRIPTION_ID.fullmatch(segments[i + 1]):
            return segments[i + 1]
    return None


def _entry_for(notification: Notification, raw: bytes) -> InboxEntry:
    event_id = notification.event_id
    return InboxEntry(
        id=InboxEntry.new_id(),
        dedupe_key=None if event_id is None else f"{notification.channel}\n{event_id}",
        channel=notification.channel,
        subscription=notification.subscription,
        event_type=notification.event_type,
        event_id=event_id,
        path=notification.path,
        body=raw,
        headers=dict(notification.headers),
        received_at=notification.received_at.timestamp(),
    )


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        found[key] = f"{found[key]}, {text}" if key in found else text
    return found


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.casefold() != "bearer" or not token:
        return None
    return token


def _check_content_type(value: str | None) -> None:
    if value is None:
        return
    media = value.split(";", 1)[0].strip().lower()
    if media in ("", "application/json") or media.endswith("+json"):
        return
    raise _Reject(
        400,
        "invalidBody",
        f"Unsupported content type {media!r}; notifications must be application/json",
    )


def _is_async_callable(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - async __call__ on objects
    )


def _requires_event(model: type[BaseModel]) -> bool:
    field = model.model_fields.get("event")
    return field is None or field.is_required()


def _parse_model(
    model: type[BaseModel], raw: bytes, strict: bool
) -> tuple[BaseModel, list[dict[str, Any]]]:
    # The listener logs deviations itself, with the event's type and id.
    parsed: _parsing.Parsed[BaseModel] = _parsing.parse_json(
        model, raw, strict=strict, log_deviations=False
    )
    value: BaseModel = parsed.value
    return value, [dict(d) for d in parsed.deviations]


def _envelope_deviations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the required envelope fields when no model does it."""
    found: list[dict[str, Any]] = []
    if not isinstance(body.get("eventId"), str):
        found.append(
            {
                "loc": ["eventId"],
                "type": "missing" if "eventId" not in body else "string_type",
                "msg": "eventId should be a string",
                "input": body.get("eventId"),
            }
        )
    if _parse_datetime(body.get("eventTime")) is None:
        found.append(
            {
                "loc": ["eventTime"],
                "type": "missing" if "eventTime" not in body else "datetime_parsing",
                "msg": "eventTime should be an RFC 3339 date-time",
                "input": body.get("eventTime"),
            }
        )
    return found


def _parse_datetime(value: Any) -> datetime | None:
    global _datetime_adapter
    if not isinstance(value, str):
        return None
    if _datetime_adapter is None:
        _datetime_adapter = TypeAdapter(datetime)
    try:
        return _datetime_adapter.validate_python(value)
    except ValidationError:
        return None


def _resource_id(notification: Notification) -> str | None:
    event = notification.event
    ident = event.get("id") if isinstance(event, dict) else getattr(event, "id", None)
    return str(ident) if isinstance(ident, (str, int)) and ident != "" else None


def _describe(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:10]
        ]
        return "; ".join(parts)
    return str(exc)


async def _send_no_content(send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _send_error(send: Send, rej: _Reject) -> None:
    error: dict[str, str] = {"code": rej.code, "reason": rej.reason[:_REASON_MAX]}
    if rej.message:
        error["message"] = rej.message
    body = json.dumps(error).encode("utf-8")
    headers = [
        (b"content-type", _JSON_CONTENT_TYPE),
        (b"content-length", str(len(body)).encode("ascii")),
        *rej.headers,
    ]
    await send({"type": "http.response.start", "status": rej.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
