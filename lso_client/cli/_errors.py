"""Exit codes and the one line an error prints."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from .._errors import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    LSOError,
    NotFoundError,
    PermissionDeniedError,
    RequestValidationError,
)
from .._logging import redact_text
from ._output import printable

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_AUTH",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "UsageError",
    "WaitFailedError",
    "exit_code",
    "report",
]

EXIT_OK = 0
EXIT_API_ERROR = 1  # any other error of the seller, the network or the SDK
EXIT_USAGE = 2  # bad arguments, a body file or profile that cannot be used, a refused body
EXIT_NOT_FOUND = 3  # 404
EXIT_AUTH = 4  # 401, 403, a token that could not be obtained
EXIT_TIMEOUT = 5  # a wait timed out or ended in a state that is not a success; a timeout
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_PIPE = 141  # stdout closed by its reader (`| head`): 128 + SIGPIPE, as a shell reports it


class UsageError(Exception):
    """Arguments the CLI cannot use (exit 2)."""


class WaitFailedError(Exception):
    """A wait ended in a final state that is not a success (exit 5)."""


def exit_code(exc: BaseException) -> int:
    """The exit code of a command that raised `exc`."""
    if isinstance(exc, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, (AuthenticationError, PermissionDeniedError)) or (
        type(exc).__name__ == "TokenRequestError"
    ):
        return EXIT_AUTH
    if isinstance(exc, (APITimeoutError, WaitFailedError, TimeoutError)):
        return EXIT_TIMEOUT
    from .._profiles import ProfileError

    if isinstance(exc, (RequestValidationError, UsageError, ProfileError)):
        return EXIT_USAGE
    return EXIT_API_ERROR


def _one_line(text: str) -> str:
    return printable(" ".join(text.split()))


def report(exc: BaseException, *, verbose: bool) -> None:
    """Print `exc` on stderr: one line, or with `verbose` the whole detail (the seller's
    error body, the request, the traceback). Texts pass through the SDK's redaction, and the
    control characters a terminal would act on are shown escaped."""
    kind = type(exc).__name__
    message = redact_text(str(exc)) if str(exc) else kind
    if not isinstance(exc, (LSOError, UsageError, WaitFailedError)):
        message = f"{kind}: {message}"
    print(f"lso: error: {_one_line(message)}", file=sys.stderr)
    if not verbose:
        return
    details: list[str] = [f"error class: {type(exc).__module__}.{kind}"]
    request: Any = getattr(exc, "request", None)
    if request is not None:
        details.append(f"request: {request.method} {redact_text(str(request.url))}")
    if isinstance(exc, APIStatusError):
        details.append(f"status: {exc.status_code}")
        details.append(f"body: {redact_text(exc.response.text)}")
    errors = getattr(exc, "errors", None)
    if errors:
        details.append(f"errors: {errors}")
    details.append("".join(traceback.format_exception(exc)).rstrip())
    print(printable("\n".join(details)), file=sys.stderr)
