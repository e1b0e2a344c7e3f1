"""Normalize tools from any accepted form into neutral values each API's adapter renders.

Accepted tools: Pydantic models (v2, and v1 through ``pydantic.v1``), TypedDicts, dataclasses,
plain functions, LangChain ``BaseTool``s, JSON-schema dicts with a ``title``, and OpenAI tool dicts
in either API's shape: function tools, custom (free-form / grammar) tools and built-in tools
(``web_search``, ``file_search``, ``mcp``, ``shell``, ...). Each becomes one neutral value
(:class:`FunctionTool`, :class:`CustomTool` or :class:`BuiltinTool`) that renders to the Chat
Completions or the Responses shape.

``strict`` is always sent as an explicit boolean, because the APIs disagree on its default: the
Responses API uses strict validation when ``strict`` is omitted and the schema allows it, the Chat
Completions API does not. ``strict=None`` therefore means "the tool dict's own ``strict`` value,
else ``False``", so the same tool behaves the same on both APIs. The ChatOpenAI-shaped dict a
bound tool shows (:class:`BoundTool`) leaves ``strict`` out when nobody gave one, as ChatOpenAI's
does: in that (Chat Completions) shape an absent ``strict`` means ``False``, which is what is sent.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeAlias, get_args

from langchain_core.tools import BaseTool, Tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_pydantic_v1_subclass, is_pydantic_v2_subclass
from openai.types.chat.chat_completion_custom_tool_param import ChatCompletionCustomToolParam
from openai.types.chat.chat_completion_function_tool_param import ChatCompletionFunctionToolParam
from openai.types.responses import response_create_params
from openai.types.responses.custom_tool_param import CustomToolParam
from openai.types.responses.function_tool_param import FunctionToolParam
from openai.types.shared_params.function_definition import FunctionDefinition
from typing_extensions import is_typeddict

from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.options.typecheck import find_error, typeddict_fields
from langchain_paramchat.strict.compile import check_depth, inline_root_ref, make_strict

__all__ = [
    "CUSTOM_TOOL_MARKER",
    "REDACTED",
    "BoundTool",
    "BuiltinTool",
    "CustomTool",
    "FunctionTool",
    "NeutralTool",
    "bound_tools",
    "drop_default_nulls",
    "normalize_tool",
    "normalize_tools",
    "redacted_spec",
    "tool_spec",
    "traced_tool",
]


@dataclass(frozen=True)
class FunctionTool:
    """A function the model may call with JSON arguments described by ``parameters``."""

    name: str
    description: str | None
    parameters: dict[str, Any]
    strict: bool
    # Keys only the Responses API's function tool has (defer_loading, allowed_callers, ...).
    responses_only: dict[str, Any] = field(default_factory=dict)
    # Optional arguments strict mode made nullable: a null for them means "use the default".
    null_means_default: frozenset[str] = frozenset()
    # Whether the user (or the tool dict) gave ``strict``; only the shown dict depends on it.
    strict_given: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class CustomTool:
    """A tool whose input is free text, optionally constrained by a grammar.

    ``format`` uses the Responses shape: ``{"type": "text"}`` or
    ``{"type": "grammar", "syntax": "lark" | "regex", "definition": "..."}``.
    """

    name: str
    description: str | None
    format: dict[str, Any] | None
    responses_only: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltinTool:
    """A tool the API hosts (web search, file search, MCP, shell, ...): only Responses serves it."""

    spec: dict[str, Any]

    @property
    def type(self) -> str:
        """Return the tool's ``type``."""
        return str(self.spec["type"])

    @property
    def label(self) -> str:
        """Return a short name for messages: the type, plus the MCP server or namespace name."""
        if self.type == "mcp":
            return f"mcp:{self.spec.get('server_label')}"
        if "name" in self.spec:
            return f"{self.type}:{self.spec['name']}"
        return self.type


NeutralTool: TypeAlias = FunctionTool | CustomTool | BuiltinTool


# "Must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64."
# (openai.types.shared_params.FunctionDefinition.name)
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


# ---------------------------------------------------------------------------------------------
# Tools


