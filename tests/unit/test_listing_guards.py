"""Listing always ends and never yields an item twice unannounced, whatever the seller's
pagination does: over real loopback HTTP, through the public clients, against sellers that
ignore `offset`, repeat items, say `X-Pagination-Throttled: true` forever, announce an absurd
`X-Total-Count` or one lower than what they have."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
from _faulty import FaultySeller, Reply, Request, minimal_order

from lso_client import AllegroClient, AsyncAllegroClient, LSOError, PaginationError

Start = Callable[..., FaultySeller]
Handler = Callable[[Request], Reply]

# Iteration is cut off here by the test itself, so code that never ends fails instead of hanging.
CAP = 3000
MODES = ["sync", "async"]


def page_params(request: Request, default_limit: int = 10) -> tuple[int, int]:
    query = parse_qs(request.query)
    offset = int(query.get("offset", ["0"])[0])
    limit = int(query.get("limit", [str(default_limit)])[0])
    return offset, limit


def answer(numbers: range | list[int], **headers: str) -> Reply:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return Reply.json([minimal_order(n) for n in numbers], headers=named)


@dataclass
class Listing:
    ids: list[str] = field(default_factory=list)
    error: LSOError | None = None
    deviations: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def collect(mode: str, seller: FaultySeller, **kwargs: Any) -> Listing:
    """Iterate `service_orders.list(**kwargs)` to its end (or CAP items), sync or async."""
    result = Listing()
    started = time.monotonic()
    if mode == "sync":
        with AllegroClient(seller.url, max_retries=0) as client:
            page = client.service_orders.list(**kwargs)
            try:
                for item in page:
                    result.ids.append(item.id)
                    if len(result.ids) >= CAP:
                        break
            except PaginationError as exc:
                result.error = exc
            result.deviations = page.spec_deviations
    else:

        async def run() -> None:
            async with AsyncAllegroClient(seller.url, max_retries=0) as client:
                page = await client.service_orders.list(**kwargs)
                items = cast(AsyncGenerator[Any, None], page.__aiter__())
                try:
                    async for item in items:
                        result.ids.append(item.id)
                        if len(result.ids) >= CAP:
                            break
                except PaginationError as exc:
                    result.error = exc
                finally:
                    await items.aclose()
                result.deviations = page.spec_deviations

        asyncio.run(run())
    result.seconds = time.monotonic() - started
    return result


def assert_no_duplicates(ids: list[str]) -> None:
    assert len(ids) == len(set(ids)), "an item was yielded twice"


def list_requests(seller: FaultySeller) -> list[tuple[int, int]]:
    return [page_params(request) for request in seller.requests]


# --------------------------------------------------------------------------- lying sellers


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("total", ["237", None])
def test_a_seller_that_ignores_offset_is_stopped_with_a_reason(
    faulty_seller: Start, mode: str, total: str | None
) -> None:
    def handler(request: Request) -> Reply:
        _, limit = page_params(request)
        headers = {"X-Total-Count": total} if total else {}
        return answer(range(limit), **headers)

    seller = faulty_seller(handler)
    listing = collect(mode, seller, limit=50)
    assert isinstance(listing.error, PaginationError)
    assert listing.error.reason == "ignores_offset"
    assert "ignore offset" in str(listing.error) and "offset 50" in str(listing.error)
    assert (listing.error.offset, listing.error.pages, listing.error.items) == (50, 2, 50)
    assert listing.ids == [f"so-{n}" for n in range(50)]
    assert list_requests(seller) == [(0, 50), (50, 50)]


@pytest.mark.parametrize("mode", MODES)
def test_items_repeated_across_pages_are_yielded_once_and_recorded(
    faulty_seller: Start, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Each page starts 5 items before where it was asked (the seller's window slid back).
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        start = max(0, offset - 5)
        return answer(range(start, min(start + limit, 100)), X_Total_Count="100")

    seller = faulty_seller(handler)
    with caplog.at_level(logging.WARNING, logger="lso_client"):
        listing = collect(mode, seller, limit=20)
    assert listing.error is None
    assert_no_duplicates(listing.ids)
    assert sorted(listing.ids) == sorted(f"so-{n}" for n in range(100))
    repeated = [d for d in listing.deviations if d["type"] == "pagination_repeated_items"]
    assert repeated and repeated[0]["input"] == [f"so-{n}" for n in range(15, 20)]
    assert "already yielded" in caplog.text


@pytest.mark.parametrize("mode", MODES)
def test_throttled_forever_without_new_items_ends(faulty_seller: Start, mode: str) -> None:
    # Throttled pages of 5 until the data (20 items) runs out, then the last page over and over.
    def handler(request: Request) -> Reply:
        offset, _ = page_params(request)
        start = min(offset, 15)
        return answer(range(start, start + 5), X_Pagination_Throttled="true")

    seller = faulty_seller(handler)
    listing = collect(mode, seller, limit=10)
    assert isinstance(listing.error, PaginationError)
    assert listing.error.reason == "throttled_no_progress"
    assert "X-Pagination-Throttled: true" in str(listing.error)
    assert listing.ids == [f"so-{n}" for n in range(20)]
    assert len(seller.requests) == 5


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_throttled_page_is_an_error_not_the_end(faulty_seller: Start, mode: str) -> None:
    def handler(request: Request) -> Reply:
        offset, _ = page_params(request)
        return answer(range(offset, min(offset + 5, 10)), X_Pagination_Throttled="true")

    listing = collect(mode, faulty_seller(handler), limit=10)
    assert isinstance(listing.error, PaginationError)
    assert listing.error.reason == "throttled_no_progress"
    assert listing.ids == [f"so-{n}" for n in range(10)]


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_page_before_the_total_says_items_were_lost(
    faulty_seller: Start, mode: str
) -> None:
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer(range(offset, min(offset + limit, 30)), X_Total_Count="45")

    listing = collect(mode, faulty_seller(handler), limit=10)
    assert isinstance(listing.error, PaginationError)
    assert listing.error.reason == "empty_before_total"
    assert "X-Total-Count is 45" in str(listing.error)
    assert listing.ids == [f"so-{n}" for n in range(30)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pages_in_flight", [1, 8])
def test_an_absurd_total_with_full_pages_ends(
    faulty_seller: Start, mode: str, pages_in_flight: int
) -> None:
    # 237 real items served round and round, full pages, X-Total-Count 10^18.
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer([n % 237 for n in range(offset, offset + limit)], X_Total_Count=str(10**18))

    seller = faulty_seller(handler)
    listing = collect(mode, seller, limit=50, pages_in_flight=pages_in_flight)
    assert isinstance(listing.error, PaginationError)
    assert listing.error.reason == "no_new_items"
    assert sorted(listing.ids) == sorted(f"so-{n}" for n in range(237))
    assert_no_duplicates(listing.ids)
    # Six pages reach the wrap-around; what was in flight beyond them is at most 8 more.
    assert 6 <= len(seller.requests) <= 6 + pages_in_flight
    assert listing.seconds < 30


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pages_in_flight", [1, 4])
def test_a_total_lower_than_the_data_loses_nothing(
    faulty_seller: Start, mode: str, pages_in_flight: int, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer(range(offset, min(offset + limit, 237)), X_Total_Count="100")

    with caplog.at_level(logging.WARNING, logger="lso_client"):
        listing = collect(mode, faulty_seller(handler), limit=50, pages_in_flight=pages_in_flight)
    assert listing.error is None
    assert listing.ids == [f"so-{n}" for n in range(237)]
    (deviation,) = listing.deviations
    assert deviation["type"] == "pagination_total_too_low" and deviation["input"] == 100
    assert "X-Total-Count is 100" in caplog.text


@pytest.mark.parametrize("mode", MODES)
def test_a_total_that_is_right_costs_one_probe_when_the_last_page_is_full(
    faulty_seller: Start, mode: str
) -> None:
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer(range(offset, min(offset + limit, 100)), X_Total_Count="100")

    seller = faulty_seller(handler)
    listing = collect(mode, seller, limit=50)
    assert listing.error is None and listing.deviations == []
    assert listing.ids == [f"so-{n}" for n in range(100)]
    assert list_requests(seller) == [(0, 50), (50, 50), (100, 50)]


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pages_in_flight", [1, 8])
def test_max_pages_bounds_an_endless_honest_seller(
    faulty_seller: Start, mode: str, pages_in_flight: int
) -> None:
    # Distinct items forever: nothing to detect, only a guard ends it.
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer(range(offset, offset + limit), X_Total_Count=str(10**18))

    seller = faulty_seller(handler)
    listing = collect(mode, seller, limit=20, max_pages=3, pages_in_flight=pages_in_flight)
    assert listing.error is None
    assert listing.ids == [f"so-{n}" for n in range(60)]
    assert sorted(list_requests(seller)) == [(0, 20), (20, 20), (40, 20)]


def test_max_pages_must_be_positive(faulty_seller: Start) -> None:
    seller = faulty_seller(lambda request: answer(range(3)))
    with AllegroClient(seller.url) as client, pytest.raises(ValueError, match="max_pages"):
        client.service_orders.list(max_pages=0)
    assert seller.requests == []


def test_max_items_still_bounds_an_endless_seller(faulty_seller: Start) -> None:
    def handler(request: Request) -> Reply:
        offset, limit = page_params(request)
        return answer(range(offset, offset + limit))

    seller = faulty_seller(handler)
    listing = collect("sync", seller, limit=20, max_items=45)
    assert listing.ids == [f"so-{n}" for n in range(45)]
    assert list_requests(seller) == [(0, 20), (20, 20), (40, 5)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pages_in_flight", [1, 4])
def test_a_seller_that_sends_everything_at_once_ends_cleanly(
    faulty_seller: Start, mode: str, pages_in_flight: int
) -> None:
    # A simple seller ignores limit and offset and sends its 37 items every time, with a
    # right total: the probe past the total brings nothing new, so the listing is complete.
    seller = faulty_seller(lambda request: answer(range(37), X_Total_Count="37"))
    listing = collect(mode, seller, limit=10, pages_in_flight=pages_in_flight)
    assert listing.error is None
    assert listing.ids == [f"so-{n}" for n in range(37)]
    assert len(seller.requests) <= 2


@pytest.mark.parametrize("mode", MODES)
def test_a_full_page_that_is_all_there_is_ends_cleanly(faulty_seller: Start, mode: str) -> None:
    # 50 items, one full page of 50 and a total of 50, offset ignored: the probe past the
    # total repeats the page, which says the total was right, not that items were lost.
    seller = faulty_seller(lambda request: answer(range(50), X_Total_Count="50"))
    listing = collect(mode, seller, limit=50)
    assert listing.error is None
    assert listing.ids == [f"so-{n}" for n in range(50)]
    assert list_requests(seller) == [(0, 50), (50, 50)]


@pytest.mark.parametrize("mode", MODES)
def test_the_probe_that_repeats_the_last_page_is_not_yielded_as_a_page(
    faulty_seller: Start, mode: str
) -> None:
    seller = faulty_seller(lambda request: answer(range(37), X_Total_Count="37"))
    if mode == "sync":
        with AllegroClient(seller.url, max_retries=0) as client:
            sizes = [len(page) for page in client.service_orders.list(limit=10).iter_pages()]
    else:

        async def run() -> list[int]:
            async with AsyncAllegroClient(seller.url, max_retries=0) as client:
                first = await client.service_orders.list(limit=10)
                return [len(page) async for page in first.iter_pages()]

        sizes = asyncio.run(run())
    assert sizes == [37]
    assert len(seller.requests) == 2
