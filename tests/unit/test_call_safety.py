"""Every call ends, in bounded time and memory, and in an `LSOError`: over real loopback
HTTP against the faulty seller."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _faulty import Action, Drip, FaultySeller, Reply, Request, Stall, gzip_bomb

from lso_client import (
    AllegroClient,
    APIStatusError,
    APITimeoutError,
    AsyncAllegroClient,
    LSOError,
    OAuth2ClientCredentials,
    RequestValidationError,
    ResponseTooLargeError,
    TokenRequestError,
)

Start = Callable[..., FaultySeller]

ORDER = {"id": "so-1", "state": "acknowledged", "externalId": "x-1", "href": "/so/so-1"}
MIB = 1024 * 1024


def order_reply() -> Reply:
    return Reply.json(ORDER)


# --------------------------------------------------------------------------- time bounds


def test_a_dripping_body_ends_at_the_deadline(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2))
    with AllegroClient(seller.url, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="Deadline of 2s"):
            client.service_orders.retrieve("so-1", deadline=2)
        assert time.monotonic() - started < 2 + 1.0


def test_the_read_timeout_bounds_the_whole_body(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2))
    with AllegroClient(seller.url, max_retries=0, timeout=1) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.service_orders.retrieve("so-1")
        assert time.monotonic() - started < 1 + 1.0


def test_a_read_that_blocks_after_part_of_the_body_is_cut_at_the_deadline(
    faulty_seller: Start,
) -> None:
    # A chunk at 1.8 s, then nothing until 3.6 s: the second read would outlive the
    # deadline by most of the per-read timeout; the watchdog ends it at the deadline.
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=1.8, chunk=10))
    with AllegroClient(seller.url, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="Deadline of 2s"):
            client.service_orders.retrieve("so-1", deadline=2)
        assert time.monotonic() - started < 2 + 0.8


def test_the_connection_pool_survives_a_watched_body(faulty_seller: Start) -> None:
    # Bodies long enough to arm the watchdog, then cancelled: the pooled connection is
    # reused and never shut down afterwards.
    body = {"id": "so-1", "note": "x" * 300_000}
    seller = faulty_seller(lambda request: Reply.json(body))
    with AllegroClient(seller.url, max_retries=0) as client:
        for _ in range(5):
            raw = client.service_orders.with_raw_response.retrieve("so-1", deadline=0.5)
            assert len(raw.http_response.content) > 300_000
        time.sleep(0.7)  # past every watch's time
        raw = client.service_orders.with_raw_response.retrieve("so-1")
        assert raw.status_code == 200
    assert seller.connections_accepted == 1


class _RecordingStream(httpx.SyncByteStream):
    """A body stream noting, when it is closed (the connection goes back to the pool),
    whether every watch armed so far was cancelled."""

    def __init__(self, stream: httpx.SyncByteStream, armed: list[Any], notes: list[bool]) -> None:
        self._stream, self._armed, self._notes = stream, armed, notes

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        self._notes.append(all(watch.cancelled for watch in self._armed))
        self._stream.close()


class _RecordingTransport(httpx.HTTPTransport):
    def __init__(self, armed: list[Any], notes: list[bool]) -> None:
        super().__init__()
        self._armed, self._notes = armed, notes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _RecordingStream(response.stream, self._armed, self._notes)
        return response


def test_a_watch_is_cancelled_before_its_connection_returns_to_the_pool(
    faulty_seller: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once pooled, the connection may carry another call at once (another thread's POST):
    # a watch still armed then could shut its socket down under that call.
    from lso_client import _body

    armed: list[Any] = []
    arm = _body._WATCHDOG.arm

    def recording_arm(seconds: float, sock: socket.socket) -> Any:
        armed.append(arm(seconds, sock))
        return armed[-1]

    monkeypatch.setattr(_body._WATCHDOG, "arm", recording_arm)
    notes: list[bool] = []
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.005, chunk=8))
    http_client = httpx.Client(transport=_RecordingTransport(armed, notes))
    with AllegroClient(seller.url, http_client=http_client, max_retries=0) as client:
        for _ in range(3):
            assert client.service_orders.retrieve("so-1", deadline=10).id == "so-1"
    http_client.close()
    assert len(armed) == 3
    assert notes == [True, True, True]


def _drip_in_child(url: str, results: Any) -> None:
    with AllegroClient(url, max_retries=0, timeout=2) as client:
        started = time.monotonic()
        try:
            client.service_orders.retrieve("so-1")
            outcome = "answered"
        except APITimeoutError:
            outcome = "timeout"
        results.put((outcome, time.monotonic() - started))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_watchdog_works_in_a_forked_child(faulty_seller: Start) -> None:
    # The watchdog thread of a process that read a watched body is not in its forked
    # children (multiprocessing's default on Linux): a child starts its own.
    import multiprocessing

    # A chunk at 1.8 s, then nothing until 3.6 s: only the watchdog ends the body at the
    # read timeout (2 s, no deadline) rather than at 3.6 s.
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=1.8, chunk=10))
    with (
        AllegroClient(seller.url, max_retries=0, timeout=2) as client,
        pytest.raises(APITimeoutError),
    ):
        client.service_orders.retrieve("so-1")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_drip_in_child, args=(seller.url, results))
    child.start()
    try:
        outcome, seconds = results.get(timeout=30)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert outcome == "timeout" and seconds < 2 + 0.8


def test_async_dripping_body_ends_at_the_deadline(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2))

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, max_retries=0) as client:
            with pytest.raises(APITimeoutError, match="Deadline of 2s"):
                await client.service_orders.retrieve("so-1", deadline=2)

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 2 + 1.0


def test_a_dripping_head_ends_at_the_deadline(faulty_seller: Start) -> None:
    # The status line and headers a byte every 0.2 s: every socket read of the call ends
    # by the deadline, not only those of the body.
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2, head=True))
    with AllegroClient(seller.url, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="Deadline of 2s"):
            client.service_orders.retrieve("so-1", deadline=2)
        assert time.monotonic() - started < 2 + 1.0


def test_a_dripping_head_through_a_proxy_from_the_environment_ends_at_the_deadline(
    faulty_seller: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With HTTP_PROXY set, httpx sends through a transport of its own per proxy: its reads
    # are bounded by the deadline too.
    proxy = faulty_seller(lambda request: Drip(order_reply(), interval=0.2, head=True))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with AllegroClient("http://seller.example", max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="Deadline of 2s"):
            client.service_orders.retrieve("so-1", deadline=2)
        assert time.monotonic() - started < 2 + 1.0
    assert proxy.requests[0].target.startswith("http://seller.example/")


def test_a_body_begun_past_the_deadline_is_a_deadline_error(faulty_seller: Start) -> None:
    # A caller's httpx client reads the head unbounded (each read within its timeout):
    # it ends after the deadline, and reading the body must say so, not make the socket
    # non-blocking with a zero timeout ("Resource temporarily unavailable", a ReadError).
    # The head padded to whole chunks: the body is not yet there when its first read begins.
    plain = order_reply()
    pad = -len(Reply(200, {**plain.headers, "X-Pad": ""}, plain.body).head()) % 12
    reply = Reply(200, {**plain.headers, "X-Pad": "x" * pad}, plain.body)
    assert len(reply.head()) % 12 == 0
    seller = faulty_seller(lambda request: Drip(reply, interval=0.2, chunk=12, head=True))
    with (
        httpx.Client() as http_client,
        AllegroClient(seller.url, http_client=http_client, max_retries=0) as client,
        pytest.raises(APITimeoutError, match="Deadline of 1s"),
    ):
        client.service_orders.retrieve("so-1", deadline=1)


def test_the_sdk_client_reads_through_bounded_streams() -> None:
    # Guards the httpx/httpcore internals the bound relies on: an upgrade that moves them
    # fails here rather than silently unbounding the head of a response.
    from lso_client._body import _BoundedBackend

    with AllegroClient("http://127.0.0.1:9") as client:
        pool = client._transport.http_client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, _BoundedBackend)


def test_async_dripping_head_ends_at_the_deadline(faulty_seller: Start) -> None:
    # The status line and headers a byte every 0.2 s: the whole call is cut at the deadline.
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2, head=True))

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, max_retries=0) as client:
            with pytest.raises(APITimeoutError, match="Deadline of 2s"):
                await client.service_orders.retrieve("so-1", deadline=2)

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 2 + 1.0


TOKEN = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}


@pytest.mark.parametrize(
    "slow",
    [Stall(6), Drip(Reply.json(TOKEN), interval=0.2, head=True)],
    ids=["stalled", "dripping"],
)
def test_a_slow_token_endpoint_ends_at_the_deadline(faulty_seller: Start, slow: Action) -> None:
    # The token request runs inside the call: the call's deadline bounds it too, as it
    # does for the async client (and not the token timeout, nor never for a drip).
    seller = faulty_seller(lambda request: order_reply())
    token_endpoint = faulty_seller(lambda request: slow)
    auth = OAuth2ClientCredentials(
        token_url=f"{token_endpoint.url}/token", client_id="c", client_secret="s", timeout=5
    )
    with AllegroClient(seller.url, auth=auth, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.service_orders.retrieve("so-1", deadline=1)
        assert time.monotonic() - started < 1 + 1.0
    assert seller.requests == []


def test_async_read_timeout_bounds_the_whole_body(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Drip(order_reply(), interval=0.2))

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, max_retries=0, timeout=1) as client:
            with pytest.raises(APITimeoutError):
                await client.service_orders.retrieve("so-1")

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 1 + 1.0


# --------------------------------------------------------------------------- size bounds

BOMB_SIZE = 200 * MIB
LIMIT = 8 * MIB


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(BOMB_SIZE)


def bomb_handler(body: bytes) -> Callable[[Request], Reply]:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    return lambda request: Reply(200, headers, body)


def test_a_gzip_bomb_stops_at_the_limit_in_bounded_memory(
    faulty_seller: Start, bomb: bytes
) -> None:
    seller = faulty_seller(bomb_handler(bomb))
    with AllegroClient(seller.url, max_retries=0, max_response_bytes=LIMIT) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="max_response_bytes") as caught:
                client.service_orders.retrieve("so-1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.limit == LIMIT
    assert isinstance(caught.value, LSOError)
    assert peak < LIMIT + 16 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_the_limit_is_set_per_call(faulty_seller: Start, bomb: bytes) -> None:
    seller = faulty_seller(bomb_handler(bomb))
    with (
        AllegroClient(seller.url, max_retries=0) as client,
        pytest.raises(ResponseTooLargeError) as caught,
    ):
        client.service_orders.retrieve("so-1", max_response_bytes=MIB)
    assert caught.value.limit == MIB


def test_the_limit_is_set_by_with_options(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reply.json({"id": "so-1", "note": "x" * 5000}))
    with AllegroClient(seller.url, max_retries=0) as client:
        small = client.with_options(max_response_bytes=1000)
        with pytest.raises(ResponseTooLargeError):
            small.service_orders.retrieve("so-1")
        assert client.service_orders.retrieve("so-1").id == "so-1"


def test_an_oversized_plain_body_is_refused_before_it_is_read(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reply.json({"id": "so-1", "note": "x" * 3 * MIB}))
    with (
        AllegroClient(seller.url, max_retries=0, max_response_bytes=MIB) as client,
        pytest.raises(ResponseTooLargeError),
    ):
        client.service_orders.retrieve("so-1")


def test_async_gzip_bomb_stops_at_the_limit(faulty_seller: Start, bomb: bytes) -> None:
    seller = faulty_seller(bomb_handler(bomb))

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, max_retries=0) as client:
            with pytest.raises(ResponseTooLargeError):
                await client.service_orders.retrieve("so-1", max_response_bytes=LIMIT)

    tracemalloc.start()
    try:
        asyncio.run(main())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < LIMIT + 16 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_a_gzip_body_under_the_limit_is_decoded(faulty_seller: Start) -> None:
    import gzip
    import json

    body = gzip.compress(json.dumps(ORDER).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    seller = faulty_seller(lambda request: Reply(200, headers, body))
    with AllegroClient(seller.url, max_retries=0, max_response_bytes=1000) as client:
        assert client.service_orders.retrieve("so-1").external_id == "x-1"


# --------------------------------------------------------------------------- path parameters


def test_dot_segments_in_ids_cannot_address_another_resource(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: Reply(204))
    with AllegroClient(seller.url, max_retries=0) as client:
        client.performance_profiles.delete(".")
        client.hubs.service_ordering.unregister("..")
    profile, hub = (request.path for request in seller.requests)
    assert profile == "/mefApi/allegro/performanceMonitoring/v5/performanceProfile/%2E"
    assert hub == "/mefApi/allegro/serviceOrderingManagement/v1/hub/%2E%2E"


def test_an_id_too_long_for_a_url_is_an_lso_error(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: order_reply())
    with (
        AllegroClient(seller.url, max_retries=0) as client,
        pytest.raises(RequestValidationError, match="cannot be sent"),
    ):
        client.service_orders.retrieve("x" * 70_000)
    assert seller.requests == []


@pytest.mark.parametrize("status", [404, 503])
def test_an_error_body_nested_too_deep_is_still_a_status_error(
    faulty_seller: Start, status: int
) -> None:
    # json.loads raises RecursionError (not a ValueError) on 100,000 nested arrays.
    deep = b"[" * 100_000 + b"]" * 100_000
    seller = faulty_seller(
        lambda request: Reply(status, {"Content-Type": "application/json"}, deep)
    )
    with AllegroClient(seller.url, max_retries=0) as client:
        with pytest.raises(APIStatusError) as caught:
            client.service_orders.retrieve("so-1")
        assert caught.value.status_code == status and caught.value.body is None

    async def main() -> None:
        async with AsyncAllegroClient(seller.url, max_retries=0) as client:
            with pytest.raises(APIStatusError):
                await client.service_orders.retrieve("so-1")

    asyncio.run(main())


def test_a_token_answer_nested_too_deep_is_a_token_request_error(faulty_seller: Start) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    token_endpoint = faulty_seller(
        lambda request: Reply(200, {"Content-Type": "application/json"}, deep)
    )
    seller = faulty_seller(lambda request: order_reply())
    auth = OAuth2ClientCredentials(
        token_url=f"{token_endpoint.url}/token", client_id="c", client_secret="s"
    )
    with (
        AllegroClient(seller.url, auth=auth, max_retries=0) as client,
        pytest.raises(TokenRequestError),
    ):
        client.service_orders.retrieve("so-1")
    assert seller.requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_401_gzip_bomb_is_not_inflated_by_the_token_refresh(
    faulty_seller: Start, bomb: bytes, mode: str
) -> None:
    # OAuth2ClientCredentials answers a 401 with a fresh token and sends again; httpx reads
    # the 401's body first, whole and unbounded, unless the flow lets it go.
    token_endpoint = faulty_seller(lambda request: Reply.json(TOKEN))
    rejected = Reply(401, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb)
    answers = iter([rejected])
    seller = faulty_seller(lambda request: next(answers, None) or order_reply())
    auth = OAuth2ClientCredentials(
        token_url=f"{token_endpoint.url}/token", client_id="c", client_secret="s"
    )

    async def call_async() -> str:
        async with AsyncAllegroClient(seller.url, auth=auth, max_retries=0) as client:
            return (await client.service_orders.retrieve("so-1")).id

    tracemalloc.start()
    try:
        if mode == "sync":
            with AllegroClient(seller.url, auth=auth, max_retries=0) as client:
                found = client.service_orders.retrieve("so-1").id
        else:
            found = asyncio.run(call_async())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == "so-1"
    assert len(seller.requests) == 2
    assert peak < 16 * MIB, f"peak {peak / MIB:.0f} MiB"
