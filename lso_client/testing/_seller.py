"""`MockSeller`: an in-memory, stateful seller served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any

from .._extras import require
from .._operations import REFERENCE_POINTS
from ..notifications._server import BackgroundServer
from ._alarms import AlarmManagementApi
from ._broker import KafkaBroker
from ._catalog import ServiceCatalogApi
from ._http import (
    Receive,
    Response,
    Router,
    Scope,
    Send,
    error_response,
    read_request,
    send_response,
)
from ._inventory import INVENTORY_VERSIONS, ServiceInventoryApi
from ._ordering import ALLEGRO_V1, INTERLUDE_V1, LEGATO_V5, ServiceOrderingApi
from ._runtime import (
    UNBOUND_URL,
    Delivery,
    IdFactory,
    Notifier,
    Scheduler,
    SellerContext,
    utc_now,
)
from ._scenarios import Scenario, ScenarioPicker
from ._streaming import StreamingManagementApi

__all__ = ["FAMILIES", "REFERENCE_POINTS", "MockSeller"]

_PING_PATH = "/_mock/ping"

# Family names as in `specs/manifest.yaml`.
FAMILIES = (
    "service_ordering",
    "service_inventory",
    "service_catalog",
    "performance_monitoring",
    "pm_streaming",
    "fault_management",
    "alarm_management",
    "service_function_testing",
)
# The job families live in their own modules, each `Cls(reference_point, context)`;
# a family whose module is not there is simply not served.
_JOB_FAMILIES = {
    "performance_monitoring": ("._performance", "PerformanceMonitoringApi"),
    "fault_management": ("._fault", "FaultManagementApi"),
    "service_function_testing": ("._sft", "ServiceFunctionTestingApi"),
}


def _job_api_class(family: str) -> Any:
    module_name, class_name = _JOB_FAMILIES[family]
    full_name = __name__.rpartition(".")[0] + module_name
    try:
        module = importlib.import_module(full_name)
    except ModuleNotFoundError as exc:
        if exc.name != full_name:  # a missing dependency of a present module is a bug
            raise
        return None
    return getattr(module, class_name)


class MockSeller:
    """A seller for every LSO API family at every reference point, kept in memory.

    Served: Service Ordering (Allegro/Interlude v1, Legato v5), Service Inventory
    (v2 at Allegro/Interlude, v5 at Legato), Alarms/TCA v3 and PM Streaming v1 at
    all three, Service Catalog v4 at Legato, and the job families (performance
    monitoring, fault management, service function testing) when their modules
    are present. `api(family, reference_point)` returns the object serving one
    family at one reference point; family-specific controls live there.

    Instances are ASGI applications; `start()` also serves them on loopback in a
    background thread and `url` is then the seller's base URL (the SDK adds
    `/mefApi/<reference point>/<api>/v<n>/`).

    Orders follow a scenario (see `SCENARIOS`): the standing one set by
    `set_scenario` (default `completed`), or one named by the order's `externalId`
    as `mock:<scenario>` (anything after a further `:` is free text), which wins.
    Each scripted step runs `step_delay` seconds after the previous one, on the
    serving event loop. Notifications go to every matching hub of the API the
    order was created in, once each, and every attempt is kept in `deliveries`.

    When an ordered item completes, the Service Inventory of the same reference
    point reflects it: `add` creates the service (`serviceCreateEvent`), `modify`
    changes it and `delete` terminates it.

    `kafka=True` (a broker started with the seller), a `KafkaBroker` or the address of
    a running broker makes the PM stream real: a streaming subscription over Kafka
    names that broker and a topic created on it, and every report of a running
    performance job is published there, one message per measurement item (this needs
    the `kafka` extra, and `test-broker` for a broker started here). Without it the
    subscriptions name a broker that does not exist.
    """

    def __init__(
        self,
        *,
        step_delay: float = 0.05,
        notify: bool = True,
        seed: int | None = None,
        notification_token: str | None = None,
        max_page_size: int = 100,
        delivery_timeout: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
        kafka: bool | str | KafkaBroker = False,
    ) -> None:
        if max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        scheduler = Scheduler()
        self._context = SellerContext(
            scheduler=scheduler,
            notifier=Notifier(
                scheduler, enabled=notify, token=notification_token, timeout=delivery_timeout
            ),
            new_id=IdFactory(seed),
            step_delay=step_delay,
            max_page_size=max_page_size,
            clock=clock,
        )
        self._picker = ScenarioPicker()
        context = self._context
        self._ordering = {
            version.reference_point: ServiceOrderingApi(version, context, self._picker)
            for version in (ALLEGRO_V1, INTERLUDE_V1, LEGATO_V5)
        }
        self._inventory = {
            rp: ServiceInventoryApi(version, context) for rp, version in INVENTORY_VERSIONS.items()
        }
        for rp, ordering in self._ordering.items():
            ordering.fulfilment = self._inventory[rp].fulfil
        self._alarms = {rp: AlarmManagementApi(rp, context) for rp in REFERENCE_POINTS}
        self._apis: dict[str, dict[str, Any]] = {
            "service_ordering": dict(self._ordering),
            "service_inventory": dict(self._inventory),
            "service_catalog": {"legato": ServiceCatalogApi("legato", context)},
            "alarm_management": dict(self._alarms),
            "pm_streaming": {rp: StreamingManagementApi(rp, context) for rp in REFERENCE_POINTS},
        }
        for family in _JOB_FAMILIES:
            cls = _job_api_class(family)
            if cls is not None:
                points = getattr(cls, "reference_points", REFERENCE_POINTS)
                self._apis[family] = {rp: cls(rp, context) for rp in points}
        self._router = Router()
        for api in self._each_api():
            self._router.mount(api.base_path, api.routes())
        self._server: BackgroundServer | None = None
        self._last_url: str | None = None
        self._kafka = kafka

    # -- settings -------------------------------------------------------------------

    @property
    def step_delay(self) -> float:
        return self._context.step_delay

    @step_delay.setter
    def step_delay(self, value: float) -> None:
        self._context.step_delay = value

    @property
    def max_page_size(self) -> int:
        return self._context.max_page_size

    @max_page_size.setter
    def max_page_size(self, value: int) -> None:
        if value < 1:
            raise ValueError("max_page_size must be at least 1")
        self._context.max_page_size = value

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        self._context.scheduler.bind(asyncio.get_running_loop())
        request = await read_request(scope, receive)
        if request.path == _PING_PATH:
            response = Response(204)
        else:
            try:
                response = self._router.dispatch(request)
            except Exception as exc:  # a bug here must not hang the buyer
                response = error_response(500, "internalError", f"{type(exc).__name__}: {exc}")
        await send_response(send, response)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._context.scheduler.bind(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._context.notifier.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- serving ----------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> MockSeller:
        """Serve the seller on `host`:`port` (0: a free port) from a background thread.

        Needs uvicorn, the `listener` extra (`MissingExtraError` without it).
        """
        if self._server is not None:
            return self
        require("listener", "uvicorn")
        if self._kafka is not False and self._context.streams is None:
            from ._publisher import StreamPublisher

            broker = None if isinstance(self._kafka, bool) else self._kafka
            self._context.streams = StreamPublisher(broker, self._context.clock)
        server = BackgroundServer(self, host=host, port=port)
        server.start()
        self._server = server
        self._context.public_url = server.url
        # What was stored before now (seeded, raised, built-in) or on an earlier run has
        # hrefs on a base URL that does not serve: move them to this one.
        olds = {UNBOUND_URL, self._last_url or UNBOUND_URL} - {server.url}
        for api in self._each_api():
            api.rebase(olds, server.url)
        self._last_url = server.url
        # One request binds the serving loop, so scripted work can be handed to it
        # before the first buyer call (e.g. `release` on a seeded order).
        import httpx

        httpx.get(server.url + _PING_PATH, timeout=5.0)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        loop = self._context.scheduler.loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._context.notifier.aclose(), loop)
            try:
                future.result(timeout=5.0)
            except Exception:  # stopping must not fail because a delivery did
                future.cancel()
        self._context.scheduler.unbind()
        server.stop()
        self._context.public_url = None
        streams, self._context.streams = self._context.streams, None
        if streams is not None:
            streams.close()

    @property
    def kafka(self) -> Any:
        """The PM stream's `StreamPublisher` (its `address`, `broker`, `flush()`) while the
        seller runs with `kafka=`, else None."""
        return self._context.streams

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str:
        """The seller's base URL, e.g. `http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError("the mock seller is not running; call start() first")
        return self._server.url

    def api_url(self, reference_point: str = "allegro", family: str = "service_ordering") -> str:
        """The base URL of `family` (default Service Ordering) at `reference_point`, with a `/`."""
        base: str = self.api(family, reference_point).base_path
        return self.url.rstrip("/") + base

    def __enter__(self) -> MockSeller:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scenarios and control ----------------------------------------------------------

    def set_scenario(self, scenario: str | Scenario, *, count: int | None = None) -> None:
        """Choose the scenario of the next created orders.

        Without `count` it stays in force until changed; with `count` it applies to
        that many orders, then the standing choice returns. An order's
        `externalId` of `mock:<scenario>` overrides both.
        """
        self._picker.set(scenario, count=count)

    def release(self, order_id: str) -> None:
        """Let a `held` order continue; it then completes."""
        self._api_of(order_id).resume(order_id, "release")

    def provide_information(self, order_id: str) -> None:
        """Answer a `pending` order's information request; it then completes."""
        self._api_of(order_id).resume(order_id, "information")

    def seed_orders(
        self,
        n: int,
        *,
        reference_point: str = "allegro",
        state: str = "completed",
        items: int = 1,
        realistic: bool = False,
    ) -> list[str]:
        """Create `n` orders directly in `state` (no notifications); returns their ids.

        `realistic=True` gives each order notes and contacts and each item a Carrier
        Ethernet payload of two dozen nested fields (about 2.5 KB an item), as for
        measuring throughput; otherwise orders are minimal.

        `orderDate`s are one second apart, ending now. `partial` orders get at least
        two items. Seeded orders stay as they are, except that `held` and `pending`
        ones complete after `release` / `provide_information`.
        """
        return self._api(reference_point).seed(n, state=state, items=items, realistic=realistic)

    def seed_services(
        self,
        n: int,
        *,
        reference_point: str = "allegro",
        state: str = "active",
        realistic: bool = False,
    ) -> list[str]:
        """Add `n` services to the inventory at `reference_point` (no notifications)."""
        return self._inventory_api(reference_point).seed(n, state=state, realistic=realistic)

    def set_service_state(self, service_id: str, state: str) -> None:
        """Move a service along the Service state machine; notifies `serviceStateChangeEvent`."""
        self._holder(self._inventory, service_id, "service").set_state(service_id, state)

    def raise_alarm(self, reference_point: str = "allegro", **fields: Any) -> str:
        """Raise an alarm (wire-named `fields` over TCA defaults); notifies `alarmCreateEvent`."""
        api: AlarmManagementApi = self.api("alarm_management", reference_point)
        alarm_id: str = api.raise_alarm(**fields)
        return alarm_id

    def acknowledge_alarm(self, alarm_id: str) -> None:
        """Acknowledge an alarm; notifies `alarmStateChangeEvent`."""
        self._holder(self._alarms, alarm_id, "alarm").acknowledge_alarm(alarm_id)

    def clear_alarm(self, alarm_id: str) -> None:
        """Clear an alarm (state and perceivedSeverity `cleared`); notifies the state change."""
        self._holder(self._alarms, alarm_id, "alarm").clear_alarm(alarm_id)

    def delete_alarm(self, alarm_id: str) -> None:
        """Remove an alarm; notifies `alarmDeleteEvent`."""
        self._holder(self._alarms, alarm_id, "alarm").delete_alarm(alarm_id)

    def reset(self) -> None:
        """Forget every order, service, alarm, subscription, job, hub, queued scenario and
        delivery; scripted work is dropped. Topics and catalog specifications return to
        the initial ones."""
        for api in self._each_api():
            forget = getattr(api, "reset", None) or getattr(api, "clear", None)
            if forget is not None:
                forget()
        self._picker.set("completed")
        self._context.notifier.clear_log()

    # -- inspection -----------------------------------------------------------------------

    def orders(self, reference_point: str = "allegro") -> list[dict[str, Any]]:
        """Copies of the orders at `reference_point`, oldest first."""
        return self._api(reference_point).orders()

    def order(self, order_id: str) -> dict[str, Any]:
        """A copy of one order, at whichever reference point holds it."""
        found = self._api_of(order_id).get(order_id)
        assert found is not None
        return found

    def hubs(
        self, reference_point: str = "allegro", family: str = "service_ordering"
    ) -> list[dict[str, str]]:
        """The registered hubs (`id`, `callback`, `query`) of `family` at `reference_point`."""
        store = getattr(self.api(family, reference_point), "hubs", None)
        return [] if store is None else list(store.all())

    def services(self, reference_point: str = "allegro") -> list[dict[str, Any]]:
        """Copies of the services in the inventory at `reference_point`."""
        return self._inventory_api(reference_point).services()

    def service(self, service_id: str) -> dict[str, Any]:
        """A copy of one service, at whichever reference point holds it."""
        holder: ServiceInventoryApi = self._holder(self._inventory, service_id, "service")
        found = holder.get(service_id)
        assert found is not None
        return found

    def alarms(self, reference_point: str = "allegro") -> list[dict[str, Any]]:
        """Copies of the alarms at `reference_point`."""
        return self._alarms[self._point(reference_point)].alarms()

    def api(self, family: str, reference_point: str = "allegro") -> Any:
        """The object serving `family` (a manifest family name) at `reference_point`."""
        apis = self._apis.get(family)
        if apis is None:
            known = ", ".join(self._apis)
            raise ValueError(f"no API family {family!r} is served; served: {known}")
        found = apis.get(reference_point.lower())
        if found is None:
            known = ", ".join(apis)
            raise ValueError(f"{family} is not served at {reference_point!r}; served at: {known}")
        return found

    @property
    def families(self) -> dict[str, tuple[str, ...]]:
        """Each served family and the reference points it is served at."""
        return {family: tuple(apis) for family, apis in self._apis.items()}

    @property
    def deliveries(self) -> list[Delivery]:
        """Every notification POST attempted so far, in the order they finished."""
        return self._context.notifier.log

    @property
    def idle(self) -> bool:
        return self._context.scheduler.pending == 0 and self._context.notifier.pending == 0

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until no scripted step and no delivery is outstanding.

        Orders paused in `held`/`pending` count as idle. Raises TimeoutError.
        """
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the mock seller was still busy after {timeout} s")
            time.sleep(0.005)

    async def wait_idle_async(self, timeout: float = 10.0) -> None:
        """`wait_idle` for async code: yields to the running loop while waiting."""
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the mock seller was still busy after {timeout} s")
            await asyncio.sleep(0.005)

    # -- helpers --------------------------------------------------------------------------

    def _each_api(self) -> Iterator[Any]:
        for apis in self._apis.values():
            yield from apis.values()

    @staticmethod
    def _point(reference_point: str) -> str:
        point = reference_point.lower()
        if point not in REFERENCE_POINTS:
            raise ValueError(
                f"unknown reference point {reference_point!r}; known: {', '.join(REFERENCE_POINTS)}"
            )
        return point

    def _api(self, reference_point: str) -> ServiceOrderingApi:
        api: ServiceOrderingApi = self.api("service_ordering", reference_point)
        return api

    def _inventory_api(self, reference_point: str) -> ServiceInventoryApi:
        api: ServiceInventoryApi = self.api("service_inventory", reference_point)
        return api

    @staticmethod
    def _holder(apis: dict[str, Any], resource_id: str, kind: str) -> Any:
        """The API (one per reference point) that holds the resource with this id."""
        for api in apis.values():
            if api.has(resource_id):
                return api
        raise KeyError(f"no {kind} with id {resource_id}")

    def _api_of(self, order_id: str) -> ServiceOrderingApi:
        for api in self._ordering.values():
            if api.has(order_id):
                return api
        raise KeyError(f"no order with id {order_id}")
