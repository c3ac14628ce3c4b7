"""`ApiModule`: what every API module of the mock seller has in common.

One instance serves one API at one reference point: its routes under `base_path`,
its stores, its hub (if the API has one) and the events it publishes there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from ._filters import Body
from ._http import Request, Response, json_response
from ._runtime import HubStore, SellerContext, format_time
from ._store import Store

__all__ = ["ApiModule", "Handler"]

Handler = Callable[[Request, dict[str, str]], Response]


class ApiModule:
    base_path: str
    notification_base: str = ""
    hubs: HubStore | None = None

    def __init__(self, context: SellerContext) -> None:
        self._ctx = context
        # Handlers run on the serving loop, control methods on the test's thread.
        self._lock = threading.RLock()

    # -- stores -------------------------------------------------------------------

    def stores(self) -> Iterable[Store[Any]]:
        """Every store whose records carry hrefs."""
        return ()

    def rebase(self, olds: Collection[str], new: str) -> None:
        """Move the hrefs of stored resources from the `olds` base URLs to `new`."""
        with self._lock:
            for store in self.stores():
                store.rebase(olds, new)

    def href(self, path: str, origin: str | None = None) -> str:
        """`path` is relative to `base_path`, e.g. `serviceOrder/123`."""
        return self._ctx.href(f"{self.base_path}{path}", origin)

    def list_handler(self, store: Store[Any]) -> Handler:
        """`GET <resource>`: filters from the query, then one page."""

        def handler(request: Request, _: dict[str, str]) -> Response:
            with self._lock:
                return store.list_response(request, self._ctx.max_page_size)

        return handler

    def retrieve_handler(self, store: Store[Any]) -> Handler:
        """`GET <resource>/{id}`: the stored JSON, or 404."""

        def handler(_: Request, params: dict[str, str]) -> Response:
            with self._lock:
                return json_response(200, store.require(params["id"]).json)

        return handler

    # -- events -------------------------------------------------------------------

    def now(self) -> datetime:
        return self._ctx.now()

    def event(self, event_type: str, payload: Body) -> Body:
        """A MEF event envelope; `None` values are left out of the payload."""
        return {
            "eventId": self._ctx.new_id(),
            "eventTime": format_time(self.now()),
            "eventType": event_type,
            "event": {k: v for k, v in payload.items() if v is not None},
        }

    def publish(self, events: Iterable[Body]) -> None:
        """Queue events for the matching hubs; must run on the serving loop."""
        found = list(events)
        if found and self.hubs is not None:
            self._ctx.notifier.publish(self.hubs, self.notification_base, found)

    def publish_soon(self, events: Iterable[Body]) -> None:
        """Publish from any thread: delivery runs on the serving loop."""
        found = list(events)
        if found:
            self._ctx.scheduler.call_later(0.0, lambda: self.publish(found))
