"""No secret leaves by the exits issue 20 found open.

Pickles (credential headers), a server that echoes the key (batch item errors, token counts,
the error response LangChain hands to callbacks and tracers), credentials inside
``base_url`` (reprs, dumps, log records, errors) and redirects to another origin.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumps
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from langchain_paramchat import ParamChat
from langchain_paramchat.batch import BatchItemError
from langchain_paramchat.errors import APIConnectionError, APIError
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]
KEY = "sk-exits-SECRET-7f3a9c0d2e"
HEADERS = {"api-key": "hdr-SECRET-api-key", "X-Tenant-Auth": "hdr-SECRET-tenant-auth"}
PLAIN = {"x-tenant": "tenant-visible-42"}
SECRETS = [KEY, *HEADERS.values()]


def leaked(text: str, secrets: list[str] = SECRETS) -> list[str]:
    return [s for s in secrets if s in text]


async def run(chat: Any, mode: str, **kwargs: Any) -> Any:
    if mode == "invoke":
        return chat.invoke("hi", **kwargs)
    if mode == "ainvoke":
        return await chat.ainvoke("hi", **kwargs)
    if mode == "stream":
        return list(chat.stream("hi", **kwargs))
    return [c async for c in chat.astream("hi", **kwargs)]


# --- pickles --------------------------------------------------------------------------------------


def test_pickles_carry_no_credential_header_and_workers_read_them_from_the_environment(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bearer = "Bearer hdr-SECRET-bearer-token"
    tokens = {"Authorization": bearer, "x-session-token": "hdr-SECRET-session"}
    model = make_model(api_key=KEY, default_headers={**HEADERS, **tokens, **PLAIN})
    model.invoke("warm up")
    data = pickle.dumps(model)
    assert leaked(data.decode("latin-1"), [*SECRETS, *tokens.values()]) == []
    assert PLAIN["x-tenant"].encode() in data
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("PARAMCHAT_HEADER_API_KEY", HEADERS["api-key"])
    monkeypatch.delenv("PARAMCHAT_HEADER_X_TENANT_AUTH", raising=False)
    monkeypatch.setenv("PARAMCHAT_HEADER_AUTHORIZATION", bearer)
    monkeypatch.setenv("PARAMCHAT_HEADER_X_SESSION_TOKEN", tokens["x-session-token"])
    with caplog.at_level(logging.WARNING, logger="langchain_paramchat"):
        copy = pickle.loads(data)
    assert "PARAMCHAT_HEADER_X_TENANT_AUTH" in caplog.text
    assert leaked(caplog.text) == []
    assert copy.invoke("again").text == "Echo: again"
    sent = fake_openai.requests[-1].headers
    assert sent["api-key"] == HEADERS["api-key"]
    assert sent["authorization"] == bearer
    assert sent["x-session-token"] == tokens["x-session-token"]
    assert "x-tenant-auth" not in sent
    assert sent["x-tenant"] == PLAIN["x-tenant"]


# --- a server that echoes the key -----------------------------------------------------------------


class ErrorRecorder(BaseCallbackHandler):
    """Keep what callbacks get when a call fails."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        cause = error.__cause__
        self.seen.append(
            "".join(traceback.format_exception(error))
            + repr(getattr(error, "body", None))
            + repr(getattr(cause, "body", None))
            + repr(kwargs)
        )


