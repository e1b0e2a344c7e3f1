"""Streamed Responses output has exactly the blocks invoke returns, in every output version.

Reasoning with several summary parts and encrypted content, text with and without
annotations: the merged stream equals the invoke reply block for block, text blocks carry
``annotations`` only when there are some, and with ``output_version="v1"`` each summary
part is one standard reasoning block (the item's encrypted content in the first one's
``extras``), so ``stream_events(version="v3")`` opens one reasoning block per part.
Function-call arguments that arrive only in ``response.function_call_arguments.done`` (or
partly in deltas) are complete in the merged stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.integration.reply_modes import MODES, run
from tests.integration.test_faults import ScriptedSSE

Factory = Callable[..., ParamChat]

SUMMARY = ["First thought.", "Second thought."]
TEXT = "The answer is 42."
ENCRYPTED = "gAAAA-sealed"
CITATION = {"url": "https://example.com/42", "title": "Forty-two"}


def reasoning_reply(**extra: Any) -> Reply:
    return Reply(text=TEXT, reasoning_summary=SUMMARY, encrypted_content=ENCRYPTED, **extra)


def model(make_model: Factory, output_version: str, **kwargs: Any) -> ParamChat:
    return make_model(
        model="gpt-5.4",
        api="responses",
        output_version=output_version,
        include=["reasoning.encrypted_content"],
        **kwargs,
    )


def without_ids(content: Any) -> list[dict[str, Any]]:
    """Return the blocks with the server's per-reply item ids replaced by their prefix."""
    out = []
    for block in content:
        block = dict(block)
        if isinstance(block.get("id"), str):
            block["id"] = block["id"].split("_")[0]
        out.append(block)
    return out


