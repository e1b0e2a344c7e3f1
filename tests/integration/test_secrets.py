"""The API key and credential-like headers never leak: reprs, dumps, tracing, errors, logs.

The key is a ``SecretStr``; it may only leave the process in the ``Authorization`` header of
a request. ``default_headers`` that look like credentials (Authorization, api-key,
x-api-key, tokens) must be redacted wherever ParamChat shows its settings.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import BaseMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import APIConnectionError, AuthenticationError
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply
from langchain_paramchat.transport.retry import RetryPolicy

Factory = Callable[..., ParamChat]

API_KEY = "sk-secrets-SECRET-0c4f9a51"
CREDENTIAL_HEADERS = {
    "Authorization": "Bearer hdr-SECRET-authorization",
    "api-key": "hdr-SECRET-api-key",
    "x-api-key": "hdr-SECRET-x-api-key",
    "x-auth-token": "hdr-SECRET-token",
}
PLAIN_HEADERS = {"x-tenant": "tenant-visible-42"}
SECRETS = [API_KEY, *CREDENTIAL_HEADERS.values()]
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]


def fast_policy(max_retries: int = 1) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, initial_backoff=0.01, max_backoff=0.02)


def leaked(text: str, secrets: list[str] = SECRETS) -> list[str]:
    return [s for s in secrets if s in text]


def model(**kwargs: Any) -> ParamChat:
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("base_url", "http://127.0.0.1:9/v1")
    return ParamChat(temperature=0.3, **kwargs)


def loaded(data: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load() is beta in langchain-core
        return load(
            data, valid_namespaces=["langchain_paramchat"], allowed_objects=[ParamChat], **kwargs
        )


async def run(chat: ParamChat, mode: str) -> Any:
    if mode == "invoke":
        return chat.invoke("hi")
    if mode == "ainvoke":
        return await chat.ainvoke("hi")
    if mode == "stream":
        return list(chat.stream("hi"))
    return [c async for c in chat.astream("hi")]


async def failure(chat: ParamChat, mode: str) -> BaseException:
    try:
        await run(chat, mode)
    except Exception as exc:
        return exc
    raise AssertionError("the call should have failed")


def everything_shown(err: BaseException) -> str:
    """Return all a user could see of an error: message, repr, traceback with its causes."""
    return str(err) + repr(err) + "".join(traceback.format_exception(err))


# --- the key at rest ------------------------------------------------------------------------------


def test_the_key_is_held_but_never_shown_in_reprs() -> None:
    chat = model()
    assert chat.api_key is not None and chat.api_key.get_secret_value() == API_KEY
    shown = [
        repr(chat),
        str(chat),
        chat.model_dump_json(),
        json.dumps(chat.model_dump(), default=str),
        repr(chat.transport),
        repr(chat.transport.settings),
        str(chat.transport.settings),
    ]
    for text in shown:
        assert leaked(text, [API_KEY]) == []


def test_a_key_from_the_environment_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    chat = ParamChat()
    assert chat.api_key is not None and chat.api_key.get_secret_value() == API_KEY
    assert leaked(repr(chat) + str(chat) + repr(chat.transport.settings), [API_KEY]) == []


def test_langsmith_and_identifying_params_hold_no_key() -> None:
    chat = model(default_headers=PLAIN_HEADERS)
    assert leaked(repr(chat._get_ls_params()), [API_KEY]) == []
    assert leaked(repr(chat._identifying_params), [API_KEY]) == []
    assert leaked(repr(chat._get_invocation_params()), [API_KEY]) == []


def test_dumpd_stores_a_secret_reference_not_the_key() -> None:
    chat = model()
    data = dumpd(chat)
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}
    assert leaked(json.dumps(data), [API_KEY]) == []
    assert leaked(dumps(chat), [API_KEY]) == []
    assert leaked(dumps(chat, pretty=True), [API_KEY]) == []


def test_load_restores_the_key_from_a_secrets_map(fake_openai: FakeOpenAI) -> None:
    data = dumpd(model(base_url=fake_openai.base_url, max_retries=0))
    restored = loaded(data, secrets_map={"OPENAI_API_KEY": API_KEY})
    assert isinstance(restored, ParamChat)
    assert restored.api_key is not None and restored.api_key.get_secret_value() == API_KEY
    assert restored.temperature == 0.3
    assert restored.invoke("hi").text == "Echo: hi"
    (request,) = fake_openai.requests
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_load_restores_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dumpd(model())
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    restored = loaded(data, secrets_from_env=True)
    assert restored.api_key is not None and restored.api_key.get_secret_value() == API_KEY


# --- the key in flight ----------------------------------------------------------------------------


class Recorder(BaseCallbackHandler):
    """Keep everything LangChain hands to tracers when a chat model starts."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self.seen.append(json.dumps([serialized, kwargs], default=repr))


