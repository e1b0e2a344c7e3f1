"""Option rules: one merge for construction and calls, aliases, contradictions, notes."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_paramchat import OptionError, ParamChat, UnknownOptionError
from langchain_paramchat.options import (
    CONVERTER_NOTES,
    OPTIONS,
    apply_implied_options,
    check_contradictions,
    merge_options,
)


def model(**kwargs: Any) -> ParamChat:
    return ParamChat(model="gpt-5", api_key="sk-test", **kwargs)


@pytest.mark.parametrize(
    "given",
    [
        {"reasoning_effort": "low", "reasoning": {"summary": "auto"}},
        {"reasoning": {"summary": "auto"}, "reasoning_effort": "low"},
    ],
)
def test_reasoning_effort_and_reasoning_combine_in_either_order(given: dict[str, Any]) -> None:
    want = {"effort": "low", "summary": "auto"}
    assert merge_options({}, given)["reasoning"] == want
    assert model(**given).reasoning == want
    assert model().preview_request("x", **given).payload["reasoning"] == want


@pytest.mark.parametrize(
    "given",
    [
        {"reasoning_effort": "low", "reasoning": {"effort": "high"}},
        {"reasoning": {"effort": "high"}, "reasoning_effort": "low"},
    ],
)
def test_disagreeing_efforts_fail_the_same_way_at_construction_and_per_call(
    given: dict[str, Any],
) -> None:
    with pytest.raises(OptionError, match="disagrees with") as at_init:
        model(**given)
    with pytest.raises(OptionError, match="disagrees with") as per_call:
        model().preview_request("x", **given)
    assert str(at_init.value) == str(per_call.value)


def test_reasoning_effort_per_call_keeps_the_rest_of_the_fields_reasoning() -> None:
    preview = model(reasoning={"summary": "auto"}).preview_request("x", reasoning_effort="high")
    assert preview.payload["reasoning"] == {"summary": "auto", "effort": "high"}


def test_reasoning_per_call_replaces_the_fields_reasoning() -> None:
    preview = model(reasoning={"summary": "auto"}).preview_request("x", reasoning={"effort": "low"})
    assert preview.payload["reasoning_effort"] == "low"
    assert preview.api == "chat_completions"


def test_token_limit_aliases_must_agree() -> None:
    assert merge_options({}, {"max_tokens": 5, "max_output_tokens": 5}) == {"max_tokens": 5}
    with pytest.raises(
        OptionError, match="max_output_tokens=6 is not valid: disagrees with max_tokens=5"
    ):
        merge_options({}, {"max_tokens": 5, "max_output_tokens": 6})


def test_none_unsets_a_default_for_one_call() -> None:
    assert merge_options({"temperature": 0.5, "seed": 1}, {"temperature": None}) == {"seed": 1}
    assert (
        "temperature" not in model(temperature=0.5).preview_request("x", temperature=None).payload
    )


def test_merge_checks_each_value() -> None:
    with pytest.raises(OptionError, match="temperature"):
        merge_options({}, {"temperature": 5})


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("temperatur", "temperature"), ("base_ur", "base_url"), ("stream_usag", "stream_usage")],
)
def test_unknown_keywords_suggest_options_settings_and_call_arguments(
    typo: str, suggestion: str
) -> None:
    with pytest.raises(UnknownOptionError) as at_init:
        model(**{typo: 1})
    assert at_init.value.suggestion == suggestion
    with pytest.raises(UnknownOptionError) as per_call:
        model().preview_request("x", **{typo: 1})
    assert per_call.value.suggestion == suggestion


def test_top_logprobs_alone_turns_logprobs_on() -> None:
    merged: dict[str, Any] = {"top_logprobs": 3}
    apply_implied_options(merged)
    assert merged["logprobs"] is True
    check_contradictions(merged, stream=False, tools=False)


@pytest.mark.parametrize(
    ("merged", "tools", "stream", "what"),
    [
        ({"prediction": {"type": "content", "content": "x"}}, True, False, "prediction"),
        ({"prediction": {"type": "content", "content": "x"}, "n": 2}, False, False, "n=2"),
        ({"n": 2}, False, True, "n=2"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, False, False, "audio"),
        ({"modalities": ["text", "audio"]}, False, False, "modalities"),
        ({"top_logprobs": 2, "logprobs": False}, False, False, "top_logprobs"),
    ],
)
def test_contradictions_name_the_option(
    merged: dict[str, Any], tools: bool, stream: bool, what: str
) -> None:
    with pytest.raises(OptionError, match=what):
        apply_implied_options(merged)
        check_contradictions(merged, stream=stream, tools=tools)


def test_every_converter_in_the_table_says_what_it_writes() -> None:
    converters = [
        target
        for spec in OPTIONS.values()
        for target in (spec.opt.chat, spec.opt.responses)
        if callable(target)
    ]
    assert converters
    assert all(CONVERTER_NOTES.get(c) for c in converters)


def test_values_a_reasoning_model_applies_anyway_are_left_out_silently() -> None:
    import warnings

    from langchain_paramchat.routing.model_checks import drop_rejected_options

    merged: dict = {"temperature": 1, "top_p": 1, "max_tokens": 5}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drop_rejected_options(merged, "o3", strict=True)
    assert merged == {"max_tokens": 5}
