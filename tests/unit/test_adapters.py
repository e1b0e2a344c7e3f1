"""Both adapters implement one interface; each says what its API cannot carry."""

from __future__ import annotations

import inspect

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langchain_paramchat.apis.adapter import APIS, Adapter, adapter_for, unsupported
from langchain_paramchat.tools.normalize import normalize_tool

AUDIO = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}


@pytest.mark.parametrize("api", APIS)
def test_each_adapter_implements_the_interface(api: str) -> None:
    adapter = adapter_for(api)  # type: ignore[arg-type]
    assert adapter.api == api
    assert adapter.path == {"chat_completions": "/chat/completions", "responses": "/responses"}[api]
    for name, member in inspect.getmembers(Adapter, inspect.isfunction):
        if name.startswith("_"):
            continue
        implemented = inspect.signature(getattr(type(adapter), name))
        assert implemented.parameters == inspect.signature(member).parameters, name


def test_routing_inputs_come_from_both_adapters() -> None:
    messages = [
        HumanMessage(content=[AUDIO]),
        HumanMessage(content=[{"type": "image", "file_id": "file-1"}]),
    ]
    search = normalize_tool({"type": "web_search"})
    assert unsupported(messages, [search]) == {
        "chat_completions": ["tool 'web_search'", "an image by file_id in messages[1]"],
        "responses": ["audio input in messages[0]"],
    }
    assert unsupported([HumanMessage("hi")], None) == {}


def test_assistant_audio_is_named_by_the_responses_adapter() -> None:
    message = AIMessage("", additional_kwargs={"audio": {"id": "audio_1"}})
    assert adapter_for("responses").unsupported_inputs([message]) == [
        "assistant audio in messages[0]"
    ]


def test_responses_bodies_never_ask_for_usage_in_stream_options() -> None:
    body = adapter_for("responses").build_request(
        [HumanMessage("x")],
        model="gpt-5",
        placements={},
        tools=None,
        tool_choice=None,
        stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},
        stream_usage=True,
    )
    assert body["stream_options"] == {"include_obfuscation": False}


def test_only_pending_background_responses_are_polled() -> None:
    responses, chat = adapter_for("responses"), adapter_for("chat_completions")
    pending = {"object": "response", "id": "resp_1", "status": "queued"}
    assert responses.poll_path(pending) == "/responses/resp_1"
    assert responses.poll_path({**pending, "status": "completed"}) is None
    assert chat.poll_path(pending) is None
