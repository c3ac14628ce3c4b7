"""The embedded mock seller, driven over real HTTP on loopback with plain httpx."""

from __future__ import annotations

import importlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from lso_client.notifications import BackgroundServer
from lso_client.testing import SCENARIOS, MockSeller, Scenario, Step

# The fixture the `pytest11` entry point provides, imported so that the tests also run
# from a checkout where the package is not installed.
from lso_client.testing._pytest_plugin import mock_seller  # noqa: F401

REFERENCE_POINTS = ("allegro", "legato")
NOTIFICATION_BASE = {
    "allegro": "/mefApi/allegro/serviceOrderingNotification/v1/",
    "legato": "/mefApi/legato/serviceOrderingNotification/v5/",
}
MANAGEMENT_BASE = {
    "allegro": "/mefApi/allegro/serviceOrderingManagement/v1/",
    "legato": "/mefApi/legato/serviceOrderingManagement/v5/",
}
GENERATED = {"allegro": "v1", "legato": "v5"}
ORDER_STATES = {
    "acknowledged",
    "rejected",
    "pending",
    "held",
    "inProgress",
    "completed",
    "failed",
    "partial",
}
TERMINAL = {"completed", "failed", "partial", "rejected"}


# -- helpers -------------------------------------------------------------------------


class Recorder:
    """A buyer-side listener: records every POST and answers `status`."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.calls: list[tuple[str, dict[str, str], dict[str, Any]]] = []
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
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            self.calls.append((scope["path"], headers, json.loads(body)))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, _, body in self.calls]

    def types(self) -> list[str]:
        return [event["eventType"] for event in self.events]


@pytest.fixture
def listener() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with BackgroundServer(recorder) as server:
        yield recorder, server.url + "/buyer"


@pytest.fixture
def seller() -> Iterator[MockSeller]:
    with MockSeller(step_delay=0.005, seed=7) as started:
        yield started


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def order_body(items: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "requestedStartDate": "2030-01-01T00:00:00Z",
        "requestedCompletionDate": "2030-02-01T00:00:00+01:00",
        "serviceOrderItem": [
            {
                "id": str(n + 1),
                "action": "add",
                "service": {
                    "state": "active",
                    "serviceConfiguration": {"@type": "urn:mef:example:svc"},
                },
            }
            for n in range(items)
        ],
        **extra,
    }


def create(client: httpx.Client, seller: MockSeller, rp: str, **kw: Any) -> dict[str, Any]:
    response = client.post(seller.api_url(rp) + "serviceOrder", json=order_body(**kw))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def poll(
    client: httpx.Client,
    url: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 5.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.005)


def register(client: httpx.Client, seller: MockSeller, rp: str, callback: str, **kw: Any) -> str:
    response = client.post(seller.api_url(rp) + "hub", json={"callback": callback, **kw})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def has_offset(value: str) -> bool:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def assert_order_shape(order: dict[str, Any]) -> None:
    """What the spec's `ServiceOrder` requires of every response, both versions."""
    for name in ("id", "orderDate", "serviceOrderItem", "state"):
        assert name in order
    assert order["state"] in ORDER_STATES
    for name in ("orderDate", "startDate", "completionDate", "expectedCompletionDate"):
        if name in order:
            assert has_offset(order[name]), name
    assert order["serviceOrderItem"]
    for item in order["serviceOrderItem"]:
        assert {"id", "action", "service", "state"} <= item.keys()
        assert item["state"] in ORDER_STATES - {"partial"}
    assert (order["state"] in TERMINAL) == ("completionDate" in order)


# -- scenarios -----------------------------------------------------------------------

