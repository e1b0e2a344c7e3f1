"""Send ParamChat's ready-made JSON payloads through the openai SDK and read replies and SSE.

Split the way httpx is: ``settings`` (what to reach and how long to wait), ``sse`` (the
event-stream decoder, no sockets), ``errors`` (the status table and the one mapping guard),
``fastpath`` (every use of the SDK's and httpx2's private APIs), ``clients`` (SDK clients
shared per process, event loop and connection settings), ``base`` with its ``sync`` and
``aio`` halves, joined in ``http_transport.Transport``; ``websocket`` (the Responses
WebSocket mode, over the same Protocol in ``protocol``); and the send loop's policies:
``retry`` (the retry policy), ``resend`` (what a failure leads to), ``pacer`` (rate-limit
pacing) and ``flex`` (flex processing's timeout and fallback).

The SDK client does auth, base URL, headers and connection pooling; it is built with
``max_retries=0`` because ``retry`` owns retries. Payloads are sent as ready JSON (the
typed ``create()`` would walk every message through the SDK's TypedDict transform again).

May import: ``_sdk``, ``errors``, ``secrets``, ``bounds``; never a message, an adapter or
the model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from langchain_paramchat.transport.settings import ClientSettings, RequestHooks, as_timeout

if TYPE_CHECKING:
    from langchain_paramchat.transport.flex import FLEX_TIMEOUT
    from langchain_paramchat.transport.http_transport import Transport, shared_transport
    from langchain_paramchat.transport.pacer import shared_pacer
    from langchain_paramchat.transport.sdk_route import SDKRoute, as_json
    from langchain_paramchat.transport.sse import SSEDecoder
    from langchain_paramchat.transport.streams import (
        AsyncEventStream,
        Event,
        EventStream,
        JSONReply,
    )
    from langchain_paramchat.transport.websocket import WebSocketTransport

__all__ = [
    "FLEX_TIMEOUT",
    "AsyncEventStream",
    "ClientSettings",
    "Event",
    "EventStream",
    "JSONReply",
    "RequestHooks",
    "SDKRoute",
    "SSEDecoder",
    "Transport",
    "WebSocketTransport",
    "as_json",
    "as_timeout",
    "shared_pacer",
    "shared_transport",
]

# Validating a model's settings needs only ``settings``; the send machinery (sync and async
# halves, SSE, the SDK's private fast path) is imported when a transport is first built.
_LAZY = {
    "Transport": "http_transport",
    "shared_transport": "http_transport",
    "SSEDecoder": "sse",
    "AsyncEventStream": "streams",
    "Event": "streams",
    "EventStream": "streams",
    "JSONReply": "streams",
    "SDKRoute": "sdk_route",
    "as_json": "sdk_route",
    "FLEX_TIMEOUT": "flex",
    "shared_pacer": "pacer",
    "WebSocketTransport": "websocket",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
