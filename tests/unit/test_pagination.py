from __future__ import annotations

import gc
import weakref

import httpx
import pytest

from lso_client._errors import LSOError
from lso_client._pagination import (
    _REMEMBERED_IDS,
    AsyncPage,
    NoNextPageError,
    PageInfo,
    PaginationError,
    SyncFetch,
    SyncPage,
    _Guard,
    next_page_offset,
    parse_page_headers,
)


class Seller:
    """An in-memory list endpoint: serves `data[offset:offset+limit]` with chosen headers."""

    def __init__(
        self,
        size: int,
        *,
        default_limit: int = 10,
        max_limit: int | None = None,
        total: bool = True,
        throttle_header: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.data = [f"item-{i}" for i in range(size)]
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.total = total
        self.throttle_header = throttle_header
        self.headers = headers or {}
        self.calls: list[tuple[int, int | None]] = []
        self.responses: list[weakref.ref[httpx.Response]] = []

    def fetch(self, offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        self.calls.append((offset, limit))
        wanted = self.default_limit if limit is None else limit
        granted = wanted if self.max_limit is None else min(wanted, self.max_limit)
        items = self.data[offset : offset + granted]
        headers = {"X-Result-Count": str(len(items)), **self.headers}
        if self.total:
            headers["X-Total-Count"] = str(len(self.data))
        if self.throttle_header:
            truncated = granted < wanted and offset + len(items) < len(self.data)
            headers["X-Pagination-Throttled"] = "true" if truncated else "false"
        response = httpx.Response(200, headers=headers, json=items)
        self.responses.append(weakref.ref(response))
        return list(items), response

    async def afetch(self, offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        return self.fetch(offset, limit)


# --------------------------------------------------------------------------- headers and rule


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (None, None, None)),
        (
            {"X-Total-Count": "42", "X-Result-Count": "10", "X-Pagination-Throttled": "false"},
            (42, 10, False),
        ),
        ({"X-Total-Count": " 7 ", "X-Pagination-Throttled": "TRUE"}, (7, None, True)),
        (
            {"X-Total-Count": "", "X-Result-Count": "null", "X-Pagination-Throttled": ""},
            (None, None, None),
        ),
        (
            {"X-Total-Count": "-1", "X-Result-Count": "1.5", "X-Pagination-Throttled": "yes"},
            (None, None, None),
        ),
        (
            {"X-Total-Count": "12abc", "X-Result-Count": "1e3", "X-Pagination-Throttled": "null"},
            (None, None, None),
        ),
    ],
)
def test_parse_page_headers(
    headers: dict[str, str], expected: tuple[int | None, int | None, bool | None]
) -> None:
    assert parse_page_headers(httpx.Headers(headers)) == expected


@pytest.mark.parametrize(
    ("offset", "limit", "total", "throttled", "count", "expected"),
    [
        (0, 10, 25, None, 0, None),  # empty page ends, whatever the headers say
        (0, 10, None, True, 0, None),
        (0, 10, 25, None, 10, 10),  # total known: more
        (20, 10, 25, None, 5, None),  # total known: reached
        (0, 10, 10, True, 10, 10),  # total reached by a full page: probe (it may be low)
        (0, 10, 9, True, 9, None),  # total wins over throttled
        (0, 10, 4, None, 9, None),  # past the total, short page: done
        (0, 10, 25, False, 4, 4),  # total known, short page (server cap): continue after it
        (0, 10, None, True, 4, 4),  # throttled: more, from where it stopped
        (0, 10, None, False, 10, 10),  # full page, no total: probe
        (0, 10, None, None, 10, 10),
        (0, 10, None, None, 9, None),  # short page, no total: done
        (0, None, None, None, 50, None),  # no limit sent, nothing known: one page
        (0, None, None, False, 50, None),
        (5, None, 100, None, 50, 55),
    ],
)
def test_next_page_rule(
    offset: int,
    limit: int | None,
    total: int | None,
    throttled: bool | None,
    count: int,
    expected: int | None,
) -> None:
    info = PageInfo(
        offset=offset, limit=limit, total_count=total, result_count=count, throttled=throttled
    )
    assert next_page_offset(info, count) == expected


