"""Request headers: the SDK's defaults and how caller layers merge over them."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ._version import __version__

__all__ = ["JSON_CONTENT_TYPE", "USER_AGENT", "build_headers"]

USER_AGENT = f"lso-client/{__version__}"
JSON_CONTENT_TYPE = "application/json;charset=utf-8"


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
