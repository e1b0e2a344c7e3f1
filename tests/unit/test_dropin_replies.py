"""Reply fields ChatOpenAI reads that OpenAI-compatible servers send: a name, a function call."""

from __future__ import annotations

from typing import Any

from langchain_paramchat.apis.chat_completions.reply import parse_response


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
    }


def test_a_reply_name_reaches_the_ai_message() -> None:
    body = completion({"role": "assistant", "content": "Bar Baz", "name": "Erick"})
    message = parse_response(body).generations[0].message
    assert message.name == "Erick"
    assert message.content == "Bar Baz"


def test_a_reply_without_a_name_has_none() -> None:
    message = parse_response(completion({"role": "assistant", "content": "x"})).generations[0]
    assert message.message.name is None


def test_a_legacy_function_call_reply_is_kept() -> None:
    call = {"name": "get_weather", "arguments": '{"city": "Boston"}'}
    body = completion({"role": "assistant", "content": None, "function_call": call})
    message = parse_response(body).generations[0].message
    assert message.additional_kwargs["function_call"] == call
