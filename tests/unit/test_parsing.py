"""Responses through the client: what a seller sends comes back out of `.to_dict()` intact,
deviations from the spec are tolerated (and recorded) or refused (strict), and unusable
bodies become `ResponseValidationError`, never a crash."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import respx

from lso_client import (
    AllegroClient,
    APIStatusError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    LegatoClient,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    UnprocessableEntityError,
)
from lso_client._generated import service_ordering_v1 as m1
from lso_client._generated import service_ordering_v5 as m5

SELLER = "https://seller.example"
ALLEGRO = SELLER + "/mefApi/allegro/serviceOrderingManagement/v1"
LEGATO = SELLER + "/mefApi/legato/serviceOrderingManagement/v5"

OrderBuilder = Callable[..., dict[str, Any]]
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _instants(value: Any) -> Any:
    """The JSON value with every date-time string replaced by the instant it denotes."""
    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and _DATETIME.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _instant(text: str) -> datetime:
    """The instant an RFC 3339 text denotes, to the microsecond (also on Python 3.10)."""
    found = re.fullmatch(r"(.{19})(?:\.(\d+))?(.*)", text.upper().replace("Z", "+00:00"))
    assert found is not None
    head, fraction, zone = found.groups()
    return datetime.fromisoformat(f"{head}.{(fraction or '').ljust(6, '0')[:6]}{zone}")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture
def allegro() -> Iterator[AllegroClient]:
    with AllegroClient(SELLER, token="t0k3n", max_retries=0) as client:
        yield client


@pytest.fixture
def allegro_strict() -> Iterator[AllegroClient]:
    with AllegroClient(SELLER, token="t0k3n", max_retries=0, strict=True) as client:
        yield client


def _serve(router: respx.MockRouter, path: str, payload: Any, status: int = 200) -> respx.Route:
    return router.get(path).respond(
        status, content=json.dumps(payload).encode(), content_type="application/json"
    )


# --------------------------------------------------------------------------- round trip


def test_conforming_order_round_trips_exactly(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    """Everything received comes back: 25 nested serviceConfiguration fields (objects,
    lists, integers up to 10**10 and beyond 2**64, floats, booleans, nulls, `{}`, `[]`) and
    unknown fields at order, item and service level. Every value is byte-identical once
    keys are sorted: object key order follows the model's field order, not the wire."""
    payload = so_allegro_order()
    payload["sellerTrackingCode"] = {"ticket": "INC-42", "escalated": False}
    payload["serviceOrderItem"][0]["sellerItemRank"] = 1
    payload["serviceOrderItem"][0]["service"]["sellerServiceAlias"] = ["EVC-A", "EVC-B"]
    payload["serviceOrderItem"][0]["service"]["serviceConfiguration"]["bigCounter"] = 2**64 + 1
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")

    assert isinstance(order, m1.ServiceOrder)
    assert order.spec_deviations == []
    assert _canonical(order.to_dict()) == _canonical(payload)
    assert json.loads(order.to_json()) == payload
    config = order.service_order_item[0].service.service_configuration
    assert config is not None
    assert (
        config.type
        == payload["serviceOrderItem"][0]["service"]["serviceConfiguration"]["@type"]
    )
    assert len(config.to_dict()) == 26
    assert order.model_extra == {"sellerTrackingCode": {"ticket": "INC-42", "escalated": False}}


