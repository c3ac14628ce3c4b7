"""Chaos scenario `creates`: service-order creates under random faults.

N creates (quick 100, full 1,000), one after another, against a seller that keeps a real
store of orders and answers a share of the requests with a fault: a reset before acting, a
reset, a closed connection, a reset halfway through the body or a stall after acting (the
order exists, the answer is lost), a 500 after acting, a 503 or a 429 before acting. Reads
(the lookups of reconciling) meet resets, closed connections and 503s.

Run three ways: default settings; `retry_non_idempotent=True` with an `externalId` in every
body (lookups before re-sending); `retry_non_idempotent=True` without one (re-sending
blindly, the risk the key removes). Counted per way: orders created, duplicates (one call,
several orders), calls ending in `OutcomeUnknownError` and how many of those
`reconcile(body)` then finds, calls told of a failure whose order exists anyway, other
errors, and hangs (calls running past their deadline by more than 1.5 s).

The seller is the tests' `FaultySeller` (`tests/_faulty.py`) on 127.0.0.1.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lso_client import AllegroClient, LSOError, OutcomeUnknownError
from lso_client.testing import example_service_order

from ._figures import Figure

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from _faulty import Action, Close, FaultySeller, Reply, Request, Reset, Stall

__all__ = ["run"]

SCENARIO = "creates"
DEADLINE = 10.0
TIMEOUT = 0.5  # per read: a stall of STALL seconds times out
STALL = 0.8
HANG_MARGIN = 1.5
PAGE = 100

# Fault of a create: (name, share of creates, whether the order is stored before it).
CREATE_FAULTS: tuple[tuple[str, float, bool], ...] = (
    ("reset before acting", 0.05, False),
    ("reset after acting", 0.05, True),
    ("closed after acting", 0.03, True),
    ("reset mid-body after acting", 0.04, True),
    ("stall after acting", 0.03, True),
    ("500 after acting", 0.03, True),
    ("503 before acting", 0.03, False),
    ("429 before acting", 0.04, False),
)
READ_FAULT_RATE = 0.10


class _Seller:
    """A seller of service orders with a store, injecting faults at random (seeded)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.orders: list[dict[str, Any]] = []
        self.faults: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Action:
        with self.lock:
            if request.method == "POST":
                return self._create(request)
            if self.rng.random() < READ_FAULT_RATE:
                kind = self.rng.choice(["reset", "close", "503"])
                self.faults[f"read: {kind}"] += 1
                if kind == "reset":
                    return Reset("after_read")
                if kind == "close":
                    return Close()
                return Reply.json({"code": "unavailable", "reason": "busy"}, status=503)
            return self._read(request)

    def _pick(self) -> tuple[str, bool] | None:
        draw = self.rng.random()
        for name, share, acts in CREATE_FAULTS:
            if draw < share:
                return name, acts
            draw -= share
        return None

    def _create(self, request: Request) -> Action:
        fault = self._pick()
        acts = fault is None or fault[1]
        order: dict[str, Any] = {}
        if acts:
            order = {
                **request.json(),
                "id": f"so-{len(self.orders) + 1}",
                "state": "acknowledged",
                "orderDate": datetime.now(timezone.utc).isoformat(),
            }
            self.orders.append(order)
        if fault is None:
            return Reply.json(order, status=201)
        name = fault[0]
        self.faults[name] += 1
        if name.startswith("reset mid-body"):
            return Reset("mid_body", Reply.json(order, status=201))
        if name.startswith("reset"):
            return Reset("after_read")
        if name.startswith("closed"):
            return Close()
        if name.startswith("stall"):
            return Stall(STALL)
        if name.startswith("500"):
            return Reply.json({"code": "internalError", "reason": "oops"}, status=500)
        if name.startswith("503"):
            return Reply.json({"code": "unavailable", "reason": "busy"}, status=503)
        return Reply.json({"code": "tooMany", "reason": "slow down"}, 429, {"Retry-After": "0.05"})

    def _read(self, request: Request) -> Action:
        if request.path.endswith("/serviceOrder"):
            query = parse_qs(request.query)
            items = self.orders
            since = query.get("orderDate.gt")
            if since:
                after = datetime.fromisoformat(since[0].replace("Z", "+00:00"))
                items = [o for o in items if datetime.fromisoformat(o["orderDate"]) > after]
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", [str(PAGE)])[0])
            page = items[offset : offset + limit]
            return Reply.json(page, headers={"X-Total-Count": str(len(items))})
        wanted = request.path.rsplit("/", 1)[1]
        for order in self.orders:
            if order["id"] == wanted:
                return Reply.json(order)
        return Reply.json({"code": "notFound", "reason": "no such order"}, status=404)


