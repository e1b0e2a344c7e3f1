"""Responses requests: LangChain messages, tools and tool_choice in; the JSON body out (no I/O).

Assistant turns replay their reasoning, message, tool-call and built-in tool items as the API
produced them (the content shape ``reply`` documents), so a conversation round-trips.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from typing_extensions import is_typeddict

from langchain_paramchat import tools as toolkit
from langchain_paramchat.apis.content import (
    AudioPart,
    ImagePart,
    custom_output_text,
    parse_parts,
    unwrap,
)
from langchain_paramchat.apis.request_parts import (
    add_call_fields,
    custom_input,
    dump_arguments,
    instruction_role,
)
from langchain_paramchat.apis.responses.input_content import input_parts, turn_items
from langchain_paramchat.errors import MessageConversionError
from langchain_paramchat.options.typecheck import typeddict_fields
from langchain_paramchat.routing.model_facts import is_reasoning_model

if TYPE_CHECKING:  # the tool modules load with the first call that binds tools
    from langchain_paramchat.tools.normalize import NeutralTool
    from langchain_paramchat.tools.tool_choice import NeutralChoice

__all__ = [
    "PATH",
    "TOOL_CALL_ITEMS",
    "build_payload",
    "convert_messages",
    "needs_encrypted_reasoning",
    "render_tool",
    "render_tool_choice",
    "unsupported_inputs",
]

PATH = "/responses"
_ENCRYPTED_REASONING = "reasoning.encrypted_content"
TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call"})
# Calls a ToolMessage may answer whose output item is not ``function_call_output``.
_CALLS_WITH_OWN_OUTPUT = frozenset(
    {"custom_tool_call", "shell_call", "apply_patch_call", "computer_call"}
)
# Output items a ToolMessage may hold ready-made; sent as given, with its call_id filled in.
_OWN_OUTPUT_ITEMS = frozenset({"shell_call_output", "apply_patch_call_output"})
_OPENAI_ANNOTATIONS = frozenset(
    {"url_citation", "file_citation", "container_file_citation", "file_path"}
)
# Blocks derived from other fields (tool_calls) or from other providers: nothing to replay.
_SKIPPED_AI_BLOCKS = frozenset(
    {
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        # Anthropic-format tool calls: tool_calls already carries them.
        "tool_use",
    }
)
_DATA_BLOCKS = frozenset({"image", "audio", "file", "video", "text-plain", "image_url"})
# LangChain assigns ids with this prefix; the API never accepts them as item ids.
_LANGCHAIN_ID_PREFIX = "lc_"


def unsupported_inputs(messages: Sequence[BaseMessage]) -> list[str]:
    """Name message contents the Responses API cannot carry (audio; Chat Completions can)."""
    found = []
    for i, message in enumerate(messages):
        # Cheap checks first: long histories are mostly plain text.
        content = message.content
        if content.__class__ is not str and isinstance(message, HumanMessage | ToolMessage):
            parts = parse_parts(content, where=f"messages[{i}]")
            if any(isinstance(p, AudioPart) for p in parts):
                found.append(f"audio input in messages[{i}]")
        extra = message.additional_kwargs
        if extra and isinstance(extra.get("audio"), dict) and isinstance(message, AIMessage):
            found.append(f"assistant audio in messages[{i}]")
    return found


# --- request body -------------------------------------------------------------------------


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
    """Return the exact JSON body for ``POST /responses``.

    ``placements`` are the options already placed by routing. With ``store=False`` on a
    reasoning model, ``include`` gains ``reasoning.encrypted_content`` so the reasoning items
    of this reply can be sent back next turn.
    """
    store = placements.get("store") is not False
    custom = frozenset(t["name"] for t in tools or () if t.get("type") == "custom")
    payload: dict[str, Any] = {
        "model": model,
        "input": convert_messages(messages, model=model, store=store, custom_tools=custom),
    }
    payload.update(placements)
    if needs_encrypted_reasoning(placements, model=model):
        payload["include"] = [*(placements.get("include") or []), _ENCRYPTED_REASONING]
    return add_call_fields(
        payload,
        tools=tools,
        tool_choice=tool_choice,
        stream=stream,
        stream_options=stream_options,
    )


# --- LangChain messages -> Responses input ----------------------------------------------------


def convert_messages(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    store: bool = True,
    custom_tools: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Return the Responses ``input`` items for ``messages``, in order.

    Assistant turns replay their reasoning, message, tool-call and built-in tool items as the
    API produced them (ids, encrypted reasoning and summaries intact); assistant turns from
    Chat Completions (plain text plus ``tool_calls``) convert too. With ``store=False``
    OpenAI keeps nothing to look ids up in, so message ids and reasoning items without
    ``encrypted_content`` are left out. Input item blocks in a message (``INPUT_ITEM_TYPES``)
    become top-level items just before the message that carried them, and blocks of a type
    this package does not know are left out (see ``input_content``). A ``ToolMessage``
    answering a shell, apply_patch, computer or custom tool call becomes that call's
    ``*_output`` item. A tool call to one of ``custom_tools`` (bound custom tools' names)
    that the turn holds no item for (a Chat Completions turn) is sent as a
    ``custom_tool_call``.

    Raises ``MessageConversionError`` for a message or content block Responses cannot carry.
    """
    items: list[dict[str, Any]] = []
    calls: dict[str, str] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            role = instruction_role(message, model)
            items.extend(turn_items(role, message.content, where, render_tool=render_tool))
        elif isinstance(message, HumanMessage):
            items.extend(turn_items("user", message.content, where, render_tool=render_tool))
        elif isinstance(message, AIMessage):
            items.extend(_assistant_items(message, where, calls, store, custom_tools))
        elif isinstance(message, ToolMessage):
            items.extend(_tool_output(message, where, calls))
        elif isinstance(message, ChatMessage) and message.role in ("system", "developer"):
            items.extend(turn_items(message.role, message.content, where, render_tool=render_tool))
        elif isinstance(message, ChatMessage) and message.role == "user":
            items.extend(turn_items("user", message.content, where, render_tool=render_tool))
        elif isinstance(message, ChatMessage) and message.role == "assistant":
            assistant = AIMessage(content=message.content)
            items.extend(_assistant_items(assistant, where, calls, store, custom_tools))
        else:
            raise MessageConversionError(
                f"{where}: {type(message).__name__} (role {getattr(message, 'role', None)!r}) "
                "cannot be sent to the Responses API; use system, human, AI or tool messages"
            )
    return items


