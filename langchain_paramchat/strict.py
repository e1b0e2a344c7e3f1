"""Compile JSON schemas to the subset OpenAI accepts with ``strict: true``.

Source for every rule below: OpenAI's Structured Outputs guide, section "Supported schemas"
(https://developers.openai.com/api/docs/guides/structured-outputs#supported-schemas), which the
function-calling guide points to for ``strict`` tools.

What :func:`make_strict` does to a schema:

- Every object gets ``additionalProperties: false`` and lists every property in ``required``
  ("All fields must be required"; "additionalProperties: false must always be set").
- A property that was optional becomes nullable ("emulate an optional parameter by using a
  union type with null"): scalars get ``"null"`` added to ``type``; objects, arrays, ``$ref``,
  ``anyOf``, ``enum`` and ``const`` schemas are wrapped as ``anyOf: [<schema>, {"type": "null"}]``.
  Its ``default`` is removed: the model must now always send the field, and an optional field
  comes back as ``null`` when the model has nothing to say. Code that parses the arguments into
  the original type should read ``null`` as "use the default".
- Removed because they only annotate (every value the result admits, the input admits too):
  ``title``, ``default``, ``examples``, ``example``, ``$comment``, ``$schema``, ``readOnly``,
  ``writeOnly``, ``deprecated``, ``contentMediaType``, ``contentEncoding``, ``x-*`` extensions,
  and a ``format`` outside the supported list (JSON Schema treats ``format`` as an annotation;
  e.g. pydantic's ``uri``, ``binary``, ``path``).
- Removed although it constrains: ``uniqueItems`` (not in the supported list; Python ``set``
  fields, its usual source, deduplicate when parsed).
- Rewritten without changing meaning: ``allOf`` with one entry (pydantic's wrapper for a described
  ``$ref``) is merged into its parent; a ``$ref`` with sibling keywords is inlined (or, when the
  property is optional, becomes ``anyOf: [{"$ref"}, null]`` with the siblings beside it); a root
  ``$ref`` (pydantic's shape for recursive models) is inlined; ``definitions`` becomes ``$defs``;
  ``oneOf`` carrying a ``discriminator`` (pydantic's tagged unions, whose branches exclude each
  other) becomes ``anyOf``; an object with fixed properties and ``additionalProperties`` true or a
  schema is narrowed to ``false``; unused ``$defs`` are dropped.
- Rejected with :class:`~langchain_paramchat.errors.ToolSchemaError` naming the JSON path and the
  fix: a root that is not an object or is ``anyOf``; free-form objects (no fixed properties, e.g.
  ``dict[str, Any]``, ``dict[str, int]``); schemas with no type (``Any``); boolean schemas;
  ``allOf`` with several entries, ``oneOf`` without a discriminator, ``not``, ``if``/``then``/
  ``else``, ``dependentRequired``, ``dependentSchemas`` ("Some type-specific keywords are not yet
  supported"); tuples (``prefixItems``); ``patternProperties``, ``propertyNames``,
  ``min/maxProperties``, ``contains``, ``unevaluated*``; refs other than ``#`` and
  ``#/$defs/<name>``; any keyword not named above; and schemas over the documented size limits.

Kept as supported: ``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``anyOf``, ``enum``, ``const``, ``description``, ``$ref``, ``$defs``, ``pattern``, ``format``
(supported values), ``multipleOf``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``minItems``, ``maxItems``, and ``minLength``/``maxLength`` (the guide lists
these two only among keywords "not yet supported for fine-tuned models", so base models take them).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_paramchat.errors import ToolSchemaError

__all__ = [
    "MAX_ENUM_VALUES",
    "MAX_LARGE_ENUM_CHARS",
    "MAX_NESTING_DEPTH",
    "MAX_PROPERTIES",
    "MAX_TOTAL_STRING_CHARS",
    "SUPPORTED_FORMATS",
    "check_depth",
    "inline_root_ref",
    "make_strict",
    "strict_errors",
]

# Limits quoted from the guide's "Supported schemas" section (read 2026; they were raised in
# mid-2025 from 100 properties / 5 levels / 500 enum values / 15,000 characters, so older
# figures still circulate):
# "A schema may have up to 5000 object properties total, with up to 10 levels of nesting."
MAX_PROPERTIES = 5000
MAX_NESTING_DEPTH = 10
# "total string length of all property names, definition names, enum values, and const values
# cannot exceed 120,000 characters."
MAX_TOTAL_STRING_CHARS = 120_000
# "A schema may have up to 1000 enum values across all enum properties."
MAX_ENUM_VALUES = 1000
# "For a single enum property with string values, the total string length of all enum values
# cannot exceed 15,000 characters when there are more than 250 enum values."
MAX_LARGE_ENUM_CHARS = 15_000
LARGE_ENUM_VALUES = 250

SUPPORTED_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_KEPT = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "description",
        "$ref",
        "$defs",
        "pattern",
        "format",
        "multipleOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
    }
)
_ANNOTATIONS = frozenset(
    {
        "title",
        "default",
        "examples",
        "example",
        "$comment",
        "$schema",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentMediaType",
        "contentEncoding",
        "uniqueItems",
    }
)
_UNSUPPORTED_COMPOSITION = (
    "is not supported in strict mode (OpenAI lists allOf, not, dependentRequired, "
    "dependentSchemas, if, then and else as unsupported); simplify the schema or use strict=False"
)
_REJECTED = {
    "not": _UNSUPPORTED_COMPOSITION,
    "if": _UNSUPPORTED_COMPOSITION,
    "then": _UNSUPPORTED_COMPOSITION,
    "else": _UNSUPPORTED_COMPOSITION,
    "dependentRequired": _UNSUPPORTED_COMPOSITION,
    "dependentSchemas": _UNSUPPORTED_COMPOSITION,
    "dependencies": _UNSUPPORTED_COMPOSITION,
    "prefixItems": (
        "is not supported in strict mode, so tuples cannot be expressed; use a list "
        "(list[X]) or a model with named fields, or use strict=False"
    ),
    "additionalItems": "is not supported in strict mode; use a list (list[X]) or strict=False",
    "patternProperties": (
        "is not supported in strict mode; objects need fixed properties. "
        "Give it fixed properties or use strict=False"
    ),
    "propertyNames": (
        "is not supported in strict mode; objects need fixed properties. "
        "Give it fixed properties or use strict=False"
    ),
    "unevaluatedProperties": "is not supported in strict mode; use strict=False",
    "unevaluatedItems": "is not supported in strict mode; use strict=False",
    "minProperties": (
        "is not supported in strict mode (every property is always present); "
        "remove it or use strict=False"
    ),
    "maxProperties": (
        "is not supported in strict mode (every property is always present); "
        "remove it or use strict=False"
    ),
    "contains": "is not supported in strict mode; remove it or use strict=False",
    "minContains": "is not supported in strict mode; remove it or use strict=False",
    "maxContains": "is not supported in strict mode; remove it or use strict=False",
}
_FREE_FORM = (
    "free-form objects are not allowed in strict mode; give it fixed properties or use strict=False"
)
_MAPPING = (
    "objects with arbitrary keys (additionalProperties: <schema>, e.g. dict[str, int]) are not "
    "allowed in strict mode; give it fixed properties (a model) or use strict=False"
)
_NO_TYPE = (
    "a schema without a type accepts any value, which strict mode does not allow; "
    "give it a type (e.g. str, int, a model) or use strict=False"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MISSING = object()


MAX_JSON_DEPTH = 100
"""How deep any schema ParamChat handles may nest (JSON levels); deeper is refused up front."""


def check_depth(value: Any, *, path: str = "$", limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ``ToolSchemaError`` when ``value`` nests more than ``limit`` JSON levels.

    Iterative, so a hostile schema (250 levels, or a dict that contains itself) fails here
    with a clear error instead of a ``RecursionError`` in a later recursive step.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            raise ToolSchemaError(
                f"the schema nests more than {limit} levels deep; no model needs that much",
                path=path,
            )
        stack.extend((child, depth + 1) for child in children)


def make_strict(schema: dict[str, Any], *, path: str = "$") -> dict[str, Any]:
    """Return a copy of ``schema`` compiled to OpenAI's strict-mode subset.

    ``path`` prefixes the JSON path in errors (e.g. ``tools[get_weather].parameters``).
    Raises ToolSchemaError when the schema cannot be made strict or exceeds a documented limit.
    """
    if not isinstance(schema, dict):
        raise ToolSchemaError(
            f"a strict schema must be a JSON object, got {type(schema).__name__}", path=path
        )
    check_depth(schema, path=path)
    root = inline_root_ref(_rename_definitions(schema, path), path=path)
    defs = root.pop("$defs", {})
    if not isinstance(defs, dict):
        raise ToolSchemaError("$defs must map names to schemas", path=f"{path}.$defs")
    compiler = _Compiler(root=root, defs=defs)
    root_node = {k: v for k, v in root.items() if k not in _ANNOTATIONS}
    if "anyOf" in root_node or "oneOf" in root_node:
        raise ToolSchemaError(
            "the root of a strict schema must not be anyOf (a union); wrap the union in an "
            "object with one field or use strict=False",
            path=path,
        )
    if root_node.get("type", "object" if "properties" in root_node else None) != "object":
        raise ToolSchemaError(
            f"the root of a strict schema must be an object (type: object), got "
            f"{_describe(root_node)}; wrap the value in an object with one field "
            "or use strict=False",
            path=path,
        )
    out = compiler.node(root, path, optional=False)
    compiled_defs: dict[str, Any] = {}
    while pending := [n for n in compiler.used if n not in compiled_defs]:
        for name in pending:
            compiled_defs[name] = compiler.node(
                defs[name], _key_path(f"{path}.$defs", name), optional=False
            )
    if compiled_defs:
        out["$defs"] = {name: compiled_defs[name] for name in defs if name in compiled_defs}
    problems = _violations(out, path)
    if problems:
        where, message = problems[0]
        raise ToolSchemaError(message, path=where)
    return out


def strict_errors(schema: Any, *, path: str = "$") -> list[str]:
    """List every way ``schema`` breaks OpenAI's strict-mode rules, as ``"<path>: <problem>"``."""
    return [f"{where}: {message}" for where, message in _violations(schema, path)]


