"""Model-family facts come from one table: Responses-only families and reasoning models."""

from __future__ import annotations

import pytest

from langchain_paramchat.apis.responses.request import needs_encrypted_reasoning
from langchain_paramchat.model_families import (
    MODEL_FAMILIES,
    default_responses_only_models,
    is_reasoning_model,
    system_role,
)
from langchain_paramchat.routing import DEFAULT_RESPONSES_ONLY_MODELS


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-nano", "gpt-6"])
def test_reasoning_families_take_the_developer_role(model: str) -> None:
    assert is_reasoning_model(model)
    assert system_role(model) == "developer"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "my-local-model"])
def test_other_models_take_the_system_role(model: str) -> None:
    assert not is_reasoning_model(model)
    assert system_role(model) == "system"


def test_routing_defaults_are_the_tables_responses_only_rows() -> None:
    rows = tuple(f.pattern for f in MODEL_FAMILIES if f.responses_only)
    assert default_responses_only_models() == rows == DEFAULT_RESPONSES_ONLY_MODELS


def test_encrypted_reasoning_follows_the_reasoning_fact() -> None:
    assert needs_encrypted_reasoning({"store": False}, model="o4-mini")
    assert not needs_encrypted_reasoning({"store": False}, model="gpt-4o-mini")
    assert needs_encrypted_reasoning({"store": False, "reasoning": {}}, model="gpt-4o-mini")
