"""The synchronous clients through their public API, with HTTP mocked by respx: where
requests go, what they carry, and what the resource layer does with the answers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import httpx
import pytest
import respx
from pydantic import Field

import lso_client
from lso_client import (
    AllegroClient,
    InterludeClient,
    InternalServerError,
    LegatoClient,
    LSOError,
    RawResponse,
    RequestValidationError,
    ResponseValidationError,
    SyncPage,
    WaitTimeoutError,
)
from lso_client._generated import service_ordering_v1 as m1
from lso_client._model import MefModel

OrderBuilder = Callable[..., dict[str, Any]]

SELLER = "https://seller.example"
ALLEGRO = SELLER + "/mefApi/allegro/serviceOrderingManagement/v1"
LEGATO = SELLER + "/mefApi/legato/serviceOrderingManagement/v5"
INTERLUDE = SELLER + "/mefApi/interlude/serviceOrderingManagement/v1"
CALLBACK = "https://buyer.example/lso/listener"
# A zero Retry-After keeps retried calls instant.
RETRY_NOW = {"Retry-After": "0"}


@pytest.fixture
def allegro() -> Iterator[AllegroClient]:
    with AllegroClient(SELLER, token="t0k3n") as client:
        yield client


def _order_response(payload: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("client_class", "base", "order_id"),
    [
        (AllegroClient, ALLEGRO, "so-1"),
        (LegatoClient, LEGATO, "so-5"),
        (InterludeClient, INTERLUDE, "so-7"),
    ],
)
def test_retrieve_url_per_reference_point(
    client_class: Any, base: str, order_id: str, so_allegro_order: OrderBuilder
) -> None:
    with client_class(SELLER, token="t") as client, respx.mock() as router:
        route = router.get(f"{base}/serviceOrder/{order_id}").mock(
            return_value=_order_response(so_allegro_order(order_id))
        )
        assert client.service_orders.retrieve(order_id).id == order_id
    assert route.call_count == 1
    assert route.calls.last.request.url == f"{base}/serviceOrder/{order_id}"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://seller.example", ALLEGRO),
        ("https://seller.example/", ALLEGRO),
        ("https://seller.example///", ALLEGRO),
        (
            "https://gw.example/lso/",
            "https://gw.example/lso/mefApi/allegro/serviceOrderingManagement/v1",
        ),
        (
            "https://gw.example:8443/lso",
            "https://gw.example:8443/lso/mefApi/allegro/serviceOrderingManagement/v1",
        ),
    ],
)
def test_base_url_with_or_without_trailing_slash(base_url: str, expected: str) -> None:
    with AllegroClient(base_url, token="t") as client, respx.mock() as router:
        route = router.get(f"{expected}/serviceOrder").respond(200, json=[])
        client.service_orders.list()
    assert str(route.calls.last.request.url).startswith(f"{expected}/serviceOrder?")


@pytest.mark.parametrize(
    "overrides",
    [
        {"service_ordering": "https://orders.example/custom/v1/"},
        {"service_ordering": "https://orders.example/custom/v1"},
        {"service_ordering_v1": "https://orders.example/custom/v1"},
        # The module is more specific than the family.
        {
            "service_ordering": "https://wrong.example/",
            "service_ordering_v1": "https://orders.example/custom/v1/",
        },
    ],
)
def test_api_base_urls_override(overrides: dict[str, str]) -> None:
    with (
        AllegroClient(SELLER, token="t", api_base_urls=overrides) as client,
        respx.mock() as router,
    ):
        route = router.route().mock(
            side_effect=lambda request: (
                httpx.Response(200, json=[])
                if request.method == "GET"
                else httpx.Response(201, json={"id": "h1", "callback": CALLBACK})
            )
        )
        client.service_orders.list()
        client.hubs.service_ordering.register({"callback": CALLBACK})
    urls = [str(call.request.url).split("?")[0] for call in route.calls]
    assert urls == [
        "https://orders.example/custom/v1/serviceOrder",
        "https://orders.example/custom/v1/hub",
    ]


def test_api_base_urls_for_another_family_does_not_apply() -> None:
    with (
        AllegroClient(
            SELLER, token="t", api_base_urls={"service_inventory": "https://inv.example/"}
        ) as client,
        respx.mock() as router,
    ):
        route = router.get(f"{ALLEGRO}/serviceOrder").respond(200, json=[])
        client.service_orders.list()
    assert route.call_count == 1


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSO_BASE_URL", "https://env-seller.example/")
    with AllegroClient(token="t") as client, respx.mock() as router:
        route = router.get(
            "https://env-seller.example/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder"
        ).respond(200, json=[])
        client.service_orders.list()
    assert route.call_count == 1


def test_argument_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSO_BASE_URL", "https://env-seller.example")
    with AllegroClient(SELLER, token="t") as client:
        assert client.base_url == SELLER


def test_no_base_url_at_all_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LSO_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="LSO_BASE_URL"):
        AllegroClient(token="t")


@pytest.mark.parametrize(
    ("order_id", "raw_segment"),
    [
        ("a/b c", b"a%2Fb%20c"),
        ("../hub", b"..%2Fhub"),
        ("so?x=1#frag", b"so%3Fx%3D1%23frag"),
        ("ordre-été", b"ordre-%C3%A9t%C3%A9"),
        ("100%", b"100%25"),
    ],
)
def test_path_id_is_percent_encoded(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, order_id: str, raw_segment: bytes
) -> None:
    with respx.mock() as router:
        route = router.route().mock(return_value=_order_response(so_allegro_order(order_id)))
        allegro.service_orders.retrieve(order_id)
    request = route.calls.last.request
    assert request.url.raw_path == (
        b"/mefApi/allegro/serviceOrderingManagement/v1/serviceOrder/" + raw_segment
    )
    assert request.url.query == b""


def test_hub_id_is_percent_encoded(allegro: AllegroClient) -> None:
    with respx.mock() as router:
        route = router.route().respond(204)
        allegro.hubs.service_ordering.unregister("hub/1 2")
    request = route.calls.last.request
    assert request.method == "DELETE"
    assert request.url.raw_path.endswith(b"/serviceOrderingManagement/v1/hub/hub%2F1%202")


@pytest.mark.parametrize("bad_id", ["", None, 42])
def test_empty_or_non_string_id_is_refused_before_sending(
    allegro: AllegroClient, bad_id: Any
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200, json={})
        with pytest.raises(RequestValidationError, match="retrieveServiceOrder"):
            allegro.service_orders.retrieve(bad_id)
        with pytest.raises(RequestValidationError, match="unregisterListener"):
            allegro.hubs.service_ordering.unregister(bad_id)
    assert route.call_count == 0


# --------------------------------------------------------------------------- list filters


def test_every_filter_is_sent_with_its_wire_name(allegro: AllegroClient) -> None:
    utc = timezone.utc
    plus2 = timezone(timedelta(hours=2))
    minus5 = timezone(timedelta(hours=-5, minutes=-30))
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder").respond(200, json=[])
        allegro.service_orders.list(
            state=m1.ServiceOrderStateType.in_progress,
            order_date_gt=datetime(2024, 5, 1, tzinfo=utc),
            order_date_lt=datetime(2024, 5, 31, 23, 59, 59, tzinfo=plus2),
            completion_date_gt=datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=utc),
            completion_date_lt=datetime(2024, 6, 2, tzinfo=minus5),
            expected_completion_date_gt=datetime(2024, 7, 1, tzinfo=utc),
            expected_completion_date_lt=datetime(2024, 7, 2, tzinfo=utc),
            start_date_gt=datetime(2024, 8, 1, tzinfo=utc),
            start_date_lt=datetime(2024, 8, 2, tzinfo=plus2),
            offset=20,
            limit=5,
        )
    params = route.calls.last.request.url.params
    assert params.multi_items() == [
        ("state", "inProgress"),
        ("orderDate.gt", "2024-05-01T00:00:00+00:00"),
        ("orderDate.lt", "2024-05-31T23:59:59+02:00"),
        ("completionDate.gt", "2024-06-01T12:00:00.250000+00:00"),
        ("completionDate.lt", "2024-06-02T00:00:00-05:30"),
        ("expectedCompletionDate.gt", "2024-07-01T00:00:00+00:00"),
        ("expectedCompletionDate.lt", "2024-07-02T00:00:00+00:00"),
        ("startDate.gt", "2024-08-01T00:00:00+00:00"),
        ("startDate.lt", "2024-08-02T00:00:00+02:00"),
        ("offset", "20"),
        ("limit", "5"),
    ]
    # `+` must be escaped: a literal `+` in a query string reads as a space.
    assert b"%2B02%3A00" in route.calls.last.request.url.query


def test_state_as_plain_string_and_none_filters_omitted(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder").respond(200, json=[])
        allegro.service_orders.list(state="completed", order_date_gt=None, limit=None)
        allegro.service_orders.list()
    first, second = (call.request.url.params.multi_items() for call in route.calls)
    assert first == [("state", "completed"), ("offset", "0")]
    assert second == [("offset", "0")]


def test_legato_list_filters(so_legato_order: OrderBuilder) -> None:
    with LegatoClient(SELLER, token="t") as client, respx.mock(base_url=LEGATO) as router:
        route = router.get("/serviceOrder").respond(200, json=[so_legato_order()])
        page = client.service_orders.list(
            state="held", start_date_gt=datetime(2025, 1, 1, tzinfo=timezone.utc), limit=10
        )
    assert [o.id for o in page] == ["so-5001"]
    assert route.calls.last.request.url.params.multi_items() == [
        ("state", "held"),
        ("startDate.gt", "2025-01-01T00:00:00+00:00"),
        ("offset", "0"),
        ("limit", "10"),
    ]


def test_naive_datetime_filter_is_refused_before_sending(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO, assert_all_called=False) as router:
        route = router.get("/serviceOrder").respond(200, json=[])
        with pytest.raises(RequestValidationError, match=r"orderDate\.gt"):
            allegro.service_orders.list(order_date_gt=datetime(2024, 5, 1))
    assert route.call_count == 0


def test_extra_query_and_headers_per_call(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder").respond(200, json=[])
        allegro.service_orders.list(
            extra_query={"buyerId": "B-1"}, extra_headers={"X-Correlation-Id": "c-9"}
        )
    request = route.calls.last.request
    assert request.url.params["buyerId"] == "B-1"
    assert request.headers["X-Correlation-Id"] == "c-9"
    assert request.headers["Authorization"] == "Bearer t0k3n"


def test_unknown_call_option_is_a_type_error(allegro: AllegroClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200, json={})
        with pytest.raises(TypeError, match="retries"):
            allegro.service_orders.retrieve("so-1", retries=3)  # type: ignore[call-arg]
    assert route.call_count == 0


# --------------------------------------------------------------------------- pagination


class _ListSeller:
    """Serves `offset`/`limit` slices of `count` orders with `X-Total-Count`."""

    def __init__(self, build: OrderBuilder, count: int) -> None:
        self.orders = [build(f"so-{i}") for i in range(count)]
        self.seen: list[tuple[int, int | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        raw_limit = request.url.params.get("limit")
        limit = int(raw_limit) if raw_limit is not None else None
        self.seen.append((offset, limit))
        end = offset + (limit if limit is not None else 10)
        return httpx.Response(
            200,
            json=self.orders[offset:end],
            headers={"X-Total-Count": str(len(self.orders))},
        )


def test_iterating_a_list_walks_pages_lazily(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        page = allegro.service_orders.list(limit=2)
        assert isinstance(page, SyncPage)
        assert page.total_count == 5
        assert [o.id for o in page.items] == ["so-0", "so-1"]
        assert seller.seen == [(0, 2)]

        walk = iter(page)
        assert [next(walk).id, next(walk).id] == ["so-0", "so-1"]
        assert seller.seen == [(0, 2)]
        assert next(walk).id == "so-2"
        assert seller.seen == [(0, 2), (2, 2)]
        rest = [o.id for o in walk]
    assert rest == ["so-3", "so-4"]
    assert seller.seen == [(0, 2), (2, 2), (4, 2)]


def test_for_loop_over_list_yields_typed_orders(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        found = list(allegro.service_orders.list(limit=2))
    assert [o.id for o in found] == [f"so-{i}" for i in range(5)]
    assert all(isinstance(o, m1.ServiceOrder) for o in found)


def test_max_items_stops_early_and_shrinks_the_last_request(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        found = [o.id for o in allegro.service_orders.list(limit=2, max_items=3)]
    assert found == ["so-0", "so-1", "so-2"]
    assert seller.seen == [(0, 2), (2, 1)]


def test_filters_are_repeated_on_every_page(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 3)
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder").mock(side_effect=seller)
        list(allegro.service_orders.list(state="completed", offset=1, limit=1))
    # The last page is full, so one more request makes sure the total was not too low.
    assert [c.request.url.params.get("state") for c in route.calls] == ["completed"] * 3
    assert seller.seen == [(1, 1), (2, 1), (3, 1)]


# --------------------------------------------------------------------------- request bodies


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (lambda b: b.pop("requestedStartDate"), "requestedStartDate"),
        (lambda b: b.pop("serviceOrderItem"), "serviceOrderItem"),
        (lambda b: b["serviceOrderItem"].clear(), "serviceOrderItem"),
        (lambda b: b["serviceOrderItem"][0].pop("action"), "action"),
        (lambda b: b["serviceOrderItem"][0].update(action="upgrade"), "action"),
        (lambda b: b.update(requestedStartDate="2024-05-10T00:00:00"), "requestedStartDate"),
    ],
)
def test_invalid_dict_body_is_refused_before_sending(
    allegro: AllegroClient, so_allegro_order_create: Any, remove: Any, named: str
) -> None:
    body = so_allegro_order_create()
    remove(body)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(201, json={})
        with pytest.raises(RequestValidationError) as info:
            allegro.service_orders.create(body)
    assert route.call_count == 0
    assert not router.calls
    assert named in str(info.value)
    assert "ServiceOrderCreate" in str(info.value)
    assert any(named in map(str, e["loc"]) for e in info.value.errors)


def test_wrong_model_type_is_refused(allegro: AllegroClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(201, json={})
        with pytest.raises(RequestValidationError, match="not EventSubscriptionInput"):
            allegro.service_orders.create(m1.EventSubscriptionInput(callback=CALLBACK))  # type: ignore[arg-type]
        with pytest.raises(RequestValidationError, match="not list"):
            allegro.service_orders.create([])  # type: ignore[arg-type]
    assert route.call_count == 0


def _created(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(body))
    out.update(id="so-new", state="acknowledged", orderDate="2024-05-01T09:30:00Z")
    for item in out["serviceOrderItem"]:
        item["state"] = "acknowledged"
    return out


def test_model_body_is_sent_with_wire_names_and_unknown_fields(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    wire = so_allegro_order_create()
    config = wire["serviceOrderItem"][0]["service"]["serviceConfiguration"]
    wire["buyerProjectCode"] = {"code": "P-17", "phase": 2}
    body = m1.ServiceOrderCreate.model_validate(wire)
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        created = allegro.service_orders.create(body)
    request = route.calls.last.request
    sent = json.loads(request.content)
    assert sent == wire
    assert "serviceOrderItem" in sent and "service_order_item" not in sent
    assert sent["serviceOrderItem"][0]["service"]["serviceConfiguration"] == config
    assert len(sent["serviceOrderItem"][0]["service"]["serviceConfiguration"]) == 25
    assert request.headers["Content-Type"].startswith("application/json")
    assert created.id == "so-new"


def test_dict_body_is_validated_then_sent_as_given(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    wire = so_allegro_order_create()
    del wire["serviceOrderItem"][0]["service"]["serviceConfiguration"]["sourceMacAddressLimit"]
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        allegro.service_orders.create(wire)
    assert json.loads(route.calls.last.request.content) == wire


def test_python_field_names_in_a_dict_body_are_sent_as_wire_names(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    wire = so_allegro_order_create()
    del wire["serviceOrderItem"][0]["service"]["serviceConfiguration"]["sourceMacAddressLimit"]
    pythonic = dict(wire)
    pythonic["requested_start_date"] = pythonic.pop("requestedStartDate")
    pythonic["service_order_item"] = pythonic.pop("serviceOrderItem")
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        allegro.service_orders.create(pythonic)
    assert json.loads(route.calls.last.request.content) == wire


def test_service_configuration_with_a_null_survives_exactly(
    allegro: AllegroClient, so_allegro_order_create: Any, so_evc_configuration: Any
) -> None:
    wire = so_allegro_order_create()
    config = so_evc_configuration()
    assert config["sourceMacAddressLimit"] is None
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        allegro.service_orders.create(m1.ServiceOrderCreate.model_validate(wire))
    sent = json.loads(route.calls.last.request.content)
    assert sent["serviceOrderItem"][0]["service"]["serviceConfiguration"] == config


class _UniConfiguration(m1.MefServiceConfiguration):
    # A product's configuration with a fixed `@type`, as a buyer would subclass it.
    type: Annotated[
        Literal["urn:mef:lso:spec:cantata-sonata:carrier-ethernet-uni"], Field(alias="@type")
    ] = "urn:mef:lso:spec:cantata-sonata:carrier-ethernet-uni"


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda body: None, id="nothing-null"),
        pytest.param(lambda body: setattr(body, "description", None), id="declared-set-none"),
        pytest.param(lambda body: setattr(body, "buyer_note", None), id="unknown-top-none"),
        pytest.param(
            lambda body: (
                body.service_order_item[0]
                .service.place[0]
                .__setattr__("place", m1.GeographicSiteRef(id="site-7"))
            ),
            id="default-type-left-out",
        ),
        pytest.param(
            lambda body: body.service_order_item[0].service.__setattr__("service_type", None),
            id="declared-nested-none",
        ),
        pytest.param(
            lambda body: body.service_order_item[0].service.__setattr__(
                "service_configuration", _UniConfiguration(cir=100)
            ),
            id="subclass-default-left-out",
        ),
        pytest.param(
            lambda body: body.service_order_item[0].service.service_configuration.__setattr__(
                "site", m1.GeographicSiteRef(id="site-9")
            ),
            id="model-in-unknown-field",
        ),
        pytest.param(
            lambda body: body.__setattr__(
                "buyerRefs", {"sites": [m1.GeographicSiteRef(id="s-1", href=None)], "n": None}
            ),
            id="models-in-unknown-containers",
        ),
    ],
)
@pytest.mark.parametrize("config_null", [True, False], ids=["config-null", "no-config-null"])
def test_request_body_sends_what_was_set_and_refuses_declared_nulls(
    allegro: AllegroClient,
    so_allegro_order_create: Any,
    change: Callable[[m1.ServiceOrderCreate], None],
    config_null: bool,
) -> None:
    wire = so_allegro_order_create()
    if not config_null:
        service = wire["serviceOrderItem"][0]["service"]
        service["serviceConfiguration"] = _without_nulls(service["serviceConfiguration"])
        assert "null" not in json.dumps(wire)
    body = m1.ServiceOrderCreate.model_validate(wire)
    change(body)
    # What the rule says, computed independently: the full dump (defaults included: the
    # only non-null defaults here are fixed `@type`s) without the declared fields left
    # unset; unknown fields exactly as set. A declared field set to None is refused.
    expected = body.model_dump(mode="json", by_alias=True, exclude_unset=False)
    nulls: list[str] = []

    def prune(model: Any, out: Any) -> None:
        if isinstance(model, list):
            for item, item_out in zip(model, out, strict=True):
                prune(item, item_out)
        elif isinstance(model, dict):
            for key, value in model.items():
                prune(value, out[key])
        elif isinstance(model, MefModel):
            for name, info in type(model).model_fields.items():
                value = getattr(model, name)
                if value is None:
                    if name in model.model_fields_set:
                        nulls.append(info.alias or name)
                    out.pop(info.alias or name, None)
                else:
                    prune(value, out[info.alias or name])
            for key, value in (model.model_extra or {}).items():
                prune(value, out[key])

    prune(body, expected)
    with respx.mock(base_url=ALLEGRO, assert_all_called=False) as router:
        route = router.post("/serviceOrder").respond(201, json=_created(wire))
        if nulls:
            with pytest.raises(RequestValidationError, match=nulls[0]):
                allegro.service_orders.create(body)
            assert not route.called
            return
        allegro.service_orders.create(body)
    sent = json.loads(route.calls.last.request.content)
    assert sent == expected
    assert sent["serviceOrderItem"][0]["service"]["place"][0]["place"]["@type"] == (
        "GeographicSiteRef"
    )


# --------------------------------------------------------------------------- raw responses


def test_with_raw_response_gives_status_headers_retries_and_parse(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=[
                httpx.Response(503, headers=RETRY_NOW, json={"code": "x", "reason": "busy"}),
                httpx.Response(200, json=so_allegro_order("so-1"), headers={"X-Request-Id": "r-7"}),
            ]
        )
        raw = allegro.service_orders.with_raw_response.retrieve("so-1")
    assert isinstance(raw, RawResponse)
    assert route.call_count == 2
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "r-7"
    assert raw.retries_taken == 1
    order = raw.parse()
    assert isinstance(order, m1.ServiceOrder)
    assert order.id == "so-1"
    # The plain resource is not switched to raw.
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            return_value=_order_response(so_allegro_order("so-1"))
        )
        assert isinstance(allegro.service_orders.retrieve("so-1"), m1.ServiceOrder)


def test_raw_response_parses_only_on_demand(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").respond(200, text="<html/>", content_type="text/html")
        raw = allegro.service_orders.with_raw_response.retrieve("so-1")
    assert raw.retries_taken == 0
    assert raw.http_response.text == "<html/>"
    with pytest.raises(ResponseValidationError):
        raw.parse()


def test_raw_response_on_create_and_unregister(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    wire = so_allegro_order_create()
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/serviceOrder").respond(201, json=_created(wire), headers={"Location": "/x"})
        router.delete("/hub/h1").respond(204)
        created = allegro.service_orders.with_raw_response.create(wire)
        removed = allegro.hubs.service_ordering.with_raw_response.unregister("h1")
    assert created.status_code == 201
    assert created.headers["location"] == "/x"
    assert created.parse().id == "so-new"
    assert removed.status_code == 204
    assert removed.parse() is None


# --------------------------------------------------------------------------- with_options


def test_with_options_changes_retries_and_timeout_but_not_the_original(
    so_allegro_order: OrderBuilder,
) -> None:
    with httpx.Client() as http_client:
        client = AllegroClient(SELLER, token="t", http_client=http_client, max_retries=2)
        orders = client.service_orders  # cached before the copy is made
        fast = client.with_options(max_retries=0, timeout=1.5)
        assert fast is not client
        assert fast.service_orders is not orders
        busy = httpx.Response(503, headers=RETRY_NOW, json={"code": "x", "reason": "busy"})
        with respx.mock(base_url=ALLEGRO) as router:
            route = router.get("/serviceOrder/so-1").mock(return_value=busy)
            with pytest.raises(InternalServerError):
                fast.service_orders.retrieve("so-1")
            assert route.call_count == 1
            assert route.calls.last.request.extensions["timeout"] == {
                "connect": 1.5,
                "read": 1.5,
                "write": 1.5,
                "pool": 1.5,
            }

            route.mock(side_effect=[busy, busy, _order_response(so_allegro_order("so-1"))])
            route.reset()
            assert orders.retrieve("so-1").id == "so-1"
            assert route.call_count == 3
            assert route.calls.last.request.extensions["timeout"]["read"] == 60.0
        # The copy shares the caller's pool and never closes it.
        fast.close()
        assert not http_client.is_closed
        client.close()
        assert not http_client.is_closed


def test_with_options_copy_shares_the_pool_of_an_owned_client() -> None:
    client = AllegroClient(SELLER, token="t")
    copy = client.with_options(timeout=3.0)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").respond(200, json=[])
        copy.close()  # a copy does not own the pool: the original still works
        client.service_orders.list()
    client.close()
    with respx.mock(base_url=ALLEGRO, assert_all_called=False) as router:
        router.get("/serviceOrder").respond(200, json=[])
        with pytest.raises(RuntimeError):
            copy.service_orders.list()


def test_with_options_strict(so_allegro_order: OrderBuilder) -> None:
    payload = so_allegro_order()
    payload["state"] = "awaitingBuyerApproval"
    with AllegroClient(SELLER, token="t") as client, respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1001").respond(200, json=payload)
        strict = client.with_options(strict=True)
        with pytest.raises(ResponseValidationError):
            strict.service_orders.retrieve("so-1001")
        assert client.service_orders.retrieve("so-1001").state == "awaitingBuyerApproval"
        assert strict.base_url == client.base_url


def test_post_is_not_retried_by_default(
    allegro: AllegroClient, so_allegro_order_create: Any
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(
            503, headers=RETRY_NOW, json={"code": "x", "reason": "busy"}
        )
        with pytest.raises(InternalServerError):
            allegro.service_orders.create(so_allegro_order_create())
    assert route.call_count == 1


# --------------------------------------------------------------------------- hub


def _subscription(body: dict[str, Any], hub_id: str = "hub-1") -> dict[str, Any]:
    return {"id": hub_id, **body}


def test_register_retrieve_unregister(allegro: AllegroClient) -> None:
    body = {"callback": CALLBACK, "query": "eventType=serviceOrderStateChangeEvent"}
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/hub").respond(201, json=_subscription(body))
        get = router.get("/hub/hub-1").respond(200, json=_subscription(body))
        delete = router.delete("/hub/hub-1").respond(204)
        registered = allegro.hubs.service_ordering.register(body)
        found = allegro.hubs.service_ordering.retrieve("hub-1")
        allegro.hubs.service_ordering.unregister("hub-1")
    assert json.loads(post.calls.last.request.content) == body
    assert isinstance(registered, m1.EventSubscription)
    assert registered.id == found.id == "hub-1"
    assert found.query == body["query"]
    assert get.call_count == delete.call_count == 1


class _FakeListener:
    """What `subscribe()` needs from a listener: its URL and tap registration."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.taps: list[Callable[[Any], None]] = []

    def add_tap(self, tap: Callable[[Any], None]) -> None:
        self.taps.append(tap)

    def remove_tap(self, tap: Callable[[Any], None]) -> None:
        self.taps.remove(tap)


