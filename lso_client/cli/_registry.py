"""The CLI's families and verbs, read from the SDK's operation catalog.

Nothing here imports a generated model or resource module: the command tree is built
from `lso_client._generated._catalog` alone, so `lso --help` stays quick.

Family names follow one rule (`family_name`): the resource's attribute on the client
(`service_orders`; a family's hub `client.hubs.<family>` is `<family>_hub`), with the
abbreviations of `ABBREVIATIONS` applied word-wise, the version added for an API that is
not the reference point's default (`performance_monitoring_v2.performance_jobs` is
`pm-jobs-v2`), and `_` written `-`.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .._index import OperationRecord, operations
from .._operations import Operation, api_definition, operations_of

__all__ = ["ABBREVIATIONS", "VERB_NAMES", "Family", "Verb", "families", "family_name"]

# Word sequences shortened in family names, in this order; an empty short form drops the
# word (`service_orders` -> `orders`; `services` is another word and stays).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("performance_monitoring", "pm"),
    ("fault_management", "fm"),
    ("service_function_testing", "testing"),
    ("alarm_management", "alarm"),
    ("performance", "pm"),
    ("service", ""),
)

# Python method -> CLI verb, where they differ (others: `_` written `-`).
VERB_NAMES = {"retrieve": "get", "complex_query": "complex-query", "wait_for_job": "wait-for-job"}


@dataclass(frozen=True)
class Verb:
    """One CLI verb of a family: the resource method it calls and its operation (None
    for the waits, which are not operations)."""

    name: str
    method: str
    operation: Operation | None


@dataclass
class Family:
    """The resource a family of commands drives, at one reference point."""

    name: str
    path: tuple[str, ...]  # attributes from the client to the resource
    module: str
    verbs: dict[str, Verb] = field(default_factory=dict)
    waits: tuple[str, ...] = ()  # `wait`, `create_and_wait`, `cancel_on_interrupt`, ...

    def resource(self, client: Any) -> Any:
        """The resource object of `client` this family drives."""
        target = client
        for part in self.path:
            target = getattr(target, part)
        return target


def family_name(attribute: str, version: str | None = None) -> str:
    """The CLI name of a resource: see the module docstring."""
    name = f"_{attribute}_"
    for long, short in ABBREVIATIONS:
        name = name.replace(f"_{long}_", f"_{short}_" if short else "_")
    name = re.sub("_+", "_", name).strip("_")
    if version is not None:
        name += f"_v{version}"
    return name.replace("_", "-")


def _catalog() -> Any:
    return importlib.import_module("lso_client._generated._catalog")


def _resource_path(record: OperationRecord) -> tuple[tuple[str, ...], str, str | None]:
    """(attributes from the client to the resource, the attribute naming the family, the
    major version when not the reference point's default API) of a record."""
    parts = record.method.split(".")[1:-1]
    if parts[0] == "hubs":
        return tuple(parts), f"{parts[1]}_hub", None
    if parts[0] == record.module:  # an API that is not the default: client.<module>.<attr>
        major = api_definition(record.module).version.split(".")[0]
        hub = parts[1] == "hub"
        attribute = f"{api_definition(record.module).family}_hub" if hub else parts[1]
        return tuple(parts), attribute, major
    return tuple(parts), parts[0], None


@cache
def families(reference_point: str) -> dict[str, Family]:
    """The command families at `reference_point`, by CLI name, from the catalog."""
    found: dict[str, Family] = {}
    waits = _catalog().WAITS
    for record in operations(reference_point=reference_point):
        path, attribute, major = _resource_path(record)
        name = family_name(attribute, major)
        family = found.get(name)
        if family is None:
            helpers = waits.get(record.module, {}).get(path[-1], ())
            family = found[name] = Family(name, path, record.module, waits=helpers)
            for helper in ("wait", "wait_for_job"):
                if helper in helpers:
                    verb = VERB_NAMES.get(helper, helper)
                    family.verbs[verb] = Verb(verb, helper, None)
        method = record.method.rsplit(".", 1)[1]
        verb = VERB_NAMES.get(method, method.replace("_", "-"))
        operation = operations_of(record.module)[record.operation_id]
        family.verbs[verb] = Verb(verb, method, operation)
    return dict(sorted(found.items()))
