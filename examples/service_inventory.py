"""Watch an ordered service appear in the Service Inventory, then filter the inventory.

Starts a mock seller and a notification listener on loopback, subscribes the
listener to the seller's Service Inventory hub at Interlude, places a two-item
order, prints the `serviceCreateEvent`s as the items complete, reads the new
services back, changes the state of one (`serviceStateChangeEvent`) and finally
filters the inventory by state, order, site and external id.
Run with `python examples/service_inventory.py`.
"""

from __future__ import annotations

import threading

from lso_client import InterludeClient, Notification, NotificationListener
from lso_client.testing import MockSeller, example_service_order

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


def main() -> None:
    with (
        MockSeller(step_delay=0.1) as seller,
        NotificationListener(reference_point="interlude") as listener,
        InterludeClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")
        # Services already in the inventory, so that the filters below have a choice.
        seller.seed_services(5, reference_point="interlude")
        seller.seed_services(2, reference_point="interlude", state="terminated")

        @listener.on()
        def show(notification: Notification) -> None:
            event = notification.event
            state = getattr(event, "state", None)  # v2 state changes carry the new state
            say(
                f"  <- {notification.event_type:32} service {event.id}"
                + (f" now {state}" if state else "")
            )

        events = ["serviceCreateEvent", "serviceStateChangeEvent"]
        with client.hubs.service_inventory.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: inventory hub {sub.id}")
            order = client.service_orders.create(example_service_order("interlude", items=2))
            say(f"-> order {order.id} ({order.state}) with {len(order.service_order_item)} items")
            done = client.service_orders.wait(order.id, timeout=30, poll_interval=0.1)
            say(f"order {done.id} is {done.state}")
            seller.wait_idle()
            listener.join(timeout=5)  # let the handlers print the last events first

            ordered = list(client.services.list(service_order_id=order.id))
            say(f"services of order {order.id}: {len(ordered)}")
            for service in ordered:
                config = service.to_dict()["serviceConfiguration"]
                say(
                    f"  service {service.id}: {service.state}, externalId {service.external_id},"
                    f" {config['evcType']}, frames up to {config['maximumFrameSize']} bytes"
                )

            first = ordered[0]
            seller.set_service_state(first.id, "inactive")
            seller.wait_idle()
            listener.join(timeout=5)
            say(f"service {first.id} is now {client.services.retrieve(first.id).state}")

        say("filters:")
        every = client.services.list()
        say(f"  all: {every.total_count}")
        active = client.services.list(state="active")
        say(f"  state=active: {active.total_count}")
        terminated = client.services.list(state="terminated")
        say(f"  state=terminated: {terminated.total_count}")
        by_order = client.services.list(service_order_id=order.id, state="active")
        say(f"  order {order.id} and state=active: {by_order.total_count}")
        site = client.services.list(geographic_site_id="site-0")
        say(f"  geographicSite.id=site-0: {site.total_count}")
        external = ordered[1].external_id
        by_external = client.services.list(external_id=external)
        say(f"  externalId={external}: {[s.id for s in by_external]}")


if __name__ == "__main__":
    main()
