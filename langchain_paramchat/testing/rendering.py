"""Helpers both API renderers share: ids, token estimates, text pieces, logprobs, the echo reply."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.testing.script import Reply, ToolCall, Usage

__all__ = [
    "Event",
    "arguments_text",
    "echo_reply",
    "estimate_tokens",
    "input_tokens",
    "new_id",
    "pieces",
    "reply_usage",
    "token_logprobs",
]


@dataclass(frozen=True)
class Event:
    """Hold one server-sent event: its ``event:`` name (None for Chat) and its data."""

    name: str | None
    data: dict[str, Any] | str

    def encode(self) -> bytes:
        """Return the event in SSE wire form."""
        data = self.data if isinstance(self.data, str) else json.dumps(self.data)
        head = f"event: {self.name}\n" if self.name else ""
        return f"{head}data: {data}\n\n".encode()


def new_id(prefix: str) -> str:
    """Return a fresh id in OpenAI's ``prefix_hex`` style."""
    return f"{prefix}{secrets.token_hex(12)}"


def estimate_tokens(text: str) -> int:
    """Estimate tokens the way OpenAI's rule of thumb does: about four characters each."""
    return math.ceil(len(text) / 4) if text else 0


def pieces(text: str, size: int) -> list[str]:
    """Split ``text`` into consecutive pieces of ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def arguments_text(call: ToolCall) -> str:
    """Return a tool call's arguments as sent on the wire (a str is kept verbatim)."""
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


def token_logprobs(tokens: list[str], top: int, start: int = 0) -> list[dict[str, Any]]:
    """Return deterministic per-token logprob entries with ``top`` alternatives each.

    ``start`` is the position of the first token in the whole answer, so a stream that
    sends one token per chunk reports the same values as the full reply.
    """
    entries = []
    for i, token in enumerate(tokens, start):
        logprob = -round(0.01 * (1 + i % 7), 4)
        alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}] + [
            {
                "token": f"{token}~{k}",
                "logprob": logprob - k,
                "bytes": list(f"{token}~{k}".encode()),
            }
            for k in range(1, top)
        ]
        entries.append(
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": alternatives[:top],
            }
        )
    return entries


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def input_tokens(body: dict[str, Any]) -> int:
    """Estimate a request's input tokens from the text of its messages, input and instructions."""
    parts = _strings([body.get("messages"), body.get("input"), body.get("instructions")])
    return max(1, sum(estimate_tokens(p) for p in parts))


def reply_usage(reply: Reply, body: dict[str, Any]) -> Usage:
    """Return the reply's scripted usage, or one computed from the lengths of what it says."""
    if reply.usage is not None:
        return reply.usage
    answers = reply.choices or [reply]
    reasoning = sum(
        estimate_tokens("".join(r.reasoning_summary) + (r.reasoning_text or "")) for r in answers
    )
    audio = sum(estimate_tokens(r.audio.transcript) for r in answers if r.audio)
    visible = sum(
        estimate_tokens(r.text or "")
        + estimate_tokens(r.refusal or "")
        + sum(estimate_tokens(c.name + arguments_text(c)) for c in r.tool_calls)
        for r in answers
    )
    return Usage(
        input_tokens=input_tokens(body),
        output_tokens=visible + reasoning + audio,
        reasoning_tokens=reasoning,
        audio_output_tokens=audio,
    )


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts) if texts else None
    return None


def echo_reply(body: dict[str, Any]) -> Reply:
    """Return the default answer: ``Echo: <last user text>``."""
    items = body.get("messages")
    if items is None:
        items = body.get("input")
    if isinstance(items, str):
        return Reply(text=f"Echo: {items}")
    last = ""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("role") == "user":
            text = _text_of(item.get("content"))
            if text is not None:
                last = text
    return Reply(text=f"Echo: {last}")