def needs_encrypted_reasoning(options: Mapping[str, Any], *, model: str) -> bool:
    """Return True when ``include`` should gain ``"reasoning.encrypted_content"``.

    ``options`` are option values or their Responses placements (the keys coincide for
    ``store``, ``include`` and ``reasoning``).

    With ``store=False`` OpenAI keeps no reasoning items, so replaying one by id fails unless
    its encrypted content came back with it. Only reasoning models (a ``reasoning`` option or
    a model family that takes the developer role) accept that include.
    """
    if options.get("store") is not False:
        return False
    if _ENCRYPTED_REASONING in (options.get("include") or ()):
        return False
    return options.get("reasoning") is not None or is_reasoning_model(model)


def _tool_output(
    message: ToolMessage, where: str, calls: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Return the output item(s) answering the call ``message.tool_call_id`` names.

    The call's kind (from the history, or a ``*_output`` block in the message) picks the
    item: OpenAI pairs ``function_call_output`` only with function calls.
    """
    call_id = message.tool_call_id
    content = message.content
    blocks = [] if isinstance(content, str) else [unwrap(b) for b in content]
    given = [b for b in blocks if isinstance(b, dict) and b.get("type") in _OWN_OUTPUT_ITEMS]
    if given:
        return [{**_without_index(b), "call_id": b.get("call_id") or call_id} for b in given]
    kind = calls.get(call_id)
    if kind is None and any(
        isinstance(b, dict) and b.get("type") == "custom_tool_call_output" for b in blocks
    ):
        kind = "custom_tool_call"
    failed = message.status == "error"
    if kind == "shell_call":
        outcome = {"type": "exit", "exit_code": 1 if failed else 0}
        stdout, stderr = ("", message.text) if failed else (message.text, "")
        result = [{"stdout": stdout, "stderr": stderr, "outcome": outcome}]
        return [{"type": "shell_call_output", "call_id": call_id, "output": result}]
    if kind == "apply_patch_call":
        status = "failed" if failed else "completed"
        item = {"type": "apply_patch_call_output", "call_id": call_id, "status": status}
        return [{**item, "output": message.text}]
    if kind == "computer_call":
        return [_computer_output(message, where)]
    text = content if isinstance(content, str) else custom_output_text(blocks)
    output: str | list[dict[str, Any]] = text if text is not None else input_parts(content, where)
    out_kind = "custom_tool_call_output" if kind == "custom_tool_call" else "function_call_output"
    return [{"type": out_kind, "call_id": call_id, "output": output}]


def _computer_output(message: ToolMessage, where: str) -> dict[str, Any]:
    images = [
        p
        for p in parse_parts(message.content, where=where)
        if isinstance(p, ImagePart) and (p.url or p.file_id)
    ]
    if len(images) != 1:
        raise MessageConversionError(
            f"{where}: the answer to computer call {message.tool_call_id!r} must hold exactly one "
            f"screenshot (an image block), got {len(images)}"
        )
    shot: dict[str, Any] = {"type": "computer_screenshot"}
    if images[0].file_id:
        shot["file_id"] = images[0].file_id
    else:
        shot["image_url"] = images[0].url
    item = {"type": "computer_call_output", "call_id": message.tool_call_id, "output": shot}
    checks = message.additional_kwargs.get("acknowledged_safety_checks")
    if checks:
        item["acknowledged_safety_checks"] = checks
    return item


def _usable_id(value: Any) -> str | None:
    if isinstance(value, str) and value and not value.startswith(_LANGCHAIN_ID_PREFIX):
        return value
    return None


def _assistant_items(
    message: AIMessage,
    where: str,
    calls: dict[str, str],
    store: bool,
    custom_tools: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    valid = {str(tc["id"]): tc for tc in message.tool_calls if tc.get("id")}
    invalid = {str(tc["id"]): tc for tc in message.invalid_tool_calls if tc.get("id")}
    items: list[dict[str, Any]] = []
    replayed: set[str] = set()
    blocks: Iterable[Any] = (
        [{"type": "text", "text": message.content}]
        if isinstance(message.content, str)
        else message.content
    )
    for j, raw in enumerate(blocks):
        block = {"type": "text", "text": raw} if isinstance(raw, str) else raw
        if not isinstance(block, dict):
            raise MessageConversionError(f"{where}.content[{j}]: expected a dict, got {raw!r}")
        if block.get("type") == "non_standard" and isinstance(block.get("value"), dict):
            block = block["value"]  # langchain-core's wrapper for items it has no type for
        kind = block.get("type")
        if kind in ("text", "output_text", "refusal"):
            _add_message_part(items, block, store)
        elif kind == "reasoning":
            _add_reasoning(items, block, store)
        elif kind in TOOL_CALL_ITEMS:
            call_id = str(block.get("call_id"))
            items.append(_call_item(block, valid.get(call_id), invalid.get(call_id)))
            replayed.add(call_id)
            calls[call_id] = str(kind)
        elif kind in _SKIPPED_AI_BLOCKS:
            continue
        elif kind in _DATA_BLOCKS or not isinstance(kind, str):
            raise MessageConversionError(
                f"{where}.content[{j}]: assistant content of type {kind!r} cannot be sent to the "
                "Responses API; keep text, reasoning and tool-call blocks"
            )
        else:
            items.append(_replayed(block))  # built-in tool items, replayed as produced
            if kind in _CALLS_WITH_OWN_OUTPUT and isinstance(block.get("call_id"), str):
                calls[block["call_id"]] = str(kind)
    for call_id, tc in valid.items():
        if call_id in replayed:
            continue
        raw = custom_input(tc["args"])
        if tc["name"] in custom_tools and raw is not None:
            item = {"type": "custom_tool_call", "call_id": call_id, "name": tc["name"]}
            items.append({**item, "input": raw})
            calls[call_id] = "custom_tool_call"
        else:
            arguments = dump_arguments(tc["args"], name=tc["name"])
            items.append(_function_call(call_id, tc["name"], arguments))
    for call_id, bad in invalid.items():
        if call_id not in replayed:
            items.append(_function_call(call_id, bad.get("name") or "", bad.get("args") or ""))
    missing = [
        tc.get("name")
        for tc in [*message.tool_calls, *message.invalid_tool_calls]
        if not tc.get("id")
    ]
    if missing:
        raise MessageConversionError(
            f"{where}: tool call {missing[0]!r} has no id; the Responses API needs a call_id "
            "to pair each call with its ToolMessage"
        )
    return items


def _replayed(block: Mapping[str, Any]) -> dict[str, Any]:
    """Return an output item as input: without the keys its input type lacks (``created_by``)."""
    fields = _input_item_fields().get(str(block.get("type")))
    if fields is None:
        return _without_index(block)
    return {k: v for k, v in block.items() if k in fields}


@cache
def _input_item_fields() -> dict[str, frozenset[str]]:
    """Return, per input item ``type``, the keys the SDK's input item type allows."""
    from openai.types.responses.response_input_item_param import ResponseInputItemParam

    out: dict[str, frozenset[str]] = {}
    for option in get_args(ResponseInputItemParam):
        if not is_typeddict(option):
            continue
        hints, _ = typeddict_fields(option)
        tag = hints.get("type")
        for arg in get_args(tag) if get_origin(tag) is Literal else ():
            # Two input types may share a tag (messages); keep every key either allows.
            out[str(arg)] = out.get(str(arg), frozenset()) | frozenset(hints)
    return out


def _function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def _without_index(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "index"}


def _add_message_part(items: list[dict[str, Any]], block: Mapping[str, Any], store: bool) -> None:
    # Without storage the id names nothing OpenAI kept; the message is replayed by content.
    msg_id = _usable_id(block.get("id")) if store else None
    if block.get("type") == "refusal":
        text = block.get("refusal") or ""
        part: dict[str, Any] = {"type": "refusal", "refusal": text}
    else:
        text = block.get("text") or ""
        annotations = [
            a
            for a in block.get("annotations") or []
            if isinstance(a, dict) and a.get("type") in _OPENAI_ANNOTATIONS
        ]
        part = {"type": "output_text", "text": text, "annotations": annotations}
    if msg_id is None:
        # Without an item id only the plain "easy" message shape is valid input.
        if text:
            items.append({"type": "message", "role": "assistant", "content": text})
        return
    last = items[-1] if items else None
    if last is not None and last.get("type") == "message" and last.get("id") == msg_id:
        last["content"].append(part)
        return
    item: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "id": msg_id,
        "status": "completed",
        "content": [part],
    }
    if block.get("phase"):
        item["phase"] = block["phase"]
    items.append(item)


