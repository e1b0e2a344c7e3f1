"""Event streams handed to the caller: iterate events, close early, read the headers."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import Any, NamedTuple

__all__ = ["AsyncEventStream", "Event", "EventStream", "JSONReply"]

Event = tuple[str | None, dict[str, Any]]
"""One server-sent event: its ``event:`` name (None when absent) and its parsed JSON data."""


class JSONReply(NamedTuple):
    """A JSON reply with the HTTP response headers it came with (rate-limit headers, ...)."""

    body: dict[str, Any]
    headers: Mapping[str, str]


class EventStream(Iterator[Event]):
    """Iterate the events of one streamed reply; close it (or use ``with``) to stop early.

    ``done`` turns True at the stream's terminal event (``data: [DONE]`` for Chat
    Completions; ``response.completed``, ``response.incomplete`` or ``response.failed`` for
    Responses), after which the iteration ends at once whatever the server does next. A
    stream that ends without one ends the iteration normally with ``done`` False, so the
    caller decides whether it was truncated. ``headers`` holds the HTTP response headers once
    the first event has arrived (None before).

    Until the caller calls :meth:`commit` (when it first hands content to its own caller), a
    stream that breaks is sent again under the retry policy and its events start over:
    ``restarts`` then goes up by one before the first event of the new attempt, so the
    caller can reset its parser.
    """

    def __init__(self, run: Callable[[EventStream], Generator[Event, None, None]]) -> None:
        self.done = False
        self.headers: Mapping[str, str] | None = None
        self.committed = False
        self.restarts = 0
        self._events = run(self)

    def commit(self) -> None:
        """Say that content was delivered: from now on a break is never retried."""
        self.committed = True

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
        self.headers: Mapping[str, str] | None = None
        self.committed = False
        self.restarts = 0
        self._events = run(self)

    def commit(self) -> None:
        """Say that content was delivered: from now on a break is never retried."""
        self.committed = True

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
