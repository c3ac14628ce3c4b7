"""The listener's inboxes (memory, SQLite, Redis): one contract, and replicas on Redis.

Redis tests start a real `redis-server` on 127.0.0.1 (skipped when the binary is not
installed) and stop it by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lso_client.notifications import Inbox, InboxEntry, MemoryInbox, SQLiteInbox

EVENT_PATH = "/mefApi/allegro/serviceOrderingNotification/v1/listener/serviceOrderStateChangeEvent"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        # CI installs it (.ci/run): there a missing binary is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _redis_inbox(url: str, **kwargs: Any) -> Inbox:
    from lso_client.notifications import RedisInbox

    return RedisInbox(url, prefix=f"test:{uuid.uuid4().hex}", **kwargs)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def make_inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Inbox]]:
    made: list[Inbox] = []

    def make(**kwargs: Any) -> Inbox:
        inbox: Inbox
        if request.param == "memory":
            inbox = MemoryInbox(**kwargs)
        elif request.param == "sqlite":
            inbox = SQLiteInbox(tmp_path / "inbox.sqlite3", **kwargs)
        else:
            inbox = _redis_inbox(request.getfixturevalue("redis_url"), **kwargs)
        made.append(inbox)
        return inbox

    yield make
    for inbox in made:
        inbox.close()


def entry(event_id: str | None = "e1", channel: str = "/a/listener") -> InboxEntry:
    return InboxEntry(
        id=InboxEntry.new_id(),
        dedupe_key=None if event_id is None else f"{channel}\n{event_id}",
        channel=channel,
        subscription=None,
        event_type="serviceOrderStateChangeEvent",
        event_id=event_id,
        path=f"{channel}/serviceOrderStateChangeEvent",
        body=b'{"eventId": "e1"}',
        headers={"x-seller": "acme"},
        received_at=time.time(),
    )


def test_put_deduplicates_within_a_channel_only(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox()
    assert inbox.put(entry("1"), owner=None, lease=5)
    assert not inbox.put(entry("1"), owner=None, lease=5)
    assert inbox.put(entry("1", channel="/other/listener"), owner=None, lease=5)
    assert inbox.put(entry(None), owner=None, lease=5)
    assert inbox.put(entry(None), owner=None, lease=5)  # no id: never a duplicate
    assert inbox.pending() == 4


def test_dedupe_window_bounds_what_is_remembered(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox(dedupe_window=0)
    assert inbox.put(entry("1"), owner=None, lease=5)
    assert inbox.put(entry("1"), owner=None, lease=5)


def test_claim_leases_ready_entries_once_and_in_order(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox()
    first, second = entry("1"), entry("2")
    leased = entry("3")
    inbox.put(first, owner=None, lease=5)
    inbox.put(second, owner=None, lease=5)
    inbox.put(leased, owner="me", lease=30)  # delivered by its receiver: not claimable
    got = inbox.claim("a", 10, lease=30)
    assert [e.id for e in got] == [first.id, second.id]
    assert got[0].body == first.body and got[0].headers == {"x-seller": "acme"}
    assert inbox.claim("b", 10, lease=30) == []
    inbox.ack(first.id)
    assert inbox.pending() == 2


def test_an_expired_lease_makes_the_entry_claimable(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox()
    e = entry("1")
    inbox.put(e, owner="dead replica", lease=30)
    assert inbox.claim("b", 10, lease=30) == []
    inbox.renew("dead replica", [e.id], lease=0.3)  # its last renewal
    time.sleep(0.5)
    assert [x.id for x in inbox.claim("b", 10, lease=30)] == [e.id]


def test_a_listener_whose_lease_ran_out_cannot_release_or_bury_another_ones_claim(
    make_inbox: Callable[..., Inbox],
) -> None:
    inbox = make_inbox()
    e = entry("1")
    inbox.put(e, owner="slow", lease=0.2)
    time.sleep(0.35)
    (taken,) = inbox.claim("b", 10, lease=30)  # "slow" lost its lease; "b" delivers
    e.attempts, e.error = 1, "TimeoutError: slow"
    assert inbox.release(e, 0, owner="slow") is False
    assert inbox.bury(e, owner="slow") is False
    # Still b's alone: not claimable again, not a dead letter, b's settling works.
    assert inbox.claim("c", 10, lease=30) == []
    assert inbox.dead_letters() == []
    taken.attempts = 1
    assert inbox.release(taken, 0, owner="b") is True
    (again,) = inbox.claim("c", 10, lease=30)
    assert (again.id, again.attempts) == (e.id, 1)
    assert inbox.bury(again, owner="c") is True
    assert [d.id for d in inbox.dead_letters()] == [e.id]
    assert inbox.release(again, 0, owner="c") is False  # a dead letter stays one


def test_a_listener_whose_lease_ran_out_cannot_renew_another_ones_claim(
    make_inbox: Callable[..., Inbox],
) -> None:
    inbox = make_inbox()
    e = entry("1")
    inbox.put(e, owner="slow", lease=0.2)
    time.sleep(0.35)
    assert [x.id for x in inbox.claim("b", 10, lease=0.3)] == [e.id]
    inbox.renew("slow", [e.id], lease=30)  # must not keep b's claim alive
    time.sleep(0.45)
    assert [x.id for x in inbox.claim("c", 10, lease=30)] == [e.id]


def test_release_delays_and_keeps_progress(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox()
    e = entry("1")
    inbox.put(e, owner="me", lease=30)
    e.attempts, e.done, e.error = 1, ("mod:h#1",), "RuntimeError: x"
    inbox.release(e, delay=1.0)
    assert inbox.claim("me", 10, lease=30) == []
    time.sleep(1.15)
    (again,) = inbox.claim("me", 10, lease=30)
    assert (again.attempts, again.done, again.error) == (1, ("mod:h#1",), "RuntimeError: x")


def test_dead_letters_replay_and_purge(make_inbox: Callable[..., Inbox]) -> None:
    inbox = make_inbox()
    a, b = entry("a"), entry("b")
    for e in (a, b):
        inbox.put(e, owner="me", lease=30)
        e.attempts, e.error = 5, "ValueError: no"
        inbox.bury(e)
    assert inbox.pending() == 0
    dead = inbox.dead_letters()
    assert [d.id for d in dead] == [a.id, b.id]
    assert dead[0].attempts == 5 and dead[0].failed_at is not None
    assert inbox.replay([a.id]) == 1
    (back,) = inbox.claim("me", 10, lease=30)
    assert (back.id, back.attempts, back.failed_at) == (a.id, 0, None)
    assert inbox.purge() == 1
    assert inbox.dead_letters() == []
    assert inbox.replay() == 0


def test_sqlite_inbox_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "inbox.sqlite3"
    first = SQLiteInbox(path)
    e = entry("1")
    first.put(e, owner=None, lease=5)
    first.close()
    second = SQLiteInbox(path)
    assert not second.put(entry("1"), owner=None, lease=5)  # still a duplicate
    assert [x.id for x in second.claim("me", 10, lease=5)] == [e.id]
    second.close()


def test_redis_inbox_without_the_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    from lso_client.notifications import RedisInbox

    with pytest.raises(ImportError, match=r"lso-client\[redis\]"):
        RedisInbox("redis://127.0.0.1:1/0")


# -- several listener processes on one Redis inbox ---------------------------------------

REPLICA = textwrap.dedent(
    """
    import os, sys, threading, time
    import redis
    from lso_client.notifications import NotificationListener, RedisInbox

    url, prefix, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
    r = redis.Redis.from_url(url)
    listener = NotificationListener(
        inbox=RedisInbox(url, prefix=prefix), lease=1.0, poll_interval=0.1, resolver=None
    )

    @listener.on()
    def handle(n):
        if n.event_id == "block" and r.set(prefix + ":blocker", os.getpid(), nx=True):
            r.rpush(prefix + ":started", os.getpid())
            threading.Event().wait()  # hangs until the process is killed
        r.rpush(prefix + ":handled", f"{n.event_id} {os.getpid()}")

    listener.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(listener.url)
    os.replace(port_file + ".tmp", port_file)
    threading.Event().wait()
    """
)


def _start_replica(
    url: str, prefix: str, tmp_path: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp_path / f"{name}.url"
    log = tmp_path / f"{name}.log"
    root = Path(__file__).resolve().parents[2]
    # Its log goes to a file: a pipe nobody reads blocks the replica once it is full.
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", REPLICA, url, prefix, str(port_file)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError(f"replica {name} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return proc, port_file.read_text()


def _event(event_id: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventTime": "2026-03-01T10:15:30Z",
        "eventType": "serviceOrderStateChangeEvent",
        "event": {"id": f"so-{event_id}", "state": "completed"},
    }


def _handled(r: Any, prefix: str) -> list[list[str]]:
    """`[event id, pid]` of each handler call the replicas recorded."""
    return [bytes(x).decode().split() for x in r.lrange(prefix + ":handled", 0, -1)]


def test_two_replicas_share_one_inbox_handle_once_and_lose_nothing_when_one_dies(
    redis_url: str, tmp_path: Path
) -> None:
    import redis

    prefix = f"replicas:{uuid.uuid4().hex}"
    r = redis.Redis.from_url(redis_url)
    a, url_a = _start_replica(redis_url, prefix, tmp_path, "a")
    b, url_b = _start_replica(redis_url, prefix, tmp_path, "b")
    try:
        with httpx.Client(timeout=10) as client:
            # The seller sends, then re-sends through the load balancer: once each way.
            for url in (url_a, url_b, url_a):
                assert client.post(url + EVENT_PATH, json=_event("e1")).status_code == 204
            assert client.post(url_b + EVENT_PATH, json=_event("e2")).status_code == 204
            # A replica accepts an event (204) and dies while its handler runs.
            assert client.post(url_a + EVENT_PATH, json=_event("block")).status_code == 204
        deadline = time.monotonic() + 10
        while r.llen(prefix + ":started") == 0:
            assert time.monotonic() < deadline, "the blocking handler never started"
            time.sleep(0.05)
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=10)
        # The survivor reclaims it once the dead replica's lease (1 s) runs out.
        deadline = time.monotonic() + 10
        while True:
            handled = _handled(r, prefix)
            if any(event_id == "block" for event_id, _ in handled):
                break
            assert time.monotonic() < deadline, f"the dead replica's event was lost: {handled}"
            time.sleep(0.05)
        time.sleep(0.3)  # nothing else may arrive
        handled = _handled(r, prefix)
        assert sorted(event_id for event_id, _ in handled) == ["block", "e1", "e2"]
        assert dict(handled)["block"] == str(b.pid)
        assert r.zcard(prefix + ":leased") + r.zcard(prefix + ":ready") == 0
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        r.close()


def test_listener_accepts_a_redis_url_as_inbox(redis_url: str) -> None:
    from lso_client.notifications import NotificationListener, RedisInbox

    listener = NotificationListener(inbox=redis_url)
    assert isinstance(listener.inbox, RedisInbox)
    listener.close()


def test_concurrent_puts_from_threads_keep_one_of_each_duplicate(
    make_inbox: Callable[..., Inbox],
) -> None:
    inbox = make_inbox()
    accepted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for i in range(50):
            ok = inbox.put(entry(str(i)), owner=None, lease=5)
            with lock:
                accepted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert accepted.count(True) == 50
    assert len(inbox.claim("me", 1000, lease=5)) == 50
