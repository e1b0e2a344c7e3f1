"""ChatOpenAI's constructor and call names are taken with ChatOpenAI's meaning, or refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import OptionError, UnknownOptionError
from langchain_paramchat.surface import token_count as tc

BASE = "http://127.0.0.1:9/v1"


def chat(**kwargs: Any) -> ParamChat:
    kwargs.setdefault("api_key", "sk-test")
    # A model that takes every sampling option (the default, a reasoning model, leaves some out).
    kwargs.setdefault("model", "gpt-4.1")
    return ParamChat(**kwargs)


def payload(model: Any, **kwargs: Any) -> dict[str, Any]:
    return dict(model.preview_request("hi", **kwargs).payload)


class GetWeather(BaseModel):
    """Get the weather."""

    city: str


def test_renamed_client_settings() -> None:
    model = ParamChat(
        openai_api_key="sk-old-name",
        openai_api_base=BASE,
        openai_organization="org-1",
        request_timeout=12.5,
        stream_chunk_timeout=7.0,
        model_name="gpt-4.1-mini",
    )
    assert model.api_key is not None and model.api_key.get_secret_value() == "sk-old-name"
    assert (model.base_url, model.organization, model.model) == (BASE, "org-1", "gpt-4.1-mini")
    assert (model.timeout, model.stream_idle_timeout) == (12.5, 7.0)
    assert "sk-old-name" not in repr(model)


def test_a_name_and_its_chatopenai_spelling_must_agree() -> None:
    with pytest.raises(OptionError, match="request_timeout"):
        chat(timeout=5.0, request_timeout=6.0)
    assert chat(timeout=5.0, request_timeout=5.0).timeout == 5.0


@pytest.mark.parametrize(
    ("kwargs", "key", "sent"),
    [
        ({"stop_sequences": ["END"]}, "stop", ["END"]),
        ({"n": 2}, "n", 2),
        ({"max_tokens": 9}, "max_completion_tokens", 9),
        ({"max_completion_tokens": 9}, "max_completion_tokens", 9),
        ({"reasoning_effort": "low"}, "reasoning_effort", "low"),
        ({"logit_bias": {50256: -100}}, "logit_bias", {"50256": -100}),
        ({"model_kwargs": {"seed": 7}}, "seed", 7),
        ({"model_kwargs": {"max_completion_tokens": 9}}, "max_completion_tokens", 9),
        ({"model_kwargs": {"logit_bias": {1: 5}}}, "logit_bias", {"1": 5}),
    ],
)
def test_constructor_names_reach_the_request(kwargs: dict[str, Any], key: str, sent: Any) -> None:
    body = payload(chat(**kwargs))
    assert body[key] == sent


@pytest.mark.parametrize(
    ("kwargs", "key", "sent"),
    [
        ({"stop_sequences": ["END"]}, "stop", ["END"]),
        ({"logit_bias": {50256: -100}}, "logit_bias", {"50256": -100}),
        ({"max_completion_tokens": 3}, "max_completion_tokens", 3),
    ],
)
def test_call_names_reach_the_request(kwargs: dict[str, Any], key: str, sent: Any) -> None:
    assert payload(chat(), **kwargs)[key] == sent
    assert payload(chat().bind(**kwargs))[key] == sent


def test_model_kwargs_keys_are_checked_like_options() -> None:
    with pytest.raises(OptionError, match="temperature"):
        chat(model_kwargs={"temperature": 9})
    with pytest.raises(OptionError, match="disagrees"):
        chat(temperature=0.1, model_kwargs={"temperature": 0.2})
    with pytest.raises(OptionError, match="model_kwargs"):
        chat(model_kwargs=["seed"])


def test_model_kwargs_go_to_the_api_under_openai_names_as_in_chatopenai() -> None:
    model = chat(model_kwargs={"metadata": {"team": "a"}, "custom_param": 1, "seed": 3})
    payload = model.preview_request("hi").payload
    assert payload["metadata"] == {"team": "a"}  # OpenAI's request metadata, not tracing's
    assert (payload["custom_param"], payload["seed"]) == (1, 3)
    assert model.model_kwargs == {"metadata": {"team": "a"}, "custom_param": 1, "seed": 3}
    assert model.metadata is None or "team" not in model.metadata


@pytest.mark.parametrize(
    ("kwargs", "api"),
    [
        ({"use_responses_api": True}, "responses"),
        ({"use_responses_api": False}, "chat_completions"),
        ({"use_responses_api": None}, "chat_completions"),
        ({"output_version": "responses/v1"}, "responses"),
        ({"use_previous_response_id": True}, "responses"),
        ({"output_version": "responses/v1", "use_responses_api": False}, "chat_completions"),
    ],
)
def test_api_choice_as_chatopenai_makes_it(kwargs: dict[str, Any], api: str) -> None:
    assert chat(**kwargs).preview_request("hi").api == api


def test_use_responses_api_per_call_and_contradictions() -> None:
    assert chat().preview_request("hi", use_responses_api=True).api == "responses"
    with pytest.raises(OptionError, match="use_responses_api"):
        chat(api="chat_completions", use_responses_api=True)
    with pytest.raises(OptionError, match="use_responses_api"):
        chat().preview_request("hi", api="chat_completions", use_responses_api=True)
    with pytest.raises(OptionError, match="output_version"):
        chat(output_version="v2")


def test_use_previous_response_id_chains_responses() -> None:
    model = chat(use_previous_response_id=True)
    assert model.chain_responses is True


def test_disabled_params_never_send_what_they_name() -> None:
    tools = [GetWeather]
    model = chat(disabled_params={"parallel_tool_calls": None})
    body = payload(model.bind_tools(tools, parallel_tool_calls=False))
    assert "parallel_tool_calls" not in body
    only_some = chat(disabled_params={"temperature": [0.0]})
    assert "temperature" not in payload(only_some, temperature=0.0)
    assert payload(only_some, temperature=0.5)["temperature"] == 0.5
    alias = chat(disabled_params={"max_completion_tokens": None}, max_tokens=5)
    assert "max_completion_tokens" not in payload(alias)
    with pytest.raises(UnknownOptionError):
        chat(disabled_params={"no_such_option": None})
    # What ParamChat adds itself (usage on streams) is dropped too, for servers that reject it.
    no_stream_options = chat(disabled_params={"stream_options": None})
    streamed = no_stream_options.preview_request("hi", stream=True).payload
    assert "stream_options" not in streamed and streamed["stream"] is True


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("openai_proxy", object(), "string"),
        ("openai_proxy", "ftp://proxy.example:21", "socks5"),
        ("openai_proxy", "http://proxy.example:3128\r\nX-Evil: 1", "line breaks"),
        ("openai_proxy", "http://:3128", "host"),
        ("http_socket_options", object(), "(level, option, value)"),
        ("http_socket_options", [(1, 2)], "(level, option, value)"),
        ("http_socket_options", "SO_KEEPALIVE", "(level, option, value)"),
        ("api_key", 42, "valid"),
        ("api_key", "sk-line\nbreak", "without line breaks"),
    ],
)
def test_bad_connection_settings_fail_at_construction_naming_what_is_allowed(
    name: str, value: object, allowed: str
) -> None:
    with pytest.raises(OptionError, match=name) as info:
        chat(**{name: value})
    assert allowed in str(info.value)
    assert "sk-line" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("request_timeout", "timeout"),
        ("timeout", "timeout"),
        ("openai_api_key", "api_key"),
        ("extra_headers", "default_headers"),
        ("extra_query", "default_query"),
    ],
)
def test_model_settings_passed_per_call_say_where_they_go(name: str, target: str) -> None:
    with pytest.raises(OptionError, match=rf"ParamChat\({target}=") as info:
        chat().preview_request("hi", **{name: 5})
    assert name in str(info.value)


def test_suggestions_point_the_right_way() -> None:
    with pytest.raises(UnknownOptionError, match="'use_responses_api'"):
        chat(use_response_api=True)
    with pytest.raises(UnknownOptionError, match="'request_timeout'"):
        chat(request_timout=5)


def test_tiktoken_model_name_picks_the_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(tc, "load_encoding", lambda model: asked.append(model))
    monkeypatch.setattr(tc, "_warned", True)
    chat(model="my-finetune", tiktoken_model_name="gpt-4o").get_num_tokens("hello")
    assert asked == ["gpt-4o"]


def test_output_version_v0_is_refused_only_where_it_would_differ() -> None:
    assert chat(output_version="v0").preview_request("hi").api == "chat_completions"
    with pytest.raises(OptionError, match="output_version") as info:
        chat(output_version="v0").preview_request("hi", api="responses")
    assert "responses/v1" in str(info.value)
    with pytest.raises(OptionError, match="legacy"):
        chat(output_version="v0", use_responses_api=True).preview_request("hi")


def test_an_openai_proxy_in_the_environment_is_used_as_chatopenai_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_PROXY", "http://user:pw-secret@proxy.internal:3128")
    model = chat()
    assert model.openai_proxy == "http://user:pw-secret@proxy.internal:3128"
    assert "pw-secret" not in repr(model) + str(model.model_dump())
    # As in ChatOpenAI: a proxy and your own HTTP client contradict each other.
    with hx.Client() as client, pytest.raises(OptionError, match="openai_proxy") as info:
        chat(http_client=client)
    assert "pw-secret" not in str(info.value)


@pytest.mark.parametrize("name", ["api_key", "openai_api_key"])
def test_a_callable_key_provider_is_kept_and_readable_and_never_called_to_show_it(
    name: str,
) -> None:
    calls: list[int] = []

    def vault_key() -> str:
        calls.append(1)
        return "sk-from-a-vault"

    model = ParamChat(**{name: vault_key})
    assert model.openai_api_key is vault_key and model.api_key is vault_key
    shown = repr(model) + str(model.model_dump()) + model.model_dump_json()
    assert "vault_key" in shown and "sk-from-a-vault" not in shown
    assert calls == []
    # A key string still dumps masked, to JSON too (on every supported pydantic).
    plain = ParamChat(**{name: "sk-plain-key"})
    assert "sk-plain-key" not in plain.model_dump_json() + repr(plain)
    assert plain.model_dump()["api_key"].get_secret_value() == "sk-plain-key"


def test_chatopenai_defaults_passed_explicitly_are_accepted() -> None:
    model = chat(
        openai_proxy=None,
        http_socket_options=None,
        client=None,
        async_client=None,
        model_kwargs={},
        disabled_params=None,
        use_responses_api=None,
        output_version=None,
        include_response_headers=False,
        use_previous_response_id=False,
        tiktoken_model_name=None,
        stream_usage=None,
        max_retries=None,
        openai_api_key=None,
        stop_sequences=None,
    )
    assert model.preview_request("hi").api == "chat_completions"
    assert (model.stream_usage, model.max_retries) == (True, 2)
    assert model.api_key is not None and model.api_key.get_secret_value() == "sk-test"
