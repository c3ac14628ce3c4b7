"""`MockSeller`: an in-memory, stateful seller served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from .._server import BackgroundServer
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
from ._ordering import ALLEGRO_V1, LEGATO_V5, ServiceOrderingApi
from ._runtime import Delivery, IdFactory, Notifier, Scheduler, SellerContext, utc_now
from ._scenarios import Scenario, ScenarioPicker

__all__ = ["MockSeller"]

_PING_PATH = "/_mock/ping"


class MockSeller:
    """A seller for Service Ordering at Allegro v1 and Legato v5, kept in memory.

    Instances are ASGI applications; `start()` also serves them on loopback in a
    background thread and `url` is then the seller's base URL (the SDK adds
    `/mefApi/<reference point>/<api>/v<n>/`).

    Orders follow a scenario (see `SCENARIOS`): the standing one set by
    `set_scenario` (default `completed`), or one named by the order's `externalId`
    as `mock:<scenario>` (anything after a further `:` is free text), which wins.
    Each scripted step runs `step_delay` seconds after the previous one, on the
    serving event loop. Notifications go to every matching hub of the API the
    order was created in, once each, and every attempt is kept in `deliveries`.
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
        self._ordering = {
            version.reference_point: ServiceOrderingApi(version, self._context, self._picker)
            for version in (ALLEGRO_V1, LEGATO_V5)
        }
        self._router = Router()
        for api in self._ordering.values():
            self._router.mount(api.base_path, api.routes())
        self._server: BackgroundServer | None = None

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
        if self._server is not None:
            return self
        server = BackgroundServer(self, host=host, port=port)
        server.start()
        self._server = server
        self._context.public_url = server.url
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

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str:
        """The seller's base URL, e.g. `http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError("the mock seller is not running; call start() first")
        return self._server.url

    def api_url(self, reference_point: str = "allegro") -> str:
        """The Service Ordering Management base URL at `reference_point`, with a `/`."""
        return self.url.rstrip("/") + self._api(reference_point).base_path

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

    def reset(self) -> None:
        """Forget every order, hub, queued scenario and delivery; scripted work is dropped."""
        for api in self._ordering.values():
            api.clear()
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

    def hubs(self, reference_point: str = "allegro") -> list[dict[str, str]]:
        """The registered hubs (`id`, `callback`, `query`) at `reference_point`."""
        return self._api(reference_point).hubs.all()

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

    def _api(self, reference_point: str) -> ServiceOrderingApi:
        try:
            return self._ordering[reference_point.lower()]
        except KeyError:
            known = ", ".join(self._ordering)
            raise ValueError(
                f"no Service Ordering API at {reference_point!r}; known: {known}"
            ) from None

    def _api_of(self, order_id: str) -> ServiceOrderingApi:
        for api in self._ordering.values():
            if api.has(order_id):
                return api
        raise KeyError(f"no order with id {order_id}")
