"""One printed figure of a chaos scenario."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Figure"]


@dataclass(frozen=True)
class Figure:
    """A measured figure: `value` as printed, `goal` as the issue states it, and whether it
    was met (`None` for figures that only inform)."""

    scenario: str
    name: str
    value: str
    goal: str = ""
    ok: bool | None = None
    note: str = ""
