"""Fault management end to end: a job between two UNIs and the reports it yields.

Starts a mock seller and a notification listener on loopback and subscribes the
listener to the Fault Management (v3) hub at Allegro. Creates a recurring job
that reports hourly on the service between two UNIs, counting the IP packet
errors of one interface and VLAN: its service-specific configuration is a typed
payload, `IpFaultManagementConfiguration`. Waits for the job to complete and for
its reports, reads each report's measurements back as `IpFaultManagementResults`
and prints what they found, then shows the seller's tracking records. Events are
printed as they arrive. Run with `python examples/fault_management.py`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from lso_client import AllegroClient, Notification, NotificationListener
from lso_client.testing import MockSeller
from lso_client.types.payloads.allegro.ip import (
    Entity,
    Interface,
    IpFaultManagementConfiguration,
    IpFaultManagementResults,
)

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


PERIODS = 2
INTERFACE, VLAN = "ge-0/0/7", 120


def fm_configuration_payload() -> IpFaultManagementConfiguration:
    """What the seller counts: the IP packet errors of one interface, on one VLAN."""
    return IpFaultManagementConfiguration(
        entity=Entity(entity_type=Interface(interface=INTERFACE)),
        vlan=VLAN,
    )


def duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def job_body() -> dict[str, Any]:
    """A `FaultManagementJob_Create`: hourly reports of 15-minute bins, for two hours."""
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return {
        "description": "IP packet errors between UNI-1001 and UNI-2002",
        "jobType": "proactive",
        "jobPriority": 2,
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
            "scheduleDefinitionEndTime": (start + timedelta(hours=PERIODS)).isoformat(),
            "recurringSchedule": {"minute": "0", "hour": "*"},
        },
        "serviceSpecificConfiguration": fm_configuration_payload(),
    }


def main() -> None:
    with (
        MockSeller(step_delay=0.1) as seller,
        NotificationListener(reference_point="allegro") as listener,
        AllegroClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")

        @listener.on()
        def show(notification: Notification) -> None:
            event = notification.event
            state = getattr(event, "state", None)
            report = getattr(event, "report_id", None)
            say(
                f"  <- {notification.event_type:40} {event.id}"
                + (f" now {state}" if state else "")
                + (f" report {report}" if report else "")
            )

        events = [
            "faultManagementJobCreateEvent",
            "faultManagementJobStateChangeEvent",
            "faultManagementJobReportReadyEvent",
        ]
        with client.hubs.fault_management.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: FM hub {sub.id}")
            job = client.fault_management_jobs.create(job_body())
            say(f"-> job {job.id} ({job.state})")
            reports = client.fault_management_reports.wait_for_job(
                job.id, count=PERIODS, timeout=30
            )
            job = client.fault_management_jobs.wait(job.id, timeout=30)
            seller.wait_idle()
            listener.join(timeout=5)  # let the handlers print the last events first
            say(f"job {job.id} is {job.state}; {len(reports)} reports")

        for found in reports:
            report = client.fault_management_reports.retrieve(found.id)  # lists omit results
            frame = report.reporting_timeframe
            say(
                f"report {report.id} ({report.state}), "
                f"{frame.reporting_start_date:%H:%M}-{frame.reporting_end_date:%H:%M}:"
            )
            for item in report.report_content or []:
                time = item.measurement_time
                data = item.measurement_data[0]
                assert isinstance(data, IpFaultManagementResults)  # typed on reading
                say(
                    f"  {time.measurement_start_date:%H:%M}-{time.measurement_end_date:%H:%M}"
                    f" {type(data).__name__} {data.interface} VLAN {data.vlan}:"
                    f" {data.in_header_errors} header errors,"
                    f" {data.out_discards} discards,"
                    f" {data.reassemblies_failed} failed reassemblies"
                )

        completed = client.fault_management_reports.list(
            fault_management_job_id=job.id, state="completed"
        )
        say(f"completed reports of job {job.id}: {len(completed.items)}")
        by_uni = client.fault_management_jobs.list(service_from_id="UNI-1001")
        say(f"jobs from UNI-1001: {[j.id for j in by_uni]}")
        say("tracking records:")
        for record in client.fault_management_tracking_records.list():
            say(f"  {record.creation_date_time:%H:%M:%S} {record.source}: {record.request}")


if __name__ == "__main__":
    main()
