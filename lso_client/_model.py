"""Base class of every generated model, and the types generated models share.

Models keep what the spec does not name (`extra="allow"`), accept both the Python
field names and the wire names (`orderDate` and `order_date`), and serialise to
the wire names by default. Date-times are `DateTime`: a `datetime` that writes back
the exact text it was read from.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import _display

__all__ = [
    "OTHER_TYPE",
    "TYPED_AT_ONCE",
    "TYPED_ON_READ",
    "DateTime",
    "MefEnum",
    "MefModel",
    "Payload",
    "WireDatetime",
    "by_type",
    "declared_nulls",
    "format_datetime",
    "max_properties",
    "min_properties",
    "not_one_of",
    "unique_items",
]


# The tag of the branch that takes a union member's object when its `@type` is absent.
OTHER_TYPE = "*"


def by_type(*known: str) -> Discriminator:
    """Route a union on `@type` as the spec's discriminator mapping says: a value in
    `known` picks the subclass tagged with it, an absent `@type` the base (tagged
    `OTHER_TYPE`, which reports the missing property), and any other value is outside
    the mapping: a validation error (a recorded deviation when parsing leniently, which
    keeps the object as the base)."""
    names = frozenset(known)
    expected = ", ".join(known)

    def tag(value: Any) -> str | None:
        found = value.get("@type") if isinstance(value, dict) else getattr(value, "type", None)
        if found is None:
            return OTHER_TYPE
        return found if isinstance(found, str) and found in names else None

    return Discriminator(
        tag,
        custom_error_type="discriminator",
        custom_error_message=f"`@type` is none of the values the spec maps ({expected})",
    )


# ----------------------------------------------------------------------------- date-times


class WireDatetime(datetime):
    """A `datetime` read from text that is not the form `format_datetime` writes
    (`.382Z`, `+00:00`, seven fraction digits, ...): it remembers that text, and a model
    serialises it back unchanged. Arithmetic and `replace()` give values without it,
    written afresh."""

    __slots__ = ("_wire",)
    _wire: str

    def __copy__(self) -> WireDatetime:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> WireDatetime:
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        text = getattr(self, "_wire", None)
        if text is None:
            return super().__reduce_ex__(protocol)
        return (_from_text, (text,))


_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))"
)
_OFFSETS: dict[tuple[str, str, str], timezone] = {}


def _from_text(text: str) -> Any:
    """`text` as a `WireDatetime`, or `text` itself when it is not an RFC 3339 date-time
    (pydantic then says why)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return text
    year, month, day, hour, minute, second, fraction, sign, hours, minutes = match.groups()
    try:
        if sign is None:
            zone = timezone.utc
        else:
            key = (sign, hours, minutes)
            zone = _OFFSETS.get(key)  # type: ignore[assignment]
            if zone is None:
                delta = timedelta(hours=int(hours), minutes=int(minutes))
                zone = _OFFSETS[key] = timezone(-delta if sign == "-" else delta)
        if second == "60":
            # A leap second (RFC 3339 allows `:60`), which `datetime` cannot hold: the
            # last instant of the second before, with the text kept.
            found = WireDatetime(
                int(year), int(month), int(day), int(hour), int(minute), 59, 999999, zone
            )
        else:
            found = WireDatetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                # Python holds microseconds: further digits are kept in the text only.
                int(fraction[:6].ljust(6, "0")) if fraction else 0,
                zone,
            )
    except ValueError:
        return text
    found._wire = text
    return found


_fromisoformat = WireDatetime.fromisoformat


def _not_rfc3339(value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "datetime_format", "not an RFC 3339 date-time (the spec's format: date-time)"
    )


