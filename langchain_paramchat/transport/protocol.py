"""What the model, flex, batch and background code need from a transport, as typed Protocols.

A transport sends a request and returns the reply body, or opens a stream and yields its
events; it owns retries, timeouts, pacing hooks and the mapping of failures to package
errors. The HTTP transport (``client.Transport``) and the Responses WebSocket transport
(``websocket.WebSocketTransport``) both satisfy ``ModelTransport``; their send loops share
one set of decisions (``resend.py``: resend, flex fallback). Code above the transport types
against these Protocols, never a class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import openai

from langchain_paramchat.errors import APIError
from langchain_paramchat.transport.settings import ClientSettings
from langchain_paramchat.transport.streams import AsyncEventStream, EventStream, JSONReply

__all__ = ["AsyncTransport", "ModelTransport", "Transport"]


class Transport(Protocol):
    """Send requests and open streams, blocking."""

    @property
    def settings(self) -> ClientSettings:
        """The client settings the transport was built from (its retry policy included)."""
        ...

    @property
    def client(self) -> openai.OpenAI:
        """The sync SDK client, for SDK calls the transport has no method for (Files, Batches)."""
        ...

    def map_error(self, exc: openai.APIError) -> APIError:
        """Return the package error for an SDK exception raised by a direct SDK call."""
        ...

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Send ``body`` to ``path``; return the reply object."""
        ...

    def post_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Like ``post_json``, with the reply's headers."""
        ...

    def get_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """Fetch ``path`` (a stored or background response); return the reply object.

        ``deadline`` (``time.monotonic()``) ends it earlier than ``total_timeout`` would.
        """
        ...

    def stream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> EventStream:
        """Send ``body`` and iterate the events of its streamed reply."""
        ...


class AsyncTransport(Protocol):
    """Send requests and open streams, awaiting; the twin of ``Transport``."""

    @property
    def settings(self) -> ClientSettings:
        """The client settings the transport was built from (its retry policy included)."""
        ...

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The running event loop's async SDK client."""
        ...

    def map_error(self, exc: openai.APIError) -> APIError:
        """Return the package error for an SDK exception raised by a direct SDK call."""
        ...

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of ``Transport.post_json``."""
        ...

    async def apost_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Async twin of ``Transport.post_json_reply``."""
        ...

    async def aget_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """Async twin of ``Transport.get_json``."""
        ...

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of ``Transport.stream_events``."""
        ...


class ModelTransport(Transport, AsyncTransport, Protocol):
    """Both halves: what one model holds, since it serves sync and async calls alike."""
