"""preview_request and count_tokens on bound models include what was bound, as invoke does."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, load, loads
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.binding import BoundParamChat
from langchain_paramchat.testing import FakeOpenAI

Factory = Callable[..., ParamChat]


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str


class City(BaseModel):
    name: str


BINDINGS: dict[str, tuple[Callable[[ParamChat], Any], str]] = {
    "bind_tools builtin": (lambda m: m.bind_tools([{"type": "web_search"}]), "responses"),
    "bind instructions": (lambda m: m.bind(instructions="Be brief."), "responses"),
    "bind_tools function": (lambda m: m.bind_tools([GetWeather]), "chat_completions"),
    "bind temperature": (lambda m: m.bind(temperature=0.1), "chat_completions"),
    "with_config after bind": (
        lambda m: m.bind(instructions="Be brief.").with_config(tags=["t"]),
        "responses",
    ),
    "with_config then bind_tools": (
        lambda m: m.with_config(run_name="x").bind_tools([{"type": "web_search"}]),
        "responses",
    ),
    "bind then bind_tools": (
        lambda m: m.bind(temperature=0.1).bind_tools([GetWeather], tool_choice="GetWeather"),
        "chat_completions",
    ),
}


@pytest.mark.parametrize("how", list(BINDINGS))
def test_preview_of_a_bound_model_is_what_invoke_sends(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    bind, api = BINDINGS[how]
    bound = bind(make_model())

    preview = bound.preview_request("Weather in Paris?")
    bound.invoke("Weather in Paris?")

    (request,) = fake_openai.requests
    assert preview.api == request.api == api
    assert request.path == "/v1" + preview.path
    assert preview.payload == request.body
    assert fake_openai.errors == []


def test_bound_kwargs_merge_and_call_kwargs_win(make_model: Factory) -> None:
    bound = make_model().bind(temperature=0.1).bind_tools([GetWeather])
    assert isinstance(bound, BoundParamChat)
    payload = bound.preview_request("x", temperature=0.5).payload
    assert payload["temperature"] == 0.5
    assert payload["tools"][0]["function"]["name"] == "GetWeather"


async def test_count_tokens_on_a_bound_model_counts_the_bound_tools(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model()
    bound = model.bind_tools([GetWeather]).bind(instructions="Answer in French.")
    plain = model.count_tokens("Weather?")
    counted = bound.count_tokens("Weather?")
    assert await bound.acount_tokens("Weather?") == counted > plain
    body = fake_openai.requests[1].body
    assert body["instructions"] == "Answer in French."
    assert body["tools"][0]["name"] == "GetWeather"


def test_structured_output_of_a_bound_model_keeps_the_bound_options(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add('{"name": "Paris"}')
    structured = make_model().bind(temperature=0.1).with_structured_output(City)
    assert structured.invoke("A city?") == City(name="Paris")
    body = fake_openai.requests[0].body
    assert body["temperature"] == 0.1
    assert body["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize("strict", [None, True])
def test_a_bound_model_round_trips_through_dumpd_and_load(
    make_model: Factory, strict: bool | None
) -> None:
    bound = make_model().bind(temperature=0.1).bind_tools([GetWeather], strict=strict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load() is beta in langchain-core
        loaded = load(
            dumpd(bound),
            secrets_map={"OPENAI_API_KEY": "sk-test-key-123"},
            valid_namespaces=["langchain_paramchat"],
            allowed_objects=[ParamChat, BoundParamChat],
        )
    from_text = loads(
        dumps(bound),
        secrets_map={"OPENAI_API_KEY": "sk-test-key-123"},
        valid_namespaces=["langchain_paramchat"],
        allowed_objects=[ParamChat, BoundParamChat],
    )
    assert isinstance(loaded, BoundParamChat)
    assert loaded.preview_request("x").payload == bound.preview_request("x").payload
    assert from_text.preview_request("x").payload == bound.preview_request("x").payload
