"""The streamed PM message, typed by its `eventType`.

A seller publishes PM messages on the broker a streaming subscription names. Every
message is a `Message` (`eventId`, `eventType`, `eventTime`, `priority`,
`description`); a specialization adds an `event` whose shape its `eventType` names
(`CePerformanceStatisticsMessage` for `CePerformanceStatistics`). The generated union
`AnyMessage` selects the class by `eventType` with `by_event_type`; `eventType` is an
open string in the spec, so any other value is the generic `Message`, every field kept,
and no deviation.

    >>> from lso_client import parse_message
    >>> message = parse_message(kafka_record.value)         # lenient, as HTTP responses
    >>> message.event.metrics.one_way_frame_delay.measured_one_way_fd
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag, TypeAdapter, ValidationError

from ._model import TYPED_AT_ONCE
from ._parsing import parse_json

__all__ = ["OTHER_EVENT_TYPE", "by_event_type", "message_class", "parse_message"]

# The tag of the union member that takes a message whose eventType no other claims.
OTHER_EVENT_TYPE = "*"
FAMILY = "pm_streaming"


def by_event_type(*known: str) -> Discriminator:
    """Route a union of message classes on `eventType`: a value in `known` picks the
    member tagged with it; any other value, or none, the member tagged
    `OTHER_EVENT_TYPE` (the generic message, which reports a missing eventType)."""
    names = frozenset(known)

    def tag(value: Any) -> str:
        found = (
            value.get("eventType")
            if isinstance(value, dict)
            else getattr(value, "event_type", None)
        )
        return found if type(found) is str and found in names else OTHER_EVENT_TYPE

    return Discriminator(tag)


def _members(union: Any) -> dict[str, type[BaseModel]]:
    """tag -> class of a union built with `by_event_type`."""
    if get_origin(union) is Annotated:
        union = get_args(union)[0]
    found: dict[str, type[BaseModel]] = {}
    for member in get_args(union) if get_origin(union) is not None else (union,):
        model, *metadata = get_args(member) if get_origin(member) is Annotated else (member,)
        for item in metadata:
            if isinstance(item, Tag):
                found[item.tag] = model
    return found


@cache
def _union(reference_point: str) -> Any:
    from ._index import model

    base = model(reference_point, FAMILY, "Message")
    return importlib.import_module(base.__module__).AnyMessage


@cache
def _union_adapter(reference_point: str) -> TypeAdapter[Any]:
    return TypeAdapter(_union(reference_point))


# A top-level `"eventType": "..."` pair written without escapes. Found exactly once, it
# names the class to try first; the routing stays the union's (see `_by_guessed_type`).
_EVENT_TYPE_BYTES = re.compile(rb'"eventType"[ \t\r\n]*:[ \t\r\n]*"([A-Za-z0-9_.:-]{1,200})"')
_EVENT_TYPE_TEXT = re.compile(_EVENT_TYPE_BYTES.pattern.decode())


@cache
def _members_of(reference_point: str) -> dict[str, type[BaseModel]]:
    return _members(_union(reference_point))


def _by_guessed_type(raw: bytes | str, reference_point: str) -> Any:
    """The message as the union reads it when strict, without the union's cost, or None.

    The union's `eventType` discriminator is a function, which has pydantic decode the
    whole message to Python objects before validating it: as much work again as
    validating it. Here the class is guessed from the text and the message validated as
    that class; the guess stands only when the message conforms and its own `eventType`
    was sent and names that class (a nested `eventType` cannot pass for it). Anything
    else (no guess, a departure from the spec, a null, `NaN`: what `parse_json` looks
    at) is for the union, through `parse_json`."""
    if isinstance(raw, str):
        if "null" in raw or "NaN" in raw or "Infinity" in raw:
            return None
        found: list[Any] = _EVENT_TYPE_TEXT.findall(raw)
    else:
        if b"null" in raw or b"NaN" in raw or b"Infinity" in raw:
            return None
        found = _EVENT_TYPE_BYTES.findall(raw)
    if len(found) != 1:
        return None
    name = found[0] if isinstance(found[0], str) else found[0].decode("ascii")
    members = _members_of(reference_point)
    chosen = members.get(name) or members[OTHER_EVENT_TYPE]
    try:
        value: Any = chosen.__pydantic_validator__.validate_json(
            raw, context=TYPED_AT_ONCE, by_name=False
        )
    except ValidationError:
        return None
    if value.event_type == name and "event_type" in value.__pydantic_fields_set__:
        return value
    return None


def message_class(event_type: str | None, *, reference_point: str = "allegro") -> type[BaseModel]:
    """The class a message with this `eventType` is read as at `reference_point`: its
    specialization, else the generic `Message`."""
    members = _members_of(reference_point)
    if event_type is not None and event_type in members:
        return members[event_type]
    return members[OTHER_EVENT_TYPE]


def parse_message(
    raw: bytes | str, *, reference_point: str = "allegro", strict: bool = False
) -> Any:
    """Read one streamed PM message (JSON text), typed by its `eventType`.

    As for HTTP responses, reading is lenient by default: a message that departs from the
    spec keeps every value as received, is still of the class its `eventType` selects,
    and lists its departures in `.spec_deviations`; `strict=True` raises
    `pydantic.ValidationError` instead. Text that is not JSON raises
    `json.JSONDecodeError`; JSON that is not an object raises `pydantic.ValidationError`.
    """
    fast = _by_guessed_type(raw, reference_point)
    if fast is not None:
        return fast
    union = _union(reference_point)
    try:
        return parse_json(union, raw, strict=True, adapter=_union_adapter(reference_point)).value
    except ValidationError:
        if strict:
            raise
    data = json.loads(raw)
    if not isinstance(data, dict):
        # Not a message at all: refused in both modes, as a response would be.
        generic = message_class(None, reference_point=reference_point)
        return parse_json(generic, raw, strict=True).value
    event_type = data.get("eventType")
    chosen = message_class(
        event_type if isinstance(event_type, str) else None, reference_point=reference_point
    )
    return parse_json(chosen, raw, strict=False).value
