"""What a Responses WebSocket turn sends: the whole body, or only what is new.

A socket keeps its latest response in server memory, so a turn whose ``input`` extends what
that socket last sent and received can be sent as the new items plus
``previous_response_id``. Whether it does is checked here, against a client-side record of
the last turn (the full input sent and the output items received), never assumed: the
recorded input must match item for item, and each recorded output item must come back as
the item the caller's history replays for it (same type and id, same call, same text).
Everything but ``input`` (model, tools, instructions, options) is sent every turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Record", "Turn", "create_frame", "new_items"]

# Fields of the HTTP body a WebSocket turn never carries: every response streams there, and
# background responses are HTTP only.
_HTTP_ONLY = frozenset({"stream", "background"})


@dataclass(frozen=True)
class Record:
    """The last completed turn on one socket: what it sent in full and what came back."""

    response_id: str
    sent: tuple[Any, ...]
    output: tuple[Any, ...]


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    return "".join(
        str(part.get("text") or part.get("refusal") or "")
        for part in content
        if isinstance(part, dict)
    )


def _replays(sent: Any, produced: Any) -> bool:
    """Return True when history item ``sent`` is the replay of output item ``produced``."""
    if not (isinstance(sent, dict) and isinstance(produced, dict)):
        return False
    kind = produced.get("type")
    if sent.get("type", "message") != kind:
        return False
    if "id" in sent and sent["id"] != produced.get("id"):
        return False
    if kind == "message":
        return sent.get("role") == produced.get("role") and _text(sent.get("content")) == _text(
            produced.get("content")
        )
    if kind in ("function_call", "custom_tool_call"):
        return all(
            sent.get(k) == produced.get(k) for k in ("call_id", "name", "arguments", "input")
        )
    return "id" in sent


def new_items(record: Record, items: Sequence[Any]) -> list[Any] | None:
    """Return the items of ``items`` after ``record``'s turn, or None when it does not extend it."""
    sent, output = record.sent, record.output
    cut = len(sent) + len(output)
    if len(items) <= cut or tuple(items[: len(sent)]) != sent:
        return None
    for replayed, produced in zip(items[len(sent) : cut], output, strict=True):
        if not _replays(replayed, produced):
            return None
    return list(items[cut:])


class Turn:
    """One call's body and how it goes out on a socket (in full, or continued)."""

    __slots__ = ("body", "full_input", "resent")

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        items = body.get("input")
        # A body that names its own parent (or a conversation) is sent as it is.
        chained = body.get("previous_response_id") or body.get("conversation")
        self.full_input: tuple[Any, ...] | None = (
            tuple(items) if isinstance(items, list) and not chained else None
        )
        self.resent = False

    def continues(self, record: Record | None) -> list[Any] | None:
        """Return the new items when this turn continues ``record``, else None."""
        if record is None or self.full_input is None:
            return None
        return new_items(record, self.full_input)

    def frame(self, record: Record | None) -> tuple[dict[str, Any], bool]:
        """Return the ``response.create`` message for a socket holding ``record``.

        The flag says whether it continues the socket's cached response.
        """
        new = self.continues(record)
        frame = create_frame(self.body)
        if new is not None and record is not None:
            frame["input"] = new
            frame["previous_response_id"] = record.response_id
        return frame, new is not None

    def record(self, response: Mapping[str, Any]) -> Record | None:
        """Return the socket's record after this turn completed with ``response``."""
        output = response.get("output")
        response_id = response.get("id")
        if (
            self.full_input is None
            or response.get("status") != "completed"
            or not isinstance(response_id, str)
            or not isinstance(output, list)
        ):
            return None
        return Record(response_id, self.full_input, tuple(output))


def create_frame(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``body`` as a ``response.create`` message (no ``stream``, no ``background``)."""
    frame = {"type": "response.create"}
    frame.update((k, v) for k, v in body.items() if k not in _HTTP_ONLY)
    return frame
