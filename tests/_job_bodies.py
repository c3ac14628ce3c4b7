"""Request bodies of jobs the mock seller accepts, shared by the CLI and progress tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


def _duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def pm_profile_body(**extra: Any) -> dict[str, Any]:
    """A `PerformanceProfile_Create`: 15-minute reports of 5-minute bins."""
    return {
        "description": "15-minute delay and loss",
        "granularity": _duration(5, "MIN"),
        "jobType": "proactive",
        "lifecycleStatus": "approved",
        "outputFormat": "json",
        "reportingPeriod": _duration(15, "MIN"),
        "resultFormat": "payload",
        "serviceSpecificConfiguration": {"@type": "urn:mef:lso:spec:allegro:ce-pm:v1.0.0:all"},
        **extra,
    }


def pm_job_body(*, later: bool = False, periods: int = 2) -> dict[str, Any]:
    """A recurring `PerformanceJob_Create` with its profile by value: `periods` reports
    from a minute ago, or (`later`) from tomorrow with no end (the mock seller then runs
    it for its `max_periods`)."""
    start = datetime.now(timezone.utc) + (timedelta(days=1) if later else timedelta(minutes=-1))
    schedule: dict[str, Any] = {
        "scheduleDefinitionStartTime": start.isoformat(),
        "recurringSchedule": {"minute": "*/15"},
    }
    if not later:
        end = start + timedelta(minutes=15 * periods)
        schedule["scheduleDefinitionEndTime"] = end.isoformat()
    value = {"@type": "PerformanceProfileValue", **pm_profile_body()}
    del value["description"], value["lifecycleStatus"]
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": "evc-1"},
        "performanceProfile": value,
        "scheduleDefinition": schedule,
    }


def fm_job_body(**extra: Any) -> dict[str, Any]:
    """A recurring `FaultManagementJob_Create`: hourly reports of one connection."""
    return {
        "granularity": _duration(15, "MIN"),
        "jobType": "proactive",
        "monitoredObject": {
            "@type": "ServiceFromToRef",
            "serviceFrom": {"serviceFromId": "uni-1"},
            "serviceTo": {"serviceToId": "uni-2"},
        },
        "outputFormat": "json",
        "reportingPeriod": _duration(1, "HOUR"),
        "resultFormat": "payload",
        "scheduleDefinition": {"recurringSchedule": {"hour": "*"}},
        "serviceSpecificConfiguration": {"@type": "urn:mef:lso:spec:allegro:ce-fm:v1.0.0:all"},
        **extra,
    }
