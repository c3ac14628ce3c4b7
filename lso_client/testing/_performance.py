"""Performance Monitoring v5 (Allegro, and the default at Interlude and Legato) in the mock seller.

Profiles, jobs that report once per reporting period, on-demand reports
(`createPerformanceReport`), cancel/modify tasks, complex queries, tracking records
and the hub. Control for tests: `run_now`, `fail_next` and `max_periods` (see
`JobApi`), e.g. `api.fail_next("performanceJob", "resourcesUnavailable")`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, ClassVar

from .._generated import performance_monitoring_v5 as m
from ._filters import Body, Filters, field_at
from ._http import (
    Request,
    Response,
    Route,
    Unprocessable,
    json_response,
    parse_datetime,
    unprocessable,
)
from ._jobs import (
    Job,
    ProcessKind,
    ProfileKind,
    ReportingJobApi,
    cancel_and_modify,
    check_body,
    ref,
    report_filters,
    reporting_job,
    time_duration,
    tracking_filters,
)
from ._store import Record

__all__ = ["PerformanceMonitoringApi"]


class PerformanceMonitoringApi(ReportingJobApi):
    module = "performance_monitoring_v5"
    notification_module = "performance_notification_v5"
    job = reporting_job("performanceJob", "performance job")
    processes = cancel_and_modify(
        "performanceJob",
        m.CancelPerformanceJobCreate,
        m.ModifyPerformanceJobCreate,
    )
    profile = ProfileKind(
        resource="performanceProfile",
        label="performance profile",
        create_model=m.PerformanceProfileCreate,
        update_model=m.PerformanceProfileUpdate,
        created_field="creationDateTime",
        modified_field="lastTimeModified",
        in_use_code="performanceProfileInUse",
        fixed=frozenset({"jobType"}),  # W143 R16: every settable attribute but the job type
        filters=Filters(
            equals={
                "jobType": field_at("jobType"),
                "jobPriority": field_at("jobPriority"),
                "lifecycleStatus": field_at("lifecycleStatus"),
            },
            dates={"creationDateTime": field_at("creationDateTime")},
        ),
    )
    failures: ClassVar[dict[str, frozenset[str]]] = {
        "performanceJob": frozenset({"rejected", "resourcesUnavailable", "reportPreparationError"}),
        "cancelPerformanceJob": frozenset({"rejected"}),
        "modifyPerformanceJob": frozenset({"rejected"}),
        "performanceReport": frozenset({"rejected", "failed"}),
    }
    report = "performanceReport"
    report_filters = report_filters("performanceJob")
    tracking_filters = tracking_filters("performanceJob", "performanceProfile", "performanceReport")
    monitored_as_list = True  # v5 reports name a list of monitored objects
    job_query_model = m.PerformanceJobComplexQueryCreate
    report_query_model = m.PerformanceReportComplexQueryCreate

    def routes(self) -> list[Route]:
        return [
            Route("POST", "performanceReport", self._locked(self._create_report)),
            *super().routes(),
        ]

    # -- jobs -------------------------------------------------------------------------

    def job_filters(self) -> Filters:
        shared = super().job_filters()
        return Filters(
            equals={
                **shared.equals,
                "buyerJobId": field_at("buyerJobId"),
                "performanceProfileId": field_at("performanceProfile", "performanceProfileId"),
                "consumingApplicationId": field_at("consumingApplicationId"),
                "producingApplicationId": field_at("producingApplicationId"),
            },
            dates=shared.dates,
            enums=shared.enums,
        )

    def job_settings(self, body: Body) -> Body:
        """The profile attributes of a job: its own value, or the referenced profile."""
        profile = body.get("performanceProfile") or {}
        profile_id = profile.get("performanceProfileId")
        if profile_id is not None and self.profiles is not None:
            found = self.profiles.get(str(profile_id))
            if found is not None:
                return found.body
        return dict(profile)

    def validate_job(self, body: Body) -> None:
        check_body(m.PerformanceJobCreate, body)
        profile_id = body["performanceProfile"].get("performanceProfileId")
        if profile_id is not None and (
            self.profiles is None or self.profiles.get(profile_id) is None
        ):
            path = "/performanceProfile/performanceProfileId"
            reason = f"No performance profile {profile_id}"
            raise Unprocessable([unprocessable("referenceNotFound", reason, path)])

    def profile_id_of(self, job_body: Body) -> str | None:
        found = (job_body.get("performanceProfile") or {}).get("performanceProfileId")
        return None if found is None else str(found)

    def set_assigned(self, profile: Body, assigned: bool) -> bool:
        changed = profile.get("isAssigned") != assigned
        profile["isAssigned"] = assigned
        return changed

    def check_process(self, kind: ProcessKind, job: Job, body: Body) -> None:
        by_reference = self.profile_id_of(job.body) is not None
        if kind.action == "modify" and "performanceProfile" in body and by_reference:
            reason = "the job uses a profile by reference; modify the profile instead"
            raise Unprocessable([unprocessable("invalidValue", reason, "/performanceProfile")])

    def apply_modification(self, job: Job, changes: Body, kind: ProcessKind) -> None:
        profile = changes.get("performanceProfile")
        if isinstance(profile, dict):
            # A partial profile changes only the attributes it names.
            merged = {**job.body["performanceProfile"], **profile}
            changes = {**changes, "performanceProfile": merged}
        super().apply_modification(job, changes, kind)

    # -- reports ----------------------------------------------------------------------

    def sample(self, rng: random.Random) -> Body:
        return {
            "oneWayFrameDelayMs": round(rng.uniform(1.0, 25.0), 3),
            "frameDelayVariationMs": round(rng.uniform(0.1, 4.0), 3),
            "frameLossRatio": round(rng.uniform(0.0, 0.01), 6),
            "availabilityPercent": round(rng.uniform(99.0, 100.0), 4),
        }

    def fill_report(self, report: Body, seed: str, start: datetime, end: datetime) -> None:
        super().fill_report(report, seed, start, end)
        streams = self._ctx.streams
        if streams is not None and "performanceJob" in report:
            # A running job's measurements also go to the PM stream.
            streams.report(self.reference_point, report)

    def report_content(self, report: Body, seed: str, start: datetime, end: datetime) -> Any:
        return [
            {
                "monitoredObject": item,
                "reportContentItem": self.report_items(report, f"{seed}:{position}", start, end),
            }
            for position, item in enumerate(report["monitoredObject"])
        ]

    def _create_report(self, request: Request, _: dict[str, str]) -> Response:
        """On-demand collection: acknowledged, then inProgress, then completed with results."""
        body = request.json()
        check_body(m.PerformanceReportCreate, body)
        time_duration(body["granularity"], "/granularity")
        frame = body["reportingTimeframe"]
        end = _date(frame.get("reportingEndDate")) or self.now()
        start = _date(frame.get("reportingStartDate")) or end - timedelta(hours=1)
        if end <= start:
            reason = "the reporting timeframe ends before it starts"
            raise Unprocessable([unprocessable("invalidValue", reason, "/reportingTimeframe")])
        report_id = self.new_record(self.report, body, request.base_url, "creationDateTime")
        body["state"] = "acknowledged"
        record = Record(report_id, body)
        self.reports.save(record)
        outcome = self.take_plan(self.report)
        self.track(self.report, body, "POST performanceReport", "created", "client")
        self.publish([self.event("performanceReportCreateEvent", ref(body))])
        self._later(lambda: self._advance_report(report_id, outcome, start, end))
        return json_response(201, record.json)

    def _later(self, fn: Any) -> None:
        def run() -> None:
            with self._lock:
                fn()

        self._ctx.scheduler.call_later(self._ctx.step_delay, run)

    def _advance_report(
        self, report_id: str, outcome: str | None, start: datetime, end: datetime
    ) -> None:
        record = self.reports.get(report_id)
        if record is None:
            return
        body = record.body
        if record.state == "acknowledged":
            body["state"] = "rejected" if outcome == "rejected" else "inProgress"
        elif record.state == "inProgress":
            body["state"] = "failed" if outcome == "failed" else "completed"
            if body["state"] == "completed":
                self.fill_report(body, report_id, start, end)
        else:
            return
        if body["state"] in ("rejected", "failed"):
            reason = f"The mock seller was told to make this report {body['state']}"
            body["terminationError"] = [{"code": "otherIssue", "value": reason}]
        self.reports.save(record)
        payload = {**ref(body), "state": body["state"]}
        self.publish([self.event("performanceReportStateChangeEvent", payload)])
        if body["state"] == "inProgress":
            self._later(lambda: self._advance_report(report_id, outcome, start, end))


def _date(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None
