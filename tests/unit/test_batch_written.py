"""What ``write_lines`` reports and writes: counts, routing reason sets, ids, endpoints, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import BatchInputError
from langchain_paramchat.batch.lines import LineWriter, endpoints, write_lines


def model() -> ParamChat:
    return ParamChat(api_key="sk-unit", model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1")


def test_written_counts_every_input_and_names_each_reason_set(tmp_path: Path) -> None:
    chat = model()
    inputs = ["a", "b", "c"]
    written = write_lines(chat, inputs, {}, str(tmp_path))
    assert written.count == 3
    assert list(written.reasons) == ["chat_completions"]
    reasons = chat.preview_request("a").reasons
    assert written.reasons == {"chat_completions": [list(reasons)]}
    (file,) = written.files
    assert Path(file.path).parent == tmp_path
    assert file.endpoint == endpoints()["chat_completions"] == "/v1/chat/completions"
    lines = [json.loads(x) for x in Path(file.path).read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == ["0", "1", "2"]
    assert {x["url"] for x in lines} == {"/v1/chat/completions"}
    assert {x["method"] for x in lines} == {"POST"}


def test_stream_in_a_batch_names_the_first_input(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError) as info:
        write_lines(model(), ["a", "b"], {"stream": True}, str(tmp_path))
    assert info.value.index == 0
    assert str(info.value) == "input 0: stream= cannot be used in a batch (nothing was uploaded)"


def test_a_file_fills_up_to_exactly_its_byte_limit(tmp_path: Path) -> None:
    writer = LineWriter(str(tmp_path), max_lines=10, max_bytes=6)
    for _ in range(3):
        writer.add("responses", b"abc\n"[:3])  # 3 bytes: two fill 6 exactly
    writer.close()
    assert [f.lines for f in writer.files] == [2, 1]
    assert [f.endpoint for f in writer.files] == ["/v1/responses"] * 2
    assert all(Path(f.path).parent == tmp_path for f in writer.files)