# --------------------------------------------------------------------------- sync pages


def test_first_page_exposes_headers_and_sequence_protocol() -> None:
    seller = Seller(25)
    page = SyncPage.first(seller.fetch, limit=10)
    assert seller.calls == [(0, 10)]
    assert (page.offset, page.limit, page.total_count, page.result_count) == (0, 10, 25, 10)
    assert page.throttled is None
    assert len(page) == 10 and page[0] == "item-0" and page[-1] == "item-9"
    assert page[1:3] == ["item-1", "item-2"]
    assert page.response.headers["x-total-count"] == "25"
    assert page.info == PageInfo(0, 10, 25, 10, None)
    text = repr(page)
    assert text.startswith("SyncPage(offset=0, limit=10, count=10, total_count=25")
    # One line whatever the items: their count and class, not their reprs.
    assert text.endswith("has_next_page=True, items=[10 str])") and "item-0" not in text


def test_iteration_with_total_fetches_lazily_and_stops_exactly() -> None:
    seller = Seller(25)
    iterator = iter(SyncPage.first(seller.fetch, limit=10))
    assert [next(iterator) for _ in range(10)] == [f"item-{i}" for i in range(10)]
    assert len(seller.calls) == 1  # the second page is not fetched before it is needed
    next(iterator)
    assert len(seller.calls) == 2
    rest = list(iterator)
    assert rest[-1] == "item-24" and len(rest) == 14
    assert seller.calls == [(0, 10), (10, 10), (20, 10)]  # no probe past the total


def test_iter_pages_and_explicit_navigation() -> None:
    seller = Seller(6)
    pages = list(SyncPage.first(seller.fetch, offset=1, limit=3).iter_pages())
    assert [p.offset for p in pages] == [1, 4]
    assert [p.items for p in pages] == [
        ["item-1", "item-2", "item-3"],
        ["item-4", "item-5"],
    ]
    last = pages[-1]
    assert not last.has_next_page()
    with pytest.raises(NoNextPageError):
        last.get_next_page()
    assert issubclass(NoNextPageError, LSOError)
    again = pages[0].get_next_page()
    assert again.items == pages[1].items


def test_without_total_a_full_page_is_probed() -> None:
    seller = Seller(20, total=False)
    assert len(list(SyncPage.first(seller.fetch, limit=10))) == 20
    # 10 + 10 items, then the probe returns an empty page that ends the listing.
    assert seller.calls == [(0, 10), (10, 10), (20, 10)]


def test_without_total_a_short_page_ends() -> None:
    seller = Seller(15, total=False)
    assert len(list(SyncPage.first(seller.fetch, limit=10))) == 15
    assert seller.calls == [(0, 10), (10, 10)]


def test_without_limit_or_headers_only_one_page() -> None:
    seller = Seller(30, total=False, default_limit=10)
    assert len(list(SyncPage.first(seller.fetch))) == 10
    assert seller.calls == [(0, None)]


def test_throttled_pages_continue_where_the_seller_stopped() -> None:
    seller = Seller(12, total=False, max_limit=5, throttle_header=True)
    items = list(SyncPage.first(seller.fetch, limit=10))
    assert items == seller.data
    assert seller.calls == [(0, 10), (5, 10), (10, 10)]


def test_malformed_headers_fall_back_to_probing() -> None:
    seller = Seller(
        10,
        total=False,
        headers={"X-Total-Count": "lots", "X-Pagination-Throttled": "maybe"},
    )
    page = SyncPage.first(seller.fetch, limit=4)
    assert (page.total_count, page.throttled) == (None, None)
    assert len(list(page)) == 10
    assert seller.calls == [(0, 4), (4, 4), (8, 4)]


def test_max_items_caps_iteration_and_fetching() -> None:
    seller = Seller(100)
    page = SyncPage.first(seller.fetch, limit=10, max_items=25)
    assert list(page) == seller.data[:25]
    # The last request asks only for what is still needed.
    assert seller.calls == [(0, 10), (10, 10), (20, 5)]