def _keep_text(value: Any) -> Any:
    # Text that `format_datetime` writes back unchanged (`2024-05-01T09:30:00Z`,
    # `...57.382Z`, `...00.5-05:30`: `T`, a fraction without trailing zeros, `Z` or a
    # non-zero offset) is parsed by pydantic-core: the common case, and the fast one.
    # Other RFC 3339 text is kept with its value, parsed by `fromisoformat` where it
    # can (Python 3.11+), else by `_from_text`. Anything else pydantic would accept and
    # rewrite (no seconds, `_` or `+0530`, a number of seconds) is refused, so a lenient
    # parse keeps it exactly as received, as a deviation.
    if type(value) is not str:
        if isinstance(value, (int, float)):
            raise _not_rfc3339(value)
        return value
    size = len(value)
    # (`:60`, a leap second, which pydantic refuses, is for `_from_text`.)
    if size == 20 and value[19] == "Z" and value[10] == "T" and value[17] != "6":
        return value
    if value[10:11] == "T" and value[4:5] == "-" and value[13:14] == ":" and value[17:18] != "6":
        if value[-1] == "Z":
            zone = size - 1
        elif value[-6:-5] in ("+", "-") and value[-3] == ":" and value[-5:] != "00:00":
            zone = size - 6
        else:
            zone = 0
        if (zone == 19 or (20 < zone <= 26 and value[19] == "." and value[zone - 1] != "0")) and (
            value[16] == ":" and value[7] == "-"
        ):
            return value
    if _RFC3339.fullmatch(value) is None:
        raise _not_rfc3339(value)
    try:
        found = _fromisoformat(value)
    except ValueError:
        return _from_text(value)
    found._wire = value
    return found


def format_datetime(value: datetime) -> str:
    """The JSON text of a date-time: the text it was read from when it was read (and not
    changed since), else RFC 3339 with `Z` for UTC and the fraction without trailing zeros
    (`2024-05-01T09:30:00.12Z`)."""
    text: str | None = getattr(value, "_wire", None)
    if text is not None:
        return text
    if not isinstance(value, datetime):
        # What a lenient parse kept as received because it is not a date-time.
        return value
    full = value.isoformat()
    if value.microsecond:
        head, zone = full[:26].rstrip("0"), full[26:]
    else:
        head, zone = full[:19], full[19:]
    return head + ("Z" if zone == "+00:00" else zone)


# The type of every `format: date-time` in the generated models: an aware `datetime`
# (a `WireDatetime` when its text needs remembering) that serialises to JSON as received.
DateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_keep_text),
    PlainSerializer(format_datetime, return_type=Any, when_used="json"),
]


# ----------------------------------------------------------------------------- constraints
# JSON Schema keywords the model generator drops, checked by validators it is given.


def _present(model: Any) -> set[str]:
    """The properties of the model's JSON object: those set, unknown ones included, and
    a `@type` filled in for the caller."""
    present = set(model.model_fields_set) | set(model.__pydantic_extra__ or ())
    if "type" in type(model).model_fields and model.type is not None:
        present.add("type")
    return present


def min_properties(count: int) -> Callable[[Any], Any]:
    """An after-validator of a model: the JSON object has at least `count` properties
    (those set, unknown ones included, and a `@type` filled in for the caller)."""

    def check(model: Any) -> Any:
        present = _present(model)
        if len(present) < count:
            raise PydanticCustomError(
                "min_properties",
                "the object has {found} properties; the spec asks for at least {count}",
                {"found": len(present), "count": count},
            )
        return model

    return check


def max_properties(count: int) -> Callable[[Any], Any]:
    """An after-validator of a model: the JSON object has at most `count` properties
    (counted as `min_properties` counts them)."""

    def check(model: Any) -> Any:
        present = _present(model)
        if len(present) > count:
            raise PydanticCustomError(
                "max_properties",
                "the object has {found} properties; the spec allows at most {count}",
                {"found": len(present), "count": count},
            )
        return model

    return check


def not_one_of(*refused: Any) -> Callable[[Any], Any]:
    """An after-validator of a field whose schema is `not: {enum: refused}`: the value is
    none of those (None is left to the null check)."""

    def check(value: Any) -> Any:
        if value is not None and value in refused:
            raise PydanticCustomError(
                "not_one_of",
                "the spec refuses {value!r} here",
                {"value": value},
            )
        return value

    return check


def unique_items(value: list[Any] | None) -> list[Any] | None:
    """An after-validator of a list the spec declares `uniqueItems` (None is left to the
    null check)."""
    if value is None or len(value) < 2:
        return value
    if not isinstance(value[0], (BaseModel, list, dict)):
        try:
            if len(set(value)) == len(value):
                return value  # hashable items (strings, numbers, enums), all distinct
        except TypeError:
            pass  # unhashable items further on: compared pairwise below
    for index in range(1, len(value)):
        item = value[index]
        for other in value[:index]:
            # A cheap comparison first (models by their fields' values), which never
            # calls equal two objects whose JSON differs; the JSON decides for those it
            # calls equal (`1` and `1.0`, date-times written differently, a field set
            # to its default or left out, unknown fields).
            if isinstance(item, BaseModel) and type(other) is type(item):
                if item.__dict__ != other.__dict__:
                    continue
            elif item != other:
                continue
            if _wire(item) == _wire(other):
                raise PydanticCustomError(
                    "unique_items", "the spec asks for unique items; this list repeats one"
                )
    return value


