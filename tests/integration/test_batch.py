"""Bulk jobs over the fake server's Files and Batches API: submit, wait, results, resume, retry."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import (
    BatchInputError,
    BatchItemError,
    BatchJob,
    BatchNotFinishedError,
    BatchProgress,
    BatchUnsupportedError,
    submit_batch,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall, Usage

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
ENDPOINT = {"chat_completions": "/v1/chat/completions", "responses": "/v1/responses"}
FAST = 0.001  # poll interval: the fake server advances one step per poll


def _submit(model: Any, inputs: list[Any], use_async: bool, **kwargs: Any) -> BatchJob:
    if use_async:
        return asyncio.run(model.asubmit_batch(inputs, **kwargs))
    job: BatchJob = model.submit_batch(inputs, **kwargs)
    return job


def _wait(job: BatchJob, use_async: bool, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("poll_interval", FAST)
    if use_async:
        return asyncio.run(job.await_results(**kwargs))
    return job.wait(**kwargs)


def _lines(server: FakeOpenAI, file_id: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in server.batches.file_content(file_id).splitlines()]


def _uploads(server: FakeOpenAI) -> list[Any]:
    return [r for r in server.requests if r.path.startswith(("/v1/files", "/v1/batches"))]


def _comparable(message: AIMessage) -> dict[str, Any]:
    # Ids and creation times are per reply: a batch line and the invoke it is compared
    # with are two replies, possibly a second apart.
    per_reply = ("id", "created", "created_at")
    meta = {k: v for k, v in message.response_metadata.items() if k not in per_reply}
    content = message.content
    if isinstance(content, list):  # Responses output items carry fresh ids per reply
        content = [
            {k: v for k, v in b.items() if k != "id"} for b in content if isinstance(b, dict)
        ]
    return {
        "content": content,
        "tool_calls": message.tool_calls,
        "usage": message.usage_metadata,
        "meta": meta,
        "additional_kwargs": message.additional_kwargs,
    }


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_results_equal_what_invoke_returns_in_input_order(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    model = make_model(api=api)
    reply = Reply(
        text="Paris", tool_calls=[ToolCall("f", {"a": 1}, id="call_1")], usage=Usage(7, 3)
    )
    fake_openai.add(reply, reply)
    expected = model.invoke("capital?")
    job = _submit(model, ["capital?", "two", "three"], use_async)
    assert [p.endpoint for p in job.parts] == [ENDPOINT[api]]
    results = _wait(job, use_async)
    assert len(results) == 3
    assert all(isinstance(r, AIMessage) for r in results)
    assert _comparable(results[0]) == _comparable(expected)
    assert [r.text for r in results[1:]] == ["Echo: two", "Echo: three"]
    assert results[0].response_metadata["api"] == api
    assert job.status == "completed"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_each_line_body_is_the_preview_payload_with_bound_tools(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    class Weather(BaseModel):
        """Get the weather."""

        city: str

    bound = make_model(api=api, temperature=0.2).bind_tools([Weather], tool_choice="Weather")
    inputs = ["Paris?", [HumanMessage("Rome?")]]
    job = bound.submit_batch(inputs, max_tokens=50)  # type: ignore[attr-defined]
    lines = _lines(fake_openai, job.parts[0].input_file_id)
    model = bound.bound  # type: ignore[attr-defined]
    for i, line in enumerate(lines):
        preview = model.preview_request(inputs[i], **{**bound.kwargs, "max_tokens": 50})  # type: ignore[attr-defined]
        assert line["body"] == preview.payload
        assert line["url"] == ENDPOINT[api] and line["method"] == "POST"
        assert line["custom_id"] == str(i)
    assert lines[0]["body"]["tools"]
    assert fake_openai.batches.files[job.parts[0].input_file_id]["purpose"] == "batch"


@pytest.mark.parametrize("api", APIS)
def test_structured_output_gives_parsed_objects(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    class Person(BaseModel):
        name: str
        age: int

    structured = make_model(api=api).with_structured_output(Person)
    fake_openai.add(
        Reply(text='{"name": "Ada", "age": 36}'), Reply(text='{"name": "Bo", "age": 5}')
    )
    job = submit_batch(structured, ["a", "b"])
    line = _lines(fake_openai, job.parts[0].input_file_id)[0]
    key = "response_format" if api == "chat_completions" else "text"
    assert key in line["body"]
    assert line["body"] == structured.first.preview_request("a").payload  # type: ignore[attr-defined]
    results = job.wait(poll_interval=FAST)
    assert [r.additional_kwargs["parsed"] for r in results] == [
        Person(name="Ada", age=36),
        Person(name="Bo", age=5),
    ]
    assert fake_openai.errors == []


def test_inputs_are_grouped_by_route_one_batch_per_endpoint(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    model = make_model(chain_responses=True)
    first = model.invoke("start", api="responses")
    audio = base64.b64encode(b"RIFF....WAVE").decode()
    inputs: list[Any] = [
        "plain",
        [HumanMessage("hi"), first, HumanMessage("go on")],
        [HumanMessage([{"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}}])],
    ]
    job = model.submit_batch(inputs)
    assert sorted(p.endpoint for p in job.parts) == sorted(ENDPOINT.values())
    results = job.wait(poll_interval=FAST)
    apis = [r.response_metadata["api"] for r in results]
    assert apis == ["chat_completions", "responses", "chat_completions"]
    assert any("audio input" in reason for reason in results[2].response_metadata["route_reasons"])
    assert not any("audio" in reason for reason in results[0].response_metadata["route_reasons"])
    assert fake_openai.errors == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_bad_input_fails_naming_index_and_option_with_zero_uploads(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    model = make_model()
    with pytest.raises(BatchInputError) as info:
        _submit(model, ["ok", "ok", []], use_async)
    assert info.value.index == 2
    assert "input 2" in str(info.value)
    with pytest.raises(BatchInputError) as info:
        _submit(model, ["ok"], use_async, temperature=7)
    assert info.value.index == 0 and info.value.option == "temperature"
    assert "temperature" in str(info.value)
    assert _uploads(fake_openai) == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_per_line_http_errors_become_batch_item_errors(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.add(
        "fine", Fault.status(400, message="Bad value for x", error_code="invalid_value"), "also"
    )
    job = _submit(make_model(api=api), ["a", "b", "c"], use_async)
    results = _wait(job, use_async)
    assert [type(r).__name__ for r in results] == ["AIMessage", "BatchItemError", "AIMessage"]
    error = results[1]
    assert isinstance(error, BatchItemError)
    assert (error.index, error.custom_id, error.status_code) == (1, "1", 400)
    assert error.code == "invalid_value" and error.message == "Bad value for x"
    assert job.progress().failed == 1 and job.progress().completed == 2


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_expired_items_are_reported_and_finished_ones_kept(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    fake_openai.batches.lines_per_step = 2
    job = _submit(make_model(api=api), ["a", "b", "c", "d"], use_async)
    fake_openai.batches.advance(to="in_progress")
    fake_openai.batches.advance()  # two lines answered
    fake_openai.batches.expire()
    results = _wait(job, use_async)
    assert [r.text for r in results[:2]] == ["Echo: a", "Echo: b"]
    assert [(r.index, r.code) for r in results[2:]] == [(2, "batch_expired"), (3, "batch_expired")]
    assert job.status == "expired"


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_cancel_keeps_finished_items_and_reports_the_rest(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.batches.auto_advance = False
    fake_openai.batches.lines_per_step = 1
    job = _submit(make_model(api=api), ["a", "b", "c"], use_async)
    fake_openai.batches.advance(to="in_progress")
    fake_openai.batches.advance()
    state = asyncio.run(job.acancel()) if use_async else job.cancel()
    assert state.status == "cancelling"
    fake_openai.batches.advance()
    results = _wait(job, use_async)
    assert results[0].text == "Echo: a"
    assert [(r.index, r.code) for r in results[1:]] == [
        (1, "batch_cancelled"),
        (2, "batch_cancelled"),
    ]
    assert job.status == "cancelled"


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_partial_results_while_one_endpoint_still_runs(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    model = make_model(chain_responses=True)
    first = model.invoke("start", api="responses")
    fake_openai.batches.auto_advance = False
    job = _submit(model, ["plain", [HumanMessage("hi"), first, HumanMessage("more")]], use_async)
    chat = next(p for p in job.parts if p.api == "chat_completions")
    fake_openai.batches.advance(chat.batch_id, to="completed")
    with pytest.raises(BatchNotFinishedError, match="still running"):
        asyncio.run(job.aresults()) if use_async else job.results()
    results = asyncio.run(job.aresults(partial=True)) if use_async else job.results(partial=True)
    assert results[0].text == "Echo: plain"
    assert isinstance(results[1], BatchItemError) and results[1].pending
    by_endpoint = job.progress().by_endpoint
    assert by_endpoint["/v1/chat/completions"]["status"] == "completed"
    assert by_endpoint["/v1/responses"]["status"] == "validating"


def test_job_reference_holds_no_secret_and_resumes_elsewhere(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-very-secret-key-987"
    job = make_model(api_key=secret).submit_batch(["a", "b"], temperature=0)
    text = job.to_json()
    assert secret not in text and "api_key" not in text
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    resumed = BatchJob.from_json(text)
    assert resumed.model.api_key.get_secret_value() == secret
    results = resumed.wait(poll_interval=FAST)
    assert [r.text for r in results] == ["Echo: a", "Echo: b"]
    auth = {r.headers.get("authorization") for r in fake_openai.requests}
    assert auth == {f"Bearer {secret}"}


def test_resume_with_the_bound_model_keeps_structured_parsing(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    class City(BaseModel):
        name: str

    structured = make_model().with_structured_output(City)
    fake_openai.add(Reply(text='{"name": "Oslo"}'))
    text = submit_batch(structured, ["x"]).to_json()
    results = BatchJob.from_json(text, model=structured).wait(poll_interval=FAST)
    assert results[0].additional_kwargs["parsed"] == City(name="Oslo")
    plain = BatchJob.from_json(text, model=make_model()).results()
    assert "parsed" not in plain[0].additional_kwargs


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_retry_failed_resubmits_exactly_the_failed_lines(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.add("a!", Fault.status(500, times=1), "c!", Fault.status(429, message="slow down"))
    job = _submit(make_model(), ["a", "b", "c", "d"], use_async)
    first = _wait(job, use_async)
    assert [isinstance(r, BatchItemError) for r in first] == [False, True, False, True]
    retry = asyncio.run(job.aretry_failed()) if use_async else job.retry_failed()
    assert retry.indices == [1, 3] and len(retry) == 2
    original = {line["custom_id"]: line for line in _lines(fake_openai, job.parts[0].input_file_id)}
    resent = _lines(fake_openai, retry.parts[0].input_file_id)
    assert resent == [original["1"], original["3"]]
    again = _wait(retry, use_async)
    assert [r.text for r in again] == ["Echo: b", "Echo: d"]
    assert json.loads(retry.to_json())["indices"] == [1, 3]


def test_progress_callback_and_bar_show_counts(
    fake_openai: FakeOpenAI, make_model: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.batches.lines_per_step = 1
    seen: list[BatchProgress] = []
    make_model().submit_batch(["a", "b"]).wait(poll_interval=FAST, progress=seen.append)
    assert [s.status for s in seen][-1] == "completed"
    assert [s.completed for s in seen] == sorted(s.completed for s in seen)
    assert seen[-1].completed == 2 and seen[-1].total == 2
    assert seen[-1].by_endpoint["/v1/chat/completions"]["completed"] == 2
    make_model().submit_batch(["a"]).wait(poll_interval=FAST, progress=True)
    assert "1/1 (0 failed) completed" in capsys.readouterr().err


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_server_without_batch_api_gives_a_clear_error(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.batches.enabled = False
    with pytest.raises(BatchUnsupportedError, match=r"no Batch API.*abatch"):
        _submit(make_model(), ["a"], use_async)


def test_files_are_split_at_the_line_limit(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_paramchat.batch import lines

    monkeypatch.setattr(lines, "MAX_LINES", 2)
    job = make_model().submit_batch(["a", "b", "c", "d", "e"])
    assert [p.lines for p in job.parts] == [2, 2, 1]
    assert len({p.batch_id for p in job.parts}) == 3
    results = job.wait(poll_interval=FAST)
    assert [r.text for r in results] == [f"Echo: {x}" for x in "abcde"]


def test_wait_honours_retry_after_and_times_out(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    from langchain_paramchat.batch import BatchTimeoutError

    fake_openai.batches.auto_advance = False
    fake_openai.batches.retry_after = 7
    job = make_model().submit_batch(["a"])
    state = job.refresh()
    assert state.retry_after == 7
    with pytest.raises(BatchTimeoutError, match="keeps running"):
        job.wait(poll_interval=FAST, timeout=0.05)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_batch_that_fails_validation_reports_every_item(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.batches.fail_validation("Line 3 is not valid JSON.")
    job = _submit(make_model(), ["a", "b"], use_async)
    results = _wait(job, use_async)
    assert job.status == "failed"
    assert [(r.index, r.code) for r in results] == [(0, "batch_failed"), (1, "batch_failed")]
    assert "Line 3 is not valid JSON." in results[0].message


def test_items_of_several_cancelled_batches_are_each_reported(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_paramchat.batch import lines

    monkeypatch.setattr(lines, "MAX_LINES", 2)
    fake_openai.batches.auto_advance = False
    fake_openai.batches.lines_per_step = 1
    job = make_model().submit_batch(["a", "b", "c", "d"])
    fake_openai.batches.advance(to="in_progress")
    fake_openai.batches.advance()  # one line of each batch answered
    job.cancel()
    fake_openai.batches.advance()
    results = job.wait(poll_interval=FAST)
    assert [getattr(r, "code", None) or r.text for r in results] == [
        "Echo: a",
        "batch_cancelled",
        "Echo: c",
        "batch_cancelled",
    ]


@pytest.mark.parametrize("api", APIS)
def test_output_version_v1_entries_are_content_blocks_as_invoke_gives(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api, output_version="v1")
    expected = model.invoke("hi")
    (entry,) = model.submit_batch(["hi"]).wait(poll_interval=FAST)
    assert isinstance(entry.content, list) and entry.content[0]["type"] == "text"
    assert _comparable(entry)["content"] == _comparable(expected)["content"]
    assert entry.response_metadata["output_version"] == "v1"
    assert expected.response_metadata["output_version"] == "v1"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_strict_tool_calls_lose_the_nulls_of_optional_arguments_as_in_invoke(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    class Weather(BaseModel):
        """Get the weather."""

        city: str
        unit: str = "celsius"

    bound = make_model(api=api).bind_tools([Weather], strict=True)
    reply = Reply(tool_calls=[ToolCall("Weather", {"city": "Paris", "unit": None}, id="call_1")])
    fake_openai.add(reply, reply)
    expected = bound.invoke("weather?")
    assert expected.tool_calls[0]["args"] == {"city": "Paris"}  # the tool's default applies
    (entry,) = submit_batch(bound, ["weather?"]).wait(poll_interval=FAST)
    assert entry.tool_calls == expected.tool_calls
