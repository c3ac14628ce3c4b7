"""The retry policy: what may be retried, how long to wait, and the tenacity adapter.

Every decision lives in plain functions and in `CallPlan`, one per call, so the sync and
async transports behave identically. The first attempt of a call never touches tenacity
(it is imported only after a failure): `retry_sync` and `retry_async` take over from there.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timezone
from typing import TYPE_CHECKING, Final, NoReturn, TypeVar

import httpx

from . import _logging
from ._deadline import DEADLINE_SLACK, Deadline, DeadlineExceeded, deadline_error
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    OutcomeUnknownError,
    OutcomeUnknownTimeoutError,
    RateLimitError,
)

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState, Retrying

__all__ = [
    "BACKOFF_BASE",
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "CallPlan",
    "backoff_delay",
    "is_retryable_error",
    "parse_retry_after",
    "retry_async",
    "retry_sync",
]

BACKOFF_BASE = 0.5
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Errors raised before a single byte of the request left the client: safe to resend even a POST.
NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_R = TypeVar("_R")


def is_retryable_error(exc: BaseException, method: str, *, retry_non_idempotent: bool) -> bool:
    """Whether the failure of one attempt may be retried (budget and waits aside).

    Idempotent methods are retried on connection errors, timeouts and 408/429/500/502/503/504.
    POST and PATCH may create or change something twice, so by default they are retried only
    when the request provably never reached the server (connect phase, pool exhaustion) or
    the seller answered 429 (it did not act).
    """
    if isinstance(exc, DeadlineExceeded):
        return False
    repeatable = method.upper() in IDEMPOTENT_METHODS or retry_non_idempotent
    if isinstance(exc, APIStatusError):
        if exc.status_code == 429:
            return True
        return exc.status_code in RETRYABLE_STATUSES and repeatable
    if isinstance(exc, OutcomeUnknownError):
        return repeatable
    if isinstance(exc, APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, NOT_SENT_ERRORS):
            return True
        return isinstance(cause, httpx.TransportError) and repeatable
    return False


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `Retry-After`.

    `Retry-After` may be delta-seconds or an HTTP-date; a date in the past means 0. Returns
    None when absent or unreadable. `now` is a POSIX timestamp (defaults to the current time).
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            ms = float(raw_ms)
        except ValueError:
            ms = -1.0
        if ms >= 0 and ms != float("inf"):
            return ms / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(retry: int, *, max_delay: float, rand: Callable[[], float]) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max_delay, 0.5 * 2**retry)).

    `retry` counts from 0 for the first retry. Full jitter spreads clients that failed
    together, so they do not come back together.
    """
    ceiling = min(max_delay, BACKOFF_BASE * (2.0 ** min(retry, 32)))
    return max(0.0, rand() * ceiling)


def _describe(exc: BaseException) -> str:
    """Short reason for logs; never includes bodies or query strings."""
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code} {exc.response.reason_phrase}".strip()
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__