def _wire(value: Any) -> Any:
    if isinstance(value, MefModel):
        return value.to_dict()
    return (value,) if isinstance(value, bool) else value  # `true` is not `1` in JSON


def declared_nulls(
    value: Any, *, python: tuple[str | int, ...] = (), wire: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], tuple[str | int, ...]]]:
    """(Python path, wire path) of every field the spec declares that holds None, at any
    depth of models and lists. No MEF field is nullable, so each is absent or a
    departure; values inside unknown fields are not looked at."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from declared_nulls(item, python=(*python, index), wire=(*wire, index))
    elif isinstance(value, BaseModel):
        private = value.__pydantic_private__
        if private and private.get("lso_pending") is not None:
            # A payload typed when read: its nulls are looked for then.
            private["lso_null_check"] = True
            return
        fields = value.__dict__  # not the attributes, which would type payloads
        for name, info in type(value).model_fields.items():
            found = fields.get(name)
            if found is None:
                yield (*python, name), (*wire, info.alias or name)
            elif isinstance(found, (BaseModel, list)):
                yield from declared_nulls(
                    found, python=(*python, name), wire=(*wire, info.alias or name)
                )


class MefEnum(str, Enum):
    """Base of every generated enum: compares and prints as its wire value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# ----------------------------------------------------------------------------- typing on read

# The validation contexts of what a seller sends (responses and events), which is read
# by wire names only (`@type`, not `type`). Under `TYPED_ON_READ` (lenient parsing)
# `Payload` keeps an object whose `@type` has a model generic, to be typed when the field
# holding it is first read; under `TYPED_AT_ONCE` (strict parsing), as for a caller's
# data (no context), it is typed at once.
TYPED_ON_READ: dict[str, str] = {"lso_from_seller": "typed on read"}
TYPED_AT_ONCE: dict[str, str] = {"lso_from_seller": "typed at once"}


def _holds_payloads(annotation: Any) -> bool:
    """Whether a field of this type can hold an extension point's payload (itself, in a
    union or in a list)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _holds_payloads(get_args(annotation)[0])
    if origin is not None:
        return any(_holds_payloads(arg) for arg in get_args(annotation))
    # An extension point: a `Payload` that fixes no URN.
    return isinstance(annotation, type) and getattr(annotation, "__lso_urn__", False) is None


class _TypedOnRead:
    """The attribute of a model field that holds payloads: reading it types a payload
    kept generic by lenient parsing (in place, once), and gives what the field holds."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            # Pydantic reads class attributes as field defaults: this is none.
            raise AttributeError(self.name)
        try:
            value = instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        if type(value) is list:
            # A list is looked through once (per list object), not on every read.
            private = instance.__pydantic_private__
            seen = private.get("lso_typed_lists") if private else None
            if seen is None or seen.get(self.name) is not value:
                with _TYPING:
                    for index, item in enumerate(value):
                        if _pending(item) is not None:
                            value[index] = _typed(item)
                    if private is None:
                        private = {}
                        object.__setattr__(instance, "__pydantic_private__", private)
                    private.setdefault("lso_typed_lists", {})[self.name] = value
        elif _pending(value) is not None:
            with _TYPING:  # one typed object however many threads read it first
                value = instance.__dict__[self.name]
                if _pending(value) is not None:
                    value = instance.__dict__[self.name] = _typed(value)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        # `BaseModel.__setattr__` writes fields itself; this serves `object.__setattr__`.
        instance.__dict__[self.name] = value


# Typing on read is serialised: two threads reading one field first get one object.
_TYPING = threading.RLock()


def _pending(value: Any) -> dict[str, Any] | None:
    private = getattr(value, "__pydantic_private__", None)
    if private:
        found: dict[str, Any] | None = private.get("lso_pending")
        return found
    return None


