"""ParamChat.compact(): a conversation through OpenAI's compact endpoint, and back to invoke."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.apis.responses.compaction import compacted_messages
from langchain_paramchat.errors import OptionError, ResponseFormatError
from langchain_paramchat.testing import FakeOpenAI, Reply
from langchain_paramchat.testing.compact import OUTPUT_TOKENS
from tests.openapi_spec import spec_errors

Factory = Callable[..., ParamChat]

HISTORY = [
    SystemMessage("You plan trips."),
    HumanMessage("I like owls."),
    AIMessage("Noted: owls."),
    HumanMessage(content=[{"type": "text", "text": "Plan a day in Oslo."}]),
    AIMessage("Museum, fjord, dinner."),
]


def _compact(model: ParamChat, how: str, **kwargs: object) -> list:
    if how == "sync":
        return model.compact(HISTORY, **kwargs)
    return asyncio.run(model.acompact(HISTORY, **kwargs))


@pytest.mark.parametrize("how", ["sync", "async"])
def test_compact_returns_user_messages_and_one_compaction_with_usage(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    model = make_model(model="gpt-5.4", prompt_cache_key="trips", temperature=0.3)
    shorter = _compact(model, how)
    assert [type(m).__name__ for m in shorter] == ["HumanMessage", "HumanMessage", "AIMessage"]
    assert [m.text for m in shorter[:2]] == ["I like owls.", "Plan a day in Oslo."]
    compaction = shorter[-1]
    assert isinstance(compaction, AIMessage)
    (block,) = compaction.content
    assert isinstance(block, dict)
    assert block["type"] == "compaction"
    assert block["encrypted_content"]
    assert compaction.usage_metadata is not None
    assert compaction.usage_metadata["output_tokens"] == OUTPUT_TOKENS
    assert compaction.usage_metadata["input_tokens"] > 0
    assert compaction.response_metadata["object"] == "response.compaction"
    assert compaction.response_metadata["model_name"] == "gpt-5.4"

    assert fake_openai.errors == []
    (request,) = fake_openai.requests
    assert request.path == "/v1/responses/compact"
    assert spec_errors(request.path, request.body) == []
    body = request.body
    assert body is not None
    # Options the endpoint takes are sent; the rest (temperature) are not.
    assert body["prompt_cache_key"] == "trips"
    assert "temperature" not in body
    assert body["model"] == "gpt-5.4"
    assert [i.get("role") for i in body["input"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]


def test_the_same_conversation_compacts_the_same_way(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model(model="gpt-5.4")
    assert model.compact(HISTORY) == model.compact(HISTORY)
    assert model.compact(HISTORY[:2]) != model.compact(HISTORY)


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
def test_a_compacted_conversation_feeds_straight_back_to_invoke(
    fake_openai: FakeOpenAI, make_model: Factory, how: str
) -> None:
    model = make_model(model="gpt-5.4")
    shorter = model.compact(HISTORY)
    fake_openai.add(Reply(text="Owl museum at 10."))
    follow_up = [SystemMessage("You plan trips."), *shorter, HumanMessage("And tomorrow?")]
    if how == "invoke":
        answer = model.invoke(follow_up)
    elif how == "ainvoke":
        answer = asyncio.run(model.ainvoke(follow_up))
    else:

        async def collect() -> list[AIMessageChunk]:
            return [c async for c in model.astream(follow_up)]

        chunks = list(model.stream(follow_up)) if how == "stream" else asyncio.run(collect())
        answer = chunks[0]
        for chunk in chunks[1:]:
            answer = answer + chunk
    assert answer.text == "Owl museum at 10."
    assert answer.response_metadata["api"] == "responses"
    assert answer.response_metadata["route_reasons"] == [
        "a compaction item in messages[3] needs the Responses API"
    ]
    assert fake_openai.errors == []
    request = fake_openai.requests[-1]
    assert spec_errors(request.path, request.body) == []
    sent = request.body["input"]
    (block,) = shorter[-1].content
    assert sent[3] == {
        "type": "compaction",
        "id": block["id"],
        "encrypted_content": block["encrypted_content"],
    }
    assert sent[-1] == {"type": "message", "role": "user", "content": "And tomorrow?"}


def test_compact_takes_the_endpoints_options_and_refuses_others_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model(model="gpt-5.4")
    model.compact(HISTORY, model="gpt-5.5", service_tier="flex", safety_identifier="u-1")
    body = fake_openai.requests[-1].body
    assert body is not None
    assert (body["model"], body["service_tier"], body["safety_identifier"]) == (
        "gpt-5.5",
        "flex",
        "u-1",
    )
    with pytest.raises(OptionError, match="temperature=1 is not valid: compact\\(\\) takes only"):
        model.compact(HISTORY, temperature=1)
    assert len(fake_openai.requests) == 1
    assert fake_openai.errors == []


def test_a_reply_that_is_not_a_compaction_is_a_clear_error() -> None:
    with pytest.raises(ResponseFormatError, match="no compaction item"):
        compacted_messages({"output": [], "usage": None}, model="m")
    with pytest.raises(ResponseFormatError, match="no 'output' list"):
        compacted_messages({"id": "x"}, model="m")
    with pytest.raises(ResponseFormatError, match=r"output\[0\] must be an object"):
        compacted_messages({"output": ["x"]}, model="m")