def test_max_items_without_limit() -> None:
    seller = Seller(100, default_limit=10)
    page = SyncPage.first(seller.fetch, max_items=15)
    assert list(page) == seller.data[:15]
    assert seller.calls == [(0, None), (10, None)]
    assert len(list(page.iter_pages())) == 2


def test_max_items_smaller_than_first_page() -> None:
    seller = Seller(100, default_limit=10)
    page = SyncPage.first(seller.fetch, max_items=3)
    assert list(page) == seller.data[:3]
    assert not page.has_next_page()
    assert len(page) == 10  # the page itself keeps what the seller sent


def test_iteration_does_not_hold_earlier_pages() -> None:
    seller = Seller(50)
    iterator = iter(SyncPage.first(seller.fetch, limit=10))
    for _ in range(25):  # into the third page
        next(iterator)
    gc.collect()
    alive = [ref() is not None for ref in seller.responses]
    assert alive == [False, False, True]
    del iterator


def test_iter_pages_does_not_hold_earlier_pages() -> None:
    seller = Seller(50)
    pages = SyncPage.first(seller.fetch, limit=10).iter_pages()
    next(pages)
    next(pages)
    next(pages)
    gc.collect()
    assert [ref() is not None for ref in seller.responses] == [False, False, True]


def test_empty_first_page() -> None:
    seller = Seller(0)
    page = SyncPage.first(seller.fetch, limit=10)
    assert list(page) == [] and not page.has_next_page() and len(seller.calls) == 1


def test_negative_max_items_rejected() -> None:
    with pytest.raises(ValueError):
        SyncPage.first(Seller(1).fetch, max_items=-1)


# --------------------------------------------------------------------------- async pages


async def test_async_iteration_is_lazy_and_complete() -> None:
    seller = Seller(23)
    page = await AsyncPage.first(seller.afetch, limit=10)
    assert page.total_count == 23 and len(page) == 10
    seen: list[str] = []
    async for item in page:
        seen.append(item)
        if len(seen) == 10:
            assert len(seller.calls) == 1
    assert seen == seller.data
    assert seller.calls == [(0, 10), (10, 10), (20, 10)]


async def test_async_pages_probe_and_max_items() -> None:
    seller = Seller(20, total=False)
    page = await AsyncPage.first(seller.afetch, limit=10)
    offsets = [p.offset async for p in page.iter_pages()]
    assert offsets == [0, 10, 20]
    capped = Seller(20)
    first = await AsyncPage.first(capped.afetch, limit=8, max_items=12)
    assert [item async for item in first] == capped.data[:12]
    assert capped.calls == [(0, 8), (8, 4)]


async def test_async_get_next_page_and_repr() -> None:
    seller = Seller(3)
    page = await AsyncPage.first(seller.afetch, limit=2)
    nxt = await page.get_next_page()
    assert nxt.items == ["item-2"] and not nxt.has_next_page()
    with pytest.raises(NoNextPageError):
        await nxt.get_next_page()
    assert repr(nxt).startswith("AsyncPage(offset=2, limit=2, count=1")


async def test_async_iteration_does_not_hold_earlier_pages() -> None:
    seller = Seller(30)
    iterator = aiter(await AsyncPage.first(seller.afetch, limit=10))
    for _ in range(21):
        await anext(iterator)
    gc.collect()
    assert [ref() is not None for ref in seller.responses] == [False, False, True]


# --------------------------------------------------------------------------- guards


class Item:
    """A list item with an `id`, as the generated models have."""

    def __init__(self, id: object) -> None:
        self.id = id

    def __repr__(self) -> str:
        return f"Item({self.id!r})"


def serve(
    pages: dict[int, list[object]], headers: dict[str, str] | None = None
) -> tuple[SyncFetch[Item], list[tuple[int, int | None]]]:
    """A fetch serving `pages[offset]` (ids), empty elsewhere, with `headers`."""
    calls: list[tuple[int, int | None]] = []

    def fetch(offset: int, limit: int | None) -> tuple[list[Item], httpx.Response]:
        calls.append((offset, limit))
        items = [Item(i) for i in pages.get(offset, [])]
        return items, httpx.Response(200, headers=headers or {}, json=[])

    return fetch, calls