def _typed(generic: Any) -> Any:
    """The payload model instance for a generic payload kept for typing on read; when
    its body breaks the model's schema, the generic object itself, which records the
    deviations (paths inside the payload) and logs them."""
    private = generic.__pydantic_private__
    data = private.get("lso_pending") if private else None
    model = _payload_model(generic.type) if data is not None else None
    if model is None:  # typed already, or unregistered since parsing
        if private:
            private.pop("lso_pending", None)
        return generic
    from ._parsing import deviations_of, log_deviations, null_deviations, record_deviations

    try:
        typed = model.__pydantic_validator__.validate_python(
            data, context=TYPED_ON_READ, by_name=False
        )
    except ValidationError as exc:
        private.pop("lso_pending", None)
        found = deviations_of(exc)
        private["lso_deviations"] = found
        log_deviations(model, found)
        return generic
    if private.get("lso_null_check"):  # the response held a null somewhere
        nulls = null_deviations(typed)
        if nulls:
            record_deviations(typed, nulls)
            log_deviations(model, nulls)
    return typed


class MefModel(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        # Generated enums subclass `str`; keep members (not raw strings) on the model.
        use_enum_values=False,
        protected_namespaces=(),
    )

    # The fields that hold payloads (extension points), typed when first read.
    __lso_payload_fields__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        super().__pydantic_on_complete__()
        found = tuple(
            name
            for name, info in cls.__pydantic_fields__.items()
            if _holds_payloads(info.annotation)
        )
        cls.__lso_payload_fields__ = found
        for name in found:
            setattr(cls, name, _TypedOnRead(name))

    def __iter__(self) -> Any:
        for name in self.__lso_payload_fields__:
            getattr(self, name)  # iterating gives what reading gives
        return super().__iter__()

    def __eq__(self, other: object) -> bool:
        for model in (self, other):
            for name in getattr(model, "__lso_payload_fields__", ()):
                getattr(model, name)
        return super().__eq__(other)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Only what was set: generated models have dozens of optional fields.
        for payload_field in self.__lso_payload_fields__:
            getattr(self, payload_field)  # printed as read
        fields_set = self.model_fields_set
        for name, value in super().__repr_args__():
            if name is None or name in fields_set or name not in type(self).model_fields:
                yield name, value

    # Display (`_display`): a short repr, `str()` in full, tables in a notebook.
    _repr_html_: ClassVar[Any] = _display.HtmlRepr()

    def __repr__(self) -> str:
        return _display.model_repr(self)

    def __str__(self) -> str:
        return _display.model_str(self)

    @classmethod
    def describe(cls) -> _display.FieldTable:
        """The model's fields (Python name, wire name, type, required) as a table, which
        prints as text and shows as HTML in a notebook."""
        return _display.describe(cls)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the seller sent it (or as it will be sent): wire names, no
        invented nulls, unknown fields included, date-times in the text received."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)

    def to_json(self, *, indent: int | None = None) -> str:
        """`to_dict()` as JSON text."""
        return self.model_dump_json(
            by_alias=True, exclude_unset=True, indent=indent, warnings=False
        )

    @property
    def spec_deviations(self) -> list[dict[str, Any]]:
        """Where a leniently parsed response departed from the spec (empty when it conformed).

        Recorded on the object returned by a call, not on nested objects, with one
        exception: a payload with a known `@type` is typed when first read, and if its
        body breaks its model's schema it stays the generic object and records the
        deviations on itself, `loc` relative to the payload. Each entry has `loc` (path
        into the JSON), `type`, `msg` and `input`.
        """
        private = self.__pydantic_private__
        if private:
            found = private.get("lso_deviations")
            if isinstance(found, list):
                return found
        return []


