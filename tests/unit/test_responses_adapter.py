"""The Responses API adapter: message conversion, reply parsing and the stream parser."""

from __future__ import annotations

import copy
import functools
import itertools
import json
import operator
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from pydantic import TypeAdapter

from langchain_paramchat.apis.responses.reply import parse_response
from langchain_paramchat.apis.responses.request import (
    PATH,
    build_payload,
    convert_messages,
    needs_encrypted_reasoning,
)
from langchain_paramchat.apis.responses.request import unsupported_inputs as chat_only_inputs
from langchain_paramchat.apis.responses.stream import StreamParser
from langchain_paramchat.errors import (
    APIError,
    MessageConversionError,
    ParamChatError,
    ResponseFormatError,
)
from langchain_paramchat.options.typecheck import find_error
from langchain_paramchat.routing.decide import route

INPUT_TYPE = typing.get_type_hints(ResponseCreateParamsBase)["input"]
EVENT = TypeAdapter(ResponseStreamEvent)
RESP_ID = "resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b"
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAA"
    "BJRU5ErkJggg=="
)
PDF_B64 = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg=="

# --- realistic output items ------------------------------------------------------------------

REASONING = {
    "id": "rs_68af4030baa48193b0b43b4c2a176a1a05438e46b5f69a3b",
    "type": "reasoning",
    "summary": [
        {"type": "summary_text", "text": "**Checking the forecast**\n\nThe user wants Paris."},
        {"type": "summary_text", "text": "**Choosing a tool**\n\nget_weather fits best."},
    ],
    "encrypted_content": "gAAAAABor0A0x7Y1V0Qm9mUzJ3b0V6aVh5ZWZkT2Y4b1pEN2Q5c3c9PQ==",
}
MESSAGE = {
    "id": "msg_68af4033e8b881939d9d6bf8ea5a3fb305438e46b5f69a3b",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [
        {
            "type": "output_text",
            "text": "It is 18°C and sunny in Paris [1]. Source files agree.",
            "annotations": [
                {
                    "type": "url_citation",
                    "start_index": 30,
                    "end_index": 33,
                    "title": "Paris weather",
                    "url": "https://weather.example/paris",
                },
                # Two citations at the same index: langchain-core would merge them if they
                # were streamed as separate list entries.
                {"type": "file_citation", "file_id": "file-A1", "filename": "a.pdf", "index": 54},
                {"type": "file_citation", "file_id": "file-B2", "filename": "b.pdf", "index": 54},
            ],
            "logprobs": [],
        }
    ],
}
CALL = {
    "id": "fc_68af4035a4d88193a8e3b0f19f5d9e7a05438e46b5f69a3b",
    "type": "function_call",
    "status": "completed",
    "call_id": "call_Pq9XbC8TfWl2xk1tZ0t3u4Ve",
    "name": "get_weather",
    "arguments": '{"city": "Paris", "unit": "celsius"}',
}
BAD_CALL = {
    "id": "fc_68af4035b7f88193a1b2c3d4e5f6a7b805438e46b5f69a3b",
    "type": "function_call",
    "status": "completed",
    "call_id": "call_Zz8YbC8TfWl2xk1tZ0t3u4Vq",
    "name": "get_time",
    # Malformed in a way langchain-core's stream merge cannot repair either (it completes
    # truncated JSON), so streamed and parsed replies agree on it.
    "arguments": '{"zone": Europe/Paris}',
}
CUSTOM_CALL = {
    "id": "ctc_68af4036c9a08193b2f3c4d5e6f7a8b905438e46b5f69a3b",
    "type": "custom_tool_call",
    "status": "completed",
    "call_id": "call_Cu5tOmT00lCa11Id00000001",
    "name": "run_sql",
    "input": "SELECT city, temp FROM readings WHERE city = 'Paris';",
}
WEB_SEARCH = {
    "id": "ws_68af4031d1e08193a0b1c2d3e4f5a6b705438e46b5f69a3b",
    "type": "web_search_call",
    "status": "completed",
    "action": {"type": "search", "query": "weather paris today"},
}
REFUSAL = {
    "id": "msg_68af4037aa008193c1d2e3f4a5b6c7d805438e46b5f69a3b",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "refusal", "refusal": "I can't help with that request."}],
}
USAGE = {
    "input_tokens": 812,
    "input_tokens_details": {"cached_tokens": 512, "cache_write_tokens": 0},
    "output_tokens": 316,
    "output_tokens_details": {"reasoning_tokens": 192},
    "total_tokens": 1128,
}


