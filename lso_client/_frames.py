"""Models as table rows, and rows as pandas or polars DataFrames.

The flattening rule (documented in `lso_client.frames`): one row per object; a column
per field the object holds, named by its wire name; a nested object's fields become
columns `outer.inner` (dotted wire names, at any depth), an empty one a cell `{}`; a
list of scalars stays a list in one cell; a list of objects is one cell of JSON text (its
wire form); enums are their wire values, date-times timezone-aware datetimes in UTC,
payloads typed as when read. Should two values get one column name (a wire name that
holds a dot, `"a.b"`, beside `"a": {"b": ...}`), the later one is `a.b~2`: none is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from enum import Enum
from itertools import islice
from typing import Any

from pydantic import BaseModel, RootModel

from ._extras import require

__all__ = ["flatten", "report_rows", "to_frame"]

Row = dict[str, Any]

_INT64 = 2**63


def _entries(value: Any) -> Iterator[tuple[str, Any]]:
    """(wire name, value) of what an object holds: set fields (read as attributes, which
    types payloads) then unknown fields; a mapping's items."""
    if isinstance(value, BaseModel):
        present = value.model_fields_set
        for name, info in type(value).model_fields.items():
            if name in present:
                yield info.alias or name, getattr(value, name, None)
        yield from (value.__pydantic_extra__ or {}).items()
    else:
        yield from value.items()


def _is_object(value: Any) -> bool:
    return isinstance(value, (BaseModel, Mapping)) and not isinstance(value, RootModel)


def flatten(value: Any, prefix: str = "", row: Row | None = None) -> Row:
    """The row of one object (a model or a mapping), by the rule above."""
    found: Row = {} if row is None else row
    for name, item in _entries(value):
        if isinstance(item, RootModel):
            item = item.root
        if _is_object(item) and _has_entries(item):
            flatten(item, f"{prefix}{name}.", found)
        else:
            column = f"{prefix}{name}"
            if column in found:
                # A wire name with a dot in it met a nested one: both are kept.
                number = 2
                while f"{column}~{number}" in found:
                    number += 1
                column = f"{column}~{number}"
            found[column] = "{}" if _is_object(item) else _cell(item)
    return found


def _has_entries(value: Any) -> bool:
    return next(iter(_entries(value)), None) is not None


def _cell(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (list, tuple)):
        if any(_is_object(item) or isinstance(item, (list, tuple)) for item in value):
            return json.dumps(_wire(value))
        return [_cell(item) for item in value]
    return str(value)


