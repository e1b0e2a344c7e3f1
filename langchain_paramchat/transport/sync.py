"""The sync half of the transport: JSON requests and event streams over ``openai.OpenAI``."""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from typing import Any

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.transport.base import StreamCall, TransportBase, not_event_stream
from langchain_paramchat.transport.fastpath import direct_request, drain_or_close
from langchain_paramchat.transport.resend import Attempts
from langchain_paramchat.transport.sse import SSEDecoder
from langchain_paramchat.transport.streams import Event, EventStream, JSONReply

__all__ = ["SyncTransport"]


class SyncTransport(TransportBase):
    """Send JSON and read JSON or SSE replies, blocking; see ``Transport``."""

    @property
    def client(self) -> openai.OpenAI:
        """Return the sync SDK client, building it on first use."""
        return self.clients.sync

    def close(self) -> None:
        """Close the sync SDK client if it was built here (not a custom ``http_client``)."""
        self.clients.close()

    # --- JSON requests --------------------------------------------------------------------

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path`` (relative to the base URL); return the reply object."""
        attempts = self._attempts(body)

        def attempt() -> dict[str, Any]:
            response, content = self._post(path, attempts.body, extra_headers, attempts)
            return self._json_object(response, content)

        return self._run(attempt, attempts)

    def post_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Like :meth:`post_json`, with the reply's HTTP headers (``JSONReply(body, headers)``)."""
        attempts = self._attempts(body)

        def attempt() -> JSONReply:
            response, content = self._post(path, attempts.body, extra_headers, attempts)
            return JSONReply(self._json_object(response, content), response.headers)

        return self._run(attempt, attempts)

    def get_json(self, path: str, *, deadline: float | None = None) -> dict[str, Any]:
        """GET ``path`` (e.g. ``responses/{id}`` to poll a background response); return it.

        Each segment of ``path`` must be a plain id (no ``..``, ``?``, ``#``, spaces, ...),
        since ids come from server replies; anything else raises ``ResponseFormatError``.
        ``deadline`` (a ``time.monotonic()`` time) ends it earlier than ``total_timeout``
        would, for a caller bounding a longer operation.
        """
        self._check_get_path(path)
        attempts = self._attempts({}, deadline)

        def attempt() -> dict[str, Any]:
            client = self.client
            n = attempts.next()
            key = None if self._keys is None else self._keys.key()
            self._wait_to_send(path, {}, attempts)
            timeout = self._attempt_timeout(self._timeout, attempts)
            options = self._generic_options(timeout, None, n, key)
            with self.errors.sending:
                response: hx.Response = client.get(path, cast_to=hx.Response, options=options)
            if self._hooks is not None:
                self._hooks.after_response(path, response.status_code, response.headers)
            return self._json_object(response, response.content)

        return self._run(attempt, attempts)

    def _post(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        attempts: Attempts,
    ) -> tuple[hx.Response, bytes]:
        """Send one attempt of a JSON POST; return the response and its whole body."""
        if attempts.deadline is None:
            response = self._send(path, body, extra_headers, stream=False, attempts=attempts)
            return response, response.content
        # A total deadline: read the body piece by piece, so a trickling reply is cut off.
        response = self._send(path, body, extra_headers, stream=True, attempts=attempts)
        pieces = []
        try:
            with self.errors.sending:
                for piece in response.iter_bytes():
                    self._check_deadline(attempts)
                    pieces.append(piece)
        finally:
            response.close()
        return response, b"".join(pieces)

    # --- streams --------------------------------------------------------------------------

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
        ``ResponseFormatError``. The iteration ends at the terminal event (see
        ``EventStream``). The response is closed when the stream ends, fails or is closed.
        """
        return EventStream(
            lambda stream: self._resending(
                stream, lambda: self._stream_call(stream, path, body, extra_headers)
            )
        )

    def _stream_call(
        self,
        stream: EventStream,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
    ) -> StreamCall:
        attempts = self._attempts(body)

        def attempt() -> tuple[Event | None, Generator[Event, None, None]]:
            response = self._send(
                path, attempts.body, extra_headers, stream=True, attempts=attempts
            )
            events = self._read_events(response, stream, attempts)
            try:
                if not_event_stream(response):
                    response.read()
                    raise self._not_event_stream_error(response)
                first = next(events, None)
            except BaseException:
                events.close()
                response.close()
                raise
            stream.headers = response.headers
            return first, events

        return attempts, attempt

    def _read_events(
        self, response: hx.Response, stream: EventStream, attempts: Attempts
    ) -> Generator[Event, None, None]:
        idle = self.settings.stream_idle_timeout
        deadline = attempts.deadline
        decoder = SSEDecoder()
        # The read timeout catches total silence; this clock catches bytes (e.g. keep-alive
        # comments) that never complete an event. Time the consumer spends is not counted.
        waiting_since = time.monotonic()
        errors = self.errors
        try:
            chunks = response.iter_bytes()
            for chunk in chunks:
                if deadline is not None:
                    self._check_deadline(attempts)
                events, terminal = self._parse_batch(decoder.feed(chunk), response, stream)
                if not events and not terminal:
                    if idle is not None and time.monotonic() - waiting_since > idle:
                        raise errors.stall(response)
                    continue
                yield from events
                if terminal:
                    # Return now; the connection is reused only if its end is already here.
                    drain_or_close(response, chunks)
                    return
                waiting_since = time.monotonic()
        except errors.timeout_errors as exc:
            raise errors.stall(response) from exc
        except errors.network_errors as exc:
            raise errors.dropped(exc, response) from exc
        except errors.decoding_errors as exc:
            raise self._decoding_error(response, exc) from exc
        finally:
            response.close()

    # --- sending --------------------------------------------------------------------------

    def _send(
        self,
        path: str,
        body: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        *,
        stream: bool,
        attempts: Attempts,
    ) -> hx.Response:
        clients = self.clients
        client = clients.sync
        n = attempts.next()
        template = None if extra_headers else clients.template(client, path)
        hooks = self._hooks
        key = None if self._keys is None else self._keys.key()
        if template is None:
            self._check_generic_body(body)
            self._wait_to_send(path, body, attempts)
            timeout = self._attempt_timeout(self._timeout_for(body, stream), attempts)
            with self.errors.sending_stream if stream else self.errors.sending:
                response: hx.Response = client.post(
                    path,
                    body=body,
                    cast_to=hx.Response,
                    options=self._generic_options(timeout, extra_headers, n, key),
                    stream=stream,
                )
        else:
            http = client._client
            self._wait_to_send(path, body, attempts)
            timeout = self._attempt_timeout(self._timeout_for(body, stream), attempts)
            request = direct_request(http, template, body, timeout, n, key)
            with self.errors.sending_stream if stream else self.errors.sending:
                response = http.send(request, stream=stream)
            if response.status_code >= 400:
                if hooks is not None:
                    hooks.after_response(path, response.status_code, response.headers)
                with self.errors.sending:
                    response.read()
                raise self.errors.status(client, response, stream)
        if hooks is not None:
            hooks.after_response(path, response.status_code, response.headers)
        return response
