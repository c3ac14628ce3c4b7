"""Turning JSON from a seller into models without losing anything.

The fast path validates the bytes straight into the model. Only when that fails
does the lenient path run: it rebuilds the object level by level, validating
what conforms and keeping every non-conforming value exactly as received
(an unknown enum value stays a string, an unknown `@type` stays a dict, a
missing required field stays missing). The validation errors of the first
attempt are the record of what deviated from the spec.

A body that is not the resource at all is refused in both modes: the wrong kind of
JSON value (an array for an object, or the reverse), an empty object `{}`, an item
of a list that is not a non-empty object, and `NaN` or `Infinity`, which are not
JSON. An object with any property is a resource, however far it departs from the
spec (missing required fields, unknown values): that stays a recorded deviation.
"""

from __future__ import annotations

import json
import logging
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, RootModel, Tag, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from ._gc import paused_collector
from ._model import OTHER_TYPE, TYPED_AT_ONCE, TYPED_ON_READ, Payload, declared_nulls

__all__ = [
    "Parsed",
    "deviations_of",
    "log_deviations",
    "null_deviations",
    "parse_json",
    "parse_python",
    "record_deviations",
]

T = TypeVar("T")
logger = logging.getLogger("lso_client")

_adapters: dict[Any, TypeAdapter[Any]] = {}
# Bodies from this size on (a page of orders) are validated with the collector paused.
_LARGE = 64 * 1024


def _adapter(tp: Any) -> TypeAdapter[Any]:
    found = _adapters.get(tp)
    if found is None:
        found = _adapters[tp] = TypeAdapter(tp)
    return found


@dataclass
class Parsed(Generic[T]):
    value: T
    deviations: list[dict[str, Any]] = field(default_factory=list)


def _describe(error: Any) -> dict[str, Any]:
    found = {
        "loc": list(error.get("loc", ())),
        "type": error.get("type"),
        "msg": error.get("msg"),
    }
    if "input" in error:
        value = error["input"]
        # Keep scalar inputs, summarise large ones: deviations are logged.
        found["input"] = (
            value
            if isinstance(value, (str, int, float, bool, type(None)))
            else (f"<{type(value).__name__}>")
        )
    return found


def _is_json_error(exc: ValidationError) -> bool:
    return any(e.get("type") == "json_invalid" for e in exc.errors(include_url=False))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_constants(raw: bytes | str) -> None:
    """Refuse `NaN` and `Infinity` (which pydantic's parser and `json` accept) unless the
    words only occur inside strings."""
    found = (
        (b"NaN" in raw or b"Infinity" in raw)
        if isinstance(raw, bytes)
        else ("NaN" in raw or "Infinity" in raw)
    )
    if found:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        try:
            json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            raise json.JSONDecodeError(str(exc), text, 0) from None


def _not_the_resource(model: Any, data: Any) -> ValidationError | None:
    """Why `data` (decoded JSON) is not the resource `model` at all, or None when it is
    (even one that lacks required fields or holds unknown values)."""
    problems: list[tuple[tuple[int, ...], Any, str]] = []
    if _is_model(model):
        problem = _object_problem(model, data)
        if problem:
            problems.append(((), data, problem))
    elif get_origin(model) is list:
        if not isinstance(data, list):
            problems.append(((), data, f"expected a JSON array, got {_kind(data)}"))
        else:
            (item,) = get_args(model) or (Any,)
            item = _unwrap(item)
            if _is_model(item):
                for index, value in enumerate(data):
                    problem = _object_problem(item, value)
                    if problem:
                        problems.append(((index,), value, problem))
    if not problems:
        return None
    return ValidationError.from_exception_data(
        getattr(model, "__name__", None) or repr(model),
        [
            {
                "type": PydanticCustomError("not_the_resource", "{problem}", {"problem": text}),
                "loc": loc,
                "input": value,
            }
            for loc, value, text in problems[:5]
        ],
    )


def _object_problem(cls: type[BaseModel], data: Any) -> str | None:
    if issubclass(cls, RootModel):
        return None
    if not isinstance(data, dict):
        return f"expected a JSON object ({cls.__name__}), got {_kind(data)}"
    if not data and cls.model_fields:
        return f"expected {cls.__name__}, got an empty object"
    return None


def _kind(data: Any) -> str:
    if data is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(data), "a number"
    )


def _declares_nothing(value: Any) -> bool:
    """Whether a model was validated from `{}` (possible when nothing is required)."""
    return (
        isinstance(value, BaseModel)
        and not isinstance(value, RootModel)
        and not value.model_fields_set
    )


def _empty_models(model: Any, value: Any) -> bool:
    """Whether the fast path let through an object `_not_the_resource` refuses."""
    if isinstance(value, list) and get_origin(model) is list:
        return any(_declares_nothing(item) for item in value)
    return _declares_nothing(value)


