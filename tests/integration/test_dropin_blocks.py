"""Content blocks in request messages as ChatOpenAI sends them, checked at the server.

``additional_tools`` blocks (bare or in langchain-core's ``non_standard`` wrapper) travel
only on a system turn and only to the Responses API; blocks of a type ParamChat does not
know are forwarded on Chat Completions and left out on Responses (with a ``UserWarning``
outside user turns); a ``SystemMessage`` marked ``__openai_role__="developer"`` is sent in
the developer role; list content stays a list and string content a string.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import IncompatibleOptionsError, MessageConversionError
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.integration.reply_modes import MODES, run

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]

TOOL = {
    "type": "function",
    "name": "get_customer",
    "description": "Look up a customer by ID.",
    "parameters": {
        "type": "object",
        "properties": {"customer_id": {"type": "string"}},
        "required": ["customer_id"],
        "additionalProperties": False,
    },
    "strict": True,  # the SDK's function tool type requires the key
}
ADDITIONAL_TOOLS = {"type": "additional_tools", "role": "developer", "tools": [TOOL]}
FOREIGN = {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "get_weather"}}
SPELLINGS = {"bare": lambda b: b, "non_standard": lambda b: {"type": "non_standard", "value": b}}


def sent(server: FakeOpenAI) -> dict[str, Any]:
    assert server.errors == []
    body = server.requests[-1].body
    assert body is not None
    return body


@pytest.fixture
def lenient() -> Any:
    """Yield a server that takes any body: OpenAI would refuse a block it does not know."""
    with FakeOpenAI(check_bodies=False) as server:
        yield server


def _model(server: FakeOpenAI, **kwargs: Any) -> ParamChat:
    kwargs.setdefault("model", "gpt-4o-mini")
    return ParamChat(base_url=server.base_url, api_key="sk-test-key-123", max_retries=0, **kwargs)


# --- additional_tools -------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("api", ["auto", "responses"])
@pytest.mark.parametrize("mode", MODES)
async def test_additional_tools_go_before_the_system_message_that_carried_them(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str, api: str, spelling: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    block = SPELLINGS[spelling](ADDITIONAL_TOOLS)
    history = [
        HumanMessage("Earlier question"),
        AIMessage("Earlier answer"),
        SystemMessage([{"type": "text", "text": "Be concise."}, block]),
        HumanMessage("Next question"),
    ]
    answer = await run(make_model(api=api), mode, history)
    assert answer.response_metadata["api"] == "responses"
    items = sent(fake_openai)["input"]
    assert items[2] == ADDITIONAL_TOOLS
    assert items[3] == {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "Be concise."}],
    }
    assert items[4] == {"type": "message", "role": "user", "content": "Next question"}


async def test_a_system_message_holding_only_additional_tools_leaves_no_message(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="ok"))
    content: list[Any] = [ADDITIONAL_TOOLS]
    await make_model(api="responses").ainvoke(
        [HumanMessage("Earlier question"), SystemMessage(content)]
    )
    assert sent(fake_openai)["input"] == [
        {"type": "message", "role": "user", "content": "Earlier question"},
        ADDITIONAL_TOOLS,
    ]
    assert content == [ADDITIONAL_TOOLS]  # the caller's content is left as it was


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("api", ["auto", *APIS])
@pytest.mark.parametrize("holder", ["human", "tool"])
def test_additional_tools_outside_a_system_message_are_refused_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory, holder: str, api: str, spelling: str
) -> None:
    block = SPELLINGS[spelling](ADDITIONAL_TOOLS)
    message = (
        HumanMessage([block]) if holder == "human" else ToolMessage([block], tool_call_id="c1")
    )
    with pytest.raises(MessageConversionError, match="must be carried on a SystemMessage"):
        make_model(api=api).invoke([message])
    assert fake_openai.requests == []


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_additional_tools_refuse_a_forced_chat_completions(
    fake_openai: FakeOpenAI, make_model: Factory, spelling: str
) -> None:
    block = SPELLINGS[spelling](ADDITIONAL_TOOLS)
    with pytest.raises(IncompatibleOptionsError, match="additional_tools item in messages"):
        make_model(api="chat_completions").invoke([HumanMessage("hi"), SystemMessage([block])])
    assert fake_openai.requests == []


# --- blocks of a type ParamChat does not know -------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("holder", ["system", "human"])
@pytest.mark.parametrize("mode", MODES)
async def test_unknown_blocks_are_forwarded_on_chat_completions(
    lenient: FakeOpenAI, mode: str, holder: str, spelling: str
) -> None:
    lenient.add(Reply(text="ok"))
    block = SPELLINGS[spelling](FOREIGN)
    message = SystemMessage([block]) if holder == "system" else HumanMessage([block, "hi"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        answer = await run(_model(lenient), mode, [message])
    assert answer.response_metadata["api"] == "chat_completions"
    (sent_message,) = sent(lenient)["messages"]
    if holder == "system":
        assert sent_message == {"role": "system", "content": [FOREIGN]}
    else:
        assert sent_message == {
            "role": "user",
            "content": [FOREIGN, {"type": "text", "text": "hi"}],
        }


async def test_unknown_blocks_in_a_tool_result_are_forwarded_on_chat_completions(
    lenient: FakeOpenAI,
) -> None:
    lenient.add(Reply(text="ok"))
    call = {"name": "f", "args": {}, "id": "c1", "type": "tool_call"}
    history = [
        HumanMessage("hi"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(["done", FOREIGN], tool_call_id="c1"),
    ]
    await _model(lenient).ainvoke(history)
    assert sent(lenient)["messages"][2]["content"] == [{"type": "text", "text": "done"}, FOREIGN]


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("mode", MODES)
async def test_an_unknown_system_block_is_left_out_on_responses_with_a_warning(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str, spelling: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    block = SPELLINGS[spelling](FOREIGN)
    history = [
        HumanMessage("Earlier question"),
        SystemMessage([{"type": "text", "text": "Be concise."}, block]),
    ]
    with pytest.warns(UserWarning, match="'tool_removal' in messages\\[1\\]"):
        await run(make_model(api="responses"), mode, history)
    assert sent(fake_openai)["input"][-1] == {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "Be concise."}],
    }


@pytest.mark.parametrize("mode", MODES)
async def test_an_unknown_user_block_is_left_out_on_responses_quietly(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    message = HumanMessage([{"type": "text", "text": "Hello"}, {"type": "made_up_block"}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await run(make_model(api="responses"), mode, [message])
    assert sent(fake_openai)["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello"}]}
    ]


async def test_an_unknown_tool_result_block_is_left_out_on_responses_with_a_warning(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="ok"))
    call = {"name": "f", "args": {}, "id": "c1", "type": "tool_call"}
    history = [
        HumanMessage("hi"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(["done", FOREIGN], tool_call_id="c1"),
    ]
    with pytest.warns(UserWarning, match="'tool_removal' in messages\\[2\\] \\(a tool result\\)"):
        await make_model(api="responses").ainvoke(history)
    assert sent(fake_openai)["input"][-1] == {
        "type": "function_call_output",
        "call_id": "c1",
        "output": [{"type": "input_text", "text": "done"}],
    }


@pytest.mark.parametrize("api", APIS)
def test_other_providers_reasoning_blocks_are_left_out(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    message = HumanMessage(
        [
            {"type": "reasoning_content", "reasoning_content": "reasoning..."},
            {"type": "thinking", "thinking": "thinking..."},
            {"type": "text", "text": "reasoned response"},
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_model(api=api).invoke([message])
    body = sent(fake_openai)
    if api == "chat_completions":
        expected = [{"type": "text", "text": "reasoned response"}]
        assert body["messages"] == [{"role": "user", "content": expected}]
    else:
        expected = [{"type": "input_text", "text": "reasoned response"}]
        assert body["input"] == [{"type": "message", "role": "user", "content": expected}]


@pytest.mark.parametrize("api", APIS)
def test_video_blocks_are_still_refused_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    message = HumanMessage([{"type": "video", "url": "https://example.com/v.mp4"}])
    with pytest.raises(MessageConversionError, match="unsupported content block type 'video'"):
        make_model(api=api).invoke([message])
    assert fake_openai.requests == []


# --- roles and content shapes -----------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
async def test_a_developer_marked_system_message_is_sent_as_developer(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str, api: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    history = [
        SystemMessage("hello"),
        SystemMessage("bye", additional_kwargs={"__openai_role__": "developer"}),
        HumanMessage("hi"),
    ]
    await run(make_model(api=api), mode, history)
    body = sent(fake_openai)
    turns = body["messages"] if api == "chat_completions" else body["input"]
    assert [t["role"] for t in turns] == ["system", "developer", "user"]


@pytest.mark.parametrize("api", APIS)
def test_list_content_stays_a_list_and_text_a_string(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    history = [
        SystemMessage([{"type": "text", "text": "hello!"}]),
        HumanMessage("how are you"),
    ]
    make_model(api=api).invoke(history)
    body = sent(fake_openai)
    if api == "chat_completions":
        assert body["messages"] == [
            {"role": "system", "content": [{"type": "text", "text": "hello!"}]},
            {"role": "user", "content": "how are you"},
        ]
    else:
        assert body["input"] == [
            {
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "hello!"}],
            },
            {"type": "message", "role": "user", "content": "how are you"},
        ]