class Tracer(BaseTracer):
    """Keep every finished run, as LangSmith's tracer would upload it."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        self.runs.append(run)

    def _end_trace(self, run: Run) -> None:
        super()._end_trace(run)
        self.runs.append(run)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_callbacks_and_tracers_never_get_an_echoed_key(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(
        Fault.status(401, message=f"Incorrect API key provided: {KEY}; headers {HEADERS}")
    )
    recorder, tracer = ErrorRecorder(), Tracer()
    chat = make_model(api=api, api_key=KEY, default_headers=HEADERS)
    with pytest.raises(APIError):
        await run(chat, mode, config={"callbacks": [recorder, tracer]})
    assert recorder.seen and tracer.runs
    for seen in recorder.seen:
        assert leaked(seen) == []
    for traced in tracer.runs:
        assert leaked(json.dumps(traced.model_dump(), default=repr)) == []
    assert "Incorrect API key provided: [redacted]" in recorder.seen[0]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_batch_item_errors_never_show_an_echoed_key(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.add(Fault.status(403, message=f"key {KEY} may not use this model"), "ok")
    model = make_model(api=api, api_key=KEY, default_headers=HEADERS)
    if use_async:
        job = asyncio.run(model.asubmit_batch(["a", "b"]))
        results = asyncio.run(job.await_results(poll_interval=0.001))
    else:
        results = model.submit_batch(["a", "b"]).wait(poll_interval=0.001)
    error = results[0]
    assert isinstance(error, BatchItemError) and error.status_code == 403
    assert "key [redacted] may not use this model" in str(error)
    shown = str(error) + repr(error) + error.message + repr(error.body)
    assert leaked(shown + repr(pickle.loads(pickle.dumps(error)).__dict__)) == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_bad_token_count_reply_is_scrubbed_and_cut_short(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.input_tokens_answer = {"input_tokens": "many", "note": f"{KEY} " * 10_000}
    model = make_model(api_key=KEY)
    with pytest.raises(APIError) as caught:
        asyncio.run(model.acount_tokens("hi")) if use_async else model.count_tokens("hi")
    assert "non-negative integer input_tokens" in str(caught.value)
    assert leaked(str(caught.value)) == []
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("count", [-1, 2.5, True, None, "7", [3]])
def test_a_token_count_that_is_not_a_non_negative_integer_is_an_api_error(
    fake_openai: FakeOpenAI, make_model: Factory, count: Any
) -> None:
    fake_openai.input_tokens_answer = {"object": "response.input_tokens", "input_tokens": count}
    with pytest.raises(APIError, match="non-negative integer"):
        make_model().count_tokens("hi")


# --- credentials inside base_url ------------------------------------------------------------------

URL_SECRET = "pw-SECRET-in-url-4242"


def test_base_url_credentials_never_show_in_reprs_or_dumps(fake_openai: FakeOpenAI) -> None:
    url = fake_openai.base_url.replace("http://", f"http://user:{URL_SECRET}@")
    chat = ParamChat(api_key=KEY, base_url=url, max_retries=0)
    query = ParamChat(api_key=KEY, base_url=f"https://proxy.example/v1?api-key={URL_SECRET}")
    for model in (chat, query):
        shown = [
            repr(model),
            str(model),
            model.model_dump_json(),
            dumps(model),
            repr(model.transport),
            repr(model.transport.settings),
        ]
        assert leaked("".join(shown), [URL_SECRET, KEY]) == []
    assert "**********@127.0.0.1" in repr(chat)
    job = chat.submit_batch(["a"])
    assert URL_SECRET not in job.to_json()


@pytest.mark.parametrize("mode", MODES)
async def test_base_url_credentials_never_show_in_logs_or_errors(
    fake_openai: FakeOpenAI, refused_port: int, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = fake_openai.base_url.replace("http://", f"http://user:{URL_SECRET}@")
    fake_openai.add(Reply(text="ok"))
    with caplog.at_level(logging.DEBUG):
        await run(ParamChat(api_key=KEY, base_url=url, max_retries=0), mode)
        refused = f"http://user:{URL_SECRET}@127.0.0.1:{refused_port}/v1"
        with pytest.raises(APIConnectionError) as caught:
            await run(ParamChat(api_key=KEY, base_url=refused, max_retries=0), mode)
    assert any("127.0.0.1" in r.getMessage() for r in caplog.records)  # URLs were logged
    for record in caplog.records:
        assert leaked(record.getMessage(), [URL_SECRET]) == []
    err = caught.value
    assert leaked(str(err) + "".join(traceback.format_exception(err)), [URL_SECRET]) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_key_echoed_in_a_response_header_never_shows_in_debug_logs(
    fake_openai: FakeOpenAI, api: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The HTTP library's DEBUG trace prints every response header; a plain base URL, a
    # fixed key (no credentials in the URL, no key function).
    key = f"sk-echoed-{api}-{mode}-SECRET-0123456789"
    fake_openai.add(Reply(text="ok", headers={"x-debug-echo": f"Bearer {key}"}))
    with caplog.at_level(logging.DEBUG):
        await run(ParamChat(api=api, api_key=key, base_url=fake_openai.base_url), mode)
    assert any("x-debug-echo" in r.getMessage() for r in caplog.records)  # headers were logged
    for record in caplog.records:
        assert leaked(record.getMessage(), [key]) == []


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_redirect_to_another_origin_drops_credential_headers(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    path = "chat/completions" if api == "chat_completions" else "responses"
    with FakeOpenAI() as elsewhere:
        location = f"{elsewhere.base_url}/{path}"
        fake_openai.add(Fault.status(307, headers={"location": location}))
        chat = make_model(api=api, api_key=KEY, default_headers={**HEADERS, **PLAIN})
        answer = await run(chat, mode)
        assert answer
        (moved,) = elsewhere.requests
    assert moved.path == f"/v1/{path}"
    assert leaked(json.dumps(moved.headers)) == []
    assert moved.headers["x-tenant"] == PLAIN["x-tenant"]
    first = fake_openai.requests[0].headers
    assert first["api-key"] == HEADERS["api-key"]
    assert first["authorization"] == f"Bearer {KEY}"


def test_a_redirect_on_the_same_origin_keeps_credential_headers(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(
        Fault.status(307, headers={"location": f"{fake_openai.base_url}/chat/completions"}),
        "moved",
    )
    chat = make_model(api="chat_completions", api_key=KEY, default_headers=HEADERS)
    assert chat.invoke("hi").text == "moved"
    assert fake_openai.requests[-1].headers["api-key"] == HEADERS["api-key"]


def test_a_worker_may_set_the_key_after_unpickling_before_the_first_call(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's Spark example reads the key from a file inside the task, after the
    # model was unpickled: the SDK client is built (and reads the key) at the first call.
    data = pickle.dumps(make_model(api_key=KEY))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    copy = pickle.loads(data)
    assert copy.api_key is None
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert copy.invoke("late").text == "Echo: late"
    assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_200_kb_error_message_is_scrubbed_and_cut(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.status(400, message=f"bad key {KEY}; " * 8_000))
    with pytest.raises(APIError) as caught:
        await run(make_model(api=api, api_key=KEY), mode)
    shown = str(caught.value)
    assert leaked(shown) == [] and "bad key [redacted]; " in shown
    assert len(shown) < 2_200
