"""Bad or unbounded input gets a package error before the network (issue 20, item 5).

Each example of the issue's "Raw exceptions and unbounded input" list, on both APIs and in
every call mode where it applies, through the real SDK against FakeOpenAI: a package error
(never ``RecursionError``, ``KeyError`` or a connection error) and, for input, zero requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.bounds import MAX_JSON_DEPTH
from langchain_paramchat.errors import (
    MessageConversionError,
    OptionError,
    ParamChatError,
    ResponseFormatError,
    StructuredOutputError,
    ToolSchemaError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]


def deep(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


async def run(chat: Any, mode: str, text: Any = "hi", **kwargs: Any) -> Any:
    if mode == "invoke":
        return chat.invoke(text, **kwargs)
    if mode == "ainvoke":
        return await chat.ainvoke(text, **kwargs)
    if mode == "stream":
        return list(chat.stream(text, **kwargs))
    return [c async for c in chat.astream(text, **kwargs)]


DEEP_OPTIONS = {
    "reasoning": lambda: deep(10_000),
    "request_metadata": lambda: deep(10_000),
    "response_format": lambda: {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": deep(10_000)},
    },
    "extra_body": lambda: deep(10_000),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("option", list(DEEP_OPTIONS))
async def test_a_10000_deep_value_is_an_option_error_not_a_recursion_error(
    fake_openai: FakeOpenAI, make_model: Factory, option: str, api: str, mode: str
) -> None:
    with pytest.raises(OptionError, match=f"nests more than {MAX_JSON_DEPTH} levels") as caught:
        await run(make_model(api=api), mode, **{option: DEEP_OPTIONS[option]()})
    assert caught.value.option == option
    assert len(str(caught.value)) < 400
    assert fake_openai.requests == []


@pytest.mark.parametrize("option", ["reasoning", "request_metadata", "extra_body"])
def test_a_10000_deep_field_fails_when_the_model_is_built_or_first_used(
    fake_openai: FakeOpenAI, make_model: Factory, option: str
) -> None:
    with pytest.raises(OptionError, match="nests more than"):
        make_model(**{option: DEEP_OPTIONS[option]()}).invoke("hi")
    assert fake_openai.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_5000_deep_tool_call_arguments_in_the_history_are_refused(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    history = [
        HumanMessage("hi"),
        AIMessage("", tool_calls=[{"name": "lookup", "args": deep(5_000), "id": "call_1"}]),
        ToolMessage("done", tool_call_id="call_1"),
    ]
    with pytest.raises(MessageConversionError, match=r"'lookup'.*nests more than"):
        await run(make_model(api=api), mode, history)
    assert fake_openai.requests == []


@pytest.mark.parametrize("strict", [True, False])
def test_10000_deep_schemas_are_refused_by_bind_tools_and_structured_output(
    fake_openai: FakeOpenAI, make_model: Factory, strict: bool
) -> None:
    schema = {"type": "object", "properties": {"a": deep(10_000)}}
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    with pytest.raises(ToolSchemaError, match="nests more than"):
        make_model().bind_tools([tool], strict=strict)
    with pytest.raises(ParamChatError, match="nests more than"):
        make_model().with_structured_output(
            {"title": "T", **schema}, method="json_schema", strict=strict
        ).invoke("hi")
    assert fake_openai.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens", "max_output_tokens"])
async def test_a_token_limit_of_10_to_the_100_is_refused(
    fake_openai: FakeOpenAI, make_model: Factory, name: str, api: str, mode: str
) -> None:
    with pytest.raises(OptionError, match="between 1 and 2147483647"):
        await run(make_model(api=api), mode, **{name: 10**100})
    with pytest.raises(OptionError, match="between 1 and 2147483647"):
        make_model(api=api, **{name: 10**100})
    assert fake_openai.requests == []
    assert make_model(max_tokens=2**31 - 1).max_tokens == 2**31 - 1


def test_max_tool_calls_has_a_range_too(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    with pytest.raises(OptionError, match="max_tool_calls"):
        make_model(api="responses").invoke("hi", max_tool_calls=10**100)
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"x-tenant": "a\r\nx-injected: 1"},
        {"x-tenant": "a\nb"},
        {"api-key": "secret-value\r\nx: y"},
        {"bad\r\nname": "v"},
        {"x-tenant": 5},
    ],
    ids=["crlf", "lf", "credential", "name", "not-str"],
)
def test_header_values_with_cr_or_lf_fail_when_the_model_is_built(
    fake_openai: FakeOpenAI, make_model: Factory, headers: dict[str, Any]
) -> None:
    with pytest.raises(OptionError, match="default_headers") as caught:
        make_model(default_headers=headers)
    assert "secret-value" not in str(caught.value)
    assert fake_openai.requests == []


REF_CYCLES = {
    "A->B->A": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
    "A->A": {"A": {"$ref": "#/$defs/A"}},
    "anyOf": {"A": {"anyOf": [{"$ref": "#/$defs/B"}]}, "B": {"$ref": "#/$defs/A"}},
}


@pytest.mark.parametrize("case", list(REF_CYCLES))
def test_a_ref_alias_cycle_is_refused_in_strict_mode_with_its_path(
    fake_openai: FakeOpenAI, make_model: Factory, case: str
) -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/A"}},
        "required": ["x"],
        "$defs": REF_CYCLES[case],
    }
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    with pytest.raises(ToolSchemaError, match=r"cycle that never reaches a schema: A -> ") as e:
        make_model().bind_tools([tool], strict=True)
    assert e.value.path == "tools[f].parameters.$defs.A"
    with pytest.raises(ToolSchemaError, match="cycle"):
        make_model().with_structured_output(
            {"title": "T", **schema}, method="json_schema", strict=True
        ).invoke("hi")
    assert fake_openai.requests == []


def test_a_recursive_schema_that_reaches_a_type_is_still_fine(make_model: Factory) -> None:
    schema = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}},
        "required": ["node"],
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                "required": ["next"],
            }
        },
    }
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    make_model().bind_tools([tool], strict=True)


def _sse(*events: dict[str, Any]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


@pytest.mark.parametrize(
    "delta", [5, None, ["a"], {"text": "a"}], ids=["int", "null", "list", "dict"]
)
@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_responses_stream_delta_that_is_not_text_is_a_format_error(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str, delta: Any
) -> None:
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress"}
    events = [
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
         "item_id": "msg_1", "delta": "Alpha "},
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
         "item_id": "msg_1", "delta": delta},
    ]  # fmt: skip
    fake_openai.add(Fault.malformed(_sse(*events), content_type="text/event-stream"))
    chat = make_model(api="responses")
    if delta is None:  # absent text is no text: the stream then just ends early
        with pytest.raises(ParamChatError):
            await run(chat, mode)
        return
    with pytest.raises(ResponseFormatError, match="delta that is not text"):
        await run(chat, mode)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("reply", [{}, {"id": None}, {"id": "../files/x"}, {"id": 7}])
async def test_a_background_reply_without_a_usable_id_is_a_format_error(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str, reply: dict[str, Any]
) -> None:
    body = {"object": "response", "status": "queued", "output": [], **reply}
    fake_openai.add(Fault.malformed(json.dumps(body)))
    with pytest.raises(ResponseFormatError, match="cannot be polled"):
        await run(make_model(api="responses"), mode, background=True)
    assert len(fake_openai.requests) == 1  # no poll URL was built from it


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    "response_id", ["../files/x", "resp_1/cancel", "resp 1", "", "r" * 300, "resp_1?x=1", 7]
)
def test_resume_response_checks_the_id_before_building_a_url(
    fake_openai: FakeOpenAI, make_model: Factory, response_id: Any, use_async: bool
) -> None:
    model = make_model()
    with pytest.raises(OptionError, match="response_id"):
        if use_async:
            asyncio.run(model.aresume_response(response_id))
        else:
            model.resume_response(response_id)
    assert fake_openai.requests == []


def test_model_and_model_name_that_disagree_are_refused() -> None:
    with pytest.raises(OptionError, match=r"model_name.*disagrees with model='gpt-4o'"):
        ParamChat(api_key="sk-x", model="gpt-4o", model_name="gpt-4.1")
    assert ParamChat(api_key="sk-x", model="gpt-4o", model_name="gpt-4o").model == "gpt-4o"
    assert ParamChat(api_key="sk-x", model_name="gpt-4.1").model == "gpt-4.1"


# --- the fake server answers what it cannot serve -------------------------------------------------


def test_the_fake_server_answers_a_deeply_nested_body(fake_openai: FakeOpenAI) -> None:
    body = b'{"model": "gpt-4o-mini", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    url = f"{fake_openai.base_url}/chat/completions"
    answer = httpx2.post(url, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "nests too deeply" in answer.json()["error"]["message"]
    hello = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx2.post(url, json=hello).status_code == 200  # and it still serves


def test_the_fake_server_answers_a_70_kib_header(fake_openai: FakeOpenAI) -> None:
    url = f"{fake_openai.base_url}/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx2.post(url, json=body, headers={"x-big": "a" * 70 * 1024})
    assert answer.status_code == 431
    assert "larger than 64 KiB" in answer.json()["error"]["message"]
    assert httpx2.post(url, json=body).status_code == 200


# --- a server's reply nesting thousands of levels ---------------------------------------------

DEEP_ARGUMENTS = '{"city": ' + "[" * 5000 + "]" * 5000 + ', "temp": 1}'


class _Weather(BaseModel):
    city: str
    temp: int


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_tool_call_arguments_nesting_5000_levels_are_an_invalid_tool_call(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    # They used to raise a raw RecursionError out of the reply parser.
    fake_openai.add(Reply(tool_calls=[ToolCall("_Weather", DEEP_ARGUMENTS, id="call_1")]))
    message = asyncio.run(run(make_model(api=api).bind_tools([_Weather]), mode))
    assert message.tool_calls == []
    [invalid] = message.invalid_tool_calls
    assert invalid["name"] == "_Weather" and "nest too deeply" in (invalid["error"] or "")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["json_schema", "function_calling", "bind_tools"])
def test_structured_output_nesting_5000_levels_is_a_structured_output_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str, how: str
) -> None:
    if how == "json_schema":
        fake_openai.add(Reply(text=DEEP_ARGUMENTS))
    else:
        fake_openai.add(Reply(tool_calls=[ToolCall("_Weather", DEEP_ARGUMENTS, id="call_1")]))
    chat = make_model(api=api)
    runnable = (
        chat.bind_tools([_Weather], response_format=_Weather)
        if how == "bind_tools"
        else chat.with_structured_output(_Weather, method=how)
    )
    if how == "bind_tools" and mode.endswith("stream"):
        # A stream's chunks carry the arguments as text; nothing is parsed or raised.
        chunks = asyncio.run(run(runnable, mode))
        assert chunks
        return
    with pytest.raises(StructuredOutputError, match="" if how == "bind_tools" else "nest"):
        # (bind_tools: no valid tool call, so the empty text is read as the answer)
        asyncio.run(run(runnable, mode))