EXPECTED_ITEMS = {
    "completed": ["completed", "completed"],
    "failed": ["failed", "failed"],
    "partial": ["completed", "failed"],
    "rejected": ["rejected", "rejected"],
}


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
@pytest.mark.parametrize("scenario", sorted(EXPECTED_ITEMS))
def test_scenario_reaches_its_final_state(
    seller: MockSeller, client: httpx.Client, rp: str, scenario: str
) -> None:
    seller.set_scenario(scenario)
    created = create(client, seller, rp)
    assert created["state"] == "acknowledged"
    assert [i["state"] for i in created["serviceOrderItem"]] == ["acknowledged"] * 2
    assert "completionDate" not in created
    assert created["href"].endswith(MANAGEMENT_BASE[rp] + "serviceOrder/" + created["id"])
    assert_order_shape(created)

    url = seller.api_url(rp) + "serviceOrder/" + created["id"]
    final = poll(client, url, lambda o: o["state"] in TERMINAL)
    assert final["state"] == scenario
    assert [i["state"] for i in final["serviceOrderItem"]] == EXPECTED_ITEMS[scenario]
    assert_order_shape(final)
    # The buyer's fields come back unchanged.
    assert final["requestedCompletionDate"] == "2030-02-01T00:00:00+01:00"
    for item in final["serviceOrderItem"]:
        service = item["service"]
        assert service["serviceConfiguration"] == {"@type": "urn:mef:example:svc"}
        assert ("id" in service) == (item["state"] == "completed")
        assert ("terminationError" in item) == (item["state"] in ("failed", "rejected"))
    if scenario != "rejected":
        assert has_offset(final["startDate"])
    assert final["completionDate"] >= final["orderDate"]


