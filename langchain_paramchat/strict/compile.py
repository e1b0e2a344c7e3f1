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

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.strict.refs import (
    check_alias_cycles,
    check_depth,
    def_name,
    def_ref,
    inline_root_ref,
    rename_definitions,
)
from langchain_paramchat.strict.rules import (
    ANNOTATIONS,
    FREE_FORM,
    KEPT,
    MAPPING,
    MAX_ENUM_VALUES,
    MAX_LARGE_ENUM_CHARS,
    MAX_NESTING_DEPTH,
    MAX_PROPERTIES,
    MAX_TOTAL_STRING_CHARS,
    MISSING,
    NO_TYPE,
    REJECTED,
    SUPPORTED_FORMATS,
    UNSUPPORTED_COMPOSITION,
    key_path,
    schema_types,
)
from langchain_paramchat.strict.verify import strict_errors, violations

__all__ = [
    "MAX_ENUM_VALUES",
    "MAX_LARGE_ENUM_CHARS",
    "MAX_NESTING_DEPTH",
    "MAX_PROPERTIES",
    "MAX_TOTAL_STRING_CHARS",
    "SUPPORTED_FORMATS",
    "check_alias_cycles",
    "check_depth",
    "inline_root_ref",
    "make_strict",
    "strict_errors",
]


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
    renamed = rename_definitions(schema, path)
    if isinstance(renamed.get("$defs"), dict):
        check_alias_cycles(renamed["$defs"], path=path)
    root = inline_root_ref(renamed, path=path)
    defs = root.pop("$defs", {})
    if not isinstance(defs, dict):
        raise ToolSchemaError("$defs must map names to schemas", path=f"{path}.$defs")
    compiler = _Compiler(root=root, defs=defs)
    root_node = {k: v for k, v in root.items() if k not in ANNOTATIONS}
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
                defs[name], key_path(f"{path}.$defs", name), optional=False
            )
    if compiled_defs:
        out["$defs"] = {name: compiled_defs[name] for name in defs if name in compiled_defs}
    problems = violations(out, path)
    if problems:
        where, message = problems[0]
        raise ToolSchemaError(message, path=where)
    return out


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
        node = {k: v for k, v in node.items() if k not in ANNOTATIONS and not k.startswith("x-")}
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
            if key in REJECTED:
                raise ToolSchemaError(f"{key} {REJECTED[key]}", path=path)
            if key not in KEPT:
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
        ref = "#" if name is None else def_ref(name)
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
        name = def_name(ref) if isinstance(ref, str) else None
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
        types = schema_types(node, path)
        if not types:
            if "properties" in node:
                types = ["object"]
                node = {"type": "object", **node}
            elif "enum" not in node and "const" not in node:
                raise ToolSchemaError(NO_TYPE, path=path)
        if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
            raise ToolSchemaError("enum must be a non-empty list", path=path)
        out = dict(node)
        if "object" in types:
            out = self._object(out, path)
        if "array" in types:
            items = node.get("items", MISSING)
            if items is MISSING:
                raise ToolSchemaError(
                    "an array needs an items schema in strict mode; use list[<type>] "
                    "or strict=False",
                    path=path,
                )
            if isinstance(items, list):
                raise ToolSchemaError(f"items: [...] {REJECTED['prefixItems']}", path=path)
            out["items"] = self.node(items, f"{path}.items", optional=False)
        return out

    def _object(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        props = node.get("properties", MISSING)
        extra = node.get("additionalProperties", MISSING)
        if props is MISSING or not props:
            if isinstance(extra, dict):
                raise ToolSchemaError(MAPPING, path=path)
            if extra is True or (props is MISSING and extra is not False):
                raise ToolSchemaError(FREE_FORM, path=path)
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
                sub, key_path(f"{path}.properties", name), optional=name not in required
            )
            for name, sub in props.items()
        }
        out["required"] = list(props)
        out["additionalProperties"] = False
        return out

    def _nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._admits_null(schema):
            return schema
        types = schema_types(schema, "")
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
            name = def_name(ref) if ref != "#" else None
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
        return "null" in schema_types(schema, "")


def _flatten_all_of(node: dict[str, Any], path: str) -> dict[str, Any]:
    while "allOf" in node:
        entries = node["allOf"]
        if not isinstance(entries, list) or len(entries) != 1:
            raise ToolSchemaError(
                f"allOf with several schemas {UNSUPPORTED_COMPOSITION}", path=path
            )
        entry = entries[0]
        if not isinstance(entry, dict):
            raise ToolSchemaError("allOf must hold schemas", path=path)
        rest = {k: v for k, v in node.items() if k != "allOf"}
        entry = {k: v for k, v in entry.items() if k not in ANNOTATIONS}
        node = _merge(entry, rest, path)
    return node


def _merge(base: dict[str, Any], overrides: dict[str, Any], path: str) -> dict[str, Any]:
    """Return ``base`` with ``overrides`` laid over it; only descriptions may differ."""
    out = {k: v for k, v in base.items() if k not in ANNOTATIONS}
    for key, value in overrides.items():
        if key in out and out[key] != value and key != "description":
            raise ToolSchemaError(
                f"cannot merge a reference with a sibling {key!r} that differs from the "
                "definition's; use strict=False",
                path=path,
            )
        out[key] = value
    return out


def _describe(node: dict[str, Any]) -> str:
    if "type" in node:
        return f"type {node['type']!r}"
    if "$ref" in node:
        return f"$ref {node['$ref']!r}"
    if "enum" in node or "const" in node:
        return "an enum"
    return "a schema without a type"
