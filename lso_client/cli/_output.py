"""What the CLI prints: objects as a table, JSON, JSON lines or CSV.

Objects are printed as the seller sent them (`to_dict()`: wire names). CSV and tables
flatten nested objects into dotted column names (`serviceConfiguration.@type`, list
elements by index: `relatedContactInformation.0.name`). A report whose items carry
`measurementData` (PM and FM reports) is written as one CSV row per measurement.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

__all__ = [
    "FORMATS",
    "flatten",
    "measurement_rows",
    "plain",
    "printable",
    "write_items",
    "write_one",
]

FORMATS = ("table", "json", "jsonl", "csv")
# Columns a list table shows at most, and the fields it puts first.
_TABLE_COLUMNS = 6
_FIRST = ("id", "state", "@type")
# What a terminal would act on rather than show: C0 controls but tab and newline, DEL, C1
# controls (ESC among the C0 ones). Shown escaped, as `\x1b`.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with the control characters a terminal would act on written as `\\xNN`."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _text(value: str) -> Any:
    """A seller's `value` for rich: plain text (never markup), controls escaped."""
    from rich.text import Text

    return Text(printable(value))


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: models by their wire form, lists item by item."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects and lists as one level of dotted names."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        out = {}
        for index, inner in enumerate(value):
            out.update(flatten(inner, f"{prefix}{index}."))
        return out
    return {prefix[:-1]: value}


def measurement_rows(report: dict[str, Any]) -> list[dict[str, Any]] | None:
    """One row per element of each `measurementData` list in `report`: the report's id,
    the fields of the objects on the way to it (a report content's, its item's
    `measurementTime`), then the measurement's own fields; None when there is none."""
    rows: list[dict[str, Any]] = []

    def walk(value: Any, context: dict[str, Any]) -> None:
        if isinstance(value, list):
            for inner in value:
                walk(inner, context)
            return
        if not isinstance(value, dict):
            return
        data = value.get("measurementData")
        own = {
            k: v for k, v in value.items() if k != "measurementData" and not _holds_measurements(v)
        }
        here = {**context, **flatten(own)}
        if isinstance(data, list):
            rows.extend({**here, **flatten(item)} for item in data)
        for inner in value.values():
            if _holds_measurements(inner):
                walk(inner, here)

    start = {"reportId": report.get("id")}
    for inner in report.values():
        if _holds_measurements(inner):
            walk(inner, start)
    return rows or None


def _holds_measurements(value: Any) -> bool:
    if isinstance(value, dict):
        return "measurementData" in value or any(_holds_measurements(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_measurements(v) for v in value)
    return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _write_csv(rows: list[dict[str, Any]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=_columns(rows), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def _table_of_items(items: list[dict[str, Any]], width: int) -> Any:
    from rich.table import Table

    scalars = [{k: v for k, v in item.items() if not isinstance(v, (dict, list))} for item in items]
    found = _columns(scalars)
    columns = [c for c in _FIRST if c in found] + [c for c in found if c not in _FIRST]
    columns = columns[:_TABLE_COLUMNS]
    # Equal widths, one line per item: what does not fit ends with an ellipsis.
    each = max(6, (width - 1) // max(1, len(columns)) - 3)
    table = Table(caption=f"{len(items)} items")
    for column in columns:
        table.add_column(_text(column), no_wrap=True, overflow="ellipsis", width=each)
    for row in scalars:
        table.add_row(*(_text(_cell(row.get(c))) for c in columns))
    return table


def _table_of_one(obj: Any) -> Any:
    from rich.table import Table

    table = Table("field", "value")
    for key, value in flatten(obj).items():
        table.add_row(_text(key), _text(_cell(value)))
    return table


def _console(out: IO[str]) -> Any:
    from rich.console import Console

    class _Console(Console):
        """A console whose closed output is the command's concern: rich's own answer
        (exit 1) would differ from the other formats'."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(file=out, soft_wrap=False)


def write_items(items: Iterator[Any], fmt: str, out: IO[str]) -> int:
    """Write a listing's items in `fmt`; JSON forms stream item by item. Returns how many."""
    count = 0
    if fmt == "jsonl":
        for item in items:
            out.write(json.dumps(plain(item)) + "\n")
            out.flush()
            count += 1
        return count
    if fmt == "json":
        out.write("[")
        for item in items:
            out.write(("," if count else "") + "\n  " + json.dumps(plain(item)))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    collected = [plain(item) for item in items]
    if fmt == "csv":
        _write_csv([flatten(item) for item in collected], out)
    else:
        console = _console(out)
        console.print(_table_of_items(collected, console.width))
    return len(collected)


def write_one(obj: Any, fmt: str, out: IO[str]) -> None:
    """Write one object (or an operation's list answer) in `fmt`."""
    data = plain(obj)
    if data is None:
        return
    if isinstance(data, list):
        write_items(iter(data), fmt, out)
        return
    if fmt == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    elif fmt == "jsonl":
        out.write(json.dumps(data) + "\n")
    elif fmt == "csv":
        rows = measurement_rows(data) if isinstance(data, dict) else None
        _write_csv(rows or [flatten(data)], out)
    else:
        _console(out).print(_table_of_one(data))
