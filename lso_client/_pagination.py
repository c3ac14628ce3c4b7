"""Offset/limit pagination over MEF list operations.

A list call returns the first page. Iterating a page yields every item of that page and of the
following ones, fetching each page only when the previous one is used up and keeping only the
current page alive, so arbitrarily large result sets stream in constant memory::

    page = SyncPage.first(fetch, offset=0, limit=100, max_items=1000)
    page.total_count, page.throttled       # from X-Total-Count / X-Pagination-Throttled
    for item in page: ...                  # all items, lazily, at most `max_items`
    for p in page.iter_pages(): ...        # page by page

`fetch(offset, limit)` is supplied by the resource layer: it sends the list request with those
query values (`limit` None: not sent) and returns the parsed items and the raw response.

With `pages_in_flight=n` (n > 1), iteration fetches up to n following pages at once, in
threads for `SyncPage` and tasks for `AsyncPage`, and still yields them in order. That needs
the offsets in advance, so it applies once a page reports `X-Total-Count` and was asked with a
`limit`; a page that comes back short is completed before the next one is yielded, and after
the planned pages iteration goes on one page at a time if the seller says there is more. At
most n pages wait in memory besides the current one.

Iteration always ends, and never yields an item twice without saying so. Each page is checked,
in order, against the ids of the items yielded recently (at least the last `_REMEMBERED_IDS`,
at most twice that and a page; bounded memory, however long the listing):

- a page whose every item was already yielded raises `PaginationError`: the seller ignores
  `offset` (`reason="ignores_offset"`), repeats itself (`"no_new_items"`) or keeps saying
  `X-Pagination-Throttled: true` without progress (`"throttled_no_progress"`);
- items repeated among new ones are skipped, recorded in `spec_deviations` and logged;
- an empty page before `X-Total-Count` is reached, or an empty throttled page, raises
  `PaginationError` (`"empty_before_total"`, `"throttled_no_progress"`): items were lost;
- a full page at or past `X-Total-Count` is followed by another request, so a total lower
  than the seller's data loses nothing; the deviation is recorded and logged. That probe
  ends iteration quietly when it brings nothing new (empty, or repeats from a seller that
  ignores offset or limit): the total was right;
- `max_pages=` stops iteration after that many pages, `max_items=` after that many items.

`progress=` (a `ListProgress`) is called each time iteration reaches a page, with the items
received so far and the total expected (None when the seller sends no `X-Total-Count`).

Not detected: repeats of items older than the remembered window, and repeats of items with
no `id`; a seller with endless distinct items is bounded only by `max_pages`/`max_items`.
`max_items` counts items as the seller sent them, repeats included (pages are planned from
those counts), so a seller that repeats items yields fewer than `max_items`.
Deviations are recorded on the page where they were seen and on the page iteration began with
(at most `_MAX_DEVIATIONS` there).
"""

from __future__ import annotations

import contextvars
import itertools
import operator
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx

from ._errors import LSOError, PaginationError
from ._logging import logger

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

__all__ = [
    "AsyncFetch",
    "AsyncPage",
    "ListProgress",
    "NoNextPageError",
    "PageInfo",
    "PaginationError",
    "SyncFetch",
    "SyncPage",
    "next_page_offset",
    "parse_page_headers",
]

T = TypeVar("T")

SyncFetch = Callable[[int, int | None], tuple[list[T], httpx.Response]]
AsyncFetch = Callable[[int, int | None], Awaitable[tuple[list[T], httpx.Response]]]
# Called as iteration reaches each page: items received so far, and how many the listing
# will bring when the seller says (`X-Total-Count` from where it began, capped by
# `max_items`), else None.
ListProgress = Callable[[int, int | None], object]

# Ids of recently yielded items remembered to spot repeats, in two generations of this many
# (whole pages): at least the last 5,000 ids are known, at most 10,000 and a page are kept.
# Enough for a seller that wraps around a few thousand items.
_REMEMBERED_IDS = 5_000
# Deviations gathered on the page an iteration began with.
_MAX_DEVIATIONS = 100


class NoNextPageError(LSOError, LookupError):
    """Raised by `get_next_page()` when `has_next_page()` is false."""


