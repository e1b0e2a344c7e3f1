"""Render a scripted Reply as a Chat Completions ``chat.completion`` object or its SSE chunks."""

from __future__ import annotations

import time
from dataclasses import dataclass
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

__all__ = ["chat_chunks", "chat_completion", "chat_missing_fields", "chat_stream_failure"]

# Base64 audio is long; streaming it four characters at a time would only slow tests down.
_AUDIO_DATA_PIECE = 1024
_SERVICE_TIERS = {"default", "flex", "scale", "priority"}


@dataclass(frozen=True)
class _Answer:
    """One choice with its generated ids fixed, so JSON and chunks agree."""

    reply: Reply
    index: int
    call_ids: list[str]
    audio_id: str | None
    audio_expires_at: int | None


def _answers(reply: Reply, body: dict[str, Any]) -> list[_Answer]:
    n = body.get("n")
    # Without scripted choices, a request for n > 1 gets the same answer n times, as it asked.
    scripted = reply.choices or [reply] * (n if isinstance(n, int) and n > 1 else 1)
    answers = []
    for index, one in enumerate(scripted):
        answers.append(
            _Answer(
                reply=one,
                index=index,
                call_ids=[c.id or new_id("call_") for c in one.tool_calls],
                audio_id=(one.audio.id or new_id("audio_")) if one.audio else None,
                audio_expires_at=(
                    (one.audio.expires_at or int(time.time()) + 3600) if one.audio else None
                ),
            )
        )
    return answers


def _envelope(reply: Reply, body: dict[str, Any], obj: str) -> dict[str, Any]:
    requested_tier = body.get("service_tier")
    tier = reply.service_tier or (requested_tier if requested_tier in _SERVICE_TIERS else "default")
    return {
        "id": reply.id or new_id("chatcmpl-"),
        "object": obj,
        "created": int(time.time()),
        "model": reply.model or body.get("model") or "gpt-test",
        "service_tier": tier,
        "system_fingerprint": reply.system_fingerprint,
    }


def _usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "audio_tokens": usage.audio_input_tokens,
            **(
                {"cache_write_tokens": usage.cache_write_tokens} if usage.cache_write_tokens else {}
            ),
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": usage.audio_output_tokens,
            "accepted_prediction_tokens": usage.accepted_prediction_tokens,
            "rejected_prediction_tokens": usage.rejected_prediction_tokens,
        },
    }


def _finish_reason(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _wants_logprobs(reply: Reply, body: dict[str, Any]) -> bool:
    return reply.logprobs or body.get("logprobs") is True


def _top(body: dict[str, Any]) -> int:
    top = body.get("top_logprobs")
    return top if isinstance(top, int) else 0


def _annotations(reply: Reply) -> list[dict[str, Any]]:
    end = len(reply.text or "")
    return [
        {
            "type": "url_citation",
            "url_citation": {
                "url": c["url"],
                "title": c.get("title", c["url"]),
                "start_index": c.get("start_index", 0),
                "end_index": c.get("end_index", end),
            },
        }
        for c in reply.citations
    ]


def _tool_call(call: ToolCall, call_id: str) -> dict[str, Any]:
    if call.custom:
        return {
            "id": call_id,
            "type": "custom",
            "custom": {"name": call.name, "input": arguments_text(call)},
        }
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments_text(call)},
    }


def chat_completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """Return the ``chat.completion`` JSON object for ``reply``."""
    completion = _envelope(reply, body, "chat.completion")
    choices = []
    for answer in _answers(reply, body):
        one = answer.reply
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if one.audio else one.text,
            "refusal": one.refusal,
            "annotations": _annotations(one),
        }
        if one.name:
            message["name"] = one.name
        if one.tool_calls:
            message["tool_calls"] = [
                _tool_call(c, cid) for c, cid in zip(one.tool_calls, answer.call_ids, strict=True)
            ]
        if one.audio:
            message["audio"] = {
                "id": answer.audio_id,
                "data": one.audio.data_b64,
                "expires_at": answer.audio_expires_at,
                "transcript": one.audio.transcript,
            }
        logprobs = None
        if _wants_logprobs(one, body):
            logprobs = {
                "content": token_logprobs(pieces(one.text or "", one.chunk_size), _top(body)),
                "refusal": (
                    token_logprobs(pieces(one.refusal, one.chunk_size), _top(body))
                    if one.refusal is not None
                    else None
                ),
            }
        choices.append(
            {
                "index": answer.index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": _finish_reason(one),
            }
        )
    completion["choices"] = choices
    completion["usage"] = _usage(reply_usage(reply, body))
    completion.update(reply.response_fields)
    return completion


