"""Reply metadata as ChatOpenAI fills it, on both APIs, invoke and stream alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, Usage
from langchain_paramchat.testing.ratelimit import RateLimit

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]
MODES = ["invoke", "stream"]

RAW_USAGE_KEYS = {
    "chat_completions": {"prompt_tokens", "completion_tokens", "total_tokens"},
    "responses": {"input_tokens", "output_tokens", "total_tokens"},
}


def run(model: Any, mode: str, **kwargs: Any) -> AIMessage:
    if mode == "invoke":
        message = model.invoke("hi", **kwargs)
        assert isinstance(message, AIMessage)
        return message
    chunks = list(model.stream("hi", **kwargs))
    merged: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_metadata_fields_chatopenai_users_read(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(
        Reply(text="Hello there", usage=Usage(11, 4), service_tier="flex", chunk_size=3)
    )
    message = run(make_model(api=api), mode, service_tier="auto")

    meta = message.response_metadata
    (request,) = fake_openai.requests
    assert request.body["service_tier"] == "auto"
    assert meta["service_tier"] == "flex"  # the tier that served the call, not the one asked
    assert meta["model_name"] == "gpt-4o-mini"
    assert meta["finish_reason"] == "stop"
    assert meta["id"].startswith("chatcmpl-" if api == "chat_completions" else "resp_")
    assert meta["api"] == api and meta["route_reasons"]
    usage = meta["token_usage"]
    assert RAW_USAGE_KEYS[api] <= set(usage)
    assert usage["total_tokens"] == 15
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] == 15
    if api == "chat_completions":
        assert meta["system_fingerprint"] == "fp_test"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_logprobs_when_requested(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="Hi", chunk_size=1), Reply(text="Hi", chunk_size=1))
    model = make_model(api=api)
    assert "logprobs" not in run(model, mode).response_metadata
    message = run(model, mode, logprobs=True, top_logprobs=2)
    tokens = [t["token"] for t in message.response_metadata["logprobs"]["content"]]
    assert "".join(tokens) == "Hi"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_refusal_is_in_additional_kwargs(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(refusal="I can't help with that.", chunk_size=4))
    message = run(make_model(api=api), mode)
    assert message.additional_kwargs["refusal"] == "I can't help with that."


@pytest.mark.parametrize("api", APIS)
async def test_include_response_headers_on_invoke_and_the_first_chunk(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api, include_response_headers=True)
    fake_openai.rate_limit = RateLimit(requests=100, tokens=100_000)
    fake_openai.add(*(Reply(text="Hello there", chunk_size=3) for _ in range(4)))

    invoked = model.invoke("hi")
    ainvoked = await model.ainvoke("hi")
    chunks = list(model.stream("hi"))
    achunks = [c async for c in model.astream("hi")]

    for message in (invoked, ainvoked, chunks[0], achunks[0]):
        headers = message.response_metadata["headers"]
        assert headers["x-request-id"].startswith("req_")
        assert headers["x-ratelimit-limit-requests"] == "100"
        assert int(headers["x-ratelimit-remaining-tokens"]) < 100_000
        assert headers["content-type"].startswith(
            "application/json" if message in (invoked, ainvoked) else "text/event-stream"
        )
    assert all("headers" not in c.response_metadata for c in chunks[1:] + achunks[1:])
    assert "headers" not in make_model(api=api).invoke("hi").response_metadata


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


@pytest.mark.parametrize("api", APIS)
def test_response_format_class_is_parsed_into_additional_kwargs(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text='{"setup": "Why?", "punchline": "Because."}'))
    fake_openai.add(Reply(refusal="No jokes today."))
    model = make_model(api=api)

    message = model.invoke("A joke", response_format=Joke)
    refused = model.bind(response_format=Joke).invoke("A joke")

    assert message.additional_kwargs["parsed"] == Joke(setup="Why?", punchline="Because.")
    assert refused.additional_kwargs["parsed"] is None
    assert refused.additional_kwargs["refusal"] == "No jokes today."
    body = fake_openai.requests[0].body
    if api == "chat_completions":
        fmt = {"type": body["response_format"]["type"], **body["response_format"]["json_schema"]}
    else:
        fmt = body["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "Joke", True)
    assert fake_openai.errors == []
