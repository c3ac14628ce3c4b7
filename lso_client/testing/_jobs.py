"""Machinery shared by the job-based API families of the mock seller (PM, FM, SFT).

A job is acknowledged on creation and then moves one step every `step_delay`
seconds on the serving loop: validation (`rejected`), `scheduled` when its start
lies in the future, start (`resourcesUnavailable` when the seller has no
resources), then one run per period, each producing an output (a report, a test
result), and `completed` after the last run. Periods are simulated: one period of
the job's declared length passes in one step, so a recurring 15-minute job yields
a report every `step_delay` seconds. A recurring job without an end, or with
more periods than `JobApi.max_periods`, stops after `max_periods` runs so that
the seller becomes idle.

Cancel/modify (and, for SFT, suspend/resume) requests are process resources with
their own states; while a process runs, the job waits in a hold state
(`pendingCancel`/`pending`, `assessingCancellation`/`assessingModification`).
Every creation and state change is published on the API's hub.
"""

from __future__ import annotations

import json
import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from .._operations import api_definition
from ._api import ApiModule, Handler
from ._filters import Body, Filters, field_at
from ._http import (
    ApiError,
    Request,
    Response,
    Route,
    Unprocessable,
    json_response,
    parse_datetime,
    unprocessable,
)
from ._payloads import pointer, results
from ._runtime import HubStore, SellerContext, format_time
from ._store import Record, Store

__all__ = [
    "Job",
    "JobApi",
    "JobKind",
    "Process",
    "ProcessKind",
    "ProfileKind",
    "ReportingJobApi",
    "RunPlan",
    "cancel_and_modify",
    "check_body",
    "measurement_items",
    "ref",
    "reporting_job",
    "run_count",
    "time_duration",
    "typed_ref",
]

ACTIVE_STATES = frozenset({"scheduled", "inProgress"})


# -- values -------------------------------------------------------------------------


_DURATION_SECONDS = {
    # TimeDurationUnits (PM, FM)
    "NS": 1e-9,
    "US": 1e-6,
    "MS": 1e-3,
    "SEC": 1.0,
    "MIN": 60.0,
    "HOUR": 3600.0,
    "DAY": 86400.0,
    "WEEK": 7 * 86400.0,
    "MONTH": 30 * 86400.0,
    "YEAR": 365 * 86400.0,
    # TimeUnit (SFT); business units are taken as calendar ones.
    "seconds": 1.0,
    "minutes": 60.0,
    "businessHours": 3600.0,
    "calendarHours": 3600.0,
    "businessDays": 86400.0,
    "calendarDays": 86400.0,
    "months": 30 * 86400.0,
    "years": 365 * 86400.0,
}


def time_duration(value: Any, path: str) -> timedelta:
    """A positive `TimeDuration` (`timeDurationValue/Units`) or `Duration` (`amount/units`)."""
    if isinstance(value, dict):
        amount = value.get("timeDurationValue", value.get("amount"))
        unit = value.get("timeDurationUnits", value.get("units"))
        if isinstance(amount, int) and amount > 0 and unit in _DURATION_SECONDS:
            return timedelta(seconds=amount * _DURATION_SECONDS[unit])
    raise Unprocessable([unprocessable("invalidValue", "the duration must be positive", path)])


def run_count(start: datetime, end: datetime | None, period: timedelta, cap: int) -> int:
    """How many periods of a recurring job fit between `start` and `end`, at most `cap`."""
    if end is None:
        return cap
    return max(1, min(math.ceil((end - start) / period), cap))


def measurement_items(
    seed: str,
    start: datetime,
    end: datetime,
    granularity: Body,
    sample: Callable[[random.Random, datetime, datetime], Body],
    *,
    most: int = 4,
) -> list[Body]:
    """`ReportContentItem`s over `[start, end)` at the job's granularity (at most `most`)."""
    rng = random.Random(seed)
    step = time_duration(granularity, "/granularity")
    items: list[Body] = []
    moment = start
    while moment < end and len(items) < most:
        until = min(moment + step, end)
        items.append(
            {
                "measurementTime": {
                    "measurementStartDate": format_time(moment),
                    "measurementEndDate": format_time(until),
                    "measurementInterval": dict(granularity),
                },
                "measurementData": [sample(rng, moment, until)],
            }
        )
        moment = until
    return items


