"""An unknown keyword's error names an option only when the keyword plausibly misspells it."""

from __future__ import annotations

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import UnknownOptionError


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("temperatur", "temperature"),
        ("tempurature", "temperature"),
        ("reasoning_efort", "reasoning_effort"),
        ("tools_choice", "tool_choice"),
        ("stremaing", "streaming"),
        ("modle", "model"),
        ("retries", "max_retries"),
        ("temp", "temperature"),
        ("context", "context_management"),
        # One edit for names of up to 5 characters: a letter missing, doubled, wrong or
        # swapped with its neighbour (at either end too).
        ("txt", "text"),
        ("stopp", "stop"),
        ("imahe", "image"),
        ("uadio", "audio"),
        # Two edits up to 10 characters, three beyond.
        ("logprs", "logprobs"),
        ("backgrnd", "background"),
        ("max_tocalls", "max_tool_calls"),
        ("conversation_id", "conversation"),
        # The words of an option, in a row.
        ("cache_key", "prompt_cache_key"),
    ],
)
def test_a_plausible_typo_names_the_option(typo: str, meant: str) -> None:
    with pytest.raises(UnknownOptionError, match=f"Did you mean '{meant}'") as caught:
        ParamChat(api_key="sk-x", **{typo: 1})
    assert caught.value.suggestion == meant


@pytest.mark.parametrize(
    "name",
    [
        "stop_words",  # was "top_logprobs"
        "n_predict",  # was "prediction"
        "region",  # was "prediction"
        "contxt",  # was "text"
        "messages",  # was "image"
        "repetition_penalty",  # was "presence_penalty"
        "max_length",  # was "max_tokens"
        "penalty",  # two options end with it: naming one would be a guess
        "foo",
        "incde",  # two letters off "include": too many for five characters
        "exit",  # two off "text"
        "includeall",  # three past "include": too many for ten characters
        "temperament",  # four off "temperature": too many for any name
        "max_tool_uses",  # four off "max_tool_calls"
    ],
)
def test_a_far_fetched_match_names_nothing(name: str) -> None:
    with pytest.raises(UnknownOptionError) as caught:
        ParamChat(api_key="sk-x", **{name: 1})
    assert caught.value.suggestion is None
    assert "Did you mean" not in str(caught.value)
    with pytest.raises(UnknownOptionError) as per_call:
        ParamChat(api_key="sk-x").preview_request("hi", **{name: 1})
    assert per_call.value.suggestion is None
