"""The Responses adapter: ``request`` builds bodies, ``reply`` and ``stream`` parse.

``chaining`` continues a conversation from a stored response; background replies are polled
at ``/responses/{id}`` until they finish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from langchain_paramchat.apis.adapter import Adapter
from langchain_paramchat.apis.responses import reply, request, stream
from langchain_paramchat.tool_choice import NeutralChoice
from langchain_paramchat.tools import NeutralTool

__all__ = ["ADAPTER", "ResponsesAdapter"]

_PENDING = frozenset({"queued", "in_progress"})


class ResponsesAdapter:
    """``POST /responses``: typed input items, built-in tools, reasoning, stored state."""

    api: Literal["responses"] = "responses"
    path = request.PATH

    def unsupported_inputs(self, messages: Sequence[BaseMessage]) -> list[str]:
        """Name audio input and assistant audio (Chat Completions only)."""
        return request.unsupported_inputs(messages)

    def unsupported_tools(self, tools: Sequence[NeutralTool]) -> list[str]:
        """Return []: the Responses API takes every tool kind."""
        return []

    def build_request(
        self,
        messages: Sequence[BaseMessage],
        *,
        model: str,
        placements: dict[str, Any],
        tools: Sequence[NeutralTool] | None,
        tool_choice: NeutralChoice | None,
        stream: bool,
        stream_options: Mapping[str, Any] | None,
        stream_usage: bool,
    ) -> dict[str, Any]:
        """Return the body; streams always end with usage here, so nothing asks for it."""
        options = {k: v for k, v in (stream_options or {}).items() if k != "include_usage"}
        return request.build_payload(
            messages,
            model=model,
            placements=placements,
            tools=[request.render_tool(t) for t in tools] if tools else None,
            tool_choice=request.render_tool_choice(tool_choice) if tool_choice else None,
            stream=stream,
            stream_options=options,
        )

    def parse_reply(
        self, body: dict[str, Any], request: Mapping[str, Any] | None = None
    ) -> ChatResult:
        """Return the one generation of a ``response`` body."""
        return reply.parse_response(body)

    def stream_parser(self, request: Mapping[str, Any] | None = None) -> stream.StreamParser:
        """Return a parser for one Responses event stream."""
        return stream.StreamParser()

    def poll_path(self, body: Mapping[str, Any]) -> str | None:
        """Return ``/responses/{id}`` while a background response is queued or in progress."""
        if body.get("object") == "response" and body.get("status") in _PENDING:
            return f"{request.PATH}/{body['id']}"
        return None


ADAPTER: Adapter = ResponsesAdapter()