@pytest.mark.parametrize(
    "received",
    [
        "2024-05-01T09:30:00Z",
        "2024-05-01T09:30:00-05:30",
        "2024-05-01T09:30:00.123456+02:00",
        "2024-05-01T09:30:00+00:00",
        "2024-05-01T09:30:00.120Z",
        "2024-05-01T09:30:00.000Z",
        "2023-06-01T10:00:57.382Z",
        "2024-05-01T09:30:00.9620906Z",
        "2024-05-01t09:30:00z",
        "2024-05-01 09:30:00.5-05:30",
        "2024-05-01T09:30:00.000001Z",
        "2024-05-01T23:59:59.999999+05:45",
        "2024-05-01T09:30:00-00:00",
        "2024-05-01T09:30:00.100-02:00",
    ],
)
def test_datetimes_round_trip_as_received(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, received: str
) -> None:
    """A date-time comes back as the text received (not `.120000Z`, not `Z` for
    `+00:00`), and its value is still the `datetime` it denotes."""
    payload = so_allegro_order()
    payload["orderDate"] = received
    payload["serviceOrderItem"][0]["note"][0]["date"] = received
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")

    assert order.spec_deviations == []
    out = order.to_dict()
    assert out["orderDate"] == received
    assert out["serviceOrderItem"][0]["note"][0]["date"] == received
    assert json.loads(order.to_json())["orderDate"] == received
    assert isinstance(order.order_date, datetime)
    assert order.order_date == _instant(received)


