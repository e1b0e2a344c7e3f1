"""Routing rules: which API a request goes to, and why."""

from __future__ import annotations

import logging
import pickle

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_paramchat import IncompatibleOptionsError, ParamChat
from langchain_paramchat.routing.decide import route


def test_neither_kind_goes_to_chat_completions() -> None:
    decided = route({"temperature": 0.1}, model="gpt-4o-mini")
    assert decided.api == "chat_completions"
    assert "default" in decided.reasons[0]


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"reasoning": {"effort": "low", "summary": "auto"}}, "reasoning.summary"),
        ({"reasoning": {"generate_summary": "auto"}}, "reasoning.generate_summary"),
        ({"include": ["reasoning.encrypted_content"]}, "include"),
        ({"instructions": "x"}, "instructions"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"truncation": "auto"}, "truncation"),
        ({"background": True}, "background"),
        ({"max_tool_calls": 2}, "max_tool_calls"),
        ({"prompt": {"id": "p"}}, "prompt"),
        ({"text": {"verbosity": "low", "format": {"type": "text"}}, "store": True}, None),
        ({"service_tier": "ultrafast"}, "service_tier='ultrafast'"),
        ({"prompt_cache_options": {"mode": "explicit", "ttl": "12h"}}, "prompt_cache_options"),
    ],
)
def test_responses_only_options_route_to_responses(options: dict, why: str | None) -> None:
    decided = route(options, model="gpt-5")
    if why is None:  # text with only format/verbosity translates to Chat Completions
        assert decided.api == "chat_completions"
        return
    assert decided.api == "responses"
    assert any(why in r for r in decided.reasons)


@pytest.mark.parametrize(
    "options",
    [
        {"audio": {"voice": "alloy", "format": "wav"}, "modalities": ["text", "audio"]},
        {"prediction": {"type": "content", "content": "x"}},
        {"n": 2},
        {"logit_bias": {"1": 5}},
        {"seed": 1},
        {"stop": "END"},
        {"frequency_penalty": 0.1},
        {"presence_penalty": 0.1},
        {"web_search_options": {}},
    ],
)
def test_chat_only_options_route_to_chat(options: dict) -> None:
    decided = route(options, model="gpt-5")
    assert decided.api == "chat_completions"
    assert all("Chat Completions" in r for r in decided.reasons)


def test_audio_input_routes_to_chat() -> None:
    decided = route(
        {},
        model="gpt-4o-audio-preview",
        unsupported={"responses": ["audio input in messages[0]"]},
    )
    assert decided.api == "chat_completions"
    assert decided.reasons == ("audio input in messages[0] needs the Chat Completions API",)


def test_both_kinds_raise_naming_each_side() -> None:
    with pytest.raises(IncompatibleOptionsError) as err:
        route(
            {"audio": {"voice": "alloy", "format": "wav"}, "reasoning": {"summary": "auto"}},
            model="gpt-5",
        )
    assert str(err.value) == (
        "audio (Chat Completions only) cannot be combined with reasoning.summary (Responses only)"
    )


def test_builtin_tool_routes_to_responses() -> None:
    decided = route({}, model="gpt-5", unsupported={"chat_completions": ["tool 'web_search'"]})
    assert decided.api == "responses"
    with pytest.raises(IncompatibleOptionsError, match="seed"):
        route({"seed": 1}, model="gpt-5", unsupported={"chat_completions": ["tool 'web_search'"]})


@pytest.mark.parametrize(
    "model",
    [
        "o1-pro",
        "o3-pro-2025-06-10",
        "gpt-5-pro",
        "gpt-5-codex",
        "o3-deep-research",
        "computer-use-preview",
    ],
)
def test_responses_only_models(model: str) -> None:
    decided = route({}, model=model)
    assert decided.api == "responses"
    assert model in decided.reasons[0]


def test_model_patterns_are_overridable() -> None:
    assert route({}, model="o1-pro", responses_only_models=()).api == "chat_completions"
    assert route({}, model="my-model", responses_only_models=["^my-"]).api == "responses"


def test_explicit_api_that_cannot_carry_an_option_is_an_error() -> None:
    with pytest.raises(
        IncompatibleOptionsError, match=r"api='chat_completions' cannot carry reasoning.summary"
    ):
        route({"reasoning": {"summary": "auto"}}, model="gpt-5", api="chat_completions")
    decided = route({"temperature": 1.0}, model="gpt-5", api="responses")
    assert decided.api == "responses"
    assert decided.reasons == ("api='responses' was requested",)