@pytest.mark.parametrize("target", [CALLBACK, _FakeListener(CALLBACK)], ids=["url", "listener"])
def test_subscribe_registers_on_enter_and_unregisters_on_exit(
    allegro: AllegroClient, target: Any
) -> None:
    expected = {
        "callback": CALLBACK,
        "query": "eventType=serviceOrderStateChangeEvent,serviceOrderItemStateChangeEvent",
    }
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/hub").respond(201, json=_subscription(expected, "hub-9"))
        delete = router.delete("/hub/hub-9").respond(204)
        context = allegro.hubs.service_ordering.subscribe(
            target,
            event_types=["serviceOrderStateChangeEvent", "serviceOrderItemStateChangeEvent"],
        )
        assert post.call_count == 0
        with context as subscription:
            assert post.call_count == 1
            assert delete.call_count == 0
            assert subscription.id == "hub-9"
        assert delete.call_count == 1
    assert json.loads(post.calls.last.request.content) == expected


def test_subscribe_unregisters_when_the_block_raises(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-2", "callback": CALLBACK})
        delete = router.delete("/hub/hub-2").respond(204)
        with (
            pytest.raises(KeyError, match="boom"),
            allegro.hubs.service_ordering.subscribe(CALLBACK),
        ):
            raise KeyError("boom")
    assert delete.call_count == 1


def test_a_failed_unregister_does_not_replace_the_blocks_exception(
    allegro: AllegroClient, caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-7", "callback": CALLBACK})
        delete = router.delete("/hub/hub-7").respond(403, json={"code": "x", "reason": "no"})
        with (
            pytest.raises(KeyError, match="boom") as caught,
            allegro.hubs.service_ordering.subscribe(CALLBACK),
        ):
            raise KeyError("boom")
    assert delete.call_count == 1
    # The registration left behind is named: in the log and on the exception.
    assert "hub-7" in caplog.text and "403" in caplog.text
    if sys.version_info >= (3, 11):
        assert any("hub-7" in note for note in caught.value.__notes__)


def test_a_failed_unregister_after_a_clean_block_is_raised(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-8", "callback": CALLBACK})
        router.delete("/hub/hub-8").respond(403, json={"code": "x", "reason": "no"})
        with (
            pytest.raises(lso_client.PermissionDeniedError),
            allegro.hubs.service_ordering.subscribe(CALLBACK),
        ):
            pass


def test_subscribe_without_event_types_or_with_a_raw_query(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/hub").respond(201, json={"id": "hub-3", "callback": CALLBACK})
        router.delete("/hub/hub-3").respond(204)
        with allegro.hubs.service_ordering.subscribe(CALLBACK):
            pass
        with allegro.hubs.service_ordering.subscribe(CALLBACK, query="eventType=x&state=y"):
            pass
    first, second = (json.loads(c.request.content) for c in post.calls)
    assert first == {"callback": CALLBACK}
    assert second == {"callback": CALLBACK, "query": "eventType=x&state=y"}


def test_failed_registration_sends_no_delete(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO, assert_all_called=False) as router:
        router.post("/hub").respond(
            422,
            json=[{"code": "invalidValue", "reason": "bad callback", "propertyPath": "/callback"}],
        )
        delete = router.delete(url__regex=r".*/hub/.*").respond(204)
        with (
            pytest.raises(lso_client.UnprocessableEntityError),
            allegro.hubs.service_ordering.subscribe(CALLBACK),
        ):
            pytest.fail("the block must not run")
    assert delete.call_count == 0


def test_subscribe_refuses_a_target_without_url(allegro: AllegroClient) -> None:
    with pytest.raises(TypeError):
        allegro.hubs.service_ordering.subscribe(object())


# --------------------------------------------------------------------------- waiting


def _states(build: OrderBuilder, *states: str) -> list[httpx.Response]:
    return [_order_response(build("so-1", state)) for state in states]


def test_wait_polls_until_a_final_state(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "acknowledged", "inProgress", "completed")
        )
        order = allegro.service_orders.wait("so-1", poll_interval=0.001, timeout=5)
    assert order.state is m1.ServiceOrderStateType.completed
    assert route.call_count == 3


@pytest.mark.parametrize("final", ["failed", "partial", "rejected"])
def test_wait_stops_at_every_default_final_state(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, final: str
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "held", final)
        )
        order = allegro.service_orders.wait("so-1", poll_interval=0.001, timeout=5)
    assert order.state == final
    assert route.call_count == 2


def test_wait_until_custom_states(allegro: AllegroClient, so_allegro_order: OrderBuilder) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "acknowledged", "inProgress", "completed")
        )
        order = allegro.service_orders.wait("so-1", until={"inProgress"}, poll_interval=0.001)
    assert order.state is m1.ServiceOrderStateType.in_progress
    assert route.call_count == 2


