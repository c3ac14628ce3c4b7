"""The HTTP core shared by every lso-client API: headers, query encoding, retries, deadline.

`SyncTransport` and `AsyncTransport` are thin shells around httpx and tenacity; every decision
(what to retry, how long to wait, how to encode a query value, how to read `Retry-After`) lives
in plain functions below so both behave identically.
"""

from __future__ import annotations

import email.utils
import enum
import functools
import random
import re
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar

import certifi
import httpx
from typing_extensions import Self

from . import _logging
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RequestValidationError,
    error_for_response,
)
from ._shortcuts import request_url, use_set_cookie_jar
from ._version import __version__

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState, Retrying

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "RETRYABLE_STATUSES",
    "AsyncTransport",
    "NotGiven",
    "RequestOptions",
    "SyncTransport",
    "backoff_delay",
    "build_headers",
    "cap_timeout",
    "encode_query",
    "encode_query_value",
    "is_retryable_error",
    "parse_retry_after",
]

_logging.configure_from_env()


class NotGiven:
    """Sentinel for "not passed", so that ``None`` can keep its meaning (e.g. no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
BACKOFF_BASE = 0.5
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
RETRIES_TAKEN_EXTENSION = "lso_retries_taken"
# Errors raised before a single byte of the request left the client: safe to resend even a POST.
_NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# A timeout that fires within this margin of the deadline is reported as the deadline.
_DEADLINE_SLACK = 0.001

TimeoutTypes = float | httpx.Timeout | None
_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


USER_AGENT = f"lso-client/{__version__}"


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client the SDK creates: loading the CA
    bundle costs tens of milliseconds per context."""
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class RequestOptions:
    """Per-call options; anything left `NOT_GIVEN` falls back to the transport's setting."""

    timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN
    max_retries: int | NotGiven = NOT_GIVEN
    # Overall bound in seconds for the call, retries and waits included; None: unbounded.
    deadline: float | NotGiven | None = NOT_GIVEN
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, object] | None = None
    # Opt in to retrying POST/PATCH even when the request may have reached the server.
    retry_non_idempotent: bool | NotGiven = NOT_GIVEN


NO_OPTIONS: Final = RequestOptions()


# --------------------------------------------------------------------------- query encoding


