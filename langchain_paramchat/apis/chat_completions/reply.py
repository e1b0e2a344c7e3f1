"""Chat Completions replies: a ``chat.completion`` body in, a LangChain ``ChatResult`` out."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, InvalidToolCall, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_paramchat.apis.reply_parts import (
    MODEL_PROVIDER,
    detail,
    parse_tool_call,
    usage_metadata,
)
from langchain_paramchat.errors import ResponseFormatError

__all__ = ["base_metadata", "parse_response", "parse_usage"]


def parse_usage(raw: dict[str, Any] | None) -> Any:
    """Return LangChain ``usage_metadata`` for a Chat Completions ``usage`` object, or None."""
    if not raw:
        return None
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    return usage_metadata(
        input_tokens=raw.get("prompt_tokens") or 0,
        output_tokens=raw.get("completion_tokens") or 0,
        total_tokens=raw.get("total_tokens"),
        cache_read=detail(prompt, "cached_tokens"),
        input_audio=detail(prompt, "audio_tokens"),
        output_audio=detail(completion, "audio_tokens"),
        reasoning=detail(completion, "reasoning_tokens"),
        accepted_prediction=detail(completion, "accepted_prediction_tokens"),
        rejected_prediction=detail(completion, "rejected_prediction_tokens"),
    )


def base_metadata(body: dict[str, Any]) -> dict[str, Any]:
    """Return the response metadata a ``chat.completion`` body (or its first stream chunk) gives."""
    meta: dict[str, Any] = {"model_provider": MODEL_PROVIDER}
    for source, target in (
        ("model", "model_name"),
        ("id", "id"),
        ("service_tier", "service_tier"),
        ("system_fingerprint", "system_fingerprint"),
        ("created", "created"),
    ):
        if body.get(source) is not None:
            meta[target] = body[source]
    return meta


def _flatten_annotation(annotation: dict[str, Any]) -> dict[str, Any]:
    kind = annotation.get("type")
    nested = annotation.get(kind) if isinstance(kind, str) else None
    if isinstance(nested, dict):
        return {"type": kind, **nested}
    return annotation


def _message_from_choice(choice: dict[str, Any], body: dict[str, Any], usage: Any) -> AIMessage:
    message = choice.get("message")
    if not isinstance(message, dict):
        raise ResponseFormatError("Chat Completions reply has a choice without a 'message' object")
    text = message.get("content") or ""
    additional: dict[str, Any] = {}
    if message.get("refusal"):
        additional["refusal"] = message["refusal"]
    if message.get("audio"):
        additional["audio"] = dict(message["audio"])
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in message.get("tool_calls") or []:
        if raw.get("type") == "custom":
            custom = raw.get("custom") or {}
            tool_calls.append(
                ToolCall(
                    type="tool_call",
                    name=custom.get("name", ""),
                    args={"input": custom.get("input", "")},
                    id=raw.get("id"),
                )
            )
            continue
        fn = raw.get("function") or {}
        parsed = parse_tool_call(fn.get("name", ""), fn.get("arguments"), raw.get("id"))
        (invalid if parsed.get("type") == "invalid_tool_call" else tool_calls).append(parsed)  # type: ignore[arg-type]
    annotations = [_flatten_annotation(a) for a in message.get("annotations") or []]
    content: str | list[str | dict[str, Any]] = text
    if annotations:
        content = [{"type": "text", "text": text, "annotations": annotations}]
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
    )


def parse_response(body: dict[str, Any]) -> ChatResult:
    """Return a ``ChatResult`` (one generation per choice) for a ``chat.completion`` body.

    Raises ``ResponseFormatError`` when the body has no ``choices``.
    """
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ResponseFormatError(
            "Chat Completions reply has no 'choices'; the server did not send a chat.completion "
            f"object (keys: {sorted(body)[:10]})"
        )
    usage = parse_usage(body.get("usage"))
    generations = []
    for n, choice in enumerate(sorted(choices, key=lambda c: c.get("index", 0))):
        message = _message_from_choice(choice, body, usage if n == 0 else None)
        info = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        generations.append(ChatGeneration(message=message, generation_info=info))
    # Usage lives in usage_metadata only, so invoke and a merged stream carry the same data.
    return ChatResult(generations=generations, llm_output={"model_name": body.get("model")})
