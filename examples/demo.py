"""Order a service end to end against the embedded mock seller.

Starts a mock seller and a notification listener on loopback, subscribes the
listener to the seller's Service Ordering hub, places an order, prints the events
as they arrive, waits for the order to complete and finally lists orders page by
page. Run with `make demo` (or `python examples/demo.py [allegro|legato]`).
"""

from __future__ import annotations

import sys
import threading

from lso_client import AllegroClient, LegatoClient, Notification, NotificationListener
from lso_client.testing import MockSeller, example_service_order

CLIENTS = {"allegro": AllegroClient, "legato": LegatoClient}
# Handlers print from the listener's worker threads: every line goes through say().
_PRINT = threading.Lock()


def say(text: str) -> None:
    with _PRINT:
        print(text, flush=True)


def main(reference_point: str = "allegro") -> None:
    with (
        MockSeller(step_delay=0.3) as seller,
        NotificationListener(reference_point=reference_point) as listener,
        CLIENTS[reference_point](seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")

        @listener.on()
        def show(notification: Notification) -> None:
            event = notification.event
            item = getattr(event, "order_item_id", None)
            state = getattr(event, "state", None)  # Legato v5 events carry no state
            say(
                f"  <- {notification.event_type:38} order {event.id}"
                + (f" item {item}" if item else "")
                + (f" now {state}" if state else "")
            )

        events = [
            "serviceOrderCreateEvent",
            "serviceOrderStateChangeEvent",
            "serviceOrderItemStateChangeEvent",
        ]
        with client.hubs.service_ordering.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: hub {sub.id}")
            order = client.service_orders.create(example_service_order(reference_point, items=2))
            items = len(order.service_order_item)
            say(f"-> created order {order.id} ({order.state}) with {items} items")
            done = client.service_orders.wait(order.id, timeout=60)
            listener.join(timeout=5)  # let the handlers print the last events first
            say(f"order {done.id} is {done.state}; services:")
            for item in done.service_order_item:
                say(f"  item {item.id}: {item.state}, service {item.service.id}")

        seller.seed_orders(23, reference_point=reference_point)
        say("all orders, 10 a page:")
        first = client.service_orders.list(limit=10)
        for number, page in enumerate(first.iter_pages(), start=1):
            states = sorted({str(o.state) for o in page})
            say(
                f"  page {number}: {len(page)} orders (offset {page.offset}, "
                f"total {page.total_count}), states {states}"
            )


if __name__ == "__main__":
    main(*sys.argv[1:2])
