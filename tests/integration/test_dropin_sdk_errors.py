"""Errors from a patched or replaced SDK ``create`` are caught as ChatOpenAI users catch them.

Code written for ChatOpenAI patches ``Completions.create`` / ``Responses.create`` (LangChain's
fallbacks how-to) and raises SDK errors it builds by hand, with the body in OpenAI's wire form
(``{"error": {...}}``) or none at all; or the patch wraps the real ``create`` and the SDK
raises from the server's reply. Either way a context overflow is langchain-core's
``ContextOverflowError`` (and still the SDK's error class), and a failed Responses stream a
``ValueError`` whose message reads ``"<code>: <message>"``. The real SDK goes over loopback to
FakeOpenAI; both APIs, sync and async, invoke and stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock, patch

import openai
import pytest
from langchain_core.exceptions import ContextOverflowError as CoreContextOverflowError
from langchain_core.exceptions import ModelRefusalError
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.responses import AsyncResponses, Responses
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import (
    APIStatusError,
    ContentFilterError,
    DeadlineExceededError,
    ParamChatError,
    RateLimitError,
    RefusalError,
    ResponseFormatError,
    StreamTimeoutError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply
from tests.integration.reply_modes import MODES, run

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
_CLASSES = {
    ("chat_completions", False): Completions,
    ("chat_completions", True): AsyncCompletions,
    ("responses", False): Responses,
    ("responses", True): AsyncResponses,
}

# The three ways OpenAI (and servers that copy it) say the input does not fit.
OVERFLOW_BODIES = {
    "code": {
        "message": "Input tokens exceed the configured limit of 272000 tokens.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    },
    "prompt-too-long": {
        "message": "prompt is too long: 300000 tokens > 200000 maximum",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "invalid_request_error",
    },
    "context-window": {
        "message": "ContextWindowExceededError: maximum context length exceeded",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "invalid_request_error",
    },
}
WINDOW = "Your input exceeds the context window of this model. Please adjust your input."


def _target(api: str, mode: str) -> type:
    return _CLASSES[(api, mode.startswith("a"))]


def _raising(error: BaseException, is_async: bool) -> Any:
    """Return a replacement ``create`` that raises ``error``, as a hand-written patch does."""
    if is_async:

        async def acreate(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise error

        return acreate

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise error

    return create


def _passing_through(cls: type) -> Any:
    """Return a replacement for ``cls.create`` that calls the real one (the SDK raises)."""
    original = cls.create  # type: ignore[attr-defined]

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, *args, **kwargs)

    return create


def _bad_request(body: Any, message: str) -> openai.BadRequestError:
    request = hx.Request("POST", "https://api.openai.com/v1/chat/completions")
    return openai.BadRequestError(message, response=hx.Response(400, request=request), body=body)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", sorted(OVERFLOW_BODIES))
@pytest.mark.parametrize("api", APIS)
async def test_a_hand_built_overflow_in_wire_form_is_langchains_overflow(
    make_model: Factory, fake_openai: FakeOpenAI, api: str, form: str, mode: str
) -> None:
    info = OVERFLOW_BODIES[form]
    error = _bad_request({"error": info}, info["message"])
    cls = _target(api, mode)
    with (
        patch.object(cls, "create", _raising(error, mode.startswith("a"))),
        pytest.raises(CoreContextOverflowError) as caught,
    ):
        await run(make_model(api=api), mode)
    err = caught.value
    assert isinstance(err, openai.BadRequestError)  # what code written for the SDK catches
    assert isinstance(err, ParamChatError)
    assert info["message"] in str(err)
    assert err.param == "messages"
    assert fake_openai.requests == []  # the patch answered, nothing was sent


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", sorted(OVERFLOW_BODIES))
@pytest.mark.parametrize("api", APIS)
async def test_an_overflow_the_sdk_raises_from_the_reply_is_langchains_overflow(
    make_model: Factory, fake_openai: FakeOpenAI, api: str, form: str, mode: str
) -> None:
    info = OVERFLOW_BODIES[form]
    fake_openai.add(Fault.status(400, error_code=info["code"], message=info["message"]))
    cls = _target(api, mode)
    with (
        patch.object(cls, "create", _passing_through(cls)),
        pytest.raises(CoreContextOverflowError) as caught,
    ):
        await run(make_model(api=api), mode)
    assert isinstance(caught.value, openai.BadRequestError)
    assert info["message"] in str(caught.value)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_an_sdk_api_error_saying_context_window_is_langchains_overflow(
    make_model: Factory, api: str, mode: str
) -> None:
    # What the SDK raises for an ``error`` event in a stream: a bare APIError, no body.
    request = hx.Request("POST", "https://api.openai.com/v1/responses")
    error = openai.APIError(WINDOW, request=request, body=None)
    cls = _target(api, mode)
    with (
        patch.object(cls, "create", _raising(error, mode.startswith("a"))),
        pytest.raises(CoreContextOverflowError) as caught,
    ):
        await run(make_model(api=api), mode)
    assert isinstance(caught.value, openai.APIError)
    assert isinstance(caught.value, ValueError)
    assert "exceeds the context window" in str(caught.value)


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("event", ["error", "response.failed"])
async def test_a_failed_responses_stream_through_the_sdk_is_a_value_error(
    make_model: Factory, fake_openai: FakeOpenAI, event: Any, mode: str
) -> None:
    fault = Fault.stream_error("rate_limit_exceeded", "Rate limit reached.", event=event)
    fake_openai.add(Reply(text="x", fault=fault))
    cls = _target("responses", mode)
    with (
        patch.object(cls, "create", _passing_through(cls)),
        pytest.raises(ValueError, match=r"rate_limit_exceeded: Rate limit reached\.") as caught,
    ):
        await run(make_model(api="responses"), mode)
    err = caught.value
    assert isinstance(err, openai.APIError)
    assert err.code == "rate_limit_exceeded"
    assert not isinstance(err, CoreContextOverflowError)
    # The code is said once: not again as "(code rate_limit_exceeded)".
    assert str(err).count("rate_limit_exceeded") == 1


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("event", ["error", "response.failed"])
async def test_a_responses_stream_overflow_through_the_sdk_is_langchains_overflow(
    make_model: Factory, fake_openai: FakeOpenAI, event: Any, mode: str
) -> None:
    fault = Fault.stream_error("context_length_exceeded", WINDOW, event=event)
    fake_openai.add(Reply(text="x", fault=fault))
    cls = _target("responses", mode)
    with (
        patch.object(cls, "create", _passing_through(cls)),
        pytest.raises(CoreContextOverflowError) as caught,
    ):
        await run(make_model(api="responses"), mode)
    assert isinstance(caught.value, ValueError)
    assert WINDOW in str(caught.value)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_failed_stream_on_our_own_send_reads_the_same(
    make_model: Factory, fake_openai: FakeOpenAI, mode: str
) -> None:
    fault = Fault.stream_error("rate_limit_exceeded", "Rate limit reached.", event="error")
    fake_openai.add(Reply(text="x", fault=fault))
    with pytest.raises(ValueError, match=r"rate_limit_exceeded: Rate limit reached\."):
        await run(make_model(api="responses"), mode)


@pytest.mark.parametrize("body", [None, "", "upstream said no", {"detail": "no message key"}])
@pytest.mark.parametrize("mode", MODES)
async def test_a_hand_built_status_error_keeps_its_message_whatever_its_body(
    make_model: Factory, body: Any, mode: str
) -> None:
    request = hx.Request("POST", "https://api.openai.com/v1/chat/completions")
    error = openai.RateLimitError(
        "slow down, please", response=hx.Response(429, request=request), body=body
    )
    cls = _target("chat_completions", mode)
    with (
        patch.object(cls, "create", _raising(error, mode.startswith("a"))),
        pytest.raises(openai.RateLimitError) as caught,
    ):
        await run(make_model(api="chat_completions"), mode)
    err = caught.value
    assert isinstance(err, RateLimitError)
    assert err.status_code == 429
    expected = body if isinstance(body, str) and body else "slow down, please"
    assert expected in str(err)
    assert "Error code" not in str(err)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_status_error_without_a_real_response_still_maps(
    make_model: Factory, mode: str
) -> None:
    # A test double instead of an HTTP response (as langchain-openai's own tests build
    # one): nothing in it is taken for a header, a request id or a URL.
    info = OVERFLOW_BODIES["code"]
    error = openai.BadRequestError(
        info["message"], response=MagicMock(status_code=400), body={"error": info}
    )
    cls = _target("chat_completions", mode)
    with (
        patch.object(cls, "create", _raising(error, mode.startswith("a"))),
        pytest.raises(CoreContextOverflowError) as caught,
    ):
        await run(make_model(api="chat_completions"), mode)
    err = caught.value
    assert isinstance(err, APIStatusError)
    assert err.status_code == 400
    assert err.code == "context_length_exceeded"
    assert dict(err.headers) == {}
    assert err.request_id is None
    assert "MagicMock" not in str(err)


# --- a replaced async client's stream is bounded by the chunk timeout ----------------------


def _replace_async_client(model: ParamChat, fake_openai: FakeOpenAI, api: str) -> None:
    """Hand ``model`` a real async SDK client of its own, as ChatOpenAI users do."""
    root = fake_openai.async_client(api_key="sk-test-key-123")
    if api == "responses":
        model.root_async_client = root
    else:
        model.async_client = root.chat.completions


@pytest.mark.parametrize("api", APIS)
async def test_a_silent_stream_through_a_replaced_async_client_times_out(
    make_model: Factory, fake_openai: FakeOpenAI, api: str
) -> None:
    # The replaced client has the SDK's 600 s read timeout; the chunk timeout still applies.
    fake_openai.add(Fault.slow(30, reply=Reply(text="far too late")))
    model = make_model(api=api, stream_chunk_timeout=0.5)
    _replace_async_client(model, fake_openai, api)
    with pytest.raises(TimeoutError) as caught:
        await run(model, "astream")
    err = caught.value
    assert isinstance(err, StreamTimeoutError)
    assert isinstance(err, openai.APITimeoutError)
    assert "stream_idle_timeout=0.5" in str(err)


@pytest.mark.parametrize("api", APIS)
async def test_a_slow_stream_through_a_replaced_async_client_without_timeout_arrives(
    make_model: Factory, fake_openai: FakeOpenAI, api: str
) -> None:
    fake_openai.add(Fault.slow(0.1, reply=Reply(text="slow but sure", chunk_size=20)))
    model = make_model(api=api, stream_chunk_timeout=0)
    _replace_async_client(model, fake_openai, api)
    reply = await run(model, "astream")
    assert reply.text == "slow but sure"
    assert len(fake_openai.requests) == 1


# --- structured output streamed through a replaced root client's stream helper -------------


class Answer(BaseModel):
    answer: str


def _spy_stream(cls: type, calls: list[str]) -> Any:
    """Return a replacement for the SDK's ``stream`` helper that records and calls the real one."""
    original = cls.stream  # type: ignore[attr-defined]

    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["response_format"]["type"])
        return original(self, *args, **kwargs)

    return stream


