"""Chat Completions requests: LangChain messages, tools and tool_choice in; the JSON body out."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)

from langchain_paramchat import tools as toolkit
from langchain_paramchat.apis.content import (
    AudioPart,
    FilePart,
    ImagePart,
    ItemPart,
    OtherPart,
    Part,
    TextPart,
    parse_parts,
)
from langchain_paramchat.apis.history import responses_only_history
from langchain_paramchat.apis.request_parts import (
    add_call_fields,
    custom_input,
    dump_arguments,
    instruction_role,
)
from langchain_paramchat.errors import (
    IncompatibleOptionsError,
    MessageConversionError,
    ToolSchemaError,
)

if TYPE_CHECKING:  # the tool modules load with the first call that binds tools
    from langchain_paramchat.tools.normalize import NeutralTool
    from langchain_paramchat.tools.tool_choice import NeutralChoice

__all__ = [
    "PATH",
    "build_payload",
    "convert_messages",
    "render_tool",
    "render_tool_choice",
    "unsupported_inputs",
    "unsupported_tools",
]

PATH = "/chat/completions"


# --- messages in ----------------------------------------------------------------------------


def convert_messages(
    messages: Sequence[BaseMessage], *, model: str, custom_tools: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Return the Chat Completions ``messages`` list for LangChain messages.

    A tool call to one of ``custom_tools`` (the bound custom tools' names) is sent back as
    a custom tool call, its ``args["input"]`` as the raw input.

    Content blocks of a type this package does not know are forwarded as given, as
    ChatOpenAI forwards them.

    Raises ``MessageConversionError`` for a message or content block Chat Completions cannot carry.
    """
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            out.append(
                {
                    "role": instruction_role(message, model),
                    "content": _instruction(message, where),
                    **_name(message),
                }
            )
        elif isinstance(message, HumanMessage):
            out.append(
                {"role": "user", "content": _user_content(message.content, where), **_name(message)}
            )
        elif isinstance(message, AIMessage):
            out.append({**_assistant(message, custom_tools), **_name(message)})
        elif isinstance(message, ToolMessage):
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_call_id,
                    "content": _tool_content(message.content, where),
                }
            )
        elif isinstance(message, FunctionMessage):
            out.append({"role": "function", "name": message.name, "content": message.text})
        elif isinstance(message, ChatMessage):
            out.append({"role": message.role, "content": message.text})
        else:
            raise MessageConversionError(
                f"{where}: unsupported message type {type(message).__name__}"
            )
    return out


def _name(message: BaseMessage) -> dict[str, Any]:
    """Return the ``name`` field a message sends (its name, as ChatOpenAI sends it), if any."""
    name = message.name or message.additional_kwargs.get("name")
    return {"name": name} if isinstance(name, str) and name else {}


def _instruction(message: BaseMessage, where: str) -> str | list[dict[str, Any]]:
    """Return a system turn's content: a string as a string, a list of parts as parts."""
    if isinstance(message.content, str):
        return message.content
    blocks: list[dict[str, Any]] = []
    for part in parse_parts(message.content, where=where, system=True):
        if isinstance(part, ItemPart):
            raise _needs_responses(part, where)
        if isinstance(part, OtherPart):
            blocks.append(part.block)
        elif isinstance(part, TextPart):
            blocks.append(_text_part(part))
        else:
            raise MessageConversionError(f"{where}: {type(message).__name__} accepts only text")
    return blocks or ""


def _text_part(part: TextPart) -> dict[str, Any]:
    return {"type": "text", "text": part.text, **part.marks}


def _needs_responses(part: ItemPart, where: str) -> MessageConversionError:
    return MessageConversionError(
        f"{where}: a {part.type} item needs the Responses API; Chat Completions has no such "
        "input. Use api='auto' or api='responses' (use_responses_api=True)"
    )