def test_partial_with_a_single_item_fails(seller: MockSeller, client: httpx.Client) -> None:
    seller.set_scenario("partial")
    created = create(client, seller, "allegro", items=1)
    seller.wait_idle()
    assert seller.order(created["id"])["state"] == "failed"


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_held_order_waits_for_release(seller: MockSeller, client: httpx.Client, rp: str) -> None:
    seller.set_scenario("held")
    created = create(client, seller, rp)
    seller.wait_idle()
    url = seller.api_url(rp) + "serviceOrder/" + created["id"]
    held = client.get(url).json()
    assert held["state"] == "held"
    assert [i["state"] for i in held["serviceOrderItem"]] == ["held", "inProgress"]
    with pytest.raises(ValueError):
        seller.provide_information(created["id"])

    seller.release(created["id"])
    final = poll(client, url, lambda o: o["state"] in TERMINAL)
    assert final["state"] == "completed"
    with pytest.raises(ValueError):
        seller.release(created["id"])


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_pending_order_asks_for_information(
    seller: MockSeller, client: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    recorder, callback = listener
    register(client, seller, rp, callback)
    seller.set_scenario("pending")
    created = create(client, seller, rp, items=1)
    seller.wait_idle()
    assert seller.order(created["id"])["state"] == "pending"
    assert recorder.types()[-3:] == [
        "serviceOrderItemStateChangeEvent",
        "serviceOrderStateChangeEvent",
        "serviceOrderInformationRequiredEvent",
    ]
    info = recorder.events[-1]
    assert info["event"]["id"] == created["id"]

    seller.provide_information(created["id"])
    seller.wait_idle()
    assert seller.order(created["id"])["state"] == "completed"
    assert recorder.types()[-1] == "serviceOrderStateChangeEvent"


def test_external_id_chooses_the_scenario(seller: MockSeller, client: httpx.Client) -> None:
    seller.set_scenario("failed")
    created = create(client, seller, "legato", externalId="mock:partial:my-ref")
    seller.wait_idle()
    order = seller.order(created["id"])
    assert order["state"] == "partial"
    assert order["externalId"] == "mock:partial:my-ref"

    response = client.post(
        seller.api_url("legato") + "serviceOrder", json=order_body(externalId="mock:nosuch")
    )
    assert response.status_code == 422
    assert response.json()[0]["propertyPath"] == "/externalId"


def test_counted_scenario_applies_to_the_next_orders_only(
    seller: MockSeller, client: httpx.Client
) -> None:
    seller.set_scenario("rejected", count=2)
    ids = [create(client, seller, "allegro")["id"] for _ in range(3)]
    seller.wait_idle()
    assert [seller.order(i)["state"] for i in ids] == ["rejected", "rejected", "completed"]


def test_custom_scenario(seller: MockSeller, client: httpx.Client) -> None:
    straight_to_failed = Scenario(
        "oneShot",
        lambda n: [
            Step(dict.fromkeys(range(n), "inProgress")),
            Step(dict.fromkeys(range(n), "failed")),
        ],
    )
    seller.set_scenario(straight_to_failed)
    created = create(client, seller, "allegro", items=3)
    seller.wait_idle()
    assert seller.order(created["id"])["state"] == "failed"

    with pytest.raises(ValueError, match="forbids"):
        seller.set_scenario(Scenario("bad", lambda n: [Step({0: "completed"})]))
    with pytest.raises(ValueError, match="unknown scenario"):
        seller.set_scenario("nosuch")
    assert set(SCENARIOS) == {"completed", "failed", "partial", "held", "pending", "rejected"}


# -- notifications -------------------------------------------------------------------------


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_notifications_follow_the_guide(
    client: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    recorder, callback = listener
    with MockSeller(step_delay=0.005, notification_token="s3cret") as seller:
        register(client, seller, rp, callback)
        created = create(client, seller, rp)
        seller.wait_idle()
        deliveries = seller.deliveries

    order_id = created["id"]
    item_change = "serviceOrderItemStateChangeEvent"
    order_change = "serviceOrderStateChangeEvent"
    # W99.1 §6.5: create event, first item then order to inProgress, ..., order completed.
    assert recorder.types() == [
        "serviceOrderCreateEvent",
        item_change,
        order_change,
        item_change,
        item_change,
        item_change,
        order_change,
    ]
    events = recorder.events
    assert len({e["eventId"] for e in events}) == len(events)
    for path, headers, event in recorder.calls:
        assert path == f"/buyer{NOTIFICATION_BASE[rp]}listener/{event['eventType']}"
        assert headers["authorization"] == "Bearer s3cret"
        assert headers["content-type"].startswith("application/json")
        assert set(event) == {"eventId", "eventTime", "eventType", "event"}
        assert has_offset(event["eventTime"])
        assert event["event"]["id"] == order_id
    item_events = [e["event"] for e in events if e["eventType"] == item_change]
    assert [e["orderItemId"] for e in item_events] == ["1", "2", "1", "2"]
    order_events = [e["event"] for e in events if e["eventType"] == order_change]
    if rp == "allegro":
        assert [e["state"] for e in order_events] == ["inProgress", "completed"]
        assert [e["state"] for e in item_events] == ["inProgress"] * 2 + ["completed"] * 2
    else:
        assert all("state" not in e for e in order_events + item_events)
    assert [d.status_code for d in deliveries] == [204] * len(events)
    assert all(d.ok for d in deliveries)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, None),
        ("", None),
        ("eventType=serviceOrderStateChangeEvent", {"serviceOrderStateChangeEvent"}),
        (
            "eventType=serviceOrderStateChangeEvent,serviceOrderCreateEvent",
            {"serviceOrderStateChangeEvent", "serviceOrderCreateEvent"},
        ),
        (
            "eventType=serviceOrderCreateEvent&eventType=serviceOrderItemStateChangeEvent",
            {"serviceOrderCreateEvent", "serviceOrderItemStateChangeEvent"},
        ),
        ("eventType = serviceOrderCreateEvent", {"serviceOrderCreateEvent"}),
    ],
)
def test_hub_query_selects_event_types(
    seller: MockSeller,
    client: httpx.Client,
    listener: tuple[Recorder, str],
    query: str | None,
    expected: set[str] | None,
) -> None:
    recorder, callback = listener
    extra = {} if query is None else {"query": query}
    register(client, seller, "allegro", callback, **extra)
    create(client, seller, "allegro")
    seller.wait_idle()
    every = {
        "serviceOrderCreateEvent",
        "serviceOrderStateChangeEvent",
        "serviceOrderItemStateChangeEvent",
    }
    assert set(recorder.types()) == (every if expected is None else expected)


def test_hubs_are_per_api_and_deletable(
    seller: MockSeller, client: httpx.Client, listener: tuple[Recorder, str]
) -> None:
    recorder, callback = listener
    base = seller.api_url("allegro")
    hub_id = register(
        client, seller, "allegro", callback, query="eventType=serviceOrderCreateEvent"
    )
    got = client.get(base + "hub/" + hub_id)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json;charset=utf-8"
    assert got.json() == {
        "id": hub_id,
        "callback": callback,
        "query": "eventType=serviceOrderCreateEvent",
    }
    assert seller.hubs("allegro") == [got.json()]
    assert seller.hubs("legato") == []

    create(client, seller, "legato")  # other reference point: nobody listens there
    seller.wait_idle()
    assert recorder.calls == []

    deleted = client.delete(base + "hub/" + hub_id)
    assert deleted.status_code == 204
    assert client.get(base + "hub/" + hub_id).status_code == 404
    assert client.delete(base + "hub/" + hub_id).status_code == 404
    create(client, seller, "allegro")
    seller.wait_idle()
    assert recorder.calls == []


