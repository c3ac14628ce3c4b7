"""Typed payloads through the clients and the listener with the generated models: a
shipped URN at an extension point parses as its payload model in responses (every
reference point, sync and async, list pages) and events; a broken one is a deviation
or a `ResponseValidationError` with its path; request payloads are checked before
sending and sent with all their fields."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import httpx
import pytest
import respx

from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    InterludeClient,
    LegatoClient,
    RequestValidationError,
    ResponseValidationError,
    payloads,
)
from lso_client._model import Payload
from lso_client.notifications import Notification, NotificationListener
from lso_client.types.payloads.allegro.carrier_ethernet.carrier_ethernet_ovc_end_point import (
    CarrierEthernetOvcEndPoint,
)
from lso_client.types.service_ordering_v1 import ServiceOrderCreate, ServiceOrderItemCreate

OrderBuilder = Callable[..., dict[str, Any]]


SELLER = "https://seller.example"
ALLEGRO = SELLER + "/mefApi/allegro/serviceOrderingManagement/v1"
LEGATO = SELLER + "/mefApi/legato/serviceOrderingManagement/v5"
INTERLUDE = SELLER + "/mefApi/interlude/serviceOrderingManagement/v1"

OVC_EP = "urn:mef:lso:spec:service:carrier-ethernet-ovc-end-point:v1.0.0:all"
UNKNOWN = "urn:acme:lso:spec:acme-wavelength:v2.1.0:all"
PATH = ["serviceOrderItem", 0, "service", "serviceConfiguration"]


def ovc_end_point(level: Any = 3) -> dict[str, Any]:
    return {
        "@type": OVC_EP,
        "identifier": "ep-1",
        "epType": "ENNI",
        "maintenanceEndPointList": [{"level": level}],
        "sellerMarker": {"kept": True},
    }


def with_configuration(order: dict[str, Any], configuration: dict[str, Any]) -> dict[str, Any]:
    order = copy.deepcopy(order)
    order["serviceOrderItem"][0]["service"]["serviceConfiguration"] = configuration
    return order


def configuration(order: Any, item: int = 0) -> Any:
    return order.service_order_item[item].service.service_configuration


def generic(value: Any) -> bool:
    """Whether `value` is an extension point's own object (no payload model)."""
    return isinstance(value, Payload) and type(value).__lso_urn__ is None


def test_the_shipped_model_is_the_registered_one() -> None:
    assert payloads.model_for(OVC_EP) is CarrierEthernetOvcEndPoint


@pytest.mark.parametrize(
    ("client_class", "base", "builder"),
    [
        (AllegroClient, ALLEGRO, "so_allegro_order"),
        (LegatoClient, LEGATO, "so_legato_order"),
        (InterludeClient, INTERLUDE, "so_allegro_order"),
    ],
)
def test_a_response_payload_is_typed_at_every_reference_point(
    client_class: Any, base: str, builder: str, request: pytest.FixtureRequest
) -> None:
    order = with_configuration(request.getfixturevalue(builder)("so-1"), ovc_end_point())
    with client_class(SELLER, token="t") as client, respx.mock() as router:
        router.get(f"{base}/serviceOrder/so-1").respond(200, json=order)
        found = client.service_orders.retrieve("so-1")
    typed = configuration(found)
    assert type(typed) is CarrierEthernetOvcEndPoint
    assert typed.identifier == "ep-1"
    assert typed.maintenance_end_point_list[0].level == 3
    assert typed.model_extra == {"sellerMarker": {"kept": True}}
    assert found.spec_deviations == []
    assert found.to_dict() == order


def test_a_broken_known_payload_is_a_deviation_with_its_path_and_kept_whole(
    so_allegro_order: OrderBuilder,
) -> None:
    broken = ovc_end_point(level=9)
    order = with_configuration(so_allegro_order("so-1"), broken)
    with AllegroClient(SELLER, token="t") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
        found = client.service_orders.retrieve("so-1")
    assert found.spec_deviations == []  # the envelope conforms; the payload is typed when read
    kept = configuration(found)
    assert generic(kept)
    assert [d["loc"] for d in kept.spec_deviations] == [["maintenanceEndPointList", 0, "level"]]
    assert kept.to_dict() == broken
    assert found.to_dict() == order