class Payload(MefModel):
    """A service payload: the object an `@type` URN selects at an API extension point.

    Generated extension points (a service's configuration, a job's service-specific
    configuration or result, alarm details...) and generated payload models both derive
    from this class; a payload model fixes `type` to its URN (`__lso_urn__` holds it).

    Validating an extension point (this class, or a subclass that leaves `type` open)
    hands the object over to the payload model registered for its `@type`
    (`lso_client.payloads`): the result is an instance of that model, and a body that
    breaks the model's schema is a validation error with the path inside the payload.
    An object with a URN no model is registered for stays an instance of the extension
    point, every field kept. A payload model instance is taken as it is. Constructing an
    extension point directly (`Payload(type=..., ...)`) builds that generic object.

    Under the validation context `TYPED_ON_READ` (lenient parsing of responses and
    events) the hand-over waits: the object stays generic, every field as received,
    until the model field holding it is first read (`_TypedOnRead`).
    """

    type: Annotated[str, Field(alias="@type")]

    # The URN this class fixes `type` to; None on extension points.
    __lso_urn__: ClassVar[str | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # A URN is fixed by `type: Literal[urn] = urn`; a plain `str` default is not one.
        info = cls.model_fields.get("type")
        default = info.default if info is not None else None
        fixed = (
            info is not None
            and isinstance(default, str)
            and get_origin(info.annotation) is Literal
            and get_args(info.annotation) == (default,)
        )
        cls.__lso_urn__ = default if fixed else None

    def __init__(self, /, **data: Any) -> None:
        __tracebackhide__ = True
        token = _CONSTRUCTING.set(data)
        try:
            # As `BaseModel.__init__`, with the arguments marked as this object's own.
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        finally:
            _CONSTRUCTING.reset(token)
        # A payload model's fixed URN is part of the object the caller builds: `type`
        # counts as set (`to_dict()` writes `@type`) even when left out. A payload parsed
        # from data keeps what it received.
        if self.__lso_urn__ is not None:
            self.__pydantic_fields_set__.add("type")

    # It validates as `BaseModel.__init__` does: pydantic-core need not call it after
    # validating (it would validate twice).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="wrap")
    @classmethod
    def _dispatch(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        # Kept lean: it runs for every payload parsed, and most URNs have no model.
        if type(data) is not dict and isinstance(data, Mapping):
            data = dict(data)  # any other mapping is read as the object it holds
        if type(data) is dict:
            if cls.__lso_urn__ is not None:
                return handler(data)
            context = info.context
            from_seller = context is TYPED_ON_READ or context is TYPED_AT_ONCE
            urn = data.get("@type")
            if urn is None and not from_seller:
                urn = data.get("type")  # a caller's mapping may use the Python name
            if type(urn) is not str:
                return handler(data)
            found = (_KNOWN if _KNOWN is not None else _known()).get(urn)
            if found is None or data is _CONSTRUCTING.get():
                # No model for the URN, or the object `Payload(...)` itself builds.
                return handler(data)
            if context is TYPED_ON_READ:
                # Kept generic (every field as received) until the field is read.
                generic = handler(data)
                private = generic.__pydantic_private__
                if private is None:
                    private = {}
                    object.__setattr__(generic, "__pydantic_private__", private)
                private["lso_pending"] = data
                return generic
            model = found if isinstance(found, type) else _import_model(urn, found)
            if from_seller:
                return model.__pydantic_validator__.validate_python(
                    data, context=context, by_name=False
                )
            return model.__pydantic_validator__.validate_python(data)
        if isinstance(data, Payload) and cls.__lso_urn__ is None:
            if data.__lso_urn__ is not None:
                return data  # a payload model: taken as it is
            chosen = _payload_model(data.type) if type(data.type) is str else None
            if chosen is not None:
                # A generic object built by hand for a URN that has a model.
                return chosen.__pydantic_validator__.validate_python(
                    data.model_dump(by_alias=True, exclude_unset=True, warnings=False)
                )
        return handler(data)


# The arguments of the `Payload(...)` call being validated: that object is not handed
# over (objects in its fields are).
_CONSTRUCTING: ContextVar[Any] = ContextVar("lso_payload_constructing", default=None)

# URN -> payload model, or the (module, class name) it is imported from on first use.
# Filled on first lookup from the generated registry; `register()` adds to it.
_KNOWN: dict[str, type[Payload] | tuple[str, str]] | None = None
_REGISTERED: dict[str, type[Payload]] = {}


def _generated_registry() -> dict[str, tuple[str, str]]:
    """URN -> (module, class name) of every generated payload model (the registry
    module imports no model)."""
    module = importlib.import_module("lso_client._generated.payloads._registry")
    found: dict[str, tuple[str, str]] = module.REGISTRY
    return found


def _known() -> dict[str, type[Payload] | tuple[str, str]]:
    global _KNOWN
    if _KNOWN is None:
        known: dict[str, type[Payload] | tuple[str, str]] = dict(_generated_registry())
        known.update(_REGISTERED)
        _KNOWN = known
    return _KNOWN


def _payload_model(urn: str) -> type[Payload] | None:
    """The payload model for `urn` (its module imported on first use), or None."""
    found = (_KNOWN if _KNOWN is not None else _known()).get(urn)
    if found is None or isinstance(found, type):
        return found
    return _import_model(urn, found)


def _import_model(urn: str, where: tuple[str, str]) -> type[Payload]:
    module, name = where
    model: type[Payload] = getattr(importlib.import_module(module), name)
    _known()[urn] = model
    return model
