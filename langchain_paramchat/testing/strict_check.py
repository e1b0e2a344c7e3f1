"""Check a JSON schema against the subset OpenAI accepts with ``strict: true``.

The rules follow OpenAI's Structured Outputs guide, section "Supported schemas": the root is
an object (never ``anyOf``); every object sets ``additionalProperties: false`` and lists every
property in ``required``; only the documented keywords appear; ``$ref`` points inside the
schema and stands alone; size limits hold. A real API rejects a schema that breaks one of
these with a 400, so the fake server does the same.
"""

from __future__ import annotations

from typing import Any

__all__ = ["strict_schema_errors"]

_TYPES = frozenset({"string", "number", "boolean", "integer", "object", "array", "null"})
_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_STRUCTURE = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf"}
)
_REFERENCES = frozenset({"$ref", "$defs", "definitions"})
_ANNOTATIONS = frozenset({"title", "description"})
_STRING_KEYWORDS = frozenset({"pattern", "format"})
_NUMBER_KEYWORDS = frozenset(
    {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}
)
_ARRAY_KEYWORDS = frozenset({"minItems", "maxItems"})
SUPPORTED_KEYWORDS = (
    _STRUCTURE | _REFERENCES | _ANNOTATIONS | _STRING_KEYWORDS | _NUMBER_KEYWORDS | _ARRAY_KEYWORDS
)

MAX_PROPERTIES = 5000
MAX_OBJECT_DEPTH = 10
MAX_ENUM_VALUES = 1000
MAX_TOTAL_STRING_LENGTH = 120_000
LARGE_ENUM = 250
MAX_LARGE_ENUM_STRING_LENGTH = 15_000


def strict_schema_errors(schema: Any, *, allow_default: bool = False) -> list[str]:
    """Return every way ``schema`` breaks OpenAI's strict-mode rules (empty when it is fine).

    ``default`` is rejected unless ``allow_default``: the guide does not list it, Azure OpenAI
    refuses it, while api.openai.com has been seen to accept it.
    """
    if not isinstance(schema, dict):
        return [f"$: the schema must be an object, got {type(schema).__name__}"]
    walker = _Walker(schema, allow_default)
    if "anyOf" in schema:
        walker.errors.append("$: the root schema must not be 'anyOf'")
    if schema.get("type") != "object":
        walker.errors.append(
            f"$: the root schema must have type 'object', got {schema.get('type')!r}"
        )
    walker.walk(schema, "$", depth=0)
    if walker.properties > MAX_PROPERTIES:
        walker.errors.append(
            f"$: {walker.properties} object properties in total; at most {MAX_PROPERTIES} allowed"
        )
    if walker.enum_values > MAX_ENUM_VALUES:
        walker.errors.append(
            f"$: {walker.enum_values} enum values in total; at most {MAX_ENUM_VALUES} allowed"
        )
    if walker.string_length > MAX_TOTAL_STRING_LENGTH:
        walker.errors.append(
            f"$: property names, definition names, enum and const values total "
            f"{walker.string_length} characters; at most {MAX_TOTAL_STRING_LENGTH} allowed"
        )
    return walker.errors