def test_equivalents_are_translated_not_dropped() -> None:
    options = {
        "max_tokens": 50,
        "reasoning": {"effort": "high", "summary": "auto"},
        "verbosity": "low",
        "response_format": {"type": "json_object"},
        "logprobs": True,
        "top_logprobs": 2,
    }
    decided = route(options, model="gpt-5")
    assert decided.placements == {
        "max_output_tokens": 50,
        "reasoning": {"effort": "high", "summary": "auto"},
        "text": {"verbosity": "low", "format": {"type": "json_object"}},
        "include": ["message.output_text.logprobs"],
        "top_logprobs": 2,
    }


def test_two_options_writing_one_place_conflict() -> None:
    with pytest.raises(IncompatibleOptionsError, match="verbosity"):
        route({"verbosity": "low", "text": {"verbosity": "high"}}, model="gpt-5", api="responses")


def test_route_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="langchain_paramchat"):
        route({"instructions": "x"}, model="gpt-5")
    assert "route: responses because instructions needs the Responses API" in caplog.text


def test_routing_is_per_call_not_locked_by_construction() -> None:
    model = ParamChat(model="gpt-5", api_key="sk-test", seed=3)
    assert model.preview_request("hi").api == "chat_completions"
    assert model.preview_request("hi", seed=None, instructions="be brief").api == "responses"
    assert model.preview_request("hi").api == "chat_completions"


IMAGE_BY_FILE_ID = {"type": "image", "file_id": "file-img1"}


def test_image_by_file_id_routes_to_responses() -> None:
    # Bug 2: Chat Completions cannot carry it, so routing picks Responses instead of failing.
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test")
    message = HumanMessage(content=[{"type": "text", "text": "What is this?"}, IMAGE_BY_FILE_ID])
    preview = model.preview_request([message])
    assert preview.api == "responses"
    assert preview.reasons == ("an image by file_id in messages[0] needs the Responses API",)
    assert preview.payload["input"][0]["content"][1] == {
        "type": "input_image",
        "detail": "auto",
        "file_id": "file-img1",
    }


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ([{"type": "file", "url": "https://example.com/a.pdf"}], "a file by URL in messages[0]"),
        ([IMAGE_BY_FILE_ID], "an image by file_id in messages[0]"),
    ],
)
def test_inputs_chat_cannot_carry_name_themselves_when_chat_is_forced(
    content: list, what: str
) -> None:
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test", api="chat_completions")
    with pytest.raises(IncompatibleOptionsError) as err:
        model.preview_request([HumanMessage(content=content)])
    assert str(err.value) == (
        f"api='chat_completions' cannot carry {what} (Responses only); "
        "remove the option or use api='auto'"
    )


def test_audio_input_with_an_image_by_file_id_names_both() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    model = ParamChat(model="gpt-4o-audio-preview", api_key="sk-test")
    with pytest.raises(IncompatibleOptionsError) as err:
        model.preview_request([HumanMessage(content=[audio, IMAGE_BY_FILE_ID])])
    assert str(err.value) == (
        "audio input in messages[0] (Chat Completions only) cannot be combined with "
        "an image by file_id in messages[0] (Responses only)"
    )


def test_tool_result_with_an_image_routes_to_responses() -> None:
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test")
    messages = [
        HumanMessage("Look"),
        AIMessage("", tool_calls=[{"name": "snap", "args": {}, "id": "call_1"}]),
        ToolMessage(
            content=[{"type": "image", "url": "https://example.com/a.png"}], tool_call_id="call_1"
        ),
    ]
    preview = model.preview_request(messages)
    assert preview.api == "responses"
    assert preview.reasons == (
        "a tool result with images or files in messages[2] needs the Responses API",
    )


@pytest.mark.parametrize(
    ("model", "fact"),
    [
        ("gpt-6-cyber", "ResponsesModel, not in ChatModel"),
        ("gpt-6.2-astra-law", "ResponsesModel, not in ChatModel"),
        ("gpt-7-pro", "family rule 'gpt-x pro'"),
    ],
)
def test_the_reason_names_the_fact_that_made_a_model_responses_only(model: str, fact: str) -> None:
    decided = route({}, model=model)
    assert decided.api == "responses"
    assert fact in decided.reasons[0]


@pytest.mark.parametrize("model", ["gpt-6-sol", "gpt-6.3-luna", "gpt-5.6-terra"])
def test_tools_send_gpt6_and_gpt56_to_responses(model: str) -> None:
    assert route({}, model=model).api == "chat_completions"
    decided = route({}, model=model, tools=True)
    assert decided.api == "responses"
    assert "takes tools only on the Responses API" in decided.reasons[0]
    assert route({}, model="gpt-5.5", tools=True).api == "chat_completions"


def test_an_own_responses_only_list_replaces_the_facts_but_not_the_tool_rule() -> None:
    assert route({}, model="gpt-6-cyber", responses_only_models=()).api == "chat_completions"
    assert route({}, model="gpt-6-sol", responses_only_models=(), tools=True).api == "responses"


