"""Listings and PM/FM reports as pandas or polars DataFrames.

    >>> from lso_client import frames
    >>> orders = client.service_orders.list(state="completed")
    >>> orders.to_pandas()                                  # this page, one row per order
    >>> orders.to_pandas(all_pages=True, max_items=500)     # the listing from this page on
    >>> frames.to_polars(client.services.list(), max_items=500)
    >>> report = client.performance_reports.retrieve(report_id)
    >>> frame = frames.pm_report_frame(report)               # one row per interval
    >>> frame.plot(x="start", y="oneWayFrameDelayMs")

pandas and polars are optional: `pip install 'lso-client[pandas]'` (or `[polars]`);
without them these raise `MissingExtraError` naming the extra.

**Columns of a listing** (`to_pandas`, `to_polars`, `page.to_pandas()`): one row per
item and one column per field an item holds, named by its **wire name** (`externalId`,
`@type`); fields nobody set are left out, unknown fields are included. A nested
object's fields are columns `outer.inner`, at any depth
(`performanceProfile.performanceProfileId`, `service.serviceConfiguration.@type`), an
empty object one cell `{}`; should a wire name that holds a dot (`"a.b"`) meet a nested
`"a": {"b": ...}`, the later is column `a.b~2`, so no value is lost. A
**list of scalars** stays a list in one cell (pandas `object`, polars `List`); a **list
of objects** is one cell of JSON text, its wire form (`json.loads` or polars
`.str.json_decode()` reads it back; `pandas.json_normalize(item.to_dict(), "note")`
flattens one). Enums are their wire values; date-times are timezone-aware datetimes in
UTC (pandas `datetime64[us, UTC]`, polars `Datetime("us", "UTC")`); whole numbers are
integer columns (pandas `Int64` when some are missing), and so on: each column is typed
by what it holds. Payloads are typed as when read, so their fields are columns like any
other. A column whose values differ in kind (a seller's departure from the spec, kept
as received) is `object` in pandas and JSON text in polars.

**Columns of a report** (`pm_report_frame`, `fm_report_frame`): one row per
measurement interval and measured payload (`measurementData`; `measurementDataPoints`
in PM v2), starting with `report_id`, `job_id`, `monitored_object` (the monitored
object's id, `from -> to` for a pair of services), `start` and `end` (the interval's
`measurementStartDate` and `measurementEndDate`, as datetimes), then the payload's
fields flattened as above (`@type`, `oneWayFrameDelayMs`, `inHeaderErrors`, ...; a
payload field named like one of the first five gets a `data.` prefix). `long=True` gives
one row per interval and numeric field instead: the first five columns, `@type`,
`metric` and `value` (a float), ready for `seaborn`-style plotting or `pivot`.
A listing of reports omits their results: pass reports read with `retrieve()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from . import _frames

__all__ = ["fm_report_frame", "pm_report_frame", "to_pandas", "to_polars"]

Library = Literal["pandas", "polars"]


def to_pandas(items: Iterable[Any], *, max_items: int | None = None) -> Any:
    """A pandas DataFrame with one row per item (models, or mappings), flattened by the
    rule above. A page iterates its whole listing: `to_pandas(client.services.list(),
    max_items=1000)` walks the pages and stops after `max_items` rows."""
    return _frames.items_frame(items, "pandas", max_items)


def to_polars(items: Iterable[Any], *, max_items: int | None = None) -> Any:
    """As `to_pandas`, a polars DataFrame."""
    return _frames.items_frame(items, "polars", max_items)


def _reports(reports: Any) -> list[Any]:
    if isinstance(reports, (list, tuple)):
        return list(reports)
    if hasattr(reports, "report_content") or hasattr(reports, "id"):
        return [reports]
    return list(reports)


def _report_frame(reports: Any, library: Library, long: bool) -> Any:
    rows = [row for report in _reports(reports) for row in _frames.report_rows(report, long=long)]
    first = (
        (*_frames.REPORT_COLUMNS, "@type", "metric", "value") if long else _frames.REPORT_COLUMNS
    )
    return _frames.to_frame(rows, library, first=first)


def pm_report_frame(reports: Any, *, library: Library = "pandas", long: bool = False) -> Any:
    """A performance report (v5 or v2), or several, as a DataFrame: one row per
    measurement interval and measured payload, the payload's typed fields as columns
    (see the module's docstring). `library="polars"` for a polars DataFrame."""
    return _report_frame(reports, library, long)


def fm_report_frame(reports: Any, *, library: Library = "pandas", long: bool = False) -> Any:
    """A fault management report, or several, as a DataFrame: as `pm_report_frame`
    (one row per measurement interval and measured payload, e.g.
    `IpFaultManagementResults` fields as columns)."""
    return _report_frame(reports, library, long)
