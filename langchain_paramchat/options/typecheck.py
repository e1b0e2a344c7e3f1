"""Check JSON-like values against the openai SDK's own param types (TypedDict, Literal, Union).

Pydantic turns ``Iterable[...]`` into a lazy iterator and cannot say which branch of a
large union a value nearly matched; this checker walks the SDK's typing annotations
directly, never changes the value, and returns a message naming the JSON path.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import typing_extensions

__all__ = [
    "describe",
    "find_error",
    "safe_repr",
    "typeddict_fields",
]


_NoneType = type(None)
_SEQUENCE_ORIGINS = {
    list,
    tuple,
    collections.abc.Sequence,
    collections.abc.Iterable,
    collections.abc.Collection,
    collections.abc.MutableSequence,
}
_REQUIRED = {typing.Required, typing_extensions.Required}
_NOT_REQUIRED = {typing.NotRequired, typing_extensions.NotRequired}
_READ_ONLY = {typing_extensions.ReadOnly}
_MAPPING_ORIGINS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}


@cache
def typeddict_fields(td: type) -> tuple[dict[str, Any], frozenset[str]]:
    """Return a TypedDict's resolved field types and its required keys."""
    extras = typing.get_type_hints(td, include_extras=True)
    # The SDK's TypedDicts are total=False with Required[...] under postponed annotations,
    # so __required_keys__ is unreliable; read Required/NotRequired from the hints instead.
    # Totality is per declaring class: keys inherited from a total=False base stay optional.
    inherited: dict[str, bool] = {}
    for base in getattr(td, "__orig_bases__", ()):
        if _is_typeddict(base):
            base_hints, base_required = typeddict_fields(base)
            inherited.update({key: key in base_required for key in base_hints})
    total = getattr(td, "__total__", True)
    required: set[str] = set()
    hints: dict[str, Any] = {}
    for key, hint in extras.items():
        is_required = inherited.get(key, total)
        explicit = False
        while True:
            marker = get_origin(hint)
            if marker in _REQUIRED:
                is_required, explicit = True, True
            elif marker in _NOT_REQUIRED:
                is_required, explicit = False, True
            elif marker is not typing.Annotated and marker not in _READ_ONLY:
                break
            hint = get_args(hint)[0]
        if key in inherited and not explicit:
            is_required = inherited[key]
        if is_required:
            required.add(key)
        hints[key] = hint
    return hints, frozenset(required)


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing_extensions.is_typeddict(tp)


def describe(tp: Any) -> str:
    """Return a short human-readable name for a typing annotation."""
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return "any value"
    if tp is _NoneType or tp is None:
        return "None"
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin is Union or origin is types.UnionType:
        return " | ".join(describe(a) for a in get_args(tp))
    if origin is typing.Annotated:
        return describe(get_args(tp)[0])
    if origin in _SEQUENCE_ORIGINS:
        args = get_args(tp)
        return f"list of {describe(args[0])}" if args else "list"
    if origin in _MAPPING_ORIGINS:
        args = get_args(tp)
        return f"dict of {describe(args[0])} to {describe(args[1])}" if args else "dict"
    if _is_typeddict(tp):
        hints, required = typeddict_fields(tp)
        keys = ", ".join(k if k in required else f"{k}?" for k in hints)
        return f"{{{keys}}}"
    return getattr(tp, "__name__", str(tp))


