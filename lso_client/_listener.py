"""The buyer-side notification listener: an ASGI app that receives seller callbacks.

Sellers POST `<callback><notification API base path>/listener/<eventType>`. Sellers and
the specs disagree on the prefix, so the listener routes on the last path segment and
passes the whole path to the resolver only as a hint for which API and version the
event belongs to.

Delivery model:

* The seller gets its 204 as soon as the notification is authenticated, parsed and
  de-duplicated; handlers then run as tracked background tasks on the server's event
  loop (sellers time out and retry, which would only produce duplicates).
* Notifications about the same resource (`event.id`) are delivered in arrival order;
  notifications about different resources are delivered concurrently. The handlers of
  one notification run one after the other, in registration order.
* Async handlers are awaited on the server loop; sync handlers run in a worker thread.
  A raising handler is logged and counted and never affects other handlers.
* `stop()` (and `join()`) wait for in-flight deliveries, with a timeout.

The listener runs on asyncio (uvicorn, or any asyncio-based ASGI server).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType, TracebackType
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from pydantic import BaseModel, TypeAdapter, ValidationError

from . import _parsing
from ._events import CatalogResolver
from ._server import BackgroundServer

__all__ = [
    "Authenticator",
    "EventResolver",
    "Handler",
    "ListenerStats",
    "Notification",
    "NotificationListener",
]

logger = logging.getLogger("lso_client.listener")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class EventResolver(Protocol):
    """Maps a callback path and event type to the model of the whole notification."""

    def resolve(self, path: str, event_type: str) -> type[BaseModel] | None: ...


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
    """

    event_type: str
    event_id: str | None
    event_time: datetime | None
    payload: BaseModel | dict[str, Any]
    path: str
    headers: Mapping[str, str]
    received_at: datetime
    deviations: list[dict[str, Any]]

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
    """Counters since the listener was created.

    `received` counts every HTTP request; each ends up `rejected` (any non-204
    answer), a `duplicate`, or `delivered` once all its handlers have run.
    `handler_errors` counts handler calls that raised.
    """

    received: int = 0
    delivered: int = 0
    duplicates: int = 0
    rejected: int = 0
    handler_errors: int = 0


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

    `dedupe_window`: how many recent `eventId`s are remembered; a repeat gets 204 and
    is not delivered again. `0` turns de-duplication off.

    Answers, checked in this order: 404 `notFound` unless the path ends in
    `/listener/<eventType>`; 405 unless POST; 401 `missingCredentials` /
    `invalidCredentials`; 400 `invalidBody` for a non-JSON content type; 413
    `payloadTooLarge` over `max_body_bytes`; 400 `invalidBody` for a body that is empty,
    not a JSON object, lacks `eventType` or `event`, or fails the model; 500
    `internalError` when the authenticator or resolver raises; otherwise 204. Error
    bodies are MEF `Error` objects (`code`, `reason`, optional `message`).
    """

    def __init__(
        self,
        *,
        resolver: EventResolver | None = None,
        reference_point: str | None = None,
        authenticate: Authenticator | str | None = None,
        strict: bool = False,
        accept_unknown_events: bool = True,
        dedupe_window: int = 10_000,
        max_body_bytes: int = 5_000_000,
    ) -> None:
        if dedupe_window < 0:
            raise ValueError("dedupe_window must be >= 0")
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be > 0")
        if isinstance(authenticate, str) and not authenticate:
            raise ValueError("the expected bearer token must not be empty")
        # By default events parse into the generated models of the API that sent them.
        self._resolver = resolver if resolver is not None else CatalogResolver(reference_point)
        self._authenticate = authenticate
        self._strict = strict
        self._accept_unknown = accept_unknown_events
        self._dedupe_window = dedupe_window
        self._max_body = max_body_bytes

        self._lock = threading.Lock()
        # A list, not a dict: handlers need not be hashable (dataclass instances).
        self._handlers: list[_Entry] = []
        self._taps: list[Tap] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._counts = {
            "received": 0,
            "delivered": 0,
            "duplicates": 0,
            "rejected": 0,
            "handler_errors": 0,
        }
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        # Strong references to running deliveries (the loop keeps only weak ones), and
        # the last delivery per (loop, resource id) to keep per-resource order.
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[None]] = {}
        self._server: BackgroundServer | None = None

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
            self._handlers.append(_Entry(handler, wanted))

    def remove_handler(self, handler: Handler) -> None:
        """Unregister `handler` for every event type; unknown handlers are ignored."""
        with self._lock:
            self._handlers = [e for e in self._handlers if e.handler != handler]

    def add_tap(self, fn: Tap) -> None:
        """Call `fn` on the server thread for each accepted, non-duplicate notification,
        before the 204 is sent and before any handler runs. `fn` must be quick."""
        with self._lock:
            self._taps.append(fn)

    def remove_tap(self, fn: Tap) -> None:
        with self._lock:
            if fn in self._taps:
                self._taps.remove(fn)

    def _handlers_for(self, event_type: str) -> list[Handler]:
        key = event_type.casefold()
        with self._lock:
            return [
                e.handler for e in self._handlers if e.event_types is None or key in e.event_types
            ]

    # -- statistics and lifecycle -----------------------------------------------------

    @property
    def stats(self) -> ListenerStats:
        with self._lock:
            return ListenerStats(**self._counts)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def join(self, timeout: float | None = None) -> bool:
        """Wait until no delivery is in flight; returns False on timeout.

        Call it from a thread other than the server's (it blocks).
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> NotificationListener:
        """Serve the listener from a background thread (scripts, notebooks, tests)."""
        if self._server is not None and self._server.running:
            return self
        self._server = BackgroundServer(self, host=host, port=port).start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Wait up to `timeout` seconds for in-flight deliveries, then stop the server."""
        server = self._server
        if server is None:
            return
        if not self.join(timeout):
            logger.warning("stopping the listener with notification handlers still running")
        server.stop()
        self._server = None

    @property
    def url(self) -> str:
        """Base URL of the running server: the value to register as hub `callback`."""
        if self._server is None or not self._server.running:
            raise RuntimeError("the listener is not running; call start() first")
        return self._server.url

    def __enter__(self) -> NotificationListener:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
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
            log = logger.warning if rej.status == 401 else logger.info
            log("rejected notification %s: %s %s", _full_path(scope), rej.status, rej.reason)
            await _send_error(send, rej)
        except Exception:
            self._count("rejected")
            logger.exception("failed to process notification %s", _full_path(scope))
            await _send_error(send, _Reject(500, "internalError", "Internal server error"))

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _full_path(scope)
        segments = path.rstrip("/").split("/")
        if len(segments) < 3 or segments[-2].casefold() != "listener" or not segments[-1]:
            raise _Reject(404, "notFound", "No notification listener at this path")
        event_type = segments[-1]
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
        raw = await self._read_body(receive)

        notification = await self._parse(path, event_type, raw, headers)
        if notification.event_id is not None and self._is_duplicate(notification.event_id):
            self._count("duplicates")
            logger.info("duplicate notification %s ignored", notification.event_id)
            await _send_no_content(send)
            return
        if notification.deviations:
            logger.warning(
                "notification %s %s deviates from the spec: %s",
                event_type,
                notification.event_id,
                notification.deviations,
            )
        for tap in self._snapshot_taps():
            try:
                tap(notification)
            except Exception:
                logger.exception("notification tap %r failed", tap)
        self._schedule(notification)
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
        self, path: str, event_type: str, raw: bytes, headers: Mapping[str, str]
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
            received_at=datetime.now(timezone.utc),
            deviations=deviations,
        )

    def _is_duplicate(self, event_id: str) -> bool:
        if self._dedupe_window == 0:
            return False
        with self._lock:
            if event_id in self._seen:
                self._seen.move_to_end(event_id)
                return True
            self._seen[event_id] = None
            if len(self._seen) > self._dedupe_window:
                self._seen.popitem(last=False)
            return False

    def _snapshot_taps(self) -> list[Tap]:
        with self._lock:
            return list(self._taps)

    # -- delivery ---------------------------------------------------------------------

    def _schedule(self, notification: Notification) -> None:
        handlers = self._handlers_for(notification.event_type)
        loop = asyncio.get_running_loop()
        resource = _resource_id(notification)
        key = (loop, resource) if resource is not None else None
        previous = self._tails.get(key) if key is not None else None
        with self._lock:
            self._in_flight += 1
        task = loop.create_task(self._deliver(notification, handlers, previous))
        self._tasks.add(task)
        if key is not None:
            self._tails[key] = task

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if key is not None and self._tails.get(key) is t:
                del self._tails[key]
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

        task.add_done_callback(done)

    async def _deliver(
        self,
        notification: Notification,
        handlers: list[Handler],
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        for handler in handlers:
            try:
                result = (
                    handler(notification)
                    if _is_async_callable(handler)
                    else await anyio.to_thread.run_sync(handler, notification)
                )
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._count("handler_errors")
                logger.exception(
                    "notification handler %r failed for %s %s",
                    handler,
                    notification.event_type,
                    notification.event_id,
                )
        self._count("delivered")


# -- helpers ------------------------------------------------------------------------------


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _full_path(scope: Scope) -> str:
    # Starlette-style mounts keep the full path and set root_path; older routers strip
    # the prefix from path. Either way report the path the seller used.
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        return root.rstrip("/") + path
    return path


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
