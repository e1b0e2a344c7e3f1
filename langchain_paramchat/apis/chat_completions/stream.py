"""Chat Completions streams: ``chat.completion.chunk`` events in, LangChain chunks out."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessageChunk, ToolCallChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_paramchat.apis.chat_completions.reply import base_metadata, parse_usage
from langchain_paramchat.errors import APIError, ResponseFormatError

__all__ = ["StreamParser"]


class StreamParser:
    """Turn ``chat.completion.chunk`` events into LangChain chunks, one per event with content."""

    def __init__(self) -> None:
        self._meta_sent = False
        self._audio_keys_sent: set[str] = set()
        self._tool_seen: set[int] = set()

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk for one SSE event, or None when it carries nothing.

        Raises ``APIError`` for an error event and ``ResponseFormatError`` for a chunk that is not
        a ``chat.completion.chunk``.
        """
        if "error" in data and "choices" not in data:
            err = (
                data["error"]
                if isinstance(data["error"], dict)
                else {"message": str(data["error"])}
            )
            raise APIError(err.get("message", "stream error"), code=err.get("code"))
        meta: dict[str, Any] = {}
        if not self._meta_sent:
            meta = base_metadata(data)
            self._meta_sent = True
        usage = parse_usage(data.get("usage"))
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
