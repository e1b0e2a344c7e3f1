"""FakeOpenAI's Files and Batches endpoints, driven through the real openai SDK."""

from __future__ import annotations

import json

import openai
import pytest

from langchain_paramchat.testing import FakeOpenAI, Fault


def _line(i: int, model: str = "gpt-4o-mini", url: str = "/v1/chat/completions") -> str:
    body = {"model": model, "messages": [{"role": "user", "content": f"q{i}"}]}
    if url == "/v1/responses":
        body = {"model": model, "input": f"q{i}"}
    return json.dumps({"custom_id": f"c{i}", "method": "POST", "url": url, "body": body})


def _upload(client: openai.OpenAI, lines: list[str]) -> str:
    return client.files.create(file=("in.jsonl", "\n".join(lines).encode()), purpose="batch").id


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/responses"])
def test_batch_progresses_and_answers_each_line_with_the_normal_handler(
    fake_openai: FakeOpenAI, endpoint: str
) -> None:
    client = fake_openai.client()
    fake_openai.add("first", Fault.status(429, message="later", error_code="rate_limit_exceeded"))
    file_id = _upload(client, [_line(i, url=endpoint) for i in range(3)])
    assert client.files.retrieve(file_id).purpose == "batch"
    batch = client.batches.create(
        input_file_id=file_id,
        endpoint=endpoint,
        completion_window="24h",  # type: ignore[arg-type]
    )
    statuses = [batch.status]
    while batch.status != "completed":
        batch = client.batches.retrieve(batch.id)
        statuses.append(batch.status)
    assert statuses == ["validating", "in_progress", "finalizing", "completed"]
    assert batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 1)
    assert batch.output_file_id and batch.error_file_id
    out = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["c0", "c2"]
    assert out[0]["response"]["status_code"] == 200
    text = json.dumps(out[0]["response"]["body"])
    assert "first" in text
    err = json.loads(client.files.content(batch.error_file_id).text)
    assert err["custom_id"] == "c1" and err["response"]["status_code"] == 429
    assert err["response"]["body"]["error"]["code"] == "rate_limit_exceeded"
    assert [b.id for b in client.batches.list()] == [batch.id]
    assert client.files.delete(file_id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file_id)


def test_validation_failure_mixed_models_and_bad_lines(fake_openai: FakeOpenAI) -> None:
    client = fake_openai.client()
    file_id = _upload(client, [_line(0), _line(1, model="gpt-4o"), "{nope"])
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "failed"
    assert batch.errors is not None and batch.errors.data is not None
    codes = {e.code for e in batch.errors.data}
    assert codes == {"invalid_json_line", "model_mismatch"}


def test_create_checks_endpoint_window_and_file(fake_openai: FakeOpenAI) -> None:
    client = fake_openai.client()
    file_id = _upload(client, [_line(0)])
    with pytest.raises(openai.BadRequestError, match="endpoint"):
        client.batches.create(
            input_file_id=file_id, endpoint="/v1/embeddings", completion_window="24h"
        )
    with pytest.raises(openai.NotFoundError):
        client.batches.create(
            input_file_id="file-missing", endpoint="/v1/responses", completion_window="24h"
        )


def test_cancel_and_expire_keep_partial_output(fake_openai: FakeOpenAI) -> None:
    client = fake_openai.client()
    fake_openai.batches.auto_advance = False
    fake_openai.batches.lines_per_step = 1
    ids = []
    for _ in range(2):
        file_id = _upload(client, [_line(i) for i in range(3)])
        ids.append(
            client.batches.create(
                input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
            ).id
        )
    fake_openai.batches.advance(to="in_progress")
    fake_openai.batches.advance()
    assert client.batches.cancel(ids[0]).status == "cancelling"
    fake_openai.batches.advance(ids[0])
    fake_openai.batches.expire(ids[1])
    cancelled, expired = (client.batches.retrieve(i) for i in ids)
    assert cancelled.status == "cancelled" and expired.status == "expired"
    assert cancelled.output_file_id and cancelled.error_file_id is None
    assert len(client.files.content(cancelled.output_file_id).text.splitlines()) == 1
    assert expired.error_file_id is not None
    errors = [json.loads(x) for x in client.files.content(expired.error_file_id).text.splitlines()]
    assert [e["error"]["code"] for e in errors] == ["batch_expired", "batch_expired"]
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(ids[1])


def test_disabled_batch_api_answers_404(fake_openai: FakeOpenAI) -> None:
    fake_openai.batches.enabled = False
    with pytest.raises(openai.NotFoundError):
        _upload(fake_openai.client(), [_line(0)])
