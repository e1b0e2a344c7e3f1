"""ParamChat on the Responses API, and the same LangChain result on both APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import APIError
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall, Usage

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def _same(a: AIMessage, b: AIMessage) -> None:
    assert a.text == b.text
    assert [(c["name"], c["args"], c["id"]) for c in a.tool_calls] == [
        (c["name"], c["args"], c["id"]) for c in b.tool_calls
    ]
    assert a.usage_metadata == b.usage_metadata
    for key in ("api", "model_name", "finish_reason", "route_reasons"):
        assert a.response_metadata.get(key) == b.response_metadata.get(key)


@pytest.mark.parametrize("api", APIS)
def test_invoke_and_stream_match_on_both_apis(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    reply = Reply(
        text="Both APIs agree", tool_calls=[ToolCall("f", {"a": 1}, id="call_x")], usage=Usage(8, 5)
    )
    fake_openai.add(reply, reply)
    model = make_model(api=api)
    invoked = model.invoke("x")
    streamed = _merge(list(model.stream("x")))
    _same(invoked, streamed)
    assert invoked.response_metadata["api"] == api
    assert invoked.text == "Both APIs agree"
    assert invoked.tool_calls[0]["args"] == {"a": 1}
    assert invoked.usage_metadata["total_tokens"] == 13
    assert invoked.response_metadata["finish_reason"] == "tool_calls"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
async def test_async_and_batch_on_both_apis(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api)
    assert (await model.ainvoke("hi")).text == "Echo: hi"
    merged = _merge([c async for c in model.astream("yo")])
    assert merged.text == "Echo: yo"
    assert merged.usage_metadata is not None
    assert [r.text for r in model.batch(["a", "b"])] == ["Echo: a", "Echo: b"]
    assert sorted(r.text for r in await model.abatch(["c", "d"])) == ["Echo: c", "Echo: d"]
    assert {r.api for r in fake_openai.requests} == {api}


def test_reasoning_summary_routes_to_responses_and_is_readable(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    reply = Reply(
        text="42",
        reasoning_summary=["Think about it.", "Then answer."],
        usage=Usage(5, 20, reasoning_tokens=12),
    )
    fake_openai.add(reply, reply)
    model = make_model(model="gpt-5", reasoning={"effort": "low", "summary": "auto"})
    invoked = model.invoke("What is 6*7?")
    assert invoked.response_metadata["api"] == "responses"
    assert invoked.response_metadata["route_reasons"] == [
        "reasoning.summary needs the Responses API"
    ]
    reasoning = [b for b in invoked.content_blocks if b["type"] == "reasoning"]
    assert "".join(b.get("reasoning", "") for b in reasoning) == "Think about it.Then answer."
    assert invoked.usage_metadata["output_token_details"]["reasoning"] == 12
    assert fake_openai.requests[0].body["reasoning"] == {"effort": "low", "summary": "auto"}
    chunks = list(model.stream("What is 6*7?"))
    summary_deltas = [
        c
        for c in chunks
        if isinstance(c.content, list) and any(b.get("type") == "reasoning" for b in c.content)
    ]
    assert len(summary_deltas) > 1, "summary text should arrive as it streams"
    merged = _merge(chunks)
    merged_reasoning = [b for b in merged.content_blocks if b["type"] == "reasoning"]
    assert [b["reasoning"] for b in merged_reasoning] == [b["reasoning"] for b in reasoning]
    assert merged.text == "42"


@pytest.mark.parametrize("store", [True, False])
def test_multi_turn_reasoning_round_trip(
    fake_openai: FakeOpenAI, make_model: Factory, store: bool
) -> None:
    fake_openai.add(
        Reply(
            reasoning_summary=["Need the weather."],
            encrypted_content="ENC123",
            tool_calls=[ToolCall("weather", {"city": "Oslo"}, id="call_w")],
        ),
        Reply(text="It is sunny in Oslo."),
    )
    model = make_model(model="o4-mini", reasoning={"effort": "low", "summary": "auto"}, store=store)
    history: list[Any] = [SystemMessage("Use tools."), HumanMessage("Weather in Oslo?")]
    first = model.invoke(history)
    assert first.tool_calls[0]["args"] == {"city": "Oslo"}
    history += [first, ToolMessage("sunny", tool_call_id="call_w")]
    second = model.invoke(history)
    assert second.text == "It is sunny in Oslo."
    assert fake_openai.errors == []
    first_body, second_body = (r.body for r in fake_openai.requests)
    if store:
        assert "include" not in first_body
    else:
        assert first_body["include"] == ["reasoning.encrypted_content"]
    sent = second_body["input"]
    reasoning_items = [i for i in sent if i.get("type") == "reasoning"]
    assert len(reasoning_items) == 1
    original = next(
        b for b in first.content if isinstance(b, dict) and b.get("type") == "reasoning"
    )
    assert reasoning_items[0]["id"] == original["id"]
    assert reasoning_items[0]["summary"] == [{"type": "summary_text", "text": "Need the weather."}]
    if not store:
        assert reasoning_items[0]["encrypted_content"] == "ENC123"
    calls = [i for i in sent if i.get("type") == "function_call"]
    outputs = [i for i in sent if i.get("type") == "function_call_output"]
    assert calls[0]["call_id"] == "call_w" and calls[0]["id"].startswith("fc_")
    assert outputs == [{"type": "function_call_output", "call_id": "call_w", "output": "sunny"}]
    kinds = [i.get("type", i.get("role")) for i in sent]
    assert (
        kinds.index("reasoning")
        < kinds.index("function_call")
        < kinds.index("function_call_output")
    )


def test_previous_response_id_per_call(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    model = make_model()
    first = model.invoke("remember 7", api="responses")
    second = model.invoke("what number?", previous_response_id=first.id)
    assert second.response_metadata["api"] == "responses"
    assert fake_openai.requests[1].body["previous_response_id"] == first.id
    with pytest.raises(APIError, match="previous_response_not_found"):
        model.invoke("x", previous_response_id="resp_missing")


def test_chain_responses_sends_only_new_messages(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model(api="responses", chain_responses=True)
    history: list[Any] = [HumanMessage("one")]
    first = model.invoke(history)
    history += [first, HumanMessage("two")]
    model.invoke(history)
    body = fake_openai.requests[1].body
    assert body["previous_response_id"] == first.id
    assert body["input"] == [{"type": "message", "role": "user", "content": "two"}]


def test_background_response_is_polled_until_done(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="finished later"))
    model = make_model(background_poll_interval=0.01)
    reply = model.invoke("long job", background=True)
    assert reply.text == "finished later"
    methods = [
        (r.method, r.path.split("/")[-2] if r.method == "GET" else r.path)
        for r in fake_openai.requests
    ]
    assert methods[0] == ("POST", "/v1/responses")
    assert [m for m, _ in methods[1:]] == ["GET"] * (len(methods) - 1)
    assert len(methods) >= 2


async def test_background_response_is_polled_async(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="async later"))
    reply = await make_model(background_poll_interval=0.01).ainvoke("job", background=True)
    assert reply.text == "async later"


def test_incomplete_reply_reports_length(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Reply(text="cut sho", finish_reason="length"))
    reply = make_model(api="responses", max_tokens=3).invoke("x")
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.response_metadata["status"] == "incomplete"
    assert fake_openai.requests[0].body["max_output_tokens"] == 3


def test_failed_stream_event_raises_package_error(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="never", fault=Fault.stream_error("server_error", "model crashed")))
    with pytest.raises(APIError, match="model crashed") as err:
        list(make_model(api="responses").stream("x"))
    assert err.value.code == "server_error"


def test_builtin_tool_items_round_trip(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    search = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "news"},
    }
    fake_openai.add(Reply(text="Here is the news.", output_items=[search]), Reply(text="ok"))
    model = make_model(model="gpt-5").bind_tools([{"type": "web_search"}])
    first = model.invoke("news?")
    assert first.response_metadata["api"] == "responses"
    assert any(
        isinstance(b, dict) and b.get("type") == "web_search_call" and b["id"] == "ws_1"
        for b in first.content
    )
    model.invoke([HumanMessage("news?"), first, HumanMessage("more")])
    sent = fake_openai.requests[1].body["input"]
    replayed = [i for i in sent if i.get("type") == "web_search_call"]
    assert replayed == [search]
    assert fake_openai.requests[0].body["tools"] == [{"type": "web_search"}]


def test_annotations_on_responses(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    cite = {"url": "https://example.com", "title": "Ex", "start_index": 0, "end_index": 4}
    fake_openai.add(Reply(text="Fact.", citations=[cite]), Reply(text="Fact.", citations=[cite]))
    model = make_model(api="responses")
    invoked = model.invoke("x")
    block = next(b for b in invoked.content if isinstance(b, dict) and b.get("type") == "text")
    assert block["annotations"][0]["url"] == "https://example.com"
    merged = _merge(list(model.stream("x")))
    merged_block = next(
        b for b in merged.content if isinstance(b, dict) and b.get("type") == "text"
    )
    assert merged_block["annotations"] == block["annotations"]


def test_system_messages_stay_in_order_on_responses(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    make_model(model="gpt-5", api="responses").invoke(
        [SystemMessage("Be terse."), HumanMessage("hi")]
    )
    sent = fake_openai.requests[0].body["input"]
    assert sent[0] == {"type": "message", "role": "system", "content": "Be terse."}