def _structured_stream_model(
    make_model: Factory, fake_openai: FakeOpenAI, is_async: bool
) -> ParamChat:
    model = make_model(api="chat_completions")
    if is_async:
        model.root_async_client = fake_openai.async_client(api_key="sk-test-key-123")
    else:
        model.root_client = fake_openai.client(api_key="sk-test-key-123")
    return model


async def _pieces(runnable: Any, is_async: bool) -> list[Any]:
    if is_async:
        return [piece async for piece in runnable.astream("hi")]
    return list(runnable.stream("hi"))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_structured_stream_on_a_replaced_root_client_uses_its_stream_helper(
    make_model: Factory, fake_openai: FakeOpenAI, is_async: bool
) -> None:
    # As ChatOpenAI calls it: root_client.beta.chat.completions.stream(...).
    fake_openai.add(Reply(text='{"answer": "forty-two"}', chunk_size=4))
    model = _structured_stream_model(make_model, fake_openai, is_async)
    calls: list[str] = []
    cls = AsyncCompletions if is_async else Completions
    with patch.object(cls, "stream", _spy_stream(cls, calls)):
        pieces = await _pieces(model.with_structured_output(Answer), is_async)
    assert pieces[-1] == Answer(answer="forty-two")
    assert calls == ["json_schema"]
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_refusal_streamed_through_the_stream_helper_raises_the_refusal(
    make_model: Factory, fake_openai: FakeOpenAI, is_async: bool
) -> None:
    fake_openai.add(Reply(refusal="I'm sorry, I cannot comply.", chunk_size=5))
    model = _structured_stream_model(make_model, fake_openai, is_async)
    with pytest.raises(ModelRefusalError) as caught:
        await _pieces(model.with_structured_output(Answer), is_async)
    assert isinstance(caught.value, RefusalError)
    assert str(caught.value) == "I'm sorry, I cannot comply."


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_content_filter_streamed_through_the_stream_helper_is_a_refusal(
    make_model: Factory, fake_openai: FakeOpenAI, is_async: bool
) -> None:
    fake_openai.add(Reply(text='{"ans', finish_reason="content_filter"))
    model = _structured_stream_model(make_model, fake_openai, is_async)
    with pytest.raises(ContentFilterError):
        await _pieces(model.with_structured_output(Answer), is_async)


