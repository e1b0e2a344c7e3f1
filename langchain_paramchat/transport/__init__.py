"""Send ParamChat's ready-made JSON payloads through the openai SDK and read replies and SSE.

Split the way httpx is: ``settings`` (what to reach and how long to wait), ``sse`` (the
event-stream decoder, no sockets), ``errors`` (the status table and the one mapping guard),
``fastpath`` (every use of the SDK's and httpx2's private APIs), ``clients`` (SDK clients
shared per process, event loop and connection settings), ``base`` with its ``sync`` and
``aio`` halves, joined in ``client.Transport``.

The SDK client does auth, base URL, headers and connection pooling; it is built with
``max_retries=0`` because ``retry.py`` owns retries. Payloads are sent as ready JSON (the
typed ``create()`` would walk every message through the SDK's TypedDict transform again).
"""

from langchain_paramchat.transport.client import Transport, shared_transport
from langchain_paramchat.transport.settings import ClientSettings, RequestHooks, as_timeout
from langchain_paramchat.transport.sse import SSEDecoder
from langchain_paramchat.transport.streams import AsyncEventStream, Event, EventStream, JSONReply

__all__ = [
    "AsyncEventStream",
    "ClientSettings",
    "Event",
    "EventStream",
    "JSONReply",
    "RequestHooks",
    "SSEDecoder",
    "Transport",
    "as_timeout",
    "shared_transport",
]
