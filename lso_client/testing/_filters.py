"""Query-filter helpers shared by the list operations of the mock seller's API modules."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timezone

from ._http import ApiError, Request, parse_datetime

__all__ = ["DateBound", "bool_param", "date_bounds", "enum_param", "now_ms", "within"]

DateBound = tuple[str, str, datetime]


def date_bounds(request: Request, names: Iterable[str]) -> list[DateBound]:
    """The `<name>.gt` / `<name>.lt` filters present in the query, parsed."""
    bounds: list[DateBound] = []
    for name in names:
        for op in ("gt", "lt"):
            raw = request.query_value(f"{name}.{op}")
            if raw is None:
                continue
            value = parse_datetime(raw)
            if value is None:
                raise ApiError(400, "invalidQuery", f"'{name}.{op}' is not a date-time with offset")
            bounds.append((name, op, value))
    return bounds


def within(dates: Mapping[str, datetime], bounds: Iterable[DateBound]) -> bool:
    """Whether every bound holds; an absent date fails any bound on it."""
    for name, op, limit in bounds:
        value = dates.get(name)
        if value is None:
            return False
        if op == "gt" and not value > limit:
            return False
        if op == "lt" and not value < limit:
            return False
    return True


def enum_param(request: Request, name: str, allowed: Collection[str]) -> str | None:
    """A query value that must be one of `allowed` (400 `invalidQuery` otherwise)."""
    value = request.query_value(name)
    if value is not None and value not in allowed:
        raise ApiError(400, "invalidQuery", f"'{name}' has no value {value!r}")
    return value


def bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_value(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(400, "invalidQuery", f"'{name}' must be true or false, got {raw!r}")


def now_ms(value: datetime) -> datetime:
    """`value` in UTC at the wire's millisecond precision, so that a date read from a
    resource and sent back as a filter bound compares equal to the stored one."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)
