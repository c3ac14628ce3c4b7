"""Every script in `examples/` runs to completion and prints the flow it is about.

The scripts run as subprocesses, all at once, each against its own embedded mock
seller. Each must exit 0 with nothing on stderr (a failing notification handler or a
spec deviation is logged there without changing the exit code), and print the lines
that show its flow went through: a broken step changes or drops them. The PM, FM and
SFT scripts print the class of the typed results they read back and values from it.

No example names an `urn:mef:` URN the SDK ships no model for, in its source or in
what it prints: such a URN looks official but matches no published schema.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lso_client.payloads import model_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 45.0  # for all scripts together; each takes a few seconds

ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
HHMM = r"\d\d:\d\d"


@dataclass(frozen=True)
class Lines:
    """`pattern` (a regex matched against whole lines) occurs `least` to `most` times."""

    pattern: str
    least: int = 1
    most: int | None = 1


def some(pattern: str, least: int = 1) -> Lines:
    return Lines(pattern, least, None)


def times(pattern: str, count: int) -> Lines:
    return Lines(pattern, count, count)


EXPECTED: dict[str, list[Lines]] = {
    "demo.py": [
        Lines(rf"-> created order {ID} \(acknowledged\) with 2 items"),
        Lines(rf"  <- serviceOrderStateChangeEvent +order {ID} now completed"),
        times(rf"  <- serviceOrderItemStateChangeEvent +order {ID} item \d now completed", 2),
        Lines(rf"order {ID} is completed; services:"),
        times(rf"  item \d: completed, service {ID}", 2),
        Lines(r"  page 3: 4 orders \(offset 20, total 24\), states \['completed'\]"),
    ],
    "order_carrier_ethernet.py": [
        Lines(
            r"built: CarrierEthernetEvc EVC-LON-MAN-01, POINT_TO_POINT, 1522-byte frames,"
            r" frame delay at most 10 MS at the 99\.9th percentile"
        ),
        Lines(rf"-> order {ID} \(acknowledged\)"),
        Lines(rf"order {ID} is completed"),
        Lines(
            r"read back: CarrierEthernetEvc EVC-LON-MAN-01, POINT_TO_POINT, 1522-byte frames,"
            r" frame delay at most 10 MS at the 99\.9th percentile"
        ),
        Lines(r"same payload as sent: True"),
        Lines(r"refused before sending: .*serviceConfiguration\.maximumFrameSize: .*integer.*"),
    ],
    "order_ip.py": [
        Lines(
            r"an incomplete IPVC is not built: missing \['dscpPreservation', 'fragmentation',"
            r" 'ipvcTopology', 'listOfClassOfServiceNames', 'maximumTransferUnit',"
            r" 'packetDelivery', 'reservedPrefixes'\]"
        ),
        Lines(
            r"built: Ipvc IPVC-HQ-BRANCHES, MULTIPOINT, MTU 1500, classes \['real-time',"
            r" 'business', 'best-effort'\], real-time mean delay 5\.0 ms, uptime 99\.95%"
        ),
        Lines(rf"-> order {ID} \(acknowledged\)"),
        Lines(rf"order {ID} is completed"),
        Lines(r"read back: Ipvc IPVC-HQ-BRANCHES, MULTIPOINT, MTU 1500, .* uptime 99\.95%"),
        Lines(r"same payload as sent: True"),
    ],
    "order_sd_wan.py": [
        Lines(
            r"built: SwVc SWVC-ACME-01, zones \['corporate'\], topologies \['full-mesh'\],"
            r" policies \['business-critical'\], application flows \['erp',"
            r" 'video-conferencing'\]"
        ),
        Lines(rf"-> order {ID} \(acknowledged\)"),
        Lines(rf"order {ID} is completed"),
        Lines(r"read back: SwVc SWVC-ACME-01, zones \['corporate'\], .*"),
        Lines(r"same payload as sent: True"),
    ],
    "service_inventory.py": [
        times(rf"  <- serviceCreateEvent +service {ID}", 2),
        Lines(rf"order {ID} is completed"),
        Lines(rf"services of order {ID}: 2"),
        times(
            rf"  service {ID}: active, externalId SVC-000000-\d, POINT_TO_POINT,"
            r" frames up to \d+ bytes",
            2,
        ),
        Lines(rf"  <- serviceStateChangeEvent +service {ID} now inactive"),
        Lines(rf"service {ID} is now inactive"),
        Lines(r"  all: 9"),
        Lines(r"  state=active: 6"),
        Lines(r"  state=terminated: 2"),
        Lines(rf"  order {ID} and state=active: 1"),
        Lines(r"  geographicSite.id=site-0: 2"),
        Lines(rf"  externalId=SVC-000000-2: \['{ID}'\]"),
    ],
    "service_catalog.py": [
        Lines(r"  carrier-ethernet-access-eline +'Access E-Line' +v1\.0\.0 ACTIVE .*"),
        Lines(r"  internet-access +'Internet Access' +v2\.1\.0 LAUNCHED .*"),
        Lines(r"lifecycleStatus=ACTIVE: \['carrier-ethernet-access-eline'\]"),
        Lines(r"category=IP: \['internet-access'\]"),
        Lines(r"  each with only \['@type', 'href', 'id', 'name', 'version'\]"),
        Lines(r"  characteristic bandwidth: 10-10000 Mbps"),
        Lines(
            r"internet-access, two fields: LAUNCHED, \['reliesOn carrier-ethernet-access-eline'\]"
        ),
        Lines(r"  <- serviceSpecificationCreateNotification +sd-wan-service IN_TEST"),
        Lines(r"  <- serviceSpecificationChangeNotification +sd-wan-service LAUNCHED"),
        Lines(r"lifecycleStatus=LAUNCHED: \['internet-access', 'sd-wan-service'\]"),
    ],
    "performance_monitoring.py": [
        Lines(
            r"PM v2-RC: client.performance_monitoring_v2 at .*/legato/performanceMonitoring/v2/.*"
        ),
        Lines(rf"-> profile {ID} updated: 'Utilization and IPv4 frames'"),
        Lines(rf"job {ID} is completed; 3 reports:"),
        times(rf"  report {ID}: completed, {HHMM}-{HHMM}, 3 measurement intervals", 3),
        some(rf"  <- performanceJobReportReadyEvent +{ID} report {ID}", 3),
        Lines(rf"-> job {ID} is inProgress"),
        Lines(r"-> suspended: job is suspended"),
        Lines(r"-> resumed: job is inProgress"),
        Lines(rf"  <- performanceJobStateChangeEvent +{ID} now suspended"),
        Lines(rf"  <- performanceJobStateChangeEvent +{ID} now pendingCancel"),
        Lines(rf"  <- cancelPerformanceJobStateChangeEvent +{ID} now completed"),
        Lines(rf"cancel request {ID} is completed; job {ID} is cancelled"),
        Lines(rf"  <- performanceReportStateChangeEvent +{ID} now completed"),
        Lines(rf"on-demand report {ID} is completed:"),
        times(
            rf"  {HHMM}-{HHMM} CarrierEthernetPerformanceMonitoringResults: \d+ IPv4 frames in,"
            r" utilization in [\d.]+% \(peak [\d.]+%\), out [\d.]+%",
            4,
        ),
        Lines(rf"jobs using profile {ID}: \['completed', 'cancelled'\]"),
    ],
    "pm_stream_consume.py": [
        Lines(r"mock seller at http://127\.0\.0\.1:\d+, Kafka broker at 127\.0\.0\.1:\d+"),
        Lines(rf"-> subscriptions {ID} and {ID} over kafka"),
        Lines(rf"performance job {ID} is completed"),
        times(
            r"  <- CePerformanceStatistics evc-0042: frame delay [\d.]+ ms,"
            r" frame loss ratio [\d.e-]+",
            6,
        ),
        Lines(r"consumed 6 statistics messages"),
        times(
            rf"  <- CeFrameDelay evc-0042 from {HHMM}: \d+ IPv4 frames in,"
            r" utilization in [\d.]+%",
            6,
        ),
        Lines(r"consumed 6 report messages"),
        Lines(rf"-> unsubscribed {ID} and {ID}"),
    ],
    "pm_streaming.py": [
        times(r"  [a-z-]+ +[A-Za-z-]+ +over [a-z, -]+", 5),
        Lines(r"category IP: \['ip-performance-statistics'\]"),
        Lines(rf"-> subscription {ID} to ce-performance-statistics over kafka:"),
        Lines(r"    server kafka-prod: broker\.seller\.example:9093 \(kafka-secure\)"),
        Lines(rf"    kafka binding: .*'topic': 'allegro\.ce-performance-statistics\.{ID}'.*"),
        Lines(rf"-> subscription {ID} to ip-performance-statistics over web-socket:"),
        Lines(
            r"subscriptions: \[\('ce-performance-statistics', 'kafka', 'high'\), "
            r"\('ip-performance-statistics', 'web-socket', 'medium'\)\]"
        ),
        Lines(rf"-> unsubscribed {ID}"),
        Lines(r"retrieving it now: 404 not found"),
        Lines(r"subscriptions left: \['ip-performance-statistics'\]"),
    ],
    "fault_management.py": [
        Lines(rf"  <- faultManagementJobStateChangeEvent +{ID} now inProgress"),
        times(rf"  <- faultManagementJobReportReadyEvent +{ID} report {ID}", 2),
        Lines(rf"  <- faultManagementJobStateChangeEvent +{ID} now completed"),
        Lines(rf"job {ID} is completed; 2 reports"),
        times(rf"report {ID} \(completed\), {HHMM}-{HHMM}:", 2),
        times(
            rf"  {HHMM}-{HHMM} IpFaultManagementResults ge-0/0/7 VLAN 120: \d+ header errors,"
            r" \d+ discards, \d+ failed reassemblies",
            8,
        ),
        Lines(rf"completed reports of job {ID}: 2"),
        Lines(rf"jobs from UNI-1001: \['{ID}'\]"),
        times(rf"  {HHMM}:\d\d server: faultManagementJob run \d", 2),
    ],
    "alarms.py": [
        times(rf"  <- alarmCreateEvent +alarm {ID}: unAcknowledged, (major|critical|minor)", 3),
        Lines(rf"unacknowledged critical alarms: \['{ID}'\]"),
        Lines(rf"  <- alarmAttributeValueChangeEvent +alarm {ID}: unAcknowledged, critical"),
        Lines(rf"alarm {ID} comments: \['Fibre cut reported by the field team'\]"),
        Lines(rf"  <- alarmStateChangeEvent +alarm {ID}: acknowledged, critical"),
        Lines(rf"  <- alarmStateChangeEvent +alarm {ID}: cleared, cleared"),
        Lines(rf"alarm {ID} cleared at .*, payload urn:mef:lso:spec:service:tca-stateful-clear-.*"),
        Lines(rf"  <- alarmDeleteEvent +alarm {ID}: unAcknowledged, minor"),
        Lines(rf"  all: \[\('{ID}', 'cleared'\), \('{ID}', 'acknowledged'\)\]"),
        Lines(rf"  state=acknowledged: \['{ID}'\]"),
        Lines(rf"  affectedService evc-0042, service affecting: \['{ID}', '{ID}'\]"),
        Lines(rf"  cleared since .*: \['{ID}'\]"),
    ],
    "service_function_testing.py": [
        Lines(rf"-> profile {ID} 'Round-trip delay' \(available\)"),
        Lines(rf"  <- testProfileLifecycleStateChangeEvent +{ID} now assigned"),
        times(rf"  <- testResultCreateEvent +{ID}", 3),
        Lines(rf"  <- testJobStateChangeEvent +{ID} now completed"),
        Lines(rf"job {ID} is completed \(requested .*\)"),
        Lines(rf"  <- testProfileLifecycleStateChangeEvent +{ID} now available"),
        Lines(rf"3 results of job {ID}:"),
        times(
            rf"  result {ID} at {HHMM}: TwampReport, round trip [\d.]+ ms \(max [\d.]+\),"
            r" jitter [\d.]+ ms, \d+ lost",
            3,
        ),
        Lines(rf"profile {ID} is available again"),
        Lines(rf"jobs with profile {ID}: \[\('{ID}', 'E-Line acceptance'\)\]"),
        Lines(r"results from UNI-1001: 3"),
    ],
}


@dataclass(frozen=True)
class Run:
    returncode: int | None  # None: killed after the time limit
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    """Run every example at once; they are independent and mostly wait on timers."""
    env = {k: v for k, v in os.environ.items() if k != "LSO_CLIENT_LOG"}
    env["PYTHONUNBUFFERED"] = "1"
    # Each example's listener keeps its own inbox, in memory: none leaves a file behind.
    env["LSO_CLIENT_INBOX"] = "memory"
    started = {
        path.name: subprocess.Popen(
            [sys.executable, str(path)],
            cwd=EXAMPLES.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in sorted(EXAMPLES.glob("*.py"))
    }
    deadline = time.monotonic() + TIMEOUT
    results: dict[str, Run] = {}
    try:
        for name, process in started.items():
            try:
                out, err = process.communicate(timeout=max(deadline - time.monotonic(), 0.1))
                results[name] = Run(process.returncode, out, err)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                results[name] = Run(None, out, err)
        yield results
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def test_every_example_has_expectations() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")}
    assert scripts == set(EXPECTED), "add the lines each new example must print to EXPECTED"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_its_flow_to_the_end(name: str, runs: dict[str, Run]) -> None:
    run = runs[name]
    report = f"--- stdout ---\n{run.stdout}\n--- stderr ---\n{run.stderr}"
    assert run.returncode is not None, f"{name} ran past {TIMEOUT:g} s\n{report}"
    assert run.returncode == 0, f"{name} exited with {run.returncode}\n{report}"
    assert run.stderr.strip() == "", f"{name} wrote to stderr\n{report}"
    lines = run.stdout.splitlines()
    for expected in EXPECTED[name]:
        found = sum(1 for line in lines if re.fullmatch(expected.pattern, line))
        wanted = (
            f"at least {expected.least}"
            if expected.most is None
            else f"{expected.least}"
            if expected.least == expected.most
            else f"{expected.least} to {expected.most}"
        )
        assert found >= expected.least and (expected.most is None or found <= expected.most), (
            f"{name}: {found} lines match {expected.pattern!r}, expected {wanted}\n{report}"
        )


URN = re.compile(r"urn:mef:[A-Za-z0-9._:-]*[A-Za-z0-9]")


def test_examples_name_only_shipped_urns() -> None:
    found = {
        (path.name, urn)
        for path in EXAMPLES.glob("*.py")
        for urn in URN.findall(path.read_text(encoding="utf-8"))
    }
    unshipped = sorted((name, urn) for name, urn in found if model_for(urn) is None)
    assert unshipped == [], f"URNs in MEF's namespace that no shipped schema has: {unshipped}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_prints_only_shipped_urns(name: str, runs: dict[str, Run]) -> None:
    unshipped = sorted({urn for urn in URN.findall(runs[name].stdout) if model_for(urn) is None})
    assert unshipped == [], f"{name} printed URNs no shipped schema has: {unshipped}"