def check_body(model: type[BaseModel], body: Any) -> None:
    """Validate a request body against its generated model; 400 or 422 as the specs say."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalidBody", "The body must be a JSON object")
    try:
        model.model_validate(body)
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            kind = str(error.get("type", ""))
            if kind == "missing":
                code = "missingProperty"
            elif "datetime" in kind or "parsing" in kind or "timezone" in kind:
                code = "invalidFormat"
            else:
                code = "invalidValue"
            path = pointer(error.get("loc", ()), body)
            errors.append(unprocessable(code, f"{path}: {error.get('msg')}", path))
        raise Unprocessable(errors) from None


# -- stored resources ----------------------------------------------------------------


# -- jobs and processes --------------------------------------------------------------


@dataclass
class RunPlan:
    """When and how often a job runs, in simulated time."""

    start: datetime
    period: timedelta
    runs: int
    starts_later: bool
    idle_between: bool = False


@dataclass
class Job(Record):
    plan: RunPlan | None = None
    origin: str = ""
    runs_done: int = 0
    generation: int = 0
    outcome: str | None = None
    resume_to: str = "inProgress"


@dataclass(frozen=True)
class JobKind:
    """Names and rules of a family's job resource."""

    resource: str  # path segment and event prefix: `performanceJob`
    label: str  # for messages: `performance job`
    created_field: str
    modified_field: str
    terminal: frozenset[str]
    suspendable: frozenset[str]
    # PM/FM: a modified job goes back to `scheduled` or `inProgress`; SFT: to where it was.
    modify_resumes: bool


@dataclass(frozen=True)
class ProcessKind:
    """A task resource that acts on a job: cancel, modify, suspend or resume."""

    action: Literal["cancel", "modify", "suspend", "resume"]
    resource: str  # `cancelPerformanceJob`
    model: type[BaseModel]  # the create body
    ref_key: str  # body property referring to the job
    ref_id: str  # id property inside it
    allowed: frozenset[str]  # job states the action applies to
    hold: str | None  # job state while the process runs
    stages: tuple[str, ...]  # process states after `acknowledged`
    hold_on_create: bool = False
    created_field: str = "creationDateTime"
    denied_field: str | None = None

    @property
    def event_type(self) -> str:
        return f"{self.resource}StateChangeEvent"


@dataclass
class Process(Record):
    job_id: str = ""
    stage: int = 0
    held_from: str | None = None
    outcome: str | None = None
    generation: int = 0


@dataclass(frozen=True)
class ProfileKind:
    """A family's profile resource (PM `performanceProfile`, SFT `testProfile`)."""

    resource: str
    label: str
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    created_field: str
    modified_field: str
    in_use_code: str  # Error422 code when deleting an assigned profile
    fixed: frozenset[str] = frozenset()  # properties a PATCH may not change
    filters: Filters | None = None


