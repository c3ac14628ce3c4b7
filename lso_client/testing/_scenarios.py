"""Scripts that drive a mock Service Order from `acknowledged` to its final state.

A script is a list of steps for an order with `n` items; each step moves some items
to a new state and the order state is derived from the items as MEF W99.1 §6.1.7
says. Steps run `step_delay` apart; a step may pause the script until the test calls
`MockSeller.release` or `MockSeller.provide_information`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ITEM_TRANSITIONS",
    "ORDER_STATES",
    "SCENARIOS",
    "TERMINAL_STATES",
    "Scenario",
    "ScenarioPicker",
    "Step",
    "check_script",
    "derive_order_state",
    "resolve",
]

ORDER_STATES = frozenset(
    {"acknowledged", "rejected", "pending", "held", "inProgress", "completed", "failed", "partial"}
)
TERMINAL_STATES = frozenset({"completed", "failed", "partial", "rejected"})

# The Service Order Item state machine (the order's, without `partial`).
ITEM_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "acknowledged": frozenset({"inProgress", "rejected"}),
    "inProgress": frozenset({"completed", "failed", "pending", "held"}),
    "pending": frozenset({"inProgress", "failed"}),
    "held": frozenset({"inProgress"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "rejected": frozenset(),
}

Pause = Literal["release", "information"]


@dataclass(frozen=True)
class Step:
    """Move the items at the given positions to new states.

    `information_required` sends `serviceOrderInformationRequiredEvent` after the
    state changes; `wait_for` pauses the script after this step until
    `MockSeller.release` ("release") or `MockSeller.provide_information`
    ("information") is called for the order.
    """

    items: Mapping[int, str]
    wait_for: Pause | None = None
    information_required: bool = False


@dataclass(frozen=True)
class Scenario:
    """A named script: `script(n)` returns the steps for an order with `n` items."""

    name: str
    script: Callable[[int], Sequence[Step]]
    description: str = field(default="", compare=False)


def derive_order_state(item_states: Sequence[str]) -> str:
    """The order state implied by its items' states (W99.1 Table 7)."""
    states = set(item_states)
    if "rejected" in states:
        return "rejected"
    if states == {"acknowledged"}:
        return "acknowledged"
    # An order that waits on one item waits as a whole, even while others progress.
    if "held" in states:
        return "held"
    if "pending" in states:
        return "pending"
    if states == {"completed"}:
        return "completed"
    if states == {"failed"}:
        return "failed"
    if states == {"completed", "failed"}:
        return "partial"
    return "inProgress"


def check_script(scenario: Scenario, n_items: int) -> list[Step]:
    """The steps for `n_items`, or ValueError if they break the item state machine."""
    steps = list(scenario.script(n_items))
    states = ["acknowledged"] * n_items
    for number, step in enumerate(steps):
        for position, new in step.items.items():
            if not 0 <= position < n_items:
                raise ValueError(
                    f"scenario {scenario.name!r} step {number} names item {position} "
                    f"of an order with {n_items} item(s)"
                )
            if new not in ITEM_TRANSITIONS[states[position]]:
                raise ValueError(
                    f"scenario {scenario.name!r} step {number} moves item {position} "
                    f"from {states[position]!r} to {new!r}, which the state machine forbids"
                )
            states[position] = new
    return steps


def _start(n: int) -> list[Step]:
    return [Step({i: "inProgress"}) for i in range(n)]


def _finish(n: int, state: str, first: int = 0) -> list[Step]:
    return [Step({i: state}) for i in range(first, n)]


def _completed(n: int) -> list[Step]:
    return _start(n) + _finish(n, "completed")


def _failed(n: int) -> list[Step]:
    return _start(n) + _finish(n, "failed")


def _partial(n: int) -> list[Step]:
    if n < 2:
        # `partial` needs one completed and one failed item; a single item just fails.
        return _failed(n)
    return [*_start(n), Step({0: "completed"}), *_finish(n, "failed", 1)]


def _held(n: int) -> list[Step]:
    return [
        *_start(n),
        Step({0: "held"}, wait_for="release"),
        Step({0: "inProgress"}),
        *_finish(n, "completed"),
    ]


def _pending(n: int) -> list[Step]:
    return [
        *_start(n),
        Step({0: "pending"}, wait_for="information", information_required=True),
        Step({0: "inProgress"}),
        *_finish(n, "completed"),
    ]


def _rejected(n: int) -> list[Step]:
    return [Step(dict.fromkeys(range(n), "rejected"))]


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("completed", _completed, "every item goes inProgress, then completed"),
        Scenario("failed", _failed, "every item goes inProgress, then failed"),
        Scenario(
            "partial",
            _partial,
            "first item completed, the others failed; with one item the order fails",
        ),
        Scenario(
            "held",
            _held,
            "first item held until MockSeller.release(order_id), then all complete",
        ),
        Scenario(
            "pending",
            _pending,
            "first item pending with serviceOrderInformationRequiredEvent until "
            "MockSeller.provide_information(order_id), then all complete",
        ),
        Scenario("rejected", _rejected, "every item and the order rejected at once"),
    )
}


def resolve(scenario: str | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        for n in (1, 2, 3):
            check_script(scenario, n)
        return scenario
    try:
        return SCENARIOS[scenario]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise ValueError(f"unknown scenario {scenario!r}; known: {known}") from None


@dataclass
class _Queued:
    scenario: Scenario
    left: int


class ScenarioPicker:
    """Which scenario the next created order follows.

    `set(s)` makes `s` the standing choice; `set(s, count=k)` queues `s` for the next
    `k` orders only, after which the standing choice applies again.
    """

    def __init__(self, default: str = "completed") -> None:
        self._standing = SCENARIOS[default]
        self._queued: deque[_Queued] = deque()
        self._lock = threading.Lock()

    def set(self, scenario: str | Scenario, *, count: int | None = None) -> None:
        chosen = resolve(scenario)
        with self._lock:
            if count is None:
                self._queued.clear()
                self._standing = chosen
            elif count < 0:
                raise ValueError("count must not be negative")
            elif count:
                self._queued.append(_Queued(chosen, count))

    def next(self) -> Scenario:
        with self._lock:
            if not self._queued:
                return self._standing
            entry = self._queued[0]
            entry.left -= 1
            if entry.left <= 0:
                self._queued.popleft()
            return entry.scenario
