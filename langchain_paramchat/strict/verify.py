"""Check a compiled schema against OpenAI's strict-mode rules.

Used by ``strict_errors`` and as ``make_strict``'s final guard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.strict.refs import def_name
from langchain_paramchat.strict.rules import (
    KEPT,
    LARGE_ENUM_VALUES,
    MAX_ENUM_VALUES,
    MAX_LARGE_ENUM_CHARS,
    MAX_NESTING_DEPTH,
    MAX_PROPERTIES,
    MAX_TOTAL_STRING_CHARS,
    SUPPORTED_FORMATS,
    key_path,
    schema_types,
)


def strict_errors(schema: Any, *, path: str = "$") -> list[str]:
    """List every way ``schema`` breaks OpenAI's strict-mode rules, as ``"<path>: <problem>"``."""
    return [f"{where}: {message}" for where, message in violations(schema, path)]


def violations(schema: Any, path: str) -> list[tuple[str, str]]:
    """Return every ``(path, problem)`` that keeps ``schema`` out of OpenAI's strict subset."""
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
            yield from _walk(sub, key_path(f"{path}.properties", name))
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
            yield from _walk(sub, key_path(f"{path}.$defs", name))


def _node_violations(
    node: Any, path: str, defs: dict[str, Any], *, is_root: bool
) -> list[tuple[str, str]]:
    if not isinstance(node, dict):
        return [(path, f"{json.dumps(node)} is not a schema object")]
    problems: list[tuple[str, str]] = []
    for key in node:
        if key == "$defs" and not is_root:
            problems.append((path, "$defs is only allowed at the root"))
        elif key not in KEPT:
            problems.append((path, f"keyword {key!r} is not allowed in strict mode"))
    if "$ref" in node:
        ref = node["$ref"]
        name = def_name(ref) if isinstance(ref, str) else None
        if ref != "#" and (name is None or name not in defs):
            problems.append((path, f"$ref {ref!r} does not resolve to '#' or a $defs entry"))
        if len(node) > 1:
            problems.append((path, "$ref must not have sibling keywords"))
        return problems
    try:
        types = schema_types(node, path)
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
            name = "#" if ref == "#" else def_name(ref)
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
            name = "#" if ref == "#" else str(def_name(ref))
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
        out += [(key_path(".properties", n), s) for n, s in props.items()]
    if isinstance(node.get("items"), dict):
        out.append((".items", node["items"]))
    if isinstance(node.get("anyOf"), list):
        out += [(f".anyOf[{i}]", s) for i, s in enumerate(node["anyOf"])]
    return out


def _is_object(node: dict[str, Any]) -> bool:
    t = node.get("type")
    return t == "object" or (isinstance(t, list) and "object" in t) or "properties" in node
