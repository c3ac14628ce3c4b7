"""At-least-once delivery: retries, dead letters, a killed process, many sellers, and
event types that are not event types. Over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from lso_client import AllegroClient
from lso_client.notifications import (
    InboxEntry,
    MemoryInbox,
    Notification,
    NotificationListener,
    SQLiteInbox,
)
from lso_client.testing import MockSeller, example_service_order

STATE_CHANGE = "serviceOrderStateChangeEvent"
BASE = "/mefApi/allegro/serviceOrderingNotification/v1/listener"


def envelope(event_id: str, resource: str = "so-1", state: str = "inProgress") -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventTime": "2026-03-01T10:15:30Z",
        "eventType": STATE_CHANGE,
        "event": {"id": resource, "state": state},
    }


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def serve() -> Iterator[Callable[..., NotificationListener]]:
    started: list[NotificationListener] = []

    def make(**kwargs: Any) -> NotificationListener:
        kwargs.setdefault("inbox", "memory")
        kwargs.setdefault("resolver", None)
        listener = NotificationListener(**kwargs).start()
        started.append(listener)
        return listener

    yield make
    for listener in started:
        listener.stop(timeout=5)


@pytest.mark.parametrize("inbox", ["memory", "sqlite"])
def test_a_failing_handler_is_retried_until_it_succeeds(
    serve: Callable[..., NotificationListener], tmp_path: Path, inbox: str
) -> None:
    listener = serve(
        inbox="memory" if inbox == "memory" else str(tmp_path / "in.sqlite3"),
        retry_delay=0.05,
        poll_interval=0.05,
    )
    calls: list[int] = []
    steady: list[int] = []

    @listener.on()
    def flaky(n: Notification) -> None:
        calls.append(n.attempt)
        if len(calls) < 3:
            raise RuntimeError("database is down")

    @listener.on()
    def fine(n: Notification) -> None:
        steady.append(n.attempt)

    with httpx.Client() as client:
        resp = client.post(f"{listener.url}{BASE}/{STATE_CHANGE}", json=envelope("r1"))
        assert resp.status_code == 204
        # The seller's re-send is still a duplicate: the inbox has the event.
        assert (
            client.post(f"{listener.url}{BASE}/{STATE_CHANGE}", json=envelope("r1")).status_code
            == 204
        )
    wait_until(lambda: listener.stats.delivered == 1)
    assert calls == [1, 2, 3]
    assert steady == [1]  # a handler that succeeded is not called again
    stats = listener.stats
    assert (stats.retries, stats.handler_errors, stats.duplicates) == (2, 2, 1)
    assert listener.pending() == 0


def test_dead_letters_can_be_listed_replayed_and_purged(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve(max_attempts=2, retry_delay=0.02, poll_interval=0.05)
    broken = threading.Event()
    broken.set()
    handled: list[str] = []

    @listener.on()
    def handler(n: Notification) -> None:
        if broken.is_set():
            raise ValueError(f"cannot handle {n.event_id}")
        handled.append(str(n.event_id))

    with httpx.Client() as client:
        for event_id in ("d1", "d2"):
            url = f"{listener.url}{BASE}/{STATE_CHANGE}"
            assert client.post(url, json=envelope(event_id, resource=event_id)).status_code == 204
    wait_until(lambda: listener.stats.dead_lettered == 2)
    dead = listener.dead_letters()
    assert [d.notification.event_id for d in dead] == ["d1", "d2"]
    assert dead[0].attempts == 2
    assert dead[0].error is not None and "ValueError: cannot handle d1" in dead[0].error
    assert dead[0].notification.event.id == "d1"
    assert dead[0].failed_at is not None

    broken.clear()
    assert listener.replay_dead_letters([dead[0].id]) == 1
    wait_until(lambda: handled == ["d1"])
    assert [d.notification.event_id for d in listener.dead_letters()] == ["d2"]
    assert listener.purge_dead_letters() == 1
    assert listener.dead_letters() == []
    assert listener.pending() == 0


CHILD = textwrap.dedent(
    """
    import os, sys, threading
    from lso_client.notifications import NotificationListener

    inbox, url_file, started_file = sys.argv[1:4]
    listener = NotificationListener(inbox=inbox, resolver=None)

    @listener.on()
    def stuck(n):
        open(started_file, "w").close()
        threading.Event().wait()  # the handler never finishes: the process is killed

    listener.start()
    with open(url_file + ".tmp", "w") as f:
        f.write(listener.url)
    os.replace(url_file + ".tmp", url_file)
    threading.Event().wait()
    """
)


def test_an_event_accepted_by_a_killed_process_is_handled_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite3"
    url_file, started = tmp_path / "url", tmp_path / "started"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(url_file), str(started)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: url_file.exists() or child.poll() is not None, timeout=30)
        assert child.poll() is None, "the child listener did not start"
        with httpx.Client(timeout=10) as client:
            resp = client.post(f"{url_file.read_text()}{BASE}/{STATE_CHANGE}", json=envelope("k1"))
        assert resp.status_code == 204
        wait_until(started.exists)  # 2xx sent, handler running, not finished
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

    got: list[Notification] = []
    # A lease far longer than the test: the dead owner is recognised, not waited out.
    listener = NotificationListener(inbox=SQLiteInbox(path), resolver=None, lease=300)
    listener.add_handler(got.append)
    with listener:
        wait_until(lambda: len(got) == 1)
        with httpx.Client() as client:  # the seller's re-send is still a duplicate
            resp = client.post(f"{listener.url}{BASE}/{STATE_CHANGE}", json=envelope("k1"))
            assert resp.status_code == 204
        assert listener.join(timeout=5)
    assert [n.event_id for n in got] == ["k1"]
    assert got[0].attempt == 1
    assert listener.stats.duplicates == 1


def test_two_sellers_with_the_same_event_id_are_both_delivered(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve()
    got: list[Notification] = []
    listener.add_handler(got.append)
    first, second = listener.callback_url("seller-a"), listener.callback_url()
    assert first == f"{listener.url}/subscriptions/seller-a"
    with httpx.Client() as client:
        for callback in (first, second, first):
            resp = client.post(f"{callback}{BASE}/{STATE_CHANGE}", json=envelope("1"))
            assert resp.status_code == 204
        # Two hubs (APIs) of one seller at the plain listener URL: told apart by path.
        other = "/mefApi/allegro/serviceInventoryNotification/v2/listener"
        for base in (BASE, other):
            body = dict(envelope("1"), eventType="serviceCreateEvent")
            assert (
                client.post(f"{listener.url}{base}/serviceCreateEvent", json=body).status_code
                == 204
            )
    assert listener.join(timeout=5)
    assert len(got) == 4
    assert [n.subscription for n in got[:2]] == ["seller-a", second.rsplit("/", 1)[1]]
    assert got[0].channel == f"/subscriptions/seller-a{BASE}"
    assert [n.subscription for n in got[2:]] == [None, None]
    assert listener.stats.duplicates == 1


def test_subscribe_gives_each_hub_its_own_callback_path() -> None:
    got: list[Notification] = []
    with (
        MockSeller(step_delay=0.01) as seller,
        NotificationListener(inbox="memory", reference_point="allegro") as listener,
        AllegroClient(seller.url) as client,
    ):
        listener.add_handler(got.append)
        with client.hubs.service_ordering.subscribe(listener) as subscription:
            assert subscription.path_id is not None
            assert subscription.callback == f"{listener.url}/subscriptions/{subscription.path_id}"
            order = client.service_orders.create(example_service_order())
            client.service_orders.wait(order.id, timeout=20)
            wait_until(lambda: len(got) > 0)
        assert listener.join(timeout=5)
        with client.hubs.service_ordering.subscribe(listener, own_path=False) as plain:
            assert plain.callback == listener.url and plain.path_id is None
    assert got and {n.subscription for n in got} == {subscription.path_id}


def _raw_post(url: str, target: bytes) -> int:
    host, port = url.removeprefix("http://").split(":")
    body = b'{"eventId": "x", "eventType": "x", "event": {"id": "1"}}'
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "segment",
    [b"..", b".", b"%2e%2e", b"a%00b", b"a%5cb", b"a\\b", b"%41bc", b"a.b", b"a%2fb", b"-x", b"9x"],
)
def test_catch_all_handlers_never_see_a_segment_that_is_not_an_event_type(
    serve: Callable[..., NotificationListener], segment: bytes
) -> None:
    listener = serve()
    got: list[Notification] = []
    listener.add_handler(got.append)
    assert _raw_post(listener.url, b"/hooks/listener/" + segment) == 404
    assert _raw_post(listener.url, b"/hooks/listener/serviceCreateEvent") == 204
    assert listener.join(timeout=5)
    assert [n.event_type for n in got] == ["serviceCreateEvent"]


def test_events_beyond_max_deliveries_wait_in_the_inbox_and_are_all_delivered(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve(max_deliveries=2, poll_interval=0.05)
    running = threading.Semaphore(0)
    release = threading.Event()
    active: list[int] = []
    peak: list[int] = []
    lock = threading.Lock()
    done: list[str] = []

    @listener.on()
    def slow(n: Notification) -> None:
        with lock:
            active.append(1)
            peak.append(len(active))
        running.release()
        release.wait(5)
        with lock:
            active.pop()
            done.append(str(n.event_id))

    with httpx.Client() as client:
        for i in range(6):
            url = f"{listener.url}{BASE}/{STATE_CHANGE}"
            resp = client.post(url, json=envelope(f"b{i}", resource=f"so-{i}"))
            assert resp.status_code == 204  # accepted at once, even with no slot free
    assert running.acquire(timeout=5) and running.acquire(timeout=5)
    assert listener.pending() == 6
    release.set()
    wait_until(lambda: len(done) == 6)
    assert sorted(done) == [f"b{i}" for i in range(6)]
    assert max(peak) <= 2


def test_beyond_max_pending_the_seller_is_told_to_send_again_later(
    serve: Callable[..., NotificationListener],
) -> None:
    listener = serve(max_deliveries=1, max_pending=3, poll_interval=0.05)
    release = threading.Event()
    done: list[str] = []

    @listener.on()
    def slow(n: Notification) -> None:
        release.wait(5)
        done.append(str(n.event_id))

    url = f"{listener.url}{BASE}/{STATE_CHANGE}"
    with httpx.Client() as client:
        statuses = [
            client.post(url, json=envelope(f"p{i}", resource=f"so-{i}")).status_code
            for i in range(6)
        ]
        assert statuses == [204, 204, 204, 503, 503, 503]
        refused = client.post(url, json=envelope("p3", resource="so-3"))
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert refused.json()["code"] == "serviceUnavailable"
        assert listener.pending() == 3
        release.set()
        wait_until(lambda: len(done) == 3)
        # The seller's re-sends are taken once there is room.
        for i in range(3, 6):
            resp = client.post(url, json=envelope(f"p{i}", resource=f"so-{i}"))
            assert resp.status_code == 204
    wait_until(lambda: len(done) == 6)
    assert sorted(done) == [f"p{i}" for i in range(6)]
    with pytest.raises(ValueError, match="max_pending"):
        NotificationListener(inbox="memory", max_deliveries=10, max_pending=5)


async def test_a_mounted_listener_delivers_what_a_previous_run_left_on_async_enter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inbox.sqlite3"
    left = SQLiteInbox(path)
    body = json.dumps(envelope("left-1")).encode()
    left.put(
        InboxEntry(
            id=InboxEntry.new_id(),
            dedupe_key=f"{BASE}\nleft-1",
            channel=BASE,
            subscription=None,
            event_type=STATE_CHANGE,
            event_id="left-1",
            path=f"{BASE}/{STATE_CHANGE}",
            body=body,
            headers={},
            received_at=time.time(),
        ),
        owner=None,
        lease=30,
    )
    left.close()
    got: list[Notification] = []
    listener = NotificationListener(inbox=SQLiteInbox(path), resolver=None, poll_interval=0.05)

    @listener.on()
    async def handle(n: Notification) -> None:
        got.append(n)

    async with listener:  # no request, no lifespan: the application's own lifespan
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.02)
    assert [n.event_id for n in got] == ["left-1"]
    assert SQLiteInbox(path).pending() == 0


# -- the default inbox ------------------------------------------------------------------


def _leftover(event_id: str) -> InboxEntry:
    return InboxEntry(
        id=InboxEntry.new_id(),
        dedupe_key=f"{BASE}\n{event_id}",
        channel=BASE,
        subscription=None,
        event_type=STATE_CHANGE,
        event_id=event_id,
        path=f"{BASE}/{STATE_CHANGE}",
        body=json.dumps(envelope(event_id)).encode(),
        headers={},
        received_at=time.time(),
    )


@pytest.fixture
def programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Pretend to be a program (a script file in the working directory), with no
    LSO_CLIENT_INBOX and a state directory of the test's own."""
    monkeypatch.delenv("LSO_CLIENT_INBOX", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)

    def run_as(name: str) -> None:
        script = tmp_path / name
        script.touch()
        monkeypatch.setattr(sys, "argv", [str(script)])

    return run_as


