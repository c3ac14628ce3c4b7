"""Corrections applied to the upstream documents before generation.

Each patch names the modules it applies to and the upstream error it corrects.
Output is never edited by hand: when upstream changes, a patch that no longer
finds its target fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._messages import message_document
from ._spec import ApiEntry, SpecSource, load_document

Document = dict[str, Any]


class PatchError(Exception):
    pass


@dataclass(frozen=True)
class Patch:
    modules: tuple[str, ...]
    why: str
    apply: Callable[[Document], None]


def _schema(doc: Document, name: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = doc["components"]["schemas"][name]
    except KeyError as exc:
        raise PatchError(f"schema {name} not found") from exc
    return found


def _replace_required(doc: Document, name: str, old: str, new: str | None) -> None:
    schema = _schema(doc, name)
    required = schema.get("required", [])
    if old not in required:
        raise PatchError(f"{name}.required does not list {old}")
    schema["required"] = [
        item for item in (new if r == old else r for r in required) if item is not None
    ]


def _stub_remote_refs(doc: Document) -> None:
    """Replace references to asyncapi.com definitions by an open object."""
    count = 0

    def walk(node: Any) -> None:
        nonlocal count
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("http://asyncapi.com/"):
                node.pop("$ref")
                node["type"] = "object"
                count += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    if count == 0:
        raise PatchError("no asyncapi.com reference found")


def _alarm_listeners_use_own_events(doc: Document) -> None:
    schemas = doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        event_type = path.rsplit("/", 1)[-1]
        target = event_type[0].upper() + event_type[1:]
        if target not in schemas:
            raise PatchError(f"no schema {target} for {path}")
        content = item["post"]["requestBody"]["content"]
        for media in content.values():
            if media["schema"].get("$ref") != "#/components/schemas/AlarmEvent":
                raise PatchError(f"{path} no longer uses AlarmEvent")
            media["schema"] = {"$ref": f"#/components/schemas/{target}"}


def _pm_v2_job_state_both_cases(doc: Document) -> None:
    state = _schema(doc, "PerformanceJobEventPayload")["properties"]["state"]
    if "in-progress" not in state.get("enum", []):
        raise PatchError("PerformanceJobEventPayload.state has no kebab-case values")
    for value in ("inProgress", "resourceUnavailable"):
        if value not in state["enum"]:
            state["enum"].append(value)


def _catalog_description_name(doc: Document) -> None:
    """The property is spelt `description"` (a stray quote) in one allOf part."""
    found = 0
    for schema in doc["components"]["schemas"].values():
        for part in [schema, *schema.get("allOf", [])]:
            properties = part.get("properties", {})
            if 'description"' in properties:
                properties["description"] = properties.pop('description"')
                found += 1
    if not found:
        raise PatchError('no property named description" left')


def _message_priority_both_cases(doc: Document) -> None:
    priority = _schema(doc, "Message")["properties"]["priority"]
    values = priority.get("enum", [])
    if values != ["low", "medium", "high"]:
        raise PatchError(f"Message.priority is {values} now")
    priority["enum"] = [*values, *(v.upper() for v in values)]


PATCHES: tuple[Patch, ...] = (
    Patch(
        ("streaming_management_v1",),
        "AsyncAPI definitions are referenced on asyncapi.com, which generation must not "
        "fetch; the AsyncAPI document, servers and bindings stay open objects.",
        _stub_remote_refs,
    ),
    Patch(
        ("streaming_message_v1",),
        "Message.priority is low, medium or high, while the PM streaming guide's message "
        "and its AsyncAPI rendering use LOW, MEDIUM and HIGH; sellers follow either, so "
        "both are accepted.",
        _message_priority_both_cases,
    ),
    Patch(
        ("alarm_notification_v3",),
        "All four listener paths take AlarmEvent, whose eventType enum only allows "
        "alarmAttributeValueChangeEvent, so a valid alarmCreateEvent fails; each path "
        "takes the event schema of its own name instead.",
        _alarm_listeners_use_own_events,
    ),
    Patch(
        ("service_function_testing_notification_v3",),
        "TestProfileLifecycleStateChangeEventPayload requires `state`, but its property "
        "is `lifecycleState`.",
        lambda doc: _replace_required(
            doc, "TestProfileLifecycleStateChangeEventPayload", "state", "lifecycleState"
        ),
    ),
    Patch(
        ("service_function_testing_v3",),
        "EventSubscriptionInput requires `id`, which is not one of its properties (the "
        "seller assigns it).",
        lambda doc: _replace_required(doc, "EventSubscriptionInput", "id", None),
    ),
    Patch(
        ("service_function_testing_v3",),
        "TestJob_Find requires `idRelatedContact`, which is not one of its properties.",
        lambda doc: _replace_required(doc, "TestJob_Find", "idRelatedContact", None),
    ),
    Patch(
        ("performance_monitoring_v2",),
        "ReportContentItem requires `measurementDataPoint`; the property is "
        "`measurementDataPoints`.",
        lambda doc: _replace_required(
            doc, "ReportContentItem", "measurementDataPoint", "measurementDataPoints"
        ),
    ),
    Patch(
        ("service_catalog_v4", "service_catalog_notification_v4"),
        'ServiceSpecification names a property `description"` (with a stray quote); '
        "specifications carry `description`.",
        _catalog_description_name,
    ),
    Patch(
        ("performance_notification_v2",),
        "Job state in notifications is kebab-case (`in-progress`) while the management "
        "API uses camelCase (`inProgress`); sellers send either, so both are accepted.",
        _pm_v2_job_state_both_cases,
    ),
)


def apply_patches(module: str, doc: Document) -> list[str]:
    """Apply every patch for `module`; returns the reasons, for the generated header."""
    applied = []
    for patch in PATCHES:
        if module in patch.modules:
            try:
                patch.apply(doc)
            except (PatchError, KeyError) as exc:
                raise PatchError(f"{module}: patch '{patch.why[:60]}...' failed: {exc}") from exc
            applied.append(patch.why)
    return applied


def absent_required(doc: Any) -> list[str]:
    """`required` entries naming no property of a plain object schema (one without
    `allOf`, whose parts may declare it), anywhere in `doc`: the generator drops them
    silently. API definitions and payload schemas are both checked with it."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            required, properties = node.get("required"), node.get("properties")
            if isinstance(required, list) and isinstance(properties, dict) and "allOf" not in node:
                found.extend(
                    f"{where or '/'} requires {name}, which is none of its properties"
                    for name in required
                    if name not in properties
                )
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(doc, "")
    return found


def load_patched(source: SpecSource, entry: ApiEntry) -> Document:
    """The entry's document, bundled and patched: what generation and mock servers read."""
    doc = load_document(source, entry)
    if entry.role == "message":
        doc = message_document(source, entry, doc)
    apply_patches(entry.module, doc)
    return doc