# --- a replacement that returns no stream, or never answers ----------------------------------


def _returning(value: Any, is_async: bool) -> Any:
    """Return a replacement ``create`` that returns ``value`` whatever it is asked."""
    if is_async:

        async def acreate(self: Any, *args: Any, **kwargs: Any) -> Any:
            return value

        return acreate

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        return value

    return create


@pytest.mark.parametrize("value", [None, 42, {}, "data: not a stream"], ids=repr)
@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("api", APIS)
async def test_a_replacement_returning_no_stream_for_a_stream_is_a_format_error(
    make_model: Factory, fake_openai: FakeOpenAI, api: str, mode: str, value: Any
) -> None:
    # None or a number used to be a raw TypeError; an empty dict an empty answer, silently.
    model = make_model(api=api)
    with (
        patch.object(_target(api, mode), "create", _returning(value, mode == "astream")),
        pytest.raises(ResponseFormatError, match="for a stream"),
    ):
        await run(model, mode)
    assert fake_openai.requests == []


@pytest.mark.parametrize("mode", ["ainvoke", "astream"])
@pytest.mark.parametrize("api", APIS)
async def test_a_replaced_async_create_that_never_answers_is_bounded(
    make_model: Factory, api: str, mode: str
) -> None:
    async def never(self: Any, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(30)

    with patch.object(_target(api, mode), "create", never):
        # total_timeout bounds the whole call (no chunk timeout here) ...
        model = make_model(api=api, total_timeout=0.5, stream_chunk_timeout=0)
        with pytest.raises(DeadlineExceededError, match="total_timeout"):
            await asyncio.wait_for(run(model, mode), 20)  # the test's own bound
        if mode == "astream":
            # ... and the chunk timeout the wait for a stream's first event.
            model = make_model(api=api, stream_chunk_timeout=0.5)
            with pytest.raises(StreamTimeoutError, match=r"stream_idle_timeout=0\.5"):
                await asyncio.wait_for(run(model, mode), 20)


@pytest.mark.parametrize("mode", MODES)
async def test_with_fallbacks_catches_a_replacement_raising_its_own_exception(
    make_model: Factory, mode: str
) -> None:
    # A non-openai exception is the replacement's own: it reaches the caller unchanged, and
    # with_fallbacks (which handles any Exception by default) falls back on it.
    primary = make_model(api="chat_completions")
    fallback = make_model(api="responses")
    replacement = _raising(KeyError("mock"), mode.startswith("a"))
    with patch.object(_target("chat_completions", mode), "create", replacement):
        reply = await run(primary.with_fallbacks([fallback]), mode, "fall back")
        with pytest.raises(KeyError, match="mock"):
            await run(primary, mode)
    assert "Echo: fall back" in str(reply.content)
