"""Relay one stream's chunks to the caller, starting over when a break before content is resent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.outputs import ChatGenerationChunk

from langchain_paramchat.errors import APIError, StreamInterruptedError

if TYPE_CHECKING:
    from langchain_paramchat.call.finish import FinishedStream
    from langchain_paramchat.call.prepared import Prepared

__all__ = ["Relay"]

_NOTHING: tuple[ChatGenerationChunk, ...] = ()


class Relay:
    """One stream's chunks on their way to the caller; ``_stream`` and ``_astream`` share it.

    Chunks without content (role, ids) wait for the first content: a break before it is
    retried, and the retry's chunks must not mix with the lost attempt's.
    """

    __slots__ = ("events", "headers", "held", "prepared", "restarts", "state")

    def __init__(self, prepared: Prepared, events: Any, headers: bool) -> None:
        self.prepared = prepared
        self.events = events
        self.headers = headers
        self.restarts = 0
        self.held: list[ChatGenerationChunk] = []
        self.state = self._fresh()

    def _fresh(self) -> FinishedStream:
        state = self.prepared.stream_state()
        if self.headers:
            state.fields.headers_from = self.events
        state.gateway_from = self.events  # its headers may carry gateway metadata
        return state

    def take(self, event: str | None, data: Any) -> Sequence[ChatGenerationChunk]:
        """Return the chunks to yield for one event: usually one, none while held."""
        events = self.events
        if events.restarts != self.restarts:  # resent before any content: start over
            self.restarts = events.restarts
            self.held = []
            self.state = self._fresh()
        chunk = self.state.feed(event, data)
        if chunk is None:
            return _NOTHING
        if events.committed:
            return (chunk,)
        self.held.append(chunk)
        if not _has_content(chunk):
            return _NOTHING
        events.commit()  # from here a break is never retried
        out, self.held = self.held, []
        return out

    def failed(self, exc: APIError) -> APIError:
        """Return the error to raise for a stream that failed with ``exc``.

        The transport counts the events it yielded, but events without content never reach
        the caller: while nothing was committed the call failed before any output, so the
        caller gets the error that ended it (a ``DeadlineExceededError``, an ``APIError``),
        not an interruption. After output, the interruption carries what was yielded. The
        returned error's ``__cause__`` is set; raise it ``from`` that.
        """
        if not self.events.committed:
            cause = exc.__cause__
            if isinstance(exc, StreamInterruptedError) and isinstance(cause, APIError):
                return cause
            return exc
        error = self.state.failed(exc)
        if error is not exc:
            error.__cause__ = exc
        return error

    def close(self) -> tuple[list[ChatGenerationChunk], ChatGenerationChunk | None]:
        """Return the chunks still held (a stream without content) and the closing chunk."""
        return self.held, self.state.close(self.events.done)


def _has_content(chunk: ChatGenerationChunk) -> bool:
    """Return True when a chunk carries text, a tool call, reasoning or audio for the caller."""
    message = chunk.message
    return bool(
        message.content or getattr(message, "tool_call_chunks", None) or message.additional_kwargs
    )
