"""Performance monitoring end to end: profile, job, reports, suspend/resume, cancel.

Starts a mock seller and a notification listener on loopback and subscribes the
listener to the Performance Monitoring (v5) hub at Legato. Creates a performance
profile, then a recurring job that uses it and waits for its reports; a second
job is suspended, resumed and cancelled (the cancel request is a task resource
with its own states); finally an on-demand report is collected with
`create_and_wait`. What is measured is a typed payload, the Carrier Ethernet PM
configuration (`CarrierEthernetPerformanceMonitoringConfiguration`: interface
counters and utilization); the reports' measurements are read back as
`CarrierEthernetPerformanceMonitoringResults`. Events are printed as they arrive.

At Interlude and Legato the PM v2-RC API is there too, as
`client.performance_monitoring_v2`; this mock seller serves PM v5 only.
Run with `python examples/performance_monitoring.py`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from lso_client import LegatoClient, Notification, NotificationListener
from lso_client.testing import MockSeller
from lso_client.types.payloads.legato.carrier_ethernet import (
    CarrierEthernetPerformanceMonitoringConfiguration,
    CarrierEthernetPerformanceMonitoringResults,
)

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


SERVICE_ID = "evc-0042"


def pm_configuration_payload() -> CarrierEthernetPerformanceMonitoringConfiguration:
    """What the seller measures: one interface's IPv4 frames and its utilization."""
    return CarrierEthernetPerformanceMonitoringConfiguration(
        interface="ge-0/0/12",
        rx_ipv4=True,
        utilization_in=True,
        utilization_out=True,
        peak_utilization_in=True,
        peak_utilization_out=True,
    )


def duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def profile_body() -> dict[str, Any]:
    """A `PerformanceProfile_Create`: 15-minute reports of 5-minute bins."""
    return {
        "description": "Utilization, 15-minute reports",
        "jobType": "proactive",
        "jobPriority": 3,
        "lifecycleStatus": "approved",
        "granularity": duration(5, "MIN"),
        "reportingPeriod": duration(15, "MIN"),
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": pm_configuration_payload(),
    }


def job_body(profile_id: str, *, periods: int | None = None) -> dict[str, Any]:
    """A recurring `PerformanceJob_Create` on one service, using a profile by reference.

    With `periods`, the schedule ends after that many 15-minute reporting periods.
    """
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    schedule: dict[str, Any] = {
        "scheduleDefinitionStartTime": start.isoformat(),
        "recurringSchedule": {"minute": "*/15"},
    }
    if periods is not None:
        end = start + timedelta(minutes=15 * periods)
        schedule["scheduleDefinitionEndTime"] = end.isoformat()
    return {
        "description": f"PM of {SERVICE_ID}",
        "buyerJobId": f"pm-{SERVICE_ID}",
        "monitoredObject": {"@type": "ServiceRef", "serviceId": SERVICE_ID},
        "performanceProfile": {
            "@type": "PerformanceProfileRef",
            "performanceProfileId": profile_id,
        },
        "scheduleDefinition": schedule,
    }


def report_body() -> dict[str, Any]:
    """A `PerformanceReport_Create`: collect the last hour of one service, now."""
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return {
        "description": f"On-demand check of {SERVICE_ID}",
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": SERVICE_ID}],
        "reportingTimeframe": {
            "reportingStartDate": (end - timedelta(hours=1)).isoformat(),
            "reportingEndDate": end.isoformat(),
        },
        "granularity": duration(15, "MIN"),
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": pm_configuration_payload(),
    }


