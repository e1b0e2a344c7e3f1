"""Transport over loopback through the real openai SDK: JSON, SSE, retries, faults, secrecy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import langchain_core.exceptions as lc_exceptions
import openai
import pytest
from openai._utils import _transform

from langchain_paramchat import ParamChat
from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextOverflowError,
    DeadlineExceededError,
    OptionError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    StreamInterruptedError,
    StreamStalledError,
    StreamTimeoutError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply
from langchain_paramchat.testing.chat_render import chat_chunks
from langchain_paramchat.testing.responses_render import render_response
from langchain_paramchat.transport import ClientSettings, SSEDecoder, Transport, sse
from langchain_paramchat.transport.retry import RetryPolicy

API_KEY = "sk-transport-SECRET-7f3a9c"
CHAT = "chat/completions"
BODY: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
}
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}


def fast_policy(max_retries: int = 2, sleeps: list[float] | None = None) -> RetryPolicy:
    """Return a policy that retries without real waiting, recording the waits it chose."""
    record = sleeps if sleeps is not None else []

    async def async_sleep(seconds: float) -> None:
        record.append(seconds)

    return RetryPolicy(
        max_retries=max_retries, jitter=0.0, sleep=record.append, async_sleep=async_sleep
    )


def make_transport(base_url: str, **kwargs: Any) -> Transport:
    kwargs.setdefault("retry", fast_policy())
    return Transport(ClientSettings(api_key=API_KEY, base_url=base_url, **kwargs))


@pytest.fixture
def transport(fake_openai: FakeOpenAI) -> Iterator[Transport]:
    t = make_transport(fake_openai.base_url)
    yield t
    t.close()


def creates(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.method == "POST")


# --- happy paths -----------------------------------------------------------------------------


def test_post_json_returns_the_reply_object(fake_openai: FakeOpenAI, transport: Transport) -> None:
    fake_openai.add("Hello there")
    reply = transport.post_json(CHAT, BODY, extra_headers={"x-trace": "t-1"})
    assert reply["choices"][0]["message"]["content"] == "Hello there"
    (request,) = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == BODY
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["x-trace"] == "t-1"
    assert fake_openai.errors == []


async def test_apost_json_returns_the_reply_object(fake_openai: FakeOpenAI) -> None:
    fake_openai.add("async hello")
    transport = make_transport(fake_openai.base_url)
    reply = await transport.apost_json(CHAT, BODY)
    assert reply["choices"][0]["message"]["content"] == "async hello"
    await transport.aclose()


def test_post_skips_the_sdk_typed_transform(
    fake_openai: FakeOpenAI, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    original = _transform._transform_recursive

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(_transform, "_transform_recursive", counting)
    transport.post_json(CHAT, BODY)
    list(transport.stream_events(CHAT, STREAM_BODY))
    assert calls == []


def test_stream_yields_chat_chunks_and_sees_done(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fake_openai.add(Reply(text="Hello streaming world", chunk_size=5))
    events = transport.stream_events(CHAT, STREAM_BODY)
    received = list(events)
    assert events.done is True
    assert all(name is None for name, _ in received)
    text = "".join(
        d["choices"][0]["delta"].get("content") or "" for _, d in received if d["choices"]
    )
    assert text == "Hello streaming world"


async def test_astream_yields_responses_events_by_name(fake_openai: FakeOpenAI) -> None:
    fake_openai.add(Reply(text="Hi async"))
    transport = make_transport(fake_openai.base_url)
    events = transport.astream_events(
        "responses", {"model": "gpt-4o-mini", "input": "hi", "stream": True}
    )
    received = [item async for item in events]
    names = [name for name, _ in received]
    assert names[0] == "response.created"
    assert names[-1] == "response.completed"
    assert all(data["type"] == name for name, data in received)
    assert events.done is True  # response.completed is the terminal event
    await transport.aclose()


def test_async_client_survives_a_new_event_loop(fake_openai: FakeOpenAI) -> None:
    transport = make_transport(fake_openai.base_url)

    async def call() -> str:
        reply = await transport.apost_json(CHAT, BODY)
        return str(reply["choices"][0]["message"]["content"])

    assert asyncio.run(call()) == "Echo: hi"
    assert asyncio.run(call()) == "Echo: hi"  # a pool bound to the first, closed loop would fail


def test_get_json_polls_a_stored_response(fake_openai: FakeOpenAI, transport: Transport) -> None:
    fake_openai.add("stored")
    created = transport.post_json("responses", {"model": "gpt-4o-mini", "input": "hi"})
    fetched = transport.get_json(f"responses/{created['id']}")
    assert fetched["id"] == created["id"]
    with pytest.raises(APIError) as info:
        transport.get_json("responses/resp_missing")
    assert info.value.status_code == 404


# --- retries -----------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_after_the_requested_wait(
    fake_openai: FakeOpenAI,
) -> None:
    sleeps: list[float] = []
    transport = make_transport(fake_openai.base_url, retry=fast_policy(sleeps=sleeps))
    fake_openai.add(
        Fault.status(429, error_code="rate_limit_exceeded", headers={"retry-after": "1"}), "ok"
    )
    reply = transport.post_json(CHAT, BODY)
    assert reply["choices"][0]["message"]["content"] == "ok"
    assert creates(fake_openai) == 2
    assert sleeps == [1.0]


async def test_async_500_then_success(fake_openai: FakeOpenAI) -> None:
    sleeps: list[float] = []
    transport = make_transport(fake_openai.base_url, retry=fast_policy(sleeps=sleeps))
    fake_openai.add(Fault.status(500), "recovered")
    reply = await transport.apost_json(CHAT, BODY)
    assert reply["choices"][0]["message"]["content"] == "recovered"
    assert creates(fake_openai) == 2
    assert sleeps == [0.5]
    await transport.aclose()


def test_503_exhausts_retries_and_raises_the_last_status(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fake_openai.add(Fault.status(503, message="overloaded", times=5))
    with pytest.raises(ServerError) as info:
        transport.post_json(CHAT, BODY)
    assert creates(fake_openai) == 3
    err = info.value
    assert err.status_code == 503
    assert "overloaded" in str(err)
    assert err.request_id and err.request_id.startswith("req_")
    assert err.is_retryable is True
    assert isinstance(err, lc_exceptions.ModelAPIError)
    assert type(err.__cause__).__module__.startswith("openai")


@pytest.mark.parametrize(
    ("fault", "error_cls", "code"),
    [
        (Fault.status(400, message="bad temperature"), BadRequestError, None),
        (Fault.status(401, message="bad key"), AuthenticationError, None),
        (Fault.status(429, error_code="insufficient_quota"), RateLimitError, "insufficient_quota"),
    ],
    ids=["400", "401", "insufficient_quota"],
)
def test_non_retryable_statuses_are_sent_once(
    fake_openai: FakeOpenAI,
    transport: Transport,
    fault: Fault,
    error_cls: type[APIError],
    code: str | None,
) -> None:
    fake_openai.add(fault)
    with pytest.raises(error_cls) as info:
        transport.post_json(CHAT, BODY)
    assert creates(fake_openai) == 1
    assert info.value.code == code
    assert info.value.is_retryable is False  # type: ignore[attr-defined]


def test_context_length_exceeded_is_langchain_context_overflow(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fake_openai.add(
        Fault.status(
            400,
            message="This model's maximum context length is 8192 tokens.",
            error_code="context_length_exceeded",
        )
    )
    with pytest.raises(lc_exceptions.ContextOverflowError) as info:
        transport.post_json(CHAT, BODY)
    err = info.value
    assert isinstance(err, ContextOverflowError)
    assert isinstance(err, BadRequestError)
    assert err.code == "context_length_exceeded"
    assert err.error_type == "invalid_request_error"
    assert creates(fake_openai) == 1


def test_connection_reset_is_retried(fake_openai: FakeOpenAI, transport: Transport) -> None:
    fake_openai.add(Fault.reset(), "after reset")
    reply = transport.post_json(CHAT, BODY)
    assert reply["choices"][0]["message"]["content"] == "after reset"
    assert creates(fake_openai) == 2


def test_unreachable_server_raises_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = make_transport(f"http://127.0.0.1:{port}/v1", retry=fast_policy(max_retries=1))
    with pytest.raises(APIConnectionError) as info:
        transport.post_json(CHAT, BODY)
    assert isinstance(info.value, lc_exceptions.ModelConnectionError)
    assert f"127.0.0.1:{port}" in str(info.value)


def test_stream_is_retried_before_its_first_event(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fake_openai.add(Fault.status(502), Fault.drop_mid_stream(after_events=0), "third time")
    events = transport.stream_events(CHAT, STREAM_BODY)
    received = list(events)
    assert events.done
    assert received
    assert creates(fake_openai) == 3


# --- faults mid-stream ------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_drop_before_commit_is_resent_and_counted_in_restarts(
    fake_openai: FakeOpenAI, use_async: bool
) -> None:
    transport = make_transport(fake_openai.base_url)
    fake_openai.add(Fault.drop_mid_stream(after_events=1, reply=Reply(text="lost")), "kept")
    if use_async:
        events: Any = transport.astream_events(CHAT, STREAM_BODY)
        seen = [(events.restarts, data) async for _, data in events]
    else:
        events = transport.stream_events(CHAT, STREAM_BODY)
        seen = [(events.restarts, data) for _, data in events]
    assert seen[0][0] == 0 and seen[-1][0] == 1  # the caller can tell the attempts apart
    texts = [d["choices"][0]["delta"].get("content") for r, d in seen if r == 1 and d["choices"]]
    assert "".join(t for t in texts if t) == "kept"
    assert creates(fake_openai) == 2


def test_drop_after_first_event_interrupts_without_retry(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fake_openai.add(Fault.drop_mid_stream(after_events=1, reply=Reply(text="a long answer")))
    received = []
    with pytest.raises(StreamInterruptedError) as info:
        events = transport.stream_events(CHAT, STREAM_BODY)
        for event in events:
            events.commit()  # the caller handed content on: never resend
            received.append(event)
    assert len(received) == 1
    assert creates(fake_openai) == 1
    assert "after 1 event" in str(info.value)
    assert info.value.request_id


async def test_async_drop_after_first_event_interrupts_without_retry(
    fake_openai: FakeOpenAI,
) -> None:
    transport = make_transport(fake_openai.base_url)
    fake_openai.add(Fault.drop_mid_stream(after_events=2, reply=Reply(text="a long answer")))
    received = []
    with pytest.raises(StreamInterruptedError):
        events = transport.astream_events(CHAT, STREAM_BODY)
        async for event in events:
            events.commit()
            received.append(event)
    assert len(received) == 2
    assert creates(fake_openai) == 1
    await transport.aclose()


def test_error_event_after_output_interrupts_with_its_code(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fault = Fault.stream_error("server_error", "The model crashed.", after_events=1)
    fake_openai.add(Reply(text="partial answer", fault=fault))
    with pytest.raises(StreamInterruptedError) as info:
        list(transport.stream_events(CHAT, STREAM_BODY))
    assert info.value.code == "server_error"
    assert "The model crashed." in str(info.value)
    assert creates(fake_openai) == 1


def test_responses_error_event_before_output_raises_api_error(
    fake_openai: FakeOpenAI, transport: Transport
) -> None:
    fault = Fault.stream_error("server_error", "boom", event="error")
    fake_openai.add(Reply(text="never", fault=fault))
    body = {"model": "gpt-4o-mini", "input": "hi", "stream": True}
    with pytest.raises(APIError) as info:
        list(transport.stream_events("responses", body))
    assert not isinstance(info.value, StreamInterruptedError)
    assert creates(fake_openai) == 1


def test_silence_before_the_first_event_is_a_stream_timeout(fake_openai: FakeOpenAI) -> None:
    transport = make_transport(
        fake_openai.base_url, stream_idle_timeout=0.3, retry=fast_policy(max_retries=0)
    )
    fake_openai.add(Fault.stall(5))
    with pytest.raises(StreamTimeoutError) as info:
        list(transport.stream_events(CHAT, STREAM_BODY))
    assert "stream_idle_timeout=0.3" in str(info.value)
    assert not isinstance(info.value, StreamInterruptedError)


async def test_async_silence_before_the_first_event_is_retried_then_raised(
    fake_openai: FakeOpenAI,
) -> None:
    transport = make_transport(
        fake_openai.base_url, stream_idle_timeout=0.3, retry=fast_policy(max_retries=1)
    )
    fake_openai.add(Fault.stall(5), Fault.stall(5))
    with pytest.raises(StreamTimeoutError, match=r"stream_idle_timeout=0\.3"):
        async for _ in transport.astream_events(CHAT, STREAM_BODY):
            pass
    assert creates(fake_openai) == 2
    await transport.aclose()


# --- a raw SSE server for byte-exact streams ----------------------------------------------------


class RawSSE:
    """Serve one scripted SSE reply per connection: bytes are sent as chunks, floats pause."""

    def __init__(self, *script: bytes | float, content_type: str = "text/event-stream") -> None:
        self.script = script
        self.content_type = content_type
        self.requests = 0
        self.client_gone = threading.Event()
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def close(self) -> None:
        self._stop.set()
        # Wake the blocked accept() by connecting once; closing alone does not.
        with contextlib.suppress(OSError), socket.create_connection(self._sock.getsockname(), 1):
            pass
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                piece = conn.recv(65536)
                if not piece:  # the wake-up connection from close(), or a client that left
                    return
                data += piece
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            while len(body) < length:
                piece = conn.recv(65536)
                if not piece:
                    return
                body += piece
            self.requests += 1
            try:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: "
                    + self.content_type.encode()
                    + b"\r\ntransfer-encoding: chunked\r\nx-request-id: req_raw\r\n"
                    b"connection: close\r\n\r\n"
                )
                for item in self.script:
                    if isinstance(item, float):
                        if self._stop.wait(item):
                            return
                    else:
                        conn.sendall(b"%x\r\n%b\r\n" % (len(item), item))
                conn.sendall(b"0\r\n\r\n")
            except OSError:
                self.client_gone.set()


@pytest.fixture
def raw_sse() -> Iterator[list[RawSSE]]:
    servers: list[RawSSE] = []
    yield servers
    for server in servers:
        server.close()


def test_sse_wire_format_comments_multiline_crlf_and_split_chunks(
    raw_sse: list[RawSSE],
) -> None:
    server = RawSSE(
        b": keep-alive comment\n\n",
        b'event: first\r\ndata: {"a":\r\ndata: 1}\r\n\r\n',
        b"id: 7\nretry: 100\nda",
        b'ta: {"text": "line\\u2028 sep \xe2\x80\xa8 raw"}\n',
        b"\n",
        b'data:{"no_space":true}\r',
        b"\n\r\n",
        b"event: ignored-without-data\n\n",
        b"data: [DONE]\n\n",
        b'data: {"after": "done"}\n\n',
    )
    raw_sse.append(server)
    events = make_transport(server.base_url).stream_events(CHAT, STREAM_BODY)
    received = list(events)
    assert received == [
        ("first", {"a": 1}),
        (None, {"text": "line\u2028 sep \u2028 raw"}),
        (None, {"no_space": True}),
    ]
    assert events.done is True


def test_stream_ending_without_done_returns_normally(raw_sse: list[RawSSE]) -> None:
    server = RawSSE(b'data: {"n": 1}\n\n', b'data: {"n": 2}\n\n')
    raw_sse.append(server)
    events = make_transport(server.base_url).stream_events(CHAT, STREAM_BODY)
    assert [d["n"] for _, d in events] == [1, 2]
    assert events.done is False


def test_silence_after_output_is_a_stall_carrying_the_interruption(
    raw_sse: list[RawSSE],
) -> None:
    server = RawSSE(b'data: {"n": 1}\n\n', 3.0, b'data: {"n": 2}\n\n')
    raw_sse.append(server)
    transport = make_transport(server.base_url, stream_idle_timeout=0.3)
    received = []
    with pytest.raises(StreamStalledError) as info:
        events = transport.stream_events(CHAT, STREAM_BODY)
        for event in events:
            events.commit()
            received.append(event)
    assert received == [(None, {"n": 1})]
    assert isinstance(info.value, StreamInterruptedError)
    assert isinstance(info.value, StreamTimeoutError)
    assert "stream_idle_timeout=0.3" in str(info.value)
    assert server.requests == 1


def test_keep_alive_comments_do_not_hide_a_stall(raw_sse: list[RawSSE]) -> None:
    pings: list[bytes | float] = []
    for _ in range(8):
        pings += [0.1, b": ping\n\n"]
    server = RawSSE(b'data: {"n": 1}\n\n', *pings, b'data: {"n": 2}\n\n')
    raw_sse.append(server)
    transport = make_transport(server.base_url, stream_idle_timeout=0.4)
    with pytest.raises(StreamStalledError):
        committed(transport.stream_events(CHAT, STREAM_BODY))


async def test_async_silence_after_output_is_a_stall(raw_sse: list[RawSSE]) -> None:
    server = RawSSE(b'data: {"n": 1}\n\n', 3.0, b'data: {"n": 2}\n\n')
    raw_sse.append(server)
    transport = make_transport(server.base_url, stream_idle_timeout=0.3)
    received = []
    with pytest.raises(StreamStalledError):
        events = transport.astream_events(CHAT, STREAM_BODY)
        async for event in events:
            events.commit()
            received.append(event)
    assert len(received) == 1
    await transport.aclose()


def test_closing_a_stream_early_releases_the_connection(raw_sse: list[RawSSE]) -> None:
    script: list[bytes | float] = []
    for n in range(50):
        script += [b'data: {"n": %d}\n\n' % n, 0.02]
    server = RawSSE(*script)
    raw_sse.append(server)
    events = make_transport(server.base_url).stream_events(CHAT, STREAM_BODY)
    assert next(events) == (None, {"n": 0})
    events.close()
    assert server.client_gone.wait(5)


async def test_async_closing_a_stream_early_releases_the_connection(
    raw_sse: list[RawSSE],
) -> None:
    script: list[bytes | float] = []
    for n in range(50):
        script += [b'data: {"n": %d}\n\n' % n, 0.02]
    server = RawSSE(*script)
    raw_sse.append(server)
    transport = make_transport(server.base_url)
    async with transport.astream_events(CHAT, STREAM_BODY) as events:
        assert await anext(events) == (None, {"n": 0})
    assert await asyncio.to_thread(server.client_gone.wait, 5)
    await transport.aclose()


def test_malformed_stream_data_is_a_format_error(raw_sse: list[RawSSE]) -> None:
    server = RawSSE(b'data: {"n": 1}\n\n', b"data: {oops\n\n")
    raw_sse.append(server)
    with pytest.raises(ResponseFormatError, match="oops"):
        list(make_transport(server.base_url).stream_events(CHAT, STREAM_BODY))


def test_stream_reply_that_is_not_sse_is_a_format_error(raw_sse: list[RawSSE]) -> None:
    server = RawSSE(b'{"hello": "json"}', content_type="application/json")
    raw_sse.append(server)
    with pytest.raises(ResponseFormatError, match="not an event stream") as info:
        list(make_transport(server.base_url).stream_events(CHAT, STREAM_BODY))
    assert "application/json" in str(info.value)
    assert "hello" in str(info.value)


# --- malformed replies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        ("{not json", "application/json", "is not valid JSON"),
        ("[1, 2]", "application/json", "not an object"),
        ("<html>gateway</html>", "text/html", "is not valid JSON"),
    ],
)
def test_malformed_json_is_a_format_error(
    fake_openai: FakeOpenAI, transport: Transport, body: str, content_type: str, problem: str
) -> None:
    fake_openai.add(Fault.malformed(body, content_type=content_type))
    with pytest.raises(ResponseFormatError) as info:
        transport.post_json(CHAT, BODY)
    message = str(info.value)
    assert problem in message
    assert "status 200" in message
    assert content_type in message
    assert body[:20] in message
    assert creates(fake_openai) == 1


# --- secrecy ----------------------------------------------------------------------------------


def committed(events: Any) -> list[Any]:
    """Read a stream as a caller that hands every event on (so a break is never resent)."""
    received = []
    for event in events:
        events.commit()
        received.append(event)
    return received


def test_api_key_never_reaches_logs_errors_or_reprs(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = make_transport(fake_openai.base_url, default_headers={"x-tenant": "t1"})
    fake_openai.add(
        Fault.status(429, headers={"retry-after-ms": "1"}),
        "ok",
        Fault.status(401, message=f"Incorrect API key provided: {API_KEY}."),
        Fault.status(503, times=3),
        Fault.drop_mid_stream(after_events=1),
        Fault.malformed(f"echo {API_KEY}"),
    )
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        transport.post_json(CHAT, BODY)
        for call in (
            lambda: transport.post_json(CHAT, BODY),
            lambda: transport.post_json(CHAT, BODY),
            lambda: committed(transport.stream_events(CHAT, STREAM_BODY)),
            lambda: transport.post_json(CHAT, BODY),
        ):
            with pytest.raises(APIError if len(errors) < 3 else ResponseFormatError) as info:
                call()
            errors.append(info.value)
    assert isinstance(errors[0], AuthenticationError)
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.args)
    for err in errors:
        rendered = "".join(traceback.format_exception(err))
        assert API_KEY not in rendered
        assert API_KEY not in repr(err)
    assert API_KEY not in repr(transport.settings)
    assert API_KEY not in str(transport.settings)
    assert API_KEY not in repr(transport)


def test_settings_reject_unbounded_or_bad_timeouts() -> None:
    with pytest.raises(OptionError, match="timeout"):
        ClientSettings(timeout=float("inf"))
    with pytest.raises(OptionError, match="stream_idle_timeout"):
        ClientSettings(stream_idle_timeout=0)
    with pytest.raises(OptionError, match="retry"):
        ClientSettings(retry=3)  # type: ignore[arg-type]


def test_float_timeout_caps_connect_and_request_timeouts_name_it(
    fake_openai: FakeOpenAI,
) -> None:
    transport = make_transport(fake_openai.base_url, timeout=0.3, retry=fast_policy(0))
    fake_openai.add(Fault.stall(5))
    with pytest.raises(APITimeoutError, match=r"0\.3 s per read, 0\.3 s to connect"):
        transport.post_json(CHAT, BODY)
    assert ClientSettings().timeout == hx.Timeout(600.0, connect=10.0)


def test_missing_api_key_fails_before_sending(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    transport = Transport(ClientSettings(base_url=fake_openai.base_url))
    with pytest.raises(OptionError, match="api_key"):
        transport.post_json(CHAT, BODY)
    assert fake_openai.requests == []


# --- the SSE decoder alone ----------------------------------------------------------------------


# --- streams end at their terminal event (issue 10 points 4 and 7) -------------------------------

ANSWER = "The answer, streamed."
TAILS: dict[str, tuple[bytes | float, ...]] = {
    # What the server does after the terminal event, instead of ending the body.
    "stays-open-silent": (100.0,),
    "keeps-sending-comments": (b": keep-alive\n\n", 0.05) * 3000,
    "ends-the-body": (),
}
ENDINGS = {"LF": b"\n", "CR": b"\r", "CRLF": b"\r\n"}


def terminal_stream(api: str, ending: bytes = b"\n") -> list[bytes]:
    """Return a complete stream of ``api`` for ANSWER, with the given line ending."""
    reply = Reply(text=ANSWER, chunk_size=6)
    if api == "chat_completions":
        events = chat_chunks(reply, {"model": "gpt-4o-mini", "messages": []})
    else:
        events = render_response(reply, {"model": "gpt-4o-mini", "input": "hi"}).events
    return [event.encode().replace(b"\n", ending) for event in events]


async def stream_text(model: ParamChat, mode: str) -> str:
    if mode == "stream":
        return "".join(chunk.text for chunk in model.stream("hi"))
    if mode == "astream":
        return "".join([chunk.text async for chunk in model.astream("hi")])
    if mode == "invoke":
        return model.invoke("hi").text
    return (await model.ainvoke("hi")).text


@pytest.mark.parametrize("mode", ["stream", "astream", "invoke", "ainvoke"])
@pytest.mark.parametrize("tail", list(TAILS))
@pytest.mark.parametrize("api", ["chat_completions", "responses"])
async def test_a_complete_stream_returns_at_its_terminal_event(
    raw_sse: list[RawSSE], api: str, tail: str, mode: str
) -> None:
    server = RawSSE(*terminal_stream(api), *TAILS[tail])
    raw_sse.append(server)
    # The idle timeout is far beyond the test's: waiting for the server would fail the test.
    model = ParamChat(
        base_url=server.base_url,
        api_key=API_KEY,
        api=api,
        streaming=True,
        stream_idle_timeout=90,
        max_retries=0,
    )
    assert await stream_text(model, mode) == ANSWER
    assert server.requests == 1


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("api", ["chat_completions", "responses"])
async def test_every_sse_line_ending_carries_a_complete_stream(
    raw_sse: list[RawSSE], api: str, ending: str, mode: str
) -> None:
    server = RawSSE(*terminal_stream(api, ENDINGS[ending]), 100.0)
    raw_sse.append(server)
    model = ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, max_retries=0)
    assert await stream_text(model, mode) == ANSWER


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_line_without_an_ending_is_capped_with_a_clear_error(
    raw_sse: list[RawSSE], monkeypatch: pytest.MonkeyPatch, use_async: bool
) -> None:
    monkeypatch.setattr(sse, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(SSEDecoder.__init__, "__defaults__", (4096,))
    server = RawSSE(b'data: {"n": 1}\n\n', *([b"x" * 1024] * 64))
    raw_sse.append(server)
    transport = make_transport(server.base_url)
    received = []
    with pytest.raises(ResponseFormatError, match="longer than 4096 bytes without a line ending"):
        if use_async:
            async for event in transport.astream_events(CHAT, STREAM_BODY):
                received.append(event)
        else:
            for event in transport.stream_events(CHAT, STREAM_BODY):
                received.append(event)
    assert received == [(None, {"n": 1})]


@pytest.mark.parametrize("path", [CHAT, "responses"])
async def test_a_stream_whose_body_ends_after_its_terminal_event_reuses_the_connection(
    fake_openai: FakeOpenAI, path: str
) -> None:
    transport = make_transport(fake_openai.base_url)
    body = STREAM_BODY if path == CHAT else {"model": "gpt-4o-mini", "input": "hi", "stream": True}
    for _ in range(5):
        list(transport.stream_events(path, body))
        assert len([event async for event in transport.astream_events(path, body)]) > 1
    assert fake_openai.max_open_connections <= 2  # one sync and one async connection
    assert len([r for r in fake_openai.requests if r.method == "POST"]) == 10
    await transport.aclose()


# --- total_timeout bounds a reply that trickles (issue 10 point 9) ------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_total_timeout_bounds_a_json_reply_trickling_one_byte_at_a_time(
    raw_sse: list[RawSSE], use_async: bool
) -> None:
    body = b'{"id": "chatcmpl-1", "object": "chat.completion", "choices": []}'
    trickle: list[bytes | float] = []
    for i in range(len(body)):
        trickle += [body[i : i + 1], 0.25]  # about 16 s in all; each read well under timeout
    server = RawSSE(*trickle, content_type="application/json")
    raw_sse.append(server)
    # 3 s, far below the 16 s trickle: with 0.5 s a busy machine used up the budget before
    # the request reached the server (and the test saw no request at all).
    transport = make_transport(server.base_url, total_timeout=3.0, timeout=30)
    with pytest.raises(DeadlineExceededError, match=r"total_timeout=3\.0 s") as info:
        if use_async:
            await transport.apost_json(CHAT, BODY)
        else:
            transport.post_json(CHAT, BODY)
    assert isinstance(info.value, openai.APITimeoutError)
    assert server.requests == 1  # the time is used up: never retried


def test_total_timeout_must_be_a_finite_positive_number() -> None:
    for bad in (0, -1, float("inf"), float("nan"), "5", True):
        with pytest.raises(OptionError, match="total_timeout"):
            ClientSettings(total_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="total_timeout"):
        ParamChat(api_key=API_KEY, total_timeout=-1)