def encode_query_value(name: str, value: object) -> list[str]:
    """Encode one query value as the strings to send (several for a list, none for None)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in encode_query_value(name, item)]
    if isinstance(value, enum.Enum):
        return encode_query_value(name, value.value)
    if isinstance(value, bool):  # before int: bool is an int subclass
        return ["true" if value else "false"]
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise RequestValidationError(
                f"query parameter {name!r}: datetime {value.isoformat()} has no UTC offset; "
                "the API needs an offset (e.g. datetime.now(timezone.utc))",
                errors=[{"loc": [name], "msg": "naive datetime", "type": "naive_datetime"}],
            )
        return [value.isoformat()]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, (str, int, float)):
        return [str(value)]
    raise RequestValidationError(
        f"query parameter {name!r}: unsupported value type {type(value).__name__}",
        errors=[{"loc": [name], "msg": "unsupported type", "type": "type_error"}],
    )


def encode_query(*params: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """Encode query mappings into `(name, value)` pairs; later mappings override earlier keys.

    Names are sent as given (`orderDate.gt`, `@type`); httpx percent-encodes `@` as `%40`,
    which servers decode back to `@type`.
    """
    merged: dict[str, object] = {}
    for mapping in params:
        if mapping:
            merged.update(mapping)
    return [
        (name, text) for name, value in merged.items() for text in encode_query_value(name, value)
    ]


# --------------------------------------------------------------------------- headers


def build_headers(*layers: Mapping[str, str] | None, has_content: bool) -> httpx.Headers:
    """Merge header layers (later wins) over the SDK defaults; add the JSON content type."""
    headers = httpx.Headers({"Accept": "application/json", "User-Agent": USER_AGENT})
    for layer in layers:
        if layer:
            for name, value in layer.items():
                headers[name] = value
    if has_content and "content-type" not in headers:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    return headers


# --------------------------------------------------------------------------- retry decisions


def _is_deadline_error(exc: BaseException) -> bool:
    return isinstance(exc, _DeadlineExceeded)


def is_retryable_error(exc: BaseException, method: str, *, retry_non_idempotent: bool) -> bool:
    """Whether the failure of one attempt may be retried (budget and waits aside).

    Idempotent methods are retried on connection errors, timeouts and 408/429/500/502/503/504.
    POST and PATCH may create or change something twice, so by default they are retried only
    when the request provably never reached the server (connect phase, pool exhaustion).
    """
    if _is_deadline_error(exc):
        return False
    repeatable = method.upper() in IDEMPOTENT_METHODS or retry_non_idempotent
    if isinstance(exc, APIStatusError):
        return exc.status_code in RETRYABLE_STATUSES and repeatable
    if isinstance(exc, APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, _NOT_SENT_ERRORS):
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


class _DeadlineExceeded(APITimeoutError):
    """The overall per-call deadline expired (a timeout that is never retried)."""


def _deadline_error(
    seconds: float, request: httpx.Request | None, attempts: int
) -> APITimeoutError:
    plural = "attempt" if attempts == 1 else "attempts"
    return _DeadlineExceeded(
        f"Deadline of {seconds:g}s reached after {attempts} {plural}.", request=request
    )


class _Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()


def _as_timeout(value: TimeoutTypes) -> httpx.Timeout:
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


async def _sleep_async(seconds: float) -> None:
    import anyio  # imported on the first retry, not at start-up

    await anyio.sleep(seconds)


def _release(retrying: Retrying | AsyncRetrying) -> None:
    """Drop tenacity's per-call state: its pending actions close over the call's
    outcome and form a reference cycle with the retrier, which would keep every
    response (a whole page) alive until a full collection."""
    retrying.iter_state.reset()


@dataclass
class _CallPlan:
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
    deadline: _Deadline | None
    rand: Callable[[], float]
    attempts: int = 0
    next_wait: float = 0.0
    stop_reason: str | None = None
    last_request: httpx.Request | None = field(default=None, repr=False)

    @property
    def retries_taken(self) -> int:
        return max(0, self.attempts - 1)

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
            raise _deadline_error(self.deadline.seconds, self.last_request, self.attempts) from exc
        raise exc

    def start_attempt(self) -> tuple[int, float | None]:
        """Count an attempt; return its retry number and the time left before the deadline."""
        self.attempts += 1
        if self.deadline is None:
            return self.retries_taken, None
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise _deadline_error(self.deadline.seconds, self.last_request, self.attempts - 1)
        return self.retries_taken, remaining

    def translate(self, exc: httpx.RequestError, request: httpx.Request) -> APIConnectionError:
        """Map an httpx failure to the SDK's error (the caller chains the cause)."""
        if isinstance(exc, httpx.TimeoutException):
            if self.deadline is not None and self.deadline.remaining() <= _DEADLINE_SLACK:
                return _deadline_error(self.deadline.seconds, request, self.attempts)
            return APITimeoutError(
                f"{request.method} {_logging.redact_url(request.url)} timed out "
                f"({type(exc).__name__}).",
                request=request,
            )
        return APIConnectionError(
            f"{request.method} {_logging.redact_url(request.url)} failed: "
            f"{type(exc).__name__}: {exc}",
            request=request,
        )


# --------------------------------------------------------------------------- transports


