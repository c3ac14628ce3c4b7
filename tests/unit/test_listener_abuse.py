"""The listener under abuse, over real sockets: slowloris connections, slow bodies, more
connections than allowed. Normal events keep being served and the log stays small."""

from __future__ import annotations

import contextlib
import logging
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from _faulty import SlowClients

from lso_client.notifications import Notification, NotificationListener
from lso_client.notifications._listener import abuse_logger
from lso_client.notifications._server import _RateLimit

EVENT_URL = "/hooks/mefApi/allegro/serviceOrderingNotification/v1/listener/serviceCreateEvent"
SLOW_CONNECTIONS = 400


@pytest.fixture(autouse=True)
def enough_file_descriptors() -> None:
    # Each slow connection costs a descriptor on both ends (client and server here).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * SLOW_CONNECTIONS + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def listener() -> Iterator[NotificationListener]:
    running = NotificationListener(inbox="memory", resolver=None, body_timeout=1.0)
    running.start(header_timeout=1.5, max_connections=SLOW_CONNECTIONS + 100)
    yield running
    running.stop(timeout=5)


def slowloris(url: str, count: int, interval: float) -> SlowClients:
    """Slow clients against the listener's event path."""
    return SlowClients(url, EVENT_URL, count, interval)


def test_slow_connections_do_not_delay_normal_events_nor_flood_the_log(
    listener: NotificationListener, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[Notification] = []
    listener.add_handler(got.append)
    latencies: list[float] = []
    with caplog.at_level(logging.DEBUG), slowloris(listener.url, SLOW_CONNECTIONS, 0.5) as attack:
        time.sleep(0.5)
        with httpx.Client(timeout=5) as client:
            for i in range(12):
                started = time.monotonic()
                body = {"eventId": f"n{i}", "eventType": "serviceCreateEvent", "event": {"id": "s"}}
                # A new connection each time, as a seller without keep-alive.
                resp = client.post(
                    listener.url + EVENT_URL, json=body, headers={"Connection": "close"}
                )
                latencies.append(time.monotonic() - started)
                assert resp.status_code == 204
                time.sleep(0.2)
    assert max(latencies) < 1.0, latencies
    assert listener.join(timeout=5)
    assert len(got) == 12
    # Every slow connection of the first wave was closed for its headers, not left open.
    assert attack.closed_by_server >= SLOW_CONNECTIONS
    assert listener.guard_stats.header_timeouts >= SLOW_CONNECTIONS
    # No line per connection: at most the guard's summary and a few others.
    server_side = [
        r for r in caplog.records if r.name.startswith(("lso_client", "uvicorn", "asyncio"))
    ]
    assert len(server_side) < 20, [r.getMessage() for r in server_side[:5]]


def test_more_connections_than_allowed_evict_the_slowest_not_the_seller() -> None:
    listener = NotificationListener(inbox="memory", resolver=None)
    listener.start(header_timeout=30, max_connections=50)
    try:
        with slowloris(listener.url, 80, 0.5) as attack:
            time.sleep(1.2)
            started = time.monotonic()
            with httpx.Client(timeout=5) as client:
                body = {"eventId": "e", "eventType": "serviceCreateEvent", "event": {"id": "s"}}
                assert client.post(listener.url + EVENT_URL, json=body).status_code == 204
            assert time.monotonic() - started < 1.0
        assert listener.guard_stats.evicted >= 30
        assert attack.closed_by_server >= 30
    finally:
        listener.stop(timeout=5)


def test_a_slow_body_is_answered_408_within_the_body_timeout(
    listener: NotificationListener,
) -> None:
    host, port = listener.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST " + EVENT_URL.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        sock.setblocking(False)
        answer = b""
        while b"\r\n\r\n" not in answer:
            assert time.monotonic() - started < 1.0 + 1.5, "no answer to a slow body"
            with contextlib.suppress(OSError):
                sock.send(b" ")  # a byte every 0.2 s: never done
            time.sleep(0.2)
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"requestTimeout" in answer or b"content-length" in answer.lower()
    assert listener.stats.rejected == 1


def test_bodies_a_caller_sends_do_not_flood_the_log(
    listener: NotificationListener, caplog: pytest.LogCaptureFixture
) -> None:
    for limiter in abuse_logger.filters:
        if isinstance(limiter, _RateLimit):
            limiter.reset()
    junk = "x" * 20_000
    with caplog.at_level(logging.DEBUG), httpx.Client(timeout=10) as client:
        for i in range(150):
            # Accepted (lenient mode), with deviations that quote what the caller sent.
            body = {
                "eventId": f"{junk}{i}",
                "eventType": "serviceCreateEvent",
                "eventTime": junk,
                "event": {"id": "s"},
            }
            assert client.post(listener.url + EVENT_URL, json=body).status_code == 204
            if i % 2:  # and the same again: a duplicate
                assert client.post(listener.url + EVENT_URL, json=body).status_code == 204
    assert listener.join(timeout=10)
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("lso_client")]
    assert len(logged) <= 60, len(logged)
    assert sum(map(len, logged)) < 60_000
