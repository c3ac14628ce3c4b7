"""The notification listener, served over real HTTP by `BackgroundServer` and hit with httpx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from lso_client._model import MefModel
from lso_client.notifications import BackgroundServer, Notification, NotificationListener
from lso_client.notifications._listener import abuse_logger
from lso_client.notifications._server import _RateLimit

BASE = "/hooks/mefApi/allegro/serviceOrderingNotification/v1/listener"
STATE_CHANGE = "serviceOrderStateChangeEvent"
CREATE = "serviceOrderCreateEvent"


class OrderEventPayload(MefModel):
    id: str
    href: str | None = None
    state: str | None = None


class OrderEvent(MefModel):
    event_id: str = Field(alias="eventId")
    event_time: datetime = Field(alias="eventTime")
    event_type: str = Field(alias="eventType")
    event: OrderEventPayload


class Resolver:
    """Knows the order events; records what it was asked."""

    def __init__(self, *types_: str) -> None:
        self.known = set(types_ or (STATE_CHANGE, CREATE))
        self.calls: list[tuple[str, str]] = []

    def resolve(self, path: str, event_type: str) -> type[BaseModel] | None:
        self.calls.append((path, event_type))
        return OrderEvent if event_type in self.known else None


def envelope(
    event_type: str = STATE_CHANGE,
    *,
    event_id: str | None = None,
    resource: str = "so-1",
    state: str = "inProgress",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "eventId": event_id or str(uuid.uuid4()),
        "eventTime": "2026-03-01T10:15:30.123Z",
        "eventType": event_type,
        "event": {"id": resource, "href": f"/serviceOrder/{resource}", "state": state},
        **extra,
    }


@dataclass
class Recorder:
    """A sync handler that records what it got and on which thread."""

    seen: list[Notification] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, n: Notification) -> None:
        with self.lock:
            self.seen.append(n)
            self.threads.append(threading.current_thread().name)

    @property
    def ids(self) -> list[str | None]:
        with self.lock:
            return [n.event_id for n in self.seen]


@pytest.fixture
def serve() -> Iterator[Callable[..., NotificationListener]]:
    started: list[NotificationListener] = []

    def make(**kwargs: Any) -> NotificationListener:
        kwargs.setdefault("resolver", Resolver())
        kwargs.setdefault("inbox", "memory")
        listener = NotificationListener(**kwargs).start()
        started.append(listener)
        return listener

    yield make
    for listener in started:
        listener.stop(timeout=5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def post(
    client: httpx.Client,
    listener: NotificationListener,
    body: Any,
    *,
    event_type: str = STATE_CHANGE,
    base: str = BASE,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    url = f"{listener.url}{base}/{event_type}"
    if isinstance(body, (bytes, str)):
        return client.post(url, content=body, headers=headers or {})
    return client.post(url, json=body, headers=headers or {})


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json;charset=utf-8"
    error: dict[str, Any] = resp.json()
    assert error["code"] == code
    assert isinstance(error["reason"], str) and 0 < len(error["reason"]) <= 255
    return error


# -- happy path -----------------------------------------------------------------------------


def test_delivers_parsed_notification_to_sync_and_async_handlers(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    resolver = Resolver()
    listener = serve(resolver=resolver)
    sync_handler = Recorder()
    async_seen: list[tuple[Notification, str]] = []

    listener.add_handler(sync_handler, STATE_CHANGE)

    @listener.on(STATE_CHANGE)
    async def async_handler(n: Notification) -> None:
        await asyncio.sleep(0)
        async_seen.append((n, threading.current_thread().name))

    body = envelope(event_id="ev-1", state="completed")
    resp = post(
        client,
        listener,
        body,
        headers={"X-Seller": "acme", "Content-Type": "application/json;charset=utf-8"},
    )
    assert resp.status_code == 204
    assert resp.content == b""
    assert listener.join(timeout=5)

    assert len(sync_handler.seen) == 1 and len(async_seen) == 1
    n = sync_handler.seen[0]
    assert async_seen[0][0] is n
    assert n.event_type == STATE_CHANGE
    assert n.event_id == "ev-1"
    assert n.event_time == datetime(2026, 3, 1, 10, 15, 30, 123000, tzinfo=timezone.utc)
    assert isinstance(n.payload, OrderEvent)
    assert n.event.state == "completed"
    assert n.event.id == "so-1"
    assert n.path == f"{BASE}/{STATE_CHANGE}"
    assert n.headers["x-seller"] == "acme"
    assert n.deviations == []
    assert n.received_at.tzinfo is not None
    assert resolver.calls == [(f"{BASE}/{STATE_CHANGE}", STATE_CHANGE)]
    # Sync handlers leave the server loop free; async ones run on it.
    assert sync_handler.threads[0] != async_seen[0][1]
    stats = listener.stats
    assert (stats.received, stats.delivered, stats.rejected) == (1, 1, 0)


def test_routes_by_event_type_and_catch_all(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    order_events = Recorder()
    everything = Recorder()
    listener.on(STATE_CHANGE, CREATE)(order_events)
    listener.on()(everything)
    # Registering again for another type must not call the handler twice.
    listener.add_handler(everything, STATE_CHANGE)

    for event_type in (STATE_CHANGE, CREATE, "serviceOrderItemStateChangeEvent"):
        body = envelope(event_type, event_id=event_type)
        assert post(client, listener, body, event_type=event_type).status_code == 204
    assert listener.join(timeout=5)

    assert sorted(map(str, order_events.ids)) == sorted([STATE_CHANGE, CREATE])
    assert sorted(map(str, everything.ids)) == sorted(
        [STATE_CHANGE, CREATE, "serviceOrderItemStateChangeEvent"]
    )


def test_event_types_match_case_insensitively(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(resolver=None)
    rec = Recorder()
    listener.add_handler(rec, "ServiceCreateEvent")
    body = envelope("serviceCreateEvent", event_id="inv-1")
    assert post(client, listener, body, event_type="serviceCreateEvent").status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["inv-1"]
    assert rec.seen[0].event_type == "serviceCreateEvent"


@pytest.mark.parametrize(
    "base",
    [
        "/listener",
        BASE,
        "/listenerEndpoint/mefApi/allegro/serviceOrderingManagement/v1/listener",
        "/a/b/mefApi/legato/serviceOrderingNotification/v6/listener",
    ],
)
def test_routes_on_last_segment_whatever_the_prefix(
    serve: Callable[..., NotificationListener], client: httpx.Client, base: str
) -> None:
    resolver = Resolver()
    listener = serve(resolver=resolver)
    rec = Recorder()
    listener.add_handler(rec, STATE_CHANGE)
    assert post(client, listener, envelope(), base=base).status_code == 204
    assert listener.join(timeout=5)
    assert len(rec.seen) == 1
    assert rec.seen[0].path == f"{base}/{STATE_CHANGE}"
    assert isinstance(rec.seen[0].payload, OrderEvent)
    assert resolver.calls == [(f"{base}/{STATE_CHANGE}", STATE_CHANGE)]


def test_trailing_slash_is_tolerated(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    resp = client.post(f"{listener.url}{BASE}/{STATE_CHANGE}/", json=envelope())
    assert resp.status_code == 204
    assert listener.join(timeout=5)
    assert [n.event_type for n in rec.seen] == [STATE_CHANGE]


# -- authentication -------------------------------------------------------------------------


def test_static_bearer_token(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(authenticate="s3cret")
    rec = Recorder()
    listener.add_handler(rec)

    missing = post(client, listener, envelope())
    assert_error(missing, 401, "missingCredentials")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    basic = post(client, listener, envelope(), headers={"Authorization": "Basic czNjcmV0"})
    assert_error(basic, 401, "missingCredentials")
    wrong = post(client, listener, envelope(), headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "invalidCredentials")
    assert "invalid_token" in wrong.headers["www-authenticate"]

    ok = post(client, listener, envelope(event_id="ok"), headers={"Authorization": "bearer s3cret"})
    assert ok.status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["ok"]
    # The token is not handed to handlers (they may log headers).
    assert "authorization" not in rec.seen[0].headers
    assert listener.stats.rejected == 3


def test_sync_callable_authenticator_gets_token_or_none(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    seen: list[str | None] = []

    def check(token: str | None) -> bool:
        seen.append(token)
        return token == "good"

    listener = serve(authenticate=check)
    assert_error(post(client, listener, envelope()), 401, "missingCredentials")
    bad = post(client, listener, envelope(), headers={"Authorization": "Bearer bad"})
    assert_error(bad, 401, "invalidCredentials")
    good = post(client, listener, envelope(), headers={"Authorization": "Bearer good"})
    assert good.status_code == 204
    assert seen == [None, "bad", "good"]


def test_async_callable_authenticator(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    async def check(token: str | None) -> bool:
        await asyncio.sleep(0)
        return token is not None and token.startswith("seller-")

    listener = serve(authenticate=check)
    assert_error(post(client, listener, envelope()), 401, "missingCredentials")
    bad = post(client, listener, envelope(), headers={"Authorization": "Bearer other"})
    assert_error(bad, 401, "invalidCredentials")
    good = post(client, listener, envelope(), headers={"Authorization": "Bearer seller-1"})
    assert good.status_code == 204


def test_authenticator_may_accept_anonymous_callers(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(authenticate=lambda token: token is None or token == "t")
    assert post(client, listener, envelope()).status_code == 204
    bad = post(client, listener, envelope(), headers={"Authorization": "Bearer x"})
    assert_error(bad, 401, "invalidCredentials")


def test_failing_authenticator_gives_500(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    def check(token: str | None) -> bool:
        raise RuntimeError("introspection endpoint down")

    listener = serve(authenticate=check)
    assert_error(post(client, listener, envelope()), 500, "internalError")
    # The server keeps serving.
    assert_error(post(client, listener, envelope()), 500, "internalError")


# -- bad requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"eventId": "x", ', "not valid JSON"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (
            b'{"eventId": "1", "eventTime": "2026-01-01T00:00:00Z", "event": {"id": "a"}}',
            "eventType",
        ),
        (b'{"eventId": "1", "eventType": "serviceOrderStateChangeEvent"}', "event"),
        (b'{"eventType": "serviceOrderStateChangeEvent", "event": [1]}', "not a JSON object"),
    ],
)
def test_unreadable_bodies_are_400_invalid_body(
    serve: Callable[..., NotificationListener], client: httpx.Client, body: bytes, needle: str
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    resp = post(client, listener, body, headers={"Content-Type": "application/json"})
    error = assert_error(resp, 400, "invalidBody")
    assert needle in error["reason"]
    assert listener.join(timeout=5)
    assert rec.seen == []
    assert listener.stats.rejected == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_non_json_content_type_is_400(
    serve: Callable[..., NotificationListener], client: httpx.Client, content_type: str
) -> None:
    listener = serve()
    resp = post(client, listener, json.dumps(envelope()), headers={"Content-Type": content_type})
    error = assert_error(resp, 400, "invalidBody")
    assert "content type" in error["reason"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json;charset=utf-8",
        "Application/JSON; charset=UTF-8",
        "application/merge-patch+json",
        None,
    ],
)
def test_json_like_or_missing_content_type_is_accepted(
    serve: Callable[..., NotificationListener], client: httpx.Client, content_type: str | None
) -> None:
    listener = serve()
    raw = json.dumps(envelope()).encode()
    request = client.build_request("POST", f"{listener.url}{BASE}/{STATE_CHANGE}", content=raw)
    if content_type is None:
        assert "content-type" not in request.headers
    else:
        request.headers["Content-Type"] = content_type
    assert client.send(request).status_code == 204


def test_strict_mode_rejects_spec_violations(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(strict=True)
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope()
    del body["event"]["id"]  # required by the payload schema
    error = assert_error(post(client, listener, body), 400, "invalidBody")
    assert "event.id" in error["message"]

    mismatch = envelope(CREATE)
    error = assert_error(post(client, listener, mismatch), 400, "invalidBody")
    assert "differs" in error["reason"]
    assert listener.join(timeout=5)
    assert rec.seen == []


def test_body_event_type_differing_from_path_is_accepted_with_deviation(
    serve: Callable[..., NotificationListener],
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener = serve(resolver=None)
    rec = Recorder()
    listener.add_handler(rec, STATE_CHANGE)
    for limiter in abuse_logger.filters:  # earlier tests' lines count against the burst
        if isinstance(limiter, _RateLimit):
            limiter.reset()
    with caplog.at_level(logging.WARNING, logger="lso_client.listener"):
        resp = post(client, listener, envelope("ServiceOrderStateChangeNotification"))
        assert resp.status_code == 204
        assert listener.join(timeout=5)
    assert len(rec.seen) == 1
    n = rec.seen[0]
    assert n.event_type == STATE_CHANGE  # the path wins
    assert [d["loc"] for d in n.deviations] == [["eventType"]]
    assert n.deviations[0]["input"] == "ServiceOrderStateChangeNotification"
    assert any("deviates from the spec" in r.getMessage() for r in caplog.records)


def test_unknown_event_type_delivered_as_dict_when_allowed(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope("serviceOrderBrandNewEvent", event_id="u-1", vendorField={"a": 1})
    assert post(client, listener, body, event_type="serviceOrderBrandNewEvent").status_code == 204
    assert listener.join(timeout=5)
    n = rec.seen[0]
    assert n.payload == body
    assert n.event == body["event"]
    assert n.event_id == "u-1"
    assert n.event_time is not None
    assert n.deviations == []


def test_unknown_event_envelope_problems_become_deviations(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(resolver=None)
    rec = Recorder()
    listener.add_handler(rec)
    body = {"eventType": "x", "eventTime": "yesterday", "event": {"id": "1"}}
    assert post(client, listener, body, event_type="x").status_code == 204
    assert listener.join(timeout=5)
    n = rec.seen[0]
    assert n.event_id is None and n.event_time is None
    assert [d["loc"] for d in n.deviations] == [["eventId"], ["eventTime"]]


def test_unknown_event_type_rejected_when_not_allowed(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(accept_unknown_events=False)
    rec = Recorder()
    listener.add_handler(rec)
    resp = post(client, listener, envelope("otherEvent"), event_type="otherEvent")
    error = assert_error(resp, 400, "invalidBody")
    assert "otherEvent" in error["reason"]
    assert post(client, listener, envelope(event_id="k")).status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["k"]


def test_unknown_fields_are_kept_in_the_payload(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope(sellerTraceId="t-42")
    body["event"]["sellerNote"] = {"lines": ["a", "b"]}
    assert post(client, listener, body).status_code == 204
    assert listener.join(timeout=5)
    payload = rec.seen[0].payload
    assert isinstance(payload, OrderEvent)
    assert payload.model_extra == {"sellerTraceId": "t-42"}
    assert payload.event.model_extra == {"sellerNote": {"lines": ["a", "b"]}}
    dumped = payload.to_dict()
    assert dumped["sellerTraceId"] == "t-42"
    assert dumped["event"]["sellerNote"] == {"lines": ["a", "b"]}


# -- duplicates -----------------------------------------------------------------------------


def test_duplicates_are_acknowledged_but_delivered_once(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope(event_id="dup-1")
    assert post(client, listener, body).status_code == 204
    assert post(client, listener, body).status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["dup-1"]
    stats = listener.stats
    assert (stats.received, stats.delivered, stats.duplicates) == (2, 1, 1)


def test_dedupe_window_forgets_old_ids(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(dedupe_window=2)
    rec = Recorder()
    listener.add_handler(rec)
    for event_id in ("a", "b", "c", "a", "c"):
        assert post(client, listener, envelope(event_id=event_id)).status_code == 204
        assert listener.join(timeout=5)
    assert rec.ids == ["a", "b", "c", "a"]


def test_dedupe_can_be_turned_off(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(dedupe_window=0)
    rec = Recorder()
    listener.add_handler(rec)
    for _ in range(3):
        assert post(client, listener, envelope(event_id="same")).status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["same"] * 3


def test_concurrent_duplicates_are_delivered_once(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope(event_id="race")
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        with httpx.Client(timeout=10) as c:
            barrier.wait(timeout=30)
            statuses.append(post(c, listener, body).status_code)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert listener.join(timeout=5)
    assert statuses == [204] * 20
    assert rec.ids == ["race"]
    assert listener.stats.duplicates == 19


# -- handlers -------------------------------------------------------------------------------


def test_failing_handler_is_logged_and_does_not_break_anything(
    serve: Callable[..., NotificationListener],
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One attempt: the failures make dead letters at once (retries are tested apart).
    listener = serve(max_attempts=1)
    after = Recorder()

    @listener.on()
    def broken(n: Notification) -> None:
        raise RuntimeError("handler bug")

    @listener.on()
    async def broken_async(n: Notification) -> None:
        raise ValueError("async handler bug")

    listener.add_handler(after)
    with caplog.at_level(logging.ERROR, logger="lso_client.listener"):
        assert post(client, listener, envelope(event_id="1")).status_code == 204
        assert post(client, listener, envelope(event_id="2")).status_code == 204
        assert listener.join(timeout=5)
    assert after.ids == ["1", "2"]
    stats = listener.stats
    assert stats.handler_errors == 4
    # Not every handler succeeded: the events are dead letters, not delivered.
    assert (stats.delivered, stats.dead_lettered) == (0, 2)
    assert sorted(str(d.notification.event_id) for d in listener.dead_letters()) == ["1", "2"]
    failures = [r for r in caplog.records if r.exc_info is not None]
    assert {type(r.exc_info[1]) for r in failures if r.exc_info} == {RuntimeError, ValueError}


def test_responds_before_handlers_finish_and_stop_waits_for_them(
    client: httpx.Client,
) -> None:
    release = threading.Event()
    finished: list[str] = []

    def slow(n: Notification) -> None:
        release.wait(5)
        finished.append(str(n.event_id))

    listener = NotificationListener(inbox="memory").start()
    try:
        listener.add_handler(slow)
        started = time.monotonic()
        assert post(client, listener, envelope(event_id="slow")).status_code == 204
        assert time.monotonic() - started < 2
        assert finished == []
        assert listener.join(timeout=0.2) is False
        threading.Timer(0.3, release.set).start()
    finally:
        listener.stop(timeout=5)
    assert finished == ["slow"]
    with pytest.raises(RuntimeError):
        _ = listener.url


def test_same_resource_delivered_in_order_other_resources_concurrently(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    order: list[str] = []
    other_done = asyncio.Event()

    @listener.on()
    async def handler(n: Notification) -> None:
        if n.event.state == "acknowledged":
            # Held until B is handled (which needs B to run concurrently), not for a
            # time a loaded machine might need just to send the next two events.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(other_done.wait(), 5)
        order.append(f"{n.event.id}:{n.event.state}")
        if n.event.id == "B":
            other_done.set()

    assert post(client, listener, envelope(resource="A", state="acknowledged")).status_code == 204
    assert post(client, listener, envelope(resource="A", state="completed")).status_code == 204
    assert post(client, listener, envelope(resource="B", state="completed")).status_code == 204
    assert listener.join(timeout=5)
    assert order == ["B:completed", "A:acknowledged", "A:completed"]


def test_handlers_can_be_added_and_removed_while_running(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    first, second = Recorder(), Recorder()
    listener.add_handler(first)
    assert post(client, listener, envelope(event_id="1")).status_code == 204
    assert listener.join(timeout=5)
    listener.add_handler(second, STATE_CHANGE)
    listener.remove_handler(first)
    listener.remove_handler(first)  # removing twice is harmless
    assert post(client, listener, envelope(event_id="2")).status_code == 204
    assert listener.join(timeout=5)
    assert first.ids == ["1"]
    assert second.ids == ["2"]


def test_taps_see_accepted_events_before_handlers_and_not_duplicates(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve()
    log: list[str] = []
    tap_threads: list[str] = []

    def tap(n: Notification) -> None:
        log.append(f"tap:{n.event_id}")
        tap_threads.append(threading.current_thread().name)

    def broken_tap(n: Notification) -> None:
        raise RuntimeError("tap bug")

    @listener.on()
    async def handler(n: Notification) -> None:
        log.append(f"handler:{n.event_id}")

    listener.add_tap(broken_tap)
    listener.add_tap(tap)
    assert post(client, listener, envelope(event_id="1")).status_code == 204
    assert post(client, listener, envelope(event_id="1")).status_code == 204
    assert post(client, listener, {"bad": True}).status_code == 400
    assert listener.join(timeout=5)
    listener.remove_tap(tap)
    assert post(client, listener, envelope(event_id="2")).status_code == 204
    assert listener.join(timeout=5)
    assert log == ["tap:1", "handler:1", "handler:2"]
    assert tap_threads[0].startswith("lso-client-server")


# -- HTTP surface ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/foo", "/listener", "/listener/", f"{BASE}/{STATE_CHANGE}/extra", "/x/listen/y"]
)
def test_other_paths_are_404(
    serve: Callable[..., NotificationListener], client: httpx.Client, path: str
) -> None:
    listener = serve()
    resp = client.post(f"{listener.url}{path}", json=envelope())
    assert_error(resp, 404, "notFound")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(
    serve: Callable[..., NotificationListener], client: httpx.Client, method: str
) -> None:
    listener = serve()
    resp = client.request(method, f"{listener.url}{BASE}/{STATE_CHANGE}")
    assert_error(resp, 405, "methodNotAllowed")
    assert resp.headers["allow"] == "POST"


def test_oversized_bodies_are_413(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    listener = serve(max_body_bytes=1_000)
    rec = Recorder()
    listener.add_handler(rec)
    big = envelope(padding="x" * 2_000)
    assert_error(post(client, listener, big), 413, "payloadTooLarge")

    # Without Content-Length (chunked), the limit is enforced while reading.
    raw = json.dumps(big).encode()
    chunks = iter([raw[i : i + 300] for i in range(0, len(raw), 300)])
    resp = client.post(
        f"{listener.url}{BASE}/{STATE_CHANGE}",
        content=chunks,
        headers={"Content-Type": "application/json"},
    )
    assert_error(resp, 413, "payloadTooLarge")

    small = envelope(event_id="small")
    raw_small = json.dumps(small).encode()
    assert len(raw_small) <= 1_000
    assert post(client, listener, small).status_code == 204
    assert listener.join(timeout=5)
    assert rec.ids == ["small"]


def test_mounted_inside_another_asgi_app(client: httpx.Client) -> None:
    listener = NotificationListener(resolver=Resolver(), inbox="memory")
    rec = Recorder()
    listener.add_handler(rec)

    async def router(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Starlette-style mount: keep the full path, extend root_path.
        if scope["type"] == "http" and scope["path"].startswith("/hooks/"):
            await listener(
                dict(scope, root_path=scope.get("root_path", "") + "/hooks"), receive, send
            )
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    with BackgroundServer(router) as server:
        assert client.get(f"{server.url}/health").text == "app"
        resp = client.post(f"{server.url}{BASE}/{STATE_CHANGE}", json=envelope(event_id="m"))
        assert resp.status_code == 204
        assert listener.join(timeout=5)
    assert rec.ids == ["m"]
    assert rec.seen[0].path == f"{BASE}/{STATE_CHANGE}"


async def test_prefix_stripping_mount_reports_the_full_path() -> None:
    listener = NotificationListener(resolver=Resolver(), inbox="memory")
    got: list[Notification] = []
    listener.add_handler(got.append)
    body = json.dumps(envelope()).encode()
    sent: list[MutableMapping[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/mefApi/allegro/serviceOrderingNotification/v1/listener/{STATE_CHANGE}",
        "root_path": "/hooks",
        "headers": [(b"content-type", b"application/json")],
    }
    await listener(scope, receive, send)
    assert sent[0]["status"] == 204
    while listener.stats.delivered == 0:
        await asyncio.sleep(0.01)
    assert got[0].path == f"{BASE}/{STATE_CHANGE}"


async def test_lifespan_and_websocket_scopes() -> None:
    listener = NotificationListener(inbox="memory")
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await listener({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    sent.clear()
    await listener({"type": "websocket", "path": "/x"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert listener.stats.received == 0


async def test_client_disconnect_while_reading_is_rejected() -> None:
    listener = NotificationListener(inbox="memory")
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": b'{"eventId"', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": f"{BASE}/x", "headers": []}
    await listener(scope, receive, send)
    assert sent[0]["status"] == 400
    assert listener.stats.rejected == 1


def test_context_manager_and_url() -> None:
    listener = NotificationListener(inbox="memory")
    with pytest.raises(RuntimeError):
        _ = listener.url
    with listener as running:
        assert running is listener
        assert listener.url.startswith("http://127.0.0.1:")
        assert listener.start() is listener  # already running: same server
        with httpx.Client() as c:
            resp = c.post(f"{listener.url}/cb/listener/{STATE_CHANGE}", json=envelope())
        assert resp.status_code == 204
    with pytest.raises(RuntimeError):
        _ = listener.url


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        NotificationListener(dedupe_window=-1)
    with pytest.raises(ValueError):
        NotificationListener(max_body_bytes=0)
    with pytest.raises(ValueError):
        NotificationListener(authenticate="")
    for bad in ({"max_attempts": 0}, {"max_deliveries": 0}, {"retry_delay": -1}, {"lease": 0}):
        with pytest.raises(ValueError):
            NotificationListener(inbox="memory", **bad)  # type: ignore[arg-type]


def test_many_threads_many_events_each_delivered_exactly_once(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve(authenticate="tok")
    rec = Recorder()
    async_counts: dict[str, int] = {}

    listener.add_handler(rec, STATE_CHANGE, CREATE)

    @listener.on()
    async def count(n: Notification) -> None:
        key = str(n.event_id)
        async_counts[key] = async_counts.get(key, 0) + 1

    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            with httpx.Client(timeout=20, headers={"Authorization": "Bearer tok"}) as c:
                for i in range(50):
                    event_type = STATE_CHANGE if i % 2 else CREATE
                    body = envelope(event_type, event_id=f"{t}-{i}", resource=f"so-{t}-{i % 5}")
                    resp = post(c, listener, body, event_type=event_type)
                    assert resp.status_code == 204
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert listener.join(timeout=20)
    expected = {f"{t}-{i}" for t in range(16) for i in range(50)}
    assert len(rec.ids) == 800
    assert set(rec.ids) == expected
    assert async_counts == dict.fromkeys(expected, 1)
    stats = listener.stats
    assert (stats.received, stats.delivered, stats.duplicates, stats.rejected) == (800, 800, 0, 0)


def test_lenient_mode_accepts_spec_violations_with_deviations(
    serve: Callable[..., NotificationListener], client: httpx.Client
) -> None:
    pytest.importorskip("lso_client._parsing")
    listener = serve()
    rec = Recorder()
    listener.add_handler(rec)
    body = envelope(event_id="lenient-1")
    del body["event"]["id"]
    body["eventTime"] = "not a time"
    assert post(client, listener, body).status_code == 204
    assert listener.join(timeout=5)
    n = rec.seen[0]
    assert isinstance(n.payload, OrderEvent)
    assert n.event_time is None
    assert n.event.state == "inProgress"
    locs = sorted(tuple(d["loc"]) for d in n.deviations)
    assert locs == [("event", "id"), ("eventTime",)]
