"""Batch line writing and the polling schedule: pure, no sockets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import BatchInputError, BatchProgress, BatchTimeoutError
from langchain_paramchat.batch.job import _Poller
from langchain_paramchat.batch.lines import LineWriter, custom_id, parse_custom_id, write_lines


def _state(done: int = 0, retry_after: float | None = None) -> BatchProgress:
    return BatchProgress("in_progress", 10, done, 0, {}, retry_after=retry_after)


def test_writer_starts_a_new_file_at_the_line_or_byte_limit(tmp_path: Path) -> None:
    writer = LineWriter(str(tmp_path), max_lines=3, max_bytes=25)
    for _ in range(4):
        writer.add("responses", b"0123456789\n")  # two fit under 25 bytes
    for _ in range(4):
        writer.add("chat_completions", b"x\n")
    writer.close()
    sizes = [(f.api, f.lines) for f in writer.files]
    assert sizes == [
        ("responses", 2),
        ("responses", 2),
        ("chat_completions", 3),
        ("chat_completions", 1),
    ]
    assert all(Path(f.path).stat().st_size == f.size for f in writer.files)


def test_write_lines_uses_preview_payloads_and_names_bad_inputs(tmp_path: Path) -> None:
    model = ParamChat(api_key="sk-unit", model="gpt-4o-mini")
    written = write_lines(model, ["a", "b"], {"temperature": 0.5}, str(tmp_path))
    lines = [json.loads(x) for x in Path(written.files[0].path).read_text().splitlines()]
    assert [line["body"] for line in lines] == [
        model.preview_request(x, temperature=0.5).payload for x in "ab"
    ]
    with pytest.raises(BatchInputError, match=r"input 0: top_p=9") as info:
        write_lines(model, ["a", "b"], {"top_p": 9}, str(tmp_path))
    assert info.value.option == "top_p"
    with pytest.raises(BatchInputError, match=r"input 2: ") as info:
        write_lines(model, ["a", "b", 42], {}, str(tmp_path))
    assert info.value.index == 2
    with pytest.raises(BatchInputError, match="stream"):
        write_lines(model, ["a"], {"stream": True}, str(tmp_path))


def test_custom_id_round_trips() -> None:
    assert custom_id(7, 0) == "7" and parse_custom_id("7") == (7, 0)
    assert parse_custom_id(custom_id(12, 2)) == (12, 2)


@pytest.mark.parametrize("value", ["0_2", "01", "1~0", " 1", "-1", "1~", "~1", "1~2~3", "", "1e3"])
def test_a_custom_id_this_package_never_writes_names_no_input(value: str) -> None:
    # int("0_2") is 2: a lenient parse would give input 2 another input's answer.
    assert parse_custom_id(value) is None


def test_poller_backs_off_while_nothing_changes_and_resets_on_progress() -> None:
    poller = _Poller(1.0, None, False)
    delays = [poller.next_delay(_state(0)) for _ in range(4)]
    assert delays == [1.0, 1.5, 2.25, 3.375]
    assert poller.next_delay(_state(3)) == 1.0


def test_poller_never_polls_before_retry_after_and_stops_at_the_deadline() -> None:
    poller = _Poller(1.0, None, False)
    assert poller.next_delay(_state(0, retry_after=30)) == 30
    short = _Poller(1.0, 1000.0, False)
    assert short.next_delay(_state(0)) == 1.0
    short.deadline = time.monotonic() - 1
    with pytest.raises(BatchTimeoutError, match=r"timeout=1000\.0"):
        short.next_delay(_state(0))
    with pytest.raises(ValueError, match="poll_interval"):
        _Poller(0, None, False)


def test_poller_reports_and_stops_when_done() -> None:
    seen: list[BatchProgress] = []
    poller = _Poller(1.0, None, seen.append)
    finished = BatchProgress("completed", 1, 1, 0, {})
    assert poller.next_delay(finished) is None
    assert seen == [finished]