class JobApi(ApiModule):
    """Base of the PM, FM and SFT API modules: one instance per reference point.

    Subclasses name their resources (`job`, `processes`, `profile`), add their own
    routes and implement `plan` (when a job runs) and `produce` (what one run
    yields). Control methods (`run_now`, `fail_next`, `max_periods`) are for tests.
    """

    module: ClassVar[str]
    notification_module: ClassVar[str]
    hubs: HubStore
    job: ClassVar[JobKind]
    processes: ClassVar[tuple[ProcessKind, ...]] = ()
    profile: ClassVar[ProfileKind | None] = None
    # resource -> outcomes `fail_next` may plan for it
    failures: ClassVar[Mapping[str, frozenset[str]]] = {}
    # PM and FM keep tracking records; SFT has none.
    tracking_filters: ClassVar[Filters | None] = None

    def __init__(self, reference_point: str, context: SellerContext) -> None:
        super().__init__(context)
        self.reference_point = reference_point.lower()
        try:
            self.base_path = api_definition(self.module).reference_points[self.reference_point]
            self.notification_base = api_definition(self.notification_module).reference_points[
                self.reference_point
            ]
        except KeyError:
            raise ValueError(f"{self.module} is not served at {reference_point!r}") from None
        self.hubs = HubStore(context.new_id, validation_status=400)
        self.max_periods = 3
        self._plans: dict[str, deque[str]] = {}
        self.jobs: Store[Job] = Store(self.job.label, self.job_filters())
        self.process_stores: dict[str, Store[Process]] = {
            kind.resource: Store(kind.resource, self._process_filters(kind))
            for kind in self.processes
        }
        self.profiles: Store[Record] | None = (
            Store(self.profile.label, self.profile.filters) if self.profile is not None else None
        )
        self.tracking: Store[Record] | None = (
            Store("tracking record", self.tracking_filters)
            if self.tracking_filters is not None
            else None
        )

    # -- wiring -------------------------------------------------------------------

    def routes(self) -> list[Route]:
        resource = self.job.resource
        found = [
            Route("GET", resource, self.list_handler(self.jobs)),
            Route("POST", resource, self._locked(self._create_job)),
            Route("GET", f"{resource}/{{id}}", self.retrieve_handler(self.jobs)),
        ]
        for kind in self.processes:
            store = self.process_stores[kind.resource]
            found += [
                Route("GET", kind.resource, self.list_handler(store)),
                Route("POST", kind.resource, self._locked(self._process_creator(kind))),
                Route("GET", f"{kind.resource}/{{id}}", self.retrieve_handler(store)),
            ]
        if self.profile is not None:
            name = self.profile.resource
            found += [
                Route("GET", name, self._locked(self._list_profiles)),
                Route("POST", name, self._locked(self._create_profile)),
                Route("GET", f"{name}/{{id}}", self._locked(self._retrieve_profile)),
                Route("PATCH", f"{name}/{{id}}", self._locked(self._patch_profile)),
                Route("DELETE", f"{name}/{{id}}", self._locked(self._delete_profile)),
            ]
        if self.tracking is not None:
            found.append(Route("GET", "trackingRecord", self.list_handler(self.tracking)))
        return [*found, *self.hubs.routes()]

    def _locked(self, handler: Handler) -> Handler:
        def run(request: Request, params: dict[str, str]) -> Response:
            with self._lock:
                return handler(request, params)

        return run

    def _query(self, store: Store[Any], model: type[BaseModel]) -> Handler:
        """A `*ComplexQuery` handler: an unpaginated array of matches."""

        def handler(request: Request, _: dict[str, str]) -> Response:
            query = request.json()
            check_body(model, query)
            with self._lock:
                return store.query_response(query)

        return handler

    # -- inspection and control (any thread) --------------------------------------

    def get(self, resource: str, record_id: str) -> Body | None:
        """A copy of one stored resource (`performanceJob`, `cancelPerformanceJob`, ...)."""
        with self._lock:
            found = self._store(resource).get(record_id)
            return None if found is None else _copy(found)

    def records(self, resource: str) -> list[Body]:
        """Copies of every stored resource of one kind, oldest first."""
        with self._lock:
            return [_copy(r) for r in self._store(resource).all()]

    def fail_next(self, resource: str, outcome: str, *, count: int = 1) -> None:
        """Make the next `count` created `resource`s end in `outcome`.

        See the subclass's `failures` for what each resource accepts, e.g.
        `fail_next("performanceJob", "resourcesUnavailable")` or
        `fail_next("cancelPerformanceJob", "rejected")`.
        """
        allowed = self.failures.get(resource, frozenset())
        if outcome not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"{resource} cannot be made to end in {outcome!r} (known: {known})")
        with self._lock:
            self._plans.setdefault(resource, deque()).extend([outcome] * count)

    def run_now(self, record_id: str) -> None:
        """Take the next step of a job or process at once instead of after `step_delay`.

        A job is validated, started, or runs its next period; a process moves to its
        next state. With a long `step_delay`, tests step through states this way.
        """
        with self._lock:
            job = self._job(record_id)
            if job is not None:
                if job.state not in ("acknowledged", *ACTIVE_STATES):
                    raise ValueError(f"{self.job.label} {record_id} is {job.state}; no next step")
                job.generation += 1
                generation = job.generation
                self._ctx.scheduler.call_later(0.0, lambda: self._tick(record_id, generation))
                return
            for kind in self.processes:
                process = self.process_stores[kind.resource].get(record_id)
                if isinstance(process, Process):
                    if process.state not in ("acknowledged", *kind.stages[:-1]):
                        raise ValueError(f"{kind.resource} {record_id} is {process.state}")
                    self._schedule_process(kind, process, 0.0)
                    return
        raise KeyError(record_id)

    def clear(self) -> None:
        """Forget every resource and hub; scheduled work finds nothing and stops."""
        with self._lock:
            for store in self._stores().values():
                store.clear()
            self._plans.clear()
        self.hubs.clear()

    # -- hooks for the families ---------------------------------------------------

    def job_filters(self) -> Filters:
        return Filters()

    def plan(self, body: Body, created: datetime) -> RunPlan:
        raise NotImplementedError

    def produce(self, job: Job, index: int, start: datetime, end: datetime) -> list[Body]:
        """What run `index` of `job` yields over `[start, end)`: stored outputs, events."""
        raise NotImplementedError

    def validate_job(self, body: Body) -> None:
        """Checks beyond the body's schema (references, dates); raise `Unprocessable`."""

    def on_job_moved(self, job: Job, old: str, new: str) -> None:
        """Adjust the job body on a state change (before it is stored)."""

    def profile_id_of(self, job_body: Body) -> str | None:
        return None

    def set_assigned(self, profile: Body, assigned: bool) -> bool:
        """Record whether a profile is in use; True when that changed."""
        return False

    def profile_events(self, profile: Record) -> list[Body]:
        """Events for a profile whose assignment changed."""
        return []

    def track(
        self, resource: str, related: Body, request: str, description: str, source: str
    ) -> None:
        """Keep a tracking record of an action on `related` (a `resource` body)."""
        if self.tracking is None:
            return
        record_id = self._ctx.new_id()
        body: Body = {
            "id": record_id,
            "creationDateTime": format_time(self.now()),
            "description": description,
            "relatedObjectId": typed_ref(resource, related),
            "request": request,
            "source": source,
        }
        self.tracking.save(Record(record_id, body))

    def apply_modification(self, job: Job, changes: Body, kind: ProcessKind) -> None:
        skip = {kind.ref_key, "modificationReason", "id", "href", "state"}
        for key, value in changes.items():
            if key not in skip:
                job.body[key] = value

    # -- shared helpers ----------------------------------------------------------

    def take_plan(self, resource: str) -> str | None:
        queue = self._plans.get(resource)
        return queue.popleft() if queue else None

    def new_record(self, resource: str, body: Body, origin: str, created_field: str | None) -> str:
        """Give a new resource its seller-set attributes; returns its id."""
        record_id = self._ctx.new_id()
        body["id"] = record_id
        body["href"] = self.href(f"{resource}/{record_id}", origin)
        if created_field is not None:
            body[created_field] = format_time(self.now())
        return record_id

    def _store(self, resource: str) -> Store[Any]:
        found = self._stores().get(resource)
        if found is None:
            raise ValueError(f"no resource {resource!r}; known: {', '.join(self._stores())}")
        return found

    def stores(self) -> list[Store[Any]]:
        return list(self._stores().values())

    def _stores(self) -> dict[str, Store[Any]]:
        found: dict[str, Store[Any]] = {self.job.resource: self.jobs, **self.process_stores}
        if self.profile is not None and self.profiles is not None:
            found[self.profile.resource] = self.profiles
        if self.tracking is not None:
            found["trackingRecord"] = self.tracking
        found.update(self.extra_stores())
        return found

    def extra_stores(self) -> dict[str, Store[Any]]:
        return {}

    def _job(self, job_id: str) -> Job | None:
        found = self.jobs.get(job_id)
        return found if isinstance(found, Job) else None

    # -- job lifecycle --------------------------------------------------------------

    def _create_job(self, request: Request, _: dict[str, str]) -> Response:
        body = request.json()
        self.validate_job(body)
        created = self.now()
        plan = self.plan(body, created)
        job_id = self.new_record(self.job.resource, body, request.base_url, self.job.created_field)
        body["state"] = "acknowledged"
        body[self.job.modified_field] = body[self.job.created_field]
        job = Job(job_id, body, plan=plan, origin=request.base_url)
        job.outcome = self.take_plan(self.job.resource)
        self.jobs.save(job)
        self.track(self.job.resource, body, f"POST {self.job.resource}", "created", "client")
        events = [self.event(f"{self.job.resource}CreateEvent", ref(body))]
        events += self._sync_profiles()
        self.publish(events)
        self._schedule(job)
        return json_response(201, job.json)

    def _schedule(self, job: Job, delay: float | None = None) -> None:
        generation = job.generation
        job_id = job.id
        wait = self._ctx.step_delay if delay is None else delay
        self._ctx.scheduler.call_later(wait, lambda: self._tick(job_id, generation))

    def _tick(self, job_id: str, generation: int) -> None:
        with self._lock:
            job = self._job(job_id)
            if job is None or job.generation != generation:
                return  # superseded by a suspension, a hold or `run_now`
            self.publish(self._step(job))

    def _step(self, job: Job) -> list[Body]:
        assert job.plan is not None
        state = job.state
        if state == "acknowledged":
            if job.outcome == "rejected":
                return self.move(job, "rejected", "The mock seller was told to reject this job")
            if job.plan.starts_later:
                return self.move(job, "scheduled")
            return self._start(job)
        if state == "scheduled":
            return self._start(job)
        if state == "inProgress":
            return self._run(job)
        return []

    def _start(self, job: Job) -> list[Body]:
        if job.outcome == "resourcesUnavailable":
            return self.move(
                job, "resourcesUnavailable", "The mock seller was told it has no resources"
            )
        return self.move(job, "inProgress")

    def _run(self, job: Job) -> list[Body]:
        assert job.plan is not None
        index = job.runs_done
        start = job.plan.start + index * job.plan.period
        events = self.produce(job, index, start, start + job.plan.period)
        job.runs_done += 1
        if job.runs_done >= job.plan.runs:
            events += self.move(job, "completed")
        elif job.plan.idle_between:
            events += self.move(job, "scheduled")
        else:
            self._schedule(job)
        return events

    def move(self, job: Job, new: str, error: str | None = None) -> list[Body]:
        """Change a job's state: store it, publish-ready events, and keep it ticking."""
        old = job.state
        job.generation += 1
        if new == old:
            return []
        job.body["state"] = new
        job.body[self.job.modified_field] = format_time(self.now())
        if error is not None:
            job.body["terminationError"] = [{"code": "otherIssue", "value": error}]
        self.on_job_moved(job, old, new)
        self.jobs.save(job)
        payload = {**ref(job.body), "state": new}
        events = [self.event(f"{self.job.resource}StateChangeEvent", payload)]
        if new in ACTIVE_STATES:
            self._schedule(job)
        if new in self.job.terminal:
            events += self._sync_profiles()
        return events

    def suspend(self, job: Job) -> list[Body]:
        if job.state not in self.job.suspendable:
            raise _unfit(self.job.label, job, "suspended", self.job.suspendable)
        job.resume_to = "scheduled" if job.state == "scheduled" else "inProgress"
        return self.move(job, "suspended")

    def resume(self, job: Job) -> list[Body]:
        if job.state != "suspended":
            raise _unfit(self.job.label, job, "resumed", frozenset({"suspended"}))
        return self.move(job, job.resume_to)

    def _direct(self, action: Literal["suspend", "resume"]) -> Callable[..., Response]:
        """PM/FM `POST /<job>/{id}/suspend|resume`: 204 now, then the state change event."""

        def handler(request: Request, params: dict[str, str]) -> Response:
            with self._lock:
                job = self.jobs.require(params["id"])
                assert isinstance(job, Job)
                events = self.suspend(job) if action == "suspend" else self.resume(job)
                self.track(self.job.resource, job.body, f"POST .../{action}", action, "client")
                self.publish(events)
            return Response(204)

        return handler

    # -- processes ------------------------------------------------------------------

    def _process_filters(self, kind: ProcessKind) -> Filters:
        states = frozenset({"acknowledged", "rejected", *kind.stages})
        return Filters(
            equals={
                f"{kind.ref_key}Id": field_at(kind.ref_key, kind.ref_id),
                "state": field_at("state"),
            },
            dates={kind.created_field: field_at(kind.created_field)},
            enums={"state": states},
        )

    def _process_creator(self, kind: ProcessKind) -> Callable[[Request, dict[str, str]], Response]:
        return lambda request, _: self._create_process(kind, request)

    def _create_process(self, kind: ProcessKind, request: Request) -> Response:
        body = request.json()
        check_body(kind.model, body)
        job_id = str(body[kind.ref_key][kind.ref_id])
        job = self._job(job_id)
        if job is None:
            path = f"/{kind.ref_key}/{kind.ref_id}"
            raise Unprocessable(
                [unprocessable("referenceNotFound", f"No {self.job.label} {job_id}", path)]
            )
        self.check_process(kind, job, body)
        if kind.action == "modify" and job.plan is not None:
            # A modification that leaves no valid schedule is refused now, not mid-run.
            trial = Job(job.id, json.loads(job.json), plan=job.plan)
            self.apply_modification(trial, body, kind)
            self.plan(trial.body, job.plan.start)
        store = self.process_stores[kind.resource]
        process_id = self.new_record(kind.resource, body, request.base_url, kind.created_field)
        body["state"] = "acknowledged"
        process = Process(process_id, body, job_id=job_id, outcome=self.take_plan(kind.resource))
        events: list[Body] = []
        if kind.hold_on_create and kind.hold is not None and job.state in kind.allowed:
            process.held_from = job.state
            events += self.move(job, kind.hold)
        store.save(process)
        self.track(self.job.resource, job.body, f"POST {kind.resource}", kind.action, "client")
        self.publish(events)
        self._schedule_process(kind, process)
        return json_response(201, process.json)

    def check_process(self, kind: ProcessKind, job: Job, body: Body) -> None:
        """Synchronous checks of a process request beyond its schema."""

    def _schedule_process(
        self, kind: ProcessKind, process: Process, delay: float | None = None
    ) -> None:
        process.generation += 1
        generation, process_id = process.generation, process.id
        wait = self._ctx.step_delay if delay is None else delay
        self._ctx.scheduler.call_later(
            wait, lambda: self._advance_process(kind, process_id, generation)
        )

    def _advance_process(self, kind: ProcessKind, process_id: str, generation: int) -> None:
        with self._lock:
            found = self.process_stores[kind.resource].get(process_id)
            if not isinstance(found, Process) or found.generation != generation:
                return
            job = self._job(found.job_id)
            self.publish(self._process_step(kind, found, job))

    def _process_step(self, kind: ProcessKind, process: Process, job: Job | None) -> list[Body]:
        events: list[Body] = []
        if process.stage == 0:
            reason = None
            if process.outcome == "rejected":
                reason = "The mock seller was told to reject this request"
            elif job is None:
                reason = f"The {self.job.label} no longer exists"
            elif process.held_from is None and job.state not in kind.allowed:
                allowed = ", ".join(sorted(kind.allowed))
                reason = f"The {self.job.label} is {job.state}; {kind.action} needs {allowed}"
            if reason is not None:
                events += self._process_moved(kind, process, "rejected", reason)
                if job is not None and process.held_from is not None:
                    events += self.move(job, process.held_from)
                return events
            assert job is not None
            if kind.hold is not None and process.held_from is None:
                process.held_from = job.state
                events += self.move(job, kind.hold)
        if job is None:
            return events
        new = kind.stages[process.stage]
        process.stage += 1
        events += self._process_moved(kind, process, new, None)
        if process.stage < len(kind.stages):
            self._schedule_process(kind, process)
            return events
        return events + self._effect(kind, process, job)

    def _process_moved(
        self, kind: ProcessKind, process: Process, new: str, reason: str | None
    ) -> list[Body]:
        process.body["state"] = new
        if reason is not None and kind.denied_field is not None:
            process.body[kind.denied_field] = reason
        self.process_stores[kind.resource].save(process)
        return [self.event(kind.event_type, {**ref(process.body), "state": new})]

    def _effect(self, kind: ProcessKind, process: Process, job: Job) -> list[Body]:
        if kind.action == "cancel":
            return self.move(job, "cancelled")
        if kind.action == "suspend":
            return self.suspend(job)
        if kind.action == "resume":
            return self.resume(job)
        self.apply_modification(job, process.body, kind)
        if job.plan is not None:
            runs_done = job.runs_done
            job.plan = self.plan(job.body, job.plan.start)
            job.runs_done = min(runs_done, job.plan.runs - 1)
        before = process.held_from or "scheduled"
        target = before
        if self.job.modify_resumes and before != "scheduled":
            target = "inProgress"
        events = self.move(job, target)
        if not events:
            self.jobs.save(job)
        events.append(self.event(f"{self.job.resource}AttributeValueChangeEvent", ref(job.body)))
        return events + self._sync_profiles()

    # -- profiles ---------------------------------------------------------------------

    def _profile_kind(self) -> tuple[ProfileKind, Store[Record]]:
        assert self.profile is not None and self.profiles is not None
        return self.profile, self.profiles

    def _sync_profiles(self) -> list[Body]:
        """Mark profiles assigned while a live job uses them; events for each change."""
        if self.profiles is None:
            return []
        used = {
            self.profile_id_of(job.body)
            for job in self.jobs.all()
            if job.state not in self.job.terminal
        }
        events: list[Body] = []
        for profile in self.profiles.all():
            if self.set_assigned(profile.body, profile.id in used):
                self.profiles.save(profile)
                events += self.profile_events(profile)
        return events

    def profile_assigned(self, profile_id: str) -> bool:
        return any(
            self.profile_id_of(job.body) == profile_id
            for job in self.jobs.all()
            if job.state not in self.job.terminal
        )

    def _list_profiles(self, request: Request, _: dict[str, str]) -> Response:
        store = self._profile_kind()[1]
        return store.list_response(request, self._ctx.max_page_size)

    def _retrieve_profile(self, _: Request, params: dict[str, str]) -> Response:
        store = self._profile_kind()[1]
        return json_response(200, store.require(params["id"]).json)

    def _create_profile(self, request: Request, _: dict[str, str]) -> Response:
        kind, store = self._profile_kind()
        body = request.json()
        check_body(kind.create_model, body)
        profile_id = self.new_record(kind.resource, body, request.base_url, kind.created_field)
        self.set_assigned(body, False)
        record = Record(profile_id, body)
        store.save(record)
        self.track(kind.resource, body, f"POST {kind.resource}", "created", "client")
        self.publish([self.event(f"{kind.resource}CreateEvent", ref(body))])
        return json_response(201, record.json)

    def _patch_profile(self, request: Request, params: dict[str, str]) -> Response:
        kind, store = self._profile_kind()
        record = store.require(params["id"])
        changes = request.json()
        check_body(kind.update_model, changes)
        fixed = sorted(kind.fixed & set(changes))
        if fixed:
            raise ApiError(400, "invalidBody", f"'{fixed[0]}' cannot be modified")
        if self.profile_assigned(record.id):
            raise ApiError(409, "conflict", f"The {kind.label} is in use by a job")
        record.body.update(changes)  # JSON merge patch at the top level
        record.body[kind.modified_field] = format_time(self.now())
        store.save(record)
        self.track(kind.resource, record.body, f"PATCH {kind.resource}", "modified", "client")
        self.publish([self.event(f"{kind.resource}AttributeValueChangeEvent", ref(record.body))])
        return json_response(200, record.json)

    def _delete_profile(self, _: Request, params: dict[str, str]) -> Response:
        kind, store = self._profile_kind()
        record = store.require(params["id"])
        if self.profile_assigned(record.id):
            raise Unprocessable(
                [unprocessable(kind.in_use_code, f"The {kind.label} is in use by a job", "/id")]
            )
        store.remove(record.id)
        self.track(kind.resource, record.body, f"DELETE {kind.resource}", "deleted", "client")
        self.publish([self.event(f"{kind.resource}DeleteEvent", ref(record.body))])
        return Response(204)