def test_the_default_inbox_belongs_to_the_program_not_the_working_directory(
    tmp_path: Path, programs: Callable[[str], None]
) -> None:
    programs("billing.py")
    first = NotificationListener(resolver=None)
    assert isinstance(first.inbox, SQLiteInbox)
    assert first.inbox.put(_leftover("left-1"), owner=None, lease=5)
    first.close()
    path = first.inbox.path
    assert path.parent == tmp_path / "state" / "lso-client"
    assert list(tmp_path.glob("*.sqlite3*")) == []  # nothing in the working directory

    # Another program started in the same directory never receives billing's events...
    programs("inventory.py")
    other = NotificationListener(resolver=None)
    assert other.pending() == 0
    other.close()
    # ... while billing, restarted, finds them.
    programs("billing.py")
    again = NotificationListener(resolver=None)
    assert isinstance(again.inbox, SQLiteInbox) and again.inbox.path == path
    assert again.pending() == 1
    again.close()


def test_the_default_inbox_is_in_memory_without_a_program_file(
    programs: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for argv in ([""], ["-c"]):
        monkeypatch.setattr(sys, "argv", argv)
        assert isinstance(NotificationListener().inbox, MemoryInbox)


def test_two_listeners_of_one_process_do_not_share_the_default_inbox(
    programs: Callable[[str], None],
) -> None:
    programs("service.py")
    first, second = NotificationListener(resolver=None), NotificationListener(resolver=None)
    first.pending()  # opens the inbox
    with pytest.raises(RuntimeError, match="default inbox"):
        second.pending()
    first.close()
    assert second.pending() == 0  # free again once the first closed it
    second.close()
    # An inbox named on purpose may be shared (replicas).
    named = NotificationListener(resolver=None, inbox=first.inbox.path)  # type: ignore[attr-defined]
    also = NotificationListener(resolver=None, inbox=first.inbox.path)  # type: ignore[attr-defined]
    assert named.pending() == also.pending() == 0
    named.close()
    also.close()


async def test_dead_letters_have_async_twins(tmp_path: Path) -> None:
    listener = NotificationListener(
        inbox=SQLiteInbox(tmp_path / "inbox.sqlite3"),
        resolver=None,
        max_attempts=1,
        poll_interval=0.05,
    )
    fixed = asyncio.Event()

    @listener.on()
    async def handle(n: Notification) -> None:
        if not fixed.is_set():
            raise ValueError(f"cannot handle {n.event_id}")

    for event_id in ("a1", "a2"):
        assert listener.inbox.put(_leftover(event_id), owner=None, lease=30)
    async with listener:
        for _ in range(200):
            if len(await listener.dead_letters_async()) == 2:
                break
            await asyncio.sleep(0.02)
        dead = await listener.dead_letters_async()
        assert [d.notification.event_id for d in dead] == ["a1", "a2"]
        assert await listener.pending_async() == 0
        fixed.set()
        assert await listener.replay_dead_letters_async([dead[0].id]) == 1
        for _ in range(200):
            if await listener.pending_async() == 0:
                break
            await asyncio.sleep(0.02)
        assert [d.id for d in await listener.dead_letters_async()] == [dead[1].id]
        assert await listener.purge_dead_letters_async() == 1
        assert await listener.dead_letters_async() == []
    assert listener.stats.delivered == 1


class _BrokenResolver:
    def resolve(self, path: str, event_type: str) -> None:
        raise RuntimeError("the resolver broke")


def test_stored_events_that_no_longer_parse_are_delivered_or_dead_lettered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inbox.sqlite3"
    left = SQLiteInbox(path)
    assert left.put(_leftover("ok-1"), owner=None, lease=30)
    corrupt = _leftover("bad-1")
    corrupt.body = b"[1]"  # not a JSON object: can never become a notification
    assert left.put(corrupt, owner=None, lease=30)
    left.close()
    got: list[Notification] = []
    # The resolver of this run raises where the previous run's parsed the event.
    listener = NotificationListener(
        inbox=SQLiteInbox(path), resolver=_BrokenResolver(), poll_interval=0.05
    )
    listener.add_handler(got.append)
    with listener:
        wait_until(lambda: len(got) == 1 and listener.stats.dead_lettered == 1)
        assert got[0].event_id == "ok-1"
        assert isinstance(got[0].payload, dict) and got[0].payload["eventId"] == "ok-1"
        (dead,) = listener.dead_letters()
        assert dead.notification.event_id == "bad-1" and dead.notification.payload == {}
        assert dead.error is not None and "not a JSON object" in dead.error
        assert listener.join(timeout=5)
    assert listener.pending() == 0
    listener.close()


def test_a_tap_called_after_its_async_wait_ended_is_harmless() -> None:
    from lso_client._waiting import final_state, wait_async

    class Listener:  # the tap registry a wait uses
        def __init__(self) -> None:
            self.taps: list[Callable[[Any], None]] = []

        def add_tap(self, fn: Callable[[Any], None]) -> None:
            self.taps.append(fn)

        def remove_tap(self, fn: Callable[[Any], None]) -> None:
            pass  # the listener had taken it already: it calls it once more

    async def read() -> dict[str, str]:
        return {"state": "completed"}

    listener = Listener()
    done = asyncio.run(
        wait_async(
            read,
            final_state("order", "so-1", {"completed"}),
            subject="so-1",
            event_types={STATE_CHANGE},
            listeners=[listener],
            timeout=5,
            poll_interval=0.01,
            max_poll_interval=0.01,
        )
    )
    assert done == {"state": "completed"}
    (tap,) = listener.taps
    notification = Notification(
        event_type=STATE_CHANGE,
        event_id="1",
        event_time=None,
        payload=envelope("1"),
        path=f"{BASE}/{STATE_CHANGE}",
        headers={},
        received_at=datetime.now(timezone.utc),
        deviations=[],
    )
    tap(notification)  # its loop is closed: no error for the listener to log
