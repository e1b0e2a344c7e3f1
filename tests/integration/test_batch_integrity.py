"""Every submitted input yields exactly one entry, whatever the server or a saved file holds.

Regression tests for issue 20's "Lost batch results": missing output lines, malformed or
ambiguous lines, duplicates, tampered job references, inconsistent batch objects,
``cancel()`` across batches, ``retry_failed()`` after a cancel or a failed validation, and
metadata checked before the upload.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import BatchError, BatchItemError, BatchJob
from langchain_paramchat.errors import OptionError, ResponseFormatError
from langchain_paramchat.testing import FakeOpenAI

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
FAST = 0.001


def _submit(model: Any, inputs: list[Any], use_async: bool, **kwargs: Any) -> BatchJob:
    if use_async:
        return asyncio.run(model.asubmit_batch(inputs, **kwargs))
    job: BatchJob = model.submit_batch(inputs, **kwargs)
    return job


def _wait(job: BatchJob, use_async: bool) -> list[Any]:
    if use_async:
        return asyncio.run(job.await_results(poll_interval=FAST))
    return job.wait(poll_interval=FAST)


def _retry(job: BatchJob, use_async: bool) -> BatchJob:
    return asyncio.run(job.aretry_failed()) if use_async else job.retry_failed()


def _finish_and_edit(
    server: FakeOpenAI, job: BatchJob, edit: Callable[[list[bytes]], list[bytes]]
) -> None:
    """Run the job's only batch to the end, then rewrite its output file's lines."""
    server.batches.advance(to="completed")
    (part,) = job.parts
    output = server.batches.batches[part.batch_id]["output_file_id"]
    lines = server.batches.file_content(output).splitlines()
    server.batches.replace_file(output, b"\n".join(edit(lines)) + b"\n")


def _codes(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, BatchItemError) else r.text for r in results]


# --- missing and malformed output lines -----------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_an_input_without_an_output_line_is_missing_and_retried(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    job = _submit(make_model(api=api), ["a", "b", "c"], use_async)
    _finish_and_edit(fake_openai, job, lambda lines: [lines[0], lines[2]])
    results = _wait(job, use_async)
    assert _codes(results) == ["Echo: a", "batch_missing", "Echo: c"]
    assert results[1].index == 1 and not results[1].pending
    retry = _retry(job, use_async)
    assert retry.indices == [1]
    fake_openai.batches.auto_advance = True
    assert _codes(_wait(retry, use_async)) == ["Echo: b"]


BAD_LINES = {
    "not json": b"{this is not json",
    "a list": b'["custom_id", "1"]',
    "no custom_id": b'{"response": {"status_code": 200, "body": {}}}',
    "ambiguous 0_2": None,  # input 0's line relabelled "0_2": int("0_2") == 2
    "leading zero": None,  # "01"
    "no such input": None,  # "99"
    "one past the last input": None,  # "3" in a job of three
    "a route this job never wrote": None,  # "0~1": reason set 1 of an API with one
    "a number": None,  # 1 instead of "1"
}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_malformed_line_is_reported_and_never_applied_to_another_input(
    fake_openai: FakeOpenAI, make_model: Factory, case: str, use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    job = _submit(make_model(), ["a", "b", "c"], use_async)

    def edit(lines: list[bytes]) -> list[bytes]:
        first = json.loads(lines[0])
        relabelled = {
            "ambiguous 0_2": "0_2",
            "leading zero": "01",
            "no such input": "99",
            "one past the last input": "3",
            "a route this job never wrote": "0~1",
        }
        if case in relabelled:
            first["custom_id"] = relabelled[case]
            return [json.dumps(first).encode(), lines[1], lines[2]]
        if case == "a number":
            first["custom_id"] = 1
            return [json.dumps(first).encode(), lines[1], lines[2]]
        bad = BAD_LINES[case]
        assert bad is not None
        return [bad, lines[1], lines[2]]

    if case == "ambiguous 0_2":
        # Input 2's own line is gone, so a lenient parse would give it input 0's answer.
        _finish_and_edit(fake_openai, job, lambda lines: edit(lines)[:2])
    else:
        _finish_and_edit(fake_openai, job, edit)
    results = _wait(job, use_async)
    assert len(results) == 3
    expected_c = "batch_missing" if case == "ambiguous 0_2" else "Echo: c"
    assert _codes(results) == ["batch_missing", "Echo: b", expected_c]
    assert len(job.problems) == 1 and "line 1" in job.problems[0]


def test_two_lines_for_one_input_are_flagged_not_chosen(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    _finish_and_edit(fake_openai, job, lambda lines: [lines[0], lines[1], lines[0]])
    results = job.wait(poll_interval=FAST)
    assert _codes(results) == ["batch_duplicate", "Echo: b"]
    assert (results[0].index, results[0].custom_id) == (0, "0")
    assert "two output lines answer this input" in str(results[0])
    assert results[0].message == (
        "two output lines answer this input; which one counts cannot be known"
    )
    assert "second time" in job.problems[0]
    assert job.retry_failed().indices == [0]


def test_a_retry_reports_a_line_for_an_input_it_did_not_resend(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b", "c"])
    first_lines: list[bytes] = []

    def drop_b(lines: list[bytes]) -> list[bytes]:
        first_lines.extend(lines)
        return [lines[0], lines[2]]

    _finish_and_edit(fake_openai, job, drop_b)
    assert _codes(job.wait(poll_interval=FAST)) == ["Echo: a", "batch_missing", "Echo: c"]
    retry = job.retry_failed()
    assert retry.indices == [1]
    # The retry's output also carries input 0's old line: it belongs to no input of the retry.
    _finish_and_edit(fake_openai, retry, lambda lines: [first_lines[0], *lines])
    assert _codes(retry.wait(poll_interval=FAST)) == ["Echo: b"]
    assert len(retry.problems) == 1 and "which is no input of this job" in retry.problems[0]


@pytest.mark.parametrize(
    "line",
    [
        {"custom_id": "0", "response": [1, 2], "error": None},
        {"custom_id": "0", "response": {"status_code": "200", "body": {}}, "error": None},
        {"custom_id": "0", "response": None, "error": "boom"},
        {"custom_id": "0", "response": {"status_code": 200, "body": {"choices": "x"}}},
    ],
    ids=["response-list", "status-string", "error-string", "body-bad"],
)
def test_a_line_with_odd_fields_becomes_that_inputs_error(
    fake_openai: FakeOpenAI, make_model: Factory, line: dict[str, Any]
) -> None:
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    _finish_and_edit(fake_openai, job, lambda lines: [json.dumps(line).encode(), lines[1]])
    results = job.wait(poll_interval=FAST)
    assert isinstance(results[0], BatchItemError) and results[0].index == 0
    assert isinstance(results[1], AIMessage)


@pytest.mark.parametrize(("given", "kept"), [("server_error", "server_error"), (5, None)])
def test_an_item_errors_code_type_and_request_id_are_text_or_none(
    fake_openai: FakeOpenAI, make_model: Factory, given: Any, kept: str | None
) -> None:
    line = {
        "custom_id": "0",
        "response": {
            "status_code": 500,
            "request_id": given,
            "body": {"error": {"message": "boom", "code": given, "type": given}},
        },
        "error": None,
    }
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    _finish_and_edit(fake_openai, job, lambda lines: [json.dumps(line).encode(), lines[1]])
    error = job.wait(poll_interval=FAST)[0]
    assert isinstance(error, BatchItemError)
    assert (error.code, error.error_type, error.request_id) == (kept, kept, kept)
    assert (error.status_code, error.index, error.custom_id) == (500, 0, "0")


def test_bad_lines_are_reported_by_number_and_never_show_the_key(
    fake_openai: FakeOpenAI, make_model: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk-test-key-123"  # make_model's
    fake_openai.batches.auto_advance = False
    job = make_model(api_key=key).submit_batch(["a", "b"])
    bad = [
        f"not json {key}".encode(),
        json.dumps({"custom_id": f"id-{key}"}).encode(),
        b"[1, 2]",
    ]
    _finish_and_edit(fake_openai, job, lambda lines: [*bad, *lines])
    with caplog.at_level("WARNING", logger="langchain_paramchat"):
        assert _codes(job.wait(poll_interval=FAST)) == ["Echo: a", "Echo: b"]
    first, second, third = job.problems
    assert " line 1 is not JSON: 'not json " in first
    assert " line 2 has no custom_id this job wrote: 'id-" in second
    assert third.endswith(" line 3 is JSON but not an object (list)")
    assert not any(key in problem for problem in job.problems)
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [f"batch job output: {p}" for p in job.problems]
    assert key not in caplog.text


# --- cancel and retry -----------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_cancel_goes_on_past_a_batch_that_already_finished(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    monkeypatch: pytest.MonkeyPatch,
    use_async: bool,
) -> None:
    from langchain_paramchat.batch import lines

    monkeypatch.setattr(lines, "MAX_LINES", 1)
    fake_openai.batches.auto_advance = False
    job = _submit(make_model(), ["a", "b", "c"], use_async)
    first, *rest = job.parts
    fake_openai.batches.advance(first.batch_id, to="completed")  # the job has not seen it
    state = asyncio.run(job.acancel()) if use_async else job.cancel()
    server = fake_openai.batches.batches
    assert server[first.batch_id]["status"] == "completed"
    assert [server[p.batch_id]["status"] for p in rest] == ["cancelling", "cancelling"]
    assert first.status == "completed" and state.by_endpoint
    fake_openai.batches.advance()
    assert _codes(_wait(job, use_async)) == ["Echo: a", "batch_cancelled", "batch_cancelled"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_retry_failed_after_a_cancelled_batch_resends_what_never_ran(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    fake_openai.batches.lines_per_step = 1
    job = _submit(make_model(), ["a", "b", "c"], use_async)
    fake_openai.batches.advance(to="in_progress")
    fake_openai.batches.advance()  # "a" answered
    asyncio.run(job.acancel()) if use_async else job.cancel()
    fake_openai.batches.advance()
    assert _codes(_wait(job, use_async)) == ["Echo: a", "batch_cancelled", "batch_cancelled"]
    fake_openai.batches.auto_advance = True
    fake_openai.batches.lines_per_step = None
    retry = _retry(job, use_async)
    assert retry.indices == [1, 2]
    assert _codes(_wait(retry, use_async)) == ["Echo: b", "Echo: c"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_retry_failed_after_a_failed_validation_resends_every_input(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.batches.fail_validation("The input file failed validation.")
    job = _submit(make_model(), ["a", "b"], use_async)
    assert _codes(_wait(job, use_async)) == ["batch_failed", "batch_failed"]
    retry = _retry(job, use_async)
    assert retry.indices == [0, 1]
    assert _codes(_wait(retry, use_async)) == ["Echo: a", "Echo: b"]


# --- metadata -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [{"k": 1}, {f"k{i}": "v" for i in range(17)}, {"k" * 65: "v"}, {"k": "v" * 513}, ["k"]],
    ids=["not-str", "too-many", "long-key", "long-value", "not-dict"],
)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_bad_metadata_fails_before_anything_is_uploaded(
    fake_openai: FakeOpenAI, make_model: Factory, metadata: Any, use_async: bool
) -> None:
    with pytest.raises(OptionError, match="metadata"):
        _submit(make_model(), ["a"], use_async, metadata=metadata)
    assert fake_openai.requests == []


# --- inconsistent batch objects -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "exploded"},
        {"id": "batch_other"},
        {"request_counts": {"completed": -1, "failed": 0}},
        {"request_counts": {"completed": "2", "failed": 0}},
        {"output_file_id": "../../v1/files"},
        {"errors": {"data": "oops"}},
    ],
    ids=["status", "id", "negative-count", "string-count", "file-id-path", "errors"],
)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_an_inconsistent_batch_object_is_a_response_format_error(
    fake_openai: FakeOpenAI, make_model: Factory, fields: dict[str, Any], use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    job = _submit(make_model(), ["a"], use_async)
    fake_openai.batches.tamper(job.parts[0].batch_id, **fields)
    with pytest.raises(ResponseFormatError, match="not consistent"):
        asyncio.run(job.arefresh()) if use_async else job.refresh()
    assert job.parts[0].status == "validating"  # the part kept its last good state


# --- tampered job references ----------------------------------------------------------------------


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _tampered(text: str, case: str) -> Any:
    data = json.loads(text)
    part = data["parts"][0]
    if case == "not-json":
        return "{" + text
    if case == "deep":
        return text[:-1] + ', "x": ' + _deep(100_000) + "}"
    if case == "count-huge":
        data["count"] = 10**15
    elif case == "lines-huge":  # consistent, but a list of 10**9 results would not fit
        part["lines"] = data["count"] = 10**9
    elif case == "count-wrong":
        data["count"] = 1
    elif case == "count-bool":
        data["count"] = True
    elif case == "no-parts":
        del data["parts"]
    elif case == "parts-not-list":
        data["parts"] = {"a": 1}
    elif case == "batch-id-path":
        part["batch_id"] = "../files/file-abc/content"
    elif case == "file-id-long":
        part["input_file_id"] = "f" * 10_000
    elif case == "status":
        part["status"] = "exploded"
    elif case == "lines-negative":
        part["lines"] = -1
    elif case == "endpoint":
        part["endpoint"] = "/v1/embeddings"
    elif case == "part-extra-key":
        part["evil"] = 1
    elif case == "indices":
        data["indices"] = [0, 0]
    elif case == "reasons":
        data["reasons"] = {"chat_completions": "x"}
    elif case == "model":
        data["model"] = {"model": 5}
    elif case == "format":
        data["format"] = 2
    elif case == "list":
        return json.dumps([data])
    return json.dumps(data)


CASES = [
    "not-json",
    "deep",
    "count-huge",
    "lines-huge",
    "count-wrong",
    "count-bool",
    "no-parts",
    "parts-not-list",
    "batch-id-path",
    "file-id-long",
    "status",
    "lines-negative",
    "endpoint",
    "part-extra-key",
    "indices",
    "reasons",
    "model",
    "format",
    "list",
]


@pytest.mark.parametrize("case", CASES)
def test_a_tampered_job_reference_raises_batch_error_naming_the_field(
    fake_openai: FakeOpenAI, make_model: Factory, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123")
    job = make_model().submit_batch(["a", "b"])
    sent = len(fake_openai.requests)
    with pytest.raises(BatchError, match=r"not a BatchJob\.to_json") as caught:
        BatchJob.from_json(_tampered(job.to_json(), case))
    assert len(str(caught.value)) < 400
    assert len(fake_openai.requests) == sent  # nothing was asked of the server


def test_an_untampered_reference_still_resumes(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123")
    text = make_model().submit_batch(["a", "b"]).to_json()
    results = BatchJob.from_json(text).wait(poll_interval=FAST)
    assert _codes(results) == ["Echo: a", "Echo: b"]
    retry_text = json.dumps({**json.loads(text), "indices": [4, 7]})
    assert BatchJob.from_json(retry_text).indices == [4, 7]


def test_the_problems_list_keeps_the_first_hundred_bad_lines(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    junk = [b"{not json %d" % i for i in range(150)]
    _finish_and_edit(fake_openai, job, lambda lines: [*junk, *lines])
    assert _codes(job.wait(poll_interval=FAST)) == ["Echo: a", "Echo: b"]
    assert len(job.problems) == 100  # a broken file is not held in memory
    assert " line 1 is not JSON" in job.problems[0]
    assert " line 100 is not JSON" in job.problems[-1]


@pytest.mark.parametrize(
    ("error", "message", "code", "body"),
    [
        (
            {"code": "bad_line", "message": "it broke: sk-test-key-123"},
            "it broke: [redacted]",
            "bad_line",
            {"code": "bad_line", "message": "it broke: [redacted]"},
        ),
        ({"code": 7}, "the request failed", None, {"code": 7}),
        ("boom", "boom", None, {"message": "boom"}),
    ],
    ids=["object", "no-message", "text"],
)
def test_an_error_file_line_becomes_that_inputs_error_with_its_fields(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    error: Any,
    message: str,
    code: str | None,
    body: dict[str, Any],
) -> None:
    line = {"custom_id": "0", "response": {"status_code": 400, "request_id": "req_9"}}
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    edited = json.dumps({**line, "error": error}).encode()
    _finish_and_edit(fake_openai, job, lambda lines: [edited, lines[1]])
    first, second = job.wait(poll_interval=FAST)
    assert isinstance(first, BatchItemError) and isinstance(second, AIMessage)
    assert (first.message, first.code, first.body) == (message, code, body)
    assert (first.index, first.custom_id, first.status_code) == (0, "0", 400)
    assert first.request_id == "req_9"


@pytest.mark.parametrize("status", ["200", True, 200.5], ids=["text", "bool", "float"])
def test_a_status_code_that_is_not_an_integer_is_reported_as_none(
    fake_openai: FakeOpenAI, make_model: Factory, status: Any
) -> None:
    line = {"custom_id": "0", "response": {"status_code": status, "body": {}}, "error": None}
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    _finish_and_edit(fake_openai, job, lambda lines: [json.dumps(line).encode(), lines[1]])
    error = job.wait(poll_interval=FAST)[0]
    assert isinstance(error, BatchItemError)
    assert error.status_code is None  # callers compare it with numbers (>= 500)
    assert error.message == "the request answered HTTP None"


def _failed_line(kind: str, message: str) -> dict[str, Any]:
    """Return an output line for input 0: an error-file line, or an HTTP error's line."""
    if kind == "error-file":
        return {"custom_id": "0", "response": None, "error": {"code": "bad", "message": message}}
    body = {"error": {"message": message, "code": "bad", "type": "invalid_request_error"}}
    return {"custom_id": "0", "response": {"status_code": 400, "body": body}, "error": None}


