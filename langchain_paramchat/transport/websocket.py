"""The Responses WebSocket transport: ``response.create`` on a persistent socket, same events.

It satisfies the same ``ModelTransport`` Protocol as HTTP and yields the same events (the
JSON of each text frame, parsed as the SSE path parses ``data:`` lines) to the one
Responses stream parser. Only ``POST responses`` goes over the socket (not ``background``);
every other request goes to the HTTP transport it wraps. A flex call (``service_tier="flex"``)
is refused: flex's longer timeout and its fallback to the default tier are decided by the
HTTP send loop, and a socket would silently drop both. Failures behave as over HTTP: a
failure before the first event is retried under the retry policy, a break after content
raises the interruption error, error events map through the HTTP status table, and
``total_timeout`` bounds every wait. Three cases are resent once, in full and at once:
``previous_response_not_found``, ``websocket_connection_limit_reached`` and a reused socket
found closed (it died while idle).

The steps of a turn, and every decision in them, are ``websocket_steps.py``'s; this module
runs them blocking or awaiting and holds the ``ModelTransport`` surface.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import openai

from langchain_paramchat.errors import APIError, OptionError
from langchain_paramchat.secrets import Scrubber, is_credential_header, redact_url
from langchain_paramchat.transport.base import AsyncStreamCall, Attempts, StreamCall
from langchain_paramchat.transport.protocol import ModelTransport
from langchain_paramchat.transport.settings import ClientSettings
from langchain_paramchat.transport.streams import AsyncEventStream, Event, EventStream, JSONReply
from langchain_paramchat.transport.websocket_chain import Turn
from langchain_paramchat.transport.websocket_pool import (
    MAX_AGE,
    AsyncPool,
    AsyncPools,
    Socket,
    SyncPool,
)
from langchain_paramchat.transport.websocket_steps import (
    PATH,
    Acquire,
    BeforeSend,
    Connect,
    Held,
    Receive,
    Release,
    Send,
    SocketClosed,
    Step,
    WebSocketSteps,
    arun_events,
    arun_steps,
    final_response,
    run_events,
    run_steps,
)

__all__ = ["INSTALL_HINT", "WebSocketTransport", "require_websockets"]

INSTALL_HINT = "pip install 'langchain-paramchat[websocket]'"
_CLEAN_CLOSE = frozenset({1000, 1001})


def require_websockets() -> Any:
    """Return the ``websockets`` package, or raise ``OptionError`` saying how to install it."""
    try:
        import websockets
        import websockets.asyncio.client
        import websockets.sync.client
    except ImportError as exc:
        raise OptionError(
            "websocket",
            True,
            "needs the optional websockets package, which is not installed",
            fix=f"install it with {INSTALL_HINT}",
        ) from exc
    return websockets


class _ScrubbedLog(logging.LoggerAdapter):
    """The ``websockets.client`` logger, with credentials kept out of its records.

    websockets logs every handshake header at DEBUG, ``Authorization: Bearer <key>``
    included, and the server's reply headers, which may echo it back.
    """

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})
        self._scrub = scrub

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        if (
            msg in ("> %s: %s", "< %s: %s")
            and len(args) == 2
            and is_credential_header(str(args[0]))
        ):
            args = (args[0], "**********")
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = f"{msg} {args}"
        self.logger.log(level, self._scrub(text), **kwargs)


class WebSocketTransport(WebSocketSteps):
    """Send Responses calls over pooled WebSockets and everything else through ``http``.

    Building one raises ``OptionError`` when ``websockets`` is missing or the settings have
    a proxy (the sockets would bypass it).
    """

    def __init__(
        self, settings: ClientSettings, http: ModelTransport, max_age: float = MAX_AGE
    ) -> None:
        self._ws = require_websockets()
        if settings.proxy is not None:
            # The websockets library would connect directly, around the proxy.
            raise OptionError(
                "websocket",
                True,
                "cannot go through openai_proxy (sockets would bypass the proxy)",
                fix="leave websocket off with a proxy",
            )
        super().__init__(settings)
        self._http = http
        self.sync_pool = SyncPool(max_age)
        self.async_pools = AsyncPools(max_age)
        self._endpoint = None
        self._log = _ScrubbedLog(self._scrub)
        weakref.finalize(self, _close_pools, self.sync_pool, self.async_pools)

    def __repr__(self) -> str:
        base_url = redact_url(self.settings.base_url)
        return f"WebSocketTransport(base_url={base_url!r}, retry={self._policy!r})"

    @property
    def max_age(self) -> float:
        """Seconds a socket takes new turns before it is replaced at a turn boundary."""
        return self.sync_pool.max_age

    @max_age.setter
    def max_age(self, value: float) -> None:
        self.sync_pool.max_age = value
        self.async_pools.max_age = value

    # --- the ModelTransport surface -----------------------------------------------------------

    @property
    def client(self) -> openai.OpenAI:
        """Return the HTTP transport's sync SDK client."""
        return self._http.client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """Return the HTTP transport's async SDK client for the running loop."""
        return self._http.async_client

    def get_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """GET over HTTP (polls and stored responses have no socket form)."""
        return self._http.get_json(path, deadline=deadline)

    async def aget_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """Async twin of :meth:`get_json`."""
        return await self._http.aget_json(path, deadline=deadline)

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a response over a socket and return it once complete (others go over HTTP).

        Raises ``OptionError`` for a flex call (see the module docstring).
        """
        if not _on_socket(path, body, extra_headers):
            return self._http.post_json(path, body, extra_headers=extra_headers)
        return self._invoke(body).body

    def post_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Like :meth:`post_json`, with the socket's handshake headers."""
        if not _on_socket(path, body, extra_headers):
            return self._http.post_json_reply(path, body, extra_headers=extra_headers)
        return self._invoke(body)

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`post_json`."""
        if not _on_socket(path, body, extra_headers):
            return await self._http.apost_json(path, body, extra_headers=extra_headers)
        return (await self._ainvoke(body)).body

    async def apost_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Async twin of :meth:`post_json_reply`."""
        if not _on_socket(path, body, extra_headers):
            return await self._http.apost_json_reply(path, body, extra_headers=extra_headers)
        return await self._ainvoke(body)

    def stream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> EventStream:
        """Stream a response's events from a socket, as ``Transport.stream_events`` does."""
        if not _on_socket(path, body, extra_headers):
            return self._http.stream_events(path, body, extra_headers=extra_headers)
        return EventStream(
            lambda stream: self._resending(stream, lambda: self._stream_call(stream, body))
        )

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""
        if not _on_socket(path, body, extra_headers):
            return self._http.astream_events(path, body, extra_headers=extra_headers)
        return AsyncEventStream(
            lambda stream: self._aresending(stream, lambda: self._astream_call(stream, body))
        )

    def close(self) -> None:
        """Close this process's idle sockets."""
        self.sync_pool.close()

    async def aclose(self) -> None:
        """Close the running loop's idle sockets."""
        await self.async_pools.aclose()

    def _closed(self, exc: BaseException) -> SocketClosed:
        code = getattr(getattr(exc, "rcvd", None), "code", None)
        return SocketClosed(exc, code in _CLEAN_CLOSE)

    # --- blocking: each step a plain call -------------------------------------------------------

    def _do(self, step: Step, pool: SyncPool) -> Any:
        """Do one step of a turn, blocking."""
        if isinstance(step, Receive):
            try:
                return step.sock.conn.recv(timeout=step.wait, decode=False)
            except self._ws.exceptions.ConnectionClosed as exc:
                raise self._closed(exc) from exc
        if isinstance(step, Send):
            try:
                return step.sock.conn.send(step.text)
            except self._ws.exceptions.ConnectionClosed as exc:
                raise self._closed(exc) from exc
        if isinstance(step, BeforeSend):
            return self._wait_to_send(PATH, step.frame, step.attempts)
        if isinstance(step, Acquire):
            return pool.acquire(step.prefer, step.wait)
        if isinstance(step, Release):
            return pool.release(step.sock, keep=step.keep)
        if isinstance(step, Connect):
            return self._connect(step.wait, pool)
        raise TypeError(f"not a step to do: {step!r}")

    def _connect(self, wait: float | None, pool: SyncPool) -> Socket[Any]:
        url, headers, _ = self.endpoint()
        if self._keys is not None:  # a key function: this socket's own key
            headers = {**headers, "Authorization": f"Bearer {self._keys.key()}"}
        try:
            # Entered as a context manager: websockets 17 warns about (and will drop) using
            # its sync connect() directly; older releases return the connection itself.
            conn = self._ws.sync.client.connect(
                url,
                logger=self._log,
                additional_headers=headers,
                user_agent_header=None,
                open_timeout=wait,
                max_size=None,
                compression=None,
                close_timeout=1.0,
            ).__enter__()
        except (OSError, TimeoutError, self._ws.exceptions.WebSocketException) as exc:
            raise self._connect_error(exc) from exc
        pool.opened()
        return Socket(conn, dict(conn.response.headers.raw_items()))

    def _rest(
        self, sock: Socket[Any], turn: Turn, first: Event, attempts: Attempts, stream: Any
    ) -> Generator[Event, None, None]:
        """Yield the turn's events to the terminal one; give the socket back."""
        held = Held()
        try:
            steps = self.rest_steps(sock, turn, first, attempts, stream, held)
            yield from run_events(steps, lambda step: self._do(step, self.sync_pool))
        finally:
            self.sync_pool.release(sock, keep=held.keep)

    def _begin(self, turn: Turn, attempts: Attempts, stream: bool) -> tuple[Socket[Any], Event]:
        steps = self.begin_steps(turn, attempts, stream)
        return run_steps(steps, lambda step: self._do(step, self.sync_pool))

    def _invoke(self, body: Mapping[str, Any]) -> JSONReply:
        attempts = Attempts(self._total)
        turn = Turn(body)

        def attempt() -> JSONReply:
            sock, first = self._begin(turn, attempts, stream=False)
            final: Any = None
            for event in self._rest(sock, turn, first, attempts, None):
                final = final_response(event, final)
            if not isinstance(final, dict):
                raise self._dropped(EOFError("no terminal event"), sock)
            return JSONReply(final, sock.headers)

        return self._run(attempt, attempts)

    def _stream_call(self, stream: EventStream, body: Mapping[str, Any]) -> StreamCall:
        attempts = Attempts(self._total)
        turn = Turn(body)

        def attempt() -> tuple[None, Generator[Event, None, None]]:
            sock, first = self._begin(turn, attempts, stream=True)
            stream.headers = sock.headers
            return None, self._rest(sock, turn, first, attempts, stream)

        return attempts, attempt

    # --- awaiting: each step awaited ------------------------------------------------------------

    async def _ado(self, step: Step, pool: AsyncPool) -> Any:
        """Async twin of ``_do``."""
        if isinstance(step, Receive):
            try:
                async with asyncio.timeout(step.wait):
                    return await step.sock.conn.recv(decode=False)
            except self._ws.exceptions.ConnectionClosed as exc:
                raise self._closed(exc) from exc
        if isinstance(step, Send):
            try:
                return await step.sock.conn.send(step.text)
            except self._ws.exceptions.ConnectionClosed as exc:
                raise self._closed(exc) from exc
        if isinstance(step, BeforeSend):
            return await self._await_to_send(PATH, step.frame, step.attempts)
        if isinstance(step, Acquire):
            return await pool.acquire(step.prefer, step.wait)
        if isinstance(step, Release):
            return await pool.release(step.sock, keep=step.keep)
        if isinstance(step, Connect):
            return await self._aconnect(step.wait, pool)
        raise TypeError(f"not a step to do: {step!r}")

    async def _aconnect(self, wait: float | None, pool: AsyncPool) -> Socket[Any]:
        url, headers, _ = self.endpoint()
        if self._keys is not None:
            # The key is part of the handshake: a token service that does not answer is
            # bounded like a connect that does not finish (and by total_timeout).
            try:
                async with asyncio.timeout(wait):
                    key = await self._keys.akey()
            except TimeoutError as exc:
                if isinstance(exc, APIError):
                    raise
                raise self._connect_error(
                    TimeoutError(f"api_key={self._keys!r} gave no key within {wait} s")
                ) from exc
            headers = {**headers, "Authorization": f"Bearer {key}"}
        try:
            conn = await self._ws.asyncio.client.connect(
                url,
                logger=self._log,
                additional_headers=headers,
                user_agent_header=None,
                open_timeout=wait,
                max_size=None,
                compression=None,
                close_timeout=1.0,
            )
        except (OSError, TimeoutError, self._ws.exceptions.WebSocketException) as exc:
            raise self._connect_error(exc) from exc
        pool.opened()
        return Socket(conn, dict(conn.response.headers.raw_items()))

    async def _arest(
        self,
        sock: Socket[Any],
        turn: Turn,
        first: Event,
        attempts: Attempts,
        stream: Any,
        pool: AsyncPool,
    ) -> AsyncGenerator[Event, None]:
        """Async twin of ``_rest``."""
        held = Held()
        try:
            steps = self.rest_steps(sock, turn, first, attempts, stream, held)
            async for event in arun_events(steps, lambda step: self._ado(step, pool)):
                yield event
        finally:
            await pool.release(sock, keep=held.keep)

    async def _abegin(
        self, turn: Turn, attempts: Attempts, stream: bool, pool: AsyncPool
    ) -> tuple[Socket[Any], Event]:
        steps = self.begin_steps(turn, attempts, stream)
        return await arun_steps(steps, lambda step: self._ado(step, pool))

    async def _ainvoke(self, body: Mapping[str, Any]) -> JSONReply:
        attempts = Attempts(self._total)
        turn = Turn(body)
        pool = self.async_pools.current()

        async def attempt() -> JSONReply:
            sock, first = await self._abegin(turn, attempts, False, pool)
            final: Any = None
            async for event in self._arest(sock, turn, first, attempts, None, pool):
                final = final_response(event, final)
            if not isinstance(final, dict):
                raise self._dropped(EOFError("no terminal event"), sock)
            return JSONReply(final, sock.headers)

        return await self._arun(attempt, attempts)

    def _astream_call(self, stream: AsyncEventStream, body: Mapping[str, Any]) -> AsyncStreamCall:
        attempts = Attempts(self._total)
        turn = Turn(body)
        pool = self.async_pools.current()

        async def attempt() -> tuple[None, AsyncGenerator[Event, None]]:
            sock, first = await self._abegin(turn, attempts, True, pool)
            stream.headers = sock.headers
            return None, self._arest(sock, turn, first, attempts, stream, pool)

        return attempts, attempt


def _on_socket(path: str, body: Mapping[str, Any], extra_headers: Mapping[str, str] | None) -> bool:
    """Return True for a Responses create the socket carries (not background, no headers).

    Raises ``OptionError`` for a flex call, which the socket does not carry.
    """
    if path != PATH or body.get("background") or extra_headers:
        return False
    if body.get("service_tier") == "flex":
        raise OptionError(
            "websocket",
            True,
            "cannot carry service_tier='flex' calls: flex's 900 s timeout and its fallback to "
            "the default tier are the HTTP send loop's, and a socket would drop both",
            fix="send flex calls with websocket=False (on the call or the model)",
        )
    return True


def _close_pools(sync_pool: SyncPool, async_pools: AsyncPools) -> None:
    sync_pool.close()
    async_pools.drop_all()
