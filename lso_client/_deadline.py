"""The per-call deadline: time left, timeouts capped to it, and the error when it passes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._errors import APIError, APITimeoutError, OutcomeUnknownTimeoutError, RateLimitError
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


class DeadlineOutcomeUnknown(DeadlineExceeded, OutcomeUnknownTimeoutError):
    """The deadline expired while a POST or PATCH may have reached the seller."""


def deadline_error(
    seconds: float,
    request: httpx.Request | None,
    attempts: int,
    *,
    last: BaseException | None = None,
    retry_after: float | None = None,
    outcome_unknown: bool = False,
) -> APITimeoutError:
    """The error of a call whose deadline of `seconds` passed after `attempts` attempts.

    `last` is the failure of the last attempt, named in the message when it was an answer
    of the seller (a 429 asking to wait `retry_after` seconds, past the deadline);
    `outcome_unknown` when an
    attempt of a POST or PATCH may have reached the seller unanswered.
    """
    plural = "attempt" if attempts == 1 else "attempts"
    message = f"Deadline of {seconds:g}s reached after {attempts} {plural}"
    if isinstance(last, RateLimitError):
        message += f"; the last answer was 429 {last.response.reason_phrase}".rstrip()
        if retry_after is not None:
            message += f", asking to wait {retry_after:g}s"
    elif isinstance(last, APIError):
        message += f"; the last attempt failed: {last.message}"
    if outcome_unknown:
        message += "; the seller may or may not have acted on the request"
        return DeadlineOutcomeUnknown(message + ".", request=request)
    return DeadlineExceeded(message + ".", request=request)


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
