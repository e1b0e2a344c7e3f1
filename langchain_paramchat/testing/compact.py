"""``POST /v1/responses/compact`` for the scripted server: a deterministic compaction.

The answer has the shape OpenAI documents: every user message of the input, in order (as
``message`` items with ``input_text`` parts), then one ``compaction`` item. The compaction's
``encrypted_content`` is a digest of the whole input, so the same input always compacts to
the same item and a test can tell which input a compaction came from. ``usage`` counts the
input as ``input_tokens`` does and charges 10 output tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from langchain_paramchat.options.typecheck import find_error, typeddict_fields
from langchain_paramchat.testing.input_tokens import count_input_tokens

__all__ = ["OUTPUT_TOKENS", "PATH", "compact_reply"]

PATH = "/v1/responses/compact"
OUTPUT_TOKENS = 10


def compact_reply(body: dict[str, Any] | None, body_error: str | None) -> tuple[int, Any]:
    """Return ``(status, payload)``: the compacted response, or a 400 message for a bad body."""
    if body is None:
        return 400, body_error or "The request body must be a JSON object."
    problem = _body_problem(body)
    if problem:
        return 400, problem
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    items = items or []
    digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).digest()
    output = [_user_item(item, n) for n, item in enumerate(_user_messages(items))]
    output.append(
        {
            "id": f"cmp_{digest[:12].hex()}",
            "type": "compaction",
            "encrypted_content": base64.b64encode(b"compacted:" + digest).decode(),
        }
    )
    input_tokens = count_input_tokens(body)
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": OUTPUT_TOKENS,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + OUTPUT_TOKENS,
    }
    return 200, {
        "id": f"resp_{digest[12:24].hex()}",
        "object": "response.compaction",
        "created_at": 1_700_000_000,
        "output": output,
        "usage": usage,
    }


def _body_problem(body: dict[str, Any]) -> str | None:
    from openai.types.responses.response_compact_params import ResponseCompactParams

    hints, required = typeddict_fields(ResponseCompactParams)
    unknown = sorted(set(body) - set(hints))
    if unknown:
        return f"Unrecognized request argument supplied: {', '.join(unknown)}"
    missing = sorted(required - set(body))
    if missing:
        return f"Missing required parameter: {missing[0]!r}."
    for key, value in body.items():
        error = find_error(value, hints[key], f"$.{key}")
        if error:
            return f"Invalid type: {error}"
    return None


def _user_messages(items: list[Any]) -> list[dict[str, Any]]:
    return [
        i
        for i in items
        if isinstance(i, dict) and i.get("role") == "user" and i.get("type", "message") == "message"
    ]


def _user_item(item: dict[str, Any], n: int) -> dict[str, Any]:
    content = item.get("content")
    if isinstance(content, str):
        content = [{"type": "input_text", "text": content}]
    return {
        "id": f"msg_user_{n}",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": content,
    }