@pytest.mark.parametrize("kind", ["error-file", "http-error"])
@pytest.mark.parametrize(("size", "kept"), [(1_000, 1_000), (3_000, 2_000)])
def test_an_item_error_message_is_cut_like_every_error_message(
    fake_openai: FakeOpenAI, make_model: Factory, kind: str, size: int, kept: int
) -> None:
    text = "x" * size
    fake_openai.batches.auto_advance = False
    job = make_model().submit_batch(["a", "b"])
    edited = json.dumps(_failed_line(kind, text)).encode()
    _finish_and_edit(fake_openai, job, lambda lines: [edited, lines[1]])
    error = job.wait(poll_interval=FAST)[0]
    assert isinstance(error, BatchItemError)
    assert len(error.message) == kept
    assert error.message == text if size == kept else error.message.endswith("...")


@pytest.mark.parametrize("kind", ["error-file", "http-error"])
def test_an_item_errors_message_and_body_never_show_the_key(
    fake_openai: FakeOpenAI, make_model: Factory, kind: str
) -> None:
    key = "sk-test-key-123"  # make_model's
    fake_openai.batches.auto_advance = False
    job = make_model(api_key=key).submit_batch(["a", "b"])
    edited = json.dumps(_failed_line(kind, f"bad key {key}")).encode()
    _finish_and_edit(fake_openai, job, lambda lines: [edited, lines[1]])
    error = job.wait(poll_interval=FAST)[0]
    assert isinstance(error, BatchItemError)
    assert error.message == "bad key [redacted]"
    expected = {"code": "bad", "message": "bad key [redacted]"}
    if kind == "http-error":
        expected = {"error": {**expected, "type": "invalid_request_error"}}
    assert error.body == expected


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_input_file_lines_that_name_no_input_are_neither_reported_nor_resent(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    # A failed batch's inputs are read back from its input file, as the server returns it:
    # a line this package never wrote names no input and is skipped, never a raw error.
    fake_openai.batches.fail_validation("The input file failed validation.")
    job = _submit(make_model(), ["a", "b"], use_async)
    input_file = job.parts[0].input_file_id
    first, second = fake_openai.batches.file_content(input_file).splitlines()
    junk = [b"[1, 2]", b'{"custom_id": 5}', b'{"custom_id": "x"}', b"not json"]
    fake_openai.batches.replace_file(input_file, b"\n".join([first, *junk, second]) + b"\n")
    assert _codes(_wait(job, use_async)) == ["batch_failed", "batch_failed"]
    retry = _retry(job, use_async)
    assert retry.indices == [0, 1]
    assert _codes(_wait(retry, use_async)) == ["Echo: a", "Echo: b"]


LONG = ", and on" * 100  # longer than a log snippet, shorter than an error message's limit


def _break_reply(api: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a reply body invoke would raise for: a failed response, or choices not a list."""
    if api == "responses":
        error = {"code": "server_error", "message": f"the model broke; key {key}{LONG}"}
        return {**body, "status": "failed", "error": error}
    return {**body, "choices": "x"}


@pytest.mark.parametrize("api", APIS)
def test_a_reply_invoke_would_raise_for_becomes_that_inputs_error_with_its_fields(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    key = "sk-test-key-123"  # make_model's
    fake_openai.batches.auto_advance = False
    model = make_model(api=api)
    job = model.submit_batch(["a", "b"])

    def edit(lines: list[bytes]) -> list[bytes]:
        first = json.loads(lines[0])
        first["response"]["body"] = _break_reply(api, first["response"]["body"], key)
        first["response"]["request_id"] = "req_7"
        return [json.dumps(first).encode(), lines[1]]

    _finish_and_edit(fake_openai, job, edit)
    error, answer = job.wait(poll_interval=FAST)
    assert isinstance(error, BatchItemError) and isinstance(answer, AIMessage)
    assert (error.index, error.custom_id, error.status_code) == (0, "0", 200)
    assert error.request_id == "req_7"
    if api == "responses":  # the reply's own error: its code, and its message scrubbed
        text = f"the model broke; key [redacted]{LONG}"
        assert (error.code, error.message) == ("server_error", f"server_error: {text}")
        assert error.body["error"] == {"code": "server_error", "message": text}
    else:  # what invoke raises: its class names it
        assert error.code == "ResponseFormatError"
        assert error.message.startswith("Chat Completions reply has no 'choices'")
        assert error.body["choices"] == "x"
