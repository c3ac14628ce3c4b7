"""Iteration with `pages_in_flight`: pages fetched concurrently, yielded in order, nothing
lost or repeated, nothing left running."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lso_client._pagination import AsyncPage, SyncPage


class Seller:
    """`data[offset:offset+limit]`, at most `max_limit` at a time, counting what is in flight."""

    def __init__(
        self,
        size: int,
        *,
        max_limit: int | None = None,
        total: bool = True,
        short_at: set[int] | None = None,
        fail_at: int | None = None,
        grow_to: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self.data = [f"item-{i}" for i in range(size)]
        self.max_limit = max_limit
        self.total = total
        self.short_at = short_at or set()
        self.fail_at = fail_at
        self.grow_to = grow_to
        self.delay = delay
        self.calls: list[tuple[int, int | None]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def _start(self, offset: int, limit: int | None) -> None:
        with self.lock:
            self.calls.append((offset, limit))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def _answer(self, offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        if offset == self.fail_at:
            raise RuntimeError(f"page at {offset} failed")
        granted = 10 if limit is None else limit
        if self.max_limit is not None:
            granted = min(granted, self.max_limit)
        if offset in self.short_at:
            granted = max(1, granted // 3)
        items = self.data[offset : offset + granted]
        headers = {"X-Total-Count": str(len(self.data))} if self.total else {}
        if self.grow_to is not None and offset + len(items) >= len(self.data):
            # The seller gained items while we listed: the last page says so.
            self.data += [f"item-{i}" for i in range(len(self.data), self.grow_to)]
            headers = {"X-Total-Count": str(len(self.data))}
        return list(items), httpx.Response(200, headers=headers, json=items)

    def fetch(self, offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        self._start(offset, limit)
        try:
            time.sleep(self.delay)
        finally:
            self._end()
        return self._answer(offset, limit)

    async def afetch(self, offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        self._start(offset, limit)
        try:
            await asyncio.sleep(self.delay)  # cancelled here when iteration stops early
        finally:
            self._end()
        return self._answer(offset, limit)


def _sync_items(seller: Seller, **kwargs: int | None) -> list[str]:
    return list(SyncPage.first(seller.fetch, **kwargs))  # type: ignore[arg-type]


def _async_items(seller: Seller, **kwargs: int | None) -> list[str]:
    async def run() -> list[str]:
        page = await AsyncPage.first(seller.afetch, **kwargs)  # type: ignore[arg-type]
        return [item async for item in page]

    return asyncio.run(run())


MODES: list[Callable[..., list[str]]] = [_sync_items, _async_items]
IDS = ["sync", "async"]


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_all_items_in_order_with_pages_in_flight(items: Callable[..., list[str]]) -> None:
    seller = Seller(1000, delay=0.005)
    got = items(seller, limit=100, pages_in_flight=4)
    assert got == seller.data
    # The last page comes back full at the total: one probe past it finds nothing more.
    assert sorted(offset for offset, _ in seller.calls) == list(range(0, 1001, 100))
    assert 1 < seller.most_in_flight <= 4


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_one_page_in_flight_is_sequential(items: Callable[..., list[str]]) -> None:
    seller = Seller(500, delay=0.002)
    assert items(seller, limit=100) == seller.data
    assert seller.most_in_flight == 1


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_short_pages_are_completed_before_the_next(items: Callable[..., list[str]]) -> None:
    seller = Seller(1000, short_at={300, 700}, delay=0.002)
    assert items(seller, limit=100, pages_in_flight=3) == seller.data
    # The rest of each short window was asked for exactly, not a whole page over the next one.
    assert (333, 67) in seller.calls and (733, 67) in seller.calls


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_a_seller_that_caps_the_page_size(items: Callable[..., list[str]]) -> None:
    seller = Seller(450, max_limit=40)
    assert items(seller, limit=100, pages_in_flight=4) == seller.data


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_max_items_bounds_what_is_asked_and_yielded(items: Callable[..., list[str]]) -> None:
    seller = Seller(1000)
    assert items(seller, limit=100, max_items=250, pages_in_flight=4) == seller.data[:250]
    assert sorted(seller.calls) == [(0, 100), (100, 100), (200, 50)]


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_without_a_total_count_pages_follow_one_by_one(items: Callable[..., list[str]]) -> None:
    seller = Seller(450, total=False, delay=0.002)
    assert items(seller, limit=100, pages_in_flight=4) == seller.data
    assert seller.most_in_flight == 1


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_items_added_while_listing_are_followed(items: Callable[..., list[str]]) -> None:
    seller = Seller(400, grow_to=530)
    assert items(seller, limit=100, pages_in_flight=3) == [f"item-{i}" for i in range(530)]


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_a_failed_page_raises_when_reached_and_nothing_keeps_running(
    items: Callable[..., list[str]],
) -> None:
    seller = Seller(1000, fail_at=300, delay=0.01)
    with pytest.raises(RuntimeError, match="page at 300 failed"):
        items(seller, limit=100, pages_in_flight=3)
    time.sleep(0.1)
    assert seller.in_flight == 0
    assert max(offset for offset, _ in seller.calls) <= 600  # at most 3 ahead of the failure


def test_stopping_early_cancels_what_was_fetched_ahead_sync() -> None:
    seller = Seller(10_000, delay=0.02)
    page = SyncPage.first(seller.fetch, limit=100, pages_in_flight=4)
    taken = []
    for item in page:
        taken.append(item)
        if len(taken) == 150:
            break
    time.sleep(0.2)
    assert seller.in_flight == 0
    assert len(seller.calls) <= 1 + 4 + 1


def test_stopping_early_cancels_what_was_fetched_ahead_async() -> None:
    seller = Seller(10_000, delay=0.02)

    async def run() -> tuple[int, int]:
        page = await AsyncPage.first(seller.afetch, limit=100, pages_in_flight=4)
        items = aiter(page)
        async for item in items:
            if item == "item-150":
                break
        await items.aclose()  # type: ignore[attr-defined]
        # Right after closing, not once the event loop winds down: nothing left running.
        calls = len(seller.calls)
        await asyncio.sleep(0.05)
        return seller.in_flight, len(seller.calls) - calls

    in_flight, started_after_close = asyncio.run(run())
    assert in_flight == 0
    assert started_after_close == 0
    assert len(seller.calls) <= 1 + 4 + 1


def test_pages_are_really_concurrent_sync() -> None:
    # Two planned pages must be in flight together to get past the barrier.
    barrier = threading.Barrier(2, timeout=5)
    seller = Seller(300)
    plain = seller.fetch

    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        if offset in (100, 200):
            barrier.wait()
        return plain(offset, limit)

    page = SyncPage.first(fetch, limit=100, pages_in_flight=2)
    assert list(page) == seller.data


def test_pages_in_flight_must_be_positive() -> None:
    seller = Seller(10)
    with pytest.raises(ValueError, match="pages_in_flight"):
        SyncPage.first(seller.fetch, limit=5, pages_in_flight=0)


def test_following_pages_are_planned_as_they_are_needed() -> None:
    planned: list[object] = []

    class Counting(SyncPage[str]):
        def _planned(self) -> Any:
            for window in super()._planned():
                planned.append(window)
                yield window

    seller = Seller(0)
    seller.data = _Endless(10**6)  # type: ignore[assignment]
    taken = []
    for item in Counting.first(seller.fetch, limit=10, pages_in_flight=4):
        taken.append(item)
        if len(taken) == 25:
            break
    assert taken == [f"item-{i}" for i in range(25)]
    assert len(planned) <= 4 + 3  # not the 99,999 pages the total allows


def test_following_pages_are_planned_as_they_are_needed_async() -> None:
    planned: list[object] = []

    class Counting(AsyncPage[str]):
        def _planned(self) -> Any:
            for window in super()._planned():
                planned.append(window)
                yield window

    seller = Seller(0)
    seller.data = _Endless(10**6)  # type: ignore[assignment]

    async def run() -> list[str]:
        taken = []
        items = aiter(await Counting.first(seller.afetch, limit=10, pages_in_flight=4))
        async for item in items:
            taken.append(item)
            if len(taken) == 25:
                break
        await items.aclose()  # type: ignore[attr-defined]
        return taken

    assert asyncio.run(run()) == [f"item-{i}" for i in range(25)]
    assert len(planned) <= 4 + 3


class _Endless(list[str]):
    """A seller's data of `size` items, made on demand."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> Any:
        return [f"item-{i}" for i in range(index.start, min(index.stop, self.size))]


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_a_seller_that_ignores_limit_gives_no_duplicates(items: Callable[..., list[str]]) -> None:
    data = [f"item-{i}" for i in range(100)]

    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        page = data[offset : offset + 25]  # its own page size, whatever was asked
        return page, httpx.Response(200, headers={"X-Total-Count": str(len(data))})

    seller = Seller(0)
    seller.fetch = fetch  # type: ignore[method-assign]

    async def afetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        return fetch(offset, limit)

    seller.afetch = afetch  # type: ignore[method-assign]
    assert items(seller, limit=10, pages_in_flight=4) == data


