"""MkDocs hook: reference pages filled in from the tree when the site is built, so they never
go stale after `make codegen`: the `lso_client.types` page lists the generated modules, the
operations page every operation of every client (`lso_client.operations()`)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).parent
_MARK = "<!-- generated module list -->"
_OPERATIONS = "<!-- generated operation list -->"


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


def _operations() -> str:
    """One section per reference point, one table row per operation, from the catalog the
    clients are generated with."""
    import lso_client

    sections = []
    for reference_point in ("allegro", "interlude", "legato"):
        rows = [
            f"## {reference_point.capitalize()}",
            "",
            "| operationId | HTTP | path | Python | returns |",
            "| --- | --- | --- | --- | --- |",
        ]
        for op in lso_client.operations(reference_point=reference_point):
            returns = op.response_model_name or ""
            if returns and op.response_is_list:
                returns = f"list[{returns}]"
            rows.append(
                f"| `{op.operation_id}` | {op.http_method} | `{op.base_path.rstrip('/')}{op.path}` "
                f"| `{op.method}` | {returns} |"
            )
        sections.append("\n".join(rows))
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace the markers of the reference pages with their generated tables."""
    if _MARK in markdown:
        markdown = markdown.replace(_MARK, _table())
    if _OPERATIONS in markdown:
        markdown = markdown.replace(_OPERATIONS, _operations())
    return markdown
