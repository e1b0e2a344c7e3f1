"""Malformed replies give package errors that say what was wrong (issue 10 point 5).

A table of replies a broken server or proxy could send, each served as is over loopback,
through ParamChat on both APIs: JSON replies with invoke and ainvoke, streams with stream and
astream. Each must either parse correctly or raise a ``ParamChatError`` (never a raw
``AttributeError``, ``TypeError``, pydantic ``ValidationError``, ``RecursionError`` or
``httpx2.DecodingError``); string counts in ``usage`` must not be taken as text; a Chat
Completions stream with several choices must not mix them.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import ParamChatError

API_KEY = "sk-malformed-replies-key-0123456789"


class OneReply:
    """Answer every POST with one fixed status 200 reply: body bytes and headers as given."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        owner = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.requests += 1
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


CHAT_REPLY: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hi"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
RESPONSES_REPLY: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "status": "completed",
    "model": "gpt-4o-mini",
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "hi", "annotations": []}],
        }
    ],
    "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
}
DEEP = b"[" * 100_000 + b"]" * 100_000


def changed(base: dict[str, Any], path: str, value: Any) -> bytes:
    """Return ``base`` as JSON with the value at dotted ``path`` replaced."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(data).encode()


JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
GZIP_JSON = {**JSON, "content-encoding": "gzip"}
GZIP_SSE = {**SSE, "content-encoding": "gzip"}

# (api, headers, body): invoked when JSON, streamed when SSE.
JSON_CASES: dict[str, tuple[str, dict[str, str], bytes]] = {
    "chat-choices-string": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", "x")),
    "chat-choices-number": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", 5)),
    "chat-choices-null": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", None)),
    "chat-choices-object": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", {})),
    "chat-choice-string": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", ["x"])),
    "chat-choice-null": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", [None])),
    "chat-choice-number": ("chat_completions", JSON, changed(CHAT_REPLY, "choices", [5])),
    "chat-message-string": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "choices.0.message", "x"),
    ),
    "chat-message-null": ("chat_completions", JSON, changed(CHAT_REPLY, "choices.0.message", None)),
    "chat-content-number": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "choices.0.message.content", 5),
    ),
    "chat-tool-calls-string": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "choices.0.message.tool_calls", "x"),
    ),
    "chat-tool-call-string": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "choices.0.message.tool_calls", ["x"]),
    ),
    "chat-tool-call-function-string": (
        "chat_completions",
        JSON,
        changed(
            CHAT_REPLY,
            "choices.0.message.tool_calls",
            [{"id": "t1", "type": "function", "function": "x"}],
        ),
    ),
    "chat-tool-call-arguments-number": (
        "chat_completions",
        JSON,
        changed(
            CHAT_REPLY,
            "choices.0.message.tool_calls",
            [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": 5}}],
        ),
    ),
    "chat-finish-reason-number": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "choices.0.finish_reason", 5),
    ),
    "chat-usage-string": ("chat_completions", JSON, changed(CHAT_REPLY, "usage", "x")),
    "chat-usage-number": ("chat_completions", JSON, changed(CHAT_REPLY, "usage", 5)),
    "chat-usage-list": ("chat_completions", JSON, changed(CHAT_REPLY, "usage", [1])),
    "chat-usage-string-count": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "usage.prompt_tokens", "5"),
    ),
    "chat-usage-null-count": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "usage.completion_tokens", None),
    ),
    "chat-usage-details-string": (
        "chat_completions",
        JSON,
        changed(CHAT_REPLY, "usage.prompt_tokens_details", "x"),
    ),
    "chat-body-array": ("chat_completions", JSON, b"[]"),
    "chat-body-string": ("chat_completions", JSON, b'"hello"'),
    "chat-body-deeply-nested": ("chat_completions", JSON, DEEP),
    "chat-body-labelled-gzip": ("chat_completions", GZIP_JSON, json.dumps(CHAT_REPLY).encode()),
    "resp-output-string": ("responses", JSON, changed(RESPONSES_REPLY, "output", "x")),
    "resp-output-number": ("responses", JSON, changed(RESPONSES_REPLY, "output", 5)),
    "resp-output-null": ("responses", JSON, changed(RESPONSES_REPLY, "output", None)),
    "resp-output-object": ("responses", JSON, changed(RESPONSES_REPLY, "output", {})),
    "resp-item-string": ("responses", JSON, changed(RESPONSES_REPLY, "output", ["x"])),
    "resp-item-null": ("responses", JSON, changed(RESPONSES_REPLY, "output", [None])),
    "resp-item-type-number": ("responses", JSON, changed(RESPONSES_REPLY, "output.0.type", 5)),
    "resp-content-string": ("responses", JSON, changed(RESPONSES_REPLY, "output.0.content", "x")),
    "resp-content-null": ("responses", JSON, changed(RESPONSES_REPLY, "output.0.content", None)),
    "resp-content-item-string": (
        "responses",
        JSON,
        changed(RESPONSES_REPLY, "output.0.content", ["x"]),
    ),
    "resp-text-number": (
        "responses",
        JSON,
        changed(RESPONSES_REPLY, "output.0.content.0.text", 5),
    ),
    "resp-function-call-arguments-number": (
        "responses",
        JSON,
        changed(
            RESPONSES_REPLY,
            "output",
            [{"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": 5}],
        ),
    ),
    "resp-status-number": ("responses", JSON, changed(RESPONSES_REPLY, "status", 5)),
    "resp-usage-string": ("responses", JSON, changed(RESPONSES_REPLY, "usage", "x")),
    "resp-usage-string-count": (
        "responses",
        JSON,
        changed(RESPONSES_REPLY, "usage.input_tokens", "5"),
    ),
    "resp-usage-details-string": (
        "responses",
        JSON,
        changed(RESPONSES_REPLY, "usage.output_tokens_details", "x"),
    ),
    "resp-body-array": ("responses", JSON, b"[1, 2]"),
    "resp-body-deeply-nested": ("responses", JSON, DEEP),
    "resp-body-labelled-gzip": ("responses", GZIP_JSON, json.dumps(RESPONSES_REPLY).encode()),
}


def sse(*events: Any, done: bool = True) -> bytes:
    out = b""
    for event in events:
        if isinstance(event, tuple):
            name, data = event
            out += f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        else:
            out += b"data: " + (event if isinstance(event, bytes) else json.dumps(event).encode())
            out += b"\n\n"
    return out + (b"data: [DONE]\n\n" if done else b"")


def chunk(choices: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": choices,
        **extra,
    }


def delta(content: Any, index: int = 0) -> dict[str, Any]:
    return {"index": index, "delta": {"content": content}, "finish_reason": None}


def completed(response: Any) -> tuple[str, dict[str, Any]]:
    return ("response.completed", {"type": "response.completed", "response": response})


STREAM_CASES: dict[str, tuple[str, dict[str, str], bytes]] = {
    "chat-chunk-choices-string": ("chat_completions", SSE, sse(chunk("x"))),
    "chat-chunk-choice-null": ("chat_completions", SSE, sse(chunk([None]))),
    "chat-chunk-delta-string": (
        "chat_completions",
        SSE,
        sse(chunk([{"index": 0, "delta": "x", "finish_reason": None}])),
    ),
    "chat-chunk-content-number": ("chat_completions", SSE, sse(chunk([delta(5)]))),
    "chat-chunk-usage-string": (
        "chat_completions",
        SSE,
        sse(chunk([delta("hi")]), chunk([], usage="x")),
    ),
    "chat-chunk-usage-string-count": (
        "chat_completions",
        SSE,
        sse(
            chunk([delta("hi")]),
            chunk([], usage={"prompt_tokens": "5", "completion_tokens": 1, "total_tokens": 6}),
        ),
    ),
    "chat-chunk-deeply-nested": ("chat_completions", SSE, sse(DEEP)),
    "chat-chunk-array": ("chat_completions", SSE, sse(b"[1]")),
    "chat-stream-labelled-gzip": ("chat_completions", GZIP_SSE, sse(chunk([delta("hi")]))),
    "resp-delta-number": (
        "responses",
        SSE,
        sse(
            ("response.output_text.delta", {"type": "response.output_text.delta", "delta": 5}),
            completed(RESPONSES_REPLY),
            done=False,
        ),
    ),
    "resp-completed-response-string": ("responses", SSE, sse(completed("x"), done=False)),
    "resp-completed-output-string": (
        "responses",
        SSE,
        sse(completed({**RESPONSES_REPLY, "output": "x"}), done=False),
    ),
    "resp-completed-usage-string": (
        "responses",
        SSE,
        sse(completed({**RESPONSES_REPLY, "usage": "x"}), done=False),
    ),
    "resp-event-array": ("responses", SSE, sse(b"[1]", done=False)),
}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[OneReply] = []

    def start(body: bytes, headers: dict[str, str]) -> OneReply:
        server = OneReply(body, headers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


async def outcome(model: ParamChat, mode: str) -> Any:
    """Return the reply message, or the exception the call raised."""
    try:
        if mode == "invoke":
            return model.invoke("hi")
        if mode == "ainvoke":
            return await model.ainvoke("hi")
        chunks = (
            list(model.stream("hi")) if mode == "stream" else [c async for c in model.astream("hi")]
        )
        merged = chunks[0]
        for piece in chunks[1:]:
            merged += piece
        return merged
    except Exception as exc:
        return exc


def check(result: Any) -> None:
    if isinstance(result, BaseException):
        assert isinstance(result, ParamChatError), f"raw {type(result).__name__}: {result}"
        assert str(result), "the error says nothing"
        return
    usage = result.usage_metadata
    if usage is not None:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            assert isinstance(usage[key], int), f"usage {key} is {usage[key]!r}"
    assert isinstance(result.content, str | list)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("case", list(JSON_CASES))
async def test_a_malformed_json_reply_gives_a_package_error_or_a_correct_parse(
    serve: Any, case: str, mode: str
) -> None:
    api, headers, body = JSON_CASES[case]
    server = serve(body, headers)
    model = ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, max_retries=0)
    check(await outcome(model, mode))
    assert server.requests == 1  # a malformed reply is not retried


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("case", list(STREAM_CASES))
async def test_a_malformed_stream_gives_a_package_error_or_a_correct_parse(
    serve: Any, case: str, mode: str
) -> None:
    api, headers, body = STREAM_CASES[case]
    server = serve(body, headers)
    model = ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, max_retries=0)
    check(await outcome(model, mode))


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_choices_of_a_multi_choice_stream_never_mix(serve: Any, mode: str) -> None:
    pieces = ['{"', "city", '": "', "Paris", '"}']
    events = [chunk([delta(p, i) for i in range(3)]) for p in pieces]
    server = serve(sse(*events), SSE)
    model = ParamChat(base_url=server.base_url, api_key=API_KEY, api="chat_completions")
    result = await outcome(model, mode)
    if not isinstance(result, BaseException):
        assert result.text == '{"city": "Paris"}'  # choice 0 alone, not '{"{"{"citycitycity'
    else:
        check(result)


def test_the_table_has_at_least_51_cases() -> None:
    assert len(JSON_CASES) + len(STREAM_CASES) + 1 >= 51
