"""Chaos scenario `memory`: bodies too large, and bodies too slow.

1. Size: a retrieve answered by a gzip bomb (quick 200 MiB, full 1 GiB once inflated, a few
   hundred KB on the wire), by a plain body over the limit with its `Content-Length`, and by
   one sent chunked (no length), against `max_response_bytes` (quick 8 MiB, full the default
   64 MiB); each in a fresh interpreter, whose peak RSS growth over the call is the figure.
   For scale, the 200 MiB bomb once more with no limit.
2. Time: how long a call takes to end against a seller that drips its body (or its status
   line and headers) a byte every 0.2 s, stalls before answering, or sends part of the
   body and then nothing, with
   `deadline=2` (sync and async), and with `timeout=1` and no deadline.

The sellers are the tests' `FaultySeller` (`tests/_faulty.py`) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lso_client import AllegroClient, APITimeoutError, AsyncAllegroClient, LSOError

from .._rss import _status_kib
from ._figures import Figure

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _faulty import Action, Drip, FaultySeller, Reply, Request, Stall, gzip_bomb

__all__ = ["run"]

SCENARIO = "memory"
MIB = 1024 * 1024
ORDER = {"id": "so-1", "state": "acknowledged", "externalId": "x-1", "href": "/so/so-1"}
SLACK = 0.5  # a call may end this long after its bound


def _chunked(payload: bytes) -> bytes:
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"


def _measure(url: str, limit: int | None) -> dict[str, Any]:
    """Run one retrieve in a fresh interpreter; its JSON report."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.chaos._memory", url, str(limit)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def _size_figure(name: str, handler: Callable[[Request], Action], limit: int | None) -> Figure:
    with FaultySeller(handler) as seller:
        report = _measure(seller.url, limit)
    growth = (report["peak"] - report["ready"]) / MIB
    if limit is None:
        return Figure(
            SCENARIO,
            name,
            f"+{growth:,.0f} MiB",
            "informative",
            None,
            f"no limit: {report['outcome']} after {report['seconds']:.1f} s",
        )
    bound = limit / MIB + 32
    return Figure(
        SCENARIO,
        name,
        f"+{growth:,.0f} MiB",
        f"< {bound:,.0f} MiB (limit + 32)",
        growth < bound and report["outcome"] == "ResponseTooLargeError",
        f"{report['outcome']} after {report['seconds']:.1f} s; limit {limit // MIB} MiB",
    )


def _time_figure(
    name: str, handler: Callable[[Request], Action], bound: float, call: Callable[[str], None]
) -> Figure:
    with FaultySeller(handler) as seller:
        started = time.monotonic()
        outcome = "returned"
        try:
            call(seller.url)
        except APITimeoutError as exc:
            outcome = "APITimeoutError" + (" (deadline)" if "Deadline" in str(exc) else "")
        except LSOError as exc:
            outcome = type(exc).__name__
        seconds = time.monotonic() - started
    return Figure(
        SCENARIO,
        name,
        f"{seconds:.2f} s",
        f"<= {bound + SLACK:g} s (bound {bound:g} s)",
        seconds <= bound + SLACK and outcome != "returned",
        outcome,
    )


def _sync_timeout(seconds: float) -> Callable[[str], None]:
    def call(url: str) -> None:
        with AllegroClient(url, max_retries=0, timeout=seconds) as client:
            client.service_orders.retrieve("so-1")

    return call


def _sync_deadline(seconds: float) -> Callable[[str], None]:
    def call(url: str) -> None:
        with AllegroClient(url, max_retries=0) as client:
            client.service_orders.retrieve("so-1", deadline=seconds)

    return call


def _async_deadline(seconds: float) -> Callable[[str], None]:
    def call(url: str) -> None:
        async def main() -> None:
            async with AsyncAllegroClient(url, max_retries=0) as client:
                await client.service_orders.retrieve("so-1", deadline=seconds)

        asyncio.run(main())

    return call