def _reasoning_values() -> list[tuple[str, str]]:
    """Return (key, a value the SDK allows) for every key of the SDK's ``Reasoning``."""
    import typing

    from openai.types.shared_params import Reasoning

    pairs = []
    for key, hint in typing.get_type_hints(Reasoning).items():
        literals = [
            value
            for arg in (typing.get_args(hint) or (hint,))
            for value in typing.get_args(arg)
            if typing.get_origin(arg) is typing.Literal and isinstance(value, str)
        ]
        pairs.append((key, literals[-1] if literals else "auto"))
    return pairs


REASONING_VALUES = _reasoning_values()


def _nullable_reasoning_keys() -> set[str]:
    import typing

    from openai.types.shared_params import Reasoning

    hints = typing.get_type_hints(Reasoning)
    return {key for key, hint in hints.items() if type(None) in typing.get_args(hint)}


NULLABLE_REASONING_KEYS = _nullable_reasoning_keys()


def test_every_reasoning_key_of_the_sdk_is_covered() -> None:
    # A new key in the SDK's Reasoning gets a routing case below without editing this file.
    assert {"effort", "summary", "generate_summary", "context", "mode"} <= {
        key for key, _ in REASONING_VALUES
    }


@pytest.mark.parametrize(("key", "value"), REASONING_VALUES)
def test_routing_for_every_reasoning_key(key: str, value: str) -> None:
    model = ParamChat(api_key="sk-routing-test", model="gpt-5", reasoning={key: value})
    preview = model.preview_request("hi")
    if key == "effort":  # the one key Chat Completions carries, as reasoning_effort
        assert preview.api == "chat_completions"
        assert preview.payload["reasoning_effort"] == value
        assert "reasoning" not in preview.payload
    else:
        assert preview.api == "responses"
        assert any(f"reasoning.{key}" in reason for reason in preview.reasons)
        assert preview.payload["reasoning"] == {key: value}
        with pytest.raises(IncompatibleOptionsError, match=f"reasoning.{key}"):
            model.preview_request("hi", api="chat_completions")
    # Together with effort, the key decides alone; set to None (where allowed) it routes
    # nowhere.
    both = model.preview_request("hi", reasoning={"effort": "low", key: value})
    assert both.api == preview.api
    if key in NULLABLE_REASONING_KEYS:
        unset = ParamChat(api_key="sk-routing-test", model="gpt-5", reasoning={key: None})
        assert unset.preview_request("hi").api == "chat_completions"


def test_the_default_route_says_why_in_its_reasons() -> None:
    preview = ParamChat(model="gpt-4o-mini", api_key="sk-test").preview_request("hi")
    assert preview.reasons == (
        "no option needs the Responses API; Chat Completions is the default",
    )


def test_an_own_responses_only_list_routes_every_call_and_says_so() -> None:
    model = ParamChat(model="my-model", api_key="sk-test", responses_only_models=["^my-"])
    preview = model.preview_request("hi")
    assert preview.api == "responses"
    assert preview.reasons == (
        "model 'my-model' is served only by the Responses API (it matches responses_only_models)",
    )


WEATHER = {
    "type": "function",
    "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}},
}


def test_a_model_that_takes_tools_only_on_responses_gets_them_there() -> None:
    model = ParamChat(model="gpt-6-sol", api_key="sk-test")
    assert model.preview_request("hi").api == "chat_completions"
    assert model.preview_request("hi", tools=[WEATHER]).api == "responses"


def test_a_model_restored_from_a_pickle_routes_as_before() -> None:
    # Unpickled, the default responses_only_models is an equal tuple, not the same object:
    # the model facts (here the SDK's model lists) must still decide.
    model = ParamChat(model="gpt-6-cyber", api_key="sk-test")
    restored = pickle.loads(pickle.dumps(model))
    assert restored.preview_request("hi").reasons == model.preview_request("hi").reasons
    assert restored.preview_request("hi").api == "responses"


def test_an_option_after_tool_choice_still_routes_and_is_sent() -> None:
    decided = route(
        {"tool_choice": "auto", "reasoning": {"effort": "low", "summary": "auto"}},
        model="gpt-5",
    )
    assert decided.api == "responses"
    assert decided.placements["reasoning"] == {"effort": "low", "summary": "auto"}


def test_a_value_neither_api_accepts_fails_naming_the_option() -> None:
    with pytest.raises(
        IncompatibleOptionsError,
        match=r"^include is not accepted by either API; see the option table in the README$",
    ):
        ParamChat(model="gpt-5.5", api_key="sk-test").preview_request("hi", include=["x"])


def test_websocket_mode_says_it_is_why_a_call_goes_to_responses() -> None:
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test", websocket=True)
    assert model.preview_request("hi").reasons == (
        "websocket=True (the Responses API's WebSocket mode) needs the Responses API",
    )
