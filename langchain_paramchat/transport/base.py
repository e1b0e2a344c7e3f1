"""What the sync and async transports share: settings, per-call state, reading replies."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIError,
    DeadlineExceededError,
    ResponseFormatError,
)
from langchain_paramchat.secrets import SNIPPET, Scrubber, redact_url, scrub_json
from langchain_paramchat.transport.clients import SDKClients, shared_clients
from langchain_paramchat.transport.errors import ErrorMap, where
from langchain_paramchat.transport.fastpath import RETRY_COUNT_HEADER, encode
from langchain_paramchat.transport.resend import Attempts, Resends
from langchain_paramchat.transport.settings import CALL_DEADLINE, ClientSettings
from langchain_paramchat.transport.sse import TERMINAL_EVENTS
from langchain_paramchat.transport.streams import Event

__all__ = ["AsyncStreamCall", "StreamCall", "TransportBase", "not_event_stream"]

T = TypeVar("T")
StreamCall = tuple[Attempts, Callable[[], tuple[Event | None, Generator[Event, None, None]]]]
"""A stream's ``Attempts`` and the function that sends one attempt: see ``_resending``."""
AsyncStreamCall = tuple[
    Attempts, Callable[[], Awaitable[tuple[Event | None, AsyncGenerator[Event, None]]]]
]
"""Async twin of ``StreamCall``."""
# Socket timeouts may fire this much before the deadline they were shortened to.
_DEADLINE_SLACK = 0.02
# A path segment the server may put in a URL (an id): unreserved and sub-delim characters.
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")


