"""Two shortcuts around the most expensive per-request steps of httpx.

Each gives exactly what httpx would, and each steps aside (falling back to httpx
itself) whenever it cannot be sure of that; `tests/unit/test_shortcuts.py` checks
the equivalence, so an httpx release that changes the internals used here fails
the tests instead of changing requests.

* `request_url`: httpx parses and validates every URL character by character
  (~12 us for an API URL). The origin of an SDK URL is one of a handful of
  seller URLs and its path is built by the SDK from percent-encoded segments,
  so the origin is parsed once and the path attached as is.
* `SetCookieJar`: httpx hands every response to the standard library's cookie
  jar through adapter objects that re-parse the URL (~15-35 us), even when the
  response sets no cookie, which is nearly always for an API.
"""

from __future__ import annotations

import functools
import re

import httpx

__all__ = ["SetCookieJar", "request_url", "use_set_cookie_jar"]

# An absolute http(s) URL whose path holds only characters that need no quoting
# (RFC 3986 pchar and "/") or complete percent-escapes, with no query or fragment.
_PLAIN_URL = re.compile(
    r"(https?://[^/?#\s]+)((?:/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)*)"
)


# httpx's own limit (`httpx._urlparse.MAX_URL_LENGTH`).
_MAX_URL_LENGTH = 65_536


@functools.lru_cache(maxsize=256)
def _origin(origin: str) -> httpx.URL | None:
    try:
        parsed = httpx.URL(origin)
    except httpx.InvalidURL:
        return None
    reference = getattr(parsed, "_uri_reference", None)
    if reference is None or not hasattr(reference, "_replace") or reference.path not in ("", "/"):
        return None
    return parsed


def request_url(url: str) -> httpx.URL | str:
    """`httpx.URL(url)`, parsing only the origin (cached); `url` unchanged when unsure."""
    if len(url) > _MAX_URL_LENGTH:
        return url  # httpx refuses it with a clear error
    match = _PLAIN_URL.fullmatch(url)
    # Dot segments are normalised by httpx: leave those URLs to it.
    if match is None or "/." in match[2]:
        return url
    origin = _origin(match[1])
    if origin is None:
        return url
    built = httpx.URL.__new__(httpx.URL)
    built._uri_reference = origin._uri_reference._replace(path=match[2])
    return built


class SetCookieJar(httpx.Cookies):
    """`httpx.Cookies` that only consults the cookie jar when a response sets a cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


def use_set_cookie_jar(client: httpx.Client | httpx.AsyncClient) -> None:
    """Give a client the SDK created a `SetCookieJar` (a client the caller passed is left alone)."""
    current = getattr(client, "_cookies", None)
    if type(current) is httpx.Cookies and not current:
        client._cookies = SetCookieJar()