@pytest.mark.parametrize("mode", MODES)
async def test_responses_v1_blocks_as_langchain_core_streams_them(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(reasoning_reply())
    reply = await run(model(make_model, "responses/v1"), mode)
    assert without_ids(reply.content) == [
        {
            "type": "reasoning",
            "id": "rs",
            "summary": [
                {"type": "summary_text", "text": SUMMARY[0], "index": 0},
                {"type": "summary_text", "text": SUMMARY[1], "index": 1},
            ],
            "encrypted_content": ENCRYPTED,
            "index": 0,
        },
        {"type": "text", "text": TEXT, "id": "msg", "index": 1},
    ]
    assert reply.text == TEXT


@pytest.mark.parametrize("mode", MODES)
async def test_v1_blocks_are_standard_with_encrypted_content_in_extras(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(reasoning_reply())
    reply = await run(model(make_model, "v1"), mode)
    blocks = without_ids(reply.content)
    assert [b["type"] for b in blocks] == ["reasoning", "reasoning", "text"]
    assert [b.get("reasoning") for b in blocks[:2]] == SUMMARY
    assert blocks[0]["extras"] == {"encrypted_content": ENCRYPTED}
    assert "extras" not in blocks[1]
    assert {b["id"] for b in blocks} == {"rs", "msg"}
    assert blocks[2] == {"type": "text", "text": TEXT, "id": "msg", "index": blocks[2]["index"]}


@pytest.mark.parametrize("output_version", ["responses/v1", "v1"])
@pytest.mark.parametrize("streamed", ["stream", "astream"])
async def test_merged_stream_equals_invoke_block_for_block(
    fake_openai: FakeOpenAI, make_model: Factory, output_version: str, streamed: str
) -> None:
    for citations in ([], [CITATION]):
        fake_openai.add(reasoning_reply(citations=citations))
        fake_openai.add(reasoning_reply(citations=citations))
        invoked = await run(model(make_model, output_version), "invoke")
        merged = await run(model(make_model, output_version), streamed)
        assert without_ids(merged.content) == without_ids(invoked.content)
        texts = [b for b in invoked.content if isinstance(b, dict) and b["type"] == "text"]
        assert ("annotations" in texts[0]) is bool(citations)


@pytest.mark.parametrize("output_version", ["responses/v1", "v1"])
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_streaming_true_invoke_equals_invoke(
    fake_openai: FakeOpenAI, make_model: Factory, output_version: str, mode: str
) -> None:
    fake_openai.add(reasoning_reply(), reasoning_reply())
    invoked = await run(model(make_model, output_version), mode)
    merged = await run(model(make_model, output_version, streaming=True), mode)
    assert fake_openai.requests[-1].body["stream"] is True
    assert without_ids(merged.content) == without_ids(invoked.content)


@pytest.mark.filterwarnings("ignore:The method .* is in beta")
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_v3_events_open_and_finish_one_reasoning_block_per_summary_part(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    pytest.importorskip("langchain_core.language_models.chat_model_stream")  # core >= 1.8.3
    fake_openai.add(reasoning_reply())
    llm = model(make_model, "v1")
    if mode == "sync":
        events = list(llm.stream_events("hi", version="v3"))  # type: ignore[call-overload]
    else:
        stream = await llm.astream_events("hi", version="v3")  # type: ignore[call-overload,misc]
        events = [e async for e in stream]

    def reasoning(kind: str) -> list[dict[str, Any]]:
        return [
            e["content"]
            for e in events
            if e["event"] == kind and e["content"]["type"] == "reasoning"
        ]

    assert len(reasoning("content-block-start")) == len(SUMMARY)
    assert [c["reasoning"] for c in reasoning("content-block-finish")] == SUMMARY


# --- function-call arguments that arrive only (or partly) in the .done event ----------------

ARGUMENTS = {"fc_1": '{"symbol":"XLK"}', "fc_2": '{"symbol":"XLF"}'}
DELTAS = {
    "no_deltas": {"fc_1": [], "fc_2": []},
    "partial_deltas": {"fc_1": ['{"symbol":'], "fc_2": []},
    "all_deltas": {"fc_1": ['{"symbol":', '"XLK"}'], "fc_2": ['{"symbol":"XLF"}']},
}


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def call_item(item_id: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": f"call_{item_id}",
        "name": "get_price",
        "arguments": arguments,
    }


def function_call_stream(deltas: dict[str, list[str]]) -> list[bytes]:
    """Return a stream of two calls whose argument deltas are ``deltas`` (maybe none)."""
    response = {"id": "resp_fc", "object": "response", "created_at": 1, "model": "gpt-5.4"}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**response, "status": "in_progress"}}
    ]
    for index, (item_id, arguments) in enumerate(ARGUMENTS.items()):
        where = {"item_id": item_id, "output_index": index}
        events.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": call_item(item_id, "", "in_progress"),
            }
        )
        events += [
            {"type": "response.function_call_arguments.delta", **where, "delta": d}
            for d in deltas[item_id]
        ]
        events.append(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "name": "get_price",
                "arguments": arguments,
            }
        )
        events.append(
            {
                "type": "response.output_item.done",
                "output_index": index,
                "item": call_item(item_id, arguments, "completed"),
            }
        )
    output = [call_item(i, a, "completed") for i, a in ARGUMENTS.items()]
    completed = {**response, "status": "completed", "output": output}
    events.append({"type": "response.completed", "response": completed})
    return [sse(e) for e in events]


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("output_version", ["responses/v1", "v1"])
@pytest.mark.parametrize("deltas", list(DELTAS))
async def test_arguments_missing_from_deltas_come_from_the_done_event(
    deltas: str, output_version: str, mode: str
) -> None:
    server = ScriptedSSE(*function_call_stream(DELTAS[deltas]))
    try:
        llm = ParamChat(
            base_url=server.base_url,
            api_key="x",
            api="responses",
            max_retries=0,
            output_version=output_version,
        )
        reply = await run(llm, mode)
    finally:
        server.close()
    assert [(c["id"], c["args"]) for c in reply.tool_calls] == [
        ("call_fc_1", {"symbol": "XLK"}),
        ("call_fc_2", {"symbol": "XLF"}),
    ]
    if output_version == "responses/v1":
        calls = [b for b in reply.content if isinstance(b, dict) and b["type"] == "function_call"]
        assert [b["arguments"] for b in calls] == list(ARGUMENTS.values())
