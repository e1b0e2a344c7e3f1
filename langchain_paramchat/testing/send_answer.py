"""Send a rendered answer (JSON or SSE) for the fake server, applying its scripted fault."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_paramchat.testing.body_check import Api
from langchain_paramchat.testing.chat_render import chat_missing_fields, chat_stream_failure
from langchain_paramchat.testing.http11 import Closed, send_json, send_raw, send_stream
from langchain_paramchat.testing.rendering import Event
from langchain_paramchat.testing.responses_render import (
    responses_missing_fields,
    responses_stream_failure,
)
from langchain_paramchat.testing.script import Fault

__all__ = ["send_events", "send_missing_fields", "send_payload"]


async def send_missing_fields(
    writer: asyncio.StreamWriter, api: Api, body: dict[str, Any], stream: bool, keep: bool
) -> None:
    """Send a reply (or its stream) with required fields left out, for malformed-reply tests."""
    if api == "chat_completions":
        broken = chat_missing_fields(body, chunk=stream)
        if stream:
            await send_stream(writer, [Event(None, broken), Event(None, "[DONE]")], keep=keep)
            return
    else:
        broken = responses_missing_fields(body)
        if stream:
            event = {"type": "response.completed", "sequence_number": 0, "response": broken}
            await send_stream(writer, [Event("response.completed", event)], keep=keep)
            return
    await send_json(writer, 200, broken, keep=keep)


async def send_payload(
    writer: asyncio.StreamWriter,
    payload: dict[str, Any],
    fault: Fault | None,
    keep: bool,
    headers: dict[str, str] | None = None,
) -> bool:
    """Send a JSON answer, applying a fault that cuts, drops or slows it.

    Raises ``Closed`` after a ``drop_mid_stream`` fault aborted the connection.
    """
    data = json.dumps(payload).encode()
    kind = fault.kind if fault is not None else None
    if kind == "truncated":
        await send_raw(writer, 200, data[: len(data) // 2], "application/json", keep=keep)
        return True
    if kind == "drop_mid_stream":
        half = data[: len(data) // 2]
        await send_raw(writer, 200, half, "application/json", keep=keep, declared_length=len(data))
        writer.transport.abort()
        raise Closed
    if fault is not None and kind == "slow":
        await asyncio.sleep(fault.seconds)
    await send_raw(writer, 200, data, "application/json", keep=keep, headers=headers)
    return True


async def send_events(
    writer: asyncio.StreamWriter,
    api: Api,
    events: list[Event],
    response: dict[str, Any],
    fault: Fault | None,
    keep: bool,
    headers: dict[str, str] | None = None,
) -> bool:
    """Stream SSE events, applying a fault that slows, cuts, drops or fails the stream.

    Raises ``Closed`` when a fault aborted the connection.
    """
    if fault is None or fault.kind == "slow":
        delay = fault.seconds if fault else 0.0
        await send_stream(writer, events, keep=keep, delay=delay, headers=headers)
        return True
    # Every other fault cuts the stream short: the final event is never sent.
    sent = events[: min(fault.after_events, len(events) - 1)]
    if fault.kind == "drop_mid_stream":
        await send_stream(writer, sent, keep=keep, finish=False)
        writer.transport.abort()
        raise Closed
    if fault.kind == "stream_error":
        if api == "chat_completions":
            sent.append(chat_stream_failure(fault))
        else:
            sent.append(responses_stream_failure(response, fault, len(sent)))
    await send_stream(writer, sent, keep=keep)
    return True