def response(output: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """Return a Responses body shaped like OpenAI's, around ``output``."""
    body: dict[str, Any] = {
        "id": RESP_ID,
        "object": "response",
        "created_at": 1756315696,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "gpt-5-2025-08-07",
        "output": copy.deepcopy(output),
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": copy.deepcopy(USAGE),
        "metadata": {},
    }
    body.update(overrides)
    return body


BODIES = {
    "text_annotations": response([MESSAGE]),
    "reasoning_text_calls": response([REASONING, MESSAGE, CALL, BAD_CALL]),
    "refusal": response([REFUSAL]),
    "custom_tool": response([REASONING, CUSTOM_CALL]),
    "web_search": response([WEB_SEARCH, MESSAGE]),
    "incomplete": response(
        [REASONING, MESSAGE],
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
    ),
    "two_parts": response(
        [
            {
                **MESSAGE,
                "content": [
                    {"type": "output_text", "text": "First part.", "annotations": []},
                    {"type": "output_text", "text": "Second part.", "annotations": []},
                ],
            }
        ]
    ),
}


def pieces(text: str, size: int = 7) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def openai_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the SSE events OpenAI sends for ``body``, in order, deltas in small pieces."""
    seq = itertools.count()
    events: list[dict[str, Any]] = []

    def ev(type: str, **fields: Any) -> None:
        events.append({"type": type, "sequence_number": next(seq), **fields})

    start = {**body, "status": "in_progress", "output": [], "usage": None}
    ev("response.created", response=start)
    ev("response.in_progress", response=start)
    for i, item in enumerate(body["output"]):
        at = {"output_index": i}
        kind = item["type"]
        if kind == "message":
            ev(
                "response.output_item.added",
                item={**item, "status": "in_progress", "content": []},
                **at,
            )
            for c, part in enumerate(item["content"]):
                where = {"item_id": item["id"], "content_index": c, **at}
                if part["type"] == "output_text":
                    empty = {"type": "output_text", "text": "", "annotations": []}
                    ev("response.content_part.added", part=empty, **where)
                    for piece in pieces(part["text"]):
                        ev("response.output_text.delta", delta=piece, logprobs=[], **where)
                    for a, annotation in enumerate(part["annotations"]):
                        ev(
                            "response.output_text.annotation.added",
                            annotation=annotation,
                            annotation_index=a,
                            **where,
                        )
                    ev("response.output_text.done", text=part["text"], logprobs=[], **where)
                else:
                    ev(
                        "response.content_part.added",
                        part={"type": "refusal", "refusal": ""},
                        **where,
                    )
                    for piece in pieces(part["refusal"]):
                        ev("response.refusal.delta", delta=piece, **where)
                    ev("response.refusal.done", refusal=part["refusal"], **where)
                ev("response.content_part.done", part=part, **where)
        elif kind == "reasoning":
            ev(
                "response.output_item.added",
                item={**item, "summary": [], "encrypted_content": None},
                **at,
            )
            for k, part in enumerate(item["summary"]):
                where = {"item_id": item["id"], "summary_index": k, **at}
                ev(
                    "response.reasoning_summary_part.added",
                    part={"type": "summary_text", "text": ""},
                    **where,
                )
                for piece in pieces(part["text"]):
                    ev("response.reasoning_summary_text.delta", delta=piece, **where)
                ev("response.reasoning_summary_text.done", text=part["text"], **where)
                ev("response.reasoning_summary_part.done", part=part, **where)
        elif kind == "function_call":
            ev(
                "response.output_item.added",
                item={**item, "status": "in_progress", "arguments": ""},
                **at,
            )
            for piece in pieces(item["arguments"]):
                ev("response.function_call_arguments.delta", item_id=item["id"], delta=piece, **at)
            ev(
                "response.function_call_arguments.done",
                item_id=item["id"],
                arguments=item["arguments"],
                **at,
            )
        elif kind == "custom_tool_call":
            ev("response.output_item.added", item={**item, "input": ""}, **at)
            for piece in pieces(item["input"]):
                ev("response.custom_tool_call_input.delta", item_id=item["id"], delta=piece, **at)
            ev(
                "response.custom_tool_call_input.done",
                item_id=item["id"],
                input=item["input"],
                **at,
            )
        elif kind == "web_search_call":
            added = {**item, "status": "in_progress", "action": {"type": "search"}}
            ev("response.output_item.added", item=added, **at)
            for stage in ("in_progress", "searching", "completed"):
                ev(f"response.web_search_call.{stage}", item_id=item["id"], **at)
        ev("response.output_item.done", item=item, **at)
    ev(
        "response.completed" if body["status"] == "completed" else "response.incomplete",
        response=body,
    )
    return events


def stream(events: list[dict[str, Any]]) -> list[AIMessageChunk]:
    parser = StreamParser()
    chunks = []
    for event in events:
        chunk = parser.feed(event.get("type"), event)
        if chunk is not None:
            assert isinstance(chunk.message, AIMessageChunk)
            chunks.append(chunk.message)
    assert parser.close(done=False) is None
    return chunks


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return functools.reduce(operator.add, chunks)


def parsed(body: dict[str, Any]) -> AIMessage:
    message = parse_response(copy.deepcopy(body)).generations[0].message
    assert isinstance(message, AIMessage)
    return message


def assert_same_reply(merged: AIMessageChunk, expected: AIMessage) -> None:
    assert merged.content == expected.content
    assert merged.text == expected.text
    assert merged.tool_calls == expected.tool_calls
    assert [(c["name"], c["args"], c["id"]) for c in merged.invalid_tool_calls] == [
        (c["name"], c["args"], c["id"]) for c in expected.invalid_tool_calls
    ]
    assert merged.usage_metadata == expected.usage_metadata
    assert merged.response_metadata == expected.response_metadata
    assert merged.id == expected.id


def assert_valid_input(items: list[dict[str, Any]]) -> None:
    assert find_error(items, INPUT_TYPE) is None, find_error(items, INPUT_TYPE)


# --- fixtures are what OpenAI sends ---------------------------------------------------------


@pytest.mark.parametrize("name", BODIES)
def test_fixtures_fit_the_sdk_models(name: str) -> None:
    Response.model_validate(BODIES[name])
    for event in openai_events(BODIES[name]):
        EVENT.validate_python(event)


# --- parse_response -------------------------------------------------------------------------


def test_text_with_annotations_becomes_a_text_block() -> None:
    message = parsed(BODIES["text_annotations"])
    [block] = message.content
    assert block == {
        "type": "text",
        "text": MESSAGE["content"][0]["text"],
        "annotations": MESSAGE["content"][0]["annotations"],
        "id": MESSAGE["id"],
        "index": 0,
    }
    assert message.text == MESSAGE["content"][0]["text"]
    [standard] = message.content_blocks
    assert standard["type"] == "text"
    assert [a["type"] for a in standard["annotations"]] == ["citation", "citation", "citation"]
    assert message.id == RESP_ID


def test_reasoning_keeps_id_summaries_and_encrypted_content() -> None:
    message = parsed(BODIES["reasoning_text_calls"])
    assert message.content[0] == {
        "type": "reasoning",
        "id": REASONING["id"],
        "summary": [
            {"type": "summary_text", "text": REASONING["summary"][0]["text"], "index": 0},
            {"type": "summary_text", "text": REASONING["summary"][1]["text"], "index": 1},
        ],
        "encrypted_content": REASONING["encrypted_content"],
        "index": 0,
    }
    reasoning = [b for b in message.content_blocks if b["type"] == "reasoning"]
    assert [b.get("reasoning") for b in reasoning] == [s["text"] for s in REASONING["summary"]]
    assert message.text == MESSAGE["content"][0]["text"]


def test_function_calls_parse_and_bad_json_is_an_invalid_tool_call() -> None:
    message = parsed(BODIES["reasoning_text_calls"])
    assert message.tool_calls == [
        {
            "type": "tool_call",
            "name": "get_weather",
            "args": {"city": "Paris", "unit": "celsius"},
            "id": CALL["call_id"],
        }
    ]
    [bad] = message.invalid_tool_calls
    assert (bad["name"], bad["args"], bad["id"]) == (
        "get_time",
        BAD_CALL["arguments"],
        BAD_CALL["call_id"],
    )
    assert "JSON" in (bad["error"] or "")
    blocks = [b for b in message.content if b["type"] == "function_call"]
    assert blocks[0] == {
        "type": "function_call",
        "id": CALL["id"],
        "call_id": CALL["call_id"],
        "name": "get_weather",
        "arguments": CALL["arguments"],
        "index": 2,
    }
    assert message.response_metadata["finish_reason"] == "tool_calls"
    standard_calls = [b for b in message.content_blocks if b["type"] == "tool_call"]
    assert standard_calls[0]["extras"]["item_id"] == CALL["id"]


def test_custom_tool_call_is_a_tool_call_with_the_raw_input() -> None:
    message = parsed(BODIES["custom_tool"])
    assert message.tool_calls == [
        {
            "type": "tool_call",
            "name": "run_sql",
            "args": {"input": CUSTOM_CALL["input"]},
            "id": CUSTOM_CALL["call_id"],
        }
    ]
    assert message.content[1]["type"] == "custom_tool_call"
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_built_in_tool_items_are_kept_whole_and_standardized_by_langchain() -> None:
    message = parsed(BODIES["web_search"])
    assert message.content[0] == {**WEB_SEARCH, "index": 0}
    kinds = [(b["type"], b.get("name")) for b in message.content_blocks]
    assert kinds[:2] == [("server_tool_call", "web_search"), ("server_tool_result", None)]
    assert message.response_metadata["finish_reason"] == "stop"


def test_refusal_becomes_a_refusal_block() -> None:
    message = parsed(BODIES["refusal"])
    assert message.content == [
        {
            "type": "refusal",
            "refusal": "I can't help with that request.",
            "id": REFUSAL["id"],
            "index": 0,
        }
    ]
    assert message.text == ""


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("max_output_tokens", "length"),
        ("content_filter", "content_filter"),
        ("max_messages", "max_messages"),
    ],
)
def test_incomplete_reply_reports_why(reason: str, finish: str) -> None:
    body = response([MESSAGE], status="incomplete", incomplete_details={"reason": reason})
    metadata = parsed(body).response_metadata
    assert metadata["finish_reason"] == finish
    assert metadata["status"] == "incomplete"
    assert metadata["incomplete_details"] == {"reason": reason}


def test_metadata_and_usage_details() -> None:
    message = parsed(BODIES["text_annotations"])
    assert message.response_metadata == {
        "model_provider": "openai",
        "model_name": "gpt-5-2025-08-07",
        "id": RESP_ID,
        "status": "completed",
        "finish_reason": "stop",
        "service_tier": "default",
        "created_at": 1756315696,
    }
    assert message.usage_metadata == {
        "input_tokens": 812,
        "output_tokens": 316,
        "total_tokens": 1128,
        "input_token_details": {"cache_read": 512, "cache_creation": 0},
        "output_token_details": {"reasoning": 192},
    }


def test_output_logprobs_land_in_metadata_like_chat_completions() -> None:
    logprobs = [{"token": "Hi", "bytes": [72, 105], "logprob": -0.01, "top_logprobs": []}]
    item = {**MESSAGE, "content": [{**MESSAGE["content"][0], "logprobs": logprobs}]}
    assert parsed(response([item])).response_metadata["logprobs"] == {"content": logprobs}


def test_failed_response_raises_the_api_error() -> None:
    body = response(
        [],
        status="failed",
        error={
            "code": "server_error",
            "message": "The server had an error processing your request.",
        },
    )
    with pytest.raises(APIError) as caught:
        parse_response(body)
    assert caught.value.code == "server_error"
    assert "The server had an error" in str(caught.value)


def test_body_without_output_is_a_format_error() -> None:
    with pytest.raises(ResponseFormatError, match="output"):
        parse_response({"id": RESP_ID, "object": "response"})


def test_minimal_body_from_a_local_server_parses() -> None:
    body = {
        "id": "resp_local",
        "object": "response",
        "created_at": 1,
        "model": "gpt-oss-20b",
        "status": "completed",
        "output": [
            {
                "type": "function_call",
                "status": "completed",
                "arguments": "{}",
                "call_id": "fc_1",
                "name": "now",
            }
        ],
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    }
    message = parsed(body)
    assert message.tool_calls == [{"type": "tool_call", "name": "now", "args": {}, "id": "fc_1"}]
    assert message.usage_metadata == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BODIES)
def test_merged_stream_equals_the_parsed_reply(name: str) -> None:
    body = BODIES[name]
    assert_same_reply(merge(stream(openai_events(body))), parsed(body))


def test_text_streams_as_deltas_of_one_indexed_block() -> None:
    chunks = stream(openai_events(BODIES["text_annotations"]))
    texts = [c.content[0].get("text") for c in chunks if c.content and c.content[0].get("text")]
    assert "".join(texts) == MESSAGE["content"][0]["text"]
    assert len(texts) > 3
    assert {b["index"] for c in chunks for b in c.content} == {0}
    assert chunks[0].content[0]["id"] == MESSAGE["id"]
    assert all(c.response_metadata.get("model_provider") == "openai" for c in chunks)
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata is not None
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_reasoning_summary_streams_with_the_id_first_and_encrypted_content_at_done() -> None:
    chunks = stream(openai_events(response([REASONING, MESSAGE])))
    reasoning = [c.content[0] for c in chunks if c.content and c.content[0]["type"] == "reasoning"]
    assert reasoning[0]["id"] == REASONING["id"]
    deltas = [b["summary"][0] for b in reasoning if b.get("summary")]
    assert deltas[0]["index"] == 0
    assert "".join(d["text"] for d in deltas if d["index"] == 0) == REASONING["summary"][0]["text"]
    assert [b for b in reasoning if "encrypted_content" in b] == [
        {
            "type": "reasoning",
            "id": REASONING["id"],
            "encrypted_content": REASONING["encrypted_content"],
            # An empty summary, so output_version="v1" files it under the item's first block.
            "summary": [],
            "index": 0,
        }
    ]
    first_with_summary = next(c for c in chunks if c.content and c.content[0].get("summary"))
    assert first_with_summary.content_blocks[0]["type"] == "reasoning"


def test_summary_sent_only_in_the_final_item_is_not_lost() -> None:
    body = response([REASONING, MESSAGE])
    events = [
        e for e in openai_events(body) if not e["type"].startswith("response.reasoning_summary")
    ]
    chunks = stream(events)
    done = next(c for c in chunks if c.content and c.content[0].get("encrypted_content"))
    assert [s["text"] for s in done.content[0]["summary"]] == [
        s["text"] for s in REASONING["summary"]
    ]
    assert_same_reply(merge(chunks), parsed(body))


def test_function_call_chunks_carry_name_and_id_first_then_arguments() -> None:
    chunks = stream(openai_events(BODIES["reasoning_text_calls"]))
    call_chunks = [tc for c in chunks for tc in c.tool_call_chunks]
    first = [tc for tc in call_chunks if tc["index"] == 2]
    assert first[0] == {
        "type": "tool_call_chunk",
        "name": "get_weather",
        "args": "",
        "id": CALL["call_id"],
        "index": 2,
    }
    assert all(tc["name"] is None and tc["id"] is None for tc in first[1:])
    assert "".join(tc["args"] or "" for tc in first) == CALL["arguments"]
    assert {tc["index"] for tc in call_chunks} == {2, 3}


def test_custom_tool_call_chunk_arrives_whole() -> None:
    chunks = stream(openai_events(BODIES["custom_tool"]))
    [call] = [tc for c in chunks for tc in c.tool_call_chunks]
    assert json.loads(call["args"] or "") == {"input": CUSTOM_CALL["input"]}
    assert (call["name"], call["id"], call["index"]) == ("run_sql", CUSTOM_CALL["call_id"], 1)


def test_built_in_item_is_announced_then_completed_whole() -> None:
    chunks = stream(openai_events(BODIES["web_search"]))
    blocks = [b for c in chunks for b in c.content if b["type"] == "web_search_call"]
    assert blocks[0] == {"type": "web_search_call", "id": WEB_SEARCH["id"], "index": 0}
    assert blocks[1] == {
        "type": "web_search_call",
        "id": WEB_SEARCH["id"],
        "status": "completed",
        "action": WEB_SEARCH["action"],
        "index": 0,
    }


@pytest.mark.parametrize("name", BODIES)
def test_every_chunk_translates_to_standard_blocks(name: str) -> None:
    for chunk in stream(openai_events(BODIES[name])):
        assert isinstance(chunk.content_blocks, list)


def test_annotations_arrive_with_the_finished_part_in_one_piece() -> None:
    chunks = stream(openai_events(BODIES["text_annotations"]))
    carrying = [b for c in chunks for b in c.content if "annotations" in b]
    assert len(carrying) == 1
    assert carrying[0]["annotations"] == MESSAGE["content"][0]["annotations"]


def test_incomplete_stream_ends_with_length_finish_reason() -> None:
    chunks = stream(openai_events(BODIES["incomplete"]))
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.response_metadata["finish_reason"] == "length"
    assert last.response_metadata["incomplete_details"] == {"reason": "max_output_tokens"}


def test_events_without_indexes_from_llama_cpp_merge_into_the_reply() -> None:
    # llama.cpp's server sends no output_index / sequence_number, and function calls without
    # item ids; text and reasoning deltas name their item only by item_id.
    reasoning = {
        "id": "rs_local",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "User greets; answer and check time."}],
        "encrypted_content": "",
        "status": "completed",
    }
    message = {
        "id": "msg_local",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [
            {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": "Hello! Let me check.",
            }
        ],
    }
    call = {
        "type": "function_call",
        "status": "completed",
        "arguments": '{"tz": "UTC"}',
        "call_id": "fc_x1",
        "name": "now",
    }
    final = {
        "id": "resp_local",
        "object": "response",
        "created_at": 1,
        "model": "gpt-oss-20b",
        "status": "completed",
        "output": [reasoning, message, call],
        "usage": {"input_tokens": 20, "output_tokens": 12, "total_tokens": 32},
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**final, "status": "in_progress", "output": []}},
        {"type": "response.reasoning_text.delta", "item_id": "rs_local", "delta": "User greets; "},
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs_local",
            "delta": "answer and check time.",
        },
        {"type": "response.output_text.delta", "item_id": "msg_local", "delta": "Hello! "},
        {"type": "response.output_text.delta", "item_id": "msg_local", "delta": "Let me check."},
        {
            "type": "response.output_item.added",
            "item": {
                "arguments": "",
                "call_id": "fc_x1",
                "name": "now",
                "type": "function_call",
                "status": "in_progress",
            },
        },
        {"type": "response.function_call_arguments.delta", "delta": '{"tz": ', "item_id": "fc_x1"},
        {"type": "response.function_call_arguments.delta", "delta": '"UTC"}', "item_id": "fc_x1"},
        {"type": "response.output_item.done", "item": reasoning},
        {
            "type": "response.output_text.done",
            "item_id": "msg_local",
            "text": "Hello! Let me check.",
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_local",
            "part": message["content"][0],
        },
        {"type": "response.output_item.done", "item": message},
        {"type": "response.output_item.done", "item": call},
        {"type": "response.completed", "response": final},
    ]
    chunks = stream(events)
    merged = merge(chunks)
    assert_same_reply(merged, parsed(final))
    assert merged.tool_calls == [
        {"type": "tool_call", "name": "now", "args": {"tz": "UTC"}, "id": "fc_x1"}
    ]
    assert [tc["index"] for c in chunks for tc in c.tool_call_chunks] == [2, 2, 2]
    assert merged.content[0]["content"] == [
        {"type": "reasoning_text", "text": reasoning["content"][0]["text"], "index": 0}
    ]


def test_deltas_without_any_item_reference_attach_to_the_current_item() -> None:
    final = response([MESSAGE])
    events: list[dict[str, Any]] = [{"type": "response.created", "response": final}]
    events += [
        {"type": "response.output_text.delta", "delta": p}
        for p in pieces(MESSAGE["content"][0]["text"])
    ]
    events += [{"type": "response.completed", "response": final}]
    assert_same_reply(merge(stream(events)), parsed(final))


def test_reply_only_in_the_completed_event_is_still_emitted() -> None:
    final = BODIES["reasoning_text_calls"]
    events = [
        {"type": "response.created", "response": final},
        {"type": "response.completed", "response": final},
    ]
    assert_same_reply(merge(stream(events)), parsed(final))


def test_sse_event_name_is_used_when_data_has_no_type() -> None:
    parser = StreamParser()
    parser.feed("response.created", {"response": {"id": RESP_ID}})
    chunk = parser.feed(
        "response.output_text.delta", {"delta": "Hi", "output_index": 0, "content_index": 0}
    )
    assert chunk is not None
    assert chunk.message.content == [{"type": "text", "text": "Hi", "index": 0}]
    assert chunk.message.id == RESP_ID


def test_failed_event_raises_the_api_message_and_code() -> None:
    parser = StreamParser()
    failed = response(
        [],
        status="failed",
        error={"code": "rate_limit_exceeded", "message": "Rate limit reached for gpt-5."},
    )
    event = {"type": "response.failed", "sequence_number": 7, "response": failed}
    EVENT.validate_python(event)
    with pytest.raises(APIError) as caught:
        parser.feed("response.failed", event)
    assert caught.value.code == "rate_limit_exceeded"
    assert "Rate limit reached for gpt-5." in str(caught.value)
    assert isinstance(caught.value, ParamChatError)


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "error",
            "code": "server_error",
            "message": "Something went wrong.",
            "param": None,
            "sequence_number": 3,
        },
        {
            "type": "error",
            "error": {
                "type": "server_error",
                "code": "server_error",
                "message": "Something went wrong.",
            },
        },
    ],
)
def test_error_event_raises_the_api_message_and_code(event: dict[str, Any]) -> None:
    with pytest.raises(APIError) as caught:
        StreamParser().feed("error", event)
    assert caught.value.code == "server_error"
    # "<code>: <message>", as ChatOpenAI words it; the code is not repeated after it.
    assert str(caught.value) == "server_error: Something went wrong."


def test_stream_cut_before_completion_is_reported_by_finish() -> None:
    parser = StreamParser()
    for event in openai_events(BODIES["text_annotations"])[:-1]:
        parser.feed(event["type"], event)
    with pytest.raises(ResponseFormatError, match=r"response\.completed"):
        parser.close(done=True)


# --- convert_messages -----------------------------------------------------------------------


def history(ai: AIMessage) -> list[BaseMessage]:
    return [
        SystemMessage("You are a weather bot."),
        HumanMessage("Weather in Paris?"),
        ai,
        ToolMessage("18C sunny", tool_call_id=CALL["call_id"]),
        ToolMessage("error: bad arguments", tool_call_id=BAD_CALL["call_id"], status="error"),
    ]


def test_round_trip_replays_reasoning_messages_and_calls_intact_and_in_order() -> None:
    ai = parsed(response([REASONING, WEB_SEARCH, MESSAGE, CALL, BAD_CALL]))
    items = convert_messages(history(ai), model="gpt-5")
    assert_valid_input(items)
    assert items[0] == {"type": "message", "role": "system", "content": "You are a weather bot."}
    assert items[1] == {"type": "message", "role": "user", "content": "Weather in Paris?"}
    assert items[2] == REASONING
    assert items[3] == WEB_SEARCH
    assert items[4] == {
        "type": "message",
        "role": "assistant",
        "id": MESSAGE["id"],
        "status": "completed",
        "content": [
            {
                "type": "output_text",
                "text": MESSAGE["content"][0]["text"],
                "annotations": MESSAGE["content"][0]["annotations"],
            }
        ],
    }
    assert items[5] == {k: v for k, v in CALL.items() if k != "status"}
    assert items[6] == {k: v for k, v in BAD_CALL.items() if k != "status"}
    assert items[7:] == [
        {"type": "function_call_output", "call_id": CALL["call_id"], "output": "18C sunny"},
        {
            "type": "function_call_output",
            "call_id": BAD_CALL["call_id"],
            "output": "error: bad arguments",
        },
    ]


def test_streamed_reply_converts_like_the_parsed_one() -> None:
    body = response([REASONING, WEB_SEARCH, MESSAGE, CALL, BAD_CALL])
    merged = merge(stream(openai_events(body)))
    assert convert_messages([merged], model="gpt-5") == convert_messages(
        [parsed(body)], model="gpt-5"
    )


def test_custom_tool_call_and_output_round_trip() -> None:
    ai = parsed(BODIES["custom_tool"])
    items = convert_messages(
        [ai, ToolMessage("1 row", tool_call_id=CUSTOM_CALL["call_id"])], model="gpt-5"
    )
    assert_valid_input(items)
    assert items[1] == {k: v for k, v in CUSTOM_CALL.items() if k != "status"}
    assert items[2] == {
        "type": "custom_tool_call_output",
        "call_id": CUSTOM_CALL["call_id"],
        "output": "1 row",
    }


def test_refusal_round_trips_inside_its_message_item() -> None:
    items = convert_messages([parsed(BODIES["refusal"])], model="gpt-5")
    assert_valid_input(items)
    assert items[0]["content"] == [
        {"type": "refusal", "refusal": "I can't help with that request."}
    ]


def test_chat_completions_reply_converts_without_ids() -> None:
    ai = AIMessage(
        "Let me check.",
        tool_calls=[
            {
                "name": "get_weather",
                "args": {"city": "Paris"},
                "id": "call_abc",
                "type": "tool_call",
            }
        ],
        invalid_tool_calls=[
            {
                "name": "get_time",
                "args": "{oops",
                "id": "call_bad",
                "error": None,
                "type": "invalid_tool_call",
            }
        ],
        response_metadata={"model_provider": "openai", "finish_reason": "tool_calls"},
    )
    items = convert_messages([ai], model="gpt-4o")
    assert_valid_input(items)
    assert items == [
        {"type": "message", "role": "assistant", "content": "Let me check."},
        {
            "type": "function_call",
            "call_id": "call_abc",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call", "call_id": "call_bad", "name": "get_time", "arguments": "{oops"},
    ]


def test_edited_tool_call_arguments_are_sent_instead_of_the_original_text() -> None:
    ai = parsed(response([CALL]))
    ai.tool_calls[0]["args"] = {"city": "Lyon"}
    [item] = convert_messages([ai], model="gpt-5")
    assert item["arguments"] == '{"city": "Lyon"}'
    assert item["id"] == CALL["id"]


def test_langchain_standard_blocks_replay_reasoning_and_text() -> None:
    ai = parsed(response([REASONING, MESSAGE]))
    standard = AIMessage(content_blocks=ai.content_blocks)
    items = convert_messages([standard], model="gpt-5")
    assert_valid_input(items)
    assert items[0] == REASONING
    assert items[1]["id"] == MESSAGE["id"]
    assert items[1]["content"][0]["text"] == MESSAGE["content"][0]["text"]


def test_custom_tool_call_survives_langchain_standard_blocks() -> None:
    ai = parsed(BODIES["custom_tool"])
    standard = AIMessage(content_blocks=ai.content_blocks, tool_calls=ai.tool_calls)
    reply = ToolMessage("1 row", tool_call_id=CUSTOM_CALL["call_id"])
    items = convert_messages([standard, reply], model="gpt-5")
    assert_valid_input(items)
    assert items[1] == {k: v for k, v in CUSTOM_CALL.items() if k != "status"}
    assert items[2]["type"] == "custom_tool_call_output"


def test_message_phase_is_kept_and_sent_back() -> None:
    commentary = {**MESSAGE, "phase": "commentary"}
    body = response([commentary, CALL])
    ai = parsed(body)
    assert ai.content[0]["phase"] == "commentary"
    assert_same_reply(merge(stream(openai_events(body))), ai)
    items = convert_messages([ai], model="gpt-5.3-codex")
    assert_valid_input(items)
    assert items[0]["phase"] == "commentary"


def test_user_content_blocks_become_input_parts() -> None:
    human = HumanMessage(
        content=[
            {"type": "text", "text": "Compare these."},
            {
                "type": "image_url",
                "image_url": {"url": "https://img.example/a.png", "detail": "high"},
            },
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
            {"type": "image", "file_id": "file-img1"},
            {
                "type": "file",
                "base64": PDF_B64,
                "mime_type": "application/pdf",
                "filename": "report.pdf",
            },
            {"type": "file", "base64": PDF_B64, "mime_type": "application/pdf"},
            {"type": "file", "file_id": "file-doc1"},
            {"type": "file", "url": "https://docs.example/paper.pdf"},
        ]
    )
    [item] = convert_messages([human], model="gpt-4.1")
    assert_valid_input([item])
    assert item["content"] == [
        {"type": "input_text", "text": "Compare these."},
        {"type": "input_image", "detail": "high", "image_url": "https://img.example/a.png"},
        {"type": "input_image", "detail": "auto", "image_url": f"data:image/png;base64,{PNG_B64}"},
        {"type": "input_image", "detail": "auto", "file_id": "file-img1"},
        {
            "type": "input_file",
            "file_data": f"data:application/pdf;base64,{PDF_B64}",
            "filename": "report.pdf",
        },
        {
            "type": "input_file",
            "file_data": f"data:application/pdf;base64,{PDF_B64}",
            "filename": "document.pdf",
        },
        {"type": "input_file", "file_id": "file-doc1"},
        {"type": "input_file", "file_url": "https://docs.example/paper.pdf"},
    ]


def test_tool_output_with_an_image_is_a_list_of_input_parts() -> None:
    tool = ToolMessage(
        content=[
            {"type": "text", "text": "chart:"},
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        ],
        tool_call_id="call_1",
    )
    [item] = convert_messages([tool], model="gpt-5")
    assert_valid_input([item])
    assert item == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": [
            {"type": "input_text", "text": "chart:"},
            {
                "type": "input_image",
                "detail": "auto",
                "image_url": f"data:image/png;base64,{PNG_B64}",
            },
        ],
    }


@pytest.mark.parametrize(
    ("model", "role"), [("gpt-5-mini", "system"), ("o3", "developer"), ("gpt-4o", "system")]
)
def test_system_messages_take_the_models_role_and_keep_their_place(model: str, role: str) -> None:
    messages = [
        HumanMessage("hi"),
        SystemMessage("Be brief."),
        ChatMessage(content="Use metric.", role="developer"),
    ]
    items = convert_messages(messages, model=model)
    assert_valid_input(items)
    assert items[1] == {"type": "message", "role": role, "content": "Be brief."}
    assert items[2] == {"type": "message", "role": "developer", "content": "Use metric."}


def test_audio_input_is_refused_and_reported_for_routing() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}
    messages = [
        SystemMessage("Transcribe."),
        HumanMessage("first"),
        HumanMessage([{"type": "text", "text": "this:"}, audio]),
    ]
    assert chat_only_inputs(messages) == ["audio input in messages[2]"]
    with pytest.raises(MessageConversionError, match="audio input needs Chat Completions"):
        convert_messages(messages, model="gpt-5")


def test_audio_inputs_is_empty_for_text_only_histories() -> None:
    assert chat_only_inputs(history(parsed(BODIES["reasoning_text_calls"]))) == []


def test_unsupported_message_and_block_types_name_the_position() -> None:
    with pytest.raises(MessageConversionError, match=r"messages\[1\]: FunctionMessage"):
        convert_messages(
            [HumanMessage("hi"), FunctionMessage(content="x", name="f")], model="gpt-5"
        )
    image = AIMessage(content=[{"type": "image", "base64": PNG_B64, "mime_type": "image/png"}])
    with pytest.raises(MessageConversionError, match=r"messages\[0\]\.content\[0\]"):
        convert_messages([image], model="gpt-5")


def test_tool_call_without_id_cannot_be_paired() -> None:
    ai = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": None, "type": "tool_call"}])
    with pytest.raises(MessageConversionError, match="no id"):
        convert_messages([ai], model="gpt-5")


@pytest.mark.parametrize(
    ("options", "model", "expected"),
    [
        ({"store": False}, "gpt-5", True),
        ({"store": False, "reasoning": {"effort": "low"}}, "my-finetune", True),
        ({"store": False}, "gpt-4o", False),
        ({"store": True}, "gpt-5", False),
        ({}, "o3", False),
        ({"store": False, "include": ["reasoning.encrypted_content"]}, "o3", False),
    ],
)
def test_needs_encrypted_reasoning(options: dict[str, Any], model: str, expected: bool) -> None:
    assert needs_encrypted_reasoning(options, model=model) is expected


# --- build_payload --------------------------------------------------------------------------

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": False,
}


def assert_valid_body(payload: dict[str, Any]) -> None:
    # ``stream`` lives on the SDK's Streaming/NonStreaming subclasses, not on the base type.
    body = {k: v for k, v in payload.items() if k != "stream"}
    assert find_error(body, ResponseCreateParamsBase) is None, find_error(
        body, ResponseCreateParamsBase
    )
    assert payload.get("stream") in (None, True)


def test_payload_carries_input_placed_options_and_tools() -> None:
    options = {
        "max_tokens": 300,
        "reasoning": {"effort": "low", "summary": "auto"},
        "logprobs": True,
    }
    placements = route(options, model="gpt-5", api="responses").placements
    messages = history(parsed(response([REASONING, MESSAGE, CALL, BAD_CALL])))
    payload = build_payload(
        messages,
        model="gpt-5",
        placements=placements,
        tools=[TOOL],
        tool_choice="auto",
        stream=False,
        stream_options=None,
    )
    assert_valid_body(payload)
    assert PATH == "/responses"
    assert payload["input"] == convert_messages(messages, model="gpt-5")
    assert payload["max_output_tokens"] == 300
    assert payload["reasoning"] == {"effort": "low", "summary": "auto"}
    assert payload["include"] == ["message.output_text.logprobs"]
    assert (payload["tools"], payload["tool_choice"]) == ([TOOL], "auto")
    assert "stream" not in payload


def test_stateless_reasoning_requests_ask_for_encrypted_reasoning() -> None:
    placements = route(
        {"store": False, "logprobs": True}, model="o4-mini", api="responses"
    ).placements
    payload = build_payload(
        [HumanMessage("hi")],
        model="o4-mini",
        placements=placements,
        tools=None,
        tool_choice=None,
        stream=True,
        stream_options={"include_obfuscation": False},
    )
    assert_valid_body(payload)
    assert payload["include"] == ["message.output_text.logprobs", "reasoning.encrypted_content"]
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_obfuscation": False}
