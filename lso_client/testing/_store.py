"""Stored resources of the mock seller's API modules: one record kind, one store.

Each record keeps the JSON it is sent as, whole and in lists, rebuilt on every
change, so that listing thousands of resources only joins bytes. A store does no
locking of its own: the API module that owns it does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._filters import Body, Check, Filters
from ._http import ApiError, Request, Response, dump_json, json_response, page_response

__all__ = ["Record", "Store", "rebase_hrefs"]


@dataclass
class Record:
    """One stored resource: its body and the JSON sent for it (whole and in lists)."""

    id: str
    body: Body
    json: bytes = b""
    list_json: bytes = b""

    @property
    def state(self) -> str:
        return str(self.body.get("state", ""))


R = TypeVar("R", bound=Record)


class Store(Generic[R]):
    """The records of one resource, oldest first, with list, retrieve and complex query.

    `summary` gives the form lists return (e.g. without report contents); by default
    lists return the whole body.
    """

    def __init__(
        self,
        label: str,
        filters: Filters | None = None,
        summary: Callable[[Body], Body] | None = None,
    ) -> None:
        self.label = label
        self.filters = filters or Filters()
        self._summary = summary
        self._records: dict[str, R] = {}

    def save(self, record: R) -> R:
        """Store (or re-store after a change) a record, refreshing its JSON."""
        record.json = dump_json(record.body)
        record.list_json = (
            dump_json(self._summary(record.body)) if self._summary is not None else record.json
        )
        self._records[record.id] = record
        return record

    def get(self, record_id: str) -> R | None:
        return self._records.get(record_id)

    def require(self, record_id: str) -> R:
        """The record, or a 404 `notFound` answer."""
        found = self._records.get(record_id)
        if found is None:
            raise ApiError(404, "notFound", f"No {self.label} with id {record_id}")
        return found

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._records

    def remove(self, record_id: str) -> R | None:
        return self._records.pop(record_id, None)

    def all(self) -> list[R]:
        return list(self._records.values())

    def clear(self) -> None:
        self._records.clear()

    def matching(self, check: Check | None) -> list[R]:
        if check is None:
            return list(self._records.values())
        return [r for r in self._records.values() if check(r.body)]

    def list_response(self, request: Request, max_page_size: int) -> Response:
        """A list `GET`: the query's filters, then one page of the matches."""
        check = self.filters.from_query(request)
        if check is None:  # the common case: no per-record work
            blobs = [r.list_json for r in self._records.values()]
        else:
            blobs = [r.list_json for r in self._records.values() if check(r.body)]
        return page_response(request, blobs, max_page_size=max_page_size)

    def query_response(self, query: Body) -> Response:
        """A `*ComplexQuery`: an unpaginated array of the matches."""
        blobs = [r.list_json for r in self.matching(self.filters.from_body(query))]
        return json_response(200, b"[" + b",".join(blobs) + b"]")

    def rebase(self, olds: Collection[str], new: str) -> None:
        """Move every href on one of the `olds` base URLs to `new`."""
        marks = [f"{old}/".encode() for old in olds]
        for record in self._records.values():
            if any(mark in record.json for mark in marks):
                rebase_hrefs(record.body, olds, new)
                self.save(record)


def rebase_hrefs(value: Any, olds: Collection[str], new: str) -> Any:
    """`value` with each string on an `olds` base moved to `new`; objects and arrays
    are changed in place, so that what shares them sees the change."""
    if isinstance(value, str):
        for old in olds:
            if value.startswith(f"{old}/"):
                return new + value[len(old) :]
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = rebase_hrefs(item, olds, new)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            value[position] = rebase_hrefs(item, olds, new)
    return value
