"""The ``Adapter`` interface each API implements, and the lookup from an API name to its adapter.

An adapter owns everything API-specific and does no I/O: which inputs its API cannot carry
(routing reads both adapters' answers), the request body with tools, ``tool_choice`` and
``stream_options``, the reply parser, the stream parser (including the API's error events)
and API-only behaviour such as background polling. ``chat_model`` only calls these methods.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

if TYPE_CHECKING:
    from langchain_paramchat.options import Api
    from langchain_paramchat.tools.normalize import NeutralTool
    from langchain_paramchat.tools.tool_choice import NeutralChoice

__all__ = ["APIS", "Adapter", "PackageAdapter", "StreamParser", "adapter_for", "unsupported"]

APIS: tuple[Api, ...] = ("chat_completions", "responses")


class StreamParser(Protocol):
    """Turns one stream's events into LangChain chunks; one parser per stream."""

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk one event carries, or None; raise ``APIError`` on error events."""
        ...

    def close(self, *, done: bool) -> ChatGenerationChunk | None:
        """Return the closing chunk, if any; raise when the stream ended early."""
        ...


class Adapter(Protocol):
    """Everything one API needs: what it cannot carry, its request body, replies and streams."""

    @property
    def api(self) -> Api:
        """The API this adapter speaks."""
        ...

    @property
    def path(self) -> str:
        """The path requests are POSTed to."""
        ...

    def unsupported_inputs(self, messages: Sequence[BaseMessage]) -> list[str]:
        """Name message contents this API cannot carry (so the other API must).

        Plain text (a ``str`` content and no ``additional_kwargs``) must never be named.
        """
        ...

    def unsupported_tools(self, tools: Sequence[NeutralTool]) -> list[str]:
        """Name bound tools this API cannot carry (so the other API must)."""
        ...

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
        """Return the exact JSON body to POST to ``path``."""
        ...

    def parse_reply(
        self, body: dict[str, Any], request: Mapping[str, Any] | None = None
    ) -> ChatResult:
        """Return the ``ChatResult`` for a reply body; raise ``APIError`` if it reports failure.

        ``request`` is the body that was sent (when known): invoke and stream read the same
        request options, so both give content the same shape.
        """
        ...

    def stream_parser(self, request: Mapping[str, Any] | None = None) -> StreamParser:
        """Return a new parser for one stream of the reply to ``request``."""
        ...

    def poll_path(self, body: Mapping[str, Any]) -> str | None:
        """Return the path to poll while a reply is still being produced, else None."""
        ...


class PackageAdapter:
    """An ``Adapter`` made of one API package's ``request``, ``reply`` and ``stream`` modules.

    Both APIs build and parse the same way through their modules; a subclass names its
    modules and overrides only what its API does differently (``stream_options``, what it
    cannot carry, background polling).
    """

    api: Api
    path: str
    _request: Any
    _reply: Any
    _stream: Any

    def unsupported_inputs(self, messages: Sequence[BaseMessage]) -> list[str]:
        """Name message contents this API cannot carry (so the other API must)."""
        result: list[str] = self._request.unsupported_inputs(messages)
        return result

    def unsupported_tools(self, tools: Sequence[NeutralTool]) -> list[str]:
        """Return []: every tool kind (overridden where an API lacks some)."""
        return []

    def stream_options(
        self, options: Mapping[str, Any] | None, stream_usage: bool
    ) -> dict[str, Any]:
        """Return the ``stream_options`` to send for the caller's ``options``."""
        return dict(options or {})

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
        """Return the exact JSON body to POST to ``path``."""
        request = self._request
        payload: dict[str, Any] = request.build_payload(
            messages,
            model=model,
            placements=placements,
            tools=[request.render_tool(t) for t in tools] if tools else None,
            tool_choice=request.render_tool_choice(tool_choice) if tool_choice else None,
            stream=stream,
            stream_options=self.stream_options(stream_options, stream_usage),
        )
        return payload

    def parse_reply(
        self, body: dict[str, Any], request: Mapping[str, Any] | None = None
    ) -> ChatResult:
        """Return the ``ChatResult`` for a reply body."""
        result: ChatResult = self._reply.parse_response(body)
        return result

    def stream_parser(self, request: Mapping[str, Any] | None = None) -> StreamParser:
        """Return a new parser for one stream."""
        parser: StreamParser = self._stream.StreamParser()
        return parser

    def poll_path(self, body: Mapping[str, Any]) -> str | None:
        """Return None: no background replies (overridden where an API has them)."""
        return None


_LOADED: dict[str, Adapter] = {}


def adapter_for(api: Api) -> Adapter:
    """Return the adapter of ``api``, importing its package on first use."""
    adapter = _LOADED.get(api)
    if adapter is None:
        module = importlib.import_module(f"langchain_paramchat.apis.{api}")
        adapter = _LOADED[api] = module.ADAPTER
    return adapter


def unsupported(
    messages: Sequence[BaseMessage], tools: Sequence[NeutralTool] | None
) -> dict[Api, list[str]]:
    """Return, per API, the inputs and tools it cannot carry (routing's input side).

    Every API carries plain text: an adapter may only refuse a tool, a message whose content
    is a list of parts, or one with ``additional_kwargs``. A call with none of those skips
    the adapters, so a first plain call does not load the API it is not routed to.
    """
    if not tools and all(m.content.__class__ is str and not m.additional_kwargs for m in messages):
        return {}
    out: dict[Api, list[str]] = {}
    for adapter in _all():
        found = [*adapter.unsupported_tools(tools or ()), *adapter.unsupported_inputs(messages)]
        if found:
            out[adapter.api] = found
    return out


_EVERY: list[Adapter] = []


def _all() -> list[Adapter]:
    if not _EVERY:
        _EVERY.extend(adapter_for(api) for api in APIS)
    return _EVERY
