"""How models, pages and errors show themselves: short reprs, HTML for notebooks, and the
field table of a model class.

- `repr(model)` is one bounded line: the class, its identifying fields (`id`, `state`,
  `href`, ...), then other fields while room is left, nested models and lists summarised,
  and how many fields were left out. `str(model)` keeps every field, nested ones in full.
- `model._repr_html_()` is a collapsible table of the fields, nested models as nested
  tables, bounded in depth, rows and text; `Model._repr_html_()` (the class) and
  `Model.describe()` list the class's fields: Python name, wire name, type, required.
- pages and errors have a one-line repr and an HTML table.

Everything a seller sent is escaped before it reaches HTML.
"""

from __future__ import annotations

import html
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

if TYPE_CHECKING:
    from ._errors import LSOError
    from ._pagination import _PageBase

__all__ = [
    "FieldRecord",
    "FieldTable",
    "class_html",
    "describe",
    "error_html",
    "error_repr",
    "model_html",
    "model_repr",
    "model_str",
    "page_html",
    "page_repr",
]

# Fields that say which object this is, shown first (Python names).
_IDENTIFYING = (
    "id",
    "type",
    "state",
    "status",
    "lifecycle_status",
    "name",
    "external_id",
    "buyer_job_id",
    "event_type",
    "event_id",
    "href",
)
# A repr shows at most this many fields, in about this many characters.
_REPR_FIELDS = 6
_REPR_BUDGET = 160
_REPR_MAX = 400
_TEXT = 40  # characters of one value in a repr
# HTML bounds: nesting depth, rows per table, items per list, characters per value, and
# cells in all (past that, nested objects show as their repr).
_HTML_DEPTH = 4
_HTML_ROWS = 60
_HTML_ITEMS = 20
_HTML_TEXT = 300
_HTML_CELLS = 1500
_PAGE_ROWS = 50
_PAGE_COLUMNS = 8
_ERROR_ITEMS = 20
_ERROR_TEXT = 300

# Set while `str(model)` runs: nested models print in full, as before.
_FULL: ContextVar[bool] = ContextVar("lso_full_repr", default=False)


# ----------------------------------------------------------------------------- values


def _fields(model: BaseModel) -> list[tuple[str, Any]]:
    """(Python name, value) of the fields the object holds, declared ones first (read as
    attributes: payloads are typed), then unknown ones by wire name."""
    found: list[tuple[str, Any]] = []
    present = model.model_fields_set
    for name in type(model).model_fields:
        if name in present:
            found.append((name, getattr(model, name, None)))
    found.extend((model.__pydantic_extra__ or {}).items())
    return found


