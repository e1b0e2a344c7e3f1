"""The async half of the transport: JSON requests and event streams over ``openai.AsyncOpenAI``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import APIError
from langchain_paramchat.transport.base import AsyncStreamCall, TransportBase, not_event_stream
from langchain_paramchat.transport.fastpath import adrain_or_close, direct_request, pool_is_full
from langchain_paramchat.transport.resend import Attempts
from langchain_paramchat.transport.sse import SSEDecoder
from langchain_paramchat.transport.streams import AsyncEventStream, Event, JSONReply

__all__ = ["AsyncTransport"]


class AsyncTransport(TransportBase):
    """Send JSON and read JSON or SSE replies, awaiting; see ``Transport``.

    Async SDK clients are built once per event loop (an httpx2 pool cannot outlive its
    loop) unless ``http_async_client`` is given, and released when their loop closes.
    """

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """Return the async SDK client for the running event loop, building it on first use."""
        return self.clients.for_running_loop()

    async def aclose(self) -> None:
        """Close the running loop's async SDK client if it was built here."""
        await self.clients.aclose()

    # --- JSON requests --------------------------------------------------------------------

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of ``post_json``."""
        attempts = self._attempts(body)

        async def attempt() -> dict[str, Any]:
            response, content = await self._apost(path, attempts.body, extra_headers, attempts)
            return self._json_object(response, content)

        return await self._arun(attempt, attempts)

    async def apost_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Async twin of ``post_json_reply``."""
        attempts = self._attempts(body)

        async def attempt() -> JSONReply:
            response, content = await self._apost(path, attempts.body, extra_headers, attempts)
            return JSONReply(self._json_object(response, content), response.headers)

        return await self._arun(attempt, attempts)

    async def aget_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """Async twin of ``get_json``."""
        self._check_get_path(path)
        attempts = self._attempts({}, deadline)

        async def attempt() -> dict[str, Any]:
            client = self.async_client
            n = attempts.next()
            key = await self._akey(attempts)
            await self._await_to_send(path, {}, attempts)
            timeout = self._attempt_timeout(self._timeout, attempts)
            options = self._generic_options(timeout, None, n, key)
            with self.errors.sending:
                response: hx.Response = await client.get(path, cast_to=hx.Response, options=options)
            if self._hooks is not None:
                self._hooks.after_response(path, response.status_code, response.headers)
            return self._json_object(response, response.content)

        return await self._arun(attempt, attempts)

    async def _apost(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        attempts: Attempts,
    ) -> tuple[hx.Response, bytes]:
        """Send one attempt of a JSON POST; return the response and its whole body."""
        deadline = attempts.deadline
        if deadline is None:
            response = await self._asend(path, body, extra_headers, stream=False, attempts=attempts)
            return response, response.content
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                response = await self._asend(
                    path, body, extra_headers, stream=False, attempts=attempts
                )
        except TimeoutError as exc:
            if isinstance(exc, APIError):
                raise
            raise self.deadline_error() from exc
        return response, response.content

    # --- streams --------------------------------------------------------------------------

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of ``stream_events``."""
        return AsyncEventStream(
            lambda stream: self._aresending(
                stream, lambda: self._astream_call(stream, path, body, extra_headers)
            )
        )

    def _astream_call(
        self,
        stream: AsyncEventStream,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
    ) -> AsyncStreamCall:
        attempts = self._attempts(body)

        async def attempt() -> tuple[Event | None, AsyncGenerator[Event, None]]:
            response = await self._asend(
                path, attempts.body, extra_headers, stream=True, attempts=attempts
            )
            events = self._aread_events(response, stream, attempts)
            try:
                if not_event_stream(response):
                    await response.aread()
                    raise self._not_event_stream_error(response)
                first = await anext(events, None)
            except BaseException:
                await events.aclose()
                await response.aclose()
                raise
            stream.headers = response.headers
            return first, events

        return attempts, attempt

    async def _aread_events(
        self, response: hx.Response, stream: AsyncEventStream, attempts: Attempts
    ) -> AsyncGenerator[Event, None]:
        idle = self.settings.stream_idle_timeout
        total = attempts.deadline
        decoder = SSEDecoder()
        loop = asyncio.get_running_loop()
        # Both clocks in the loop's time: the idle wait per event, the call's total deadline.
        total_at = None if total is None else loop.time() + (total - time.monotonic())
        errors = self.errors
        chunks = response.aiter_bytes()
        try:
            while True:
                wait_until = None if idle is None else loop.time() + idle
                if total_at is not None and (wait_until is None or total_at < wait_until):
                    wait_until = total_at
                events: list[Event] = []
                terminal = False
                while not events and not terminal:
                    try:
                        async with asyncio.timeout_at(wait_until):
                            chunk = await anext(chunks)
                    except StopAsyncIteration:
                        return
                    except TimeoutError as exc:
                        if total_at is not None and loop.time() >= total_at:
                            raise self.deadline_error() from exc
                        raise errors.stall(response) from exc
                    events, terminal = self._parse_batch(decoder.feed(chunk), response, stream)
                for event in events:
                    yield event
                if terminal:
                    # Return now; the connection is reused only if its end is already here.
                    await adrain_or_close(response, chunks)
                    return
        except errors.timeout_errors as exc:
            raise errors.stall(response) from exc
        except errors.network_errors as exc:
            raise errors.dropped(exc, response) from exc
        except errors.decoding_errors as exc:
            raise self._decoding_error(response, exc) from exc
        finally:
            await chunks.aclose()
            await response.aclose()

    # --- sending --------------------------------------------------------------------------

    async def _akey(self, attempts: Attempts) -> str | None:
        """Return the key of a callable ``api_key`` for one attempt, within ``total_timeout``.

        A token service that hangs must not hold the call past its deadline (a sync key
        function runs in a worker thread, which is left to finish on its own).
        """
        keys = self._keys
        if keys is None:
            return None
        deadline = attempts.deadline
        if deadline is None:
            return await keys.akey()
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await keys.akey()
        except TimeoutError as exc:
            if isinstance(exc, APIError):
                raise
            raise self.deadline_error() from exc

    async def _send_connecting(
        self, clients: Any, http: Any, request: hx.Request, stream: bool
    ) -> hx.Response:
        """Send a request that needs a new connection, at most a few connecting at once.

        A connect timeout starts when the connection is opened, but the loop sees it
        connected only after every task scheduled before it has run. In a burst (1,000
        calls gathered at once) each connect waited for all the others to start theirs, and
        on a busy machine that wait, not the network, used up the 10 s. The gate is held
        until the TCP connect ends (httpcore's ``trace`` extension says when), not for the
        whole request, so it paces connecting and never caps concurrency.
        """
        gate = clients.connect_gate()
        if gate is None:
            with self.errors.sending_stream if stream else self.errors.sending:
                plain: hx.Response = await http.send(request, stream=stream)
            return plain
        await gate.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                gate.release()

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            if name.startswith("connection.connect_tcp.") and not name.endswith(".started"):
                release()

        request.extensions["trace"] = trace
        try:
            with self.errors.sending_stream if stream else self.errors.sending:
                response: hx.Response = await http.send(request, stream=stream)
        finally:
            release()
        return response

    async def _asend(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        attempts: Attempts,
    ) -> hx.Response:
        clients = self.clients
        client = clients.for_running_loop()
        n = attempts.next()
        template = None if extra_headers else clients.template(client, path)
        hooks = self._hooks
        key = await self._akey(attempts)
        if template is None:
            self._check_generic_body(body)
            await self._await_to_send(path, body, attempts)
            timeout = self._attempt_timeout(self._timeout_for(body, stream), attempts)
            with self.errors.sending_stream if stream else self.errors.sending:
                response: hx.Response = await client.post(
                    path,
                    body=body,
                    cast_to=hx.Response,
                    options=self._generic_options(timeout, extra_headers, n, key),
                    stream=stream,
                )
        else:
            http = client._client
            await self._await_to_send(path, body, attempts)
            timeout = self._attempt_timeout(self._timeout_for(body, stream), attempts)
            request = direct_request(http, template, body, timeout, n, key)
            if pool_is_full(http):
                response = await self._send_connecting(clients, http, request, stream)
            else:
                with self.errors.sending_stream if stream else self.errors.sending:
                    response = await http.send(request, stream=stream)
            if response.status_code >= 400:
                if hooks is not None:
                    hooks.after_response(path, response.status_code, response.headers)
                with self.errors.sending:
                    await response.aread()
                raise self.errors.status(client, response, stream)
        if hooks is not None:
            hooks.after_response(path, response.status_code, response.headers)
        return response