def _user_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in parse_parts(content, where=where):
        if isinstance(part, TextPart):
            blocks.append(_text_part(part))
        elif isinstance(part, ItemPart):
            raise _needs_responses(part, where)
        elif isinstance(part, OtherPart):
            blocks.append(part.block)
        elif isinstance(part, ImagePart):
            if part.url is None:
                raise MessageConversionError(
                    f"{where}: images by file_id need the Responses API (api='responses')"
                )
            spec: dict[str, Any] = {"url": part.url}
            if part.detail:
                spec["detail"] = part.detail
            blocks.append({"type": "image_url", "image_url": spec, **part.marks})
        elif isinstance(part, AudioPart):
            blocks.append(
                {
                    "type": "input_audio",
                    "input_audio": {"data": part.data_b64, "format": part.format},
                    **part.marks,
                }
            )
        elif isinstance(part, FilePart):
            blocks.append({"type": "file", "file": _file_spec(part, where), **part.marks})
    return blocks


def _file_spec(part: FilePart, where: str) -> dict[str, Any]:
    if part.file_id:
        return {"file_id": part.file_id}
    data_url = part.data_url()
    if data_url is None:
        raise MessageConversionError(
            f"{where}: files by URL need the Responses API (api='responses')"
        )
    return {"file_data": data_url, "filename": part.filename or "file.pdf"}


def _tool_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in parse_parts(content, where=where):
        if isinstance(part, ItemPart):
            raise _needs_responses(part, where)
        if isinstance(part, TextPart):
            blocks.append(_text_part(part))
        elif isinstance(part, OtherPart):
            blocks.append(part.block)
        else:
            break
    else:
        return blocks
    raise MessageConversionError(
        f"{where}: tool results with images or files need the Responses API (api='responses')"
    )


def _assistant(message: AIMessage, custom_tools: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    text = message.text
    out["content"] = text or None
    calls = [_tool_call_out(tc, custom_tools) for tc in message.tool_calls]
    calls += [
        {
            "id": bad["id"],
            "type": "function",
            "function": {"name": bad["name"], "arguments": bad.get("args") or ""},
        }
        for bad in message.invalid_tool_calls
    ]
    if calls:
        out["tool_calls"] = calls
    elif isinstance(message.additional_kwargs.get("function_call"), dict):
        # A legacy function-call turn; OpenAI rejects it next to tool_calls.
        out["function_call"] = message.additional_kwargs["function_call"]
    audio = message.additional_kwargs.get("audio")
    if isinstance(audio, dict) and audio.get("id"):
        out["audio"] = {"id": audio["id"]}
    refusal = message.additional_kwargs.get("refusal")
    if refusal and not text:
        out["refusal"] = refusal
    if out["content"] is None and not {"tool_calls", "function_call", "audio"} & out.keys():
        out["content"] = ""
    return out


def _tool_call_out(call: ToolCall, custom_tools: frozenset[str]) -> dict[str, Any]:
    args = call["args"]
    custom = call["name"] in custom_tools or _is_custom(call)
    raw = custom_input(args)
    if raw is not None and call.get("id") and custom:
        return {"id": call["id"], "type": "custom", "custom": {"name": call["name"], "input": raw}}
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": dump_arguments(args, name=call["name"])},
    }


def _is_custom(call: ToolCall) -> bool:
    return bool((call.get("id") or "").startswith("ctc_"))


def unsupported_inputs(messages: Sequence[BaseMessage]) -> list[str]:
    """Name message contents Chat Completions cannot carry (the Responses API can).

    That is images by file_id, files by URL, tool results with images or files, input item
    blocks (``mcp_approval_response``, ...) and assistant turns holding Responses-only items
    (compaction, tool search, encrypted reasoning, MCP, shell, apply_patch).
    """
    found = responses_only_history(messages)
    for i, message in enumerate(messages):
        if message.content.__class__ is str or not isinstance(
            message, HumanMessage | ToolMessage | SystemMessage
        ):
            continue
        where = f"messages[{i}]"
        parts = parse_parts(message.content, where=where, system=isinstance(message, SystemMessage))
        found.extend(_item_part_names(parts, where))
        if isinstance(message, ToolMessage):
            if any(isinstance(p, ImagePart | FilePart | AudioPart) for p in parts):
                found.append(f"a tool result with images or files in {where}")
            continue
        for part in parts:
            if isinstance(part, ImagePart) and part.url is None:
                found.append(f"an image by file_id in {where}")
            elif isinstance(part, FilePart) and not part.file_id and part.data_url() is None:
                found.append(f"a file by URL in {where}")
    return found


