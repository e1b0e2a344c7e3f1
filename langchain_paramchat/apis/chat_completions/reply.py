"""Chat Completions replies: a ``chat.completion`` body in, a LangChain ``ChatResult`` out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage, InvalidToolCall, ToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_paramchat.apis.reply_parts import (
    MALFORMED,
    METADATA_EXTRAS,
    MODEL_PROVIDER,
    array,
    malformed,
    obj,
    opt_obj,
    opt_text,
    parse_tool_call,
    usage_from,
)
from langchain_paramchat.errors import ParamChatError, ResponseFormatError

__all__ = ["base_metadata", "flatten_annotations", "parse_response", "parse_usage", "text_block"]


_USAGE_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
)


def parse_usage(raw: Any, service_tier: Any = None) -> UsageMetadata | None:
    """Return LangChain ``usage_metadata`` for a Chat Completions ``usage`` object, or None.

    Raises ``ResponseFormatError`` when ``usage`` or a count in it has the wrong type.
    """
    return usage_from(raw, _USAGE_KEYS, service_tier)


# Body field -> response metadata key, built once: every reply and stream reads them.
_METADATA_FIELDS = (
    ("model", "model_name"),
    ("id", "id"),
    ("service_tier", "service_tier"),
    ("system_fingerprint", "system_fingerprint"),
    ("created", "created"),
    *((extra, extra) for extra in METADATA_EXTRAS),
)


def base_metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return the response metadata a ``chat.completion`` body (or its first stream chunk) gives."""
    meta: dict[str, Any] = {"model_provider": MODEL_PROVIDER}
    for source, target in _METADATA_FIELDS:
        if body.get(source) is not None:
            meta[target] = body[source]
    return meta


def _flatten_annotation(annotation: dict[str, Any]) -> dict[str, Any]:
    kind = annotation.get("type")
    nested = annotation.get(kind) if isinstance(kind, str) else None
    if isinstance(nested, dict):
        return {"type": kind, **nested}
    return annotation


def text_block(text: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the content block text (and its citations) has when content is a list.

    It is the Responses API's shape (one ``text`` block at ``index`` 0), so ``.text`` and
    ``.content_blocks`` read both APIs alike and stream fragments merge into it.
    """
    block: dict[str, Any] = {"type": "text", "text": text, "index": 0}
    if annotations:
        block["annotations"] = annotations
    return block


def flatten_annotations(raw: Any, where: str) -> list[dict[str, Any]]:
    """Return the reply's ``annotations`` as flat citations (``url_citation`` keys lifted)."""
    return [_flatten_annotation(a) for a in array(raw, where, "annotations")] if raw else []


def _message_from_choice(
    choice: Mapping[str, Any], body: Mapping[str, Any], usage: Any, where: str, blocks: bool
) -> AIMessage:
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ResponseFormatError(
            f"Chat Completions reply has a choice without a 'message' object ({where}.message)"
        )
    where = f"{where}.message"
    text = message.get("content")
    if text.__class__ is not str:
        text = opt_text(text, where, "content") or ""
    additional: dict[str, Any] = {}
    refusal = message.get("refusal")
    if refusal is not None and opt_text(refusal, where, "refusal"):
        additional["refusal"] = refusal
    audio = message.get("audio")
    if audio is not None and opt_obj(audio, where, "audio"):
        additional["audio"] = dict(audio)
    function_call = message.get("function_call")
    if function_call is not None and opt_obj(function_call, where, "function_call"):
        additional["function_call"] = dict(function_call)  # a legacy function-call reply
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    raw_calls = message.get("tool_calls")
    for i, raw in enumerate(array(raw_calls, where, "tool_calls") if raw_calls else ()):
        at = f"{where}.tool_calls[{i}]"
        if raw.get("type") == "custom":
            custom = obj(raw.get("custom"), at, "custom")
            tool_calls.append(
                ToolCall(
                    type="tool_call",
                    name=opt_text(custom.get("name"), at, "custom.name") or "",
                    args={"input": opt_text(custom.get("input"), at, "custom.input") or ""},
                    id=opt_text(raw.get("id"), at, "id"),
                )
            )
            continue
        fn = obj(raw.get("function"), at, "function")
        parsed = parse_tool_call(fn.get("name"), fn.get("arguments"), raw.get("id"), at)
        (invalid if parsed.get("type") == "invalid_tool_call" else tool_calls).append(parsed)  # type: ignore[arg-type]
    annotations = flatten_annotations(message.get("annotations"), where)
    content: str | list[str | dict[str, Any]] = text
    if blocks:
        content = [text_block(text, annotations)] if text or annotations else []
    elif annotations:
        # Without web search content stays a string (ChatOpenAI's shape); a stream cannot
        # merge citations into string text, so both keep them beside it.
        additional["annotations"] = annotations
    meta = base_metadata(body)
    meta["finish_reason"] = choice.get("finish_reason")
    if choice.get("logprobs") is not None:
        meta["logprobs"] = choice["logprobs"]
    return AIMessage(
        content=content,
        additional_kwargs=additional,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage,
        response_metadata=meta,
        id=body.get("id"),
        # OpenAI-compatible servers may name the speaker; ChatOpenAI keeps it.
        name=opt_text(message.get("name"), where, "name") or None,
    )


def parse_response(body: Any, *, blocks: bool = False) -> ChatResult:
    """Return a ``ChatResult`` (one generation per choice) for a ``chat.completion`` body.

    With ``blocks`` (calls with web search, whose text carries citations) content is a list
    holding one ``text_block``, as the stream parser builds it; otherwise it is a string.

    Raises ``ResponseFormatError`` naming the field when the body is not a chat.completion
    object: no ``choices``, or a field of the wrong type.
    """
    try:
        return _parse(obj(body, "Chat Completions reply"), blocks)
    except ParamChatError:
        raise
    except MALFORMED as exc:
        raise malformed("Chat Completions reply", exc) from exc


def _parse(body: Mapping[str, Any], blocks: bool) -> ChatResult:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ResponseFormatError(
            "Chat Completions reply has no 'choices'; the server did not send a chat.completion "
            f"object (keys: {sorted(body)[:10]})"
        )
    array(choices, "choices")
    usage = parse_usage(body.get("usage"), body.get("service_tier"))
    generations = []
    ordered = (
        [(0, choices[0])]
        if len(choices) == 1 and choices[0].get("index", 0).__class__ is int
        else sorted(enumerate(choices), key=lambda p: _index(p[1], p[0]))
    )
    for n, (i, choice) in enumerate(ordered):
        message = _message_from_choice(
            choice, body, usage if n == 0 else None, f"choices[{i}]", blocks
        )
        info = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        generations.append(ChatGeneration(message=message, generation_info=info))
    # Usage lives in usage_metadata only, so invoke and a merged stream carry the same data.
    return ChatResult(generations=generations, llm_output={"model_name": body.get("model")})


def _index(choice: Mapping[str, Any], position: int) -> int:
    index = choice.get("index", position)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ResponseFormatError(f"choices[{position}].index must be an integer, got {index!r}")
    return index
