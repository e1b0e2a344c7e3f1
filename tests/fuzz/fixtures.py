"""Well-formed replies and stream events of both APIs, rendered by the fake server's own code.

The fuzz properties mutate these, so most examples are near-valid: they get past the first
shape check and reach the deep fields where a raw exception would hide.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_paramchat.testing import Reply, ToolCall, Usage
from langchain_paramchat.testing.chat_render import chat_chunks, chat_completion
from langchain_paramchat.testing.responses_render import render_response

Events = list[tuple[str | None, Any]]

CHAT_REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "logprobs": True,
    "top_logprobs": 1,
    "stream_options": {"include_usage": True},
}
RESPONSES_REQUEST: dict[str, Any] = {
    "model": "gpt-5",
    "input": "hi",
    "include": ["reasoning.encrypted_content"],
}

WEB_SEARCH_ITEM = {
    "type": "web_search_call",
    "id": "ws_1",
    "status": "completed",
    "action": {"type": "search", "query": "q"},
}


def reply(**extra: Any) -> Reply:
    """Return a reply that uses most of what a reply can carry."""
    fields: dict[str, Any] = {
        "text": "Alpha beta",
        "tool_calls": [
            ToolCall("lookup", {"q": "x", "n": 2}, id="call_1"),
            ToolCall("shell", "ls -l", id="call_2", custom=True),
        ],
        "citations": [
            {"type": "url_citation", "url": "https://example.com", "start_index": 0, "end_index": 5}
        ],
        "usage": Usage(7, 5, cached_tokens=2, reasoning_tokens=1),
        "finish_reason": "tool_calls",
        "chunk_size": 3,
        **extra,
    }
    return Reply(**fields)


def _events(rendered: list[Any]) -> Events:
    return [(e.name, e.data) for e in rendered]


def chat_body(r: Reply | None = None) -> dict[str, Any]:
    """Return a ``chat.completion`` body."""
    return json.loads(json.dumps(chat_completion(r or reply(logprobs=True), CHAT_REQUEST)))


def chat_events(r: Reply | None = None) -> Events:
    """Return the events of a ``chat.completion.chunk`` stream (``[DONE]`` as the string)."""
    return json.loads(json.dumps(_events(chat_chunks(r or reply(logprobs=True), CHAT_REQUEST))))


def responses_body(r: Reply | None = None) -> dict[str, Any]:
    """Return a Responses ``response`` body."""
    r = r or reply(
        reasoning_summary=["Think", "more"],
        encrypted_content="enc",
        output_items=[WEB_SEARCH_ITEM],
    )
    return json.loads(json.dumps(render_response(r, RESPONSES_REQUEST).response))


def responses_events(r: Reply | None = None) -> Events:
    """Return the events of a Responses stream."""
    r = r or reply(
        reasoning_summary=["Think", "more"],
        encrypted_content="enc",
        output_items=[WEB_SEARCH_ITEM],
    )
    return json.loads(json.dumps(_events(render_response(r, RESPONSES_REQUEST).events)))


BODIES = {"chat_completions": chat_body(), "responses": responses_body()}
EVENTS = {"chat_completions": chat_events(), "responses": responses_events()}
EVENT_NAMES = sorted({n for events in EVENTS.values() for n, _ in events if n} | {"error"})