def test_wait_until_an_unknown_state_from_a_lenient_parse(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "inProgress", "cancelled")
        )
        order = allegro.service_orders.wait("so-1", until={"cancelled"}, poll_interval=0.001)
    assert order.state == "cancelled"


def test_wait_times_out_with_the_last_order(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            return_value=_order_response(so_allegro_order("so-1", "inProgress"))
        )
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError) as info:
            allegro.service_orders.wait("so-1", timeout=0.1, poll_interval=0.01)
        elapsed = time.monotonic() - started
    err = info.value
    assert isinstance(err, LSOError) and isinstance(err, TimeoutError)
    assert isinstance(err.last, m1.ServiceOrder)
    assert err.last.state is m1.ServiceOrderStateType.in_progress
    assert "so-1" in str(err) and "inProgress" in str(err)
    assert route.call_count >= 2
    assert elapsed < 2


def test_wait_propagates_api_errors(allegro: AllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").respond(404, json={"code": "notFound", "reason": "no"})
        with pytest.raises(lso_client.NotFoundError):
            allegro.service_orders.wait("so-1", poll_interval=0.001, timeout=5)


def test_create_and_wait(
    allegro: AllegroClient, so_allegro_order: OrderBuilder, so_allegro_order_create: Any
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/serviceOrder").mock(
            return_value=_order_response(so_allegro_order("so-1"), 201)
        )
        get = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "inProgress", "completed")
        )
        order = allegro.service_orders.create_and_wait(
            so_allegro_order_create(), poll_interval=0.001, wait_timeout=5
        )
    assert order.state is m1.ServiceOrderStateType.completed
    assert post.call_count == 1
    assert get.call_count == 2


