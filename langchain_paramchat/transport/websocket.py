"""The Responses WebSocket transport: ``response.create`` on a persistent socket, same events.

It satisfies the same ``ModelTransport`` Protocol as HTTP and yields the same events (the
JSON of each text frame, parsed here as the SSE path parses ``data:`` lines) to the one
Responses stream parser. Only ``POST responses`` goes over the socket (not ``background``);
every other request goes to the HTTP transport it wraps. Failures behave as over HTTP: a
failure before the first event is retried under the retry policy, a break after content
raises the interruption error, error events map through the HTTP status table, and
``total_timeout`` bounds every wait. Three cases are resent once, in full and at once:
``previous_response_not_found``, ``websocket_connection_limit_reached`` and a reused socket
found closed (it died while idle).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    OptionError,
    ResponseFormatError,
)
from langchain_paramchat.retry import retry_reason
from langchain_paramchat.transport.base import Attempts, TransportBase, interrupted
from langchain_paramchat.transport.errors import SNIPPET, scrub_json, where
from langchain_paramchat.transport.fastpath import encode
from langchain_paramchat.transport.protocol import ModelTransport
from langchain_paramchat.transport.settings import ClientSettings
from langchain_paramchat.transport.sse import TERMINAL_EVENTS
from langchain_paramchat.transport.streams import AsyncEventStream, Event, EventStream, JSONReply
from langchain_paramchat.transport.websocket_chain import Turn
from langchain_paramchat.transport.websocket_pool import (
    MAX_AGE,
    AsyncPool,
    AsyncPools,
    Socket,
    SyncPool,
)

__all__ = ["INSTALL_HINT", "WebSocketTransport", "require_websockets"]

PATH = "/responses"
INSTALL_HINT = "pip install 'langchain-paramchat[websocket]'"
_NOT_FOUND = "previous_response_not_found"
_LIMIT = "websocket_connection_limit_reached"
_CLEAN_CLOSE = frozenset({1000, 1001})
# Socket timeouts may fire this much before the deadline they were shortened to.
_DEADLINE_SLACK = 0.02


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


class _Closed(Exception):
    """The socket closed; ``clean`` when with a normal close code."""

    def __init__(self, cause: BaseException, clean: bool) -> None:
        super().__init__(str(cause))
        self.clean = clean


class WebSocketTransport(TransportBase):
    """Send Responses calls over pooled WebSockets and everything else through ``http``."""

    def __init__(
        self, settings: ClientSettings, http: ModelTransport, max_age: float = MAX_AGE
    ) -> None:
        self._ws = require_websockets()
        super().__init__(settings)
        self._http = http
        self.sync_pool = SyncPool(max_age)
        self.async_pools = AsyncPools(max_age)
        self._endpoint: tuple[str, dict[str, str], hx.Request] | None = None
        weakref.finalize(self, _close_pools, self.sync_pool, self.async_pools)

    def __repr__(self) -> str:
        return f"WebSocketTransport(base_url={self.settings.base_url!r}, retry={self._policy!r})"

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

    def get_json(self, path: str) -> dict[str, Any]:
        """GET over HTTP (polls and stored responses have no socket form)."""
        return self._http.get_json(path)

    async def aget_json(self, path: str) -> dict[str, Any]:
        """Async twin of :meth:`get_json`."""
        return await self._http.aget_json(path)

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a response over a socket and return it once complete (others go over HTTP)."""
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
        return EventStream(lambda stream: self._stream(stream, body))

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""
        if not _on_socket(path, body, extra_headers):
            return self._http.astream_events(path, body, extra_headers=extra_headers)
        return AsyncEventStream(lambda stream: self._astream(stream, body))

    def close(self) -> None:
        """Close this process's idle sockets."""
        self.sync_pool.close()

    async def aclose(self) -> None:
        """Close the running loop's idle sockets."""
        await self.async_pools.aclose()

    # --- shared pieces ------------------------------------------------------------------------

    def endpoint(self) -> tuple[str, dict[str, str], hx.Request]:
        """Return the socket URL, handshake headers and a request naming them in errors.

        They are the SDK client's own (``websocket_base_url`` or the base URL with a ``ws``
        scheme, its auth, organization, project and default headers and query).
        """
        endpoint = self._endpoint
        if endpoint is None:
            client = self.clients.sync
            base = getattr(client, "websocket_base_url", None) or client.base_url
            url = hx.URL(str(base))
            scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
            url = url.copy_with(scheme=scheme, path=url.path.rstrip("/") + PATH)
            query = {k: v for k, v in client.default_query.items() if isinstance(v, str)}
            if query:
                url = url.copy_merge_params(query)
            headers = {
                k: v
                for k, v in {**client.default_headers, **client.auth_headers}.items()
                if isinstance(v, str) and k.lower() not in ("content-type", "accept")
            }
            request = hx.Request("GET", str(url).split("?")[0])
            endpoint = self._endpoint = (str(url), headers, request)
        return endpoint

    def _wait(self, attempts: Attempts, base: float | None) -> float | None:
        """Return ``base`` seconds shortened to what is left of the call's deadline."""
        deadline = attempts.deadline
        if deadline is None:
            return base
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._deadline_error()
        return left if base is None else min(base, left)

    def _read_wait(self, stream: bool) -> float | None:
        if stream and self.settings.stream_idle_timeout is not None:
            return self.settings.stream_idle_timeout
        return self._timeout.read

    def _waited_too_long(self, attempts: Attempts, stream: bool, exc: BaseException) -> APIError:
        deadline = attempts.deadline
        if deadline is not None and time.monotonic() >= deadline - _DEADLINE_SLACK:
            err = self._deadline_error()
            err.__context__ = exc
            return err
        request = self.endpoint()[2]
        if stream:
            return self.errors.stall(request)
        error = APITimeoutError(
            f"No event came over the WebSocket to {where(request)} within {self._timeout.read} s",
            request=request,
        )
        error.is_retryable = retry_reason(error) is not None
        return error

    def _connect_error(self, exc: BaseException) -> APIError:
        """Return the package error for a handshake that failed."""
        request = self.endpoint()[2]
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(status, int):
            answer = exc.response  # type: ignore[attr-defined]
            response = hx.Response(
                status,
                headers=dict(answer.headers.raw_items()),
                content=bytes(answer.body or b""),
                request=request,
            )
            return self.errors.status(self.clients.sync, response, stream=False)
        kind = APITimeoutError if isinstance(exc, TimeoutError) else APIConnectionError
        err = kind(
            self._scrub(
                f"Could not open a WebSocket to {where(request)}: {type(exc).__name__}: {exc}"
            ),
            request=request,
        )
        err.is_retryable = retry_reason(err) is not None
        return err

    def _dropped(self, exc: BaseException, sock: Socket[Any]) -> APIError:
        return self.errors.dropped(exc, self._response(sock))

    def _response(self, sock: Socket[Any]) -> hx.Response:
        return hx.Response(101, headers=sock.headers, request=self.endpoint()[2])

    def _event(self, raw: bytes | str, sock: Socket[Any]) -> Event:
        """Parse one text frame into an event; an error event raises its package error."""
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            text = raw if isinstance(raw, str) else raw[:SNIPPET].decode("utf-8", "replace")
            raise ResponseFormatError(
                self._scrub(
                    f"A WebSocket message from {where(self.endpoint()[2])} is not valid JSON: "
                    f"{text[:SNIPPET]!r}"
                )
            ) from exc
        if not isinstance(obj, dict):
            raise ResponseFormatError(
                f"A WebSocket message from {where(self.endpoint()[2])} is JSON but not an "
                f"object: {type(obj).__name__}"
            )
        kind = obj.get("type")
        if kind == "error":
            raise self._error_event(obj, sock)
        if kind in TERMINAL_EVENTS:
            failed = obj.get("response")
            if isinstance(failed, dict) and "error" in failed:
                failed["error"] = scrub_json(failed["error"], self._scrub)
        return (kind if isinstance(kind, str) else None), obj

    def _error_event(self, obj: Mapping[str, Any], sock: Socket[Any]) -> APIError:
        """Map an ``error`` event through the HTTP status table (status, code, param, headers)."""
        info = obj.get("error")
        info = dict(info) if isinstance(info, dict) else dict(obj)
        status = obj.get("status")
        raw_headers = info.pop("headers", None)
        headers = (
            {str(k): str(v) for k, v in raw_headers.items()}
            if isinstance(raw_headers, dict)
            else {}
        )
        if not (isinstance(status, int) and 400 <= status <= 599):
            return self.errors.stream_error(info, self._response(sock))
        if self._hooks is not None:
            self._hooks.after_response(PATH, status, headers)
        response = hx.Response(
            status, headers=headers, json={"error": info}, request=self.endpoint()[2]
        )
        return self.errors.status(self.clients.sync, response, stream=True)

    def _settle(self, sock: Socket[Any], turn: Turn, event: Event) -> bool:
        """Note a terminal event: the socket's record becomes what this turn left cached."""
        kind, data = event
        if kind not in TERMINAL_EVENTS:
            return False
        response = data.get("response")
        sock.record = turn.record(response) if isinstance(response, dict) else None
        return True

    def _resend(self, turn: Turn, exc: APIError, continued: bool) -> bool:
        """Return True when a failed first event means: send the turn again, in full, once."""
        if turn.resent:
            return False
        if (exc.code == _NOT_FOUND and continued) or exc.code == _LIMIT:
            turn.resent = True
            return True
        return False

    def _frame(self, turn: Turn, sock: Socket[Any]) -> tuple[str, bool]:
        frame, continued = turn.frame(sock.record)
        sock.record = None  # the server's cache now belongs to this turn (or is evicted)
        if self._hooks is not None:
            self._hooks.before_send(PATH, frame)
        return encode(frame).decode(), continued

    async def _aframe(self, turn: Turn, sock: Socket[Any]) -> tuple[str, bool]:
        frame, continued = turn.frame(sock.record)
        sock.record = None
        if self._hooks is not None:
            await self._hooks.abefore_send(PATH, frame)
        return encode(frame).decode(), continued

    def _closed(self, exc: BaseException) -> _Closed:
        code = getattr(getattr(exc, "rcvd", None), "code", None)
        return _Closed(exc, code in _CLEAN_CLOSE)

    # --- blocking -----------------------------------------------------------------------------

    def _open(self, attempts: Attempts) -> Socket[Any]:
        url, headers, _ = self.endpoint()
        wait = self._wait(attempts, self._timeout.connect)
        try:
            # Entered as a context manager: websockets 17 warns about (and will drop) using
            # its sync connect() directly; older releases return the connection itself.
            conn = self._ws.sync.client.connect(
                url,
                additional_headers=headers,
                user_agent_header=None,
                open_timeout=wait,
                max_size=None,
                compression=None,
                close_timeout=1.0,
            ).__enter__()
        except (OSError, TimeoutError, self._ws.exceptions.WebSocketException) as exc:
            raise self._connect_error(exc) from exc
        self.sync_pool.opened()
        return Socket(conn, dict(conn.response.headers.raw_items()))

    def _recv(self, sock: Socket[Any], attempts: Attempts, stream: bool) -> Event:
        try:
            raw = sock.conn.recv(
                timeout=self._wait(attempts, self._read_wait(stream)), decode=False
            )
        except TimeoutError as exc:
            raise self._waited_too_long(attempts, stream, exc) from exc
        except self._ws.exceptions.ConnectionClosed as exc:
            raise self._closed(exc) from exc
        return self._event(raw, sock)

    def _begin(self, turn: Turn, attempts: Attempts, stream: bool) -> tuple[Socket[Any], Event]:
        """Send the turn on a socket; return it with the first event (resending in full once)."""
        attempts.next()
        pool = self.sync_pool
        while True:
            try:
                sock = pool.acquire(
                    lambda record: turn.continues(record) is not None,
                    self._wait(attempts, self._timeout.pool),
                )
            except TimeoutError as exc:
                raise self._waited_too_long(attempts, False, exc) from exc
            fresh = sock is None
            if sock is None:
                try:
                    sock = self._open(attempts)
                except BaseException:
                    pool.release(None, keep=False)
                    raise
            try:
                data, continued = self._frame(turn, sock)
                try:
                    sock.conn.send(data)
                except self._ws.exceptions.ConnectionClosed as exc:
                    raise self._closed(exc) from exc
                first = self._recv(sock, attempts, stream)
            except _Closed as exc:
                pool.release(sock, keep=False)
                if not fresh and not turn.resent:  # it died while idle: a new one, silently
                    turn.resent = True
                    continue
                raise self._dropped(exc, sock) from exc
            except APIError as exc:
                pool.release(sock, keep=_still_usable(exc))
                if self._resend(turn, exc, continued):
                    continue
                raise
            except BaseException:
                pool.release(sock, keep=False)
                raise
            return sock, first

    def _rest(
        self, sock: Socket[Any], turn: Turn, first: Event, attempts: Attempts, stream: Any
    ) -> Generator[Event, None, None]:
        """Yield ``first`` and the turn's events to the terminal one; give the socket back."""
        keep = False
        try:
            event = first
            while True:
                if self._settle(sock, turn, event):
                    keep = True
                    if stream is not None:
                        stream.done = True
                    yield event
                    return
                yield event
                try:
                    event = self._recv(sock, attempts, stream is not None)
                except _Closed as exc:
                    if exc.clean and stream is not None:
                        return  # ended without a terminal event: the caller decides
                    raise self._dropped(exc, sock) from exc
        finally:
            self.sync_pool.release(sock, keep=keep)

    def _invoke(self, body: Mapping[str, Any]) -> JSONReply:
        attempts = Attempts(self._total)
        turn = Turn(body)

        def attempt() -> JSONReply:
            sock, first = self._begin(turn, attempts, stream=False)
            final: Any = None
            for kind, data in self._rest(sock, turn, first, attempts, None):
                if kind in TERMINAL_EVENTS:
                    final = data.get("response")
            if not isinstance(final, dict):
                raise self._dropped(EOFError("no terminal event"), sock)
            return JSONReply(final, sock.headers)

        return self._run(attempt, attempts)

    def _stream(self, stream: EventStream, body: Mapping[str, Any]) -> Generator[Event, None, None]:
        attempts = Attempts(self._total)
        turn = Turn(body)

        def attempt() -> Generator[Event, None, None]:
            sock, first = self._begin(turn, attempts, stream=True)
            stream.headers = sock.headers
            return self._rest(sock, turn, first, attempts, stream)

        events = self._run(attempt, attempts)
        started = self._policy.clock()
        failures = 0
        try:
            while True:
                received = 0
                try:
                    for event in events:
                        yield event
                        received += 1
                    return
                except ResponseFormatError:
                    raise
                except APIError as exc:
                    failures += 1
                    wait = None if stream.committed else self._restart_wait(exc, failures, started)
                    if wait is None:
                        raise interrupted(exc, received) from exc
                events.close()
                self._policy.sleep(wait)
                events = self._run(attempt, attempts)
                stream.restarts += 1
        finally:
            events.close()

    # --- awaiting -----------------------------------------------------------------------------

    async def _aopen(self, attempts: Attempts, pool: AsyncPool) -> Socket[Any]:
        url, headers, _ = self.endpoint()
        wait = self._wait(attempts, self._timeout.connect)
        try:
            conn = await self._ws.asyncio.client.connect(
                url,
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

    async def _arecv(self, sock: Socket[Any], attempts: Attempts, stream: bool) -> Event:
        try:
            async with asyncio.timeout(self._wait(attempts, self._read_wait(stream))):
                raw = await sock.conn.recv(decode=False)
        except TimeoutError as exc:
            raise self._waited_too_long(attempts, stream, exc) from exc
        except self._ws.exceptions.ConnectionClosed as exc:
            raise self._closed(exc) from exc
        return self._event(raw, sock)

    async def _abegin(
        self, turn: Turn, attempts: Attempts, stream: bool, pool: AsyncPool
    ) -> tuple[Socket[Any], Event]:
        """Async twin of ``_begin``."""
        attempts.next()
        while True:
            try:
                sock = await pool.acquire(
                    lambda record: turn.continues(record) is not None,
                    self._wait(attempts, self._timeout.pool),
                )
            except TimeoutError as exc:
                raise self._waited_too_long(attempts, False, exc) from exc
            fresh = sock is None
            if sock is None:
                try:
                    sock = await self._aopen(attempts, pool)
                except BaseException:
                    await pool.release(None, keep=False)
                    raise
            try:
                data, continued = await self._aframe(turn, sock)
                try:
                    await sock.conn.send(data)
                except self._ws.exceptions.ConnectionClosed as exc:
                    raise self._closed(exc) from exc
                first = await self._arecv(sock, attempts, stream)
            except _Closed as exc:
                await pool.release(sock, keep=False)
                if not fresh and not turn.resent:
                    turn.resent = True
                    continue
                raise self._dropped(exc, sock) from exc
            except APIError as exc:
                await pool.release(sock, keep=_still_usable(exc))
                if self._resend(turn, exc, continued):
                    continue
                raise
            except BaseException:
                await pool.release(sock, keep=False)
                raise
            return sock, first

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
        keep = False
        try:
            event = first
            while True:
                if self._settle(sock, turn, event):
                    keep = True
                    if stream is not None:
                        stream.done = True
                    yield event
                    return
                yield event
                try:
                    event = await self._arecv(sock, attempts, stream is not None)
                except _Closed as exc:
                    if exc.clean and stream is not None:
                        return
                    raise self._dropped(exc, sock) from exc
        finally:
            await pool.release(sock, keep=keep)

    async def _ainvoke(self, body: Mapping[str, Any]) -> JSONReply:
        attempts = Attempts(self._total)
        turn = Turn(body)
        pool = self.async_pools.current()

        async def attempt() -> JSONReply:
            sock, first = await self._abegin(turn, attempts, False, pool)
            final: Any = None
            async for kind, data in self._arest(sock, turn, first, attempts, None, pool):
                if kind in TERMINAL_EVENTS:
                    final = data.get("response")
            if not isinstance(final, dict):
                raise self._dropped(EOFError("no terminal event"), sock)
            return JSONReply(final, sock.headers)

        return await self._arun(attempt, attempts)

    async def _astream(
        self, stream: AsyncEventStream, body: Mapping[str, Any]
    ) -> AsyncGenerator[Event, None]:
        attempts = Attempts(self._total)
        turn = Turn(body)
        pool = self.async_pools.current()

        async def attempt() -> AsyncGenerator[Event, None]:
            sock, first = await self._abegin(turn, attempts, True, pool)
            stream.headers = sock.headers
            return self._arest(sock, turn, first, attempts, stream, pool)

        events = await self._arun(attempt, attempts)
        started = self._policy.clock()
        failures = 0
        try:
            while True:
                received = 0
                try:
                    async for event in events:
                        yield event
                        received += 1
                    return
                except ResponseFormatError:
                    raise
                except APIError as exc:
                    failures += 1
                    wait = None if stream.committed else self._restart_wait(exc, failures, started)
                    if wait is None:
                        raise interrupted(exc, received) from exc
                await events.aclose()
                await self._policy.async_sleep(wait)
                events = await self._arun(attempt, attempts)
                stream.restarts += 1
        finally:
            await events.aclose()


def _on_socket(path: str, body: Mapping[str, Any], extra_headers: Mapping[str, str] | None) -> bool:
    """Return True for a Responses create the socket can carry (not background, no headers)."""
    return path == PATH and not body.get("background") and not extra_headers


def _still_usable(exc: APIError) -> bool:
    """Return True when a socket whose turn failed with ``exc`` may take the next turn.

    An error event leaves the socket open and idle; a timeout or a drop does not (a late
    reply may still arrive), nor does the connection limit.
    """
    return not isinstance(exc, TimeoutError | APIConnectionError) and exc.code != _LIMIT


def _close_pools(sync_pool: SyncPool, async_pools: AsyncPools) -> None:
    sync_pool.close()
    async_pools.drop_all()
