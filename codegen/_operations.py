"""Reading operations and notifications out of a document, and writing the catalog,
resource and client modules from them."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from ._models import schema_class
from ._spec import ApiEntry

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
REFERENCE_POINTS = ("allegro", "interlude", "legato")


@dataclass
class Param:
    name: str  # as on the wire
    python_name: str
    location: str  # "path" or "query"
    required: bool
    annotation: str  # Python type, in terms of the model module imported as `m`


@dataclass
class OperationInfo:
    module: str
    operation_id: str
    method: str
    path: str
    params: list[Param]
    request_model: str | None
    response_model: str | None
    response_is_list: bool
    success_status: int
    paginated: bool
    error_statuses: tuple[int, ...] = ()  # the 4xx/5xx statuses the operation declares
    # Other media types the success answer comes in (AsyncAPI for a subscription listing).
    forms: tuple[str, ...] = ()


@dataclass
class ApiInfo:
    entry: ApiEntry
    title: str
    classes: set[str]
    operations: list[OperationInfo] = field(default_factory=list)
    events: dict[str, str] = field(default_factory=dict)  # eventType -> class name


def python_name(name: str) -> str:
    name = name.lstrip("@")
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    if keyword.iskeyword(name) or name in {"options", "self"}:
        name += "_"
    return name


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return ref.rsplit("/", 1)[-1]
    return None


def _json_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    for media, body in content.items():
        if "json" in media or media == "*/*":
            schema: dict[str, Any] | None = body.get("schema")
            return schema
    return None


def _resolve_param(doc: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    name = _ref_name(param) if "$ref" in param else None
    if name is None and "$ref" in param:
        return dict(doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]])
    return param


def _annotation(schema: dict[str, Any], classes: set[str]) -> str:
    ref = _ref_name(schema)
    if ref is not None:
        return f"m.{schema_class(ref, classes)} | str"
    kind = schema.get("type")
    if kind == "array":
        return f"Sequence[{_annotation(schema.get('items', {}), classes)}]"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "string" and schema.get("format") == "date-time":
        return "datetime"
    return "str"


def read_api(entry: ApiEntry, doc: dict[str, Any], classes: set[str]) -> ApiInfo:
    info = ApiInfo(entry=entry, title=str(doc.get("info", {}).get("title", "")), classes=classes)
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            if entry.role == "notification":
                body = _json_schema(op.get("requestBody", {}).get("content", {})) or {}
                ref = _ref_name(body)
                if ref is not None:
                    info.events[path.rstrip("/").rsplit("/", 1)[-1]] = schema_class(ref, classes)
                continue
            info.operations.append(_read_operation(entry, doc, path, method, op, shared, classes))
    return info


def _read_operation(
    entry: ApiEntry,
    doc: dict[str, Any],
    path: str,
    method: str,
    op: dict[str, Any],
    shared: list[dict[str, Any]],
    classes: set[str],
) -> OperationInfo:
    params: list[Param] = []
    names = set()
    for raw in [*shared, *op.get("parameters", [])]:
        param = _resolve_param(doc, raw)
        if param["in"] not in ("path", "query"):
            continue
        names.add(param["name"])
        params.append(
            Param(
                name=param["name"],
                python_name=python_name(param["name"]),
                location=param["in"],
                required=bool(param.get("required")) or param["in"] == "path",
                annotation=_annotation(param.get("schema", {}), classes),
            )
        )
    request_model = None
    body = _json_schema(op.get("requestBody", {}).get("content", {}))
    if body is not None:
        ref = _ref_name(body)
        if ref is None:
            raise ValueError(f"{entry.module} {op['operationId']}: inline request body")
        request_model = schema_class(ref, classes)
    response_model, is_list, status = None, False, 204
    forms: tuple[str, ...] = ()
    for code in sorted(op.get("responses", {})):
        if not str(code).startswith("2"):
            continue
        status = int(code)
        content = op["responses"][code].get("content", {})
        schema = _json_schema(content)
        if schema is None:
            continue
        forms = tuple(media for media, body in content.items() if body.get("schema") != schema)
        if schema.get("type") == "array":
            is_list = True
            schema = schema.get("items", {})
        ref = _ref_name(schema)
        response_model = schema_class(ref, classes) if ref else None
        break
    return OperationInfo(
        module=entry.module,
        operation_id=op["operationId"],
        method=method.upper(),
        path=path,
        params=params,
        request_model=request_model,
        response_model=response_model,
        response_is_list=is_list,
        success_status=status,
        paginated=method == "get" and {"offset", "limit"} <= names,
        error_statuses=tuple(
            sorted(int(code) for code in op.get("responses", {}) if str(code)[:1] in ("4", "5"))
        ),
        forms=forms,
    )
