"""The loopback seller of the benchmarks: a minimal HTTP/1.1 server in its own process.

    python -m benchmarks._server --orders 10000 [--seed 0]   # pre-serialised orders
    python -m benchmarks._server --generate 1000000          # pages made on the fly

It prints its port on the first line of stdout, then serves until stdin closes.
Running in another process keeps it off the benchmark's GIL; answering from bytes
prepared in advance keeps its share of each request small, and it reports that share:
`GET /_stats` returns its busy time and request count since `POST /_reset`.

Routes (under any prefix, so the SDK's MEF base path works as is):
  GET  .../serviceOrder?offset=&limit=   a JSON array page, with X-Total-Count
  GET  .../serviceOrder/{id}             one order
  POST .../serviceOrder                  201 with the next stored order (in turn);
                                         counts payload markers of the body received
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from typing import Any
from urllib.parse import parse_qs

from . import _data

# Markers of the service payload in a create body: a client that drops the payload
# (extra="ignore" models) sends none of them.
PAYLOAD_MARKERS = (b'"sVlanId"', b'"uniId"')


class Store:
    """What the server answers, prepared before the first request."""

    def __init__(self, orders: int, seed: int, generate: int) -> None:
        self.generate = generate
        self.templates: list[list[bytes]] = []
        self.orders: list[bytes] = []
        self.by_id: dict[str, bytes] = {}
        self.pages: dict[tuple[int, int], bytes] = {}
        if generate:
            self.templates = _data.template_bytes()
            self.total = generate
            return
        for index in range(orders):
            order = _data.seller_order(index, seed)
            raw = json.dumps(order).encode()
            self.orders.append(raw)
            self.by_id[order["id"]] = raw
        self.total = orders
        for offset in range(0, orders, 500):
            self.pages[(offset, 500)] = self._join(offset, 500)

    def _join(self, offset: int, limit: int) -> bytes:
        return b"[" + b",".join(self.orders[offset : offset + limit]) + b"]"

    def page(self, offset: int, limit: int) -> bytes:
        if self.generate:
            end = min(self.total, offset + limit)
            return (
                b"["
                + b",".join(
                    _data.generated_id(i).encode().join(self.templates[i % _data.POOL])
                    for i in range(offset, end)
                )
                + b"]"
            )
        found = self.pages.get((offset, limit))
        return found if found is not None else self._join(offset, limit)


class Counters:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.busy = 0.0
        self.creates = 0
        self.markers = [0] * len(PAYLOAD_MARKERS)

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "requests": self.requests,
                "busy_s": self.busy,
                "creates": self.creates,
                "markers": self.markers,
            }
        ).encode()


def _response(status: int, body: bytes, extra: bytes = b"") -> bytes:
    reason = {200: b"OK", 201: b"Created", 204: b"No Content", 404: b"Not Found"}[status]
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n"
        % (status, reason, len(body), extra)
        + body
    )


class Handler(asyncio.Protocol):
    def __init__(self, store: Store, counters: Counters, latency: float = 0.0) -> None:
        self.store = store
        self.counters = counters
        # A remote seller's round trip and processing: answers leave after `latency`
        # seconds without blocking the server, so concurrent requests overlap.
        self.latency = latency
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else None])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            started = time.perf_counter()
            answer = self.dispatch(head, body)
            if self.latency and b" /_" not in head[:16]:  # control requests answer at once
                asyncio.get_running_loop().call_later(self.latency, self.transport.write, answer)
            else:
                self.transport.write(answer)
            counters = self.counters
            counters.busy += time.perf_counter() - started
            counters.requests += 1

    def dispatch(self, head: bytes, body: bytes) -> bytes:
        method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
        path, _, query = target.decode().partition("?")
        store = self.store
        if path.endswith("/serviceOrder"):
            if method == b"POST":
                counters = self.counters
                counters.markers = [
                    seen + body.count(marker)
                    for seen, marker in zip(counters.markers, PAYLOAD_MARKERS, strict=True)
                ]
                raw = store.orders[counters.creates % len(store.orders)]
                counters.creates += 1
                return _response(201, raw)
            params = parse_qs(query)
            offset = int(params.get("offset", ["0"])[0])
            limit = int(params.get("limit", ["500"])[0])
            return _response(200, store.page(offset, limit), b"x-total-count: %d\r\n" % store.total)
        if "/serviceOrder/" in path:
            found = store.by_id.get(path.rsplit("/", 1)[1])
            return _response(200, found) if found is not None else _response(404, b"{}")
        if path == "/_stats":
            return _response(200, self.counters.as_json())
        if path == "/_reset":
            self.counters.reset()
            return _response(204, b"")
        return _response(404, b"{}")


async def _serve(store: Store, latency: float) -> None:
    loop = asyncio.get_running_loop()
    counters = Counters()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = await loop.create_server(
        lambda: Handler(store, counters, latency), sock=sock, backlog=1024
    )
    print(sock.getsockname()[1], flush=True)
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generate", type=int, default=0, help="generator mode: total orders")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every answer")
    args = parser.parse_args()
    asyncio.run(_serve(Store(args.orders, args.seed, args.generate), args.latency_ms / 1000))


if __name__ == "__main__":
    main()
