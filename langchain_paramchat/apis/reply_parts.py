"""Parts of a reply both APIs' parsers build: usage metadata, tool calls, the provider tag."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import InvalidToolCall, ToolCall
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

__all__ = ["MODEL_PROVIDER", "detail", "parse_tool_call", "usage_metadata"]

MODEL_PROVIDER = "openai"


def usage_metadata(
    *,
    input_tokens: int,
    output_tokens: int,
    total_tokens: int | None = None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    input_audio: int | None = None,
    output_audio: int | None = None,
    reasoning: int | None = None,
    accepted_prediction: int | None = None,
    rejected_prediction: int | None = None,
) -> UsageMetadata:
    """Return LangChain ``UsageMetadata`` with the details the API reported (zeros kept)."""
    usage = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens if total_tokens is not None else input_tokens + output_tokens,
    )
    inp: dict[str, int] = {}
    if cache_read is not None:
        inp["cache_read"] = cache_read
    if cache_creation is not None:
        inp["cache_creation"] = cache_creation
    if input_audio is not None:
        inp["audio"] = input_audio
    out: dict[str, int] = {}
    if reasoning is not None:
        out["reasoning"] = reasoning
    if output_audio is not None:
        out["audio"] = output_audio
    # Predicted-output token counts have no standard key in langchain-core; kept beside them.
    if accepted_prediction is not None:
        out["accepted_prediction"] = accepted_prediction
    if rejected_prediction is not None:
        out["rejected_prediction"] = rejected_prediction
    if inp:
        usage["input_token_details"] = InputTokenDetails(**inp)  # type: ignore[typeddict-item]
    if out:
        usage["output_token_details"] = OutputTokenDetails(**out)  # type: ignore[typeddict-item]
    return usage


def detail(mapping: Mapping[str, Any] | None, key: str) -> int | None:
    """Return an integer usage detail, or None when absent."""
    if not mapping:
        return None
    value = mapping.get(key)
    return value if isinstance(value, int) else None


def parse_tool_call(
    name: str, arguments: str | None, call_id: str | None
) -> ToolCall | InvalidToolCall:
    """Return a ``ToolCall``, or an ``InvalidToolCall`` with the error when args are not JSON."""
    raw = arguments or ""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return InvalidToolCall(
            type="invalid_tool_call",
            name=name,
            args=raw,
            id=call_id,
            error=f"arguments are not valid JSON: {exc}",
        )
    if not isinstance(args, dict):
        return InvalidToolCall(
            type="invalid_tool_call",
            name=name,
            args=raw,
            id=call_id,
            error=f"arguments must be a JSON object, got {type(args).__name__}",
        )
    return ToolCall(type="tool_call", name=name, args=args, id=call_id)