@dataclass
class _Tally:
    succeeded: int = 0
    unknown: int = 0
    unknown_found: int = 0
    unknown_created: int = 0
    told_failed_but_created: int = 0
    hangs: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0


def _way(count: int, seed: int, *, retry: bool, keyed: bool) -> tuple[_Tally, _Seller, float]:
    seller = _Seller(seed)
    tally = _Tally()
    started = time.monotonic()
    with (
        FaultySeller(seller) as server,
        AllegroClient(server.url, timeout=TIMEOUT, retry_non_idempotent=retry) as client,
    ):
        base = example_service_order()
        for number in range(count):
            body = {**base, "description": f"call-{number}"}
            if keyed:
                body["externalId"] = f"chaos-{seed}-{number}"
            else:
                body.pop("externalId", None)
            call_started = time.monotonic()
            failure: LSOError | None = None
            try:
                client.service_orders.create(body, deadline=DEADLINE)
                tally.succeeded += 1
            except LSOError as exc:
                failure = exc
            elapsed = time.monotonic() - call_started
            tally.slowest = max(tally.slowest, elapsed)
            if elapsed > DEADLINE + HANG_MARGIN:
                tally.hangs += 1
            if failure is None:
                continue
            created = any(o.get("description") == body["description"] for o in seller.orders)
            if isinstance(failure, OutcomeUnknownError):
                tally.unknown += 1
                tally.unknown_created += created
                if keyed and _reconciled(client, body):
                    tally.unknown_found += 1
            else:
                tally.errors[type(failure).__name__] += 1
                if created:
                    tally.told_failed_but_created += 1
    return tally, seller, time.monotonic() - started


def _reconciled(client: AllegroClient, body: dict[str, Any]) -> bool:
    for _ in range(5):  # the lookups meet faults too
        try:
            return client.service_orders.reconcile(body) is not None
        except LSOError:
            continue
    return False


def run(quick: bool) -> list[Figure]:
    """Run the three ways and return their figures."""
    count = 100 if quick else 1_000
    logging.getLogger("lso_client").setLevel(logging.ERROR)  # lenient parsing warns per order
    figures: list[Figure] = []
    ways = (
        ("default settings, externalId", False, True, 7),
        ("retry_non_idempotent + externalId", True, True, 8),
        ("retry_non_idempotent, no externalId", True, False, 9),
    )
    for label, retry, keyed, seed in ways:
        tally, seller, seconds = _way(count, seed, retry=retry, keyed=keyed)
        calls = Counter(o["description"] for o in seller.orders)
        duplicates = sum(n - 1 for n in calls.values())
        faults = sum(seller.faults.values())
        # Duplicates are the goal only where the SDK may send again (and can look up).
        duplicate_goal = "0" if (keyed or not retry) else ""
        figures += [
            Figure(
                SCENARIO,
                f"{label}: orders created / duplicates",
                f"{len(seller.orders):,} / {duplicates:,}",
                f"duplicates {duplicate_goal}" if duplicate_goal else "informative",
                duplicates == 0 if duplicate_goal else None,
                f"{count:,} creates, {tally.succeeded:,} succeeded; {faults:,} faults; "
                f"{seconds:.1f} s",
            ),
            Figure(
                SCENARIO,
                f"{label}: OutcomeUnknownError",
                f"{tally.unknown:,}",
                "",
                None,
                f"{tally.unknown_created:,} of them were created; reconcile() found "
                f"{tally.unknown_found:,}"
                if keyed
                else f"{tally.unknown_created:,} of them were created; no key to look up by",
            ),
            Figure(
                SCENARIO,
                f"{label}: other errors",
                f"{sum(tally.errors.values()):,}",
                "",
                None,
                ", ".join(f"{name} {n}" for name, n in tally.errors.most_common())
                + (
                    f"; {tally.told_failed_but_created} of them created anyway (5xx after acting)"
                    if tally.told_failed_but_created
                    else ""
                ),
            ),
            Figure(
                SCENARIO,
                f"{label}: hangs",
                f"{tally.hangs}",
                f"0 (deadline {DEADLINE:g} s + {HANG_MARGIN:g} s)",
                tally.hangs == 0,
                f"slowest call {tally.slowest:.1f} s",
            ),
        ]
    return figures
