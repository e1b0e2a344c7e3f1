"""Manual compaction: a conversation in, the shorter one OpenAI's compact endpoint makes, out.

``POST /responses/compact`` answers with the conversation's user messages and one
``compaction`` item whose encrypted content stands for everything else. ``compacted_messages``
turns that into LangChain messages: a ``HumanMessage`` per user message, and one
``AIMessage`` holding the compaction block with the call's ``usage_metadata``. Sent back to
``invoke``, the compaction block is replayed as a Responses input item (and routes the call
there, see ``apis.history``). Pure: building and reading only; ``ParamChat.compact`` sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from langchain_paramchat.apis.reply_parts import MALFORMED, MODEL_PROVIDER, array, malformed
from langchain_paramchat.apis.responses.reply import item_blocks, parse_usage
from langchain_paramchat.apis.responses.request import convert_messages
from langchain_paramchat.errors import OptionError, ParamChatError, ResponseFormatError
from langchain_paramchat.options import Unsupported, place

__all__ = ["PATH", "compact_payload", "compacted_messages"]

PATH = "/responses/compact"


@cache
def _compact_keys() -> frozenset[str]:
    """Return the options the compact endpoint takes besides ``model`` and ``input``."""
    from openai.types.responses.response_compact_params import ResponseCompactParams

    return frozenset(ResponseCompactParams.__annotations__) - {"model", "input"}


def compact_payload(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    options: Mapping[str, Any],
    given: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body for ``POST /responses/compact``.

    ``options`` are the model's merged options; those the endpoint takes (``instructions``,
    ``prompt_cache_key``, ``service_tier``, ...) are sent, the rest are left out. An option
    in ``given`` (the call's own keywords) that the endpoint does not take raises
    ``OptionError`` before anything is sent.
    """
    refused = sorted(k for k in given if k not in _compact_keys())
    if refused:
        raise OptionError(
            refused[0],
            given[refused[0]],
            "compact() takes only " + ", ".join(sorted(_compact_keys())) + " (and model)",
            fix="set it on invoke instead",
        )
    store = options.get("store") is not False
    body: dict[str, Any] = {
        "model": model,
        "input": convert_messages(messages, model=model, store=store),
    }
    for name in sorted(_compact_keys() & set(options)):
        where = place("responses", name, options[name])
        if isinstance(where, Unsupported):
            raise OptionError(name, options[name], f"the compact endpoint cannot take {where.what}")
        for path, value in where.items():
            _put(body, path, value)
    return body


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def compacted_messages(body: Any, *, model: str) -> list[BaseMessage]:
    """Return the compacted conversation: user messages, then the compaction in an AIMessage.

    Raises ``ResponseFormatError`` naming the field when the body is not a compacted
    response (no ``output`` list, or no compaction item in it).
    """
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a compacted response, got {type(body).__name__}")
    try:
        return _read(body, model)
    except ParamChatError:
        raise
    except MALFORMED as exc:
        raise malformed("compacted response", exc) from exc


def _read(body: Mapping[str, Any], model: str) -> list[BaseMessage]:
    output = body.get("output")
    if not isinstance(output, list):
        raise ResponseFormatError(
            f"compacted response has no 'output' list (keys: {', '.join(map(str, body))})"
        )
    messages: list[BaseMessage] = []
    blocks: list[dict[str, Any]] = []
    for position, item in enumerate(array(output, "output")):
        where = f"output[{position}]"
        role = item.get("role")
        if item.get("type") == "message" and role in ("user", "system", "developer"):
            _flush(messages, blocks)
            content = _input_content(item, where)
            kind = HumanMessage if role == "user" else SystemMessage
            messages.append(kind(content=content, id=item.get("id")))
        else:
            blocks.extend(item_blocks(item, where))
    _flush(messages, blocks)
    holder = next((m for m in messages if isinstance(m, AIMessage) and _holds_compaction(m)), None)
    if holder is None:
        raise ResponseFormatError("compacted response has no compaction item in 'output'")
    holder.usage_metadata = parse_usage(body.get("usage"))
    metadata = {
        "model_provider": MODEL_PROVIDER,
        "model_name": model,
        "id": body.get("id"),
        "object": body.get("object"),
        "created_at": body.get("created_at"),
        "service_tier": body.get("service_tier"),
        "api": "responses",
    }
    holder.response_metadata = {k: v for k, v in metadata.items() if v is not None}
    holder.id = body.get("id") if isinstance(body.get("id"), str) else None
    return messages


def _holds_compaction(message: AIMessage) -> bool:
    return any(isinstance(b, dict) and b.get("type") == "compaction" for b in message.content)


def _flush(messages: list[BaseMessage], blocks: list[dict[str, Any]]) -> None:
    if blocks:
        content = [{**b, "index": n} for n, b in enumerate(blocks)]
        messages.append(AIMessage(content=content))  # type: ignore[arg-type]
        blocks.clear()


def _input_content(item: Mapping[str, Any], where: str) -> str | list[Any]:
    parts = array(item.get("content"), where, "content")
    if all(p.get("type") == "input_text" for p in parts):
        texts = [p.get("text") or "" for p in parts]
        if len(texts) == 1:
            return str(texts[0])
        return [{"type": "text", "text": t} for t in texts]
    return [dict(p) for p in parts]