def normalize_tool(tool: Any, *, strict: bool | None = None) -> NeutralTool:
    """Convert one tool in any accepted form to a FunctionTool, CustomTool or BuiltinTool.

    ``strict=True`` compiles the parameters with :func:`make_strict`; ``False`` keeps them as
    given; ``None`` uses a tool dict's own ``strict`` value, else ``False``.

    Raises ``ToolSchemaError`` (naming the JSON path) for a tool it cannot convert or make strict.
    """
    if isinstance(tool, FunctionTool | CustomTool | BuiltinTool):
        if strict is None or not isinstance(tool, FunctionTool) or tool.strict == strict:
            return tool
        return normalize_tool(tool_spec(tool), strict=strict)
    if isinstance(tool, dict):
        # Before any copy or walk: those recurse, and a 10,000-level schema would overflow.
        check_depth(tool, path="tools")
        return _from_dict(tool, strict)
    if isinstance(tool, BaseTool):
        return _from_base_tool(tool, strict)
    if isinstance(tool, type) and is_pydantic_v2_subclass(tool):
        description, parameters = _split_description(tool.model_json_schema())
        return _function(tool.__name__, description, parameters, strict)
    if isinstance(tool, type) and is_pydantic_v1_subclass(tool):
        description, parameters = _split_description(tool.schema())  # type: ignore[attr-defined]
        return _function(tool.__name__, description, parameters, strict)
    if isinstance(tool, type) and dataclasses.is_dataclass(tool):
        # pydantic skips the "Name(field: type)" docstring dataclasses get by default.
        description, parameters = _split_description(_type_adapter_schema(tool))
        return _function(tool.__name__, description, parameters, strict)
    if is_typeddict(tool):
        return _from_typeddict(tool, strict)
    if inspect.isfunction(tool) or inspect.ismethod(tool):
        spec = _langchain_function(tool, str(getattr(tool, "__name__", tool)))
        return _function(spec["name"], spec.get("description") or None, spec["parameters"], strict)
    raise ToolSchemaError(
        f"cannot use {type(tool).__name__} {tool!r:.60} as a tool; pass a Pydantic model, "
        "TypedDict, dataclass, function, LangChain BaseTool or an OpenAI tool dict",
        path="tools",
    )


def normalize_tools(tools: Sequence[Any], *, strict: bool | None = None) -> tuple[NeutralTool, ...]:
    """Normalize every tool; drop exact repeats, and reject two different tools with one name.

    Raises ``ToolSchemaError`` as ``normalize_tool`` does, and for two tools with one name.
    """
    out: list[NeutralTool] = []
    seen: dict[str, NeutralTool] = {}
    for tool in (normalize_tool(t, strict=strict) for t in tools):
        key = tool.label if isinstance(tool, BuiltinTool) else tool.name
        if key in seen:
            if seen[key] == tool:
                continue
            raise ToolSchemaError(
                f"two different tools are named {key!r}; tool names must be unique, rename one",
                path=f"tools[{key}]",
            )
        seen[key] = tool
        out.append(tool)
    return tuple(out)


class BoundTool(dict[str, Any]):
    """A bound tool as ChatOpenAI shows it: an OpenAI tool dict (Chat Completions shape).

    ``bind_tools(...).kwargs["tools"]`` and invocation params hold these, as with ChatOpenAI;
    ``neutral`` is what ParamChat renders for whichever API the call goes to.
    """

    __slots__ = ("neutral",)

    def __init__(self, neutral: NeutralTool) -> None:
        super().__init__(_chat_shape(neutral))
        self.neutral = neutral

    def __reduce__(self) -> Any:
        return (BoundTool, (self.neutral,))


def _chat_shape(tool: NeutralTool) -> dict[str, Any]:
    """Return a neutral tool as ChatOpenAI's bound tool dict (Chat Completions shape)."""
    spec = tool_spec(tool)
    if not isinstance(tool, FunctionTool):  # custom and built-in tools: the Responses shape
        return spec
    if not tool.strict_given:
        del spec["strict"]
    kind = spec.pop("type")
    inner = {
        k: spec.pop(k)
        for k in ("name", "description", "parameters", "strict", "format")
        if k in spec
    }
    return {"type": kind, kind: inner, **spec}


def bound_tools(tools: Sequence[Any] | None, strict: bool | None) -> tuple[NeutralTool, ...] | None:
    """Return a call's tools as neutral values, re-compiled when the call sets ``strict``.

    Tools bound earlier are already neutral; a per-call ``strict`` renders them back to a
    tool dict and compiles them again. Raises ``ToolSchemaError`` for a tool it cannot read.
    """
    if not tools:
        return None
    tools = [t.neutral if isinstance(t, BoundTool) else t for t in tools]
    neutral = (FunctionTool, CustomTool, BuiltinTool)
    if strict is None and all(isinstance(t, neutral) for t in tools):
        return tuple(tools)
    return normalize_tools(
        [tool_spec(t) if isinstance(t, neutral) else t for t in tools], strict=strict
    )


