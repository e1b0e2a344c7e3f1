"""Message contents only one API can carry route the call there, in both directions."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessageChunk, HumanMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply

Factory = Callable[..., ParamChat]


def test_image_by_file_id_is_sent_to_responses(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="A cat."), Reply(text="A cat."))
    message = HumanMessage(
        content=[{"type": "text", "text": "What is it?"}, {"type": "image", "file_id": "file-1"}]
    )
    model = make_model()
    invoked = model.invoke([message])
    assert invoked.text == "A cat."
    assert invoked.response_metadata["api"] == "responses"
    assert invoked.response_metadata["route_reasons"] == [
        "an image by file_id in messages[0] needs the Responses API"
    ]
    chunks = list(model.stream([message]))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    assert merged.text == "A cat."
    assert [r.api for r in fake_openai.requests] == ["responses", "responses"]
    assert fake_openai.requests[0].body["input"][0]["content"][1]["file_id"] == "file-1"
    assert fake_openai.errors == []


def test_audio_input_is_sent_to_chat_completions(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="Hello."))
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    invoked = make_model(model="gpt-4o-audio-preview").invoke([HumanMessage(content=[audio])])
    assert invoked.response_metadata["api"] == "chat_completions"
    assert fake_openai.requests[0].api == "chat_completions"
    assert fake_openai.errors == []
