"""FakeOpenAI's Responses WebSocket endpoint: ``response.create`` in, the streamed events out.

Like OpenAI's WebSocket mode, each connection runs one response at a time and keeps its latest
response in memory, so a turn may continue it with ``previous_response_id`` and only the new
input, ``store=False`` included. A continuation of anything else (and not stored) answers
``previous_response_not_found``; an error evicts the connection's cached response; a
connection older than ``max_age`` answers ``websocket_connection_limit_reached`` and closes.
Scripted ``Reply`` and ``Fault`` items are consumed one per ``response.create``, as over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from langchain_paramchat.testing.body_check import BodyError
from langchain_paramchat.testing.http11 import Request, send_error, wait_for_hangup
from langchain_paramchat.testing.ratelimit import RateLimit
from langchain_paramchat.testing.rendering import Event
from langchain_paramchat.testing.responses_render import (
    failed_response,
    render_response,
    responses_missing_fields,
)
from langchain_paramchat.testing.script import Fault, RecordedRequest, Reply
from langchain_paramchat.testing.state import ScriptState
from langchain_paramchat.testing.websocket_frames import (
    CLOSE,
    PING,
    PONG,
    TEXT,
    encode_frame,
    read_message,
    upgrade_answer,
)

__all__ = ["WebSocketCounts", "WebSocketEndpoint"]

CONNECTION_LIMIT = 3600.0
"""Seconds OpenAI keeps one Responses WebSocket open (60 minutes)."""
_NOT_ON_SOCKET = ("stream", "background")


@dataclass
class WebSocketCounts:
    """What the endpoint saw: sockets opened (and open now), creates, bytes each way."""

    opened: int = 0
    open_now: int = 0
    creates: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0


class _Hangup(Exception):
    """The connection was cut on purpose (a scripted drop)."""


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter, counts: WebSocketCounts) -> None:
        self.writer = writer
        self.counts = counts
        self.opened_at = time.monotonic()
        self.cached: dict[str, Any] | None = None
        self.busy = False

    async def send(self, data: dict[str, Any] | str) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        frame = encode_frame(TEXT, text.encode())
        self.counts.bytes_sent += len(frame)
        self.writer.write(frame)
        await self.writer.drain()

    async def close(self, code: int = 1000) -> None:
        self.writer.write(encode_frame(CLOSE, code.to_bytes(2, "big")))
        await self.writer.drain()

    def abort(self) -> NoReturn:
        self.writer.transport.abort()
        raise _Hangup


def _error_event(
    status: int | None,
    message: str,
    *,
    code: str | None,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "code": code, "message": message, "param": param}
    if headers:
        error["headers"] = headers
    event: dict[str, Any] = {"type": "error", "error": error}
    if status is not None:
        event["status"] = status
    return event


class WebSocketEndpoint:
    """Serve ``GET /v1/responses`` upgrades for one ``FakeOpenAI``; its helpers are public.

    ``counts`` are the endpoint's counters; ``max_age`` is how long a connection may live
    (OpenAI: 60 minutes) and :meth:`expire` puts the open ones past it; :meth:`drop_idle`
    cuts connections between responses, and
    :meth:`forget_caches` loses every connection's cached response (as a server restart
    would).
    """

    def __init__(self, state: ScriptState, rate_limit: Callable[[], RateLimit | None]) -> None:
        self._state = state
        self._rate_limit = rate_limit
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.counts = WebSocketCounts()
        self.max_age = CONNECTION_LIMIT

    def reset(self) -> None:
        """Zero the counters (open connections stay open) and restore ``max_age``."""
        with self._lock:
            self.counts.opened = self.counts.creates = 0
            self.counts.bytes_received = self.counts.bytes_sent = 0
        self.max_age = CONNECTION_LIMIT

    def drop_idle(self) -> int:
        """Cut every connection that is between responses (TCP reset); return how many."""
        return self._on_loop(lambda conn: not conn.busy, _abort)

    def expire(self) -> int:
        """Put every open connection past ``max_age``: its next create hits the limit."""

        def age(conn: _Connection) -> None:
            conn.opened_at = float("-inf")

        return self._on_loop(lambda conn: True, age)

    def forget_caches(self) -> int:
        """Forget every connection's cached response; return how many were held."""

        def forget(conn: _Connection) -> None:
            conn.cached = None

        return self._on_loop(lambda conn: conn.cached is not None, forget)

    def _on_loop(
        self, which: Callable[[_Connection], bool], act: Callable[[_Connection], None]
    ) -> int:
        loop = self._loop
        if loop is None or loop.is_closed():
            return 0

        async def run() -> int:
            chosen = [conn for conn in list(self._connections) if which(conn)]
            for conn in chosen:
                act(conn)
            await asyncio.sleep(0)
            return len(chosen)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(5.0)

    async def serve(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answer an upgrade request and serve the connection until it closes."""
        key = request.headers.get("sec-websocket-key", "")
        if not key or request.headers.get("sec-websocket-version") != "13":
            await send_error(
                writer,
                400,
                "A WebSocket upgrade needs Sec-WebSocket-Key and version 13.",
                keep=False,
            )
            return
        self._loop = asyncio.get_running_loop()
        with self._lock:
            self.counts.bytes_received += request.wire_bytes
        writer.write(upgrade_answer(key))
        await writer.drain()
        conn = _Connection(writer, self.counts)
        with self._lock:
            self.counts.opened += 1
            self.counts.open_now += 1
            self._connections.add(conn)
        try:
            await self._serve_messages(conn, request, reader)
        except (_Hangup, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with self._lock:
                self.counts.open_now -= 1
                self._connections.discard(conn)

    async def _serve_messages(
        self, conn: _Connection, request: Request, reader: asyncio.StreamReader
    ) -> None:
        while True:
            frame = await read_message(reader)
            self.counts.bytes_received += frame.wire_bytes
            if frame.opcode == CLOSE:
                await conn.close()
                return
            if frame.opcode == PING:
                conn.writer.write(encode_frame(PONG, frame.payload))
                await conn.writer.drain()
                continue
            if frame.opcode == PONG:
                continue
            conn.busy = True
            try:
                if not await self._create(conn, request, frame.payload, reader):
                    return
            finally:
                conn.busy = False

    async def _create(
        self, conn: _Connection, request: Request, raw: bytes, reader: asyncio.StreamReader
    ) -> bool:
        """Answer one client message; return whether the connection stays open."""
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "response.create":
            kind = message.get("type") if isinstance(message, dict) else None
            self._state.record_error(f"WebSocket: unsupported message type {kind!r}")
            await conn.send(
                _error_event(
                    400, f"Unsupported message type {kind!r}.", code="unknown_message_type"
                )
            )
            return True
        self.counts.creates += 1
        body = {k: v for k, v in message.items() if k != "type"}
        self._state.record(
            RecordedRequest("WEBSOCKET", "/v1/responses", dict(request.headers), body, "responses")
        )
        if time.monotonic() - conn.opened_at > self.max_age:
            await conn.send(
                _error_event(
                    400,
                    "Responses websocket connection limit reached (60 minutes). Create a new "
                    "websocket connection to continue.",
                    code="websocket_connection_limit_reached",
                )
            )
            await conn.close()
            return False
        rejection = self._reject(conn, body)
        if rejection is not None:
            conn.cached = None
            await conn.send(
                _error_event(400, rejection.message, code=rejection.code, param=rejection.param)
            )
            return True
        limit = self._rate_limit()
        if limit is not None:
            admission = limit.admit(body)
            if admission.exceeded is not None:
                conn.cached = None
                await conn.send(
                    _error_event(
                        429,
                        admission.message,
                        code="rate_limit_exceeded",
                        error_type=admission.exceeded,
                        headers=admission.headers,
                    )
                )
                return True
        fault, reply = self._state.next(body)
        return await self._answer(conn, body, fault, reply, reader)

    def _reject(self, conn: _Connection, body: dict[str, Any]) -> BodyError | None:
        for key in _NOT_ON_SOCKET:
            if key in body:
                problem = BodyError(
                    f"'{key}' is not used over a WebSocket (responses always stream there).",
                    key,
                    "unsupported_parameter",
                )
                self._state.record_error(f"WebSocket response.create: {problem.message}")
                return problem
        problems = self._state.check("responses", body)
        for problem in problems:
            self._state.record_error(f"WebSocket response.create: {problem.message}")
        if problems:
            message = "; ".join(p.message for p in problems)
            return BodyError(message, problems[0].param, problems[0].code)
        previous = body.get("previous_response_id")
        if isinstance(previous, str):
            cached = conn.cached
            if not (cached is not None and cached["id"] == previous) and not self._state.is_stored(
                previous
            ):
                return BodyError(
                    f"Previous response with id '{previous}' not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
        return None

    async def _answer(
        self,
        conn: _Connection,
        body: dict[str, Any],
        fault: Fault | None,
        reply: Reply,
        reader: asyncio.StreamReader,
    ) -> bool:
        kind = fault.kind if fault is not None else None
        if fault is not None and kind == "status":
            conn.cached = None
            await conn.send(
                _error_event(
                    fault.status_code,
                    fault.message,
                    code=fault.error_code,
                    error_type=fault.error_type or "invalid_request_error",
                    headers=fault.headers,
                )
            )
            return True
        if kind == "reset":
            conn.abort()
        if fault is not None and kind == "stall":
            await wait_for_hangup(reader, fault.seconds)
            conn.abort()
        if fault is not None and kind == "malformed":
            conn.cached = None
            await conn.send(fault.body)
            return True
        if kind == "missing_fields":
            conn.cached = None
            broken = responses_missing_fields(body)
            await conn.send(
                {"type": "response.completed", "sequence_number": 0, "response": broken}
            )
            return True
        rendered = render_response(reply, body)
        response, events = rendered.response, rendered.events
        if body.get("store") is not False:
            self._state.store(response)
        if fault is None or kind == "slow":
            delay = fault.seconds if fault is not None else 0.0
            for event in events:
                if delay:
                    await asyncio.sleep(delay)
                await conn.send(_data(event))
            conn.cached = response
            return True
        conn.cached = None
        sent = events[: min(fault.after_events, len(events) - 1)]
        for event in sent:
            await conn.send(_data(event))
        if kind == "drop_mid_stream":
            conn.abort()
        if kind == "truncated":
            await conn.close()
            return False
        if kind == "stream_error":
            if fault.event == "error":
                await conn.send(
                    {
                        **_error_event(
                            None,
                            fault.message,
                            code=fault.error_code,
                            error_type="server_error",
                        ),
                        "sequence_number": len(sent),
                    }
                )
            else:
                failed = failed_response(response, fault)
                await conn.send(
                    {"type": "response.failed", "sequence_number": len(sent), "response": failed}
                )
        return True


def _data(event: Event) -> dict[str, Any] | str:
    return event.data


def _abort(conn: _Connection) -> None:
    conn.writer.transport.abort()
