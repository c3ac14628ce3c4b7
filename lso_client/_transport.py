"""The two HTTP transports, sync and async, over httpx.

They share their construction and request building (`_TransportBase`); each only sends.
What they decide with lives elsewhere, one job per module: query encoding (`_query`),
headers (`_headers`), the retry policy and its tenacity adapter (`_retry`), the per-call
deadline (`_deadline`) and the per-call options (`_options`). The names other modules and
tests import from here are re-exported.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeVar

import httpx
from typing_extensions import Self

from . import _logging
from ._body import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyBudget,
    bound_reads,
    ends_by,
    read_body_async,
    read_body_sync,
)
from ._deadline import Deadline, as_timeout, cap_timeout
from ._errors import LSOError, RequestValidationError, error_for_response
from ._headers import JSON_CONTENT_TYPE, USER_AGENT, build_headers
from ._options import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NO_OPTIONS,
    NOT_GIVEN,
    NotGiven,
    RequestOptions,
    TimeoutTypes,
)
from ._query import encode_query, encode_query_value
from ._retry import (
    RETRYABLE_STATUSES,
    CallPlan,
    backoff_delay,
    is_retryable_error,
    parse_retry_after,
    retry_async,
    retry_sync,
    sleep_async,
)
from ._shortcuts import request_url, use_set_cookie_jar
from ._tls import CertTypes, VerifyTypes, default_ssl_context, prepared_context, ssl_context

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "JSON_CONTENT_TYPE",
    "NOT_GIVEN",
    "NO_OPTIONS",
    "RETRYABLE_STATUSES",
    "USER_AGENT",
    "AsyncTransport",
    "NotGiven",
    "RequestOptions",
    "SyncTransport",
    "backoff_delay",
    "build_headers",
    "cap_timeout",
    "default_ssl_context",
    "encode_query",
    "encode_query_value",
    "is_retryable_error",
    "parse_retry_after",
]

_logging.configure_from_env()

RETRIES_TAKEN_EXTENSION = "lso_retries_taken"
# Set on the response of a create answered by a lookup of what an earlier attempt created.
RECONCILED_EXTENSION = "lso_reconciled"

_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


class _TransportBase(Generic[_C]):
    """Configuration, copies and request building shared by the sync and async transports."""

    _sleep: Callable[[float], Any]
    _default_sleep: Callable[[float], Any]

    def __init__(
        self,
        *,
        http_client: _C | None = None,
        auth: httpx.Auth | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_non_idempotent: bool = False,
        max_retry_delay: float = 8.0,
        max_retry_after: float = 60.0,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        default_params: Mapping[str, object] | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if http_client is not None and (verify is not True or cert is not None or proxy):
            raise ValueError(
                "verify, cert and proxy configure the client's own httpx client: with "
                "http_client, set them on that client"
            )
        self._ssl = prepared_context(verify, cert)
        self.verify = verify
        self.cert = cert
        self.proxy = proxy
        # Query parameters sent on every call; a call's own value for one wins.
        self.default_params: dict[str, object] = dict(default_params or {})
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self.retry_non_idempotent = retry_non_idempotent
        self.max_retry_delay = max_retry_delay
        self.max_retry_after = max_retry_after
        self.max_response_bytes = max_response_bytes
        # Injection points for tests and simulations; the defaults are the real thing.
        self._clock: Callable[[], float] = time.monotonic
        self._random: Callable[[], float] = random.random
        self._sleep = type(self)._default_sleep
        self._owns_client = http_client is None
        self._http_client: _C | None = http_client
        self._client_lock = threading.Lock()
        # Built once: most calls add nothing to them.
        self._timeout = as_timeout(timeout)
        self._headers = {
            has_content: build_headers(self.default_headers, has_content=has_content)
            for has_content in (False, True)
        }

    def _new_client(self) -> _C:
        raise NotImplementedError

    def _client_settings(self) -> dict[str, Any]:
        """The TLS and proxy settings of an httpx client this transport creates."""
        # The default (verify=True, no cert) is one shared context per SSL_CERT_* setting.
        settings: dict[str, Any] = {"verify": self._ssl or ssl_context(self.verify, self.cert)}
        if self.proxy is not None:
            settings["proxy"] = self.proxy
        return settings

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
        max_response_bytes: int | NotGiven | None = NOT_GIVEN,
        default_params: Mapping[str, object] | None = None,
    ) -> Self:
        """A copy with some settings changed, sharing this transport's httpx client and pool.

        `default_headers` and `default_params` are merged over the current ones. The copy
        never closes the client.
        """
        headers = dict(self.default_headers)
        headers.update(default_headers or {})
        query = dict(self.default_params)
        query.update(default_params or {})

        def pick(given: Any, current: Any) -> Any:
            return current if isinstance(given, NotGiven) else given

        copy = type(self)(
            http_client=self.http_client,
            auth=pick(auth, self.auth),
            timeout=pick(timeout, self.timeout),
            max_retries=pick(max_retries, self.max_retries),
            deadline=pick(deadline, self.deadline),
            default_headers=headers,
            retry_non_idempotent=pick(retry_non_idempotent, self.retry_non_idempotent),
            max_retry_delay=pick(max_retry_delay, self.max_retry_delay),
            max_retry_after=pick(max_retry_after, self.max_retry_after),
            max_response_bytes=pick(max_response_bytes, self.max_response_bytes),
            default_params=query,
        )
        copy.verify, copy.cert, copy.proxy = self.verify, self.cert, self.proxy
        copy._ssl = self._ssl
        copy._owns_client = False
        copy._clock, copy._random, copy._sleep = self._clock, self._random, self._sleep
        return copy

    def _plan(self, method: str, url: str, options: RequestOptions) -> CallPlan:
        deadline = self.deadline if isinstance(options.deadline, NotGiven) else options.deadline
        max_retries = (
            self.max_retries if isinstance(options.max_retries, NotGiven) else options.max_retries
        )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        return CallPlan(
            method=method.upper(),
            url=url,
            max_retries=max_retries,
            retry_non_idempotent=self.retry_non_idempotent
            if isinstance(options.retry_non_idempotent, NotGiven)
            else options.retry_non_idempotent,
            max_retry_delay=self.max_retry_delay,
            max_retry_after=self.max_retry_after,
            deadline=None if deadline is None else Deadline(deadline, self._clock),
            rand=self._random,
        )

    def _build_request(
        self,
        client: _C,
        plan: CallPlan,
        *,
        params: Mapping[str, object] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        options: RequestOptions,
    ) -> httpx.Request:
        retries, remaining = plan.start_attempt()
        timeout = (
            self._timeout if isinstance(options.timeout, NotGiven) else as_timeout(options.timeout)
        )
        has_content = content is not None
        # No params at all rather than empty ones: httpx parses the URL again for any params.
        query: tuple[tuple[str, str], ...] | None = None
        if self.default_params:
            # A call's own value wins; one it leaves out (None) keeps the default.
            own = {k: v for k, v in params.items() if v is not None} if params else None
            query = tuple(encode_query(self.default_params, own, options.extra_query))
        elif params or options.extra_query:
            query = tuple(encode_query(params, options.extra_query))
        try:
            if headers or options.extra_headers:
                merged = build_headers(
                    self.default_headers, headers, options.extra_headers, has_content=has_content
                )
            else:
                merged = self._headers[has_content]
            if retries:
                merged = merged.copy()
                merged["X-Retry-Count"] = str(retries)
            request = client.build_request(
                plan.method,
                request_url(plan.url),
                params=query,
                content=content,
                headers=merged,
                timeout=cap_timeout(timeout, remaining),
            )
        except (httpx.InvalidURL, UnicodeError) as exc:
            # A URL httpx refuses (over its length limit, say) or a header that is not
            # ASCII: the caller's input, reported as such rather than as httpx's error.
            raise RequestValidationError(
                f"{plan.method} {_logging.redact_url(plan.url)[:200]}: cannot be sent: "
                f"{type(exc).__name__}: {str(exc)[:200]}"
            ) from None
        # Same request, a repr without credentials (errors carry it as `exc.request`).
        request.__class__ = _logging.RedactedRequest
        plan.last_request = request
        _logging.log_request(request, retries=retries)
        return request

    def _body_budget(
        self, plan: CallPlan, request: httpx.Request, options: RequestOptions
    ) -> BodyBudget:
        """How much the body of `request`'s response may take: the size limit, and the
        time left (the read timeout counted from the response head, and the deadline)."""
        limit = (
            self.max_response_bytes
            if isinstance(options.max_response_bytes, NotGiven)
            else options.max_response_bytes
        )
        timeouts = request.extensions.get("timeout")
        seconds = timeouts.get("read") if isinstance(timeouts, dict) else None
        if plan.deadline is not None:
            remaining = plan.deadline.remaining()
            seconds = remaining if seconds is None else min(seconds, remaining)
        return BodyBudget(limit, seconds)

    def _finish(
        self, plan: CallPlan, request: httpx.Request, response: httpx.Response, started: float
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
        self, plan: CallPlan, request: httpx.Request, exc: httpx.RequestError, started: float
    ) -> NoReturn:
        _logging.log_response(
            request,
            None,
            elapsed=time.perf_counter() - started,
            retries=plan.retries_taken,
            error=exc,
        )
        if isinstance(exc, httpx.LocalProtocolError):
            # h11 refused to write the request (a header name or value with a line break or
            # another character HTTP forbids, as a token read from a file keeps): nothing was
            # sent, and its text quotes the value, which may be a credential.
            raise RequestValidationError(
                f"{request.method} {_logging.redact_url(request.url)}: cannot be sent: a "
                "header name or value holds a character HTTP forbids (a line break?); the "
                "value is not shown"
            ) from None
        raise plan.translate(exc, request) from exc

    def _reconciled(self, plan: CallPlan, found: httpx.Response | None) -> httpx.Response | None:
        """Take the answer of a lookup: the response of what an earlier attempt created, or
        None when it created nothing (the request is then sent again)."""
        if found is None:
            plan.outcome_unknown = False
            return None
        _logging.logger.info(
            "%s %s: found what an earlier attempt created; not sent again",
            plan.method,
            _logging.redact_url(plan.url),
        )
        found.extensions = {
            **found.extensions,
            RETRIES_TAKEN_EXTENSION: plan.retries_taken,
            RECONCILED_EXTENSION: True,
        }
        return found

    def _auth_for_send(self) -> httpx.Auth | Any:
        return self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT


class _Writing:
    """An httpcore trace callback noting when the request began to be written."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event.endswith("send_request_headers.started"):
            self.started = True


