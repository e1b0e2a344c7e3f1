"""Custom (free-form) tools and tool extras, on both APIs, through the SDK and the fake server.

Three ways to declare a custom tool are sent as OpenAI custom tools (never as function
tools): langchain-openai's ``custom_tool``, a raw ``{"type": "custom", ...}`` dict and
ParamChat's ``custom_tool`` with a ``Grammar``. The model's calls come back as tool calls
with ``args={"input": <raw text>}``, the same from invoke and from merged streams, and
their results go back as custom tool outputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import ToolSchemaError
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall
from langchain_paramchat.tools import Grammar, custom_tool
from tests.integration.reply_modes import MODES, run
from tests.openapi_spec import spec_errors

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
SUM = Grammar(r"^\d+(\+\d+)*$", syntax="regex")
INPUT = 'print("a \\"quoted\\" {brace}")\n'


@custom_tool(grammar=SUM)
def add_up(expression: str) -> str:
    """Add numbers written like 1+2+3."""
    return str(sum(int(n) for n in expression.split("+")))


def _lc_openai_tool() -> Any:
    lc_openai = pytest.importorskip("langchain_openai")

    @lc_openai.custom_tool
    def run_code(code: str) -> str:
        """Run Python code."""
        return "27"

    return run_code


def _declared(form: str) -> tuple[Any, str]:
    if form == "langchain_openai":
        return _lc_openai_tool(), "run_code"
    if form == "raw_dict":
        return {"type": "custom", "name": "note", "description": "Take a note."}, "note"
    return add_up, "add_up"


def _merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def _without_ids(content: Any) -> Any:
    if isinstance(content, str):
        return content
    return [{k: v for k, v in b.items() if k not in ("id", "call_id")} for b in content]


def _checked(server: FakeOpenAI) -> list[dict[str, Any]]:
    assert server.errors == []
    bodies = []
    for request in server.requests:
        assert request.body is not None
        assert spec_errors(request.path, request.body) == []
        bodies.append(request.body)
    return bodies


@pytest.mark.parametrize("form", ["langchain_openai", "raw_dict", "paramchat"])
@pytest.mark.parametrize("api", APIS)
def test_custom_tools_are_sent_as_custom_tools_and_calls_come_back(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, form: str
) -> None:
    declared, name = _declared(form)
    call = ToolCall(name, INPUT, custom=True)
    fake_openai.add(*[Reply(tool_calls=[call], chunk_size=3) for _ in range(4)])
    model = make_model(api=api).bind_tools([declared])
    invoked = model.invoke("go")
    ainvoked = asyncio.run(model.ainvoke("go"))
    streamed = _merged(list(model.stream("go")))

    async def collect() -> list[AIMessageChunk]:
        return [c async for c in model.astream("go")]

    astreamed = _merged(asyncio.run(collect()))
    for answer in (invoked, ainvoked, streamed, astreamed):
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == [(name, {"input": INPUT})]
        assert answer.invalid_tool_calls == []
    assert _without_ids(streamed.content) == _without_ids(invoked.content)
    bodies = _checked(fake_openai)
    sent = bodies[0]["tools"]
    assert len(sent) == 1
    assert sent[0]["type"] == "custom"
    spec = sent[0]["custom"] if api == "chat_completions" else sent[0]
    assert spec["name"] == name
    if form == "paramchat":
        grammar = {"syntax": "regex", "definition": r"^\d+(\+\d+)*$"}
        expected = (
            {"type": "grammar", "grammar": grammar}
            if api == "chat_completions"
            else {"type": "grammar", **grammar}
        )
        assert spec["format"] == expected
        assert spec["description"] == "Add numbers written like 1+2+3."


@pytest.mark.parametrize("form", ["langchain_openai", "paramchat"])
@pytest.mark.parametrize("api", APIS)
def test_a_custom_tool_round_trip_sends_custom_call_and_output(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, form: str
) -> None:
    declared, name = _declared(form)
    fake_openai.add(Reply(tool_calls=[ToolCall(name, "1+2", custom=True)]), Reply(text="3"))
    model = make_model(api=api).bind_tools([declared])
    question = HumanMessage("What is 1+2?")
    asked = model.invoke([question])
    (call,) = asked.tool_calls
    result = declared.invoke(call)
    assert isinstance(result, ToolMessage)
    assert model.invoke([question, asked, result]).text == "3"
    second = _checked(fake_openai)[1]
    output = "3" if form == "paramchat" else "27"
    if api == "chat_completions":
        assistant, tool_message = second["messages"][1:]
        assert assistant["tool_calls"] == [
            {"id": call["id"], "type": "custom", "custom": {"name": name, "input": "1+2"}}
        ]
        assert tool_message["tool_call_id"] == call["id"]
        assert output in str(tool_message["content"])
    else:
        call_item, output_item = second["input"][1:]
        assert (call_item["type"], call_item["call_id"], call_item["input"]) == (
            "custom_tool_call",
            call["id"],
            "1+2",
        )
        assert output_item["type"] == "custom_tool_call_output"
        assert output_item["call_id"] == call["id"]
        assert output in str(output_item["output"])


def test_a_chat_completions_custom_call_continues_on_responses(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    # The turn came from Chat Completions (no item blocks): the bound tool says it is custom.
    fake_openai.add(Reply(text="3"))
    asked = AIMessage(
        content="", tool_calls=[{"name": "add_up", "args": {"input": "1+2"}, "id": "call_7"}]
    )
    history = [HumanMessage("1+2?"), asked, add_up.invoke(asked.tool_calls[0])]
    make_model(api="responses").bind_tools([add_up]).invoke(history)
    sent = _checked(fake_openai)[0]["input"]
    assert sent[1] == {
        "type": "custom_tool_call",
        "call_id": "call_7",
        "name": "add_up",
        "input": "1+2",
    }
    assert sent[2] == {"type": "custom_tool_call_output", "call_id": "call_7", "output": "3"}


def _lc_openai_result(output: str, call_id: str) -> ToolMessage:
    # What langchain-openai's custom_tool returns for a call: the output as a content block.
    return ToolMessage(
        [{"type": "custom_tool_call_output", "output": output}], tool_call_id=call_id
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_chatopenai_custom_call_history_replays_its_raw_input(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    # ChatOpenAI's Responses history: the call item as a block, its args as {"__arg1": text}.
    asked = AIMessage(
        [
            {
                "type": "custom_tool_call",
                "id": "ctc_1",
                "call_id": "call_9",
                "name": "add_up",
                "input": "1+2",
            }
        ],
        tool_calls=[{"name": "add_up", "args": {"__arg1": "1+2"}, "id": "call_9"}],
    )
    history = [HumanMessage("1+2?"), asked, _lc_openai_result("3", "call_9")]
    fake_openai.add(Reply(text="three"))
    model = make_model(api="responses").bind_tools([add_up])
    assert asyncio.run(run(model, mode, history)).text == "three"
    sent = _checked(fake_openai)[0]["input"]
    assert sent[1] == {
        "type": "custom_tool_call",
        "id": "ctc_1",
        "call_id": "call_9",
        "name": "add_up",
        "input": "1+2",
    }
    assert sent[2] == {"type": "custom_tool_call_output", "call_id": "call_9", "output": "3"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_a_single_string_argument_is_a_custom_calls_raw_input(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    asked = AIMessage("", tool_calls=[{"name": "add_up", "args": {"__arg1": "1+2"}, "id": "c1"}])
    history = [HumanMessage("1+2?"), asked, _lc_openai_result("3", "c1")]
    fake_openai.add(Reply(text="three"))
    model = make_model(api=api).bind_tools([add_up])
    assert asyncio.run(run(model, mode, history)).text == "three"
    body = _checked(fake_openai)[0]
    if api == "chat_completions":
        assistant, answer = body["messages"][1:]
        assert assistant["tool_calls"] == [
            {"id": "c1", "type": "custom", "custom": {"name": "add_up", "input": "1+2"}}
        ]
        assert answer["content"] in ("3", [{"type": "text", "text": "3"}])
    else:
        assert body["input"][1]["input"] == "1+2"
        assert body["input"][2] == {
            "type": "custom_tool_call_output",
            "call_id": "c1",
            "output": "3",
        }


def test_paramchat_custom_tools_run_sync_and_async() -> None:
    assert add_up.invoke("1+2+3") == "6"

    @custom_tool(name="shout")
    async def loud(text: str) -> str:
        return text.upper()

    assert asyncio.run(loud.ainvoke({"input": "hi"})) == "HI"
    assert loud.name == "shout"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Grammar("start: x", syntax="ebnf"), "grammar syntax 'ebnf' is not allowed"),  # type: ignore[arg-type]
        (lambda: Grammar("  "), "non-empty string"),
        (lambda: custom_tool(lambda a, b: a), "takes the model's input as its one argument"),
    ],
)
def test_bad_custom_tool_declarations_fail_clearly(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(ToolSchemaError, match=message):
        make()


# --- tool extras --------------------------------------------------------------------------------


@tool(extras={"defer_loading": True, "async": True, "cache_control": {"type": "ephemeral"}})
def slow_lookup(query: str) -> str:
    """Look something up slowly."""
    return query


@pytest.mark.parametrize("how", ["invoke", "astream"])
def test_tool_extras_and_raw_async_reach_the_wire(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    chat_shaped = {
        "type": "function",
        "function": {"name": "later", "parameters": {"type": "object", "properties": {}}},
        "async": True,
    }
    flat = {"type": "function", "name": "flat", "parameters": None, "strict": False, "async": False}
    model = make_model().bind_tools([slow_lookup, chat_shaped, flat])
    if how == "invoke":
        answer = model.invoke("go")
    else:

        async def collect() -> list[AIMessageChunk]:
            return [c async for c in model.astream("go")]

        answer = _merged(asyncio.run(collect()))
    assert answer.response_metadata["api"] == "responses"
    assert answer.response_metadata["route_reasons"] == [
        "tool 'slow_lookup (async, defer_loading)' needs the Responses API",
        "tool 'later (async)' needs the Responses API",
        "tool 'flat (async)' needs the Responses API",
    ]
    tools = _checked(fake_openai)[0]["tools"]
    assert [(t["name"], t.get("defer_loading"), t.get("async")) for t in tools] == [
        ("slow_lookup", True, True),
        ("later", None, True),
        ("flat", None, False),
    ]
    assert "cache_control" not in tools[0]  # another provider's extra: not OpenAI's to send
