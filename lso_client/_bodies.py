"""Request bodies on the wire.

The rule: a body carries exactly what the caller set. Spec defaults are not added
(a `jobPriority: 5` the caller never set would change a job's priority or narrow a
query); the one exception is a field the spec requires with a single possible value
that the caller left out: a `@type` or `eventType` fixed by its schema, or the
`@type` a discriminated subclass is mapped to. Unknown fields go out exactly as set,
nulls included. A None the caller set on a field the spec declares is refused
(`RequestValidationError` naming its wire path): no MEF field is nullable, and
dropping it silently would send something else than asked. A model the caller
places inside an unknown field follows the same rule.

A service payload at an extension point given as a mapping is validated against the
payload model registered for its `@type` (a `RequestValidationError` names the path
inside it) and then follows the same rule; one with an unknown `@type` is sent as given.

One serialisation of what was set gives the body; the model tree is walked only
along fields that can hold a model with such a fixed field, and for nulls only
when the JSON has a `null` at all.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, PydanticUndefined

from ._errors import RequestValidationError
from ._model import Payload

__all__ = ["serialise_body", "to_wire"]

Path = tuple[str | int, ...]


def serialise_body(operation_id: str, body: Any, body_model: type[BaseModel]) -> bytes:
    """Validate `body` (a `body_model` or a mapping) and return its JSON."""
    if isinstance(body, body_model):
        return to_wire(body, operation_id=operation_id, owned=False)
    if isinstance(body, BaseModel):
        raise RequestValidationError(
            f"{operation_id} takes {body_model.__name__}, not {type(body).__name__}"
        )
    if not isinstance(body, Mapping):
        raise RequestValidationError(
            f"{operation_id} takes {body_model.__name__} or a mapping, not {type(body).__name__}"
        )
    try:
        instance = body_model.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError(
            f"{operation_id}: invalid {body_model.__name__}: "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
            errors=[dict(e) for e in errors],
        ) from None
    return to_wire(instance, operation_id=operation_id, owned=True)


def to_wire(instance: BaseModel, *, operation_id: str = "request", owned: bool = False) -> bytes:
    """The JSON of a request body under the rule in this module's docstring. `owned`
    says the model was built here from the caller's mapping (it may be completed in
    place); a caller's own model is copied first when a fixed field must be filled in."""
    missing = _unset_fixed(instance, thorough=not owned)
    if missing:
        if not owned:
            instance = instance.model_copy(deep=True)
            missing = _unset_fixed(instance, thorough=True)
        for model, names in missing:
            model.__pydantic_fields_set__.update(names)
    try:
        data = instance.__pydantic_serializer__.to_json(
            instance, by_alias=True, exclude_unset=True, warnings="error"
        )
    except PydanticSerializationError as exc:
        # A model changed after it was built (assignment, `model_copy(update=...)`,
        # `model_construct`) holds a value its field does not take: refused, not sent.
        raise RequestValidationError(
            f"{operation_id}: a value does not fit its field: {exc}",
            errors=[{"loc": (), "type": "serialization", "msg": str(exc)}],
        ) from None
    if b"null" in data:  # something set is null (or a string holds "null")
        nulls = list(_set_nulls(instance))
        if nulls:
            where = ", ".join(".".join(map(str, path)) for path in nulls)
            raise RequestValidationError(
                f"{operation_id}: {where}: the spec allows no null here (leave the field out)",
                errors=[
                    {"loc": path, "type": "null", "msg": "the spec allows no null here"}
                    for path in nulls
                ],
            )
    return data


# ----------------------------------------------------------------------------- fixed fields

# Per model class: the fields filled in when left out, and the fields whose values
# may hold models that have some.
_PLANS: dict[type[BaseModel], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _is_fixed(info: Any) -> bool:
    """A field the spec requires with a single possible value (the generator gives it
    that value as default), or the `@type` default of a discriminated subclass."""
    default = info.default
    if default is None or default is PydanticUndefined:
        return False
    annotation = info.annotation
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is Literal:
        return get_args(annotation) == (default,)
    return info.alias == "@type" and isinstance(default, str)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (list, typing.List, Union, types.UnionType):  # noqa: UP006
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _plan(cls: type[BaseModel], visiting: frozenset[type[BaseModel]] = frozenset()) -> Any:
    found = _PLANS.get(cls)
    if found is not None:
        return found
    if cls in visiting:  # a cycle: walk it
        return ((), ("*",))
    fields = cls.model_fields
    fixed = tuple(name for name, info in fields.items() if _is_fixed(info))
    nested = tuple(
        name
        for name, info in fields.items()
        if any(
            _holds_payloads(m) or _plan(m, visiting | {cls}) != ((), ())
            for m in _models_in(info.annotation)
        )
    )
    plan = (fixed, nested)
    if not visiting:
        _PLANS[cls] = plan
    return plan


def _holds_payloads(cls: type[BaseModel]) -> bool:
    """An extension point: it holds whichever payload model the `@type` selects, whose
    fixed fields are found by walking it."""
    return issubclass(cls, Payload) and cls.__lso_urn__ is None


def _unset_fixed(value: Any, *, thorough: bool) -> list[tuple[BaseModel, list[str]]]:
    """(model, names) for every fixed field the caller left out, at any depth. A body
    validated here from a mapping holds the declared classes only, so only fields that
    can hold one with fixed fields are walked; a caller's model may hold subclasses, and
    models inside unknown fields (`thorough`)."""
    found: list[tuple[BaseModel, list[str]]] = []
    _collect(value, thorough, found)
    return found


def _collect(value: Any, thorough: bool, found: list[tuple[BaseModel, list[str]]]) -> None:
    if isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, thorough, found)
        return
    if not isinstance(value, BaseModel):
        if thorough and isinstance(value, dict):
            for item in value.values():
                _collect(item, thorough, found)
        return
    fixed, nested = _plan(type(value))
    fields_set = value.model_fields_set
    if fixed:
        names = [name for name in fixed if name not in fields_set]
        if names:
            found.append((value, names))
    for name in fields_set if thorough else nested:
        if name in fields_set:
            _collect(getattr(value, name, None), thorough, found)


# ----------------------------------------------------------------------------- nulls


def _set_nulls(value: Any, path: Path = ()) -> typing.Iterator[Path]:
    """The wire path of every declared field the caller set to None, at any depth, also
    inside models placed in unknown fields; a None held by an unknown field is fine."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        for name in value.model_fields_set:
            info = fields.get(name)
            if info is None:
                continue
            found = getattr(value, name)
            key = info.alias or name
            if found is None:
                yield (*path, key)
            else:
                yield from _set_nulls(found, (*path, key))
        for key, found in (value.__pydantic_extra__ or {}).items():
            if found is not None:
                yield from _set_nulls(found, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _set_nulls(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _set_nulls(item, (*path, key))
