"""Parts of a request body both APIs build alike: tools, ``tool_choice`` and streaming."""

from __future__ import annotations

from typing import Any

__all__ = ["add_call_fields"]


def add_call_fields(
    payload: dict[str, Any],
    *,
    tools: list[dict[str, Any]] | None,
    tool_choice: Any,
    stream: bool,
    stream_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """Add the rendered tools, ``tool_choice`` and stream settings to ``payload``; return it."""
    if tools:
        payload["tools"] = tools
    if tool_choice is not None:
        payload["tool_choice"] = tool_choice
    if stream:
        payload["stream"] = True
        if stream_options:
            payload["stream_options"] = stream_options
    return payload
