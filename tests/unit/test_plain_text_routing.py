"""Routing skips the adapters for plain text; every adapter agrees that it carries it."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_paramchat.apis.adapter import APIS, adapter_for, unsupported

PLAIN = [
    SystemMessage("Be brief."),
    HumanMessage("Weather in Paris?"),
    AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}]),
    ToolMessage("18 C", tool_call_id="c1"),
    AIMessage("It is 18 C."),
]


def test_every_adapter_carries_plain_text() -> None:
    for api in APIS:
        assert adapter_for(api).unsupported_inputs(PLAIN) == [], api
    assert unsupported(PLAIN, None) == {}


def test_non_plain_inputs_still_reach_the_adapters() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    image = {"type": "image", "file_id": "file-123"}
    assert "responses" in unsupported([HumanMessage([audio])], None)
    assert "chat_completions" in unsupported([HumanMessage([image])], None)
    spoken = AIMessage("hi", additional_kwargs={"audio": {"id": "audio_1"}})
    assert "responses" in unsupported([HumanMessage("hi"), spoken], None)
