"""The Chat Completions adapter: messages in, payload out, JSON and SSE chunks back (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_paramchat.apis.common import (
    MODEL_PROVIDER,
    detail,
    parse_tool_call,
    system_role,
    usage_metadata,
)
from langchain_paramchat.apis.content import AudioPart, FilePart, ImagePart, TextPart, parse_parts
from langchain_paramchat.errors import MessageConversionError, ResponseFormatError

__all__ = ["PATH", "StreamParser", "build_payload", "convert_messages", "parse_response"]

PATH = "/chat/completions"


# --- messages in ----------------------------------------------------------------------------


def convert_messages(messages: Sequence[BaseMessage], *, model: str) -> list[dict[str, Any]]:
    """Return the Chat Completions ``messages`` list for LangChain messages."""
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(message, SystemMessage):
            out.append({"role": system_role(model), "content": _text_only(message, where)})
        elif isinstance(message, HumanMessage):
            out.append({"role": "user", "content": _user_content(message.content, where)})
        elif isinstance(message, AIMessage):
            out.append(_assistant(message, where))
        elif isinstance(message, ToolMessage):
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_call_id,
                    "content": _tool_content(message.content, where),
                }
            )
        elif isinstance(message, FunctionMessage):
            out.append({"role": "function", "name": message.name, "content": message.text})
        elif isinstance(message, ChatMessage):
            out.append({"role": message.role, "content": message.text})
        else:
            raise MessageConversionError(
                f"{where}: unsupported message type {type(message).__name__}"
            )
    return out


def _text_only(message: BaseMessage, where: str) -> str:
    parts = parse_parts(message.content, where=where)
    texts = []
    for part in parts:
        if not isinstance(part, TextPart):
            raise MessageConversionError(f"{where}: {type(message).__name__} accepts only text")
        texts.append(part.text)
    return "".join(texts)


def _user_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in parse_parts(content, where=where):
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            if part.url is None:
                raise MessageConversionError(
                    f"{where}: images by file_id need the Responses API (api='responses')"
                )
            spec: dict[str, Any] = {"url": part.url}
            if part.detail:
                spec["detail"] = part.detail
            blocks.append({"type": "image_url", "image_url": spec})
        elif isinstance(part, AudioPart):
            blocks.append(
                {
                    "type": "input_audio",
                    "input_audio": {"data": part.data_b64, "format": part.format},
                }
            )
        elif isinstance(part, FilePart):
            blocks.append({"type": "file", "file": _file_spec(part, where)})
    return blocks


def _file_spec(part: FilePart, where: str) -> dict[str, Any]:
    if part.file_id:
        return {"file_id": part.file_id}
    data_url = part.data_url()
    if data_url is None:
        raise MessageConversionError(
            f"{where}: files by URL need the Responses API (api='responses')"
        )
    return {"file_data": data_url, "filename": part.filename or "file.pdf"}


def _tool_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts = parse_parts(content, where=where)
    if all(isinstance(p, TextPart) for p in parts):
        return [{"type": "text", "text": p.text} for p in parts if isinstance(p, TextPart)]
    raise MessageConversionError(
        f"{where}: tool results with images or files need the Responses API (api='responses')"
    )


def _assistant(message: AIMessage, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    text = message.text
    out["content"] = text or None
    calls = [_tool_call_out(tc) for tc in message.tool_calls]
    calls += [
        {
            "id": bad["id"],
            "type": "function",
            "function": {"name": bad["name"], "arguments": bad.get("args") or ""},
        }
        for bad in message.invalid_tool_calls
    ]
    if calls:
        out["tool_calls"] = calls
    audio = message.additional_kwargs.get("audio")
    if isinstance(audio, dict) and audio.get("id"):
        out["audio"] = {"id": audio["id"]}
    refusal = message.additional_kwargs.get("refusal")
    if refusal and not text:
        out["refusal"] = refusal
    if out["content"] is None and "tool_calls" not in out and "audio" not in out:
        out["content"] = ""
    return out


def _tool_call_out(call: ToolCall) -> dict[str, Any]:
    args = call["args"]
    if set(args) == {"input"} and call.get("id", "") and _is_custom(call):
        return {
            "id": call["id"],
            "type": "custom",
            "custom": {"name": call["name"], "input": args["input"]},
        }
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(args, ensure_ascii=False)},
    }


def _is_custom(call: ToolCall) -> bool:
    return bool((call.get("id") or "").startswith("ctc_"))


def chat_only_inputs(messages: Sequence[BaseMessage]) -> list[str]:
    """Name message contents only Chat Completions accepts (audio input)."""
    found = []
    for i, message in enumerate(messages):
        if isinstance(message, HumanMessage | ToolMessage) and not isinstance(message.content, str):
            parts = parse_parts(message.content, where=f"messages[{i}]")
            if any(isinstance(p, AudioPart) for p in parts):
                found.append(f"audio input in messages[{i}]")
        if isinstance(message, AIMessage) and isinstance(
            message.additional_kwargs.get("audio"), dict
        ):
            found.append(f"assistant audio in messages[{i}]")
    return found


def build_payload(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    placements: dict[str, Any],
    tools: list[dict[str, Any]] | None,
    tool_choice: Any,
    stream: bool,
    stream_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """Return the exact JSON body for ``POST /chat/completions``."""
    payload: dict[str, Any] = {"model": model, "messages": convert_messages(messages, model=model)}
    payload.update(placements)
    if tools:
        payload["tools"] = tools
    if tool_choice is not None:
        payload["tool_choice"] = tool_choice
    if stream:
        payload["stream"] = True
        if stream_options:
            payload["stream_options"] = stream_options
    return payload


# --- replies out ----------------------------------------------------------------------------


def _usage(raw: dict[str, Any] | None) -> Any:
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


def _base_metadata(body: dict[str, Any]) -> dict[str, Any]:
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
    meta = _base_metadata(body)
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
    """Return a ``ChatResult`` (one generation per choice) for a ``chat.completion`` body."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ResponseFormatError(
            "Chat Completions reply has no 'choices'; the server did not send a chat.completion "
            f"object (keys: {sorted(body)[:10]})"
        )
    usage = _usage(body.get("usage"))
    generations = []
    for n, choice in enumerate(sorted(choices, key=lambda c: c.get("index", 0))):
        message = _message_from_choice(choice, body, usage if n == 0 else None)
        info = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        generations.append(ChatGeneration(message=message, generation_info=info))
    # Usage lives in usage_metadata only, so invoke and a merged stream carry the same data.
    return ChatResult(generations=generations, llm_output={"model_name": body.get("model")})


