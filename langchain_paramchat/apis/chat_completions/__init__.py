"""The Chat Completions adapter: ``request`` builds bodies, ``reply`` and ``stream`` parse.

May import: ``apis`` (adapter, content, request and reply parts), ``errors``, ``tools``,
``model_facts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.outputs import ChatResult

from langchain_paramchat.apis.adapter import Adapter, PackageAdapter
from langchain_paramchat.apis.chat_completions import reply, request, stream

if TYPE_CHECKING:
    from langchain_paramchat.tools.normalize import NeutralTool

__all__ = ["ADAPTER", "ChatCompletionsAdapter"]


class ChatCompletionsAdapter(PackageAdapter):
    """``POST /chat/completions``: messages, function and custom tools, audio in and out.

    It cannot carry images by file_id, files by URL, rich tool results, built-in tools and
    tools with Responses-only keys (routing sends those to Responses).
    """

    api: Literal["chat_completions"] = "chat_completions"
    path = request.PATH
    _request = request
    _reply = reply
    _stream = stream

    def unsupported_tools(self, tools: Sequence[NeutralTool]) -> list[str]:
        """Name built-in tools and tools with Responses-only keys."""
        return [f"tool {label!r}" for label in request.unsupported_tools(tools)]

    def stream_options(
        self, options: Mapping[str, Any] | None, stream_usage: bool
    ) -> dict[str, Any]:
        """Ask streamed calls for usage unless ``stream_usage`` is False."""
        out = dict(options or {})
        if stream_usage:
            out.setdefault("include_usage", True)
        return out

    def parse_reply(
        self, body: dict[str, Any], request: Mapping[str, Any] | None = None
    ) -> ChatResult:
        """Return one generation per choice; with web search, text as a cited block."""
        return reply.parse_response(body, blocks=_web_search(request))

    def stream_parser(self, request: Mapping[str, Any] | None = None) -> stream.StreamParser:
        """Return a parser for one ``chat.completion.chunk`` stream."""
        return stream.StreamParser(blocks=_web_search(request))


def _web_search(request: Mapping[str, Any] | None) -> bool:
    # Only web search makes Chat Completions cite; its text then takes the Responses shape.
    return request is not None and "web_search_options" in request


ADAPTER: Adapter = ChatCompletionsAdapter()
