"""The job-based API families of the mock seller (PM v5, FM v3, SFT v3) over real HTTP.

The API objects are mounted here on their own router, served on loopback, and driven
with httpx and with the SDK in strict mode; notifications go to a strict
`NotificationListener`, so every response and event must match the generated models.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from _job_bodies import fm_job_body, pm_profile_body
from pydantic import BaseModel

from lso_client import AllegroClient, LegatoClient, Notification, NotificationListener
from lso_client._errors import ConflictError, NotFoundError, UnprocessableEntityError
from lso_client._generated import fault_management_v3 as fm
from lso_client._generated import performance_monitoring_v5 as pm
from lso_client._generated import service_function_testing_v3 as sft
from lso_client.notifications import BackgroundServer
from lso_client.testing._fault import FaultManagementApi
from lso_client.testing._http import Receive, Router, Scope, Send, read_request, send_response
from lso_client.testing._jobs import JobApi
from lso_client.testing._performance import PerformanceMonitoringApi
from lso_client.testing._runtime import IdFactory, Notifier, Scheduler, SellerContext
from lso_client.testing._sft import ServiceFunctionTestingApi

STEP = 0.01
PM_BASE = "/mefApi/allegro/performanceMonitoring/v5/"


# -- a seller with just these APIs ------------------------------------------------------


class _App:
    """The ASGI wiring `MockSeller` does, around the given API objects."""

    def __init__(self, context: SellerContext, apis: list[JobApi]) -> None:
        self.context = context
        self.router = Router()
        for api in apis:
            self.router.mount(api.base_path, api.routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.context.scheduler.bind(asyncio.get_running_loop())
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.context.notifier.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        self.context.scheduler.bind(asyncio.get_running_loop())
        await send_response(send, self.router.dispatch(await read_request(scope, receive)))


@dataclass
class Seller:
    url: str
    context: SellerContext
    pm: PerformanceMonitoringApi
    fm: FaultManagementApi
    sft: ServiceFunctionTestingApi

    def idle(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.context.scheduler.pending or self.context.notifier.pending:
            assert time.monotonic() < deadline, "the seller stayed busy"
            time.sleep(0.005)


def _context(step_delay: float) -> SellerContext:
    scheduler = Scheduler()
    return SellerContext(
        scheduler=scheduler,
        notifier=Notifier(scheduler, enabled=True, token=None, timeout=5.0),
        new_id=IdFactory(11),
        step_delay=step_delay,
        max_page_size=50,
    )


@pytest.fixture
def seller() -> Iterator[Seller]:
    context = _context(STEP)
    apis = (
        PerformanceMonitoringApi("allegro", context),
        FaultManagementApi("allegro", context),
        ServiceFunctionTestingApi("allegro", context),
    )
    with BackgroundServer(_App(context, list(apis))) as server:
        yield Seller(server.url, context, *apis)
        context.scheduler.unbind()


@pytest.fixture
def client(seller: Seller) -> Iterator[AllegroClient]:
    with AllegroClient(seller.url, strict=True, max_retries=0) as sdk:
        yield sdk


class Inbox:
    """Notifications received by a strict listener, in arrival order."""

    def __init__(self) -> None:
        self.listener = NotificationListener(strict=True, accept_unknown_events=False)
        self.items: list[Notification] = []
        self._lock = threading.Lock()
        self.listener.add_handler(self._keep)

    def _keep(self, notification: Notification) -> None:
        with self._lock:
            self.items.append(notification)

    def about(self, subject: str) -> list[tuple[str, Any]]:
        """(event type, payload) for events whose `event.id` is `subject`."""
        with self._lock:
            found = [n for n in self.items if n.event.id == subject]
        return [(n.event_type, n.event) for n in found]

    def states(self, subject: str, event_type: str) -> list[str]:
        return [
            str(getattr(e, "state", None) or e.lifecycle_state)
            for t, e in self.about(subject)
            if t == event_type
        ]

    def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"not received; got {self.types()}"
            time.sleep(0.01)

    def types(self) -> list[str]:
        with self._lock:
            return [n.event_type for n in self.items]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    with box.listener:
        yield box


def _wait(read: Callable[[], Any], state: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        current = read()
        if str(current.state) == state:
            return current
        assert time.monotonic() < deadline, f"still {current.state}, wanted {state}"
        time.sleep(0.005)


def _deliveries_ok(seller: Seller) -> None:
    log = seller.context.notifier.log
    assert log, "no notification was sent"
    bad = [(d.event_type, d.status_code, d.error) for d in log if not d.ok]
    assert not bad, f"the strict listener refused: {bad}"


# -- request bodies ------------------------------------------------------------------


def _duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def pm_job_body(
    *,
    profile: dict[str, Any] | None = None,
    recurring: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    if start is not None:
        schedule["scheduleDefinitionStartTime"] = _iso(start)
    if end is not None:
        schedule["scheduleDefinitionEndTime"] = _iso(end)
    if recurring:
        schedule["recurringSchedule"] = {"minute": "*/15"}
    value = {"@type": "PerformanceProfileValue", **pm_profile_body()}
    del value["description"], value["lifecycleStatus"]
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"},
        "performanceProfile": profile or value,
        "scheduleDefinition": schedule,
        **extra,
    }


def sft_profile_body() -> dict[str, Any]:
    return {
        "name": "Ping",
        "isBundled": False,
        "lifecycleStatus": "approved",
        "validFor": "2031-01-01T00:00:00Z",
        "relatedServiceSpecification": {"id": "spec-ce"},
        "serviceSpecificTestProfileConfiguration": {"@type": "urn:mef:sft:ping"},
    }


def sft_job_body(profile_id: str | None = None, **extra: Any) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    profile: dict[str, Any] = (
        {"@type": "TestProfileRef", "id": profile_id}
        if profile_id
        else {"@type": "TestProfileValue", "relatedServiceSpecification": {"id": "spec-ce"}}
    )
    return {
        "name": "nightly ping",
        "requestedEndDateTime": _iso(now + timedelta(hours=3)),
        "recurrencePeriod": {"amount": 1, "units": "calendarHours"},
        "testProfile": profile,
        "relatedServiceFrom": {"id": "uni-1"},
        "relatedServiceTo": {"id": "uni-2"},
        "serviceSpecificTestJobConfiguration": {"@type": "urn:mef:sft:ping-job"},
        **extra,
    }


# -- mounting ------------------------------------------------------------------------


@pytest.mark.parametrize("reference_point", ["allegro", "interlude", "legato"])
def test_every_family_is_served_at_each_reference_point_under_its_manifest_path(
    reference_point: str,
) -> None:
    context = _context(STEP)
    apis: list[JobApi] = [
        PerformanceMonitoringApi(reference_point, context),
        FaultManagementApi(reference_point, context),
        ServiceFunctionTestingApi(reference_point, context),
    ]
    assert [api.base_path for api in apis] == [
        f"/mefApi/{reference_point}/performanceMonitoring/v5/",
        f"/mefApi/{reference_point}/faultManagement/v3/",
        f"/mefApi/{reference_point}/serviceFunctionTesting/v3/",
    ]
    assert apis[0].notification_base == f"/mefApi/{reference_point}/performanceNotification/v5/"
    with pytest.raises(ValueError):
        PerformanceMonitoringApi("elsewhere", context)


def test_legato_client_uses_pm_v5_at_its_reference_point() -> None:
    context = _context(STEP)
    api = PerformanceMonitoringApi("legato", context)
    with BackgroundServer(_App(context, [api])) as server:
        with LegatoClient(server.url, strict=True) as legato:
            created = legato.performance_profiles.create(pm_profile_body())
            assert created.href is not None and "/legato/performanceMonitoring/v5/" in created.href
            stored = api.get("performanceProfile", created.id)
            assert stored is not None and stored["isAssigned"] is False
        context.scheduler.unbind()


# -- Performance Monitoring ------------------------------------------------------------


def test_recurring_pm_job_reports_each_period_and_notifies_in_order(
    seller: Seller, client: AllegroClient, inbox: Inbox
) -> None:
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    body = pm_job_body(recurring=True, start=start, end=start + timedelta(minutes=30))
    with client.hubs.performance_monitoring.subscribe(inbox.listener):
        job = client.performance_jobs.create(body)
        assert job.state == pm.PerformanceJobStateType.acknowledged
        done = client.performance_jobs.wait(job.id, timeout=5, poll_interval=0.01)
        inbox.wait_for(
            lambda: "completed" in inbox.states(job.id, "performanceJobStateChangeEvent")
        )

    assert done.state == pm.PerformanceJobStateType.completed
    reports = list(client.performance_reports.list(performance_job_id=job.id))
    assert len(reports) == 2  # 30 minutes of 15-minute periods
    assert all(isinstance(r, pm.PerformanceReportFind) for r in reports)
    frames = sorted(str(r.reporting_timeframe.reporting_start_date) for r in reports)
    first, second = (datetime.fromisoformat(f) for f in frames)
    assert second - first == timedelta(minutes=15)

    report = client.performance_reports.retrieve(reports[0].id)
    assert report.report_content is not None and len(report.report_content) == 1
    content = report.report_content[0]
    assert content.monitored_object.service_id == "evc-1"  # type: ignore[union-attr]
    assert len(content.report_content_item) == 3  # 15-minute period at 5-minute granularity
    data = content.report_content_item[0].measurement_data[0]
    assert data.type == "urn:mef:lso:spec:allegro:ce-pm:v1.0.0:all"

    events = [t for t, _ in inbox.about(job.id)]
    assert events[0] == "performanceJobCreateEvent"
    assert inbox.states(job.id, "performanceJobStateChangeEvent") == ["inProgress", "completed"]
    ready = [e for t, e in inbox.about(job.id) if t == "performanceJobReportReadyEvent"]
    assert sorted(e.report_id for e in ready) == sorted(r.id for r in reports)
    assert events.index("performanceJobReportReadyEvent") < len(events) - 1
    _deliveries_ok(seller)


def test_pm_profile_in_use_cannot_be_patched_or_deleted_until_the_job_ends(
    seller: Seller, client: AllegroClient
) -> None:
    profile = client.performance_profiles.create(pm_profile_body())
    assert profile.is_assigned is False
    patched = client.performance_profiles.update(profile.id, {"description": "v2"})
    assert patched.description == "v2" and patched.last_time_modified is not None

    seller.context.step_delay = 60.0  # the job stays where the test puts it
    ref = {"@type": "PerformanceProfileRef", "performanceProfileId": profile.id}
    job = client.performance_jobs.create(pm_job_body(profile=ref, recurring=True))
    assert client.performance_profiles.retrieve(profile.id).is_assigned is True
    with pytest.raises(ConflictError):
        client.performance_profiles.update(profile.id, {"description": "v3"})
    with pytest.raises(UnprocessableEntityError) as refused:
        client.performance_profiles.delete(profile.id)
    assert refused.value.response.json()[0]["code"] == "performanceProfileInUse"
    with pytest.raises(httpx.HTTPStatusError):
        httpx.patch(
            f"{seller.url}{PM_BASE}performanceProfile/{profile.id}", json={"jobType": "passive"}
        ).raise_for_status()

    seller.pm.run_now(job.id)
    _wait(lambda: client.performance_jobs.retrieve(job.id), "inProgress")
    cancel = client.cancel_performance_jobs.create(
        {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id}}
    )
    seller.pm.run_now(cancel.id)
    _wait(lambda: client.performance_jobs.retrieve(job.id), "pendingCancel")
    seller.pm.run_now(cancel.id)
    _wait(lambda: client.performance_jobs.retrieve(job.id), "cancelled")
    assert client.performance_profiles.retrieve(profile.id).is_assigned is False
    client.performance_profiles.delete(profile.id)
    with pytest.raises(NotFoundError):
        client.performance_profiles.retrieve(profile.id)


def test_pm_suspend_resume_cancel_and_modify(
    seller: Seller, client: AllegroClient, inbox: Inbox
) -> None:
    seller.context.step_delay = 60.0
    later = datetime.now(timezone.utc) + timedelta(days=1)
    with client.hubs.performance_monitoring.subscribe(inbox.listener):
        job = client.performance_jobs.create(pm_job_body(recurring=True, start=later))
        seller.pm.run_now(job.id)
        _wait(lambda: client.performance_jobs.retrieve(job.id), "scheduled")
        with pytest.raises(UnprocessableEntityError):
            client.performance_jobs.suspend(job.id)  # only an inProgress job (W143 R55)

        modify = client.modify_performance_jobs.create(
            {
                "performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id},
                "description": "after",
            }
        )
        assert modify.state == pm.PerformanceJobProcessStateType.acknowledged
        seller.pm.run_now(modify.id)
        _wait(lambda: client.performance_jobs.retrieve(job.id), "pending")
        seller.pm.run_now(modify.id)
        modified = _wait(lambda: client.performance_jobs.retrieve(job.id), "scheduled")
        assert modified.description == "after"
        assert client.modify_performance_jobs.retrieve(modify.id).state == "completed"

        seller.pm.run_now(job.id)
        _wait(lambda: client.performance_jobs.retrieve(job.id), "inProgress")
        client.performance_jobs.suspend(job.id)  # 204
        assert client.performance_jobs.retrieve(job.id).state == "suspended"
        client.performance_jobs.resume(job.id)
        assert client.performance_jobs.retrieve(job.id).state == "inProgress"

        cancel = client.cancel_performance_jobs.create(
            {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id}}
        )
        seller.pm.run_now(cancel.id)
        _wait(lambda: client.cancel_performance_jobs.retrieve(cancel.id), "inProgress")
        seller.pm.run_now(cancel.id)
        _wait(lambda: client.cancel_performance_jobs.retrieve(cancel.id), "completed")
        inbox.wait_for(
            lambda: "completed" in inbox.states(cancel.id, "cancelPerformanceJobStateChangeEvent")
        )
        inbox.wait_for(
            lambda: "cancelled" in inbox.states(job.id, "performanceJobStateChangeEvent")
        )

    assert inbox.states(job.id, "performanceJobStateChangeEvent") == [
        "scheduled",
        "pending",
        "scheduled",
        "inProgress",
        "suspended",
        "inProgress",
        "pendingCancel",
        "cancelled",
    ]
    assert inbox.states(modify.id, "modifyPerformanceJobStateChangeEvent") == [
        "inProgress",
        "completed",
    ]
    assert ("performanceJobAttributeValueChangeEvent", job.id) in [
        (t, e.id) for t, e in inbox.about(job.id)
    ]
    assert [c.id for c in client.cancel_performance_jobs.list(performance_job_id=job.id)] == [
        cancel.id
    ]
    _deliveries_ok(seller)


def test_pm_failures_on_demand(seller: Seller, client: AllegroClient, inbox: Inbox) -> None:
    with client.hubs.performance_monitoring.subscribe(inbox.listener):
        seller.pm.fail_next("performanceJob", "rejected")
        rejected = client.performance_jobs.create_and_wait(
            pm_job_body(), wait_timeout=5, poll_interval=0.01
        )
        assert rejected.state == "rejected" and rejected.termination_error

        seller.pm.fail_next("performanceJob", "resourcesUnavailable")
        starved = client.performance_jobs.create_and_wait(
            pm_job_body(), wait_timeout=5, poll_interval=0.01
        )
        assert starved.state == "resourcesUnavailable"

        seller.pm.fail_next("performanceJob", "reportPreparationError")
        job = client.performance_jobs.create_and_wait(
            pm_job_body(), wait_timeout=5, poll_interval=0.01
        )
        assert job.state == "completed"
        assert list(client.performance_reports.list(performance_job_id=job.id)) == []
        inbox.wait_for(
            lambda: (
                "performanceJobReportPreparationErrorEvent" in [t for t, _ in inbox.about(job.id)]
            )
        )

        done = client.performance_jobs.create_and_wait(
            pm_job_body(), wait_timeout=5, poll_interval=0.01
        )
        late = client.cancel_performance_jobs.create(
            {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": done.id}}
        )
        assert (
            client.cancel_performance_jobs.wait(late.id, timeout=5, poll_interval=0.01).state
            == "rejected"
        )
    assert client.performance_jobs.retrieve(done.id).state == "completed"
    with pytest.raises(ValueError):
        seller.pm.fail_next("performanceJob", "exploded")
    seller.idle()
    _deliveries_ok(seller)


def test_pm_on_demand_report(seller: Seller, client: AllegroClient, inbox: Inbox) -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0)
    body = {
        "granularity": _duration(10, "MIN"),
        "monitoredObject": [
            {"@type": "ServiceRef", "serviceId": "evc-1"},
            {"@type": "EntityRef", "entityId": "port-7", "@referredType": "Port"},
        ],
        "outputFormat": "json",
        "reportingTimeframe": {
            "reportingStartDate": _iso(end - timedelta(minutes=30)),
            "reportingEndDate": _iso(end),
        },
        "resultFormat": "payload",
        "serviceSpecificConfiguration": {"@type": "urn:mef:lso:spec:allegro:ce-pm:v1.0.0:all"},
    }
    with client.hubs.performance_monitoring.subscribe(inbox.listener):
        created = client.performance_reports.create(body)
        assert created.state == "acknowledged" and created.report_content is None
        report = client.performance_reports.wait(created.id, timeout=5, poll_interval=0.01)
        inbox.wait_for(
            lambda: len(inbox.states(created.id, "performanceReportStateChangeEvent")) == 2
        )
        seller.pm.fail_next("performanceReport", "failed")
        failed = client.performance_reports.create_and_wait(
            body, wait_timeout=5, poll_interval=0.01
        )
    assert report.state == "completed"
    assert report.report_content is not None
    assert [len(c.report_content_item) for c in report.report_content] == [3, 3]
    assert inbox.states(created.id, "performanceReportStateChangeEvent") == [
        "inProgress",
        "completed",
    ]
    assert failed.state == "failed" and failed.report_content is None
    attachment = client.performance_reports.create_and_wait(
        {**body, "resultFormat": "attachment"}, wait_timeout=5, poll_interval=0.01
    )
    assert attachment.report_url is not None and attachment.report_content is None
    # Lists leave the results out (`PerformanceReport_Find`).
    raw = httpx.get(f"{seller.url}{PM_BASE}performanceReport", params={"state": "completed"})
    assert raw.status_code == 200 and raw.json()
    assert all("reportContent" not in item for item in raw.json())
    _deliveries_ok(seller)


def test_pm_validation_and_errors(seller: Seller, client: AllegroClient) -> None:
    url = f"{seller.url}{PM_BASE}"
    missing = httpx.post(url + "performanceJob", json={"scheduleDefinition": {}})
    assert missing.status_code == 422
    paths = {e["propertyPath"] for e in missing.json()}
    assert {"/monitoredObject", "/performanceProfile"} <= paths
    assert all(e["code"] == "missingProperty" for e in missing.json())
    for error in missing.json():
        pm.Error422.model_validate(error)

    unknown = {"@type": "PerformanceProfileRef", "performanceProfileId": "nope"}
    with pytest.raises(UnprocessableEntityError) as caught:
        client.performance_jobs.create(pm_job_body(profile=unknown))
    assert caught.value.response.json()[0]["code"] == "referenceNotFound"

    start = datetime.now(timezone.utc)
    backwards = pm_job_body(start=start, end=start - timedelta(hours=1), recurring=True)
    assert httpx.post(url + "performanceJob", json=backwards).status_code == 422
    assert httpx.post(url + "performanceJob", content=b"{").status_code == 400
    with pytest.raises(NotFoundError):
        client.performance_jobs.retrieve("missing")
    assert httpx.post(url + "performanceJob/missing/suspend").status_code == 404
    assert httpx.get(url + "performanceJob", params={"state": "sleeping"}).status_code == 400
    assert (
        httpx.get(url + "performanceJob", params={"creationDateTime.gt": "yesterday"}).status_code
        == 400
    )
    no_job = {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": "nope"}}
    assert httpx.post(url + "cancelPerformanceJob", json=no_job).status_code == 422

    seller.context.step_delay = 60.0
    job = client.performance_jobs.create(pm_job_body(recurring=True, start=start))
    broken = {
        "performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id},
        "scheduleDefinition": backwards["scheduleDefinition"],
    }
    refused = httpx.post(url + "modifyPerformanceJob", json=broken)
    assert refused.status_code == 422
    assert refused.json()[0]["propertyPath"] == "/scheduleDefinition/scheduleDefinitionEndTime"
    assert seller.pm.records("modifyPerformanceJob") == []


def test_pm_lists_filter_paginate_query_and_track(seller: Seller, client: AllegroClient) -> None:
    seller.context.step_delay = 60.0
    first = client.performance_jobs.create(pm_job_body(buyerJobId="A"))
    second = client.performance_jobs.create(
        pm_job_body(
            buyerJobId="B",
            monitoredObject={"@type": "EntityRef", "entityId": "port-9", "@referredType": "Port"},
        )
    )
    third = client.performance_jobs.create(pm_job_body(buyerJobId="C"))
    ids = [first.id, second.id, third.id]

    page = httpx.get(f"{seller.url}{PM_BASE}performanceJob", params={"limit": 2})
    assert page.headers["x-total-count"] == "3" and len(page.json()) == 2
    assert [j.id for j in client.performance_jobs.list(limit=1)] == ids
    assert [j.id for j in client.performance_jobs.list(service_id="evc-1")] == [first.id, third.id]
    assert [j.id for j in client.performance_jobs.list(entity_id="port-9")] == [second.id]
    assert [j.id for j in client.performance_jobs.list(buyer_job_id="C")] == [third.id]
    assert [j.id for j in client.performance_jobs.list(job_type="proactive")] == ids
    assert list(client.performance_jobs.list(job_type="passive")) == []
    assert [
        j.id for j in client.performance_jobs.list(creation_date_time_gt=first.creation_date_time)
    ] == [second.id, third.id]

    found = client.performance_jobs.complex_query(
        {"monitoredObject": {"@type": "EntityRef", "entityId": "port-9", "@referredType": "Port"}}
    )
    assert [j.id for j in found] == [second.id]
    by_state = client.performance_jobs.complex_query({"state": "acknowledged", "buyerJobId": "A"})
    assert [j.id for j in by_state] == [first.id]

    records = list(client.performance_tracking_records.list(related_performance_job_id=first.id))
    assert [r.request for r in records] == ["POST performanceJob"]
    assert records[0].source == pm.Source.client


# -- Fault Management ----------------------------------------------------------------


def test_fm_job_reports_suspends_resumes_and_cancels(
    seller: Seller, client: AllegroClient, inbox: Inbox
) -> None:
    with client.hubs.fault_management.subscribe(inbox.listener):
        job = client.fault_management_jobs.create_and_wait(
            fm_job_body(), wait_timeout=5, poll_interval=0.01
        )
        assert job.state == "completed"
        reports = list(client.fault_management_reports.list(fault_management_job_id=job.id))
        assert len(reports) == seller.fm.max_periods == 3
        report = client.fault_management_reports.retrieve(reports[0].id)
        assert isinstance(report, fm.FaultManagementReport)
        assert report.report_content and len(report.report_content) == 4
        assert report.fault_management_job.fault_management_job_id == job.id

        seller.context.step_delay = 60.0
        second = client.fault_management_jobs.create(fm_job_body())
        seller.fm.run_now(second.id)
        _wait(lambda: client.fault_management_jobs.retrieve(second.id), "inProgress")
        client.fault_management_jobs.suspend(second.id)
        with pytest.raises(UnprocessableEntityError):
            client.fault_management_jobs.suspend(second.id)
        client.fault_management_jobs.resume(second.id)
        cancel = client.cancel_fault_management_jobs.create(
            {
                "faultManagementJob": {
                    "@type": "FaultManagementJobRef",
                    "faultManagementJobId": second.id,
                }
            }
        )
        seller.fm.run_now(cancel.id)
        _wait(lambda: client.cancel_fault_management_jobs.retrieve(cancel.id), "inProgress")
        seller.fm.run_now(cancel.id)
        _wait(lambda: client.fault_management_jobs.retrieve(second.id), "cancelled")
        inbox.wait_for(
            lambda: "cancelled" in inbox.states(second.id, "faultManagementJobStateChangeEvent")
        )

    ready = [
        e.report_id for t, e in inbox.about(job.id) if t == "faultManagementJobReportReadyEvent"
    ]
    assert sorted(ready) == sorted(r.id for r in reports)
    assert inbox.states(second.id, "faultManagementJobStateChangeEvent") == [
        "inProgress",
        "suspended",
        "inProgress",
        "pendingCancel",
        "cancelled",
    ]
    query = client.fault_management_reports.complex_query(
        {"faultManagementJob": {"@type": "FaultManagementJobRef", "faultManagementJobId": job.id}}
    )
    assert sorted(r.id for r in query) == sorted(r.id for r in reports)
    jobs = client.fault_management_jobs.complex_query({"state": "cancelled"})
    assert [j.id for j in jobs] == [second.id]
    tracked = client.fault_management_tracking_records.list(
        related_fault_management_report_id=reports[0].id
    )
    assert [r.source for r in tracked] == [fm.Source.server]
    _deliveries_ok(seller)


def test_fm_modify_changes_a_suspended_job_and_resumes_it(
    seller: Seller, client: AllegroClient
) -> None:
    seller.context.step_delay = 60.0
    job = client.fault_management_jobs.create(fm_job_body())
    seller.fm.run_now(job.id)
    _wait(lambda: client.fault_management_jobs.retrieve(job.id), "inProgress")
    client.fault_management_jobs.suspend(job.id)
    modify = client.modify_fault_management_jobs.create(
        {
            "faultManagementJob": {
                "@type": "FaultManagementJobRef",
                "faultManagementJobId": job.id,
            },
            "reportingPeriod": _duration(2, "HOUR"),
        }
    )
    seller.fm.run_now(modify.id)
    _wait(lambda: client.fault_management_jobs.retrieve(job.id), "pending")
    seller.fm.run_now(modify.id)
    changed = _wait(lambda: client.fault_management_jobs.retrieve(job.id), "inProgress")
    assert changed.reporting_period.time_duration_value == 2
    seller.fm.fail_next("modifyFaultManagementJob", "rejected")
    refused = client.modify_fault_management_jobs.create(
        {
            "faultManagementJob": {
                "@type": "FaultManagementJobRef",
                "faultManagementJobId": job.id,
            },
            "description": "x",
        }
    )
    seller.fm.run_now(refused.id)
    _wait(lambda: client.modify_fault_management_jobs.retrieve(refused.id), "rejected")
    assert client.fault_management_jobs.retrieve(job.id).state == "inProgress"


# -- Service Function Testing ----------------------------------------------------------


def test_sft_job_creates_results_and_assigns_its_profile(
    seller: Seller, client: AllegroClient, inbox: Inbox
) -> None:
    with client.hubs.service_function_testing.subscribe(inbox.listener):
        profile = client.test_profiles.create(sft_profile_body())
        assert profile.lifecycle_state == sft.TestProfileLifecycleStateType.available
        seller.context.step_delay = 60.0
        job = client.test_jobs.create(sft_job_body(profile.id))
        assert client.test_profiles.retrieve(profile.id).lifecycle_state == "assigned"
        with pytest.raises(ConflictError):
            client.test_profiles.update(profile.id, {"description": "changed"})
        with pytest.raises(UnprocessableEntityError):
            client.test_profiles.delete(profile.id)

        seller.context.step_delay = STEP
        seller.sft.run_now(job.id)
        done = client.test_jobs.wait(job.id, timeout=5, poll_interval=0.01)
        inbox.wait_for(
            lambda: (
                inbox.states(profile.id, "testProfileLifecycleStateChangeEvent")
                == ["assigned", "available"]
            )
        )
        client.test_profiles.update(profile.id, {"description": "free again"})

    assert done.state == "completed"
    assert done.actual_start_date_time is not None and done.actual_end_date_time is not None
    results = list(client.test_results.list(test_job_id=job.id))
    assert len(results) == 3  # three hourly runs in the requested three hours
    assert all(type(r) is sft.TestResultCommon for r in results)
    result = client.test_results.retrieve(results[0].id)
    assert result.service_specific_test_result_configuration.type == "urn:mef:sft:ping-job"
    assert [r.id for r in client.test_results.list(related_service_specification_id="spec-ce")] == [
        r.id for r in results
    ]
    created = [e.id for t, e in _all(inbox) if t == "testResultCreateEvent"]
    assert sorted(created) == sorted(r.id for r in results)
    states = inbox.states(job.id, "testJobStateChangeEvent")
    assert states == [
        "inProgress",
        "scheduled",
        "inProgress",
        "scheduled",
        "inProgress",
        "completed",
    ]
    _deliveries_ok(seller)


def _all(inbox: Inbox) -> list[tuple[str, Any]]:
    return [(n.event_type, n.event) for n in list(inbox.items)]


def test_sft_tasks_assess_then_accept_or_reject(
    seller: Seller, client: AllegroClient, inbox: Inbox
) -> None:
    seller.context.step_delay = 60.0
    later = datetime.now(timezone.utc) + timedelta(days=1)
    with client.hubs.service_function_testing.subscribe(inbox.listener):
        job = client.test_jobs.create(
            sft_job_body(
                requestedStartDateTime=_iso(later),
                requestedEndDateTime=_iso(later + timedelta(hours=2)),
            )
        )
        seller.sft.run_now(job.id)
        _wait(lambda: client.test_jobs.retrieve(job.id), "scheduled")

        modify = client.modify_test_jobs.create({"testJob": {"id": job.id}, "name": "renamed"})
        assert client.test_jobs.retrieve(job.id).state == "assessingModification"
        seller.sft.run_now(modify.id)
        assert (
            client.modify_test_jobs.wait(modify.id, timeout=5, poll_interval=0.01).state
            == "accepted"
        )
        renamed = client.test_jobs.retrieve(job.id)
        assert renamed.state == "scheduled" and renamed.name == "renamed"

        suspend = client.suspend_test_jobs.create({"testJob": {"id": job.id}})
        seller.sft.run_now(suspend.id)
        _wait(lambda: client.test_jobs.retrieve(job.id), "suspended")
        bad = client.suspend_test_jobs.create({"testJob": {"id": job.id}})
        seller.sft.run_now(bad.id)
        denied = client.suspend_test_jobs.wait(bad.id, timeout=5, poll_interval=0.01)
        assert denied.state == "rejected" and denied.suspension_denied_reason
        resume = client.resume_test_jobs.create({"testJob": {"id": job.id}})
        seller.sft.run_now(resume.id)
        _wait(lambda: client.test_jobs.retrieve(job.id), "scheduled")

        seller.sft.fail_next("cancelTestJob", "rejected")
        kept = client.cancel_test_jobs.create({"testJob": {"id": job.id}})
        assert client.test_jobs.retrieve(job.id).state == "assessingCancellation"
        seller.sft.run_now(kept.id)
        _wait(lambda: client.cancel_test_jobs.retrieve(kept.id), "rejected")
        assert client.test_jobs.retrieve(job.id).state == "scheduled"

        cancel = client.cancel_test_jobs.create(
            {"testJob": {"id": job.id}, "cancellationReason": "no longer needed"}
        )
        seller.sft.run_now(cancel.id)
        cancelled = _wait(lambda: client.test_jobs.retrieve(job.id), "cancelled")
        inbox.wait_for(lambda: "cancelled" in inbox.states(job.id, "testJobStateChangeEvent"))

    assert cancelled.actual_end_date_time is None  # it never ran
    assert inbox.states(job.id, "testJobStateChangeEvent") == [
        "scheduled",
        "assessingModification",
        "scheduled",
        "suspended",
        "scheduled",
        "assessingCancellation",
        "scheduled",
        "assessingCancellation",
        "cancelled",
    ]
    assert inbox.states(kept.id, "cancelTestJobStateChangeEvent") == ["rejected"]
    assert inbox.states(cancel.id, "cancelTestJobStateChangeEvent") == ["accepted"]
    assert [c.id for c in client.cancel_test_jobs.list(test_job_id=job.id, state="accepted")] == [
        cancel.id
    ]
    _deliveries_ok(seller)


def test_sft_rejected_job_and_invalid_requests(seller: Seller, client: AllegroClient) -> None:
    seller.sft.fail_next("testJob", "rejected")
    job = client.test_jobs.create_and_wait(sft_job_body(), wait_timeout=5, poll_interval=0.01)
    assert job.state == "rejected" and job.termination_error
    assert list(client.test_results.list(test_job_id=job.id)) == []
    with pytest.raises(UnprocessableEntityError):
        client.test_jobs.create(sft_job_body("missing-profile"))
    backwards = sft_job_body(requestedStartDateTime="2031-01-02T00:00:00Z")
    backwards["requestedEndDateTime"] = "2031-01-01T00:00:00Z"
    with pytest.raises(UnprocessableEntityError):
        client.test_jobs.create(backwards)
    with pytest.raises(ValueError):
        seller.sft.run_now(job.id)  # a rejected job has no next step
    with pytest.raises(KeyError):
        seller.sft.run_now("unknown")
    base = f"{seller.url}/mefApi/allegro/serviceFunctionTesting/v3/"
    assert httpx.post(base + "cancelTestJob", json={"testJob": {"id": "nope"}}).status_code == 422
    assert httpx.get(base + "testResult/nope").status_code == 404


def test_every_model_parses_seller_output_strictly(seller: Seller) -> None:
    """Whatever the stores hold validates against the generated response models."""
    with AllegroClient(seller.url, strict=True) as sdk:
        sdk.performance_jobs.create_and_wait(pm_job_body(), wait_timeout=5, poll_interval=0.01)
        sdk.fault_management_jobs.create_and_wait(fm_job_body(), wait_timeout=5, poll_interval=0.01)
        sdk.test_jobs.create_and_wait(sft_job_body(), wait_timeout=5, poll_interval=0.01)
        profile = sdk.performance_profiles.create(pm_profile_body())
        sdk.test_profiles.create(sft_profile_body())
        ref = {"@type": "PerformanceProfileRef", "performanceProfileId": profile.id}
        job = sdk.performance_jobs.create(pm_job_body(profile=ref, recurring=True))
        cancel = sdk.cancel_performance_jobs.create(
            {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id}}
        )
        sdk.cancel_performance_jobs.wait(cancel.id, timeout=5, poll_interval=0.01)
    seller.idle()
    checks: list[tuple[JobApi, str, type[BaseModel]]] = [
        (seller.pm, "performanceProfile", pm.PerformanceProfile),
        (seller.pm, "cancelPerformanceJob", pm.CancelPerformanceJob),
        (seller.sft, "testProfile", sft.TestProfile),
        (seller.pm, "performanceJob", pm.PerformanceJob),
        (seller.pm, "performanceReport", pm.PerformanceReport),
        (seller.pm, "trackingRecord", pm.PmTrackingRecord),
        (seller.fm, "faultManagementJob", fm.FaultManagementJob),
        (seller.fm, "faultManagementReport", fm.FaultManagementReport),
        (seller.fm, "trackingRecord", fm.FmTrackingRecord),
        (seller.sft, "testJob", sft.TestJob),
        (seller.sft, "testResult", sft.TestResult),
    ]
    for api, resource, model in checks:
        stored = api.records(resource)
        assert stored, resource
        for body in stored:
            model.model_validate(body)  # raises on any departure from the spec
