"""Read user content blocks in any accepted shape into one neutral form both adapters render.

Accepted: plain strings, LangChain standard blocks (``text``, ``image``, ``file``, ``audio``
with ``url`` / ``base64`` + ``mime_type`` / ``file_id``; and the v0 ``source_type`` form),
and OpenAI-native blocks of either API (``image_url``, ``input_audio``, ``file``,
``input_text``, ``input_image``, ``input_file``).

A ``prompt_cache_breakpoint`` on a block (or in its ``extras``) travels with the part in
``marks`` and reaches the wire on either API, whatever its value. Blocks that are Responses
input items of their own (``INPUT_ITEM_TYPES``: ``mcp_approval_response``, ``shell_call_output``,
...) become an ``ItemPart``; the Responses adapter sends each as a top-level input item
before the message that carried it, and Chat Completions cannot carry them (routing reads
that). An ``additional_tools`` block may only stand in a system turn. A
``custom_tool_call_output`` block (langchain-openai's ``custom_tool`` result) reads as its
``output``.

Any other block type (another provider's, a newer OpenAI one) becomes an ``OtherPart``, as
ChatOpenAI treats it: Chat Completions forwards it as given; the Responses API has no place
for it, so it is left out there (with a ``UserWarning`` outside user turns). LangChain's
``video`` and ``text-plain`` blocks, which neither API takes, are an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_paramchat.errors import MessageConversionError

__all__ = [
    "INPUT_ITEM_TYPES",
    "MARK_KEYS",
    "AudioPart",
    "FilePart",
    "ImagePart",
    "ItemPart",
    "OtherPart",
    "Part",
    "TextPart",
    "custom_output_text",
    "parse_parts",
    "unwrap",
]

# Content blocks that are Responses input items of their own, sent at the top level.
INPUT_ITEM_TYPES = frozenset(
    {
        "additional_tools",
        "configuration_update",
        "mcp_approval_response",
        "tool_search_output",
        "apply_patch_call_output",
        "shell_call_output",
        # compact()'s output item, should a caller put it in a user or system turn.
        "compaction",
    }
)
# OpenAI takes this input item only as developer input: only a system turn may carry it.
_SYSTEM_ONLY_ITEM = "additional_tools"
# Blocks no OpenAI API takes as input: other providers' reasoning, derived tool calls.
_DROPPED = frozenset(
    {
        "reasoning",
        "reasoning_content",
        "thinking",
        "refusal",
        "tool_call",
        "tool_call_chunk",
        "tool_use",
    }
)
# LangChain standard blocks neither API can carry: an error rather than a silent loss.
_UNSENDABLE = frozenset({"video", "text-plain"})
_KNOWN = frozenset(
    {
        *_DROPPED,
        *_UNSENDABLE,
        "text",
        "input_text",
        "output_text",
        "image_url",
        "input_image",
        "input_audio",
        "input_file",
        "image",
        "file",
        "audio",
    }
)
# Keys copied from a block (or its ``extras``) onto the rendered part, falsy values included.
MARK_KEYS = ("prompt_cache_breakpoint",)


@dataclass(frozen=True, slots=True)
class TextPart:
    """Plain text."""

    text: str
    marks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image by URL (http or data:), or by uploaded file id."""

    url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    marks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FilePart:
    """A document (e.g. PDF) as base64 data, an uploaded file id, or a URL."""

    data_b64: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    file_id: str | None = None
    url: str | None = None
    marks: dict[str, Any] = field(default_factory=dict)

    def data_url(self) -> str | None:
        """Return the file as a ``data:`` URL, when it carries data."""
        if self.data_b64 is None:
            return None
        return f"data:{self.mime_type or 'application/pdf'};base64,{self.data_b64}"


@dataclass(frozen=True, slots=True)
class AudioPart:
    """Audio input as base64 data with its format (``wav``, ``mp3``)."""

    data_b64: str
    format: str
    marks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemPart:
    """A block that is a Responses input item of its own (``INPUT_ITEM_TYPES``), as given."""

    item: dict[str, Any]

    @property
    def type(self) -> str:
        """Return the item's ``type``."""
        return str(self.item["type"])


