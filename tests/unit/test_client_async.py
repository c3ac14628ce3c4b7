"""The asynchronous clients: the same behaviour as the sync ones, awaited, plus a check that
every sync resource method has an async twin with the same parameters."""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

import lso_client
from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncInterludeClient,
    AsyncLegatoClient,
    AsyncPage,
    InterludeClient,
    InternalServerError,
    LegatoClient,
    NotFoundError,
    RawResponse,
    RequestValidationError,
    ResponseValidationError,
    WaitTimeoutError,
)
from lso_client._generated import service_ordering_v1 as m1
from lso_client._generated import service_ordering_v1_resources as r1
from lso_client._generated import service_ordering_v5_resources as r5

OrderBuilder = Callable[..., dict[str, Any]]

SELLER = "https://seller.example"
ALLEGRO = SELLER + "/mefApi/allegro/serviceOrderingManagement/v1"
LEGATO = SELLER + "/mefApi/legato/serviceOrderingManagement/v5"
CALLBACK = "https://buyer.example/lso/listener"
RETRY_NOW = {"Retry-After": "0"}


@pytest.fixture
async def allegro() -> AsyncIterator[AsyncAllegroClient]:
    async with AsyncAllegroClient(SELLER, token="t0k3n") as client:
        yield client


def _order_response(payload: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


# --------------------------------------------------------------------------- sync/async mirror


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }


def _shape(signature: inspect.Signature) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [
        (r1.ServiceOrders, r1.AsyncServiceOrders),
        (r1.ServiceOrderingHub, r1.AsyncServiceOrderingHub),
        (r5.ServiceOrders, r5.AsyncServiceOrders),
        (r5.ServiceOrderingHub, r5.AsyncServiceOrderingHub),
    ],
)
def test_async_resource_mirrors_sync(sync_cls: type, async_cls: type) -> None:
    sync_methods = _public_methods(sync_cls)
    async_methods = _public_methods(async_cls)
    assert set(sync_methods) == set(async_methods)
    assert {"retrieve"} <= set(sync_methods)
    for name, signature in sync_methods.items():
        assert _shape(signature) == _shape(async_methods[name]), name
        member = getattr(async_cls, name)
        # Everything that performs I/O is a coroutine; list() and subscribe() return objects
        # used with `async for` / `async with`.
        if name in ("list", "subscribe"):
            assert not inspect.iscoroutinefunction(member), name
        else:
            assert inspect.iscoroutinefunction(member), name
    assert hasattr(async_cls, "with_raw_response")


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [
        (AllegroClient, AsyncAllegroClient),
        (InterludeClient, AsyncInterludeClient),
        (LegatoClient, AsyncLegatoClient),
    ],
)
def test_async_client_mirrors_sync(sync_cls: type, async_cls: type) -> None:
    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    assert public(sync_cls) == public(async_cls)
    assert _shape(inspect.signature(sync_cls)) == _shape(inspect.signature(async_cls))
    client = async_cls(SELLER, token="t")
    sync_client = sync_cls(SELLER, token="t")
    try:
        assert public(type(client.hubs)) == public(type(sync_client.hubs))
    finally:
        sync_client.close()


# --------------------------------------------------------------------------- URLs and filters


async def test_legato_retrieve_url(so_legato_order: OrderBuilder) -> None:
    async with AsyncLegatoClient(SELLER + "/", token="t") as client:
        with respx.mock() as router:
            route = router.get(f"{LEGATO}/serviceOrder/so-5001").respond(
                200, json=so_legato_order()
            )
            order = await client.service_orders.retrieve("so-5001")
    assert order.id == "so-5001"
    assert route.call_count == 1


