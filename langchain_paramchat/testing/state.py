"""What a FakeOpenAI keeps between requests: the script, the record and stored responses.

The HTTP routes, the WebSocket endpoint and batch lines all take scripted items, record
requests and problems, store responses and check bodies here, under one lock.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.testing.body_check import Api, BodyError, check_body
from langchain_paramchat.testing.rendering import echo_reply
from langchain_paramchat.testing.script import Fault, RecordedRequest, Reply

__all__ = ["ScriptState", "unfinished"]


@dataclass
class _Stored:
    """A response kept for ``previous_response_id`` and ``GET /v1/responses/{id}``."""

    final: dict[str, Any]
    polls_in_progress: int = 0


class ScriptState:
    """Hold a fake server's queued items, recorded requests, problems and stored responses.

    ``check_bodies=False`` turns the body check off; ``extra_keys`` names top-level keys to
    accept beyond the SDK's; ``allow_schema_defaults`` lets strict schemas carry ``default``.
    """

    def __init__(
        self,
        *,
        check_bodies: bool,
        extra_keys: Collection[str],
        allow_schema_defaults: bool,
    ) -> None:
        self.check_bodies = check_bodies
        self._extra_keys = frozenset(extra_keys)
        self._allow_schema_defaults = allow_schema_defaults
        self._lock = threading.Lock()
        self._queue: deque[list[Any]] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._stored: dict[str, _Stored] = {}
        self._http_bytes = 0
        self.background_polls = 1

    # --- the script -------------------------------------------------------------------------

    def add(self, item: Reply | Fault) -> None:
        """Queue one reply or fault (a fault counts ``times``)."""
        with self._lock:
            self._queue.append([item, item.times if isinstance(item, Fault) else 1])

    @property
    def pending(self) -> int:
        """Return how many scripted answers are still queued (``times`` counted)."""
        with self._lock:
            return sum(remaining for _, remaining in self._queue)

    def next(self, body: dict[str, Any]) -> tuple[Fault | None, Reply]:
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

    # --- the record -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every request recorded, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Return a snapshot of every problem recorded."""
        with self._lock:
            return list(self._errors)

    @property
    def http_bytes(self) -> int:
        """Return how many bytes of HTTP requests were recorded."""
        with self._lock:
            return self._http_bytes

    def record(self, request: RecordedRequest, wire_bytes: int = 0) -> None:
        """Record one request and the bytes it took on the wire (HTTP only)."""
        with self._lock:
            self._http_bytes += wire_bytes
            self._requests.append(request)

    def record_error(self, message: str) -> None:
        """Record a rejected body or a failure of the server itself."""
        with self._lock:
            self._errors.append(message)

    # --- stored responses -------------------------------------------------------------------

    def store(self, response: dict[str, Any], *, background: bool = False) -> None:
        """Keep a response by id; a background one reads ``in_progress`` on its first
        ``background_polls`` polls."""
        with self._lock:
            self._stored[response["id"]] = _Stored(
                response, polls_in_progress=self.background_polls if background else 0
            )

    def is_stored(self, response_id: str) -> bool:
        """Return True when a response with this id is stored."""
        with self._lock:
            return response_id in self._stored

    def retrieve(self, response_id: str) -> dict[str, Any] | None:
        """Return a stored response as a poll sees it now, or None when unknown."""
        with self._lock:
            stored = self._stored.get(response_id)
            if stored is not None and stored.polls_in_progress > 0:
                stored.polls_in_progress -= 1
                return unfinished(stored.final, "in_progress")
            return stored.final if stored else None

    # --- checks -----------------------------------------------------------------------------

    def check(self, api: Api, body: dict[str, Any]) -> list[BodyError]:
        """Return the body's problems against the SDK's types (none when checks are off)."""
        if not self.check_bodies:
            return []
        return check_body(
            api, body, self._extra_keys, allow_schema_defaults=self._allow_schema_defaults
        )

    def reject(
        self, api: Api, where: str, body: dict[str, Any] | None, body_error: str | None
    ) -> BodyError | None:
        """Return why a create at ``where`` gets a 400 before any scripted item is used.

        Each problem is recorded, prefixed with ``where`` (``"POST /v1/responses"``).
        """
        if body is None:
            problem = BodyError(
                body_error or "The request body is empty; expected a JSON object.",
                None,
                "invalid_json",
            )
            self.record_error(f"{where}: {problem.message}")
            return problem
        problems = self.check(api, body)
        for problem in problems:
            self.record_error(f"{where}: {problem.message}")
        if problems:
            message = "; ".join(p.message for p in problems)
            return BodyError(message, problems[0].param, problems[0].code)
        previous = body.get("previous_response_id") if api == "responses" else None
        if isinstance(previous, str) and not self.is_stored(previous):
            return BodyError(
                f"Previous response with id '{previous}' not found.",
                "previous_response_id",
                "previous_response_not_found",
            )
        return None

    def reset(self) -> None:
        """Forget queued items, recorded requests, problems and stored responses."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._errors.clear()
            self._stored.clear()
            self._http_bytes = 0


def unfinished(final: dict[str, Any], status: str) -> dict[str, Any]:
    """Return ``final`` as a poll sees it before it is done (``queued``, ``in_progress``)."""
    return {
        **copy.deepcopy(final),
        "status": status,
        "output": [],
        "usage": None,
        "completed_at": None,
    }