def test_a_broken_known_payload_is_refused_in_strict_mode(so_allegro_order: OrderBuilder) -> None:
    order = with_configuration(so_allegro_order("so-1"), ovc_end_point(level=9))
    with AllegroClient(SELLER, token="t", strict=True) as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
        with pytest.raises(ResponseValidationError) as caught:
            client.service_orders.retrieve("so-1")
    assert "serviceOrderItem.0.service.serviceConfiguration.maintenanceEndPointList.0.level" in (
        str(caught.value)
    )


def test_an_unknown_urn_stays_generic_without_deviation(so_allegro_order: OrderBuilder) -> None:
    unknown = {"@type": UNKNOWN, "lambda": {"nm": 1550.12}, "channels": [1, 2]}
    order = with_configuration(so_allegro_order("so-1"), unknown)
    with AllegroClient(SELLER, token="t", strict=True) as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
        found = client.service_orders.retrieve("so-1")
    assert generic(configuration(found))
    assert configuration(found).model_extra == {"lambda": {"nm": 1550.12}, "channels": [1, 2]}
    assert found.to_dict() == order


def test_async_client_and_list_pages_type_payloads(so_allegro_order: OrderBuilder) -> None:
    page = [
        with_configuration(so_allegro_order("so-1"), ovc_end_point()),
        with_configuration(so_allegro_order("so-2"), ovc_end_point(level=9)),
        with_configuration(so_allegro_order("so-3"), {"@type": UNKNOWN, "x": 1}),
    ]

    async def run() -> list[Any]:
        async with AsyncAllegroClient(SELLER, token="t") as client:
            with respx.mock() as router:
                router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=page)
                router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=page[0])
                listed = [order async for order in client.service_orders.list()]
                listed.append(await client.service_orders.retrieve("so-1"))
                return listed

    first, second, third, retrieved = asyncio.run(run())
    assert type(configuration(first)) is CarrierEthernetOvcEndPoint
    assert type(configuration(retrieved)) is CarrierEthernetOvcEndPoint
    assert generic(configuration(second))
    assert [d["loc"] for d in configuration(second).spec_deviations] == [
        ["maintenanceEndPointList", 0, "level"]
    ]
    assert first.spec_deviations == second.spec_deviations == third.spec_deviations == []
    assert generic(configuration(third))
    assert [o.to_dict() for o in (first, second, third)] == page


def test_sync_list_pages_type_payloads(so_allegro_order: OrderBuilder) -> None:
    page = [with_configuration(so_allegro_order(f"so-{i}"), ovc_end_point()) for i in range(3)]
    with AllegroClient(SELLER, token="t") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=page)
        listed = list(client.service_orders.list())
    assert [type(configuration(o)) for o in listed] == [CarrierEthernetOvcEndPoint] * 3


# ----------------------------------------------------------------------------- requests


def test_a_bad_request_payload_is_refused_before_sending_with_its_path(
    so_allegro_order_create: OrderBuilder,
) -> None:
    body = with_configuration(so_allegro_order_create(), ovc_end_point(level=9))
    with (
        AllegroClient(SELLER, token="t") as client,
        respx.mock(assert_all_called=False) as router,
    ):
        route = router.route().respond(201, json={})
        with pytest.raises(RequestValidationError) as caught:
            client.service_orders.create(body)
    assert route.call_count == 0
    assert "serviceOrderItem.0.service.serviceConfiguration.maintenanceEndPointList.0.level" in (
        str(caught.value)
    )
    assert [e["loc"] for e in caught.value.errors] == [
        (*PATH, "maintenanceEndPointList", 0, "level")
    ]


def _created(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(body))
    out.update(id="so-new", state="acknowledged", orderDate="2024-05-01T09:30:00Z")
    for item in out["serviceOrderItem"]:
        item["state"] = "acknowledged"
    return out


@pytest.mark.parametrize(
    "payload", [ovc_end_point(), {"@type": UNKNOWN, "n": [1, None, {"deep": "x"}]}]
)
def test_a_dict_payload_is_sent_as_given(
    so_allegro_order_create: OrderBuilder, payload: dict[str, Any]
) -> None:
    body = with_configuration(so_allegro_order_create(), payload)
    with AllegroClient(SELLER, token="t") as client, respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(body))
        created = client.service_orders.create(body)
    assert json.loads(route.calls.last.request.content) == body
    assert configuration(created).to_dict() == payload


