"""The exception ladder raised by every client.

Callers catch the narrowest class they care about (`NotFoundError`), a family
(`APIStatusError`, `APIConnectionError`) or everything the SDK raises (`LSOError`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is imported with the first client, not with the package
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "LSOError",
    "MissingExtraError",
    "NotFoundError",
    "NotSupportedError",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestValidationError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "UnprocessableEntityError",
    "error_for_response",
]


class LSOError(Exception):
    """Base class of every error raised by lso-client."""

    def __repr__(self) -> str:
        from ._display import error_repr

        return error_repr(self)

    def _repr_html_(self) -> str:
        """The error as a table (a notebook's display): class, message, status, MEF errors."""
        from ._display import error_html

        return error_html(self)


class MissingExtraError(LSOError, ModuleNotFoundError):
    """A feature was used whose optional dependencies are not installed.

    `extra` is the name of the package extra that brings them (`pip install
    'lso-client[<extra>]'`, which the message spells out) and `name` the module that could
    not be imported. Raised where the feature is used, never by `import lso_client`.
    """

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"{module} is not installed; it comes with the `{extra}` extra: "
            f"pip install 'lso-client[{extra}]'",
            name=module,
        )
        self.extra = extra


class RequestValidationError(LSOError, ValueError):
    """The caller's input does not satisfy the spec; nothing was sent."""

    def __init__(self, message: str, *, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class PaginationError(LSOError):
    """Iteration over a listing stopped because the seller's pages cannot be followed safely.

    `reason` says why: `"ignores_offset"` (a page holds the same items as the one before),
    `"no_new_items"` (every item of a page was already yielded), `"throttled_no_progress"`
    (`X-Pagination-Throttled: true` on a page that brings nothing new) or
    `"empty_before_total"` (an empty page although `X-Total-Count` promises more).
    `offset` is where the offending page starts, `pages` and `items` what the
    iteration had fetched and yielded before stopping.
    """

    def __init__(self, message: str, *, reason: str, offset: int, pages: int, items: int) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.offset = offset
        self.pages = pages
        self.items = items


class APIError(LSOError):
    """Something went wrong while talking to the seller."""

    def __init__(self, message: str, *, request: httpx.Request | None) -> None:
        # Messages name URLs: their userinfo and credential query values never show
        # (`str`, `repr`, tracebacks, logs). `exc.request` keeps the request as sent.
        from ._logging import redact_text

        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The request could not be completed: DNS, refused connection, reset, TLS."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """A timeout or the per-call deadline expired."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None
    ) -> None:
        super().__init__(message, request=request)


class OutcomeUnknownError(APIConnectionError):
    """A POST or PATCH may have reached the seller, but no answer came back (the connection
    dropped or timed out after the request was sent): the seller may or may not have acted.

    `request` is the request sent. A request that never left (connection refused) raises a
    plain `APIConnectionError` instead. For creates carrying a buyer-chosen key, the
    resource's `reconcile(body)` finds out whether the object was created.
    """


class OutcomeUnknownTimeoutError(OutcomeUnknownError, APITimeoutError):
    """An `OutcomeUnknownError` caused by a timeout or the deadline (also an `APITimeoutError`)."""


class ResponseTooLargeError(APIError):
    """The response body grew past `max_response_bytes` (counted after decompression), so
    reading stopped. `limit` is the limit that applied; raise it per client or per call
    (`max_response_bytes=`)."""

    def __init__(self, message: str, *, request: httpx.Request | None, limit: int) -> None:
        super().__init__(message, request=request)
        self.limit = limit


class ResponseValidationError(APIError):
    """The response does not match the spec (raised in strict mode, or when unreadable)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        errors: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.errors = list(errors)


class APIStatusError(APIError):
    """The seller answered with a 4xx or 5xx status.

    `body` is the parsed JSON error body (a MEF `Error` object, or for 422 a list
    of them) or `None` when the body was not JSON. `errors` always holds the MEF
    errors as a list of dicts, so 422 and the other statuses read alike.
    """

    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.request_id = response.headers.get("x-request-id") or response.headers.get(
            "x-fapi-interaction-id"
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        if isinstance(self.body, list):
            return [item for item in self.body if isinstance(item, dict)]
        if isinstance(self.body, dict):
            return [self.body]
        return []


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    """422: the body is a list of MEF `Error422` objects, available as `errors`."""

    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    """Any 5xx, apart from 501."""


class NotSupportedError(APIStatusError):
    """501: the seller does not implement this (optional) operation."""

    status_code = 501


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    501: NotSupportedError,
}


def _error_summary(body: Any) -> str:
    items = body if isinstance(body, list) else [body]
    parts: list[str] = []
    for item in items:
        if isinstance(item, dict):
            text = "; ".join(
                str(item[key]) for key in ("code", "reason", "message") if item.get(key)
            )
            if item.get("propertyPath"):
                text += f" (at {item['propertyPath']})"
            if text:
                parts.append(text)
    return " | ".join(parts)


def error_for_response(response: httpx.Response) -> APIStatusError:
    """Build the typed error for a 4xx/5xx response; never raises itself."""
    try:
        body: Any = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        body = None
    status = response.status_code
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    summary = _error_summary(body)
    if not summary and response.content and body is None:
        snippet = response.text[:200].strip().replace("\n", " ")
        summary = f"non-JSON body: {snippet!r}"
    method = response.request.method if response.request else ""
    url = str(response.request.url) if response.request else ""
    message = f"{method} {url} returned {status} {response.reason_phrase}".strip()
    if summary:
        message += f": {summary}"
    return cls(message, response=response, body=body)
