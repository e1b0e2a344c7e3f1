"""Tools as langchain-core converts them, and ``bind_tools(..., response_format=...)``.

Code written for ChatOpenAI binds plain ``Tool``s (no ``args_schema``) and passes a
``response_format`` next to the tools; both must behave as they do there, on either API,
invoke and stream, sync and async, through the SDK against the scripted server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.tools import Tool
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall
from tests.integration.reply_modes import MODES, run

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]


def sent_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a body's function tools in the Responses shape, whichever API it went to."""
    return [{**t, **t.pop("function", {})} for t in (dict(t) for t in body["tools"])]


# --- a plain Tool gets one string argument -------------------------------------------------


def search(query: str) -> str:
    return f"results for {query!r}"


PLAIN = Tool(name="search", func=search, description="Search the web for a query.")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_plain_tool_is_asked_for_and_receives_one_string(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(tool_calls=[ToolCall("search", {"__arg1": "cheap flights"})]))
    reply = await run(make_model(api=api).bind_tools([PLAIN]), mode)
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["parameters"] == {
        "type": "object",
        "properties": {"__arg1": {"type": "string"}},
        "required": ["__arg1"],
    }
    [call] = reply.tool_calls
    assert call["args"] == {"__arg1": "cheap flights"}
    # The tool runs on the string, not on a dict of {args, config, kwargs}.
    assert PLAIN.invoke(call).content == "results for 'cheap flights'"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_a_plain_tool_with_strict_is_a_valid_strict_schema(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(tool_calls=[ToolCall("search", {"__arg1": "x"})]))
    reply = make_model(api=api).bind_tools([PLAIN], strict=True).invoke("hi")
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is True
    assert tool["parameters"]["additionalProperties"] is False
    assert reply.tool_calls[0]["args"] == {"__arg1": "x"}
    assert fake_openai.errors == []  # the server checks OpenAI's strict-schema rules


# --- bind_tools(tools, response_format=...) --------------------------------------------------


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str
    unit: str = "celsius"


class Forecast(BaseModel):
    """The final answer."""

    summary: str


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_tool_call_reply_with_a_response_format_is_not_parsed(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(tool_calls=[ToolCall("GetWeather", {"city": "Oslo", "unit": None})]))
    model = make_model(api=api).bind_tools([GetWeather], response_format=Forecast)
    reply = await run(model, mode)
    [call] = reply.tool_calls
    assert call["name"] == "GetWeather"
    assert call["args"]["city"] == "Oslo"
    if mode.endswith("invoke"):
        assert reply.additional_kwargs["parsed"] is None
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("api", APIS)
async def test_the_structured_answer_next_to_tools_is_parsed(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text='{"summary": "Sunny all week"}'))
    model = make_model(api=api).bind_tools([GetWeather], response_format=Forecast)
    reply = await run(model, mode)
    assert reply.additional_kwargs["parsed"] == Forecast(summary="Sunny all week")
    body = fake_openai.requests[-1].body or {}
    sent_format = body["response_format"] if api == "chat_completions" else body["text"]["format"]
    assert "Forecast" in str(sent_format)
    assert fake_openai.errors == []


@pytest.mark.parametrize(
    ("api", "strict", "sent"),
    [
        # As ChatOpenAI: strict defaults to True next to a response_format...
        ("auto", None, True),
        ("chat_completions", None, True),
        # ... unless the call goes to the Responses API, or strict=False is asked for.
        ("responses", None, False),
        ("auto", False, False),
        ("auto", True, True),
    ],
)
def test_strict_defaults_follow_chatopenai(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, strict: bool | None, sent: bool
) -> None:
    fake_openai.add(Reply(text='{"summary": "ok"}'))
    model = make_model(api=api).bind_tools([GetWeather], response_format=Forecast, strict=strict)
    model.invoke("hi")
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is sent
    assert fake_openai.errors == []


def test_without_a_response_format_strict_stays_as_the_tool_says(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="ok"))
    make_model().bind_tools([GetWeather]).invoke("hi")
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is False


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("strict", "shown"), [(None, "absent"), (False, False), (True, True)])
async def test_the_bound_tool_dict_shows_strict_only_when_given(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    api: str,
    mode: str,
    strict: bool | None,
    shown: Any,
) -> None:
    # As ChatOpenAI's: no "strict" key unless one was given (or a response_format set it);
    # the server still gets an explicit boolean, so both APIs validate alike.
    bound = make_model(api=api).bind_tools([GetWeather], strict=strict)
    function = bound.kwargs["tools"][0]["function"]  # type: ignore[attr-defined]
    assert function.get("strict", "absent") == shown
    fake_openai.add(Reply(text="ok"))
    await run(bound, mode)
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is bool(strict)
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_a_tool_dicts_own_strict_is_shown_and_sent(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    own = {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {}},
            "strict": True,
        },
    }
    bound = make_model(api=api).bind_tools([own])
    assert bound.kwargs["tools"][0]["function"]["strict"] is True  # type: ignore[attr-defined]
    fake_openai.add(Reply(text="ok"))
    bound.invoke("hi")
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is True
    assert fake_openai.errors == []


def test_a_response_format_bound_for_responses_leaves_strict_unshown(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    # The Responses API needs no strict tools next to text.format: nothing was set.
    bound = make_model(api="responses").bind_tools([GetWeather], response_format=Forecast)
    assert "strict" not in bound.kwargs["tools"][0]["function"]  # type: ignore[attr-defined]
    fake_openai.add(Reply(text='{"summary": "ok"}'))
    assert bound.invoke("hi").additional_kwargs["parsed"] == Forecast(summary="ok")
    [tool] = sent_tools(fake_openai.requests[-1].body or {})
    assert tool["strict"] is False
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_a_json_schema_response_format_next_to_tools(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    schema = {
        "title": "Weather",
        "type": "object",
        "properties": {"summary": {"type": "string"}},
        "required": ["summary"],
    }
    fake_openai.add(Reply(text='{"summary": "rain"}'))
    reply = make_model(api=api).bind_tools([GetWeather], response_format=schema).invoke("hi")
    body = fake_openai.requests[-1].body or {}
    if api == "chat_completions":
        fmt = body["response_format"]["json_schema"]
    else:
        fmt = body["text"]["format"]
    assert fmt["name"] == "Weather"
    assert fmt["strict"] is (api == "chat_completions")
    assert reply.text == '{"summary": "rain"}'
    assert fake_openai.errors == []


def test_an_agents_provider_strategy_format_is_compiled_to_strict(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    # What langchain's create_agent binds for ProviderStrategy(Forecast, strict=True).
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "Forecast", "schema": Forecast.model_json_schema(), "strict": True},
    }
    fake_openai.add(Reply(text='{"summary": "fog"}'))
    make_model().bind_tools([GetWeather], response_format=fmt).invoke("hi")
    sent = (fake_openai.requests[-1].body or {})["response_format"]["json_schema"]
    assert sent["name"] == "Forecast"
    assert sent["schema"]["additionalProperties"] is False
    assert fake_openai.errors == []  # strict-schema rules hold
