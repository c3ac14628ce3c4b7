"""MkDocs hook: the `lso_client.types` reference page lists the generated modules as they
are in the tree when the site is built (so it never goes stale after `make codegen`)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).parent
_MARK = "<!-- generated module list -->"


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _table() -> str:
    types = _ROOT / "lso_client" / "types"
    rows = ["| module | what |", "| --- | --- |"]
    for path in sorted(types.rglob("*.py")):
        parts = path.relative_to(_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        rows.append(f"| `{'.'.join(parts)}` | {_summary(path)} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace the marker of the types page with the table of modules."""
    if _MARK in markdown:
        return markdown.replace(_MARK, _table())
    return markdown
