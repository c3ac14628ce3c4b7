"""Listings and PM/FM reports as pandas and polars DataFrames, against the mock seller."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lso_client import AllegroClient, AsyncAllegroClient, LegatoClient, LSOError, frames
from lso_client._extras import MissingExtraError, require
from lso_client.testing import RESULTS_WITHOUT_SCHEMA, MockSeller
from lso_client.types.payloads.allegro.carrier_ethernet import CarrierEthernetEvc
from lso_client.types.payloads.allegro.ip import (
    Entity,
    Interface,
    IpFaultManagementConfiguration,
    IpFaultManagementResults,
    StampConfiguration,
)
from lso_client.types.payloads.legato.carrier_ethernet import (
    CarrierEthernetPerformanceMonitoringConfiguration,
)

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")


def duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def pm_job(configuration: Any, *, periods: int = 2) -> dict[str, Any]:
    """A PM v5 job on service evc-1: 15-minute reports of 5-minute bins."""
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"},
        "performanceProfile": {
            "@type": "PerformanceProfileValue",
            "jobType": "proactive",
            "granularity": duration(5, "MIN"),
            "reportingPeriod": duration(15, "MIN"),
            "outputFormat": "json",
            "resultFormat": "payload",
            "serviceSpecificConfiguration": configuration,
        },
        "scheduleDefinition": {
            "scheduleDefinitionStartTime": start.isoformat(),
            "scheduleDefinitionEndTime": (start + timedelta(minutes=15 * periods)).isoformat(),
            "recurringSchedule": {"minute": "*/15"},
        },
    }


# ----------------------------------------------------------------------------- listings


def test_a_page_as_pandas_one_row_per_item_wire_names(mock_seller: MockSeller) -> None:
    ids = mock_seller.seed_orders(3, realistic=True)
    with AllegroClient(mock_seller.url, token="t") as client:
        page = client.service_orders.list()
        frame = page.to_pandas()
    assert len(frame) == 3 and sorted(frame["id"]) == sorted(ids)
    assert frame["state"].tolist() == ["completed"] * 3
    assert str(frame["orderDate"].dtype) == "datetime64[us, UTC]"
    for row, order in zip(frame.to_dict("records"), page.items, strict=True):
        assert row["orderDate"] == pd.Timestamp(order.order_date)
        # A list of objects: one cell of JSON text, its wire form.
        assert json.loads(row["serviceOrderItem"]) == order.to_dict()["serviceOrderItem"]
        assert json.loads(row["note"]) == order.to_dict()["note"]


def test_nested_objects_are_dotted_lists_of_scalars_stay_lists() -> None:
    evc = CarrierEthernetEvc.model_validate(
        {
            "identifier": "EVC-1",
            "evcType": "POINT_TO_POINT",
            "listOfCosNames": ["H", "M"],
            "frameDisposition": {"unicast": "DELIVER_UNCONDITIONALLY"},
            "sellerExtension": {"sku": "X-1", "rev": 3},
        }
    )
    frame = frames.to_pandas([evc])
    row = frame.to_dict("records")[0]
    assert row.get("@type") == evc.to_dict().get("@type")  # what to_dict() writes
    assert row["evcType"] == "POINT_TO_POINT"  # an enum: its wire value
    assert row["listOfCosNames"] == ["H", "M"]
    assert row["frameDisposition.unicast"] == "DELIVER_UNCONDITIONALLY"
    assert (row["sellerExtension.sku"], row["sellerExtension.rev"]) == ("X-1", 3)
    assert "maximumFrameSize" not in row  # fields nobody set are left out
    polars = frames.to_polars([evc])
    assert polars.schema["listOfCosNames"] == pl.List(pl.String)
    assert polars.row(0, named=True)["sellerExtension.rev"] == 3


def test_column_types_follow_the_values() -> None:
    rows = [
        {"n": 1, "x": 1.5, "b": True, "when": "2026-01-01T00:00:00Z", "mixed": 1},
        {"n": None, "x": 2, "b": None, "when": None, "mixed": "one"},
    ]
    frame = frames.to_pandas(rows)
    assert str(frame["n"].dtype) == "Int64" and frame["n"].tolist()[0] == 1
    assert str(frame["x"].dtype) == "float64" and str(frame["b"].dtype) == "boolean"
    assert frame["mixed"].dtype == object and frame["mixed"].tolist() == [1, "one"]
    polars = frames.to_polars(rows)
    assert polars.schema["n"] == pl.Int64 and polars.schema["x"] == pl.Float64
    assert polars["mixed"].to_list() == ["1", "one"]  # JSON text of each value


def test_a_whole_listing_walks_the_pages(mock_seller: MockSeller) -> None:
    mock_seller.seed_orders(7)
    with AllegroClient(mock_seller.url, token="t") as client:
        page = client.service_orders.list(limit=2)
        assert len(page.to_pandas()) == 2
        assert len(page.to_pandas(all_pages=True)) == 7
        assert len(page.to_polars(all_pages=True, max_items=5)) == 5
        listed = frames.to_pandas(client.service_orders.list(limit=3), max_items=6)
    assert len(listed) == 6 and listed["id"].is_unique


async def test_an_async_listing_as_frames(mock_seller: MockSeller) -> None:
    mock_seller.seed_orders(5)
    async with AsyncAllegroClient(mock_seller.url, token="t") as client:
        page = await client.service_orders.list(limit=2)
        assert len(await page.to_pandas()) == 2
        whole = await page.to_polars(all_pages=True)
        capped = await page.to_pandas(all_pages=True, max_items=3)
        # What an async `list()` returns converts without awaiting the page first.
        listing = await client.service_orders.list(limit=2).to_pandas(all_pages=True)
        first = await client.service_orders.list(limit=2).to_polars()
    assert whole.height == 5 and whole["id"].n_unique() == 5
    assert len(capped) == 3
    assert sorted(listing["id"]) == sorted(whole["id"].to_list()) and first.height == 2


def test_a_missing_library_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # as if not installed
    with pytest.raises(MissingExtraError) as caught:
        frames.to_polars([{"a": 1}])
    assert "pip install 'lso-client[polars]'" in str(caught.value)
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, LSOError)
    assert require("pandas") is pd


# ----------------------------------------------------------------------------- reports


def test_a_pm_report_as_a_tidy_frame(mock_seller: MockSeller) -> None:
    with AllegroClient(mock_seller.url, token="t") as client:
        job = client.performance_jobs.create(pm_job(StampConfiguration(vlan=100)))
        listed = client.performance_reports.wait_for_job(job.id, count=2, timeout=30)
        reports = [client.performance_reports.retrieve(r.id) for r in listed]
    frame = frames.pm_report_frame(reports)
    assert list(frame.columns[:7]) == [
        "report_id",
        "job_id",
        "monitored_object",
        "start",
        "end",
        "@type",
        "configurationType",
    ]
    expected = [
        (report.id, item.measurement_time, item.measurement_data[0])
        for report in reports
        for content in report.report_content or []
        for item in content.report_content_item
    ]
    assert len(frame) == len(expected) == 6  # two reports of three 5-minute intervals
    assert str(frame["start"].dtype) == "datetime64[us, UTC]"
    assert frame["job_id"].unique().tolist() == [job.id]
    assert frame["monitored_object"].unique().tolist() == ["evc-1"]
    for row, (report_id, time, data) in zip(frame.to_dict("records"), expected, strict=True):
        assert row["report_id"] == report_id
        assert row["start"] == pd.Timestamp(time.measurement_start_date)
        assert row["end"] == pd.Timestamp(time.measurement_end_date)
        assert row["@type"] == RESULTS_WITHOUT_SCHEMA
        assert row["oneWayFrameDelayMs"] == data.to_dict()["oneWayFrameDelayMs"]
    assert str(frame["oneWayFrameDelayMs"].dtype) == "float64"
    assert frame["start"].is_monotonic_increasing  # a plot per interval reads in order

    long = frames.pm_report_frame(reports, long=True, library="polars")
    assert long.columns[-3:] == ["@type", "metric", "value"]
    assert long.height == 6 * 4  # delay, delay variation, loss ratio, availability
    delays = long.filter(pl.col("metric") == "oneWayFrameDelayMs")["value"].to_list()
    assert delays == frame["oneWayFrameDelayMs"].tolist()


def test_typed_payload_fields_are_typed_columns(mock_seller: MockSeller) -> None:
    configuration = CarrierEthernetPerformanceMonitoringConfiguration(
        interface="ge-0/0/12", rx_ipv4=True, utilization_in=True
    )
    with LegatoClient(mock_seller.url, token="t") as client:
        job = client.performance_jobs.create(pm_job(configuration, periods=1))
        (listed,) = client.performance_reports.wait_for_job(job.id, count=1, timeout=30)
        report = client.performance_reports.retrieve(listed.id)
    frame = frames.pm_report_frame(report, library="polars")
    assert frame.height == 3
    assert frame.schema["rxIpv4"] == pl.Int64 and frame.schema["utilizationIn"] == pl.Float64
    assert frame.schema["start"] == pl.Datetime("us", "UTC")
    item = (report.report_content or [])[0].report_content_item[0]
    data = item.measurement_data[0]
    assert frame.row(0, named=True)["rxIpv4"] == data.rx_ipv4  # type: ignore[attr-defined]


def test_an_fm_report_as_a_frame(mock_seller: MockSeller) -> None:
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    body = {
        "jobType": "proactive",
        "monitoredObject": {
            "@type": "ServiceFromToRef",
            "serviceFrom": {"serviceFromId": "UNI-1001"},
            "serviceTo": {"serviceToId": "UNI-2002"},
        },
        "granularity": duration(15, "MIN"),
        "reportingPeriod": duration(1, "HOUR"),
        "outputFormat": "json",
        "resultFormat": "payload",
        "scheduleDefinition": {
            "scheduleDefinitionStartTime": start.isoformat(),
            "scheduleDefinitionEndTime": (start + timedelta(hours=1)).isoformat(),
            "recurringSchedule": {"minute": "0", "hour": "*"},
        },
        "serviceSpecificConfiguration": IpFaultManagementConfiguration(
            entity=Entity(entity_type=Interface(interface="ge-0/0/7")), vlan=120
        ),
    }
    with AllegroClient(mock_seller.url, token="t") as client:
        job = client.fault_management_jobs.create(body)
        (listed,) = client.fault_management_reports.wait_for_job(job.id, count=1, timeout=30)
        report = client.fault_management_reports.retrieve(listed.id)
    frame = frames.fm_report_frame(report)
    items = report.report_content or []
    assert len(frame) == len(items) == 4  # four 15-minute intervals in the hour
    assert frame["job_id"].unique().tolist() == [job.id]
    assert frame["monitored_object"].unique().tolist() == ["UNI-1001 -> UNI-2002"]
    assert frame["vlan"].unique().tolist() == [120]
    assert frame["interface"].unique().tolist() == ["ge-0/0/7"]
    for row, item in zip(frame.to_dict("records"), items, strict=True):
        data = item.measurement_data[0]
        assert isinstance(data, IpFaultManagementResults)
        assert row["inHeaderErrors"] == data.in_header_errors
        assert row["start"] == pd.Timestamp(item.measurement_time.measurement_start_date)
    assert str(frame["inHeaderErrors"].dtype) == "int64"


def test_a_report_without_results_gives_an_empty_frame_with_its_columns() -> None:
    frame = frames.pm_report_frame([])
    assert len(frame) == 0
    assert list(frame.columns) == ["report_id", "job_id", "monitored_object", "start", "end"]


def test_no_value_is_lost_to_a_column_name_twice_or_an_empty_object() -> None:
    row = frames.to_pandas([{"a.b": 1, "a": {"b": 2, "c": {}}, "d": {}}])
    assert row.to_dict("records") == [{"a.b": 1, "a.b~2": 2, "a.c": "{}", "d": "{}"}]
