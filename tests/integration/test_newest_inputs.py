"""The newest inputs reach the wire as OpenAI documents them, on each API that has them.

Every request goes through the real SDK to the fake server, which checks the body against
the SDK's param types (a 400 otherwise); bodies are also checked against OpenAI's OpenAPI
spec when a copy is at hand (``tests/openapi_spec.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import IncompatibleOptionsError
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.openapi_spec import spec_available, spec_errors

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
BREAK = {"mode": "explicit"}
PNG = "iVBORw0KGgo="
PDF = "JVBERi0xLjQK"


def _send(model: ParamChat, messages: list[BaseMessage], how: str) -> AIMessage:
    """Call ``model`` one of four ways and return the (merged) answer."""
    import asyncio

    if how == "invoke":
        return model.invoke(messages)
    if how == "ainvoke":
        return asyncio.run(model.ainvoke(messages))

    async def astream() -> list[AIMessageChunk]:
        return [c async for c in model.astream(messages)]

    chunks = list(model.stream(messages)) if how == "stream" else asyncio.run(astream())
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def _checked(server: FakeOpenAI) -> dict[str, Any]:
    """Return the one request's body after checking it against the SDK and the spec."""
    assert server.errors == []
    (request,) = server.requests
    assert request.body is not None
    assert spec_errors(request.path, request.body) == []
    return request.body


def test_the_spec_check_rejects_what_the_spec_rejects() -> None:
    if not spec_available():
        pytest.skip("OpenAI's OpenAPI spec (../shared/openai-openapi) or jsonschema is absent")
    good = {
        "model": "m",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}]}],
    }
    bad = {
        "model": "m",
        "input": [{"role": "user", "content": [{"type": "input_txt", "text": "x"}]}],
    }
    assert spec_errors("/v1/responses", good) == []
    assert spec_errors("/v1/responses", bad) != []
    assert spec_errors("/v1/chat/completions", {"model": "m", "messages": "x"}) != []


# --- prompt_cache_breakpoint -------------------------------------------------------------------


def _breakpoint_history(api: str) -> list[BaseMessage]:
    user: list[Any] = [
        {"type": "text", "text": "Read these.", "prompt_cache_breakpoint": BREAK},
        {
            "type": "image",
            "base64": PNG,
            "mime_type": "image/png",
            "extras": {"prompt_cache_breakpoint": {"mode": "explicit", "ttl": "12h"}},
        },
        {
            "type": "file",
            "base64": PDF,
            "mime_type": "application/pdf",
            "filename": "a.pdf",
            "prompt_cache_breakpoint": BREAK,
        },
    ]
    if api == "chat_completions":
        user.append(
            {
                "type": "input_audio",
                "input_audio": {"data": "UklGRg==", "format": "wav"},
                "prompt_cache_breakpoint": BREAK,
            }
        )
    return [
        SystemMessage(
            content=[{"type": "text", "text": "Be brief.", "prompt_cache_breakpoint": BREAK}]
        ),
        HumanMessage(content=user),
        AIMessage(content="", tool_calls=[{"name": "look", "args": {}, "id": "call_1"}]),
        ToolMessage(
            content=[{"type": "text", "text": "found", "prompt_cache_breakpoint": BREAK}],
            tool_call_id="call_1",
        ),
    ]


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("api", APIS)
def test_prompt_cache_breakpoints_reach_the_wire(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, how: str
) -> None:
    fake_openai.add(Reply(text="Done."))
    answer = _send(make_model(api=api), _breakpoint_history(api), how)
    assert answer.text == "Done."
    body = _checked(fake_openai)
    if api == "chat_completions":
        system, user, _, tool = body["messages"]
        assert system["content"] == [
            {"type": "text", "text": "Be brief.", "prompt_cache_breakpoint": BREAK}
        ]
        assert [p.get("prompt_cache_breakpoint") for p in user["content"]] == [
            BREAK,
            {"mode": "explicit", "ttl": "12h"},
            BREAK,
            BREAK,
        ]
        assert [p["type"] for p in user["content"]] == ["text", "image_url", "file", "input_audio"]
        assert tool["content"] == [
            {"type": "text", "text": "found", "prompt_cache_breakpoint": BREAK}
        ]
    else:
        system, user, _, tool = body["input"]
        assert system["content"] == [
            {"type": "input_text", "text": "Be brief.", "prompt_cache_breakpoint": BREAK}
        ]
        assert [p.get("prompt_cache_breakpoint") for p in user["content"]] == [
            BREAK,
            {"mode": "explicit", "ttl": "12h"},
            BREAK,
        ]
        assert tool["output"] == [
            {"type": "input_text", "text": "found", "prompt_cache_breakpoint": BREAK}
        ]


