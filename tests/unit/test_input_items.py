"""Input item blocks and history items are the SDK's own input item types; marks travel."""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

import pytest
from openai.types.responses.response_input_item_param import ResponseInputItemParam
from typing_extensions import is_typeddict

from langchain_paramchat.apis.content import INPUT_ITEM_TYPES, ItemPart, TextPart, parse_parts
from langchain_paramchat.apis.history import RESPONSES_ONLY_ITEMS
from langchain_paramchat.options.typecheck import typeddict_fields


def _sdk_item_types() -> set[str]:
    out: set[str] = set()
    for option in get_args(ResponseInputItemParam):
        if is_typeddict(option):
            tag = typeddict_fields(option)[0].get("type")
            if get_origin(tag) is Literal:
                out.update(get_args(tag))
    return out


def test_every_item_type_named_here_is_an_sdk_input_item_type() -> None:
    # Fails when the SDK renames or drops an item type these lists still route or send.
    assert _sdk_item_types() >= INPUT_ITEM_TYPES
    assert _sdk_item_types() >= RESPONSES_ONLY_ITEMS


@pytest.mark.parametrize(
    ("block", "marks"),
    [
        (
            {"type": "text", "text": "t", "prompt_cache_breakpoint": {"mode": "explicit"}},
            {"mode": "explicit"},
        ),
        ({"type": "text", "text": "t", "extras": {"prompt_cache_breakpoint": None}}, None),
        (
            {
                "type": "text",
                "text": "t",
                "prompt_cache_breakpoint": {},
                "extras": {"prompt_cache_breakpoint": {"mode": "explicit"}},
            },
            {},
        ),
    ],
)
def test_a_breakpoint_travels_with_its_part_whatever_its_value(block: Any, marks: Any) -> None:
    assert parse_parts([block], where="m") == [
        TextPart("t", marks={"prompt_cache_breakpoint": marks})
    ]


def test_item_blocks_parse_to_item_parts_without_their_index() -> None:
    block = {"type": "mcp_approval_response", "approval_request_id": "r", "approve": True}
    wrapped = {"type": "non_standard", "value": {**block, "index": 3}}
    assert parse_parts([block, wrapped], where="m") == [ItemPart(block), ItemPart(block)]


def test_custom_tool_call_output_blocks_read_as_their_output() -> None:
    blocks = [{"type": "custom_tool_call_output", "output": "27"}]
    assert parse_parts(blocks, where="m") == [TextPart("27")]
