"""List filters: the one query-filter mechanism of every API module of the mock seller.

A resource declares, per query parameter, where its value sits in a stored body
(`field_at`); `Filters.from_query` turns a request's query into one predicate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._http import ApiError, Request, Unprocessable, parse_datetime, unprocessable

__all__ = ["Body", "Check", "Extract", "Filters", "field_at", "matches"]

Body = dict[str, Any]
Extract = Callable[[Body], Any]
Check = Callable[[Body], bool]


def field_at(*keys: str) -> Extract:
    """Read a nested value; passing through a list collects the value of each element."""

    def extract(value: Any, depth: int = 0) -> Any:
        if depth == len(keys):
            return value
        if isinstance(value, list):
            found = [extract(item, depth) for item in value]
            return [v for v in found if v is not None]
        if not isinstance(value, dict):
            return None
        return extract(value.get(keys[depth]), depth + 1)

    return lambda body: extract(body)


def matches(expected: Any, actual: Any) -> bool:
    """Whether `actual` holds `expected`: objects by subset, lists by any element.

    An `@type` ending in `_Query` names a query form, not a stored type, so it is
    not compared.
    """
    if isinstance(actual, list) and not isinstance(expected, list):
        return any(matches(expected, item) for item in actual)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        return all(
            (key == "@type" and str(value).endswith("_Query")) or matches(value, actual.get(key))
            for key, value in expected.items()
        )
    if isinstance(expected, list):
        return any(matches(item, actual) for item in expected)
    return bool(expected == actual)


@dataclass(frozen=True)
class Filters:
    """The list filters of one resource: query name -> where its value sits in a body.

    `equals` compare as text (a list value matches by any element); `enums` restricts
    the values an `equals` filter takes; `dates` names get `.gt`/`.lt` variants (an
    absent date fails the bound); `flags` take `true`/`false`. `joint` filters read
    several parameters at once and give a check, or None when they are absent.
    """

    equals: Mapping[str, Extract] = field(default_factory=dict)
    dates: Mapping[str, Extract] = field(default_factory=dict)
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)
    flags: Mapping[str, Extract] = field(default_factory=dict)
    joint: tuple[Callable[[Request], Check | None], ...] = ()

    def from_query(self, request: Request) -> Check | None:
        """One check for the query's filters; None when the query filters nothing."""
        checks: list[Check] = []
        for name, extract in self.equals.items():
            raw = request.query_value(name)
            if raw is None:
                continue
            allowed = self.enums.get(name)
            if allowed is not None and raw not in allowed:
                raise ApiError(400, "invalidQuery", f"'{name}' has no value {raw!r}")
            checks.append(_equals(extract, raw))
        for name, extract in self.dates.items():
            for op in ("gt", "lt"):
                raw = request.query_value(f"{name}.{op}")
                if raw is None:
                    continue
                bound = parse_datetime(raw)
                if bound is None:
                    raise ApiError(
                        400, "invalidQuery", f"'{name}.{op}' is not a date-time with an offset"
                    )
                checks.append(_within(extract, op, bound))
        for name, extract in self.flags.items():
            raw = request.query_value(name)
            if raw is None:
                continue
            if raw.lower() not in ("true", "false"):
                raise ApiError(400, "invalidQuery", f"'{name}' must be true or false, got {raw!r}")
            checks.append(_is(extract, raw.lower() == "true"))
        for joint in self.joint:
            check = joint(request)
            if check is not None:
                checks.append(check)
        return _all(checks)

    def from_body(self, query: Body) -> Check | None:
        """A complex query: dotted date bounds, every other property matched by subset."""
        checks: list[Check] = []
        for key, value in query.items():
            name, _, op = key.rpartition(".")
            if op in ("gt", "lt") and name in self.dates:
                bound = parse_datetime(value) if isinstance(value, str) else None
                if bound is None:
                    raise Unprocessable(
                        [unprocessable("invalidFormat", f"'{key}' is not a date-time", f"/{key}")]
                    )
                checks.append(_within(self.dates[name], op, bound))
            else:
                checks.append(_holds(key, value))
        return _all(checks)


def _all(checks: list[Check]) -> Check | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda body: all(check(body) for check in checks)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _holds(key: str, expected: Any) -> Check:
    return lambda body: matches(expected, body.get(key))


def _equals(extract: Extract, raw: str) -> Check:
    def check(body: Body) -> bool:
        value = extract(body)
        values = value if isinstance(value, (list, set, frozenset)) else [value]
        return any(v is not None and _text(v) == raw for v in values)

    return check


# Stored dates are read back as text on every filtered list; parsing is a pure
# function of the text, so repeated lists reuse it.
_parse_stored = functools.lru_cache(maxsize=1 << 16)(parse_datetime)


def _within(extract: Extract, op: str, bound: datetime) -> Check:
    def check(body: Body) -> bool:
        raw = extract(body)
        value = _parse_stored(raw) if isinstance(raw, str) else None
        if value is None:
            return False
        return value > bound if op == "gt" else value < bound

    return check


def _is(extract: Extract, flag: bool) -> Check:
    return lambda body: extract(body) is flag
