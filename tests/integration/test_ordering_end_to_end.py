"""The SDK, the listener and the mock seller together, over real HTTP on loopback."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from lso_client import (
    AllegroClient,
    AsyncAllegroClient,
    AsyncLegatoClient,
    LegatoClient,
    NotFoundError,
    Notification,
    NotificationListener,
    RequestValidationError,
    WaitTimeoutError,
)
from lso_client.testing import MockSeller, example_service_order

CLIENTS = {"allegro": AllegroClient, "legato": LegatoClient}
ASYNC_CLIENTS = {"allegro": AsyncAllegroClient, "legato": AsyncLegatoClient}
ORDER_EVENTS = [
    "serviceOrderCreateEvent",
    "serviceOrderStateChangeEvent",
    "serviceOrderItemStateChangeEvent",
    "serviceOrderInformationRequiredEvent",
]
# So long that a wait only ends early when a notification wakes it.
NEVER = 600.0


@pytest.fixture
def seller() -> Any:
    with MockSeller(step_delay=0.02) as running:
        yield running


@pytest.fixture
def listener() -> Any:
    with NotificationListener(inbox="memory") as running:
        yield running


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
@pytest.mark.parametrize(
    ("scenario", "final"),
    [
        ("completed", "completed"),
        ("failed", "failed"),
        ("partial", "partial"),
        ("rejected", "rejected"),
    ],
)
def test_order_reaches_its_final_state_woken_by_notifications(
    seller: MockSeller,
    listener: NotificationListener,
    reference_point: str,
    scenario: str,
    final: str,
) -> None:
    received: list[Notification] = []
    lock = threading.Lock()

    @listener.on(*ORDER_EVENTS)
    def record(notification: Notification) -> None:
        with lock:
            received.append(notification)

    with CLIENTS[reference_point](seller.url, token="t") as client:
        hub = client.hubs.service_ordering
        with hub.subscribe(listener, event_types=ORDER_EVENTS) as subscription:
            assert seller.hubs(reference_point)[0]["id"] == subscription.id
            body = example_service_order(reference_point, items=2, external_id=f"mock:{scenario}")
            order = client.service_orders.create(body)
            assert str(order.state) == "acknowledged"
            # Polls only every NEVER seconds: returning at all proves the events woke it.
            done = client.service_orders.wait(
                order.id, timeout=20, poll_interval=NEVER, max_poll_interval=NEVER
            )
            assert str(done.state) == final
            seller.wait_idle()
            assert listener.join(timeout=5)
        # Leaving the block unregistered the hub.
        assert seller.hubs(reference_point) == []

    with lock:
        mine = [n for n in received if n.event.id == order.id]
    assert mine[0].event_type == "serviceOrderCreateEvent"
    order_states = [n for n in mine if n.event_type == "serviceOrderStateChangeEvent"]
    assert order_states, "no order state change notified"
    assert all(not n.deviations for n in mine), [n.deviations for n in mine]
    if reference_point == "allegro":  # Allegro v1 events carry the new state
        assert str(order_states[-1].event.state) == final


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
def test_services_of_a_completed_order_get_ids(seller: MockSeller, reference_point: str) -> None:
    with CLIENTS[reference_point](seller.url) as client:
        done = client.service_orders.create_and_wait(
            example_service_order(reference_point, items=3), poll_interval=0.01
        )
        assert str(done.state) == "completed"
        ids = [item.service.id for item in done.service_order_item]
        assert all(ids) and len(set(ids)) == 3
        # What was ordered is kept, unknown payload fields included.
        sent = example_service_order(reference_point, items=3)
        got = done.to_dict()
        for sent_item, got_item in zip(
            sent["serviceOrderItem"], got["serviceOrderItem"], strict=True
        ):
            assert (
                got_item["service"]["serviceConfiguration"]
                == (sent_item["service"]["serviceConfiguration"])
            )


def test_wait_without_a_listener_polls_and_times_out_on_held(seller: MockSeller) -> None:
    with AllegroClient(seller.url) as client:
        order = client.service_orders.create(example_service_order(external_id="mock:held"))
        held = client.service_orders.wait(order.id, until=["held"], poll_interval=0.01)
        assert str(held.state) == "held"
        with pytest.raises(WaitTimeoutError) as caught:
            client.service_orders.wait(order.id, timeout=0.3, poll_interval=0.05)
        assert str(caught.value.last.state) == "held"
        seller.release(order.id)
        assert str(client.service_orders.wait(order.id, poll_interval=0.01).state) == "completed"


def test_information_required_is_notified_and_order_resumes(
    seller: MockSeller, listener: NotificationListener
) -> None:
    asked = threading.Event()

    @listener.on("serviceOrderInformationRequiredEvent")
    def on_information_required(notification: Notification) -> None:
        asked.set()

    with AllegroClient(seller.url) as client, client.hubs.service_ordering.subscribe(listener):
        order = client.service_orders.create(example_service_order(external_id="mock:pending"))
        pending = client.service_orders.wait(order.id, until=["pending"], poll_interval=0.01)
        assert str(pending.state) == "pending"
        assert asked.wait(5)
        seller.provide_information(order.id)
        assert str(client.service_orders.wait(order.id, poll_interval=0.01).state) == ("completed")


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
def test_listing_pages_through_every_order(seller: MockSeller, reference_point: str) -> None:
    ids = seller.seed_orders(57, reference_point=reference_point)
    with CLIENTS[reference_point](seller.url) as client:
        first = client.service_orders.list(limit=20)
        assert first.total_count == 57
        assert len(first) == 20
        assert [o.id for o in client.service_orders.list(limit=20)] == ids
        assert len(list(client.service_orders.list(limit=20, max_items=30))) == 30
        assert len(list(client.service_orders.list(state="completed"))) == 57
        assert list(client.service_orders.list(state="failed")) == []


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
def test_listing_with_pages_in_flight_gives_the_same_orders(
    seller: MockSeller, reference_point: str
) -> None:
    ids = seller.seed_orders(95, reference_point=reference_point)
    with CLIENTS[reference_point](seller.url) as client:
        orders = client.service_orders.list(limit=10, pages_in_flight=4)
        assert [o.id for o in orders] == ids
        capped = client.service_orders.list(limit=10, max_items=33, pages_in_flight=4)
        assert [o.id for o in capped] == ids[:33]
        pages = client.service_orders.list(limit=10, pages_in_flight=3).iter_pages()
        assert [page.offset for page in pages] == list(range(0, 95, 10))


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
async def test_async_listing_with_pages_in_flight_gives_the_same_orders(
    seller: MockSeller, reference_point: str
) -> None:
    ids = seller.seed_orders(95, reference_point=reference_point)
    async with ASYNC_CLIENTS[reference_point](seller.url) as client:
        pager = client.service_orders.list(limit=10, pages_in_flight=4)
        assert [o.id async for o in pager] == ids
        capped = client.service_orders.list(limit=10, max_items=33, pages_in_flight=4)
        assert [o.id async for o in capped] == ids[:33]


def test_errors_from_the_seller_are_typed(seller: MockSeller) -> None:
    with AllegroClient(seller.url) as client:
        with pytest.raises(NotFoundError) as caught:
            client.service_orders.retrieve("no-such-order")
        assert caught.value.status_code == 404
        assert caught.value.errors[0]["code"] == "notFound"
        with pytest.raises(RequestValidationError):
            client.service_orders.create({"serviceOrderItem": []})
        assert seller.orders() == []


@pytest.mark.parametrize("reference_point", ["allegro", "legato"])
async def test_async_client_mirrors_the_flow(
    seller: MockSeller, listener: NotificationListener, reference_point: str
) -> None:
    async with ASYNC_CLIENTS[reference_point](seller.url) as client:
        async with client.hubs.service_ordering.subscribe(listener, event_types=ORDER_EVENTS):
            order = await client.service_orders.create(example_service_order(reference_point))
            done = await client.service_orders.wait(
                order.id, timeout=20, poll_interval=NEVER, max_poll_interval=NEVER
            )
            assert str(done.state) == "completed"
        assert seller.hubs(reference_point) == []
        seller.seed_orders(25, reference_point=reference_point)
        ids = [o.id async for o in client.service_orders.list(limit=10)]
        assert len(ids) == 26 and ids[0] == order.id
        first = await client.service_orders.list(limit=10)
        assert first.total_count == 26
