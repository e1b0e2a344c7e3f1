"""Decode server-sent events from raw bytes, per the WHATWG rules; no sockets involved."""

from __future__ import annotations

from langchain_paramchat.errors import ResponseFormatError

__all__ = ["MAX_LINE_BYTES", "TERMINAL_EVENTS", "SSEDecoder"]

MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest SSE line accepted (16 MiB: a Responses ``response.completed`` event carries the
whole reply, images included, on one line)."""

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
"""Responses events after which a stream has nothing more to say (Chat Completions ends with
``data: [DONE]``)."""


class SSEDecoder:
    """Turn raw SSE bytes into ``(event name, data bytes)`` events.

    Lines end at CRLF, LF or a bare CR (unlike ``str.splitlines``, so a U+2028 inside JSON
    text does not split an event); a CR ends its line at once, and an LF right after it (in
    the next chunk too) is part of the same line ending. Comments and ``id``/``retry`` fields
    are skipped; an event without data lines is not dispatched; a final event with no blank
    line after it is incomplete and never dispatched. A line longer than ``max_line`` bytes
    raises ``ResponseFormatError`` instead of being buffered without limit.
    """

    __slots__ = ("_data", "_event", "_max_line", "_pending", "_pending_size", "_skip_lf")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._event: str | None = None
        self._data: list[bytes] = []
        self._max_line = max_line
        self._skip_lf = False

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        """Add bytes; return the events they complete."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\n" not in chunk and b"\r" not in chunk:
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size > self._max_line:
                    self._overflow()
            return []
        if self._pending:
            self._pending.append(chunk)
            buffer = b"".join(self._pending)
        else:
            buffer = chunk
        if b"\r" in buffer:
            # A trailing CR ends its line now; an LF opening the next chunk belongs to it.
            self._skip_lf = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        rest = lines.pop()
        if len(rest) > self._max_line:
            self._overflow()
        self._pending = [rest] if rest else []
        self._pending_size = len(rest)
        return self._dispatch(lines)

    def _dispatch(self, lines: list[bytes]) -> list[tuple[str | None, bytes]]:
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

    def _overflow(self) -> None:
        self._pending = []
        self._pending_size = 0
        raise ResponseFormatError(
            f"The event stream sent a line longer than {self._max_line} bytes without a line "
            "ending; it is not a valid event stream"
        )