@dataclass(frozen=True, slots=True)
class OtherPart:
    """A block of a type this package does not know (e.g. another provider's), as given."""

    block: dict[str, Any]

    @property
    def type(self) -> str:
        """Return the block's ``type``."""
        return str(self.block["type"])


Part = TextPart | ImagePart | FilePart | AudioPart | ItemPart | OtherPart


def unwrap(block: Any) -> Any:
    """Return the OpenAI item inside langchain-core's ``non_standard`` wrapper, else ``block``."""
    if isinstance(block, dict) and block.get("type") == "non_standard":
        value = block.get("value")
        if isinstance(value, dict):
            return value
    return block


def parse_parts(content: str | Iterable[Any], *, where: str, system: bool = False) -> list[Part]:
    """Return the neutral parts of a message's content; ``where`` names it in errors.

    ``system`` says the content is a system (or developer) turn's, the only place an
    ``additional_tools`` block may stand.

    Raises ``MessageConversionError`` naming the block for a malformed content block, one
    neither API can carry, or an ``additional_tools`` block outside a system turn.
    """
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Part] = []
    for i, raw in enumerate(content):
        place = f"{where}.content[{i}]"
        block = unwrap(raw)
        try:
            if isinstance(block, dict) and block.get("type") == "custom_tool_call_output":
                parts.extend(_custom_output(block, place))
                continue
            part = _parse_block(block, place)
        except (KeyError, AttributeError, TypeError) as exc:
            raise MessageConversionError(
                f"{place}: malformed {block.get('type') if isinstance(block, dict) else ''} "
                f"content block ({type(exc).__name__}: {exc}); see the block shapes in "
                "langchain_paramchat.apis.content"
            ) from exc
        if isinstance(part, TextPart) and not isinstance(part.text, str):
            raise MessageConversionError(f"{place}: text must be a string, got {part.text!r}")
        if isinstance(part, ItemPart) and part.type == _SYSTEM_ONLY_ITEM and not system:
            raise MessageConversionError(
                f"{place}: an additional_tools block must be carried on a SystemMessage; "
                "OpenAI takes it only as developer input, so no other message can send it"
            )
        if part is not None:
            marks = _marks(block)
            if marks and not isinstance(part, ItemPart | OtherPart):
                part = replace(part, marks=marks)
            parts.append(part)
    return parts


# Block fields that hold text; a number, list or dict there would be sent (or formatted into
# a data: URL) as garbage, or break building the request later.
_TEXT_FIELDS = (
    "mime_type",
    "base64",
    "data",
    "url",
    "file_id",
    "id",
    "filename",
    "detail",
    "source_type",
    "format",
    "file_data",
    "file_url",
)


def _check_text_fields(block: dict[str, Any], where: str) -> None:
    for key in _TEXT_FIELDS:
        value = block.get(key)
        if value is not None and not isinstance(value, str):
            raise MessageConversionError(
                f"{where}: {block.get('type') or 'content'} block field {key!r} must be a "
                f"string, got {type(value).__name__}"
            )
    for nested in ("image_url", "input_audio", "file"):
        if isinstance(block.get(nested), dict):
            _check_text_fields(block[nested], f"{where}.{nested}")


def _marks(block: Any) -> dict[str, Any]:
    if not isinstance(block, dict) or block.get("type") in INPUT_ITEM_TYPES:
        return {}
    extras = block.get("extras")
    found = {k: extras[k] for k in MARK_KEYS if isinstance(extras, dict) and k in extras}
    # A key on the block itself wins over the same key in its extras.
    found.update((k, block[k]) for k in MARK_KEYS if k in block)
    return found


def custom_output_text(blocks: list[Any]) -> str | None:
    """Return the output string of a lone ``custom_tool_call_output`` block, else None."""
    if len(blocks) != 1 or not isinstance(blocks[0], dict):
        return None
    output = blocks[0].get("output")
    if blocks[0].get("type") == "custom_tool_call_output" and isinstance(output, str):
        return output
    return None


