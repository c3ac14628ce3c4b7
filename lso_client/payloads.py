"""Service payload models by `@type` URN: lookup, registration and a listing.

    >>> from lso_client import payloads
    >>> payloads.model_for("urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all")
    >>> payloads.payload_models(technology="carrier-ethernet")

To import a model, use its reference point's and technology's module (the `module`
column of `payload_models()`):

    >>> from lso_client.types.payloads.allegro.carrier_ethernet import CarrierEthernetEvc

Parsing a response, a page or an event hands every object at an API extension point
(a service's configuration, a job's service-specific configuration or result, alarm
details...) over to the model registered for its `@type`, and a request body given as
a mapping is validated against it before it is sent. The SDK registers a model for
every payload schema it ships; `register()` adds a seller's own:

    >>> class AcmeFirewall(Payload):
    ...     type: Annotated[Literal["urn:acme:firewall:v1"], Field(alias="@type")] = (
    ...         "urn:acme:firewall:v1"
    ...     )
    ...     rules: list[str]
    >>> payloads.register(AcmeFirewall)

A URN no model is registered for stays a generic `Payload` that keeps every field.
Payload modules are imported on first use of one of their URNs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from . import _model
from ._model import Payload
from ._operations import REFERENCE_POINTS

__all__ = [
    "Payload",
    "PayloadRecord",
    "PayloadTable",
    "model_for",
    "payload_models",
    "register",
    "unregister",
]

P = TypeVar("P", bound=type[Payload])

_GENERATED_PAYLOADS = "lso_client._generated.payloads."
_PUBLIC_PAYLOADS = "lso_client.types.payloads."

# Folder names (lower case, without `_`) that name a technology.
_TECHNOLOGIES = {
    "carrierethernet": "carrier-ethernet",
    "ip": "ip",
    "l1cs": "l1",
    "l1": "l1",
    "sdwan": "sd-wan",
}


def model_for(urn: str) -> type[Payload] | None:
    """The payload model registered for `urn` (imported on first use), or None when
    the SDK ships none and none was registered.

    A shipped model's `__module__` is the private generated module that defines it; its
    public import path is its reference point's and technology's module, which
    `payload_models(urn=urn)[0].module` gives (for the EVC above,
    `lso_client.types.payloads.allegro.carrier_ethernet`)."""
    return _model._payload_model(urn)


def register(model: P, *, replace: bool = False) -> P:
    """Make `model` the payload model of its URN from now on, in this process: parsing
    yields it wherever that URN appears at an extension point, and request bodies are
    validated against it. Usable as a class decorator.

    `model` is a `Payload` subclass that fixes `type` to its URN (a `Literal` with that
    value as default). It replaces a model the SDK ships for the same URN; replacing
    another registered model needs `replace=True`.
    """
    if not (isinstance(model, type) and issubclass(model, Payload)):
        raise TypeError(f"register() takes a Payload subclass, not {model!r}")
    urn = model.__lso_urn__
    if urn is None:
        raise TypeError(
            f"{model.__name__} does not fix its URN: declare "
            '`type: Annotated[Literal["urn:..."], Field(alias="@type")] = "urn:..."`'
        )
    previous = _model._REGISTERED.get(urn)
    if previous is not None and previous is not model and not replace:
        raise ValueError(
            f"{urn} is already registered to {previous.__module__}.{previous.__qualname__}; "
            "pass replace=True to replace it"
        )
    _model._REGISTERED[urn] = model
    _model._known()[urn] = model
    return model


def unregister(urn: str) -> None:
    """Undo `register()` for `urn`: the model the SDK ships for it (if any) applies again."""
    if _model._REGISTERED.pop(urn, None) is None:
        return
    known = _model._known()
    shipped = _model._generated_registry().get(urn)
    if shipped is None:
        known.pop(urn, None)
    else:
        known[urn] = shipped


@dataclass(frozen=True)
class PayloadRecord:
    """One payload model: its URN, class and public import path
    (`from <module> import <class_name>`)."""

    urn: str
    class_name: str
    # where to import it from: its reference point's and technology's module for a shipped
    # model ("lso_client.types.payloads.legato.carrier_ethernet"), `__module__` for yours
    module: str
    reference_point: str | None  # the reference point whose schemas define it, when known
    technology: str | None  # "carrier-ethernet", "ip", "l1", "sd-wan", when known
    registered: bool  # added by `register()`, not shipped

    @property
    def model(self) -> type[Payload]:
        """The model class (its module imported on first use)."""
        found = model_for(self.urn)
        if found is None:
            raise LookupError(f"{self.urn} is no longer registered")
        return found


_COLUMNS = ("urn", "class_name", "module", "reference_point", "technology")


class PayloadTable(list[PayloadRecord]):
    """A list of records that reads as a table (text in a terminal, HTML in a notebook)."""

    def where(self, **criteria: Any) -> PayloadTable:
        """The records whose attributes equal the given values."""
        return PayloadTable(r for r in self if all(getattr(r, k) == v for k, v in criteria.items()))

    def __repr__(self) -> str:
        table = [_COLUMNS, *(tuple(str(getattr(r, c)) for c in _COLUMNS) for r in self)]
        widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table
        ]
        return "\n".join(line.rstrip() for line in lines) + f"\n({len(self)} payload models)"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(str(getattr(r, c)))}</td>" for c in _COLUMNS)
            + "</tr>"
            for r in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _describe(module: str) -> tuple[str | None, str | None]:
    """(reference point, technology) read from a payload module's dotted path."""
    parts = [p.replace("_", "").lower() for p in module.split(".")]
    reference_point = next((p for p in parts if p in REFERENCE_POINTS), None)
    technology = next((_TECHNOLOGIES[p] for p in parts if p in _TECHNOLOGIES), None)
    return reference_point, technology


def _public_module(module: str) -> str:
    """The public module that re-exports the shipped model defined in generated `module`:
    the one of its reference point and technology (`...payloads.<point>.<technology>`)."""
    if not module.startswith(_GENERATED_PAYLOADS):
        return module
    reference_point, technology, *_ = module.removeprefix(_GENERATED_PAYLOADS).split(".")
    return f"{_PUBLIC_PAYLOADS}{reference_point}.{technology}"


def _records() -> Iterable[PayloadRecord]:
    registered = dict(_model._REGISTERED)
    for urn, (module, name) in sorted(_model._generated_registry().items()):
        if urn in registered:
            continue
        yield PayloadRecord(urn, name, _public_module(module), *_describe(module), registered=False)
    for urn, model in sorted(registered.items()):
        yield PayloadRecord(
            urn, model.__qualname__, model.__module__, *_describe(model.__module__), registered=True
        )


def payload_models(
    *,
    reference_point: str | None = None,
    technology: str | None = None,
    urn: str | None = None,
) -> PayloadTable:
    """Every payload model, shipped and registered (one record per URN), optionally
    filtered. Listing imports no payload module."""
    criteria = {
        k: v
        for k, v in (("reference_point", reference_point), ("technology", technology), ("urn", urn))
        if v is not None
    }
    return PayloadTable(_records()).where(**criteria)
