"""ChatOpenAI's ``use_responses_api`` and ``_use_responses_api(payload)`` read from the router."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest
from langchain_core.load import dumpd

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import IncompatibleOptionsError, OptionError


def chat(**kwargs: Any) -> ParamChat:
    return ParamChat(api_key="sk-test", **kwargs)


# Model settings that send every plain request to the Responses API.
RESPONSES_SETTINGS: list[dict[str, Any]] = [
    {"output_version": "responses/v1"},
    {"context_management": [{"type": "compaction", "compact_threshold": 1000}]},
    {"include": []},
    {"include": ["reasoning.encrypted_content"]},
    {"truncation": "auto"},
    {"use_previous_response_id": True},
    {"reasoning": {"summary": "auto"}},
    {"model": "gpt-5-pro"},
    {"model": "gpt-5.3-codex"},
    {"websocket": True},
    {"api": "responses"},
]

# Model settings that leave the API to each request.
DYNAMIC_SETTINGS: list[dict[str, Any]] = [
    {},
    {"output_version": "v1"},
    {"reasoning_effort": "low"},
    {"reasoning": {}},
    {"model": "gpt-6-astra"},
    {"text": {"verbosity": "low"}},
    {"model": "gpt-5", "temperature": 0.2},
    {"model_kwargs": {"tools": [{"type": "web_search"}]}},
]


@pytest.mark.parametrize("settings", RESPONSES_SETTINGS)
def test_settings_that_route_every_request_read_true(settings: dict[str, Any]) -> None:
    model = chat(**settings)
    assert model.use_responses_api is True
    assert model._use_responses_api({}) is True
    assert model.preview_request("hi").api == "responses"


@pytest.mark.parametrize("settings", RESPONSES_SETTINGS[:-2])
@pytest.mark.parametrize("explicit", [True, False])
def test_an_explicit_flag_reads_as_given(settings: dict[str, Any], explicit: bool) -> None:
    model = chat(**settings, use_responses_api=explicit)
    assert model.use_responses_api is explicit
    assert model._use_responses_api({}) is explicit


@pytest.mark.parametrize("settings", DYNAMIC_SETTINGS)
def test_settings_that_leave_it_to_the_request_read_none(settings: dict[str, Any]) -> None:
    model = chat(**settings)
    assert model.use_responses_api is None
    assert model._use_responses_api({}) is False
    assert model._use_responses_api({"tools": [{"type": "web_search"}]}) is True
    assert model._use_responses_api({"include": ["reasoning.encrypted_content"]}) is True
    assert model._use_responses_api({"previous_response_id": "resp_1"}) is True
    assert model._use_responses_api({"model": "gpt-5-pro"}) is True
    assert model.preview_request("hi").api == "chat_completions"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"tools": [{"type": "web_search"}]},
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        {"text": {"verbosity": "low"}},
        {"reasoning": {"effort": "low"}},
        {"reasoning": {"effort": "low", "summary": "auto"}},
        {"truncation": "auto"},
        {"max_output_tokens": 20},
        {"model": "gpt-5.3-codex"},
        {"stream": True},
        {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}},
    ],
)
@pytest.mark.parametrize("settings", [{}, {"model": "gpt-6-astra"}, {"websocket": True}])
def test_the_answer_is_where_the_call_goes(
    settings: dict[str, Any], payload: dict[str, Any]
) -> None:
    model = chat(**settings)
    kwargs = dict(payload)
    stream = kwargs.pop("stream", False)
    preview = model.preview_request("hi", stream=stream, **kwargs)
    assert model._use_responses_api(payload) is (preview.api == "responses")


def test_a_forced_api_is_the_answer_even_where_the_call_would_fail() -> None:
    model = chat(include=[], use_responses_api=False)
    assert model._use_responses_api({}) is False
    with pytest.raises(IncompatibleOptionsError, match="include"):
        model.preview_request("hi")
    assert chat()._use_responses_api({"include": [], "use_responses_api": False}) is False
    assert chat(include=[])._use_responses_api({"api": "chat_completions"}) is False


def test_options_no_api_takes_together_raise_as_the_call_would() -> None:
    model = chat(modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"})
    assert model.use_responses_api is None  # Chat Completions, unless the request can't be sent
    with pytest.raises(IncompatibleOptionsError):
        model._use_responses_api({"tools": [{"type": "web_search"}]})
    with pytest.raises(OptionError, match="temperature"):
        model._use_responses_api({"temperature": "hot"})


def test_reading_never_warns_nor_raises() -> None:
    strict = chat(model="gpt-5", temperature=0.2, strict_options=True, include=[])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chat(model="gpt-5", temperature=0.2, include=[]).use_responses_api is True
        assert chat(model="gpt-5", temperature=0.2)._use_responses_api({}) is False
        assert strict.use_responses_api is True
    with pytest.raises(OptionError, match="temperature"):
        strict.preview_request("hi")  # the call itself still refuses it


@pytest.mark.parametrize("flag", [None, True, False])
def test_reading_changes_no_dump_copy_or_pickle(flag: bool | None) -> None:
    model = chat(include=[], use_responses_api=flag)
    before = dumpd(model)
    expected = True if flag is None else flag
    assert model.use_responses_api is expected
    assert dumpd(model) == before
    assert "use_responses_api" not in before["kwargs"]
    assert before["kwargs"].get("api", "auto") == {None: "auto", True: "responses"}.get(
        flag, "chat_completions"
    )
    assert model.model_copy().use_responses_api is expected
    assert model.model_copy().api == model.api
    assert pickle.loads(pickle.dumps(model)).use_responses_api is expected
    assert "use_responses_api" not in repr(model)


def test_model_copy_takes_chatopenai_names_and_checks_options() -> None:
    model = chat(model="gpt-4.1")
    copy = model.model_copy(update={"use_responses_api": True, "temperature": 0.3})
    assert (copy.api, copy.use_responses_api) == ("responses", True)
    assert copy.preview_request("hi").payload["temperature"] == 0.3
    assert "temperature" not in model.preview_request("hi").payload  # the original is unchanged
    assert model.use_responses_api is None
    back = copy.model_copy(update={"use_responses_api": None})
    assert (back.api, back.use_responses_api) == ("auto", None)
    renamed = model.model_copy(update={"model_name": "gpt-5-pro", "max_completion_tokens": 9})
    assert (renamed.model, renamed.use_responses_api) == ("gpt-5-pro", True)
    assert renamed.preview_request("hi").payload["max_output_tokens"] == 9
    with pytest.raises(OptionError, match="temperature"):
        model.model_copy(update={"temperature": "hot"})
    with pytest.raises(OptionError, match="use_responses_api"):
        model.model_copy(update={"use_responses_api": "yes"})
    with pytest.raises(OptionError, match="use_responses_api"):
        model.model_copy(update={"use_responses_api": True, "api": "chat_completions"})


def test_bind_tools_asks_the_router_without_warning_twice() -> None:
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str

    model = chat(model="gpt-5", temperature=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rejected temperature warns at the call, not here
        on_chat = model.bind_tools([Weather], response_format=Weather)
        on_responses = chat(include=[]).bind_tools([Weather], response_format=Weather)
    # strict defaults to True unless every call goes to Responses, as in ChatOpenAI.
    assert on_chat.kwargs["tools"][0]["function"]["strict"] is True  # type: ignore[attr-defined]
    assert "strict" not in on_responses.kwargs["tools"][0]["function"]  # type: ignore[attr-defined]
