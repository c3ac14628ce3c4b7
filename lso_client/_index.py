"""The operation index: every operation at every reference point, and model lookup.

    >>> import lso_client
    >>> lso_client.operations(reference_point="legato", family="performance_monitoring")
    >>> lso_client.model("allegro", "service_ordering", "ServiceOrder_Create")

Both display as tables in a notebook. Models are imported only when a record's
`request_model` or `response_model` is read. Every model also has a public import path
in `lso_client.types` (`lso_client.types.<module>`), and `lso_client.payloads` lists
the service payload models by URN.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ._operations import REFERENCE_POINTS, Operation, api_definition, model_module

__all__ = ["OperationRecord", "OperationTable", "model", "operations"]


def _catalog() -> Any:
    return importlib.import_module("lso_client._generated._catalog")


@dataclass(frozen=True)
class OperationRecord:
    """One operation of one API definition as served at one reference point."""

    reference_point: str
    family: str
    version: str
    module: str
    operation_id: str  # as the spec spells it
    http_method: str
    path: str  # relative to the API's base path
    base_path: str
    method: str  # the Python call performing it, e.g. "client.service_orders.create"
    request_model_name: str | None
    response_model_name: str | None
    response_is_list: bool

    @property
    def request_model(self) -> type[BaseModel] | None:
        """The generated model of the request body, or None for an operation without one."""
        return _model_class(self.module, self.request_model_name)

    @property
    def response_model(self) -> type[BaseModel] | None:
        """The generated model of the success response body, or None when none is declared."""
        return _model_class(self.module, self.response_model_name)

    def bind(self, client: Any) -> Any:
        """The bound method of `client` (a client of this reference point) that performs it."""
        target = client
        for part in self.method.split(".")[1:]:
            target = getattr(target, part)
        return target


def _model_class(module: str, name: str | None) -> type[BaseModel] | None:
    if name is None:
        return None
    found: type[BaseModel] = getattr(model_module(module), name)
    return found


_COLUMNS = ("reference_point", "family", "version", "operation_id", "http_method", "path", "method")


class OperationTable(list[OperationRecord]):
    """A list of records that reads as a table (text in a terminal, HTML in a notebook)."""

    def where(self, **criteria: Any) -> OperationTable:
        """The records whose attributes equal every keyword given, e.g.
        `operations().where(reference_point="legato", family="alarm_management")`.
        """
        return OperationTable(
            r for r in self if all(getattr(r, k) == v for k, v in criteria.items())
        )

    def __repr__(self) -> str:
        table = [_COLUMNS, *(tuple(str(getattr(r, c)) for c in _COLUMNS) for r in self)]
        widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table
        ]
        return "\n".join(line.rstrip() for line in lines) + f"\n({len(self)} operations)"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(str(getattr(r, c)))}</td>" for c in _COLUMNS)
            + "</tr>"
            for r in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _records() -> Iterable[OperationRecord]:
    catalog = _catalog()
    for rp in REFERENCE_POINTS:
        defaults = catalog.DEFAULT_APIS[rp]
        for op in catalog.OPERATIONS:
            definition = api_definition(op.module)
            if rp not in definition.reference_points:
                continue
            for relative in catalog.METHODS.get(op.module, {}).get(op.operation_id, ()):
                yield _record(
                    rp, op, relative, default=defaults.get(definition.family) == op.module
                )


def _record(rp: str, op: Operation, relative: str, *, default: bool) -> OperationRecord:
    definition = api_definition(op.module)
    if default:
        prefix = f"hubs.{definition.family}" if relative.startswith("hub.") else ""
        relative = relative.removeprefix("hub.") if prefix else relative
        path = ".".join(p for p in ("client", prefix, relative) if p)
    else:
        path = f"client.{op.module}.{relative}"
    return OperationRecord(
        reference_point=rp,
        family=definition.family,
        version=definition.version,
        module=op.module,
        operation_id=op.operation_id,
        http_method=op.method,
        path=op.path,
        base_path=definition.reference_points[rp],
        method=path,
        request_model_name=op.request_model,
        response_model_name=op.response_model,
        response_is_list=op.response_is_list,
    )


def operations(
    *,
    reference_point: str | None = None,
    family: str | None = None,
    operation_id: str | None = None,
) -> OperationTable:
    """Every operation at every reference point (one record per Python method),
    optionally filtered."""
    criteria = {
        k: v
        for k, v in (
            ("reference_point", reference_point),
            ("family", family),
            ("operation_id", operation_id),
        )
        if v is not None
    }
    return OperationTable(_records()).where(**criteria)


def model(
    reference_point: str, family: str, name: str, *, version: str | None = None
) -> type[BaseModel]:
    """The model of schema `name` (as the spec spells it, e.g. `ServiceOrder_Create`) in the
    API definition serving `family` at `reference_point` (its default version, or
    `version`); management schemas first, then notification and streamed-message ones
    (`model("allegro", "pm_streaming", "Message")`, the PM message a seller streams).

    For code the IDE and type checkers know, import the same class from its public path
    in `lso_client.types`, named after the record's `module`:
    `from lso_client.types.service_ordering_v1 import ServiceOrderCreate`.
    """
    catalog = _catalog()
    modules = [
        d.module
        for d in catalog.APIS.values()
        if d.family == family
        and reference_point in d.reference_points
        and (version is None or d.version == version or d.version.split(".")[0] == version)
    ]
    if not modules:
        raise LookupError(
            f"no {family} API at {reference_point}" + (f" in version {version}" if version else "")
        )
    default = catalog.DEFAULT_APIS.get(reference_point, {}).get(family)
    majors = {m: api_definition(m).version.split(".")[0] for m in modules}
    if version is None and default is not None:
        major = majors[default]
        modules = [m for m in modules if majors[m] == major]
    modules.sort(key=lambda m: api_definition(m).role != "management")
    candidates = [name, name.replace("_", "").replace("-", "")]
    for module in modules:
        loaded = model_module(module)
        for candidate in candidates:
            found = getattr(loaded, candidate, None)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    raise LookupError(f"no schema {name!r} in {', '.join(modules)}")