def main() -> None:
    with (
        MockSeller(step_delay=0.1) as seller,
        NotificationListener(reference_point="legato") as listener,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")
        v2 = client.api_base_url("performance_monitoring_v2")
        say(f"PM v2-RC: client.performance_monitoring_v2 at {v2} (this mock seller serves v5)")

        @listener.on()
        def show(notification: Notification) -> None:
            event = notification.event
            state = getattr(event, "state", None)
            report = getattr(event, "report_id", None)
            say(
                f"  <- {notification.event_type:44} {event.id}"
                + (f" now {state}" if state else "")
                + (f" report {report}" if report else "")
            )

        events = [
            "performanceProfileCreateEvent",
            "performanceProfileAttributeValueChangeEvent",
            "performanceJobCreateEvent",
            "performanceJobStateChangeEvent",
            "performanceJobReportReadyEvent",
            "cancelPerformanceJobStateChangeEvent",
            "performanceReportStateChangeEvent",
        ]
        with client.hubs.performance_monitoring.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: PM hub {sub.id}")

            profile = client.performance_profiles.create(profile_body())
            say(f"-> profile {profile.id} ({profile.lifecycle_status}, jobType {profile.job_type})")
            profile = client.performance_profiles.update(
                profile.id, {"description": "Utilization and IPv4 frames"}
            )
            say(f"-> profile {profile.id} updated: {profile.description!r}")

            # Three 15-minute periods, one report each (the mock seller's time runs fast).
            job = client.performance_jobs.create(job_body(profile.id, periods=3))
            say(f"-> job {job.id} ({job.state})")
            reports = client.performance_reports.wait_for_job(job.id, count=3, timeout=30)
            job = client.performance_jobs.wait(job.id, timeout=30)
            say(f"job {job.id} is {job.state}; {len(reports)} reports:")
            for found in reports:
                frame = found.reporting_timeframe
                full = client.performance_reports.retrieve(found.id)  # lists omit the results
                items = [i for c in full.report_content or [] for i in c.report_content_item]
                say(
                    f"  report {found.id}: {found.state}, "
                    f"{frame.reporting_start_date:%H:%M}-{frame.reporting_end_date:%H:%M}, "
                    f"{len(items)} measurement intervals"
                )

            # A job without an end: suspend, resume, then cancel it. The mock seller ends
            # such a job after `max_periods` reports; raise that so it is still running.
            seller.api("performance_monitoring", "legato").max_periods = 50
            job = client.performance_jobs.create(job_body(profile.id))
            job = client.performance_jobs.wait(job.id, until=["inProgress"], timeout=30)
            say(f"-> job {job.id} is {job.state}")
            client.performance_jobs.suspend(job.id)
            say(f"-> suspended: job is {client.performance_jobs.retrieve(job.id).state}")
            client.performance_jobs.resume(job.id)
            say(f"-> resumed: job is {client.performance_jobs.retrieve(job.id).state}")
            cancel = client.performance_jobs.cancel(
                {"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job.id}}
            )
            say(f"-> cancel request {cancel.id} ({cancel.state})")
            cancel = client.cancel_performance_jobs.wait(cancel.id, timeout=30)
            job = client.performance_jobs.wait(job.id, timeout=30)
            say(f"cancel request {cancel.id} is {cancel.state}; job {job.id} is {job.state}")

            report = client.performance_reports.create_and_wait(report_body(), wait_timeout=30)
            say(f"on-demand report {report.id} is {report.state}:")
            for content in report.report_content or []:
                for item in content.report_content_item:
                    time = item.measurement_time
                    data = item.measurement_data[0]
                    assert isinstance(data, CarrierEthernetPerformanceMonitoringResults)
                    say(
                        f"  {time.measurement_start_date:%H:%M}-{time.measurement_end_date:%H:%M}"
                        f" {type(data).__name__}: {data.rx_ipv4} IPv4 frames in,"
                        f" utilization in {data.utilization_in}%"
                        f" (peak {data.peak_utilization_in}%), out {data.utilization_out}%"
                    )
            seller.wait_idle()
            listener.join(timeout=5)

        jobs = client.performance_jobs.list(performance_profile_id=profile.id)
        say(f"jobs using profile {profile.id}: {[str(j.state) for j in jobs]}")


if __name__ == "__main__":
    main()