@pytest.mark.parametrize("api", APIS)
async def test_callbacks_and_tracing_never_see_the_key(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    recorder = Recorder()
    chat = make_model(api=api, api_key=API_KEY)
    await chat.ainvoke("hi", config={"callbacks": [recorder]})
    chat.invoke("hi", config={"callbacks": [recorder]})
    assert len(recorder.seen) == 2
    for seen in recorder.seen:
        assert leaked(seen, [API_KEY]) == []
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_401_never_shows_the_key_even_when_the_server_echoes_it(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Fault.status(401, message=f"Incorrect API key provided: {API_KEY}."))
    err = await failure(make_model(api=api, api_key=API_KEY), mode)
    assert isinstance(err, AuthenticationError)
    assert "Incorrect API key provided" in str(err)
    assert leaked(everything_shown(err), [API_KEY]) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_failed_response_or_stream_error_never_shows_the_key(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    # Responses: status "failed" (invoke) or a response.failed event (stream); Chat
    # Completions: a 500 (invoke) or an error chunk (stream). Each echoes the key.
    echo = f"Upstream rejected key {API_KEY} for this request"
    fake_openai.add(Reply(text="x", fault=Fault.stream_error("server_error", echo)))
    err = await failure(make_model(api=api, api_key=API_KEY, max_retries=0), mode)
    assert "Upstream rejected key [redacted]" in str(err)
    assert leaked(everything_shown(err) + repr(getattr(err, "body", None)), [API_KEY]) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_errors_never_show_credential_header_values(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    headers = {**CREDENTIAL_HEADERS, **PLAIN_HEADERS}
    echo = ", ".join(f"{k}={v}" for k, v in headers.items())
    fake_openai.add(Fault.status(403, message=f"Headers seen: {echo}"))
    err = await failure(make_model(api=api, api_key=API_KEY, default_headers=headers), mode)
    assert leaked(everything_shown(err) + repr(getattr(err, "body", None))) == []
    assert PLAIN_HEADERS["x-tenant"] in str(err)  # only credentials are hidden


@pytest.mark.parametrize("mode", MODES)
async def test_a_one_letter_placeholder_key_is_scrubbed_as_a_token_only(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Fault.status(400, message="max_tokens above the maximum; key x rejected"))
    err = await failure(make_model(api="chat_completions", api_key="x"), mode)
    assert "max_tokens above the maximum; key [redacted] rejected" in str(err)


@pytest.mark.parametrize("mode", MODES)
async def test_connection_errors_never_show_the_key(refused_port: int, mode: str) -> None:
    chat = model(base_url=f"http://127.0.0.1:{refused_port}/v1", retry_policy=fast_policy())
    err = await failure(chat, mode)
    assert isinstance(err, APIConnectionError)
    assert leaked(everything_shown(err), [API_KEY]) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_debug_logs_never_show_the_key_or_credential_headers(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    caplog: pytest.LogCaptureFixture,
    api: str,
    mode: str,
) -> None:
    chat = make_model(
        api=api,
        api_key=API_KEY,
        default_headers={**CREDENTIAL_HEADERS, **PLAIN_HEADERS},
        retry_policy=fast_policy(),
    )
    fake_openai.add(Fault.status(500), Reply(text="ok"), Fault.status(401))
    with caplog.at_level(logging.DEBUG):
        await run(chat, mode)
        await failure(chat, mode)
    assert any(r.name.startswith("openai") for r in caplog.records)  # DEBUG really captured
    assert any(r.levelno == logging.WARNING for r in caplog.records)  # the retry was logged
    for record in caplog.records:
        assert leaked(record.getMessage() + repr(record.args) + repr(vars(record))) == []
    # The headers are really sent, so the check above is not vacuous.
    sent = fake_openai.requests[0].headers
    assert sent["x-api-key"] == CREDENTIAL_HEADERS["x-api-key"]
    assert sent["x-tenant"] == PLAIN_HEADERS["x-tenant"]


# --- credential-like default headers --------------------------------------------------------------


def test_transport_settings_show_header_names_only() -> None:
    chat = model(default_headers={**CREDENTIAL_HEADERS, **PLAIN_HEADERS})
    shown = repr(chat.transport.settings)
    assert leaked(shown) == []
    assert "x-api-key" in shown


def test_credential_headers_are_redacted_in_reprs() -> None:
    chat = model(default_headers={**CREDENTIAL_HEADERS, **PLAIN_HEADERS})
    shown = repr(chat) + str(chat)
    assert leaked(shown) == []
    assert PLAIN_HEADERS["x-tenant"] in shown  # only credential-looking values are hidden


def test_credential_headers_are_redacted_in_dumps() -> None:
    chat = model(default_headers={**CREDENTIAL_HEADERS, **PLAIN_HEADERS})
    assert leaked(dumps(chat)) == []
    assert leaked(chat.model_dump_json()) == []
    assert leaked(repr(chat.model_dump())) == []
    assert PLAIN_HEADERS["x-tenant"] in dumps(chat)
    # Not saved at all (load cannot restore a secret nested in a dict): pass them again.
    restored = loaded(dumpd(chat), secrets_map={"OPENAI_API_KEY": API_KEY})
    assert restored.default_headers == PLAIN_HEADERS


async def test_credential_headers_never_reach_callbacks(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    recorder = Recorder()
    chat = make_model(api_key=API_KEY, default_headers={**CREDENTIAL_HEADERS, **PLAIN_HEADERS})
    await chat.ainvoke("hi", config={"callbacks": [recorder]})
    assert leaked(recorder.seen[0]) == []
