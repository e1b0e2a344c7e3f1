"""Faults as a ParamChat user meets them: what the call returns or raises, how many requests
the server saw, and that no output is duplicated or silently lost.

Every fault runs through ParamChat (not the transport) on both APIs, sync and async, invoke
and stream, against ``FakeOpenAI``; a small raw SSE server covers byte-level stream faults.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import langchain_core.exceptions as lc_exceptions
import openai
import pytest
import tenacity
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.runnables import Runnable

from langchain_paramchat import ParamChat
from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequestError,
    ContextOverflowError,
    DeadlineExceededError,
    IncompatibleOptionsError,
    OptionError,
    ParamChatError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    StreamInterruptedError,
    StreamStalledError,
    StreamTimeoutError,
    ToolSchemaError,
    UnknownOptionError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply
from langchain_paramchat.transport.retry import RetryPolicy, is_retryable

Factory = Callable[..., ParamChat]

API_KEY = "sk-faults-SECRET-5e1b77"
PROMPT = "fault-test prompt 7731"
ANSWER = "The quick brown fox jumps over the lazy dog."
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]
STREAM_MODES = ["stream", "astream"]
INVOKE_MODES = ["invoke", "ainvoke"]
# Events before the first text delta: Chat Completions sends one role chunk, Responses four
# lifecycle events (created, in_progress, output_item.added, content_part.added).
EVENTS_BEFORE_TEXT = {"chat_completions": 1, "responses": 4}
LOGGER = "langchain_paramchat"


def fast_policy(max_retries: int = 2) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def chat(make_model: Factory) -> Factory:
    """Return a factory for ParamChat on one API with a fast retry policy (2 retries)."""

    def factory(api: str, **kwargs: Any) -> ParamChat:
        kwargs.setdefault("retry_policy", fast_policy())
        return make_model(api=api, api_key=API_KEY, **kwargs)

    return factory


@dataclass
class Outcome:
    """What one call gave the user: the final text, the chunk texts yielded, or the error."""

    text: str | None = None
    chunks: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def raised(self, cls: type[BaseException]) -> Any:
        assert isinstance(self.error, cls), f"expected {cls.__name__}, got {self.error!r}"
        return self.error


async def call(model: Runnable[Any, Any], mode: str, prompt: Any = PROMPT) -> Outcome:
    """Run one call the way a user would in ``mode``; never raise, record what happened."""
    out = Outcome()
    try:
        if mode == "invoke":
            out.text = model.invoke(prompt).text
        elif mode == "ainvoke":
            out.text = (await model.ainvoke(prompt)).text
        elif mode == "stream":
            for chunk in model.stream(prompt):
                out.chunks.append(chunk.text)
            out.text = "".join(out.chunks)
        else:
            async for chunk in model.astream(prompt):
                out.chunks.append(chunk.text)
            out.text = "".join(out.chunks)
    except Exception as exc:
        out.error = exc
    return out


def creates(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.method == "POST")


def retry_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def field_of(record: logging.LogRecord, name: str) -> Any:
    """Return a structured field of a retry log record (``extra={"paramchat_<name>": ...}``)."""
    return record.__dict__[f"paramchat_{name}"]


def spare(server: FakeOpenAI) -> None:
    """Queue a reply that a call must never consume (it would mean an extra request)."""
    server.add(Reply(text="SPARE: must never be sent"))


# --- retried, then success ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_429_with_retry_after_waits_as_told_then_succeeds(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    fake_openai.add(
        Fault.status(429, error_code="rate_limit_exceeded", headers={"retry-after": "0.05"}),
        Reply(text=ANSWER),
    )
    spare(fake_openai)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = await call(chat(api), mode)
    assert out.error is None
    assert out.text == ANSWER  # once: the retry happened before any chunk was yielded
    assert creates(fake_openai) == 2
    first, second = fake_openai.requests
    assert first.body == second.body  # the same request, resent
    (log,) = retry_logs(caplog)
    assert field_of(log, "wait") == pytest.approx(0.05)
    assert fake_openai.pending == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_500_is_retried_with_backoff_then_succeeds(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    fake_openai.add(Fault.status(500), Reply(text=ANSWER))
    spare(fake_openai)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = await call(chat(api), mode)
    assert out.error is None
    assert out.text == ANSWER
    assert creates(fake_openai) == 2
    (log,) = retry_logs(caplog)
    # initial_backoff=0.01 shortened by up to 25 % jitter
    assert 0.0075 <= field_of(log, "wait") <= 0.01


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_connection_reset_before_headers_is_retried(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    fake_openai.add(Fault.reset(), Reply(text=ANSWER))
    spare(fake_openai)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = await call(chat(api), mode)
    assert out.error is None
    assert out.text == ANSWER
    assert creates(fake_openai) == 2
    (log,) = retry_logs(caplog)
    assert field_of(log, "reason") == "connection error"


@pytest.mark.parametrize("mode", INVOKE_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_json_reply_dropped_halfway_is_retried(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    # Nothing reached the user yet, so sending the request again loses and repeats nothing.
    fake_openai.add(Fault.drop_mid_stream(reply=Reply(text="cut off")), Reply(text=ANSWER))
    out = await call(chat(api), mode)
    assert out.error is None
    assert out.text == ANSWER
    assert creates(fake_openai) == 2


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_stream_dropped_before_any_text_is_retried(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    after = EVENTS_BEFORE_TEXT[api]  # every event before the first text delta, none after
    fake_openai.add(Fault.drop_mid_stream(after_events=after, reply=Reply(text="lost")))
    fake_openai.add(Reply(text=ANSWER))
    out = await call(chat(api), mode)
    assert out.error is None
    assert out.text == ANSWER
    assert creates(fake_openai) == 2


@pytest.mark.parametrize("api", APIS)
async def test_a_retried_early_drop_leaves_nothing_of_the_lost_attempt(
    fake_openai: FakeOpenAI, chat: Factory, api: str
) -> None:
    fake_openai.add(
        Fault.drop_mid_stream(after_events=EVENTS_BEFORE_TEXT[api], reply=Reply(text="lost")),
        Reply(text=ANSWER),
    )
    chunks = [chunk async for chunk in chat(api).astream(PROMPT)]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.text == ANSWER
    # One attempt's metadata only: concatenated ids or model names would show a mix.
    assert merged.response_metadata["model_name"] == "gpt-4o-mini"
    assert merged.id == merged.response_metadata["id"]
    assert merged.id.count("-") <= 1 and merged.id.count("_") <= 1


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_an_early_drop_every_time_gives_up_after_the_retries(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    drop = Fault.drop_mid_stream(after_events=EVENTS_BEFORE_TEXT[api], reply=Reply(text="x"))
    fake_openai.add(drop, drop, drop)
    spare(fake_openai)
    out = await call(chat(api), mode)
    # Nothing reached the caller, so the call failed like a request: with the drop's own
    # error, not an interruption carrying output.
    err = out.raised(APIConnectionError)
    assert not isinstance(err, StreamInterruptedError)
    assert out.chunks == []  # nothing of a lost attempt reached the caller
    assert creates(fake_openai) == 3  # max_retries=2


# --- the policy's knobs through ParamChat ---------------------------------------------------------


def test_default_retry_policy() -> None:
    assert ParamChat(api_key=API_KEY).transport.settings.retry == RetryPolicy(
        max_retries=2,
        initial_backoff=0.5,
        max_backoff=8.0,
        jitter=0.25,
        deadline=120.0,
        max_retry_after=60.0,
    )


@pytest.mark.parametrize("api", APIS)
async def test_max_retries_alone_sets_the_attempts(fake_openai: FakeOpenAI, api: str) -> None:
    fake_openai.add(Fault.status(503, times=5))
    model = ParamChat(base_url=fake_openai.base_url, api_key=API_KEY, api=api, max_retries=1)
    started = time.monotonic()
    out = await call(model, "ainvoke")
    assert out.raised(ServerError).status_code == 503
    assert creates(fake_openai) == 2
    # The default policy's first wait: initial_backoff 0.5 s less up to 25 % jitter.
    assert time.monotonic() - started >= 0.375


def custom_policy(attempts: int) -> RetryPolicy:
    return RetryPolicy.custom(
        tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_retryable),
            stop=tenacity.stop_after_attempt(attempts),
            wait=tenacity.wait_none(),
        )
    )


@pytest.mark.parametrize("mode", MODES)
async def test_a_custom_tenacity_policy_decides_the_retries(
    fake_openai: FakeOpenAI, chat: Factory, mode: str
) -> None:
    fake_openai.add(Fault.status(503, times=3), Reply(text=ANSWER))
    out = await call(chat("auto", retry_policy=custom_policy(4)), mode)
    assert out.text == ANSWER
    assert creates(fake_openai) == 4  # more than the default policy's 3 attempts


@pytest.mark.parametrize("mode", MODES)
async def test_a_custom_tenacity_policy_that_gives_up_raises_the_last_error(
    fake_openai: FakeOpenAI, chat: Factory, mode: str
) -> None:
    fake_openai.add(Fault.status(503, times=5))
    out = await call(chat("auto", retry_policy=custom_policy(2)), mode)
    assert out.raised(ServerError).status_code == 503  # never tenacity.RetryError
    assert creates(fake_openai) == 2


# --- retries run out ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_503_exhausts_retries_and_raises_a_package_error(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.status(503, message="The engine is overloaded.", times=3))
    spare(fake_openai)
    out = await call(chat(api), mode)
    err = out.raised(ServerError)
    assert err.status_code == 503
    assert "The engine is overloaded." in str(err)
    assert isinstance(err.__cause__, openai.InternalServerError)
    assert isinstance(err, lc_exceptions.ModelAPIError)
    assert creates(fake_openai) == 3  # max_retries + 1
    assert out.chunks == []
    assert fake_openai.pending == 1


# --- never retried --------------------------------------------------------------------------------

NOT_RETRIED = [
    pytest.param(
        Fault.status(400, message="Invalid value for 'temperature'."),
        BadRequestError,
        None,
        id="400",
    ),
    pytest.param(
        Fault.status(
            429, message="You exceeded your current quota.", error_code="insufficient_quota"
        ),
        RateLimitError,
        "insufficient_quota",
        id="429-insufficient_quota",
    ),
    pytest.param(
        Fault.status(
            400,
            message="This model's maximum context length is 128000 tokens.",
            error_code="context_length_exceeded",
        ),
        lc_exceptions.ContextOverflowError,
        "context_length_exceeded",
        id="400-context_length_exceeded",
    ),
]


@pytest.mark.parametrize(("fault", "error_cls", "code"), NOT_RETRIED)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_client_errors_are_sent_once(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
    fault: Fault,
    error_cls: type[BaseException],
    code: str | None,
) -> None:
    fake_openai.add(fault)
    spare(fake_openai)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = await call(chat(api), mode)
    err = out.raised(error_cls)
    assert isinstance(err, APIError)
    assert err.code == code
    assert fault.message in str(err)
    assert creates(fake_openai) == 1
    assert retry_logs(caplog) == []
    assert fake_openai.pending == 1


@pytest.mark.parametrize("mode", MODES)
async def test_context_overflow_is_both_the_package_and_langchain_error(
    fake_openai: FakeOpenAI, chat: Factory, mode: str
) -> None:
    fake_openai.add(Fault.status(400, error_code="context_length_exceeded"))
    out = await call(chat("responses"), mode)
    err = out.raised(ContextOverflowError)
    assert isinstance(err, lc_exceptions.ContextOverflowError)
    assert isinstance(err, BadRequestError)
    assert err.status_code == 400


# --- streams that break after output --------------------------------------------------------------


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_drop_mid_stream_raises_with_exactly_what_was_yielded(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    after = EVENTS_BEFORE_TEXT[api] + 3  # three text deltas of 4 characters each
    fake_openai.add(Fault.drop_mid_stream(after_events=after, reply=Reply(text=ANSWER)))
    spare(fake_openai)
    out = await call(chat(api), mode)
    err = out.raised(StreamInterruptedError)
    yielded = "".join(out.chunks)
    assert yielded == ANSWER[:12]
    assert isinstance(err.received, AIMessageChunk)
    assert err.received.text == yielded
    assert creates(fake_openai) == 1  # never a silent restart that would repeat tokens
    assert fake_openai.pending == 1
    assert "broke off" in str(err)


# --- unreadable replies ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_malformed_json_is_a_format_error_not_retried(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.malformed("{not json"))
    spare(fake_openai)
    out = await call(chat(api), mode)
    err = out.raised(ResponseFormatError)
    assert "{not json" in str(err)
    assert creates(fake_openai) == 1
    assert out.chunks == []


@pytest.mark.parametrize(
    "mode",
    [
        *INVOKE_MODES,
        *STREAM_MODES,
    ],
)
@pytest.mark.parametrize("api", APIS)
async def test_reply_missing_fields_is_a_format_error(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.missing_fields())
    out = await call(chat(api), mode)
    err = out.raised(ResponseFormatError)
    assert ("choices" if api == "chat_completions" else "output") in str(err)
    assert creates(fake_openai) == 1


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_truncated_stream_says_it_ended_early(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    after = EVENTS_BEFORE_TEXT[api] + 2
    fake_openai.add(Fault.truncated(after_events=after, reply=Reply(text=ANSWER)))
    spare(fake_openai)
    out = await call(chat(api), mode)
    err = out.raised(ResponseFormatError)
    assert "ended before" in str(err)
    assert "incomplete" in str(err)
    assert "".join(out.chunks) == ANSWER[:8]  # what arrived was yielded, once
    assert creates(fake_openai) == 1


@pytest.mark.parametrize("mode", INVOKE_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_truncated_json_reply_is_a_format_error(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.truncated(reply=Reply(text=ANSWER)))
    out = await call(chat(api), mode)
    err = out.raised(ResponseFormatError)
    assert "not valid JSON" in str(err)
    assert creates(fake_openai) == 1


# --- stalls and timeouts --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOKE_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_stalled_server_raises_a_timeout_naming_timeout(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.stall(5), Fault.stall(5))
    spare(fake_openai)
    model = chat(api, timeout=0.15, retry_policy=fast_policy(max_retries=1))
    out = await call(model, mode)
    err = out.raised(APITimeoutError)
    assert isinstance(err, TimeoutError)
    assert isinstance(err, lc_exceptions.ModelTimeoutError)
    assert "timeout: 0.15 s per read" in str(err)
    assert creates(fake_openai) == 2  # timeouts are retried


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_stalled_stream_raises_a_timeout_naming_stream_idle_timeout(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.stall(5), Fault.stall(5))
    spare(fake_openai)
    model = chat(api, stream_idle_timeout=0.15, retry_policy=fast_policy(max_retries=1))
    out = await call(model, mode)
    err = out.raised(StreamTimeoutError)
    assert not isinstance(err, StreamInterruptedError)  # nothing was yielded
    assert "stream_idle_timeout=0.15 s" in str(err)
    assert creates(fake_openai) == 2  # silence before the first event is retried
    assert out.chunks == []


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_slow_but_steady_stream_outlasts_stream_idle_timeout(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    # Events 0.1 s apart, 22 deltas: the stream lasts over 2 s, each gap stays far below the
    # 1 s limit even when a busy machine stalls a thread for a few hundred milliseconds.
    fake_openai.add(Fault.slow(0.1, reply=Reply(text=ANSWER, chunk_size=2)))
    model = chat(api, stream_idle_timeout=1.0)
    started = time.monotonic()
    out = await call(model, mode)
    assert out.error is None
    assert out.text == ANSWER
    assert time.monotonic() - started > 1.0  # the limit is per event, not per stream
    assert creates(fake_openai) == 1


@pytest.mark.parametrize("mode", STREAM_MODES)
async def test_timeout_applies_to_each_read_not_to_the_whole_request(
    fake_openai: FakeOpenAI, chat: Factory, mode: str
) -> None:
    # As above: over 2 s in all, each read far below the 1 s timeout even on a busy machine.
    fake_openai.add(Fault.slow(0.1, reply=Reply(text=ANSWER, chunk_size=2)))
    model = chat("chat_completions", timeout=1.0, stream_idle_timeout=None)
    started = time.monotonic()
    out = await call(model, mode)
    assert out.text == ANSWER
    assert time.monotonic() - started > 1.0


def test_default_timeouts_are_finite() -> None:
    settings = ParamChat(api_key=API_KEY).transport.settings
    assert settings.timeout == hx.Timeout(600.0, connect=10.0)
    assert settings.stream_idle_timeout == 120.0
    # A float timeout applies to each read, write and pool wait; connecting is capped at 10 s.
    assert ParamChat(api_key=API_KEY).transport._timeout.connect == 10.0


BAD_SETTINGS = [
    pytest.param({"timeout": float("inf")}, "timeout", id="infinite-timeout"),
    pytest.param({"timeout": float("nan")}, "timeout", id="nan-timeout"),
    pytest.param({"timeout": 0}, "timeout", id="zero-timeout"),
    pytest.param({"stream_idle_timeout": -1}, "stream_idle_timeout", id="negative-idle"),
    pytest.param({"max_retries": -1}, "max_retries", id="negative-retries"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("settings", "name"), BAD_SETTINGS)
async def test_bad_client_settings_fail_before_any_request(
    fake_openai: FakeOpenAI, settings: dict[str, Any], name: str, mode: str
) -> None:
    with pytest.raises(OptionError) as info:
        ParamChat(base_url=fake_openai.base_url, api_key=API_KEY, **settings)
    assert info.value.option == name
    assert fake_openai.requests == []


@pytest.mark.parametrize(("settings", "name"), BAD_SETTINGS)
def test_bad_client_settings_fail_at_construction(settings: dict[str, Any], name: str) -> None:
    with pytest.raises(OptionError):
        ParamChat(api_key=API_KEY, **settings)


# --- error events in streams and failed responses -------------------------------------------------

STREAM_FAILURES = [
    pytest.param("chat_completions", "error", id="chat-error-chunk"),
    pytest.param("responses", "error", id="responses-error-event"),
    pytest.param("responses", "response.failed", id="responses-response.failed"),
]


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize(("api", "event"), STREAM_FAILURES)
async def test_stream_failure_before_output_raises_the_api_code_and_message(
    fake_openai: FakeOpenAI, chat: Factory, api: str, event: Any, mode: str
) -> None:
    fault = Fault.stream_error("engine_crashed", "The engine crashed.", event=event)
    fake_openai.add(Reply(text=ANSWER, fault=fault))
    spare(fake_openai)
    out = await call(chat(api), mode)
    err = out.raised(APIError)
    assert err.code == "engine_crashed"
    assert "The engine crashed." in str(err)
    assert creates(fake_openai) == 1  # an error the API reports is not retried
    assert "".join(out.chunks) == ""


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize(
    ("api", "event"),
    [
        *STREAM_FAILURES[:2],
        pytest.param("responses", "response.failed", id="responses-response.failed"),
    ],
)
async def test_stream_failure_after_output_keeps_what_was_yielded(
    fake_openai: FakeOpenAI, chat: Factory, api: str, event: Any, mode: str
) -> None:
    after = EVENTS_BEFORE_TEXT[api] + 2
    fault = Fault.stream_error(
        "engine_crashed", "The engine crashed.", event=event, after_events=after
    )
    fake_openai.add(Reply(text=ANSWER, fault=fault))
    out = await call(chat(api), mode)
    err = out.raised(APIError)
    assert err.code == "engine_crashed"
    assert "The engine crashed." in str(err)
    assert creates(fake_openai) == 1
    assert "".join(out.chunks) == ANSWER[:8]
    assert isinstance(err, StreamInterruptedError)
    assert isinstance(err.received, AIMessageChunk)
    assert err.received.text == ANSWER[:8]


@pytest.mark.parametrize("mode", INVOKE_MODES)
async def test_failed_response_raises_the_api_code_and_message(
    fake_openai: FakeOpenAI, chat: Factory, mode: str
) -> None:
    fault = Fault.stream_error("engine_crashed", "The engine crashed.")
    fake_openai.add(Reply(text=ANSWER, fault=fault))
    spare(fake_openai)
    out = await call(chat("responses"), mode)
    err = out.raised(APIError)
    assert err.code == "engine_crashed"
    assert "The engine crashed." in str(err)
    assert creates(fake_openai) == 1


# --- byte-level stream faults (a raw SSE server) --------------------------------------------------


class ScriptedSSE:
    """Answer each POST with one chunked SSE reply from a script: bytes are sent, floats pause."""

    def __init__(self, *script: bytes | float) -> None:
        self.requests = 0
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.requests += 1
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.send_header("connection", "close")
                self.end_headers()
                try:
                    for item in script:
                        if isinstance(item, float):
                            if owner._stop.wait(item):
                                return
                            continue
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(item), item))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def chat_chunk(text: str) -> bytes:
    return (
        b'data: {"id": "chatcmpl-raw", "object": "chat.completion.chunk", "created": 1, '
        b'"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": "'
        + text.encode()
        + b'"}, "finish_reason": null}]}\n\n'
    )


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedSSE]]:
    servers: list[ScriptedSSE] = []

    def start(*script: bytes | float) -> ScriptedSSE:
        server = ScriptedSSE(*script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def raw_model(server: ScriptedSSE, **kwargs: Any) -> ParamChat:
    return ParamChat(
        base_url=server.base_url,
        api_key=API_KEY,
        api="chat_completions",
        retry_policy=fast_policy(),
        **kwargs,
    )


@pytest.mark.parametrize("mode", STREAM_MODES)
async def test_silence_after_output_is_a_stall_carrying_what_arrived(
    scripted: Callable[..., ScriptedSSE], mode: str
) -> None:
    server = scripted(chat_chunk("Partial "), chat_chunk("answer"), 3.0, chat_chunk("never"))
    out = await call(raw_model(server, stream_idle_timeout=0.15), mode)
    err = out.raised(StreamStalledError)
    assert isinstance(err, StreamInterruptedError)
    assert "stream_idle_timeout=0.15 s" in str(err)
    assert "".join(out.chunks) == "Partial answer"
    assert err.received is not None and err.received.text == "Partial answer"
    assert server.requests == 1


@pytest.mark.parametrize("mode", STREAM_MODES)
async def test_malformed_event_mid_stream_is_a_format_error(
    scripted: Callable[..., ScriptedSSE], mode: str
) -> None:
    server = scripted(chat_chunk("Partial "), b"data: {oops\n\n", b"data: [DONE]\n\n")
    out = await call(raw_model(server), mode)
    err = out.raised(ResponseFormatError)
    assert "oops" in str(err)
    assert "".join(out.chunks) == "Partial "
    assert server.requests == 1


# --- retry logging --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_each_retry_is_logged_with_attempt_wait_and_reason_but_no_key_or_body(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    fake_openai.add(
        Fault.status(429, error_code="rate_limit_exceeded", headers={"retry-after": "0.02"}),
        Fault.status(502),
        Reply(text=ANSWER),
    )
    with caplog.at_level(logging.DEBUG):
        out = await call(chat(api), mode)
    assert out.text == ANSWER
    first, second = retry_logs(caplog)
    assert [field_of(first, "attempt"), field_of(second, "attempt")] == [1, 2]
    assert field_of(first, "wait") == pytest.approx(0.02)
    assert 0 < field_of(second, "wait") <= 0.02
    assert field_of(first, "reason").startswith(
        "status 429, code rate_limit_exceeded, request id req_"
    )
    assert field_of(second, "reason").startswith("status 502")
    assert [field_of(first, "status_code"), field_of(second, "status_code")] == [429, 502]
    assert "attempt 1 of 3" in first.getMessage()
    assert "retrying in 0.02 s" in first.getMessage()
    assert any(r.name.startswith("openai") for r in caplog.records)  # DEBUG really captured
    for record in caplog.records:  # every logger: ours, openai's, httpx2's, httpcore2's
        shown = record.getMessage() + repr(record.args) + repr(vars(record))
        assert API_KEY not in shown
        assert PROMPT not in shown


# --- bad input never reaches the server -----------------------------------------------------------

BAD_CALLS: list[Any] = [
    pytest.param({"temperature": 5}, PROMPT, OptionError, id="temperature-out-of-range"),
    pytest.param({"temprature": 0.5}, PROMPT, UnknownOptionError, id="unknown-option"),
    pytest.param({"service_tier": "turbo"}, PROMPT, OptionError, id="unknown-literal"),
    pytest.param(
        {
            "audio": {"voice": "alloy", "format": "wav"},
            "modalities": ["text", "audio"],
            "reasoning": {"summary": "auto"},
        },
        PROMPT,
        IncompatibleOptionsError,
        id="options-of-two-apis",
    ),
    pytest.param(
        {"tools": [{"type": "function", "name": "has space"}]},
        PROMPT,
        ToolSchemaError,
        id="bad-tool-name",
    ),
    pytest.param(
        {},
        [HumanMessage([{"type": "video", "url": "https://example.com/v.mp4"}])],
        ParamChatError,
        id="video-block",
    ),
]
SLIPPING_CALLS: list[Any] = [
    pytest.param(
        {"temperature": float("nan")},
        PROMPT,
        id="nan-temperature",
    ),
    pytest.param(
        {},
        "lone surrogate \ud800",
        id="lone-surrogate",
    ),
    pytest.param(
        {},
        [HumanMessage([{"type": "text", "text": 5}])],
        id="non-string-text-block",
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("kwargs", "prompt", "error_cls"), BAD_CALLS)
async def test_bad_input_raises_before_any_request(
    fake_openai: FakeOpenAI,
    chat: Factory,
    mode: str,
    kwargs: dict[str, Any],
    prompt: Any,
    error_cls: type[BaseException],
) -> None:
    out = await call(chat("auto").bind(**kwargs), mode, prompt)
    out.raised(error_cls)
    assert fake_openai.requests == []


@pytest.mark.parametrize("mode", ["invoke", "astream"])
@pytest.mark.parametrize(("kwargs", "prompt"), SLIPPING_CALLS)
async def test_bad_input_that_still_slips_through(
    fake_openai: FakeOpenAI, chat: Factory, mode: str, kwargs: dict[str, Any], prompt: Any
) -> None:
    out = await call(chat("auto").bind(**kwargs), mode, prompt)
    out.raised(ParamChatError)
    assert fake_openai.requests == []


async def test_unreachable_server_raises_a_connection_error_after_retries(
    refused_port: int,
) -> None:
    model = ParamChat(
        base_url=f"http://127.0.0.1:{refused_port}/v1",
        api_key=API_KEY,
        retry_policy=fast_policy(max_retries=1),
    )
    for mode in MODES:
        out = await call(model, mode)
        err = out.raised(APIConnectionError)
        assert isinstance(err, lc_exceptions.ModelConnectionError)
        assert f"127.0.0.1:{refused_port}" in str(err)


# --- bounded waits (issue 10 point 9) ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_retry_after_above_the_cap_gives_up_at_once(
    fake_openai: FakeOpenAI,
    chat: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    fake_openai.add(Fault.status(429, headers={"retry-after": "100000"}))
    spare(fake_openai)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = await call(chat(api), mode)
    err = out.raised(RateLimitError)
    assert isinstance(err, openai.RateLimitError)
    assert "retry after 100000 s, more than max_retry_after=60 s" in str(err)
    assert creates(fake_openai) == 1
    assert retry_logs(caplog) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_retries_count_themselves_in_x_stainless_retry_count(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.status(500, times=2), Reply(text=ANSWER))
    out = await call(chat(api), mode)
    assert out.text == ANSWER
    counts = [r.headers.get("x-stainless-retry-count") for r in fake_openai.requests]
    assert counts == ["0", "1", "2"]  # as the openai SDK sends them


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("api", APIS)
async def test_total_timeout_bounds_a_trickling_stream(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    # 44 one-character events, 0.1 s apart: each read is quick, the whole reply is not.
    fake_openai.add(Fault.slow(0.1, reply=Reply(text=ANSWER, chunk_size=1)))
    spare(fake_openai)
    out = await call(chat(api, total_timeout=0.6, timeout=30, stream_idle_timeout=30), mode)
    assert "total_timeout=0.6 s" in str(out.error)
    if out.chunks:  # some text had arrived: never resent
        err = out.raised(StreamInterruptedError)
        assert isinstance(err.__cause__, DeadlineExceededError)
    else:  # a very busy machine: not even the first text came in time
        out.raised(DeadlineExceededError)
    assert len("".join(out.chunks)) < len(ANSWER)
    assert creates(fake_openai) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_total_timeout_bounds_the_retries_too(
    fake_openai: FakeOpenAI, chat: Factory, api: str, mode: str
) -> None:
    # Each attempt stalls past total_timeout, so the first one already uses the whole budget.
    policy = RetryPolicy(max_retries=5, initial_backoff=0.01, max_backoff=0.02)
    model = chat(api, total_timeout=0.4, timeout=30, stream_idle_timeout=30, retry_policy=policy)
    # A first call (of a model sharing its SDK client) builds the client and a pooled
    # connection: on a busy machine that alone took the 0.4 s, and the timed call then
    # never reached the server.
    warm = chat(api, timeout=30, stream_idle_timeout=30)
    assert (await call(warm, mode)).text == f"Echo: {PROMPT}"
    fake_openai.reset()
    fake_openai.add(Fault.stall(5), Fault.stall(5), Fault.stall(5))
    out = await call(model, mode)
    err = out.raised(DeadlineExceededError)
    assert isinstance(err, APITimeoutError)
    assert isinstance(err, openai.APITimeoutError)
    assert "total_timeout=0.4 s" in str(err)
    assert not is_retryable(err)
    assert creates(fake_openai) == 1


# --- docs/reliability.md stays backed by tests ----------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DOC_PREFIXES = {
    "faults": "tests/integration/test_faults.py",
    "flex": "tests/integration/test_flex_background.py",
    "hostile": "tests/integration/test_hostile_inputs.py",
    "load": "tests/integration/test_load.py",
    "malformed": "tests/integration/test_malformed_replies.py",
    "pacer": "tests/integration/test_pacer.py",
    "pacing": "tests/unit/test_pacer.py",
    "secrets": "tests/integration/test_secrets.py",
    "sdk": "tests/integration/test_sdk_exceptions.py",
    "sharing": "tests/integration/test_sharing.py",
    "sse": "tests/unit/test_sse_decoder.py",
    "props": "tests/unit/test_bad_input_properties.py",
    "retry": "tests/unit/test_retry.py",
    "transport": "tests/integration/test_transport.py",
    "unbounded": "tests/integration/test_unbounded_input.py",
    "exits": "tests/integration/test_secret_exits.py",
    "scrubber": "tests/unit/test_scrubber.py",
    "integrity": "tests/integration/test_batch_integrity.py",
    "workers": "tests/integration/test_worker_errors.py",
    "pickled": "tests/unit/test_error_pickling.py",
    "suggest": "tests/unit/test_suggestions.py",
    "waits": "tests/integration/test_waits.py",
    "keyfn": "tests/integration/test_key_functions.py",
    "proxy": "tests/integration/test_proxy_and_sockets.py",
    "dropin_messages": "tests/integration/test_dropin_messages.py",
    "dropin_sdk_errors": "tests/integration/test_dropin_sdk_errors.py",
}


def test_every_rule_in_the_reliability_doc_names_an_existing_test() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text()
    sources = {p: (ROOT / f).read_text() for p, f in DOC_PREFIXES.items()}
    named = re.findall(r"`(?:(\w+)::)?(test_\w+)`", doc)
    assert named
    for prefix, test in named:
        files = [sources[prefix]] if prefix else list(sources.values())
        assert any(re.search(rf"def {test}\(", f) for f in files), f"{prefix}::{test} not found"
    for line in doc.splitlines():
        if line.startswith("- ") or (line.startswith("| ") and not line.startswith("| prefix")):
            if "---" in line or line.startswith(("| fault ", "| gap ")):
                continue
            assert "test_" in line, f"a rule without its test: {line[:80]}"
