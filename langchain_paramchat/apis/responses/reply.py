"""Responses replies: a ``response`` body in, a LangChain ``ChatResult`` out (no I/O).

Results follow langchain-core's
"responses/v1" content shape, so ``msg.text`` and ``msg.content_blocks`` work:

- ``{"type": "text", "text", "annotations"?, "id": msg_id, "phase"?}`` per ``output_text`` part
  (``annotations`` only when there are some),
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
    MALFORMED,
    METADATA_EXTRAS,
    MODEL_PROVIDER,
    array,
    malformed,
    opt_obj,
    opt_text,
    parse_tool_call,
    usage_from,
)
from langchain_paramchat.apis.responses.request import TOOL_CALL_ITEMS
from langchain_paramchat.errors import (
    ParamChatError,
    ResponseFailedError,
    ResponseFormatError,
    response_failed,
)

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


def parse_response(body: Any) -> ChatResult:
    """Return the ``ChatResult`` for a Responses API body; raise ``APIError`` if it failed.

    Raises ``ResponseFormatError`` naming the field when the body is not a response object:
    no ``output`` list, or a field of the wrong type.
    """
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a Responses object, got {type(body).__name__}")
    try:
        return _parse(body)
    except ParamChatError:
        raise
    except MALFORMED as exc:
        raise malformed("Responses reply", exc) from exc


def _parse(body: Mapping[str, Any]) -> ChatResult:
    if body.get("status") == "failed":
        raise api_error(body.get("error"), f"Response {body.get('id')} failed.")
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
        for block in item_blocks(item, f"output[{position}]"):
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
        usage_metadata=parse_usage(body.get("usage"), body.get("service_tier")),
        response_metadata=response_metadata(body),
        id=body.get("id"),
    )
    return ChatResult(generations=[ChatGeneration(message=message)])


def item_blocks(item: Mapping[str, Any], where: str = "output item") -> list[dict[str, Any]]:
    """Return the content blocks (without ``index``) one output item becomes.

    Raises ``ResponseFormatError`` naming ``where`` when a part has the wrong type.
    """
    kind = item.get("type")
    if kind == "message":
        parts = array(item.get("content"), where, "content")
        return [part_block(item, part, f"{where}.content[{i}]") for i, part in enumerate(parts)]
    if kind == "reasoning":
        return [_reasoning_block(item, where)]
    if kind in TOOL_CALL_ITEMS:
        return [{k: v for k, v in item.items() if k != "status" and v is not None}]
    return [dict(item)]


def part_block(
    item: Mapping[str, Any], part: Mapping[str, Any], where: str = "content part"
) -> dict[str, Any]:
    """Return the LangChain content block for one content part of a Responses output item."""
    kind = part.get("type")
    if kind == "output_text":
        block: dict[str, Any] = {
            "type": "text",
            "text": opt_text(part.get("text"), where, "text") or "",
        }
        annotations = array(part.get("annotations"), where, "annotations")
        if annotations:
            # No empty list: streamed text carries no annotations key unless some arrive,
            # and langchain-core's standard text blocks have none then either.
            block["annotations"] = list(annotations)
    elif kind == "refusal":
        block = {"type": "refusal", "refusal": opt_text(part.get("refusal"), where) or ""}
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


def _reasoning_block(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "reasoning"}
    if item.get("id"):
        block["id"] = item["id"]
    block["summary"] = _reasoning_parts(item.get("summary"), "summary_text", f"{where}.summary")
    if item.get("encrypted_content"):
        block["encrypted_content"] = item["encrypted_content"]
    if item.get("content"):
        block["content"] = _reasoning_parts(item["content"], "reasoning_text", f"{where}.content")
    return block


def _reasoning_parts(parts: Any, kind: str, where: str) -> list[dict[str, Any]]:
    return [
        {
            "type": p.get("type", kind),
            "text": opt_text(p.get("text"), f"{where}[{k}].text") or "",
            "index": k,
        }
        for k, p in enumerate(array(parts, where))
    ]


def _tool_call(item: Mapping[str, Any]) -> ToolCall | InvalidToolCall | None:
    kind = item.get("type")
    if kind == "function_call":
        return parse_tool_call(
            item.get("name"), item.get("arguments"), item.get("call_id"), "function_call"
        )
    if kind == "custom_tool_call":
        raw = opt_text(item.get("input"), "custom_tool_call.input") or ""
        name = opt_text(item.get("name"), "custom_tool_call.name") or ""
        call_id = opt_text(item.get("call_id"), "custom_tool_call.call_id")
        return tool_call(name=name, args={"input": raw}, id=call_id)
    return None


def _finish_reason(body: Mapping[str, Any]) -> str | None:
    status = body.get("status")
    if status == "incomplete":
        details = opt_obj(body.get("incomplete_details"), "incomplete_details") or {}
        reason = str(details.get("reason") or "incomplete")
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
    for extra in METADATA_EXTRAS:
        metadata[extra] = body.get(extra)
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


_USAGE_KEYS = ("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")


def parse_usage(raw: Any, service_tier: Any = None) -> UsageMetadata | None:
    """Return LangChain ``usage_metadata`` for a Responses ``usage`` object, or None.

    Raises ``ResponseFormatError`` when ``usage`` or a count in it has the wrong type.
    """
    return usage_from(raw, _USAGE_KEYS, service_tier)


def api_error(error: Any, fallback: str) -> ResponseFailedError:
    """Return the package error for a Responses ``error`` object, else ``fallback``.

    A ``ResponseFailedError`` (also a ``ValueError``), or ``FailedContextOverflowError``.
    """
    if not isinstance(error, Mapping):
        return response_failed(fallback)
    code = error.get("code")
    return response_failed(
        str(error.get("message") or fallback),
        code=None if code is None else str(code),
        error_type=error.get("type") if isinstance(error.get("type"), str) else None,
    )
