"""FakeOpenAI's routing table: one HTTP request in, its answer out, by method and path.

Creates consume a scripted item from the ``ScriptState`` and are answered as JSON or SSE with
the item's fault applied; ``GET /v1/responses`` upgrades go to the WebSocket endpoint; Files
and Batches go to ``FakeBatches``; input-token counts and compactions are computed; anything
else is a 404.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from langchain_paramchat.testing import compact, input_tokens
from langchain_paramchat.testing.batches import FakeBatches
from langchain_paramchat.testing.body_check import CREATE_PATHS, Api
from langchain_paramchat.testing.chat_render import chat_chunks, chat_completion
from langchain_paramchat.testing.http11 import (
    Closed,
    Request,
    send_error,
    send_json,
    send_raw,
    wait_for_hangup,
)
from langchain_paramchat.testing.ratelimit import RateLimit
from langchain_paramchat.testing.rendering import Event
from langchain_paramchat.testing.responses_render import failed_response, render_response
from langchain_paramchat.testing.script import RecordedRequest
from langchain_paramchat.testing.send_answer import send_events, send_missing_fields, send_payload
from langchain_paramchat.testing.state import ScriptState, unfinished
from langchain_paramchat.testing.websocket import WebSocketEndpoint

__all__ = ["HttpRoutes", "parse_body"]


class HttpRoutes:
    """Answer the requests of one ``FakeOpenAI``; ``serve`` says whether to keep the connection."""

    def __init__(
        self,
        state: ScriptState,
        batches: FakeBatches,
        websockets: WebSocketEndpoint,
        rate_limit: Callable[[], RateLimit | None],
    ) -> None:
        self._state = state
        self._batches = batches
        self._websockets = websockets
        self._rate_limit = rate_limit
        self.input_tokens_answer: Any = None

    async def serve(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; return whether the connection stays open."""
        path = request.path
        if (
            request.method == "GET"
            and path == "/v1/responses"
            and request.headers.get("upgrade", "").lower() == "websocket"
        ):
            self._state.record(
                RecordedRequest("GET", path, dict(request.headers), None, "responses")
            )
            await self._websockets.serve(request, reader, writer)
            return False
        api: Api | None = CREATE_PATHS.get(path)
        if path.startswith("/v1/responses/"):
            api = "responses"
        body, body_error = parse_body(request.raw_body)
        self._state.record(
            RecordedRequest(request.method, path, dict(request.headers), body, api),
            request.wire_bytes,
        )
        try:
            return await self._route(request, body, body_error, reader, writer)
        except (Closed, ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a renderer bug must fail the test loudly, not hang it
            message = f"FakeOpenAI failed to answer {request.method} {path}: {exc!r}"
            self._state.record_error(message)
            await send_error(writer, 500, message, error_type="server_error", keep=False)
            return False

    async def _route(
        self,
        request: Request,
        body: dict[str, Any] | None,
        body_error: str | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        path, keep = request.path, request.keep_alive
        computed = {
            input_tokens.PATH: input_tokens.input_tokens_reply,
            compact.PATH: compact.compact_reply,
        }
        if request.method == "POST" and path in computed:
            status, answer = computed[path](body, body_error)
            if path == input_tokens.PATH and status == 200 and self.input_tokens_answer is not None:
                answer = self.input_tokens_answer
            if status != 200:
                self._state.record_error(f"{request.method} {path}: {answer}")
                await send_error(writer, status, answer, keep=keep)
            else:
                await send_json(writer, status, answer, keep=keep)
            return keep
        if request.method == "POST" and path in CREATE_PATHS:
            api = CREATE_PATHS[path]
            return await self._create(api, request, body, body_error, reader, writer) and keep
        if request.method == "GET" and path.startswith("/v1/responses/"):
            await self._retrieve(path.removeprefix("/v1/responses/"), writer, keep)
            return keep
        if path.startswith(("/v1/files", "/v1/batches")):
            status, reply, headers = self._batches.serve(
                request.method, path, request.headers, request.raw_body
            )
            binary = isinstance(reply, bytes)
            data = reply if binary else json.dumps(reply).encode()
            kind = "application/octet-stream" if binary else "application/json"
            await send_raw(writer, status, data, kind, keep=keep, headers=headers)
            return keep
        if path in CREATE_PATHS:
            await send_error(
                writer, 405, f"Method {request.method} not allowed on {path}.", keep=keep
            )
            return keep
        await send_error(writer, 404, f"Unknown request URL: {request.method} {path}.", keep=keep)
        return keep

    async def _retrieve(self, response_id: str, writer: asyncio.StreamWriter, keep: bool) -> None:
        answer = self._state.retrieve(response_id)
        if answer is None:
            await send_error(writer, 404, f"Response with id '{response_id}' not found.", keep=keep)
        else:
            await send_json(writer, 200, answer, keep=keep)

    async def _create(
        self,
        api: Api,
        request: Request,
        body: dict[str, Any] | None,
        body_error: str | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer a create request; return whether the connection stays open."""
        keep = request.keep_alive
        rejection = self._state.reject(api, f"{request.method} {request.path}", body, body_error)
        if rejection is not None:
            await send_error(
                writer,
                400,
                rejection.message,
                param=rejection.param,
                code=rejection.code,
                keep=keep,
            )
            return True
        assert body is not None
        limits: dict[str, str] = {}
        rate_limit = self._rate_limit()
        if rate_limit is not None:
            admission = rate_limit.admit(body)
            limits = admission.headers
            if admission.exceeded is not None:
                await send_error(
                    writer,
                    429,
                    admission.message,
                    error_type=admission.exceeded,
                    code="rate_limit_exceeded",
                    headers=limits,
                    keep=keep,
                )
                return True
        fault, reply = self._state.next(body)
        stream = body.get("stream") is True
        kind = fault.kind if fault is not None else None

        if fault is not None and kind == "status":
            await send_error(
                writer,
                fault.status_code,
                fault.message,
                error_type=fault.error_type,
                code=fault.error_code,
                headers=fault.headers,
                keep=keep,
            )
            return True
        if fault is not None and kind in ("reset", "stall"):
            if kind == "stall":
                await wait_for_hangup(reader, fault.seconds)
            writer.transport.abort()
            raise Closed
        if fault is not None and kind == "malformed":
            await send_raw(writer, 200, fault.body.encode(), fault.content_type, keep=keep)
            return True
        if kind == "missing_fields":
            await send_missing_fields(writer, api, body, stream, keep)
            return True
        if (
            fault is not None
            and kind == "stream_error"
            and api == "chat_completions"
            and not stream
        ):
            await send_error(
                writer,
                500,
                fault.message,
                error_type="server_error",
                code=fault.error_code,
                keep=keep,
            )
            return True

        payload: dict[str, Any] = {}
        events: list[Event] = []
        if api == "chat_completions":
            if stream:
                events = chat_chunks(reply, body)
            else:
                payload = chat_completion(reply, body)
        else:
            rendered = render_response(reply, body)
            payload, events = rendered.response, rendered.events
            if fault is not None and kind == "stream_error":
                payload = failed_response(payload, fault)
            background = bool(body.get("background")) and not stream
            # Like the real API, a response made with store=false cannot be continued or fetched.
            if body.get("store") is not False:
                self._state.store(payload, background=background)
            if background:
                payload = unfinished(payload, "queued")

        headers = {**limits, **reply.headers} if reply.headers else limits
        if stream:
            return await send_events(writer, api, events, payload, fault, keep, headers)
        return await send_payload(writer, payload, fault, keep, headers)


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Return a request's JSON object body, or None and why it is not one."""
    if not raw:
        return None, None
    try:
        value = json.loads(raw, parse_constant=_non_standard)
    except ValueError as exc:
        return None, f"We could not parse the JSON body of your request: {exc}"
    except RecursionError:
        return None, "We could not parse the JSON body of your request: it nests too deeply."
    if not isinstance(value, dict):
        return None, "The request body must be a JSON object."
    return value, None


def _non_standard(constant: str) -> Any:
    """Refuse ``NaN`` / ``Infinity``: Python's json reads them, JSON (and OpenAI) does not."""
    raise ValueError(f"{constant} is not valid JSON")
