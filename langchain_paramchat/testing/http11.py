"""The HTTP/1.1 wire for FakeOpenAI: read requests, write JSON, errors and chunked SSE."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.testing.rendering import Event

__all__ = [
    "MAX_HEADER_BYTES",
    "BadRequest",
    "Closed",
    "Request",
    "drain",
    "read_request",
    "send_error",
    "send_json",
    "send_raw",
    "send_stream",
    "wait_for_hangup",
]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
MAX_HEADER_BYTES = 64 * 1024


@dataclass
class Request:
    """Hold one parsed HTTP request: method, path without query, headers (lowercased), body."""

    method: str
    path: str
    version: str
    headers: dict[str, str]
    raw_body: bytes
    wire_bytes: int = 0

    @property
    def keep_alive(self) -> bool:
        """Return whether the client wants the connection kept open after the answer."""
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


class BadRequest(ValueError):
    """A request the server answers with ``status`` (400, or 431 for oversized headers)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Closed(Exception):
    """Signal that the connection was closed on purpose and must not be answered further."""


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; return None when the client closed the connection between requests.

    Raises ``BadRequest`` (a ``ValueError``) on a malformed request line or Content-Length
    or headers over ``MAX_HEADER_BYTES``, and
    ``asyncio.IncompleteReadError`` when the client hangs up mid-request.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(
            f"the request's headers are larger than {MAX_HEADER_BYTES // 1024} KiB", status=431
        ) from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        raise BadRequest(f"bad request line {lines[0][:200]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    try:
        length = int(headers.get("content-length", "0") or 0)
    except ValueError:
        raise BadRequest(f"bad Content-Length {headers['content-length'][:40]!r}") from None
    if length < 0:
        raise BadRequest(f"bad Content-Length {length}")
    body = await reader.readexactly(length) if length else b""
    return Request(
        method.upper(), target.partition("?")[0], version, headers, body, len(head) + len(body)
    )


def _head(status: int, headers: dict[str, str], keep: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    base = {
        "x-request-id": f"req_{secrets.token_hex(8)}",
        "openai-processing-ms": "1",
        "connection": "keep-alive" if keep else "close",
    }
    for name, value in {**base, **{k.lower(): v for k, v in headers.items()}}.items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send_raw(
    writer: asyncio.StreamWriter,
    status: int,
    data: bytes,
    content_type: str,
    *,
    keep: bool,
    headers: dict[str, str] | None = None,
    declared_length: int | None = None,
) -> None:
    """Send one complete response; ``declared_length`` can lie about the body (for faults)."""
    all_headers = {
        "content-type": content_type,
        "content-length": str(len(data) if declared_length is None else declared_length),
        **(headers or {}),
    }
    writer.write(_head(status, all_headers, keep) + data)
    await writer.drain()


async def send_json(writer: asyncio.StreamWriter, status: int, payload: Any, *, keep: bool) -> None:
    """Send ``payload`` as a JSON response with ``status``."""
    await send_raw(writer, status, json.dumps(payload).encode(), "application/json", keep=keep)


async def send_error(
    writer: asyncio.StreamWriter,
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    keep: bool,
) -> None:
    """Send an OpenAI-shaped error body (``{"error": {...}}``) with ``status``."""
    payload = {
        "error": {
            "message": message,
            "type": error_type or "invalid_request_error",
            "param": param,
            "code": code,
        }
    }
    data = json.dumps(payload).encode()
    await send_raw(writer, status, data, "application/json", keep=keep, headers=headers)


async def send_stream(
    writer: asyncio.StreamWriter,
    events: list[Event],
    *,
    keep: bool,
    delay: float = 0.0,
    finish: bool = True,
    headers: dict[str, str] | None = None,
) -> None:
    """Send SSE events with chunked transfer encoding; ``finish`` sends the closing chunk."""
    head = {"content-type": "text/event-stream; charset=utf-8", "transfer-encoding": "chunked"}
    head.update(headers or {})
    writer.write(_head(200, head, keep))
    await writer.drain()
    last = len(events) - 1
    for i, event in enumerate(events):
        if delay:
            await asyncio.sleep(delay)
        data = event.encode()
        piece = b"%x\r\n%b\r\n" % (len(data), data)
        if finish and i == last:
            # The body's end goes out with the terminal event, as OpenAI's servers send it,
            # so a client that stops at that event finds the end already there.
            piece += b"0\r\n\r\n"
        writer.write(piece)
        await writer.drain()
    if finish and not events:
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def wait_for_hangup(reader: asyncio.StreamReader, seconds: float) -> None:
    """Wait ``seconds``, or less if the client hangs up first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            data = await asyncio.wait_for(reader.read(65536), left)
        except TimeoutError:
            return
        if not data:
            return


async def drain(reader: asyncio.StreamReader, *, limit: int = 8 * 1024 * 1024) -> None:
    """Read and drop what the client still sends (up to ``limit`` bytes, briefly).

    Closing a socket with unread input makes the kernel reset the connection, and the
    client would see the reset instead of the answer just sent.
    """
    taken = 0
    while taken < limit:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), 0.2)
        except (TimeoutError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            return
        if not chunk:
            return
        taken += len(chunk)