def _add_reasoning(items: list[dict[str, Any]], block: Mapping[str, Any], store: bool) -> None:
    reasoning_id = _usable_id(block.get("id"))
    if reasoning_id is None:
        return  # a reasoning item without an id cannot be referenced by the API
    extras: Mapping[str, Any] = block.get("extras") or {}
    if not store and not (block.get("encrypted_content") or extras.get("encrypted_content")):
        # Nothing kept it: replayed by id alone, OpenAI answers 404.
        return
    if "summary" in block:
        summary = [s.get("text", "") for s in block.get("summary") or [] if isinstance(s, dict)]
    else:
        # langchain-core's standard form: one block per summary part, sharing the item id.
        summary = [block["reasoning"]] if block.get("reasoning") else []
    last = items[-1] if items else None
    if last is not None and last.get("type") == "reasoning" and last.get("id") == reasoning_id:
        last["summary"].extend({"type": "summary_text", "text": t} for t in summary)
        return
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": reasoning_id,
        "summary": [{"type": "summary_text", "text": t} for t in summary],
    }
    encrypted = block.get("encrypted_content") or extras.get("encrypted_content")
    if encrypted:
        item["encrypted_content"] = encrypted
    content = block.get("content") or extras.get("content")
    if content:
        item["content"] = [
            {"type": "reasoning_text", "text": c.get("text", "")}
            for c in content
            if isinstance(c, dict)
        ]
    items.append(item)


