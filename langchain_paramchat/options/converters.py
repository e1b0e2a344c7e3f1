"""Converters: how a value is written into one API's payload when a dotted path is not enough.

Each converter returns ``{payload_path: value}`` or ``Unsupported``; ``@_writes`` records,
next to it, what it writes in words for the README's option table. Range checks used by the
table live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONVERTER_NOTES",
    "COUNT_LIMIT",
    "Converter",
    "Placement",
    "Unsupported",
    "chat_format_to_text_format",
    "text_format_to_chat_format",
]


@dataclass(frozen=True)
class Unsupported:
    """Say that an API cannot carry a value, and which part of it (e.g. ``reasoning.summary``)."""

    what: str


Placement = dict[str, Any] | Unsupported
Converter = Callable[[Any], Placement]

# What each converter writes, in words for the README's option table (set by ``_writes``).
CONVERTER_NOTES: dict[Converter, str] = {}


def _writes(note: str) -> Callable[[Converter], Converter]:
    """Record, next to a converter, what it writes into the payload (for the README)."""

    def record(converter: Converter) -> Converter:
        CONVERTER_NOTES[converter] = note
        return converter

    return record


# The most tokens (or tool calls) a limit may name: OpenAI's fields are 32-bit integers,
# and no model's window comes near it; 10**100 is a mistake, not a limit.
COUNT_LIMIT = 2**31 - 1


def in_range(lo: float | None, hi: float | None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None:
            return None
        if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
            low = "-inf" if lo is None else lo
            high = "inf" if hi is None else hi
            return f"must be between {low} and {high}"
        return None

    return check


def check_logit_bias(value: Any) -> str | None:
    for token, bias in (value or {}).items():
        if not token.isdigit():
            return f"key {token!r} must be a token id (digits), as the tokenizer numbers them"
        if not -100 <= bias <= 100:
            return f"bias for token {token!r} must be between -100 and 100"
    return None


def check_metadata(value: Any) -> str | None:
    if value is None:
        return None
    if len(value) > 16:
        return "at most 16 keys are allowed"
    for key, item in value.items():
        if len(key) > 64:
            return f"key {key[:20]!r}... is longer than 64 characters"
        if len(item) > 512:
            return f"value of {key!r} is longer than 512 characters"
    return None


def check_stop(value: Any) -> str | None:
    if isinstance(value, list | tuple) and len(value) > 4:
        return "at most 4 stop sequences are allowed"
    return None


@_writes("`reasoning_effort` (effort only)")
def chat_reasoning(value: Mapping[str, Any]) -> Placement:
    extra = [k for k, v in value.items() if k != "effort" and v is not None]
    if extra:
        return Unsupported(f"reasoning.{extra[0]}")
    return {"reasoning_effort": value["effort"]} if value.get("effort") is not None else {}


@_writes("`modalities`")
def chat_modalities(value: list[str]) -> Placement:
    return {"modalities": list(value)}


@_writes("text only (default; omitted)")
def responses_modalities(value: list[str]) -> Placement:
    # Responses has no modalities parameter: text-only output is its default.
    return {} if set(value) <= {"text"} else Unsupported("modalities with 'audio'")


@_writes("n=1 only (omitted)")
def responses_n(value: int) -> Placement:
    return {} if value == 1 else Unsupported(f"n={value}")


@_writes("`include: [message.output_text.logprobs]`")
def responses_logprobs(value: bool) -> Placement:
    return {"include": ["message.output_text.logprobs"]} if value else {}


def chat_format_to_text_format(value: Mapping[str, Any]) -> dict[str, Any]:
    """Return a Chat Completions ``response_format`` in the Responses ``text.format`` shape."""
    if value.get("type") != "json_schema":
        return dict(value)
    spec = value.get("json_schema", {})
    return {"type": "json_schema", **spec}


def text_format_to_chat_format(value: Mapping[str, Any]) -> dict[str, Any]:
    """Return a Responses ``text.format`` in the Chat Completions ``response_format`` shape."""
    if value.get("type") != "json_schema":
        return dict(value)
    return {"type": "json_schema", "json_schema": {k: v for k, v in value.items() if k != "type"}}


@_writes("`text.format` (reshaped)")
def responses_response_format(value: Mapping[str, Any]) -> Placement:
    return {"text.format": chat_format_to_text_format(value)}


@_writes("`verbosity`, `response_format` (format/verbosity only)")
def chat_text(value: Mapping[str, Any]) -> Placement:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "verbosity":
            out["verbosity"] = item
        elif key == "format":
            out["response_format"] = text_format_to_chat_format(item)
        else:
            return Unsupported(f"text.{key}")
    return out