def tool_spec(tool: NeutralTool) -> dict[str, Any]:
    """Return a neutral tool as the OpenAI tool dict (Responses shape) it was read from."""
    if isinstance(tool, BuiltinTool):
        return copy.deepcopy(tool.spec)
    out: dict[str, Any]
    if isinstance(tool, FunctionTool):
        out = {"type": "function", "name": tool.name}
        if tool.description:
            out["description"] = tool.description
        out["parameters"] = copy.deepcopy(tool.parameters)
        out["strict"] = tool.strict
    else:
        out = {"type": "custom", "name": tool.name}
        if tool.description:
            out["description"] = tool.description
        if tool.format is not None:
            out["format"] = copy.deepcopy(tool.format)
    out.update(copy.deepcopy(tool.responses_only))
    return out


REDACTED = "**REDACTED**"
"""What callbacks, tracers and serialized models see instead of an MCP tool's credentials."""

# MCP tool fields that carry credentials for the MCP server.
_CREDENTIAL_KEYS = ("headers", "authorization")


def redacted_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a tool dict with an MCP tool's ``headers`` and ``authorization`` redacted."""
    if spec.get("type") != "mcp" or not any(spec.get(k) is not None for k in _CREDENTIAL_KEYS):
        return spec
    return {k: REDACTED if k in _CREDENTIAL_KEYS and v is not None else v for k, v in spec.items()}


def traced_tool(tool: Any) -> Any:
    """Return a bound tool as callbacks and tracers see it: an OpenAI tool dict, redacted.

    Function tools take ChatOpenAI's (Chat Completions) shape, other tools their Responses
    shape; an MCP tool's credentials are replaced by ``**REDACTED**``.
    """
    if isinstance(tool, FunctionTool):
        function: dict[str, Any] = {"name": tool.name}
        if tool.description:
            function["description"] = tool.description
        function["parameters"] = copy.deepcopy(tool.parameters)
        function["strict"] = tool.strict
        return {"type": "function", "function": function, **copy.deepcopy(tool.responses_only)}
    if isinstance(tool, CustomTool | BuiltinTool):
        return redacted_spec(tool_spec(tool))
    if isinstance(tool, dict):
        return redacted_spec(tool)
    return tool


def _function(
    name: str, description: str | None, parameters: Any, strict: bool | None
) -> FunctionTool:
    return _make_function(name, description, parameters, strict, {})


def _make_function(
    name: Any,
    description: str | None,
    parameters: Any,
    strict: bool | None,
    responses_only: dict[str, Any],
) -> FunctionTool:
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        raise ToolSchemaError(
            f"function name {name!r} is not allowed: use 1-64 letters, digits, underscores or "
            "dashes; rename the tool",
            path=f"tools[{name}]",
        )
    if parameters is None:
        parameters = _EMPTY_PARAMETERS
    if not isinstance(parameters, dict):
        raise ToolSchemaError(
            f"parameters must be a JSON schema object, got {type(parameters).__name__}",
            path=f"tools[{name}].parameters",
        )
    check_depth(parameters, path=f"tools[{name}].parameters")
    use_strict = bool(strict)
    null_means_default = _made_nullable(parameters) if use_strict else frozenset()
    parameters = (
        make_strict(parameters, path=f"tools[{name}].parameters")
        if use_strict
        else copy.deepcopy(parameters)
    )
    return FunctionTool(
        name,
        description,
        parameters,
        use_strict,
        copy.deepcopy(responses_only),
        null_means_default,
        strict_given=strict is not None,
    )


def _made_nullable(parameters: dict[str, Any]) -> frozenset[str]:
    """Return top-level arguments that strict mode makes required-but-nullable.

    They were optional and did not accept null, so a null the model sends means "leave it
    out" (``drop_default_nulls`` removes it before the tool runs).
    """
    required = set(parameters.get("required") or ())
    out = set()
    for key, prop in (parameters.get("properties") or {}).items():
        if key in required or not isinstance(prop, dict):
            continue
        kinds = prop.get("type")
        accepts_null = kinds == "null" or (isinstance(kinds, list) and "null" in kinds)
        accepts_null = accepts_null or any(
            isinstance(o, dict) and o.get("type") == "null" for o in prop.get("anyOf") or ()
        )
        if not accepts_null:
            out.add(key)
    return frozenset(out)


