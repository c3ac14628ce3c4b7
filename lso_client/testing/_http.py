"""HTTP plumbing shared by every API module of the mock seller.

A deliberately small ASGI layer: requests are read whole, handlers are plain
synchronous functions over in-memory state, and responses carry a pre-built body.
Nothing here knows about a particular MEF API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from ._payloads import payload_errors

__all__ = [
    "JSON_CONTENT_TYPE",
    "ApiError",
    "Receive",
    "Request",
    "Response",
    "Route",
    "Router",
    "Scope",
    "Send",
    "Unprocessable",
    "dump_json",
    "error_response",
    "int_param",
    "json_response",
    "page_response",
    "parse_datetime",
    "read_request",
    "send_response",
    "unprocessable",
]

JSON_CONTENT_TYPE = "application/json;charset=utf-8"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form every body is stored and sent in."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    scheme: str = "http"

    def query_value(self, name: str) -> str | None:
        """The last value of a query parameter (a repeated filter keeps the latest)."""
        found = None
        for key, value in self.query:
            if key == name:
                found = value
        return found

    def json(self) -> Any:
        """The decoded body; raises `ApiError(400, invalidBody)` when it is not JSON, and
        `Unprocessable` (422) when a service payload in it has a shipped `@type` but
        breaks that schema (the `propertyPath` points inside the payload)."""
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, "invalidBody", f"The request body is not valid JSON: {exc}"
            ) from exc
        errors = payload_errors(value)
        if errors:
            raise Unprocessable(errors)
        return value

    @property
    def base_url(self) -> str:
        host = self.headers.get("host", "localhost")
        return f"{self.scheme}://{host}"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class ApiError(Exception):
    """Raised by handlers to answer with a MEF `Error` body (`code`, `reason`)."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        # The spec caps `reason` at 255 characters.
        self.reason = reason[:255]

    def response(self) -> Response:
        return error_response(self.status, self.code, self.reason)


class Unprocessable(Exception):
    """Raised by handlers to answer 422 with a list of MEF `Error422` objects."""

    def __init__(self, errors: Sequence[dict[str, str]]) -> None:
        super().__init__("; ".join(e["reason"] for e in errors))
        self.errors = list(errors)


def unprocessable(code: str, reason: str, path: str) -> dict[str, str]:
    """One `Error422` entry; `path` is a JSON Pointer into the request body."""
    return {"code": code, "reason": reason[:255], "propertyPath": path}


def json_response(status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = value if isinstance(value, bytes) else dump_json(value)
    return Response(status, body, [("content-type", JSON_CONTENT_TYPE), *headers])


def error_response(status: int, code: str, reason: str) -> Response:
    return json_response(status, {"code": code, "reason": reason[:255]})


def parse_datetime(text: str) -> datetime | None:
    """An RFC 3339 date-time with an offset, or None (naive values are not date-times here)."""
    try:
        # Python 3.10's fromisoformat does not accept the `Z` suffix.
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def int_param(request: Request, name: str) -> int | None:
    """A non-negative integer query parameter (`offset`, `limit`); None when absent."""
    raw = request.query_value(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalidQuery", f"'{name}' must be an integer, got {raw!r}") from None
    if value < 0:
        raise ApiError(400, "invalidQuery", f"'{name}' must not be negative, got {value}")
    return value


def page_response(request: Request, items: Sequence[bytes], *, max_page_size: int) -> Response:
    """Answer a list `GET` with one page of pre-serialised items.

    `offset`/`limit` select the page. A missing `limit`, or one above `max_page_size`,
    is cut to `max_page_size`; `X-Pagination-Throttled: true` then says that the page
    was cut and more results remain. `X-Total-Count` is always sent.
    """
    offset = int_param(request, "offset") or 0
    limit = int_param(request, "limit")
    cut = limit is None or limit > max_page_size
    size = max_page_size if cut else limit
    assert size is not None
    chunk = items[offset : offset + size]
    total = len(items)
    throttled = cut and offset + len(chunk) < total
    body = b"[" + b",".join(chunk) + b"]"
    return json_response(
        200,
        body,
        [
            ("x-total-count", str(total)),
            ("x-result-count", str(len(chunk))),
            ("x-pagination-throttled", "true" if throttled else "false"),
        ],
    )


Handler = Callable[[Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Route:
    """`template` is relative to the API base path, e.g. `serviceOrder/{id}`."""

    method: str
    template: str
    handler: Handler

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(f"{regex}/?")


class Router:
    """Dispatch by API base path, then by route template within the API."""

    def __init__(self) -> None:
        self._apis: list[tuple[str, list[tuple[str, re.Pattern[str], Handler]]]] = []

    def mount(self, base_path: str, routes: Iterable[Route]) -> None:
        base = "/" + base_path.strip("/") + "/"
        compiled = [(r.method.upper(), r.pattern(), r.handler) for r in routes]
        self._apis.append((base, compiled))
        # Longest base first, so nested bases cannot shadow each other.
        self._apis.sort(key=lambda api: len(api[0]), reverse=True)

    def dispatch(self, request: Request) -> Response:
        for base, routes in self._apis:
            if not request.path.startswith(base):
                continue
            rest = request.path[len(base) :]
            allowed = False
            for method, pattern, handler in routes:
                match = pattern.fullmatch(rest)
                if match is None:
                    continue
                if method != request.method:
                    allowed = True
                    continue
                try:
                    return handler(request, match.groupdict())
                except ApiError as exc:
                    return exc.response()
                except Unprocessable as exc:
                    return json_response(422, exc.errors)
            if allowed:
                return Response(405, b"", [("allow", "GET, POST, DELETE")])
        return error_response(404, "notFound", f"No resource at {request.path}")


async def read_request(scope: Scope, receive: Receive) -> Request:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_query = scope.get("query_string", b"").decode("latin-1")
    return Request(
        method=scope["method"].upper(),
        path=scope["path"],
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers=headers,
        body=b"".join(chunks),
        scheme=scope.get("scheme", "http"),
    )


async def send_response(send: Send, response: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
