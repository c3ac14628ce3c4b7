"""The streamed PM message: a bare schema made a document, and its eventType routing.

`Message.yaml` is a schema file, not an API definition: `message_document` makes it the
one schema of an OpenAPI document, with the eventType specializations of
`codegen/message_events.yaml` beside it, so that the shared model pipeline generates it.
`route_by_event_type` then adds `AnyMessage`, the union the eventType selects from.

eventType is an open string in the spec: a value no specialization claims is the
generic `Message` (every field kept), not a deviation.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

from ._models import HEADER, ensure_import, extension_points, run_generator, transform, write
from ._spec import ApiEntry, SpecError, SpecSource

EVENTS = Path(__file__).resolve().parent / "message_events.yaml"

# The name of the union of the message classes, selected by eventType.
UNION = "AnyMessage"
BASE = "Message"
# Where the router lives (not `lso_client._model`: eventType is not `@type`).
ROUTER = "lso_client._events"


def event_types(path: Path = EVENTS) -> dict[str, Any]:
    """eventType -> the schema of its `event` (`codegen/message_events.yaml`)."""
    found: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["event_types"]
    return found


def message_class(event_type: str) -> str:
    """The class (and schema) name of the message specialized for `event_type`."""
    return f"{event_type[:1].upper()}{event_type[1:]}Message"


def message_document(source: SpecSource, entry: ApiEntry, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document whose schemas are the Message (`schema`, the entry's file), the
    eventType specializations and what they refer to. The entry's other files are checked:
    each other Message copy is the same schema, and each AsyncAPI template defines no
    schema of its own (when upstream publishes one, generation stops here to use it)."""
    for pinned in entry.also:
        data = yaml.safe_load(source.read(pinned))
        if pinned.path.endswith("/Message.yaml"):
            if data != schema:
                raise SpecError(f"{pinned.path} differs from {entry.file.path}")
        elif pinned.path.endswith(".asyncapi.yaml"):
            check_template(pinned.path, data, source)
        else:
            raise SpecError(f"{entry.module}: no use for {pinned.path}")
    events = yaml.safe_load(EVENTS.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = {BASE: schema}
    for name, found in events.get("schemas", {}).items():
        if name in schemas:
            raise SpecError(f"{EVENTS.name}: schema {name} is taken")
        schemas[name] = found
    for event_type, event in events["event_types"].items():
        name = message_class(event_type)
        if name in schemas:
            raise SpecError(f"{EVENTS.name}: schema {name} is taken")
        schemas[name] = {
            "allOf": [
                {"$ref": f"#/components/schemas/{BASE}"},
                {
                    "type": "object",
                    "properties": {
                        "eventType": {"type": "string", "default": event_type},
                        "event": event,
                    },
                },
            ]
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "PM Streaming Message", "version": entry.version},
        "paths": {},
        "components": {"schemas": schemas},
    }


def check_template(path: str, template: dict[str, Any], source: SpecSource) -> None:
    """The performance AsyncAPI template names its message payload only through schema
    references to files the release does not publish (`models/Event.yaml`) or to schemas
    it does not define: it adds nothing to Message.yaml. Anything else is new upstream."""
    components = template.get("components", {})
    schemas = components.get("schemas", {})
    for name, schema in schemas.items():
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not (isinstance(ref, str) and len(schema) == 1 and not ref.startswith("#")):
            raise SpecError(f"{path}: schema {name} is defined now; generate it")
        target = str(Path(path).parent / ref)
        if source.exists(target):
            raise SpecError(f"{path}: {ref} is published now; generate it")


# ----------------------------------------------------------------------------- the tree


def generate_message_module(entry: ApiEntry, doc: dict[str, Any], title: str) -> str:
    """`_models.generate_module` for the message: the same generator and transforms,
    then the eventType union."""
    header = HEADER.format(
        path=entry.file.path, title=title, version=entry.version, sha256=entry.file.sha256
    )
    tree = ast.parse(run_generator(doc, entry.module))
    transform(tree, doc, extension_points(entry.module))
    route_by_event_type(tree)
    return write(tree, header)


def route_by_event_type(tree: ast.Module) -> None:
    """Add `AnyMessage`: each specialization tagged with its eventType, and the generic
    Message for any other value, routed by `lso_client._events.by_event_type`."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    if BASE not in classes:
        raise RuntimeError(f"no {BASE} class generated")
    tags = {}
    for event_type in event_types():
        name = message_class(event_type)
        if name not in classes:
            raise RuntimeError(f"no {name} class generated for eventType {event_type}")
        tags[name] = event_type
        _default_event_type(classes[name], event_type)
    branches = [f"Annotated[{name}, Tag({value!r})]" for name, value in sorted(tags.items())] + [
        f"Annotated[{BASE}, Tag(OTHER_EVENT_TYPE)]"
    ]
    known = ", ".join(repr(v) for _, v in sorted(tags.items()))
    alias = ast.parse(
        f"{UNION}: TypeAlias = Annotated[{' | '.join(branches)}, by_event_type({known})]"
    ).body[0]
    tree.body.append(alias)
    ensure_import(tree, "typing", "Annotated", "TypeAlias")
    ensure_import(tree, "pydantic", "Tag")
    ensure_import(tree, ROUTER, "OTHER_EVENT_TYPE", "by_event_type")


def _default_event_type(cls: ast.ClassDef, event_type: str) -> None:
    """The specialization's eventType: an open string (as the base's) that defaults to
    its own value, so that building one needs no eventType (the generator keeps the
    base's required field)."""
    fields = [
        s
        for s in cls.body
        if isinstance(s, ast.AnnAssign)
        and isinstance(s.target, ast.Name)
        and s.target.id == "event_type"
    ]
    if len(fields) != 1:
        raise RuntimeError(f"{cls.name}: no event_type field to give a default")
    fields[0].value = ast.Constant(event_type)
