"""ParamChat inside LCEL chains and LangChain agents, on both APIs, against the scripted server.

The agent tests run real ``langchain.agents.create_agent`` loops: the server scripts the
model's tool calls, the tools really run, and each follow-up request must carry their
results in the shape of the API in use.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langchain_core.output_parsers.openai_tools import JsonOutputToolsParser, PydanticToolsParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import BaseTool, tool
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]
QUESTION = "What is the weather and the local time in Paris?"
FINAL = "It is sunny in Paris and the local time is 14:05."


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Toolbox:
    """Two tools that record every call they get."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tools: list[BaseTool] = field(default_factory=list)

    def __post_init__(self) -> None:
        @tool
        def get_weather(city: str) -> str:
            """Get the current weather for a city."""
            self.calls.append(("get_weather", {"city": city}))
            return f"Sunny, 24 C in {city}"

        @tool
        def get_time(city: str, timezone: str = "local") -> str:
            """Get the current time in a city."""
            self.calls.append(("get_time", {"city": city, "timezone": timezone}))
            return f"14:05 ({timezone}) in {city}"

        self.tools = [get_weather, get_time]


@pytest.fixture
def toolbox() -> Toolbox:
    return Toolbox()


def script_two_step_loop(server: FakeOpenAI) -> None:
    server.add(
        Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_weather")]),
        Reply(
            tool_calls=[ToolCall("get_time", {"city": "Paris", "timezone": "CET"}, id="call_time")]
        ),
        Reply(text=FINAL),
    )


def tool_results(body: dict[str, Any], api: str) -> list[tuple[str, str]]:
    """Return (call id, output) for every tool result a request body carries."""
    if api == "chat_completions":
        return [(m["tool_call_id"], m["content"]) for m in body["messages"] if m["role"] == "tool"]
    return [
        (item["call_id"], item["output"])
        for item in body["input"]
        if item.get("type") == "function_call_output"
    ]


def tool_calls_sent(body: dict[str, Any], api: str) -> list[str]:
    """Return the call ids of the assistant tool calls replayed in a request body."""
    if api == "chat_completions":
        return [
            c["id"] for m in body["messages"] if m["role"] == "assistant" for c in m["tool_calls"]
        ]
    return [item["call_id"] for item in body["input"] if item.get("type") == "function_call"]


def assert_two_step_loop(server: FakeOpenAI, toolbox: Toolbox, api: str, *, stream: bool) -> None:
    assert toolbox.calls == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Paris", "timezone": "CET"}),
    ]
    requests = server.requests
    assert len(requests) == 3
    assert {r.api for r in requests} == {api}
    assert all(bool(r.body.get("stream")) is stream for r in requests)
    first, second, third = (r.body for r in requests)
    assert tool_results(first, api) == []
    assert tool_results(second, api) == [("call_weather", "Sunny, 24 C in Paris")]
    assert tool_calls_sent(second, api) == ["call_weather"]
    assert tool_results(third, api) == [
        ("call_weather", "Sunny, 24 C in Paris"),
        ("call_time", "14:05 (CET) in Paris"),
    ]
    assert tool_calls_sent(third, api) == ["call_weather", "call_time"]
    for body in (first, second, third):
        names = [t["function"]["name"] if "function" in t else t["name"] for t in body["tools"]]
        assert names == ["get_weather", "get_time"]
    assert server.errors == []


def assert_final_state(messages: list[Any]) -> None:
    kinds = [type(m).__name__ for m in messages]
    assert kinds == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert messages[-1].text == FINAL
    assert [m.tool_call_id for m in messages if isinstance(m, ToolMessage)] == [
        "call_weather",
        "call_time",
    ]


# --- agent loops ---------------------------------------------------------------------------------


def test_agent_invoke_runs_the_tools_and_answers(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, toolbox: Toolbox
) -> None:
    script_two_step_loop(fake_openai)
    agent = create_agent(make_model(api=api), tools=toolbox.tools)

    state = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})

    assert_final_state(state["messages"])
    assert state["messages"][-1].response_metadata["api"] == api
    assert_two_step_loop(fake_openai, toolbox, api, stream=False)


async def test_agent_ainvoke_runs_the_tools_and_answers(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, toolbox: Toolbox
) -> None:
    script_two_step_loop(fake_openai)
    agent = create_agent(make_model(api=api), tools=toolbox.tools)

    state = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})

    assert_final_state(state["messages"])
    assert_two_step_loop(fake_openai, toolbox, api, stream=False)