@dataclass(frozen=True)
class PageInfo:
    """Where a page sits in the result set, as sent (`offset`, `limit`) and as reported."""

    offset: int
    limit: int | None
    total_count: int | None
    result_count: int | None
    throttled: bool | None


def _parse_count(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    # Only plain non-negative integers: "", "null", "-1", "1.5", "12abc" all mean unknown.
    if not text.isascii() or not text.isdigit():
        return None
    return int(text)


def _parse_flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def parse_page_headers(headers: httpx.Headers) -> tuple[int | None, int | None, bool | None]:
    """Read `(X-Total-Count, X-Result-Count, X-Pagination-Throttled)`; unreadable -> None."""
    return (
        _parse_count(headers.get("x-total-count")),
        _parse_count(headers.get("x-result-count")),
        _parse_flag(headers.get("x-pagination-throttled")),
    )


def next_page_offset(info: PageInfo, item_count: int) -> int | None:
    """Offset of the next page, or None when this page is the last one.

    The rule, in order:
    1. an empty page is the last one (also guards against a server that never ends);
    2. if `X-Total-Count` is known, there is more if `offset + len(items) < total`, and also
       when the page came back full (`len(items) >= limit`): a total lower than the seller's
       data must not lose items, so the next page is probed;
    3. else if the seller says the page was throttled (truncated), there is more;
    4. else if a limit was sent and the page is full (`len(items) >= limit`), probe the next one;
    5. otherwise this is the last page.
    The next page starts right after the items received: `offset + len(items)`, which also
    follows a seller that returned fewer items than asked (throttling).
    """
    if item_count == 0:
        return None
    following = info.offset + item_count
    full = info.limit is not None and item_count >= info.limit
    if info.total_count is not None:
        return following if following < info.total_count or full else None
    if info.throttled or full:
        return following
    return None


def _request_limit(limit: int | None, max_items: int | None, seen: int) -> int | None:
    """Ask for no more than `max_items` still needs, when the caller chose a page size."""
    if limit is None or max_items is None:
        return limit
    return max(1, min(limit, max_items - seen))


def _first_limit(
    limit: int | None, max_items: int | None, pages_in_flight: int, max_pages: int | None
) -> int | None:
    """Check a listing's arguments before anything is sent; the limit of its first page."""
    if max_items is not None and max_items < 0:
        raise ValueError("max_items must be >= 0")
    if pages_in_flight < 1:
        raise ValueError("pages_in_flight must be >= 1")
    if max_pages is not None and max_pages < 1:
        raise ValueError("max_pages must be >= 1")
    return _request_limit(limit, max_items, 0)


@dataclass(frozen=True)
class _Window:
    offset: int
    limit: int
    seen: int


def _windows(
    offset: int, total: int, limit: int, max_items: int | None, seen: int
) -> Iterator[_Window]:
    while offset < total and (max_items is None or seen < max_items):
        size = _request_limit(limit, max_items, seen)
        assert size is not None
        yield _Window(offset, size, seen)
        offset, seen = offset + size, seen + size


class _PageBase(Generic[T]):
    def __init__(
        self,
        items: list[T],
        response: httpx.Response,
        *,
        offset: int,
        limit: int | None,
        max_items: int | None,
        seen_before: int,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
    ) -> None:
        self.items = items
        self.response = response
        self.offset = offset
        self.limit = limit
        self.max_items = max_items
        self.max_pages = max_pages
        # Items yielded by earlier pages, counted against `max_items`.
        self._seen_before = seen_before
        self._pages_in_flight = pages_in_flight
        self._progress = progress
        self.total_count, self.result_count, self.throttled = parse_page_headers(response.headers)
        # Departures from MEF pagination seen by iteration: on the page where they were seen,
        # and gathered on the page iteration began with.
        self.spec_deviations: list[dict[str, Any]] = []

    @property
    def info(self) -> PageInfo:
        """Where this page sits in the listing: offset, limit and the pagination headers' counts."""
        return PageInfo(
            offset=self.offset,
            limit=self.limit,
            total_count=self.total_count,
            result_count=self.result_count,
            throttled=self.throttled,
        )

    @property
    def next_offset(self) -> int | None:
        """Offset the next page would be fetched at, or None if there is no next page."""
        if self.max_items is not None and self._seen_before + len(self.items) >= self.max_items:
            return None
        return next_page_offset(self.info, len(self.items))

    def has_next_page(self) -> bool:
        """Whether another page follows (see `next_page_offset`); `max_items` also ends it."""
        return self.next_offset is not None

    def _visible_items(self) -> list[T]:
        if self.max_items is None:
            return self.items
        return self.items[: max(0, self.max_items - self._seen_before)]

    def _fetch_args(self, window: _Window | None) -> tuple[int, int | None, int]:
        """(offset, limit, seen) of `window`, or of the page after this one."""
        if window is not None:
            return window.offset, window.limit, window.seen
        offset = self.next_offset
        if offset is None:
            raise NoNextPageError("no next page")
        seen = self._seen_before + len(self.items)
        return offset, _request_limit(self.limit, self.max_items, seen), seen

    def _planned(self) -> Iterator[_Window]:
        """The following pages as (offset, limit, seen), when they can be known in advance."""
        offset, total, limit = self.next_offset, self.total_count, self.limit
        if self._pages_in_flight < 2 or offset is None or total is None or limit is None:
            return iter(())
        if len(self.items) > limit:
            return iter(())  # the seller ignores `limit`: offsets cannot be planned
        # A generator of plain numbers: it must not keep this page alive. Planned lazily, so
        # an absurd total plans no further than iteration goes; `max_pages` bounds it too.
        windows = _windows(
            offset, total, limit, self.max_items, self._seen_before + len(self.items)
        )
        if self.max_pages is not None:
            return itertools.islice(windows, max(0, self.max_pages - 1))
        return windows

    def _rest_of(self, window: _Window) -> _Window | None:
        """What of `window` this page (its first part) left unfetched, if anything more exists."""
        following = self.next_offset
        end = window.offset + window.limit
        if following is None or following >= end:
            return None
        seen = self._seen_before + len(self.items)
        return _Window(following, end - following, seen)

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items[index]

    def __repr__(self) -> str:
        from ._display import page_repr

        return page_repr(self)

    def _repr_html_(self) -> str:
        """A table of this page's items (a notebook's display)."""
        from ._display import page_html

        return page_html(self)

    def _frame(self, library: str, max_items: int | None) -> Any:
        from ._frames import items_frame

        return items_frame(self._visible_items(), library, max_items)


_item_id = operator.attrgetter("id")


class _Guard:
    """Checks the pages of one iteration in order; see the module docstring for the rules.

    Holds numbers and ids, never a page, so iteration still keeps one page alive at a time.
    """

    def __init__(self, first: _PageBase[Any]) -> None:
        self._max_pages = first.max_pages
        self._max_items = first.max_items
        self._start = first.offset
        self._progress = first._progress
        self._gathered = first.spec_deviations
        self.pages = 0
        self.items = 0
        # Ids of the items yielded lately, in two generations (dropping the older one at once
        # is cheaper than forgetting page by page), and the ids of the last page.
        self._young: set[object] = set()
        self._old: set[object] = set()
        self._last: set[object] = set()
        self._low_total_noted = False
        # A probe past X-Total-Count repeated what came: the total was right (that page is
        # not one of the listing's).
        self.complete = False

    @property
    def done(self) -> bool:
        """Whether iteration is over: the listing is complete, or `max_pages` were yielded."""
        return self.complete or (self._max_pages is not None and self.pages >= self._max_pages)

    def admit(self, page: _PageBase[T]) -> list[T]:
        """Check the next page; return its items to yield (repeats left out). Reports
        progress, if asked, once the page is admitted."""
        items = self._admit(page)
        if self._progress is not None:
            self._progress(self.items, self._expected(page))
        return items

    def _expected(self, page: _PageBase[Any]) -> int | None:
        """How many items the listing will bring, as the seller's total says; None unknown."""
        total = page.total_count
        if total is None:
            return None
        expected = max(total - self._start, self.items)
        return expected if self._max_items is None else min(expected, self._max_items)

    def _admit(self, page: _PageBase[T]) -> list[T]:
        self.pages += 1
        if not page.items:
            self._check_empty(page)
            return []
        total = page.total_count
        past_total = total is not None and page.offset >= total
        items = self._new_items(page, past_total)
        if items and past_total and not self._low_total_noted:
            self._low_total_noted = True
            self._deviate(
                page,
                "pagination_total_too_low",
                ("X-Total-Count",),
                f"X-Total-Count is {total} but the page at offset {page.offset} still has "
                f"new items: pages are followed while they come back full",
                total,
            )
        return items

    def _new_items(self, page: _PageBase[T], past_total: bool) -> list[T]:
        items = page._visible_items()
        try:
            ids: list[Any] = list(map(_item_id, items))
        except AttributeError:  # items without an `id` attribute
            ids = [getattr(item, "id", None) for item in items]
        try:
            fresh = set(ids)
        except TypeError:  # an id that is not hashable (kept as received): the slow path
            return self._sift(page, items, ids, past_total)
        if None not in fresh:
            if (
                len(fresh) == len(ids)
                and self._young.isdisjoint(fresh)
                and self._old.isdisjoint(fresh)
            ):
                self._remember(fresh)
                self.items += len(items)
                return items
        elif len(fresh) == 1:  # no item has an id: nothing to compare
            self.items += len(items)
            return items
        return self._sift(page, items, ids, past_total)

    def _sift(
        self, page: _PageBase[T], items: list[T], ids: list[Any], past_total: bool
    ) -> list[T]:
        fresh: list[T] = []
        kept: set[object] = set()
        repeated: list[object] = []
        for item, key in zip(items, ids, strict=True):
            try:
                hash(key)
            except TypeError:
                key = None
            if key is None:
                fresh.append(item)
            elif key in self._young or key in self._old or key in kept:
                repeated.append(key)
            else:
                kept.add(key)
                fresh.append(item)
        if not fresh:
            if past_total:
                # The probe that follows a full last page repeats what came (a seller that
                # ignores offset or limit): the total was right, and the listing complete.
                self.complete = True
                return []
            raise self._stuck(page, set(repeated))
        if repeated:
            self._deviate(
                page,
                "pagination_repeated_items",
                ("items",),
                f"{len(repeated)} items of the page at offset {page.offset} were already "
                f"yielded and are skipped",
                repeated[:10],
            )
        self._remember(kept)
        self.items += len(fresh)
        return fresh

    def _remember(self, ids: set[object]) -> None:
        if not ids:
            return
        self._last = ids
        if len(self._young) >= _REMEMBERED_IDS:
            self._old, self._young = self._young, set()
        self._young |= ids

    def _stuck(self, page: _PageBase[Any], ids: set[object]) -> PaginationError:
        where = f"the page at offset {page.offset}"
        if page.throttled:
            reason = "throttled_no_progress"
            why = (
                f"the seller keeps answering X-Pagination-Throttled: true without new items: "
                f"{where} holds only items already yielded"
            )
        elif ids == self._last:
            reason = "ignores_offset"
            why = (
                f"{where} holds the same {len(ids)} items as the page before: the seller "
                f"seems to ignore offset"
            )
        else:
            reason = "no_new_items"
            why = f"every item of {where} was already yielded: the seller repeats itself"
        return self._error(reason, why, page)

    def _check_empty(self, page: _PageBase[Any]) -> None:
        where = f"the page at offset {page.offset}"
        if page.throttled:
            why = f"{where} is empty but says X-Pagination-Throttled: true"
            raise self._error("throttled_no_progress", why, page)
        total = page.total_count
        if total is not None and page.offset < total:
            why = (
                f"{where} is empty although X-Total-Count is {total}: the items from "
                f"{page.offset} on were not sent (or were removed while listing)"
            )
            raise self._error("empty_before_total", why, page)

    def _error(self, reason: str, why: str, page: _PageBase[Any]) -> PaginationError:
        message = (
            f"Listing stopped after {self.pages} pages and {self.items} items: {why}. "
            f"Iteration stops rather than loop or yield items twice."
        )
        return PaginationError(
            message, reason=reason, offset=page.offset, pages=self.pages, items=self.items
        )

    def _deviate(
        self, page: _PageBase[Any], kind: str, loc: tuple[str, ...], msg: str, value: object
    ) -> None:
        deviation = {"loc": loc, "type": kind, "msg": msg, "input": value}
        # Walking the listing again finds the same departures: each is kept once.
        for kept in (page.spec_deviations, self._gathered):
            if len(kept) < _MAX_DEVIATIONS and deviation not in kept:
                kept.append(deviation)
        logger.warning("Listing departs from MEF pagination: %s", msg)


class SyncPage(_PageBase[T]):
    """One page of a list result; iterate it for every item from here on."""

    def __init__(
        self,
        items: list[T],
        response: httpx.Response,
        *,
        fetch: SyncFetch[T],
        offset: int,
        limit: int | None,
        max_items: int | None = None,
        seen_before: int = 0,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
    ) -> None:
        super().__init__(
            items,
            response,
            offset=offset,
            limit=limit,
            max_items=max_items,
            seen_before=seen_before,
            pages_in_flight=pages_in_flight,
            max_pages=max_pages,
            progress=progress,
        )
        self._fetch = fetch

    @classmethod
    def first(
        cls,
        fetch: SyncFetch[T],
        *,
        offset: int = 0,
        limit: int | None = None,
        max_items: int | None = None,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
    ) -> SyncPage[T]:
        """Fetch the page at `offset` and return it; iterating it yields at most `max_items`
        items from at most `max_pages` pages, calling `progress(items so far, expected total or
        None)` as it reaches each page."""
        sent_limit = _first_limit(limit, max_items, pages_in_flight, max_pages)
        items, response = fetch(offset, sent_limit)
        return cls(
            items,
            response,
            fetch=fetch,
            offset=offset,
            limit=sent_limit,
            max_items=max_items,
            pages_in_flight=pages_in_flight,
            max_pages=max_pages,
            progress=progress,
        )

    def get_next_page(self) -> SyncPage[T]:
        """Fetch the following page; raises `NoNextPageError` if none."""
        return self._follower()()

    def _follower(self, window: _Window | None = None) -> Callable[[], SyncPage[T]]:
        """What fetches the following page (or `window`), holding none of this one."""
        offset, limit, seen = self._fetch_args(window)
        fetch, max_items, in_flight = self._fetch, self.max_items, self._pages_in_flight
        max_pages, progress = self.max_pages, self._progress

        def follow() -> SyncPage[T]:
            items, response = fetch(offset, limit)
            return SyncPage(
                items,
                response,
                fetch=fetch,
                offset=offset,
                limit=limit,
                max_items=max_items,
                seen_before=seen,
                pages_in_flight=in_flight,
                max_pages=max_pages,
                progress=progress,
            )

        return follow

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page, then each following one, fetched when reached (or `pages_in_flight` ahead)."""
        return _iter_pages(self)

    def __iter__(self) -> Iterator[T]:
        return _iter_items(self)

    def to_pandas(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """This page's items as a pandas DataFrame, one row per item, nested fields as
        dotted wire names (the rule: `lso_client.frames`); `all_pages=True` walks the
        listing from this page on, as iterating does. `max_items` caps the rows."""
        from ._frames import items_frame

        return (
            items_frame(self, "pandas", max_items)
            if all_pages
            else self._frame("pandas", max_items)
        )

    def to_polars(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """As `to_pandas`, a polars DataFrame."""
        from ._frames import items_frame

        return (
            items_frame(self, "polars", max_items)
            if all_pages
            else self._frame("polars", max_items)
        )


def _iter_pages(page: SyncPage[T]) -> Generator[SyncPage[T], None, None]:
    guard = _Guard(page)
    pages = _raw_pages(page)
    del page
    try:
        while (each := next(pages, None)) is not None:
            guard.admit(each)
            if guard.complete:
                return
            yield each
            del each
            if guard.done:
                return
    finally:
        pages.close()


def _iter_items(page: SyncPage[T]) -> Iterator[T]:
    guard = _Guard(page)
    pages = _raw_pages(page)
    del page
    try:
        while (each := next(pages, None)) is not None:
            items = guard.admit(each)
            # Let go of this page before the next arrives: one page in memory, not two.
            del each
            yield from items
            del items
            if guard.done:
                return
    finally:
        pages.close()


def _raw_pages(page: SyncPage[T]) -> Generator[SyncPage[T], None, None]:
    # Rebinding `page` drops the previous one: iteration never holds earlier pages.
    windows = page._planned()
    first = next(windows, None)
    if first is not None:
        ahead = _raw_pages_ahead(page, itertools.chain((first,), windows))
        del page
        try:
            yield from ahead
        finally:
            ahead.close()
        return
    while True:
        yield page
        if not page.has_next_page():
            return
        follow = page._follower()
        del page
        page = follow()


def _raw_pages_ahead(
    page: SyncPage[T], windows: Iterator[_Window]
) -> Generator[SyncPage[T], None, None]:
    # Imported here, not at start-up: only iteration with pages in flight needs them.
    from concurrent.futures import ThreadPoolExecutor

    yield page
    in_flight = page._pages_in_flight
    pending: deque[tuple[_Window, Future[SyncPage[T]]]] = deque()
    pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="lso-client-pages")

    def top_up() -> None:
        while len(pending) < in_flight:
            window = next(windows, None)
            if window is None:
                return
            # Fetches run with the caller's context variables (logging, tracing).
            fetch = page._follower(window)
            pending.append((window, pool.submit(contextvars.copy_context().run, fetch)))

    def cancel() -> None:
        for _, future in pending:
            future.cancel()
        pending.clear()

    try:
        top_up()
        while pending:
            window, future = pending.popleft()
            page = future.result()
            as_planned = len(page.items) <= window.limit
            if as_planned:
                top_up()
            else:
                cancel()  # more items than asked for: the planned offsets are wrong
            yield page
            if not as_planned:
                break
            # A short page: fetch the rest of its window before the next one.
            while (rest := page._rest_of(window)) is not None:
                page = page._follower(rest)()
                yield page
            if page.next_offset is None:
                return  # the seller says this is the end, as one-by-one iteration would stop
        while page.has_next_page():
            page = page.get_next_page()
            yield page
    finally:
        cancel()
        # Requests already sent finish in their threads; their pages are dropped.
        pool.shutdown(wait=False, cancel_futures=True)


class AsyncPage(_PageBase[T]):
    """One page of a list result; `async for` over it for every item from here on."""

    def __init__(
        self,
        items: list[T],
        response: httpx.Response,
        *,
        fetch: AsyncFetch[T],
        offset: int,
        limit: int | None,
        max_items: int | None = None,
        seen_before: int = 0,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
    ) -> None:
        super().__init__(
            items,
            response,
            offset=offset,
            limit=limit,
            max_items=max_items,
            seen_before=seen_before,
            pages_in_flight=pages_in_flight,
            max_pages=max_pages,
            progress=progress,
        )
        self._fetch = fetch

    @classmethod
    async def first(
        cls,
        fetch: AsyncFetch[T],
        *,
        offset: int = 0,
        limit: int | None = None,
        max_items: int | None = None,
        pages_in_flight: int = 1,
        max_pages: int | None = None,
        progress: ListProgress | None = None,
    ) -> AsyncPage[T]:
        """Fetch the page at `offset` and return it; iterating it yields at most `max_items`
        items from at most `max_pages` pages, calling `progress(items so far, expected total or
        None)` as it reaches each page."""
        sent_limit = _first_limit(limit, max_items, pages_in_flight, max_pages)
        items, response = await fetch(offset, sent_limit)
        return cls(
            items,
            response,
            fetch=fetch,
            offset=offset,
            limit=sent_limit,
            max_items=max_items,
            pages_in_flight=pages_in_flight,
            max_pages=max_pages,
            progress=progress,
        )

    async def get_next_page(self) -> AsyncPage[T]:
        """Fetch the following page; raises `NoNextPageError` if none."""
        return await self._follower()()

    def _follower(self, window: _Window | None = None) -> Callable[[], Awaitable[AsyncPage[T]]]:
        """What fetches the following page (or `window`), holding none of this one."""
        offset, limit, seen = self._fetch_args(window)
        fetch, max_items, in_flight = self._fetch, self.max_items, self._pages_in_flight
        max_pages, progress = self.max_pages, self._progress

        async def follow() -> AsyncPage[T]:
            items, response = await fetch(offset, limit)
            return AsyncPage(
                items,
                response,
                fetch=fetch,
                offset=offset,
                limit=limit,
                max_items=max_items,
                seen_before=seen,
                pages_in_flight=in_flight,
                max_pages=max_pages,
                progress=progress,
            )

        return follow

    def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page, then each following one, fetched when reached (or `pages_in_flight` ahead)."""
        return _aiter_pages(self)

    def __aiter__(self) -> AsyncIterator[T]:
        return _aiter_items(self)

    async def to_pandas(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """This page's items as a pandas DataFrame, one row per item, nested fields as
        dotted wire names (the rule: `lso_client.frames`); `all_pages=True` walks the
        listing from this page on, as iterating does. `max_items` caps the rows."""
        return (
            self._frame("pandas", max_items)
            if not all_pages
            else await self._walk("pandas", max_items)
        )

    async def to_polars(self, *, all_pages: bool = False, max_items: int | None = None) -> Any:
        """As `to_pandas`, a polars DataFrame."""
        return (
            self._frame("polars", max_items)
            if not all_pages
            else await self._walk("polars", max_items)
        )

    async def _walk(self, library: str, max_items: int | None) -> Any:
        from ._frames import items_frame

        if max_items is not None and max_items < 0:
            raise ValueError("max_items must be >= 0")
        items: list[T] = []
        if max_items != 0:
            async for item in self:
                items.append(item)
                if max_items is not None and len(items) >= max_items:
                    break
        return items_frame(items, library)


async def _aiter_pages(page: AsyncPage[T]) -> AsyncGenerator[AsyncPage[T], None]:
    guard = _Guard(page)
    pages = _araw_pages(page)
    del page
    try:
        while (each := await anext(pages, None)) is not None:
            guard.admit(each)
            if guard.complete:
                return
            yield each
            del each
            if guard.done:
                return
    finally:
        await pages.aclose()


async def _aiter_items(page: AsyncPage[T]) -> AsyncIterator[T]:
    guard = _Guard(page)
    pages = _araw_pages(page)
    del page
    try:
        while (each := await anext(pages, None)) is not None:
            items = guard.admit(each)
            del each
            for item in items:
                yield item
            del items
            if guard.done:
                return
    finally:
        await pages.aclose()


async def _araw_pages(page: AsyncPage[T]) -> AsyncGenerator[AsyncPage[T], None]:
    windows = page._planned()
    first = next(windows, None)
    if first is not None:
        ahead = _araw_pages_ahead(page, itertools.chain((first,), windows))
        del page
        try:
            async for each in ahead:
                yield each
        finally:
            await ahead.aclose()
        return
    while True:
        yield page
        if not page.has_next_page():
            return
        follow = page._follower()
        del page
        page = await follow()


async def _araw_pages_ahead(
    page: AsyncPage[T], windows: Iterator[_Window]
) -> AsyncGenerator[AsyncPage[T], None]:
    import asyncio  # not at start-up: only iteration with pages in flight needs it

    yield page
    in_flight = page._pages_in_flight
    pending: deque[tuple[_Window, asyncio.Task[AsyncPage[T]]]] = deque()

    def top_up() -> None:
        while len(pending) < in_flight:
            window = next(windows, None)
            if window is None:
                return
            pending.append((window, asyncio.ensure_future(page._follower(window)())))

    async def cancel() -> None:
        tasks = [task for _, task in pending]
        pending.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        top_up()
        while pending:
            window, task = pending.popleft()
            page = await task
            as_planned = len(page.items) <= window.limit
            if as_planned:
                top_up()
            else:
                await cancel()  # more items than asked for: the planned offsets are wrong
            yield page
            if not as_planned:
                break
            # A short page: fetch the rest of its window before the next one.
            while (rest := page._rest_of(window)) is not None:
                page = await page._follower(rest)()
                yield page
            if page.next_offset is None:
                return  # the seller says this is the end, as one-by-one iteration would stop
        while page.has_next_page():
            page = await page.get_next_page()
            yield page
    finally:
        await cancel()
