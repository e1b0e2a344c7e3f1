"""Send a call through the openai SDK's own ``create`` when user code replaced or patched it.

ChatOpenAI sends every request through ``client.with_raw_response.create`` (Chat Completions)
or ``root_client.responses...create`` (Responses), so code written for it replaces those
objects (tests hand over mocks) or patches the SDK's methods (LangChain's fallbacks how-to
patches ``Completions.create`` to simulate a 429). ParamChat normally sends its own bytes
(``fastpath.py``); when such a replacement is present, ``ParamChat`` hands the call to this
route instead. The replacement is called once, exactly as ChatOpenAI calls it (it does its
own retries, as the SDK's ``create`` would), and what it returns — SDK objects, raw
responses, dicts, streams of either — is read as the server's JSON, with its failures mapped
to package errors like any other.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import typing
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
)
from functools import cache
from typing import Any

import openai
from pydantic import BaseModel

from langchain_paramchat.errors import APIError, ResponseFormatError, StreamTimeoutError
from langchain_paramchat.transport.errors import SNIPPET
from langchain_paramchat.transport.sse import TERMINAL_EVENTS
from langchain_paramchat.transport.streams import AsyncEventStream, Event, EventStream, JSONReply

__all__ = ["SDKCallTarget", "SDKRoute", "as_json"]

SDKCallTarget = Callable[[str, bool], tuple[Any, bool]]
"""``(path, is_async) -> (SDK resource, call with_raw_response?)`` for one model."""

StreamHelperTarget = Callable[[bool], Any]
"""``is_async -> the replaced root client's beta.chat.completions``, or None if not replaced."""

_RESPONSES_PATH = "/responses"


