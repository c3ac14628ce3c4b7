"""Waiting for long-running work to finish.

One loop serves every kind of wait: read the current state, stop when the goal
is met, otherwise sleep until the next poll or until a notification about the
subject arrives, whichever is first. With a listener subscribed through the
client, notifications wake the loop at once; either way polls back off from
`poll_interval` to `max_poll_interval`, so a lost or unsubscribed event costs at
most one poll interval.

Two goals exist: one object reaching a final state (`wait(id)`), and enough of
the objects a job produces (reports, results) reaching one (`wait_for_job(id)`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._errors import LSOError

__all__ = [
    "Goal",
    "WaitTimeoutError",
    "collected",
    "final_state",
    "state_of",
    "wait_async",
    "wait_sync",
]

T = TypeVar("T")
# A goal judging any object judges a service order too (`Goal[object]` is a `Goal[ServiceOrder]`).
T_contra = TypeVar("T_contra", contravariant=True)


class WaitTimeoutError(LSOError, TimeoutError):
    """The work did not finish in time; `last` is what was last read."""

    def __init__(self, message: str, *, last: Any) -> None:
        super().__init__(message)
        self.last = last


def state_of(obj: Any) -> str | None:
    """The `state` of a model or dict, as text (an enum's value); None without one."""
    value = getattr(obj, "state", None)
    if value is None and isinstance(obj, dict):
        value = obj.get("state")
    return getattr(value, "value", value)


@dataclass(frozen=True)
class Goal(Generic[T_contra]):
    """When a wait is over, and how to say where it stands."""

    done: Callable[[T_contra], bool]
    describe: Callable[[T_contra], str]


def final_state(what: str, subject: str, final_states: Collection[str]) -> Goal[object]:
    """`subject` has reached one of `final_states`."""
    states = frozenset(final_states)
    return Goal(
        done=lambda obj: state_of(obj) in states,
        describe=lambda obj: f"{what} {subject} is still {state_of(obj)}",
    )


def collected(
    what: str, subject: str, count: int, final_states: Collection[str]
) -> Goal[Sequence[object]]:
    """At least `count` of the listed objects are in a final state (any state when
    `final_states` is empty)."""
    states = frozenset(final_states)

    def ready(items: Sequence[object]) -> int:
        return sum(1 for item in items if not states or state_of(item) in states)

    return Goal(
        done=lambda items: ready(items) >= count,
        describe=lambda items: f"{what} of {subject}: {ready(items)} of {count} ready",
    )


def _event_subject(notification: Any) -> str | None:
    event = getattr(notification, "event", None)
    found = event.get("id") if isinstance(event, dict) else getattr(event, "id", None)
    return str(found) if found is not None else None


def _waker(
    event_types: Collection[str], subject: str | None, wake: Callable[[], None]
) -> Callable[[Any], None]:
    """A tap waking the wait on these events about `subject` (about anything: None)."""

    def tap(notification: Any) -> None:
        if notification.event_type in event_types and (
            subject is None or _event_subject(notification) == subject
        ):
            wake()

    return tap


def _delays(poll_interval: float, max_poll_interval: float) -> Iterator[float]:
    delay = poll_interval
    while True:
        yield delay
        delay = min(delay * 1.5, max_poll_interval)


def _timed_out(goal: Goal[Any], current: Any, timeout: float) -> WaitTimeoutError:
    return WaitTimeoutError(f"{goal.describe(current)} after {timeout:g} s", last=current)


def wait_sync(
    read: Callable[[], T],
    goal: Goal[T],
    *,
    subject: str | None,
    event_types: Collection[str],
    listeners: list[Any],
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
) -> T:
    """Call `read` until `goal` is met and return what it read; poll with backoff from
    `poll_interval` to `max_poll_interval`, and wake at once when one of `listeners`
    accepts an event of `event_types` about `subject` (about anything: None). Raises
    `WaitTimeoutError` after `timeout` seconds."""
    woken = threading.Event()
    tap = _waker(event_types, subject, woken.set)
    for listener in listeners:
        listener.add_tap(tap)
    try:
        deadline = time.monotonic() + timeout
        for delay in _delays(poll_interval, max_poll_interval):
            woken.clear()
            current = read()
            if goal.done(current):
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timed_out(goal, current, timeout)
            woken.wait(min(delay, remaining))
        raise AssertionError("unreachable")
    finally:
        for listener in listeners:
            listener.remove_tap(tap)


async def wait_async(
    read: Callable[[], Awaitable[T]],
    goal: Goal[T],
    *,
    subject: str | None,
    event_types: Collection[str],
    listeners: list[Any],
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
) -> T:
    """`wait_sync` for async code: `read` is awaited, the listener's wake-up is handed
    to this event loop."""
    import asyncio  # only async waits need it: kept out of the first call of a resource

    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        # Taps run on the listener's thread: hand the wake-up to this loop. The listener
        # may call a tap it took just before the wait ended and its loop closed.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(woken.set)

    tap = _waker(event_types, subject, wake)
    for listener in listeners:
        listener.add_tap(tap)
    try:
        deadline = time.monotonic() + timeout
        for delay in _delays(poll_interval, max_poll_interval):
            woken.clear()
            current = await read()
            if goal.done(current):
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timed_out(goal, current, timeout)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), min(delay, remaining))
        raise AssertionError("unreachable")
    finally:
        for listener in listeners:
            listener.remove_tap(tap)
