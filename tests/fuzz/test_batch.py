"""Batch output and error lines, and saved job references (``BatchJob.from_json``).

Every line of an output or error file the server sends becomes its input's entry (an
``AIMessage`` or a ``BatchItemError``) or is reported; reading never raises a raw exception,
a malformed line never overwrites another input's answer, and no entry shows the key.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import BatchJob
from langchain_paramchat.batch.errors import BatchItemError
from langchain_paramchat.batch.job import BatchPart
from langchain_paramchat.batch.results import Outcome, ReplyReader, read_line
from tests.fuzz.fixtures import BODIES
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import JSON, KEY, TEXT, check_error, mutated, outcome

# Port 9 (discard) on loopback: nothing here connects.
MODEL = ParamChat(model="gpt-4o-mini", api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=0)


def output_line(index: int, api: str) -> dict[str, Any]:
    body = copy.deepcopy(BODIES[api])
    return {
        "id": f"batch_req_{index}",
        "custom_id": str(index),
        "response": {"status_code": 200, "request_id": f"req_{index}", "body": body},
        "error": None,
    }


def error_line(index: int, message: str) -> dict[str, Any]:
    return {
        "id": f"batch_req_{index}",
        "custom_id": str(index),
        "response": None,
        "error": {"code": "server_error", "message": message},
    }


def read(api: str, lines: list[str], count: int) -> list[Any]:
    entries: list[Any] = [None] * count
    # A reader per read, so the code that builds one runs inside each test too.
    reader, outcome = ReplyReader(MODEL, api, [["fuzz"]], None), Outcome()
    for number, line in enumerate(lines, start=1):
        read_line(line, f"line {number}", reader, None, entries, outcome)
    return entries


JUNK_LINE = st.one_of(
    TEXT,
    JSON.map(json.dumps),
    st.builds(
        lambda cid, rest: json.dumps({"custom_id": cid, **rest}),
        JSON,
        st.dictionaries(TEXT, JSON, max_size=2),
    ),
    st.sampled_from(["not json", "[]", "[1]", "{}", '{"custom_id": "0_2"}', '{"custom_id": "-1"}']),
)


@pytest.mark.parametrize("api", sorted(BODIES))
@fuzz_settings()
@given(order=st.permutations(range(4)), blank=st.booleans())
def test_well_formed_lines_give_every_input_its_answer(
    api: str, order: list[int], blank: bool
) -> None:
    lines = [json.dumps(output_line(i, api)) for i in order]
    if blank:
        lines.insert(1, "   ")
    entries = read(api, lines, 4)
    assert all(isinstance(e, AIMessage) for e in entries)


@pytest.mark.parametrize("api", sorted(BODIES))
@fuzz_settings()
@given(data=st.data())
@example(data=None)
def test_malformed_lines_never_raise_raw_errors_nor_replace_answers(
    api: str, data: st.DataObject | None
) -> None:
    good = [json.dumps(output_line(i, api)) for i in range(3)]
    junk = (
        ['{"custom_id": "0_2"}', "not json"]
        if data is None
        else data.draw(st.lists(JUNK_LINE, min_size=1, max_size=4))
    )
    entries = outcome(lambda: read(api, [*good, *junk], 3), key=None)
    assert isinstance(entries, list)
    assert all(isinstance(e, AIMessage) for e in entries)


@pytest.mark.parametrize("api", sorted(BODIES))
@fuzz_settings()
@given(
    line=st.one_of(
        mutated(output_line(0, "responses")), mutated(output_line(0, "chat_completions"))
    )
)
@example(line={**output_line(0, "responses"), "response": True})
def test_mutated_output_lines_are_entries_or_item_errors(api: str, line: Any) -> None:
    # Mutations that keep the custom_id and the line a JSON object: the line is that input's.
    if not isinstance(line, dict) or line.get("custom_id") != "0":
        return
    entries = outcome(lambda: read(api, [json.dumps(line)], 1), key=None)
    if isinstance(entries, list):
        assert isinstance(entries[0], AIMessage | BatchItemError)


@fuzz_settings()
@given(message=st.sampled_from([KEY, f"Incorrect API key provided: {KEY}", f"Bearer {KEY}."]))
def test_an_error_line_that_echoes_the_key_does_not_show_it(message: str) -> None:
    (entry,) = read("chat_completions", [json.dumps(error_line(0, message))], 1)
    assert isinstance(entry, BatchItemError)
    check_error(entry)


def saved_job() -> dict[str, Any]:
    part = BatchPart("chat_completions", "/v1/chat/completions", "file-1", "batch_1", 2)
    job = BatchJob(model=MODEL, parts=[part], count=2, reasons={"chat_completions": [["fuzz"]]})
    saved: dict[str, Any] = json.loads(job.to_json())
    return saved


SAVED = saved_job()


@fuzz_settings(scale=2)
@given(data=st.one_of(mutated(SAVED), JSON))
@example(data={**SAVED, "parts": [{}]})
@example(data={**SAVED, "count": "2"})
def test_any_saved_reference_resumes_or_raises_batch_error(data: Any) -> None:
    job = outcome(lambda: BatchJob.from_json(json.dumps(data), model=MODEL), key=None)
    if isinstance(job, BatchJob):
        assert isinstance(job.count, int) and job.count >= 0


@fuzz_settings()
@given(text=TEXT)
@example(text="0")
def test_text_that_is_not_a_reference_raises_batch_error(text: str) -> None:
    outcome(lambda: BatchJob.from_json(text, model=MODEL), key=None)
