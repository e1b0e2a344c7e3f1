"""Option rules and payload assembly, message by message: what a caller reads when it fails.

Written against the survivors of the mutation run (docs/testing.md): each test pins a
rule's exact outcome -- which option the error names, the value, what is allowed, the fix --
so a changed condition, argument or message is caught by the fast unit tests.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.bounds import MAX_JSON_DEPTH
from langchain_paramchat.errors import IncompatibleOptionsError, OptionError, UnknownOptionError
from langchain_paramchat.options.rules import (
    apply_implied_options,
    check_contradictions,
    check_option,
    merge_options,
    resolve_name,
    suggest,
)
from langchain_paramchat.routing.decide import assemble, route

AUDIO = {"voice": "alloy", "format": "wav"}


def error_of(merged: dict[str, Any], *, stream: bool = False, tools: bool = False) -> OptionError:
    with pytest.raises(OptionError) as info:
        apply_implied_options(merged)
        check_contradictions(merged, stream=stream, tools=tools)
    return info.value


def test_audio_without_audio_modality_names_audio_and_the_fix() -> None:
    err = error_of({"audio": AUDIO, "modalities": ["text"]})
    assert (err.option, err.value) == ("audio", AUDIO)
    assert str(err) == (
        f"audio={AUDIO!r} is not valid: needs 'audio' in modalities. "
        "Pass modalities=['text', 'audio']"
    )


def test_audio_modality_without_audio_names_modalities_and_the_fix() -> None:
    err = error_of({"modalities": ["text", "audio"]})
    assert (err.option, err.value) == ("modalities", ["text", "audio"])
    assert str(err) == (
        "modalities=['text', 'audio'] is not valid: 'audio' output needs the audio option. "
        "Pass audio={'voice': 'alloy', 'format': 'wav'}"
    )


def test_audio_with_its_modality_is_accepted() -> None:
    check_contradictions(
        {"audio": AUDIO, "modalities": ["text", "audio"]}, stream=False, tools=False
    )


@pytest.mark.parametrize(
    ("n", "stream", "fails"), [(2, True, True), (2, False, False), (1, True, False)]
)
def test_several_choices_cannot_stream(n: int, stream: bool, fails: bool) -> None:
    if not fails:
        check_contradictions({"n": n}, stream=stream, tools=False)
        return
    err = error_of({"n": n}, stream=stream)
    assert (err.option, err.value) == ("n", 2)
    assert "n > 1 cannot be streamed" in str(err)
    assert str(err).endswith("Use invoke/batch for several choices, or n=1 to stream")


def test_a_too_deep_value_is_refused_showing_it_cut_short() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = {"x": deep}
    with pytest.raises(OptionError) as info:
        check_option("request_metadata", deep)
    assert (info.value.option, info.value.value) == ("request_metadata", deep)
    assert str(info.value).startswith("request_metadata={'x': {'x': ")
    assert str(info.value).endswith(
        f"is not valid: a JSON value that nests more than {MAX_JSON_DEPTH} levels deep; "
        f"the limit is {MAX_JSON_DEPTH}"
    )


def test_streaming_several_choices_says_why_and_what_to_do() -> None:
    assert str(error_of({"n": 3}, stream=True)) == (
        "n=3 is not valid: n > 1 cannot be streamed: LangChain merges a stream into one "
        "message. Use invoke/batch for several choices, or n=1 to stream"
    )


def test_n_1_is_left_out_of_the_request() -> None:
    # One choice is what both APIs give anyway, and newer models reject any n.
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test", n=1)
    assert "n" not in model.preview_request("hi").payload
    assert model.preview_request("hi", n=2).payload["n"] == 2


def test_top_logprobs_turns_logprobs_on_and_refuses_logprobs_false() -> None:
    merged: dict[str, Any] = {"top_logprobs": 3}
    apply_implied_options(merged)
    assert merged["logprobs"] is True
    check_contradictions(merged, stream=False, tools=False)
    err = error_of({"top_logprobs": 3, "logprobs": False})
    assert (err.option, err.value) == ("top_logprobs", 3)
    assert str(err) == "top_logprobs=3 is not valid: needs logprobs=True. Set logprobs=True"


PREDICTION = {"type": "content", "content": "x"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 2),
        ("logprobs", True),
        ("presence_penalty", 0.5),
        ("frequency_penalty", 0.5),
        ("audio", AUDIO),
        ("modalities", ["text", "audio"]),
        ("max_tokens", 10),
    ],
)
def test_prediction_refuses_each_conflicting_option_by_name(name: str, value: Any) -> None:
    merged = {"prediction": PREDICTION, name: value}
    if name == "audio":
        merged["modalities"] = ["text", "audio"]
    if name == "modalities":
        merged["audio"] = AUDIO
    err = error_of(merged)
    assert err.option in (name, "audio")
    assert "is not valid: cannot be combined with prediction (OpenAI rejects it). " in str(err)
    assert str(err).endswith(f"Drop {err.option} or prediction")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 1),
        ("logprobs", False),
        ("presence_penalty", 0),
        ("frequency_penalty", -0.5),
        ("modalities", ["text"]),
    ],
)
def test_prediction_accepts_the_harmless_values_of_those_options(name: str, value: Any) -> None:
    check_contradictions({"prediction": PREDICTION, name: value}, stream=False, tools=False)


def test_prediction_with_tools_is_refused_naming_prediction() -> None:
    err = error_of({"prediction": PREDICTION}, tools=True)
    assert (err.option, err.value) == ("prediction", PREDICTION)
    assert str(err).endswith(
        "cannot be combined with tools (OpenAI rejects it). Drop the tools or prediction"
    )
    check_contradictions({"prediction": PREDICTION}, stream=False, tools=False)


@pytest.mark.parametrize(
    ("name", "value", "where", "shown"),
    [
        ("temperature", "hot", "temperature", "'hot'"),
        ("temperature", 5, "temperature", "5"),
        ("reasoning", {"effort": "zzz"}, "reasoning.effort", "'zzz'"),
        ("stop", [1], "stop[0]", "1"),
    ],
)
def test_a_bad_value_names_where_it_is_and_shows_that_part(
    name: str, value: Any, where: str, shown: str | None
) -> None:
    with pytest.raises(OptionError) as info:
        check_option(name, value)
    err = info.value
    assert err.option == where
    assert str(err).startswith(f"{where}=")
    if shown is not None:
        assert str(err).startswith(f"{where}={shown} is not valid: ")


def test_none_is_always_a_valid_value() -> None:
    check_option("temperature", None)


def test_aliases_that_agree_merge_and_that_disagree_fail_naming_both() -> None:
    assert merge_options({}, {"max_tokens": 5, "max_completion_tokens": 5})["max_tokens"] == 5
    with pytest.raises(OptionError) as info:
        merge_options({}, {"max_tokens": 5, "max_completion_tokens": 6})
    err = info.value
    assert (err.option, err.value) == ("max_completion_tokens", 6)
    assert str(err) == (
        "max_completion_tokens=6 is not valid: disagrees with max_tokens=5 in the same call. "
        "Pass only one of max_tokens and max_completion_tokens"
    )


def test_an_alias_given_as_none_leaves_the_other_spelling() -> None:
    assert merge_options({}, {"max_tokens": 5, "max_completion_tokens": None})["max_tokens"] == 5
    assert merge_options({}, {"max_completion_tokens": None, "max_tokens": 5})["max_tokens"] == 5


def test_unknown_names_are_named_and_get_one_close_suggestion_or_none() -> None:
    with pytest.raises(UnknownOptionError) as info:
        resolve_name("temperatur", 1)
    assert info.value.option == "temperatur"
    assert info.value.suggestion == "temperature"
    assert suggest("temperatur") == "temperature"
    assert suggest("zzzzzzzzzz") is None
    assert suggest("metadata") == "request_metadata"


def test_assemble_nests_dotted_paths_and_merges_lists_and_objects() -> None:
    payload = assemble(
        [
            ("reasoning", {"reasoning": {"effort": "low"}}),
            ("reasoning_summary", {"reasoning.summary": "auto"}),
            ("include", {"include": ["a", "b"]}),
            ("logprobs", {"include": ["b", "c"]}),
            ("text", {"text": {"format": {"type": "text"}}}),
            ("verbosity", {"text.verbosity": "low"}),
        ]
    )
    assert payload == {
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["a", "b", "c"],
        "text": {"format": {"type": "text"}, "verbosity": "low"},
    }


@pytest.mark.parametrize(
    ("placements", "message"),
    [
        (
            [("a", {"x": 1}), ("b", {"x": 2})],
            "a and b both set 'x' with different values; set only one of them",
        ),
        (
            [("a", {"x": {"k": 1}}), ("b", {"x": {"k": 2}})],
            "a and b both set 'x.k' with different values; set only one of them",
        ),
        (
            [("a", {"x.k": 1}), ("b", {"x": {"k": 2}})],
            "a and b both set 'x.k' with different values; set only one of them",
        ),
        (
            [("a", {"x.y.k": 1}), ("b", {"x.y": {"k": 2}})],
            "a and b both set 'x.y.k' with different values; set only one of them",
        ),
    ],
)
def test_two_options_writing_one_place_are_named(
    placements: list[tuple[str, dict[str, Any]]], message: str
) -> None:
    with pytest.raises(IncompatibleOptionsError, match=f"^{re.escape(message)}$"):
        assemble(placements)


def test_the_same_value_twice_is_not_a_clash() -> None:
    assert assemble([("a", {"x": 1}), ("b", {"x": 1})]) == {"x": 1}
    assert assemble([("a", {"x": {"k": 1}}), ("b", {"x": {"k": 1, "j": 2}})]) == {
        "x": {"k": 1, "j": 2}
    }


@pytest.mark.parametrize(
    ("options", "api", "message"),
    [
        (
            {"background": True, "max_tool_calls": 2},
            "chat_completions",
            "api='chat_completions' cannot carry background (Responses only), max_tool_calls "
            "(Responses only); remove the option or use api='auto'",
        ),
        (
            {"logit_bias": {"1": 1}, "n": 2},
            "responses",
            "api='responses' cannot carry logit_bias (Chat Completions only), n=2 (Chat "
            "Completions only); remove the option or use api='auto'",
        ),
        (
            {"background": True, "max_tool_calls": 2, "logit_bias": {"1": 1}, "n": 2},
            "auto",
            "logit_bias (Chat Completions only), n=2 (Chat Completions only) cannot be combined "
            "with background (Responses only), max_tool_calls (Responses only)",
        ),
    ],
)
def test_routing_conflicts_name_every_option_in_the_way(
    options: dict[str, Any], api: str, message: str
) -> None:
    with pytest.raises(IncompatibleOptionsError, match=f"^{re.escape(message)}$"):
        route(options, model="gpt-4o-mini", api=api)  # type: ignore[arg-type]


def test_every_responses_only_option_is_a_reason_and_reaches_the_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="langchain_paramchat"):
        decided = route({"background": True, "max_tool_calls": 2}, model="gpt-4o-mini")
    assert decided.api == "responses"
    assert decided.reasons == (
        "background needs the Responses API",
        "max_tool_calls needs the Responses API",
    )
    assert decided.placements == {"background": True, "max_tool_calls": 2}
    assert [r.getMessage() for r in caplog.records if r.name == "langchain_paramchat"] == [
        "route: responses because background needs the Responses API; "
        "max_tool_calls needs the Responses API"
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("temperature", "hot", "temperature='hot' is not valid: expected a number, got 'hot'"),
        ("temperature", 5, "temperature=5 is not valid: must be between 0 and 2"),
        ("top_logprobs", -1, "top_logprobs=-1 is not valid: must be between 0 and 20"),
        # A value whose repr holds ": " must not split the message in the wrong place.
        (
            "temperature",
            {"a": 1},
            "temperature={'a': 1} is not valid: expected a number, got {'a': 1}",
        ),
    ],
)
def test_a_bad_value_says_what_is_allowed(name: str, value: Any, message: str) -> None:
    with pytest.raises(OptionError, match=f"^{re.escape(message)}$"):
        check_option(name, value)


@pytest.mark.parametrize(
    ("placements", "first"),
    [
        # The clash is named after the option that set that exact path, not its parent's.
        ([("a", {"x": {"k": 1}}), ("b", {"x.j": 2}), ("c", {"x.j": 3})], "b and c both set 'x.j'"),
        # Nothing owns the path or its parent: the message still names the second option.
        ([("a", {"x": {"y": {"k": 1}}}), ("b", {"x.y": {"k": 2}})], "another option and b"),
        # A value over an object only a dotted path wrote: the path's writer owns the object.
        ([("a", {"x.y": 1}), ("b", {"x": 5})], "a and b both set 'x'"),
        ([("c", {"x.w": 0}), ("a", {"x.y.z": 1}), ("b", {"x.y": 5})], "a and b both set 'x.y'"),
    ],
)
def test_a_clash_names_the_option_that_owns_the_path(
    placements: list[tuple[str, dict[str, Any]]], first: str
) -> None:
    with pytest.raises(IncompatibleOptionsError) as info:
        assemble(placements)
    assert str(info.value).startswith(first)


def test_a_bad_value_inside_a_list_inside_an_object_is_shown_alone() -> None:
    with pytest.raises(OptionError) as info:
        check_option("prediction", {"type": "content", "content": [{"type": "text", "text": 5}]})
    assert (info.value.option, info.value.value) == ("prediction.content[0].text", 5)
