"""Normalize ``tool_choice`` from any accepted form into a neutral value checked against the tools.

Each API's adapter renders the neutral value in its own shape (``apis/<api>/request.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from langchain_paramchat.errors import OptionError
from langchain_paramchat.tools.normalize import (
    BuiltinTool,
    CustomTool,
    FunctionTool,
    NeutralTool,
    normalize_tool,
)

__all__ = [
    "NeutralChoice",
    "ToolChoiceAllowed",
    "ToolChoiceMode",
    "ToolChoiceNamed",
    "normalize_tool_choice",
]


@dataclass(frozen=True)
class ToolChoiceMode:
    """Let the model decide (``auto``), forbid tools (``none``) or require one (``required``)."""

    mode: Literal["auto", "none", "required"]


@dataclass(frozen=True)
class ToolChoiceNamed:
    """Force one bound tool; ``mcp_tool`` names the tool on an MCP server when forcing ``mcp``."""

    tool: NeutralTool
    mcp_tool: str | None = None


@dataclass(frozen=True)
class ToolChoiceAllowed:
    """Restrict the model to a subset of the bound tools, optionally requiring a call."""

    mode: Literal["auto", "required"]
    tools: tuple[NeutralTool, ...]


NeutralChoice: TypeAlias = ToolChoiceMode | ToolChoiceNamed | ToolChoiceAllowed

_MODES = ("auto", "none", "required")


def normalize_tool_choice(choice: Any, tools: Sequence[Any]) -> NeutralChoice | None:
    """Convert a tool_choice in any accepted form to a neutral value checked against ``tools``.

    Accepts ``"auto"``, ``"none"``, ``"required"``, ``"any"`` (= required), ``True`` (the single
    bound function/custom tool, else required), ``False``/``None`` (send nothing), a bound
    tool's name or built-in type, and OpenAI's tool_choice dicts from either API, including
    ``allowed_tools``. ``tools`` are the bound tools, neutral or in any form normalize_tool takes.

    Raises ``OptionError`` for a choice naming no bound tool or of an unknown shape.
    """
    bound = tuple(
        t if isinstance(t, FunctionTool | CustomTool | BuiltinTool) else normalize_tool(t)
        for t in tools
    )
    if choice is None or choice is False:
        return None
    if choice is True:
        callable_tools = [t for t in bound if not isinstance(t, BuiltinTool)]
        if len(bound) == 1 and callable_tools:
            return ToolChoiceNamed(callable_tools[0])
        return _mode("required", choice, bound)
    if isinstance(choice, str):
        if choice in _MODES:
            return _mode(choice, choice, bound)  # type: ignore[arg-type]
        if choice == "any":
            return _mode("required", choice, bound)
        return ToolChoiceNamed(_find(choice, bound, choice))
    if isinstance(choice, dict):
        return _choice_from_dict(choice, bound)
    raise OptionError(
        "tool_choice",
        choice,
        "expected 'auto', 'none', 'required', 'any', True, a tool name or a tool-choice dict",
    )


def _mode(
    mode: Literal["auto", "none", "required"], raw: Any, bound: Sequence[NeutralTool]
) -> ToolChoiceMode:
    if mode == "required" and not bound:
        raise OptionError(
            "tool_choice",
            raw,
            "it requires a tool call but no tools are bound",
            fix="Bind tools first (bind_tools) or use 'auto'",
        )
    return ToolChoiceMode(mode)


def _choice_from_dict(choice: dict[str, Any], bound: Sequence[NeutralTool]) -> NeutralChoice:
    kind = choice.get("type")
    if kind == "allowed_tools":
        body = choice.get("allowed_tools", choice)
        mode = body.get("mode") if isinstance(body, dict) else None
        entries = body.get("tools") if isinstance(body, dict) else None
        if mode not in ("auto", "required") or not isinstance(entries, list) or not entries:
            raise OptionError(
                "tool_choice",
                choice,
                "allowed_tools needs mode 'auto' or 'required' and a non-empty list of tools",
            )
        return ToolChoiceAllowed(mode, tuple(_find_ref(e, bound, choice) for e in entries))
    if kind == "mcp":
        tool = _find_ref(choice, bound, choice)
        name = choice.get("name")
        return ToolChoiceNamed(tool, name if isinstance(name, str) else None)
    return ToolChoiceNamed(_find_ref(choice, bound, choice))


def _find_ref(ref: Any, bound: Sequence[NeutralTool], raw: Any) -> NeutralTool:
    """Return the bound tool a tool reference (a name, or a dict of either API) points at."""
    if isinstance(ref, str):
        return _find(ref, bound, raw)
    if not isinstance(ref, dict) or not isinstance(ref.get("type"), str):
        raise OptionError(
            "tool_choice", raw, "a tool reference must be a name or a dict with a 'type'"
        )
    kind = ref["type"]
    if kind in ("function", "custom"):
        inner = ref.get(kind)
        name = inner.get("name") if isinstance(inner, dict) else ref.get("name")
        if not isinstance(name, str):
            raise OptionError("tool_choice", raw, f"a {kind} tool reference needs a name")
        tool = _find(name, bound, raw)
        if isinstance(tool, FunctionTool) != (kind == "function") or isinstance(tool, BuiltinTool):
            raise OptionError(
                "tool_choice", raw, f"{name!r} is bound as a {_kind(tool)} tool, not a {kind} tool"
            )
        return tool
    for tool in bound:
        if isinstance(tool, BuiltinTool) and _same_builtin(tool, ref):
            return tool
    raise OptionError("tool_choice", raw, f"no bound tool matches it; bound tools: {_names(bound)}")


def _find(name: str, bound: Sequence[NeutralTool], raw: Any) -> NeutralTool:
    for tool in bound:
        if not isinstance(tool, BuiltinTool) and tool.name == name:
            return tool
    for tool in bound:
        if isinstance(tool, BuiltinTool) and name in (tool.type, tool.label):
            return tool
    raise OptionError(
        "tool_choice",
        raw,
        f"it names no bound tool; bound tools: {_names(bound)}",
        fix="Use one of those names, or 'auto', 'none' or 'required'",
    )


def _same_builtin(tool: BuiltinTool, ref: dict[str, Any]) -> bool:
    if not _same_type(tool.type, ref["type"]):
        return False
    # An MCP choice's "name" is a tool on the server, not part of the bound tool's identity.
    keys = ("server_label",) if tool.type == "mcp" else ("server_label", "name")
    return all(tool.spec.get(key) == ref[key] for key in keys if key in ref)


def _same_type(bound: str, wanted: str) -> bool:
    # Dated variants (web_search_preview_2025_03_11) answer to their base name and vice versa.
    return bound == wanted or bound.startswith(wanted + "_20") or wanted.startswith(bound + "_20")


def _kind(tool: NeutralTool) -> str:
    if isinstance(tool, FunctionTool):
        return "function"
    if isinstance(tool, CustomTool):
        return "custom"
    return "built-in"


def _names(bound: Sequence[NeutralTool]) -> str:
    if not bound:
        return "none (bind tools first)"
    return ", ".join(repr(t.label if isinstance(t, BuiltinTool) else t.name) for t in bound)