def find_error(value: Any, tp: Any, path: str = "$") -> str | None:
    """Return why ``value`` does not fit ``tp`` (with its JSON path), or None when it fits."""
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return None
    if origin is typing.Annotated:
        return find_error(value, get_args(tp)[0], path)
    if tp is _NoneType or tp is None:
        return None if value is None else f"{path}: expected None, got {_show(value)}"
    if origin is Literal:
        allowed = get_args(tp)
        if any(value == a and type(value) is type(a) for a in allowed):
            return None
        return f"{path}: {_show(value)} is not one of {describe(tp)}"
    if origin is Union or origin is types.UnionType:
        return _union_error(value, get_args(tp), path)
    if tp is str:
        return None if isinstance(value, str) else f"{path}: expected a string, got {_show(value)}"
    if tp is bool:
        return None if isinstance(value, bool) else f"{path}: expected a bool, got {_show(value)}"
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        return f"{path}: expected an integer, got {_show(value)}"
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        return f"{path}: expected a number, got {_show(value)}"
    if _is_typeddict(tp):
        return _typeddict_error(value, tp, path)
    if origin in _MAPPING_ORIGINS or tp in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, collections.abc.Mapping):
            return f"{path}: expected an object, got {_show(value)}"
        args = get_args(tp)
        if args:
            for key, item in value.items():
                err = find_error(key, args[0], f"{path}.<key>") or find_error(
                    item, args[1], f"{path}.{key}"
                )
                if err:
                    return err
        return None
    if origin in _SEQUENCE_ORIGINS or tp in (list, tuple):
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            return f"{path}: expected a list, got {_show(value)}"
        args = get_args(tp)
        if args and not (origin is tuple and len(args) != 2):
            item_tp = args[0]
            for i, item in enumerate(value):
                err = find_error(item, item_tp, f"{path}[{i}]")
                if err:
                    return err
        return None
    if isinstance(tp, type):
        if tp is bytes and isinstance(value, bytes | bytearray):
            return None
        if _is_pydantic_model(tp) and isinstance(value, dict):
            return None
        try:
            return None if isinstance(value, tp) else f"{path}: expected {describe(tp)}"
        except TypeError:
            return None
    # Protocols, TypeVars and other annotations the JSON body cannot violate meaningfully.
    return None


def _is_pydantic_model(tp: type) -> bool:
    return hasattr(tp, "model_fields")


def _typeddict_error(value: Any, tp: type, path: str) -> str | None:
    if not isinstance(value, collections.abc.Mapping):
        return f"{path}: expected an object {describe(tp)}, got {_show(value)}"
    hints, required = typeddict_fields(tp)
    for key in value:
        if key not in hints:
            return f"{path}: unknown key {key!r}; allowed keys: {', '.join(hints)}"
    for key in required:
        if key not in value:
            return f"{path}: missing required key {key!r}"
    for key, item in value.items():
        err = find_error(item, hints[key], f"{path}.{key}")
        if err:
            return err
    return None


def _tag(tp: Any, key: str) -> tuple[Any, ...] | None:
    """Return the Literal values a TypedDict allows for ``key`` (e.g. ``type``, ``role``)."""
    if not _is_typeddict(tp):
        return None
    hints, _ = typeddict_fields(tp)
    tag = hints.get(key)
    if tag is not None and get_origin(tag) is Literal:
        return get_args(tag)
    return None


def _union_error(value: Any, options: tuple[Any, ...], path: str) -> str | None:
    errors = []
    for option in options:
        err = find_error(value, option, path)
        if err is None:
            return None
        if value is not None and option in (None, _NoneType):
            continue
        errors.append((option, err))
    if len(errors) == 1:
        return errors[0][1]
    if isinstance(value, collections.abc.Mapping):
        for key in ("type", "role"):
            if key not in value:
                continue
            tagged = [e for o, e in errors if value[key] in (_tag(o, key) or ())]
            if tagged:
                return min(tagged, key=len)
            tags = sorted(
                {t for o, _ in errors for t in (_tag(o, key) or ()) if isinstance(t, str)}
            )
            if tags:
                return f"{path}.{key}: {value[key]!r} is not one of {', '.join(tags)}"
    deeper = [e for _, e in errors if not e.startswith(f"{path}: ")]
    if len(deeper) == 1:
        return deeper[0]
    return f"{path}: {_show(value)} is not {describe(typing.Union[options])}"  # noqa: UP007


def _show(value: Any) -> str:
    return safe_repr(value, 80)


def safe_repr(value: Any, limit: int = 120) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, also for values too deep to repr."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__} nested too deeply to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
