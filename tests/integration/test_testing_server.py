"""FakeOpenAI via the real openai SDK: every reply kind parses, bodies are checked, faults hit."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest

from langchain_paramchat.testing import (
    Audio,
    FakeOpenAI,
    Fault,
    RecordedRequest,
    Reply,
    ToolCall,
    Usage,
)
from langchain_paramchat.testing.strict_check import strict_schema_errors

pytest_plugins = ["langchain_paramchat.testing.pytest_plugin"]

MODEL = "gpt-test-model"
HI: Any = [{"role": "user", "content": "hi there"}]


@pytest.fixture
def server(fake_openai: FakeOpenAI) -> FakeOpenAI:
    """Use the plugin's fixture under a shorter name."""
    return fake_openai


@pytest.fixture(scope="module")
def http_client() -> Iterator[openai.DefaultHttpxClient]:
    """Share one HTTP client: building its TLS context costs ~40 ms, more than a test."""
    with openai.DefaultHttpxClient() as shared:
        yield shared


@pytest.fixture
def client(server: FakeOpenAI, http_client: openai.DefaultHttpxClient) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, http_client=http_client
    )


@pytest.fixture
async def aclient(server: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=HI, **kwargs)


def chat_stream(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(chat(client, stream=True, **kwargs))


def respond(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.responses.create(model=MODEL, input="hi there", **kwargs)


def respond_stream(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(respond(client, stream=True, **kwargs))


def sse_lines(create: Any, **kwargs: Any) -> list[str]:
    """Return the raw non-empty SSE lines of a streamed answer."""
    with create(model=MODEL, stream=True, **kwargs) as raw:
        return [line for line in raw.iter_lines() if line]


# ------------------------------------------------------------------ lifetime and recording


def test_server_lifecycle_and_base_url() -> None:
    fake = FakeOpenAI()
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    with fake:
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/v1"
        assert fake._thread is not None and fake._thread.daemon
        with pytest.raises(RuntimeError, match="already running"):
            fake.start()
    assert fake._thread is None
    fake.stop()  # stopping twice is harmless


def test_echo_default_and_request_recording(server: FakeOpenAI, client: openai.OpenAI) -> None:
    completion = chat(client, temperature=0.5)
    assert completion.choices[0].message.content == "Echo: hi there"
    assert completion.model == MODEL
    assert completion.system_fingerprint == "fp_test"
    answer = respond(client)
    assert answer.output_text == "Echo: hi there"

    first, second = server.requests
    assert first == RecordedRequest(
        "POST",
        "/v1/chat/completions",
        first.headers,
        {"model": MODEL, "messages": HI, "temperature": 0.5},
        "chat_completions",
    )
    assert first.headers["authorization"] == "Bearer sk-test"
    assert second.api == "responses" and second.body == {"model": MODEL, "input": "hi there"}
    assert server.errors == []


def test_add_takes_strings_and_rejects_other_types(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.add("first", Reply(text="second"))
    assert server.pending == 2
    assert chat(client).choices[0].message.content == "first"
    assert respond(client).output_text == "second"
    assert server.pending == 0
    with pytest.raises(TypeError, match="Reply, Fault or str"):
        server.add(42)


def test_reset_forgets_everything(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add("queued", "also queued")
    with pytest.raises(openai.BadRequestError):
        chat(client, temperature="hot")
    server.reset()
    assert (server.requests, server.errors, server.pending) == ([], [], 0)
    assert chat(client).choices[0].message.content == "Echo: hi there"


def test_unknown_route_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.models.list()


def test_malformed_http_is_refused_and_the_server_survives(server: FakeOpenAI) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
        raw.sendall(b"NONSENSE\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 400 ")
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
        raw.sendall(b"POST /v1/responses HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 411 ")
    with server.client() as c:
        assert c.responses.create(model=MODEL, input="x").status == "completed"


def test_restart_after_stop() -> None:
    fake = FakeOpenAI()
    for _ in range(2):
        with fake, fake.client() as c:
            assert c.responses.create(model=MODEL, input="x").output_text == "Echo: x"


def test_client_helpers(server: FakeOpenAI) -> None:
    server.add("sync", "async")
    with server.client() as c:
        assert c.max_retries == 0 and c.base_url == server.base_url + "/"
        assert c.chat.completions.create(model=MODEL, messages=HI).choices[0]

    async def ask() -> str | None:
        async with server.async_client() as ac:
            completion = await ac.chat.completions.create(model=MODEL, messages=HI)
            return completion.choices[0].message.content

    assert asyncio.run(ask()) == "async"


# ------------------------------------------------------------------------ chat completions


def test_chat_text_with_usage_details(server: FakeOpenAI, client: openai.OpenAI) -> None:
    usage = Usage(10, 20, 3, 4, 5, 6, 7, 8)
    server.add(Reply(text="Hello!", usage=usage, service_tier="flex", id="chatcmpl-1", model="m2"))
    completion = chat(client)
    assert (completion.id, completion.model, completion.service_tier) == (
        "chatcmpl-1",
        "m2",
        "flex",
    )
    assert completion.choices[0].finish_reason == "stop"
    u = completion.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (10, 20, 30)
    assert u.prompt_tokens_details.cached_tokens == 3
    assert u.prompt_tokens_details.audio_tokens == 5
    details = u.completion_tokens_details
    assert details.reasoning_tokens == 4
    assert details.audio_tokens == 6
    assert details.accepted_prediction_tokens == 7
    assert details.rejected_prediction_tokens == 8


def test_chat_tool_calls(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(
        Reply(
            tool_calls=[
                ToolCall("get_weather", {"city": "Paris"}, id="call_1"),
                ToolCall("broken", '{"city": "Par'),
                ToolCall("grammar", "raw text", custom=True),
            ]
        )
    )
    choice = chat(client).choices[0]
    assert choice.finish_reason == "tool_calls"
    first, second, third = choice.message.tool_calls
    assert (first.id, first.function.name) == ("call_1", "get_weather")
    assert json.loads(first.function.arguments) == {"city": "Paris"}
    assert second.function.arguments == '{"city": "Par'
    assert second.id.startswith("call_")
    assert third.type == "custom" and third.custom.input == "raw text"


def test_chat_stream_reassembles_text_and_tool_calls(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.add(Reply(text="Hello world", tool_calls=[ToolCall("f", {"a": 1}), ToolCall("g", "{}")]))
    chunks = chat_stream(client)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Hello world"
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["Hell", "o wo", "rld"]
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for delta in c.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "args": ""})
            call["id"] += delta.id or ""
            call["name"] += delta.function.name or ""
            call["args"] += delta.function.arguments or ""
    assert [(v["name"], v["args"]) for v in calls.values()] == [("f", '{"a": 1}'), ("g", "{}")]
    assert all(v["id"].startswith("call_") for v in calls.values())
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert all(c.usage is None for c in chunks)


def test_chat_stream_usage_chunk_only_when_asked(client: openai.OpenAI) -> None:
    create = client.chat.completions.with_streaming_response.create
    plain = sse_lines(create, messages=HI)
    assert plain[-1] == "data: [DONE]"
    assert all('"usage"' not in line for line in plain)

    with_usage = sse_lines(create, messages=HI, stream_options={"include_usage": True})
    assert with_usage[-1] == "data: [DONE]"
    last = json.loads(with_usage[-2].removeprefix("data: "))
    assert last["choices"] == [] and last["usage"]["total_tokens"] > 0
    assert all(json.loads(x[6:])["usage"] is None for x in with_usage[:-2])


def test_chat_refusal(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Reply(refusal="I can't help with that."), Reply(refusal="No way, sorry."))
    message = chat(client).choices[0].message
    assert (message.content, message.refusal) == (None, "I can't help with that.")
    chunks = chat_stream(client)
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "No way, sorry."


def test_chat_audio(server: FakeOpenAI, client: openai.OpenAI) -> None:
    audio = Audio("UklGRg" * 300, "Hello there", id="audio_1", expires_at=1_900_000_000)
    server.add(Reply(audio=audio), Reply(audio=audio))
    message = chat(client).choices[0].message
    assert message.content is None
    assert (message.audio.id, message.audio.data, message.audio.transcript) == (
        "audio_1",
        audio.data_b64,
        "Hello there",
    )
    assert message.audio.expires_at == 1_900_000_000
    parts: dict[str, Any] = {"data": "", "transcript": ""}
    for c in chat_stream(client):
        piece = c.choices[0].delta.audio
        if piece:
            parts["data"] += piece.data or ""
            parts["transcript"] += piece.transcript or ""
            parts.update({k: getattr(piece, k) for k in ("id", "expires_at") if getattr(piece, k)})
    assert parts == {
        "id": "audio_1",
        "data": audio.data_b64,
        "transcript": "Hello there",
        "expires_at": 1_900_000_000,
    }


def test_chat_logprobs(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Reply(text="abcdefgh"), Reply(text="abcdefgh", logprobs=True))
    logprobs = chat(client, logprobs=True, top_logprobs=2).choices[0].logprobs
    assert [t.token for t in logprobs.content] == ["abcd", "efgh"]
    assert len(logprobs.content[0].top_logprobs) == 2
    assert logprobs.content[0].bytes == list(b"abcd")
    chunks = chat_stream(client)
    per_chunk = [c.choices[0].logprobs.content for c in chunks[1:3]]
    assert [[t.token for t in lp] for lp in per_chunk] == [["abcd"], ["efgh"]]


def test_chat_citations(server: FakeOpenAI, client: openai.OpenAI) -> None:
    cite = {"url": "https://example.com", "title": "Example", "start_index": 0, "end_index": 4}
    server.add(Reply(text="Fact.", citations=[cite]))
    annotation = chat(client).choices[0].message.annotations[0]
    assert annotation.type == "url_citation"
    assert annotation.url_citation.url == "https://example.com"
    assert annotation.url_citation.end_index == 4


def test_chat_several_choices(server: FakeOpenAI, client: openai.OpenAI) -> None:
    both = Reply(choices=[Reply(text="one"), Reply(text="two", finish_reason="length")])
    server.add(both, both)
    completion = chat(client, n=2)
    assert [c.message.content for c in completion.choices] == ["one", "two"]
    assert [c.finish_reason for c in completion.choices] == ["stop", "length"]
    texts = {0: "", 1: ""}
    for c in chat_stream(client, n=2):
        texts[c.choices[0].index] += c.choices[0].delta.content or ""
    assert texts == {0: "one", 1: "two"}


def test_chat_n_repeats_an_unscripted_answer(client: openai.OpenAI) -> None:
    completion = chat(client, n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert {c.message.content for c in completion.choices} == {"Echo: hi there"}


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_chat_finish_reasons(server: FakeOpenAI, client: openai.OpenAI, reason: str) -> None:
    server.add(Reply(text="cut", finish_reason=reason))
    assert chat(client).choices[0].finish_reason == reason


async def test_chat_async_and_async_stream(server: FakeOpenAI, aclient: openai.AsyncOpenAI) -> None:
    server.add("plain", "streamed")
    completion = await aclient.chat.completions.create(model=MODEL, messages=HI)
    assert completion.choices[0].message.content == "plain"
    stream = await aclient.chat.completions.create(model=MODEL, messages=HI, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "streamed"


# ------------------------------------------------------------------------------ responses


def test_responses_reasoning_citations_and_usage(server: FakeOpenAI, client: openai.OpenAI) -> None:
    reply = Reply(
        text="Paris is sunny.",
        reasoning_summary=["Look up weather.", "Answer briefly."],
        reasoning_text="raw thoughts",
        encrypted_content="enc-123",
        citations=[{"url": "https://w.example", "title": "W", "start_index": 0, "end_index": 5}],
        usage=Usage(11, 22, cached_tokens=5, reasoning_tokens=9),
        service_tier="priority",
    )
    server.add(reply, reply)
    response = respond(client, include=["reasoning.encrypted_content"])
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.id.startswith("rs_")
    assert [s.text for s in reasoning.summary] == ["Look up weather.", "Answer briefly."]
    assert reasoning.content[0].text == "raw thoughts"
    assert reasoning.encrypted_content == "enc-123"
    assert message.content[0].annotations[0].url == "https://w.example"
    assert response.output_text == "Paris is sunny."
    assert (response.status, response.service_tier) == ("completed", "priority")
    assert response.usage.input_tokens_details.cached_tokens == 5
    assert response.usage.output_tokens_details.reasoning_tokens == 9
    assert response.usage.total_tokens == 33

    without = respond(client)
    assert without.output[0].encrypted_content is None


def test_responses_logprobs_only_when_included(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add("abcdefgh", "abcdefgh")
    assert respond(client).output[0].content[0].logprobs == []
    part = respond(client, include=["message.output_text.logprobs"], top_logprobs=3)
    logprobs = part.output[0].content[0].logprobs
    assert [t.token for t in logprobs] == ["abcd", "efgh"]
    assert len(logprobs[0].top_logprobs) == 3


def test_responses_tool_calls_refusal_and_raw_items(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    search = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "weather"},
    }
    server.add(
        Reply(
            refusal="Not that.",
            output_items=[search],
            tool_calls=[
                ToolCall("f", {"x": 1}, id="call_9"),
                ToolCall("sql", "SELECT 1", custom=True),
            ],
        )
    )
    ws, message, call, custom = respond(client).output
    assert ws.type == "web_search_call" and ws.action.query == "weather"
    assert message.content[0].type == "refusal" and message.content[0].refusal == "Not that."
    assert (call.type, call.call_id, call.name, call.arguments) == (
        "function_call",
        "call_9",
        "f",
        '{"x": 1}',
    )
    assert call.id.startswith("fc_") and call.status == "completed"
    assert (custom.type, custom.name, custom.input) == ("custom_tool_call", "sql", "SELECT 1")


def test_responses_stream_order_matches_final_response(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.add(
        Reply(
            text="Hello world",
            reasoning_summary=["Hmm"],
            citations=[{"url": "https://a.example"}],
            tool_calls=[ToolCall("f", {"a": 1})],
        )
    )
    events = respond_stream(client)
    types = [e.type for e in events]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert types[3:7] == [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ]
    text_start = types.index("response.content_part.added")
    assert types[text_start + 1 : text_start + 4] == ["response.output_text.delta"] * 3
    assert types[text_start + 4 : text_start + 8] == [
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert types[-4:] == [
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1].response
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert "".join(e.delta for e in deltas) == final.output_text == "Hello world"
    assert {e.item_id for e in deltas} == {final.output[1].id}
    assert all((e.output_index, e.content_index) == (1, 0) for e in deltas)
    args = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert args == final.output[2].arguments == '{"a": 1}'
    done_items = [e.item for e in events if e.type == "response.output_item.done"]
    assert [i.id for i in done_items] == [i.id for i in final.output]
    assert final.usage.total_tokens > 0
    assert events[0].response.status == "in_progress" and events[0].response.usage is None


def test_responses_stream_reasoning_text_refusal_and_custom_tool(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.add(
        Reply(reasoning_text="hmm", refusal="No.", tool_calls=[ToolCall("c", "abc", custom=True)])
    )
    types = [e.type for e in respond_stream(client)]
    for expected in (
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.refusal.delta",
        "response.refusal.done",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
    ):
        assert expected in types


def test_responses_stream_has_no_done_marker(client: openai.OpenAI) -> None:
    lines = sse_lines(client.responses.with_streaming_response.create, input="x")
    assert lines[0] == "event: response.created"
    assert lines[-2] == "event: response.completed"
    assert "[DONE]" not in "".join(lines)


def test_responses_incomplete(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Reply(text="cut", finish_reason="length"), Reply(text="cut", finish_reason="length"))
    response = respond(client)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"
    events = respond_stream(client)
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


async def test_responses_async_stream(server: FakeOpenAI, aclient: openai.AsyncOpenAI) -> None:
    server.add(Reply(text="async text", reasoning_summary=["s"]))
    stream = await aclient.responses.create(model=MODEL, input="x", stream=True)
    events = [e async for e in stream]
    assert events[-1].response.output_text == "async text"


def test_previous_response_id(server: FakeOpenAI, client: openai.OpenAI) -> None:
    first = respond(client)
    second = respond(client, previous_response_id=first.id)
    assert second.previous_response_id == first.id
    server.add("never used")
    with pytest.raises(openai.BadRequestError) as caught:
        respond(client, previous_response_id="resp_missing")
    error = caught.value.body
    assert error == {
        "message": "Previous response with id 'resp_missing' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    assert server.pending == 1 and server.errors == []
    unstored = respond(client, store=False)
    with pytest.raises(openai.BadRequestError, match="not found"):
        respond(client, previous_response_id=unstored.id)


def test_retrieve_and_background_polling(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add("done in the background")
    created = respond(client, background=True)
    assert created.status == "queued" and created.output == []
    polled = client.responses.retrieve(created.id)
    assert polled.status == "in_progress"
    finished = client.responses.retrieve(created.id)
    assert (finished.status, finished.output_text) == ("completed", "done in the background")
    assert client.responses.retrieve(created.id).status == "completed"
    assert server.requests[-1].method == "GET" and server.requests[-1].api == "responses"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_nope")


# ------------------------------------------------------------------------------ body checks


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"temperature": "hot"}, "$.temperature"),
        ({"extra_body": {"not_a_param": 1}}, "Unrecognized request argument supplied: not_a_param"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "$.messages[0].role"),
    ],
)
def test_chat_body_check_rejects(
    server: FakeOpenAI, client: openai.OpenAI, kwargs: dict[str, Any], needle: str
) -> None:
    server.add("kept for later")
    args = {"model": MODEL, "messages": HI, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**args)
    assert needle in caught.value.message
    assert len(server.errors) == 1 and needle in server.errors[0]
    assert server.pending == 1


def test_responses_body_check_rejects_bad_include(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.BadRequestError, match=r"\$\.include\[0\]"):
        respond(client, include=["everything"])
    assert server.errors[0].startswith("POST /v1/responses: ")


def test_extra_keys_and_disabled_checks_are_allowed() -> None:
    with FakeOpenAI(extra_keys={"custom_flag"}) as fake, fake.client() as c:
        c.chat.completions.create(model=MODEL, messages=HI, extra_body={"custom_flag": True})
        assert fake.errors == []
    with FakeOpenAI(check_bodies=False) as fake, fake.client() as c:
        c.chat.completions.create(model=MODEL, messages=HI, temperature="hot")
        assert fake.errors == []


STRICT_OK = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": ["string", "null"], "enum": ["c", "f", None]},
        "when": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "maxItems": 3},
    },
    "required": ["city", "unit", "when", "tags"],
    "additionalProperties": False,
    "$defs": {
        "Tag": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "child": {"anyOf": [{"$ref": "#/$defs/Tag"}, {"type": "null"}]},
            },
            "required": ["name", "child"],
            "additionalProperties": False,
        }
    },
}


def test_strict_tools_and_formats_pass_when_valid(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    chat(
        client,
        tools=[
            {"type": "function", "function": {"name": "f", "parameters": STRICT_OK, "strict": True}}
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": STRICT_OK, "strict": True},
        },
    )
    respond(
        client,
        tools=[{"type": "function", "name": "f", "parameters": STRICT_OK, "strict": True}],
        text={
            "format": {"type": "json_schema", "name": "out", "schema": STRICT_OK, "strict": True}
        },
    )
    assert server.errors == []


LOOSE = {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}


@pytest.mark.parametrize(
    ("api", "kwargs", "param"),
    [
        (
            "chat",
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {"name": "f", "parameters": LOOSE, "strict": True},
                    }
                ]
            },
            "tools[0].function.parameters",
        ),
        (
            "chat",
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "o", "schema": LOOSE, "strict": True},
                }
            },
            "response_format.json_schema.schema",
        ),
        (
            "responses",
            {"tools": [{"type": "function", "name": "f", "parameters": LOOSE, "strict": True}]},
            "tools[0].parameters",
        ),
        (
            "responses",
            {
                "text": {
                    "format": {"type": "json_schema", "name": "o", "schema": LOOSE, "strict": True}
                }
            },
            "text.format.schema",
        ),
    ],
)
def test_strict_schemas_are_enforced_on_both_apis(
    server: FakeOpenAI, client: openai.OpenAI, api: str, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        (chat if api == "chat" else respond)(client, **kwargs)
    assert caught.value.param == param
    joined = "\n".join(server.errors)
    assert "additionalProperties" in joined
    assert "missing 'a'" in joined
    assert "'default' is not supported" in joined


def test_non_strict_tools_may_be_loose(server: FakeOpenAI, client: openai.OpenAI) -> None:
    chat(client, tools=[{"type": "function", "function": {"name": "f", "parameters": LOOSE}}])
    assert server.errors == []


def test_schema_defaults_can_be_allowed() -> None:
    schema = {
        **STRICT_OK,
        "properties": {**STRICT_OK["properties"], "city": {"type": "string", "default": "Oslo"}},
    }
    assert any("'default'" in e for e in strict_schema_errors(schema))
    assert strict_schema_errors(schema, allow_default=True) == []
    tool = {"type": "function", "name": "f", "parameters": schema, "strict": True}
    with FakeOpenAI(allow_schema_defaults=True) as fake, fake.client() as c:
        c.responses.create(model=MODEL, input="x", tools=[tool])
        assert fake.errors == []


def test_strict_schema_rules() -> None:
    assert strict_schema_errors(STRICT_OK) == []
    assert (
        strict_schema_errors({"anyOf": [STRICT_OK]})[0] == "$: the root schema must not be 'anyOf'"
    )
    obj = {"type": "object", "additionalProperties": False, "required": ["x"]}
    cases = {
        "keyword 'allOf' is not supported": {"x": {"allOf": [{"type": "string"}]}},
        "keyword 'minLength' is not supported": {"x": {"type": "string", "minLength": 1}},
        "format 'uri' is not supported": {"x": {"type": "string", "format": "uri"}},
        "must define 'items'": {"x": {"type": "array"}},
        "'$ref' must stand alone": {"x": {"$ref": "#", "description": "d"}},
        "'#/$defs/Nope' does not resolve": {"x": {"$ref": "#/$defs/Nope"}},
        "type 'date' is not supported": {"x": {"type": "date"}},
        "'additionalProperties' must be set to false": {"x": {"type": "object", "properties": {}}},
        "enum: expected a non-empty list": {"x": {"enum": []}},
    }
    for needle, props in cases.items():
        errors = strict_schema_errors({**obj, "properties": props})
        assert any(needle in e for e in errors), (needle, errors)
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        deep = {**obj, "required": ["x"], "properties": {"x": deep}}
    assert any("nest 11 deep" in e for e in strict_schema_errors(deep))
    many = {**obj, "required": ["x"], "properties": {"x": {"enum": list(range(1001))}}}
    assert any("1001 enum values" in e for e in strict_schema_errors(many))


# ----------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.status(429, headers={"retry-after": "0"}), openai.RateLimitError, None),
        (
            Fault.status(429, error_code="insufficient_quota"),
            openai.RateLimitError,
            "insufficient_quota",
        ),
        (Fault.status(500), openai.InternalServerError, None),
        (Fault.status(503, message="overloaded"), openai.InternalServerError, None),
        (
            Fault.status(400, error_code="context_length_exceeded"),
            openai.BadRequestError,
            "context_length_exceeded",
        ),
    ],
)
def test_status_faults(
    server: FakeOpenAI,
    client: openai.OpenAI,
    fault: Fault,
    error: type[Exception],
    code: str | None,
) -> None:
    server.add(fault)
    with pytest.raises(error) as caught:
        chat(client)
    assert isinstance(caught.value, openai.APIStatusError)
    assert caught.value.status_code == fault.status_code
    assert caught.value.code == code
    assert caught.value.message.endswith(fault.message)
    for name, value in fault.headers.items():
        assert caught.value.response.headers[name] == value
    assert caught.value.response.headers["x-request-id"].startswith("req_")
    assert chat(client).choices[0].message.content == "Echo: hi there"  # the fault is used up


