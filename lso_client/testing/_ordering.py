"""Service Ordering Management as an API module of the mock seller.

One instance serves one version (Allegro v1, Legato v5): the `serviceOrder`
resource, its hub, the scripted progress of each order and its notifications.
Each order keeps its JSON bytes, rebuilt on every change, so listing thousands of
orders only joins bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ._api import ApiModule
from ._examples import (
    example_service_configuration,
    example_service_order,
    minimal_service_configuration,
)
from ._filters import Filters, field_at
from ._http import (
    ApiError,
    Request,
    Response,
    Route,
    Unprocessable,
    json_response,
    parse_datetime,
    unprocessable,
)
from ._runtime import HubStore, SellerContext, format_time
from ._scenarios import (
    ORDER_STATES,
    SCENARIOS,
    TERMINAL_STATES,
    Scenario,
    ScenarioPicker,
    Step,
    check_script,
    derive_order_state,
)
from ._store import Record, Store

__all__ = [
    "ALLEGRO_V1",
    "INTERLUDE_V1",
    "LEGATO_V5",
    "FulfilmentHook",
    "OrderingVersion",
    "ServiceOrderingApi",
]

SCENARIO_PREFIX = "mock:"
_ACTIONS = frozenset({"add", "modify", "delete"})
_FILTERS = Filters(
    equals={"state": field_at("state")},
    dates={
        name: field_at(name)
        for name in ("orderDate", "completionDate", "expectedCompletionDate", "startDate")
    },
    enums={"state": ORDER_STATES},
)


@dataclass(frozen=True)
class OrderingVersion:
    reference_point: str
    management_base: str
    notification_base: str
    # Allegro's state-change payloads carry `state`; Legato v5's generic payload has none.
    state_in_events: bool
    # Status for an invalid hub registration: Allegro defines 422, Legato v5 only 400.
    hub_validation_status: int


def _v1(reference_point: str) -> OrderingVersion:
    return OrderingVersion(
        reference_point=reference_point,
        management_base=f"/mefApi/{reference_point}/serviceOrderingManagement/v1/",
        notification_base=f"/mefApi/{reference_point}/serviceOrderingNotification/v1/",
        state_in_events=True,
        hub_validation_status=422,
    )


ALLEGRO_V1 = _v1("allegro")
# Interlude serves the Allegro v1 definition under its own paths (W99.1).
INTERLUDE_V1 = _v1("interlude")
LEGATO_V5 = OrderingVersion(
    reference_point="legato",
    management_base="/mefApi/legato/serviceOrderingManagement/v5/",
    notification_base="/mefApi/legato/serviceOrderingNotification/v5/",
    state_in_events=False,
    hub_validation_status=400,
)


# Told of every order item that reaches `completed` (a copy of the order and the item),
# so that the Service Inventory can reflect what was ordered.
FulfilmentHook = Callable[[dict[str, Any], dict[str, Any]], None]


@dataclass
class _Order(Record):
    scenario: str = ""
    steps: list[Step] = field(default_factory=list)
    cursor: int = 0
    waiting: str | None = None


class ServiceOrderingApi(ApiModule):
    hubs: HubStore

    def __init__(
        self, version: OrderingVersion, context: SellerContext, picker: ScenarioPicker
    ) -> None:
        super().__init__(context)
        self.version = version
        self.base_path = version.management_base
        self.notification_base = version.notification_base
        self._picker = picker
        self.hubs = HubStore(context.new_id, validation_status=version.hub_validation_status)
        self._orders: Store[_Order] = Store("service order", _FILTERS)
        # Set by the seller to link ordering to the inventory of the same reference point.
        self.fulfilment: FulfilmentHook | None = None

    # -- wiring -------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "serviceOrder", self.list_handler(self._orders)),
            Route("POST", "serviceOrder", self._create),
            Route("GET", "serviceOrder/{id}", self.retrieve_handler(self._orders)),
            *self.hubs.routes(),
        ]

    def stores(self) -> list[Store[_Order]]:
        return [self._orders]

    # -- inspection and control (any thread) --------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            blobs = [order.json for order in self._orders.all()]
        return [json.loads(blob) for blob in blobs]

    def get(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(order_id)
            return None if order is None else json.loads(order.json)

    def has(self, order_id: str) -> bool:
        with self._lock:
            return order_id in self._orders

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()
        self.hubs.clear()

    def resume(self, order_id: str, waiting_for: str) -> None:
        """Continue a script paused on `waiting_for` ("release" or "information")."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            if order.waiting != waiting_for:
                raise ValueError(
                    f"order {order_id} is {order.state} and not waiting for {waiting_for}"
                )
            order.waiting = None
        self._schedule(order_id)

    # -- HTTP handlers (serving loop) ----------------------------------------------

    def _create(self, request: Request, _: dict[str, str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "invalidBody", "The body must be a JSON object")
        scenario = _validate_create(body) or self._picker.next()
        items: list[dict[str, Any]] = body["serviceOrderItem"]
        try:
            steps = check_script(scenario, len(items))
        except ValueError as exc:
            raise ApiError(500, "internalError", str(exc)) from exc
        now = self.now()
        order_id = self._ctx.new_id()
        body["id"] = order_id
        body["href"] = self.href(f"serviceOrder/{order_id}", request.base_url)
        body["orderDate"] = format_time(now)
        body["state"] = "acknowledged"
        for item in items:
            item["state"] = "acknowledged"
        running = len(steps) * self._ctx.step_delay
        expected = now + timedelta(seconds=max(running, 1.0))
        body["expectedCompletionDate"] = format_time(expected)
        order = _Order(order_id, body, scenario=scenario.name, steps=steps)
        with self._lock:
            self._orders.save(order)
        self.publish(
            [self.event("serviceOrderCreateEvent", {"id": order_id, "href": body["href"]})]
        )
        if steps:
            self._schedule(order_id)
        return json_response(201, order.json)

    # -- scripted progress ---------------------------------------------------------

    def _schedule(self, order_id: str) -> None:
        self._ctx.scheduler.call_later(self._ctx.step_delay, lambda: self._advance(order_id))

    def _advance(self, order_id: str) -> None:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or order.waiting or order.cursor >= len(order.steps):
                return
            step = order.steps[order.cursor]
            order.cursor += 1
            events, fulfilled = self._apply(order, step)
            if step.wait_for is not None:
                order.waiting = step.wait_for
            more = order.waiting is None and order.cursor < len(order.steps)
            header = json.loads(order.json) if fulfilled and self.fulfilment else None
        self.publish(events)
        if header is not None and self.fulfilment is not None:
            for position in fulfilled:
                self.fulfilment(header, header["serviceOrderItem"][position])
        if more:
            self._schedule(order_id)

    def _apply(self, order: _Order, step: Step) -> tuple[list[dict[str, Any]], list[int]]:
        """Apply one step; return its events and the positions of the items it completed."""
        now = format_time(self.now())
        items: list[dict[str, Any]] = order.body["serviceOrderItem"]
        events: list[dict[str, Any]] = []
        fulfilled: list[int] = []
        href = order.body.get("href")
        for position, new in sorted(step.items.items()):
            item = items[position]
            if item.get("state") == new:
                continue
            item["state"] = new
            self._item_side_effects(item, new)
            if new == "completed":
                fulfilled.append(position)
            payload: dict[str, Any] = {"id": order.id, "href": href, "orderItemId": item["id"]}
            if self.version.state_in_events:
                payload["state"] = new
            events.append(self.event("serviceOrderItemStateChangeEvent", payload))
        new_state = derive_order_state([item["state"] for item in items])
        if new_state != order.state:
            order.body["state"] = new_state
            if new_state == "inProgress":
                order.body.setdefault("startDate", now)
            if new_state in TERMINAL_STATES:
                order.body["completionDate"] = now
            payload = {"id": order.id, "href": href}
            if self.version.state_in_events:
                payload["state"] = new_state
            events.append(self.event("serviceOrderStateChangeEvent", payload))
        if step.information_required:
            events.append(
                self.event("serviceOrderInformationRequiredEvent", {"id": order.id, "href": href})
            )
        self._orders.save(order)
        return events, fulfilled

    def _item_side_effects(self, item: dict[str, Any], new: str) -> None:
        service = item.get("service")
        if new == "completed" and item.get("action") == "add" and isinstance(service, dict):
            # The seller names the service it created (W99.1 R24, R35).
            service.setdefault("id", self._ctx.new_id())
        if new in ("failed", "rejected"):
            item.setdefault(
                "terminationError",
                [{"code": "otherIssue", "value": f"The mock seller's scenario set {new}"}],
            )

    # -- bulk seeding (any thread) --------------------------------------------------

    def seed(self, n: int, *, state: str, items: int, realistic: bool = False) -> list[str]:
        """Create `n` orders directly in `state`, without notifications.

        Seeded orders do not progress, except that `held` and `pending` ones resume
        (and complete) on `release` / `provide_information`.
        """
        if state not in ORDER_STATES:
            raise ValueError(f"unknown order state {state!r}")
        if items < 1:
            raise ValueError("an order needs at least one item")
        if state == "partial":
            items = max(items, 2)
        item_states = _seeded_item_states(state, items)
        resume: list[Step] = []
        waiting: str | None = None
        if state in ("held", "pending"):
            waiting = "release" if state == "held" else "information"
            resume = [Step({0: "inProgress"})] + [Step({i: "completed"}) for i in range(items)]
        now = self.now()
        ids: list[str] = []
        created: list[_Order] = []
        for index in range(n):
            order_id = self._ctx.new_id()
            ordered = now - timedelta(seconds=n - index)
            body: dict[str, Any] = {
                **(_realistic_extras(index) if realistic else {}),
                "id": order_id,
                "href": self.href(f"serviceOrder/{order_id}"),
                "externalId": f"seed-{index}",
                "requestedStartDate": format_time(ordered),
                "requestedCompletionDate": format_time(ordered + timedelta(days=1)),
                "orderDate": format_time(ordered),
                "expectedCompletionDate": format_time(ordered + timedelta(days=1)),
                "state": state,
                "serviceOrderItem": [],
            }
            if state not in ("acknowledged", "rejected"):
                body["startDate"] = body["orderDate"]
            if state in TERMINAL_STATES:
                body["completionDate"] = format_time(ordered + timedelta(milliseconds=500))
            for position, item_state in enumerate(item_states):
                service: dict[str, Any] = {
                    "state": "active",
                    "serviceConfiguration": (
                        example_service_configuration(
                            random.Random(index * 7 + position),
                            reference_point=self.version.reference_point,
                        )
                        if realistic
                        else minimal_service_configuration(self.version.reference_point)
                    ),
                }
                item: dict[str, Any] = {
                    "id": str(position + 1),
                    "action": "add",
                    "service": service,
                    "state": item_state,
                }
                if item_state == "completed":
                    service["id"] = self._ctx.new_id()
                self._item_side_effects(item, item_state)
                body["serviceOrderItem"].append(item)
            created.append(
                _Order(order_id, body, scenario="seeded", steps=list(resume), waiting=waiting)
            )
            ids.append(order_id)
        with self._lock:
            for order in created:
                self._orders.save(order)
        return ids


def _realistic_extras(index: int) -> dict[str, Any]:
    """Notes, contacts and a description as a buyer's order would carry them."""
    sample = example_service_order("legato", items=0, seed=index)
    return {key: sample[key] for key in ("description", "note", "relatedContactInformation")}


def _seeded_item_states(state: str, items: int) -> list[str]:
    if state == "partial":
        return ["completed"] + ["failed"] * (items - 1)
    if state in ("held", "pending"):
        return [state] + ["inProgress"] * (items - 1)
    return [state] * items


def _validate_create(body: dict[str, Any]) -> Scenario | None:
    """Check what `ServiceOrder_Create` requires; return a scenario named by `externalId`."""
    errors: list[dict[str, str]] = []
    for name in ("requestedStartDate", "requestedCompletionDate"):
        value = body.get(name)
        if value is None:
            errors.append(unprocessable("missingProperty", f"'{name}' is required", f"/{name}"))
        elif not isinstance(value, str) or parse_datetime(value) is None:
            errors.append(
                unprocessable(
                    "invalidFormat", f"'{name}' must be a date-time with an offset", f"/{name}"
                )
            )
    items = body.get("serviceOrderItem")
    if items is None:
        errors.append(
            unprocessable("missingProperty", "'serviceOrderItem' is required", "/serviceOrderItem")
        )
    elif not isinstance(items, list) or not items:
        errors.append(
            unprocessable(
                "invalidValue", "'serviceOrderItem' must be a non-empty array", "/serviceOrderItem"
            )
        )
    else:
        seen: set[str] = set()
        for position, item in enumerate(items):
            errors.extend(_validate_item(item, f"/serviceOrderItem/{position}", seen))
    scenario: Scenario | None = None
    external_id = body.get("externalId")
    if isinstance(external_id, str) and external_id.startswith(SCENARIO_PREFIX):
        name = external_id[len(SCENARIO_PREFIX) :].split(":", 1)[0]
        scenario = SCENARIOS.get(name)
        if scenario is None:
            known = ", ".join(sorted(SCENARIOS))
            errors.append(
                unprocessable(
                    "invalidValue",
                    f"'externalId' names no mock scenario {name!r} (known: {known})",
                    "/externalId",
                )
            )
    if errors:
        raise Unprocessable(errors)
    return scenario


def _validate_item(item: Any, path: str, seen: set[str]) -> list[dict[str, str]]:
    if not isinstance(item, dict):
        return [unprocessable("invalidValue", "an order item must be an object", path)]
    errors: list[dict[str, str]] = []
    for name in ("id", "action", "service"):
        if name not in item:
            errors.append(
                unprocessable("missingProperty", f"'{name}' is required", f"{path}/{name}")
            )
    item_id = item.get("id")
    if "id" in item:
        if not isinstance(item_id, str) or not item_id:
            errors.append(
                unprocessable("invalidValue", "'id' must be a non-empty string", f"{path}/id")
            )
        elif item_id in seen:
            errors.append(
                unprocessable("invalidValue", f"item id {item_id!r} is repeated", f"{path}/id")
            )
        else:
            seen.add(item_id)
    if "action" in item and item["action"] not in _ACTIONS:
        errors.append(
            unprocessable(
                "invalidValue", "'action' must be one of add, modify, delete", f"{path}/action"
            )
        )
    if "service" in item and not isinstance(item["service"], dict):
        errors.append(
            unprocessable("invalidValue", "'service' must be an object", f"{path}/service")
        )
    return errors
