"""Chat Completions streams: ``chat.completion.chunk`` events in, LangChain chunks out."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessageChunk, ToolCallChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_paramchat.apis.chat_completions.reply import (
    base_metadata,
    flatten_annotations,
    parse_usage,
    text_block,
)
from langchain_paramchat.apis.reply_parts import (
    MALFORMED,
    METADATA_EXTRAS,
    array,
    malformed,
    obj,
    opt_text,
)
from langchain_paramchat.errors import ParamChatError, ResponseFormatError, response_failed

__all__ = ["StreamParser"]


class StreamParser:
    """Turn ``chat.completion.chunk`` events into LangChain chunks, one per event with content.

    With ``blocks`` (calls with web search) text streams as fragments of one ``text`` block
    that the citations, sent after the text, merge into: the shape ``parse_response`` gives.
    """

    def __init__(self, *, blocks: bool = False) -> None:
        self._blocks = blocks
        self._meta_sent = False
        self._audio_keys_sent: set[str] = set()
        self._tool_seen: set[int] = set()
        # Custom tool calls still open: their input streams as raw text, sent on as the
        # pieces of one JSON object {"input": ...} so merged args parse like invoke's.
        self._custom_open: set[int] = set()

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk for one SSE event, or None when it carries nothing.

        Raises ``ResponseFailedError`` for an error event and ``ResponseFormatError`` for a
        chunk that is not a ``chat.completion.chunk`` (or has a field of the wrong type). Only
        choice 0 is read: chunks of other choices (a server streaming several) never mix in.
        """
        try:
            return self._feed(data)
        except ParamChatError:
            raise
        except MALFORMED as exc:
            raise malformed("Chat Completions stream chunk", exc) from exc

    def _feed(self, data: dict[str, Any]) -> ChatGenerationChunk | None:
        if not isinstance(data, dict):
            raise ResponseFormatError(f"stream chunk must be an object, got {data!r:.60}")
        if "error" in data and "choices" not in data:
            err = (
                data["error"]
                if isinstance(data["error"], dict)
                else {"message": str(data["error"])}
            )
            code = err.get("code")
            raise response_failed(
                str(err.get("message") or "stream error"),
                code=None if code is None else str(code),
                error_type=err.get("type") if isinstance(err.get("type"), str) else None,
            )
        meta: dict[str, Any] = {}
        if not self._meta_sent:
            meta = base_metadata(data)
            self._meta_sent = True
        raw_usage = data.get("usage")
        usage = None if raw_usage is None else parse_usage(raw_usage, data.get("service_tier"))
        if usage is not None:
            # Reply-wide extras, if any, come with the usage at the end of the stream.
            meta.update((k, data[k]) for k in METADATA_EXTRAS if data.get(k) is not None)
        choices = data.get("choices")
        if choices is None and usage is None:
            raise ResponseFormatError(
                "Chat Completions stream sent a chunk without 'choices' "
                f"(keys: {sorted(data)[:10]})"
            )
        # The usual chunk carries choice 0 alone: checked inline, the rest in _choice_zero.
        if choices.__class__ is list and len(choices) == 1 and choices[0].__class__ is dict:
            choice = choices[0] if choices[0].get("index", 0) == 0 else None
        else:
            choice = _choice_zero(choices)
        delta: Any = _NO_DELTA
        info: dict[str, Any] | None = None
        if choice is not None:
            delta = choice.get("delta") or _NO_DELTA
            if delta.__class__ is not dict:
                obj(delta, "choices[0].delta")
            # Chunks merge field by field: a value of the wrong type cannot merge with the rest.
            if choice.get("finish_reason"):
                meta["finish_reason"] = opt_text(
                    choice["finish_reason"], "choices[0]", "finish_reason"
                )
                info = {"finish_reason": choice["finish_reason"]}
            if choice.get("logprobs"):
                meta["logprobs"] = _logprobs(choice["logprobs"])
        content = delta.get("content")
        if content is None:
            content = ""
        elif not isinstance(content, str):
            raise ResponseFormatError(f"choices[0].delta.content must be a string, got {content!r}")
        additional: dict[str, Any] = {}
        annotations = delta.get("annotations")
        message_content: str | list[str | dict[str, Any]] = content
        if self._blocks:
            message_content = [text_block(content)] if content else []
            if annotations:
                cited = flatten_annotations(annotations, "choices[0].delta")
                message_content.append({"type": "text", "annotations": cited, "index": 0})
        elif annotations:
            additional["annotations"] = flatten_annotations(annotations, "choices[0].delta")
        if delta.get("refusal"):
            additional["refusal"] = opt_text(delta["refusal"], "choices[0].delta", "refusal")
        function_call = delta.get("function_call")
        if isinstance(function_call, dict):
            # A legacy function call; its pieces merge like the other additional_kwargs.
            additional["function_call"] = {
                k: opt_text(v, "choices[0].delta.function_call", str(k)) or ""
                for k, v in function_call.items()
            }
        audio = delta.get("audio")
        if isinstance(audio, dict):
            piece = {}
            for key, value in audio.items():
                if value is None:
                    continue
                if key in ("data", "transcript"):
                    piece[key] = opt_text(value, "choices[0].delta.audio", key)
                elif key not in self._audio_keys_sent:
                    piece[key] = value
                    self._audio_keys_sent.add(key)
            if piece:
                additional["audio"] = piece
        tool_chunks = []
        raw_calls = delta.get("tool_calls")
        for i, raw in enumerate(
            array(raw_calls, "choices[0].delta.tool_calls") if raw_calls else ()
        ):
            at = f"choices[0].delta.tool_calls[{i}]"
            index = raw.get("index", 0)
            if index.__class__ is not int:
                raise ResponseFormatError(f"{at}.index must be an integer, got {index!r:.60}")
            custom = raw.get("custom")
            fn = raw.get("function") or custom or {}
            first = index not in self._tool_seen
            self._tool_seen.add(index)
            if first and (raw.get("type") == "custom" or isinstance(custom, dict)):
                self._custom_open.add(index)
            if index in self._custom_open:
                raw_input = opt_text(fn.get("input"), at, "input")
                args = json.dumps(raw_input or "", ensure_ascii=False)[1:-1]
                args = '{"input": "' + args if first else args
            else:
                args = opt_text(fn.get("arguments"), at, "arguments") or ""
            tool_chunks.append(
                ToolCallChunk(
                    type="tool_call_chunk",
                    name=opt_text(fn.get("name"), at, "name") if first else None,
                    args=args,
                    id=opt_text(raw.get("id"), at, "id") if first else None,
                    index=index,
                )
            )
        if info is not None:
            tool_chunks.extend(self._close_custom())
        if not (message_content or additional or tool_chunks or usage or meta):
            return None
        message = AIMessageChunk(
            content=message_content,
            additional_kwargs=additional,
            tool_call_chunks=tool_chunks,
            usage_metadata=usage,
            response_metadata=meta,
            id=data.get("id"),
        )
        return ChatGenerationChunk(message=message, generation_info=info)

    def close(self, *, done: bool) -> ChatGenerationChunk:
        """Return the closing chunk; raise when the stream ended without ``[DONE]``."""
        if not done:
            raise ResponseFormatError(
                "Chat Completions stream ended before 'data: [DONE]': the reply is incomplete"
            )
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content=[] if self._blocks else "",
                tool_call_chunks=self._close_custom(),
                chunk_position="last",
            )
        )

    def _close_custom(self) -> list[ToolCallChunk]:
        closing = [
            ToolCallChunk(type="tool_call_chunk", name=None, args='"}', id=None, index=index)
            for index in sorted(self._custom_open)
        ]
        self._custom_open.clear()
        return closing


_NO_DELTA: dict[str, Any] = {}


def _logprobs(value: Any) -> Any:
    """Return a choice's ``logprobs`` when its token lists are arrays (they merge by appending)."""
    for key, tokens in obj(value, "choices[0]", "logprobs").items():
        array(tokens, "choices[0].logprobs", key)
    return value


def _choice_zero(choices: Any) -> dict[str, Any] | None:
    """Return choice 0 of a chunk, or None when the chunk carries only other choices."""
    if not choices:
        return None
    if not isinstance(choices, list):
        raise ResponseFormatError(f"choices must be an array, got {choices!r:.60}")
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            raise ResponseFormatError(f"choices[{i}] must be an object, got {choice!r:.60}")
        if choice.get("index", 0) == 0:
            return choice
    return None
