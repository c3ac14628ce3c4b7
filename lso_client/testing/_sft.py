"""Service Function Testing v3 in the mock seller.

Test profiles (an assigned profile cannot be modified or deleted), test jobs that
create a `TestResult` per run (`testResultCreateEvent`), and the cancel, modify,
suspend and resume tasks: each is acknowledged, then accepted or rejected; while a
cancel or modify is assessed the job is `assessingCancellation` /
`assessingModification`. A job with a `recurrencePeriod` runs once per period
between its requested start and end (at most `max_periods` times) and waits
`scheduled` between runs. Control for tests: `run_now`, `fail_next`, `max_periods`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, ClassVar

from .._generated import service_function_testing_v3 as m
from ._filters import Body, Filters, field_at
from ._http import Route, Unprocessable, parse_datetime, unprocessable
from ._jobs import (
    Job,
    JobApi,
    JobKind,
    ProcessKind,
    ProfileKind,
    RunPlan,
    check_body,
    run_count,
    time_duration,
)
from ._payloads import results
from ._runtime import SellerContext, format_time
from ._store import Record, Store

__all__ = ["ServiceFunctionTestingApi"]

_WAITING = frozenset({"scheduled", "suspended"})


def _process(
    action: Any, resource: str, model: type[Any], allowed: frozenset[str], **extra: Any
) -> ProcessKind:
    return ProcessKind(
        action=action,
        resource=resource,
        model=model,
        ref_key="testJob",
        ref_id="id",
        allowed=allowed,
        stages=("accepted",),
        created_field="creationDate",
        **extra,
    )


class ServiceFunctionTestingApi(JobApi):
    module = "service_function_testing_v3"
    notification_module = "service_function_testing_notification_v3"
    job = JobKind(
        resource="testJob",
        label="test job",
        created_field="creationDate",
        modified_field="lastModifiedDate",
        terminal=frozenset({"completed", "cancelled", "rejected"}),
        # W149 Table 10 also lets a scheduled job be suspended.
        suspendable=frozenset({"inProgress", "scheduled"}),
        modify_resumes=False,
    )
    processes = (
        _process(
            "cancel",
            "cancelTestJob",
            m.CancelTestJobCommon,
            frozenset({"scheduled", "inProgress", "suspended"}),
            hold="assessingCancellation",
            hold_on_create=True,
            denied_field="cancellationDeniedReason",
        ),
        _process(
            "modify",
            "modifyTestJob",
            m.ModifyTestJobCommon,
            _WAITING,
            hold="assessingModification",
            hold_on_create=True,
            denied_field="modificationDeniedReason",
        ),
        _process(
            "suspend",
            "suspendTestJob",
            m.SuspendTestJobCommon,
            frozenset({"inProgress", "scheduled"}),
            hold=None,
            denied_field="suspensionDeniedReason",
        ),
        _process(
            "resume",
            "resumeTestJob",
            m.ResumeTestJobCommon,
            frozenset({"suspended"}),
            hold=None,
            denied_field="resumptionDeniedReason",
        ),
    )
    profile = ProfileKind(
        resource="testProfile",
        label="test profile",
        create_model=m.TestProfileCreate,
        update_model=m.TestProfileModify,
        created_field="creationDate",
        modified_field="lastUpdate",
        in_use_code="invalidValue",
        filters=Filters(
            equals={"relatedServiceSpecificationId": field_at("relatedServiceSpecification", "id")},
            dates={"creationDate": field_at("creationDate"), "lastUpdate": field_at("lastUpdate")},
        ),
    )
    failures: ClassVar[dict[str, frozenset[str]]] = {
        "testJob": frozenset({"rejected"}),
        "cancelTestJob": frozenset({"rejected"}),
        "modifyTestJob": frozenset({"rejected"}),
        "suspendTestJob": frozenset({"rejected"}),
        "resumeTestJob": frozenset({"rejected"}),
    }

    def __init__(self, reference_point: str, context: SellerContext) -> None:
        super().__init__(reference_point, context)
        self.results: Store[Record] = Store("test result", self._result_filters(), _result_summary)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "testResult", self.list_handler(self.results)),
            Route("GET", "testResult/{id}", self.retrieve_handler(self.results)),
            *super().routes(),
        ]

    def extra_stores(self) -> dict[str, Store[Any]]:
        return {"testResult": self.results}

    # -- filters ----------------------------------------------------------------------

    def job_filters(self) -> Filters:
        return Filters(
            equals={
                "relatedServiceIdFrom": field_at("relatedServiceFrom", "id"),
                "relatedServiceIdTo": field_at("relatedServiceTo", "id"),
                "testProfileId": field_at("testProfile", "id"),
                "name": field_at("name"),
            },
            dates={
                "requestedStartDateTime": field_at("requestedStartDateTime"),
                "requestedEndDateTime": field_at("requestedEndDateTime"),
            },
        )

    def _result_filters(self) -> Filters:
        def of_job(*keys: str) -> Any:
            read = field_at(*keys)
            return lambda result: read(self._job_body(result))

        def of_profile(*keys: str) -> Any:
            read = field_at(*keys)
            return lambda result: read(self._profile_body(self._job_body(result)))

        return Filters(
            equals={
                "testJobId": field_at("testJob", "id"),
                "relatedServiceIdFrom": field_at("relatedServiceFrom", "id"),
                "relatedServiceIdTo": field_at("relatedServiceTo", "id"),
                "relatedServiceSpecificationId": of_profile("relatedServiceSpecification", "id"),
                "relatedContactInformationName": of_profile("relatedContact", "name"),
            },
            dates={
                "requestedStartDateTime": of_job("requestedStartDateTime"),
                "requestedEndDateTime": of_job("requestedEndDateTime"),
            },
        )

    def _job_body(self, result: Body) -> Body:
        found = self.jobs.get(str(result.get("testJob", {}).get("id")))
        return found.body if found is not None else {}

    def _profile_body(self, job_body: Body) -> Body:
        """A job's profile: its value, or the referenced profile."""
        profile: Body = job_body.get("testProfile") or {}
        profile_id = self.profile_id_of(job_body)
        if profile_id is not None and self.profiles is not None:
            found = self.profiles.get(profile_id)
            return found.body if found is not None else {}
        return profile

    # -- jobs -------------------------------------------------------------------------

    def validate_job(self, body: Body) -> None:
        check_body(m.TestJobCommon, body)
        profile_id = self.profile_id_of(body)
        if profile_id is not None and (self.profiles is None or not self.profiles.get(profile_id)):
            reason = f"No test profile {profile_id}"
            raise Unprocessable([unprocessable("referenceNotFound", reason, "/testProfile/id")])
        # `TestJob_Find` requires a start; a job without one starts at once.
        body.setdefault("requestedStartDateTime", format_time(self.now()))

    def plan(self, body: Body, created: datetime) -> RunPlan:
        start = parse_datetime(str(body.get("requestedStartDateTime"))) or created
        end = parse_datetime(str(body.get("requestedEndDateTime")))
        if end is None or end <= start:
            reason = "'requestedEndDateTime' must follow the start"
            raise Unprocessable([unprocessable("invalidValue", reason, "/requestedEndDateTime")])
        recurrence = body.get("recurrencePeriod")
        if recurrence is None:
            return RunPlan(start, end - start, 1, start > self.now())
        period = time_duration(recurrence, "/recurrencePeriod")
        runs = run_count(start, end, period, self.max_periods)
        return RunPlan(start, period, runs, start > self.now(), idle_between=True)

    def on_job_moved(self, job: Job, old: str, new: str) -> None:
        now = format_time(self.now())
        if new == "inProgress":
            job.body.setdefault("actualStartDateTime", now)
        if new in ("completed", "cancelled") and "actualStartDateTime" in job.body:
            job.body["actualEndDateTime"] = now

    def produce(self, job: Job, index: int, start: datetime, end: datetime) -> list[Body]:
        rng = random.Random(f"{job.id}:{index}")
        config = job.body["serviceSpecificTestJobConfiguration"]
        result: Body = {
            "actualStartDateTime": format_time(start),
            "actualEndDateTime": format_time(end),
            "relatedServiceFrom": job.body["relatedServiceFrom"],
            "relatedServiceTo": job.body["relatedServiceTo"],
            "testJob": {"id": job.id, "href": job.body.get("href")},
            "serviceSpecificTestResultConfiguration": _result(config, index, rng, start, end),
        }
        result_id = self.new_record("testResult", result, job.origin, None)
        self.results.save(Record(result_id, result))
        return [self.event("testResultCreateEvent", {"id": result_id, "href": result["href"]})]

    # -- profiles ---------------------------------------------------------------------

    def profile_id_of(self, job_body: Body) -> str | None:
        profile = job_body.get("testProfile") or {}
        if profile.get("@type") == "TestProfileRef" and profile.get("id") is not None:
            return str(profile["id"])
        return None

    def set_assigned(self, profile: Body, assigned: bool) -> bool:
        state = "assigned" if assigned else "available"
        changed = profile.get("lifecycleState") != state
        profile["lifecycleState"] = state
        return changed

    def profile_events(self, profile: Record) -> list[Body]:
        payload = {
            "id": profile.id,
            "href": profile.body.get("href"),
            "lifecycleState": profile.body["lifecycleState"],
        }
        return [self.event("testProfileLifecycleStateChangeEvent", payload)]


def _result(config: Body, index: int, rng: random.Random, start: datetime, end: datetime) -> Body:
    """The results of run `index` (see `results`): a body of the report schema answering
    a shipped configuration, else a summary of the run."""

    def summary(rng: random.Random) -> Body:
        return {
            "run": index + 1,
            "roundTripDelayMs": round(rng.uniform(0.5, 30.0), 3),
            "packetLossRatio": round(rng.uniform(0.0, 0.005), 6),
            "passed": rng.random() > 0.1,
        }

    return results(config, rng, start, end, summary)


def _result_summary(body: Body) -> Body:
    # `TestResult_Common`, as lists return it: without the results themselves.
    return {k: v for k, v in body.items() if k != "serviceSpecificTestResultConfiguration"}