class SyncTransport(_TransportBase[httpx.Client]):
    """Blocking transport over `httpx.Client`."""

    _sleep: Callable[[float], None]
    _default_sleep = staticmethod(time.sleep)

    def _new_client(self) -> httpx.Client:
        client = httpx.Client(**self._client_settings())
        bound_reads(client)
        return client

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
            if plan.reconcile_due and opts.reconcile is not None:
                plan.reconcile_due = False
                try:
                    found = opts.reconcile(plan.time_left())
                except LSOError as exc:
                    raise plan.unreconciled(exc) from exc
                done = self._reconciled(plan, found)
                if done is not None:
                    return done
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
                with ends_by(plan.time_left()):
                    response = self.http_client.send(
                        request, auth=self._auth_for_send(), stream=True
                    )
                    read_body_sync(response, self._body_budget(plan, request, opts))
            except httpx.RequestError as exc:
                self._fail(plan, request, exc, started)
            return self._finish(plan, request, response, started)

        try:
            return attempt()
        except Exception as exc:
            if not plan.may_retry(exc):
                raise
            return retry_sync(plan, exc, attempt, lambda seconds: self._sleep(seconds))

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

    _sleep: Callable[[float], Awaitable[None]]
    _default_sleep = staticmethod(sleep_async)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(**self._client_settings())

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
            if plan.reconcile_due and opts.reconcile is not None:
                plan.reconcile_due = False
                try:
                    found = await opts.reconcile(plan.time_left())
                except LSOError as exc:
                    raise plan.unreconciled(exc) from exc
                done = self._reconciled(plan, found)
                if done is not None:
                    return done
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
                left = plan.time_left()
                if left is None:
                    response = await self._send(plan, request, opts)
                else:
                    response = await self._send_by(left, plan, request, opts)
            except httpx.RequestError as exc:
                self._fail(plan, request, exc, started)
            return self._finish(plan, request, response, started)

        try:
            return await attempt()
        except Exception as exc:
            if not plan.may_retry(exc):
                raise
            return await retry_async(plan, exc, attempt, lambda seconds: self._sleep(seconds))

    async def _send(
        self, plan: CallPlan, request: httpx.Request, options: RequestOptions
    ) -> httpx.Response:
        response = await self.http_client.send(request, auth=self._auth_for_send(), stream=True)
        await read_body_async(response, self._body_budget(plan, request, options))
        return response

    async def _send_by(
        self, seconds: float, plan: CallPlan, request: httpx.Request, options: RequestOptions
    ) -> httpx.Response:
        """`_send` cut at the deadline, `seconds` from now, whatever phase it is in: a
        seller dripping its status line and headers cannot hold the call either."""
        import anyio

        # Whether the cut came before the request was written matters for a POST or PATCH
        # (never sent, or an unknown outcome), as the sync transport's ConnectTimeout tells.
        writing = _Writing() if not plan.idempotent and "trace" not in request.extensions else None
        if writing is not None:
            request.extensions = {**request.extensions, "trace": writing.trace}
        with anyio.move_on_after(seconds):
            return await self._send(plan, request, options)
        if writing is not None and not writing.started:
            raise httpx.ConnectTimeout(
                "the deadline passed before the request was sent", request=request
            )
        raise httpx.ReadTimeout("the deadline passed before the answer was read", request=request)

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