def ref(body: Body) -> Body:
    """`{id, href}` of a stored resource, as event payloads carry it."""
    return {"id": body["id"], "href": body.get("href")}


def typed_ref(resource: str, body: Body) -> Body:
    """A PM/FM `<Resource>Ref`: `{@type, <resource>Id, <resource>Href}`."""
    return {
        "@type": f"{resource[0].upper()}{resource[1:]}Ref",
        f"{resource}Id": body["id"],
        f"{resource}Href": body.get("href"),
    }


def _copy(record: Record) -> Body:
    value: Body = json.loads(record.json)
    return value


def _unfit(label: str, job: Job, verb: str, allowed: frozenset[str]) -> Unprocessable:
    needed = " or ".join(sorted(allowed))
    return Unprocessable(
        [
            unprocessable(
                "invalidValue", f"The {label} is {job.state}; only {needed} can be {verb}", "/"
            )
        ]
    )


class ReportingJobApi(JobApi):
    """PM and FM: jobs on a `scheduleDefinition` that yield a report per reporting period.

    A job without `recurringSchedule` runs once; a recurring one runs once per
    `reportingPeriod` from `scheduleDefinitionStartTime` (or its creation) until
    `scheduleDefinitionEndTime`, at most `max_periods` times. With an
    `executionDuration` the job waits `scheduled` between runs.
    """

    report: ClassVar[str]  # the report resource, e.g. `performanceReport`
    report_filters: ClassVar[Filters]
    monitored_as_list: ClassVar[bool] = False
    job_query_model: ClassVar[type[BaseModel]]  # `*JobComplexQuery_Create`
    report_query_model: ClassVar[type[BaseModel]]  # `*ReportComplexQuery_Create`

    def __init__(self, reference_point: str, context: SellerContext) -> None:
        super().__init__(reference_point, context)
        self.reports: Store[Record] = Store(self.report, self.report_filters, _report_summary)

    def extra_stores(self) -> dict[str, Store[Any]]:
        return {self.report: self.reports}

    def routes(self) -> list[Route]:
        job = self.job.resource
        return [
            Route("POST", f"{job}ComplexQuery", self._query(self.jobs, self.job_query_model)),
            Route(
                "POST",
                f"{self.report}ComplexQuery",
                self._query(self.reports, self.report_query_model),
            ),
            Route("POST", f"{job}/{{id}}/suspend", self._direct("suspend")),
            Route("POST", f"{job}/{{id}}/resume", self._direct("resume")),
            Route("GET", self.report, self.list_handler(self.reports)),
            Route("GET", f"{self.report}/{{id}}", self.retrieve_handler(self.reports)),
            *super().routes(),
        ]

    def job_settings(self, body: Body) -> Body:
        """Where `reportingPeriod`, `granularity`, ... of a job are (the body, or its profile)."""
        return body

    def plan(self, body: Body, created: datetime) -> RunPlan:
        settings = self.job_settings(body)
        period = time_duration(settings.get("reportingPeriod"), "/reportingPeriod")
        schedule = body.get("scheduleDefinition") or {}
        start = parse_datetime(str(schedule.get("scheduleDefinitionStartTime", ""))) or created
        end = parse_datetime(str(schedule.get("scheduleDefinitionEndTime", "")))
        if end is not None and end <= start:
            path = "/scheduleDefinition/scheduleDefinitionEndTime"
            raise Unprocessable([unprocessable("invalidValue", "the end precedes the start", path)])
        recurring = schedule.get("recurringSchedule") is not None
        runs = run_count(start, end, period, self.max_periods) if recurring else 1
        duration = schedule.get("executionDuration")
        idle = duration is not None and time_duration(duration, "/scheduleDefinition") < period
        return RunPlan(start, period, runs, start > self.now(), recurring and idle)

    def produce(self, job: Job, index: int, start: datetime, end: datetime) -> list[Body]:
        prefix = self.job.resource
        if job.outcome == "reportPreparationError" and index == 0:
            return [self.event(f"{prefix}ReportPreparationErrorEvent", ref(job.body))]
        settings = self.job_settings(job.body)
        monitored = job.body["monitoredObject"]
        report: Body = {
            "description": f"Report {index + 1} of {self.job.label} {job.id}",
            prefix: typed_ref(prefix, job.body),
            "granularity": settings["granularity"],
            "outputFormat": settings["outputFormat"],
            "resultFormat": settings["resultFormat"],
            "serviceSpecificConfiguration": settings["serviceSpecificConfiguration"],
            "monitoredObject": [monitored] if self.monitored_as_list else monitored,
            "reportingTimeframe": {
                "reportingStartDate": format_time(start),
                "reportingEndDate": format_time(end),
            },
        }
        report_id = self.new_record(self.report, report, job.origin, "creationDateTime")
        report["state"] = "completed"
        self.fill_report(report, f"{job.id}:{index}", start, end)
        self.reports.save(Record(report_id, report))
        self.track(self.report, report, f"{self.job.resource} run {index + 1}", "report", "server")
        ready = {**ref(job.body), "reportId": report_id, "reportHref": report["href"]}
        return [
            self.event(f"{self.report}CreateEvent", ref(report)),
            self.event(f"{prefix}ReportReadyEvent", ready),
        ]

    def fill_report(self, report: Body, seed: str, start: datetime, end: datetime) -> None:
        """Add the results: `reportContent` for `payload`, a `reportUrl` for `attachment`."""
        if report.get("resultFormat") == "attachment":
            retention = self.now() + timedelta(days=7)
            report["reportUrl"] = {
                "url": f"{report['href']}/content.{report.get('outputFormat', 'json')}",
                "retentionPeriod": format_time(retention),
            }
            return
        report["reportContent"] = self.report_content(report, seed, start, end)

    def report_content(self, report: Body, seed: str, start: datetime, end: datetime) -> Any:
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Body:
        """The measurements of one item of a report (without their `@type`) answering a
        configuration whose `@type` no shipped schema has (a seller's own)."""
        raise NotImplementedError

    def report_items(self, report: Body, seed: str, start: datetime, end: datetime) -> list[Body]:
        """`ReportContentItem`s whose measurement data answer the report's configuration
        (see `results`): a body of the result schema answering a shipped configuration,
        else a `sample`."""
        configuration = report["serviceSpecificConfiguration"]

        def data(rng: random.Random, begin: datetime, until: datetime) -> Body:
            return results(configuration, rng, begin, until, self.sample)

        return measurement_items(seed, start, end, report["granularity"], data)

    def apply_modification(self, job: Job, changes: Body, kind: ProcessKind) -> None:
        skip = {kind.ref_key, "id", "href", "state", "creationDateTime"}
        for key, value in changes.items():
            if key not in skip:
                job.body[key] = value

    def job_filters(self) -> Filters:
        return Filters(
            equals={
                "serviceId": field_at("monitoredObject", "serviceId"),
                "serviceFromId": field_at("monitoredObject", "serviceFrom", "serviceFromId"),
                "serviceToId": field_at("monitoredObject", "serviceTo", "serviceToId"),
                "entityId": field_at("monitoredObject", "entityId"),
                "state": field_at("state"),
                "jobType": lambda body: self.job_settings(body).get("jobType"),
                "jobPriority": lambda body: self.job_settings(body).get("jobPriority", 5),
            },
            dates={"creationDateTime": field_at("creationDateTime")},
            enums={"state": JOB_STATES},
        )