def inline_root_ref(schema: dict[str, Any], *, path: str = "$") -> dict[str, Any]:
    """Return a copy of ``schema`` whose root ``$ref`` is replaced by the definition it names.

    Pydantic describes a recursive model as ``{"$defs": {...}, "$ref": "#/$defs/Model"}``;
    OpenAI needs the root itself to be the object. The definition stays in ``$defs`` only when
    something still refers to it. Raises ``ToolSchemaError`` when the root ``$ref`` names no
    definition.
    """
    out = copy.deepcopy(schema)
    ref = out.get("$ref")
    if not isinstance(ref, str):
        return out
    key = "$defs" if "$defs" in out else "definitions"
    defs = out.get(key) or {}
    name = _def_name(ref)
    if name is None or name not in defs:
        raise ToolSchemaError(f"$ref {ref!r} does not name a definition in {key}", path=path)
    del out["$ref"]
    siblings = {k: v for k, v in out.items() if k not in (key, *_ANNOTATIONS)}
    merged = {**copy.deepcopy(defs[name]), **out}
    if any(_def_name(r) == name for r in _refs_in(merged)):
        if siblings:
            return merged
        # The root now is that definition, so references to it become root recursion ("#").
        merged = _retarget_refs(merged, name)
    merged[key] = {n: d for n, d in merged[key].items() if n != name}
    if not merged[key]:
        del merged[key]
    return merged


