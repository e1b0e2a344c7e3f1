"""Declare a custom (free-form) tool: the model sends raw text, optionally shaped by a grammar.

    from langchain_paramchat.tools import Grammar, custom_tool

    @custom_tool(grammar=Grammar(r"start: NUMBER (\"+\" NUMBER)*\n%import common.NUMBER"))
    def add_up(expression: str) -> str:
        '''Add numbers written like 1+2+3.'''
        return str(sum(int(n) for n in expression.split("+")))

The result is a LangChain tool (runnable by agents and ``ToolNode``) that ``bind_tools`` sends
as a custom tool on both APIs (Chat Completions' ``custom`` tools, Responses' ``custom``
tools); the model's call comes back in ``tool_calls`` with ``args={"input": <text>}``. It
carries the same metadata marker as langchain-openai's ``custom_tool``, so either library
reads either's tools.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from langchain_core.tools import BaseTool, StructuredTool, Tool

from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.tools.normalize import CUSTOM_TOOL_MARKER

__all__ = ["Grammar", "custom_tool"]

Syntax = Literal["lark", "regex"]


@dataclass(frozen=True)
class Grammar:
    """A grammar the model's input must match: Lark (context-free) or a regular expression.

    Raises ``ToolSchemaError`` for an empty definition or a syntax OpenAI does not take.
    """

    definition: str
    syntax: Syntax = "lark"

    def __post_init__(self) -> None:
        if self.syntax not in get_args(Syntax):
            raise ToolSchemaError(
                f"grammar syntax {self.syntax!r} is not allowed: use 'lark' or 'regex'",
                path="grammar.syntax",
            )
        if not isinstance(self.definition, str) or not self.definition.strip():
            raise ToolSchemaError(
                "a grammar needs its definition as a non-empty string", path="grammar.definition"
            )

    def format(self) -> dict[str, Any]:
        """Return the custom tool ``format`` (Responses shape) this grammar stands for."""
        return {"type": "grammar", "syntax": self.syntax, "definition": self.definition}


def custom_tool(
    func: Callable[[str], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    grammar: Grammar | None = None,
) -> Any:
    """Return ``func`` as a custom tool; use bare (``@custom_tool``) or with keywords.

    ``func`` takes the model's raw input as its one argument (sync or async). ``description``
    defaults to the docstring. Without ``grammar`` the input is free text.

    Raises ``ToolSchemaError`` when ``func`` does not take exactly one argument.
    """

    def make(fn: Callable[[str], Any]) -> BaseTool:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        tool_name = str(name or getattr(fn, "__name__", "custom_tool"))
        if len(params) != 1:
            raise ToolSchemaError(
                f"a custom tool's function takes the model's input as its one argument; "
                f"{tool_name} takes {len(params)}",
                path=f"tools[{tool_name}]",
            )
        metadata: dict[str, Any] = {"type": CUSTOM_TOOL_MARKER}
        if grammar is not None:
            metadata["format"] = grammar.format()
        text = description or inspect.getdoc(fn) or ""
        coroutine = fn if inspect.iscoroutinefunction(fn) else None
        # A plain Tool takes one string: it passes the call's single argument on as is.
        built: StructuredTool | Tool = Tool(
            name=tool_name,
            description=text,
            func=None if coroutine else fn,
            coroutine=coroutine,
            metadata=metadata,
        )
        return built

    if func is not None:
        return make(func)
    return make
