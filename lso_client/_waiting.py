"""Waiting for long-running work to finish.

One loop serves every kind of wait: read the current state, stop when the goal
is met, otherwise sleep until the next poll or until a notification about the
subject arrives, whichever is first. With a listener subscribed through the
client, notifications wake the loop at once; either way polls back off from
`poll_interval` to `max_poll_interval`, so a lost or unsubscribed event costs at
most one poll interval.

Two goals exist: one object reaching a final state (`wait(id)`), and enough of
the objects a job produces (reports, results) reaching one (`wait_for_job(id)`).

`progress` is called with what each poll read. `on_interrupt`, when given, runs once
if the wait is interrupted (KeyboardInterrupt; in async code also the task being
cancelled), before the interruption goes on: a job's wait uses it to ask the seller to
cancel the job (`wait(id, cancel_on_interrupt=True)`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._errors import LSOError
from ._logging import logger

__all__ = [
    "Goal",
    "WaitTimeoutError",
    "collected",
    "final_state",
    "ref_body",
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


def ref_body(body_model: Any, id: str) -> dict[str, Any]:
    """The body of a task request about object `id` (a job's cancel request): the one
    required reference of `body_model`, holding `id` as its one required string field
    (`{"performanceJob": {"performanceJobId": id}}`, `{"testJob": {"id": id}}`)."""
    from pydantic import BaseModel

    for name, field in body_model.model_fields.items():
        ref = field.annotation
        if field.is_required() and isinstance(ref, type) and issubclass(ref, BaseModel):
            for inner, id_field in ref.model_fields.items():
                if id_field.is_required() and id_field.annotation is str:
                    return {field.alias or name: {id_field.alias or inner: id}}
    raise TypeError(f"{body_model.__name__} holds no reference to an object by id")


def _on_interrupt_done(subject: str | None, created: Any) -> None:
    logger.warning(
        "Wait for %s interrupted: request %s sent to the seller (state %s)",
        subject,
        getattr(created, "id", None),
        state_of(created),
    )


def _on_interrupt_failed(subject: str | None, exc: BaseException) -> None:
    logger.error("Wait for %s interrupted: the request on interrupt failed: %s", subject, exc)


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
    progress: Callable[[T], object] | None = None,
    on_interrupt: Callable[[], Any] | None = None,
) -> T:
    """Call `read` until `goal` is met and return what it read; poll with backoff from
    `poll_interval` to `max_poll_interval`, and wake at once when one of `listeners`
    accepts an event of `event_types` about `subject` (about anything: None). Raises
    `WaitTimeoutError` after `timeout` seconds. `progress` sees what each poll read;
    `on_interrupt` runs on KeyboardInterrupt, which then goes on."""
    woken = threading.Event()
    tap = _waker(event_types, subject, woken.set)
    for listener in listeners:
        listener.add_tap(tap)
    try:
        deadline = time.monotonic() + timeout
        for delay in _delays(poll_interval, max_poll_interval):
            woken.clear()
            current = read()
            if progress is not None:
                progress(current)
            if goal.done(current):
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timed_out(goal, current, timeout)
            woken.wait(min(delay, remaining))
        raise AssertionError("unreachable")
    except KeyboardInterrupt:
        if on_interrupt is not None:
            try:
                _on_interrupt_done(subject, on_interrupt())
            except Exception as exc:
                _on_interrupt_failed(subject, exc)
        raise
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
    progress: Callable[[T], object] | None = None,
    on_interrupt: Callable[[], Awaitable[Any]] | None = None,
) -> T:
    """`wait_sync` for async code: `read` is awaited, the listener's wake-up is handed
    to this event loop; `on_interrupt` is awaited when the task is cancelled (or
    KeyboardInterrupt reaches it), which then goes on."""
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
            if progress is not None:
                progress(current)
            if goal.done(current):
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timed_out(goal, current, timeout)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), min(delay, remaining))
        raise AssertionError("unreachable")
    except (asyncio.CancelledError, KeyboardInterrupt):
        if on_interrupt is not None:
            try:
                # Shielded: a second cancellation while the request is out does not lose it.
                _on_interrupt_done(subject, await asyncio.shield(on_interrupt()))
            except Exception as exc:
                _on_interrupt_failed(subject, exc)
        raise
    finally:
        for listener in listeners:
            listener.remove_tap(tap)
