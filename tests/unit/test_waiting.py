"""Waiting for the reports and results a job produces (`wait_for_job`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from lso_client import AllegroClient, AsyncAllegroClient, WaitTimeoutError

SELLER = "https://seller.example"
PM = SELLER + "/mefApi/allegro/performanceMonitoring/v5"
SFT = SELLER + "/mefApi/allegro/serviceFunctionTesting/v3"


def _report(report_id: str, state: str) -> dict[str, Any]:
    return {
        "id": report_id,
        "state": state,
        "creationDateTime": "2026-01-01T00:00:00Z",
        "performanceJob": {"@type": "PerformanceJobRef", "id": "job-1"},
    }


def _pages(*bodies: list[dict[str, Any]]) -> Any:
    responses = iter(bodies)
    last: list[dict[str, Any]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal last
        last = next(responses, last)
        assert request.url.params["performanceJobId"] == "job-1"
        return httpx.Response(200, json=last, headers={"X-Total-Count": str(len(last))})

    return respond


def test_returns_once_enough_reports_are_final() -> None:
    with respx.mock(base_url=PM) as router, AllegroClient(SELLER) as client:
        route = router.get("/performanceReport").mock(
            side_effect=_pages(
                [],
                [_report("r1", "inProgress")],
                [_report("r1", "completed"), _report("r2", "acknowledged")],
                [_report("r1", "completed"), _report("r2", "failed")],
            )
        )
        reports = client.performance_reports.wait_for_job("job-1", count=2, poll_interval=0.001)
    assert [(r.id, str(r.state)) for r in reports] == [("r1", "completed"), ("r2", "failed")]
    assert route.call_count == 4


def test_times_out_saying_how_far_it_got() -> None:
    with respx.mock(base_url=PM) as router, AllegroClient(SELLER) as client:
        router.get("/performanceReport").mock(
            side_effect=_pages([_report("r1", "completed"), _report("r2", "inProgress")])
        )
        with pytest.raises(WaitTimeoutError) as caught:
            client.performance_reports.wait_for_job(
                "job-1", count=2, timeout=0.05, poll_interval=0.01
            )
    assert "performance reports of job-1: 1 of 2 ready" in str(caught.value)
    assert [r.id for r in caught.value.last] == ["r1", "r2"]


def test_results_without_state_count_once_listed() -> None:
    results = iter([[], [{"id": "t1", "testJob": {"id": "job-1"}}]])

    def respond(request: httpx.Request) -> httpx.Response:
        assert request.url.params["testJobId"] == "job-1"
        return httpx.Response(200, json=next(results))

    with respx.mock(base_url=SFT) as router, AllegroClient(SELLER) as client:
        router.get("/testResult").mock(side_effect=respond)
        found = client.test_results.wait_for_job("job-1", poll_interval=0.001)
    assert [r.id for r in found] == ["t1"]


@dataclass
class _Event:
    id: str


@dataclass
class _Notification:
    event_type: str
    event: _Event


class _FakeListener:
    """What a wait needs of a listener: taps it can add and remove."""

    def __init__(self) -> None:
        self.taps: list[Any] = []

    def add_tap(self, tap: Any) -> None:
        self.taps.append(tap)

    def remove_tap(self, tap: Any) -> None:
        self.taps.remove(tap)

    def notify(self, notification: Any) -> None:
        for tap in list(self.taps):
            tap(notification)


def test_a_report_ready_event_wakes_the_wait_at_once() -> None:
    listener = _FakeListener()
    with respx.mock(base_url=PM) as router, AllegroClient(SELLER) as client:
        router.get("/performanceReport").mock(side_effect=_pages([], [_report("r1", "completed")]))
        client._attach_listener("performance_monitoring_v5", listener)

        def later() -> None:
            time.sleep(0.2)
            # Another job's event must not end the wait; this job's must.
            listener.notify(_Notification("performanceJobReportReadyEvent", _Event("job-2")))
            time.sleep(0.1)
            listener.notify(_Notification("performanceJobReportReadyEvent", _Event("job-1")))

        threading.Thread(target=later, daemon=True).start()
        started = time.monotonic()
        # With a listener the poll interval is long: only the event can end this wait early.
        reports = client.performance_reports.wait_for_job("job-1", timeout=20)
        elapsed = time.monotonic() - started
    assert [r.id for r in reports] == ["r1"]
    assert elapsed < 10
    assert listener.taps == []


async def test_async_twin() -> None:
    with respx.mock(base_url=PM) as router:
        router.get("/performanceReport").mock(
            side_effect=_pages([_report("r1", "inProgress")], [_report("r1", "completed")])
        )
        async with AsyncAllegroClient(SELLER) as client:
            reports = await client.performance_reports.wait_for_job("job-1", poll_interval=0.001)
    assert [str(r.state) for r in reports] == ["completed"]
