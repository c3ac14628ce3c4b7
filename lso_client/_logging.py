"""Logging for lso-client: the ``lso_client`` logger, opt-in stderr output and redaction.

The library adds no handler unless the ``LSO_CLIENT_LOG`` environment variable asks for one
(``debug``, ``info`` or ``warning``), so applications keep control of their logging setup.
Request and response lines are logged at DEBUG, retries at INFO. Bodies are never logged and
credentials are replaced by ``<redacted>`` in headers and query strings.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx

__all__ = [
    "LOG_ENV_VAR",
    "REDACTED",
    "configure_from_env",
    "log_request",
    "log_response",
    "log_retry",
    "logger",
    "redact_headers",
    "redact_url",
]

logger = logging.getLogger("lso_client")

LOG_ENV_VAR = "LSO_CLIENT_LOG"
REDACTED = "<redacted>"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
_SENSITIVE_QUERY = frozenset({"client_secret", "client_assertion", "access_token"})
# Names containing these fragments (refresh_token, x-auth-token, client-secret...) are
# credentials whatever their exact spelling.
_SENSITIVE_FRAGMENTS = ("token", "secret")


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler installed from the environment so it is installed once only."""


def configure_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Install a stderr handler when ``LSO_CLIENT_LOG`` names a level.

    Returns whether logging is configured from the environment. Calling it again does not add
    a second handler; an unknown value is ignored so a typo never breaks the application.
    """
    env = os.environ if environ is None else environ
    level = _LEVELS.get(env.get(LOG_ENV_VAR, "").strip().lower())
    if level is None:
        return False
    handler = next((h for h in logger.handlers if isinstance(h, _EnvHandler)), None)
    if handler is None:
        handler = _EnvHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    handler.setLevel(level)
    logger.setLevel(level)
    return True


def _is_sensitive(name: str, exact: frozenset[str]) -> bool:
    lowered = name.lower()
    return lowered in exact or any(fragment in lowered for fragment in _SENSITIVE_FRAGMENTS)


def redact_headers(
    headers: httpx.Headers | Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    """Return the headers as a dict with credential values replaced by ``<redacted>``."""
    items = (
        headers.multi_items()
        if isinstance(headers, httpx.Headers)
        else (headers.items() if isinstance(headers, Mapping) else headers)
    )
    result: dict[str, str] = {}
    for name, value in items:
        shown = REDACTED if _is_sensitive(name, _SENSITIVE_HEADERS) else value
        # Repeated headers are shown comma-joined, as HTTP allows.
        result[name] = f"{result[name]}, {shown}" if name in result else shown
    return result


def redact_url(url: httpx.URL | str) -> str:
    """Return the URL with credential query values (and any userinfo password) redacted.

    Works on the text so the rest of the URL stays exactly as sent, and the marker stays
    readable rather than percent-encoded.
    """
    parts = urlsplit(str(url))
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
    pieces = []
    for piece in parts.query.split("&") if parts.query else []:
        name, sep, _ = piece.partition("=")
        if sep and _is_sensitive(unquote_plus(name), _SENSITIVE_QUERY):
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return urlunsplit(parts._replace(netloc=netloc, query="&".join(pieces)))


def log_request(request: httpx.Request, *, retries: int) -> None:
    """DEBUG line for an outgoing request: method, URL, retry count and redacted headers."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    logger.debug(
        "HTTP request: %s %s (retry %d) headers=%s",
        request.method,
        redact_url(request.url),
        retries,
        redact_headers(request.headers),
    )


def log_response(
    request: httpx.Request,
    response: httpx.Response | None,
    *,
    elapsed: float,
    retries: int,
    error: BaseException | None = None,
) -> None:
    """DEBUG line for the outcome of one attempt: status (or the error type) and elapsed time."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    if response is not None:
        logger.debug(
            "HTTP response: %s %s -> %d %s in %.3fs (retry %d) headers=%s",
            request.method,
            redact_url(request.url),
            response.status_code,
            response.reason_phrase,
            elapsed,
            retries,
            redact_headers(response.headers),
        )
    else:
        logger.debug(
            "HTTP failure: %s %s -> %s in %.3fs (retry %d)",
            request.method,
            redact_url(request.url),
            type(error).__name__ if error is not None else "error",
            elapsed,
            retries,
        )


def log_retry(
    method: str, url: httpx.URL | str, *, retry: int, max_retries: int, delay: float, reason: str
) -> None:
    """INFO line announcing a retry: which one, after how long, and why."""
    logger.info(
        "Retrying %s %s in %.2fs (retry %d of %d) after %s",
        method,
        redact_url(url),
        delay,
        retry,
        max_retries,
        reason,
    )
