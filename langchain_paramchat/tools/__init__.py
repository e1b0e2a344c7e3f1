"""Tools, ``tool_choice`` and output schemas in any accepted form, read into neutral values.

Owns: ``normalize`` (LangChain tools, functions, pydantic models, TypedDicts and OpenAI dicts
into ``FunctionTool``/``CustomTool``/``BuiltinTool``), ``tool_choice`` (every ``tool_choice``
spelling into one neutral choice), ``structured`` (output schemas: the strict
``response_format``, parsing and streaming a structured reply), ``custom`` (``custom_tool``
and ``Grammar``: declaring a free-form tool). Pure, no I/O.
May import: ``errors``, ``options`` (the SDK type checker), ``strict``.

Public names resolve lazily from the submodule that defines them (PEP 562), so importing the
package costs nothing until a tool is used.
"""

from langchain_paramchat.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, ("normalize", "tool_choice", "structured", "custom"))
