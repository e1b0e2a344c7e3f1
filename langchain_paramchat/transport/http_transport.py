"""The transport one model uses: sync and async halves over shared, safely keyed SDK clients."""

from __future__ import annotations

from langchain_paramchat.transport.aio import AsyncTransport
from langchain_paramchat.transport.settings import ClientSettings
from langchain_paramchat.transport.sync import SyncTransport

__all__ = ["Transport", "shared_transport"]


class Transport(SyncTransport, AsyncTransport):
    """Send JSON payloads and read JSON or SSE replies, with retries, for one ``ClientSettings``.

    Every failure surfaces as a package error (``langchain_paramchat.errors``), each also the
    matching ``openai`` exception: HTTP statuses as ``APIStatusError`` subclasses carrying
    status, OpenAI's ``code``/``type``/message and the request id, with the SDK's exception
    as ``__cause__``; context overflow as ``ContextOverflowError`` (also langchain-core's);
    network trouble as ``APIConnectionError``/``APITimeoutError``; unreadable replies as
    ``ResponseFormatError``. One ``Transport`` per model: its retry policy, hooks and
    ``total_timeout`` are its own, while the SDK clients underneath are shared per process,
    per event loop and per connection settings (``transport/clients.py``).
    """


def shared_transport(settings: ClientSettings) -> Transport:
    """Return a transport for ``settings`` whose SDK clients are shared where that is safe.

    Building an SDK client costs ~50 ms; models whose connection settings are equal reuse
    one (in the same process and event loop), while each keeps its own retry policy.
    """
    return Transport(settings)
