"""Messages both ways as ChatOpenAI sends and reads them.

Names on messages, legacy ``function_call`` turns, Responses input items, standard content
blocks for ``output_version="v1"`` (and ``LC_OUTPUT_VERSION``), Responses streams whose
``output_index`` values drift, and ``stream_chunk_timeout=0`` meaning "no chunk timeout":
each checked through the SDK against a local server, on the APIs where it applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall
from tests.integration.reply_modes import MODES, run
from tests.integration.test_faults import ScriptedSSE

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]


def sent(server: FakeOpenAI) -> dict[str, Any]:
    body = server.requests[-1].body
    assert body is not None
    return body


# --- names and legacy function calls on Chat Completions ----------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_message_names_are_sent_on_chat_completions(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="Hello Katie"))
    history = [
        SystemMessage("Be brief.", name="rules"),
        HumanMessage("Hi, I am Katie", name="Katie"),
        AIMessage("Hi!", name="Bot"),
        HumanMessage("Greet me"),
    ]
    await run(make_model(api="chat_completions"), mode, history)
    messages = sent(fake_openai)["messages"]
    assert [m.get("name") for m in messages] == ["rules", "Katie", "Bot", None]
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", MODES)
async def test_names_are_left_out_on_responses(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="Hello"))
    await run(make_model(api="responses"), mode, [HumanMessage("Hi", name="Katie")])
    [item] = sent(fake_openai)["input"]
    assert "name" not in item  # the Responses API has no names; as in ChatOpenAI
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_reply_name_reaches_the_ai_message(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    # OpenAI-compatible servers may name the speaker; ChatOpenAI keeps that name.
    fake_openai.add(Reply(text="Bar Baz", name="Erick"), Reply(text="Anonymous"))
    model = make_model(api="chat_completions")
    named = await run(model, mode, [HumanMessage("Foo", name="Katie")])
    assert named.name == "Erick"
    assert named.text == "Bar Baz"
    assert (await run(model, mode)).name is None


@pytest.mark.parametrize("mode", MODES)
async def test_a_legacy_function_call_turn_is_sent_back(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="It is sunny."))
    call = {"name": "get_weather", "arguments": '{"city": "Boston"}'}
    history = [
        HumanMessage("Weather in Boston?"),
        AIMessage("", additional_kwargs={"function_call": call}),
        HumanMessage("And?"),
    ]
    await run(make_model(api="chat_completions"), mode, history)
    assistant = sent(fake_openai)["messages"][1]
    assert assistant == {"role": "assistant", "content": None, "function_call": call}
    assert fake_openai.errors == []


def test_tool_calls_win_over_a_legacy_function_call(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="ok"))
    turn = AIMessage(
        "",
        additional_kwargs={"function_call": {"name": "f", "arguments": "{}"}},
        tool_calls=[{"name": "f", "args": {}, "id": "call_1", "type": "tool_call"}],
    )
    make_model(api="chat_completions").invoke(
        [HumanMessage("x"), turn, ToolMessage("done", tool_call_id="call_1")]
    )
    assistant = sent(fake_openai)["messages"][1]
    assert "function_call" not in assistant  # OpenAI rejects both in one message
    assert assistant["tool_calls"][0]["id"] == "call_1"


# --- Responses input items ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_responses_input_messages_carry_their_type(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    history = [
        SystemMessage("Be brief."),
        HumanMessage("Hi"),
        AIMessage("Hello"),
        HumanMessage("?"),
    ]
    await run(make_model(api="responses"), mode, history)
    items = sent(fake_openai)["input"]
    assert [(i["type"], i["role"]) for i in items] == [
        ("message", "system"),
        ("message", "user"),
        ("message", "assistant"),
        ("message", "user"),
    ]
    assert fake_openai.errors == []


# --- output_version="v1": langchain-core's standard blocks --------------------------------


def standard(message: AIMessage) -> list[dict[str, Any]]:
    """Return content blocks without the per-run ids and indexes, to compare shapes."""
    return [
        {k: v for k, v in block.items() if k not in ("id", "index", "extras")}
        for block in message.content  # type: ignore[union-attr]
        if isinstance(block, dict)
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_v1_content_is_standard_blocks(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="Hello there"))
    reply = await run(make_model(api=api, output_version="v1"), mode)
    assert standard(reply)[0]["type"] == "text"
    assert standard(reply)[0]["text"] == "Hello there"
    assert reply.response_metadata["output_version"] == "v1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_v1_refusal_is_one_refusal_block(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(refusal="I can't help with that."))
    reply = await run(make_model(api=api, output_version="v1"), mode)
    if api == "chat_completions" and mode.endswith("stream"):
        # langchain-core reads a streamed Chat Completions refusal from additional_kwargs
        # only when a chunk carries the provider; as with ChatOpenAI, it stays there.
        assert standard(reply) == []
        assert reply.additional_kwargs["refusal"] == "I can't help with that."
        return
    assert standard(reply) == [{"type": "refusal", "refusal": "I can't help with that."}]


@pytest.mark.parametrize("mode", MODES)
async def test_v1_reasoning_blocks_each_carry_the_item_id(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="Hi", reasoning_summary=["First thought.", "Second thought."]))
    reply = await run(make_model(model="gpt-5", api="responses", output_version="v1"), mode)
    reasoning = [b for b in reply.content if isinstance(b, dict) and b["type"] == "reasoning"]
    assert [b["reasoning"] for b in reasoning] == ["First thought.", "Second thought."]
    ids = {b.get("id") for b in reasoning}
    assert len(ids) == 1
    assert ids.pop().startswith("rs_")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_v1_tool_calls_are_tool_call_blocks(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="call_7")]))
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    model = make_model(api=api, output_version="v1").bind_tools([tool])
    reply = await run(model, mode)
    assert standard(reply) == [
        {"type": "tool_call", "name": "get_weather", "args": {"city": "Oslo"}}
    ]
    assert reply.tool_calls[0]["id"] == "call_7"


@pytest.mark.parametrize("api", APIS)
def test_lc_output_version_is_honoured(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_OUTPUT_VERSION", "v1")
    model = make_model(api=api)
    assert model.output_version == "v1"
    fake_openai.add(Reply(text="Hello"))
    reply = model.invoke("hi")
    assert [(b["type"], b["text"]) for b in standard(reply)] == [("text", "Hello")]
    assert reply.response_metadata["output_version"] == "v1"


def test_lc_output_version_responses_v1_routes_to_responses(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_OUTPUT_VERSION", "responses/v1")
    fake_openai.add(Reply(text="Hello"))
    reply = make_model().invoke("hi")
    assert reply.response_metadata["api"] == "responses"
    assert fake_openai.requests[-1].api == "responses"


def test_an_explicit_output_version_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LC_OUTPUT_VERSION", "v1")
    assert ParamChat(api_key="x", output_version="v0").output_version == "v0"


# --- a Responses stream whose output_index values drift ------------------------------------

DRIFT_TEXT = '{"news_items": []}'


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def drifting_stream() -> list[bytes]:
    """Return a Responses stream whose ``done`` events carry ``output_index`` one too high."""
    response = {
        "id": "resp_drift",
        "object": "response",
        "created_at": 1,
        "model": "gpt-5",
        "status": "in_progress",
        "output": [],
    }
    reasoning = {"id": "rs_1", "type": "reasoning", "summary": []}
    done_reasoning = {**reasoning, "encrypted_content": "enc"}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress"}
    text_part = {"type": "output_text", "text": DRIFT_TEXT, "annotations": []}
    final_message = {**message, "status": "completed", "content": [text_part]}
    completed = {**response, "status": "completed", "output": [done_reasoning, final_message]}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response},
        {"type": "response.output_item.added", "output_index": 0, "item": reasoning},
        {"type": "response.output_item.done", "output_index": 1, "item": done_reasoning},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**message, "content": []},
        },
        {
            "type": "response.output_text.delta",
            "output_index": 1,
            "content_index": 0,
            "item_id": "msg_1",
            "delta": DRIFT_TEXT,
        },
        {
            "type": "response.output_text.done",
            "output_index": 2,
            "content_index": 0,
            "item_id": "msg_1",
            "text": DRIFT_TEXT,
        },
        {"type": "response.output_item.done", "output_index": 2, "item": final_message},
        {"type": "response.completed", "response": completed},
    ]
    return [sse(e) for e in events]


@pytest.fixture
def drifting() -> Iterator[ScriptedSSE]:
    server = ScriptedSSE(*drifting_stream())
    yield server
    server.close()


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_drifting_output_index_keeps_all_text(drifting: ScriptedSSE, mode: str) -> None:
    model = ParamChat(base_url=drifting.base_url, api_key="x", api="responses", max_retries=0)
    reply = await run(model, mode)
    assert reply.text == DRIFT_TEXT
    blocks = [b for b in reply.content if isinstance(b, dict)]
    assert [b["type"] for b in blocks] == ["reasoning", "text"]
    assert [b["index"] for b in blocks] == [0, 1]


# --- stream_chunk_timeout=0 means no chunk timeout -----------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, None])
def test_stream_chunk_timeout_zero_or_none_is_no_timeout(value: Any) -> None:
    model = ParamChat(api_key="x", stream_chunk_timeout=value)
    # Read back as given, as in ChatOpenAI; the transport gets no idle timeout at all.
    assert model.stream_chunk_timeout == value
    assert model.stream_idle_timeout == value
    assert model._client_settings().stream_idle_timeout is None


def test_the_chunk_timeout_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S", "0")
    model = ParamChat(api_key="x")
    assert model.stream_chunk_timeout == 0.0
    assert model._client_settings().stream_idle_timeout is None
    monkeypatch.setenv("LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S", "7.5")
    assert ParamChat(api_key="x").stream_idle_timeout == 7.5
    # An explicit setting wins over the environment.
    assert ParamChat(api_key="x", stream_idle_timeout=3).stream_idle_timeout == 3


@pytest.mark.parametrize("env", ["nonsense", "-10"])
@pytest.mark.parametrize("kwargs", [{"stream_chunk_timeout": -10}, {}])
def test_a_bad_chunk_timeout_keeps_the_default_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kwargs: dict[str, Any],
    env: str,
) -> None:
    # As ChatOpenAI: a typo in a config must neither fail nor silently disable the timeout.
    monkeypatch.setenv("LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S", env)
    with caplog.at_level("WARNING", logger="langchain_paramchat"):
        model = ParamChat(api_key="x", **kwargs)
    assert model.stream_idle_timeout == ParamChat.model_fields["stream_idle_timeout"].default
    assert model.stream_chunk_timeout == model.stream_idle_timeout
    said = " ".join(r.getMessage() for r in caplog.records)
    assert (
        "stream_chunk_timeout=-10" if kwargs else "LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S"
    ) in said
    if kwargs or env.startswith("-"):
        assert "negative" in said  # says what is wrong with the value


@pytest.mark.parametrize("setting", ["stream_chunk_timeout", "stream_idle_timeout"])
@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_stream_without_chunk_timeout_waits_for_slow_events(
    make_model: Factory, fake_openai: FakeOpenAI, mode: str, setting: str
) -> None:
    from langchain_paramchat.testing import Fault

    # 0 is "no limit", not "zero seconds": each slow event still arrives.
    fake_openai.add(Fault.slow(0.3, reply=Reply(text="slow but sure", chunk_size=5)))
    reply = await run(make_model(**{setting: 0}, timeout=30), mode)
    assert reply.text == "slow but sure"