def drop_default_nulls(
    tools: Sequence[NeutralTool], args: dict[str, Any], name: str
) -> dict[str, Any]:
    """Return tool-call ``args`` without the nulls strict mode forced onto optional arguments."""
    for tool in tools:
        if isinstance(tool, FunctionTool) and tool.name == name and tool.null_means_default:
            return {
                k: v for k, v in args.items() if not (v is None and k in tool.null_means_default)
            }
    return args


def _from_dict(spec: dict[str, Any], strict: bool | None) -> NeutralTool:
    kind = spec.get("type")
    if kind == "function" and "function" in spec:
        # Keys only Responses' function tool has (async, defer_loading) may sit beside the
        # Chat Completions shape, as langchain-openai writes them.
        core = {"type", "function", "name", "description", "parameters", "strict"}
        outer = _known(spec, FunctionToolParam, core)
        inner = {k: v for k, v in spec.items() if k not in outer}
        _check(inner, ChatCompletionFunctionToolParam, _name_in(spec["function"]))
        fn = spec["function"]
        return _make_function(
            fn["name"],
            fn.get("description"),
            fn.get("parameters"),
            _strict(strict, fn.get("strict")),
            outer,
        )
    if kind == "function":
        filled = {"parameters": None, "strict": None, **spec}
        _check(filled, FunctionToolParam, spec.get("name"))
        return _make_function(
            spec["name"],
            spec.get("description"),
            spec.get("parameters"),
            _strict(strict, spec.get("strict")),
            _extras(
                spec, FunctionToolParam, {"type", "name", "description", "parameters", "strict"}
            ),
        )
    if kind is None and "name" in spec:
        _check(spec, FunctionDefinition, spec.get("name"))
        return _make_function(
            spec["name"],
            spec.get("description"),
            spec.get("parameters"),
            _strict(strict, spec.get("strict")),
            {},
        )
    if kind == "custom" and "custom" in spec:
        outer = _known(spec, CustomToolParam, {"type", "custom", "name", "description", "format"})
        inner = {k: v for k, v in spec.items() if k not in outer}
        _check(inner, ChatCompletionCustomToolParam, _name_in(spec["custom"]))
        custom = spec["custom"]
        fmt = custom.get("format")
        if fmt is not None and fmt.get("type") == "grammar":
            fmt = {"type": "grammar", **fmt["grammar"]}
        return CustomTool(custom["name"], custom.get("description"), copy.deepcopy(fmt), outer)
    if kind == "custom":
        _check(spec, CustomToolParam, spec.get("name"))
        return CustomTool(
            spec["name"],
            spec.get("description"),
            copy.deepcopy(spec.get("format")),
            _extras(spec, CustomToolParam, {"type", "name", "description", "format"}),
        )
    if kind == "object" or (kind is None and "properties" in spec):
        return _from_json_schema(spec, strict)
    if not isinstance(kind, str):
        raise ToolSchemaError(
            "a tool dict needs a 'type' (function, custom or a built-in tool type) or a 'name'",
            path="tools",
        )
    _check(spec, _responses_tool_type(), spec.get("server_label") or spec.get("name") or kind)
    return BuiltinTool(copy.deepcopy(spec))


# The marker langchain-openai's ``custom_tool`` (and ParamChat's) leave in a tool's metadata.
CUSTOM_TOOL_MARKER = "custom_tool"


def _from_base_tool(tool: BaseTool, strict: bool | None) -> NeutralTool:
    """Read a LangChain tool; its ``extras`` keys the Responses tool type has are kept."""
    metadata = tool.metadata or {}
    extras = tool.extras if isinstance(tool.extras, dict) else {}
    if metadata.get("type") == CUSTOM_TOOL_MARKER:
        fmt = metadata.get("format")
        spec = {"type": "custom", "name": tool.name, **({"format": fmt} if fmt else {})}
        if tool.description:
            spec["description"] = tool.description
        spec.update(_known(extras, CustomToolParam, spec))
        return _from_dict(spec, strict)
    parameters = _base_tool_parameters(tool)
    responses_only = _known(extras, FunctionToolParam, {"type", "name", "description"})
    return _make_function(tool.name, tool.description or None, parameters, strict, responses_only)


def _known(extras: dict[str, Any], td: type, core: Any) -> dict[str, Any]:
    """Return the ``extras`` keys the tool type ``td`` has, besides ``core`` ones."""
    hints, _ = typeddict_fields(td)
    return {k: copy.deepcopy(v) for k, v in extras.items() if k in hints and k not in core}


def _from_json_schema(schema: dict[str, Any], strict: bool | None) -> FunctionTool:
    name = schema.get("title")
    if not isinstance(name, str):
        raise ToolSchemaError(
            "a JSON-schema tool needs a 'title' to name it; add one or wrap it as "
            '{"type": "function", "name": ..., "parameters": ...}',
            path="tools",
        )
    description, parameters = _split_description(schema)
    return _function(name, description, parameters, strict)


def _from_typeddict(tool: Any, strict: bool | None) -> FunctionTool:
    name = tool.__name__
    try:
        # langchain-core reads LangChain's conventions: Annotated[T, default, "description"]
        # and a Google-style "Args:" section in the docstring.
        spec = convert_to_openai_tool(tool)["function"]
        return _function(name, spec.get("description") or None, spec["parameters"], strict)
    except ToolSchemaError:
        raise
    except Exception:
        # langchain-core rejects some valid TypedDicts (e.g. NotRequired fields); pydantic reads
        # them, as long as they come from typing_extensions.
        description, parameters = _split_description(_type_adapter_schema(tool))
        return _function(name, description, parameters, strict)


def _type_adapter_schema(tp: Any) -> dict[str, Any]:
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(tp).json_schema()
    except Exception as exc:
        raise ToolSchemaError(
            f"cannot build a JSON schema for {getattr(tp, '__name__', tp)}: {exc}",
            path=f"tools[{getattr(tp, '__name__', tp)}]",
        ) from exc


def _langchain_function(tool: Callable[..., Any] | BaseTool, name: str) -> dict[str, Any]:
    try:
        return dict(convert_to_openai_tool(tool)["function"])
    except Exception as exc:
        raise ToolSchemaError(
            f"cannot build a JSON schema for {name}: {exc}", path=f"tools[{name}]"
        ) from exc


def _base_tool_parameters(tool: BaseTool) -> dict[str, Any]:
    if isinstance(tool, Tool) and not tool.args_schema:
        # langchain-core gives a plain Tool one string argument (``__arg1``), and
        # ``Tool.run`` hands the tool that string; its signature would ask for something else.
        return _without_titles(_langchain_function(tool, tool.name)["parameters"])
    schema = tool.tool_call_schema
    if isinstance(schema, type) and is_pydantic_v2_subclass(schema):
        # Read the model directly: langchain-core's conversion inlines $refs, which loses
        # recursive models.
        return _split_description(schema.model_json_schema())[1]
    if isinstance(schema, dict):
        return copy.deepcopy(schema)
    return dict(_langchain_function(tool, tool.name)["parameters"])


def _split_description(schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Return the schema's description (the tool's) and the schema without title/description."""
    parameters = _without_titles(inline_root_ref(schema))
    description = parameters.pop("description", None)
    return (description if isinstance(description, str) and description else None), parameters


def _without_titles(schema: Any) -> Any:
    """Return ``schema`` without ``title`` annotations (pydantic adds one to every field)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(
            value, dict
        ):
            out[key] = {name: _without_titles(sub) for name, sub in value.items()}
        elif key in ("anyOf", "allOf", "oneOf", "prefixItems") and isinstance(value, list):
            out[key] = [_without_titles(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _without_titles(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _name_in(value: Any) -> Any:
    return value.get("name") if isinstance(value, dict) else None


def _strict(requested: bool | None, own: Any) -> bool | None:
    if requested is not None:
        return requested
    return own if isinstance(own, bool) else None


def _extras(spec: dict[str, Any], td: type, core: set[str]) -> dict[str, Any]:
    hints, _ = typeddict_fields(td)
    return {k: copy.deepcopy(v) for k, v in spec.items() if k in hints and k not in core}


def _check(spec: dict[str, Any], tp: Any, name: Any) -> None:
    error = find_error(spec, tp, f"tools[{spec.get('type') if name is None else name}]")
    if error:
        where, _, message = error.partition(": ")
        raise ToolSchemaError(message, path=where)


@cache
def _responses_hints() -> dict[str, Any]:
    return typing.get_type_hints(response_create_params.ResponseCreateParamsBase)


def _responses_tool_type() -> Any:
    return get_args(_responses_hints()["tools"])[0]
