"""Responses input for what users and tools write: user, system and tool-result content.

Text, image and file parts become ``input_*`` parts; input item blocks (``additional_tools``,
``configuration_update``, ...) become top-level items just before the message that carried
them, as ChatOpenAI places them; blocks of a type this package does not know are left out,
with a ``UserWarning`` outside user turns (the Responses API has no input of that type).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from langchain_paramchat.apis.content import (
    FilePart,
    ImagePart,
    ItemPart,
    OtherPart,
    Part,
    TextPart,
    parse_parts,
)
from langchain_paramchat.errors import MessageConversionError

__all__ = ["input_parts", "turn_items"]


def _message(role: str, content: str | list[dict[str, Any]]) -> dict[str, Any]:
    # ``type`` is optional for an input message, but ChatOpenAI sends it (and so its users'
    # recorded payloads and proxies expect it).
    return {"type": "message", "role": role, "content": content}


def turn_items(
    role: str, content: str | list[Any], where: str, *, render_tool: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """Return a user or system turn's items; text content stays a string, as ChatOpenAI sends it.

    ``render_tool`` turns a LangChain tool in an ``additional_tools`` block into a tool dict.

    Raises ``MessageConversionError`` for content the Responses API cannot carry (audio).
    """
    if isinstance(content, str):
        return [_message(role, content)]
    return _message_items(role, content, where, render_tool)


def _message_items(
    role: str, content: list[Any], where: str, render_tool: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """Return the input item blocks of a message, then the message with the rest (if any).

    Items go first, as ChatOpenAI places them, so the message stays whole.
    """
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    dropped = False
    system = role in ("system", "developer")
    for part in parse_parts(content, where=where, system=system):
        if isinstance(part, ItemPart):
            items.append(_input_item(part, render_tool))
        elif isinstance(part, OtherPart):
            dropped = True
            if system:  # instructions are text only: losing one is a mistake worth saying
                _warn_dropped(part, f"{where} (a {role} message)")
        else:
            parts.append(_input_part(part, where))
    if parts or not (items or dropped):
        items.append(_message(role, parts))
    return items


def _warn_dropped(part: OtherPart, where: str) -> None:
    warnings.warn(
        f"content block {part.type!r} in {where} was left out: the Responses API has no "
        "input of that type",
        UserWarning,
        stacklevel=2,
    )


def _input_item(part: ItemPart, render_tool: Callable[[Any], Any]) -> dict[str, Any]:
    item = dict(part.item)
    if item["type"] == "additional_tools":
        # OpenAI takes tools added mid-conversation only as developer input.
        item.setdefault("role", "developer")
        tools = item.get("tools")
        # LangChain tools and models in the block convert to tool dicts.
        if isinstance(tools, list) and not all(isinstance(t, dict) for t in tools):
            item["tools"] = [t if isinstance(t, dict) else render_tool(t) for t in tools]
    return item


def input_parts(content: str | list[Any], where: str) -> list[dict[str, Any]]:
    """Return a tool result's content as ``input_*`` parts, unknown blocks left out.

    Raises ``MessageConversionError`` for an input item block or audio in a tool result.
    """
    parts = parse_parts(content, where=where)
    for part in parts:
        if isinstance(part, ItemPart):
            raise MessageConversionError(
                f"{where}: a {part.type} block cannot stand inside a tool result; put it in a "
                "HumanMessage (or SystemMessage) of its own, where it is sent as an input item"
            )
    out = []
    for part in parts:
        if isinstance(part, OtherPart):
            _warn_dropped(part, f"{where} (a tool result)")
        else:
            out.append(_input_part(part, where))
    return out


def _input_part(part: Part, where: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text, **part.marks}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"type": "input_image", "detail": part.detail or "auto"}
        if part.file_id is not None:
            image["file_id"] = part.file_id
        if part.url is not None:
            image["image_url"] = part.url
        image.update(part.marks)
        return image
    if isinstance(part, FilePart):
        file: dict[str, Any] = {"type": "input_file"}
        data_url = part.data_url()
        if data_url is not None:
            file["file_data"] = data_url
            # OpenAI rejects inline file data without a filename.
            file["filename"] = part.filename or _default_filename(part.mime_type)
        elif part.filename:
            file["filename"] = part.filename
        if part.file_id is not None:
            file["file_id"] = part.file_id
        if part.url is not None:
            file["file_url"] = part.url
        file.update(part.marks)
        return file
    raise MessageConversionError(
        f"{where}: audio input needs Chat Completions; the Responses API takes no audio "
        "content. Drop the Responses-only options so the request routes to Chat Completions"
    )


def _default_filename(mime_type: str | None) -> str:
    subtype = (mime_type or "application/pdf").split("/", 1)[-1].split("+", 1)[0]
    return f"document.{subtype}"
