"""Fault Management v3 in the mock seller.

Jobs that yield a `FaultManagementReport` per reporting period, suspend/resume,
cancel/modify tasks, complex queries, tracking records and the hub. FM has no
profiles and no on-demand reports: every attribute is on the job. Control for
tests: `run_now`, `fail_next` and `max_periods` (see `JobApi`).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, ClassVar

from .._generated import fault_management_v3 as m
from ._http import Route
from ._jobs import (
    Body,
    Job,
    JobKind,
    ProcessKind,
    ReportingJobApi,
    check_body,
    measurement_items,
    report_filters,
    tracking_filters,
)

__all__ = ["FaultManagementApi"]

_SEVERITIES = ("cleared", "warning", "minor", "major", "critical")


def _sample(rng: random.Random) -> Body:
    faults = rng.randint(0, 3)
    return {
        "faultsDetected": faults,
        "highestSeverity": _SEVERITIES[min(faults, len(_SEVERITIES) - 1)],
        "serviceAffecting": faults > 1,
    }


class FaultManagementApi(ReportingJobApi):
    module = "fault_management_v3"
    notification_module = "fault_notification_v3"
    job = JobKind(
        resource="faultManagementJob",
        label="fault management job",
        created_field="creationDateTime",
        modified_field="lastTimeModified",
        terminal=frozenset({"completed", "cancelled", "rejected", "resourcesUnavailable"}),
        suspendable=frozenset({"inProgress"}),
        modify_resumes=True,
    )
    processes = (
        ProcessKind(
            action="cancel",
            resource="cancelFaultManagementJob",
            model=m.CancelFaultManagementJobCreate,
            ref_key="faultManagementJob",
            ref_id="faultManagementJobId",
            allowed=frozenset({"scheduled", "inProgress", "suspended"}),
            hold="pendingCancel",
            stages=("inProgress", "completed"),
        ),
        ProcessKind(
            action="modify",
            resource="modifyFaultManagementJob",
            model=m.ModifyFaultManagementJobCreate,
            ref_key="faultManagementJob",
            ref_id="faultManagementJobId",
            allowed=frozenset({"scheduled", "suspended"}),
            hold="pending",
            stages=("inProgress", "completed"),
        ),
    )
    failures: ClassVar[dict[str, frozenset[str]]] = {
        "faultManagementJob": frozenset(
            {"rejected", "resourcesUnavailable", "reportPreparationError"}
        ),
        "cancelFaultManagementJob": frozenset({"rejected"}),
        "modifyFaultManagementJob": frozenset({"rejected"}),
    }
    report = "faultManagementReport"
    report_filters = report_filters("faultManagementJob")
    tracking_filters = tracking_filters("faultManagementJob", "faultManagementReport")

    def routes(self) -> list[Route]:
        return [
            Route(
                "POST",
                "faultManagementJobComplexQuery",
                self._query(self.jobs, m.FaultManagementJobComplexQueryCreate),
            ),
            Route(
                "POST",
                "faultManagementReportComplexQuery",
                self._query(self.reports, m.FaultManagementReportComplexQueryCreate),
            ),
            *super().routes(),
        ]

    def validate_job(self, body: Body) -> None:
        check_body(m.FaultManagementJobCreate, body)

    def report_content(self, report: Body, seed: str, start: datetime, end: datetime) -> Any:
        data_type = report["serviceSpecificConfiguration"]["@type"]

        def sample(rng: random.Random) -> Body:
            return {"@type": data_type, **_sample(rng)}

        # FM reports carry the items directly: one monitored object per report.
        return measurement_items(seed, start, end, report["granularity"], sample)

    def apply_modification(self, job: Job, changes: Body, kind: ProcessKind) -> None:
        for key, value in changes.items():
            if key not in ("faultManagementJob", "id", "href", "state", "creationDateTime"):
                job.body[key] = value