def test_unhashable_ids_are_yielded_not_compared() -> None:
    fetch, _ = serve({0: [["a"], ["a"]], 2: ["b", {"x": 1}]})
    assert [item.id for item in SyncPage.first(fetch, limit=2)] == [["a"], ["a"], "b", {"x": 1}]


def test_items_without_ids_cannot_be_compared_so_max_pages_is_the_guard() -> None:
    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        return ["same", "same"], httpx.Response(200, json=[])  # ignores offset, forever

    page = SyncPage.first(fetch, limit=2, max_pages=4)
    assert list(page) == ["same"] * 8
    assert len(list(page.iter_pages())) == 4


def test_deviations_are_gathered_once_on_the_first_page() -> None:
    fetch, _ = serve({0: ["a", "b"], 2: ["b", "c"], 4: ["d"]})
    page = SyncPage.first(fetch, limit=2)
    assert [item.id for item in page] == ["a", "b", "c", "d"]
    assert [item.id for item in page] == ["a", "b", "c", "d"]  # a second walk, same result
    (deviation,) = page.spec_deviations
    assert deviation["type"] == "pagination_repeated_items" and deviation["input"] == ["b"]
    pages = list(page.iter_pages())
    assert pages[1].spec_deviations == [deviation] and pages[1].items[0].id == "b"


def test_a_repeat_within_one_page_is_skipped() -> None:
    fetch, _ = serve({0: ["a", "a", "b"]})
    assert [item.id for item in SyncPage.first(fetch, limit=5)] == ["a", "b"]


def test_an_empty_page_past_the_total_is_the_normal_end() -> None:
    fetch, calls = serve({0: ["a", "b"]}, {"X-Total-Count": "2"})
    assert [item.id for item in SyncPage.first(fetch, limit=2)] == ["a", "b"]
    assert calls == [(0, 2), (2, 2)]  # the probe after a full page reaching the total


def test_an_empty_first_page_below_the_total_raises_on_iteration() -> None:
    fetch, _ = serve({}, {"X-Total-Count": "5"})
    page = SyncPage.first(fetch, limit=2)
    with pytest.raises(PaginationError) as caught:
        list(page)
    assert caught.value.reason == "empty_before_total" and caught.value.items == 0


def test_remembered_ids_stay_bounded() -> None:
    size, limit = 40_000, 1_000

    def fetch(offset: int, limit_: int | None) -> tuple[list[Item], httpx.Response]:
        items = [Item(f"id-{n}") for n in range(offset, min(offset + limit, size))]
        return items, httpx.Response(200, json=[])

    guard = _Guard(SyncPage.first(fetch, limit=limit))
    page: SyncPage[Item] | None = SyncPage.first(fetch, limit=limit)
    while page is not None:
        guard.admit(page)
        page = page.get_next_page() if page.has_next_page() else None
    assert guard.items == size
    assert len(guard._young) + len(guard._old) <= 2 * _REMEMBERED_IDS + limit


def test_max_pages_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pages"):
        SyncPage.first(Seller(1).fetch, max_pages=0)


async def test_async_pages_are_checked_too() -> None:
    async def fetch(offset: int, limit: int | None) -> tuple[list[Item], httpx.Response]:
        return [Item("a"), Item("b")], httpx.Response(200, json=[])  # ignores offset

    page = await AsyncPage.first(fetch, limit=2)
    seen: list[object] = []
    with pytest.raises(PaginationError) as caught:
        async for each in page.iter_pages():
            seen.extend(item.id for item in each.items)
    assert caught.value.reason == "ignores_offset" and seen == ["a", "b"]


def test_a_deviation_of_the_first_page_is_kept_once() -> None:
    fetch, _ = serve({0: ["a", "b"]}, {"X-Total-Count": "0"})
    page = SyncPage.first(fetch, limit=2)
    assert [item.id for item in page] == ["a", "b"]
    assert [item.id for item in page] == ["a", "b"]
    (deviation,) = page.spec_deviations
    assert deviation["type"] == "pagination_total_too_low"
