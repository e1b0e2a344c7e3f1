"""Model facts: the installed SDK's model lists first, one family table for the rest.

The drift tests fail when a newer ``openai`` SDK lists a model the table does not classify,
or lists as Responses-only an id whose family row would route its siblings elsewhere.
"""

from __future__ import annotations

from datetime import date

import pytest

from langchain_paramchat.apis.responses.request import needs_encrypted_reasoning
from langchain_paramchat.routing.decide import DEFAULT_RESPONSES_ONLY_MODELS
from langchain_paramchat.routing.model_facts import (
    FAMILIES,
    default_responses_only_models,
    facts,
    family_of,
    is_reasoning_model,
    sdk_chat_models,
    sdk_responses_only_models,
    sdk_shutdown_dates,
    system_role,
)

# ChatModel ids OpenAI serves only through Responses all the same (its model pages say so,
# and ChatOpenAI routes them there): the family row wins over the SDK's ChatModel listing.
FAMILY_OVERRIDES_SDK = {
    "codex-mini-latest",
    "gpt-5.1-codex",
    "gpt-5.2-pro",
    "gpt-5.2-pro-2025-12-11",
}


def test_every_model_the_sdk_lists_has_a_family() -> None:
    listed = sdk_chat_models() | sdk_responses_only_models()
    assert len(listed) > 50  # the SDK's literals were read
    unclassified = sorted(m for m in listed if family_of(m) is None)
    assert not unclassified, f"add rows to model_facts.FAMILIES for {unclassified}"


def test_the_sdks_responses_only_models_are_responses_only_families() -> None:
    # A family row that disagrees would route the next dated id of the family wrongly.
    wrong = sorted(m for m in sdk_responses_only_models() if not family_of(m).responses_only)  # type: ignore[union-attr]
    assert not wrong
    assert sdk_responses_only_models() >= {"gpt-6-cyber", "gpt-6.2-astra-law", "o3-pro"}


def test_families_marked_responses_only_among_chat_models_are_the_known_exceptions() -> None:
    marked = {m for m in sdk_chat_models() if facts(m).responses_only}
    assert marked == FAMILY_OVERRIDES_SDK


@pytest.mark.parametrize(
    ("model", "because"),
    [
        ("gpt-6-cyber", "ResponsesModel"),
        ("gpt-6.1-sol-healthcare", "ResponsesModel"),
        ("gpt-6.9-astra-healthcare", "family rule"),  # newer than the SDK
        ("gpt-7.1-pro", "family rule"),
        ("o5-pro", "family rule"),
        ("gpt-5.7-codex", "family rule"),
    ],
)
def test_responses_only_comes_from_the_sdk_or_a_family_rule(model: str, because: str) -> None:
    found = facts(model)
    assert found.responses_only
    assert because in (found.responses_only_because or "")


@pytest.mark.parametrize("model", ["gpt-6-sol", "gpt-6.4-terra", "gpt-5.6-luna", "gpt-6-astra"])
def test_gpt6_and_gpt56_take_function_tools_on_responses(model: str) -> None:
    assert facts(model).tools_need_responses
    assert not facts(model).responses_only


@pytest.mark.parametrize("model", ["gpt-5.5", "gpt-5.4-mini", "gpt-4.1", "o3"])
def test_older_models_take_function_tools_on_both_apis(model: str) -> None:
    assert not facts(model).tools_need_responses


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini", "o3-pro", "o3-2025-04-16"])
def test_the_o_series_takes_the_developer_role(model: str) -> None:
    assert is_reasoning_model(model)
    assert system_role(model) == "developer"


@pytest.mark.parametrize("model", ["gpt-5", "gpt-5-nano", "gpt-6", "gpt-5.4-mini", "gpt-5.5-pro"])
def test_other_reasoning_models_take_the_system_role_as_chatopenai_sends_it(model: str) -> None:
    # OpenAI reads a system message to these models as developer instructions.
    assert is_reasoning_model(model)
    assert system_role(model) == "system"


@pytest.mark.parametrize(
    "model", ["gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "gpt-5-chat-latest", "my-local-model"]
)
def test_other_models_take_the_system_role(model: str) -> None:
    assert not is_reasoning_model(model)
    assert system_role(model) == "system"


def test_fine_tunes_and_prefixed_ids_share_their_base_models_facts() -> None:
    assert facts("ft:gpt-4.1-mini:acme::abc123").family == facts("gpt-4.1-mini").family
    assert facts("openai/gpt-6-cyber").responses_only


@pytest.mark.parametrize("model", ["gpt-5", "o3", "o4-mini", "gpt-5.4-mini", "gpt-6-astra"])
def test_reasoning_models_reject_sampling_options(model: str) -> None:
    found = facts(model)
    for option in ("temperature", "top_p", "logprobs", "frequency_penalty", "logit_bias"):
        assert found.rejects(option)
    assert not found.rejects("max_tokens")


def test_gpt51_and_later_take_temperature_without_reasoning() -> None:
    assert not facts("gpt-5.1").rejects("temperature", "none")
    assert not facts("gpt-6-sol").rejects("top_p", "none")
    assert facts("gpt-6-sol").rejects("temperature", "low")
    # Penalties stay refused; gpt-5 and gpt-6 astra have no "none" effort at all.
    assert facts("gpt-5.4-mini").rejects("presence_penalty", "none")
    assert facts("gpt-5").rejects("temperature", "none")
    assert facts("gpt-6-astra").rejects("temperature", "none")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-5-chat-latest", "my-model"])
def test_other_models_reject_nothing(model: str) -> None:
    assert not facts(model).rejects("temperature")


def test_shutdown_dates_come_from_the_sdk() -> None:
    dates = sdk_shutdown_dates()
    assert dates["gpt-4o-mini"] == date(2027, 1, 14)
    assert dates["gpt-4-0314"] == date(2026, 3, 26)  # an entry wrapped over two lines
    assert facts("o4-mini").shutdown == date(2026, 10, 23)
    assert facts("gpt-5.4-mini").shutdown is None


def test_every_dated_model_has_a_successor() -> None:
    # Except gpt-audio: no newer audio chat model exists in the SDK to name.
    missing = sorted(m for m in sdk_shutdown_dates() if not facts(m).family.successor)
    assert missing == ["gpt-audio-mini", "gpt-audio-mini-2025-12-15"]


def test_every_family_names_its_limits() -> None:
    for family in FAMILIES:
        assert family.context_window and family.max_output_tokens, family.name


def test_routing_defaults_are_the_tables_responses_only_rows() -> None:
    rows = tuple(f.pattern for f in FAMILIES if f.responses_only)
    assert default_responses_only_models() == rows == DEFAULT_RESPONSES_ONLY_MODELS


def test_encrypted_reasoning_follows_the_reasoning_fact() -> None:
    assert needs_encrypted_reasoning({"store": False}, model="o4-mini")
    assert not needs_encrypted_reasoning({"store": False}, model="gpt-4o-mini")
    assert needs_encrypted_reasoning({"store": False, "reasoning": {}}, model="gpt-4o-mini")
