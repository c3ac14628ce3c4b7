"""Which model a notification parses into.

Sellers POST to `<callback><notification base path>listener/<eventType>`; the
base path says which API and version sent it, when the seller builds it as the
specs say. When it does not, the event type is looked up in the notification
APIs of the preferred reference point, newest version first.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel

from .._operations import REFERENCE_POINTS, ApiDefinition, model_module

__all__ = ["CatalogResolver"]


_MISSING = object()
_CACHE_SIZE = 1024


def _catalog() -> Any:
    from .._generated import _catalog

    return _catalog


def _major(definition: ApiDefinition) -> int:
    return int(definition.version.split(".", 1)[0])


class CatalogResolver:
    """Resolves `(path, event type)` to the generated notification model."""

    def __init__(self, reference_point: str | None = None) -> None:
        if reference_point is not None and reference_point not in REFERENCE_POINTS:
            raise ValueError(f"unknown reference point {reference_point!r}")
        self.reference_point = reference_point
        self._resolved: dict[tuple[str, str], object] = {}

    @cached_property
    def _by_base_path(self) -> list[tuple[str, str]]:
        """(base path without trailing slash, module), longest first."""
        catalog = _catalog()
        found = [
            (path.rstrip("/"), module)
            for module, definition in catalog.APIS.items()
            if definition.role == "notification"
            for path in definition.reference_points.values()
        ]
        return sorted(found, key=lambda item: -len(item[0]))

    @cached_property
    def _fallback_order(self) -> list[str]:
        catalog = _catalog()
        notifications = [d for d in catalog.APIS.values() if d.role == "notification"]

        def rank(definition: ApiDefinition) -> tuple[int, int]:
            preferred = (
                self.reference_point is None or self.reference_point in definition.reference_points
            )
            return (0 if preferred else 1, -_major(definition))

        return [d.module for d in sorted(notifications, key=rank)]

    def module_for(self, path: str, event_type: str) -> str | None:
        """The generated module whose notification API sent `event_type` to `path`."""
        events = _catalog().EVENTS
        trimmed = path.rstrip("/")
        for base, module in self._by_base_path:
            if f"{base}/listener/" in trimmed + "/" and event_type in events.get(module, {}):
                return module
        for module in self._fallback_order:
            if event_type in events.get(module, {}):
                return module
        return None

    def resolve(self, path: str, event_type: str) -> type[BaseModel] | None:
        """The model of a notification POSTed to `path` with this event type, or None."""
        key = (path, event_type)
        cached = self._resolved.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        module = self.module_for(path, event_type)
        model: type[BaseModel] | None = (
            None
            if module is None
            else getattr(model_module(module), _catalog().EVENTS[module][event_type])
        )
        if len(self._resolved) >= _CACHE_SIZE:  # sellers may vary the path: stay bounded
            self._resolved.clear()
        self._resolved[key] = model
        return model
