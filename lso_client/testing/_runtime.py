"""Clock, scheduler, hub storage and notification delivery shared by every API module.

All scripted work runs on the event loop that serves the seller (callbacks with
`loop.call_later`, one drain task per hub for deliveries), so there is no thread
per order. Methods called from other threads hand their work to that loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ._http import (
    ApiError,
    Request,
    Response,
    Route,
    Unprocessable,
    dump_json,
    json_response,
    unprocessable,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "UNBOUND_URL",
    "Delivery",
    "HubStore",
    "IdFactory",
    "Notifier",
    "Scheduler",
    "SellerContext",
    "format_time",
    "now_ms",
    "parse_event_types",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def now_ms(value: datetime) -> datetime:
    """`value` in UTC at the wire's millisecond precision, so that a date read from a
    resource and sent back as a filter bound compares equal to the stored one."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_time(value: datetime) -> str:
    """RFC 3339 with milliseconds and an explicit offset (generated models need the offset)."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds")


class IdFactory:
    """UUID4-shaped identifiers, reproducible when a seed is given."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        if self._rng is None:
            return str(uuid.uuid4())
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


class Scheduler:
    """Timed callbacks on the serving event loop, with a count of work still due.

    The loop is bound on the first request (or by `MockSeller.start`); callbacks
    scheduled before that wait in a backlog.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id: int | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._backlog: list[tuple[float, Callable[[], None]]] = []
        self._handles: set[asyncio.TimerHandle] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._loop is loop:
                return
            self._loop = loop
            self._thread_id = threading.get_ident()
            backlog, self._backlog = self._backlog, []
        for delay, fn in backlog:
            self._arm(delay, fn)

    def unbind(self) -> None:
        with self._lock:
            handles, self._handles = list(self._handles), set()
            self._pending -= len(handles)
            self._loop = None
            self._thread_id = None
        for handle in handles:
            handle.cancel()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            loop = self._loop
            if loop is None:
                self._backlog.append((delay, fn))
                return
            here = threading.get_ident() == self._thread_id
        if here:
            self._arm(delay, fn)
        else:
            loop.call_soon_threadsafe(self._arm, delay, fn)

    def _arm(self, delay: float, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:  # the seller stopped meanwhile: drop the work
            with self._lock:
                self._pending -= 1
            return
        handle: asyncio.TimerHandle | None = None

        def run() -> None:
            with self._lock:
                if handle not in self._handles:
                    return
                self._handles.discard(handle)
            try:
                fn()
            finally:
                with self._lock:
                    self._pending -= 1

        handle = loop.call_later(max(delay, 0.0), run)
        with self._lock:
            self._handles.add(handle)


def parse_event_types(query: str | None) -> frozenset[str] | None:
    """The event types a hub `query` selects; None means every event.

    Accepts `eventType=a,b`, `eventType=a&eventType=b`, spaces around `=` and `,`,
    and a bare `a` (seen in spec examples). Other attributes are not filtered on.
    """
    if query is None or not query.strip():
        return None
    types: set[str] = set()
    for term in query.split("&"):
        name, sep, value = term.partition("=")
        if not sep:
            name, value = "eventType", name
        if unquote(name).strip() != "eventType":
            continue
        types.update(v.strip() for v in unquote(value).split(",") if v.strip())
    return frozenset(types) if types else None


@dataclass
class Hub:
    id: str
    callback: str
    query: str | None
    event_types: frozenset[str] | None
    body: bytes = b""

    def as_dict(self) -> dict[str, str]:
        out = {"id": self.id, "callback": self.callback}
        if self.query is not None:
            out["query"] = self.query
        return out

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


class HubStore:
    """The `/hub` resource of one API: registration, lookup, deletion and matching."""

    def __init__(self, new_id: IdFactory, *, validation_status: int) -> None:
        self._new_id = new_id
        # Allegro answers a bad registration with 422; Legato v5 defines only 400.
        self._validation_status = validation_status
        self._hubs: dict[str, Hub] = {}
        self._lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [
            Route("POST", "hub", self._register),
            Route("GET", "hub/{id}", self._retrieve),
            Route("DELETE", "hub/{id}", self._delete),
        ]

    def all(self) -> list[dict[str, str]]:
        with self._lock:
            return [hub.as_dict() for hub in self._hubs.values()]

    def matching(self, event_type: str) -> list[Hub]:
        with self._lock:
            return [hub for hub in self._hubs.values() if hub.wants(event_type)]

    def clear(self) -> None:
        with self._lock:
            self._hubs.clear()

    def _invalid(self, code: str, reason: str, path: str) -> Exception:
        if self._validation_status == 422:
            return Unprocessable([unprocessable(code, reason, path)])
        return ApiError(400, "invalidBody", reason)

    def _register(self, request: Request, _: dict[str, str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "invalidBody", "The body must be a JSON object")
        callback = body.get("callback")
        if callback is None:
            raise self._invalid("missingProperty", "'callback' is required", "/callback")
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            raise self._invalid(
                "invalidValue", "'callback' must be an absolute http(s) URL", "/callback"
            )
        query = body.get("query")
        if query is not None and not isinstance(query, str):
            raise self._invalid("invalidValue", "'query' must be a string", "/query")
        hub = Hub(self._new_id(), callback, query, parse_event_types(query))
        hub.body = dump_json(hub.as_dict())
        with self._lock:
            self._hubs[hub.id] = hub
        return json_response(201, hub.body)

    def _lookup(self, hub_id: str) -> Hub:
        with self._lock:
            hub = self._hubs.get(hub_id)
        if hub is None:
            raise ApiError(404, "notFound", f"No hub with id {hub_id}")
        return hub

    def _retrieve(self, _: Request, params: dict[str, str]) -> Response:
        return json_response(200, self._lookup(params["id"]).body)

    def _delete(self, _: Request, params: dict[str, str]) -> Response:
        hub = self._lookup(params["id"])
        with self._lock:
            self._hubs.pop(hub.id, None)
        return Response(204)


@dataclass(frozen=True)
class Delivery:
    """One notification POST the seller attempted.

    `status_code` is None when no response arrived; `error` then says why.
    """

    hub_id: str
    url: str
    event_type: str
    event: dict[str, Any]
    status_code: int | None
    error: str | None = None
    sent_at: datetime = field(default_factory=utc_now)

    @property
    def ok(self) -> bool:
        """Whether the listener answered with a 2xx status."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Outbox:
    queue: deque[tuple[Hub, str, str, bytes]] = field(default_factory=deque)
    draining: bool = False


