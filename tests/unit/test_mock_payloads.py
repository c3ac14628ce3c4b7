"""The mock seller speaks real service payloads: it refuses a received payload of a
shipped URN that breaks its schema (422 with the path inside the payload), keeps a
seller's own URN as it is, and produces PM, FM and SFT results valid against the
shipped result and report schemas."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from lso_client import LegatoClient, payloads
from lso_client.testing import MockSeller, example_service_order
from lso_client.testing._catalog import default_specifications
from lso_client.testing._payloads import (
    _RESULTS,
    check_payload,
    model_of,
    payload_errors,
    result_payload,
    result_type,
    undeclared_fields,
)

CE_PM_CONFIG = (
    "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-configuration:v0.0.2:all"
)
CE_PM_RESULTS = "urn:mef:lso:spec:legato:carrier-ethernet-performance-monitoring-results:v0.0.2:all"
PING_CONFIG = "urn:mef:xid:spec:legato:ping-configuration:v0.0.1:all"
PING_REPORT = "urn:mef:xid:spec:legato:ping-report:v0.0.1:all"
IPERF_CONFIG = "urn:mef:xid:spec:service:iperf-configuration:v0.0.1:all"
IPERF_REPORT = "urn:mef:xid:spec:service:iperf-report:v0.0.1:all"
ORDERING = {
    "allegro": "/mefApi/allegro/serviceOrderingManagement/v1/",
    "legato": "/mefApi/legato/serviceOrderingManagement/v5/",
}
PM = "/mefApi/allegro/performanceMonitoring/v5/"
FM = "/mefApi/allegro/faultManagement/v3/"
SFT = "/mefApi/allegro/serviceFunctionTesting/v3/"
ALARMS = "/mefApi/legato/alarmManagement/v3/"
TCA_SET = "urn:mef:lso:spec:service:tca-stateful-set-alarm:v1.0.0:all"
TCA_CLEAR = "urn:mef:lso:spec:service:tca-stateful-clear-alarm:v1.0.0:all"


def _strictly_valid(body: dict[str, Any], urn: str) -> None:
    assert body["@type"] == urn
    model = check_payload(body)
    assert model is not None
    assert list(undeclared_fields(model)) == []
    assert model.to_dict() == body


@pytest.fixture(scope="module")
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.01) as running:
        yield running


@pytest.fixture
def http(seller: MockSeller) -> Iterator[httpx.Client]:
    seller.reset()
    with httpx.Client(base_url=seller.url, timeout=10) as client:
        yield client


def _until(fetch: Any, done: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        time.sleep(0.01)


# ----------------------------------------------------------------------------- received


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
def test_an_order_with_valid_payloads_is_accepted(http: httpx.Client, reference_point: str) -> None:
    body = example_service_order(reference_point, items=2)
    response = http.post(ORDERING[reference_point] + "serviceOrder", json=body)
    assert response.status_code == 201, response.text


def test_a_bad_payload_of_a_shipped_urn_is_refused_with_its_path(http: httpx.Client) -> None:
    body = example_service_order("legato", items=2)
    config = body["serviceOrderItem"][1]["service"]["serviceConfiguration"]
    config["carrierEthernetSls"]["slsCosNameEntry"][0]["oneWayFrameDelayPmMetric"][0][
        "oneWayFdPercentile"
    ] = 140
    del body["serviceOrderItem"][0]["service"]["serviceConfiguration"]["maximumFrameSize"]

    response = http.post(ORDERING["legato"] + "serviceOrder", json=body)

    assert response.status_code == 422
    errors = response.json()
    assert [(e["code"], e["propertyPath"]) for e in errors] == [
        ("missingProperty", "/serviceOrderItem/0/service/serviceConfiguration/maximumFrameSize"),
        (
            "invalidValue",
            "/serviceOrderItem/1/service/serviceConfiguration/carrierEthernetSls"
            "/slsCosNameEntry/0/oneWayFrameDelayPmMetric/0/oneWayFdPercentile",
        ),
    ]
    assert all(set(e) == {"code", "reason", "propertyPath"} for e in errors)
    assert "urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all" in errors[0]["reason"]
    listed = http.get(ORDERING["legato"] + "serviceOrder").json()
    assert listed == []


@pytest.mark.parametrize("value", ["a string", [1], {"identifier": "no type"}, None])
def test_a_payload_that_is_not_an_object_with_a_type_is_refused(
    http: httpx.Client, value: Any
) -> None:
    body = example_service_order("allegro", items=1)
    body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = value
    response = http.post(ORDERING["allegro"] + "serviceOrder", json=body)
    assert response.status_code == 422, response.text
    assert [e["propertyPath"] for e in response.json()] == [
        "/serviceOrderItem/0/service/serviceConfiguration"
    ]


def test_a_payload_of_a_sellers_own_urn_is_kept_as_sent(http: httpx.Client) -> None:
    body = example_service_order("allegro", items=1)
    own = {"@type": "urn:acme:firewall:v1", "rules": ["deny all"], "maximumFrameSize": "any"}
    body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = own
    created = http.post(ORDERING["allegro"] + "serviceOrder", json=body)
    assert created.status_code == 201, created.text
    stored = http.get(ORDERING["allegro"] + f"serviceOrder/{created.json()['id']}").json()
    assert stored["serviceOrderItem"][0]["service"]["serviceConfiguration"] == own


def test_a_bad_job_configuration_is_refused_with_its_path(http: httpx.Client) -> None:
    body = _fm_job({"@type": PING_CONFIG, "count": "many"})
    response = http.post(FM + "faultManagementJob", json=body)
    assert response.status_code == 422
    assert [e["propertyPath"] for e in response.json()] == ["/serviceSpecificConfiguration/count"]


def test_payload_errors_find_payloads_at_every_known_key() -> None:
    bad = {"@type": PING_CONFIG, "vlan": "x"}
    body = {
        "a": [{"serviceSpecificTestProfileConfiguration": bad}],
        "serviceSpecificTestJobConfiguration": bad,
        "other": bad,  # not a payload key: not a payload
    }
    assert [e["propertyPath"] for e in payload_errors(body)] == [
        "/a/0/serviceSpecificTestProfileConfiguration/vlan",
        "/serviceSpecificTestJobConfiguration/vlan",
    ]


# ----------------------------------------------------------------------------- produced


@pytest.mark.parametrize("configuration", sorted(_RESULTS))
def test_every_result_answering_a_shipped_configuration_is_valid(configuration: str) -> None:
    assert model_of(configuration) is not None
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    for seed in range(3):
        body = result_payload(configuration, random.Random(seed), start, start + timedelta(hours=1))
        assert body is not None
        _strictly_valid(body, _RESULTS[configuration])
        assert len(body) > 3


def test_a_sellers_own_configuration_has_no_shipped_result() -> None:
    assert result_type("urn:acme:pm:v1") is None
    now = datetime.now(timezone.utc)
    assert result_payload("urn:acme:pm:v1", random.Random(0), now, now) is None


def _duration(value: int, units: str) -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def test_an_on_demand_pm_report_carries_ce_pm_results(http: httpx.Client) -> None:
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    body = {
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": "evc-1"}],
        "reportingTimeframe": {
            "reportingStartDate": (end - timedelta(hours=1)).isoformat(),
            "reportingEndDate": end.isoformat(),
        },
        "granularity": _duration(15, "MIN"),
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": {"@type": CE_PM_CONFIG, "utilizationIn": True},
    }
    created = http.post(PM + "performanceReport", json=body)
    assert created.status_code == 201, created.text
    url = PM + f"performanceReport/{created.json()['id']}"
    report = _until(lambda: http.get(url).json(), lambda r: r["state"] == "completed")
    items = report["reportContent"][0]["reportContentItem"]
    assert len(items) == 4
    for item in items:
        _strictly_valid(item["measurementData"][0], CE_PM_RESULTS)


def _fm_job(configuration: dict[str, Any]) -> dict[str, Any]:
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
        "scheduleDefinition": {},
        "serviceSpecificConfiguration": configuration,
    }


def test_an_fm_job_with_a_ping_configuration_reports_ping_reports(http: httpx.Client) -> None:
    configuration = {"@type": PING_CONFIG, "count": 100, "protocol": "IPV4"}
    created = http.post(FM + "faultManagementJob", json=_fm_job(configuration))
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    found = _until(
        lambda: http.get(FM + "faultManagementReport", params={"faultManagementJobId": job_id}),
        lambda r: len(r.json()) == 1,
    ).json()
    report = http.get(FM + f"faultManagementReport/{found[0]['id']}").json()
    assert report["reportContent"]
    for item in report["reportContent"]:
        _strictly_valid(item["measurementData"][0], PING_REPORT)


def test_an_sft_job_with_an_iperf_configuration_gives_iperf_reports(
    http: httpx.Client, seller: MockSeller
) -> None:
    now = datetime.now(timezone.utc)
    body = {
        "name": "throughput",
        "requestedEndDateTime": (now + timedelta(hours=2)).isoformat(),
        "recurrencePeriod": {"amount": 1, "units": "calendarHours"},
        "testProfile": {
            "@type": "TestProfileValue",
            "relatedServiceSpecification": {"id": "spec-ip"},
        },
        "relatedServiceFrom": {"id": "uni-1"},
        "relatedServiceTo": {"id": "uni-2"},
        "serviceSpecificTestJobConfiguration": {
            "@type": IPERF_CONFIG,
            "generalOptions": {"port": 5201, "interval": 1},
        },
    }
    created = http.post(SFT + "testJob", json=body)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    found = _until(
        lambda: http.get(SFT + "testResult", params={"testJobId": job_id}).json(),
        lambda r: len(r) == 2,
    )
    for summary in found:
        result = http.get(SFT + f"testResult/{summary['id']}").json()
        _strictly_valid(result["serviceSpecificTestResultConfiguration"], IPERF_REPORT)
    seller.wait_idle()


def test_a_raised_then_cleared_tca_carries_valid_tca_payloads(
    seller: MockSeller, http: httpx.Client
) -> None:
    alarm_id = seller.raise_alarm("legato")
    raised = http.get(ALARMS + f"alarm/{alarm_id}").json()
    _strictly_valid(raised["alarmSpecificAttributes"], TCA_SET)
    seller.clear_alarm(alarm_id)
    seller.wait_idle()
    cleared = http.get(ALARMS + f"alarm/{alarm_id}").json()
    _strictly_valid(cleared["alarmSpecificAttributes"], TCA_CLEAR)


def test_a_specification_referring_to_a_shipped_schema_reads_without_deviation() -> None:
    spec = default_specifications()[0]
    spec["id"] = "carrier-ethernet-evc"
    spec["targetServiceSchema"] = {
        "@type": "urn:mef:lso:spec:legato:carrier-ethernet-evc:v0.0.1:all",
        "@schemaLocation": "https://seller.example/schemas/carrierEthernetEvc.yaml",
    }
    with MockSeller(step_delay=0.01) as seller, LegatoClient(seller.url, token="t") as client:
        seller.api("service_catalog", "legato").add_specification(spec)
        found = client.service_specifications.retrieve("carrier-ethernet-evc")
        # A reference to a schema, not a payload: it stays as sent, and its URN finds
        # the model of the payloads it describes.
        assert found.spec_deviations == []
        assert found.target_service_schema is not None
        assert payloads.model_for(found.target_service_schema.type) is not None
