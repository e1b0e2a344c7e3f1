"""count_tokens: OpenAI's exact input-token count, through the SDK, against the fake server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import OptionError
from langchain_paramchat.testing import FakeOpenAI
from langchain_paramchat.testing.input_tokens import count_input_tokens

Factory = Callable[..., ParamChat]


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str


def test_count_tokens_asks_the_endpoint(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    count = make_model().count_tokens("Tell me a joke.")

    assert count == 8  # 5 words and symbols + 3 for the one input item (see input_tokens.py)
    (request,) = fake_openai.requests
    assert (request.method, request.path) == ("POST", "/v1/responses/input_tokens")
    assert request.body["model"] == "gpt-4o-mini"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", ["chat_completions", "responses", "auto"])
async def test_count_tokens_with_options_and_tools_sync_and_async(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api, temperature=0.3, max_tokens=50)
    kwargs = {
        "tools": [GetWeather, {"type": "web_search"}],
        "instructions": "Answer in French.",
        "reasoning_effort": "low",
    }
    plain = model.count_tokens("Weather in Paris?")
    sync = model.count_tokens("Weather in Paris?", **kwargs)
    async_ = await model.acount_tokens("Weather in Paris?", **kwargs)

    assert sync == async_ > plain
    body = fake_openai.requests[1].body
    assert body["instructions"] == "Answer in French."
    assert body["reasoning"] == {"effort": "low"}
    assert [t["type"] for t in body["tools"]] == ["function", "web_search"]
    # Sampling and limits cannot change the input, and the endpoint does not take them.
    assert "temperature" not in body and "max_output_tokens" not in body
    assert sync == count_input_tokens(body)
    assert fake_openai.requests[2].body == body
    assert fake_openai.errors == []


def test_count_tokens_rejects_bad_options_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model()
    with pytest.raises(OptionError, match="temperature"):
        model.count_tokens("x", temperature=7)
    with pytest.raises(OptionError, match="input-token endpoint"):
        model.count_tokens("x", api="chat_completions")
    assert fake_openai.requests == []


def test_chat_only_options_do_not_block_a_count(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model(logit_bias={"1": 5}, n=2)
    assert model.count_tokens("Tell me a joke.", top_logprobs=None) == 8
    body = fake_openai.requests[0].body
    assert "logit_bias" not in body and "n" not in body
    with pytest.raises(OptionError, match="logit_bias"):
        model.count_tokens("x", logit_bias={"1": 500})
