"""Build Responses API request bodies from LangChain messages, and read replies back.

Pure functions plus one stateful stream parser; no I/O. Results follow langchain-core's
"responses/v1" content shape, so ``msg.text`` and ``msg.content_blocks`` work:

- ``{"type": "text", "text", "annotations", "id": msg_id, "phase"?}`` per ``output_text`` part,
  ``{"type": "refusal", "refusal", "id": msg_id}`` per refusal part;
- ``{"type": "reasoning", "id", "summary": [{"type": "summary_text", "text", "index"}],
  "encrypted_content"?, "content"?: [{"type": "reasoning_text", "text", "index"}]}``;
- ``function_call`` / ``custom_tool_call`` items without ``status``, so item ids round-trip;
- every other item (built-in tools such as ``web_search_call``) exactly as the API sent it.

Each block carries ``index``, its position in ``content``: the item's ``output_index``
whenever every item yields one block (the usual case). Streamed chunks carry the same
indexes, so ``AIMessageChunk.__add__`` merges them into what ``parse_response`` returns.

Custom (free-form) tool calls become ``tool_calls`` with ``args={"input": <raw text>}``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_paramchat.apis.common import (
    MODEL_PROVIDER,
    detail,
    parse_tool_call,
    system_role,
    usage_metadata,
)
from langchain_paramchat.apis.content import (
    FilePart,
    ImagePart,
    Part,
    TextPart,
    parse_parts,
)
from langchain_paramchat.errors import APIError, MessageConversionError, ResponseFormatError

__all__ = [
    "PATH",
    "StreamParser",
    "build_payload",
    "convert_messages",
    "needs_encrypted_reasoning",
    "parse_response",
]

PATH = "/responses"
_ENCRYPTED_REASONING = "reasoning.encrypted_content"
_TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call"})
# The one field of a block that arrives in pieces while streaming; all others arrive once.
_STREAMED_FIELD = {
    "text": "text",
    "refusal": "refusal",
    "function_call": "arguments",
    "custom_tool_call": "input",
}
# Reasoning lists whose entries stream separately, matched by their own "index".
_REASONING_LISTS = ("summary", "content")
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
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
    payload: dict[str, Any] = {"model": model, "input": convert_messages(messages, model=model)}
    payload.update(placements)
    if needs_encrypted_reasoning(placements, model=model):
        payload["include"] = [*(placements.get("include") or []), _ENCRYPTED_REASONING]
    if tools:
        payload["tools"] = tools
    if tool_choice is not None:
        payload["tool_choice"] = tool_choice
    if stream:
        payload["stream"] = True
        if stream_options:
            payload["stream_options"] = stream_options
    return payload


# --- LangChain messages -> Responses input ----------------------------------------------------


def convert_messages(messages: Sequence[BaseMessage], *, model: str) -> list[dict[str, Any]]:
    """Return the Responses ``input`` items for ``messages``, in order.

    Assistant turns replay their reasoning, message, tool-call and built-in tool items as the
    API produced them (ids, encrypted reasoning and summaries intact); assistant turns from
    Chat Completions (plain text plus ``tool_calls``) convert too.
    """
    items: list[dict[str, Any]] = []
    custom_call_ids: set[str] = set()
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            items.append(
                {"role": system_role(model), "content": _instruction(message.content, where)}
            )
        elif isinstance(message, HumanMessage):
            items.append({"role": "user", "content": _input_parts(message.content, where)})
        elif isinstance(message, AIMessage):
            items.extend(_assistant_items(message, where, custom_call_ids))
        elif isinstance(message, ToolMessage):
            items.append(_tool_output(message, where, custom_call_ids))
        elif isinstance(message, ChatMessage) and message.role in ("system", "developer"):
            items.append({"role": message.role, "content": _instruction(message.content, where)})
        elif isinstance(message, ChatMessage) and message.role == "user":
            items.append({"role": "user", "content": _input_parts(message.content, where)})
        elif isinstance(message, ChatMessage) and message.role == "assistant":
            assistant = AIMessage(content=message.content)
            items.extend(_assistant_items(assistant, where, custom_call_ids))
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
    return options.get("reasoning") is not None or system_role(model) == "developer"


def _instruction(content: str | list[Any], where: str) -> str | list[dict[str, Any]]:
    return content if isinstance(content, str) else _input_parts(content, where)


def _input_parts(content: str | list[Any], where: str) -> list[dict[str, Any]]:
    return [_input_part(part, where) for part in parse_parts(content, where=where)]


def _input_part(part: Part, where: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"type": "input_image", "detail": part.detail or "auto"}
        if part.file_id is not None:
            image["file_id"] = part.file_id
        if part.url is not None:
            image["image_url"] = part.url
        return image
    if isinstance(part, FilePart):
        file: dict[str, Any] = {"type": "input_file"}
        data_url = part.data_url()
        if data_url is not None:
            file["file_data"] = data_url
            # OpenAI rejects inline file data without a filename.
            file["filename"] = part.filename or _default_filename(part.mime_type)
        elif part.filename:
            file["filename"] = part.filename
        if part.file_id is not None:
            file["file_id"] = part.file_id
        if part.url is not None:
            file["file_url"] = part.url
        return file
    raise MessageConversionError(
        f"{where}: audio input needs Chat Completions; the Responses API takes no audio "
        "content. Drop the Responses-only options so the request routes to Chat Completions"
    )


def _default_filename(mime_type: str | None) -> str:
    subtype = (mime_type or "application/pdf").split("/", 1)[-1].split("+", 1)[0]
    return f"document.{subtype}"


def _tool_output(message: ToolMessage, where: str, custom_call_ids: set[str]) -> dict[str, Any]:
    output: str | list[dict[str, Any]] = (
        message.content
        if isinstance(message.content, str)
        else _input_parts(message.content, where)
    )
    call_id = message.tool_call_id
    kind = "custom_tool_call_output" if call_id in custom_call_ids else "function_call_output"
    return {"type": kind, "call_id": call_id, "output": output}


def _usable_id(value: Any) -> str | None:
    if isinstance(value, str) and value and not value.startswith(_LANGCHAIN_ID_PREFIX):
        return value
    return None


def _assistant_items(
    message: AIMessage, where: str, custom_call_ids: set[str]
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
            _add_message_part(items, block)
        elif kind == "reasoning":
            _add_reasoning(items, block)
        elif kind in _TOOL_CALL_ITEMS:
            call_id = str(block.get("call_id"))
            items.append(_call_item(block, valid.get(call_id), invalid.get(call_id)))
            replayed.add(call_id)
            if kind == "custom_tool_call":
                custom_call_ids.add(call_id)
        elif kind in _SKIPPED_AI_BLOCKS:
            continue
        elif kind in _DATA_BLOCKS or not isinstance(kind, str):
            raise MessageConversionError(
                f"{where}.content[{j}]: assistant content of type {kind!r} cannot be sent to the "
                "Responses API; keep text, reasoning and tool-call blocks"
            )
        else:
            items.append(_without_index(block))  # built-in tool items, replayed as produced
    for call_id, tc in valid.items():
        if call_id not in replayed:
            arguments = json.dumps(tc["args"], ensure_ascii=False)
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


def _function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def _without_index(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "index"}


def _add_message_part(items: list[dict[str, Any]], block: Mapping[str, Any]) -> None:
    msg_id = _usable_id(block.get("id"))
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


def _add_reasoning(items: list[dict[str, Any]], block: Mapping[str, Any]) -> None:
    reasoning_id = _usable_id(block.get("id"))
    if reasoning_id is None:
        return  # a reasoning item without an id cannot be referenced by the API
    extras: Mapping[str, Any] = block.get("extras") or {}
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
            raw = valid["args"].get("input")
            item["input"] = raw if isinstance(raw, str) else json.dumps(valid["args"])
        elif _loads(item.get("arguments")) != valid["args"]:
            # Keep the model's exact argument text when it still says the same thing, so
            # the replayed prefix stays cacheable; otherwise send the edited arguments.
            item["arguments"] = json.dumps(valid["args"], ensure_ascii=False)
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
    except json.JSONDecodeError:
        return None


# --- Responses output -> LangChain ------------------------------------------------------------


def parse_response(body: dict[str, Any]) -> ChatResult:
    """Return the ``ChatResult`` for a Responses API body; raise ``APIError`` if it failed."""
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a Responses object, got {type(body).__name__}")
    if body.get("status") == "failed":
        raise _api_error(body.get("error"), f"response {body.get('id')} failed")
    output = body.get("output")
    if not isinstance(output, list):
        raise ResponseFormatError(
            f"Responses body has no 'output' list (keys: {', '.join(map(str, body))})"
        )
    content: list[dict[str, Any]] = []
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for position, item in enumerate(output):
        if not isinstance(item, dict):
            raise ResponseFormatError(f"output[{position}] is not an object: {item!r}")
        for block in _item_blocks(item):
            block["index"] = len(content)
            content.append(block)
        call = _tool_call(item)
        if call is not None and call["type"] == "tool_call":
            tool_calls.append(call)
        elif call is not None:
            invalid.append(call)
    message = AIMessage(
        content=content,  # type: ignore[arg-type]
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=_usage(body.get("usage")),
        response_metadata=_response_metadata(body),
        id=body.get("id"),
    )
    return ChatResult(generations=[ChatGeneration(message=message)])


def _item_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the content blocks (without ``index``) one output item becomes."""
    kind = item.get("type")
    if kind == "message":
        return [
            _part_block(item, part) for part in item.get("content") or [] if isinstance(part, dict)
        ]
    if kind == "reasoning":
        return [_reasoning_block(item)]
    if kind in _TOOL_CALL_ITEMS:
        return [{k: v for k, v in item.items() if k != "status" and v is not None}]
    return [dict(item)]


