"""Scenario (g): the notification listener under 16 concurrent senders on loopback.

    python -m benchmarks._listen serve {sdk,starlette} COUNT [PROFILE_NAME]
    python -m benchmarks._listen send PORT COUNT

`serve` runs the receiver with uvicorn (the settings `lso_client`'s background server
uses) in the main thread of its own process, prints its port, and exits once COUNT
events reached the handler (or nothing arrived for a while), printing JSON: handler
calls, unique event ids, latency percentiles from the sender's send time to the
handler, and events per second from the first send to the last handler call.
`send` is a raw asyncio client (cheap, so it is not the bottleneck) keeping 16
connections busy; each request carries its send time (`CLOCK_MONOTONIC`, shared by
the processes of one machine) in an `x-sent-ns` header.

Receivers: `sdk` is `lso_client.NotificationListener` with an async handler (sync
handlers run in a worker thread) and the in-memory inbox; `sdk-sqlite` the same with
the durable SQLite inbox (a fresh file, WAL, `synchronous=NORMAL`: every event is
committed before its 204 and deleted once handled); both are served with the listener's
connection guard (header timeout, connection cap). `starlette` is a bare Starlette
endpoint that only reads the body, the floor, on plain uvicorn.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from typing import Any

SENDERS = 16
EVENT_TYPE = "serviceOrderStateChangeEvent"
PATH = f"/mefApi/allegro/serviceOrderingNotification/v1/listener/{EVENT_TYPE}"
ORDERS = 500  # events are about this many orders, so per-order ordering is exercised
IDLE_EXIT = 5.0


class Record:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.latencies: list[int] = []
        self.first_sent: int | None = None
        self.last_seen = 0

    def add(self, event_id: str, sent_ns: int) -> None:
        now = time.monotonic_ns()
        self.ids.append(event_id)
        self.latencies.append(now - sent_ns)
        if self.first_sent is None or sent_ns < self.first_sent:
            self.first_sent = sent_ns
        self.last_seen = now


def _sdk_app(record: Record, inbox: str = "memory") -> tuple[Any, Any]:
    from lso_client import Notification, NotificationListener

    listener = NotificationListener(reference_point="allegro", inbox=inbox)

    @listener.on(EVENT_TYPE)
    async def handle(notification: Notification) -> None:
        record.add(notification.event_id or "", int(notification.headers["x-sent-ns"]))

    return listener, listener


def _starlette_app(record: Record) -> tuple[Any, None]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        await request.body()
        # The floor does not parse: the request counter stands in for the event id.
        record.add(str(len(record.ids)), int(request.headers["x-sent-ns"]))
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])]), None


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1e6


def serve(kind: str, count: int, profile_name: str | None) -> None:
    import uvicorn

    record = Record()
    scratch = tempfile.TemporaryDirectory(prefix="lso-bench-inbox-")
    app: Any
    if kind == "sdk":
        app, listener = _sdk_app(record)
    elif kind == "sdk-sqlite":
        app, listener = _sdk_app(record, os.path.join(scratch.name, "inbox.sqlite3"))
    else:
        app, listener = _starlette_app(record)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    if listener is not None:
        from lso_client.notifications._server import guarded_config, new_guard

        config = guarded_config(app, new_guard(), lifespan="on")
    else:
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    server = uvicorn.Server(config)

    async def watch() -> None:
        started = time.monotonic()
        while len(record.ids) < count:
            await asyncio.sleep(0.05)
            quiet_since = record.last_seen / 1e9 if record.ids else started
            if time.monotonic() - quiet_since > IDLE_EXIT + (0 if record.ids else 60):
                break
        server.should_exit = True

    async def main() -> None:
        watcher = asyncio.create_task(watch())
        await server.serve(sockets=[sock])
        await watcher

    print(sock.getsockname()[1], flush=True)
    profiler = None
    if profile_name:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
    asyncio.run(main())
    summary = None
    if profiler is not None:
        from ._profile import save, summarise

        profiler.stop()
        save(profile_name or "g", profiler)
        summary = summarise(profiler)
    if listener is not None:
        listener.close()
    scratch.cleanup()
    seconds = (record.last_seen - (record.first_sent or 0)) / 1e9
    stats = getattr(listener, "stats", None)
    print(
        json.dumps(
            {
                "handled": len(record.ids),
                "unique": len(set(record.ids)),
                "events_per_s": len(record.ids) / seconds if seconds > 0 else 0.0,
                "p50_ms": _percentile(record.latencies, 0.50) if record.latencies else None,
                "p99_ms": _percentile(record.latencies, 0.99) if record.latencies else None,
                "duplicates": stats.duplicates if stats is not None else None,
                "rejected": stats.rejected if stats is not None else None,
                "profile": summary,
            }
        )
    )


def _event(index: int) -> bytes:
    order_id = f"order-{index % ORDERS:05d}"
    return json.dumps(
        {
            "eventId": f"event-{index:07d}",
            "eventTime": "2026-11-27T09:00:00.000Z",
            "eventType": EVENT_TYPE,
            "event": {
                "id": order_id,
                "href": f"/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder/{order_id}",
                "state": ("acknowledged", "inProgress", "completed")[index % 3],
            },
        }
    ).encode()


async def _sender(port: int, indices: range, errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = (
        f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
    ).encode()
    bodies = [_event(index) for index in indices]
    for body in bodies:
        writer.write(
            head
            + b"content-length: %d\r\nx-sent-ns: %d\r\n\r\n" % (len(body), time.monotonic_ns())
            + body
        )
        response = await reader.readuntil(b"\r\n\r\n")
        status = int(response.split(b" ", 2)[1])
        length = 0
        for line in response.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        if status != 204:
            errors.append(status)
    writer.close()
    await writer.wait_closed()


async def send(port: int, count: int) -> None:
    errors: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(*(_sender(port, range(k, count, SENDERS), errors) for k in range(SENDERS)))
    print(json.dumps({"seconds": time.perf_counter() - start, "errors": len(errors)}))


def main() -> None:
    command = sys.argv[1]
    if command == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        asyncio.run(send(int(sys.argv[2]), int(sys.argv[3])))


if __name__ == "__main__":
    main()


def measure(kind: str, count: int, profile_name: str | None = None) -> dict[str, Any]:
    """One run: a fresh receiver process, a fresh sender process; the receiver's JSON."""
    import subprocess

    from ._data import REPO_ROOT

    command = [sys.executable, "-m", "benchmarks._listen", "serve", kind, str(count)]
    receiver = subprocess.Popen(
        command + ([profile_name] if profile_name else []),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    port = receiver.stdout.readline().strip()
    if not port:
        receiver.wait()
        raise SystemExit(f"the {kind} receiver failed to start")
    sender = subprocess.run(
        [sys.executable, "-m", "benchmarks._listen", "send", port, str(count)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out, _ = receiver.communicate(timeout=120)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["sender"] = json.loads(sender.stdout)
    return result