def parse_json(
    model: type[T] | Any,
    raw: bytes | str,
    *,
    strict: bool = False,
    log_deviations: bool = True,
    adapter: TypeAdapter[Any] | None = None,
    payloads_at_once: bool = False,
) -> Parsed[T]:
    """Parse `raw` as `model` (a model class or a type such as `list[Model]`).

    Raises `json.JSONDecodeError` when `raw` is not JSON (`NaN` included), and
    `pydantic.ValidationError` in strict mode or when the body is not the resource at
    all (see the module docstring). In lenient mode the deviations are returned with
    the value. `adapter`, the `TypeAdapter` of `model`, spares looking it up (hashing a
    large `Annotated` union costs more than validating a small message). Service
    payloads are typed when first read, or while parsing with `payloads_at_once` (and
    always in strict mode).
    """
    _check_constants(raw)
    try:
        value: Any
        validate = (
            adapter.validate_json
            if adapter is not None
            else model.model_validate_json
            if isinstance(model, type) and issubclass(model, BaseModel)
            else _adapter(model).validate_json
        )
        # A seller's JSON is read by wire names only. Strict parsing types payloads at
        # once, lenient parsing when they are read unless asked to at once.
        context = TYPED_AT_ONCE if strict or payloads_at_once else TYPED_ON_READ
        if len(raw) >= _LARGE:
            with paused_collector():
                value = validate(raw, context=context, by_name=False)
        else:
            value = validate(raw, context=context, by_name=False)
        if _empty_models(model, value):
            problem = _not_the_resource(model, json.loads(raw))
            if problem is not None:
                raise problem
        # The models accept null for optional fields; the specs never do. Looking is
        # only worth it when the text has a null at all, which conforming JSON rarely does.
        if b"null" in raw if isinstance(raw, bytes) else "null" in raw:
            return _with_null_check(model, value, strict, log_deviations)
        return Parsed(value)
    except ValidationError as exc:
        if _is_json_error(exc):
            raise json.JSONDecodeError(
                exc.errors(include_url=False)[0].get("msg", "invalid JSON"),
                raw if isinstance(raw, str) else raw.decode("utf-8", "replace"),
                0,
            ) from None
        data = json.loads(raw)
        if strict:
            raise _not_the_resource(model, data) or exc from None
        return _lenient_result(model, data, exc, log_deviations)


_NULL = "the spec allows no null here"


def null_deviations(value: Any) -> list[dict[str, Any]]:
    """The deviations of the nulls the JSON held where the spec declares a field."""
    return [_null(wire) for _, wire in _sent_nulls(value)]


def _null(wire: tuple[str | int, ...]) -> dict[str, Any]:
    return {"loc": list(wire), "type": "null", "msg": _NULL, "input": None}


def _sent_nulls(value: Any) -> list[tuple[tuple[str | int, ...], tuple[str | int, ...]]]:
    return [(python, wire) for python, wire in declared_nulls(value) if _was_sent(value, python)]


def _record_on_payloads(
    value: Any, found: list[tuple[tuple[str | int, ...], tuple[str | int, ...]]]
) -> None:
    """Each null inside a typed payload is also a deviation of that payload (path from
    it), as when the payload is typed on first read."""
    held: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for python, wire in found:
        node, payload, depth = value, None, 0
        for index, key in enumerate(python[:-1]):
            node = node[key] if isinstance(key, int) else node.__dict__[key]
            if isinstance(node, Payload) and type(node).__lso_urn__ is not None:
                payload, depth = node, index + 1
        if payload is not None:
            held.setdefault(id(payload), (payload, []))[1].append(_null(wire[depth:]))
    for payload, deviations in held.values():
        record_deviations(payload, deviations)


def _with_null_check(model: Any, value: Any, strict: bool, log: bool) -> Parsed[Any]:
    found = _sent_nulls(value)
    if not found:
        return Parsed(value)
    nulls = [_null(wire) for _, wire in found]
    if strict:
        raise ValidationError.from_exception_data(
            getattr(model, "__name__", "response"),
            [
                {"type": PydanticCustomError("null", _NULL), "loc": tuple(d["loc"]), "input": None}
                for d in nulls
            ],
        )
    record_deviations(value, nulls)
    _record_on_payloads(value, found)
    if log:
        log_deviations(model, nulls)
    return Parsed(value, nulls)


def _was_sent(value: Any, path: tuple[str | int, ...]) -> bool:
    """Whether the None at `path` came from the JSON (not from a field's default)."""
    for key in path[:-1]:
        value = value[key] if isinstance(key, int) else value.__dict__[key]
    return path[-1] in value.model_fields_set


def parse_python(model: type[T] | Any, data: Any, *, strict: bool = False) -> Parsed[T]:
    """As `parse_json`, for data already decoded."""
    try:
        return Parsed(
            _adapter(model).validate_python(
                data, context=TYPED_AT_ONCE if strict else TYPED_ON_READ, by_name=False
            )
        )
    except ValidationError as exc:
        if strict:
            raise _not_the_resource(model, data) or exc from None
        return _lenient_result(model, data, exc, True)


