"""Responses streams: server-sent events in, LangChain chunks that merge into the reply out."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessageChunk, ToolCallChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_paramchat.apis.reply_parts import MALFORMED, MODEL_PROVIDER, malformed, obj, opt_text
from langchain_paramchat.apis.responses.reply import (
    api_error,
    item_blocks,
    parse_usage,
    part_block,
    part_identity,
    response_metadata,
)
from langchain_paramchat.apis.responses.request import TOOL_CALL_ITEMS
from langchain_paramchat.errors import ParamChatError, ResponseFormatError

__all__ = ["StreamParser"]

# The one field of a block that arrives in pieces while streaming; all others arrive once.
_STREAMED_FIELD = {
    "text": "text",
    "refusal": "refusal",
    "function_call": "arguments",
    "custom_tool_call": "input",
}
# Reasoning lists whose entries stream separately, matched by their own "index".
_REASONING_LISTS = ("summary", "content")


@dataclass
class _Item:
    """One output item as the stream has revealed it so far."""

    position: int
    type: str
    id: str | None = None
    call_id: str | None = None
    phase: str | None = None
    # part number (content part of a message; 0 otherwise) -> block index in content
    blocks: dict[int, int] = field(default_factory=dict)
    last_part: int = 0
    summary_parts: int = 0
    call_sent: bool = False

    def learn(self, item: Mapping[str, Any], item_id: Any = None) -> None:
        """Fill in identifiers the stream had not shown yet (each a string, or malformed)."""
        if not item and (item_id is None or item_id == self.id):
            return  # a delta of a known item (most events): nothing new to learn
        where = f"output item {self.position}"
        self.id = self.id or opt_text(item.get("id"), where, "id") or opt_text(item_id, where)
        self.id = self.id or None
        self.call_id = self.call_id or opt_text(item.get("call_id"), where, "call_id") or None
        self.phase = self.phase or opt_text(item.get("phase"), where, "phase") or None


_Fragments = tuple[list[dict[str, Any]], list[ToolCallChunk]]


class StreamParser:
    """Turn Responses stream events into ``ChatGenerationChunk``s that merge into the result.

    Each delta becomes a fragment of its content block (same ``index``); when an item or
    the response completes, whatever the deltas did not carry (encrypted reasoning, a
    summary sent only in the final item, annotations, missed text) is emitted then, so the
    merged chunks equal ``parse_response`` of the final response. Events without
    ``output_index`` / ``item_id`` (llama.cpp's server) attach to the current item.
    """

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._current: _Item | None = None
        self._sent: dict[int, dict[str, Any]] = {}  # block index -> everything emitted, merged
        self._response_id: str | None = None
        self._indexed = False
        self._finished = False

    def feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        """Return the chunk one event carries, or None; raise ``APIError`` on failure events.

        Raises ``ResponseFormatError`` naming the event when a field has the wrong type.
        """
        try:
            return self._feed(event, data)
        except ParamChatError:
            raise
        except MALFORMED as exc:
            raise malformed(f"Responses stream event {event or ''!s}".rstrip(), exc) from exc

    def _feed(self, event: str | None, data: dict[str, Any]) -> ChatGenerationChunk | None:
        if not isinstance(data, Mapping):
            raise ResponseFormatError(f"stream event {event!r} is not a JSON object: {data!r}")
        kind = data.get("type") or event
        if kind is not None and kind.__class__ is not str:
            raise ResponseFormatError(f"stream event {event!r} has a 'type' that is not a string")
        if kind == "error":
            nested = data.get("error")
            flat = {k: v for k, v in data.items() if k != "type"}
            raise api_error(nested if isinstance(nested, Mapping) else flat, "stream error")
        if kind == "response.failed":
            response = obj(data.get("response") or {}, f"{kind}.response")
            raise api_error(response.get("error"), f"Response {response.get('id')} failed.")
        if self._finished:
            return None
        if kind in ("response.created", "response.in_progress", "response.queued"):
            response = obj(data.get("response") or {}, f"{kind}.response")
            self._response_id = response.get("id") or self._response_id
            return None
        if kind in ("response.completed", "response.incomplete"):
            return self._final(obj(data.get("response") or {}, f"{kind}.response"))
        handler = _HANDLERS.get(kind or "")
        if handler is None:
            return None
        return self._chunk(handler(self, data))

    def close(self, *, done: bool = False) -> ChatGenerationChunk | None:
        """Return None (the terminal event already closed the reply), or raise if it never came.

        ``done`` says whether the transport saw ``data: [DONE]``; it is accepted so both
        adapters share one interface, but only ``response.completed`` / ``.incomplete``
        prove a Responses reply complete (and carry its usage), so it decides nothing here.
        """
        if not self._finished:
            raise ResponseFormatError(
                "stream ended before response.completed (or response.incomplete); "
                "the reply is incomplete"
            )
        return None

    # --- event handlers -----------------------------------------------------------------

    def _on_item_added(self, data: Mapping[str, Any]) -> _Fragments:
        item = data.get("item") or {}
        it = self._item(data, str(item.get("type")), item=item, opening=True)
        if it.type == "message" or (it.blocks and it.type not in TOOL_CALL_ITEMS):
            return [], []
        if it.type in TOOL_CALL_ITEMS:
            fragment = self._reconcile(it, 0, item_blocks(item)[0])
            if fragment is None:
                return [], []
            chunks = []
            if it.type == "function_call":
                chunks.append(_call_chunk(fragment, it.position))
            return [fragment], chunks
        # Reasoning and built-in tools: announce the block; the rest comes with .done.
        return [self._emit(it, 0, {"type": it.type})], []

    def _on_item_done(self, data: Mapping[str, Any]) -> _Fragments:
        item = data.get("item") or {}
        return self._settle(self._item(data, str(item.get("type")), item=item), item)

    def _on_text_delta(self, data: Mapping[str, Any]) -> _Fragments:
        return self._part_delta(data, "text", "text")

    def _on_refusal_delta(self, data: Mapping[str, Any]) -> _Fragments:
        return self._part_delta(data, "refusal", "refusal")

    def _part_delta(self, data: Mapping[str, Any], kind: str, key: str) -> _Fragments:
        delta = _delta(data)
        if not delta:
            return [], []
        it = self._item(data, "message")
        part = self._part_number(it, data)
        return [self._emit(it, part, {"type": kind, key: delta})], []

    def _on_part_done(self, data: Mapping[str, Any]) -> _Fragments:
        part = data.get("part") or {}
        if part.get("type") not in ("output_text", "refusal"):
            return [], []
        # The finished part carries its annotations; they go out here, all at once, because
        # langchain-core merges list entries that share an "index" key, as file citations do.
        it = self._item(data, "message")
        number = self._part_number(it, data)
        final = part_block({"id": it.id, "phase": it.phase}, part)
        fragment = self._reconcile(it, number, final)
        return ([fragment] if fragment else []), []

    def _on_summary_part_added(self, data: Mapping[str, Any]) -> _Fragments:
        self._item(data, "reasoning").summary_parts += 1
        return [], []

    def _on_summary_delta(self, data: Mapping[str, Any]) -> _Fragments:
        it = self._item(data, "reasoning")
        index = data.get("summary_index")
        if not isinstance(index, int):
            index = max(it.summary_parts - 1, 0)
        return self._reasoning_delta(it, data, "summary", "summary_text", index)

    def _on_reasoning_text_delta(self, data: Mapping[str, Any]) -> _Fragments:
        it = self._item(data, "reasoning")
        index = data.get("content_index")
        return self._reasoning_delta(
            it, data, "content", "reasoning_text", index if isinstance(index, int) else 0
        )

    def _reasoning_delta(
        self, it: _Item, data: Mapping[str, Any], key: str, kind: str, index: int
    ) -> _Fragments:
        delta = _delta(data)
        if not delta:
            return [], []
        entry = {"type": kind, "text": delta, "index": index}
        fragment: dict[str, Any] = {"type": "reasoning", key: [entry]}
        if it.id:
            # Every piece names its item: output_version="v1" turns each chunk into standard
            # blocks on its own, and a block without the id would lose it.
            fragment["id"] = it.id
        return [self._emit(it, 0, fragment)], []

    def _on_arguments_delta(self, data: Mapping[str, Any]) -> _Fragments:
        delta = _delta(data)
        if not delta:
            return [], []
        it = self._item(data, "function_call")
        chunk = tool_call_chunk(args=delta, index=it.position)
        return [self._emit(it, 0, {"type": "function_call", "arguments": delta})], [chunk]

    def _on_custom_input_delta(self, data: Mapping[str, Any]) -> _Fragments:
        delta = _delta(data)
        if not delta:
            return [], []
        it = self._item(data, "custom_tool_call")
        # The tool_call_chunk waits for the whole input: its args must be one JSON object.
        return [self._emit(it, 0, {"type": "custom_tool_call", "input": delta})], []

    # --- state ----------------------------------------------------------------------------

    def _item(
        self,
        data: Mapping[str, Any],
        kind: str,
        *,
        item: Mapping[str, Any] | None = None,
        opening: bool = False,
    ) -> _Item:
        """Return the item an event belongs to, creating it when the stream shows a new one."""
        item = item or {}
        item_id = data.get("item_id")
        position = data.get("output_index")
        found: _Item | None = None
        if isinstance(position, int):
            self._indexed = True
            found = self._items.get(position)
            # A delta naming the item at its index (most events) needs no identity search.
            same = found is not None and not item and item_id and item_id == found.id
            keys = set() if same else {item_id, item.get("id"), item.get("call_id")} - {None, ""}
            if keys and (found is None or not _is(found, keys)):
                # Some servers' output_index drifts (a .done event one higher than its
                # .added): the item's id says which item it is.
                found = self._by_identity(keys)
                if found is None and position in self._items:
                    position = None  # a new item whose index another item holds
        else:
            position = None
            found = self._by_identity({item_id, item.get("id"), item.get("call_id")})
            current = self._current
            if (
                found is None
                and not opening
                and current is not None
                and current.type == kind
                and (current.id is None or not (item_id or item.get("id")))
            ):
                found = current
        if found is None:
            found = self._new_item(position, kind)
        found.learn(item, item_id)
        self._current = found
        return found

    def _new_item(self, position: int | None, kind: str) -> _Item:
        if position is None:
            position = max(self._items, default=-1) + 1
        it = self._items[position] = _Item(position=position, type=kind)
        return it

    def _by_identity(self, keys: set[Any]) -> _Item | None:
        keys.discard(None)
        keys.discard("")
        if not keys:
            return None
        return next((it for it in self._items.values() if keys & {it.id, it.call_id}), None)

    def _part_number(self, it: _Item, data: Mapping[str, Any]) -> int:
        number = data.get("content_index")
        if isinstance(number, int):
            it.last_part = number
        return it.last_part

    def _emit(self, it: _Item, part: int, fragment: dict[str, Any]) -> dict[str, Any]:
        """Return ``fragment`` as sent for block (item, part), opening the block if new."""
        index = it.blocks.get(part)
        if index is None:
            index = it.blocks[part] = len(self._sent)
            self._sent[index] = {}
            fragment = {**self._identity(it, str(fragment["type"])), **fragment}
        fragment["index"] = index
        _absorb(self._sent[index], fragment)
        return fragment

    @staticmethod
    def _identity(it: _Item, kind: str) -> dict[str, Any]:
        if kind in ("text", "refusal"):
            return part_identity(it.id, it.phase)
        identity: dict[str, Any] = {"id": it.id} if it.id else {}
        if kind == "reasoning":
            identity["summary"] = []
        return identity

    def _reconcile(self, it: _Item, part: int, final: dict[str, Any]) -> dict[str, Any] | None:
        index = it.blocks.get(part)
        if index is None:
            return self._emit(it, part, dict(final))
        rest = _remainder(final, self._sent[index])
        if not rest:
            return None
        if "id" in final:
            # langchain-core's translators read a built-in tool block's id from every chunk.
            rest["id"] = final["id"]
        if final["type"] == "reasoning":
            # For output_version="v1" langchain-core turns each chunk on its own into
            # standard blocks: without "summary" a late field (encrypted_content) would
            # become a reasoning block of its own instead of joining its item's first one.
            rest.setdefault("summary", [])
        return self._emit(it, part, {"type": final["type"], **rest})

    def _settle(self, it: _Item, item: Mapping[str, Any]) -> _Fragments:
        """Emit whatever of a finished item the stream has not carried yet."""
        it.learn(item)
        fragments = []
        for part, final in enumerate(item_blocks(item)):
            fragment = self._reconcile(it, part, final)
            if fragment is not None:
                fragments.append(fragment)
        chunks: list[ToolCallChunk] = []
        if it.type == "function_call" and fragments:
            rest = fragments[0]
            if {"name", "arguments", "call_id"} & rest.keys():
                chunks.append(_call_chunk(rest, it.position))
        elif it.type == "custom_tool_call" and not it.call_sent:
            it.call_sent = True
            args = json.dumps({"input": item.get("input") or ""}, ensure_ascii=False)
            chunks.append(
                tool_call_chunk(
                    name=item.get("name") or "",
                    args=args,
                    id=item.get("call_id"),
                    index=it.position,
                )
            )
        return fragments, chunks

    def _final(self, response: Mapping[str, Any]) -> ChatGenerationChunk:
        if not isinstance(response.get("output"), list):
            raise ResponseFormatError(
                "Responses stream ended with a response that has no 'output' list "
                f"(keys: {sorted(response)[:10]})"
            )
        fragments: list[dict[str, Any]] = []
        chunks: list[ToolCallChunk] = []
        claimed: set[int] = set()
        for position, item in enumerate(response.get("output") or []):
            if not isinstance(item, dict):
                raise ResponseFormatError(f"output[{position}] is not an object: {item!r:.60}")
            it = self._final_item(position, item, claimed)
            claimed.add(it.position)
            more, more_chunks = self._settle(it, item)
            fragments += more
            chunks += more_chunks
        self._finished = True
        message = AIMessageChunk(
            content=fragments,  # type: ignore[arg-type]
            tool_call_chunks=chunks,
            usage_metadata=parse_usage(response.get("usage"), response.get("service_tier")),
            response_metadata=response_metadata(response),
            id=response.get("id") or self._response_id,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message)

    def _final_item(self, position: int, item: Mapping[str, Any], claimed: set[int]) -> _Item:
        """Return the streamed item a final output item is, matched by index, id or order."""
        kind = str(item.get("type"))
        keys = {item.get("id"), item.get("call_id")} - {None, ""}
        if self._indexed:
            found = self._items.get(position)
            if keys and (found is None or not _is(found, keys)):
                found = self._by_identity(keys) or found
            return found or self._new_item(position, kind)
        found = self._by_identity(keys)
        if found is None or found.position in claimed:
            found = next(
                (
                    it
                    for _, it in sorted(self._items.items())
                    if it.type == kind and it.position not in claimed
                ),
                None,
            )
        return found or self._new_item(None, kind)

    def _chunk(self, fragments: _Fragments) -> ChatGenerationChunk | None:
        content, chunks = fragments
        if not content and not chunks:
            return None
        message = AIMessageChunk(
            content=content,  # type: ignore[arg-type]
            tool_call_chunks=chunks,
            response_metadata={"model_provider": MODEL_PROVIDER},
            id=self._response_id,
        )
        return ChatGenerationChunk(message=message)


_HANDLERS: dict[str, Callable[[StreamParser, Mapping[str, Any]], _Fragments]] = {
    "response.output_item.added": StreamParser._on_item_added,
    "response.output_item.done": StreamParser._on_item_done,
    "response.output_text.delta": StreamParser._on_text_delta,
    "response.refusal.delta": StreamParser._on_refusal_delta,
    "response.content_part.done": StreamParser._on_part_done,
    "response.reasoning_summary_part.added": StreamParser._on_summary_part_added,
    "response.reasoning_summary_text.delta": StreamParser._on_summary_delta,
    "response.reasoning_text.delta": StreamParser._on_reasoning_text_delta,
    "response.function_call_arguments.delta": StreamParser._on_arguments_delta,
    "response.custom_tool_call_input.delta": StreamParser._on_custom_input_delta,
}


def _absorb(sent: dict[str, Any], fragment: Mapping[str, Any]) -> None:
    """Merge ``fragment`` into ``sent`` the way langchain-core merges chunk content."""
    streamed = _STREAMED_FIELD.get(str(fragment.get("type")))
    for key, value in fragment.items():
        prior = sent.get(key)
        if prior is not None and value is not None and prior.__class__ is not value.__class__:
            # Chunks merge field by field; a field that changes type cannot merge.
            raise ResponseFormatError(
                f"Responses stream sent {fragment.get('type')!r:.40} field {key!r} as "
                f"{type(value).__name__} after {type(prior).__name__}"
            )
        if key not in sent:
            sent[key] = copy.deepcopy(value)
        elif key == streamed and isinstance(value, str):
            sent[key] += value
        elif key in _REASONING_LISTS and fragment.get("type") == "reasoning":
            for entry in value:
                prior = _entry(sent[key], entry.get("index"))
                if prior is None:
                    sent[key].append(dict(entry))
                else:
                    prior["text"] = prior.get("text", "") + entry.get("text", "")


def _remainder(final: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of ``final`` that ``sent`` lacks, as a fragment to merge onto it."""
    kind = final.get("type")
    streamed = _STREAMED_FIELD.get(str(kind))
    rest: dict[str, Any] = {}
    for key, value in final.items():
        if key in ("type", "index"):
            continue
        if key not in sent:
            rest[key] = value
        elif key == streamed and isinstance(value, str):
            suffix = _suffix(value, sent[key])
            if suffix:
                rest[key] = suffix
        elif key in _REASONING_LISTS and kind == "reasoning" and isinstance(value, list):
            missing = []
            for entry in value:
                prior = _entry(sent[key], entry.get("index"))
                if prior is None:
                    missing.append(entry)
                elif suffix := _suffix(entry.get("text", ""), prior.get("text", "")):
                    missing.append({"type": entry["type"], "text": suffix, "index": entry["index"]})
            if missing:
                rest[key] = missing
    return rest


def _suffix(final: str, sent: Any) -> str:
    # Text already streamed cannot be taken back; only a missing tail can still be added.
    if isinstance(sent, str) and final.startswith(sent):
        return final[len(sent) :]
    return ""


def _call_chunk(fragment: Mapping[str, Any], position: int) -> ToolCallChunk:
    """Return the tool-call chunk a ``function_call`` fragment (name, arguments, id) gives."""
    return tool_call_chunk(
        name=fragment.get("name"),
        args=fragment.get("arguments") or "",
        id=fragment.get("call_id"),
        index=position,
    )


def _is(it: _Item, keys: set[Any]) -> bool:
    """Return True unless ``it`` has an id or call id and ``keys`` names neither."""
    own = {it.id, it.call_id} - {None}
    return not own or bool(own & keys)


def _entry(entries: list[dict[str, Any]], index: Any) -> dict[str, Any] | None:
    return next((e for e in entries if e.get("index") == index), None)


def _delta(data: Mapping[str, Any]) -> str:
    """Return an event's ``delta`` text ("" when absent); raise if it is not a string."""
    delta = data.get("delta")
    if delta is None:
        return ""
    if not isinstance(delta, str):
        raise ResponseFormatError(
            f"stream event {str(data.get('type'))[:80]!r} has a delta that is not text: "
            f"{type(delta).__name__}"
        )
    return delta
