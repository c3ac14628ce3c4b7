"""The faulty seller does what the reliability tests rely on, as httpx sees it."""

from __future__ import annotations

import gzip
import time

import httpx
import pytest
from _faulty import Close, Drip, FaultySeller, Reply, Reset, Script, Stall, gzip_bomb


def test_reply_and_keep_alive(faulty_seller) -> None:
    seller = faulty_seller(lambda r: Reply.json({"path": r.path, "n": r.index}))
    with httpx.Client(base_url=seller.url) as client:
        assert client.get("/a?x=1").json() == {"path": "/a", "n": 0}
        assert client.post("/b", content=b"xyz").json() == {"path": "/b", "n": 1}
    assert seller.connections_accepted == 1
    assert seller.requests[0].query == "x=1"
    assert seller.requests[1].body == b"xyz"


def test_script_then_handler(faulty_seller) -> None:
    seller = faulty_seller(Script([Reply(503)], then=lambda r: Reply(200, body=b"ok")))
    with httpx.Client(base_url=seller.url) as client:
        assert client.get("/").status_code == 503
        assert client.get("/").text == "ok"


@pytest.mark.parametrize("when", ["before_read", "after_read", "mid_body"])
def test_resets(faulty_seller, when: str) -> None:
    seller = faulty_seller(
        Script([Reset(when, Reply(200, body=b"x" * 1000))], then=lambda r: Reply(200))
    )
    with httpx.Client(base_url=seller.url) as client, pytest.raises(httpx.TransportError):
        client.get("/")
    assert len(seller.requests) == (0 if when == "before_read" else 1)


def test_close_without_answer(faulty_seller) -> None:
    seller = faulty_seller(lambda r: Close())
    with httpx.Client(base_url=seller.url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_stall_ends_with_the_read_timeout(faulty_seller) -> None:
    seller = faulty_seller(lambda r: Stall(30))
    with (
        httpx.Client(base_url=seller.url, timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/")


def test_drip_sends_the_body_slowly(faulty_seller) -> None:
    seller = faulty_seller(lambda r: Drip(Reply(200, body=b"abcde"), interval=0.05))
    started = time.monotonic()
    with httpx.Client(base_url=seller.url) as client:
        assert client.get("/").content == b"abcde"
    assert time.monotonic() - started >= 0.2


def test_drip_can_send_the_head_slowly_too(faulty_seller) -> None:
    seller = faulty_seller(lambda r: Drip(Reply(200, body=b"ab"), interval=0.01, head=True))
    started = time.monotonic()
    with httpx.Client(base_url=seller.url) as client:
        assert client.get("/").content == b"ab"
    assert time.monotonic() - started >= 0.2  # some 40 bytes of head, 0.01 s apart


def test_gzip_bomb_inflates() -> None:
    bomb = gzip_bomb(3 * 1024 * 1024 + 5)
    assert len(bomb) < 20_000
    assert len(gzip.decompress(bomb)) == 3 * 1024 * 1024 + 5


def test_stop_ends_a_stall_promptly() -> None:
    seller = FaultySeller(lambda r: Stall(60)).start()
    try:
        with httpx.Client(base_url=seller.url, timeout=None) as client:
            import threading

            failures: list[BaseException] = []

            def call() -> None:
                try:
                    client.get("/")
                except BaseException as exc:
                    failures.append(exc)

            thread = threading.Thread(target=call)
            thread.start()
            while not seller.requests:
                time.sleep(0.01)
            started = time.monotonic()
            seller.stop()
            thread.join(10)
            assert not thread.is_alive()
            assert time.monotonic() - started < 5
            assert failures
    finally:
        seller.stop()
