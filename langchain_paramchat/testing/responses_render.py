"""Render a scripted Reply as a Responses API ``response`` object and its streamed events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_paramchat.testing.rendering import (
    Event,
    arguments_text,
    new_id,
    pieces,
    reply_usage,
    token_logprobs,
)
from langchain_paramchat.testing.script import Fault, Reply, ToolCall, Usage

__all__ = [
    "RenderedResponse",
    "render_response",
    "responses_missing_fields",
    "responses_stream_failure",
]

_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}
_SERVICE_TIERS = {"default", "flex", "scale", "priority"}

Emit = Callable[..., None]


@dataclass
class RenderedResponse:
    """Hold the final ``response`` object and the SSE events that stream it."""

    response: dict[str, Any]
    events: list[Event] = field(default_factory=list)


def _usage(usage: Usage) -> dict[str, Any]:
    details: dict[str, Any] = {
        "cached_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }
    if usage.cache_write_30m_tokens is not None or usage.cache_write_12h_tokens is not None:
        details["cache_write_tokens_details"] = {
            "ttl_30m_tokens": usage.cache_write_30m_tokens or 0,
            "ttl_12h_tokens": usage.cache_write_12h_tokens or 0,
        }
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": details,
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def _include(body: dict[str, Any]) -> set[str]:
    include = body.get("include")
    return set(include) if isinstance(include, list) else set()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _skeleton(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    reasoning = _dict(body.get("reasoning"))
    text = _dict(body.get("text"))
    requested_tier = body.get("service_tier")
    return {
        "id": reply.id or new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": bool(body.get("background")),
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": reply.model or body.get("model") or "gpt-test",
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": reply.service_tier
        or (requested_tier if requested_tier in _SERVICE_TIERS else "default"),
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {
            "format": text.get("format", {"type": "text"}),
            "verbosity": text.get("verbosity", "medium"),
        },
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


class _Stream:
    """Collect events with increasing ``sequence_number``."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, kind: str, **data: Any) -> None:
        self.events.append(Event(kind, {"type": kind, "sequence_number": len(self.events), **data}))


def render_response(reply: Reply, body: dict[str, Any]) -> RenderedResponse:
    """Return the final ``response`` object for ``reply`` and the events that stream it."""
    response = _skeleton(reply, body)
    stream = _Stream()
    # Shallow copies suffice: later steps replace the response's fields, never mutate them.
    stream.emit("response.created", response={**response})
    stream.emit("response.in_progress", response={**response})
    incomplete = _INCOMPLETE_REASONS.get(reply.finish_reason or "")
    output: list[dict[str, Any]] = []
    if reply.reasoning_summary or reply.reasoning_text is not None or reply.encrypted_content:
        output.append(_reasoning(reply, body, len(output), stream.emit))
    for item in reply.output_items:
        stream.emit("response.output_item.added", output_index=len(output), item=item)
        stream.emit("response.output_item.done", output_index=len(output), item=item)
        output.append(item)
    has_content = reply.text is not None or reply.refusal is not None
    if has_content or not (output or reply.tool_calls):
        output.append(_message(reply, body, len(output), stream.emit, incomplete is not None))
    for call in reply.tool_calls:
        output.append(_tool_call(_call_item(call), reply.chunk_size, len(output), stream.emit))
    response["output"] = output
    response["usage"] = _usage(reply_usage(reply, body))
    response.update(reply.response_fields)
    if incomplete:
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": incomplete}
        stream.emit("response.incomplete", response=response)
    else:
        response["status"] = "completed"
        response["completed_at"] = int(time.time())
        stream.emit("response.completed", response=response)
    return RenderedResponse(response=response, events=stream.events)


def _reasoning(reply: Reply, body: dict[str, Any], index: int, emit: Emit) -> dict[str, Any]:
    item_id = new_id("rs_")
    emit(
        "response.output_item.added",
        output_index=index,
        item={"id": item_id, "type": "reasoning", "summary": []},
    )
    where = {"item_id": item_id, "output_index": index}
    for k, text in enumerate(reply.reasoning_summary):
        emit(
            "response.reasoning_summary_part.added",
            **where,
            summary_index=k,
            part={"type": "summary_text", "text": ""},
        )
        for piece in pieces(text, reply.chunk_size):
            emit("response.reasoning_summary_text.delta", **where, summary_index=k, delta=piece)
        emit("response.reasoning_summary_text.done", **where, summary_index=k, text=text)
        emit(
            "response.reasoning_summary_part.done",
            **where,
            summary_index=k,
            part={"type": "summary_text", "text": text},
        )
    item: dict[str, Any] = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": t} for t in reply.reasoning_summary],
    }
    if reply.reasoning_text is not None:
        text = reply.reasoning_text
        emit(
            "response.content_part.added",
            **where,
            content_index=0,
            part={"type": "reasoning_text", "text": ""},
        )
        for piece in pieces(text, reply.chunk_size):
            emit("response.reasoning_text.delta", **where, content_index=0, delta=piece)
        emit("response.reasoning_text.done", **where, content_index=0, text=text)
        emit(
            "response.content_part.done",
            **where,
            content_index=0,
            part={"type": "reasoning_text", "text": text},
        )
        item["content"] = [{"type": "reasoning_text", "text": text}]
    if "reasoning.encrypted_content" in _include(body):
        item["encrypted_content"] = reply.encrypted_content or "gAAAA" + new_id("")
    emit("response.output_item.done", output_index=index, item=item)
    return item


