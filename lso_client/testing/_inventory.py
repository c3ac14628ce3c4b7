"""Service Inventory as an API module of the mock seller.

One instance serves one reference point: v2 (Allegro, Interlude) or v5 (Legato).
Services enter the inventory when an ordered `add` item completes (the ordering
API of the same reference point calls `fulfil`), change with `modify` items and
are terminated by `delete` items, as W135.1 and MEF 135 describe; tests can also
seed services and move their state directly. Each service keeps its JSON bytes.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._api import ApiModule
from ._examples import example_service_configuration, minimal_service_configuration
from ._filters import Body, Check, Extract, Filters, field_at
from ._http import Request, Route
from ._runtime import HubStore, SellerContext, format_time
from ._store import Record, Store

__all__ = [
    "INVENTORY_VERSIONS",
    "SERVICE_STATES",
    "SERVICE_TRANSITIONS",
    "InventoryVersion",
    "ServiceInventoryApi",
]

SERVICE_STATES = frozenset(
    {"feasibilityChecked", "designed", "reserved", "inactive", "active", "terminated"}
)
# The Service state machine (W135.1 Figure 11; MEF 135).
SERVICE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "feasibilityChecked": frozenset({"designed", "reserved", "inactive", "active"}),
    "designed": frozenset({"reserved", "inactive", "active"}),
    "reserved": frozenset({"designed", "inactive", "active"}),
    "inactive": frozenset({"active", "terminated"}),
    "active": frozenset({"inactive", "terminated"}),
    "terminated": frozenset(),
}
# What an ordered service carries over into the inventory, as both versions name it.
_COPIED = (
    "description",
    "externalId",
    "note",
    "place",
    "relatedContactInformation",
    "serviceConfiguration",
    "serviceRelationship",
    "serviceType",
    "startMode",
)
# `modify` items may change these; a change is a serviceAttributeValueChangeEvent.
_MODIFIABLE = tuple(name for name in _COPIED if name != "externalId")
_DATE_FILTERS = ("serviceDate", "startDate", "endDate")
_EQUALITY_FILTERS = ("externalId", "serviceType", "startMode")


@dataclass(frozen=True)
class InventoryVersion:
    reference_point: str
    management_base: str
    notification_base: str
    # v2 sends `state` in serviceStateChangeEvent; v5's generic payload has only id/href.
    state_in_events: bool
    # Only v2 defines the `@type` filter (the serviceConfiguration's schema URN).
    type_filter: bool
    # v2 answers an invalid hub registration with 422; v5 defines only 400.
    hub_validation_status: int
    # v2 places are `{role, place: {@type, id}}`; v5 places are flat `{@type, role, id}`.
    nested_places: bool


def _v2(reference_point: str) -> InventoryVersion:
    return InventoryVersion(
        reference_point=reference_point,
        management_base=f"/mefApi/{reference_point}/serviceInventory/v2/",
        notification_base=f"/mefApi/{reference_point}/serviceInventoryNotification/v2/",
        state_in_events=True,
        type_filter=True,
        hub_validation_status=422,
        nested_places=True,
    )


INVENTORY_VERSIONS: Mapping[str, InventoryVersion] = {
    "allegro": _v2("allegro"),
    "interlude": _v2("interlude"),
    "legato": InventoryVersion(
        reference_point="legato",
        management_base="/mefApi/legato/serviceInventory/v5/",
        notification_base="/mefApi/legato/serviceInventoryNotification/v5/",
        state_in_events=False,
        type_filter=False,
        hub_validation_status=400,
        nested_places=False,
    ),
}


class ServiceInventoryApi(ApiModule):
    """`GET service`, `GET service/{id}` and the hub of one reference point.

    `retention`: seconds a terminated service stays listed before the seller removes
    it with `serviceDeleteEvent` (the guides leave the period to the seller); None
    keeps terminated services.
    """

    hubs: HubStore

    def __init__(
        self, version: InventoryVersion, context: SellerContext, *, retention: float | None = None
    ) -> None:
        super().__init__(context)
        self.version = version
        self.base_path = version.management_base
        self.notification_base = version.notification_base
        self.retention = retention
        self.hubs = HubStore(context.new_id, validation_status=version.hub_validation_status)
        self._services: Store[Record] = Store("service", self._filters())

    # -- wiring -------------------------------------------------------------------

    @property
    def reference_point(self) -> str:
        return self.version.reference_point

    def routes(self) -> list[Route]:
        return [
            Route("GET", "service", self.list_handler(self._services)),
            Route("GET", "service/{id}", self.retrieve_handler(self._services)),
            *self.hubs.routes(),
        ]

    def stores(self) -> list[Store[Record]]:
        return [self._services]

    def _filters(self) -> Filters:
        equals: dict[str, Extract] = {"state": field_at("state")}
        equals.update({name: field_at(name) for name in _EQUALITY_FILTERS})
        if self.version.type_filter:
            equals["@type"] = field_at("serviceConfiguration", "@type")
        equals["geographicSite.id"] = lambda body: self._place_ids(body, "Site")
        equals["geographicAddress.id"] = lambda body: self._place_ids(body, "Address")
        return Filters(
            equals=equals,
            dates={name: field_at(name) for name in _DATE_FILTERS},
            enums={"state": SERVICE_STATES},
            joint=(_ordered_by,),
        )

    # -- inspection and control (any thread) --------------------------------------

    def services(self) -> list[dict[str, Any]]:
        with self._lock:
            blobs = [service.json for service in self._services.all()]
        return [json.loads(blob) for blob in blobs]

    def get(self, service_id: str) -> dict[str, Any] | None:
        with self._lock:
            service = self._services.get(service_id)
            return None if service is None else json.loads(service.json)

    def has(self, service_id: str) -> bool:
        with self._lock:
            return service_id in self._services

    def reset(self) -> None:
        """Forget every service and hub."""
        with self._lock:
            self._services.clear()
        self.hubs.clear()

    def seed(self, n: int, *, state: str = "active", realistic: bool = False) -> list[str]:
        """Add `n` services directly in `state`, without notifications; returns their ids.

        Start dates are one minute apart, ending now; each has a site place and a
        `serviceConfiguration`: a Carrier Ethernet EVC payload of the reference point's
        schema, with two dozen fields when `realistic`, else only the required ones.
        """
        if state not in SERVICE_STATES:
            raise ValueError(f"unknown service state {state!r}")
        now = self.now()
        created: list[Record] = []
        for index in range(n):
            service_id = self._ctx.new_id()
            started = now - timedelta(minutes=n - index)
            configuration = (
                example_service_configuration(
                    random.Random(index), reference_point=self.reference_point
                )
                if realistic
                else minimal_service_configuration(self.reference_point)
            )
            body: dict[str, Any] = {
                "externalId": f"seed-service-{index}",
                "description": f"Seeded service {index}",
                "serviceType": "carrier-ethernet-access-eline",
                "place": [self._site_place(f"site-{index % 7}")],
                "serviceConfiguration": configuration,
            }
            service = self._new(service_id, body, state, started)
            if state == "terminated":
                service.body["endDate"] = format_time(started)
            created.append(service)
        with self._lock:
            for service in created:
                self._services.save(service)
        return [service.id for service in created]

    def set_state(self, service_id: str, state: str) -> None:
        """Move a service along the state machine and notify `serviceStateChangeEvent`.

        Must be given a transition the Service state machine allows (ValueError otherwise).
        """
        if state not in SERVICE_STATES:
            raise ValueError(f"unknown service state {state!r}")
        with self._lock:
            service = self._services.get(service_id)
            if service is None:
                raise KeyError(service_id)
            if state not in SERVICE_TRANSITIONS[service.state]:
                raise ValueError(
                    f"service {service_id} cannot go from {service.state!r} to {state!r}"
                )
            events = self._change_state(service, state)
            self._services.save(service)
        self.publish_soon(events)

    def remove(self, service_id: str) -> None:
        """Drop a service from the inventory and notify `serviceDeleteEvent`."""
        with self._lock:
            service = self._services.remove(service_id)
            if service is None:
                raise KeyError(service_id)
            href = service.body.get("href")
        self.publish_soon([self._event("serviceDeleteEvent", service_id, href)])

    # -- fulfilment of ordered items (serving loop) ------------------------------------

    def fulfil(self, order: dict[str, Any], item: dict[str, Any]) -> None:
        """Reflect a completed order item: `add` creates, `modify` changes, `delete` ends."""
        ordered = item.get("service")
        if not isinstance(ordered, dict) or not isinstance(ordered.get("id"), str):
            return
        service_id: str = ordered["id"]
        reference = {
            "itemId": item["id"],
            "serviceOrderId": order["id"],
            "serviceOrderHref": order.get("href"),
        }
        reference = {k: v for k, v in reference.items() if v is not None}
        action = item.get("action")
        events: list[dict[str, Any]] = []
        with self._lock:
            existing = self._services.get(service_id)
            if action == "add" and existing is None:
                requested = ordered.get("state")
                # An added service may start in any state but `terminated` (W99.1).
                state = (
                    requested
                    if isinstance(requested, str) and requested in SERVICE_STATES - {"terminated"}
                    else "active"
                )
                body = {k: copy.deepcopy(ordered[k]) for k in _COPIED if k in ordered}
                body["serviceOrderItem"] = [reference]
                service = self._services.save(self._new(service_id, body, state, self.now()))
                events.append(self._event("serviceCreateEvent", service_id, service.body["href"]))
            elif action == "modify" and existing is not None:
                events.extend(self._modify(existing, ordered, reference))
            elif action == "delete" and existing is not None:
                existing.body.setdefault("serviceOrderItem", []).append(reference)
                if existing.state != "terminated":
                    events.extend(self._change_state(existing, "terminated"))
                self._services.save(existing)
        self.publish(events)

    def _modify(
        self, service: Record, ordered: dict[str, Any], reference: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        changed = False
        for name in _MODIFIABLE:
            if name in ordered and service.body.get(name) != ordered[name]:
                service.body[name] = copy.deepcopy(ordered[name])
                changed = True
        service.body.setdefault("serviceOrderItem", []).append(reference)
        if changed:
            events.append(
                self._event("serviceAttributeValueChangeEvent", service.id, service.body["href"])
            )
        requested = ordered.get("state")
        # `modify` may also leave the state unchanged; only allowed moves are applied.
        if (
            isinstance(requested, str)
            and requested != service.state
            and requested in SERVICE_TRANSITIONS[service.state]
        ):
            events.extend(self._change_state(service, requested))
        self._services.save(service)
        return events

    # -- helpers -----------------------------------------------------------------------

    def _new(self, service_id: str, body: dict[str, Any], state: str, started: datetime) -> Record:
        # `id`/`href` lead; v5's Service does not name them but the buyer needs the id
        # for `GET service/{id}`, and the schema allows further properties.
        href = self.href(f"service/{service_id}")
        full = {"id": service_id, "href": href, **body, "state": state}
        full["serviceDate"] = format_time(started)
        if state in ("active", "inactive"):
            full["startDate"] = format_time(started)
        return Record(service_id, full)

    def _change_state(self, service: Record, state: str) -> list[dict[str, Any]]:
        """Set the state (lock held); returns the event, and arranges removal if due."""
        now = format_time(self.now())
        service.body["state"] = state
        if state in ("active", "inactive"):
            service.body.setdefault("startDate", now)
        if state == "terminated":
            service.body["endDate"] = now
            if self.retention is not None:
                service_id = service.id
                self._ctx.scheduler.call_later(self.retention, lambda: self._expire(service_id))
        extra = {"state": state} if self.version.state_in_events else {}
        return [self._event("serviceStateChangeEvent", service.id, service.body["href"], extra)]

    def _expire(self, service_id: str) -> None:
        with self._lock:
            service = self._services.get(service_id)
            if service is None or service.state != "terminated":
                return
            self._services.remove(service_id)
            href = service.body.get("href")
        self.publish([self._event("serviceDeleteEvent", service_id, href)])

    def _event(
        self,
        event_type: str,
        service_id: str,
        href: str | None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.event(event_type, {"id": service_id, "href": href, **(extra or {})})

    def _site_place(self, site_id: str) -> dict[str, Any]:
        site = {"@type": "GeographicSiteRef", "id": site_id}
        if self.version.nested_places:
            return {"role": "INSTALL_LOCATION", "place": site}
        return {**site, "role": "INSTALL_LOCATION"}

    def _place_ids(self, body: dict[str, Any], kind: str) -> set[str]:
        """Ids of the GeographicSite (`kind` "Site") or GeographicAddress refs of a service."""
        wanted = f"Geographic{kind}Ref"
        found: set[str] = set()
        for entry in body.get("place") or ():
            if not isinstance(entry, dict):
                continue
            ref = entry.get("place") if self.version.nested_places else entry
            if isinstance(ref, dict) and ref.get("@type") == wanted and "id" in ref:
                found.add(str(ref["id"]))
        return found


def _ordered_by(request: Request) -> Check | None:
    """`serviceOrder.id` and `serviceOrderItem.id`: both must name the same item."""
    order_id = request.query_value("serviceOrder.id")
    item_id = request.query_value("serviceOrderItem.id")
    if order_id is None and item_id is None:
        return None

    def check(body: Body) -> bool:
        return any(
            (order_id is None or ref.get("serviceOrderId") == order_id)
            and (item_id is None or ref.get("itemId") == item_id)
            for ref in body.get("serviceOrderItem") or ()
        )

    return check