def _item_part_names(parts: list[Part], where: str) -> list[str]:
    return [f"a {p.type} item in {where}" for p in parts if isinstance(p, ItemPart)]


def unsupported_tools(tools: Sequence[NeutralTool]) -> list[str]:
    """Name the bound tools only the Responses API can serve (built-ins, Responses-only keys)."""
    if not tools:
        return []
    out = []
    for tool in tools:
        if isinstance(tool, toolkit.BuiltinTool):
            out.append(tool.label)
        elif tool.responses_only:
            out.append(f"{tool.name} ({', '.join(sorted(tool.responses_only))})")
    return out


def build_payload(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    placements: dict[str, Any],
    tools: list[dict[str, Any]] | None,
    tool_choice: Any,
    stream: bool,
    stream_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """Return the exact JSON body for ``POST /chat/completions``."""
    custom = frozenset(t["custom"]["name"] for t in tools or () if t.get("type") == "custom")
    payload: dict[str, Any] = {
        "model": model,
        "messages": convert_messages(messages, model=model, custom_tools=custom),
    }
    payload.update(placements)
    return add_call_fields(
        payload,
        tools=tools,
        tool_choice=tool_choice,
        stream=stream,
        stream_options=stream_options,
    )


# --- tools ------------------------------------------------------------------------------------


def render_tool(tool: NeutralTool) -> dict[str, Any]:
    """Render a tool in the Chat Completions shape; built-in tools raise ToolSchemaError."""
    if isinstance(tool, toolkit.BuiltinTool):
        raise ToolSchemaError(
            f"the built-in tool {tool.type!r} needs the Responses API; Chat Completions only "
            "takes function and custom tools. Use the Responses API or remove the tool",
            path=f"tools[{tool.label}]",
        )
    if tool.responses_only:
        keys = ", ".join(sorted(tool.responses_only))
        raise ToolSchemaError(
            f"only the Responses API's tools take {keys}; use the Responses API or drop them",
            path=f"tools[{tool.name}]",
        )
    if isinstance(tool, toolkit.FunctionTool):
        function: dict[str, Any] = {"name": tool.name}
        if tool.description:
            function["description"] = tool.description
        function["parameters"] = copy.deepcopy(tool.parameters)
        function["strict"] = tool.strict
        return {"type": "function", "function": function}
    custom: dict[str, Any] = {"name": tool.name}
    if tool.description:
        custom["description"] = tool.description
    if tool.format is not None:
        custom["format"] = _custom_format(tool.format)
    return {"type": "custom", "custom": custom}


def _custom_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt.get("type") == "grammar":
        return {
            "type": "grammar",
            "grammar": {k: copy.deepcopy(v) for k, v in fmt.items() if k != "type"},
        }
    return copy.deepcopy(fmt)


def render_tool_choice(choice: NeutralChoice) -> str | dict[str, Any]:
    """Render a neutral tool_choice in the Chat Completions shape."""
    if isinstance(choice, toolkit.ToolChoiceMode):
        return choice.mode
    if isinstance(choice, toolkit.ToolChoiceNamed):
        return _tool_ref(choice.tool)
    return {
        "type": "allowed_tools",
        "allowed_tools": {"mode": choice.mode, "tools": [_tool_ref(t) for t in choice.tools]},
    }


def _tool_ref(tool: NeutralTool) -> dict[str, Any]:
    if isinstance(tool, toolkit.FunctionTool):
        return {"type": "function", "function": {"name": tool.name}}
    if isinstance(tool, toolkit.CustomTool):
        return {"type": "custom", "custom": {"name": tool.name}}
    raise IncompatibleOptionsError(
        f"tool_choice names the built-in tool {tool.label!r}, which needs the Responses API; "
        "Chat Completions can only choose function and custom tools"
    )
