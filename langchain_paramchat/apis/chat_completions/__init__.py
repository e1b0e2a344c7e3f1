"""The Chat Completions adapter: ``request`` builds bodies, ``reply`` and ``stream`` parse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from langchain_paramchat.apis.adapter import Adapter
from langchain_paramchat.apis.chat_completions import reply, request, stream
from langchain_paramchat.tool_choice import NeutralChoice
from langchain_paramchat.tools import NeutralTool

__all__ = ["ADAPTER", "ChatCompletionsAdapter"]


class ChatCompletionsAdapter:
    """``POST /chat/completions``: messages, function and custom tools, audio in and out."""

    api: Literal["chat_completions"] = "chat_completions"
    path = request.PATH

    def unsupported_inputs(self, messages: Sequence[BaseMessage]) -> list[str]:
        """Name images by file_id, files by URL and rich tool results (Responses only)."""
        return request.unsupported_inputs(messages)

    def unsupported_tools(self, tools: Sequence[NeutralTool]) -> list[str]:
        """Name built-in tools and tools with Responses-only keys."""
        return [f"tool {label!r}" for label in request.unsupported_tools(tools)]

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
        """Return the body; streamed calls ask for usage unless ``stream_usage`` is False."""
        options = dict(stream_options or {})
        if stream_usage:
            options.setdefault("include_usage", True)
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
        """Return one generation per choice; with web search, text as a cited block."""
        return reply.parse_response(body, blocks=_web_search(request))

    def stream_parser(self, request: Mapping[str, Any] | None = None) -> stream.StreamParser:
        """Return a parser for one ``chat.completion.chunk`` stream."""
        return stream.StreamParser(blocks=_web_search(request))

    def poll_path(self, body: Mapping[str, Any]) -> str | None:
        """Return None: Chat Completions has no background replies."""
        return None


def _web_search(request: Mapping[str, Any] | None) -> bool:
    # Only web search makes Chat Completions cite; its text then takes the Responses shape.
    return request is not None and "web_search_options" in request


ADAPTER: Adapter = ChatCompletionsAdapter()