def _ordered(model: BaseModel) -> list[tuple[str, Any]]:
    """The fields: identifying ones first, then lists, then the others; a payload
    model's fixed `type` left out (its class says it)."""
    fields = _fields(model)
    if getattr(type(model), "__lso_urn__", None) is not None:
        fields = [(n, v) for n, v in fields if n != "type"]
    rank = {name: index for index, name in enumerate(_IDENTIFYING)}
    first = sorted((f for f in fields if f[0] in rank), key=lambda f: rank[f[0]])
    rest = [f for f in fields if f[0] not in rank]
    lists = [f for f in rest if isinstance(f[1], list)]
    return first + lists + [f for f in rest if not isinstance(f[1], list)]


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _scalar_text(value: Any) -> str | None:
    """The short text of a scalar value, or None for models, lists and mappings."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return repr(_clip(value, _TEXT))
    if isinstance(value, datetime):
        from ._model import format_datetime

        return str(format_datetime(value))
    if isinstance(value, (BaseModel, list, tuple, dict)):
        return None
    return _clip(_safe_repr(value), _TEXT)


def _safe_repr(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 256:
        # Past Python's digit limit `repr` raises; a seller may send such a number.
        return f"<{value.bit_length()}-bit integer>"
    return repr(value)


def _short(value: Any) -> str:
    """A value in a repr: scalars clipped, models and lists summarised."""
    text = _scalar_text(value)
    if text is not None:
        return text
    if isinstance(value, BaseModel):
        return f"{type(value).__name__}(...)"
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}"
    items = list(value)
    if not items:
        return "[]"
    kinds = {type(item) for item in items}
    if len(kinds) == 1 and issubclass(next(iter(kinds)), BaseModel):
        return f"[{len(items)} {next(iter(kinds)).__name__}]"
    scalars = [_scalar_text(item) for item in items]
    if all(s is not None for s in scalars):
        text = "[" + ", ".join(s for s in scalars if s is not None) + "]"
        if len(text) <= _TEXT:
            return text
    return f"[{len(items)} items]"


def _label(name: str) -> str:
    return name if name.isidentifier() else repr(_clip(name, _TEXT))


# ----------------------------------------------------------------------------- reprs


def model_repr(model: BaseModel) -> str:
    """One bounded line: class, identifying fields, others while room is left, and the
    count of fields not shown."""
    if _FULL.get():
        return BaseModel.__repr__(model)
    shown: list[str] = []
    hidden = 0
    used = 0
    for name, value in _ordered(model):
        text = f"{_clip(_label(name), _TEXT)}={_short(value)}"
        if shown and (len(shown) >= _REPR_FIELDS or used + len(text) > _REPR_BUDGET):
            hidden += 1
            continue
        shown.append(text)
        used += len(text) + 2
    if hidden:
        shown.append(f"+{hidden} fields")
    return _clip(f"{type(model).__name__}({', '.join(shown)})", _REPR_MAX)


def model_str(model: BaseModel) -> str:
    """Every field, nested models in full (pydantic's `str`)."""
    token = _FULL.set(True)
    try:
        return BaseModel.__str__(model)
    finally:
        _FULL.reset(token)


def page_repr(page: _PageBase[Any]) -> str:
    """One line: where the page sits, how many items of which class, whether more follow."""
    kinds = sorted({type(item).__name__ for item in page.items})
    what = kinds[0] if len(kinds) == 1 else "items" if not kinds else "mixed"
    return (
        f"{type(page).__name__}(offset={page.offset}, limit={page.limit}, "
        f"count={len(page.items)}, total_count={page.total_count}, "
        f"throttled={page.throttled}, has_next_page={page.has_next_page()}, "
        f"items=[{len(page.items)} {what}])"
    )


def error_repr(error: LSOError) -> str:
    """One line: the class, the message (clipped), and the HTTP status when there is one."""
    message = _clip(" ".join(str(error).split()), _ERROR_TEXT)
    status = getattr(error, "status_code", None)
    extra = f", status_code={status}" if isinstance(status, int) else ""
    return f"{type(error).__name__}({message!r}{extra})"


# ----------------------------------------------------------------------------- HTML

_STYLE = (
    "<style>.lso-table td,.lso-table th{text-align:left;vertical-align:top;"
    "padding:1px 6px}.lso-table{border-collapse:collapse}</style>"
)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


class _Budget:
    def __init__(self) -> None:
        self.cells = _HTML_CELLS

    def take(self) -> bool:
        self.cells -= 1
        return self.cells >= 0


def _value_html(value: Any, depth: int, budget: _Budget) -> str:
    if isinstance(value, BaseModel):
        if depth >= _HTML_DEPTH or budget.cells <= 0:
            return f"<code>{_e(model_repr(value))}</code>"
        return _model_table(value, depth + 1, budget, open_=False)
    if isinstance(value, (list, tuple)):
        if not value:
            return "<code>[]</code>"
        if all(_scalar_text(item) is not None for item in value):
            shown = ", ".join(_clip(_plain(item), _TEXT) for item in value[:_HTML_ITEMS])
            more = f", ... +{len(value) - _HTML_ITEMS}" if len(value) > _HTML_ITEMS else ""
            return f"<code>{_e('[' + shown + more + ']')}</code>"
        if depth >= _HTML_DEPTH or budget.cells <= 0:
            return f"<code>{_e(_short(value))}</code>"
        rows = "".join(
            f"<tr><td>{index}</td><td>{_value_html(item, depth + 1, budget)}</td></tr>"
            for index, item in enumerate(value[:_HTML_ITEMS])
        )
        if len(value) > _HTML_ITEMS:
            rows += f"<tr><td colspan=2>... +{len(value) - _HTML_ITEMS} more</td></tr>"
        return (
            f"<details><summary>{_e(_short(value))}</summary>"
            f"<table class='lso-table'>{rows}</table></details>"
        )
    if isinstance(value, dict):
        if depth >= _HTML_DEPTH or budget.cells <= 0:
            return f"<code>{_e(_short(value))}</code>"
        items = list(value.items())
        rows = "".join(
            f"<tr><td>{_e(_clip(str(k), _TEXT))}</td><td>{_value_html(v, depth + 1, budget)}"
            "</td></tr>"
            for k, v in items[:_HTML_ROWS]
            if budget.take()
        )
        return (
            f"<details><summary>{_e(_short(value))}</summary>"
            f"<table class='lso-table'>{rows}</table></details>"
        )
    return f"<code>{_e(_clip(_plain(value), _HTML_TEXT))}</code>"


def _cell(value: Any) -> str:
    """A value in a table cell: scalars as plain text (clipped), others summarised."""
    if _scalar_text(value) is None:
        return _short(value)
    return _clip(_plain(value), _TEXT * 2)


def _plain(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        from ._model import format_datetime

        return str(format_datetime(value))
    if isinstance(value, str):
        return value
    return _safe_repr(value)


def _model_table(model: BaseModel, depth: int, budget: _Budget, *, open_: bool) -> str:
    fields = _ordered(model)
    wire = {name: info.alias or name for name, info in type(model).model_fields.items()}
    rows: list[str] = []
    for name, value in fields[:_HTML_ROWS]:
        if not budget.take():
            break
        rows.append(
            f"<tr><td title='{_e(wire.get(name, name))}'>{_e(_clip(name, _TEXT))}</td>"
            f"<td>{_value_html(value, depth, budget)}</td></tr>"
        )
    left = len(fields) - len(rows)
    if left > 0:
        rows.append(f"<tr><td colspan=2>... +{left} more fields</td></tr>")
    summary = _e(model_repr(model))
    return (
        f"<details{' open' if open_ else ''}><summary><code>{summary}</code></summary>"
        f"<table class='lso-table'>{''.join(rows)}</table></details>"
    )


def model_html(model: BaseModel) -> str:
    """A collapsible table of the object's fields, nested objects as nested tables."""
    return _STYLE + _model_table(model, 0, _Budget(), open_=True)


def _page_order(item: BaseModel) -> list[tuple[str, Any]]:
    """An item's fields as page columns: identifying ones and scalars first, then lists
    and nested objects, `href` (long, and the id says it) last."""
    fields = _ordered(item)
    rank = {name: index for index, name in enumerate(_IDENTIFYING)}
    return sorted(
        fields,
        key=lambda f: (f[0] == "href", f[0] not in rank, _scalar_text(f[1]) is None),
    )


def page_html(page: _PageBase[Any]) -> str:
    """A table of the page's items: their identifying fields and the first others."""
    items = page.items[:_PAGE_ROWS]
    columns: list[str] = []
    values: list[dict[str, Any]] = []
    for item in items:
        fields = dict(_page_order(item)) if isinstance(item, BaseModel) else {"value": item}
        values.append(fields)
        for name in fields:
            if name not in columns and len(columns) < _PAGE_COLUMNS:
                columns.append(name)
    head = "".join(f"<th>{_e(_clip(c, _TEXT))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_e(_cell(row[c])) if c in row else ''}</td>" for c in columns)
        + "</tr>"
        for row in values
    )
    more = len(page.items) - len(items)
    caption = _e(page_repr(page))
    tail = f"<p>... +{more} more items on this page</p>" if more > 0 else ""
    return (
        f"{_STYLE}<p><code>{caption}</code></p><table class='lso-table'><thead><tr>{head}"
        f"</tr></thead><tbody>{body}</tbody></table>{tail}"
    )


def error_html(error: LSOError) -> str:
    """A table: class, message, status, request id, and the seller's MEF errors."""
    rows: list[tuple[str, Any]] = [("error", type(error).__name__), ("message", str(error))]
    for name in ("status_code", "request_id", "reason", "offset", "pages", "items"):
        found = getattr(error, name, None)
        if found is not None:
            rows.append((name, found))
    errors = getattr(error, "errors", None)
    listed = errors if isinstance(errors, list) else []
    for index, entry in enumerate(listed[:_ERROR_ITEMS]):
        rows.append((f"errors[{index}]", entry))
    if len(listed) > _ERROR_ITEMS:
        rows.append(("errors", f"... +{len(listed) - _ERROR_ITEMS} more"))
    body = "".join(
        f"<tr><th>{_e(name)}</th><td><code>{_e(_clip(_plain(value), _HTML_TEXT))}</code></td></tr>"
        for name, value in rows
    )
    return f"{_STYLE}<table class='lso-table'>{body}</table>"


# ----------------------------------------------------------------------------- model classes


@dataclass(frozen=True)
class FieldRecord:
    """One field of a model class: its Python name, its name on the wire, its type and
    whether the schema requires it."""

    name: str
    wire_name: str
    type: str
    required: bool


_FIELD_COLUMNS = ("name", "wire_name", "type", "required")


class FieldTable(list[FieldRecord]):
    """The fields of a model class; reads as a table (text in a terminal, HTML in a
    notebook). `model` is the class, `import_path` where to import it from."""

    def __init__(self, model: type[BaseModel], records: Iterable[FieldRecord]) -> None:
        super().__init__(records)
        self.model = model
        self.import_path = _import_path(model)

    def _title(self) -> str:
        return f"{self.import_path}: {len(self)} fields"

    def __repr__(self) -> str:
        table = [_FIELD_COLUMNS, *(_cells(r) for r in self)]
        widths = [max(len(row[i]) for row in table) for i in range(len(_FIELD_COLUMNS))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        return self._title() + "\n" + "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in _FIELD_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in _cells(r)) + "</tr>" for r in self
        )
        return (
            f"{_STYLE}<p><code>{_e(self._title())}</code></p><table class='lso-table'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _cells(record: FieldRecord) -> tuple[str, str, str, str]:
    return (record.name, record.wire_name, record.type, "yes" if record.required else "")


def _import_path(model: type[BaseModel]) -> str:
    """`from <public module> import <class>` for a generated model, else module.class."""
    module = model.__module__
    if module.startswith("lso_client._generated.payloads."):
        from .payloads import _public_module

        module = _public_module(module)
    elif module.startswith("lso_client._generated."):
        module = "lso_client.types." + module.removeprefix("lso_client._generated.")
    else:
        return f"{module}.{model.__qualname__}"
    return f"from {module} import {model.__qualname__}"


def describe(model: type[BaseModel]) -> FieldTable:
    """The fields of a model class, as a `FieldTable`."""
    return FieldTable(
        model,
        (
            FieldRecord(
                name=name,
                wire_name=info.alias or name,
                type=type_text(info.annotation),
                required=info.is_required(),
            )
            for name, info in model.model_fields.items()
        ),
    )


def class_html(model: type[BaseModel]) -> str:
    """The field table of a model class, as HTML."""
    return describe(model)._repr_html_()


def type_text(annotation: Any) -> str:
    """A field's type as a reader wants it: `str | None`, `list[ServiceOrderItem]`,
    `datetime`, the enum's or model's class name, a literal's values."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is Union or origin is types.UnionType:
        parts = _unique(type_text(arg) for arg in args if arg is not type(None))
        if type(None) in args:
            parts.append("None")
        return " | ".join(parts)
    if origin is Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (list, Sequence, set, frozenset, tuple) and args:
        return f"{getattr(origin, '__name__', 'list')}[{', '.join(type_text(a) for a in args)}]"
    if origin is dict and args:
        return f"dict[{type_text(args[0])}, {type_text(args[1])}]"
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    if isinstance(annotation, type):
        if annotation.__name__ == "AwareDatetime" or issubclass(annotation, datetime):
            return "datetime"
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _unique(texts: Iterator[str] | Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        if text not in found:
            found.append(text)
    return found


class HtmlRepr:
    """`_repr_html_` of a model class and of its instances: on the class (a notebook
    showing `lso_client.model(...)`) the field table, on an instance its field values."""

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return types.MethodType(class_html, owner)
        return types.MethodType(model_html, instance)
