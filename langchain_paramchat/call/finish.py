"""The finishing step every reply goes through, invoke and stream alike.

It stamps the route (``api``, ``route_reasons``) into the response metadata and applies the
strict-mode null fix-up to tool-call arguments, so a merged stream equals the invoke result
field by field. Usage needs nothing here: both parsers put it in ``usage_metadata`` only.

Strict mode makes optional arguments required-but-nullable, and a null the model sends for
one means "leave it out" (``tools.drop_default_nulls``). Streamed argument text cannot be
taken back once yielded, so for tools where that fix-up applies the argument text is held
back and sent, fixed, with the closing chunk; every other tool's arguments stream as they
arrive.

A merged stream's tool calls come from langchain-core's partial-JSON parsing, which turns
argument text cut off by the token limit into a valid call. ``result_of_stream`` (the
``streaming=True`` invoke) parses the merged argument text the way invoke parses a reply,
so a cut-off call is an invalid tool call there too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.exceptions import ContextOverflowError as CoreContextOverflowError
from langchain_core.messages import AIMessage, AIMessageChunk, InvalidToolCall, ToolCall
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.messages.utils import message_chunk_to_message
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_paramchat import tools as toolkit
from langchain_paramchat.apis.adapter import StreamParser
from langchain_paramchat.apis.reply_parts import parse_tool_call
from langchain_paramchat.call.reply_fields import GATEWAY_INFO_KEY, ReplyFields, gateway_info
from langchain_paramchat.errors import (
    APIError,
    ResponseFailedError,
    StreamFailedError,
    StreamInterruptedError,
)
from langchain_paramchat.routing.decide import Route

if TYPE_CHECKING:  # tools load with the first call that binds tools
    from langchain_paramchat.tools.normalize import NeutralTool

__all__ = ["Finish", "FinishedStream", "result_of_stream"]


_NO_TOOLS: frozenset[str] = frozenset()


def _held_tools(tools: Sequence[NeutralTool]) -> frozenset[str]:
    return frozenset(
        t.name for t in tools if isinstance(t, toolkit.FunctionTool) and t.null_means_default
    )


class Finish:
    """The finishing step for one call: its route and bound tools."""

    def __init__(
        self,
        route: Route,
        tools: Sequence[NeutralTool] | None,
        parse_as: Any = None,
        output_version: str | None = None,
    ) -> None:
        self.route = route
        self.parse_as = parse_as
        self.transport = "http"
        # output_version="v1": langchain-core turns content into standard blocks itself.
        self.standard_blocks = output_version == "v1"
        self.tools: Sequence[NeutralTool] = tools or ()
        # Tools whose streamed arguments wait for the fix-up (strict, with optional args).
        self.held_tools = _held_tools(tools) if tools else _NO_TOOLS

    def stamp(self, metadata: dict[str, Any]) -> None:
        """Write which API served the call, why, and over which transport into metadata."""
        metadata["api"] = self.route.api
        metadata["route_reasons"] = list(self.route.reasons)
        metadata["transport"] = self.transport

    def fix_args(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Return tool-call ``args`` without the nulls strict mode forced onto them."""
        if name not in self.held_tools:
            return args
        return toolkit.drop_default_nulls(self.tools, args, name)

    def result(
        self,
        result: ChatResult,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatResult:
        """Finish an invoke result parsed from ``body`` in place and return it."""
        fields = ReplyFields(headers, copy_refusal=not self.standard_blocks)
        fields.parse_as = self.parse_as
        if body is not None:  # ChatOpenAI's llm_output (what the reply has), for callbacks
            output = dict(result.llm_output or {})
            for key, field in _LLM_OUTPUT.items():
                if body.get(field) is not None:
                    output[key] = body[field]
            result.llm_output = output
        for generation in result.generations:
            message = generation.message
            if body is not None:
                fields.reply(message, body)
            if self.held_tools and isinstance(message, AIMessage):
                for call in message.tool_calls:
                    call["args"] = self.fix_args(call["name"], call["args"])
            if self.standard_blocks and isinstance(message, AIMessage):
                _standardize(message)
            self.stamp(message.response_metadata)
        return result

    def stream(
        self, parser: StreamParser, headers: Mapping[str, str] | None = None
    ) -> FinishedStream:
        """Return the finishing state for one stream read by ``parser``."""
        return FinishedStream(self, parser, headers)


# llm_output key -> reply field, as ChatOpenAI fills it.
_LLM_OUTPUT = {
    "token_usage": "usage",
    "model_name": "model",
    "system_fingerprint": "system_fingerprint",
    "id": "id",
}


class FinishedStream:
    """One stream's parser, what it has yielded, and the finishing step on each chunk.

    The sync and async streams share it; only the awaiting differs.
    """

    def __init__(
        self, finish: Finish, parser: StreamParser, headers: Mapping[str, str] | None = None
    ) -> None:
        self.finish = finish
        self.parser = parser
        self.fields = ReplyFields(headers, copy_refusal=not finish.standard_blocks)
        self.gateway_from: Any = None
        """An open stream whose headers may carry a LangSmith gateway's metadata."""
        self.received: list[ChatGenerationChunk] = []
        self._names: dict[int, str] = {}
        self._held: dict[int, str] = {}

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the finished chunk for one event, or None."""
        # The parser first: it rejects a malformed event before anything else reads it.
        chunk = self.parser.feed(event, data)
        self.fields.see(event, data)
        return self._finished(chunk)

    def close(self, done: bool) -> ChatGenerationChunk | None:
        """Return the finished closing chunk, if any; raise when the stream ended early."""
        return self._finished(self.parser.close(done=done))

    def failed(self, exc: APIError) -> APIError:
        """Return the error to raise: after output, one that carries what was yielded."""
        if isinstance(exc, StreamInterruptedError):
            exc.received = _merge(self.received)
            return exc
        if not self.received or isinstance(exc, CoreContextOverflowError):
            return exc
        cls = StreamFailedError if isinstance(exc, ResponseFailedError) else StreamInterruptedError
        return cls(
            f"the stream failed after output was yielded: {exc}",
            received=_merge(self.received),
            status_code=exc.status_code,
            code=exc.code,
            request_id=exc.request_id,
            error_type=exc.error_type,
        )

    def _finished(self, chunk: ChatGenerationChunk | None) -> ChatGenerationChunk | None:
        if chunk is None:
            return None
        message = chunk.message
        if self.finish.held_tools and isinstance(message, AIMessageChunk):
            chunk.message = self._hold_args(message)
        self.fields.chunk(chunk.message)
        if not self.received:
            self.finish.stamp(chunk.message.response_metadata)
            stream = self.gateway_from
            info = gateway_info(stream.headers) if stream is not None else None
            if info is not None:  # for tracers; langchain-core keeps it off the message
                chunk.generation_info = {**(chunk.generation_info or {}), GATEWAY_INFO_KEY: info}
        self.received.append(chunk)
        return chunk

    def _hold_args(self, message: AIMessageChunk) -> AIMessageChunk:
        """Return ``message`` with held tools' argument text kept back until the last chunk."""
        changed = False
        calls: list[Any] = []
        for call in message.tool_call_chunks:
            index = call.get("index")
            if isinstance(index, int) and call.get("name"):
                self._names[index] = str(call["name"])
            if isinstance(index, int) and self._names.get(index) in self.finish.held_tools:
                self._held[index] = self._held.get(index, "") + (call.get("args") or "")
                if call.get("args"):
                    call = {**call, "args": ""}
                    changed = True
            calls.append(call)
        if message.chunk_position == "last" and self._held:
            for index, raw in self._held.items():
                args = self._fixed_text(self._names[index], raw)
                calls.append(tool_call_chunk(name=None, args=args, id=None, index=index))
            self._held = {}
            changed = True
        if not changed:
            return message
        return AIMessageChunk(
            content=message.content,
            additional_kwargs=message.additional_kwargs,
            response_metadata=message.response_metadata,
            usage_metadata=message.usage_metadata,
            id=message.id,
            tool_call_chunks=calls,
            chunk_position=message.chunk_position,
        )

    def _fixed_text(self, name: str, raw: str) -> str:
        try:
            args = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            return raw  # invalid either way: invoke reports the same raw text
        if not isinstance(args, dict):
            return raw
        return json.dumps(self.finish.fix_args(name, args), ensure_ascii=False)


# The keys of langchain-core's standard reasoning block; any other goes in its "extras".
_REASONING_KEYS = frozenset({"type", "id", "reasoning", "extras", "index"})


def _standardize(message: AIMessage) -> None:
    """Give an invoke reply's list content as standard blocks, as its streamed chunks get them.

    langchain-core converts each streamed chunk and the invoke reply itself, but files a
    reasoning item's ``encrypted_content`` under ``extras`` for a chunk and at the top level
    of a whole reply; doing the conversion here, with non-standard reasoning keys under
    ``extras``, makes the two equal (core leaves content marked "v1" as it is).
    """
    if not isinstance(message.content, list):
        return  # text content: langchain-core's own conversion is the stream's too
    blocks: list[Any] = []
    for standard in message.content_blocks:
        block: dict[str, Any] = dict(standard)
        extra = {k: v for k, v in block.items() if k not in _REASONING_KEYS}
        if block.get("type") == "reasoning" and extra:
            block = {k: v for k, v in block.items() if k in _REASONING_KEYS}
            block["extras"] = {**(block.get("extras") or {}), **extra}
        blocks.append(block)
    message.content = blocks
    message.response_metadata["output_version"] = "v1"


def _merge(chunks: list[ChatGenerationChunk]) -> AIMessageChunk | None:
    if not chunks:
        return None
    merged = chunks[0].message
    for chunk in chunks[1:]:
        merged = merged + chunk.message
    return merged if isinstance(merged, AIMessageChunk) else None


def result_of_stream(
    chunks: Sequence[ChatGenerationChunk], *, standard_blocks: bool = False
) -> ChatResult:
    """Return the invoke result of a finished stream: its chunks merged, tool calls as invoke.

    ``standard_blocks`` (output_version="v1") converts the content as ``Finish.result`` does.
    Raises ``ValueError`` when the stream yielded nothing.
    """
    if not chunks:
        raise ValueError("No generations found in stream.")
    generation = chunks[0] + list(chunks[1:]) if len(chunks) > 1 else chunks[0]
    merged = generation.message
    message = message_chunk_to_message(merged)
    if isinstance(merged, AIMessageChunk) and isinstance(message, AIMessage):
        valid: list[ToolCall] = []
        invalid: list[InvalidToolCall] = []
        for call in merged.tool_call_chunks:
            parsed = parse_tool_call(call.get("name"), call.get("args"), call.get("id"))
            if parsed.get("type") == "invalid_tool_call":
                invalid.append(parsed)  # type: ignore[arg-type]
            else:
                valid.append(parsed)  # type: ignore[arg-type]
        message.tool_calls = valid
        message.invalid_tool_calls = invalid
    if standard_blocks and isinstance(message, AIMessage):
        _standardize(message)
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=generation.generation_info)]
    )
