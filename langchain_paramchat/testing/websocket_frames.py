"""The RFC 6455 wire for FakeOpenAI: the upgrade answer and reading and writing frames.

Written by hand (no ``websockets`` needed on the server side): the server accepts no
extensions, so frames are never compressed; client frames are masked, server frames not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from dataclasses import dataclass

__all__ = [
    "CLOSE",
    "PING",
    "PONG",
    "TEXT",
    "Frame",
    "accept_key",
    "encode_frame",
    "read_message",
    "upgrade_answer",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_MAX_MESSAGE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Frame:
    """One whole message (fragments joined) or control frame, and its size on the wire."""

    opcode: int
    payload: bytes
    wire_bytes: int


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


def upgrade_answer(key: str) -> bytes:
    """Return the ``101 Switching Protocols`` answer to a WebSocket upgrade request."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode("ascii")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """Return one unmasked, final server frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if not n:
        return data
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


async def _read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, bytes, int]:
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    wire = 2
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
        wire += 2
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
        wire += 8
    if size > _MAX_MESSAGE:
        raise ValueError(f"frame of {size} bytes is too large")
    mask = await reader.readexactly(4) if second & 0x80 else b""
    data = await reader.readexactly(size)
    wire += len(mask) + size
    return bool(first & 0x80), first & 0x0F, _unmask(data, mask) if mask else data, wire


async def read_message(reader: asyncio.StreamReader) -> Frame:
    """Read one message (joining fragments) or one control frame.

    Raises ``asyncio.IncompleteReadError`` when the client hangs up.
    """
    fin, opcode, payload, wire = await _read_frame(reader)
    if opcode >= CLOSE or fin:
        return Frame(opcode, payload, wire)
    parts = [payload]
    while not fin:
        fin, more, piece, size = await _read_frame(reader)
        wire += size
        if more >= CLOSE:  # a control frame between fragments is answered as it comes
            continue
        parts.append(piece)
    return Frame(opcode, b"".join(parts), wire)
