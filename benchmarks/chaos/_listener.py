"""Chaos scenario `listener`: the notification listener under load, duplicates, failing
handlers and slowloris, with each of its inboxes.

1. Load: N events (quick 2,000; full 20,000) from 8 sellers, each through its own
   subscription callback path and all using the same `eventId`s (`0`, `1`, ...), sent by
   16 concurrent connections; a tenth of them sent twice (the seller's re-send). The
   handler fails the first attempt of a tenth of the events (they succeed on retry) and
   every attempt of 0.5 % of them ("poison", which must end as dead letters). Run with the
   memory, SQLite and Redis inboxes (Redis: a `redis-server` started on 127.0.0.1 when
   the binary is installed). Counted: events lost (neither handled nor dead-lettered),
   handled twice, dead letters, throughput, latency from send to the successful handler
   call (p50/p99).
2. Slowloris: 1,000 connections (quick 200) sending their headers a byte every 2 s while
   a seller sends a normal event every 0.25 s for 12 s (quick 4 s) on a new connection each
   time. Counted: the normal events' latency (p50, max), how many slow connections the
   listener closed, and how many log lines it wrote.

Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _faulty import SlowClients

from lso_client.notifications import Notification, NotificationListener

from ._figures import Figure

__all__ = ["run"]

SELLERS = 8
SENDERS = 16
EVENT_TYPE = "serviceOrderStateChangeEvent"
BASE = "/mefApi/allegro/serviceOrderingNotification/v1/listener"


def _crc(*parts: object) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def _poison(seller: int, index: int) -> bool:
    return _crc("poison", seller, index) % 200 == 0


def _flaky(seller: int, index: int) -> bool:
    return _crc("flaky", seller, index) % 10 == 0


@contextlib.contextmanager
def _redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _load(kind: str, inbox: Any, count: int) -> list[Figure]:
    scenario = f"listener load ({kind})"
    listener = NotificationListener(
        inbox=inbox,
        reference_point="allegro",
        retry_delay=0.05,
        max_retry_delay=0.2,
        max_attempts=3,
        poll_interval=0.05,
    )
    lock = threading.Lock()
    handled: Counter[tuple[int, int]] = Counter()
    latencies: list[float] = []

    @listener.on(EVENT_TYPE)
    async def handle(n: Notification) -> None:
        seller, index = int(n.headers["x-seller"]), int(str(n.event_id))
        if _poison(seller, index) or (_flaky(seller, index) and n.attempt == 1):
            raise RuntimeError("the handler's database is down")
        with lock:
            handled[(seller, index)] += 1
            latencies.append((time.monotonic_ns() - int(n.headers["x-sent-ns"])) / 1e6)

    per_seller = count // SELLERS
    work = [(s, i) for i in range(per_seller) for s in range(SELLERS)]
    resend = {w for w in work if _crc("resend", *w) % 10 == 0}
    errors: list[str] = []
    refused: list[int] = []
    listener.start()
    # Silence the handler's expected failures; the figures count them.
    quiet = logging.getLogger("lso_client.listener")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        callbacks = [listener.callback_url(f"seller-{s}") for s in range(SELLERS)]

        def sender(k: int) -> None:
            with httpx.Client(timeout=30) as client:
                for seller, index in work[k::SENDERS]:
                    body = {
                        "eventId": str(index),
                        "eventTime": "2026-11-27T09:00:00Z",
                        "eventType": EVENT_TYPE,
                        "event": {"id": f"order-{seller}-{index % 50}", "state": "inProgress"},
                    }
                    for _ in range(2 if (seller, index) in resend else 1):
                        headers = {"x-seller": str(seller), "x-sent-ns": str(time.monotonic_ns())}
                        url = f"{callbacks[seller]}{BASE}/{EVENT_TYPE}"
                        for _attempt in range(100):
                            resp = client.post(url, json=body, headers=headers)
                            if resp.status_code != 503:
                                break
                            # The listener's max_pending: send again later, as a seller.
                            with lock:
                                refused.append(1)
                            time.sleep(0.1)
                        if resp.status_code != 204:
                            errors.append(str(resp.status_code))

        started = time.monotonic()
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        poison = {w for w in work if _poison(*w)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if listener.stats.dead_lettered >= len(poison) and len(handled) >= len(work) - len(
                poison
            ):
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        listener.join(timeout=10)
        dead = {
            (int(d.notification.headers["x-seller"]), int(str(d.notification.event_id)))
            for d in listener.dead_letters()
        }
        stats = listener.stats
    finally:
        quiet.setLevel(level)
        listener.purge_dead_letters()
        listener.stop(timeout=10)
    lost = len(set(work) - set(handled) - dead)
    doubled = sum(1 for c in handled.values() if c > 1)
    sent = len(work) + len(resend)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    note = (
        f"{sent:,} requests from {SELLERS} sellers sharing eventIds, {stats.duplicates:,} "
        f"re-sends answered as duplicates, {stats.retries:,} retries"
        + (f", {len(refused):,} answered 503 and sent again" if refused else "")
        + (f", {len(errors)} non-204 answers" if errors else "")
    )
    return [
        Figure(scenario, "events lost", str(lost), "0", lost == 0 and not errors, note),
        Figure(scenario, "events handled twice", str(doubled), "0", doubled == 0),
        Figure(
            scenario,
            "dead letters",
            f"{len(dead)} of {len(poison)} poison",
            "all poison, nothing else",
            dead == poison,
        ),
        Figure(scenario, "throughput", f"{len(work) / elapsed:,.0f} ev/s", "", None),
        Figure(
            scenario,
            "latency send -> handled",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
            "",
            None,
            "retried events included (retry delay 50-200 ms)",
        ),
    ]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines = 0
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("lso_client", "uvicorn", "asyncio")):
            self.lines += 1
            self.bytes += len(self.format(record))


def _slowloris(quick: bool) -> list[Figure]:
    scenario = "listener slowloris"
    count, seconds = (200, 4.0) if quick else (1000, 12.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * count + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        count = min(count, (target - 512) // 2)
    listener = NotificationListener(inbox="memory", resolver=None)
    handled: list[str] = []
    listener.add_handler(lambda n: handled.append(str(n.event_id)))
    lines = _Lines()
    root = logging.getLogger()
    root.addHandler(lines)
    latencies: list[float] = []
    failures = 0
    listener.start()
    try:
        with (
            SlowClients(listener.url, f"{BASE}/{EVENT_TYPE}", count, 2.0) as slow,
            httpx.Client(timeout=5) as client,
        ):
            time.sleep(1.0)
            end = time.monotonic() + seconds
            i = 0
            while time.monotonic() < end:
                body = {
                    "eventId": f"n{i}",
                    "eventTime": "2026-11-27T09:00:00Z",
                    "eventType": EVENT_TYPE,
                    "event": {"id": "o", "state": "inProgress"},
                }
                started = time.monotonic()
                try:
                    resp = client.post(
                        f"{listener.url}{BASE}/{EVENT_TYPE}",
                        json=body,
                        headers={"Connection": "close"},
                    )
                    failures += resp.status_code != 204
                except httpx.HTTPError:
                    failures += 1
                latencies.append(time.monotonic() - started)
                i += 1
                time.sleep(0.25)
        listener.join(timeout=5)
        guard = listener.guard_stats
    finally:
        listener.stop(timeout=5)
        root.removeHandler(lines)
    worst = max(latencies) if latencies else float("inf")
    return [
        Figure(
            scenario,
            "normal event latency",
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {worst * 1000:.0f} ms",
            "< 1 s",
            worst < 1.0 and failures == 0,
            f"{len(latencies)} events, {failures} failed, {len(handled)} handled, while "
            f"{count} connections send a header byte every 2 s",
        ),
        Figure(
            scenario,
            "slow connections closed",
            f"{guard.header_timeouts} header timeouts, {guard.evicted} evicted",
            "",
            None,
            f"{slow.closed_by_server} seen closed by the attacker",
        ),
        Figure(
            scenario,
            "log written",
            f"{lines.lines} lines, {lines.bytes:,} bytes",
            "small",
            lines.lines < 50,
        ),
    ]


def run(quick: bool) -> list[Figure]:
    count = 2_000 if quick else 20_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="lso-chaos-") as scratch:
        figures += _load("memory", "memory", count)
        figures += _load("SQLite", os.path.join(scratch, "inbox.sqlite3"), count)
        with _redis_server() as url:
            if url is None:
                figures.append(
                    Figure(
                        "listener load (Redis)",
                        "not run",
                        "-",
                        "",
                        None,
                        "redis-server is not installed (apt-get install redis-server)",
                    )
                )
            else:
                from lso_client.notifications import RedisInbox

                inbox = RedisInbox(url, prefix=f"chaos:{uuid.uuid4().hex}")
                figures += _load("Redis", inbox, count)
    figures += _slowloris(quick)
    return figures
