"""A local OpenAI-compatible HTTP/1.1 server for both APIs, scripted per request, on loopback.

The server runs its own asyncio event loop in a daemon thread, so sync and async tests (and
the openai SDK's own connection pools) can use it alike. Every request is recorded; every
create body is checked against the SDK's param types before a scripted reply is consumed.
This module owns the server's life (start, stop, connections) and its public face; the
routing table is ``routes``, the script and record ``state``, and batch lines are answered
here and handed to ``FakeBatches`` as a function.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from langchain_paramchat.testing.batches import FakeBatches
from langchain_paramchat.testing.body_check import CREATE_PATHS, Api, load_param_types
from langchain_paramchat.testing.chat_render import chat_completion
from langchain_paramchat.testing.http11 import (
    MAX_HEADER_BYTES,
    BadRequest,
    Closed,
    drain,
    read_request,
    send_error,
)
from langchain_paramchat.testing.ratelimit import RateLimit
from langchain_paramchat.testing.responses_render import failed_response, render_response
from langchain_paramchat.testing.routes import HttpRoutes
from langchain_paramchat.testing.script import Fault, RecordedRequest, Reply
from langchain_paramchat.testing.state import ScriptState
from langchain_paramchat.testing.websocket import WebSocketEndpoint

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = ["FakeOpenAI"]

_STOP_TIMEOUT = 5.0
_INVALID = "invalid_request_error"


class FakeOpenAI:
    """Serve the Chat Completions and Responses APIs on 127.0.0.1 from a script of replies.

    Use it as a context manager (``with FakeOpenAI() as server:``) or call ``start()`` and
    ``stop()``. Point an SDK client at ``base_url``. Queue ``Reply`` and ``Fault`` items with
    ``add()``; each create request consumes one (a request rejected with a 400 consumes none),
    and with the queue empty the server echoes the last user text. ``requests`` records every
    request; ``errors`` lists request bodies that broke the SDK's param types or OpenAI's
    strict-schema rules (each also answered with 400), bodies that were not JSON, and any
    answer the server itself failed to build.

    ``check_bodies=False`` turns the body check off; ``extra_keys`` names top-level keys to
    accept beyond the SDK's (what ``extra_body`` adds); ``allow_schema_defaults`` lets strict
    schemas carry ``default``, which api.openai.com tolerates and Azure OpenAI refuses.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        check_bodies: bool = True,
        extra_keys: Collection[str] = (),
        allow_schema_defaults: bool = False,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._state = ScriptState(
            check_bodies=check_bodies,
            extra_keys=extra_keys,
            allow_schema_defaults=allow_schema_defaults,
        )
        self._lock = threading.Lock()
        self._open = 0
        self._max_open = 0
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self.batches = FakeBatches(self._answer_batch_line)
        """Files and Batches endpoints: stored files and batches, progression controls."""
        self.rate_limit: RateLimit | None = None
        """Set a ``RateLimit`` to answer create requests over it with OpenAI-style 429s."""
        self.websockets = WebSocketEndpoint(self._state, lambda: self.rate_limit)
        """The Responses WebSocket endpoint (``GET /v1/responses`` upgrades): its counters,
        ``max_age``, ``drop_idle()`` and ``forget_caches()``."""
        self._routes = HttpRoutes(
            self._state, self.batches, self.websockets, lambda: self.rate_limit
        )

    def start(self) -> FakeOpenAI:
        """Start serving in a daemon thread and return once the port is bound.

        Raises ``RuntimeError`` when it is already running or cannot bind a port.
        """
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        if self._state.check_bodies:
            load_param_types("chat_completions")
            load_param_types("responses")
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="FakeOpenAI", daemon=True)
        self._thread.start()
        if not self._ready.wait(_STOP_TIMEOUT):
            self._start_error = TimeoutError("the server thread did not bind a port")
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("FakeOpenAI could not start") from self._start_error
        return self

    def stop(self) -> None:
        """Close every connection, stop the event loop and join the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_STOP_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_STOP_TIMEOUT)
            self._thread = None
            self._loop = None
            self._port = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(
                    self._handle,
                    self._host,
                    self._requested_port,
                    backlog=4096,
                    limit=MAX_HEADER_BYTES,
                )
            )
            self._port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @property
    def port(self) -> int:
        """Return the bound port; raises ``RuntimeError`` when the server is not running."""
        if self._port is None:
            raise RuntimeError(
                "FakeOpenAI is not running; call start() or use it as a context manager"
            )
        return self._port

    @property
    def input_tokens_answer(self) -> Any:
        """Return the JSON value the input-token endpoint answers with instead of a count."""
        return self._routes.input_tokens_answer

    @input_tokens_answer.setter
    def input_tokens_answer(self, value: Any) -> None:
        self._routes.input_tokens_answer = value

    @property
    def base_url(self) -> str:
        """Return the URL to give the openai SDK, ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def background_polls(self) -> int:
        """Return how many polls find a ``background=True`` response ``in_progress`` (1)."""
        return self._state.background_polls

    @background_polls.setter
    def background_polls(self, value: int) -> None:
        self._state.background_polls = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every request received, oldest first."""
        return self._state.requests

    @property
    def errors(self) -> list[str]:
        """Return a snapshot of rejected bodies (each answered 400) and server-side failures."""
        return self._state.errors

    @property
    def pending(self) -> int:
        """Return how many scripted answers are still queued (``times`` counted)."""
        return self._state.pending

    @property
    def open_connections(self) -> int:
        """Return how many client connections are open right now."""
        with self._lock:
            return self._open

    @property
    def max_open_connections(self) -> int:
        """Return the most connections open at once since start or ``reset()``."""
        with self._lock:
            return self._max_open

    @property
    def http_bytes_received(self) -> int:
        """Return how many bytes of HTTP requests (head and body) arrived since ``reset()``."""
        return self._state.http_bytes

    def add(self, *items: Reply | Fault | str) -> FakeOpenAI:
        """Queue replies and faults, consumed first-in first-out, one per create request.

        A plain string is short for ``Reply(text=...)``. Raises ``TypeError`` for anything else.
        """
        for item in items:
            if isinstance(item, str):
                item = Reply(text=item)
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"add() takes Reply, Fault or str, got {type(item).__name__}")
            self._state.add(item)
        return self

    def reset(self) -> None:
        """Forget queued items, recorded requests, errors and stored responses."""
        self._state.reset()
        with self._lock:
            self._max_open = self._open
        self.batches.reset()
        self.websockets.reset()

    def client(self, **kwargs: Any) -> OpenAI:
        """Return an ``openai.OpenAI`` client for this server (``max_retries=0`` default)."""
        from openai import OpenAI

        kwargs.setdefault("api_key", "sk-fake")
        kwargs.setdefault("max_retries", 0)
        return OpenAI(base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncOpenAI:
        """Return an ``openai.AsyncOpenAI`` client for this server (``max_retries=0`` default)."""
        from openai import AsyncOpenAI

        kwargs.setdefault("api_key", "sk-fake")
        kwargs.setdefault("max_retries", 0)
        return AsyncOpenAI(base_url=self.base_url, **kwargs)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self._open += 1
            self._max_open = max(self._max_open, self._open)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except ValueError as exc:
                    status = exc.status if isinstance(exc, BadRequest) else 400
                    await send_error(writer, status, f"Malformed HTTP request: {exc}", keep=False)
                    await drain(reader)
                    break
                if request is None:
                    break
                if "transfer-encoding" in request.headers:
                    message = "Chunked request bodies are not supported; send Content-Length."
                    await send_error(writer, 411, message, keep=False)
                    break
                if not await self._routes.serve(request, reader, writer):
                    break
        except (Closed, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            writer.transport.abort()
        finally:
            if not writer.transport.is_closing():
                writer.close()
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            with self._lock:
                self._open -= 1

    def _answer_batch_line(self, api: Api, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one batch input line as a create request would be, without a socket."""
        path = next(p for p, a in CREATE_PATHS.items() if a == api)
        rejection = self._state.reject(api, f"POST {path}", body, None)
        if rejection is not None:
            return 400, _error_body(rejection.message, _INVALID, rejection.param, rejection.code)
        fault, reply = self._state.next(body)
        if fault is not None and fault.kind == "status":
            return fault.status_code, _error_body(
                fault.message, fault.error_type, None, fault.error_code
            )
        if fault is not None and fault.kind not in ("slow", "stream_error"):
            return 500, _error_body(f"Scripted {fault.kind} fault.", _INVALID, None, "server_error")
        if api == "chat_completions":
            return 200, chat_completion(reply, body)
        payload = render_response(reply, body).response
        if fault is not None:
            payload = failed_response(payload, fault)
        if body.get("store") is not False:
            self._state.store(payload)
        return 200, payload


def _error_body(
    message: str, error_type: str | None, param: str | None, code: str | None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
