"""Parse real recorded OpenAI replies (../shared/recordings) with both adapters' parsers.

Skips cleanly when the shared folder is absent (it is reference data, not part of the repo).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_paramchat.apis.chat_completions import reply, stream

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "recordings" / "openai-python"


def _entries() -> list[dict[str, Any]]:
    index = RECORDINGS / "index.json"
    if not index.exists():
        return []
    return json.loads(index.read_text())["entries"]


def _sse_events(text: str) -> list[tuple[str | None, dict[str, Any] | None]]:
    events: list[tuple[str | None, dict[str, Any] | None]] = []
    name: str | None = None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            events.append((name, None if data == "[DONE]" else json.loads(data)))
            name = None
    return events


ENTRIES = _entries()
pytestmark = pytest.mark.skipif(not ENTRIES, reason="../shared/recordings is not present")


def _expected_calls(expected: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for call in expected.get("tool_calls") or []:
        args = call.get("args", call.get("arguments"))
        calls.append((call["name"], json.loads(args) if isinstance(args, str) else args))
    return calls


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if e["endpoint"] == "/v1/chat/completions"],
    ids=lambda e: e["id"],
)
def test_chat_completions_recording(entry: dict[str, Any]) -> None:
    expected = entry["expected"]
    raw = (RECORDINGS / entry["response_file"]).read_text()
    if entry["stream"]:
        parser = stream.StreamParser()
        merged: AIMessageChunk | None = None
        done = False
        for name, data in _sse_events(raw):
            if data is None:
                done = True
                break
            chunk = parser.feed(name, data)
            if chunk is not None:
                merged = chunk.message if merged is None else merged + chunk.message  # type: ignore[assignment]
        last = parser.close(done=done)
        assert merged is not None
        message = merged + last.message
        if expected.get("n_choices", 1) > 1:
            pytest.skip("n > 1 is not streamed by ParamChat (rejected before the request)")
    else:
        result = reply.parse_response(json.loads(raw))
        assert len(result.generations) == expected.get("n_choices", 1)
        message = result.generations[0].message
    assert (message.text or None) == (expected.get("text") or None)
    assert message.additional_kwargs.get("refusal") == expected.get("refusal")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == _expected_calls(expected)
    assert message.response_metadata.get("finish_reason") == expected["finish_reason"]
    assert message.response_metadata.get("model_name") == expected["model"]
    usage = expected.get("usage")
    if usage and message.usage_metadata is not None:
        assert message.usage_metadata["input_tokens"] == usage["input_tokens"]
        assert message.usage_metadata["output_tokens"] == usage["output_tokens"]
        assert message.usage_metadata["total_tokens"] == usage["total_tokens"]