def test_wait_is_woken_by_a_notification_about_this_order(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    """A listener subscribed through the client wakes the wait at once; a notification about
    another order does not."""
    listener = _FakeListener(CALLBACK)

    def notify(order_id: str) -> None:
        event = type(
            "Note", (), {"event_type": "serviceOrderStateChangeEvent", "event": {"id": order_id}}
        )
        for tap in list(listener.taps):
            tap(event)

    responses = iter(_states(so_allegro_order, "inProgress", "completed"))

    def serve(request: httpx.Request) -> httpx.Response:
        response = next(responses)
        if response.json()["state"] == "inProgress":
            threading.Timer(0.02, notify, ("so-other",)).start()
            threading.Timer(0.2, notify, ("so-1",)).start()
        return response

    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-1", "callback": CALLBACK})
        router.delete("/hub/hub-1").respond(204)
        route = router.get("/serviceOrder/so-1").mock(side_effect=serve)
        with allegro.hubs.service_ordering.subscribe(listener):
            started = time.monotonic()
            # Polls would be 30 s apart with a listener: only the notification can end this.
            order = allegro.service_orders.wait("so-1", timeout=10, poll_interval=5)
            elapsed = time.monotonic() - started
        assert listener.taps == []
    assert order.state is m1.ServiceOrderStateType.completed
    assert route.call_count == 2
    assert 0.15 <= elapsed < 5


# --------------------------------------------------------------------------- import cost


def test_import_is_lazy() -> None:
    code = """
import json, sys
import lso_client
before = sorted(m for m in sys.modules if m.startswith(("lso_client._generated", "authlib")))
cls = lso_client.AllegroClient
after = sorted(m for m in sys.modules if m.startswith("lso_client._generated"))
print(json.dumps({"before": before, "after": after, "name": cls.__name__,
                  "cached": "AllegroClient" in vars(lso_client)}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(result.stdout)
    assert found["before"] == []
    assert found["name"] == "AllegroClient"
    assert found["cached"] is True
    # Resolving the client loads the client classes and the catalog, not the models.
    assert not any(name.startswith("lso_client._generated.service_") for name in found["after"]), (
        found["after"]
    )


def test_models_load_on_first_resource_use() -> None:
    code = """
import json, sys
from lso_client import AllegroClient
client = AllegroClient("https://seller.example", token="t")
before = "lso_client._generated.service_ordering_v1" in sys.modules
client.service_orders
after = "lso_client._generated.service_ordering_v1" in sys.modules
legato = "lso_client._generated.service_ordering_v5" in sys.modules
print(json.dumps([before, after, legato]))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == [False, True, False]


def test_constructing_clients_defers_what_only_requests_need() -> None:
    code = """
import json, sys
import lso_client
clients = [lso_client.AllegroClient("https://seller.example"),
           lso_client.AsyncLegatoClient("https://seller.example")]
deferred = ["tenacity", "anyio", "authlib"]
print(json.dumps({"loaded": [m for m in deferred if m in sys.modules],
                  "http_clients": [c._transport._http_client is None for c in clients]}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == {"loaded": [], "http_clients": [True, True]}


def test_unknown_attribute_of_the_package() -> None:
    with pytest.raises(AttributeError, match="NoSuchClient"):
        lso_client.NoSuchClient  # noqa: B018
    assert "AllegroClient" in dir(lso_client)
