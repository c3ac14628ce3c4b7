"""Service catalog (Legato): list and filter service specifications, retrieve with `fields`.

Starts a mock seller and a notification listener on loopback and subscribes the
listener to the Service Catalog (4.0.0-RC) hub at Legato. Lists the seller's
service specifications, filters them by lifecycle status and category, asks for
a few fields only, retrieves one whole and one in part, and prints the
notifications the buyer gets when the seller publishes a new specification and
then launches it. Run with `python examples/service_catalog.py`.
"""

from __future__ import annotations

import threading

from lso_client import LegatoClient, Notification, NotificationListener
from lso_client.testing import MockSeller

_out = threading.Lock()


def say(text: str) -> None:
    """Print a line; notification handlers print from other threads."""
    with _out:
        print(text, flush=True)


def main() -> None:
    with (
        MockSeller() as seller,
        NotificationListener(reference_point="legato") as listener,
        LegatoClient(seller.url, token="demo-token") as client,
    ):
        say(f"mock seller at {seller.url}, listener at {listener.url}")

        say("service specifications:")
        for spec in client.service_specifications.list():
            say(
                f"  {spec.id:30} {spec.name!r:18} v{spec.version} "
                f"{spec.lifecycle_status} ({spec.category})"
            )
        active = client.service_specifications.list(lifecycle_status="ACTIVE")
        say(f"lifecycleStatus=ACTIVE: {[s.id for s in active]}")
        ip = client.service_specifications.list(category="IP")
        say(f"category=IP: {[s.id for s in ip]}")
        brief = client.service_specifications.list(fields="name,version")
        say(f"fields=name,version: {[(s.name, s.version) for s in brief]}")
        say(f"  each with only {sorted(brief.items[0].to_dict())}")

        spec = client.service_specifications.retrieve("carrier-ethernet-access-eline")
        schema = spec.target_service_schema
        say(f"{spec.id}: {spec.description}")
        say(f"  target schema {schema.type if schema else None}")
        for characteristic in spec.service_spec_characteristic or []:
            for value in characteristic.service_spec_characteristic_value or []:
                say(
                    f"  characteristic {characteristic.name}: {value.value_from}-{value.value_to}"
                    f" {value.unit_of_measure}"
                )
        part = client.service_specifications.retrieve(
            "internet-access", fields="lifecycleStatus,serviceSpecRelationship"
        )
        related = [f"{r.relationship_type} {r.id}" for r in part.service_spec_relationship or []]
        say(f"internet-access, two fields: {part.lifecycle_status}, {related}")

        @listener.on()
        def show(notification: Notification) -> None:
            published = notification.event.service_specification
            say(f"  <- {notification.event_type:39} {published.id} {published.lifecycle_status}")

        events = [
            "serviceSpecificationCreateNotification",
            "serviceSpecificationChangeNotification",
        ]
        catalog = seller.api("service_catalog", "legato")
        with client.hubs.service_catalog.subscribe(listener, event_types=events) as sub:
            say(f"subscribed: catalog hub {sub.id}")
            new_id = catalog.add_specification(
                {
                    "id": "sd-wan-service",
                    "name": "SD-WAN",
                    "description": "Managed SD-WAN over Internet access (MEF 70.1)",
                    "category": "SD-WAN",
                    "version": "1.0.0",
                    "isBundle": False,
                    "lifecycleStatus": "IN_TEST",
                }
            )
            say(f"-> the seller published {new_id}")
            seller.wait_idle()
            listener.join(timeout=5)
            catalog.set_lifecycle_status(new_id, "LAUNCHED")
            say(f"-> the seller launched {new_id}")
            seller.wait_idle()
            listener.join(timeout=5)

        launched = client.service_specifications.list(lifecycle_status="LAUNCHED")
        say(f"lifecycleStatus=LAUNCHED: {[s.id for s in launched]}")


if __name__ == "__main__":
    main()