class _TransportBase(Generic[_C]):
    """Configuration and request building shared by the sync and async transports."""

    def __init__(
        self,
        *,
        auth: httpx.Auth | None,
        timeout: TimeoutTypes,
        max_retries: int,
        deadline: float | None,
        default_headers: Mapping[str, str] | None,
        retry_non_idempotent: bool,
        max_retry_delay: float,
        max_retry_after: float,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self.retry_non_idempotent = retry_non_idempotent
        self.max_retry_delay = max_retry_delay
        self.max_retry_after = max_retry_after
        # Injection points for tests and simulations; the defaults are the real thing.
        self._clock: Callable[[], float] = time.monotonic
        self._random: Callable[[], float] = random.random
        self._http_client: _C | None = None
        self._client_lock = threading.Lock()
        # Built once: most calls add nothing to them.
        self._timeout = _as_timeout(timeout)
        self._headers = {
            has_content: build_headers(self.default_headers, has_content=has_content)
            for has_content in (False, True)
        }

    def _new_client(self) -> _C:
        raise NotImplementedError

    @property
    def http_client(self) -> _C:
        """The httpx client: the one passed in, or one created on first use."""
        client = self._http_client
        if client is None:
            # Created on first use: building an httpx client (pool, TLS setup) costs
            # milliseconds that a script which never sends a request should not pay.
            with self._client_lock:
                client = self._http_client
                if client is None:
                    client = self._http_client = self._new_client()
                    use_set_cookie_jar(client)
        return client

    def _copy_settings(
        self,
        *,
        auth: httpx.Auth | NotGiven | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | NotGiven,
        deadline: float | NotGiven | None,
        default_headers: Mapping[str, str] | None,
        retry_non_idempotent: bool | NotGiven,
        max_retry_delay: float | NotGiven,
        max_retry_after: float | NotGiven,
    ) -> dict[str, Any]:
        headers = dict(self.default_headers)
        headers.update(default_headers or {})
        return {
            "auth": self.auth if isinstance(auth, NotGiven) else auth,
            "timeout": self.timeout if isinstance(timeout, NotGiven) else timeout,
            "max_retries": self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            "deadline": self.deadline if isinstance(deadline, NotGiven) else deadline,
            "default_headers": headers,
            "retry_non_idempotent": self.retry_non_idempotent
            if isinstance(retry_non_idempotent, NotGiven)
            else retry_non_idempotent,
            "max_retry_delay": self.max_retry_delay
            if isinstance(max_retry_delay, NotGiven)
            else max_retry_delay,
            "max_retry_after": self.max_retry_after
            if isinstance(max_retry_after, NotGiven)
            else max_retry_after,
        }

    def _plan(self, method: str, url: str, options: RequestOptions) -> _CallPlan:
        deadline = self.deadline if isinstance(options.deadline, NotGiven) else options.deadline
        max_retries = (
            self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries
        )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        return _CallPlan(
            method=method.upper(),
            url=url,
            max_retries=max_retries,
            retry_non_idempotent=self.retry_non_idempotent
            if isinstance(options.retry_non_idempotent, NotGiven)
            else options.retry_non_idempotent,
            max_retry_delay=self.max_retry_delay,
            max_retry_after=self.max_retry_after,
            deadline=None if deadline is None else _Deadline(deadline, self._clock),
            rand=self._random,
        )

    def _build_request(
        self,
        client: _C,
        plan: _CallPlan,
        *,
        params: Mapping[str, object] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        options: RequestOptions,
    ) -> httpx.Request:
        retries, remaining = plan.start_attempt()
        timeout = (
            self._timeout if isinstance(options.timeout, NotGiven) else _as_timeout(options.timeout)
        )
        has_content = content is not None
        if headers or options.extra_headers:
            merged = build_headers(
                self.default_headers, headers, options.extra_headers, has_content=has_content
            )
        else:
            merged = self._headers[has_content]
        if retries:
            merged = merged.copy()
            merged["X-Retry-Count"] = str(retries)
        # No params at all rather than empty ones: httpx parses the URL again for any params.
        query: tuple[tuple[str, str], ...] | None = None
        if params or options.extra_query:
            query = tuple(encode_query(params, options.extra_query))
        request = client.build_request(
            plan.method,
            request_url(plan.url),
            params=query,
            content=content,
            headers=merged,
            timeout=cap_timeout(timeout, remaining),
        )
        plan.last_request = request
        _logging.log_request(request, retries=retries)
        return request

    def _finish(
        self, plan: _CallPlan, request: httpx.Request, response: httpx.Response, started: float
    ) -> httpx.Response:
        _logging.log_response(
            request, response, elapsed=time.perf_counter() - started, retries=plan.retries_taken
        )
        response.extensions = {**response.extensions, RETRIES_TAKEN_EXTENSION: plan.retries_taken}
        # The body is read. httpx's stream wrapper points back at the response, a cycle
        # that would keep every body (a whole page) alive until a full collection.
        response.stream = httpx.ByteStream(response.content)
        if not response.is_success:
            raise error_for_response(response)
        return response

    def _fail(
        self, plan: _CallPlan, request: httpx.Request, exc: httpx.RequestError, started: float
    ) -> NoReturn:
        _logging.log_response(
            request,
            None,
            elapsed=time.perf_counter() - started,
            retries=plan.retries_taken,
            error=exc,
        )
        raise plan.translate(exc, request) from exc


class SyncTransport(_TransportBase[httpx.Client]):
    """Blocking transport over `httpx.Client`."""

    def __init__(
        self,
        *,
        http_client: httpx.Client | None = None,
        auth: httpx.Auth | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_non_idempotent: bool = False,
        max_retry_delay: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            default_headers=default_headers,
            retry_non_idempotent=retry_non_idempotent,
            max_retry_delay=max_retry_delay,
            max_retry_after=max_retry_after,
        )
        self._owns_client = http_client is None
        self._http_client = http_client
        self._sleep: Callable[[float], None] = time.sleep

    def _new_client(self) -> httpx.Client:
        return httpx.Client(verify=default_ssl_context())

    def with_options(
        self,
        *,
        auth: httpx.Auth | NotGiven | None = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        retry_non_idempotent: bool | NotGiven = NOT_GIVEN,
        max_retry_delay: float | NotGiven = NOT_GIVEN,
        max_retry_after: float | NotGiven = NOT_GIVEN,
    ) -> SyncTransport:
        """A copy with some settings changed, sharing this transport's httpx client and pool.

        `default_headers` are merged over the current ones. The copy never closes the client.
        """
        copy = SyncTransport(
            http_client=self.http_client,
            **self._copy_settings(
                auth=auth,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                default_headers=default_headers,
                retry_non_idempotent=retry_non_idempotent,
                max_retry_delay=max_retry_delay,
                max_retry_after=max_retry_after,
            ),
        )
        copy._clock, copy._random, copy._sleep = self._clock, self._random, self._sleep
        return copy

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Send a request with retries; return the 2xx response or raise the typed error."""
        opts = options or NO_OPTIONS
        plan = self._plan(method, url, opts)

        def attempt() -> httpx.Response:
            request = self._build_request(
                self.http_client,
                plan,
                params=params,
                content=content,
                headers=headers,
                options=opts,
            )
            started = time.perf_counter()
            try:
                response = self.http_client.send(
                    request, auth=self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT
                )
            except httpx.RequestError as exc:
                self._fail(plan, request, exc, started)
            return self._finish(plan, request, response, started)

        try:
            return attempt()
        except Exception as exc:
            if not plan.may_retry(exc):
                raise
            failed = [exc]

        def again() -> httpx.Response:
            # The first attempt is replayed to tenacity, which decides from there.
            if failed:
                raise failed.pop()
            return attempt()

        from tenacity import Retrying  # needed only once a call has failed

        retrying = Retrying(
            retry=plan.retry,
            stop=plan.stop,
            wait=plan.wait,
            sleep=lambda seconds: self._sleep(seconds),
            before_sleep=plan.before_sleep,
            retry_error_callback=plan.give_up,
        )
        try:
            response: httpx.Response = retrying(again)
        finally:
            _release(retrying)
        return response

    def close(self) -> None:
        """Close the httpx client, if this transport created it."""
        if self._owns_client:
            self.http_client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTransport(_TransportBase[httpx.AsyncClient]):
    """Asynchronous transport over `httpx.AsyncClient`; mirrors `SyncTransport`."""

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_non_idempotent: bool = False,
        max_retry_delay: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            default_headers=default_headers,
            retry_non_idempotent=retry_non_idempotent,
            max_retry_delay=max_retry_delay,
            max_retry_after=max_retry_after,
        )
        self._owns_client = http_client is None
        self._http_client = http_client
        self._sleep: Callable[[float], Awaitable[None]] = _sleep_async

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=default_ssl_context())

    def with_options(
        self,
        *,
        auth: httpx.Auth | NotGiven | None = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        retry_non_idempotent: bool | NotGiven = NOT_GIVEN,
        max_retry_delay: float | NotGiven = NOT_GIVEN,
        max_retry_after: float | NotGiven = NOT_GIVEN,
    ) -> AsyncTransport:
        """A copy with some settings changed, sharing this transport's httpx client and pool.

        `default_headers` are merged over the current ones. The copy never closes the client.
        """
        copy = AsyncTransport(
            http_client=self.http_client,
            **self._copy_settings(
                auth=auth,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                default_headers=default_headers,
                retry_non_idempotent=retry_non_idempotent,
                max_retry_delay=max_retry_delay,
                max_retry_after=max_retry_after,
            ),
        )
        copy._clock, copy._random, copy._sleep = self._clock, self._random, self._sleep
        return copy

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Response:
        """Send a request with retries; return the 2xx response or raise the typed error."""
        opts = options or NO_OPTIONS
        plan = self._plan(method, url, opts)

        async def attempt() -> httpx.Response:
            request = self._build_request(
                self.http_client,
                plan,
                params=params,
                content=content,
                headers=headers,
                options=opts,
            )
            started = time.perf_counter()
            try:
                response = await self.http_client.send(
                    request, auth=self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT
                )
            except httpx.RequestError as exc:
                self._fail(plan, request, exc, started)
            return self._finish(plan, request, response, started)

        try:
            return await attempt()
        except Exception as exc:
            if not plan.may_retry(exc):
                raise
            failed = [exc]

        async def again() -> httpx.Response:
            # The first attempt is replayed to tenacity, which decides from there.
            if failed:
                raise failed.pop()
            return await attempt()

        async def sleep(seconds: float) -> None:
            await self._sleep(seconds)

        from tenacity import AsyncRetrying  # needed only once a call has failed

        retrying = AsyncRetrying(
            retry=plan.retry,
            stop=plan.stop,
            wait=plan.wait,
            sleep=sleep,
            before_sleep=plan.before_sleep,
            retry_error_callback=plan.give_up,
        )
        try:
            response: httpx.Response = await retrying(again)
        finally:
            _release(retrying)
        return response

    async def aclose(self) -> None:
        """Close the httpx client, if this transport created it."""
        if self._owns_client:
            await self.http_client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