async def test_id_is_percent_encoded_and_empty_id_refused(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock() as router:
        route = router.route().mock(return_value=_order_response(so_allegro_order("a/b c")))
        await allegro.service_orders.retrieve("a/b c")
        assert route.calls.last.request.url.raw_path.endswith(b"/serviceOrder/a%2Fb%20c")
        with pytest.raises(RequestValidationError):
            await allegro.service_orders.retrieve("")
    assert route.call_count == 1


async def test_api_base_urls_override_by_family() -> None:
    async with AsyncAllegroClient(
        SELLER, token="t", api_base_urls={"service_ordering": "https://orders.example/so/"}
    ) as client:
        with respx.mock() as router:
            route = router.get("https://orders.example/so/serviceOrder").respond(200, json=[])
            await client.service_orders.list()
    assert route.call_count == 1


async def test_filters_sent_with_wire_names(allegro: AsyncAllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder").respond(200, json=[])
        page = await allegro.service_orders.list(
            state=m1.ServiceOrderStateType.partial,
            completion_date_lt=datetime(2024, 6, 1, 8, 0, tzinfo=timezone.utc),
            expected_completion_date_gt=None,
            limit=50,
        )
    assert isinstance(page, AsyncPage)
    assert route.calls.last.request.url.params.multi_items() == [
        ("state", "partial"),
        ("completionDate.lt", "2024-06-01T08:00:00+00:00"),
        ("offset", "0"),
        ("limit", "50"),
    ]


# --------------------------------------------------------------------------- pagination


class _ListSeller:
    def __init__(self, build: OrderBuilder, count: int) -> None:
        self.orders = [build(f"so-{i}") for i in range(count)]
        self.seen: list[tuple[int, int | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        limit = int(request.url.params.get("limit", "10"))
        self.seen.append((offset, limit))
        return httpx.Response(
            200,
            json=self.orders[offset : offset + limit],
            headers={"X-Total-Count": str(len(self.orders))},
        )


async def test_await_list_gives_the_first_page(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        page = await allegro.service_orders.list(limit=2)
        assert [o.id for o in page.items] == ["so-0", "so-1"]
        assert page.total_count == 5
        assert page.has_next_page()
        assert seller.seen == [(0, 2)]
        following = await page.get_next_page()
    assert [o.id for o in following.items] == ["so-2", "so-3"]
    assert seller.seen == [(0, 2), (2, 2)]


async def test_async_for_walks_every_page_lazily(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    found: list[str] = []
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        pager = allegro.service_orders.list(limit=2)
        assert seller.seen == []  # nothing is sent before the pager is used
        async for order in pager:
            assert isinstance(order, m1.ServiceOrder)
            found.append(order.id)
            if order.id == "so-1":
                assert seller.seen == [(0, 2)]
    assert found == [f"so-{i}" for i in range(5)]
    assert seller.seen == [(0, 2), (2, 2), (4, 2)]


async def test_async_for_respects_max_items(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    seller = _ListSeller(so_allegro_order, 5)
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder").mock(side_effect=seller)
        found = [o.id async for o in allegro.service_orders.list(limit=2, max_items=3)]
    assert found == ["so-0", "so-1", "so-2"]
    assert seller.seen == [(0, 2), (2, 1)]


# --------------------------------------------------------------------------- bodies and parsing


async def test_invalid_body_sends_nothing(
    allegro: AsyncAllegroClient, so_allegro_order_create: Any
) -> None:
    body = so_allegro_order_create()
    del body["requestedCompletionDate"]
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(201, json={})
        with pytest.raises(RequestValidationError, match="requestedCompletionDate"):
            await allegro.service_orders.create(body)
    assert route.call_count == 0


async def test_create_sends_wire_names(
    allegro: AsyncAllegroClient, so_allegro_order_create: Any, so_allegro_order: OrderBuilder
) -> None:
    wire = so_allegro_order_create()
    del wire["serviceOrderItem"][0]["service"]["serviceConfiguration"]["sourceMacAddressLimit"]
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.post("/serviceOrder").respond(201, json=so_allegro_order("so-9"))
        created = await allegro.service_orders.create(m1.ServiceOrderCreate.model_validate(wire))
    assert json.loads(route.calls.last.request.content) == wire
    assert created.id == "so-9"


async def test_round_trip_and_lenient_unknown_state(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    payload = so_allegro_order()
    payload["state"] = "awaitingBuyerApproval"
    payload["sellerTrackingCode"] = "T-1"
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1001").respond(200, json=payload)
        order = await allegro.service_orders.retrieve("so-1001")
        with pytest.raises(ResponseValidationError) as info:
            await allegro.service_orders.retrieve("so-1001", strict=True)
    assert order.to_dict() == payload
    assert [d["loc"] for d in order.spec_deviations] == [["state"]]
    assert [list(e["loc"]) for e in info.value.errors] == [["state"]]


async def test_strict_async_client(so_allegro_order: OrderBuilder) -> None:
    payload = so_allegro_order()
    del payload["serviceOrderItem"][0]["id"]
    async with AsyncAllegroClient(SELLER, token="t", strict=True) as client:
        with respx.mock(base_url=ALLEGRO) as router:
            router.get("/serviceOrder/so-1001").respond(200, json=payload)
            with pytest.raises(ResponseValidationError) as info:
                await client.service_orders.retrieve("so-1001")
    assert [list(e["loc"]) for e in info.value.errors] == [["serviceOrderItem", 0, "id"]]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"<html></html>", "text/html"), (b"", None)],
)
async def test_unusable_body(
    allegro: AsyncAllegroClient, content: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            return_value=httpx.Response(200, content=content, headers=headers)
        )
        with pytest.raises(ResponseValidationError, match="retrieveServiceOrder"):
            await allegro.service_orders.retrieve("so-1")


async def test_not_found(allegro: AsyncAllegroClient) -> None:
    body = {"code": "notFound", "reason": "unknown order"}
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").respond(404, json=body)
        with pytest.raises(NotFoundError) as info:
            await allegro.service_orders.retrieve("so-1")
    assert info.value.body == body


# --------------------------------------------------------------------------- raw and options


async def test_with_raw_response(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            side_effect=[
                httpx.Response(503, headers=RETRY_NOW, json={"code": "x", "reason": "busy"}),
                httpx.Response(200, json=so_allegro_order("so-1"), headers={"X-Request-Id": "r"}),
            ]
        )
        raw = await allegro.service_orders.with_raw_response.retrieve("so-1")
    assert isinstance(raw, RawResponse)
    assert (raw.status_code, raw.headers["x-request-id"], raw.retries_taken) == (200, "r", 1)
    assert raw.parse().id == "so-1"


async def test_with_options_no_retry_while_original_retries(
    so_allegro_order: OrderBuilder,
) -> None:
    busy = httpx.Response(503, headers=RETRY_NOW, json={"code": "x", "reason": "busy"})
    async with httpx.AsyncClient() as http_client:
        client = AsyncAllegroClient(SELLER, token="t", http_client=http_client)
        original = client.service_orders
        fast = client.with_options(max_retries=0, timeout=2.5)
        with respx.mock(base_url=ALLEGRO) as router:
            route = router.get("/serviceOrder/so-1").mock(return_value=busy)
            with pytest.raises(InternalServerError):
                await fast.service_orders.retrieve("so-1")
            assert route.call_count == 1
            assert route.calls.last.request.extensions["timeout"]["read"] == 2.5
            route.reset()
            route.mock(side_effect=[busy, _order_response(so_allegro_order("so-1"))])
            assert (await original.retrieve("so-1")).id == "so-1"
            assert route.call_count == 2
        await fast.close()
        await client.close()
        assert not http_client.is_closed


# --------------------------------------------------------------------------- hub


async def test_subscribe_registers_and_unregisters(allegro: AsyncAllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/hub").respond(
            201, json={"id": "hub-4", "callback": CALLBACK, "query": "eventType=a,b"}
        )
        delete = router.delete("/hub/hub-4").respond(204)
        async with allegro.hubs.service_ordering.subscribe(
            CALLBACK, event_types=["a", "b"]
        ) as subscription:
            assert subscription.id == "hub-4"
            assert delete.call_count == 0
        assert delete.call_count == 1
    assert json.loads(post.calls.last.request.content) == {
        "callback": CALLBACK,
        "query": "eventType=a,b",
    }


async def test_subscribe_unregisters_when_the_block_raises(allegro: AsyncAllegroClient) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-5", "callback": CALLBACK})
        delete = router.delete("/hub/hub-5").respond(204)
        with pytest.raises(RuntimeError, match="boom"):
            async with allegro.hubs.service_ordering.subscribe(CALLBACK):
                raise RuntimeError("boom")
    assert delete.call_count == 1


async def test_a_failed_unregister_does_not_replace_the_blocks_exception(
    allegro: AsyncAllegroClient, caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-7", "callback": CALLBACK})
        delete = router.delete("/hub/hub-7").respond(403, json={"code": "x", "reason": "no"})
        with pytest.raises(RuntimeError, match="boom") as caught:
            async with allegro.hubs.service_ordering.subscribe(CALLBACK):
                raise RuntimeError("boom")
    assert delete.call_count == 1
    assert "hub-7" in caplog.text and "403" in caplog.text
    if sys.version_info >= (3, 11):
        assert any("hub-7" in note for note in caught.value.__notes__)


async def test_a_failed_unregister_after_a_clean_block_is_raised(
    allegro: AsyncAllegroClient,
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.post("/hub").respond(201, json={"id": "hub-8", "callback": CALLBACK})
        router.delete("/hub/hub-8").respond(403, json={"code": "x", "reason": "no"})
        with pytest.raises(lso_client.PermissionDeniedError):
            async with allegro.hubs.service_ordering.subscribe(CALLBACK):
                pass


async def test_register_retrieve_unregister(allegro: AsyncAllegroClient) -> None:
    hub = allegro.hubs.service_ordering
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/hub").respond(201, json={"id": "h", "callback": CALLBACK})
        router.get("/hub/h").respond(200, json={"id": "h", "callback": CALLBACK})
        delete = router.delete("/hub/h").respond(204)
        registered = await hub.register(m1.EventSubscriptionInput(callback=CALLBACK))
        found = await hub.retrieve("h")
        await hub.unregister("h")
    assert json.loads(post.calls.last.request.content) == {"callback": CALLBACK}
    assert registered.id == found.id == "h"
    assert delete.call_count == 1


# --------------------------------------------------------------------------- waiting


def _states(build: OrderBuilder, *states: str) -> list[httpx.Response]:
    return [_order_response(build("so-1", state)) for state in states]


async def test_wait_polls_until_final(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "acknowledged", "inProgress", "completed")
        )
        order = await allegro.service_orders.wait("so-1", poll_interval=0.001, timeout=5)
    assert order.state is m1.ServiceOrderStateType.completed
    assert route.call_count == 3


async def test_wait_until_custom_state(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        route = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "acknowledged", "held", "completed")
        )
        order = await allegro.service_orders.wait(
            "so-1", until=("held", "pending"), poll_interval=0.001
        )
    assert order.state is m1.ServiceOrderStateType.held
    assert route.call_count == 2


async def test_wait_timeout(allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        router.get("/serviceOrder/so-1").mock(
            return_value=_order_response(so_allegro_order("so-1", "pending"))
        )
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError) as info:
            await allegro.service_orders.wait("so-1", timeout=0.1, poll_interval=0.01)
    assert time.monotonic() - started < 2
    assert info.value.last.state is m1.ServiceOrderStateType.pending


async def test_create_and_wait(
    allegro: AsyncAllegroClient, so_allegro_order: OrderBuilder, so_allegro_order_create: Any
) -> None:
    with respx.mock(base_url=ALLEGRO) as router:
        post = router.post("/serviceOrder").mock(
            return_value=_order_response(so_allegro_order("so-1"), 201)
        )
        get = router.get("/serviceOrder/so-1").mock(
            side_effect=_states(so_allegro_order, "inProgress", "failed")
        )
        order = await allegro.service_orders.create_and_wait(
            so_allegro_order_create(), poll_interval=0.001, wait_timeout=5
        )
    assert order.state is m1.ServiceOrderStateType.failed
    assert (post.call_count, get.call_count) == (1, 2)
