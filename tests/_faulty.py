"""A scriptable faulty seller: a raw HTTP/1.1 server on loopback whose every answer is chosen
by the test, including the answers no well-behaved server gives.

    with FaultySeller(lambda request: Reply.json({"id": "1"})) as seller:
        client = AllegroClient(seller.url)
        ...
        assert seller.requests[0].path == "/mefApi/..."

The handler gets each parsed `Request` and returns an action:

- `Reply(status, headers, body)`: a normal answer (`Reply.json(obj)` for JSON);
- `Drip(reply, interval)`: the status line and headers at once, then the body one chunk
  (a byte by default) every `interval` seconds;
- `Stall(seconds)`: read the request, then say nothing for `seconds`, then close;
- `Reset("before_read" | "after_read" | "mid_body", reply)`: an abortive close (TCP RST)
  before reading the request, after reading it without answering, or halfway through the
  body of `reply`;
- `Close()`: read the request and close the connection cleanly without answering.

`Script(actions, then=...)` answers the requests in order with `actions`, then with `then`
(a handler) for every later one. `gzip_bomb(size)` builds a small gzip body that expands to
`size` bytes. Connections are kept alive between normal replies, as real servers do.
Every request is recorded in `seller.requests` (also those answered with a fault).
Stopping closes the listening socket and every open connection and ends every stall.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

__all__ = [
    "Action",
    "Close",
    "Drip",
    "FaultySeller",
    "Reply",
    "Request",
    "Reset",
    "Script",
    "SlowClients",
    "Stall",
    "gzip_bomb",
    "minimal_order",
]

_MAX_HEAD = 64 * 1024
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Request:
    """One request as the seller read it. `target` is the raw request target (path and
    query, percent-encoding untouched); header names are lower case."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    index: int

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """A complete answer. `Content-Length` is added unless the headers carry one."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(
            status,
            {"Content-Type": "application/json;charset=utf-8", **(headers or {})},
            json.dumps(value).encode("utf-8"),
        )

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Status')}"]
        names = {name.lower() for name in self.headers}
        for name, value in self.headers.items():
            lines.append(f"{name}: {value}")
        if "content-length" not in names and "transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class Drip:
    """Send `reply`'s head at once, then its body `chunk` bytes every `interval` seconds
    (with `head=True`, the status line and headers are dripped too)."""

    reply: Reply
    interval: float
    chunk: int = 1
    head: bool = False


@dataclass(frozen=True)
class Stall:
    """Read the request, answer nothing for `seconds`, then close."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """An abortive close (RST): before reading the request, after reading it, or halfway
    through the body of `reply` (whose head is sent whole)."""

    when: Literal["before_read", "after_read", "mid_body"] = "after_read"
    reply: Reply | None = None


@dataclass(frozen=True)
class Close:
    """Read the request, then close the connection cleanly (FIN) without answering."""


Action = Reply | Drip | Stall | Reset | Close
Handler = Callable[[Request], Action]


class Script:
    """Answer requests in order with `actions`, then every later one with `then`."""

    def __init__(self, actions: Iterable[Action], then: Handler | None = None) -> None:
        self._actions = list(actions)
        self._then = then
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Action:
        with self._lock:
            if self._actions:
                return self._actions.pop(0)
        if self._then is None:
            return Reply.json({"code": "notFound", "reason": "script exhausted"}, status=404)
        return self._then(request)


def gzip_bomb(size: int) -> bytes:
    """A gzip body of a few hundred bytes per MiB that inflates to `size` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = []
    left = size
    while left > 0:
        piece = block if left >= len(block) else bytes(left)
        parts.append(compressor.compress(piece))
        left -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)


def minimal_order(number: int) -> dict[str, Any]:
    """A minimal valid Allegro service order with id `so-<number>`, as a seller sends it."""
    return {
        "id": f"so-{number}",
        "href": f"/so/so-{number}",
        "state": "acknowledged",
        "orderDate": "2024-05-01T09:30:00Z",
        "requestedStartDate": "2024-05-10T00:00:00Z",
        "requestedCompletionDate": "2024-06-01T00:00:00Z",
        "serviceOrderItem": [
            {"id": "1", "action": "add", "state": "acknowledged", "service": {"serviceType": "x"}}
        ],
    }


