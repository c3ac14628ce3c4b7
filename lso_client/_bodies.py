"""Request bodies on the wire.

The rule: a None in a field the spec declares means "absent" (no MEF field is
nullable) and is left out; unknown fields go out exactly as the caller set them,
nulls included; defaults are sent (a single-valued `@type` the caller left out is
still required by the seller).

Most bodies are serialised once, as the caller set them (`exclude_unset`). That
output is already the answer unless something set is null (then declared nulls are
found and excluded one by one) or a field with a default was left out (then
`exclude_none`, exact once nothing set is null). Which fields can lead to a default
is worked out once per model class, so checking a body visits only those paths.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ._errors import RequestValidationError
from ._model import declared_nulls

__all__ = ["serialise_body"]


def serialise_body(operation_id: str, body: Any, body_model: type[BaseModel]) -> bytes:
    """Validate `body` (a `body_model` or a mapping) and return its JSON."""
    if isinstance(body, body_model):
        instance = body
    elif isinstance(body, BaseModel):
        raise RequestValidationError(
            f"{operation_id} takes {body_model.__name__}, not {type(body).__name__}"
        )
    elif isinstance(body, Mapping):
        try:
            instance = body_model.model_validate(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                f"{operation_id}: invalid {body_model.__name__}: "
                + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
                errors=[dict(e) for e in errors],
            ) from None
    else:
        raise RequestValidationError(
            f"{operation_id} takes {body_model.__name__} or a mapping, not {type(body).__name__}"
        )
    return to_wire(instance)


def to_wire(instance: BaseModel) -> bytes:
    """The JSON of a request body under the rule in this module's docstring."""
    serializer = instance.__pydantic_serializer__
    as_set = serializer.to_json(instance, by_alias=True, exclude_unset=True)
    if b"null" in as_set:
        # Something set is null (or a string holds "null"): exclude declared nulls one by one.
        return serializer.to_json(instance, by_alias=True, exclude=_declared_nones(instance))
    if _leaves_out_a_default(instance):
        # Nothing set is None, so `exclude_none` drops exactly the unset declared fields.
        return serializer.to_json(instance, by_alias=True, exclude_none=True)
    return as_set


def _declared_nones(model: BaseModel) -> dict[Any, Any]:
    """The `exclude` tree of declared fields that hold None, at any depth."""
    tree: dict[Any, Any] = {}
    for path, _ in declared_nulls(model):
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = True
    return tree


def _leaves_out_a_default(value: Any) -> bool:
    """Whether a field with a non-None default is unset anywhere in `value`."""
    if isinstance(value, BaseModel):
        defaults, paths = _default_plan(type(value))
        if defaults and not defaults <= value.model_fields_set:
            return True
        attributes = value.__dict__
        for name in paths:
            found = attributes.get(name)
            if found is not None and _leaves_out_a_default(found):
                return True
    elif isinstance(value, list):
        for item in value:
            if _leaves_out_a_default(item):
                return True
    elif isinstance(value, dict):
        for item in value.values():
            if _leaves_out_a_default(item):
                return True
    return False


@functools.cache
def _default_plan(cls: type[BaseModel]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(fields of `cls` with a non-None default, fields whose type can lead to one)."""
    defaults = frozenset(
        name
        for name, info in cls.model_fields.items()
        if not info.is_required() and (info.default is not None or info.default_factory)
    )
    paths = tuple(
        name
        for name, info in cls.model_fields.items()
        if any(_has_defaults(model) for model in _models_in(info.annotation))
    )
    return defaults, paths


@functools.cache
def _has_defaults(cls: type[BaseModel]) -> bool:
    """Whether `cls` or any model reachable through its fields has a non-None default."""
    seen: set[type[BaseModel]] = set()
    stack = [cls]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            if not info.is_required() and (info.default is not None or info.default_factory):
                return True
            stack.extend(_models_in(info.annotation))
    return False


def _models_in(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The model classes an annotation can hold (through lists, unions, Annotated...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return (annotation,)
    if typing.get_origin(annotation) in (None, typing.Literal):
        return ()
    return tuple(
        model for argument in typing.get_args(annotation) for model in _models_in(argument)
    )
