"""Message content in any accepted shape becomes one neutral form both adapters render."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_paramchat.apis.content import (
    AudioPart,
    FilePart,
    ImagePart,
    ItemPart,
    OtherPart,
    TextPart,
    parse_parts,
)
from langchain_paramchat.errors import MessageConversionError

PDF = "JVBERi0xLjQK"


@pytest.mark.parametrize(
    ("block", "part"),
    [
        ("plain", TextPart("plain")),
        ({"type": "text", "text": "t"}, TextPart("t")),
        ({"type": "input_text", "text": "t"}, TextPart("t")),
        ({"type": "image", "url": "https://x/a.png"}, ImagePart(url="https://x/a.png")),
        (
            {"type": "image", "base64": "AAA", "mime_type": "image/jpeg"},
            ImagePart(url="data:image/jpeg;base64,AAA"),
        ),
        ({"type": "image", "file_id": "file-1"}, ImagePart(file_id="file-1")),
        (
            {"type": "image_url", "image_url": {"url": "u", "detail": "low"}},
            ImagePart(url="u", detail="low"),
        ),
        ({"type": "input_image", "file_id": "file-2"}, ImagePart(file_id="file-2")),
        (
            {"type": "input_audio", "input_audio": {"data": "UklG", "format": "mp3"}},
            AudioPart("UklG", "mp3"),
        ),
        ({"type": "audio", "base64": "UklG", "mime_type": "audio/mpeg"}, AudioPart("UklG", "mp3")),
        (
            {"type": "file", "base64": PDF, "mime_type": "application/pdf", "filename": "a.pdf"},
            FilePart(data_b64=PDF, mime_type="application/pdf", filename="a.pdf"),
        ),
        (
            {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}},
            FilePart(data_b64=PDF, mime_type="application/pdf"),
        ),
        ({"type": "input_file", "file_url": "https://x/a.pdf"}, FilePart(url="https://x/a.pdf")),
    ],
)
def test_each_accepted_block_shape_parses_to_one_part(block: Any, part: Any) -> None:
    assert parse_parts([block], where="messages[0]") == [part]


def test_blocks_with_nothing_to_send_are_skipped() -> None:
    blocks = [{"type": "reasoning", "reasoning": "x"}, {"type": "text", "text": "kept"}]
    assert parse_parts(blocks, where="m") == [TextPart("kept")]
    assert parse_parts("", where="m") == []
    others = [{"type": "reasoning_content", "reasoning_content": "x"}, {"type": "tool_use"}]
    assert parse_parts(others, where="m") == []


def test_blocks_of_an_unknown_type_are_kept_as_given_unwrapped() -> None:
    foreign = {"type": "tool_removal", "tool": {"name": "f"}, "id": 7}
    wrapped = {"type": "non_standard", "value": foreign}
    assert parse_parts([foreign, wrapped], where="m") == [OtherPart(foreign)] * 2


def test_additional_tools_stand_only_in_a_system_turn() -> None:
    block = {"type": "additional_tools", "tools": []}
    assert parse_parts([block], where="m", system=True) == [ItemPart(block)]
    wrapped = {"type": "non_standard", "value": block}
    with pytest.raises(MessageConversionError, match=r"m\.content\[0\]: .* on a SystemMessage"):
        parse_parts([wrapped], where="m")


def test_file_data_url_defaults_to_pdf() -> None:
    assert FilePart(data_b64=PDF).data_url() == f"data:application/pdf;base64,{PDF}"
    assert FilePart(file_id="file-1").data_url() is None


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"type": "video", "url": "u"}, r"messages\[0\]\.content\[0\]: unsupported .* 'video'"),
        ({"type": "image"}, r"messages\[0\]\.content\[0\]: an image block needs url"),
        ({"type": "audio", "url": "u"}, "audio input must be base64 data"),
        ({"type": "input_audio"}, r"messages\[0\]\.content\[0\]: malformed input_audio"),
        (42, "expected a str or dict content block"),
        ({"type": "text", "text": 5}, "text must be a string"),
    ],
)
def test_bad_blocks_name_where_they_are(block: Any, message: str) -> None:
    with pytest.raises(MessageConversionError, match=message):
        parse_parts([block], where="messages[0]")