class Notifier:
    """POSTs events to matching hubs: once each, in order per hub, every attempt logged."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        enabled: bool,
        token: str | None,
        timeout: float,
    ) -> None:
        self.enabled = enabled
        self._scheduler = scheduler
        self._token = token
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._outboxes: dict[str, _Outbox] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._log: list[Delivery] = []
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    @property
    def log(self) -> list[Delivery]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def publish(
        self, hubs: HubStore, notification_base: str, events: Iterable[dict[str, Any]]
    ) -> None:
        """Queue `events` for every hub whose query matches; must run on the serving loop."""
        if not self.enabled:
            return
        for event in events:
            event_type = event["eventType"]
            body = dump_json(event)
            for hub in hubs.matching(event_type):
                url = f"{hub.callback.rstrip('/')}{notification_base}listener/{event_type}"
                with self._lock:
                    self._pending += 1
                    outbox = self._outboxes.setdefault(hub.id, _Outbox())
                    outbox.queue.append((hub, url, event_type, body))
                    start = not outbox.draining
                    outbox.draining = True
                if start:
                    task = asyncio.get_running_loop().create_task(self._drain(outbox))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _drain(self, outbox: _Outbox) -> None:
        while True:
            with self._lock:
                if not outbox.queue:
                    outbox.draining = False
                    return
                hub, url, event_type, body = outbox.queue.popleft()
            try:
                await self._post(hub, url, event_type, body)
            finally:
                with self._lock:
                    self._pending -= 1

    async def _post(self, hub: Hub, url: str, event_type: str, body: bytes) -> None:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        headers = {"content-type": "application/json;charset=utf-8"}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        record = Delivery(hub.id, url, event_type, json.loads(body), status, error)
        with self._lock:
            self._log.append(record)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with self._lock:
            dropped = sum(len(o.queue) for o in self._outboxes.values())
            self._pending = max(self._pending - dropped, 0)
            self._outboxes.clear()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


# The base of hrefs made before the seller serves; `MockSeller.start` moves them.
UNBOUND_URL = "http://localhost"


@dataclass
class SellerContext:
    """What every API module shares: time, scheduling, ids, delivery and settings."""

    scheduler: Scheduler
    notifier: Notifier
    new_id: IdFactory
    step_delay: float
    max_page_size: int
    clock: Callable[[], datetime] = utc_now
    # The seller's own base URL once it serves, for absolute `href`s.
    public_url: str | None = None
    # The PM stream on a real Kafka broker (`StreamPublisher`), when the seller has one.
    streams: Any = None

    def now(self) -> datetime:
        return now_ms(self.clock())

    def href(self, path: str, origin: str | None = None) -> str:
        """An absolute href for `path` (which starts with `/`): on `origin` (the URL the
        buyer called) when given, else on the seller's own URL."""
        base = origin or self.public_url or UNBOUND_URL
        return f"{base.rstrip('/')}{path}"