def test_a_payload_model_is_sent_with_all_its_fields(
    so_allegro_order_create: OrderBuilder,
) -> None:
    wire = so_allegro_order_create()
    typed = CarrierEthernetOvcEndPoint(
        identifier="ep-7", ep_type="ENNI", maintenance_end_point_list=[{"level": 2}]
    )
    expected = {
        "@type": OVC_EP,
        "identifier": "ep-7",
        "epType": "ENNI",
        "maintenanceEndPointList": [{"level": 2}],
    }
    wire = with_configuration(wire, expected)
    body = ServiceOrderCreate.model_validate(wire)
    body.service_order_item[0].service.service_configuration = typed
    with AllegroClient(SELLER, token="t") as client, respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        created = client.service_orders.create(body)
    sent = json.loads(route.calls.last.request.content)
    assert sent == wire
    assert type(configuration(created)) is CarrierEthernetOvcEndPoint


def test_a_payload_model_placed_in_a_typed_body_is_taken_as_it_is() -> None:
    typed = CarrierEthernetOvcEndPoint(identifier="ep-8")
    item = ServiceOrderItemCreate.model_validate(
        {"id": "1", "action": "add", "service": {"serviceConfiguration": typed}}
    )
    assert item.service.service_configuration is typed


# ----------------------------------------------------------------------------- listener


@pytest.fixture
def listener() -> Iterator[NotificationListener]:
    # The default resolver: the generated notification models.
    started = NotificationListener(inbox="memory").start()
    yield started
    started.stop(timeout=5)


LOS = "urn:mef:xid:spec:service:ip-alarm-los:v0.0.1:all"
ALARMS = "/hooks/mefApi/allegro/alarmNotification/v3/listener"


def alarm_event(event_id: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventTime": "2026-03-01T10:15:30.123Z",
        "eventType": "alarmCreateEvent",
        "event": {
            "alarm": {
                "id": "alarm-1",
                "alarmDetails": "loss of signal",
                "alarmRaisedTime": "2026-03-01T10:15:00Z",
                "alarmReportingTime": "2026-03-01T10:15:01Z",
                "alarmType": "communicationsAlarm",
                "perceivedSeverity": "major",
                "serviceAffecting": True,
                "state": "unAcknowledged",
                "isRootCause": True,
                "alarmSpecificAttributes": details,
            }
        },
    }


def test_events_through_the_listener_carry_typed_payloads(
    listener: NotificationListener,
) -> None:
    """Alarm details are an extension point of the generated alarm events."""
    seen: list[Notification] = []
    listener.add_handler(seen.append)
    los = {"@type": LOS, "interface": "ge-0/0/1"}
    broken = {"@type": LOS, "interface": 5}
    with httpx.Client(timeout=10) as client:
        for event_id, details in (("ev-1", los), ("ev-2", broken), ("ev-3", {"@type": UNKNOWN})):
            url = f"{listener.url}{ALARMS}/alarmCreateEvent"
            response = client.post(url, json=alarm_event(event_id, details))
            assert response.status_code == 204, response.text
    assert listener.join(timeout=5)
    by_id = {n.event_id: n for n in seen}
    typed = by_id["ev-1"].event.alarm.alarm_specific_attributes
    assert type(typed) is payloads.model_for(LOS)
    assert typed.interface == "ge-0/0/1"
    assert by_id["ev-1"].deviations == []
    kept = by_id["ev-2"].event.alarm.alarm_specific_attributes
    assert kept.to_dict() == broken and generic(kept)
    assert by_id["ev-2"].deviations == []  # the envelope conforms
    assert [d["loc"] for d in kept.spec_deviations] == [["interface"]]
    assert by_id["ev-3"].event.alarm.alarm_specific_attributes.to_dict() == {"@type": UNKNOWN}
    assert by_id["ev-3"].deviations == []


@pytest.mark.parametrize("kind", [OrderedDict, MappingProxyType])
def test_a_payload_in_any_mapping_is_checked_before_sending(
    so_allegro_order_create: OrderBuilder, kind: Callable[[dict[str, Any]], Any]
) -> None:
    body = with_configuration(so_allegro_order_create(), {})
    body["serviceOrderItem"][0]["service"]["serviceConfiguration"] = kind(ovc_end_point(level=9))
    with (
        AllegroClient(SELLER, token="t") as client,
        respx.mock(assert_all_called=False) as router,
    ):
        route = router.route().respond(201, json={})
        with pytest.raises(
            RequestValidationError, match=re.escape("maintenanceEndPointList.0.level")
        ):
            client.service_orders.create(body)
    assert route.call_count == 0