def test_failed_deliveries_are_logged_once(seller: MockSeller, client: httpx.Client) -> None:
    refusing = Recorder(status=500)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with BackgroundServer(refusing) as server:
        register(client, seller, "allegro", server.url, query="eventType=serviceOrderCreateEvent")
        register(
            client,
            seller,
            "allegro",
            f"http://127.0.0.1:{closed_port}",
            query="eventType=serviceOrderCreateEvent",
        )
        create(client, seller, "allegro")
        seller.wait_idle()
    deliveries = sorted(seller.deliveries, key=lambda d: d.status_code or 0)
    assert len(deliveries) == 2
    unreachable, refused = deliveries
    assert unreachable.status_code is None and unreachable.error and not unreachable.ok
    assert refused.status_code == 500 and not refused.ok
    assert len(refusing.calls) == 1


def test_notify_false_sends_nothing(client: httpx.Client, listener: tuple[Recorder, str]) -> None:
    recorder, callback = listener
    with MockSeller(step_delay=0.001, notify=False) as seller:
        register(client, seller, "allegro", callback)
        created = create(client, seller, "allegro")
        seller.wait_idle()
        assert seller.order(created["id"])["state"] == "completed"
    assert recorder.calls == []
    assert seller.deliveries == []


# -- listing and pagination ---------------------------------------------------------------


def test_pagination_headers_and_throttling(client: httpx.Client) -> None:
    with MockSeller(max_page_size=10) as seller:
        ids = seller.seed_orders(25, reference_point="legato")
        url = seller.api_url("legato") + "serviceOrder"

        def page(**params: Any) -> httpx.Response:
            response = client.get(url, params=params)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json;charset=utf-8"
            return response

        first = page(offset=0, limit=5)
        assert [o["id"] for o in first.json()] == ids[:5]
        assert first.headers["x-total-count"] == "25"
        assert first.headers["x-result-count"] == "5"
        assert first.headers["x-pagination-throttled"] == "false"

        cut = page(offset=3, limit=50)
        assert [o["id"] for o in cut.json()] == ids[3:13]
        assert cut.headers["x-result-count"] == "10"
        assert cut.headers["x-pagination-throttled"] == "true"

        assert page().headers["x-pagination-throttled"] == "true"
        tail = page(offset=20, limit=50)
        assert [o["id"] for o in tail.json()] == ids[20:]
        assert tail.headers["x-pagination-throttled"] == "false"
        beyond = page(offset=30, limit=5)
        assert beyond.json() == []
        assert beyond.headers["x-result-count"] == "0"

        for bad in ({"limit": "-1"}, {"offset": "x"}):
            response = client.get(url, params=bad)
            assert response.status_code == 400
            assert response.json()["code"] == "invalidQuery"


def test_list_filters(seller: MockSeller, client: httpx.Client) -> None:
    completed = seller.seed_orders(3, state="completed")
    failed = seller.seed_orders(2, state="failed")
    url = seller.api_url("allegro") + "serviceOrder"

    def ids(**params: str) -> list[str]:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["x-total-count"] == str(len(response.json()))
        return [o["id"] for o in response.json()]

    assert ids(state="failed") == failed
    assert ids(state="completed") == completed
    assert ids(state="held") == []
    # Within one seeding call, orderDates are one second apart (completion half a second
    # later), so a middle order splits the batch.
    batch = seller.seed_orders(5, reference_point="legato")
    legato = seller.api_url("legato") + "serviceOrder"
    pivot = seller.order(batch[2])["orderDate"]

    def legato_ids(**params: str) -> list[str]:
        return [o["id"] for o in client.get(legato, params=params).json()]

    assert legato_ids(**{"orderDate.gt": pivot}) == batch[3:]
    assert legato_ids(**{"orderDate.lt": pivot}) == batch[:2]
    assert legato_ids(**{"completionDate.gt": pivot}) == batch[2:]
    assert legato_ids(**{"orderDate.gt": pivot, "completionDate.lt": pivot}) == []
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    assert ids(**{"expectedCompletionDate.lt": later, "state": "completed"}) == completed
    assert ids(**{"startDate.gt": later}) == []
    for bad in (
        {"state": "done"},
        {"orderDate.gt": "yesterday"},
        {"startDate.lt": "2030-01-01T00:00:00"},
    ):
        response = client.get(url, params=bad)
        assert response.status_code == 400
        assert response.json()["code"] == "invalidQuery"