@pytest.mark.parametrize("items", MODES, ids=IDS)
def test_a_page_that_ends_the_listing_ends_it(items: Callable[..., list[str]]) -> None:
    # The total comes with the first page only; a later short page then means "no more",
    # and iteration stops there as it would page by page, instead of skipping ahead.
    data = [f"item-{i}" for i in range(300)]

    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        page = data[offset : offset + min(limit or 40, 40)]
        headers = {"X-Total-Count": str(len(data))} if offset == 0 else {}
        return page, httpx.Response(200, headers=headers)

    async def afetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        return fetch(offset, limit)

    seller = Seller(0)
    seller.fetch = fetch  # type: ignore[method-assign]
    seller.afetch = afetch  # type: ignore[method-assign]
    sequential = list(SyncPage.first(fetch, limit=100))
    assert items(seller, limit=100, pages_in_flight=3) == sequential


def test_fetches_ahead_see_the_callers_context_variables() -> None:
    seen: set[str | None] = set()
    data = [f"item-{i}" for i in range(300)]

    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        seen.add(_REQUEST_TAG.get(None))
        page = data[offset : offset + (limit or 10)]
        return page, httpx.Response(200, headers={"X-Total-Count": str(len(data))})

    token = _REQUEST_TAG.set("job-7")
    try:
        assert list(SyncPage.first(fetch, limit=50, pages_in_flight=3)) == data
    finally:
        _REQUEST_TAG.reset(token)
    assert seen == {"job-7"}