def test_a_nested_payload_model_received_without_type_goes_back_without_it() -> None:
    # The Legato L1 subscriber VC holds the L1 SLS payload model, whose schema has no
    # `@type`: what the seller sent comes back as sent.
    sent = {
        "@type": "urn:mef:lso:spec:legato:L1SubscriberVc:v2.0.0:all",
        "l1ServiceLevelSpecification": {},
    }
    parsed = Payload.model_validate(sent)
    assert type(parsed).__name__ == "L1SubscriberVc"
    assert parsed.to_dict() == sent


def test_a_payload_model_changed_after_it_was_built_is_refused_before_sending(
    so_allegro_order_create: OrderBuilder,
) -> None:
    built = CarrierEthernetOvcEndPoint(identifier="ep-7", ep_type="ENNI")
    changed = built.model_copy(update={"ep_type": "nonsense"})
    body = ServiceOrderCreate.model_validate(
        with_configuration(so_allegro_order_create(), ovc_end_point())
    )
    body.service_order_item[0].service.service_configuration = changed
    with (
        AllegroClient(SELLER, token="t") as client,
        respx.mock(assert_all_called=False) as router,
    ):
        route = router.route().respond(201, json={})
        with pytest.raises(RequestValidationError, match="does not fit its field"):
            client.service_orders.create(body)
    assert route.call_count == 0


# ----------------------------------------------------------------------------- typed at once


def held(order: Any, item: int = 0) -> Any:
    """What the order's item holds at its service configuration, without reading the
    field (which would type a payload kept for typing on read)."""
    return order.service_order_item[item].service.__dict__["service_configuration"]


def test_payloads_at_once_types_every_payload_while_parsing(
    so_allegro_order: OrderBuilder,
) -> None:
    page = [with_configuration(so_allegro_order(f"so-{i}"), ovc_end_point()) for i in range(3)]
    with AllegroClient(SELLER, token="t", payloads="at_once") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=page)
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=page[1])
        listed = list(client.service_orders.list())
        retrieved = client.service_orders.retrieve("so-1")
    assert [type(held(o)) for o in (*listed, retrieved)] == [CarrierEthernetOvcEndPoint] * 4
    assert [o.to_dict() for o in listed] == page


def test_payloads_are_typed_on_read_by_default_and_per_call_either_way(
    so_allegro_order: OrderBuilder,
) -> None:
    order = with_configuration(so_allegro_order("so-1"), ovc_end_point())
    with AllegroClient(SELLER, token="t") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
        lazy = client.service_orders.retrieve("so-1")
        eager = client.service_orders.retrieve("so-1", payloads="at_once")
        copy_eager = client.with_options(payloads="at_once").service_orders.retrieve("so-1")
        back = client.with_options(payloads="at_once").service_orders.retrieve(
            "so-1", payloads="on_read"
        )
    assert client.payloads == "on_read"
    assert generic(held(lazy)) and generic(held(back))
    assert type(held(eager)) is type(held(copy_eager)) is CarrierEthernetOvcEndPoint
    assert type(configuration(lazy)) is CarrierEthernetOvcEndPoint  # typed on this read


def test_a_broken_payload_under_payloads_at_once_is_a_deviation_of_the_response(
    so_allegro_order: OrderBuilder,
) -> None:
    broken = ovc_end_point(level=9)
    page = [
        with_configuration(so_allegro_order("so-1"), ovc_end_point()),
        with_configuration(so_allegro_order("so-2"), broken),
    ]
    with AllegroClient(SELLER, token="t", payloads="at_once") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=page)
        listed = client.service_orders.list()
        first, second = list(listed)
    # Found while parsing: a departure of the order that holds the payload.
    assert first.spec_deviations == []
    assert [d["loc"] for d in second.spec_deviations] == [
        [*PATH, "maintenanceEndPointList", 0, "level"]
    ]
    # The response is kept as received: the conforming payload is typed (when read), the
    # broken one stays generic with its own deviation.
    assert type(configuration(first)) is CarrierEthernetOvcEndPoint
    kept = configuration(second)
    assert generic(kept)
    assert [d["loc"] for d in kept.spec_deviations] == [["maintenanceEndPointList", 0, "level"]]
    assert [o.to_dict() for o in (first, second)] == page