class _Walker:
    def __init__(self, root: dict[str, Any], allow_default: bool) -> None:
        self.root = root
        self.allow_default = allow_default
        self.errors: list[str] = []
        self.properties = 0
        self.enum_values = 0
        self.string_length = 0

    def walk(self, node: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict):
            self.errors.append(f"{path}: expected a schema object, got {node!r}")
            return
        for key in node:
            if key == "default":
                if not self.allow_default:
                    self.errors.append(f"{path}: 'default' is not supported in strict mode")
            elif key not in SUPPORTED_KEYWORDS:
                self.errors.append(f"{path}: keyword {key!r} is not supported in strict mode")
        if "$ref" in node:
            self._walk_ref(node, path)
        for defs_key in ("$defs", "definitions"):
            defs = node.get(defs_key)
            if defs is None:
                continue
            if not isinstance(defs, dict):
                self.errors.append(f"{path}.{defs_key}: expected an object of schemas")
                continue
            for name, sub in defs.items():
                self.string_length += len(name)
                self.walk(sub, f"{path}.{defs_key}.{name}", depth)
        types = self._types(node, path)
        if "format" in node and node["format"] not in _FORMATS:
            self.errors.append(
                f"{path}: format {node['format']!r} is not supported; use one of "
                + ", ".join(sorted(_FORMATS))
            )
        self._walk_enum(node, path)
        if "anyOf" in node:
            branches = node["anyOf"]
            if not isinstance(branches, list) or not branches:
                self.errors.append(f"{path}.anyOf: expected a non-empty list of schemas")
            else:
                for i, branch in enumerate(branches):
                    self.walk(branch, f"{path}.anyOf[{i}]", depth)
        if "object" in types or "properties" in node:
            self._walk_object(node, path, depth + 1)
        if "array" in types or "items" in node:
            items = node.get("items")
            if items is None:
                self.errors.append(f"{path}: an array schema must define 'items'")
            else:
                self.walk(items, f"{path}.items", depth)

    def _types(self, node: dict[str, Any], path: str) -> set[str]:
        raw = node.get("type")
        if raw is None:
            return set()
        names = raw if isinstance(raw, list) else [raw]
        valid = set()
        for name in names:
            if name in _TYPES:
                valid.add(name)
            else:
                self.errors.append(f"{path}: type {name!r} is not supported")
        return valid

    def _walk_enum(self, node: dict[str, Any], path: str) -> None:
        if "const" in node and isinstance(node["const"], str):
            self.string_length += len(node["const"])
        if "enum" not in node:
            return
        values = node["enum"]
        if not isinstance(values, list) or not values:
            self.errors.append(f"{path}.enum: expected a non-empty list")
            return
        self.enum_values += len(values)
        text = sum(len(v) for v in values if isinstance(v, str))
        self.string_length += text
        if len(values) > LARGE_ENUM and text > MAX_LARGE_ENUM_STRING_LENGTH:
            self.errors.append(
                f"{path}.enum: {len(values)} values totalling {text} characters; an enum of more "
                f"than {LARGE_ENUM} values may total at most {MAX_LARGE_ENUM_STRING_LENGTH}"
            )

    def _walk_object(self, node: dict[str, Any], path: str, depth: int) -> None:
        if depth > MAX_OBJECT_DEPTH:
            self.errors.append(f"{path}: objects nest {depth} deep; at most {MAX_OBJECT_DEPTH}")
        if node.get("additionalProperties") is not False:
            self.errors.append(f"{path}: 'additionalProperties' must be set to false")
        props = node.get("properties", {})
        if not isinstance(props, dict):
            self.errors.append(f"{path}.properties: expected an object of schemas")
            return
        required = node.get("required", [])
        if not isinstance(required, list):
            self.errors.append(f"{path}.required: expected a list of property names")
            required = []
        missing = [name for name in props if name not in required]
        if missing:
            names = ", ".join(map(repr, missing))
            self.errors.append(f"{path}.required: must list every property; missing {names}")
        unknown = [name for name in required if name not in props]
        if unknown:
            self.errors.append(
                f"{path}.required: names {', '.join(map(repr, unknown))} not in 'properties'"
            )
        self.properties += len(props)
        for name, sub in props.items():
            self.string_length += len(name)
            self.walk(sub, f"{path}.properties.{name}", depth)

    def _walk_ref(self, node: dict[str, Any], path: str) -> None:
        ref = node["$ref"]
        siblings = sorted(k for k in node if k != "$ref")
        if siblings:
            self.errors.append(
                f"{path}: '$ref' must stand alone; move {', '.join(map(repr, siblings))} "
                "into the referenced definition"
            )
        if not isinstance(ref, str) or not ref.startswith("#"):
            self.errors.append(f"{path}.$ref: {ref!r} must point inside the schema ('#...')")
            return
        target: Any = self.root
        for part in (p for p in ref[1:].split("/") if p):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            else:
                self.errors.append(f"{path}.$ref: {ref!r} does not resolve")
                return
