"""Chaos scenario `listing`: listing under faults, and against sellers whose pagination lies.

1. Faults mid-listing: N items (quick 5,000; full 100,000) from a seller with honest pagination
   that answers a share of the requests with a reset (before answering or halfway through the
   body), a closed connection, a 500 or a 503; listed sync one page at a time, sync with
   `pages_in_flight=8` and async with `pages_in_flight=8`. Counted: items lost, items yielded
   twice, requests and faults, time, and how the listing ended.
2. Lying sellers, each listed sync with one page and with 8 pages in flight: one that ignores
   `offset`, one whose pages overlap, one that says `X-Pagination-Throttled: true` forever, one
   that announces `X-Total-Count: 10^18` and serves its items round and round in full pages,
   one whose `X-Total-Count` is lower than what it has. Counted: requests, items, how it ended
   and how long it took. An outside cap (items) stops what would otherwise never end.

The sellers are the tests' `FaultySeller` (`tests/_faulty.py`) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

from lso_client import AllegroClient, AsyncAllegroClient, LSOError, PaginationError

from ._figures import Figure

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _faulty import Action, Close, FaultySeller, Reply, Request, Reset, minimal_order

__all__ = ["run"]

SCENARIO = "listing"
FAULT_RATE = 0.10
MAX_RETRIES = 4


def _page(request: Request) -> tuple[int, int]:
    query = parse_qs(request.query)
    return int(query.get("offset", ["0"])[0]), int(query.get("limit", ["10"])[0])


def _reply(numbers: range | list[int], headers: dict[str, str]) -> Reply:
    return Reply.json([minimal_order(n) for n in numbers], headers=headers)


class _FaultySeller:
    """Honest offset/limit pagination over `size` items; `rate` of the requests meet a fault,
    chosen by a seeded generator so runs compare."""

    KINDS = ("reset before answering", "reset mid-body", "close", "500", "503")

    def __init__(self, size: int, rate: float, seed: int) -> None:
        self.size = size
        self.rate = rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.faults: Counter[str] = Counter()

    def __call__(self, request: Request) -> Action:
        offset, limit = _page(request)
        reply = _reply(
            range(offset, min(offset + limit, self.size)), {"X-Total-Count": str(self.size)}
        )
        with self._lock:
            if self._random.random() >= self.rate:
                return reply
            kind = self._random.choice(self.KINDS)
            self.faults[kind] += 1
        if kind == "reset before answering":
            return Reset("after_read", reply)
        if kind == "reset mid-body":
            return Reset("mid_body", reply)
        if kind == "close":
            return Close()
        if kind == "500":
            return Reply.json({"code": "internalError", "reason": "chaos"}, status=500)
        return Reply.json({"code": "unavailable"}, status=503, headers={"Retry-After": "0"})


@dataclass
class _Outcome:
    ids: list[str]
    ending: str
    seconds: float

    @property
    def doubled(self) -> int:
        return len(self.ids) - len(set(self.ids))


def _ending(exc: LSOError) -> str:
    if isinstance(exc, PaginationError):
        return f"PaginationError({exc.reason})"
    return type(exc).__name__


def _list(url: str, mode: str, cap: int, **kwargs: Any) -> _Outcome:
    """List every order (at most `cap`), sync or async; how it ended and how long it took."""
    ids: list[str] = []
    ending = "complete"
    started = time.monotonic()
    if mode == "sync":
        with AllegroClient(url, max_retries=MAX_RETRIES) as client:
            try:
                for item in client.service_orders.list(**kwargs):
                    ids.append(item.id)
                    if len(ids) >= cap:
                        ending = "outside cap"
                        break
            except LSOError as exc:
                ending = _ending(exc)
    else:

        async def run() -> str:
            async with AsyncAllegroClient(url, max_retries=MAX_RETRIES) as client:
                page = await client.service_orders.list(**kwargs)
                items = cast(AsyncGenerator[Any, None], page.__aiter__())
                try:
                    async for item in items:
                        ids.append(item.id)
                        if len(ids) >= cap:
                            return "outside cap"
                except LSOError as exc:
                    return _ending(exc)
                finally:
                    await items.aclose()
            return "complete"

        ending = asyncio.run(run())
    return _Outcome(ids, ending, time.monotonic() - started)


def _faults(quick: bool) -> list[Figure]:
    size = 5_000 if quick else 100_000
    figures = []
    modes = [("sync", 1), ("sync", 8), ("async", 8)]
    for seed, (mode, in_flight) in enumerate(modes):
        handler = _FaultySeller(size, FAULT_RATE, seed)
        with FaultySeller(handler) as seller:
            outcome = _list(seller.url, mode, size * 2, limit=100, pages_in_flight=in_flight)
            requests = len(seller.requests)
        lost = size - len(set(outcome.ids))
        faults = sum(handler.faults.values())
        figures.append(
            Figure(
                SCENARIO,
                f"{size:,} items, {FAULT_RATE:.0%} faults, {mode}, pages_in_flight={in_flight}",
                f"lost {lost}, doubled {outcome.doubled}",
                "lost 0, doubled 0",
                lost == 0 and outcome.doubled == 0,
                f"{outcome.ending}; {requests} requests, {faults} faults; {outcome.seconds:.1f} s",
            )
        )
    return figures


Handler = Callable[[Request], Action]


def _lying_sellers(size: int) -> list[tuple[str, Handler, str, bool]]:
    """(name, handler, how a correct listing ends, whether it can get every item) for each
    lying seller of `size` items."""

    def ignores_offset(request: Request) -> Action:
        _, limit = _page(request)
        return _reply(range(min(limit, size)), {"X-Total-Count": str(size)})

    def overlapping(request: Request) -> Action:
        offset, limit = _page(request)
        start = max(0, offset - 5)
        return _reply(range(start, min(start + limit, size)), {"X-Total-Count": str(size)})

    def throttled_forever(request: Request) -> Action:
        offset, _ = _page(request)
        start = min(offset, size - 5)
        return _reply(range(start, start + 5), {"X-Pagination-Throttled": "true"})

    def huge_total(request: Request) -> Action:
        offset, limit = _page(request)
        numbers = [n % size for n in range(offset, offset + limit)]
        return _reply(numbers, {"X-Total-Count": str(10**18)})

    def low_total(request: Request) -> Action:
        offset, limit = _page(request)
        return _reply(range(offset, min(offset + limit, size)), {"X-Total-Count": str(size // 3)})

    return [
        # It never serves more than its first page: the rest cannot be had.
        ("ignores offset", ignores_offset, "PaginationError(ignores_offset)", False),
        ("overlapping pages", overlapping, "complete", True),
        ("throttled forever", throttled_forever, "PaginationError(throttled_no_progress)", True),
        ("X-Total-Count 10^18", huge_total, "PaginationError(no_new_items)", True),
        ("X-Total-Count too low", low_total, "complete", True),
    ]


def _lies(quick: bool) -> list[Figure]:
    size = 237 if quick else 5_000
    cap = 20_000 if quick else 1_000_000
    figures = []
    for name, handler, expected, complete in _lying_sellers(size):
        for in_flight in (1, 8):
            with FaultySeller(handler) as seller:
                outcome = _list(seller.url, "sync", cap, limit=50, pages_in_flight=in_flight)
                requests = len(seller.requests)
            lost = size - len(set(outcome.ids))
            ok = outcome.ending == expected and outcome.doubled == 0 and (lost == 0 or not complete)
            figures.append(
                Figure(
                    SCENARIO,
                    f"{name} ({size:,} items), pages_in_flight={in_flight}",
                    f"{requests} requests, {len(outcome.ids):,} items",
                    f"ends: {expected}, no item twice" + (", none lost" if complete else ""),
                    ok,
                    f"{outcome.ending} after {outcome.seconds:.2f} s; "
                    f"lost {lost}, doubled {outcome.doubled}",
                )
            )
    return figures


def run(quick: bool) -> list[Figure]:
    """The figures of both parts (see the module docstring)."""
    # The deviations the lying sellers cause are logged as warnings: kept out of the table.
    quiet = logging.NullHandler()
    logger = logging.getLogger("lso_client")
    logger.addHandler(quiet)
    try:
        return _faults(quick) + _lies(quick)
    finally:
        logger.removeHandler(quiet)
