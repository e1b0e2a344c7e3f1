"""The WebSocket send loop's steps, written once for the blocking and the awaiting transport.

A turn is a generator of steps (:class:`Acquire` a socket, :class:`Connect` one, run the
:class:`BeforeSend` hook, :class:`Send` the frame, :class:`Receive` a frame, :class:`Release`
the socket, :class:`Emit` an event to the caller) that holds every decision: which socket,
what to send, when to resend in full, which error a failure is, when the socket may be
reused. ``websocket.py`` runs the steps, each with a plain call or with ``await``; that is
all that differs between the two.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ResponseFormatError,
)
from langchain_paramchat.transport.base import Attempts, TransportBase
from langchain_paramchat.transport.errors import SNIPPET, scrub_json, where
from langchain_paramchat.transport.fastpath import encode
from langchain_paramchat.transport.retry import retry_reason
from langchain_paramchat.transport.sse import TERMINAL_EVENTS
from langchain_paramchat.transport.streams import Event
from langchain_paramchat.transport.websocket_chain import Record, Turn
from langchain_paramchat.transport.websocket_pool import Socket

__all__ = [
    "PATH",
    "Acquire",
    "BeforeSend",
    "Connect",
    "Emit",
    "Held",
    "Receive",
    "Release",
    "Send",
    "SocketClosed",
    "Step",
    "WebSocketSteps",
    "arun_events",
    "arun_steps",
    "final_response",
    "run_events",
    "run_steps",
]

T = TypeVar("T")
PATH = "/responses"
_NOT_FOUND = "previous_response_not_found"
_LIMIT = "websocket_connection_limit_reached"
# Socket timeouts may fire this much before the deadline they were shortened to.
_DEADLINE_SLACK = 0.02


@dataclass(frozen=True, slots=True)
class Acquire:
    """Take an idle socket (preferring one ``prefer`` accepts) or a free slot (None)."""

    prefer: Callable[[Record | None], bool]
    wait: float | None


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a new socket within ``wait`` seconds and count it for the pool."""

    wait: float | None


@dataclass(frozen=True, slots=True)
class BeforeSend:
    """Run the ``before_send`` hook (the pacer) for ``frame``, within the call's deadline."""

    frame: Mapping[str, Any]
    attempts: Attempts


@dataclass(frozen=True, slots=True)
class Send:
    """Send one text frame."""

    sock: Socket[Any]
    text: str


@dataclass(frozen=True, slots=True)
class Receive:
    """Receive one frame (raw) within ``wait`` seconds."""

    sock: Socket[Any]
    wait: float | None


@dataclass(frozen=True, slots=True)
class Release:
    """Give a socket back to the pool (``keep``) or drop it; None frees an unused slot."""

    sock: Socket[Any] | None
    keep: bool


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand one event to the caller."""

    event: Event


Step = Acquire | Connect | BeforeSend | Send | Receive | Release | Emit
Steps = Generator[Step, Any, T]


class SocketClosed(Exception):
    """The socket closed; ``clean`` when with a normal close code."""

    def __init__(self, cause: BaseException, clean: bool) -> None:
        super().__init__(str(cause))
        self.clean = clean


class Held:
    """What a turn's reading leaves for its runner: whether the socket may take the next turn."""

    __slots__ = ("keep",)

    def __init__(self) -> None:
        self.keep = False


