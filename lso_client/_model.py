"""Base class of every generated model.

Models keep what the spec does not name (`extra="allow"`), accept both the Python
field names and the wire names (`orderDate` and `order_date`), and serialise to
the wire names by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Discriminator

__all__ = ["OTHER_TYPE", "MefEnum", "MefModel", "by_type", "declared_nulls"]


# The tag of the branch that takes any `@type` outside a discriminator's mapping.
OTHER_TYPE = "*"


def by_type(*known: str) -> Discriminator:
    """Route a union on `@type`: a value in `known` picks the subclass tagged with it,
    any other value the base (tagged `OTHER_TYPE`), as the spec's discriminator says."""
    names = frozenset(known)

    def tag(value: Any) -> str:
        found = (
            value.get("@type") if isinstance(value, dict) else getattr(value, "field_type", None)
        )
        return found if isinstance(found, str) and found in names else OTHER_TYPE

    return Discriminator(tag)


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
        for name, info in type(value).model_fields.items():
            found = getattr(value, name, None)
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

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Only what was set: generated models have dozens of optional fields.
        fields_set = self.model_fields_set
        for name, value in super().__repr_args__():
            if name is None or name in fields_set or name not in type(self).model_fields:
                yield name, value

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the seller sent it (or as it will be sent): wire names, no
        invented nulls, unknown fields included."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)

    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(
            by_alias=True, exclude_unset=True, indent=indent, warnings=False
        )

    @property
    def spec_deviations(self) -> list[dict[str, Any]]:
        """Where a leniently parsed response departed from the spec (empty when it conformed).

        Recorded only on the object returned by a call, not on nested objects; each
        entry has `loc` (path into the JSON), `type`, `msg` and `input`.
        """
        private = self.__pydantic_private__
        if private:
            found = private.get("lso_deviations")
            if isinstance(found, list):
                return found
        return []
