"""The Chat Completions adapter alone: request building, reply parsing and stream parsing."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import CompletionCreateParamsBase

from langchain_paramchat.apis.chat_completions import ADAPTER, reply, request, stream
from langchain_paramchat.errors import APIError, MessageConversionError, ResponseFormatError
from langchain_paramchat.options.typecheck import find_error
from langchain_paramchat.tools.normalize import normalize_tool
from langchain_paramchat.tools.tool_choice import normalize_tool_choice

MESSAGES_TYPE = typing.get_type_hints(CompletionCreateParamsBase)["messages"]


def weather_tool() -> Any:
    return normalize_tool(
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                    "required": ["city"],
                },
            },
        },
        strict=True,
    )


# --- request -------------------------------------------------------------------------------


def test_messages_convert_to_the_sdk_message_types() -> None:
    messages = [
        SystemMessage("Be brief."),
        HumanMessage(content=[{"type": "text", "text": "hi"}, {"type": "image", "url": "u"}]),
        AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "call_1"}]),
        ToolMessage("42", tool_call_id="call_1"),
    ]
    converted = request.convert_messages(messages, model="gpt-4o-mini")
    assert find_error(converted, MESSAGES_TYPE) is None
    assert converted[0] == {"role": "system", "content": "Be brief."}
    assert converted[1]["content"][1] == {"type": "image_url", "image_url": {"url": "u"}}
    assert converted[2]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert converted[3] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}


def test_reasoning_models_get_the_developer_role() -> None:
    converted = request.convert_messages([SystemMessage("x")], model="o4-mini")
    assert converted[0]["role"] == "developer"


def test_build_request_renders_tools_choice_and_stream_usage() -> None:
    tool = weather_tool()
    body = ADAPTER.build_request(
        [HumanMessage("Paris?")],
        model="gpt-4o-mini",
        placements={"temperature": 0.2},
        tools=[tool],
        tool_choice=normalize_tool_choice("get_weather", [tool]),
        stream=True,
        stream_options=None,
        stream_usage=True,
    )
    assert body["tools"][0]["function"]["strict"] is True
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2


def test_no_stream_options_unless_streaming_and_none_without_stream_usage() -> None:
    common: dict[str, Any] = {
        "model": "m",
        "placements": {},
        "tools": None,
        "tool_choice": None,
        "stream_options": None,
    }
    unstreamed = ADAPTER.build_request(
        [HumanMessage("x")], stream=False, stream_usage=True, **common
    )
    assert "stream" not in unstreamed
    assert "stream_options" not in unstreamed
    quiet = ADAPTER.build_request([HumanMessage("x")], stream=True, stream_usage=False, **common)
    assert quiet["stream"] is True
    assert "stream_options" not in quiet


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ([{"type": "image", "file_id": "file-1"}], "an image by file_id in messages[0]"),
        ([{"type": "file", "url": "https://x/a.pdf"}], "a file by URL in messages[0]"),
    ],
)
def test_inputs_only_responses_carries_are_named_and_refused(content: list, what: str) -> None:
    messages = [HumanMessage(content=content)]
    assert ADAPTER.unsupported_inputs(messages) == [what]
    with pytest.raises(MessageConversionError):
        request.convert_messages(messages, model="gpt-4o-mini")


def test_builtin_tools_are_named_as_unsupported() -> None:
    search = normalize_tool({"type": "web_search"})
    assert ADAPTER.unsupported_tools([search, weather_tool()]) == ["tool 'web_search'"]


# --- reply ---------------------------------------------------------------------------------

BODY: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{bad"},
                    },
                ],
            },
        }
    ],
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 2},
    },
}


def test_reply_parses_text_calls_usage_and_metadata() -> None:
    ChatCompletion.model_validate(BODY)  # the fixture is a real chat.completion
    message = reply.parse_response(BODY).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.text == "Checking."
    assert message.tool_calls[0]["args"] == {"city": "Paris"}
    assert message.invalid_tool_calls[0]["args"] == "{bad"
    assert message.usage_metadata is not None
    assert message.usage_metadata["total_tokens"] == 15
    assert message.usage_metadata["input_token_details"] == {"cache_read": 4}
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.response_metadata["model_name"] == "gpt-4o-mini"


def test_reply_without_choices_is_a_format_error() -> None:
    with pytest.raises(ResponseFormatError, match="no 'choices'"):
        reply.parse_response({"id": "x", "object": "chat.completion"})


def test_several_choices_become_several_generations_with_usage_once() -> None:
    second = {**BODY["choices"][0], "index": 1, "message": {"role": "assistant", "content": "B"}}
    result = reply.parse_response({**BODY, "choices": [second, BODY["choices"][0]]})
    assert [g.message.text for g in result.generations] == ["Checking.", "B"]
    assert result.generations[1].message.usage_metadata is None  # type: ignore[attr-defined]


# --- stream --------------------------------------------------------------------------------


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    ChatCompletionChunk.model_validate(data)
    return data


def merge(parser: stream.StreamParser, events: list[dict[str, Any]]) -> AIMessageChunk:
    chunks = [c for e in events if (c := parser.feed(None, e)) is not None]
    chunks.append(parser.close(done=True))
    merged = chunks[0].message
    for c in chunks[1:]:
        merged = merged + c.message
    assert isinstance(merged, AIMessageChunk)
    return merged


def test_stream_merges_text_tool_calls_and_usage() -> None:
    call = {"index": 0, "id": "call_a", "type": "function"}
    events = [
        chunk({"role": "assistant", "content": "Check"}),
        chunk({"content": "ing."}),
        chunk({"tool_calls": [{**call, "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
        {**chunk({}), "choices": [], "usage": BODY["usage"]},
    ]
    merged = merge(ADAPTER.stream_parser(), events)  # type: ignore[arg-type]
    invoked = (
        reply.parse_response(
            {
                **BODY,
                "choices": [
                    {
                        **BODY["choices"][0],
                        "message": {
                            "role": "assistant",
                            "content": "Checking.",
                            "tool_calls": [BODY["choices"][0]["message"]["tool_calls"][0]],
                        },
                    }
                ],
            }
        )
        .generations[0]
        .message
    )
    assert merged.text == invoked.text
    assert merged.tool_calls == invoked.tool_calls  # type: ignore[attr-defined]
    assert merged.usage_metadata == invoked.usage_metadata  # type: ignore[attr-defined]
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_stream_without_done_is_incomplete() -> None:
    parser = stream.StreamParser()
    parser.feed(None, chunk({"content": "Hi"}))
    with pytest.raises(ResponseFormatError, match=r"\[DONE\]"):
        parser.close(done=False)


def test_stream_error_event_raises_api_error() -> None:
    with pytest.raises(APIError, match="overloaded"):
        stream.StreamParser().feed(None, {"error": {"message": "overloaded", "code": "x"}})


def test_stream_chunk_without_choices_or_usage_is_a_format_error() -> None:
    with pytest.raises(ResponseFormatError, match="without 'choices'"):
        stream.StreamParser().feed(None, {"id": "x", "object": "chat.completion.chunk"})
