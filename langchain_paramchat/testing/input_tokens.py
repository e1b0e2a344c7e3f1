"""``POST /v1/responses/input_tokens`` for the scripted server: a deterministic token count.

The count is not a real tokenizer's, but it is fixed and easy to work out by hand: every
string value (except ``type`` and ``role`` values) under ``input``, ``instructions``,
``tools``, ``tool_choice``, ``text`` and ``reasoning`` costs one token per word, number or
symbol (``\\w+`` or one other non-space character), and each item of a list ``input`` costs
3 more. ``input="Tell me a joke."`` is 5 tokens; the same as one user message is 8.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["PATH", "count_input_tokens", "input_tokens_reply"]

PATH = "/v1/responses/input_tokens"

_COUNTED = ("input", "instructions", "tools", "tool_choice", "text", "reasoning")
_UNCOUNTED = frozenset({"type", "role"})
_PER_ITEM = 3
_PIECE = re.compile(r"\w+|[^\w\s]")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in _UNCOUNTED for s in _strings(v)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def count_input_tokens(body: dict[str, Any]) -> int:
    """Return the fake server's token count for an input-token request ``body``."""
    total = sum(len(_PIECE.findall(s)) for key in _COUNTED for s in _strings(body.get(key)))
    if isinstance(body.get("input"), list):
        total += _PER_ITEM * len(body["input"])
    return total


def _allowed_keys() -> frozenset[str]:
    from openai.types.responses.input_token_count_params import InputTokenCountParams

    return frozenset(InputTokenCountParams.__annotations__)


def input_tokens_reply(body: dict[str, Any] | None, body_error: str | None) -> tuple[int, Any]:
    """Return ``(status, payload)``: the count, or a 400 error message for a bad body."""
    if body is None:
        return 400, body_error or "the request body must be a JSON object"
    unknown = sorted(set(body) - _allowed_keys())
    if unknown:
        return 400, f"Unrecognized request argument supplied: {', '.join(unknown)}"
    return 200, {"object": "response.input_tokens", "input_tokens": count_input_tokens(body)}