def test_insufficient_quota_has_its_own_type(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Fault.status(429, error_code="insufficient_quota"))
    with pytest.raises(openai.RateLimitError) as caught:
        respond(client)
    assert caught.value.type == "insufficient_quota"


def test_status_fault_repeats_and_sdk_retries_through_it(server: FakeOpenAI) -> None:
    server.add(Fault.status(429, headers={"retry-after-ms": "1"}, times=2), "finally")
    retrying = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=2)
    assert (
        retrying.chat.completions.create(model=MODEL, messages=HI).choices[0].message.content
        == "finally"
    )
    assert len(server.requests) == 3


def test_reset_fault(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Fault.reset())
    with pytest.raises(openai.APIConnectionError):
        respond(client)
    assert respond(client).status == "completed"


def test_drop_mid_stream(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(
        Fault.drop_mid_stream(after_events=3, reply=Reply(text="abcdefghijkl")),
        Fault.drop_mid_stream(after_events=4),
        Fault.drop_mid_stream(),
    )
    received: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in chat(client, stream=True):
            received.append(chunk)
    assert [c.choices[0].delta.content for c in received] == ["", "abcd", "efgh"]
    events: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for event in respond(client, stream=True):
            events.append(event)
    assert len(events) == 4
    with pytest.raises(openai.APIConnectionError):
        chat(client)


def test_truncated(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(
        Fault.truncated(after_events=100, reply=Reply(text="abcdefgh")),
        Fault.truncated(after_events=100),
        Fault.truncated(),
    )
    chunks = chat_stream(client)  # ends quietly, but [DONE] never came ...
    assert chunks[-1].choices[0].finish_reason == "stop"
    events = respond_stream(client)  # ... and a Responses stream lacks its final event
    assert events[-1].type == "response.output_item.done"
    with pytest.raises(json.JSONDecodeError):
        chat(client)


def test_malformed_and_missing_fields(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Fault.malformed(), Fault.missing_fields(), Fault.missing_fields())
    with pytest.raises(json.JSONDecodeError):
        chat(client)
    assert "choices" not in chat(client).model_fields_set
    assert "output" not in respond(client).model_fields_set


def test_stall_times_out_the_client(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Fault.stall(30))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(model=MODEL, messages=HI)
    assert time.monotonic() - started < 15  # the client gave up long before the 30 s stall
    deadline = time.monotonic() + 15
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.open_connections == 0  # the stall ends when the client hangs up


def test_slow(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add(Fault.slow(0.02, reply=Reply(text="abcdefgh")), Fault.slow(0.05))
    started = time.monotonic()
    assert "".join(c.choices[0].delta.content or "" for c in chat_stream(client)) == "abcdefgh"
    assert time.monotonic() - started >= 4 * 0.02  # role, 2 deltas, finish, [DONE]
    started = time.monotonic()
    assert respond(client).output_text == "Echo: hi there"
    assert time.monotonic() - started >= 0.05


def test_stream_errors(server: FakeOpenAI, client: openai.OpenAI) -> None:
    failing = Fault.stream_error("server_error", "boom", after_events=2)
    server.add(
        Reply(text="abcdefgh", fault=failing),
        Reply(
            text="abcdefgh",
            fault=Fault.stream_error("rate_limit_exceeded", "slow down", event="error"),
        ),
        Reply(fault=failing),
        Reply(fault=failing),
    )
    events = respond_stream(client)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    assert events[-1].response.status == "failed"
    assert (events[-1].response.error.code, events[-1].response.error.message) == (
        "server_error",
        "boom",
    )
    events = respond_stream(client)
    assert len(events) == 1
    assert (events[0].type, events[0].code, events[0].message) == (
        "error",
        "rate_limit_exceeded",
        "slow down",
    )
    assert respond(client).status == "failed"
    with pytest.raises(openai.APIError, match="boom"):
        chat_stream(client)


# ------------------------------------------------------------------------------ concurrency


async def test_two_hundred_concurrent_requests(server: FakeOpenAI) -> None:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:

        async def ask(i: int) -> str:
            if i % 2:
                response = await c.responses.create(model=MODEL, input=f"n{i}")
                return response.output_text
            completion = await c.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": f"n{i}"}]
            )
            return completion.choices[0].message.content or ""

        answers = await asyncio.wait_for(asyncio.gather(*(ask(i) for i in range(200))), 8)
    assert answers == [f"Echo: n{i}" for i in range(200)]
    assert len(server.requests) == 200
    assert server.max_open_connections >= 50
    assert server.errors == []


def test_requests_are_recorded_safely_from_many_threads(server: FakeOpenAI) -> None:
    def work() -> None:
        with server.client() as c:
            for _ in range(5):
                c.chat.completions.create(model=MODEL, messages=HI)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.requests) == 40


def test_stop_closes_open_connections() -> None:
    fake = FakeOpenAI().start()
    fake.add(Fault.stall(30))
    c = fake.client(timeout=10)
    failure: list[BaseException] = []

    def call() -> None:
        try:
            c.chat.completions.create(model=MODEL, messages=HI)
        except BaseException as exc:
            failure.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 15
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    caller.join(15)
    c.close()
    assert time.monotonic() - started < 15  # stop() cut the 30 s stall short
    assert isinstance(failure[0], openai.APIConnectionError)