@dataclass
class CallPlan:
    """Retry bookkeeping for one call, consulted by tenacity's retry/stop/wait hooks.

    `retry` is always evaluated first by tenacity, so it computes the whole decision; `stop`
    and `wait` only read it, which keeps the result independent of tenacity's hook order.
    """

    method: str
    url: str
    max_retries: int
    retry_non_idempotent: bool
    max_retry_delay: float
    max_retry_after: float
    deadline: Deadline | None
    rand: Callable[[], float]
    attempts: int = 0
    next_wait: float = 0.0
    stop_reason: str | None = None
    last_request: httpx.Request | None = field(default=None, repr=False)
    # The Retry-After of the last answer, in seconds, if it had one.
    last_retry_after: float | None = None
    # An attempt of a POST/PATCH may have reached the seller unanswered (and no lookup
    # has shown since that nothing was created).
    outcome_unknown: bool = False
    # Look up what the last attempt may have created before sending again.
    reconcile_due: bool = False

    @property
    def retries_taken(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS

    def time_left(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline.remaining()

    def may_retry(self, exc: BaseException) -> bool:
        return is_retryable_error(exc, self.method, retry_non_idempotent=self.retry_non_idempotent)

    def retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        exc = outcome.exception()
        if exc is None or not self.may_retry(exc):
            return False
        self.stop_reason = None
        if self.retries_taken >= self.max_retries:
            self.stop_reason = "exhausted"
            return True
        server_wait = (
            parse_retry_after(exc.response.headers) if isinstance(exc, APIStatusError) else None
        )
        self.last_retry_after = server_wait
        if server_wait is not None and server_wait > self.max_retry_after:
            self.stop_reason = "retry-after"
            return True
        wait = (
            server_wait
            if server_wait is not None
            else backoff_delay(self.retries_taken, max_delay=self.max_retry_delay, rand=self.rand)
        )
        if self.deadline is not None and wait >= self.deadline.remaining():
            # Sleeping would take us past the deadline: give up now rather than sleep in vain.
            self.stop_reason = "deadline"
            return True
        self.next_wait = wait
        self.reconcile_due = not self.idempotent and (
            isinstance(exc, OutcomeUnknownError)
            or (isinstance(exc, APIStatusError) and exc.status_code >= 500)
        )
        return True

    def stop(self, state: RetryCallState) -> bool:
        return self.stop_reason is not None

    def wait(self, state: RetryCallState) -> float:
        return self.next_wait

    def before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        _logging.log_retry(
            self.method,
            self.url,
            retry=self.attempts,
            max_retries=self.max_retries,
            delay=self.next_wait,
            reason=_describe(exc) if exc is not None else "error",
        )

    def give_up(self, state: RetryCallState) -> NoReturn:
        assert state.outcome is not None
        exc = state.outcome.exception()
        assert exc is not None
        if self.stop_reason == "deadline" and self.deadline is not None:
            raise deadline_error(
                self.deadline.seconds,
                self.last_request,
                self.attempts,
                last=exc,
                retry_after=self.last_retry_after,
                outcome_unknown=self.outcome_unknown,
            ) from exc
        if self.stop_reason == "retry-after" and isinstance(exc, RateLimitError):
            raise RateLimitError(
                f"{exc.message}; Retry-After {self.last_retry_after:g}s is above "
                f"max_retry_after={self.max_retry_after:g}s, so the call was not retried",
                response=exc.response,
                body=exc.body,
            ) from exc
        raise exc

    def final_error(self, exc: APIError) -> APIError:
        """The error to raise when the call ends with `exc`: an `OutcomeUnknownError`
        (chaining `exc`) if an earlier attempt may have reached the seller unanswered, since
        the answer to a later one says nothing of it."""
        if not self.outcome_unknown or isinstance(exc, OutcomeUnknownError):
            return exc
        if isinstance(exc, (APIConnectionError, APIStatusError)):
            return OutcomeUnknownError(
                f"{exc.message} An earlier attempt may have reached the seller: the seller "
                "may or may not have acted on the request.",
                request=self.last_request,
            )
        return exc

    def unreconciled(self, exc: Exception) -> OutcomeUnknownError:
        """The error when looking up what an unanswered attempt created failed (the
        lookup counts as an attempt, so failing lookups use up the retries)."""
        self.attempts += 1
        return OutcomeUnknownError(
            f"{self.method} {_logging.redact_url(self.url)}: an attempt may have reached the "
            f"seller unanswered, and looking up whether it acted failed: {exc}",
            request=self.last_request,
        )

    def start_attempt(self) -> tuple[int, float | None]:
        """Count an attempt; return its retry number and the time left before the deadline."""
        self.attempts += 1
        if self.deadline is None:
            return self.retries_taken, None
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise deadline_error(
                self.deadline.seconds,
                self.last_request,
                self.attempts - 1,
                outcome_unknown=self.outcome_unknown,
            )
        return self.retries_taken, remaining

    def translate(self, exc: httpx.RequestError, request: httpx.Request) -> APIConnectionError:
        """Map an httpx failure to the SDK's error (the caller chains the cause).

        A POST or PATCH that failed after it may have been sent gives an
        `OutcomeUnknownError`; one that never left (connect phase) a plain
        `APIConnectionError` (or `APITimeoutError`).
        """
        where = f"{request.method} {_logging.redact_url(request.url)}"
        name = type(exc).__name__
        not_sent = isinstance(exc, NOT_SENT_ERRORS)
        if not self.idempotent and not not_sent:
            self.outcome_unknown = True
        if isinstance(exc, httpx.TimeoutException):
            if self.deadline is not None and self.deadline.remaining() <= DEADLINE_SLACK:
                return deadline_error(
                    self.deadline.seconds,
                    request,
                    self.attempts,
                    outcome_unknown=self.outcome_unknown,
                )
            if self.idempotent:
                return APITimeoutError(f"{where} timed out ({name}).", request=request)
            if not_sent:
                return APITimeoutError(
                    f"{where} timed out before the request was sent ({name}).", request=request
                )
            return OutcomeUnknownTimeoutError(
                f"{where} timed out ({name}) after the request was sent: the seller may or "
                "may not have acted on it.",
                request=request,
            )
        if self.idempotent:
            return APIConnectionError(f"{where} failed: {name}: {exc}", request=request)
        if not_sent:
            return APIConnectionError(
                f"{where} failed before the request was sent: {name}: {exc}", request=request
            )
        return OutcomeUnknownError(
            f"{where}: the connection failed after the request was sent ({name}: {exc}): the "
            "seller may or may not have acted on it.",
            request=request,
        )


# --------------------------------------------------------------------------- tenacity adapter


def _release(retrying: Retrying | AsyncRetrying) -> None:
    """Drop tenacity's per-call state: its pending actions close over the call's
    outcome and form a reference cycle with the retrier, which would keep every
    response (a whole page) alive until a full collection."""
    retrying.iter_state.reset()


def retry_sync(
    plan: CallPlan,
    first_failure: Exception,
    attempt: Callable[[], _R],
    sleep: Callable[[float], None],
) -> _R:
    """Carry on a call whose first attempt failed with `first_failure` (a retryable error)."""
    failed = [first_failure]

    def again() -> _R:
        # The first attempt is replayed to tenacity, which decides from there.
        if failed:
            raise failed.pop()
        return attempt()

    from tenacity import Retrying  # needed only once a call has failed

    retrying = Retrying(
        retry=plan.retry,
        stop=plan.stop,
        wait=plan.wait,
        sleep=sleep,
        before_sleep=plan.before_sleep,
        retry_error_callback=plan.give_up,
    )
    try:
        result: _R = retrying(again)
    except APIError as exc:
        final = plan.final_error(exc)
        if final is exc:
            raise
        raise final from exc
    finally:
        _release(retrying)
    return result


async def retry_async(
    plan: CallPlan,
    first_failure: Exception,
    attempt: Callable[[], Awaitable[_R]],
    sleep: Callable[[float], Awaitable[None]],
) -> _R:
    """`retry_sync` for coroutines."""
    failed = [first_failure]

    async def again() -> _R:
        if failed:
            raise failed.pop()
        return await attempt()

    async def wait(seconds: float) -> None:
        await sleep(seconds)

    from tenacity import AsyncRetrying  # needed only once a call has failed

    retrying = AsyncRetrying(
        retry=plan.retry,
        stop=plan.stop,
        wait=plan.wait,
        sleep=wait,
        before_sleep=plan.before_sleep,
        retry_error_callback=plan.give_up,
    )
    try:
        result: _R = await retrying(again)
    except APIError as exc:
        final = plan.final_error(exc)
        if final is exc:
            raise
        raise final from exc
    finally:
        _release(retrying)
    return result


async def sleep_async(seconds: float) -> None:
    """The async transports' sleep between attempts."""
    import anyio  # imported on the first retry, not at start-up

    await anyio.sleep(seconds)