class FaultySeller:
    """Serve `handler`'s answers on `127.0.0.1` from background threads."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._host = host
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._accepted = 0

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the faulty seller is not running")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections were accepted so far."""
        return self._accepted

    def start(self) -> FaultySeller:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        sock.listen(128)
        sock.settimeout(0.2)
        self._listener = sock
        self._spawn(self._accept_loop, "faulty-seller-accept")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            live = list(self._connections)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> FaultySeller:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.add(conn)
                self._accepted += 1
            self._spawn(self._serve, "faulty-seller-conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        try:
            while not self._stopping.is_set():
                peek = self._peek_action_before_read()
                if peek is not None:
                    _abort(conn)
                    return
                request = self._read_request(conn, buffer)
                if request is None:
                    return
                action = self.handler(request)
                if not self._act(conn, action):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _peek_action_before_read(self) -> Action | None:
        """`Reset("before_read")` applies to a connection before any request is read, so the
        handler cannot see the request: a Script whose next action is one is consulted here."""
        handler = self.handler
        if isinstance(handler, Script):
            with handler._lock:
                if handler._actions:
                    first = handler._actions[0]
                    if isinstance(first, Reset) and first.when == "before_read":
                        handler._actions.pop(0)
                        return first
        return None

    def _read_request(self, conn: socket.socket, buffer: bytearray) -> Request | None:
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > _MAX_HEAD:
                return None
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body = bytearray(rest)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        buffer[:] = body[length:]
        with self._lock:
            request = Request(method, target, headers, bytes(body[:length]), len(self.requests))
            self.requests.append(request)
        return request

    def _act(self, conn: socket.socket, action: Action) -> bool:
        """Carry out `action`; return whether the connection stays usable."""
        if isinstance(action, Reply):
            conn.sendall(action.head() + action.body)
            return True
        if isinstance(action, Drip):
            body = action.reply.body
            if action.head:
                body = action.reply.head() + body
            else:
                conn.sendall(action.reply.head())
            for start in range(0, len(body), action.chunk):
                if self._stopping.wait(action.interval):
                    return False
                conn.sendall(body[start : start + action.chunk])
            return True
        if isinstance(action, Stall):
            self._stopping.wait(action.seconds)
            return False
        if isinstance(action, Reset):
            if action.when == "mid_body" and action.reply is not None:
                body = action.reply.body
                conn.sendall(action.reply.head() + body[: len(body) // 2])
            _abort(conn)
            return False
        if isinstance(action, Close):
            return False
        raise TypeError(f"not a faulty-seller action: {action!r}")


def _abort(conn: socket.socket) -> None:
    """Close with RST instead of FIN."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class SlowClients:
    """`count` connections to `url` that send a POST to `path` and then their headers a
    byte every `interval` seconds (slowloris); one the server closes is opened again
    while the attack lasts. A context manager: the attack runs in a background thread
    from entry to exit. `closed_by_server` counts the connections the server closed."""

    def __init__(self, url: str, path: str, count: int, interval: float) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))
        self.path = path
        self.count = count
        self.interval = interval
        self.closed_by_server = 0
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=5)
        sock.sendall(f"POST {self.path} HTTP/1.1\r\nHost: x\r\n".encode())
        sock.setblocking(False)
        self.opened += 1
        return sock

    def _run(self) -> None:
        socks = [self._connect() for _ in range(self.count)]
        try:
            while not self._stop.wait(self.interval):
                for i, sock in enumerate(socks):
                    try:
                        if sock.recv(1, socket.MSG_PEEK) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass  # still open, nothing sent back
                    except OSError:
                        self.closed_by_server += 1
                        sock.close()
                        socks[i] = sock = self._connect()
                    with contextlib.suppress(OSError):
                        sock.send(b"X")
        finally:
            for sock in socks:
                sock.close()

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