def _custom_output(block: dict[str, Any], where: str) -> list[Part]:
    output = block.get("output")
    if output is None:
        return []
    if isinstance(output, str | list):
        return parse_parts(output, where=where)
    raise MessageConversionError(
        f"{where}: custom_tool_call_output needs an output string or a list of content blocks, "
        f"got {type(output).__name__}"
    )


def _audio_format(mime: str | None) -> str:
    sub = (mime or "audio/wav").split("/", 1)[-1].lower()
    return {"mpeg": "mp3", "x-wav": "wav", "wave": "wav"}.get(sub, sub)


def _parse_block(block: Any, where: str) -> Part | None:
    if isinstance(block, str):
        return TextPart(block)
    if not isinstance(block, dict):
        raise MessageConversionError(
            f"{where}: expected a str or dict content block, got {block!r}"
        )
    kind = block.get("type")
    if kind in INPUT_ITEM_TYPES:
        # An input item of its own: sent as given, checked against the SDK's types by OpenAI.
        return ItemPart({k: v for k, v in block.items() if k != "index"})
    if isinstance(kind, str) and kind and kind not in _KNOWN:
        return OtherPart(block)
    _check_text_fields(block, where)
    if kind in ("text", "input_text", "output_text"):
        return TextPart(block.get("text", ""))
    if kind in _DROPPED:
        return None
    if kind == "image_url":
        spec = block["image_url"]
        if isinstance(spec, str):
            return ImagePart(url=spec)
        if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
            raise MessageConversionError(f"{where}: image_url needs a url string")
        return ImagePart(url=spec["url"], detail=spec.get("detail"))
    if kind == "input_image":
        return ImagePart(
            url=block.get("image_url"), file_id=block.get("file_id"), detail=block.get("detail")
        )
    if kind == "input_audio":
        spec = block["input_audio"]
        return AudioPart(spec["data"], spec.get("format", "wav"))
    if kind == "input_file":
        return _file_from_openai(block, where)
    if kind == "file" and isinstance(block.get("file"), dict):
        return _file_from_openai(block["file"], where)
    if kind in ("image", "file", "audio"):
        return _from_standard(kind, block, where)
    raise MessageConversionError(
        f"{where}: unsupported content block type {kind!r}; use text, image, file or audio "
        "blocks (LangChain standard) or OpenAI's image_url / input_audio / file blocks"
    )


def _file_from_openai(spec: dict[str, Any], where: str) -> FilePart:
    data = spec.get("file_data")
    mime = None
    if isinstance(data, str) and data.startswith("data:"):
        header, _, data = data.partition(",")
        mime = header[5:].split(";")[0] or None
    return FilePart(
        data_b64=data,
        mime_type=mime,
        filename=spec.get("filename"),
        file_id=spec.get("file_id"),
        url=spec.get("file_url"),
    )


def _from_standard(kind: str, block: dict[str, Any], where: str) -> Part:
    source = block.get("source_type")
    url = block.get("url")
    data = block.get("base64") or block.get("data")
    file_id = block.get("file_id") or block.get("id") if source == "id" else block.get("file_id")
    if source == "url":
        url, data = block.get("url"), None
    mime = block.get("mime_type")
    if kind == "image":
        if data is not None:
            url = f"data:{mime or 'image/png'};base64,{data}"
        if url is None and file_id is None:
            raise MessageConversionError(f"{where}: an image block needs url, base64 or file_id")
        extras = block.get("extras") or {}
        return ImagePart(
            url=url, file_id=file_id, detail=block.get("detail") or extras.get("detail")
        )
    if kind == "audio":
        if data is None:
            raise MessageConversionError(
                f"{where}: audio input must be base64 data (url and file_id are not accepted by "
                "OpenAI for audio input)"
            )
        return AudioPart(data, _audio_format(mime))
    filename = block.get("filename") or (block.get("extras") or {}).get("filename")
    if data is None and file_id is None and url is None:
        raise MessageConversionError(f"{where}: a file block needs base64, file_id or url")
    return FilePart(data_b64=data, mime_type=mime, filename=filename, file_id=file_id, url=url)