def test_ten_thousand_orders_page_quickly(client: httpx.Client) -> None:
    with MockSeller(max_page_size=1000) as seller:
        started = time.perf_counter()
        seeded = seller.seed_orders(10_000)
        seeding = time.perf_counter() - started
        url = seller.api_url("allegro") + "serviceOrder"
        seen: list[str] = []
        started = time.perf_counter()
        offset = 0
        while True:
            response = client.get(url, params={"offset": offset, "limit": 500})
            assert response.headers["x-total-count"] == "10000"
            page = response.json()
            seen.extend(o["id"] for o in page)
            offset += len(page)
            if len(page) < 500:
                break
        paging = time.perf_counter() - started
    assert seen == seeded
    assert len(set(seen)) == 10_000
    assert seeding < 5.0, seeding
    assert paging < 5.0, paging


def test_seeded_held_order_can_be_released(seller: MockSeller) -> None:
    (order_id,) = seller.seed_orders(1, reference_point="legato", state="held", items=2)
    assert seller.order(order_id)["state"] == "held"
    seller.release(order_id)
    seller.wait_idle()
    order = seller.order(order_id)
    assert order["state"] == "completed"
    assert_order_shape(order)
    with pytest.raises(KeyError):
        seller.release("no-such-order")


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_error_responses(seller: MockSeller, client: httpx.Client, rp: str) -> None:
    base = seller.api_url(rp)
    missing = client.get(base + "serviceOrder/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json;charset=utf-8"
    assert missing.json()["code"] == "notFound"
    assert missing.json()["reason"]
    assert client.get(base + "hub/nope").json()["code"] == "notFound"

    not_json = client.post(
        base + "serviceOrder",
        content=b"{not json",
        headers={"content-type": "application/json;charset=utf-8"},
    )
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "invalidBody"

    body = order_body()
    del body["requestedStartDate"]
    body["requestedCompletionDate"] = "2030-01-01T00:00:00"  # no offset
    del body["serviceOrderItem"][1]["service"]
    body["serviceOrderItem"][0]["action"] = "upgrade"
    invalid = client.post(base + "serviceOrder", json=body)
    assert invalid.status_code == 422
    assert {(e["code"], e["propertyPath"]) for e in invalid.json()} == {
        ("missingProperty", "/requestedStartDate"),
        ("invalidFormat", "/requestedCompletionDate"),
        ("missingProperty", "/serviceOrderItem/1/service"),
        ("invalidValue", "/serviceOrderItem/0/action"),
    }
    assert all(e["reason"] for e in invalid.json())
    empty = client.post(base + "serviceOrder", json=order_body(items=0))
    assert empty.status_code == 422
    assert empty.json()[0]["propertyPath"] == "/serviceOrderItem"
    assert seller.orders(rp) == []

    bad_hub = client.post(base + "hub", json={"query": "eventType=x"})
    if rp == "allegro":  # Allegro defines 422 for hub registration, Legato v5 only 400
        assert bad_hub.status_code == 422
        assert bad_hub.json()[0]["propertyPath"] == "/callback"
    else:
        assert bad_hub.status_code == 400
        assert bad_hub.json()["code"] == "invalidBody"

    # No SDK ships ordering v5 at Interlude, so the seller serves none there.
    assert (
        client.get(
            seller.url + "/mefApi/interlude/serviceOrderingManagement/v5/serviceOrder"
        ).status_code
        == 404
    )


# -- generated models (the SDK's own view of the spec) -------------------------------------


def generated(module: str) -> Any:
    return pytest.importorskip(f"lso_client._generated.{module}")


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_responses_validate_against_generated_models(
    seller: MockSeller, client: httpx.Client, rp: str
) -> None:
    models = generated(f"service_ordering_{GENERATED[rp]}")
    base = seller.api_url(rp)
    created = create(client, seller, rp)
    seller.set_scenario("partial")
    create(client, seller, rp)
    seller.seed_orders(3, reference_point=rp, state="held", items=2)
    seller.wait_idle()
    models.ServiceOrder.model_validate(created, strict=False)
    listed = client.get(base + "serviceOrder").json()
    assert len(listed) == 5
    for order in listed:
        parsed = models.ServiceOrder.model_validate(order, strict=False)
        assert parsed.id == order["id"]
    hub = client.post(base + "hub", json={"callback": "http://127.0.0.1:9/x"}).json()
    models.EventSubscription.model_validate(hub, strict=False)
    models.Error404.model_validate(client.get(base + "serviceOrder/x").json(), strict=False)
    errors = client.post(base + "serviceOrder", json={}).json()
    for error in errors:
        models.Error422.model_validate(error, strict=False)


@pytest.mark.parametrize("rp", REFERENCE_POINTS)
def test_notifications_validate_against_generated_models(
    client: httpx.Client, listener: tuple[Recorder, str], rp: str
) -> None:
    models = generated(f"service_ordering_notification_{GENERATED[rp]}")
    recorder, callback = listener
    with MockSeller(step_delay=0.002) as seller:
        register(client, seller, rp, callback)
        seller.set_scenario("pending")
        created = create(client, seller, rp)
        seller.wait_idle()
        seller.provide_information(created["id"])
        seller.wait_idle()
    events = recorder.events
    assert {e["eventType"] for e in events} == {
        "serviceOrderCreateEvent",
        "serviceOrderStateChangeEvent",
        "serviceOrderItemStateChangeEvent",
        "serviceOrderInformationRequiredEvent",
    }
    for event in events:
        if rp == "legato":
            model = models.ServiceOrderEvent
        else:
            name = event["eventType"][0].upper() + event["eventType"][1:]
            model = getattr(models, name)
        parsed = model.model_validate(event, strict=False)
        assert parsed.event.id == created["id"]


# -- embedding ---------------------------------------------------------------------------------


def test_pytest_fixture_gives_a_running_seller(mock_seller: MockSeller) -> None:  # noqa: F811
    assert mock_seller.running
    response = httpx.post(mock_seller.api_url("allegro") + "serviceOrder", json=order_body())
    assert response.status_code == 201
    mock_seller.wait_idle()
    assert mock_seller.orders()[0]["state"] == "completed"


def test_plugin_import_is_light() -> None:
    # A fresh interpreter: what importing the plugin (as pytest does at start-up) loads.
    code = (
        "import sys, lso_client.testing._pytest_plugin as p; "
        "print(sorted(m for m in ('uvicorn', 'lso_client.testing._seller') "
        "if m in sys.modules))"
    )
    server = importlib.import_module("lso_client.notifications._server")
    root = Path(server.__file__ or "").parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


async def test_seller_is_a_plain_asgi_app() -> None:
    seller = MockSeller(step_delay=0.001, seed=1)
    transport = httpx.ASGITransport(app=seller)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
        base = MANAGEMENT_BASE["legato"]
        response = await http.post(base + "serviceOrder", json=order_body())
        assert response.status_code == 201
        await seller.wait_idle_async()
        final = (await http.get(base + "serviceOrder/" + response.json()["id"])).json()
    assert final["state"] == "completed"
    assert final["href"].startswith("http://mock" + base)


def test_seeded_ids_are_reproducible() -> None:
    first = MockSeller(seed=42).seed_orders(3)
    assert MockSeller(seed=42).seed_orders(3) == first
    assert MockSeller(seed=43).seed_orders(3) != first


def test_reset_forgets_everything(seller: MockSeller, client: httpx.Client) -> None:
    seller.set_scenario("held")
    register(client, seller, "allegro", "http://127.0.0.1:9/x")
    created = create(client, seller, "allegro")
    seller.reset()
    seller.wait_idle()
    assert seller.orders() == [] and seller.hubs() == []
    with pytest.raises(KeyError):
        seller.order(created["id"])
    assert create(client, seller, "allegro")["state"] == "acknowledged"
    seller.wait_idle()
    assert seller.orders()[0]["state"] == "completed"
