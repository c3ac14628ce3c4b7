"""What each API definition offers: its operations, events and base paths.

The records are generated (`lso_client/_generated/_catalog.py`); this module
defines their shape and the lookups over them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

__all__ = [
    "REFERENCE_POINTS",
    "ApiDefinition",
    "Operation",
    "Parameter",
    "model_module",
    "operations_of",
]

REFERENCE_POINTS = ("allegro", "interlude", "legato")


@dataclass(frozen=True)
class Parameter:
    name: str  # on the wire: `orderDate.gt`, `@type`
    python_name: str  # keyword argument: `order_date_gt`, `type`
    location: str  # "path" or "query"
    required: bool


@dataclass(frozen=True)
class ApiDefinition:
    module: str
    family: str
    role: str  # "management", "notification" or "message" (a streamed model, no HTTP API)
    version: str
    title: str
    spec_path: str
    reference_points: dict[str, str]  # reference point -> base path on the seller


@dataclass(frozen=True)
class Operation:
    module: str
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    request_model: str | None
    response_model: str | None
    response_is_list: bool
    success_status: int
    paginated: bool
    # Other media types the success answer comes in, each read by a resource method of
    # its own (`list_asyncapi()` for `application/vnd.aai.asyncapi+json`).
    forms: tuple[str, ...] = ()

    def render_path(self, path_params: Mapping[str, str]) -> str:
        path = self.path
        for name, value in path_params.items():
            path = path.replace("{" + name + "}", _quote_segment(value))
        return path


def _quote_segment(value: str) -> str:
    """`value` as one path segment: every reserved character percent-encoded, and the dot
    segments `.` and `..` too, which URL normalisation (client, proxy or seller) would
    otherwise resolve to another resource (`/performanceProfile/..` is the API root)."""
    from urllib.parse import quote

    if not isinstance(value, str) or not value:
        raise ValueError(f"a path identifier must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        return "%2E" * len(value)
    return quote(value, safe="")


def _catalog() -> Any:
    return importlib.import_module("lso_client._generated._catalog")


@cache
def operations_of(module: str) -> dict[str, Operation]:
    """The operations of one generated API module, by operationId."""
    return {op.operation_id: op for op in _catalog().OPERATIONS if op.module == module}


@cache
def api_definition(module: str) -> ApiDefinition:
    definition: ApiDefinition = _catalog().APIS[module]
    return definition


def model_module(module: str) -> ModuleType:
    """Import (on first use) the generated models of one API definition."""
    return importlib.import_module(f"lso_client._generated.{module}")