class SDKRoute:
    """Send through the SDK resource a model's replacement or patch decides; see module doc.

    Satisfies ``ModelTransport``: what it has no SDK call for (``get_json``) goes to the
    model's own transport, as does mapping errors.
    """

    def __init__(
        self,
        transport: Any,
        target: SDKCallTarget,
        raw_stream: Callable[[str, bool], Any] | None = None,
        stream_helper: StreamHelperTarget | None = None,
    ) -> None:
        self._transport = transport
        self._target = target
        # ``(path, is_async) -> create`` of the raw-response form, for streams whose headers
        # are read (ChatOpenAI's: response headers shown, or a LangSmith gateway key).
        self._raw_stream = raw_stream
        self._stream_helper = stream_helper

    def _stream_create(self, path: str, is_async: bool) -> Any:
        if self._raw_stream is not None:
            return self._raw_stream(path, is_async)
        resource, _ = self._target(path, is_async)
        return resource.create

    @property
    def settings(self) -> Any:
        """Return the model transport's settings."""
        return self._transport.settings

    @property
    def client(self) -> openai.OpenAI:
        """Return the model transport's sync SDK client."""
        client: openai.OpenAI = self._transport.client
        return client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """Return the model transport's async SDK client for the running loop."""
        client: openai.AsyncOpenAI = self._transport.async_client
        return client

    def map_error(self, exc: openai.APIError) -> APIError:
        """Return the package error for an SDK exception."""
        error: APIError = self._transport.map_error(exc)
        return error

    def get_json(self, path: str) -> dict[str, Any]:
        """Fetch ``path`` through the model's own transport."""
        body: dict[str, Any] = self._transport.get_json(path)
        return body

    async def aget_json(self, path: str) -> dict[str, Any]:
        """Async twin of :meth:`get_json`."""
        body: dict[str, Any] = await self._transport.aget_json(path)
        return body

    # --- JSON replies ----------------------------------------------------------------------

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Call the SDK's ``create`` for ``path`` with ``body``; return the reply as JSON."""
        return self.post_json_reply(path, body, extra_headers=extra_headers).body

    def post_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Like :meth:`post_json`, with the reply's headers when the SDK hands them over."""
        resource, raw = self._target(path, False)
        create = resource.with_raw_response.create if raw else resource.create
        with self._transport.errors.sending:
            reply = create(**_create_kwargs(path, body, extra_headers))
            return self._json_reply(reply)

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`post_json`."""
        return (await self.apost_json_reply(path, body, extra_headers=extra_headers)).body

    async def apost_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Async twin of :meth:`post_json_reply`."""
        resource, raw = self._target(path, True)
        create = resource.with_raw_response.create if raw else resource.create
        deadline = self._deadline()
        with self._transport.errors.sending:
            reply = await _bounded(
                create(**_create_kwargs(path, body, extra_headers)), None, deadline, self._transport
            )
            return self._json_reply(reply)

    def _deadline(self) -> float | None:
        """Return when a call starting now must end (``total_timeout``), or None."""
        total = self.settings.total_timeout
        return None if total is None else time.monotonic() + total

    def _json_reply(self, reply: Any) -> JSONReply:
        parsed, headers = _unwrap(reply)
        return JSONReply(self._object(parsed, "reply"), headers or {})

    # --- streams ---------------------------------------------------------------------------

    def stream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> EventStream:
        """Call ``create`` with ``stream=True`` and iterate what it yields as events."""

        def run(stream: EventStream) -> Generator[Event, None, None]:
            with self._transport.errors.sending_stream:
                reply = self._start_stream(path, body, extra_headers, False)
                parsed, stream.headers = _unwrap(reply)
                parsed = _stream_of(parsed, self._transport.errors.scrub)
                manager = parsed if hasattr(parsed, "__enter__") else _Null(parsed)
                with manager as items:
                    for item in items:
                        event = self._event(path, item)
                        if event is None:
                            continue
                        yield event
                        if _terminal(path, event, stream):
                            return
            stream.done = path != _RESPONSES_PATH  # the SDK ends Chat streams at [DONE]

        return EventStream(run)

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""

        async def run(stream: AsyncEventStream) -> AsyncGenerator[Event, None]:
            with self._transport.errors.sending_stream:
                deadline = self._deadline()
                idle = self.settings.stream_idle_timeout
                reply = self._start_stream(path, body, extra_headers, True)
                if inspect.isawaitable(reply):  # create(); the helper is a context manager
                    reply = await _bounded(reply, idle, deadline, self._transport)
                parsed, stream.headers = _unwrap(reply)
                items = _within(
                    _aiterate(_stream_of(parsed, self._transport.errors.scrub)),
                    idle,
                    deadline,
                    self._transport,
                )
                async for item in items:
                    event = self._event(path, item)
                    if event is None:
                        continue
                    yield event
                    if _terminal(path, event, stream):
                        return
            stream.done = path != _RESPONSES_PATH

        return AsyncEventStream(run)

    def _start_stream(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        is_async: bool,
    ) -> Any:
        """Call what starts the stream: ``create``, or (as ChatOpenAI does for structured
        output on a replaced root client) ``beta.chat.completions.stream``.

        Returns the reply (for async ``create``, the awaitable of it).
        """
        kwargs = _create_kwargs(path, body, extra_headers)
        if path != _RESPONSES_PATH and "response_format" in body and self._stream_helper:
            helper = self._stream_helper(is_async)
            if helper is not None:
                kwargs.pop("stream", None)  # the helper streams by itself
                return helper.stream(**kwargs)
        return self._stream_create(path, is_async)(**kwargs)

    def _event(self, path: str, item: Any) -> Event | None:
        """Return the event ``item`` stands for, None for a helper event that repeats one."""
        data = self._object(item, "stream item")
        if path != _RESPONSES_PATH:
            kind = data.get("type")
            if kind == "chunk" and isinstance(data.get("chunk"), dict):
                data = data["chunk"]  # the stream helper's wrapper around each chunk
            elif isinstance(kind, str) and "choices" not in data:
                return None  # content.delta, refusal.done...: derived from the chunks
            error = data.get("error")
            if isinstance(error, dict):
                raise self._stream_error(error)
            return None, data
        kind = data.get("type")
        if kind == "error":
            error = data.get("error")
            raise self._stream_error(error if isinstance(error, dict) else data)
        return (kind if isinstance(kind, str) else None), data

    def _stream_error(self, info: Mapping[str, Any]) -> APIError:
        error: APIError = self._transport.errors.stream_error(info, None)
        return error

    def _object(self, value: Any, what: str) -> dict[str, Any]:
        data = as_json(value)
        if not isinstance(data, dict):
            raise ResponseFormatError(
                self._transport.errors.scrub(
                    f"The SDK replacement returned a {what} that is not a JSON object: "
                    f"{type(value).__name__} {repr(value)[:SNIPPET]}"
                )
            )
        return data


class _Null:
    """Context manager for a plain iterable: nothing to close."""

    def __init__(self, items: Any) -> None:
        self.items = items

    def __enter__(self) -> Any:
        return self.items

    def __exit__(self, *exc_info: object) -> None:
        return None


async def _aiterate(parsed: Any) -> AsyncIterator[Any]:
    """Yield the items of an async SDK stream, an async iterable or a plain iterable."""
    while inspect.isawaitable(parsed) and not hasattr(parsed, "__aiter__"):
        parsed = await parsed
    if hasattr(parsed, "__aenter__"):
        async with parsed as items:
            async for item in items:
                yield item
    elif hasattr(parsed, "__aiter__"):
        async for item in parsed:
            yield item
    else:
        for item in _iterable(parsed):
            yield item