def test_a_falsy_breakpoint_is_kept_not_dropped(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    # The SDK types a tool result's text part breakpoint as Optional: None is a real value.
    fake_openai.add(Reply(text="ok"))
    messages = _breakpoint_history("responses")[2:]
    messages[1] = ToolMessage(
        content=[{"type": "text", "text": "found", "prompt_cache_breakpoint": None}],
        tool_call_id="call_1",
    )
    make_model(api="responses").invoke([HumanMessage("go"), *messages])
    body = _checked(fake_openai)
    assert body["input"][-1]["output"] == [
        {"type": "input_text", "text": "found", "prompt_cache_breakpoint": None}
    ]
    chat = make_model(api="chat_completions").preview_request(
        [
            HumanMessage(
                content=[{"type": "text", "text": "x", "extras": {"prompt_cache_breakpoint": {}}}]
            )
        ]
    )
    assert chat.payload["messages"][0]["content"][0]["prompt_cache_breakpoint"] == {}


# --- input item blocks -----------------------------------------------------------------------

FUNCTION_TOOL = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {}},
    "strict": False,
}
ITEM_BLOCKS: dict[str, dict[str, Any]] = {
    "mcp_approval_response": {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": False,
        "reason": "not now",
    },
    "configuration_update": {"type": "configuration_update", "reasoning": {"effort": "high"}},
    "tool_search_output": {
        "type": "tool_search_output",
        "call_id": "ts_1",
        "execution": "client",
        "tools": [FUNCTION_TOOL],
    },
    "apply_patch_call_output": {
        "type": "apply_patch_call_output",
        "call_id": "ap_1",
        "status": "completed",
        "output": "patched",
    },
    "shell_call_output": {
        "type": "shell_call_output",
        "call_id": "sh_1",
        "output": [{"stdout": "a.txt", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}],
    },
    "additional_tools": {"type": "additional_tools", "tools": [FUNCTION_TOOL]},
    "compaction": {"type": "compaction", "encrypted_content": "gAAA"},
}


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("kind", sorted(ITEM_BLOCKS))
def test_an_item_block_becomes_a_top_level_input_item_before_its_message(
    fake_openai: FakeOpenAI, make_model: Factory, kind: str, how: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    block = ITEM_BLOCKS[kind]
    holder = SystemMessage if kind == "additional_tools" else HumanMessage
    message = holder(content=[{"type": "text", "text": "before"}, block, "after"])
    answer = _send(make_model(), [message], how)
    assert answer.response_metadata["api"] == "responses"
    assert answer.response_metadata["route_reasons"] == [
        f"a {kind} item in messages[0] needs the Responses API"
    ]
    body = _checked(fake_openai)
    role = "system" if holder is SystemMessage else "user"
    expected = {**block, "role": "developer"} if kind == "additional_tools" else block
    # As ChatOpenAI places it: the item first, then the message it came in, kept whole.
    text = [{"type": "input_text", "text": "before"}, {"type": "input_text", "text": "after"}]
    assert body["input"] == [expected, {"type": "message", "role": role, "content": text}]


def test_additional_tools_take_langchain_tools(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    from langchain_core.tools import tool

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    block = {"type": "additional_tools", "tools": [lookup]}
    make_model().invoke([SystemMessage(content=[block]), HumanMessage("hi")])
    body = _checked(fake_openai)
    (added,) = body["input"][0]["tools"]
    assert added["type"] == "function"
    assert added["name"] == "lookup"
    assert added["parameters"]["properties"]["city"]["type"] == "string"


def test_item_blocks_wrapped_as_non_standard_are_unwrapped(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    block = {"type": "non_standard", "value": ITEM_BLOCKS["mcp_approval_response"]}
    make_model().invoke([HumanMessage(content=[block])])
    assert _checked(fake_openai)["input"] == [ITEM_BLOCKS["mcp_approval_response"]]


def test_an_item_block_refuses_chat_completions_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    message = HumanMessage(content=[ITEM_BLOCKS["mcp_approval_response"]])
    with pytest.raises(IncompatibleOptionsError, match="mcp_approval_response item in messages"):
        make_model(api="chat_completions").invoke([message])
    assert fake_openai.requests == []


# --- tool results for calls that are not function calls ---------------------------------------

SHELL_CALL = {
    "type": "shell_call",
    "id": "sh_item_1",
    "call_id": "call_sh",
    "action": {"commands": ["ls"]},
    "status": "completed",
}
PATCH_CALL = {
    "type": "apply_patch_call",
    "id": "ap_item_1",
    "call_id": "call_ap",
    "status": "completed",
    "operation": {"type": "delete_file", "path": "old.txt"},
}
COMPUTER_CALL = {
    "type": "computer_call",
    "id": "cu_item_1",
    "call_id": "call_cu",
    "action": {"type": "screenshot"},
    "pending_safety_checks": [],
    "status": "completed",
}
CUSTOM_CALL = {
    "type": "custom_tool_call",
    "id": "ctc_item_1",
    "call_id": "call_ct",
    "name": "run",
    "input": "print(1)",
}


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
def test_tool_messages_answer_each_call_with_its_own_output_item(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    history = [
        HumanMessage("Tidy up."),
        AIMessage(
            content=[SHELL_CALL, PATCH_CALL, COMPUTER_CALL, CUSTOM_CALL],
            tool_calls=[{"name": "run", "args": {"input": "print(1)"}, "id": "call_ct"}],
        ),
        ToolMessage("a.txt", tool_call_id="call_sh"),
        ToolMessage("no such file", tool_call_id="call_ap", status="error"),
        ToolMessage(
            content=[{"type": "image", "base64": PNG, "mime_type": "image/png"}],
            tool_call_id="call_cu",
        ),
        ToolMessage("1", tool_call_id="call_ct"),
    ]
    answer = _send(make_model(), history, how)
    assert answer.response_metadata["api"] == "responses"
    body = _checked(fake_openai)
    outputs = body["input"][-4:]
    assert outputs == [
        {
            "type": "shell_call_output",
            "call_id": "call_sh",
            "output": [
                {"stdout": "a.txt", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
            ],
        },
        {
            "type": "apply_patch_call_output",
            "call_id": "call_ap",
            "status": "failed",
            "output": "no such file",
        },
        {
            "type": "computer_call_output",
            "call_id": "call_cu",
            "output": {"type": "computer_screenshot", "image_url": f"data:image/png;base64,{PNG}"},
        },
        {"type": "custom_tool_call_output", "call_id": "call_ct", "output": "1"},
    ]
    assert all(i.get("type") != "function_call_output" for i in body["input"])


def test_a_ready_made_output_block_in_a_tool_message_is_sent_as_given(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    block = {**ITEM_BLOCKS["shell_call_output"]}
    del block["call_id"]
    history = [
        HumanMessage("ls"),
        AIMessage(content=[SHELL_CALL]),
        ToolMessage(content=[block], tool_call_id="call_sh"),
    ]
    make_model().invoke(history)
    assert _checked(fake_openai)["input"][-1] == {**block, "call_id": "call_sh"}


@pytest.mark.parametrize("api", APIS)
def test_custom_tool_call_output_blocks_are_accepted(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    # What langchain-openai's custom_tool returns, in a ToolMessage.
    history = [
        HumanMessage("run it"),
        AIMessage(
            content="", tool_calls=[{"name": "run", "args": {"input": "1+1"}, "id": "call_9"}]
        ),
        ToolMessage(
            content=[{"type": "custom_tool_call_output", "output": "2"}], tool_call_id="call_9"
        ),
    ]
    make_model(api=api).invoke(history)
    body = _checked(fake_openai)
    if api == "chat_completions":
        assert body["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "call_9",
            "content": [{"type": "text", "text": "2"}],
        }
    else:
        assert body["input"][-1] == {
            "type": "custom_tool_call_output",
            "call_id": "call_9",
            "output": "2",
        }


# --- histories holding Responses-only items ---------------------------------------------------

HISTORY_ITEMS: dict[str, dict[str, Any]] = {
    "compaction": {
        "type": "compaction",
        "id": "cmp_1",
        "encrypted_content": "enc",
        "created_by": "x",
    },
    "tool_search_call": {
        "type": "tool_search_call",
        "id": "tsc_1",
        "call_id": "ts_1",
        "arguments": {"query": "weather"},
        "execution": "server",
        "status": "completed",
    },
    "mcp_list_tools": {
        "type": "mcp_list_tools",
        "id": "mcpl_1",
        "server_label": "docs",
        "tools": [],
    },
    "shell_call": SHELL_CALL,
    "apply_patch_call": PATCH_CALL,
}


@pytest.mark.parametrize("kind", sorted(HISTORY_ITEMS))
def test_a_history_with_a_responses_only_item_routes_to_responses(
    fake_openai: FakeOpenAI, make_model: Factory, kind: str
) -> None:
    item = HISTORY_ITEMS[kind]
    history = [
        HumanMessage("a"),
        AIMessage(content=[item, {"type": "text", "text": "b"}]),
        HumanMessage("c"),
    ]
    answer = make_model().invoke(history)
    assert answer.response_metadata["route_reasons"] == [
        f"a {kind} item in messages[1] needs the Responses API"
    ]
    body = _checked(fake_openai)
    sent = body["input"][1]
    assert sent["type"] == kind
    assert sent == {k: v for k, v in item.items() if k != "created_by"}


def test_encrypted_reasoning_routes_to_responses_and_plain_reasoning_does_not(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="1"), Reply(text="2"))
    encrypted = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"}
    plain = {"type": "reasoning", "id": "rs_2", "summary": []}
    model = make_model()
    first = model.invoke([HumanMessage("a"), AIMessage(content=[encrypted]), HumanMessage("b")])
    assert first.response_metadata["route_reasons"] == [
        "encrypted reasoning in messages[1] needs the Responses API"
    ]
    second = model.invoke([HumanMessage("a"), AIMessage(content=[plain]), HumanMessage("b")])
    assert second.response_metadata["api"] == "chat_completions"
    assert fake_openai.errors == []


# --- store=False --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["invoke", "astream"])
def test_store_false_replays_no_ids_nothing_kept_them(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    turn = AIMessage(
        content=[
            {
                "type": "reasoning",
                "id": "rs_plain",
                "summary": [{"type": "summary_text", "text": "hm"}],
            },
            {"type": "reasoning", "id": "rs_enc", "summary": [], "encrypted_content": "gAAA"},
            {"type": "text", "text": "Hi.", "id": "msg_1"},
        ]
    )
    history = [HumanMessage("a"), turn, HumanMessage("b")]
    _send(make_model(api="responses", store=False), history, how)
    body = _checked(fake_openai)
    replayed = body["input"][1:3]
    assert replayed == [
        {"type": "reasoning", "id": "rs_enc", "summary": [], "encrypted_content": "gAAA"},
        {"type": "message", "role": "assistant", "content": "Hi."},
    ]
    fake_openai.reset()
    fake_openai.add(Reply(text="ok"))
    make_model(api="responses").invoke(history)
    stored = fake_openai.requests[0].body["input"]
    assert [i.get("id") for i in stored[1:4]] == ["rs_plain", "rs_enc", "msg_1"]
