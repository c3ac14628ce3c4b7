"""Minimal valid JSON instances of the schemas in a bundled, patched OpenAPI 3.0 document.

The conformance tests send these to Prism, which validates them against the same document,
so everything here follows the JSON Schema semantics of OpenAPI 3.0 as the MEF specs use it:

* `$ref` (local, `#/...`), `allOf` (merged into one object shape), `oneOf`/`anyOf` (the first
  option that can be built, merged with the schema around it; an option that only adds
  `required` names constrains the parent), discriminators (`@type` set to the mapping key of
  the chosen schema, or to the schema's name where the mapping is implicit);
* only required properties, unless `fill_optional` (then optional ones too, as far as they do
  not recurse or turn a `oneOf` ambiguous);
* `enum` (first value), formats, `minItems`/`maxItems`, `minLength`/`maxLength`,
  `minProperties` (the first optional properties in declared order),
  `minimum`/`maximum` (with the boolean `exclusive*` of OpenAPI 3.0);
* `pattern`: no pattern occurs in the pinned specs; a schema with one that has no known
  matching value is refused rather than answered with a value that may not match.

Everything is deterministic: the same document and schema give the same instance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any

__all__ = [
    "DATE",
    "DATE_TIME",
    "EMAIL",
    "KNOWN_PATTERNS",
    "URI",
    "InstanceBuilder",
    "UnsupportedSchema",
    "iter_schemas",
    "minimal_instance",
    "operation_schemas",
    "query_value",
]

DATE_TIME = "2026-01-01T00:00:00Z"
DATE = "2026-01-01"
URI = "https://example.com/x"
EMAIL = "buyer@example.com"
QUERY_DATE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
QUERY_DATE = date(2026, 1, 1)

# A value known to match each pattern a pinned spec uses (none do today).
KNOWN_PATTERNS: dict[str, str] = {}

_FORMATS = {
    "date-time": DATE_TIME,
    "date": DATE,
    "uri": URI,
    "uri-reference": URI,
    "url": URI,
    "uri-template": URI,
    "email": EMAIL,
}
# Keys of a merged object shape that a `oneOf` option or `allOf` part may contribute.
_COMBINED = ("allOf", "oneOf", "anyOf")
# Private key of a merged shape: properties that would make a `oneOf` ambiguous.
_EXCLUDED = "x-lso-excluded"


class UnsupportedSchema(ValueError):
    """The schema has no instance this builder can produce (recursion, unknown pattern...)."""


class InstanceBuilder:
    """Builds instances of the schemas of one document.

    `fill_optional` also fills optional properties (and gives optional arrays one item).
    `read_only=False` leaves out `readOnly` properties, as in a request body.
    """

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        fill_optional: bool = False,
        read_only: bool = True,
    ) -> None:
        self.document = document
        self.fill_optional = fill_optional
        self.read_only = read_only

    # -- references ------------------------------------------------------------------------

    def lookup(self, ref: str) -> Mapping[str, Any]:
        """The node `ref` (a local JSON pointer such as `#/components/schemas/X`) names."""
        if not ref.startswith("#/"):
            raise UnsupportedSchema(f"only local references are supported, not {ref!r}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[part]
            except (KeyError, TypeError):
                raise UnsupportedSchema(f"unresolvable reference {ref!r}") from None
        if not isinstance(node, Mapping):
            raise UnsupportedSchema(f"{ref!r} is not an object")
        return node

    def resolve(self, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """Follow `$ref`s; returns the target and the name of the last schema referenced."""
        name = None
        seen: set[str] = set()
        while "$ref" in schema:
            ref = str(schema["$ref"])
            if ref in seen:
                raise UnsupportedSchema(f"circular reference {ref!r}")
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            schema = self.lookup(ref)
        return schema, name

    def schema(self, name: str) -> Mapping[str, Any]:
        return self.lookup(f"#/components/schemas/{name}")

    # -- building --------------------------------------------------------------------------

    def build(self, schema: Mapping[str, Any]) -> Any:
        """A minimal valid instance of `schema` (a schema of this document, or a `$ref`)."""
        return self._build(schema, None, ())

    def _build(self, schema: Mapping[str, Any], name: str | None, stack: tuple[str, ...]) -> Any:
        resolved, ref_name = self.resolve(schema)
        if ref_name is not None:
            if ref_name in stack:
                raise UnsupportedSchema(f"{ref_name} requires itself: {' > '.join(stack)}")
            name, stack = ref_name, (*stack, ref_name)
        if any(key in resolved for key in _COMBINED) or "discriminator" in resolved:
            return self._build_combined(resolved, name, stack)
        return self._build_plain(resolved, name, stack)

    def _build_combined(
        self, schema: Mapping[str, Any], name: str | None, stack: tuple[str, ...]
    ) -> Any:
        merged = self.merged_shape(schema)
        options = merged.pop("oneOf", None) or merged.pop("anyOf", None)
        discriminator = merged.get("discriminator")
        mapping: dict[str, str] = dict((discriminator or {}).get("mapping", {}))
        if options is None and mapping and name not in _mapping_names(mapping):
            # A base schema whose discriminator maps to subtypes (`allOf: [base, ...]`):
            # an instance has to be one of them, as the `@type` value decides.
            options = [{"$ref": ref} for ref in mapping.values()]
            merged = {}
        if options is None:
            return self._finish(merged, name, stack)
        failures = []
        for index, option in enumerate(options):
            others = [o for i, o in enumerate(options) if i != index]
            try:
                return self._build_option(merged, option, others, name, stack)
            except UnsupportedSchema as exc:
                failures.append(str(exc))
        raise UnsupportedSchema(f"no option of {name or 'a oneOf'} can be built: {failures}")

    def _build_option(
        self,
        parent: dict[str, Any],
        option: Mapping[str, Any],
        others: list[Mapping[str, Any]],
        name: str | None,
        stack: tuple[str, ...],
    ) -> Any:
        resolved, option_name = self.resolve(option)
        if option_name is not None:
            if option_name in stack:
                raise UnsupportedSchema(f"{option_name} requires itself")
            stack = (*stack, option_name)
        shape = self.merged_shape(resolved)
        nested = shape.pop("oneOf", None) or shape.pop("anyOf", None)
        combined = _merge(parent, shape)
        if nested is not None:
            combined["oneOf"] = nested
        if option_name is None:
            # `required`-only options (`oneOf: [{required: [a, b]}, {required: [a, c]}]`)
            # constrain the parent: leave out what only the other options require.
            own = set(shape.get("required", ()))
            excluded = {r for o in others for r in self.resolve(o)[0].get("required", ())}
            combined[_EXCLUDED] = sorted(excluded - own)
        label = option_name or name
        if "oneOf" in combined:
            return self._build_combined(combined, label, stack)
        return self._finish(combined, label, stack)

    def merged_shape(
        self, schema: Mapping[str, Any], chain: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """`schema` with its `allOf` parts (recursively) merged into one shape."""
        own = {k: v for k, v in schema.items() if k != "allOf"}
        merged: dict[str, Any] = {}
        for part in schema.get("allOf", ()):
            resolved, part_name = self.resolve(part)
            if part_name is not None and part_name in chain:
                raise UnsupportedSchema(f"{part_name} extends itself")
            inner = (*chain, part_name) if part_name else chain
            merged = _merge(merged, self.merged_shape(resolved, inner))
        return _merge(merged, own)

    def _finish(self, shape: Mapping[str, Any], name: str | None, stack: tuple[str, ...]) -> Any:
        value = self._build_plain(shape, name, stack)
        discriminator = shape.get("discriminator")
        if isinstance(value, dict) and discriminator:
            prop = discriminator["propertyName"]
            mapping = discriminator.get("mapping", {})
            keys = [k for k, ref in mapping.items() if ref.rsplit("/", 1)[-1] == name]
            if keys:
                value[prop] = keys[0]
            elif name is not None and not _enum_of(self, shape, prop):
                # Implicit mapping: the value names the schema.
                value[prop] = name
        return value

    def _build_plain(
        self, schema: Mapping[str, Any], name: str | None, stack: tuple[str, ...]
    ) -> Any:
        if "enum" in schema:
            values = schema["enum"]
            if not values:
                raise UnsupportedSchema(f"{name}: empty enum")
            return values[0]
        kind = schema.get("type")
        if kind is None:
            kind = "object" if "properties" in schema or "required" in schema else None
        if kind == "object":
            return self._build_object(schema, name, stack)
        if kind == "array":
            return self._build_array(schema, name, stack)
        if kind == "string":
            return _string(schema, name)
        if kind in ("integer", "number"):
            return _number(schema)
        if kind == "boolean":
            return False
        if kind is None:
            return {}  # an unconstrained schema: any value, an object is the useful one
        raise UnsupportedSchema(f"{name}: unknown type {kind!r}")

    def _build_object(
        self, schema: Mapping[str, Any], name: str | None, stack: tuple[str, ...]
    ) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", ())))
        excluded = set(schema.get(_EXCLUDED, ()))
        value: dict[str, Any] = {}
        for prop in required:
            if prop not in properties:
                raise UnsupportedSchema(f"{name}: required {prop!r} is not a property")
            prop_schema = properties[prop]
            if not self.read_only and self.resolve(prop_schema)[0].get("readOnly"):
                continue
            value[prop] = self._build(prop_schema, None, stack)
        wanted = int(schema.get("minProperties", 0))
        for prop, prop_schema in properties.items():
            if not self.fill_optional and len(value) >= wanted:
                break
            if prop in value or prop in excluded or prop in required:
                continue
            resolved = self.resolve(prop_schema)[0]
            if not self.read_only and resolved.get("readOnly"):
                continue
            try:
                value[prop] = self._build(prop_schema, None, stack)
            except UnsupportedSchema:
                continue  # recursive or unbuildable optional parts stay absent
        if len(value) < wanted:
            raise UnsupportedSchema(f"{name}: fewer than minProperties={wanted} can be built")
        return value

    def _build_array(
        self, schema: Mapping[str, Any], name: str | None, stack: tuple[str, ...]
    ) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        count = max(low, 1) if self.fill_optional else low
        if high is not None:
            count = min(count, int(high))
        if count == 0:
            return []
        items = schema.get("items", {})
        if schema.get("uniqueItems") and count > 1:
            options = self.resolve(items)[0].get("enum", [])
            if len(options) < count:
                raise UnsupportedSchema(f"{name}: {count} unique items needed")
            return list(options[:count])
        try:
            item = self._build(items, None, stack)
        except UnsupportedSchema:
            if low:
                raise
            return []
        return [item for _ in range(count)]


def _mapping_names(mapping: Mapping[str, str]) -> set[str]:
    return {ref.rsplit("/", 1)[-1] for ref in mapping.values()}


def _enum_of(builder: InstanceBuilder, shape: Mapping[str, Any], prop: str) -> list[Any]:
    prop_schema = shape.get("properties", {}).get(prop)
    if prop_schema is None:
        return []
    return list(builder.resolve(prop_schema)[0].get("enum", []))


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """One schema holding the constraints of both (object shapes, as the MEF specs use)."""
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties":
            merged[key] = {**merged.get(key, {}), **value}
        elif key in ("required", _EXCLUDED):
            merged[key] = list(dict.fromkeys([*merged.get(key, ()), *value]))
        elif key == "discriminator" and key in merged:
            mapping = {**merged[key].get("mapping", {}), **value.get("mapping", {})}
            merged[key] = {**merged[key], **value, "mapping": mapping}
        elif key in ("description", "title", "example"):
            continue
        else:
            merged[key] = value
    return merged


def _string(schema: Mapping[str, Any], name: str | None) -> str:
    pattern = schema.get("pattern")
    if pattern is not None:
        if pattern not in KNOWN_PATTERNS:
            raise UnsupportedSchema(f"{name}: no known value matches pattern {pattern!r}")
        return KNOWN_PATTERNS[pattern]
    text = _FORMATS.get(str(schema.get("format", "")), "x")
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None and len(text) > int(high):
        if "format" in schema:
            raise UnsupportedSchema(f"{name}: a {schema['format']} needs more than {high} chars")
        text = text[: int(high)]
    return text


def _number(schema: Mapping[str, Any]) -> int | float:
    value: int | float = 1
    step = 1 if schema.get("type") == "integer" else 0.5
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and (value < low or (value == low and schema.get("exclusiveMinimum"))):
        value = low + step if schema.get("exclusiveMinimum") else low
    if high is not None and (value > high or (value == high and schema.get("exclusiveMaximum"))):
        value = high - step if schema.get("exclusiveMaximum") else high
    if low is not None and value < low:
        raise UnsupportedSchema(f"empty range [{low}, {high}]")
    return value


def minimal_instance(
    document: Mapping[str, Any],
    schema: Mapping[str, Any],
    *,
    fill_optional: bool = False,
    read_only: bool = True,
) -> Any:
    """A minimal valid instance of `schema` in `document` (see the module docstring)."""
    builder = InstanceBuilder(document, fill_optional=fill_optional, read_only=read_only)
    return builder.build(schema)


def query_value(document: Mapping[str, Any], schema: Mapping[str, Any]) -> object:
    """A valid value of a query parameter, typed as the SDK's keyword arguments take it:
    `datetime` (with UTC offset) for `date-time`, `date`, `int`, `bool`, enum values and
    other strings as `str`."""
    resolved, _ = InstanceBuilder(document).resolve(schema)
    if "enum" in resolved:
        return str(resolved["enum"][0])
    kind = resolved.get("type")
    if kind == "string":
        fmt = resolved.get("format")
        if fmt == "date-time":
            return QUERY_DATE_TIME
        if fmt == "date":
            return QUERY_DATE
        return _string(resolved, None)
    if kind == "integer":
        return int(_number(resolved))
    if kind == "number":
        return _number(resolved)
    if kind == "boolean":
        return True
    raise UnsupportedSchema(f"no query value for a parameter of type {kind!r}")


def operation_schemas(
    document: Mapping[str, Any], path: str, method: str
) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
    """The JSON request body schema (None if the operation takes no body) and the
    parameters (references resolved) of the operation `method path`."""
    builder = InstanceBuilder(document)
    item = document["paths"][path]
    operation = item[method.lower()]
    parameters = [
        builder.resolve(p)[0]
        for p in (*item.get("parameters", ()), *operation.get("parameters", ()))
    ]
    body = operation.get("requestBody")
    if body is None:
        return None, parameters
    body, _ = builder.resolve(body)
    content = body.get("content", {})
    # Some notification specs declare `*/*`, which JSON satisfies too.
    for media_type in sorted(content, key=lambda t: "json" not in t):
        if "json" in media_type or media_type == "*/*":
            return content[media_type]["schema"], parameters
    raise UnsupportedSchema(f"{method} {path} takes no JSON body")


def iter_schemas(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping in `node` (a document or part of it), depth first."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from iter_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_schemas(value)