def chat_chunks(reply: Reply, body: dict[str, Any]) -> list[Event]:
    """Return the SSE events of a streamed completion, ending with ``[DONE]``."""
    envelope = _envelope(reply, body, "chat.completion.chunk")
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    events: list[Event] = []

    def chunk(
        index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None
    ) -> None:
        data = {
            **envelope,
            "choices": [
                {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            ],
        }
        if include_usage:
            data["usage"] = None
        events.append(Event(None, data))

    for answer in _answers(reply, body):
        _answer_chunks(answer, body, chunk)
    if include_usage:
        events.append(
            Event(
                None,
                {
                    **envelope,
                    "choices": [],
                    "usage": _usage(reply_usage(reply, body)),
                    **reply.response_fields,
                },
            )
        )
    events.append(Event(None, "[DONE]"))
    return events


def _answer_chunks(answer: _Answer, body: dict[str, Any], chunk: Any) -> None:
    one, i = answer.reply, answer.index
    wants = _wants_logprobs(one, body)
    top = _top(body)
    chunk(
        i,
        {"role": "assistant", "content": "" if one.text is not None else None, "refusal": None},
        {"content": [], "refusal": None} if wants else None,
    )
    if one.text is not None and not one.audio:
        for n, piece in enumerate(pieces(one.text, one.chunk_size)):
            lp = {"content": token_logprobs([piece], top, n), "refusal": None} if wants else None
            chunk(i, {"content": piece}, lp)
    if one.refusal is not None:
        for n, piece in enumerate(pieces(one.refusal, one.chunk_size)):
            lp = {"content": None, "refusal": token_logprobs([piece], top, n)} if wants else None
            chunk(i, {"refusal": piece}, lp)
    if one.audio:
        chunk(i, {"audio": {"id": answer.audio_id, "transcript": ""}})
        for piece in pieces(one.audio.transcript, one.chunk_size):
            chunk(i, {"audio": {"transcript": piece}})
        for piece in pieces(one.audio.data_b64, _AUDIO_DATA_PIECE):
            chunk(i, {"audio": {"data": piece}})
        chunk(i, {"audio": {"id": answer.audio_id, "expires_at": answer.audio_expires_at}})
    for j, (call, call_id) in enumerate(zip(one.tool_calls, answer.call_ids, strict=True)):
        kind = "custom" if call.custom else "function"
        field = "input" if call.custom else "arguments"
        head = {"name": call.name, field: ""}
        chunk(i, {"tool_calls": [{"index": j, "id": call_id, "type": kind, kind: head}]})
        for piece in pieces(arguments_text(call), one.chunk_size):
            chunk(i, {"tool_calls": [{"index": j, kind: {field: piece}}]})
    if one.citations:
        chunk(i, {"annotations": _annotations(one)})
    chunk(i, {}, None, _finish_reason(one))


def chat_stream_failure(fault: Fault) -> Event:
    """Return the ``data: {"error": ...}`` line OpenAI sends when a chat stream fails."""
    return Event(
        None,
        {
            "error": {
                "message": fault.message,
                "type": "server_error",
                "param": None,
                "code": fault.error_code,
            }
        },
    )


def chat_missing_fields(body: dict[str, Any], *, chunk: bool = False) -> dict[str, Any]:
    """Return a ``chat.completion`` object (or chunk) without ``choices``."""
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or "gpt-test",
    }