def _wire(value: Any) -> Any:
    """The JSON value of what a model holds (wire names, date-times as their text)."""
    if isinstance(value, RootModel):
        return _wire(value.root)
    if _is_object(value):
        return {name: _wire(item) for name, item in _entries(value)}
    if isinstance(value, (list, tuple)):
        return [_wire(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        from ._model import format_datetime

        return format_datetime(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# ----------------------------------------------------------------------------- frames


def _kind(values: list[Any]) -> str:
    kinds: set[str] = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int" if -_INT64 <= value < _INT64 else "object")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, str):
            kinds.add("str")
        elif isinstance(value, datetime):
            kinds.add("datetime")
        elif isinstance(value, list):
            kinds.add("list")
        else:
            kinds.add("object")
    if not kinds:
        return "null"
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else "object"


def _columns(rows: list[Row], first: Iterable[str]) -> dict[str, list[Any]]:
    names: dict[str, None] = dict.fromkeys(first)
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def to_frame(rows: list[Row], library: str, *, first: Iterable[str] = ()) -> Any:
    """A pandas or polars DataFrame of `rows` (columns in first-seen order, `first`
    first), each column typed by what it holds."""
    columns = _columns(rows, first)
    if library == "pandas":
        return _pandas(columns, len(rows))
    if library == "polars":
        return _polars(columns)
    raise ValueError(f"library must be 'pandas' or 'polars', not {library!r}")


def _pandas(columns: dict[str, list[Any]], size: int) -> Any:
    pd = require("pandas")
    index = pd.RangeIndex(size)
    series: dict[str, Any] = {}
    for name, values in columns.items():
        kind = _kind(values)
        missing = any(value is None for value in values)
        if kind == "datetime":
            series[name] = pd.Series(pd.to_datetime(values, utc=True), index=index)
        elif kind == "int":
            series[name] = pd.Series(values, dtype="Int64" if missing else "int64", index=index)
        elif kind == "bool":
            series[name] = pd.Series(values, dtype="boolean" if missing else "bool", index=index)
        elif kind == "float":
            series[name] = pd.Series(
                [float("nan") if v is None else float(v) for v in values],
                dtype="float64",
                index=index,
            )
        elif kind == "str":
            series[name] = pd.Series(values, index=index)
        else:
            series[name] = pd.Series(values, dtype=object, index=index)
    return pd.DataFrame(series, index=index)


def _polars(columns: dict[str, list[Any]]) -> Any:
    pl = require("polars")
    types = {
        "bool": pl.Boolean,
        "int": pl.Int64,
        "float": pl.Float64,
        "str": pl.String,
        "datetime": pl.Datetime("us", "UTC"),
        "null": pl.Null,
    }
    series: list[Any] = []
    for name, values in columns.items():
        kind = _kind(values)
        if kind == "float":
            values = [None if v is None else float(v) for v in values]
        if kind in types:
            series.append(pl.Series(name, values, dtype=types[kind]))
            continue
        if kind == "list":
            try:
                series.append(pl.Series(name, values, strict=True))
                continue
            except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
                pass
        # Values of different kinds (a departure from the spec kept as received), or a
        # list polars cannot type: their JSON text.
        text = [
            None if v is None else v if isinstance(v, str) else json.dumps(_wire(v)) for v in values
        ]
        series.append(pl.Series(name, text, dtype=pl.String))
    return pl.DataFrame(series)


def items_frame(items: Iterable[Any], library: str, max_items: int | None = None) -> Any:
    """One row per item (models or mappings), at most `max_items`."""
    if max_items is not None and max_items < 0:
        raise ValueError("max_items must be >= 0")
    chosen = items if max_items is None else islice(items, max_items)
    rows = [flatten(item) if _is_object(item) else {"value": _cell(item)} for item in chosen]
    return to_frame(rows, library)


# ----------------------------------------------------------------------------- reports

# The columns every report row starts with.
REPORT_COLUMNS = ("report_id", "job_id", "monitored_object", "start", "end")


def _ref_id(ref: Any) -> Any:
    """The id a reference carries (`performanceJobId`, `faultManagementJobId`, `id`)."""
    if ref is None:
        return None
    for name, value in _entries(ref) if _is_object(ref) else ():
        if name.endswith("JobId") or name == "id":
            return value
    return None


def _object_id(monitored: Any) -> Any:
    """A monitored object as one text: its id, or `from -> to` for a pair of services."""
    if isinstance(monitored, list):
        monitored = monitored[0] if len(monitored) == 1 else None
    if monitored is None or not _is_object(monitored):
        return None
    ids = [str(v) for k, v in flatten(monitored).items() if k.endswith("Id") and v is not None]
    return " -> ".join(ids) if ids else None


def report_rows(report: Any, *, long: bool = False) -> Iterator[Row]:
    """The rows of one PM or FM report: one per measurement interval and measured
    payload (`long`: one per interval and numeric field, as `metric` and `value`)."""
    job = getattr(report, "performance_job", None) or getattr(report, "fault_management_job", None)
    base: Row = {"report_id": getattr(report, "id", None), "job_id": _ref_id(job)}
    for entry in getattr(report, "report_content", None) or []:
        per_object = getattr(entry, "report_content_item", None)
        if per_object is not None:  # PM v5: results grouped by monitored object
            monitored, items = getattr(entry, "monitored_object", None), per_object
        else:  # FM v3, PM v2: the report's own monitored object
            monitored, items = getattr(report, "monitored_object", None), [entry]
        for item in items:
            time = getattr(item, "measurement_time", None)
            data = getattr(item, "measurement_data", None)
            if data is None:
                data = getattr(item, "measurement_data_points", None) or []
            row: Row = {
                **base,
                "monitored_object": _object_id(monitored),
                "start": _cell(getattr(time, "measurement_start_date", None)),
                "end": _cell(getattr(time, "measurement_end_date", None)),
            }
            for payload in data:
                measured = flatten(payload) if _is_object(payload) else {"value": payload}
                if long:
                    for name, value in measured.items():
                        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                        if numeric:
                            yield {
                                **row,
                                "@type": measured.get("@type"),
                                "metric": name,
                                "value": float(value),
                            }
                    continue
                yield {
                    **row,
                    **{(f"data.{k}" if k in REPORT_COLUMNS else k): v for k, v in measured.items()},
                }
