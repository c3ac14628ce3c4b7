"""Request bodies on the wire.

The rule: a None in a field the spec declares means "absent" (no MEF field is
nullable) and is left out; unknown fields go out exactly as the caller set them,
nulls included; defaults are sent (a single-valued `@type` the caller left out is
still required by the seller). A model the caller places inside an unknown field
follows the same rule.

`exclude_none` gives exactly that unless something the caller set is None (it would
drop an unknown field holding None too). A serialisation of what was set tells
whether anything is; only then are the declared nulls found and excluded one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ._errors import RequestValidationError

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
    if b"null" in serializer.to_json(instance, by_alias=True, exclude_unset=True):
        # Something set is null (or a string holds "null"): exclude declared nulls one by one.
        return serializer.to_json(instance, by_alias=True, exclude=_declared_nones(instance))
    return serializer.to_json(instance, by_alias=True, exclude_none=True)


def _declared_nones(value: Any) -> Any:
    """The `exclude` tree of declared fields that hold None, at any depth, also inside
    models the caller placed in unknown fields; a None held by an unknown field stays."""
    if isinstance(value, BaseModel):
        tree: dict[Any, Any] = {}
        for name in type(value).model_fields:
            found = getattr(value, name, None)
            if found is None:
                tree[name] = True
            elif subtree := _declared_nones(found):
                tree[name] = subtree
        for key, found in (value.__pydantic_extra__ or {}).items():
            if found is not None and (subtree := _declared_nones(found)):
                tree[key] = subtree
        return tree
    if isinstance(value, (list, tuple)):
        return {i: subtree for i, item in enumerate(value) if (subtree := _declared_nones(item))}
    if isinstance(value, dict):
        return {k: subtree for k, item in value.items() if (subtree := _declared_nones(item))}
    return {}
