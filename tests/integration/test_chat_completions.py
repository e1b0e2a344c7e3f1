"""ParamChat on Chat Completions through the real openai SDK against the local server."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_paramchat import OptionError, ParamChat, UnknownOptionError
from langchain_paramchat.testing import Audio, FakeOpenAI, Reply, ToolCall, Usage

Factory = Callable[..., ParamChat]


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def test_invoke_returns_text_usage_and_metadata(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(
        Reply(text="Hello there", usage=Usage(10, 3, cached_tokens=4), service_tier="flex")
    )
    model = make_model(temperature=0.2, prompt_cache_key="tenant-42", service_tier="flex")
    reply = model.invoke("hi")
    assert reply.text == "Hello there"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 10
    assert reply.usage_metadata["output_tokens"] == 3
    assert reply.usage_metadata["total_tokens"] == 13
    # On the flex tier the details carry the tier's name, as ChatOpenAI reports them.
    assert reply.usage_metadata["input_token_details"]["flex_cache_read"] == 4
    assert reply.usage_metadata["input_token_details"]["flex"] == 6
    meta = reply.response_metadata
    assert meta["api"] == "chat_completions"
    assert meta["route_reasons"]
    assert meta["model_name"] == "gpt-4o-mini"
    assert meta["finish_reason"] == "stop"
    assert meta["service_tier"] == "flex"
    assert meta["system_fingerprint"] == "fp_test"
    assert reply.id and reply.id == meta["id"]
    body = fake_openai.requests[0].body
    assert body == model.preview_request("hi").payload
    assert body["temperature"] == 0.2 and body["prompt_cache_key"] == "tenant-42"
    assert fake_openai.errors == []


async def test_ainvoke_and_abatch(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    model = make_model()
    reply = await model.ainvoke("ping")
    assert reply.text == "Echo: ping"
    replies = await model.abatch(["a", "b", "c"])
    assert sorted(r.text for r in replies) == ["Echo: a", "Echo: b", "Echo: c"]
    assert len(fake_openai.requests) == 4


def test_batch(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    replies = make_model().batch(["one", "two"])
    assert [r.text for r in replies] == ["Echo: one", "Echo: two"]


def test_stream_merges_to_the_invoke_result(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    reply = Reply(
        text="The quick brown fox",
        tool_calls=[ToolCall("lookup", {"q": "fox"}, id="call_1")],
        usage=Usage(7, 9, reasoning_tokens=2),
    )
    fake_openai.add(reply, reply)
    model = make_model()
    invoked = model.invoke("x")
    chunks = list(model.stream("x", verbosity="low"))
    assert len(chunks) > 3
    merged = _merge(chunks)
    assert merged.text == invoked.text
    assert merged.tool_calls == invoked.tool_calls
    assert merged.usage_metadata == invoked.usage_metadata
    for key in ("model_name", "finish_reason", "system_fingerprint", "api", "route_reasons"):
        assert merged.response_metadata[key] == invoked.response_metadata[key]
    streamed_body = fake_openai.requests[1].body
    assert streamed_body["stream"] is True
    assert streamed_body["stream_options"] == {"include_usage": True}
    assert streamed_body["verbosity"] == "low"
    assert "verbosity" not in fake_openai.requests[0].body


async def test_astream_merges_to_the_ainvoke_result(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    reply = Reply(text="Streaming asynchronously works", usage=Usage(5, 4))
    fake_openai.add(reply, reply)
    model = make_model()
    invoked = await model.ainvoke("x")
    merged = _merge([c async for c in model.astream("x")])
    assert merged.text == invoked.text
    assert merged.usage_metadata == invoked.usage_metadata


def test_streaming_true_makes_invoke_stream(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Reply(text="streamed under the hood"))
    reply = make_model(streaming=True).invoke("x")
    assert reply.text == "streamed under the hood"
    assert fake_openai.requests[0].body["stream"] is True
    assert reply.usage_metadata is not None


def test_stream_usage_false_omits_usage(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    merged = _merge(list(make_model(stream_usage=False).stream("x")))
    assert "stream_options" not in fake_openai.requests[0].body
    assert merged.usage_metadata is None


def test_tool_calls_and_invalid_tool_calls(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(
        Reply(
            tool_calls=[
                ToolCall("get_weather", {"city": "Paris"}, id="call_ok"),
                ToolCall("get_weather", '{"city": "Par', id="call_bad"),
            ]
        )
    )
    reply = make_model().invoke("weather?")
    assert reply.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_ok", "type": "tool_call"}
    ]
    assert reply.invalid_tool_calls[0]["id"] == "call_bad"
    assert "not valid JSON" in reply.invalid_tool_calls[0]["error"]


def test_streamed_tool_call_chunks_merge_by_index(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(
        Reply(tool_calls=[ToolCall("a", {"x": 1}, id="c1"), ToolCall("b", {"y": "two"}, id="c2")])
    )
    merged = _merge(list(make_model().stream("go")))
    assert [(c["name"], c["args"], c["id"]) for c in merged.tool_calls] == [
        ("a", {"x": 1}, "c1"),
        ("b", {"y": "two"}, "c2"),
    ]


def test_refusal_invoke_and_stream(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(
        Reply(refusal="I can't help with that."), Reply(refusal="I can't help with that.")
    )
    model = make_model()
    assert model.invoke("x").additional_kwargs["refusal"] == "I can't help with that."
    merged = _merge(list(model.stream("x")))
    assert merged.additional_kwargs["refusal"] == "I can't help with that."


def test_audio_output_invoke_stream_and_send_back(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    data = base64.b64encode(b"RIFF....WAVEfmt audio bytes").decode()
    audio = Audio(
        data_b64=data, transcript="Hello in audio", id="audio_1", expires_at=1_900_000_000
    )
    fake_openai.add(
        Reply(audio=audio, usage=Usage(3, 8, audio_output_tokens=6)), Reply(audio=audio)
    )
    model = make_model(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
    )
    reply = model.invoke("say hello")
    assert reply.additional_kwargs["audio"]["data"] == data
    assert reply.additional_kwargs["audio"]["transcript"] == "Hello in audio"
    assert reply.additional_kwargs["audio"]["id"] == "audio_1"
    assert reply.additional_kwargs["audio"]["expires_at"] == 1_900_000_000
    assert reply.usage_metadata["output_token_details"]["audio"] == 6
    merged = _merge(list(model.stream("say hello")))
    assert merged.additional_kwargs["audio"] == reply.additional_kwargs["audio"]
    model.invoke([HumanMessage("say hello"), reply, HumanMessage("again")])
    sent = fake_openai.requests[-1].body["messages"][1]
    assert sent == {"role": "assistant", "content": None, "audio": {"id": "audio_1"}}
    assert fake_openai.errors == []


def test_logprobs_invoke_and_stream(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Reply(text="hi there", logprobs=True), Reply(text="hi there", logprobs=True))
    model = make_model(logprobs=True, top_logprobs=2)
    reply = model.invoke("x")
    tokens = reply.response_metadata["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == "hi there"
    chunks = list(model.stream("x"))
    streamed = [
        t for c in chunks for t in (c.response_metadata.get("logprobs") or {}).get("content") or []
    ]
    assert "".join(t["token"] for t in streamed) == "hi there"


def test_n_choices_become_generations(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(Reply(choices=[Reply(text="one"), Reply(text="two"), Reply(text="three")]))
    result = make_model(n=3).generate([[HumanMessage("x")]])
    assert [g.message.text for g in result.generations[0]] == ["one", "two", "three"]
    assert fake_openai.requests[0].body["n"] == 3


def test_citations_are_reachable(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    cite = {"url": "https://example.com", "title": "Example", "start_index": 0, "end_index": 4}
    fake_openai.add(Reply(text="Fact here", citations=[cite]))
    reply = make_model(model="gpt-4o-search-preview", web_search_options={}).invoke("x")
    assert reply.text == "Fact here"
    annotations = reply.content[0]["annotations"]  # type: ignore[index]
    assert annotations[0]["url"] == "https://example.com"
    assert annotations[0]["type"] == "url_citation"


def test_usage_details(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    fake_openai.add(
        Reply(
            text="x",
            usage=Usage(
                20,
                10,
                cached_tokens=5,
                reasoning_tokens=4,
                audio_input_tokens=2,
                accepted_prediction_tokens=3,
                rejected_prediction_tokens=1,
            ),
        )
    )
    usage = make_model().invoke("x").usage_metadata
    assert usage is not None
    assert usage["input_token_details"] == {"cache_read": 5, "audio": 2}
    assert usage["output_token_details"]["reasoning"] == 4
    assert usage["output_token_details"]["accepted_prediction"] == 3
    assert usage["output_token_details"]["rejected_prediction"] == 1


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
PDF = base64.b64encode(b"%PDF-1.4 fake").decode()
WAV = base64.b64encode(b"RIFFfakeWAVE").decode()


def test_every_message_kind_is_sent_in_the_right_shape(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    messages = [
        SystemMessage("Be brief."),
        HumanMessage(
            [
                {"type": "text", "text": "Look:"},
                {"type": "image", "url": "https://example.com/cat.png"},
                {"type": "image", "base64": PNG, "mime_type": "image/png"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/dog.png", "detail": "low"},
                },
                {
                    "type": "file",
                    "base64": PDF,
                    "mime_type": "application/pdf",
                    "filename": "doc.pdf",
                },
                {"type": "audio", "base64": WAV, "mime_type": "audio/wav"},
            ]
        ),
        AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "call_1"}]),
        ToolMessage("result", tool_call_id="call_1"),
    ]
    make_model(model="gpt-5").invoke(messages)
    assert fake_openai.errors == []
    sent = fake_openai.requests[0].body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    parts = sent[1]["content"]
    assert [p["type"] for p in parts] == [
        "text",
        "image_url",
        "image_url",
        "image_url",
        "file",
        "input_audio",
    ]
    assert parts[2]["image_url"]["url"] == f"data:image/png;base64,{PNG}"
    assert parts[3]["image_url"]["detail"] == "low"
    assert parts[4]["file"] == {
        "file_data": f"data:application/pdf;base64,{PDF}",
        "filename": "doc.pdf",
    }
    assert parts[5]["input_audio"] == {"data": WAV, "format": "wav"}
    assert sent[2]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": "result"}
    assert fake_openai.requests[0].body["model"] == "gpt-5"


def test_system_role_for_classic_models(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    make_model(model="gpt-4o-mini").invoke([SystemMessage("sys"), HumanMessage("hi")])
    assert fake_openai.requests[0].body["messages"][0]["role"] == "system"


BAD_CALLS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"temperature": 3}, OptionError, "temperature=3"),
    ({"temperatur": 1}, UnknownOptionError, "temperature"),
    ({"audio": {"voice": "alloy", "format": "wav"}}, OptionError, "modalities"),
    ({"modalities": ["text", "audio"]}, OptionError, "audio"),
    ({"reasoning_effort": "low", "reasoning": {"effort": "high"}}, OptionError, "reasoning"),
    ({"prediction": {"type": "content", "content": "x"}, "n": 2}, OptionError, "prediction"),
    ({"service_tier": "turbo"}, OptionError, "service_tier"),
    ({"logit_bias": {"1": 500}}, OptionError, "logit_bias"),
    ({"stop": ["a", "b", "c", "d", "e"]}, OptionError, "stop"),
    ({"request_metadata": {"k": 1}}, OptionError, "request_metadata.k"),
    ({"top_logprobs": 3, "logprobs": False}, OptionError, "logprobs=True"),
]


@pytest.mark.parametrize(("kwargs", "error", "text"), BAD_CALLS)
def test_bad_input_fails_before_any_request(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    kwargs: dict[str, Any],
    error: type[Exception],
    text: str,
) -> None:
    model = make_model()
    with pytest.raises(error, match=text.replace("[", r"\[").replace(".", r"\.")):
        model.invoke("x", **kwargs)
    with pytest.raises(error):
        list(model.stream("x", **kwargs))
    assert fake_openai.requests == []


def test_openai_metadata_is_request_metadata(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    model = make_model(request_metadata={"k": "v"}, metadata={"run": "tracing"})
    model.invoke("x")
    assert fake_openai.requests[0].body["metadata"] == {"k": "v"}
    assert model.metadata is not None and model.metadata["run"] == "tracing"
    assert "k" not in model.metadata  # the request metadata is not tracing metadata
    with pytest.raises(UnknownOptionError, match="request_metadata"):
        model.preview_request("x", metadata={"k": "v"})


def test_n_with_streaming_fails_before_any_request(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    with pytest.raises(OptionError, match="n > 1 cannot be streamed"):
        list(make_model(n=2).stream("x"))
    assert fake_openai.requests == []


async def test_bad_input_fails_before_any_async_request(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    with pytest.raises(OptionError):
        await make_model().ainvoke("x", top_p=2)
    assert fake_openai.requests == []


def test_extra_body_is_sent_verbatim(fake_openai: FakeOpenAI, make_model: Factory) -> None:
    model = make_model(extra_body={"custom_flag": True})
    preview = model.preview_request("x", extra_body={"another": 1})
    assert preview.payload["custom_flag"] is True and preview.payload["another"] == 1


def test_empty_message_list_is_refused_before_sending(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    from langchain_paramchat.errors import MessageConversionError

    with pytest.raises(MessageConversionError, match="no messages to send"):
        make_model().invoke([])
    assert fake_openai.requests == []


def test_llama_cpp_context_overflow_type_is_context_overflow(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    from langchain_core.exceptions import ContextOverflowError

    from langchain_paramchat.testing import Fault

    fake_openai.add(Fault.status(400, error_type="exceed_context_size_error", message="too long"))
    with pytest.raises(ContextOverflowError):
        make_model().invoke("x")
