"""``$ref`` and depth walking for strict schemas: nesting guard, root-ref inlining, ref rewrites."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from langchain_paramchat.bounds import MAX_JSON_DEPTH
from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.strict.rules import ANNOTATIONS


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


def check_alias_cycles(defs: dict[str, Any], *, path: str = "$") -> None:
    """Raise ``ToolSchemaError`` when definitions only name each other in a ring (A→B→A).

    A definition that is nothing but a ``$ref`` (or a one-member ``allOf``/``anyOf``/
    ``oneOf`` of one) is an alias; a ring of aliases never reaches a schema, so no value
    fits it. The error names the ring.
    """
    for start in defs:
        ring = [start]
        name = _alias_target(defs[start])
        while name is not None and name in defs:
            if name in ring:
                cycle = " -> ".join([*ring[ring.index(name) :], name])
                raise ToolSchemaError(
                    f"$ref aliases form a cycle that never reaches a schema: {cycle}",
                    path=f"{path}.$defs.{start}",
                )
            ring.append(name)
            name = _alias_target(defs[name])


def _alias_target(node: Any) -> str | None:
    """Return the definition ``node`` only refers to, or None when it says more."""
    for _ in range(MAX_JSON_DEPTH):
        if not isinstance(node, dict):
            return None
        body = {k: v for k, v in node.items() if k not in ANNOTATIONS}
        if set(body) == {"$ref"} and isinstance(body["$ref"], str):
            return def_name(body["$ref"])
        wrapped = [body[k] for k in ("allOf", "anyOf", "oneOf") if set(body) == {k}]
        if not wrapped or not isinstance(wrapped[0], list) or len(wrapped[0]) != 1:
            return None
        node = wrapped[0][0]
    return None


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
    name = def_name(ref)
    if name is None or name not in defs:
        raise ToolSchemaError(f"$ref {ref!r} does not name a definition in {key}", path=path)
    del out["$ref"]
    siblings = {k: v for k, v in out.items() if k not in (key, *ANNOTATIONS)}
    merged = {**copy.deepcopy(defs[name]), **out}
    if any(def_name(r) == name for r in _refs_in(merged)):
        if siblings:
            return merged
        # The root now is that definition, so references to it become root recursion ("#").
        merged = _retarget_refs(merged, name)
    merged[key] = {n: d for n, d in merged[key].items() if n != name}
    if not merged[key]:
        del merged[key]
    return merged


def rename_definitions(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """Return ``schema`` with draft-7 ``definitions`` (pydantic v1) moved to ``$defs``.

    Raises ``ToolSchemaError`` when ``definitions`` is not a mapping or repeats a ``$defs`` name.
    """
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
            if k == "$ref" and isinstance(v, str) and def_name(v) == name
            else _retarget_refs(v, name)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_retarget_refs(v, name) for v in value]
    return value


def def_name(ref: str) -> str | None:
    """Return the definition name a local ``$ref`` points to, or None for any other ref."""
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            if "/" in name:
                return None
            return name.replace("~1", "/").replace("~0", "~")
    return None


def def_ref(name: str) -> str:
    """Return the ``#/$defs/...`` reference for ``name``, escaped as a JSON pointer."""
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