def test_async_client_types_payloads_at_once(so_allegro_order: OrderBuilder) -> None:
    page = [with_configuration(so_allegro_order(f"so-{i}"), ovc_end_point()) for i in range(2)]

    async def run() -> tuple[list[Any], Any, Any]:
        async with AsyncAllegroClient(SELLER, token="t", payloads="at_once") as client:
            with respx.mock() as router:
                router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=page)
                router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=page[1])
                listed = [order async for order in client.service_orders.list()]
                lazy = await client.service_orders.retrieve("so-1", payloads="on_read")
                eager = await client.with_options(payloads="on_read").service_orders.retrieve(
                    "so-1", payloads="at_once"
                )
                return listed, lazy, eager

    listed, lazy, eager = asyncio.run(run())
    assert [type(held(o)) for o in (*listed, eager)] == [CarrierEthernetOvcEndPoint] * 3
    assert generic(held(lazy))


@pytest.mark.parametrize("value", ["eager", "", None, True])
def test_a_payloads_setting_that_is_neither_is_refused_before_any_call(value: Any) -> None:
    with pytest.raises(ValueError, match='payloads: "on_read" or "at_once"'):
        AllegroClient(SELLER, token="t", payloads=value)
    with AllegroClient(SELLER, token="t") as client, respx.mock(assert_all_called=False) as router:
        route = router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json={})
        with pytest.raises(ValueError, match='payloads: "on_read" or "at_once"'):
            client.with_options(payloads=value)
        with pytest.raises(ValueError, match='payloads: "on_read" or "at_once"'):
            client.service_orders.retrieve("so-1", payloads=value)
    assert not route.called


def test_reconcile_takes_the_calls_payloads_and_strict(so_allegro_order: OrderBuilder) -> None:
    order = with_configuration(so_allegro_order("so-1"), ovc_end_point())
    order["externalId"] = "ext-1"
    broken = with_configuration(order, ovc_end_point(level=9))
    body = {"externalId": "ext-1", "serviceOrderItem": []}
    with AllegroClient(SELLER, token="t") as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=[order])
        one = router.get(f"{ALLEGRO}/serviceOrder/so-1")
        one.respond(200, json=order)
        lazy = client.service_orders.reconcile(body)
        eager = client.service_orders.reconcile(body, payloads="at_once")
        one.respond(200, json=broken)
        with pytest.raises(ResponseValidationError):
            client.service_orders.reconcile(body, strict=True)
    assert generic(held(lazy))
    assert type(held(eager)) is CarrierEthernetOvcEndPoint


def test_async_reconcile_takes_the_calls_payloads(so_allegro_order: OrderBuilder) -> None:
    order = with_configuration(so_allegro_order("so-1"), ovc_end_point())
    order["externalId"] = "ext-1"
    body = {"externalId": "ext-1", "serviceOrderItem": []}

    async def run() -> Any:
        async with AsyncAllegroClient(SELLER, token="t") as client:
            with respx.mock() as router:
                router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=[order])
                router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
                return await client.service_orders.reconcile(body, payloads="at_once")

    assert type(held(asyncio.run(run()))) is CarrierEthernetOvcEndPoint


@pytest.mark.parametrize("setting", ["on_read", "at_once"])
def test_a_null_inside_a_payload_is_a_deviation_of_the_payload_either_way(
    so_allegro_order: OrderBuilder, setting: str
) -> None:
    payload = {**ovc_end_point(), "identifier": None}
    order = with_configuration(so_allegro_order("so-1"), payload)
    with AllegroClient(SELLER, token="t", payloads=setting) as client, respx.mock() as router:
        router.get(f"{ALLEGRO}/serviceOrder/so-1").respond(200, json=order)
        found = client.service_orders.retrieve("so-1")
    typed = configuration(found)
    assert type(typed) is CarrierEthernetOvcEndPoint
    assert [d["loc"] for d in typed.spec_deviations] == [["identifier"]]
    # Found while parsing the order (at once), it is the order's too.
    expected = [[*PATH, "identifier"]] if setting == "at_once" else []
    assert [d["loc"] for d in found.spec_deviations] == expected
    assert found.to_dict() == order