def _call_item(
    block: Mapping[str, Any], valid: ToolCall | None, invalid: InvalidToolCall | None
) -> dict[str, Any]:
    item = {k: v for k, v in block.items() if k not in ("index", "status") and v is not None}
    if valid is not None:
        item["name"] = valid["name"]
        if item["type"] == "custom_tool_call":
            raw = custom_input(valid["args"])
            item["input"] = (
                raw
                if raw is not None
                else dump_arguments(valid["args"], name=valid["name"], ascii_only=True)
            )
        elif _loads(item.get("arguments")) != valid["args"]:
            # Keep the model's exact argument text when it still says the same thing, so
            # the replayed prefix stays cacheable; otherwise send the edited arguments.
            item["arguments"] = dump_arguments(valid["args"], name=valid["name"])
    elif invalid is not None:
        item["name"] = invalid.get("name") or item.get("name") or ""
        field_name = "input" if item["type"] == "custom_tool_call" else "arguments"
        item[field_name] = invalid.get("args") or ""
    return item


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text) if text.strip() else {}
    except (json.JSONDecodeError, RecursionError):
        return None


# --- tools ------------------------------------------------------------------------------------


def render_tool(tool: NeutralTool | Any) -> dict[str, Any]:
    """Render a tool in the Responses API shape; built-in tools pass through unchanged.

    A tool not read yet (a LangChain tool, a model, a function) is read first.
    """
    return toolkit.tool_spec(toolkit.normalize_tool(tool))


