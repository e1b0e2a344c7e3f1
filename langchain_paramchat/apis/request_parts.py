"""Parts of a request body both APIs build alike: tools, ``tool_choice``, streaming, roles."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage

from langchain_paramchat.bounds import json_shape_problem
from langchain_paramchat.errors import MessageConversionError
from langchain_paramchat.routing.model_facts import system_role

__all__ = ["add_call_fields", "custom_input", "dump_arguments", "instruction_role"]


def custom_input(args: Any) -> str | None:
    """Return a custom tool call's raw input from its ``args``, or None when they hold none.

    ParamChat reads a custom call as ``{"input": text}``, langchain-openai as
    ``{"__arg1": text}``: either way one string argument is the text the model wrote.
    """
    if not isinstance(args, dict) or len(args) != 1:
        return None
    [value] = args.values()
    return value if isinstance(value, str) else None


def instruction_role(message: BaseMessage, model: str) -> str:
    """Return a system message's role: ``developer`` when it asks for it, else the model's.

    ``additional_kwargs["__openai_role__"] = "developer"`` is how ChatOpenAI marks a
    developer message.
    """
    if message.additional_kwargs.get("__openai_role__") == "developer":
        return "developer"
    return system_role(model)


def dump_arguments(args: Any, *, name: str = "", ascii_only: bool = False) -> str:
    """Return tool-call ``args`` as the JSON text the API takes.

    Raises ``MessageConversionError`` when they nest too deep or hold too much to send.
    """
    shape = json_shape_problem(args)
    if shape is not None:
        raise MessageConversionError(
            f"tool call {name!r} in the message history has arguments that {shape}"
        )
    return json.dumps(args, ensure_ascii=ascii_only)


def add_call_fields(
    payload: dict[str, Any],
    *,
    tools: list[dict[str, Any]] | None,
    tool_choice: Any,
    stream: bool,
    stream_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """Add the rendered tools, ``tool_choice`` and stream settings to ``payload``; return it."""
    if tools:
        payload["tools"] = tools
    if tool_choice is not None:
        payload["tool_choice"] = tool_choice
    if stream:
        payload["stream"] = True
        if stream_options:
            payload["stream_options"] = stream_options
    return payload
