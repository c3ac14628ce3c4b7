"""Per-call options and the defaults every transport starts from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "NO_OPTIONS",
    "NotGiven",
    "PayloadTyping",
    "RequestOptions",
    "TimeoutTypes",
    "payloads_at_once",
]


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

TimeoutTypes = float | httpx.Timeout | None

# When the service payloads of a response become their models: when the field holding
# one is first read, or while the response is parsed.
PayloadTyping = Literal["on_read", "at_once"]


def payloads_at_once(value: object) -> bool:
    """Whether the `payloads` setting `value` types payloads while parsing; a value that
    is neither setting is a `ValueError`."""
    if value == "on_read":
        return False
    if value == "at_once":
        return True
    raise ValueError(f'payloads: "on_read" or "at_once", not {value!r}')


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
    # Largest response body accepted, in decoded bytes; None: no limit.
    max_response_bytes: int | NotGiven | None = NOT_GIVEN
    # Before re-sending a POST whose outcome is unknown: find what it created. Called with
    # the seconds left before the deadline (None: no deadline); returns the response to
    # answer the call with (the object found), or None when nothing was created. Returns
    # an awaitable of that in the async transport.
    reconcile: Callable[[float | None], Any] | None = None


NO_OPTIONS: Final = RequestOptions()