def _annotations(reply: Reply) -> list[dict[str, Any]]:
    end = len(reply.text or "")
    return [
        {
            "type": "url_citation",
            "url": c["url"],
            "title": c.get("title", c["url"]),
            "start_index": c.get("start_index", 0),
            "end_index": c.get("end_index", end),
        }
        for c in reply.citations
    ]


def _message(
    reply: Reply, body: dict[str, Any], index: int, emit: Emit, incomplete: bool
) -> dict[str, Any]:
    item_id = new_id("msg_")
    status = "incomplete" if incomplete else "completed"
    emit(
        "response.output_item.added",
        output_index=index,
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
    )
    where = {"item_id": item_id, "output_index": index}
    wants = reply.logprobs or "message.output_text.logprobs" in _include(body)
    top = body.get("top_logprobs")
    top = top if isinstance(top, int) else 0
    content: list[dict[str, Any]] = []
    if reply.text is not None or reply.refusal is None:
        text = reply.text or ""
        ci = len(content)
        emit(
            "response.content_part.added",
            **where,
            content_index=ci,
            part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
        )
        all_logprobs = []
        for piece in pieces(text, reply.chunk_size):
            logprobs = token_logprobs([piece], top) if wants else []
            all_logprobs += logprobs
            emit(
                "response.output_text.delta",
                **where,
                content_index=ci,
                delta=piece,
                logprobs=logprobs,
            )
        annotations = _annotations(reply)
        for k, annotation in enumerate(annotations):
            emit(
                "response.output_text.annotation.added",
                **where,
                content_index=ci,
                annotation_index=k,
                annotation=annotation,
            )
        emit(
            "response.output_text.done", **where, content_index=ci, text=text, logprobs=all_logprobs
        )
        part = {
            "type": "output_text",
            "annotations": annotations,
            "logprobs": all_logprobs,
            "text": text,
        }
        emit("response.content_part.done", **where, content_index=ci, part=part)
        content.append(part)
    if reply.refusal is not None:
        ci = len(content)
        emit(
            "response.content_part.added",
            **where,
            content_index=ci,
            part={"type": "refusal", "refusal": ""},
        )
        for piece in pieces(reply.refusal, reply.chunk_size):
            emit("response.refusal.delta", **where, content_index=ci, delta=piece)
        emit("response.refusal.done", **where, content_index=ci, refusal=reply.refusal)
        part = {"type": "refusal", "refusal": reply.refusal}
        emit("response.content_part.done", **where, content_index=ci, part=part)
        content.append(part)
    item = {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }
    emit("response.output_item.done", output_index=index, item=item)
    return item


def _call_item(call: ToolCall) -> dict[str, Any]:
    call_id = call.id or new_id("call_")
    if call.custom:
        item = {
            "id": new_id("ctc_"),
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": call_id,
            "name": call.name,
            "input": arguments_text(call),
        }
    else:
        item = {
            "id": new_id("fc_"),
            "type": "function_call",
            "status": "completed",
            "arguments": arguments_text(call),
            "call_id": call_id,
            "name": call.name,
        }
    return item


def _tool_call(item: dict[str, Any], size: int, index: int, emit: Emit) -> dict[str, Any]:
    custom = item["type"] == "custom_tool_call"
    field_name = "input" if custom else "arguments"
    prefix = "response.custom_tool_call_input" if custom else "response.function_call_arguments"
    emit(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", field_name: ""},
    )
    where = {"item_id": item["id"], "output_index": index}
    for piece in pieces(item[field_name], size):
        emit(f"{prefix}.delta", **where, delta=piece)
    done = {field_name: item[field_name]}
    if not custom:
        done["name"] = item["name"]
    emit(f"{prefix}.done", **where, **done)
    emit("response.output_item.done", output_index=index, item=item)
    return item


def failed_response(response: dict[str, Any], fault: Fault) -> dict[str, Any]:
    """Return ``response`` turned into a failed one carrying the fault's error."""
    return {
        **response,
        "status": "failed",
        "completed_at": None,
        "output": [],
        "usage": None,
        "error": {"code": fault.error_code, "message": fault.message},
    }


def responses_stream_failure(response: dict[str, Any], fault: Fault, sequence_number: int) -> Event:
    """Return the ``response.failed`` or ``error`` event that ends a failing stream."""
    if fault.event == "error":
        return Event(
            "error",
            {
                "type": "error",
                "sequence_number": sequence_number,
                "code": fault.error_code,
                "message": fault.message,
                "param": None,
            },
        )
    return Event(
        "response.failed",
        {
            "type": "response.failed",
            "sequence_number": sequence_number,
            "response": failed_response(response, fault),
        },
    )


def responses_missing_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Return a ``response`` object without ``output``."""
    return {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "model": body.get("model") or "gpt-test",
        "status": "completed",
    }