JOB_STATES = frozenset(
    {
        "acknowledged",
        "cancelled",
        "completed",
        "inProgress",
        "pending",
        "pendingCancel",
        "rejected",
        "resourcesUnavailable",
        "scheduled",
        "suspended",
    }
)
REPORT_STATES = frozenset({"acknowledged", "completed", "failed", "inProgress", "rejected"})


def reporting_job(resource: str, label: str) -> JobKind:
    """The job resource of PM and FM (`performanceJob`, `faultManagementJob`)."""
    return JobKind(
        resource=resource,
        label=label,
        created_field="creationDateTime",
        modified_field="lastTimeModified",
        terminal=frozenset({"completed", "cancelled", "rejected", "resourcesUnavailable"}),
        suspendable=frozenset({"inProgress"}),
        modify_resumes=True,
    )


def cancel_and_modify(
    job: str,
    cancel_model: type[BaseModel],
    modify_model: type[BaseModel],
) -> tuple[ProcessKind, ProcessKind]:
    """The cancel and modify tasks of a PM or FM job: `cancel<Job>`, `modify<Job>`.

    A job can be cancelled while it waits, runs or is suspended, and modified while
    it waits or is suspended.
    """
    name = f"{job[0].upper()}{job[1:]}"

    def task(
        action: Literal["cancel", "modify"],
        model: type[BaseModel],
        allowed: frozenset[str],
        hold: str,
    ) -> ProcessKind:
        return ProcessKind(
            action=action,
            resource=f"{action}{name}",
            model=model,
            ref_key=job,
            ref_id=f"{job}Id",
            allowed=allowed,
            hold=hold,
            stages=("inProgress", "completed"),
        )

    return (
        task(
            "cancel",
            cancel_model,
            frozenset({"scheduled", "inProgress", "suspended"}),
            "pendingCancel",
        ),
        task("modify", modify_model, frozenset({"scheduled", "suspended"}), "pending"),
    )