class TransportBase:
    """Hold one model's transport state: its settings, policy, hooks and the shared clients.

    The retry policy, hooks and ``total_timeout`` are this object's own; only the SDK
    clients (``clients.py``) are shared, and only where that is safe.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        policy = settings.retry
        total = settings.total_timeout
        if (
            total is not None
            and policy.retrying is None
            and (policy.deadline is None or policy.deadline > total)
        ):
            # The policy never starts a wait that would end past the call's total deadline.
            policy = dataclasses.replace(policy, deadline=total)
        self._policy = policy
        self._hooks = settings.hooks
        self._total = total
        self._clients = shared_clients(settings)
        timeout: hx.Timeout = settings.timeout
        self._timeout = timeout
        idle = settings.stream_idle_timeout
        self._stream_timeout = _for_streams(timeout, idle)
        flex: hx.Timeout = settings.flex_timeout or timeout
        self._flex_timeout = flex
        self._flex_stream_timeout = _for_streams(flex, idle)
        self._scrub = Scrubber(
            self._clients._scrub.secret,
            settings.default_headers,
            settings.base_url,
            settings.proxy,
        )
        keys = settings.key_provider
        if keys is not None:
            keys.protect(self._scrub)
            if any(k.lower() == "authorization" for k in settings.default_headers or {}):
                keys = None  # as with a key string: an Authorization default header wins
        self._keys = keys
        self.errors = ErrorMap(self._scrub, timeout, idle)

    def __repr__(self) -> str:
        base_url = redact_url(self.settings.base_url)
        return f"Transport(base_url={base_url!r}, retry={self._policy!r})"

    @property
    def clients(self) -> SDKClients:
        """Return the SDK clients for this process (fresh ones after a fork)."""
        clients = self._clients
        if clients.stale:
            clients = self._clients = shared_clients(self.settings)
        return clients

    def map_error(self, exc: openai.APIError) -> APIError:
        """Return the package error for an SDK exception, for code that calls the SDK directly.

        Raise it ``from exc``. A package error (already an ``openai.APIError``) is returned
        as is.
        """
        if isinstance(exc, APIError):
            return exc
        return self.errors.from_sdk(exc)

    # --- per-attempt pieces ---------------------------------------------------------------

    def _attempts(self, body: Mapping[str, Any], deadline: float | None = None) -> Attempts:
        """Return the state of one call sending ``body``, bounded by ``total_timeout``."""
        return Attempts(
            self._total, body, flex_fallback=self.settings.flex_fallback, deadline=deadline
        )

    def _timeout_for(self, body: Mapping[str, Any], stream: bool) -> hx.Timeout:
        """Return the per-phase timeout for one request: flex bodies get the flex one."""
        if body.get("service_tier") == "flex":
            return self._flex_stream_timeout if stream else self._flex_timeout
        return self._stream_timeout if stream else self._timeout

    def _attempt_timeout(self, base: hx.Timeout, attempts: Attempts) -> hx.Timeout:
        """Return ``base``, shortened to what is left of the call's ``total_timeout``."""
        deadline = attempts.deadline
        if deadline is None:
            return base
        left = deadline - time.monotonic()
        if left <= 0:
            raise self.deadline_error()
        return hx.Timeout(
            connect=_shorter(base.connect, left),
            read=_shorter(base.read, left),
            write=_shorter(base.write, left),
            pool=_shorter(base.pool, left),
        )

    def _wait_to_send(self, path: str, body: Mapping[str, Any], attempts: Attempts) -> None:
        """Run the ``before_send`` hook (the pacer) with the call's deadline in reach."""
        hooks = self._hooks
        if hooks is None:
            return
        token = CALL_DEADLINE.set(attempts.deadline)
        try:
            hooks.before_send(path, body)
        finally:
            CALL_DEADLINE.reset(token)

    async def _await_to_send(self, path: str, body: Mapping[str, Any], attempts: Attempts) -> None:
        """Async twin of ``_wait_to_send``."""
        hooks = self._hooks
        if hooks is None:
            return
        token = CALL_DEADLINE.set(attempts.deadline)
        try:
            await hooks.abefore_send(path, body)
        finally:
            CALL_DEADLINE.reset(token)

    def _run(self, fn: Callable[[], T], attempts: Attempts) -> T:
        """Run ``fn`` under the retry policy, then the flex fallback; say so at the deadline.

        ``fn`` sends ``attempts.body``; when the retries end in flex's "Resource
        Unavailable" and the fallback applies, the body switches tier and ``fn`` runs again.
        """
        while True:
            try:
                return self._policy.call(fn)
            except TimeoutError as exc:
                raise self._timed_out(exc, attempts) from exc.__cause__
            except APIError as exc:
                if not attempts.fall_back(exc):
                    raise

    async def _arun(self, fn: Callable[[], Awaitable[T]], attempts: Attempts) -> T:
        """Async twin of ``_run``."""
        while True:
            try:
                return await self._policy.acall(fn)
            except TimeoutError as exc:
                raise self._timed_out(exc, attempts) from exc.__cause__
            except APIError as exc:
                if not attempts.fall_back(exc):
                    raise

    def _timed_out(self, exc: TimeoutError, attempts: Attempts) -> BaseException:
        """Return ``exc``, or a ``DeadlineExceededError`` when it fired at ``total_timeout``.

        Each attempt's timeouts are shortened to what is left of the call, so an attempt
        that times out then has used up the call's time (a few ms early at most).
        """
        deadline = attempts.deadline
        if (
            deadline is None
            or isinstance(exc, DeadlineExceededError)
            or time.monotonic() < deadline - _DEADLINE_SLACK
        ):
            return exc
        err = self.deadline_error()
        err.__context__ = exc
        return err

    def _resending(
        self, stream: Any, start: Callable[[], StreamCall]
    ) -> Generator[Event, None, None]:
        """Yield a stream's events; after a break, send it again or raise, as ``Resends`` says.

        ``start`` runs on the first ``next()``: it returns the call's ``Attempts`` and the
        function that sends one attempt (under the retry policy) and returns its first event
        (None when the events yield it themselves) and the rest. Closing the events releases
        the attempt's connection.
        """
        attempts, attempt = start()
        first, events = self._run(attempt, attempts)
        resends = Resends(self._policy, stream, attempts)
        received = 0  # events of this attempt the caller got (a local: counted per event)
        try:
            while True:
                try:
                    if first is not None:
                        yield first
                        received += 1
                    for event in events:
                        yield event
                        received += 1
                    return
                except ResponseFormatError:
                    raise
                except APIError as exc:
                    wait = resends.broke(exc, received)
                events.close()
                self._policy.sleep(wait)
                first, events = self._run(attempt, attempts)
                resends.restarted()
                received = 0
        finally:
            events.close()

    async def _aresending(
        self, stream: Any, start: Callable[[], AsyncStreamCall]
    ) -> AsyncGenerator[Event, None]:
        """Async twin of ``_resending``: the same loop, awaiting where it waits."""
        attempts, attempt = start()
        first, events = await self._arun(attempt, attempts)
        resends = Resends(self._policy, stream, attempts)
        received = 0
        try:
            while True:
                try:
                    if first is not None:
                        yield first
                        received += 1
                    async for event in events:
                        yield event
                        received += 1
                    return
                except ResponseFormatError:
                    raise
                except APIError as exc:
                    wait = resends.broke(exc, received)
                await events.aclose()
                await self._policy.async_sleep(wait)
                first, events = await self._arun(attempt, attempts)
                resends.restarted()
                received = 0
        finally:
            await events.aclose()

    def _check_deadline(self, attempts: Attempts) -> None:
        if attempts.deadline is not None and time.monotonic() > attempts.deadline:
            raise self.deadline_error()

    def deadline_error(self) -> DeadlineExceededError:
        """Return the error of a call that ran past ``total_timeout``."""
        err = DeadlineExceededError(
            f"The call ran past total_timeout={self._total} s (retries and the reply's "
            "arrival included); it was not retried"
        )
        err.is_retryable = False
        return err

    def _generic_options(
        self,
        timeout: hx.Timeout,
        extra_headers: Mapping[str, str] | None,
        attempt: int,
        key: str | None = None,
    ) -> Any:
        """Return the SDK request options for the generic ``post``/``get`` path.

        ``key`` is this request's key from a key function, sent as its ``Authorization``.
        """
        options: dict[str, Any] = {"timeout": timeout}
        headers = dict(extra_headers) if extra_headers else {}
        if attempt:
            headers[RETRY_COUNT_HEADER] = str(attempt)
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if headers:
            options["headers"] = headers
        return options

    def _check_generic_body(self, body: Mapping[str, Any]) -> None:
        """Refuse a body that is not standard JSON (the SDK would send NaN as is)."""
        encode(body)

    def _check_get_path(self, path: str) -> None:
        """Refuse a GET path whose segments are not plain ids (they come from replies)."""
        for segment in path.strip("/").split("/"):
            if segment in (".", "..") or not _SAFE_SEGMENT.fullmatch(segment):
                raise ResponseFormatError(
                    f"Refusing to request {path!r}: the segment {segment[:SNIPPET]!r} is not a "
                    "plain id (it came from the server's reply)"
                )

    # --- reading replies ------------------------------------------------------------------

    def _json_object(self, response: hx.Response, content: bytes) -> dict[str, Any]:
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise ResponseFormatError(
                self._describe(response, content, "is not valid JSON")
            ) from exc
        except RecursionError as exc:
            raise ResponseFormatError(
                self._describe(response, content, "is JSON nested too deeply to read")
            ) from exc
        if not isinstance(data, dict):
            raise ResponseFormatError(
                self._describe(
                    response, content, f"is JSON but not an object ({type(data).__name__})"
                )
            )
        if data.get("status") == "failed" and "error" in data:
            # A failed Responses reply becomes an error whose message comes from here.
            data["error"] = scrub_json(data["error"], self._scrub)
        return data

    def _decoding_error(self, response: hx.Response, exc: BaseException) -> ResponseFormatError:
        encoding = response.headers.get("content-encoding", "")
        return ResponseFormatError(
            self._scrub(
                f"The reply from {where(response)} could not be decoded as its "
                f"content-encoding {encoding!r} says ({type(exc).__name__}: {exc})"
            )
        )

    def _not_event_stream_error(self, response: hx.Response) -> ResponseFormatError:
        return ResponseFormatError(
            self._describe(response, response.content, "is not an event stream")
        )

    def _event_data(self, name: str | None, data: bytes, response: hx.Response) -> Any:
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ResponseFormatError(
                self._scrub(
                    f"Stream event {name or 'message'!r} from {where(response)} is not valid "
                    f"JSON: {data[:SNIPPET].decode('utf-8', 'replace')!r}"
                )
            ) from exc
        if not isinstance(obj, dict):
            raise ResponseFormatError(
                f"Stream event {name or 'message'!r} from {where(response)} is JSON but not "
                f"an object: {type(obj).__name__}"
            )
        error = obj.get("error")
        if name == "error" or obj.get("type") == "error":
            raise self.errors.stream_error(error if isinstance(error, dict) else obj, response)
        if name is None and isinstance(error, dict):
            raise self.errors.stream_error(error, response)
        return obj

    def _parse_batch(
        self, batch: list[tuple[str | None, bytes]], response: hx.Response, stream: Any
    ) -> tuple[list[Event], bool]:
        """Return the events of ``batch`` up to the terminal one, and whether it came."""
        events: list[Event] = []
        for name, data in batch:
            if data == b"[DONE]":
                stream.done = True
                return events, True
            obj = self._event_data(name, data, response)
            events.append((name, obj))
            kind = obj.get("type")
            if name in TERMINAL_EVENTS or (isinstance(kind, str) and kind in TERMINAL_EVENTS):
                failed = obj.get("response")
                if isinstance(failed, dict) and "error" in failed:
                    # response.failed becomes an error whose message comes from here.
                    failed["error"] = scrub_json(failed["error"], self._scrub)
                stream.done = True
                return events, True
        return events, False

    def _describe(self, response: hx.Response, content: bytes, problem: str) -> str:
        content_type = response.headers.get("content-type", "")
        snippet = content[:SNIPPET].decode("utf-8", "replace")
        return self._scrub(
            f"The reply from {where(response)} {problem} (status {response.status_code}, "
            f"content-type {content_type!r}): {snippet!r}"
        )


def not_event_stream(response: hx.Response) -> bool:
    """Return True when the response says it is something other than an event stream."""
    content_type = response.headers.get("content-type", "")
    return bool(content_type) and not content_type.startswith("text/event-stream")


def _for_streams(timeout: hx.Timeout, idle: float | None) -> hx.Timeout:
    """Return ``timeout`` with its read phase replaced by the stream idle timeout."""
    if idle is None:
        return timeout
    return hx.Timeout(connect=timeout.connect, read=idle, write=timeout.write, pool=timeout.pool)


def _shorter(value: float | None, left: float) -> float:
    return left if value is None or not math.isfinite(value) else min(value, left)