def run_steps(steps: Steps[T], do: Callable[[Step], Any]) -> T:
    """Run ``steps`` to their result, doing each with ``do``; its errors go back into them."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        reply, error = None, None
        try:
            reply = do(step)
        except BaseException as exc:  # the steps decide (and release) before it propagates
            error = exc


async def arun_steps(steps: Steps[T], do: Callable[[Step], Awaitable[Any]]) -> T:
    """Async twin of :func:`run_steps`."""
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        reply, error = None, None
        try:
            reply = await do(step)
        except BaseException as exc:  # the steps decide (and release) before it propagates
            error = exc


def run_events(steps: Steps[None], do: Callable[[Step], Any]) -> Generator[Event, None, None]:
    """Run ``steps``, yielding what they emit; close them when the caller stops early."""
    reply: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = steps.send(reply) if error is None else steps.throw(error)
            except StopIteration:
                return
            reply, error = None, None
            if isinstance(step, Emit):
                yield step.event
                continue
            try:
                reply = do(step)
            except BaseException as exc:  # the steps decide before it propagates
                error = exc
    finally:
        steps.close()


async def arun_events(
    steps: Steps[None], do: Callable[[Step], Awaitable[Any]]
) -> AsyncGenerator[Event, None]:
    """Async twin of :func:`run_events`."""
    reply: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                step = steps.send(reply) if error is None else steps.throw(error)
            except StopIteration:
                return
            reply, error = None, None
            if isinstance(step, Emit):
                yield step.event
                continue
            try:
                reply = await do(step)
            except BaseException as exc:  # the steps decide before it propagates
                error = exc
    finally:
        steps.close()


class WebSocketSteps(TransportBase):
    """The shared half of the WebSocket transport: where to connect, the steps of a turn,
    and how frames and failures become events and package errors."""

    _endpoint: tuple[str, dict[str, str], hx.Request] | None = None

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

    # --- the steps of one turn ----------------------------------------------------------------

    def begin_steps(self, turn: Turn, attempts: Attempts, stream: bool) -> Steps[tuple[Any, Event]]:
        """Send the turn on a socket; return it with the first event (resending in full once).

        A reused socket found closed died while idle: the turn goes to a new one, silently.
        Raises the package error of a failure that is not resent (a drop, a timeout, an
        error event, the call's deadline).
        """
        attempts.next()
        while True:
            try:
                sock = yield Acquire(
                    lambda record: turn.continues(record) is not None,
                    self._wait(attempts, self._timeout.pool),
                )
            except TimeoutError as exc:
                raise self._waited_too_long(attempts, False, exc) from exc
            fresh = sock is None
            if sock is None:
                try:
                    sock = yield Connect(self._wait(attempts, self._timeout.connect))
                except GeneratorExit:
                    raise
                except BaseException:
                    yield Release(None, False)
                    raise
            continued = False
            try:
                frame, continued = turn.frame(sock.record)
                sock.record = None  # the server's cache now belongs to this turn (or is evicted)
                yield BeforeSend(frame, attempts)
                yield Send(sock, encode(frame).decode())
                first = yield from self.receive_steps(sock, attempts, stream)
            except GeneratorExit:
                raise
            except SocketClosed as exc:
                yield Release(sock, False)
                if not fresh and not turn.resent:
                    turn.resent = True
                    continue
                raise self._dropped(exc, sock) from exc
            except APIError as exc:
                yield Release(sock, _still_usable(exc))
                if self._resend(turn, exc, continued):
                    continue
                raise
            except BaseException:
                yield Release(sock, False)
                raise
            return sock, first

    def rest_steps(
        self,
        sock: Socket[Any],
        turn: Turn,
        first: Event,
        attempts: Attempts,
        stream: Any,
        held: Held,
    ) -> Steps[None]:
        """Emit ``first`` and the turn's events to the terminal one; ``held.keep`` says reuse.

        Raises the package error for a socket that dropped, stalled or sent an error event.
        """
        event = first
        while True:
            if self._settle(sock, turn, event):
                held.keep = True
                if stream is not None:
                    stream.done = True
                yield Emit(event)
                return
            yield Emit(event)
            try:
                event = yield from self.receive_steps(sock, attempts, stream is not None)
            except SocketClosed as exc:
                if exc.clean and stream is not None:
                    return  # ended without a terminal event: the caller decides
                raise self._dropped(exc, sock) from exc

    def receive_steps(self, sock: Socket[Any], attempts: Attempts, stream: bool) -> Steps[Event]:
        """Receive one frame within the read (or stream idle) timeout and parse it.

        Raises ``APITimeoutError`` (or the stall or deadline error) when none came in time.
        """
        wait = self._wait(attempts, self._read_wait(stream))
        try:
            raw = yield Receive(sock, wait)
        except TimeoutError as exc:
            raise self._waited_too_long(attempts, stream, exc) from exc
        return self._event(raw, sock)

    # --- decisions ----------------------------------------------------------------------------

    def _wait(self, attempts: Attempts, base: float | None) -> float | None:
        """Return ``base`` seconds shortened to what is left of the call's deadline."""
        deadline = attempts.deadline
        if deadline is None:
            return base
        left = deadline - time.monotonic()
        if left <= 0:
            raise self.deadline_error()
        return left if base is None else min(base, left)

    def _read_wait(self, stream: bool) -> float | None:
        if stream and self.settings.stream_idle_timeout is not None:
            return self.settings.stream_idle_timeout
        return self._timeout.read

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

    # --- frames and failures into events and package errors -----------------------------------

    def _waited_too_long(self, attempts: Attempts, stream: bool, exc: BaseException) -> APIError:
        deadline = attempts.deadline
        if deadline is not None and time.monotonic() >= deadline - _DEADLINE_SLACK:
            err = self.deadline_error()
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


def final_response(event: Event, final: Any) -> Any:
    """Return the response a terminal event carries, else ``final`` unchanged."""
    kind, data = event
    return data.get("response") if kind in TERMINAL_EVENTS else final


def _still_usable(exc: APIError) -> bool:
    """Return True when a socket whose turn failed with ``exc`` may take the next turn.

    An error event leaves the socket open and idle; a timeout or a drop does not (a late
    reply may still arrive), nor does the connection limit.
    """
    return not isinstance(exc, TimeoutError | APIConnectionError) and exc.code != _LIMIT
