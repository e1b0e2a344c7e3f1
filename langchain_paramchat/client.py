"""Send ParamChat's ready-made JSON payloads through the openai SDK and read replies and SSE.

The SDK client does auth, base URL, headers, timeouts, connection pooling and error
mapping; it is built once per transport with ``max_retries=0`` because retry.py owns
retries. Payloads go through the SDK's generic ``post(..., cast_to=httpx2.Response)``
rather than the typed ``create()``: ParamChat validates its payloads itself, and
``create()`` would walk every message through the SDK's TypedDict transform again.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar, cast

import httpx2
import openai
from openai._models import FinalRequestOptions

from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextOverflowError,
    NotFoundError,
    OptionError,
    ParamChatError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    StreamInterruptedError,
    StreamStalledError,
    StreamTimeoutError,
)
from langchain_paramchat.retry import RetryPolicy, retry_reason

__all__ = ["AsyncEventStream", "ClientSettings", "Event", "EventStream", "Transport"]

Event = tuple[str | None, dict[str, Any]]
"""One server-sent event: its ``event:`` name (None when absent) and its parsed JSON data."""

_ClientT = TypeVar("_ClientT", openai.OpenAI, openai.AsyncOpenAI)

_CONNECT_TIMEOUT = 10.0
_SNIPPET = 200
# OpenAI says so in error.code; llama.cpp's server in error.type (its code is the HTTP status).
_CONTEXT_OVERFLOW = frozenset({"context_length_exceeded", "exceed_context_size_error"})
_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def _default_timeout() -> httpx2.Timeout:
    return httpx2.Timeout(600.0, connect=_CONNECT_TIMEOUT)


@dataclass(frozen=True, repr=False)
class ClientSettings:
    """Hold everything needed to reach the API; one ``Transport`` is built from it.

    ``api_key``, ``base_url``, ``organization`` and ``project`` fall back to the SDK's
    environment variables (``OPENAI_API_KEY``, ...) when None. ``timeout`` bounds each phase
    of a request (connect, each read, write, pool); a float sets all of them, except that
    connecting is capped at 10 s. ``stream_idle_timeout`` is the longest a stream may go
    without an event (None: only ``timeout`` applies). ``repr`` never shows the key or
    header values.
    """

    api_key: str | None = None
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    timeout: float | httpx2.Timeout = field(default_factory=_default_timeout)
    stream_idle_timeout: float | None = 120.0
    default_headers: Mapping[str, str] | None = None
    default_query: Mapping[str, object] | None = None
    http_client: httpx2.Client | None = None
    http_async_client: httpx2.AsyncClient | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not (
            isinstance(self.timeout, httpx2.Timeout)
            or (isinstance(self.timeout, int | float) and 0 < self.timeout < float("inf"))
        ):
            raise OptionError(
                "timeout", self.timeout, "a finite number of seconds > 0 or an httpx2.Timeout"
            )
        idle = self.stream_idle_timeout
        if idle is not None and (
            isinstance(idle, bool) or not isinstance(idle, int | float) or not idle > 0
        ):
            raise OptionError("stream_idle_timeout", idle, "seconds > 0, or None")
        if not isinstance(self.retry, RetryPolicy):
            raise OptionError("retry", self.retry, "a langchain_paramchat.retry.RetryPolicy")

    def __repr__(self) -> str:
        headers = sorted(self.default_headers) if self.default_headers else None
        return (
            f"ClientSettings(api_key={'***' if self.api_key else None}, "
            f"base_url={self.base_url!r}, organization={self.organization!r}, "
            f"project={self.project!r}, timeout={self.timeout!r}, "
            f"stream_idle_timeout={self.stream_idle_timeout!r}, default_headers={headers!r}, "
            f"http_client={'custom' if self.http_client else None}, "
            f"http_async_client={'custom' if self.http_async_client else None}, "
            f"retry={self.retry!r})"
        )


def _settings_key(settings: ClientSettings) -> tuple[Any, ...]:
    return (
        settings.api_key,
        settings.base_url,
        settings.organization,
        settings.project,
        repr(settings.timeout),
        settings.stream_idle_timeout,
        tuple(sorted((settings.default_headers or {}).items())),
        repr(sorted((settings.default_query or {}).items())),
        id(settings.http_client),
        id(settings.http_async_client),
        settings.retry,
    )


# A few recent transports stay alive, so models built per request reuse warm pools.
_SHARED: OrderedDict[tuple[Any, ...], Transport] = OrderedDict()
_SHARED_MAX = 16
_SHARED_LOCK = threading.Lock()


def shared_transport(settings: ClientSettings) -> Transport:
    """Return the transport for ``settings``, shared by every model with the same settings.

    Building an SDK client (its connection pool and SSL context) costs ~50 ms; models that
    differ only in request options reuse one. The 16 most recently used are kept.
    """
    key = _settings_key(settings)
    with _SHARED_LOCK:
        transport = _SHARED.get(key)
        if transport is None:
            transport = Transport(settings)
            _SHARED[key] = transport
            if len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)
        else:
            _SHARED.move_to_end(key)
    return transport


class EventStream(Iterator[Event]):
    """Iterate the events of one streamed reply; close it (or use ``with``) to stop early.

    ``done`` turns True when the server sent ``data: [DONE]`` (Chat Completions' terminator).
    A stream that ends without it ends the iteration normally with ``done`` False, so the
    caller, who knows which terminal event its API sends, decides whether it was truncated.
    """

    def __init__(self, run: Callable[[EventStream], Generator[Event, None, None]]) -> None:
        self.done = False
        self._events = run(self)

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._events.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncEventStream(AsyncIterator[Event]):
    """Async twin of :class:`EventStream`; ``aclose()`` (or ``async with``) stops early."""

    def __init__(self, run: Callable[[AsyncEventStream], AsyncGenerator[Event, None]]) -> None:
        self.done = False
        self._events = run(self)

    async def __anext__(self) -> Event:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._events.aclose()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Transport:
    """Send JSON payloads and read JSON or SSE replies, with retries, for one ``ClientSettings``.

    Every failure surfaces as a package error (``errors.py``): HTTP statuses as
    ``APIStatusError`` subclasses carrying status, OpenAI's ``code``/``type``/message and the
    request id, with the SDK's exception as ``__cause__``; context overflow as
    ``ContextOverflowError`` (also langchain-core's); network trouble as
    ``APIConnectionError``/``APITimeoutError``; unreadable replies as ``ResponseFormatError``.
    The sync SDK client is built on first use; async clients are built once per event loop
    (an httpx2 pool cannot outlive its loop) unless ``http_async_client`` is given.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._policy = settings.retry
        self._secret = settings.api_key or os.environ.get("OPENAI_API_KEY") or None
        self._timeout = _as_timeout(settings.timeout)
        idle = settings.stream_idle_timeout
        stream_timeout = self._timeout
        if idle is not None:
            stream_timeout = httpx2.Timeout(
                connect=stream_timeout.connect,
                read=idle,
                write=stream_timeout.write,
                pool=stream_timeout.pool,
            )
        self._plain_options: dict[str, Any] = {}
        self._stream_options: dict[str, Any] = {"timeout": stream_timeout}
        self._timeout_errors, self._read_timeout_errors, self._network_errors = _httpx_error_types()
        self._lock = threading.Lock()
        self._templates: dict[tuple[int, str], tuple[httpx2.URL, httpx2.Headers] | None] = {}
        self._sync: openai.OpenAI | None = None
        self._shared_async: openai.AsyncOpenAI | None = None
        self._async_by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, openai.AsyncOpenAI
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.settings.base_url!r}, retry={self._policy!r})"

    # --- SDK clients ------------------------------------------------------------------

    @property
    def client(self) -> openai.OpenAI:
        """Return the sync SDK client, building it on first use."""
        client = self._sync
        if client is None:
            with self._lock:
                if self._sync is None:
                    self._sync = self._build(openai.OpenAI, self.settings.http_client)
                client = self._sync
        return client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """Return the async SDK client for the running event loop, building it on first use."""
        if self._shared_async is not None:
            return self._shared_async
        if self.settings.http_async_client is not None:
            with self._lock:
                if self._shared_async is None:
                    self._shared_async = self._build(
                        openai.AsyncOpenAI, self.settings.http_async_client
                    )
                return self._shared_async
        loop = asyncio.get_running_loop()
        client = self._async_by_loop.get(loop)
        if client is None:
            client = self._build(openai.AsyncOpenAI, None)
            with self._lock:
                client = self._async_by_loop.setdefault(loop, client)
        return client

    def _build(self, cls: type[_ClientT], http_client: Any) -> _ClientT:
        s = self.settings
        try:
            return cls(
                api_key=s.api_key,
                organization=s.organization,
                project=s.project,
                base_url=s.base_url,
                timeout=self._timeout,
                max_retries=0,
                default_headers=s.default_headers,
                default_query=s.default_query,
                http_client=http_client,
            )
        except openai.OpenAIError as exc:
            if self._secret is None:
                raise OptionError(
                    "api_key",
                    None,
                    "an OpenAI API key is required",
                    fix="Pass api_key=... or set OPENAI_API_KEY "
                    "(a local OpenAI-compatible server accepts any placeholder).",
                ) from exc
            raise ParamChatError(self._scrub(f"Could not create the OpenAI client: {exc}")) from exc

    def close(self) -> None:
        """Close the sync SDK client if this transport created its HTTP client."""
        if self._sync is not None and self.settings.http_client is None:
            self._sync.close()
        self._sync = None

    async def aclose(self) -> None:
        """Close the running loop's async SDK client if this transport created it."""
        client = self._async_by_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()
        self._shared_async = None

    # --- JSON requests ----------------------------------------------------------------

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path`` (relative to the base URL); return the reply object."""
        return self._policy.call(
            lambda: self._json_object(self._send(path, body, extra_headers, stream=False))
        )

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`post_json`."""

        async def attempt() -> dict[str, Any]:
            return self._json_object(await self._asend(path, body, extra_headers, stream=False))

        return await self._policy.acall(attempt)

    def get_json(self, path: str) -> dict[str, Any]:
        """GET ``path`` (e.g. ``responses/{id}`` to poll a background response); return it."""

        def attempt() -> dict[str, Any]:
            try:
                response = self.client.get(path, cast_to=httpx2.Response)
            except openai.APIError as exc:
                raise self._map_error(exc) from exc
            return self._json_object(response)

        return self._policy.call(attempt)

    async def aget_json(self, path: str) -> dict[str, Any]:
        """Async twin of :meth:`get_json`."""

        async def attempt() -> dict[str, Any]:
            try:
                response = await self.async_client.get(path, cast_to=httpx2.Response)
            except openai.APIError as exc:
                raise self._map_error(exc) from exc
            return self._json_object(response)

        return await self._policy.acall(attempt)

    # --- streams ----------------------------------------------------------------------

    def stream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> EventStream:
        """POST ``body`` (which must ask for ``stream``) and iterate its server-sent events.

        The request is sent on the first ``next()``. Failures before the first event are
        retried under the policy; after it, a dropped connection or an error event raises
        ``StreamInterruptedError`` and silence past ``stream_idle_timeout`` raises
        ``StreamStalledError`` (both never retried; attach what you received to
        ``.received``). Error events (``event: error``, or a Chat Completions chunk
        ``{"error": {...}}``) raise instead of being yielded; malformed data raises
        ``ResponseFormatError``. The response is closed when the stream ends, fails or is
        closed.
        """
        return EventStream(lambda stream: self._stream(stream, path, body, extra_headers))

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""
        return AsyncEventStream(lambda stream: self._astream(stream, path, body, extra_headers))

    def _stream(
        self,
        stream: EventStream,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
    ) -> Generator[Event, None, None]:
        def attempt() -> tuple[httpx2.Response, Generator[Event, None, None], Event | None]:
            response = self._send(path, body, extra_headers, stream=True)
            events = self._read_events(response, stream)
            try:
                if _not_event_stream(response):
                    response.read()
                    raise self._not_event_stream_error(response)
                first = next(events, None)
            except BaseException:
                events.close()
                response.close()
                raise
            return response, events, first

        response, events, first = self._policy.call(attempt)
        try:
            if first is None:
                return
            yield first
            received = 1
            try:
                for event in events:
                    yield event
                    received += 1
            except ResponseFormatError:
                raise
            except APIError as exc:
                raise _interrupted(exc, received) from exc
        finally:
            events.close()
            response.close()

    async def _astream(
        self,
        stream: AsyncEventStream,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
    ) -> AsyncGenerator[Event, None]:
        async def attempt() -> tuple[httpx2.Response, AsyncGenerator[Event, None], Event | None]:
            response = await self._asend(path, body, extra_headers, stream=True)
            events = self._aread_events(response, stream)
            try:
                if _not_event_stream(response):
                    await response.aread()
                    raise self._not_event_stream_error(response)
                first = await anext(events, None)
            except BaseException:
                await events.aclose()
                await response.aclose()
                raise
            return response, events, first

        response, events, first = await self._policy.acall(attempt)
        try:
            if first is None:
                return
            yield first
            received = 1
            try:
                async for event in events:
                    yield event
                    received += 1
            except ResponseFormatError:
                raise
            except APIError as exc:
                raise _interrupted(exc, received) from exc
        finally:
            await events.aclose()
            await response.aclose()

    def _read_events(
        self, response: httpx2.Response, stream: EventStream
    ) -> Generator[Event, None, None]:
        idle = self.settings.stream_idle_timeout
        decoder = _SSEDecoder()
        # The read timeout catches total silence; this clock catches bytes (e.g. keep-alive
        # comments) that never complete an event. Time the consumer spends is not counted.
        waiting_since = time.monotonic()
        try:
            chunks = response.iter_bytes()
            for chunk in chunks:
                batch = decoder.feed(chunk)
                if not batch:
                    if idle is not None and time.monotonic() - waiting_since > idle:
                        raise self._stall_error(response)
                    continue
                for name, data in batch:
                    if data == b"[DONE]":
                        stream.done = True
                        break
                    yield name, self._event_data(name, data, response)
                if stream.done:
                    # Read the body's end so the pooled connection can serve the next request.
                    for _ in chunks:
                        pass
                    return
                waiting_since = time.monotonic()
        except self._timeout_errors as exc:
            raise self._stall_error(response) from exc
        except self._network_errors as exc:
            raise self._dropped_error(exc, response) from exc

    async def _aread_events(
        self, response: httpx2.Response, stream: AsyncEventStream
    ) -> AsyncGenerator[Event, None]:
        idle = self.settings.stream_idle_timeout
        decoder = _SSEDecoder()
        loop = asyncio.get_running_loop()
        chunks = response.aiter_bytes()
        try:
            while True:
                deadline = None if idle is None else loop.time() + idle
                batch: list[tuple[str | None, bytes]] = []
                while not batch:
                    try:
                        async with asyncio.timeout_at(deadline):
                            chunk = await anext(chunks)
                    except StopAsyncIteration:
                        return
                    except TimeoutError as exc:
                        raise self._stall_error(response) from exc
                    batch = decoder.feed(chunk)
                for name, data in batch:
                    if data == b"[DONE]":
                        stream.done = True
                        break
                    yield name, self._event_data(name, data, response)
                if stream.done:
                    async for _ in chunks:  # the body's end, so the connection is reused
                        pass
                    return
        except self._timeout_errors as exc:
            raise self._stall_error(response) from exc
        except self._network_errors as exc:
            raise self._dropped_error(exc, response) from exc
        finally:
            await chunks.aclose()

    # --- sending and reading ----------------------------------------------------------

    def _send(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> httpx2.Response:
        client = self.client
        template = None if extra_headers else self._template(client, path)
        if template is None:
            try:
                response: httpx2.Response = client.post(
                    path,
                    body=body,
                    cast_to=httpx2.Response,
                    options=self._generic_options(stream, extra_headers),
                    stream=stream,
                )
            except openai.APIError as exc:
                raise self._map_error(exc, stream=stream) from exc
            return response
        http = client._client
        request = self._direct_request(http, template, body, stream)
        try:
            response = http.send(request, stream=stream)
        except self._network_errors as exc:  # timeouts are network errors too
            raise self._send_error(request, exc, stream) from exc
        if response.status_code >= 400:
            response.read()
            raise self._status_failure(client, response, stream)
        return response

    async def _asend(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> httpx2.Response:
        client = self.async_client
        template = None if extra_headers else self._template(client, path)
        if template is None:
            try:
                response: httpx2.Response = await client.post(
                    path,
                    body=body,
                    cast_to=httpx2.Response,
                    options=self._generic_options(stream, extra_headers),
                    stream=stream,
                )
            except openai.APIError as exc:
                raise self._map_error(exc, stream=stream) from exc
            return response
        http = client._client
        request = self._direct_request(http, template, body, stream)
        try:
            response = await http.send(request, stream=stream)
        except self._network_errors as exc:  # timeouts are network errors too
            raise self._send_error(request, exc, stream) from exc
        if response.status_code >= 400:
            await response.aread()
            raise self._status_failure(client, response, stream)
        return response

    def _send_error(self, request: httpx2.Request, exc: BaseException, stream: bool) -> APIError:
        """Return the package error for a request that failed before any response."""
        if isinstance(exc, self._timeout_errors):
            return self._map_error(_sdk_timeout(request, exc), stream=stream)
        return self._map_error(_sdk_connection(request, exc), stream=stream)

    def _status_failure(self, client: Any, response: httpx2.Response, stream: bool) -> APIError:
        """Return the package error for an HTTP error status, with the SDK's as its cause."""
        error = client._make_status_error_from_response(response)
        mapped = self._map_error(error, stream=stream)
        mapped.__cause__ = error
        return mapped

    def _generic_options(self, stream: bool, extra_headers: Mapping[str, str] | None) -> Any:
        """Return the SDK request options for the generic ``post`` path."""
        options = self._stream_options if stream else self._plain_options
        if extra_headers:
            options = {**options, "headers": extra_headers}
        return cast(Any, options)

    def _template(
        self, client: openai.OpenAI | openai.AsyncOpenAI, path: str
    ) -> tuple[httpx2.URL, httpx2.Headers] | None:
        """Return the URL and headers the SDK builds for ``POST path``, computed once.

        The SDK still decides auth, base URL, default headers and query; what is skipped is
        rebuilding them (and its request-options model) on every call, which costs more
        than sending the request. Returns None (use the SDK's generic ``post``) when the
        client's credentials may change between requests, e.g. a callable ``api_key``.
        """
        key = (id(client), path)
        cached = self._templates.get(key)
        if cached is not None or key in self._templates:
            return cached
        template: tuple[httpx2.URL, httpx2.Headers] | None = None
        if isinstance(getattr(client, "api_key", None), str) and hasattr(
            client, "_make_status_error_from_response"
        ):
            try:
                options = FinalRequestOptions.construct(method="post", url=path, json_data={})
                built = client._build_request(options)
            except Exception:  # an SDK without this private API: keep the generic path
                built = None
            if built is not None:
                headers = httpx2.Headers(
                    {
                        k: v
                        for k, v in built.headers.items()
                        if k.lower() not in _PER_REQUEST_HEADERS
                    }
                )
                # Parsed once: httpx would re-parse a str URL and re-normalise a dict per call.
                template = (built.url, headers)
        self._templates[key] = template
        return template

    def _direct_request(
        self,
        http: Any,
        template: tuple[httpx2.URL, httpx2.Headers],
        body: Mapping[str, Any],
        stream: bool,
    ) -> httpx2.Request:
        url, headers = template
        content = _ENCODER.encode(body).encode()
        timeout = self._stream_options["timeout"] if stream else self._timeout
        request: httpx2.Request = http.build_request(
            "POST", url, content=content, headers=headers, timeout=timeout
        )
        return request

    def _json_object(self, response: httpx2.Response) -> dict[str, Any]:
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            raise ResponseFormatError(self._describe(response, "is not valid JSON")) from exc
        if not isinstance(data, dict):
            raise ResponseFormatError(self._describe(response, "is JSON but not an object"))
        return data

    def _not_event_stream_error(self, response: httpx2.Response) -> ResponseFormatError:
        return ResponseFormatError(self._describe(response, "is not an event stream"))

    def _event_data(
        self, name: str | None, data: bytes, response: httpx2.Response
    ) -> dict[str, Any]:
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise ResponseFormatError(
                self._scrub(
                    f"Stream event {name or 'message'!r} from {_where(response)} is not valid "
                    f"JSON: {data[:_SNIPPET].decode('utf-8', 'replace')!r}"
                )
            ) from exc
        if not isinstance(obj, dict):
            raise ResponseFormatError(
                f"Stream event {name or 'message'!r} from {_where(response)} is JSON but not "
                f"an object: {type(obj).__name__}"
            )
        error = obj.get("error")
        if name == "error" or obj.get("type") == "error":
            raise self._stream_error(error if isinstance(error, dict) else obj, response)
        if name is None and isinstance(error, dict):
            raise self._stream_error(error, response)
        return obj

    # --- errors -----------------------------------------------------------------------

    def _map_error(self, exc: openai.APIError, *, stream: bool = False) -> APIError:
        """Translate one SDK exception into the package error that replaces it."""
        if self._secret and self._secret in exc.message:
            # The SDK exception becomes __cause__ and would print the key in tracebacks.
            exc.message = self._scrub(exc.message)
            exc.args = (exc.message,)
        err: APIStatusError | APIConnectionError
        if (
            stream
            and self.settings.stream_idle_timeout is not None
            and isinstance(exc, openai.APITimeoutError)
            and isinstance(exc.__cause__, self._read_timeout_errors)
        ):
            # A stream's read timeout is stream_idle_timeout, also while awaiting headers.
            return self._stall_error(exc.request)
        if isinstance(exc, openai.APIStatusError):
            err = self._status_error(exc)
        elif isinstance(exc, openai.APITimeoutError):
            err = APITimeoutError(
                f"The request to {_where(exc.request)} timed out "
                f"(timeout: {_describe_timeout(self._timeout)})"
            )
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            detail = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
            err = APIConnectionError(
                self._scrub(f"Could not reach {_where(exc.request)}: {detail}")
            )
        else:
            return APIError(self._scrub(exc.message))
        err.is_retryable = retry_reason(err) is not None
        return err

    def _status_error(self, exc: openai.APIStatusError) -> APIStatusError:
        status = exc.status_code
        body = exc.body
        info: Mapping[str, Any] = body if isinstance(body, dict) else {}
        message = info.get("message")
        if not isinstance(message, str) or not message:
            text = body.strip()[:_SNIPPET] if isinstance(body, str) else ""
            message = f"HTTP {status} from {_where(exc.request)}" + (f": {text}" if text else "")
        code = exc.code
        if code in _CONTEXT_OVERFLOW or getattr(exc, "type", None) in _CONTEXT_OVERFLOW:
            cls: type[APIStatusError] = ContextOverflowError
        else:
            cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIStatusError)
        return cls(
            self._scrub(message),
            status_code=status,
            headers=exc.response.headers,
            code=code,
            request_id=exc.request_id,
            error_type=exc.type,
        )

    def _stream_error(self, info: Mapping[str, Any], response: httpx2.Response) -> APIError:
        message = info.get("message")
        code = info.get("code")
        kind = info.get("type")
        return APIError(
            self._scrub(
                message if isinstance(message, str) and message else "The stream reported an error"
            ),
            code=str(code) if code is not None else None,
            request_id=response.headers.get("x-request-id"),
            error_type=kind if isinstance(kind, str) and kind != "error" else None,
        )

    def _stall_error(self, message: httpx2.Request | httpx2.Response) -> StreamTimeoutError:
        idle = self.settings.stream_idle_timeout
        setting = (
            f"stream_idle_timeout={idle} s"
            if idle is not None
            else f"the timeout ({_describe_timeout(self._timeout)})"
        )
        request_id = (
            message.headers.get("x-request-id") if isinstance(message, httpx2.Response) else None
        )
        return StreamTimeoutError(
            f"The stream from {_where(message)} sent no event for longer than {setting}",
            request_id=request_id,
        )

    def _dropped_error(self, exc: BaseException, response: httpx2.Response) -> APIConnectionError:
        err = APIConnectionError(
            self._scrub(
                f"The connection to {_where(response)} dropped while streaming "
                f"({type(exc).__name__}: {exc})"
            ),
            request_id=response.headers.get("x-request-id"),
        )
        err.is_retryable = retry_reason(err) is not None
        return err

    def _describe(self, response: httpx2.Response, problem: str) -> str:
        content_type = response.headers.get("content-type", "")
        snippet = response.content[:_SNIPPET].decode("utf-8", "replace")
        return self._scrub(
            f"The reply from {_where(response)} {problem} (status {response.status_code}, "
            f"content-type {content_type!r}): {snippet!r}"
        )

    def _scrub(self, text: str) -> str:
        secret = self._secret
        return text.replace(secret, "[redacted]") if secret and secret in text else text


class _SSEDecoder:
    """Turn raw SSE bytes into ``(event name, data bytes)`` per the WHATWG SSE rules.

    Lines end at CRLF, LF or CR only (unlike ``str.splitlines``, so a U+2028 inside JSON
    text does not split an event). Comments and ``id``/``retry`` fields are skipped; an
    event without data lines is not dispatched; a final event with no blank line after it
    is incomplete and dropped.
    """

    __slots__ = ("_data", "_event", "_pending")

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        """Add bytes; return the events they complete."""
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)
            return []
        if self._pending:
            self._pending.append(chunk)
            buffer = b"".join(self._pending)
        else:
            buffer = chunk
        held_cr = False
        if b"\r" in buffer:
            # A trailing CR may be the first half of a CRLF split across chunks.
            held_cr = buffer.endswith(b"\r")
            if held_cr:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        rest = lines.pop()
        if held_cr:
            rest += b"\r"
        self._pending = [rest] if rest else []
        events: list[tuple[str | None, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                    self._data = []
                self._event = None
            elif line[0] != 0x3A:  # ':' starts a comment
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    self._data.append(value)
                elif name == b"event":
                    self._event = value.decode("utf-8", "replace")
        return events


def _interrupted(exc: APIError, received: int) -> StreamInterruptedError:
    cls = StreamStalledError if isinstance(exc, StreamTimeoutError) else StreamInterruptedError
    err = cls(f"The stream broke off after {received} event(s): {exc}")
    err.status_code = exc.status_code
    err.code = exc.code
    err.request_id = exc.request_id
    err.error_type = exc.error_type
    return err


def _not_event_stream(response: httpx2.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return bool(content_type) and not content_type.startswith("text/event-stream")


def _where(message: httpx2.Request | httpx2.Response) -> str:
    request = message if isinstance(message, httpx2.Request) else message.request
    url = request.url
    return f"{request.method} {url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"


def _as_timeout(timeout: float | httpx2.Timeout) -> httpx2.Timeout:
    if isinstance(timeout, httpx2.Timeout):
        return timeout
    return httpx2.Timeout(timeout, connect=min(float(timeout), _CONNECT_TIMEOUT))


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Headers the SDK computes per request (httpx sets length and host itself).
_PER_REQUEST_HEADERS = frozenset({"content-length", "host", "x-stainless-read-timeout"})


def _sdk_timeout(request: httpx2.Request, cause: BaseException) -> openai.APITimeoutError:
    """Return the SDK's timeout error for ``request``, as its own request path would raise."""
    error = openai.APITimeoutError(request=request)
    error.__cause__ = cause
    return error


def _sdk_connection(request: httpx2.Request, cause: BaseException) -> openai.APIConnectionError:
    """Return the SDK's connection error for ``request``, as its own request path would raise."""
    error = openai.APIConnectionError(request=request)
    error.__cause__ = cause
    return error


def _describe_timeout(timeout: httpx2.Timeout) -> str:
    return f"{timeout.read} s per read, {timeout.connect} s to connect"


def _httpx_error_types() -> tuple[
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
]:
    """Return the (timeout, read timeout, network) exceptions a request or body read raises."""
    timeouts: list[type[BaseException]] = [httpx2.TimeoutException]
    read_timeouts: list[type[BaseException]] = [httpx2.ReadTimeout]
    network: list[type[BaseException]] = [httpx2.TransportError, ssl.SSLError]
    try:
        import anyio
    except ImportError:  # pragma: no cover - httpx2 depends on anyio
        pass
    else:
        network.append(anyio.EndOfStream)
    # The SDK also accepts a legacy httpx client, whose errors are httpx's own.
    legacy = sys.modules.get("httpx")
    if legacy is not None:
        timeouts.append(legacy.TimeoutException)
        read_timeouts.append(legacy.ReadTimeout)
        network.append(legacy.TransportError)
    return tuple(timeouts), tuple(read_timeouts), tuple(network)