def test_nanoseconds_are_truncated_in_the_value_and_kept_in_the_text(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    """Python datetimes hold microseconds: the value loses the last three digits of a
    nanosecond timestamp (truncated, not rounded); the text sent back keeps them."""
    payload = so_allegro_order()
    payload["orderDate"] = "2024-05-01T09:30:00.123456789+02:00"
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    assert order.order_date.microsecond == 123456
    assert order.to_dict()["orderDate"] == "2024-05-01T09:30:00.123456789+02:00"


def test_legato_order_round_trips(
    so_legato_order: OrderBuilder,
) -> None:
    payload = so_legato_order()
    payload["serviceOrderItem"][0]["service"]["place"][1]["sellerGeoCode"] = "M1 1AA"
    with LegatoClient(SELLER, token="t") as client, respx.mock(base_url=LEGATO) as router:
        _serve(router, "/serviceOrder/so-5001", payload)
        order = client.service_orders.retrieve("so-5001")
    assert isinstance(order, m5.ServiceOrder)
    assert order.spec_deviations == []
    assert _canonical(order.to_dict()) == _canonical(payload)
    place = order.service_order_item[0].service.place
    assert place is not None
    assert isinstance(place[1], m5.FormattedAddress)


def test_legato_places_parse_by_their_type(so_legato_order: OrderBuilder) -> None:
    """Legato places are one flat list discriminated by `@type`; a type the spec does not
    name (extensions via `@schemaLocation`) is kept with all its fields."""
    payload = so_legato_order()
    extension = {
        "@type": "DataCentreCage",
        "@schemaLocation": "https://seller.example/schemas/cage.json",
        "role": "INSTALL_LOCATION",
        "cage": "C-12",
        "rack": 4,
    }
    payload["serviceOrderItem"][0]["service"]["place"].append(extension)
    with LegatoClient(SELLER, token="t") as client, respx.mock(base_url=LEGATO) as router:
        _serve(router, "/serviceOrder/so-5001", payload)
        order = client.service_orders.retrieve("so-5001")
    place = order.service_order_item[0].service.place
    assert place is not None
    assert isinstance(place[0], m5.GeographicSiteRef)
    assert place[0].id == "site-42"
    assert isinstance(place[1], m5.FormattedAddress)
    assert place[1].city == "Manchester"
    assert not isinstance(place[2], (m5.GeographicSiteRef, m5.GeographicAddressRef))
    assert order.to_dict() == payload


def test_legato_strict_refuses_a_known_place_missing_a_required_field(
    so_legato_order: OrderBuilder,
) -> None:
    payload = so_legato_order()
    del payload["serviceOrderItem"][0]["service"]["place"][1]["city"]
    with (
        LegatoClient(SELLER, token="t", strict=True) as client,
        respx.mock(base_url=LEGATO) as router,
    ):
        _serve(router, "/serviceOrder/so-5001", payload)
        with pytest.raises(ResponseValidationError) as info:
            client.service_orders.retrieve("so-5001")
    assert any("city" in map(str, e["loc"]) for e in info.value.errors)


# --------------------------------------------------------------------------- lenient parsing


def _unknown_state(payload: dict[str, Any]) -> None:
    payload["state"] = "awaitingBuyerApproval"


def _unknown_place_type(payload: dict[str, Any]) -> None:
    payload["serviceOrderItem"][0]["service"]["place"][0]["place"] = {
        "@type": "GeographicSubAddressRef",
        "id": "sub-9",
        "floor": 3,
    }


def _item_without_id(payload: dict[str, Any]) -> None:
    del payload["serviceOrderItem"][0]["id"]


DEVIATIONS = [
    pytest.param(_unknown_state, ["state"], id="unknown-enum"),
    pytest.param(
        _unknown_place_type,
        ["serviceOrderItem", 0, "service", "place", 0, "place"],
        id="unknown-@type",
    ),
    pytest.param(_item_without_id, ["serviceOrderItem", 0, "id"], id="missing-required"),
]


@pytest.mark.parametrize(("deviate", "loc"), DEVIATIONS)
def test_lenient_parse_keeps_the_deviating_value(
    allegro: AllegroClient,
    so_allegro_order: OrderBuilder,
    caplog: pytest.LogCaptureFixture,
    deviate: Any,
    loc: list[Any],
) -> None:
    payload = so_allegro_order()
    deviate(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        with caplog.at_level(logging.WARNING, logger="lso_client"):
            order = allegro.service_orders.retrieve("so-1001")

    assert isinstance(order, m1.ServiceOrder)
    assert order.to_dict() == payload
    locs = [d["loc"] for d in order.spec_deviations]
    assert any(found[: len(loc)] == loc for found in locs), locs
    warnings = [
        r for r in caplog.records if r.name == "lso_client" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "ServiceOrder deviates from the spec" in warnings[0].getMessage()
    assert ".".join(map(str, loc)) in warnings[0].getMessage()


def test_unknown_state_is_kept_as_the_string(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order(state="inProgress")
    payload["state"] = "awaitingBuyerApproval"
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    assert order.state == "awaitingBuyerApproval"
    assert not isinstance(order.state, m1.ServiceOrderStateType)
    # What conformed is still typed.
    assert order.service_order_item[0].state is m1.ServiceOrderItemStateType.in_progress
    assert isinstance(order.order_date, datetime)
    (deviation,) = order.spec_deviations
    assert deviation["loc"] == ["state"]
    assert deviation["type"] == "enum"
    assert deviation["input"] == "awaitingBuyerApproval"


def test_unknown_place_type_is_kept_as_received(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order(items=2)
    _unknown_place_type(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    unknown = order.service_order_item[0].service.place
    known = order.service_order_item[1].service.place
    assert unknown is not None and known is not None
    kept: Any = unknown[0].place  # typed as the union, but nothing in it fits
    assert kept == {"@type": "GeographicSubAddressRef", "id": "sub-9", "floor": 3}
    assert isinstance(known[0].place, m1.GeographicSiteRef)


def test_item_without_id_parses_and_other_items_stay_typed(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order(items=2)
    _item_without_id(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    first, second = order.service_order_item
    assert "id" not in first.to_dict()
    assert first.action is m1.ServiceActionType.add
    assert second.id == "2"
    assert [d["loc"] for d in order.spec_deviations] == [["serviceOrderItem", 0, "id"]]


def test_null_for_an_optional_array_is_kept_as_null(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order()
    payload["relatedContactInformation"] = None
    payload["serviceOrderItem"][0]["note"] = None
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    assert order.related_contact_information is None
    out = order.to_dict()
    assert "relatedContactInformation" in out
    assert out["relatedContactInformation"] is None
    assert out["serviceOrderItem"][0]["note"] is None
    assert out == payload


def test_conforming_response_logs_nothing(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", so_allegro_order())
        with caplog.at_level(logging.WARNING, logger="lso_client"):
            allegro.service_orders.retrieve("so-1001")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_lenient_list_records_deviations_per_order(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    good, odd = so_allegro_order("so-1"), so_allegro_order("so-2")
    odd["state"] = "onHoldByBuyer"
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").respond(200, json=[good, odd], headers={"X-Total-Count": "2"})
        page = allegro.service_orders.list()
    assert [o.id for o in page] == ["so-1", "so-2"]
    assert [o.state for o in page] == [m1.ServiceOrderStateType.acknowledged, "onHoldByBuyer"]
    assert [o.to_dict() for o in page] == [good, odd]


# --------------------------------------------------------------------------- strict mode


@pytest.mark.parametrize(("deviate", "loc"), DEVIATIONS)
def test_strict_client_refuses_deviations(
    allegro_strict: AllegroClient, so_allegro_order: OrderBuilder, deviate: Any, loc: list[Any]
) -> None:
    payload = so_allegro_order()
    deviate(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        with pytest.raises(ResponseValidationError) as info:
            allegro_strict.service_orders.retrieve("so-1001")
    err = info.value
    assert err.status_code == 200
    assert err.errors
    assert any(list(e["loc"])[: len(loc)] == loc for e in err.errors), err.errors
    assert "retrieveServiceOrder" in str(err)
    assert "does not match the spec" in str(err)


@pytest.mark.parametrize(("deviate", "loc"), DEVIATIONS)
def test_strict_per_call_refuses_deviations(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, deviate: Any, loc: list[Any]
) -> None:
    payload = so_allegro_order()
    deviate(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        with pytest.raises(ResponseValidationError) as info:
            allegro.service_orders.retrieve("so-1001", strict=True)
        # The same client stays lenient for other calls.
        assert allegro.service_orders.retrieve("so-1001").spec_deviations
    assert any(list(e["loc"])[: len(loc)] == loc for e in info.value.errors)


def test_strict_false_per_call_overrides_a_strict_client(
    allegro_strict: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order()
    _unknown_state(payload)
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro_strict.service_orders.retrieve("so-1001", strict=False)
    assert order.state == "awaitingBuyerApproval"


def test_strict_list_refuses_a_deviating_page(
    allegro_strict: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    odd = so_allegro_order("so-2")
    odd["state"] = "onHoldByBuyer"
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").respond(200, json=[so_allegro_order("so-1"), odd])
        with pytest.raises(ResponseValidationError) as info:
            allegro_strict.service_orders.list()
    assert any(list(e["loc"])[:2] == [1, "state"] for e in info.value.errors)


def test_strict_refuses_null_for_an_optional_array(
    allegro_strict: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order()
    payload["serviceOrderItem"][0]["note"] = None
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        with pytest.raises(ResponseValidationError) as caught:
            allegro_strict.service_orders.retrieve("so-1001")
    assert [e["loc"] for e in caught.value.errors] == [("serviceOrderItem", 0, "note")]


def test_lenient_records_a_null_for_an_optional_array_and_keeps_it(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order()
    payload["serviceOrderItem"][0]["note"] = None
    with respx.mock(base_url=ALLEGRO) as router:
        _serve(router, "/serviceOrder/so-1001", payload)
        order = allegro.service_orders.retrieve("so-1001")
    assert [d["loc"] for d in order.spec_deviations] == [["serviceOrderItem", 0, "note"]]
    assert order.to_dict()["serviceOrderItem"][0]["note"] is None


# --------------------------------------------------------------------------- unusable bodies


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        pytest.param(b'{"id": "so-1", "state": ', "application/json", "not valid JSON", id="cut"),
        pytest.param(b"{'id': 'so-1'}", "application/json", "not valid JSON", id="single-quote"),
        pytest.param(
            b"<html><body><h1>Service temporarily unavailable</h1></body></html>",
            "text/html; charset=utf-8",
            "expected JSON, got text/html",
            id="html-200",
        ),
        pytest.param(
            b"<html><body>Maintenance</body></html>", None, "not valid JSON", id="html-no-type"
        ),
        pytest.param(b"", "application/json", "empty response body", id="empty"),
        pytest.param(b'{"id": "so-1"}', "text/plain", "expected JSON, got text/plain", id="plain"),
        pytest.param(b"[]", "application/json", "does not match the spec", id="array"),
        pytest.param(b"null", "application/json", "does not match the spec", id="null"),
        pytest.param(b'"so-1"', "application/json", "does not match the spec", id="string"),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_unusable_body_raises_response_validation_error(
    allegro: AllegroClient,
    content: bytes,
    content_type: str | None,
    message: str,
    strict: bool,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            return_value=httpx.Response(200, content=content, headers=headers)
        )
        with pytest.raises(ResponseValidationError) as info:
            allegro.service_orders.retrieve("so-1", strict=strict)
    err = info.value
    assert message in str(err)
    assert str(err).startswith("retrieveServiceOrder: ")
    assert err.status_code == 200
    assert err.response.content == content


def test_object_where_a_list_belongs_raises(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").respond(200, json={"serviceOrder": []})
        with pytest.raises(ResponseValidationError, match="does not match the spec"):
            allegro.service_orders.list()


def test_unusable_body_on_create_raises(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/serviceOrder").respond(201, text="Created", content_type="text/plain")
        with pytest.raises(ResponseValidationError, match="createServiceOrder: expected JSON"):
            allegro.service_orders.create(so_allegro_order_create())


# --------------------------------------------------------------------------- status errors


def test_404_raises_not_found_with_the_mef_error(allegro: AllegroClient) -> None:
    body = {"code": "notFound", "reason": "No service order with id so-404", "message": "gone"}
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-404").respond(404, json=body)
        with pytest.raises(NotFoundError) as info:
            allegro.service_orders.retrieve("so-404")
    err = info.value
    assert err.status_code == 404
    assert err.body == body
    assert err.errors == [body]
    assert m1.Error404.model_validate(err.body).code is m1.Code.not_found
    assert "No service order with id so-404" in str(err)


def test_422_raises_with_a_list_of_error422(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    body = [
        {
            "code": "invalidValue",
            "reason": "requestedStartDate is in the past",
            "propertyPath": "/requestedStartDate",
        },
        {
            "code": "referenceNotFound",
            "reason": "Unknown site",
            "propertyPath": "/serviceOrderItem/0/service/place/0/place/id",
        },
    ]
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(422, json=body)
        with pytest.raises(UnprocessableEntityError) as info:
            allegro.service_orders.create(so_allegro_order_create())
    assert route.call_count == 1
    err = info.value
    assert err.errors == body
    parsed = [m1.Error422.model_validate(e) for e in err.errors]
    assert [p.code for p in parsed] == [
        m1.Error422Code.invalid_value,
        m1.Error422Code.reference_not_found,
    ]
    assert "/requestedStartDate" in str(err)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (501, NotSupportedError),
        (503, InternalServerError),
    ],
)
def test_status_raises_its_typed_error(
    allegro: AllegroClient, status: int, error: type[APIStatusError]
) -> None:
    body = {"code": "someCode", "reason": f"reason {status}"}
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").respond(status, json=body)
        with pytest.raises(error) as info:
            allegro.service_orders.retrieve("so-1")
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.body == body


def test_error_with_html_body_keeps_a_snippet(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").respond(
            502, text="<html>Bad gateway</html>", content_type="text/html"
        )
        with pytest.raises(InternalServerError) as info:
            allegro.service_orders.retrieve("so-1")
    assert info.value.body is None
    assert info.value.errors == []
    assert "Bad gateway" in str(info.value)
