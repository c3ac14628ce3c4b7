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
from ._filters import Body
from ._jobs import (
    ReportingJobApi,
    cancel_and_modify,
    check_body,
    report_filters,
    reporting_job,
    tracking_filters,
)

__all__ = ["FaultManagementApi"]

_SEVERITIES = ("cleared", "warning", "minor", "major", "critical")


class FaultManagementApi(ReportingJobApi):
    module = "fault_management_v3"
    notification_module = "fault_notification_v3"
    job = reporting_job("faultManagementJob", "fault management job")
    processes = cancel_and_modify(
        "faultManagementJob",
        m.CancelFaultManagementJobCreate,
        m.ModifyFaultManagementJobCreate,
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
    job_query_model = m.FaultManagementJobComplexQueryCreate
    report_query_model = m.FaultManagementReportComplexQueryCreate

    def validate_job(self, body: Body) -> None:
        check_body(m.FaultManagementJobCreate, body)

    def sample(self, rng: random.Random) -> Body:
        faults = rng.randint(0, 3)
        return {
            "faultsDetected": faults,
            "highestSeverity": _SEVERITIES[min(faults, len(_SEVERITIES) - 1)],
            "serviceAffecting": faults > 1,
        }

    def report_content(self, report: Body, seed: str, start: datetime, end: datetime) -> Any:
        # FM reports carry the items directly: one monitored object per report.
        return self.report_items(report, seed, start, end)
