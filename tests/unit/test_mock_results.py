"""The results the mock seller produces answer the job's configuration, read through the
SDK's clients: every IP fault management configuration gets its result schema's bodies at
every reference point, valid against the payload model and the upstream JSON Schema; a
shipped configuration no result schema answers (STAMP, IP TCA) gets results of the mock
seller's own URN, never another schema's (a STAMP job never yields a TWAMP report)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import _json_schema
import pytest

from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncInterludeClient,
    AsyncLegatoClient,
    InterludeClient,
    LegatoClient,
    payloads,
)
from lso_client._generated.payloads._registry import REGISTRY
from lso_client._model import Payload
from lso_client.testing import RESULTS_WITHOUT_SCHEMA, MockSeller
from lso_client.testing._payloads import (
    _RESULTS,
    WITHOUT_RESULT_SCHEMA,
    result_payload,
    result_type,
    undeclared_fields,
)

IP_FM_CONFIGURATION = "urn:mef:xid:spec:legato:ip-fault-management-configuration:v0.0.1:all"
IP_FM_RESULTS = "urn:mef:xid:spec:legato:ip-fault-management-results:v0.0.1:all"
IP_TCA_CONFIGURATION = "urn:mef:xid:spec:legato:ip-tca-configuration:v0.0.1:all"
STAMP_CONFIGURATION = "urn:mef:xid:spec:ip:soam:stamp-configuration:v0.0.1:all"
TWAMP_REPORT = "urn:mef:xid:spec:service:twamp-report:v0.0.1:all"

# Each IP fault management configuration the mock seller accepts, as a buyer sends it.
IP_FM_CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "ip-fault-management": {
        "@type": IP_FM_CONFIGURATION,
        "entity": {"entityType": {"interface": "xe-1/2/3"}},
        "vlan": 214,
    },
    "ping": {
        "@type": "urn:mef:xid:spec:legato:ping-configuration:v0.0.1:all",
        "count": 100,
        "protocol": "IPV4",
    },
    "traceroute": {
        "@type": "urn:mef:xid:spec:legato:traceroute-configuration:v0.0.1:all",
        "icmpEcho": True,
        "timeToLive": 30,
    },
    "twamp": {"@type": "urn:mef:xid:spec:service:twamp-configuration:v0.0.1:all"},
    "bfd": {"@type": "urn:mef:xid:spec:service:bfd-configuration:v0.0.1:all", "bfdMultiplier": 3},
}
STAMP = {"@type": STAMP_CONFIGURATION, "vlan": 300}

CLIENTS = {"allegro": AllegroClient, "interlude": InterludeClient, "legato": LegatoClient}
ASYNC_CLIENTS = {
    "allegro": AsyncAllegroClient,
    "interlude": AsyncInterludeClient,
    "legato": AsyncLegatoClient,
}
WAIT = {"poll_interval": 0.01}


@pytest.fixture(scope="module")
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.01) as running:
        yield running


def _duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def fm_job(configuration: dict[str, Any]) -> dict[str, Any]:
    return {
        "granularity": _duration(15, "MIN"),
        "jobType": "proactive",
        "monitoredObject": {
            "@type": "ServiceFromToRef",
            "serviceFrom": {"serviceFromId": "ipvc-ep-1"},
            "serviceTo": {"serviceToId": "ipvc-ep-2"},
        },
        "outputFormat": "json",
        "reportingPeriod": _duration(1, "HOUR"),
        "resultFormat": "payload",
        "scheduleDefinition": {},
        "serviceSpecificConfiguration": configuration,
    }


def sft_job(configuration: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "name": "delay and loss",
        "requestedEndDateTime": (now + timedelta(hours=1)).isoformat(),
        "testProfile": {"@type": "TestProfileValue", "relatedServiceSpecification": {"id": "ip"}},
        "relatedServiceFrom": {"id": "ipvc-ep-1"},
        "relatedServiceTo": {"id": "ipvc-ep-2"},
        "serviceSpecificTestJobConfiguration": configuration,
    }


def measurements(report: Any) -> list[Any]:
    """The measurement data of every item of an FM report, as the client read them."""
    assert report.report_content
    return [data for item in report.report_content for data in item.measurement_data]


def assert_shipped_results(found: list[Any], urn: str) -> None:
    """`found` are instances of `urn`'s model that keep no undeclared field, and their
    wire form is valid against the upstream JSON Schema of `urn` too."""
    model = payloads.model_for(urn)
    assert model is not None
    assert found
    for value in found:
        assert type(value) is model
        assert value.type == urn
        assert list(undeclared_fields(value)) == []
    bodies = [value.to_dict() for value in found]
    assert _json_schema.schema_errors(urn, bodies) == [[] for _ in bodies]


def assert_results_without_schema(found: Any, configuration: str) -> None:
    """`found` is the mock seller's own results for a configuration no shipped schema
    answers: a generic payload naming the configuration, nothing of a shipped schema."""
    assert isinstance(found, Payload)
    assert type(found).__lso_urn__ is None
    assert found.type == RESULTS_WITHOUT_SCHEMA
    assert found.to_dict()["configurationType"] == configuration
    assert "twamp" not in str(found.to_dict())


# ----------------------------------------------------------------------------- the mapping


def test_every_shipped_configuration_is_answered_or_documented_as_unanswered() -> None:
    configurations = {urn for urn in REGISTRY if "-configuration:" in urn}
    assert configurations == set(_RESULTS) | WITHOUT_RESULT_SCHEMA
    assert not set(_RESULTS) & WITHOUT_RESULT_SCHEMA
    assert all(result in REGISTRY for result in _RESULTS.values())
    assert payloads.model_for(RESULTS_WITHOUT_SCHEMA) is None


def test_no_stamp_result_schema_ships() -> None:
    # MEF publishes the STAMP report file empty; should a schema ship, answer STAMP with it.
    assert [urn for urn in REGISTRY if "stamp" in urn] == [STAMP_CONFIGURATION]
    assert result_type(STAMP_CONFIGURATION) is None
    now = datetime.now(timezone.utc)
    assert result_payload(STAMP_CONFIGURATION, random.Random(0), now, now) is None


@pytest.mark.slow
@pytest.mark.parametrize("configuration", sorted(_RESULTS))
def test_every_produced_result_is_valid_against_its_json_schema(configuration: str) -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    bodies = [
        result_payload(configuration, random.Random(seed), start, start + timedelta(hours=1))
        for seed in range(5)
    ]
    assert _json_schema.schema_errors(_RESULTS[configuration], bodies) == [[]] * 5


def test_the_json_schema_check_finds_a_broken_result() -> None:
    now = datetime.now(timezone.utc)
    body = result_payload(IP_FM_CONFIGURATION, random.Random(0), now, now)
    assert body is not None
    body["inHeaderErrors"] = "several"
    [errors] = _json_schema.schema_errors(IP_FM_RESULTS, [body])
    assert [error.split()[0] for error in errors] == ["/inHeaderErrors"]


# ----------------------------------------------------------------------------- IP FM results


@pytest.mark.parametrize("kind", sorted(IP_FM_CONFIGURATIONS))
@pytest.mark.parametrize("reference_point", sorted(CLIENTS))
def test_an_ip_fm_job_reports_its_result_schema_at_every_reference_point(
    seller: MockSeller, reference_point: str, kind: str
) -> None:
    configuration = IP_FM_CONFIGURATIONS[kind]
    with CLIENTS[reference_point](seller.url, token="t", strict=True) as client:
        job = client.fault_management_jobs.create_and_wait(fm_job(configuration), **WAIT)
        assert job.state == "completed"
        [found] = client.fault_management_reports.wait_for_job(job.id, **WAIT)
        report = client.fault_management_reports.retrieve(found.id)
    assert_shipped_results(measurements(report), _RESULTS[configuration["@type"]])


@pytest.mark.parametrize("kind", sorted(IP_FM_CONFIGURATIONS))
@pytest.mark.parametrize("reference_point", sorted(ASYNC_CLIENTS))
def test_an_ip_fm_job_reports_its_result_schema_async(
    seller: MockSeller, reference_point: str, kind: str
) -> None:
    configuration = IP_FM_CONFIGURATIONS[kind]

    async def read() -> Any:
        async with ASYNC_CLIENTS[reference_point](seller.url, token="t", strict=True) as client:
            job = await client.fault_management_jobs.create_and_wait(fm_job(configuration), **WAIT)
            assert job.state == "completed"
            [found] = await client.fault_management_reports.wait_for_job(job.id, **WAIT)
            return await client.fault_management_reports.retrieve(found.id)

    report = asyncio.run(read())
    assert_shipped_results(measurements(report), _RESULTS[configuration["@type"]])


def test_ip_fm_results_are_of_the_configured_interface_vlan_and_period(
    seller: MockSeller,
) -> None:
    with LegatoClient(seller.url, token="t", strict=True) as client:
        job = client.fault_management_jobs.create_and_wait(
            fm_job(IP_FM_CONFIGURATIONS["ip-fault-management"]), **WAIT
        )
        [found] = client.fault_management_reports.wait_for_job(job.id, **WAIT)
        report = client.fault_management_reports.retrieve(found.id)
    assert report.report_content
    for item in report.report_content:
        [results] = item.measurement_data
        assert (results.interface, results.vlan) == ("xe-1/2/3", 214)
        assert results.start_time == item.measurement_time.measurement_start_date
        assert results.end_time == item.measurement_time.measurement_end_date
        assert results.reassemblies_failed <= results.reassemblies_required


def test_an_ip_tca_fm_job_reports_results_of_the_sellers_own_urn(seller: MockSeller) -> None:
    with AllegroClient(seller.url, token="t", strict=True) as client:
        job = client.fault_management_jobs.create_and_wait(
            fm_job({"@type": IP_TCA_CONFIGURATION, "packetsIn": True}), **WAIT
        )
        [found] = client.fault_management_reports.wait_for_job(job.id, **WAIT)
        report = client.fault_management_reports.retrieve(found.id)
    for value in measurements(report):
        assert_results_without_schema(value, IP_TCA_CONFIGURATION)


# ----------------------------------------------------------------------------- STAMP


@pytest.mark.parametrize("reference_point", sorted(CLIENTS))
def test_a_stamp_test_job_never_yields_a_twamp_report(
    seller: MockSeller, reference_point: str
) -> None:
    with CLIENTS[reference_point](seller.url, token="t", strict=True) as client:
        job = client.test_jobs.create_and_wait(sft_job(STAMP), **WAIT)
        assert job.state == "completed"
        [found] = client.test_results.wait_for_job(job.id, **WAIT)
        result = client.test_results.retrieve(found.id)
    assert_results_without_schema(
        result.service_specific_test_result_configuration, STAMP_CONFIGURATION
    )


@pytest.mark.parametrize("reference_point", sorted(ASYNC_CLIENTS))
def test_a_stamp_test_job_never_yields_a_twamp_report_async(
    seller: MockSeller, reference_point: str
) -> None:
    async def read() -> Any:
        async with ASYNC_CLIENTS[reference_point](seller.url, token="t", strict=True) as client:
            job = await client.test_jobs.create_and_wait(sft_job(STAMP), **WAIT)
            assert job.state == "completed"
            [found] = await client.test_results.wait_for_job(job.id, **WAIT)
            return await client.test_results.retrieve(found.id)

    result = asyncio.run(read())
    assert_results_without_schema(
        result.service_specific_test_result_configuration, STAMP_CONFIGURATION
    )


def test_a_stamp_fm_job_never_yields_a_twamp_report(seller: MockSeller) -> None:
    with InterludeClient(seller.url, token="t", strict=True) as client:
        job = client.fault_management_jobs.create_and_wait(fm_job(STAMP), **WAIT)
        [found] = client.fault_management_reports.wait_for_job(job.id, **WAIT)
        report = client.fault_management_reports.retrieve(found.id)
    for value in measurements(report):
        assert_results_without_schema(value, STAMP_CONFIGURATION)


def test_a_twamp_test_job_still_yields_a_twamp_report(seller: MockSeller) -> None:
    configuration = IP_FM_CONFIGURATIONS["twamp"]
    with AllegroClient(seller.url, token="t", strict=True) as client:
        job = client.test_jobs.create_and_wait(sft_job(configuration), **WAIT)
        [found] = client.test_results.wait_for_job(job.id, **WAIT)
        result = client.test_results.retrieve(found.id)
    assert_shipped_results([result.service_specific_test_result_configuration], TWAMP_REPORT)


def test_a_stamp_performance_report_never_carries_twamp_reports(seller: MockSeller) -> None:
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    body = {
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": "ipvc-1"}],
        "reportingTimeframe": {
            "reportingStartDate": (end - timedelta(hours=1)).isoformat(),
            "reportingEndDate": end.isoformat(),
        },
        "granularity": _duration(15, "MIN"),
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": STAMP,
    }
    with LegatoClient(seller.url, token="t", strict=True) as client:
        report = client.performance_reports.create_and_wait(body, **WAIT)
    assert report.state == "completed"
    assert report.report_content
    found = [
        data
        for content in report.report_content
        for item in content.report_content_item
        for data in item.measurement_data
    ]
    assert found
    for value in found:
        assert_results_without_schema(value, STAMP_CONFIGURATION)
