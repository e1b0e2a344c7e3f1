"""Responses replies: a ``response`` body in, a LangChain ``ChatResult`` out (no I/O).

Results follow langchain-core's
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

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage, InvalidToolCall, ToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_paramchat.apis.reply_parts import (
    MODEL_PROVIDER,
    detail,
    parse_tool_call,
    usage_metadata,
)
from langchain_paramchat.apis.responses.request import TOOL_CALL_ITEMS
from langchain_paramchat.errors import APIError, ResponseFormatError

__all__ = [
    "api_error",
    "item_blocks",
    "parse_response",
    "parse_usage",
    "part_block",
    "part_identity",
    "response_metadata",
]

_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def parse_response(body: dict[str, Any]) -> ChatResult:
    """Return the ``ChatResult`` for a Responses API body; raise ``APIError`` if it failed."""
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a Responses object, got {type(body).__name__}")
    if body.get("status") == "failed":
        raise api_error(body.get("error"), f"response {body.get('id')} failed")
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
        for block in item_blocks(item):
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
        usage_metadata=parse_usage(body.get("usage")),
        response_metadata=response_metadata(body),
        id=body.get("id"),
    )
    return ChatResult(generations=[ChatGeneration(message=message)])


def item_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the content blocks (without ``index``) one output item becomes."""
    kind = item.get("type")
    if kind == "message":
        return [
            part_block(item, part) for part in item.get("content") or [] if isinstance(part, dict)
        ]
    if kind == "reasoning":
        return [_reasoning_block(item)]
    if kind in TOOL_CALL_ITEMS:
        return [{k: v for k, v in item.items() if k != "status" and v is not None}]
    return [dict(item)]


def part_block(item: Mapping[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """Return the LangChain content block for one content part of a Responses output item."""
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
    block.update(part_identity(item.get("id"), item.get("phase")))
    return block


def part_identity(item_id: Any, phase: Any) -> dict[str, Any]:
    """Return the item id and phase a content block carries, so it can be sent back intact."""
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
        calls = any(isinstance(i, dict) and i.get("type") in TOOL_CALL_ITEMS for i in output)
        return "tool_calls" if calls else "stop"
    return str(status)


def response_metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``response_metadata`` (model, id, status, finish reason, ...) of a body."""
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


def parse_usage(usage: Any) -> UsageMetadata | None:
    """Return LangChain ``usage_metadata`` for a Responses ``usage`` object, or None."""
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


def api_error(error: Any, fallback: str) -> APIError:
    """Return the package ``APIError`` for a Responses ``error`` object, else ``fallback``."""
    if not isinstance(error, Mapping):
        return APIError(fallback)
    code = error.get("code")
    return APIError(
        str(error.get("message") or fallback),
        code=None if code is None else str(code),
        error_type=error.get("type") if isinstance(error.get("type"), str) else None,
    )