def render_tool_choice(choice: NeutralChoice) -> str | dict[str, Any]:
    """Render a neutral tool_choice in the Responses API shape."""
    if isinstance(choice, toolkit.ToolChoiceMode):
        return choice.mode
    if isinstance(choice, toolkit.ToolChoiceAllowed):
        return {
            "type": "allowed_tools",
            "mode": choice.mode,
            "tools": [_tool_ref(t) for t in choice.tools],
        }
    tool = choice.tool
    if not isinstance(tool, toolkit.BuiltinTool):
        return _tool_ref(tool)
    if tool.type == "mcp":
        out = _tool_ref(tool)
        if choice.mcp_tool:
            out["name"] = choice.mcp_tool
        return out
    if tool.type in _forceable_types():
        return {"type": tool.type}
    # Responses' tool_choice cannot name this built-in by type; allowing only it and requiring
    # a call forces it all the same.
    return {"type": "allowed_tools", "mode": "required", "tools": [_tool_ref(tool)]}


def _tool_ref(tool: NeutralTool) -> dict[str, Any]:
    if isinstance(tool, toolkit.FunctionTool):
        return {"type": "function", "name": tool.name}
    if isinstance(tool, toolkit.CustomTool):
        return {"type": "custom", "name": tool.name}
    out: dict[str, Any] = {"type": tool.type}
    for key in ("server_label", "name"):
        if key in tool.spec:
            out[key] = tool.spec[key]
    return out


@cache
def _forceable_types() -> frozenset[str]:
    """Return built-in tool types Responses' tool_choice can name as ``{"type": ...}`` alone."""
    from openai.types.responses.response_create_params import ResponseCreateParamsBase

    hint = typing.get_type_hints(ResponseCreateParamsBase)["tool_choice"]
    out: set[str] = set()
    for option in get_args(hint):
        if not is_typeddict(option):
            continue
        hints, required = typeddict_fields(option)
        tag = hints.get("type")
        if set(hints) == {"type"} and required == {"type"} and get_origin(tag) is Literal:
            out.update(str(a) for a in get_args(tag))
    return frozenset(out)
