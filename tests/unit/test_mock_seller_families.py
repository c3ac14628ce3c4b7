"""Every API family of the mock seller, at every reference point, over real HTTP.

Responses and notification bodies are validated against the generated models, and
`undeclared` also refuses any property the spec does not name (the models would
keep it silently), so the seller sends nothing the spec forbids.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import threading
import time
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, TypeAdapter

from lso_client import AllegroClient, InterludeClient, LegatoClient
from lso_client.notifications import BackgroundServer
from lso_client.testing import MockSeller, example_service_order

REFERENCE_POINTS = ("allegro", "interlude", "legato")
MANIFEST = Path(__file__).resolve().parents[2] / "specs" / "manifest.yaml"
CLIENTS: dict[str, Any] = {
    "allegro": AllegroClient,
    "interlude": InterludeClient,
    "legato": LegatoClient,
}
INVENTORY_MODELS = {"allegro": "v2", "interlude": "v2", "legato": "v5"}
ORDERING_MODELS = {"allegro": "v1", "interlude": "v1", "legato": "v5"}
# Schemas the spec leaves open (extension points, which are `Payload`, or
# `additionalProperties: true`).
OPEN_SCHEMAS = {"Payload", "TargetServiceSchema"}


# -- helpers -------------------------------------------------------------------------------


class Recorder:
    """A buyer-side listener: records each POST's path and body, answers 204."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        with self._lock:
            self.calls.append((scope["path"], json.loads(body)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def of(self, event_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, body in self.calls if body["eventType"] == event_type]

    def types(self) -> list[str]:
        with self._lock:
            return [body["eventType"] for _, body in self.calls]

    def paths(self) -> set[str]:
        with self._lock:
            return {path for path, _ in self.calls}


@pytest.fixture
def listener() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with BackgroundServer(recorder) as server:
        yield recorder, server.url + "/buyer"


@pytest.fixture
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.002, seed=11) as started:
        yield started


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def generated(module: str) -> Any:
    return pytest.importorskip(f"lso_client._generated.{module}")


def undeclared(value: Any, path: str = "") -> set[str]:
    """Paths of properties the models kept as extras (names the spec does not define)."""
    found: set[str] = set()
    if isinstance(value, BaseModel):
        if type(value).__name__ in OPEN_SCHEMAS:
            return found
        for key in value.model_extra or {}:
            found.add(f"{path}/{key}")
        for name in type(value).model_fields:
            found |= undeclared(getattr(value, name), f"{path}/{name}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= undeclared(item, f"{path}[]")
    return found


def strict(model: Any, raw: bytes | dict[str, Any], *, allowed: Collection[str] = ()) -> Any:
    """Validate (raising on any departure) and refuse undeclared properties."""
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    parsed = model.model_validate_json(data)
    extra = undeclared(parsed) - set(allowed)
    assert not extra, f"{model.__name__} carries properties the spec does not name: {extra}"
    return parsed


def strict_list(model: Any, raw: bytes, *, allowed: Collection[str] = ()) -> list[Any]:
    items: list[Any] = TypeAdapter(list[model]).validate_json(raw)
    for item in items:
        extra = undeclared(item) - set(allowed)
        assert not extra, f"{model.__name__} carries undeclared properties: {extra}"
    return items


def manifest_paths() -> dict[tuple[str, str, str], set[str]]:
    """(family, role, reference point) -> the base paths the manifest gives."""
    found: dict[tuple[str, str, str], set[str]] = {}
    for api in yaml.safe_load(MANIFEST.read_text())["apis"]:
        for rp, path in api["reference_points"].items():
            found.setdefault((api["family"], api["role"], rp), set()).add(path)
    return found


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def register(http: httpx.Client, base: str, callback: str, **extra: Any) -> str:
    response = http.post(base + "hub", json={"callback": callback, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def order_with(items: list[dict[str, Any]], rp: str) -> dict[str, Any]:
    body = example_service_order(rp, items=len(items), seed=3)
    for position, item in enumerate(items):
        body["serviceOrderItem"][position] = {"id": str(position + 1), **item}
    return body


def place(rp: str, kind: str, ref_id: str) -> dict[str, Any]:
    ref = {"@type": kind, "id": ref_id}
    if rp == "legato":
        return {**ref, "role": "INSTALL_LOCATION"}
    return {"role": "INSTALL_LOCATION", "place": ref}


def order_and_wait(
    http: httpx.Client, seller: MockSeller, rp: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = http.post(seller.api_url(rp) + "serviceOrder", json=body)
    assert response.status_code == 201, response.text
    seller.wait_idle()
    order: dict[str, Any] = seller.order(response.json()["id"])
    return order


# -- every family where the manifest says -------------------------------------------------------

MINE = (
    "service_ordering",
    "service_inventory",
    "service_catalog",
    "alarm_management",
    "pm_streaming",
)
LIST_PATHS = {
    "service_ordering": "serviceOrder",
    "service_inventory": "service",
    "service_catalog": "serviceSpecification",
    "alarm_management": "alarm",
    "pm_streaming": "topic",
}


def test_families_are_served_where_the_manifest_says(
    seller: MockSeller, http: httpx.Client
) -> None:
    paths = manifest_paths()
    expected = {(family, rp) for family, role, rp in paths if role == "management"}
    served = {(family, rp) for family, points in seller.families.items() for rp in points}
    for family, rp in expected:
        if family in MINE:
            assert (family, rp) in served, f"{family} is not served at {rp}"
    for family, rp in served:
        base = seller.api(family, rp).base_path
        assert base in paths[(family, "management", rp)], (family, rp, base)
        if family in LIST_PATHS:
            response = http.get(seller.api_url(rp, family) + LIST_PATHS[family])
            assert response.status_code == 200, (family, rp, response.text)
            assert isinstance(response.json(), list)
    # Nothing beyond the manifest: e.g. no catalog outside Legato.
    assert set(seller.families["service_catalog"]) == {"legato"}
    assert (
        http.get(seller.url + "/mefApi/allegro/serviceCatalog/v4/serviceSpecification").status_code
        == 404
    )


def test_api_accessor_names_what_is_served(seller: MockSeller) -> None:
    assert seller.api("service_ordering", "interlude").base_path == (
        "/mefApi/interlude/serviceOrderingManagement/v1/"
    )
    assert (
        seller.api("pm_streaming", "LEGATO").base_path == "/mefApi/legato/streamingManagement/v1/"
    )
    with pytest.raises(ValueError, match="not served at 'allegro'"):
        seller.api("service_catalog", "allegro")
    with pytest.raises(ValueError, match="no API family"):
        seller.api("billing")


@pytest.mark.parametrize(
    ("family", "module", "cls"),
    [
        ("performance_monitoring", "_performance", "PerformanceMonitoringApi"),
        ("fault_management", "_fault", "FaultManagementApi"),
        ("service_function_testing", "_sft", "ServiceFunctionTestingApi"),
    ],
)
def test_job_families_are_mounted_when_their_module_exists(
    seller: MockSeller, family: str, module: str, cls: str
) -> None:
    present = importlib.util.find_spec(f"lso_client.testing.{module}") is not None
    if not present:
        with pytest.raises(ValueError):
            seller.api(family, "allegro")
        return
    paths = manifest_paths()
    expected_class = getattr(importlib.import_module(f"lso_client.testing.{module}"), cls)
    for rp in seller.families[family]:
        api = seller.api(family, rp)
        assert isinstance(api, expected_class)
        assert api.base_path in paths[(family, "management", rp)]


# -- Service Ordering at Interlude --------------------------------------------------------------


def test_ordering_at_interlude_serves_v1_under_interlude_paths(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str]
) -> None:
    recorder, callback = listener
    models = generated("service_ordering_notification_v1")
    base = seller.api_url("interlude")
    assert base.endswith("/mefApi/interlude/serviceOrderingManagement/v1/")
    register(http, base, callback)
    with InterludeClient(seller.url, strict=True) as client:
        created = client.service_orders.create(example_service_order("interlude", items=2))
        seller.wait_idle()
        final = client.service_orders.retrieve(created.id)
    assert str(final.state) == "completed"
    assert final.href and "/mefApi/interlude/serviceOrderingManagement/v1/" in final.href
    assert seller.orders("interlude")[0]["id"] == created.id and seller.orders("allegro") == []
    prefix = "/buyer/mefApi/interlude/serviceOrderingNotification/v1/listener/"
    assert recorder.paths() and all(p.startswith(prefix) for p in recorder.paths())
    for _, event in recorder.calls:
        name = event["eventType"][0].upper() + event["eventType"][1:]
        strict(getattr(models, name), event)


# -- Service Inventory ---------------------------------------------------------------------------


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_ordered_services_appear_in_the_inventory(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    recorder, callback = listener
    version = INVENTORY_MODELS[rp]
    models = generated(f"service_inventory_{version}")
    events = generated(f"service_inventory_notification_{version}")
    inventory = seller.api_url(rp, "service_inventory")
    register(http, inventory, callback)
    body = example_service_order(rp, items=2, seed=5)
    order = order_and_wait(http, seller, rp, body)
    assert order["state"] == "completed"
    # v5's Service names no id/href; the seller still sends them (the schema is open).
    allowed = {"/id", "/href"} if rp == "legato" else set()

    with CLIENTS[rp](seller.url, strict=True) as client:
        listed = list(client.services.list(service_order_id=order["id"]))
    assert len(listed) == 2
    raw = http.get(inventory + "service", params={"serviceOrder.id": order["id"]})
    services = {s["id"]: s for s in raw.json()}
    strict_list(models.Service, raw.content, allowed=allowed)
    for ordered_item, sent in zip(order["serviceOrderItem"], body["serviceOrderItem"], strict=True):
        service_id = ordered_item["service"]["id"]
        service = services[service_id]
        assert service["state"] == "active"
        assert service["serviceConfiguration"] == sent["service"]["serviceConfiguration"]
        assert service["place"] == sent["service"]["place"]
        assert service["externalId"] == sent["service"]["externalId"]
        assert service["serviceOrderItem"] == [
            {
                "itemId": ordered_item["id"],
                "serviceOrderId": order["id"],
                "serviceOrderHref": order["href"],
            }
        ]
        one = http.get(inventory + "service/" + service_id)
        assert one.status_code == 200 and one.json() == service
        strict(models.Service, one.content, allowed=allowed)

    created = recorder.of("serviceCreateEvent")
    assert {e["event"]["id"] for e in created} == set(services)
    listener_base = f"/buyer/mefApi/{rp}/serviceInventoryNotification/{version}/listener/"
    assert recorder.paths() == {listener_base + "serviceCreateEvent"}
    model = events.ServiceCreateEvent if rp != "legato" else events.ServiceEvent
    for event in created:
        assert event["event"]["href"] == services[event["event"]["id"]]["href"]
        strict(model, event)


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_modify_and_delete_items_change_and_terminate_services(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    recorder, callback = listener
    version = INVENTORY_MODELS[rp]
    events = generated(f"service_inventory_notification_{version}")
    inventory_api = seller.api("service_inventory", rp)
    register(http, seller.api_url(rp, "service_inventory"), callback)
    first = order_and_wait(http, seller, rp, example_service_order(rp, items=1, seed=8))
    service_id = first["serviceOrderItem"][0]["service"]["id"]
    before = seller.service(service_id)

    new_configuration = {**before["serviceConfiguration"], "maximumFrameSize": 9600}
    modify = order_with(
        [
            {
                "action": "modify",
                "service": {
                    "id": service_id,
                    "state": "inactive",
                    "serviceConfiguration": new_configuration,
                },
            }
        ],
        rp,
    )
    second = order_and_wait(http, seller, rp, modify)
    after = seller.service(service_id)
    assert after["state"] == "inactive"
    assert after["serviceConfiguration"] == new_configuration
    assert after["place"] == before["place"]  # what the item did not name stays
    assert [ref["serviceOrderId"] for ref in after["serviceOrderItem"]] == [
        first["id"],
        second["id"],
    ]

    inventory_api.retention = 0.01
    delete = order_with([{"action": "delete", "service": {"id": service_id}}], rp)
    order_and_wait(http, seller, rp, delete)
    seller.wait_idle()
    assert (
        http.get(seller.api_url(rp, "service_inventory") + "service/" + service_id).status_code
        == 404
    )

    assert recorder.types() == [
        "serviceCreateEvent",
        "serviceAttributeValueChangeEvent",
        "serviceStateChangeEvent",
        "serviceStateChangeEvent",
        "serviceDeleteEvent",
    ]
    changes = recorder.of("serviceStateChangeEvent")
    if rp == "legato":
        assert all("state" not in e["event"] for e in changes)
        for _, event in recorder.calls:
            strict(events.ServiceEvent, event)
    else:
        assert [e["event"]["state"] for e in changes] == ["inactive", "terminated"]
        for _, event in recorder.calls:
            name = event["eventType"][0].upper() + event["eventType"][1:]
            strict(getattr(events, name), event)
    assert all(e["event"]["id"] == service_id for _, e in recorder.calls)


def test_failed_items_create_no_service(seller: MockSeller, http: httpx.Client) -> None:
    seller.set_scenario("failed")
    order_and_wait(http, seller, "allegro", example_service_order("allegro", items=2))
    seller.set_scenario("partial")
    partial = order_and_wait(http, seller, "allegro", example_service_order("allegro", items=3))
    assert partial["state"] == "partial"
    services = seller.services("allegro")
    assert [s["id"] for s in services] == [partial["serviceOrderItem"][0]["service"]["id"]]
    assert seller.services("interlude") == [] and seller.services("legato") == []


@pytest.mark.parametrize("rp", ("allegro", "legato"))
def test_inventory_filters_and_pagination(seller: MockSeller, http: httpx.Client, rp: str) -> None:
    base = seller.api_url(rp, "service_inventory") + "service"
    seeded = seller.seed_services(5, reference_point=rp)
    seller.seed_services(2, reference_point=rp, state="designed")
    body = order_with(
        [
            {
                "action": "add",
                "service": {
                    "externalId": "EXT-A",
                    "serviceType": "internet-access",
                    "startMode": "1",
                    "place": [place(rp, "GeographicAddressRef", "addr-9")],
                    "serviceConfiguration": {"@type": "urn:mef:lso:spec:test:ia:v1"},
                },
            },
            {
                "action": "add",
                "service": {
                    "externalId": "EXT-B",
                    "place": [place(rp, "GeographicSiteRef", "site-77")],
                    "serviceConfiguration": {"@type": "urn:mef:lso:spec:test:eline:v1"},
                },
            },
        ],
        rp,
    )
    order = order_and_wait(http, seller, rp, body)
    a_id, b_id = (item["service"]["id"] for item in order["serviceOrderItem"])
    seller.set_service_state(seeded[0], "terminated")

    def ids(**params: Any) -> set[str]:
        response = http.get(base, params=params)
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()}

    assert len(ids()) == 9
    assert ids(state="designed") == set(seller_ids(seller, rp, "designed"))
    assert ids(state="terminated") == {seeded[0]}
    assert ids(**{"serviceOrder.id": order["id"]}) == {a_id, b_id}
    assert ids(**{"serviceOrder.id": order["id"], "serviceOrderItem.id": "2"}) == {b_id}
    assert ids(externalId="EXT-A") == {a_id}
    assert ids(serviceType="internet-access") == {a_id}
    assert ids(startMode="1") == {a_id}
    assert ids(**{"geographicAddress.id": "addr-9"}) == {a_id}
    assert ids(**{"geographicSite.id": "site-77"}) == {b_id}
    assert ids(**{"geographicSite.id": "addr-9"}) == set()
    terminated = seller.service(seeded[0])
    end = datetime.fromisoformat(terminated["endDate"])
    assert ids(**{"endDate.gt": (end - timedelta(seconds=1)).isoformat()}) == {seeded[0]}
    assert ids(**{"endDate.lt": end.isoformat()}) == set()
    a_start = datetime.fromisoformat(seller.service(a_id)["startDate"])
    assert {a_id, b_id} <= ids(**{"startDate.gt": (a_start - timedelta(seconds=1)).isoformat()})
    assert seeded[1] in ids(**{"serviceDate.lt": a_start.isoformat()})
    assert a_id not in ids(**{"serviceDate.lt": a_start.isoformat()})
    if rp == "allegro":
        assert ids(**{"@type": "urn:mef:lso:spec:test:eline:v1"}) == {b_id}
    else:  # v5 defines no @type filter: the parameter is not one of its filters
        assert len(ids(**{"@type": "urn:mef:lso:spec:test:eline:v1"})) == 9

    page = http.get(base, params={"offset": 2, "limit": 3})
    assert page.headers["x-total-count"] == "9"
    assert page.headers["x-result-count"] == "3"
    assert page.headers["x-pagination-throttled"] == "false"
    assert [s["id"] for s in page.json()] == [s["id"] for s in seller.services(rp)][2:5]
    bad_state = http.get(base, params={"state": "running"})
    assert bad_state.status_code == 400 and bad_state.json()["code"] == "invalidQuery"
    assert http.get(base, params={"startDate.gt": "yesterday"}).status_code == 400
    missing = http.get(base + "/nope")
    assert missing.status_code == 404
    strict(generated(f"service_inventory_{INVENTORY_MODELS[rp]}").Error404, missing.content)


def seller_ids(seller: MockSeller, rp: str, state: str) -> list[str]:
    return [s["id"] for s in seller.services(rp) if s["state"] == state]


def test_seeded_services_change_state_with_notifications(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str]
) -> None:
    recorder, callback = listener
    events = generated("service_inventory_notification_v2")
    register(
        http,
        seller.api_url("interlude", "service_inventory"),
        callback,
        query="eventType=serviceStateChangeEvent",
    )
    first, second = seller.seed_services(2, reference_point="interlude", realistic=True)
    seller.set_service_state(first, "inactive")
    seller.set_service_state(first, "active")
    with pytest.raises(ValueError, match="cannot go from 'active' to 'designed'"):
        seller.set_service_state(second, "designed")
    with pytest.raises(KeyError):
        seller.set_service_state("no-such-service", "inactive")
    seller.wait_idle()
    assert [e["event"]["state"] for e in recorder.of("serviceStateChangeEvent")] == [
        "inactive",
        "active",
    ]
    for _, event in recorder.calls:
        strict(events.ServiceStateChangeEvent, event)
    # Seeding itself notified nothing (the hub takes every state change, and saw two).
    assert len(recorder.calls) == 2
    assert seller.service(second)["serviceConfiguration"]["evcType"] == "POINT_TO_POINT"


# -- Alarms / TCA --------------------------------------------------------------------------------


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_alarm_lifecycle_is_notified_with_the_full_alarm(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    recorder, callback = listener
    models = generated("alarm_management_v3")
    events = generated("alarm_notification_v3")
    base = seller.api_url(rp, "alarm_management")
    assert base.endswith(f"/mefApi/{rp}/alarmManagement/v3/")
    register(http, base, callback)
    alarm_id = seller.raise_alarm(
        rp, perceivedSeverity="critical", affectedService=[{"id": "svc-1"}]
    )
    seller.wait_idle()
    raised = http.get(base + f"alarm/{alarm_id}")
    assert raised.status_code == 200
    alarm = strict(models.Alarm, raised.content)
    assert str(alarm.state) == "unAcknowledged" and str(alarm.perceived_severity) == "critical"

    seller.acknowledge_alarm(alarm_id)
    seller.wait_idle()
    with CLIENTS[rp](seller.url, strict=True) as client:
        assert str(client.alarms.retrieve(alarm_id).state) == "acknowledged"
    seller.api("alarm_management", rp).comment_alarm(alarm_id, "field team dispatched")
    seller.clear_alarm(alarm_id)
    seller.wait_idle()
    cleared = http.get(base + f"alarm/{alarm_id}").json()
    assert [c["description"] for c in cleared["comment"]] == ["field team dispatched"]
    assert cleared["state"] == "cleared" and cleared["perceivedSeverity"] == "cleared"
    assert cleared["alarmClearedTime"] >= cleared["alarmRaisedTime"]
    with pytest.raises(ValueError, match="already cleared"):
        seller.clear_alarm(alarm_id)
    seller.delete_alarm(alarm_id)
    seller.wait_idle()
    assert http.get(base + f"alarm/{alarm_id}").status_code == 404

    assert recorder.types() == [
        "alarmCreateEvent",
        "alarmStateChangeEvent",
        "alarmAttributeValueChangeEvent",
        "alarmStateChangeEvent",
        "alarmDeleteEvent",
    ]
    prefix = f"/buyer/mefApi/{rp}/alarmNotification/v3/listener/"
    assert recorder.paths() == {prefix + name for name in recorder.types()}
    bodies = [body for _, body in recorder.calls]
    assert bodies[0]["event"]["alarm"] == raised.json()
    assert [b["event"]["alarm"]["state"] for b in bodies] == [
        "unAcknowledged",
        "acknowledged",
        "acknowledged",
        "cleared",
        "cleared",
    ]
    assert bodies[4]["event"]["alarm"] == cleared
    for body in bodies:
        name = body["eventType"][0].upper() + body["eventType"][1:]
        strict(getattr(events, name), body)


def test_alarm_filters_and_pagination(seller: MockSeller, http: httpx.Client) -> None:
    models = generated("alarm_management_v3")
    base = seller.api_url("legato", "alarm_management") + "alarm"
    first = seller.raise_alarm("legato", affectedService=[{"id": "svc-1"}])
    second = seller.raise_alarm(
        "legato",
        alarmType="equipmentAlarm",
        perceivedSeverity="minor",
        serviceAffecting=False,
        reportingSystemId="nms-2",
        alarmedObjectType="Port",
        plannedOutageIndicator="inPlannedMaintenance",
        correlatedAlarm=[{"id": first}],
    )
    third = seller.raise_alarm("legato", affectedService=[{"id": "svc-2"}])
    seller.acknowledge_alarm(third)
    seller.raise_alarm("allegro")  # another reference point: not listed here
    seller.wait_idle()

    def ids(**params: Any) -> list[str]:
        response = http.get(base, params=params)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()]

    assert ids() == [first, second, third]
    assert ids(id=second) == [second]
    assert ids(alarmType="equipmentAlarm") == [second]
    assert ids(perceivedSeverity="major") == [first, third]
    assert ids(serviceAffecting="false") == [second]
    assert ids(reportingSystemId="nms-2") == [second]
    assert ids(alarmedObjectType="Port") == [second]
    assert ids(plannedOutageIndicator="inPlannedMaintenance") == [second]
    assert ids(state="acknowledged") == [third]
    assert ids(affectedServiceId="svc-2") == [third]
    assert ids(correlatedAlarmId=first) == [second]
    changed = seller.api("alarm_management", "legato").alarms()[2]["alarmChangedTime"]
    assert ids(**{"alarmChangedTime.gt": changed}) == []
    assert ids(**{"alarmChangedTime.lt": "2999-01-01T00:00:00Z"}) == [third]
    reported = datetime.fromisoformat(http.get(f"{base}/{first}").json()["alarmReportingTime"])
    assert ids(**{"alarmReportingTime.lt": reported.isoformat()}) == []
    assert ids(**{"alarmReportingTime.gt": (reported - timedelta(seconds=1)).isoformat()}) == [
        first,
        second,
        third,
    ]
    page = http.get(base, params={"limit": 2})
    assert page.headers["x-total-count"] == "3" and page.headers["x-result-count"] == "2"
    # The list carries Alarm_Common: nothing only the full Alarm has.
    common = strict_list(models.AlarmCommon, page.content)
    assert all("isRootCause" not in a for a in page.json()) and len(common) == 2
    assert http.get(base, params={"state": "open"}).status_code == 400
    assert http.get(base, params={"serviceAffecting": "maybe"}).status_code == 400
    with pytest.raises(ValueError, match="perceivedSeverity"):
        seller.raise_alarm("legato", perceivedSeverity="catastrophic")


# -- PM streaming management -------------------------------------------------------------------


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_streaming_topics_and_subscriptions(
    seller: MockSeller, http: httpx.Client, rp: str
) -> None:
    models = generated("streaming_management_v1")
    base = seller.api_url(rp, "pm_streaming")
    assert base.endswith(f"/mefApi/{rp}/streamingManagement/v1/")
    with CLIENTS[rp](seller.url, strict=True) as client:
        topics = list(client.streaming_topics.list())
        assert len(topics) >= 3
        for protocol in ("kafka", "amqp", "web-socket"):
            offered = list(client.streaming_topics.list(protocol=protocol))
            assert offered and all(
                protocol in {c.protocol for c in t.available_channels or []} for t in offered
            )
        ethernet = list(client.streaming_topics.list(category="Ethernet"))
        assert ethernet and all(str(t.category) == "Ethernet" for t in ethernet)
        topic = client.streaming_topics.retrieve(topics[0].id)
        assert topic.id == topics[0].id

        created = client.streaming_subscriptions.create(
            {"topicId": "ip-performance-statistics", "protocol": "kafka", "consumerGroup": "g1"}
        )
        assert created.connection_config is not None and created.connection_config.channel
        again = client.streaming_subscriptions.retrieve(created.id)
        assert again.id == created.id
        assert [
            s.id for s in client.streaming_subscriptions.list(topic_id="ip-performance-statistics")
        ] == [created.id]
        assert list(client.streaming_subscriptions.list(protocol="amqp")) == []
    raw = http.post(
        base + "subscription", json={"topicId": "sdwan-tunnel-statistics", "protocol": "amqp"}
    )
    assert raw.status_code == 201
    sub = strict(models.TopicSubscription, raw.content)
    bindings = raw.json()["connectionConfig"]["channel"]["bindings"]
    assert bindings["amqp"]["exchange"]["name"] == f"{rp}.sdwan-tunnel-statistics"
    assert raw.json()["connectionConfig"]["servers"]["amqp-prod"]["protocol"] == "amqps"
    listed = http.get(base + "subscription")
    assert listed.headers["x-total-count"] == "2"
    strict_list(models.TopicSubscription, listed.content, allowed={"/consumerGroup"})
    strict_list(models.Topic, http.get(base + "topic").content)

    asyncapi = http.get(
        base + "subscription", headers={"accept": "application/vnd.aai.asyncapi+json"}
    )
    assert asyncapi.headers["content-type"] == "application/vnd.aai.asyncapi+json"
    document = asyncapi.json()
    assert document["asyncapi"] == "2.6.0" and len(document["channels"]) == 2

    unknown = http.post(base + "subscription", json={"topicId": "nope", "protocol": "kafka"})
    assert unknown.status_code == 422 and unknown.json()[0]["code"] == "referenceNotFound"
    wrong = http.post(
        base + "subscription", json={"topicId": "computing-cpu", "protocol": "web-socket"}
    )
    assert wrong.status_code == 422 and wrong.json()[0]["propertyPath"] == "/protocol"
    assert http.post(base + "subscription", json={"topicId": "computing-cpu"}).status_code == 422
    assert http.delete(base + f"subscription/{sub.id}").status_code == 204
    assert http.get(base + f"subscription/{sub.id}").status_code == 404
    assert http.delete(base + f"subscription/{sub.id}").status_code == 404
    assert http.get(base + "topic/nope").status_code == 404
    # The streaming API has no hub.
    assert http.post(base + "hub", json={"callback": "http://127.0.0.1:9/x"}).status_code == 404
    assert seller.hubs(rp, "pm_streaming") == []


# -- Service Catalog ---------------------------------------------------------------------------


def test_catalog_lists_and_retrieves_specifications(seller: MockSeller, http: httpx.Client) -> None:
    models = generated("service_catalog_v4")
    base = seller.api_url("legato", "service_catalog")
    # `description` is misspelt in the schema (`description"`), so the plain name is an extra.
    allowed = {"/description"}
    with LegatoClient(seller.url, strict=True) as client:
        specs = list(client.service_specifications.list())
        assert len(specs) == 2
        assert [s.id for s in specs] == sorted(s.id for s in specs)
        only = client.service_specifications.retrieve(specs[0].id)
        assert only.name == specs[0].name
    raw = http.get(base + "serviceSpecification")
    strict_list(models.ServiceSpecification, raw.content, allowed=allowed)
    assert "x-total-count" not in raw.headers  # the API defines no pagination headers

    narrow = http.get(base + "serviceSpecification", params={"fields": "name,version"})
    assert [set(s) for s in narrow.json()] == [{"id", "href", "@type", "name", "version"}] * 2
    strict_list(models.ServiceSpecification, narrow.content)
    second = http.get(base + "serviceSpecification", params={"offset": 1, "limit": 1}).json()
    assert [s["id"] for s in second] == [raw.json()[1]["id"]]
    ip = http.get(base + "serviceSpecification", params={"category": "IP"}).json()
    assert [s["category"] for s in ip] == ["IP"]
    launched = http.get(base + "serviceSpecification", params={"lifecycleStatus": "LAUNCHED"})
    assert [s["lifecycleStatus"] for s in launched.json()] == ["LAUNCHED"]
    one = http.get(
        base + f"serviceSpecification/{ip[0]['id']}", params={"fields": "lifecycleStatus"}
    )
    assert one.json() == {
        "id": ip[0]["id"],
        "href": ip[0]["href"],
        "@type": "ServiceSpecification",
        "lifecycleStatus": "LAUNCHED",
    }

    bad = http.get(base + "serviceSpecification", params={"lifecycleStatus": "launched"})
    assert bad.status_code == 400 and bad.json()["code"] == 28
    missing = http.get(base + "serviceSpecification/nope")
    assert missing.status_code == 404
    assert strict(models.Error, missing.content).code == 60


def test_catalog_hub_requires_query_and_notifies_changes(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str]
) -> None:
    recorder, callback = listener
    models = generated("service_catalog_v4")
    events = generated("service_catalog_notification_v4")
    base = seller.api_url("legato", "service_catalog")
    no_query = http.post(base + "hub", json={"callback": callback})
    assert no_query.status_code == 400
    assert strict(models.Error, no_query.content).code == 23
    bad_callback = http.post(base + "hub", json={"callback": "ftp://x", "query": ""})
    assert bad_callback.status_code == 400 and bad_callback.json()["code"] == 24
    hub = http.post(
        base + "hub",
        json={
            "callback": callback,
            "query": "eventType=serviceSpecificationCreateNotification,"
            "serviceSpecificationDeleteNotification",
        },
    )
    assert hub.status_code == 201
    hub_id = strict(models.EventSubscription, hub.content).id
    assert http.get(base + f"hub/{hub_id}").json() == hub.json()
    assert http.get(base + "hub/nope").json()["code"] == 60

    catalog = seller.api("service_catalog", "legato")
    spec_id = catalog.add_specification(
        {"name": "SD-WAN", "category": "SD-WAN", "lifecycleStatus": "IN_DESIGN"}
    )
    catalog.set_lifecycle_status(spec_id, "ACTIVE")  # the hub did not ask for changes
    catalog.remove_specification(spec_id)
    seller.wait_idle()
    assert recorder.types() == [
        "serviceSpecificationCreateNotification",
        "serviceSpecificationDeleteNotification",
    ]
    prefix = "/buyer/mefApi/legato/serviceCatalogNotification/v4/listener/"
    assert recorder.paths() == {prefix + t for t in recorder.types()}
    for _, body in recorder.calls:
        name = body["eventType"][0].upper() + body["eventType"][1:]
        parsed = strict(getattr(events, name), body)
        assert parsed.event.service_specification.id == spec_id
    assert recorder.calls[1][1]["event"]["serviceSpecification"]["lifecycleStatus"] == "ACTIVE"
    assert http.delete(base + f"hub/{hub_id}").status_code == 204
    with pytest.raises(ValueError):
        catalog.set_lifecycle_status("carrier-ethernet-access-eline", "GONE")


# -- seller-wide controls ----------------------------------------------------------------------


def test_reset_wait_idle_and_deliveries_cover_every_family(
    seller: MockSeller, http: httpx.Client, listener: tuple[Recorder, str]
) -> None:
    recorder, callback = listener
    for rp in REFERENCE_POINTS:
        register(http, seller.api_url(rp, "alarm_management"), callback)
        register(http, seller.api_url(rp, "service_inventory"), callback)
    register(http, seller.api_url("legato", "service_catalog"), callback, query="eventType=x")
    for rp in REFERENCE_POINTS:
        seller.raise_alarm(rp)
    services = seller.seed_services(1, reference_point="legato")
    seller.set_service_state(services[0], "inactive")
    order_and_wait(http, seller, "interlude", example_service_order("interlude", items=1))
    seller.wait_idle()
    # wait_idle returned only once every family's notifications were delivered.
    delivered = sorted(d.event_type for d in seller.deliveries)
    assert delivered == sorted(recorder.types())
    assert delivered.count("alarmCreateEvent") == 3
    assert {"serviceStateChangeEvent", "serviceCreateEvent"} <= set(delivered)
    assert all(d.ok for d in seller.deliveries)
    stream = seller.api_url("allegro", "pm_streaming") + "subscription"
    assert (
        http.post(stream, json={"topicId": "computing-cpu", "protocol": "kafka"}).status_code == 201
    )

    added = seller.api("service_catalog", "legato").add_specification({"name": "Extra"})
    seller.api("pm_streaming", "allegro").add_topic(
        {"id": "extra", "availableChannels": [{"protocol": "kafka"}]}
    )

    seller.reset()
    seller.wait_idle()
    assert seller.deliveries == []
    specs = seller.api("service_catalog", "legato").specifications()
    assert len(specs) == 2 and added not in {s["id"] for s in specs}
    assert "extra" not in {t["id"] for t in seller.api("pm_streaming", "allegro").topics()}
    for rp in REFERENCE_POINTS:
        assert seller.alarms(rp) == [] and seller.services(rp) == [] and seller.orders(rp) == []
        assert seller.hubs(rp, "alarm_management") == []
        assert seller.hubs(rp, "service_inventory") == []
    assert seller.hubs("legato", "service_catalog") == []
    assert http.get(stream).json() == []
    assert len(http.get(seller.api_url("allegro", "pm_streaming") + "topic").json()) >= 3


def test_ordering_links_only_to_its_own_reference_point(
    seller: MockSeller, http: httpx.Client
) -> None:
    order = order_and_wait(http, seller, "legato", example_service_order("legato", items=1))
    service_id = order["serviceOrderItem"][0]["service"]["id"]
    assert [s["id"] for s in seller.services("legato")] == [service_id]
    for rp in ("allegro", "interlude"):
        url = seller.api_url(rp, "service_inventory") + "service/" + service_id
        assert http.get(url).status_code == 404


def test_inspection_returns_copies(seller: MockSeller) -> None:
    # Changing what the seller handed out must not change what it serves.
    seller.raise_alarm("allegro")
    (service_id,) = seller.seed_services(1)
    seller.alarms("allegro")[0]["state"] = "cleared"
    seller.service(service_id)["state"] = "terminated"
    assert seller.alarms("allegro")[0]["state"] == "unAcknowledged"
    assert seller.service(service_id)["state"] == "active"
    raised = datetime.fromisoformat(seller.alarms("allegro")[0]["alarmRaisedTime"])
    assert raised.utcoffset() == timedelta(0)


def test_hrefs_of_what_was_stored_before_start_use_the_seller_url() -> None:
    from lso_client import AllegroClient, LegatoClient

    seller = MockSeller()
    seller.seed_orders(2)
    seller.start()
    try:
        with AllegroClient(seller.url) as allegro, LegatoClient(seller.url) as legato:
            orders = list(allegro.service_orders.list())
            specifications = list(legato.service_specifications.list())
        assert len(orders) == 2 and specifications
        for href in [o.href for o in orders] + [s.href for s in specifications]:
            assert href is not None and href.startswith(seller.url), href
    finally:
        seller.stop()