class StreamParser:
    """Turn ``chat.completion.chunk`` events into LangChain chunks, one per event with content."""

    def __init__(self) -> None:
        self._meta_sent = False
        self._audio_keys_sent: set[str] = set()
        self._tool_seen: set[int] = set()

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk for one SSE event, or None when it carries nothing."""
        if "error" in data and "choices" not in data:
            from langchain_paramchat.errors import APIError

            err = (
                data["error"]
                if isinstance(data["error"], dict)
                else {"message": str(data["error"])}
            )
            raise APIError(err.get("message", "stream error"), code=err.get("code"))
        meta: dict[str, Any] = {}
        if not self._meta_sent:
            meta = _base_metadata(data)
            self._meta_sent = True
        usage = _usage(data.get("usage"))
        if "choices" not in data and usage is None:
            raise ResponseFormatError(
                "Chat Completions stream sent a chunk without 'choices' "
                f"(keys: {sorted(data)[:10]})"
            )
        choices = data.get("choices") or []
        delta: dict[str, Any] = {}
        info: dict[str, Any] | None = None
        if choices:
            choice = choices[0]
            delta = choice.get("delta") or {}
            if choice.get("finish_reason"):
                meta["finish_reason"] = choice["finish_reason"]
                info = {"finish_reason": choice["finish_reason"]}
            if choice.get("logprobs"):
                meta["logprobs"] = choice["logprobs"]
        content = delta.get("content") or ""
        additional: dict[str, Any] = {}
        if delta.get("refusal"):
            additional["refusal"] = delta["refusal"]
        audio = delta.get("audio")
        if isinstance(audio, dict):
            piece = {}
            for key, value in audio.items():
                if value is None:
                    continue
                if key in ("data", "transcript"):
                    piece[key] = value
                elif key not in self._audio_keys_sent:
                    piece[key] = value
                    self._audio_keys_sent.add(key)
            if piece:
                additional["audio"] = piece
        tool_chunks = []
        for raw in delta.get("tool_calls") or []:
            index = raw.get("index", 0)
            fn = raw.get("function") or raw.get("custom") or {}
            first = index not in self._tool_seen
            self._tool_seen.add(index)
            tool_chunks.append(
                ToolCallChunk(
                    type="tool_call_chunk",
                    name=fn.get("name") if first else None,
                    args=fn.get("arguments") or fn.get("input") or "",
                    id=raw.get("id") if first else None,
                    index=index,
                )
            )
        if not (content or additional or tool_chunks or usage or meta):
            return None
        message = AIMessageChunk(
            content=content,
            additional_kwargs=additional,
            tool_call_chunks=tool_chunks,
            usage_metadata=usage,
            response_metadata=meta,
            id=data.get("id"),
        )
        return ChatGenerationChunk(message=message, generation_info=info)

    def finish(self, *, done: bool) -> ChatGenerationChunk:
        """Return the closing chunk; raise when the stream ended without ``[DONE]``."""
        if not done:
            raise ResponseFormatError(
                "Chat Completions stream ended before 'data: [DONE]': the reply is incomplete"
            )
        return ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last"))