_REQUEST_TAG: contextvars.ContextVar[str] = contextvars.ContextVar("request_tag")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_pages_already_yielded_are_not_kept(mode: str) -> None:
    data = [f"item-{i}" for i in range(1000)]
    responses: list[weakref.ref[httpx.Response]] = []

    def fetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        response = httpx.Response(200, headers={"X-Total-Count": str(len(data))})
        responses.append(weakref.ref(response))
        return data[offset : offset + (limit or 10)], response

    async def afetch(offset: int, limit: int | None) -> tuple[list[str], httpx.Response]:
        return fetch(offset, limit)

    alive_midway: list[list[int]] = []

    def look(item: str) -> None:
        if item == "item-450":
            gc.collect()
            alive_midway.append([i for i, ref in enumerate(responses) if ref() is not None])

    if mode == "sync":
        for item in SyncPage.first(fetch, limit=100, pages_in_flight=2):
            look(item)
    else:

        async def run() -> None:
            async for item in await AsyncPage.first(afetch, limit=100, pages_in_flight=2):
                if item == "item-450":
                    # A finished task is let go of by the event loop on its next turn.
                    await asyncio.sleep(0)
                look(item)

        asyncio.run(run())
    # Midway: the current page (the fifth) and at most the two fetched ahead, no earlier one.
    assert alive_midway and alive_midway[0][0] == 4 and len(alive_midway[0]) <= 3