def _part_block(item: Mapping[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "output_text":
        block: dict[str, Any] = {
            "type": "text",
            "text": part.get("text") or "",
            "annotations": list(part.get("annotations") or []),
        }
    elif kind == "refusal":
        block = {"type": "refusal", "refusal": part.get("refusal") or ""}
    else:
        block = dict(part)
    block.update(_part_identity(item.get("id"), item.get("phase")))
    return block


def _part_identity(item_id: Any, phase: Any) -> dict[str, Any]:
    identity: dict[str, Any] = {}
    if item_id:
        identity["id"] = item_id
    if phase:
        identity["phase"] = phase
    return identity


def _reasoning_block(item: Mapping[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "reasoning"}
    if item.get("id"):
        block["id"] = item["id"]
    block["summary"] = [
        {"type": s.get("type", "summary_text"), "text": s.get("text") or "", "index": k}
        for k, s in enumerate(item.get("summary") or [])
    ]
    if item.get("encrypted_content"):
        block["encrypted_content"] = item["encrypted_content"]
    if item.get("content"):
        block["content"] = [
            {"type": c.get("type", "reasoning_text"), "text": c.get("text") or "", "index": k}
            for k, c in enumerate(item["content"])
        ]
    return block


def _tool_call(item: Mapping[str, Any]) -> ToolCall | InvalidToolCall | None:
    kind = item.get("type")
    if kind == "function_call":
        return parse_tool_call(item.get("name") or "", item.get("arguments"), item.get("call_id"))
    if kind == "custom_tool_call":
        raw = item.get("input") or ""
        return tool_call(name=item.get("name") or "", args={"input": raw}, id=item.get("call_id"))
    return None


def _finish_reason(body: Mapping[str, Any]) -> str | None:
    status = body.get("status")
    if status == "incomplete":
        reason = str((body.get("incomplete_details") or {}).get("reason") or "incomplete")
        return _INCOMPLETE_REASONS.get(reason, reason)
    if status in ("completed", None):
        output = body.get("output") or []
        calls = any(isinstance(i, dict) and i.get("type") in _TOOL_CALL_ITEMS for i in output)
        return "tool_calls" if calls else "stop"
    return str(status)


def _response_metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model_provider": MODEL_PROVIDER,
        "model_name": body.get("model"),
        "id": body.get("id"),
        "status": body.get("status"),
        "finish_reason": _finish_reason(body),
        "incomplete_details": body.get("incomplete_details"),
        "service_tier": body.get("service_tier"),
        "created_at": body.get("created_at"),
    }
    logprobs = [
        logprob
        for item in body.get("output") or []
        if isinstance(item, dict) and item.get("type") == "message"
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") == "output_text"
        for logprob in part.get("logprobs") or []
    ]
    if logprobs:
        # The Chat Completions shape, so code reading logprobs works on either API.
        metadata["logprobs"] = {"content": logprobs}
    return {k: v for k, v in metadata.items() if v is not None}


def _usage(usage: Any) -> UsageMetadata | None:
    if not isinstance(usage, Mapping):
        return None
    return usage_metadata(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        total_tokens=usage.get("total_tokens"),
        cache_read=detail(usage.get("input_tokens_details"), "cached_tokens"),
        cache_creation=detail(usage.get("input_tokens_details"), "cache_write_tokens"),
        reasoning=detail(usage.get("output_tokens_details"), "reasoning_tokens"),
    )


def _api_error(error: Any, fallback: str) -> APIError:
    if not isinstance(error, Mapping):
        return APIError(fallback)
    code = error.get("code")
    return APIError(
        str(error.get("message") or fallback),
        code=None if code is None else str(code),
        error_type=error.get("type") if isinstance(error.get("type"), str) else None,
    )


# --- streaming ------------------------------------------------------------------------------


@dataclass
class _Item:
    """One output item as the stream has revealed it so far."""

    position: int
    type: str
    id: str | None = None
    call_id: str | None = None
    phase: str | None = None
    # part number (content part of a message; 0 otherwise) -> block index in content
    blocks: dict[int, int] = field(default_factory=dict)
    last_part: int = 0
    summary_parts: int = 0
    call_sent: bool = False

    def learn(self, item: Mapping[str, Any], item_id: Any = None) -> None:
        """Fill in identifiers the stream had not shown yet."""
        self.id = self.id or item.get("id") or item_id or None
        self.call_id = self.call_id or item.get("call_id") or None
        self.phase = self.phase or item.get("phase") or None


_Fragments = tuple[list[dict[str, Any]], list[ToolCallChunk]]


class StreamParser:
    """Turn Responses stream events into ``ChatGenerationChunk``s that merge into the result.

    Each delta becomes a fragment of its content block (same ``index``); when an item or
    the response completes, whatever the deltas did not carry (encrypted reasoning, a
    summary sent only in the final item, annotations, missed text) is emitted then, so the
    merged chunks equal ``parse_response`` of the final response. Events without
    ``output_index`` / ``item_id`` (llama.cpp's server) attach to the current item.
    """

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._current: _Item | None = None
        self._sent: dict[int, dict[str, Any]] = {}  # block index -> everything emitted, merged
        self._response_id: str | None = None
        self._indexed = False
        self._finished = False

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk one event carries, or None; raise ``APIError`` on failure events."""
        if not isinstance(data, Mapping):
            raise ResponseFormatError(f"stream event {event!r} is not a JSON object: {data!r}")
        kind = data.get("type") or event
        if kind == "error":
            nested = data.get("error")
            flat = {k: v for k, v in data.items() if k != "type"}
            raise _api_error(nested if isinstance(nested, Mapping) else flat, "stream error")
        if kind == "response.failed":
            response = data.get("response") or {}
            raise _api_error(response.get("error"), f"response {response.get('id')} failed")
        if self._finished:
            return None
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._response_id = (data.get("response") or {}).get("id") or self._response_id
            return None
        if kind in ("response.completed", "response.incomplete"):
            return self._final(data.get("response") or {})
        handler = _HANDLERS.get(kind or "")
        if handler is None:
            return None
        return self._chunk(handler(self, data))

    def finish(self, *, done: bool = False) -> ChatGenerationChunk | None:
        """Return None (the terminal event already closed the reply), or raise if it never came.

        ``done`` says whether the transport saw ``data: [DONE]``; it is accepted so both
        adapters share one interface, but only ``response.completed`` / ``.incomplete``
        prove a Responses reply complete (and carry its usage), so it decides nothing here.
        """
        if not self._finished:
            raise ResponseFormatError(
                "stream ended before response.completed (or response.incomplete); "
                "the reply is incomplete"
            )
        return None

    # --- event handlers -----------------------------------------------------------------

    def _on_item_added(self, data: Mapping[str, Any]) -> _Fragments:
        item = data.get("item") or {}
        it = self._item(data, str(item.get("type")), item=item, opening=True)
        if it.type == "message" or (it.blocks and it.type not in _TOOL_CALL_ITEMS):
            return [], []
        if it.type in _TOOL_CALL_ITEMS:
            fragment = self._reconcile(it, 0, _item_blocks(item)[0])
            if fragment is None:
                return [], []
            chunks = []
            if it.type == "function_call":
                chunks.append(
                    tool_call_chunk(
                        name=fragment.get("name"),
                        args=fragment.get("arguments") or "",
                        id=fragment.get("call_id"),
                        index=it.position,
                    )
                )
            return [fragment], chunks
        # Reasoning and built-in tools: announce the block; the rest comes with .done.
        return [self._emit(it, 0, {"type": it.type})], []

    def _on_item_done(self, data: Mapping[str, Any]) -> _Fragments:
        item = data.get("item") or {}
        return self._settle(self._item(data, str(item.get("type")), item=item), item)

    def _on_text_delta(self, data: Mapping[str, Any]) -> _Fragments:
        return self._part_delta(data, "text", "text")

    def _on_refusal_delta(self, data: Mapping[str, Any]) -> _Fragments:
        return self._part_delta(data, "refusal", "refusal")

    def _part_delta(self, data: Mapping[str, Any], kind: str, key: str) -> _Fragments:
        delta = data.get("delta")
        if not delta:
            return [], []
        it = self._item(data, "message")
        part = self._part_number(it, data)
        return [self._emit(it, part, {"type": kind, key: delta})], []

    def _on_part_done(self, data: Mapping[str, Any]) -> _Fragments:
        part = data.get("part") or {}
        if part.get("type") not in ("output_text", "refusal"):
            return [], []
        # The finished part carries its annotations; they go out here, all at once, because
        # langchain-core merges list entries that share an "index" key, as file citations do.
        it = self._item(data, "message")
        number = self._part_number(it, data)
        final = _part_block({"id": it.id, "phase": it.phase}, part)
        fragment = self._reconcile(it, number, final)
        return ([fragment] if fragment else []), []

    def _on_summary_part_added(self, data: Mapping[str, Any]) -> _Fragments:
        self._item(data, "reasoning").summary_parts += 1
        return [], []

    def _on_summary_delta(self, data: Mapping[str, Any]) -> _Fragments:
        it = self._item(data, "reasoning")
        index = data.get("summary_index")
        if not isinstance(index, int):
            index = max(it.summary_parts - 1, 0)
        return self._reasoning_delta(it, data, "summary", "summary_text", index)

    def _on_reasoning_text_delta(self, data: Mapping[str, Any]) -> _Fragments:
        it = self._item(data, "reasoning")
        index = data.get("content_index")
        return self._reasoning_delta(
            it, data, "content", "reasoning_text", index if isinstance(index, int) else 0
        )

    def _reasoning_delta(
        self, it: _Item, data: Mapping[str, Any], key: str, kind: str, index: int
    ) -> _Fragments:
        delta = data.get("delta")
        if not delta:
            return [], []
        entry = {"type": kind, "text": delta, "index": index}
        return [self._emit(it, 0, {"type": "reasoning", key: [entry]})], []

    def _on_arguments_delta(self, data: Mapping[str, Any]) -> _Fragments:
        delta = data.get("delta")
        if not delta:
            return [], []
        it = self._item(data, "function_call")
        chunk = tool_call_chunk(args=delta, index=it.position)
        return [self._emit(it, 0, {"type": "function_call", "arguments": delta})], [chunk]

    def _on_custom_input_delta(self, data: Mapping[str, Any]) -> _Fragments:
        delta = data.get("delta")
        if not delta:
            return [], []
        it = self._item(data, "custom_tool_call")
        # The tool_call_chunk waits for the whole input: its args must be one JSON object.
        return [self._emit(it, 0, {"type": "custom_tool_call", "input": delta})], []

    # --- state ----------------------------------------------------------------------------

    def _item(
        self,
        data: Mapping[str, Any],
        kind: str,
        *,
        item: Mapping[str, Any] | None = None,
        opening: bool = False,
    ) -> _Item:
        """Return the item an event belongs to, creating it when the stream shows a new one."""
        item = item or {}
        item_id = data.get("item_id")
        position = data.get("output_index")
        found: _Item | None = None
        if isinstance(position, int):
            self._indexed = True
            found = self._items.get(position)
        else:
            position = None
            found = self._by_identity({item_id, item.get("id"), item.get("call_id")})
            current = self._current
            if (
                found is None
                and not opening
                and current is not None
                and current.type == kind
                and (current.id is None or not (item_id or item.get("id")))
            ):
                found = current
        if found is None:
            found = self._new_item(position, kind)
        found.learn(item, item_id)
        self._current = found
        return found

    def _new_item(self, position: int | None, kind: str) -> _Item:
        if position is None:
            position = max(self._items, default=-1) + 1
        it = self._items[position] = _Item(position=position, type=kind)
        return it

    def _by_identity(self, keys: set[Any]) -> _Item | None:
        keys.discard(None)
        keys.discard("")
        if not keys:
            return None
        return next((it for it in self._items.values() if keys & {it.id, it.call_id}), None)

    def _part_number(self, it: _Item, data: Mapping[str, Any]) -> int:
        number = data.get("content_index")
        if isinstance(number, int):
            it.last_part = number
        return it.last_part

    def _emit(self, it: _Item, part: int, fragment: dict[str, Any]) -> dict[str, Any]:
        """Return ``fragment`` as sent for block (item, part), opening the block if new."""
        index = it.blocks.get(part)
        if index is None:
            index = it.blocks[part] = len(self._sent)
            self._sent[index] = {}
            fragment = {**self._identity(it, str(fragment["type"])), **fragment}
        fragment["index"] = index
        _absorb(self._sent[index], fragment)
        return fragment

    @staticmethod
    def _identity(it: _Item, kind: str) -> dict[str, Any]:
        if kind in ("text", "refusal"):
            return _part_identity(it.id, it.phase)
        identity: dict[str, Any] = {"id": it.id} if it.id else {}
        if kind == "reasoning":
            identity["summary"] = []
        return identity

    def _reconcile(self, it: _Item, part: int, final: dict[str, Any]) -> dict[str, Any] | None:
        index = it.blocks.get(part)
        if index is None:
            return self._emit(it, part, dict(final))
        rest = _remainder(final, self._sent[index])
        if not rest:
            return None
        if "id" in final:
            # langchain-core's translators read a built-in tool block's id from every chunk.
            rest["id"] = final["id"]
        return self._emit(it, part, {"type": final["type"], **rest})

    def _settle(self, it: _Item, item: Mapping[str, Any]) -> _Fragments:
        """Emit whatever of a finished item the stream has not carried yet."""
        it.learn(item)
        fragments = []
        for part, final in enumerate(_item_blocks(item)):
            fragment = self._reconcile(it, part, final)
            if fragment is not None:
                fragments.append(fragment)
        chunks: list[ToolCallChunk] = []
        if it.type == "function_call" and fragments:
            rest = fragments[0]
            if {"name", "arguments", "call_id"} & rest.keys():
                chunks.append(
                    tool_call_chunk(
                        name=rest.get("name"),
                        args=rest.get("arguments") or "",
                        id=rest.get("call_id"),
                        index=it.position,
                    )
                )
        elif it.type == "custom_tool_call" and not it.call_sent:
            it.call_sent = True
            args = json.dumps({"input": item.get("input") or ""}, ensure_ascii=False)
            chunks.append(
                tool_call_chunk(
                    name=item.get("name") or "",
                    args=args,
                    id=item.get("call_id"),
                    index=it.position,
                )
            )
        return fragments, chunks

    def _final(self, response: Mapping[str, Any]) -> ChatGenerationChunk:
        if not isinstance(response.get("output"), list):
            raise ResponseFormatError(
                "Responses stream ended with a response that has no 'output' list "
                f"(keys: {sorted(response)[:10]})"
            )
        fragments: list[dict[str, Any]] = []
        chunks: list[ToolCallChunk] = []
        claimed: set[int] = set()
        for position, item in enumerate(response.get("output") or []):
            if not isinstance(item, dict):
                continue
            it = self._final_item(position, item, claimed)
            claimed.add(it.position)
            more, more_chunks = self._settle(it, item)
            fragments += more
            chunks += more_chunks
        self._finished = True
        message = AIMessageChunk(
            content=fragments,  # type: ignore[arg-type]
            tool_call_chunks=chunks,
            usage_metadata=_usage(response.get("usage")),
            response_metadata=_response_metadata(response),
            id=response.get("id") or self._response_id,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message)

    def _final_item(self, position: int, item: Mapping[str, Any], claimed: set[int]) -> _Item:
        """Return the streamed item a final output item is, matched by index, id or order."""
        kind = str(item.get("type"))
        if self._indexed:
            return self._items.get(position) or self._new_item(position, kind)
        found = self._by_identity({item.get("id"), item.get("call_id")})
        if found is None or found.position in claimed:
            found = next(
                (
                    it
                    for _, it in sorted(self._items.items())
                    if it.type == kind and it.position not in claimed
                ),
                None,
            )
        return found or self._new_item(None, kind)

    def _chunk(self, fragments: _Fragments) -> ChatGenerationChunk | None:
        content, chunks = fragments
        if not content and not chunks:
            return None
        message = AIMessageChunk(
            content=content,  # type: ignore[arg-type]
            tool_call_chunks=chunks,
            response_metadata={"model_provider": MODEL_PROVIDER},
            id=self._response_id,
        )
        return ChatGenerationChunk(message=message)


_HANDLERS: dict[str, Callable[[StreamParser, Mapping[str, Any]], _Fragments]] = {
    "response.output_item.added": StreamParser._on_item_added,
    "response.output_item.done": StreamParser._on_item_done,
    "response.output_text.delta": StreamParser._on_text_delta,
    "response.refusal.delta": StreamParser._on_refusal_delta,
    "response.content_part.done": StreamParser._on_part_done,
    "response.reasoning_summary_part.added": StreamParser._on_summary_part_added,
    "response.reasoning_summary_text.delta": StreamParser._on_summary_delta,
    "response.reasoning_text.delta": StreamParser._on_reasoning_text_delta,
    "response.function_call_arguments.delta": StreamParser._on_arguments_delta,
    "response.custom_tool_call_input.delta": StreamParser._on_custom_input_delta,
}


def _absorb(sent: dict[str, Any], fragment: Mapping[str, Any]) -> None:
    """Merge ``fragment`` into ``sent`` the way langchain-core merges chunk content."""
    streamed = _STREAMED_FIELD.get(str(fragment.get("type")))
    for key, value in fragment.items():
        if key not in sent:
            sent[key] = copy.deepcopy(value)
        elif key == streamed and isinstance(value, str):
            sent[key] += value
        elif key in _REASONING_LISTS and fragment.get("type") == "reasoning":
            for entry in value:
                prior = _entry(sent[key], entry.get("index"))
                if prior is None:
                    sent[key].append(dict(entry))
                else:
                    prior["text"] = prior.get("text", "") + entry.get("text", "")


def _remainder(final: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of ``final`` that ``sent`` lacks, as a fragment to merge onto it."""
    kind = final.get("type")
    streamed = _STREAMED_FIELD.get(str(kind))
    rest: dict[str, Any] = {}
    for key, value in final.items():
        if key in ("type", "index"):
            continue
        if key not in sent:
            rest[key] = value
        elif key == streamed and isinstance(value, str):
            suffix = _suffix(value, sent[key])
            if suffix:
                rest[key] = suffix
        elif key in _REASONING_LISTS and kind == "reasoning" and isinstance(value, list):
            missing = []
            for entry in value:
                prior = _entry(sent[key], entry.get("index"))
                if prior is None:
                    missing.append(entry)
                elif suffix := _suffix(entry.get("text", ""), prior.get("text", "")):
                    missing.append({"type": entry["type"], "text": suffix, "index": entry["index"]})
            if missing:
                rest[key] = missing
    return rest


def _suffix(final: str, sent: Any) -> str:
    # Text already streamed cannot be taken back; only a missing tail can still be added.
    if isinstance(sent, str) and final.startswith(sent):
        return final[len(sent) :]
    return ""


def _entry(entries: list[dict[str, Any]], index: Any) -> dict[str, Any] | None:
    return next((e for e in entries if e.get("index") == index), None)