def run(quick: bool) -> list[Figure]:
    """Measure the size and time bounds; return their figures."""
    logging.getLogger("lso_client").setLevel(logging.ERROR)
    bomb_size = 200 * MIB if quick else 1024 * MIB
    limit = 8 * MIB if quick else 64 * MIB
    plain_size = 8 * limit
    gzip_headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    bomb = gzip_bomb(bomb_size)
    small_bomb = bomb if quick else gzip_bomb(200 * MIB)
    plain = b'{"id": "so-1", "note": "' + b"x" * plain_size + b'"}'
    chunked = _chunked(plain)

    def sized(body: bytes, headers: dict[str, str]) -> Callable[[Request], Action]:
        return lambda request: Reply(200, headers, body)

    json_headers = {"Content-Type": "application/json"}
    figures = [
        _size_figure(
            f"gzip bomb {bomb_size // MIB:,} MiB ({len(bomb) // 1024:,} KiB sent): RSS growth",
            sized(bomb, gzip_headers),
            limit,
        ),
        _size_figure(
            f"plain body {plain_size // MIB:,} MiB with Content-Length: RSS growth",
            sized(plain, json_headers),
            limit,
        ),
        _size_figure(
            f"plain body {plain_size // MIB:,} MiB chunked: RSS growth",
            sized(chunked, {**json_headers, "Transfer-Encoding": "chunked"}),
            limit,
        ),
        _size_figure(
            "gzip bomb 200 MiB, max_response_bytes=None: RSS growth",
            sized(small_bomb, gzip_headers),
            None,
        ),
    ]
    del bomb, small_bomb, plain, chunked
    drip = Drip(Reply.json(ORDER), interval=0.2)
    figures += [
        _time_figure(
            "drip 1 byte / 0.2 s, deadline=2: time to end",
            lambda request: drip,
            2.0,
            _sync_deadline(2.0),
        ),
        _time_figure(
            "drip 1 byte / 0.2 s, deadline=2, async: time to end",
            lambda request: drip,
            2.0,
            _async_deadline(2.0),
        ),
        _time_figure(
            "drip 1 byte / 0.2 s, timeout=1, no deadline: time to end",
            lambda request: drip,
            1.0,
            _sync_timeout(1.0),
        ),
        _time_figure(
            "10 bytes, then none for 1.8 s, deadline=2: time to end",
            lambda request: Drip(Reply.json(ORDER), interval=1.8, chunk=10),
            2.0,
            _sync_deadline(2.0),
        ),
        _time_figure(
            "status line and headers 1 byte / 0.2 s, deadline=2: time to end",
            lambda request: Drip(Reply.json(ORDER), interval=0.2, head=True),
            2.0,
            _sync_deadline(2.0),
        ),
        _time_figure(
            "status line and headers 1 byte / 0.2 s, deadline=2, async: time to end",
            lambda request: Drip(Reply.json(ORDER), interval=0.2, head=True),
            2.0,
            _async_deadline(2.0),
        ),
        _time_figure(
            "stall 30 s before answering, deadline=2: time to end",
            lambda request: Stall(30),
            2.0,
            _sync_deadline(2.0),
        ),
        _time_figure(
            "stall 30 s before answering, deadline=2, async: time to end",
            lambda request: Stall(30),
            2.0,
            _async_deadline(2.0),
        ),
    ]
    return figures


def _child(url: str, limit_text: str) -> None:
    """One retrieve, measured: `python -m benchmarks.chaos._memory URL LIMIT|None`."""
    logging.getLogger("lso_client").setLevel(logging.ERROR)
    limit = None if limit_text == "None" else int(limit_text)
    client = AllegroClient(url, max_retries=0, max_response_bytes=limit)
    # What any first call builds (the httpx client, the API's modules) is not the body's.
    client._transport.http_client  # noqa: B018
    client.service_orders  # noqa: B018
    ready = _status_kib("VmRSS") * 1024
    started = time.perf_counter()
    outcome = "returned"
    try:
        client.service_orders.retrieve("so-1")
    except LSOError as exc:
        outcome = type(exc).__name__
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM") * 1024
    client.close()
    print(json.dumps({"ready": ready, "peak": peak, "seconds": seconds, "outcome": outcome}))


if __name__ == "__main__":
    _child(*sys.argv[1:3])
