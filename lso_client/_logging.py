"""Logging for lso-client: the ``lso_client`` logger, opt-in stderr output and redaction.

The library adds no handler unless the ``LSO_CLIENT_LOG`` environment variable asks for one
(``debug``, ``info`` or ``warning``), so applications keep control of their logging setup.
Request and response lines are logged at DEBUG, retries at INFO. Bodies are never logged and
credentials are replaced by ``<redacted>`` in headers and query strings.

What counts as a credential, by name (header, query or fragment parameter), case-insensitively:

- a name containing ``token``, ``secret``, ``passw``, ``pwd``, ``apikey``, ``api_key``,
  ``api-key``, ``signature``, ``credential``, ``assertion``, ``authorization``, ``cookie`` or
  ``session`` (``access_token``, ``refresh_token``, ``client_secret``, ``password``,
  ``client_assertion``, ``X-Amz-Signature``, ``Set-Cookie``, ``sessionId``...);
- a name with one of the words ``key``, ``sig``, ``auth`` or ``pass`` (words split at
  punctuation and camelCase: ``x-api-key``, ``apiKey``, ``AWSAccessKeyId``, ``sig``,
  ``x-auth-user``; not ``keyword`` or ``author``);
- the name ``code`` exactly (an OAuth authorization code; ``productCode`` is left alone).

The userinfo of a URL (``user:password@``) is replaced as a whole: a user name alone is often
a key. The URLs httpx logs itself (``HTTP Request: ...`` on the ``httpx`` logger, at INFO) are
redacted too, by a filter this module installs on that logger. `redact_url` does URLs,
`redact_headers` headers, and `redact_text` every URL inside a message (errors use it for
their text).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx

__all__ = [
    "LOG_ENV_VAR",
    "REDACTED",
    "RedactedRequest",
    "configure_from_env",
    "log_request",
    "log_response",
    "log_retry",
    "logger",
    "redact_headers",
    "redact_text",
    "redact_url",
]

logger = logging.getLogger("lso_client")

LOG_ENV_VAR = "LSO_CLIENT_LOG"
REDACTED = "<redacted>"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
# Names containing these are credentials whatever their exact spelling (see the docstring).
_SENSITIVE_FRAGMENTS = (
    "token",
    "secret",
    "passw",
    "pwd",
    "apikey",
    "api_key",
    "api-key",
    "signature",
    "credential",
    "assertion",
    "authorization",
    "cookie",
    "session",
)
# Too short to match inside other words: matched as whole words of the name.
_SENSITIVE_WORDS = frozenset({"key", "sig", "auth", "pass"})
_SENSITIVE_NAMES = frozenset({"code"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
# The userinfo of a URL urlsplit cannot read: "scheme://" then up to the last "@" before the path.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
# A URL inside free text: scheme, "://", then anything up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


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


@lru_cache(maxsize=512)
def is_sensitive_name(name: str) -> bool:
    """Whether a header, query or form parameter of this name carries a credential."""
    lowered = name.strip().lower()
    if lowered in _SENSITIVE_NAMES or any(part in lowered for part in _SENSITIVE_FRAGMENTS):
        return True
    words = _WORD_SPLIT.split(_CAMEL.sub(" ", name.strip()).lower())
    return not _SENSITIVE_WORDS.isdisjoint(words)


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
        shown = REDACTED if is_sensitive_name(name) else value
        # Repeated headers are shown comma-joined, as HTTP allows.
        result[name] = f"{result[name]}, {shown}" if name in result else shown
    return result


def _redact_params(text: str) -> str:
    pieces = []
    for piece in text.split("&"):
        name, sep, _ = piece.partition("=")
        if sep and is_sensitive_name(unquote_plus(name)):
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return "&".join(pieces)


def redact_url(url: httpx.URL | str) -> str:
    """Return the URL with its userinfo and credential query (and fragment) values redacted.

    Works on the text so the rest of the URL stays exactly as sent, and the marker stays
    readable rather than percent-encoded. Text that does not parse as a URL is returned
    with only what can be found redacted, never raising.
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced "[" in the host: redact what looks like it
        return _redact_params(_USERINFO.sub(rf"\1{REDACTED}@", text, count=1))
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and userinfo:
        netloc = f"{REDACTED}@{host}"
    query = _redact_params(parts.query) if parts.query else parts.query
    fragment = _redact_params(parts.fragment) if "=" in parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return text
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


def redact_text(text: str) -> str:
    """Return `text` with every URL in it passed through `redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda found: redact_url(found.group(0)), text)


class RedactedRequest(httpx.Request):
    """An `httpx.Request` whose repr hides the credentials of its URL. The SDK's requests
    are of this class, so `exc.request` shown with %r or in a debugger leaks nothing; the
    request itself (its `url`) stays as sent."""

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {redact_url(self.url)!r})>"


class _RedactHttpxURLs(logging.Filter):
    """Redacts the URLs httpx itself logs ("HTTP Request: GET <url> ..." at INFO), so an
    application logging at INFO does not print the credentials of the calls made here."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) else arg for arg in args
            )
        return True


def _redact_httpx_log() -> None:
    """Install the filter on httpx's logger, once."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactHttpxURLs) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactHttpxURLs())


_redact_httpx_log()


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
        redact_text(reason),
    )
