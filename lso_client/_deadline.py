"""The per-call deadline: time left, timeouts capped to it, and the error when it passes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._errors import APITimeoutError
from ._options import TimeoutTypes

__all__ = [
    "DEADLINE_SLACK",
    "Deadline",
    "DeadlineExceeded",
    "as_timeout",
    "cap_timeout",
    "deadline_error",
]

# A timeout that fires within this margin of the deadline is reported as the deadline.
DEADLINE_SLACK = 0.001


class DeadlineExceeded(APITimeoutError):
    """The overall per-call deadline expired (a timeout that is never retried)."""


def deadline_error(seconds: float, request: httpx.Request | None, attempts: int) -> APITimeoutError:
    """The error of a call whose deadline of `seconds` passed after `attempts` attempts."""
    plural = "attempt" if attempts == 1 else "attempts"
    return DeadlineExceeded(
        f"Deadline of {seconds:g}s reached after {attempts} {plural}.", request=request
    )


class Deadline:
    """`seconds` from now on `clock`."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._end - self._clock()


def as_timeout(value: TimeoutTypes) -> httpx.Timeout:
    """`value` as an `httpx.Timeout`."""
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def cap_timeout(timeout: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    """Limit every phase of `timeout` to `remaining` seconds (None: no deadline)."""
    if remaining is None:
        return timeout

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )
