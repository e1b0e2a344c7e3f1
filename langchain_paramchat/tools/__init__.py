"""Tools, ``tool_choice`` and output schemas in any accepted form, read into neutral values.

Owns: ``normalize`` (LangChain tools, functions, pydantic models, TypedDicts and OpenAI dicts
into ``FunctionTool``/``CustomTool``/``BuiltinTool``), ``tool_choice`` (every ``tool_choice``
spelling into one neutral choice), ``structured`` (output schemas: the strict
``response_format``, parsing and streaming a structured reply), ``custom`` (``custom_tool``
and ``Grammar``: declaring a free-form tool). Pure, no I/O.
May import: ``errors``, ``options`` (the SDK type checker), ``strict``.

Public names resolve lazily from the submodule that defines them (PEP 562), so importing the
package costs nothing until a tool is used: other modules import the package at their top
(``from langchain_paramchat import tools as toolkit``) and read ``toolkit.Name`` where they
use it.
"""

from typing import TYPE_CHECKING

from langchain_paramchat.lazy import lazy_exports

if TYPE_CHECKING:
    from langchain_paramchat.tools.custom import Grammar, custom_tool
    from langchain_paramchat.tools.normalize import (
        CUSTOM_TOOL_MARKER,
        REDACTED,
        BoundTool,
        BuiltinTool,
        CustomTool,
        FunctionTool,
        NeutralTool,
        bound_tools,
        drop_default_nulls,
        normalize_tool,
        normalize_tools,
        redacted_spec,
        tool_spec,
        traced_tool,
    )
    from langchain_paramchat.tools.structured import (
        StructuredParser,
        is_schema_class,
        json_schema_format,
        parse_reply_as,
        structured_runnable,
        tools_response_format,
    )
    from langchain_paramchat.tools.tool_choice import (
        NeutralChoice,
        ToolChoiceAllowed,
        ToolChoiceMode,
        ToolChoiceNamed,
        normalize_tool_choice,
    )

__all__ = [
    "CUSTOM_TOOL_MARKER",
    "REDACTED",
    "BoundTool",
    "BuiltinTool",
    "CustomTool",
    "FunctionTool",
    "Grammar",
    "NeutralChoice",
    "NeutralTool",
    "StructuredParser",
    "ToolChoiceAllowed",
    "ToolChoiceMode",
    "ToolChoiceNamed",
    "bound_tools",
    "custom_tool",
    "drop_default_nulls",
    "is_schema_class",
    "json_schema_format",
    "normalize_tool",
    "normalize_tool_choice",
    "normalize_tools",
    "parse_reply_as",
    "redacted_spec",
    "structured_runnable",
    "tool_spec",
    "tools_response_format",
    "traced_tool",
]

__getattr__ = lazy_exports(__name__, ("normalize", "tool_choice", "structured", "custom"))
