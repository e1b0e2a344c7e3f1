"""A fast OpenAI-compatible server for benchmarks: precomputed replies, one process, loopback.

Every reply body (Chat Completions and Responses, JSON and SSE) is built once at start-up,
so a request costs the server a header scan and one ``write``. The server serves
HTTP/1.1 keep-alive on 127.0.0.1 only and exits by itself after ``--deadline`` seconds, or
as soon as the process that started it goes away.

Run: ``python -m benchmarks.server --chunks 2000 --deadline 600``; it prints
``PORT <n>`` on its first stdout line once it is listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
from typing import Any

__all__ = ["MODEL", "REPLY_TEXT", "build_replies", "main", "stream_pieces"]

MODEL = "gpt-4o-mini"
REPLY_TEXT = "Hello! How can I help you today?"
_CREATED = 1_700_000_000
_STREAM_FLAG = re.compile(rb'"stream"\s*:\s*true')
_MAX_HEAD = 64 * 1024


def stream_pieces(chunks: int) -> list[str]:
    """Return the text deltas of a streamed reply with ``chunks`` content chunks."""
    return [f"tok{i % 100} " for i in range(chunks)]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _http(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\n"
        f"content-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n"
        "x-request-id: req_bench\r\n"
        "\r\n"
    )
    return head.encode() + body


def _sse(events: list[tuple[str | None, Any]], *, done: bool) -> bytes:
    lines = []
    for name, data in events:
        prefix = f"event: {name}\n" if name else ""
        lines.append(f"{prefix}data: {_dumps(data)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def _chat_usage(completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": 12,
        "completion_tokens": completion_tokens,
        "total_tokens": 12 + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_json() -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": _CREATED,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": REPLY_TEXT,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _chat_usage(9),
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    }
    return _dumps(body).encode()


def _chat_sse(chunks: int) -> bytes:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": MODEL,
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }

    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant", "content": "", "refusal": None}))
    ]
    events += [(None, chunk({"content": piece})) for piece in stream_pieces(chunks)]
    events.append((None, chunk({}, "stop")))
    tail = chunk({})
    tail["choices"] = []
    tail["usage"] = _chat_usage(chunks)
    events.append((None, tail))
    return _sse(events, done=True)


def _response_object(status: str, text: str | None, output_tokens: int) -> dict[str, Any]:
    output = []
    if text is not None:
        output.append(_message_item("completed", text))
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": _CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None
        if text is None
        else {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12 + output_tokens,
        },
        "user": None,
        "metadata": {},
    }


def _message_item(status: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [_text_part(text)]
    return {
        "type": "message",
        "id": "msg_bench",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _responses_json() -> bytes:
    return _dumps(_response_object("completed", REPLY_TEXT, 9)).encode()


def _responses_sse(chunks: int) -> bytes:
    pieces = stream_pieces(chunks)
    text = "".join(pieces)
    seq = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return kind, {"type": kind, "sequence_number": next(seq), **fields}

    where = {"item_id": "msg_bench", "output_index": 0, "content_index": 0}
    events = [
        event("response.created", response=_response_object("in_progress", None, 0)),
        event("response.in_progress", response=_response_object("in_progress", None, 0)),
        event(
            "response.output_item.added", output_index=0, item=_message_item("in_progress", None)
        ),
        event("response.content_part.added", **where, part=_text_part("")),
    ]
    events += [
        event("response.output_text.delta", **where, delta=piece, logprobs=[]) for piece in pieces
    ]
    events += [
        event("response.output_text.done", **where, text=text, logprobs=[]),
        event("response.content_part.done", **where, part=_text_part(text)),
        event("response.output_item.done", output_index=0, item=_message_item("completed", text)),
        event("response.completed", response=_response_object("completed", text, chunks)),
    ]
    return _sse(list(events), done=False)


def build_replies(chunks: int) -> dict[tuple[str, bool], bytes]:
    """Return every full HTTP reply, keyed by (path, streamed)."""
    chat = {
        False: _http("200 OK", "application/json", _chat_json()),
        True: _http("200 OK", "text/event-stream; charset=utf-8", _chat_sse(chunks)),
    }
    responses = {
        False: _http("200 OK", "application/json", _responses_json()),
        True: _http("200 OK", "text/event-stream; charset=utf-8", _responses_sse(chunks)),
    }
    replies: dict[tuple[str, bool], bytes] = {}
    for prefix in ("", "/v1"):
        for streamed in (False, True):
            replies[(f"{prefix}/chat/completions", streamed)] = chat[streamed]
            replies[(f"{prefix}/responses", streamed)] = responses[streamed]
    return replies


_NOT_FOUND = _http(
    "404 Not Found",
    "application/json",
    b'{"error":{"message":"unknown path","type":"invalid_request_error","code":null}}',
)
_BAD_REQUEST = _http(
    "400 Bad Request",
    "application/json",
    b'{"error":{"message":"malformed request","type":"invalid_request_error","code":null}}',
)


class _Connection(asyncio.Protocol):
    """Read pipelined HTTP/1.1 requests from one connection and answer each from the table."""

    def __init__(self, replies: dict[tuple[str, bool], bytes]) -> None:
        self._replies = replies
        self._buffer = bytearray()
        self._path = ""
        self._need = -1
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while True:
            if self._need < 0:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > _MAX_HEAD:
                        self._fail()
                    return
                head = bytes(self._buffer[:end]).lower()
                del self._buffer[: end + 4]
                parsed = _parse_head(head)
                if parsed is None:
                    self._fail()
                    return
                self._path, self._need = parsed
            if len(self._buffer) < self._need:
                return
            body = bytes(self._buffer[: self._need])
            del self._buffer[: self._need]
            self._need = -1
            streamed = _STREAM_FLAG.search(body) is not None
            self._transport.write(self._replies.get((self._path, streamed), _NOT_FOUND))

    def _fail(self) -> None:
        assert self._transport is not None
        self._transport.write(_BAD_REQUEST)
        self._transport.close()


def _parse_head(head: bytes) -> tuple[str, int] | None:
    """Return (path without query, content length) from a lower-cased request head."""
    request_line, _, headers = head.partition(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3:
        return None
    path = parts[1].split(b"?", 1)[0].decode("ascii", "replace")
    length = 0
    at = headers.find(b"content-length:")
    if at >= 0:
        end = headers.find(b"\r\n", at)
        value = headers[at + 15 : end if end >= 0 else len(headers)]
        try:
            length = int(value.strip())
        except ValueError:
            return None
    return path, length


async def _serve(chunks: int, deadline: float, port: int) -> None:
    loop = asyncio.get_running_loop()
    replies = build_replies(chunks)
    server = await loop.create_server(
        lambda: _Connection(replies), "127.0.0.1", port, backlog=1024, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {bound}\n")
    sys.stdout.flush()
    parent = os.getppid()
    stop_at = loop.time() + deadline
    async with server:
        while loop.time() < stop_at and os.getppid() == parent:
            await asyncio.sleep(min(0.5, max(0.0, stop_at - loop.time())))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until the deadline or the parent's exit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="content chunks per stream")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds before exiting")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    if args.chunks < 1 or args.deadline <= 0:
        parser.error("--chunks must be >= 1 and --deadline > 0")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.chunks, args.deadline, args.port))


if __name__ == "__main__":
    main()