async def _within(
    items: AsyncIterator[Any], idle: float | None, deadline: float | None, transport: Any
) -> AsyncIterator[Any]:
    """Yield ``items``, failing when the next one takes longer than ``idle`` seconds or
    arrives past ``deadline`` (``total_timeout``).

    The direct send's read timeout bounds the silence between events; a replaced client
    (a test double, a wrapper) has none, so the async stream is bounded here, as ChatOpenAI
    bounds it with ``stream_chunk_timeout``. A sync iterator cannot be interrupted.
    """
    if idle is None and deadline is None:
        async for item in items:
            yield item
        return
    iterator = aiter(items)
    while True:
        try:
            item = await _bounded(anext(iterator), idle, deadline, transport)
        except StopAsyncIteration:
            return
        yield item


async def _bounded(
    awaitable: Awaitable[Any], idle: float | None, deadline: float | None, transport: Any
) -> Any:
    """Await what a replaced async client gave (its ``create``, or a stream's next event)
    within ``idle`` seconds and ``total_timeout``: a replacement that never answers must
    not hold the call forever. A ``TimeoutError`` of the replacement's own passes through."""
    wait = _wait(idle, deadline)
    if wait is None:
        return await awaitable
    guard = asyncio.timeout(wait)
    try:
        async with guard:
            return await awaitable
    except TimeoutError as exc:
        if not guard.expired():
            raise
        if deadline is not None and time.monotonic() >= deadline:
            raise transport.deadline_error() from exc
        raise _silent(idle) from exc


def _wait(idle: float | None, deadline: float | None) -> float | None:
    """Return the seconds the next wait may last: ``idle``, or less when the deadline is near."""
    if deadline is None:
        return idle
    left = max(0.0, deadline - time.monotonic())
    return left if idle is None else min(idle, left)


def _silent(idle: float | None) -> StreamTimeoutError:
    return StreamTimeoutError(
        f"The stream from the replaced SDK client sent no event for longer than "
        f"stream_idle_timeout={idle} s"
    )


def _stream_of(parsed: Any, scrub: Callable[[str], str]) -> Any:
    """Return what a replaced ``create`` gave for a stream, or raise ``ResponseFormatError``
    when it is no stream at all (None, a number, a reply object, text): iterating those
    raised a raw ``TypeError`` or, for an empty dict, silently gave an empty answer."""
    if isinstance(parsed, dict | str | bytes | BaseModel) or not (
        hasattr(parsed, "__iter__")
        or hasattr(parsed, "__aiter__")
        or hasattr(parsed, "__enter__")
        or hasattr(parsed, "__aenter__")
        or inspect.isawaitable(parsed)
    ):
        raise ResponseFormatError(
            scrub(
                f"The SDK replacement returned {type(parsed).__name__} "
                f"{repr(parsed)[:SNIPPET]} for a stream; a stream of chunks or events was expected"
            )
        )
    return parsed


def _iterable(value: Any) -> Iterable[Any]:
    if hasattr(value, "__enter__"):
        with value as items:
            yield from items
    else:
        yield from value


def _terminal(path: str, event: Event, stream: EventStream | AsyncEventStream) -> bool:
    name, _ = event
    if path == _RESPONSES_PATH and name in TERMINAL_EVENTS:
        stream.done = True
        return True
    return False


def _unwrap(reply: Any) -> tuple[Any, Any]:
    """Return (parsed reply, headers) of a raw SDK response, or the reply itself and None."""
    if isinstance(reply, dict | list | str | bytes | BaseModel):
        return reply, None
    parse = getattr(reply, "parse", None)
    if callable(parse):
        headers = getattr(reply, "headers", None)
        return parse(), dict(headers) if isinstance(headers, Mapping) else None
    return reply, None


def as_json(value: Any) -> Any:
    """Return an SDK object, a dict or JSON text as plain JSON data."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, BaseModel):
        # Only the fields the object was made with: what the server sent, nulls included.
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    return value


def _create_kwargs(
    path: str, body: Mapping[str, Any], extra_headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """Return ``body`` as ``create()`` keyword arguments: unknown keys go in ``extra_body``."""
    known = _create_params(path)
    kwargs = {k: v for k, v in body.items() if k in known}
    extra = {k: v for k, v in body.items() if k not in known}
    if extra:
        kwargs["extra_body"] = extra
    if extra_headers:
        kwargs["extra_headers"] = dict(extra_headers)
    return kwargs


@cache
def _create_params(path: str) -> frozenset[str]:
    """Return the keyword names the SDK's ``create()`` takes for ``path``."""
    if path == _RESPONSES_PATH:
        from openai.types.responses.response_create_params import ResponseCreateParamsBase

        params: Any = ResponseCreateParamsBase
    else:
        from openai.types.chat.completion_create_params import CompletionCreateParamsBase

        params = CompletionCreateParamsBase
    return frozenset(typing.get_type_hints(params)) | {"stream"}