def _streamed_answer(events: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """Return the final answer's streamed text and the last state from (mode, data) events."""
    tokens = [
        data[0].text
        for mode, data in events
        if mode == "messages" and isinstance(data[0], AIMessageChunk)
    ]
    states = [data for mode, data in events if mode == "values"]
    return "".join(tokens), states[-1]["messages"]


def test_agent_stream_streams_tokens_and_runs_the_tools(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, toolbox: Toolbox
) -> None:
    script_two_step_loop(fake_openai)
    agent = create_agent(make_model(api=api), tools=toolbox.tools)

    events = list(
        agent.stream(
            {"messages": [{"role": "user", "content": QUESTION}]},
            stream_mode=["messages", "values"],
        )
    )

    text, messages = _streamed_answer(events)
    assert text == FINAL
    assert_final_state(messages)
    assert_two_step_loop(fake_openai, toolbox, api, stream=True)


async def test_agent_astream_streams_tokens_and_runs_the_tools(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, toolbox: Toolbox
) -> None:
    script_two_step_loop(fake_openai)
    agent = create_agent(make_model(api=api), tools=toolbox.tools)

    events = [
        event
        async for event in agent.astream(
            {"messages": [{"role": "user", "content": QUESTION}]},
            stream_mode=["messages", "values"],
        )
    ]

    text, messages = _streamed_answer(events)
    assert text == FINAL
    assert_final_state(messages)
    assert_two_step_loop(fake_openai, toolbox, api, stream=True)


def test_agent_with_parallel_tool_calls_sends_every_result(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, toolbox: Toolbox
) -> None:
    fake_openai.add(
        Reply(
            tool_calls=[
                ToolCall("get_weather", {"city": "Paris"}, id="call_a"),
                ToolCall("get_weather", {"city": "Rome"}, id="call_b"),
            ]
        ),
        Reply(text="Sunny in both."),
    )
    agent = create_agent(make_model(api=api), tools=toolbox.tools)
    state = agent.invoke({"messages": [{"role": "user", "content": "Paris and Rome?"}]})
    assert state["messages"][-1].text == "Sunny in both."
    assert sorted(c[1]["city"] for c in toolbox.calls) == ["Paris", "Rome"]
    assert tool_results(fake_openai.requests[1].body, api) == [
        ("call_a", "Sunny, 24 C in Paris"),
        ("call_b", "Sunny, 24 C in Rome"),
    ]
    assert fake_openai.errors == []


# --- reasoning items round-trip through an agent (Responses) -------------------------------------

SUMMARY = ["The user wants the weather.", "I should call get_weather for Paris."]


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_reasoning_with_tools_and_summaries_round_trips(
    fake_openai: FakeOpenAI, make_model: Factory, toolbox: Toolbox, stream: bool
) -> None:
    fake_openai.add(
        Reply(
            reasoning_summary=SUMMARY,
            encrypted_content="enc",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_weather")],
        ),
        Reply(text="Sunny in Paris."),
    )
    model = make_model(
        model="gpt-5-mini", reasoning={"effort": "low", "summary": "auto"}, store=False
    )
    agent = create_agent(model, tools=toolbox.tools)
    request = {"messages": [{"role": "user", "content": "Weather in Paris?"}]}

    if stream:
        events = list(agent.stream(request, stream_mode=["messages", "values"]))
        text, messages = _streamed_answer(events)
        assert text == "Sunny in Paris."
    else:
        messages = agent.invoke(request)["messages"]
    assert messages[-1].text == "Sunny in Paris."
    assert toolbox.calls == [("get_weather", {"city": "Paris"})]

    first, second = (r.body for r in fake_openai.requests)
    assert [r.api for r in fake_openai.requests] == ["responses", "responses"]
    assert first["reasoning"] == {"effort": "low", "summary": "auto"}
    assert first["store"] is False
    assert "reasoning.encrypted_content" in first["include"]

    tool_turn = messages[1]
    assert isinstance(tool_turn, AIMessage)
    assert any("reasoning.summary" in r for r in tool_turn.response_metadata["route_reasons"])
    (reasoning_block,) = [b for b in tool_turn.content if b["type"] == "reasoning"]
    assert reasoning_block["id"].startswith("rs_")
    assert [s["text"] for s in reasoning_block["summary"]] == SUMMARY

    (reasoning_item,) = [i for i in second["input"] if i.get("type") == "reasoning"]
    assert reasoning_item == {
        "type": "reasoning",
        "id": reasoning_block["id"],
        "summary": [{"type": "summary_text", "text": t} for t in SUMMARY],
        "encrypted_content": "enc",
    }
    kinds = [i.get("type", i.get("role")) for i in second["input"]]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output"]
    assert fake_openai.errors == []


# --- LCEL chains ---------------------------------------------------------------------------------


class GetWeather(BaseModel):
    """Get the current weather for a city."""

    city: str


PROMPT = ChatPromptTemplate.from_messages(
    [("system", "You answer with a tool call."), ("human", "{question}")]
)


def test_chain_with_tools_and_parser_streams_partial_calls(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(
        Reply(
            tool_calls=[ToolCall("GetWeather", {"city": "San Francisco"}, id="call_1")],
            chunk_size=2,
        )
    )
    chain = PROMPT | make_model(api=api).bind_tools([GetWeather]) | JsonOutputToolsParser()

    partials = list(chain.stream({"question": "Weather in SF?"}))

    assert partials[-1] == [{"type": "GetWeather", "args": {"city": "San Francisco"}}]
    cities = [p[0]["args"].get("city", "") for p in partials if p and p[0].get("args")]
    assert len(cities) > 2
    assert all(b.startswith(a) for a, b in itertools.pairwise(cities))
    body = fake_openai.requests[0].body
    sent = body["messages"] if api == "chat_completions" else body["input"]
    assert sent[0]["content"] == "You answer with a tool call."
    assert fake_openai.errors == []


def test_chain_with_tools_and_parser_batch(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    cities = ["Paris", "Rome", "Oslo"]
    fake_openai.add(
        *[Reply(tool_calls=[ToolCall("GetWeather", {"city": c}, id=f"c_{c}")]) for c in cities]
    )
    chain = (
        PROMPT
        | make_model(api=api).bind_tools([GetWeather])
        | PydanticToolsParser(tools=[GetWeather])
    )

    results = chain.batch([{"question": f"Weather in {c}?"} for c in cities])

    assert all(len(r) == 1 and isinstance(r[0], GetWeather) for r in results)
    assert sorted(r[0].city for r in results) == sorted(cities)
    assert len(fake_openai.requests) == 3
    assert fake_openai.errors == []


async def test_chain_with_tools_abatch(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(
        *[Reply(tool_calls=[ToolCall("GetWeather", {"city": c})]) for c in ("Lima", "Quito")]
    )
    chain = (
        PROMPT
        | make_model(api=api).bind_tools([GetWeather])
        | PydanticToolsParser(tools=[GetWeather], first_tool_only=True)
    )
    results = await chain.abatch([{"question": "a"}, {"question": "b"}])
    assert sorted(r.city for r in results) == ["Lima", "Quito"]


class Forecast(BaseModel):
    """A weather forecast."""

    city: str
    summary: str
    high_c: int


def test_chain_with_structured_output_streams(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    forecast = Forecast(city="Paris", summary="Sunny with a light breeze", high_c=24)
    fake_openai.add(Reply(text=forecast.model_dump_json(), chunk_size=3))
    chain = PROMPT | make_model(api=api).with_structured_output(Forecast, stream_partial=True)

    streamed = list(chain.stream({"question": "Forecast for Paris?"}))

    assert len(streamed) > 3
    assert streamed[-1] == forecast
    summaries = [p["summary"] for p in streamed[:-1] if p.get("summary")]
    assert all(b.startswith(a) for a, b in itertools.pairwise(summaries))
    assert fake_openai.requests[0].body["stream"] is True
    assert fake_openai.errors == []


def test_chain_with_structured_output_batch(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    forecasts = [
        Forecast(city="Paris", summary="Sunny", high_c=24),
        Forecast(city="Oslo", summary="Rain", high_c=11),
    ]
    fake_openai.add(*[Reply(text=f.model_dump_json()) for f in forecasts])
    chain = PROMPT | make_model(api=api).with_structured_output(Forecast)

    results = chain.batch([{"question": "Paris?"}, {"question": "Oslo?"}])

    assert sorted(results, key=lambda f: f.city) == sorted(forecasts, key=lambda f: f.city)
    assert len(fake_openai.requests) == 2
    assert fake_openai.errors == []


def test_batch_returns_errors_per_input_with_return_exceptions(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text='{"city": "Paris", "summary": "Sunny", "high_c": 24}'))
    fake_openai.add(Reply(refusal="I can't forecast that."))
    chain = PROMPT | make_model(api=api).with_structured_output(Forecast)
    results = chain.batch(
        [{"question": "a"}, {"question": "b"}],
        config={"max_concurrency": 1},
        return_exceptions=True,
    )
    assert results[0] == Forecast(city="Paris", summary="Sunny", high_c=24)
    assert "I can't forecast that." in str(results[1])
