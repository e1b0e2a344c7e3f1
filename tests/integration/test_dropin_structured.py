"""Structured output as code written for ChatOpenAI expects it, on both APIs.

A model without OpenAI's structured outputs falls back to a forced tool call (with a
warning) instead of failing at the API; a chain's output schema is the user's class; a reply
the SDK's ``parse()`` already parsed keeps its parsed object. Each through the openai SDK
against the scripted server, sync and async, invoke and stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall
from tests.integration.reply_modes import MODES

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]

# gpt-4 and gpt-3.5 are past their shutdown dates: their notices are not what is tested.
pytestmark = pytest.mark.filterwarnings("ignore:model .* was shut down:DeprecationWarning")


class Answer(BaseModel):
    """The answer."""

    city: str
    population: int


async def structured(runnable: Any, mode: str) -> Any:
    """Return what a user gets from ``mode``: the object, or a stream's last object."""
    if mode == "invoke":
        return runnable.invoke("hi")
    if mode == "ainvoke":
        return await runnable.ainvoke("hi")
    if mode == "stream":
        return list(runnable.stream("hi"))[-1]
    return [part async for part in runnable.astream("hi")][-1]


# --- a model without structured outputs ------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("model", "api"),
    [("gpt-4", "chat_completions"), ("gpt-4", "responses"), ("gpt-5.4-pro", "auto")],
)
async def test_a_model_without_structured_outputs_falls_back_to_a_tool_call(
    fake_openai: FakeOpenAI, make_model: Factory, model: str, api: str, mode: str
) -> None:
    with pytest.warns(UserWarning, match=f"Cannot use method='json_schema' with model '{model}'"):
        runnable = make_model(model=model, api=api).with_structured_output(Answer)
    fake_openai.add(Reply(tool_calls=[ToolCall("Answer", {"city": "Oslo", "population": 7})]))
    assert await structured(runnable, mode) == Answer(city="Oslo", population=7)
    body = fake_openai.requests[-1].body or {}
    assert "response_format" not in body and "format" not in body.get("text", {})
    [tool] = body["tools"]
    assert (tool.get("function") or tool)["name"] == "Answer"
    assert fake_openai.errors == []


def test_a_model_with_structured_outputs_keeps_json_schema(
    fake_openai: FakeOpenAI, make_model: Factory, recwarn: pytest.WarningsRecorder
) -> None:
    runnable = make_model(model="gpt-4o-mini").with_structured_output(Answer)
    assert not [w for w in recwarn if "json_schema" in str(w.message)]
    fake_openai.add(Reply(text='{"city": "Oslo", "population": 7}'))
    assert runnable.invoke("hi") == Answer(city="Oslo", population=7)
    assert (fake_openai.requests[-1].body or {})["response_format"]["type"] == "json_schema"


def test_a_bound_model_name_decides_the_fallback(make_model: Factory) -> None:
    bound = make_model(model="gpt-4o-mini").bind(model="gpt-3.5-turbo")
    with pytest.warns(UserWarning, match="'gpt-3.5-turbo'"):
        runnable = bound.with_structured_output(Answer)
    assert "tools" in runnable.first.kwargs  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["model_kwargs", "top_level"])
async def test_verbosity_and_the_schema_share_text_on_responses(
    fake_openai: FakeOpenAI, make_model: Factory, where: str, mode: str
) -> None:
    given: dict[str, Any] = (
        {"model_kwargs": {"text": {"verbosity": "high"}}}
        if where == "model_kwargs"
        else {"verbosity": "high"}
    )
    runnable = make_model(model="gpt-5.4", api="responses", **given).with_structured_output(Answer)
    fake_openai.add(Reply(text='{"city": "Oslo", "population": 7}'))
    assert await structured(runnable, mode) == Answer(city="Oslo", population=7)
    text = (fake_openai.requests[-1].body or {})["text"]
    assert text["verbosity"] == "high"
    assert (text["format"]["type"], text["format"]["name"]) == ("json_schema", "Answer")
    assert fake_openai.errors == []


# --- the chain's output schema ------------------------------------------------------------


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
@pytest.mark.parametrize("api", APIS)
def test_the_output_schema_is_the_users_class(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, method: str
) -> None:
    runnable = make_model(api=api).with_structured_output(Answer, method=method)
    assert runnable.get_output_schema() is Answer
    assert runnable.get_output_jsonschema()["title"] == "Answer"
    if method == "function_calling":
        fake_openai.add(Reply(tool_calls=[ToolCall("Answer", {"city": "Rome", "population": 3})]))
    else:
        fake_openai.add(Reply(text='{"city": "Rome", "population": 3}'))
    assert runnable.invoke("hi") == Answer(city="Rome", population=3)


def test_a_dict_schema_has_no_class_to_show(make_model: Factory) -> None:
    runnable = make_model().with_structured_output(Answer.model_json_schema())
    assert runnable.get_output_jsonschema().get("title") != "Answer"


# --- a reply the SDK's parse() already parsed ---------------------------------------------------


def test_an_sdk_parsed_chat_completion_keeps_its_parsed_object(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text='{"city": "Lima", "population": 10}'))
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], response_format=Answer
    )
    result = make_model()._create_chat_result(completion)
    message = result.generations[0].message
    assert message.additional_kwargs["parsed"] == Answer(city="Lima", population=10)
    assert message.text == '{"city": "Lima", "population": 10}'


async def test_an_sdk_parsed_response_keeps_its_parsed_object(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text='{"city": "Quito", "population": 2}'))
    client = openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    response = await client.responses.parse(model="gpt-4o-mini", input="hi", text_format=Answer)
    result = make_model()._create_chat_result(response)
    message = result.generations[0].message
    assert message.additional_kwargs["parsed"] == Answer(city="Quito", population=2)
    assert message.response_metadata.get("api", "responses") == "responses"


def test_a_plain_reply_gets_no_parsed_key(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Reply(text="plain"))
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    message = make_model()._create_chat_result(completion).generations[0].message
    assert "parsed" not in message.additional_kwargs
    assert message.text == "plain"
