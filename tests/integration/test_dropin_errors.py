"""Errors as ChatOpenAI users catch them: refusals, content filters, context overflow, failures.

ChatOpenAI raises langchain-core's ``ModelRefusalError`` for a refused or filtered structured
answer, ``ContextOverflowError`` for every form in which OpenAI says the input is too long,
and a ``ValueError`` for a failed Responses stream. Code that catches those must keep working
with ParamChat, on both APIs, invoke and stream, sync and async.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from langchain_core.exceptions import ContextOverflowError as CoreContextOverflowError
from langchain_core.exceptions import ModelRefusalError
from langchain_core.messages import AIMessage
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import (
    ContentFilterError,
    ParamChatError,
    RefusalError,
    StreamInterruptedError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall
from tests.integration.reply_modes import MODES

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]
METHODS = ["json_schema", "function_calling", "json_mode"]


class Answer(BaseModel):
    answer: str


async def run(runnable: Any, mode: str, prompt: Any = "hi") -> list[Any]:
    """Return what ``mode`` hands the user: one result, or every streamed piece."""
    if mode == "invoke":
        return [runnable.invoke(prompt)]
    if mode == "ainvoke":
        return [await runnable.ainvoke(prompt)]
    if mode == "stream":
        return list(runnable.stream(prompt))
    return [piece async for piece in runnable.astream(prompt)]


# --- refusals and content filters ----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_refusal_is_langchains_model_refusal_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(refusal="I can't help with that request."))
    structured = make_model(api=api).with_structured_output(Answer)
    with pytest.raises(ModelRefusalError) as info:
        await run(structured, mode)
    err = info.value
    assert isinstance(err, RefusalError)
    assert str(err) == "I can't help with that request."  # as ChatOpenAI's message
    assert err.refusal == "I can't help with that request."
    assert isinstance(err.raw_message, AIMessage)
    assert err.is_retryable is False


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("api", APIS)
async def test_a_content_filter_is_a_refusal_not_bad_json(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, method: str, mode: str
) -> None:
    if method == "function_calling":
        cut = Reply(tool_calls=[ToolCall("Answer", '{"ans')], finish_reason="content_filter")
    else:
        cut = Reply(text='{"ans', finish_reason="content_filter")
    fake_openai.add(cut)
    structured = make_model(api=api).with_structured_output(Answer, method=method)
    with pytest.raises(ModelRefusalError) as info:
        await run(structured, mode)
    assert isinstance(info.value, ContentFilterError)
    assert str(info.value) == "Model output was stopped by a content filter"


@pytest.mark.parametrize("api", APIS)
def test_a_content_filter_with_include_raw_is_the_parsing_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text="{", finish_reason="content_filter"))
    out = make_model(api=api).with_structured_output(Answer, include_raw=True).invoke("hi")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], ContentFilterError)
    assert out["raw"].response_metadata["finish_reason"] == "content_filter"


@pytest.mark.parametrize("api", APIS)
def test_plain_invoke_returns_a_refused_or_filtered_reply(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(refusal="No."), Reply(text="", finish_reason="content_filter"))
    model = make_model(api=api)
    assert model.invoke("hi").additional_kwargs["refusal"] == "No."
    filtered = model.invoke("hi")
    assert filtered.response_metadata["finish_reason"] == "content_filter"
    # With a response_format class the filtered answer is simply not parsed.
    fake_openai.add(Reply(text="", finish_reason="content_filter"))
    assert model.invoke("hi", response_format=Answer).additional_kwargs["parsed"] is None


# --- context overflow, in every form OpenAI uses -----------------------------------------------

OVERFLOW_FAULTS = {
    "code": Fault.status(
        400,
        error_code="context_length_exceeded",
        message="Input tokens exceed the configured limit of 272000 tokens.",
    ),
    "prompt-too-long": Fault.status(
        400, message="prompt is too long: 300000 tokens > 200000 maximum"
    ),
    "context-window": Fault.status(
        400, message="ContextWindowExceededError: maximum context length exceeded"
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", sorted(OVERFLOW_FAULTS))
@pytest.mark.parametrize("api", APIS)
async def test_an_http_context_overflow_is_langchains_overflow_and_a_bad_request(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, form: str, mode: str
) -> None:
    fault = OVERFLOW_FAULTS[form]
    fake_openai.add(fault)
    with pytest.raises(CoreContextOverflowError) as info:
        await run(make_model(api=api), mode)
    assert isinstance(info.value, openai.BadRequestError)
    assert fault.message in str(info.value)


def test_another_bad_request_is_no_overflow(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Fault.status(400, message="Unsupported value: 'temperature'"))
    with pytest.raises(openai.BadRequestError) as info:
        make_model().invoke("hi")
    assert not isinstance(info.value, CoreContextOverflowError)


WINDOW = "Your input exceeds the context window of this model. Please adjust your input."


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("event", ["response.failed", "error"])
async def test_a_responses_stream_overflow_is_langchains_overflow(
    fake_openai: FakeOpenAI, make_model: Factory, event: Any, mode: str
) -> None:
    fault = Fault.stream_error("context_length_exceeded", WINDOW, event=event)
    fake_openai.add(Reply(text="never", fault=fault))
    with pytest.raises(CoreContextOverflowError) as info:
        await run(make_model(api="responses"), mode)
    assert isinstance(info.value, openai.APIError)
    assert isinstance(info.value, ParamChatError)
    assert "exceeds the context window" in str(info.value)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_an_overflow_said_only_in_words_is_recognised_on_a_stream(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="never", fault=Fault.stream_error("server_error", WINDOW)))
    with pytest.raises(CoreContextOverflowError):
        await run(make_model(api="responses"), mode)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_failed_response_overflow_is_langchains_overflow(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="x", fault=Fault.stream_error("context_length_exceeded", WINDOW)))
    with pytest.raises(CoreContextOverflowError):
        await run(make_model(api="responses"), mode)


# --- a failed Responses stream is also a ValueError ----------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event", ["response.failed", "error"])
async def test_a_failed_response_is_a_value_error_and_an_sdk_error(
    fake_openai: FakeOpenAI, make_model: Factory, event: Any, mode: str
) -> None:
    fake_openai.add(
        Reply(text="x", fault=Fault.stream_error("server_error", "It broke.", event=event))
    )
    with pytest.raises(ValueError, match=r"It broke\.") as info:
        await run(make_model(api="responses"), mode)
    assert isinstance(info.value, openai.APIError)
    assert info.value.code == "server_error"  # type: ignore[attr-defined]
    assert not isinstance(info.value, CoreContextOverflowError)


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("event", ["response.failed", "error"])
async def test_a_stream_failing_after_output_is_a_value_error_keeping_the_output(
    fake_openai: FakeOpenAI, make_model: Factory, event: Any, mode: str
) -> None:
    fault = Fault.stream_error("server_error", "It broke.", event=event, after_events=7)
    fake_openai.add(Reply(text="partial answer here", chunk_size=2, fault=fault))
    with pytest.raises(ValueError, match=r"It broke\.") as info:
        await run(make_model(api="responses"), mode)
    err = info.value
    assert isinstance(err, StreamInterruptedError)
    assert err.received is not None
    assert err.received.text  # what arrived before the failure


def test_a_filter_said_only_in_incomplete_details_is_a_refusal() -> None:
    # A Responses reply built by other code (ChatOpenAI's) may carry only incomplete_details.
    from langchain_core.outputs import ChatGeneration

    from langchain_paramchat.tools.structured import StructuredParser

    message = AIMessage(
        content=[],
        response_metadata={
            "status": "incomplete",
            "incomplete_details": {"reason": "content_filter"},
        },
    )
    with pytest.raises(ContentFilterError):
        StructuredParser(target=Answer).parse_result([ChatGeneration(message=message)])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", ["context_length_exceeded", "server_error"])
async def test_a_failed_response_over_the_websocket_mode_raises_the_same(
    fake_openai: FakeOpenAI, make_model: Factory, code: str, mode: str
) -> None:
    message = WINDOW if code == "context_length_exceeded" else "It broke."
    fake_openai.add(Reply(text="x", fault=Fault.stream_error(code, message, event="error")))
    expected = CoreContextOverflowError if code == "context_length_exceeded" else ValueError
    with pytest.raises(expected) as info:
        await run(make_model(api="responses", websocket=True), mode)
    assert isinstance(info.value, openai.APIError)
    assert message in str(info.value)
