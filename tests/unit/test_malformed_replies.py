"""Malformed replies and stream events raise ResponseFormatError naming the field, never a
raw AttributeError / TypeError / pydantic ValidationError, on both APIs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_paramchat.apis.chat_completions import reply as chat_reply
from langchain_paramchat.apis.chat_completions import stream as chat_stream
from langchain_paramchat.apis.responses import reply as responses_reply
from langchain_paramchat.apis.responses import stream as responses_stream
from langchain_paramchat.errors import ResponseFormatError

CHAT: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {
                "role": "assistant",
                "content": "hi",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
        }
    ],
    "usage": {
        "prompt_tokens": 5,
        "completion_tokens": 3,
        "total_tokens": 8,
        "prompt_tokens_details": {"cached_tokens": 1},
    },
}
RESPONSE: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "model": "gpt-5",
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "hi", "annotations": []}],
        },
        {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f", "arguments": "{}"},
    ],
    "usage": {
        "input_tokens": 5,
        "output_tokens": 3,
        "total_tokens": 8,
        "input_tokens_details": {"cached_tokens": 1},
    },
}


def mutated(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


CHAT_CASES = [
    (("choices",), "x", "no 'choices'"),
    (("choices", 0), "x", r"choices\[0\] must be an object, got the string 'x'"),
    (("choices", 0), None, r"choices\[0\] must be an object, got null"),
    (("choices", 0, "message"), None, r"without a 'message' object \(choices\[0\]\.message\)"),
    (("choices", 0, "message", "content"), 5, r"message\.content must be a string, got the num"),
    (("choices", 0, "message", "content"), ["x"], r"message\.content must be a string"),
    (("choices", 0, "message", "tool_calls"), "x", r"tool_calls must be an array"),
    (("choices", 0, "message", "tool_calls", 0), "x", r"tool_calls\[0\] must be an object"),
    (("choices", 0, "message", "tool_calls", 0, "function"), None, r"function must be an obj"),
    (("choices", 0, "message", "tool_calls", 0, "function", "arguments"), 5, "arguments must"),
    (("choices", 0, "message", "tool_calls", 0, "function", "name"), 5, r"\.name must be a str"),
    (("choices", 0, "message", "annotations"), ["x"], r"annotations\[0\] must be an object"),
    (("choices", 0, "message", "audio"), "x", r"message\.audio must be an object"),
    (("choices", 0, "message", "refusal"), 5, r"message\.refusal must be a string"),
    (("choices", 0, "index"), "a", r"choices\[0\]\.index must be an integer"),
    (("usage",), "x", "usage must be an object, got the string 'x'"),
    (("usage",), [1], "usage must be an object, got an array"),
    (("usage", "prompt_tokens"), "5", "usage.prompt_tokens must be a non-negative integer, got"),
    (("usage", "total_tokens"), 8.5, "usage.total_tokens must be a non-negative integer"),
    (("usage", "completion_tokens"), -1, "usage.completion_tokens must be a non-negative"),
    (("usage", "prompt_tokens_details"), "x", "usage.prompt_tokens_details must be an object"),
    (("usage", "prompt_tokens_details", "cached_tokens"), "1", "cached_tokens must be a non-"),
]
RESPONSES_CASES = [
    (("output",), "x", "no 'output' list"),
    (("output",), None, "no 'output' list"),
    (("output", 0), "x", r"output\[0\] is not an object"),
    (("output", 0, "content"), "x", r"output\[0\]\.content must be an array"),
    (("output", 0, "content", 0), "x", r"output\[0\]\.content\[0\] must be an object"),
    (("output", 0, "content", 0), None, r"output\[0\]\.content\[0\] must be an object, got null"),
    (("output", 0, "content", 0, "text"), 5, r"content\[0\]\.text must be a string"),
    (("output", 0, "content", 0, "annotations"), "x", r"annotations must be an array"),
    (("output", 1, "arguments"), 5, "function_call.arguments must be a string"),
    (("output", 1, "name"), 5, "function_call.name must be a string"),
    (("output", 0), {"type": "reasoning", "id": "rs", "summary": "x"}, r"summary must be an arr"),
    (("output", 0), {"type": "reasoning", "id": "rs", "summary": ["x"]}, r"summary\[0\] must be"),
    (("usage",), "x", "usage must be an object"),
    (("usage", "input_tokens"), "5", "usage.input_tokens must be a non-negative integer"),
    (("usage", "input_tokens_details"), "x", "usage.input_tokens_details must be an object"),
]


@pytest.mark.parametrize(("path", "value", "message"), CHAT_CASES)
def test_malformed_chat_completions_reply(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(ResponseFormatError, match=message):
        chat_reply.parse_response(mutated(CHAT, path, value))


@pytest.mark.parametrize(("path", "value", "message"), RESPONSES_CASES)
def test_malformed_responses_reply(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(ResponseFormatError, match=message):
        responses_reply.parse_response(mutated(RESPONSE, path, value))


@pytest.mark.parametrize("body", ["x", None, [1], 5])
def test_a_reply_that_is_not_an_object(body: Any) -> None:
    with pytest.raises(ResponseFormatError, match="Chat Completions reply must be an object"):
        chat_reply.parse_response(body)
    with pytest.raises(ResponseFormatError, match="expected a Responses object"):
        responses_reply.parse_response(body)


def test_the_well_formed_fixtures_parse() -> None:
    assert chat_reply.parse_response(CHAT).generations[0].message.text == "hi"
    assert responses_reply.parse_response(RESPONSE).generations[0].message.text == "hi"


# --- streams -------------------------------------------------------------------------------


def chunk(choices: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, **extra}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("x", "stream chunk must be an object"),
        (chunk("x"), "choices must be an array"),
        (chunk(["x"]), r"choices\[0\] must be an object"),
        (chunk([{"index": 0, "delta": "x"}]), r"choices\[0\]\.delta must be an object"),
        (chunk([{"index": 0, "delta": {"content": 5}}]), r"delta\.content must be a string"),
        (chunk([{"index": 0, "delta": {"tool_calls": "x"}}]), r"tool_calls must be an array"),
        (chunk([], usage={"prompt_tokens": "5"}), "usage.prompt_tokens must be a non-negative"),
        (chunk([], usage="x"), "usage must be an object"),
        (
            chunk([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": "x"}]}}]),
            "Chat Completions stream chunk is malformed",
        ),
    ],
)
def test_malformed_chat_completions_stream_chunk(data: Any, message: str) -> None:
    with pytest.raises(ResponseFormatError, match=message):
        chat_stream.StreamParser().feed(None, data)


def test_chunks_of_other_choices_never_mix_into_choice_zero() -> None:
    parser = chat_stream.StreamParser()
    events = [
        chunk(
            [{"index": 0, "delta": {"content": "A1 "}}, {"index": 1, "delta": {"content": "B1 "}}]
        ),
        chunk([{"index": 1, "delta": {"content": "B2 "}}]),
        chunk([{"index": 1, "delta": {"content": "B3"}}, {"index": 0, "delta": {"content": "A2"}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    pieces = [c for e in events if (c := parser.feed(None, e)) is not None]
    merged = pieces[0].message
    for piece in pieces[1:]:
        merged = merged + piece.message
    assert isinstance(merged, AIMessageChunk)
    assert merged.text == "A1 A2"
    assert merged.response_metadata["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("event", "data", "message"),
    [
        ("response.completed", {"response": "x"}, "response.completed.response must be an obj"),
        ("response.completed", {"response": {"output": "x"}}, "no 'output' list"),
        ("response.completed", {"response": {"output": ["x"]}}, r"output\[0\] is not an object"),
        (
            "response.completed",
            {"response": {"output": [], "usage": {"input_tokens": "5"}}},
            "usage.input_tokens must be a non-negative integer",
        ),
        ("response.created", {"response": 5}, "response.created.response must be an object"),
        (
            "response.output_item.added",
            {"output_index": 0, "item": "x"},
            "Responses stream event response.output_item.added is malformed",
        ),
        ("response.output_text.delta", "x", "is not a JSON object"),
    ],
)
def test_malformed_responses_stream_event(event: str, data: Any, message: str) -> None:
    parser = responses_stream.StreamParser()
    with pytest.raises(ResponseFormatError, match=message):
        parser.feed(event, {"type": event, **data} if isinstance(data, dict) else data)


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
@pytest.mark.parametrize("data", ["x", None, [1]])
def test_the_finishing_step_lets_the_parser_reject_a_malformed_event(api: str, data: Any) -> None:
    from langchain_paramchat.apis.adapter import adapter_for
    from langchain_paramchat.call.finish import Finish
    from langchain_paramchat.routing.decide import Route

    adapter = adapter_for(api)  # type: ignore[arg-type]
    stream = Finish(Route(adapter.api, ("test",)), None).stream(adapter.stream_parser())
    with pytest.raises(ResponseFormatError):
        stream.feed("response.output_text.delta", data)