def report_filters(job_ref: str) -> Filters:
    """The list filters PM and FM reports share; `job_ref` is the job property."""
    return Filters(
        equals={
            f"{job_ref}Id": field_at(job_ref, f"{job_ref}Id"),
            "serviceId": field_at("monitoredObject", "serviceId"),
            "serviceFromId": field_at("monitoredObject", "serviceFrom", "serviceFromId"),
            "serviceToId": field_at("monitoredObject", "serviceTo", "serviceToId"),
            "entityId": field_at("monitoredObject", "entityId"),
            "state": field_at("state"),
            "outputFormat": field_at("outputFormat"),
            "resultFormat": field_at("resultFormat"),
        },
        dates={
            "creationDateTime": field_at("creationDateTime"),
            "reportingTimeframe.startDate": field_at("reportingTimeframe", "reportingStartDate"),
            "reportingTimeframe.endDate": field_at("reportingTimeframe", "reportingEndDate"),
        },
        enums={"state": REPORT_STATES},
    )


def tracking_filters(*resources: str) -> Filters:
    """`related<Resource>Id` for each resource, and `creationDateTime`."""
    return Filters(
        equals={
            f"related{r[0].upper()}{r[1:]}Id": field_at("relatedObjectId", f"{r}Id")
            for r in resources
        },
        dates={"creationDateTime": field_at("creationDateTime")},
    )


def _report_summary(body: Body) -> Body:
    # `*Report_Find`, as lists return it: without the results.
    return {k: v for k, v in body.items() if k not in ("reportContent", "reportUrl")}
