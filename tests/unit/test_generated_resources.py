"""The generated resource modules: raw-response twins, the wait of `create_and_wait`,
method docstrings stating the operation, and class names that shadow nothing."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from lso_client import AllegroClient, AsyncAllegroClient, SyncPage, WaitTimeoutError, _errors
from lso_client._generated import service_ordering_v1 as m1
from lso_client._generated import service_ordering_v1_resources as r1
from lso_client._generated._catalog import METHODS, OPERATIONS
from lso_client._operations import Operation
from lso_client._resource import (
    AsyncApi,
    AsyncResource,
    RawResponse,
    SyncApi,
    SyncResource,
    async_raw_method,
    raw_method,
)

OrderBuilder = Callable[..., dict[str, Any]]

SELLER = "https://seller.example"
ALLEGRO = SELLER + "/mefApi/allegro/serviceOrderingManagement/v1"


@pytest.fixture
def allegro() -> Iterator[AllegroClient]:
    with AllegroClient(SELLER, token="t0k3n") as client:
        yield client


def _created(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body, id="so-new", state="acknowledged", orderDate="2024-05-01T09:30:00Z")
    out["serviceOrderItem"] = [dict(i, state="acknowledged") for i in body["serviceOrderItem"]]
    return out


# --------------------------------------------------------------------------- raw twins


def test_raw_twin_answers_with_raw_responses_and_leaves_the_resource_alone(
    allegro: AllegroClient, so_allegro_order_create: Callable[[], dict[str, Any]]
) -> None:
    wire = so_allegro_order_create()
    twin = allegro.service_orders.with_raw_response
    assert isinstance(twin, r1.ServiceOrdersWithRawResponse)
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/serviceOrder").respond(201, json=_created(wire), headers={"X-Id": "7"})
        created = twin.create(wire)
        plain = allegro.service_orders.create(wire)
    assert isinstance(created, RawResponse)
    assert (created.status_code, created.headers["x-id"]) == (201, "7")
    parsed = created.parse()
    assert isinstance(parsed, m1.ServiceOrder)
    assert parsed.id == "so-new"
    assert isinstance(plain, m1.ServiceOrder)


def test_raw_twin_lists_pages_that_keep_their_responses(
    allegro: AllegroClient, so_allegro_order: OrderBuilder
) -> None:
    twin = allegro.service_orders.with_raw_response
    # The waits answer with parsed objects only: they have no raw form.
    assert not {"wait", "create_and_wait", "reconcile"} & set(vars(twin))
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").respond(
            200, json=[so_allegro_order("so-1")], headers={"X-Total-Count": "1"}
        )
        page = twin.list()
    assert isinstance(page, SyncPage)
    assert page.response.headers["x-total-count"] == "1"
    assert [order.id for order in page] == ["so-1"]


async def test_async_raw_twin_answers_with_raw_responses(
    so_allegro_order: OrderBuilder,
) -> None:
    async with AsyncAllegroClient(SELLER, token="t") as client:
        twin = client.service_orders.with_raw_response
        assert isinstance(twin, r1.AsyncServiceOrdersWithRawResponse)
        with respx.mock(base_url=ALLEGRO) as router:
            router.get("/serviceOrder/so-1").respond(200, json=so_allegro_order("so-1"))
            raw = await twin.retrieve("so-1")
    assert isinstance(raw, RawResponse)
    assert raw.parse().id == "so-1"


def test_raw_method_refuses_a_method_of_a_plain_resource(allegro: AllegroClient) -> None:
    with pytest.raises(TypeError):
        raw_method(allegro.service_orders.retrieve)
    with pytest.raises(TypeError):
        async_raw_method(allegro.service_orders.retrieve)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- create_and_wait


def test_create_and_wait_bounds_the_wait_with_wait_timeout_and_passes_timeout_on(
    allegro: AllegroClient,
    so_allegro_order: OrderBuilder,
    so_allegro_order_create: Callable[[], dict[str, Any]],
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/serviceOrder").respond(201, json=so_allegro_order("so-1"))
        router.get("/serviceOrder/so-1").respond(200, json=so_allegro_order("so-1", "inProgress"))
        with pytest.raises(WaitTimeoutError):
            allegro.service_orders.create_and_wait(
                so_allegro_order_create(), wait_timeout=0.05, poll_interval=0.01, timeout=7
            )
    # `timeout` is the per-call option of the create, not the length of the wait.
    assert post.calls[0].request.extensions["timeout"]["read"] == 7
    assert "wait_timeout" in inspect.signature(r1.ServiceOrders.create_and_wait).parameters
    assert "timeout" not in inspect.signature(r1.ServiceOrders.create_and_wait).parameters


# --------------------------------------------------------------------------- docstrings


def _operation_methods() -> Iterator[tuple[Operation, type, str]]:
    """(operation, sync resource class, method name) for every generated operation method."""
    by_key = {(op.module, op.operation_id): op for op in OPERATIONS}
    for module, methods in METHODS.items():
        resources = importlib.import_module(f"lso_client._generated.{module}_resources")
        api = getattr(resources, f"{_title(module)}Api")(None, module)
        for operation_id, places in methods.items():
            for place in places:
                attr, verb = place.split(".")
                yield by_key[(module, operation_id)], type(getattr(api, attr)), verb


def _title(module: str) -> str:
    return "".join(part.capitalize() for part in module.split("_"))


def test_every_operation_method_states_its_operation_and_errors() -> None:
    seen = 0
    error_names = {
        name
        for name, value in vars(_errors).items()
        if isinstance(value, type) and issubclass(value, _errors.LSOError)
    }
    for op, cls, verb in _operation_methods():
        for twin in (cls, getattr(importlib.import_module(cls.__module__), "Async" + cls.__name__)):
            doc = inspect.getdoc(getattr(twin, verb)) or ""
            assert doc.startswith(f"{op.method} {op.path} (operationId `{op.operation_id}`)."), (
                twin,
                verb,
            )
            raises = doc.split("Raises:\n", 1)[1].splitlines()
            named = {line.split(":", 1)[0].strip() for line in raises}
            assert named <= error_names, (twin, verb, named - error_names)
            assert {
                "RequestValidationError",
                "ResponseValidationError",
                "APIConnectionError",
            } <= named
            assert ("OutcomeUnknownError" in named) == (op.method in ("POST", "PATCH"))
            for parameter in op.parameters:
                if parameter.name not in ("offset", "limit"):
                    assert f"`{parameter.name}`" in doc, (twin, verb, parameter.name)
            seen += 1
    assert seen > 100


def test_declared_statuses_name_their_error_classes() -> None:
    doc = inspect.getdoc(r1.ServiceOrders.retrieve) or ""
    raises = dict(line.strip().split(": ", 1) for line in doc.split("Raises:\n", 1)[1].splitlines())
    # retrieveServiceOrder declares 400, 401, 403, 404 and 500.
    assert raises["BadRequestError"] == "400."
    assert raises["NotFoundError"] == "404."
    assert raises["InternalServerError"] == "500."
    assert "OutcomeUnknownError" not in raises


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("module", sorted({op.module for op in OPERATIONS if op.module in METHODS}))
def test_no_generated_class_shadows_a_base(module: str) -> None:
    resources = importlib.import_module(f"lso_client._generated.{module}_resources")
    own = {
        name: value
        for name, value in vars(resources).items()
        if isinstance(value, type) and value.__module__ == resources.__name__
    }
    bases = {base.__name__ for cls in own.values() for base in cls.__mro__[1:]}
    assert not set(own) & bases
    apis = [cls for cls in own.values() if issubclass(cls, (SyncApi, AsyncApi))]
    names = {cls.__name__ for cls in apis}
    assert names == {f"{_title(module)}Api", f"Async{_title(module)}Api"}
    for cls in own.values():
        if issubclass(cls, (SyncResource, AsyncResource)):
            assert f"{cls.__name__}WithRawResponse" in own
