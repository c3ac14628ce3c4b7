"""Service function testing end to end: a test profile, a recurring test job, its results.

Starts a mock seller and a notification listener on loopback and subscribes the
listener to the Service Function Testing (v3) hub at Interlude. Creates a test
profile (a round-trip delay test), runs an hourly test job that uses it with
`create_and_wait`, then collects its results with `wait_for_job`. The profile is
`assigned` while the job runs and `available` again afterwards. The test is TWAMP:
the profile and the job carry typed `TwampConfiguration` payloads (how to send the
test packets, then between which addresses) and each result is read back as a
`TwampReport`. Events are printed as they arrive.
Run with `python examples/service_function_testing.py`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from ipaddress import IPv4Address
from typing import Any

from lso_client import InterludeClient, Notification, NotificationListener
from lso_client.testing import MockSeller
from lso_client.types.payloads.allegro.ip import (
    TimeDuration,
    TimeDurationUnits,
    TwampConfiguration,
    TwampControlClient,
    TwampReport,
    TwampSessionSender,
)

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


SERVICE_SPEC = "carrier-ethernet-access-eline"
RUNS = 3
# The test's two ends, in the documentation range: the mock seller sends nothing to them.
SENDER, REFLECTOR = IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2")


def profile_configuration() -> TwampConfiguration:
    """How to test: 100 expedited-forwarding packets, one every 10 s (the interval is in ms)."""
    return TwampConfiguration(
        session_sender=TwampSessionSender(number_of_packets=100, interval=10_000, dscp_value=46)
    )


def job_configuration() -> TwampConfiguration:
    """Where to test: the TWAMP server and the reflector at the far end."""
    return TwampConfiguration(
        control_client=TwampControlClient(
            server_ipv4_address=[REFLECTOR], client_ipv4_address=[SENDER]
        ),
        session_sender=TwampSessionSender(
            session_name="uni-1001-to-uni-2002",
            reflector_ipv4_address=[REFLECTOR],
            sender_ipv4_address=[SENDER],
        ),
    )


def ms(duration: TimeDuration | None) -> float:
    """A measured duration in milliseconds."""
    assert duration is not None and duration.time_duration_value is not None
    per_ms = {TimeDurationUnits.ns: 1e6, TimeDurationUnits.us: 1e3, TimeDurationUnits.ms: 1.0}
    assert duration.time_duration_units in per_ms
    return duration.time_duration_value / per_ms[duration.time_duration_units]


def profile_body() -> dict[str, Any]:
    """A `TestProfile_Create`: what the seller measures, for one service specification."""
    return {
        "name": "Round-trip delay",
        "description": "TWAMP delay measurement between the two ends of an E-Line",
        "isBundled": False,
        "lifecycleStatus": "approved",
        "validFor": (datetime.now(timezone.utc) + timedelta(days=365)).isoformat(),
        "relatedServiceSpecification": {"id": SERVICE_SPEC},
        "relatedContact": [
            {"name": "Network Operations", "emailAddress": "noc@buyer.example", "role": "tester"}
        ],
        "serviceSpecificTestProfileConfiguration": profile_configuration(),
    }


def job_body(profile_id: str) -> dict[str, Any]:
    """A `TestJob_Common`: the profile's test between two UNIs, hourly for three hours."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return {
        "name": "E-Line acceptance",
        "description": "Hourly delay test after turn-up",
        "requestedStartDateTime": now.isoformat(),
        "requestedEndDateTime": (now + timedelta(hours=RUNS)).isoformat(),
        "recurrencePeriod": {"amount": 1, "units": "calendarHours"},
        "testProfile": {"@type": "TestProfileRef", "id": profile_id},
        "relatedServiceFrom": {"id": "UNI-1001"},
        "relatedServiceTo": {"id": "UNI-2002"},
        "serviceSpecificTestJobConfiguration": job_configuration(),
    }


def main() -> None:
    with (
        MockSeller(step_delay=0.1) as seller,
        NotificationListener(reference_point="interlude") as listener,
        InterludeClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")

        @listener.on()
        def show(notification: Notification) -> None:
            event = notification.event
            state = getattr(event, "state", None) or getattr(event, "lifecycle_state", None)
            say(
                f"  <- {notification.event_type:37} {event.id}" + (f" now {state}" if state else "")
            )

        events = [
            "testProfileCreateEvent",
            "testProfileLifecycleStateChangeEvent",
            "testJobCreateEvent",
            "testJobStateChangeEvent",
            "testResultCreateEvent",
        ]
        with client.hubs.service_function_testing.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: SFT hub {sub.id}")
            profile = client.test_profiles.create(profile_body())
            say(f"-> profile {profile.id} {profile.name!r} ({profile.lifecycle_state})")

            job = client.test_jobs.create_and_wait(job_body(profile.id), wait_timeout=30)
            say(
                f"job {job.id} is {job.state} (requested {job.requested_start_date_time:%H:%M}"
                f" to {job.requested_end_date_time:%H:%M}, hourly)"
            )
            results = client.test_results.wait_for_job(job.id, count=RUNS, timeout=30)
            seller.wait_idle()
            listener.join(timeout=5)  # let the handlers print the last events first

        say(f"{len(results)} results of job {job.id}:")
        for found in results:
            result = client.test_results.retrieve(found.id)  # lists omit the measurements
            report = result.service_specific_test_result_configuration
            assert isinstance(report, TwampReport)  # typed on reading
            say(
                f"  result {result.id} at {result.actual_start_date_time:%H:%M}:"
                f" {type(report).__name__}, round trip {ms(report.average_round_trip_delay):.3f} ms"
                f" (max {ms(report.maximum_round_trip_delay):.3f}),"
                f" jitter {ms(report.round_trip_jitter):.3f} ms,"
                f" {report.count_of_lost_packets} lost"
            )
        profile = client.test_profiles.retrieve(profile.id)
        say(f"profile {profile.id} is {profile.lifecycle_state} again")
        jobs = client.test_jobs.list(test_profile_id=profile.id)
        say(f"jobs with profile {profile.id}: {[(j.id, j.name) for j in jobs]}")
        from_uni = client.test_results.list(related_service_id_from="UNI-1001")
        say(f"results from UNI-1001: {len(from_uni.items)}")


if __name__ == "__main__":
    main()
