"""A local OpenAI-compatible HTTP/1.1 server for both APIs, scripted per request, on loopback.

The server runs its own asyncio event loop in a daemon thread, so sync and async tests (and
the openai SDK's own connection pools) can use it alike. Every request is recorded; every
create body is checked against the SDK's param types before a scripted reply is consumed.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_paramchat.testing import input_tokens
from langchain_paramchat.testing.batches import FakeBatches, line_handler
from langchain_paramchat.testing.body_check import BodyError, check_body, load_param_types
from langchain_paramchat.testing.chat_render import (
    chat_chunks,
    chat_completion,
)
from langchain_paramchat.testing.http11 import (
    MAX_HEADER_BYTES,
    Closed,
    Request,
    read_request,
    send_error,
    send_json,
    send_raw,
    wait_for_hangup,
)
from langchain_paramchat.testing.ratelimit import RateLimit
from langchain_paramchat.testing.rendering import Event, echo_reply
from langchain_paramchat.testing.responses_render import (
    failed_response,
    render_response,
)
from langchain_paramchat.testing.script import Fault, RecordedRequest, Reply
from langchain_paramchat.testing.send_answer import (
    Api,
    send_events,
    send_missing_fields,
    send_payload,
)
from langchain_paramchat.testing.websocket import WebSocketEndpoint

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = ["FakeOpenAI"]

_STOP_TIMEOUT = 5.0


@dataclass
class _Stored:
    """A response kept for ``previous_response_id`` and ``GET /v1/responses/{id}``."""

    final: dict[str, Any]
    polls_in_progress: int = 0


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
        self._check_bodies = check_bodies
        self._extra_keys = frozenset(extra_keys)
        self._allow_schema_defaults = allow_schema_defaults
        self._lock = threading.Lock()
        self._queue: deque[list[Any]] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._stored: dict[str, _Stored] = {}
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
        self.batches = FakeBatches(line_handler(self))
        """Files and Batches endpoints: stored files and batches, progression controls."""
        self.rate_limit: RateLimit | None = None
        """Set a ``RateLimit`` to answer create requests over it with OpenAI-style 429s."""
        self.websockets = WebSocketEndpoint(
            next_item=self._next,
            store=lambda response: self._store(response, background=False),
            is_stored=self._is_stored,
            record=self._record,
            record_error=self._record_server_error,
            rate_limit=lambda: self.rate_limit,
            check=self._check_responses_body,
        )
        """The Responses WebSocket endpoint (``GET /v1/responses`` upgrades): its counters,
        ``max_age``, ``drop_idle()`` and ``forget_caches()``."""
        self._http_bytes = 0

    def start(self) -> FakeOpenAI:
        """Start serving in a daemon thread and return once the port is bound.

        Raises ``RuntimeError`` when it is already running or cannot bind a port.
        """
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        if self._check_bodies:
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
    def base_url(self) -> str:
        """Return the URL to give the openai SDK, ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Return a snapshot of rejected bodies (each answered 400) and server-side failures."""
        with self._lock:
            return list(self._errors)

    @property
    def pending(self) -> int:
        """Return how many scripted answers are still queued (``times`` counted)."""
        with self._lock:
            return sum(remaining for _, remaining in self._queue)

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
        with self._lock:
            return self._http_bytes

    def add(self, *items: Reply | Fault | str) -> FakeOpenAI:
        """Queue replies and faults, consumed first-in first-out, one per create request.

        A plain string is short for ``Reply(text=...)``. Raises ``TypeError`` for anything else.
        """
        for item in items:
            if isinstance(item, str):
                item = Reply(text=item)
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"add() takes Reply, Fault or str, got {type(item).__name__}")
            with self._lock:
                self._queue.append([item, item.times if isinstance(item, Fault) else 1])
        return self

    def reset(self) -> None:
        """Forget queued items, recorded requests, errors and stored responses."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._errors.clear()
            self._stored.clear()
            self._max_open = self._open
            self._http_bytes = 0
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
                    await send_error(writer, 400, f"Malformed HTTP request: {exc}", keep=False)
                    break
                if request is None:
                    break
                if "transfer-encoding" in request.headers:
                    message = "Chunked request bodies are not supported; send Content-Length."
                    await send_error(writer, 411, message, keep=False)
                    break
                if not await self._serve(request, reader, writer):
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

    async def _serve(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; return whether the connection stays open."""
        path = request.path
        if (
            request.method == "GET"
            and path == "/v1/responses"
            and request.headers.get("upgrade", "").lower() == "websocket"
        ):
            self._record(RecordedRequest("GET", path, dict(request.headers), None, "responses"))
            await self.websockets.serve(request, reader, writer)
            return False
        api: Api | None = None
        if path == "/v1/chat/completions":
            api = "chat_completions"
        elif path == "/v1/responses" or path.startswith("/v1/responses/"):
            api = "responses"
        body, body_error = _parse_body(request.raw_body)
        with self._lock:
            self._http_bytes += request.wire_bytes
            self._requests.append(
                RecordedRequest(request.method, path, dict(request.headers), body, api)
            )
        keep = request.keep_alive
        try:
            if request.method == "POST" and path == input_tokens.PATH:
                status, answer = input_tokens.input_tokens_reply(body, body_error)
                if status != 200:
                    self._record_error(request, answer)
                    await send_error(writer, status, answer, keep=keep)
                else:
                    await send_json(writer, status, answer, keep=keep)
                return keep
            if request.method == "POST" and path in ("/v1/chat/completions", "/v1/responses"):
                assert api is not None
                return await self._create(api, request, body, body_error, reader, writer) and keep
            if request.method == "GET" and path.startswith("/v1/responses/"):
                await self._retrieve(path.removeprefix("/v1/responses/"), writer, keep)
                return keep
            if path.startswith(("/v1/files", "/v1/batches")):
                status, answer, headers = self.batches.serve(
                    request.method, path, request.headers, request.raw_body
                )
                binary = isinstance(answer, bytes)
                data = answer if binary else json.dumps(answer).encode()
                kind = "application/octet-stream" if binary else "application/json"
                await send_raw(writer, status, data, kind, keep=keep, headers=headers)
                return keep
            if path in ("/v1/chat/completions", "/v1/responses"):
                await send_error(
                    writer, 405, f"Method {request.method} not allowed on {path}.", keep=keep
                )
                return keep
            await send_error(
                writer, 404, f"Unknown request URL: {request.method} {path}.", keep=keep
            )
            return keep
        except (Closed, ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a renderer bug must fail the test loudly, not hang it
            message = f"FakeOpenAI failed to answer {request.method} {path}: {exc!r}"
            with self._lock:
                self._errors.append(message)
            await send_error(writer, 500, message, error_type="server_error", keep=False)
            return False

    async def _retrieve(self, response_id: str, writer: asyncio.StreamWriter, keep: bool) -> None:
        answer: dict[str, Any] | None
        with self._lock:
            stored = self._stored.get(response_id)
            if stored is not None and stored.polls_in_progress > 0:
                stored.polls_in_progress -= 1
                answer = _unfinished(stored.final, "in_progress")
            else:
                answer = stored.final if stored else None
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
        rejection = self._reject(api, request, body, body_error)
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
        if self.rate_limit is not None:
            admission = self.rate_limit.admit(body)
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
        fault, reply = self._next(body)
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
                self._store(payload, background=background)
            if background:
                payload = _unfinished(payload, "queued")

        if stream:
            return await send_events(writer, api, events, payload, fault, keep, limits)
        return await send_payload(writer, payload, fault, keep, limits)

    def _reject(
        self, api: Api, request: Request, body: dict[str, Any] | None, body_error: str | None
    ) -> BodyError | None:
        """Return why a create request gets a 400 before any scripted item is used, if it does."""
        if body is None:
            problem = BodyError(
                body_error or "The request body is empty; expected a JSON object.",
                None,
                "invalid_json",
            )
            self._record_error(request, problem.message)
            return problem
        if self._check_bodies:
            problems = check_body(
                api, body, self._extra_keys, allow_schema_defaults=self._allow_schema_defaults
            )
            for problem in problems:
                self._record_error(request, problem.message)
            if problems:
                message = "; ".join(p.message for p in problems)
                return BodyError(message, problems[0].param, problems[0].code)
        previous = body.get("previous_response_id") if api == "responses" else None
        if isinstance(previous, str):
            with self._lock:
                known = previous in self._stored
            if not known:
                return BodyError(
                    f"Previous response with id '{previous}' not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
        return None

    def _next(self, body: dict[str, Any]) -> tuple[Fault | None, Reply]:
        """Take the next scripted item; return its fault (if any) and the reply to render."""
        with self._lock:
            item: Reply | Fault | None = None
            if self._queue:
                head = self._queue[0]
                head[1] -= 1
                if head[1] == 0:
                    self._queue.popleft()
                item = head[0]
        if isinstance(item, Fault):
            return item, item.reply or echo_reply(body)
        if isinstance(item, Reply):
            return item.fault, item
        return None, echo_reply(body)

    def _store(self, response: dict[str, Any], *, background: bool) -> None:
        with self._lock:
            self._stored[response["id"]] = _Stored(
                response, polls_in_progress=1 if background else 0
            )

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_server_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _is_stored(self, response_id: str) -> bool:
        with self._lock:
            return response_id in self._stored

    def _check_responses_body(self, body: dict[str, Any]) -> list[BodyError]:
        if not self._check_bodies:
            return []
        return check_body(
            "responses", body, self._extra_keys, allow_schema_defaults=self._allow_schema_defaults
        )

    def _record_error(self, request: Request, message: str) -> None:
        with self._lock:
            self._errors.append(f"{request.method} {request.path}: {message}")


def _parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not raw:
        return None, None
    try:
        value = json.loads(raw, parse_constant=_non_standard)
    except ValueError as exc:
        return None, f"We could not parse the JSON body of your request: {exc}"
    if not isinstance(value, dict):
        return None, "The request body must be a JSON object."
    return value, None


def _non_standard(constant: str) -> Any:
    """Refuse ``NaN`` / ``Infinity``: Python's json reads them, JSON (and OpenAI) does not."""
    raise ValueError(f"{constant} is not valid JSON")


def _unfinished(final: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        **copy.deepcopy(final),
        "status": status,
        "output": [],
        "usage": None,
        "completed_at": None,
    }