@dataclass
class _Compiler:
    root: dict[str, Any]
    defs: dict[str, Any]
    used: dict[str, None] = field(default_factory=dict)
    inlining: tuple[str, ...] = ()

    def node(self, node: Any, path: str, *, optional: bool) -> dict[str, Any]:
        if isinstance(node, bool) or not isinstance(node, dict):
            raise ToolSchemaError(
                f"{json.dumps(node)} is not a schema strict mode accepts; give it a type "
                "or use strict=False",
                path=path,
            )
        node = self._one_of(node, path)
        node = {k: v for k, v in node.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
        node = _flatten_all_of(node, path)
        if "format" in node and node["format"] not in SUPPORTED_FORMATS:
            del node["format"]
        for key in node:
            if key in ("$defs", "definitions"):
                raise ToolSchemaError(
                    f"{key} is only allowed at the root of a strict schema; move the "
                    "definitions to the root $defs",
                    path=path,
                )
            if key in _REJECTED:
                raise ToolSchemaError(f"{key} {_REJECTED[key]}", path=path)
            if key not in _KEPT:
                raise ToolSchemaError(
                    f"keyword {key!r} is not supported in strict mode; remove it or use "
                    "strict=False",
                    path=path,
                )
        if "$ref" in node:
            return self._ref(node, path, optional=optional)
        out = self._any_of(node, path) if "anyOf" in node else self._typed(node, path)
        return self._nullable(out) if optional else out

    def _one_of(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        if "oneOf" not in node:
            return node
        if "discriminator" not in node:
            raise ToolSchemaError(
                "oneOf is not supported in strict mode; use anyOf (a Union) or strict=False",
                path=path,
            )
        if "anyOf" in node:
            raise ToolSchemaError(
                "a schema with both oneOf and anyOf cannot be made strict; use strict=False",
                path=path,
            )
        # A discriminator makes the branches mutually exclusive, so anyOf admits the same values.
        out = {k: v for k, v in node.items() if k not in ("oneOf", "discriminator")}
        out["anyOf"] = node["oneOf"]
        return out

    def _ref(self, node: dict[str, Any], path: str, *, optional: bool) -> dict[str, Any]:
        ref = node["$ref"]
        name = self._target_name(ref, path)
        ref = "#" if name is None else _def_ref(name)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if not siblings:
            self._use(name)
            bare: dict[str, Any] = {"$ref": ref}
            return self._nullable(bare) if optional else bare
        if optional and set(siblings) == {"description"} and not self._admits_null({"$ref": ref}):
            self._use(name)
            return {"anyOf": [{"$ref": ref}, {"type": "null"}], **siblings}
        if ref in self.inlining:
            # Inlining a definition inside itself never ends; keep the reference and drop the
            # sibling annotations, since OpenAI rejects a $ref with siblings.
            self._use(name)
            bare = {"$ref": ref}
            return self._nullable(bare) if optional else bare
        target = self.root if name is None else self.defs[name]
        merged = _merge(target, siblings, path)
        inner = _Compiler(self.root, self.defs, self.used, (*self.inlining, ref))
        return inner.node(merged, path, optional=optional)

    def _target_name(self, ref: Any, path: str) -> str | None:
        if ref == "#":
            return None
        name = _def_name(ref) if isinstance(ref, str) else None
        if name is None:
            raise ToolSchemaError(
                f"$ref {ref!r} is not supported in strict mode; only '#' and "
                "'#/$defs/<name>' references are",
                path=path,
            )
        if name not in self.defs:
            raise ToolSchemaError(f"$ref {ref!r} names no definition in $defs", path=path)
        return name

    def _use(self, name: str | None) -> None:
        if name is not None:
            self.used.setdefault(name, None)

    def _any_of(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        branches = node["anyOf"]
        if not isinstance(branches, list) or not branches:
            raise ToolSchemaError("anyOf must be a non-empty list of schemas", path=path)
        out = dict(node)
        out["anyOf"] = [
            self.node(b, f"{path}.anyOf[{i}]", optional=False) for i, b in enumerate(branches)
        ]
        return out

    def _typed(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        types = _types(node, path)
        if not types:
            if "properties" in node:
                types = ["object"]
                node = {"type": "object", **node}
            elif "enum" not in node and "const" not in node:
                raise ToolSchemaError(_NO_TYPE, path=path)
        if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
            raise ToolSchemaError("enum must be a non-empty list", path=path)
        out = dict(node)
        if "object" in types:
            out = self._object(out, path)
        if "array" in types:
            items = node.get("items", _MISSING)
            if items is _MISSING:
                raise ToolSchemaError(
                    "an array needs an items schema in strict mode; use list[<type>] "
                    "or strict=False",
                    path=path,
                )
            if isinstance(items, list):
                raise ToolSchemaError(f"items: [...] {_REJECTED['prefixItems']}", path=path)
            out["items"] = self.node(items, f"{path}.items", optional=False)
        return out

    def _object(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        props = node.get("properties", _MISSING)
        extra = node.get("additionalProperties", _MISSING)
        if props is _MISSING or not props:
            if isinstance(extra, dict):
                raise ToolSchemaError(_MAPPING, path=path)
            if extra is True or (props is _MISSING and extra is not False):
                raise ToolSchemaError(_FREE_FORM, path=path)
            props = {}
        if not isinstance(props, dict):
            raise ToolSchemaError("properties must map names to schemas", path=path)
        required = node.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise ToolSchemaError("required must be a list of property names", path=path)
        for name in required:
            if name not in props:
                raise ToolSchemaError(
                    f"required lists {name!r}, which is not in properties; add the property "
                    "or remove it from required",
                    path=path,
                )
        out = {k: v for k, v in node.items() if k not in ("properties", "required")}
        out["properties"] = {
            name: self.node(
                sub, _key_path(f"{path}.properties", name), optional=name not in required
            )
            for name, sub in props.items()
        }
        out["required"] = list(props)
        out["additionalProperties"] = False
        return out

    def _nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._admits_null(schema):
            return schema
        types = _types(schema, "")
        if "enum" in schema and "null" in types:
            # e.g. OpenAI's own example {"type": ["string", "null"], "enum": ["F", "C"]}:
            # null must be an enum member too, or the enum still forbids it.
            return {**schema, "enum": [*schema["enum"], None]}
        if "anyOf" in schema:
            return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
        wrap = (
            "$ref" in schema
            or "enum" in schema
            or "const" in schema
            or not types
            or "object" in types
            or "array" in types
        )
        if wrap:
            inner = {k: v for k, v in schema.items() if k != "description"}
            out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
            if "description" in schema:
                out["description"] = schema["description"]
            return out
        return {**schema, "type": [*types, "null"]}

    def _admits_null(self, schema: dict[str, Any], seen: tuple[str, ...] = ()) -> bool:
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                return False
            name = _def_name(ref) if ref != "#" else None
            if name is None and ref != "#":
                return False
            target = self.root if name is None else self.defs.get(name)
            return isinstance(target, dict) and self._admits_null(target, (*seen, ref))
        if "anyOf" in schema:
            return any(isinstance(b, dict) and self._admits_null(b, seen) for b in schema["anyOf"])
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self._admits_null(schema["allOf"][0], seen)
        if "const" in schema:
            return schema["const"] is None
        if "enum" in schema:
            return None in schema["enum"]
        return "null" in _types(schema, "")


def _types(node: dict[str, Any], path: str) -> list[str]:
    t = node.get("type", _MISSING)
    if t is _MISSING:
        return []
    types = [t] if isinstance(t, str) else t
    if not isinstance(types, list) or not types or any(x not in _JSON_TYPES for x in types):
        raise ToolSchemaError(
            f"type {t!r} is not a JSON Schema type; use one of {sorted(_JSON_TYPES)}", path=path
        )
    return list(types)


def _flatten_all_of(node: dict[str, Any], path: str) -> dict[str, Any]:
    while "allOf" in node:
        entries = node["allOf"]
        if not isinstance(entries, list) or len(entries) != 1:
            raise ToolSchemaError(
                f"allOf with several schemas {_UNSUPPORTED_COMPOSITION}", path=path
            )
        entry = entries[0]
        if not isinstance(entry, dict):
            raise ToolSchemaError("allOf must hold schemas", path=path)
        rest = {k: v for k, v in node.items() if k != "allOf"}
        entry = {k: v for k, v in entry.items() if k not in _ANNOTATIONS}
        node = _merge(entry, rest, path)
    return node


def _merge(base: dict[str, Any], overrides: dict[str, Any], path: str) -> dict[str, Any]:
    """Return ``base`` with ``overrides`` laid over it; only descriptions may differ."""
    out = {k: v for k, v in base.items() if k not in _ANNOTATIONS}
    for key, value in overrides.items():
        if key in out and out[key] != value and key != "description":
            raise ToolSchemaError(
                f"cannot merge a reference with a sibling {key!r} that differs from the "
                "definition's; use strict=False",
                path=path,
            )
        out[key] = value
    return out


def _rename_definitions(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """Return ``schema`` with draft-7 ``definitions`` (pydantic v1) moved to ``$defs``."""
    if "definitions" not in schema:
        return schema
    out = dict(schema)
    legacy = out.pop("definitions")
    current = out.get("$defs") or {}
    if not isinstance(legacy, dict) or set(legacy) & set(current):
        raise ToolSchemaError(
            "definitions must map names to schemas and not repeat a $defs name", path=path
        )
    out["$defs"] = {**current, **legacy}
    return _rewrite_refs(out)


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                "#/$defs/" + v[len("#/definitions/") :]
                if k == "$ref" and isinstance(v, str) and v.startswith("#/definitions/")
                else _rewrite_refs(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


def _retarget_refs(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return {
            k: "#"
            if k == "$ref" and isinstance(v, str) and _def_name(v) == name
            else _retarget_refs(v, name)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_retarget_refs(v, name) for v in value]
    return value


def _def_name(ref: str) -> str | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            if "/" in name:
                return None
            return name.replace("~1", "/").replace("~0", "~")
    return None


def _def_ref(name: str) -> str:
    return "#/$defs/" + name.replace("~", "~0").replace("/", "~1")


def _refs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs_in(v)


def _key_path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if _NAME.fullmatch(name) else f"{prefix}[{json.dumps(name)}]"


def _describe(node: dict[str, Any]) -> str:
    if "type" in node:
        return f"type {node['type']!r}"
    if "$ref" in node:
        return f"$ref {node['$ref']!r}"
    if "enum" in node or "const" in node:
        return "an enum"
    return "a schema without a type"


# ---------------------------------------------------------------------------------------------
# Checking a compiled schema (strict_errors, and make_strict's final guard)


def _violations(schema: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(schema, dict):
        return [(path, "a strict schema must be a JSON object")]
    problems: list[tuple[str, str]] = []
    if "anyOf" in schema:
        problems.append((path, "the root of a strict schema must not be anyOf"))
    if schema.get("type") != "object":
        problems.append((path, "the root of a strict schema must be an object (type: object)"))
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict):
        problems.append((f"{path}.$defs", "$defs must map names to schemas"))
        defs = {}
    for where, node in _walk(schema, path):
        problems.extend(_node_violations(node, where, defs, is_root=where == path))
    if problems:
        return problems
    return _limit_violations(schema, defs, path)


def _walk(schema: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield every subschema in the document with its path (refs are not followed)."""
    yield path, schema
    if not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for name, sub in props.items():
            yield from _walk(sub, _key_path(f"{path}.properties", name))
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _walk(items, f"{path}.items")
    for key in ("anyOf", "allOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for i, sub in enumerate(branches):
                yield from _walk(sub, f"{path}.{key}[{i}]")
    defs = schema.get("$defs")
    if isinstance(defs, dict):
        for name, sub in defs.items():
            yield from _walk(sub, _key_path(f"{path}.$defs", name))


def _node_violations(
    node: Any, path: str, defs: dict[str, Any], *, is_root: bool
) -> list[tuple[str, str]]:
    if not isinstance(node, dict):
        return [(path, f"{json.dumps(node)} is not a schema object")]
    problems: list[tuple[str, str]] = []
    for key in node:
        if key == "$defs" and not is_root:
            problems.append((path, "$defs is only allowed at the root"))
        elif key not in _KEPT:
            problems.append((path, f"keyword {key!r} is not allowed in strict mode"))
    if "$ref" in node:
        ref = node["$ref"]
        name = _def_name(ref) if isinstance(ref, str) else None
        if ref != "#" and (name is None or name not in defs):
            problems.append((path, f"$ref {ref!r} does not resolve to '#' or a $defs entry"))
        if len(node) > 1:
            problems.append((path, "$ref must not have sibling keywords"))
        return problems
    try:
        types = _types(node, path)
    except ToolSchemaError as exc:
        return [*problems, (path, str(exc).removeprefix(f"{path}: "))]
    if not types and not ({"anyOf", "enum", "const"} & set(node)):
        problems.append((path, "schema has no type"))
    if "format" in node and node["format"] not in SUPPORTED_FORMATS:
        problems.append((path, f"format {node['format']!r} is not supported"))
    if "anyOf" in node and (not isinstance(node["anyOf"], list) or not node["anyOf"]):
        problems.append((path, "anyOf must be a non-empty list"))
    if "object" in types:
        props = node.get("properties")
        if not isinstance(props, dict):
            problems.append((path, "object has no properties"))
            props = {}
        if node.get("additionalProperties") is not False:
            problems.append((path, "object must set additionalProperties: false"))
        required = node.get("required")
        if not isinstance(required, list) or set(required) != set(props):
            problems.append((path, "required must list every property"))
    if "array" in types and not isinstance(node.get("items"), dict):
        problems.append((path, "array has no items schema"))
    return problems


def _limit_violations(
    schema: dict[str, Any], defs: dict[str, Any], path: str
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    properties = enum_values = chars = 0
    for where, node in _walk(schema, path):
        props = node.get("properties")
        if isinstance(props, dict):
            properties += len(props)
            chars += sum(len(name) for name in props)
        enum = node.get("enum")
        if isinstance(enum, list):
            enum_values += len(enum)
            enum_chars = sum(_value_chars(v) for v in enum)
            chars += enum_chars
            if (
                len(enum) > LARGE_ENUM_VALUES
                and all(isinstance(v, str) for v in enum if v is not None)
                and enum_chars > MAX_LARGE_ENUM_CHARS
            ):
                problems.append(
                    (
                        where,
                        f"this enum has {len(enum)} values totalling {enum_chars} characters; "
                        f"OpenAI allows at most {MAX_LARGE_ENUM_CHARS} characters in one string "
                        f"enum of more than {LARGE_ENUM_VALUES} values. Shorten or split it, "
                        "or use strict=False",
                    )
                )
        if "const" in node:
            chars += _value_chars(node["const"])
    chars += sum(len(name) for name in defs)
    if properties > MAX_PROPERTIES:
        problems.append(
            (
                path,
                f"the schema has {properties} object properties; OpenAI allows at most "
                f"{MAX_PROPERTIES} in a strict schema. Split the tool or use strict=False",
            )
        )
    if enum_values > MAX_ENUM_VALUES:
        problems.append(
            (
                path,
                f"the schema has {enum_values} enum values; OpenAI allows at most "
                f"{MAX_ENUM_VALUES} across a strict schema. Use a plain string or strict=False",
            )
        )
    if chars > MAX_TOTAL_STRING_CHARS:
        problems.append(
            (
                path,
                f"property names, definition names, enum and const values total {chars} "
                f"characters; OpenAI allows at most {MAX_TOTAL_STRING_CHARS} in a strict schema. "
                "Shorten them or use strict=False",
            )
        )
    deep = _too_deep(schema, defs, path)
    if deep is not None:
        problems.append(
            (
                deep,
                f"objects nest more than {MAX_NESTING_DEPTH} levels deep here; OpenAI allows at "
                f"most {MAX_NESTING_DEPTH} in a strict schema. Flatten the model or use "
                "strict=False",
            )
        )
    return problems


def _value_chars(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value))


def _too_deep(schema: dict[str, Any], defs: dict[str, Any], path: str) -> str | None:
    """Return the path of the first object nested deeper than the limit, or None.

    A level is an object schema; the root object is level 1. Arrays and anyOf add no level.
    Non-recursive $refs count at their point of use; a reference back into a definition
    being expanded counts nothing, since OpenAI accepts recursive schemas.
    """
    memo: dict[str, int] = {}

    def depth(node: Any, stack: tuple[str, ...]) -> int:
        if not isinstance(node, dict):
            return 0
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = "#" if ref == "#" else _def_name(ref)
            if name is None or name in stack:
                return 0
            if name not in memo:
                target = schema if name == "#" else defs.get(name)
                memo[name] = depth(target, (*stack, name))
            return memo[name]
        below = max((depth(child, stack) for _, child in _children(node)), default=0)
        return below + (1 if _is_object(node) else 0)

    if depth(schema, ("#",)) <= MAX_NESTING_DEPTH:
        return None
    # Walk down the deepest branch to name the first object past the limit.
    node: Any = schema
    where = path
    level = 0
    stack: tuple[str, ...] = ("#",)
    while True:
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = "#" if ref == "#" else str(_def_name(ref))
            stack = (*stack, name)
            node = schema if name == "#" else defs[name]
            continue
        if _is_object(node):
            level += 1
            if level > MAX_NESTING_DEPTH:
                return where
        suffix, node = max(_children(node), key=lambda c: depth(c[1], stack))
        where += suffix


def _children(node: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    props = node.get("properties")
    if isinstance(props, dict):
        out += [(_key_path(".properties", n), s) for n, s in props.items()]
    if isinstance(node.get("items"), dict):
        out.append((".items", node["items"]))
    if isinstance(node.get("anyOf"), list):
        out += [(f".anyOf[{i}]", s) for i, s in enumerate(node["anyOf"])]
    return out


def _is_object(node: dict[str, Any]) -> bool:
    t = node.get("type")
    return t == "object" or (isinstance(t, list) and "object" in t) or "properties" in node
