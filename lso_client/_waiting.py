"""Waiting for long-running work to finish.

One loop serves every kind of work: read the current state, stop when it is
final, otherwise sleep until the next poll or until a notification about the
object arrives, whichever is first. With a listener subscribed through the
client, notifications wake the loop at once and polling only guards against
lost events; without one, polls back off from `poll_interval` to `max_poll_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from ._errors import LSOError

__all__ = ["WaitTimeoutError", "state_of", "wait_async", "wait_sync"]

T = TypeVar("T")

# Even with a listener, look now and then: a seller may drop a notification.
_LISTENER_POLL_INTERVAL = 30.0


class WaitTimeoutError(LSOError, TimeoutError):
    """The work did not reach a final state in time; `last` is what was last read."""

    def __init__(self, message: str, *, last: Any) -> None:
        super().__init__(message)
        self.last = last


def state_of(obj: Any) -> str | None:
    value = getattr(obj, "state", None)
    if value is None and isinstance(obj, dict):
        value = obj.get("state")
    return getattr(value, "value", value)


def _event_subject(notification: Any) -> str | None:
    event = getattr(notification, "event", None)
    found = event.get("id") if isinstance(event, dict) else getattr(event, "id", None)
    return str(found) if found is not None else None


def _waker(
    event_types: Collection[str], subject: str, wake: Callable[[], None]
) -> Callable[[Any], None]:
    def tap(notification: Any) -> None:
        if notification.event_type in event_types and _event_subject(notification) == subject:
            wake()

    return tap


def _delays(poll_interval: float, max_poll_interval: float, listening: bool) -> Any:
    delay = poll_interval
    while True:
        yield _LISTENER_POLL_INTERVAL if listening else delay
        delay = min(delay * 1.5, max_poll_interval)


def wait_sync(
    read: Callable[[], T],
    *,
    subject: str,
    final_states: Collection[str],
    event_types: Collection[str],
    listeners: list[Any],
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
    what: str,
) -> T:
    woken = threading.Event()
    tap = _waker(event_types, subject, woken.set)
    for listener in listeners:
        listener.add_tap(tap)
    try:
        deadline = time.monotonic() + timeout
        for delay in _delays(poll_interval, max_poll_interval, bool(listeners)):
            woken.clear()
            current = read()
            if state_of(current) in final_states:
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"{what} {subject} is still {state_of(current)} after {timeout:g} s",
                    last=current,
                )
            woken.wait(min(delay, remaining))
        raise AssertionError("unreachable")
    finally:
        for listener in listeners:
            listener.remove_tap(tap)


async def wait_async(
    read: Callable[[], Awaitable[T]],
    *,
    subject: str,
    final_states: Collection[str],
    event_types: Collection[str],
    listeners: list[Any],
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
    what: str,
) -> T:
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()
    # Taps run on the listener's thread: hand the wake-up to this loop.
    def wake() -> None:
        loop.call_soon_threadsafe(woken.set)

    tap = _waker(event_types, subject, wake)
    for listener in listeners:
        listener.add_tap(tap)
    try:
        deadline = time.monotonic() + timeout
        for delay in _delays(poll_interval, max_poll_interval, bool(listeners)):
            woken.clear()
            current = await read()
            if state_of(current) in final_states:
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"{what} {subject} is still {state_of(current)} after {timeout:g} s",
                    last=current,
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), min(delay, remaining))
        raise AssertionError("unreachable")
    finally:
        for listener in listeners:
            listener.remove_tap(tap)