def _lenient_result(model: Any, data: Any, exc: ValidationError, log: bool) -> Parsed[Any]:
    problem = _not_the_resource(model, data)
    if problem is not None:
        raise problem
    deviations = deviations_of(exc)
    value = _lenient(model, data)
    record_deviations(value, deviations)
    if log:
        log_deviations(model, deviations)
    return Parsed(value, deviations)


def deviations_of(exc: ValidationError) -> list[dict[str, Any]]:
    """The deviations a validation error records (see `spec_deviations`)."""
    return [_describe(e) for e in exc.errors(include_url=False)]


def log_deviations(model: Any, deviations: list[dict[str, Any]]) -> None:
    name = getattr(model, "__name__", None) or repr(model)
    logger.warning(
        "%s deviates from the spec: %s",
        name,
        "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in deviations[:5])
        + (f"; and {len(deviations) - 5} more" if len(deviations) > 5 else ""),
    )


def record_deviations(value: Any, deviations: list[dict[str, Any]]) -> None:
    """Attach deviations to a model so `model.spec_deviations` returns them; for a list,
    each item gets its own (with paths relative to it)."""
    if isinstance(value, list):
        per_item: dict[int, list[dict[str, Any]]] = {}
        for deviation in deviations:
            loc = deviation["loc"]
            if loc and isinstance(loc[0], int) and loc[0] < len(value):
                per_item.setdefault(loc[0], []).append({**deviation, "loc": loc[1:]})
        for index, found in per_item.items():
            record_deviations(value[index], found)
        return
    if isinstance(value, BaseModel):
        private = value.__pydantic_private__ or {}
        private["lso_deviations"] = deviations
        object.__setattr__(value, "__pydantic_private__", private)


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _lenient(tp: Any, value: Any) -> Any:
    # Validate with the annotations first (a `by_type` discriminator routes a union).
    try:
        return _adapter(tp).validate_python(value, context=TYPED_ON_READ, by_name=False)
    except (ValidationError, TypeError):
        pass
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _lenient_model(tp, value) if isinstance(value, dict) else value
    if origin in (list, typing.List) and isinstance(value, list):  # noqa: UP006
        (item,) = get_args(tp) or (Any,)
        return [_lenient(item, v) for v in value]
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _lenient(members[0], value)
        if isinstance(value, dict):
            chosen = _member_for(members, value.get("@type"))
            if chosen is not None:
                return _lenient_model(chosen, value)
            # An object no member claims (an unknown `@type`) stays as received.
            if any(_is_model(_unwrap(m)) for m in members):
                return value
        for member in members:
            if get_origin(_unwrap(member)) is list and isinstance(value, list):
                return _lenient(member, value)
    return value


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _member_for(members: list[Any], tag: Any) -> type[BaseModel] | None:
    """The model member of a union that an object with this `@type` belongs to: the
    one tagged (or pinned by a Literal) with it, else the one tagged for other values."""
    fallback = None
    for member in members:
        tags: list[Any] = []
        while get_origin(member) is typing.Annotated:
            member, *metadata = get_args(member)
            tags += [m.tag for m in metadata if isinstance(m, Tag)]
        if not _is_model(member):
            continue
        field = member.model_fields.get("type")
        pinned = get_args(_unwrap(field.annotation)) if field is not None else ()
        if tag in tags or (tag is not None and tag in pinned):
            return member  # type: ignore[no-any-return]
        if OTHER_TYPE in tags:
            fallback = member
    return fallback


_FIELD_TYPES: dict[tuple[type[BaseModel], str], Any] = {}


def _annotated(args: tuple[Any, ...]) -> Any:
    return typing.Annotated[args]


def _field_type(cls: type[BaseModel], name: str) -> Any:
    """The field's type with what pydantic moved out of it (`DateTime`'s validator and
    serializer, constraints), so a value validates as it would inside the model."""
    found = _FIELD_TYPES.get((cls, name))
    if found is None:
        info = cls.model_fields[name]
        found = info.annotation
        if info.metadata:
            found = _annotated((found, *info.metadata))
        _FIELD_TYPES[cls, name] = found
    return found


def _lenient_model(cls: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    values: dict[str, Any] = {}
    known: set[str] = set()
    for name, info in cls.model_fields.items():
        key = info.alias or name  # a seller's JSON names fields by their wire names
        known.add(key)
        if key in data:
            values[name] = _lenient(_field_type(cls, name), data[key])
    instance = cls.model_construct(_fields_set=set(values), **values)
    extra = {k: v for k, v in data.items() if k not in known}
    if extra:
        object.__setattr__(instance, "__pydantic_extra__", extra)
    return instance
