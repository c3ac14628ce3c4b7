"""Query-string encoding: Python values to the strings the MEF APIs expect."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime

from ._errors import RequestValidationError

__all__ = ["encode_query", "encode_query_value"]


def encode_query_value(name: str, value: object) -> list[str]:
    """Encode one query value as the strings to send (several for a list, none for None)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in encode_query_value(name, item)]
    if isinstance(value, enum.Enum):
        return encode_query_value(name, value.value)
    if isinstance(value, bool):  # before int: bool is an int subclass
        return ["true" if value else "false"]
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise RequestValidationError(
                f"query parameter {name!r}: datetime {value.isoformat()} has no UTC offset; "
                "the API needs an offset (e.g. datetime.now(timezone.utc))",
                errors=[{"loc": [name], "msg": "naive datetime", "type": "naive_datetime"}],
            )
        return [value.isoformat()]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, (str, int, float)):
        return [str(value)]
    raise RequestValidationError(
        f"query parameter {name!r}: unsupported value type {type(value).__name__}",
        errors=[{"loc": [name], "msg": "unsupported type", "type": "type_error"}],
    )


def encode_query(*params: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """Encode query mappings into `(name, value)` pairs; later mappings override earlier keys.

    Names are sent as given (`orderDate.gt`, `@type`); httpx percent-encodes `@` as `%40`,
    which servers decode back to `@type`.
    """
    merged: dict[str, object] = {}
    for mapping in params:
        if mapping:
            merged.update(mapping)
    return [
        (name, text) for name, value in merged.items() for text in encode_query_value(name, value)
    ]
