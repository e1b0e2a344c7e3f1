"""``use_responses_api`` and ``_use_responses_api`` tell where requests really go.

ChatOpenAI code reads the API off the model. Whatever these report must be the endpoint the
request then reaches, through the real SDK against the scripted server: invoke and stream,
sync and async, for model settings that fix the API and for ones that leave it to the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI
from tests.integration.reply_modes import MODES, run

Factory = Callable[..., ParamChat]

ENDPOINTS = {True: "/v1/responses", False: "/v1/chat/completions"}

SETTINGS: list[dict[str, Any]] = [
    {},
    {"use_responses_api": True},
    {"use_responses_api": False},
    {"output_version": "responses/v1"},
    {"include": ["reasoning.encrypted_content"]},
    {"truncation": "auto"},
    {"reasoning": {"effort": "low", "summary": "auto"}},
    {"reasoning_effort": "low"},
    {"model": "gpt-5-pro"},
    {"model": "gpt-5.3-codex"},
    {"model": "gpt-6-astra"},
    {"output_version": "v1"},
    {"include": [], "use_responses_api": False},
]


def endpoint(fake_openai: FakeOpenAI) -> str:
    path = fake_openai.requests[-1].path
    assert path in ENDPOINTS.values()
    return path


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("settings", SETTINGS, ids=str)
async def test_the_reported_api_is_where_a_plain_request_goes(
    fake_openai: FakeOpenAI, make_model: Factory, settings: dict[str, Any], mode: str
) -> None:
    model = make_model(**settings)
    reported = model.use_responses_api
    asked = model._use_responses_api({})
    if settings.get("include") == [] and settings.get("use_responses_api") is False:
        # ChatOpenAI's flag wins: the answer is Chat Completions, and the call refuses
        # the Responses-only option before anything is sent.
        assert (reported, asked) == (False, False)
        with pytest.raises(ValueError, match="include"):
            await run(model, mode)
        assert fake_openai.requests == []
        return
    await run(model, mode)
    went = endpoint(fake_openai)
    assert went == ENDPOINTS[asked]
    if reported is None:
        assert went == ENDPOINTS[False]  # it depends on the call; a plain one stays here
    else:
        assert went == ENDPOINTS[reported]
    assert fake_openai.errors == []


CALLS: list[dict[str, Any]] = [
    {},
    {"tools": [{"type": "web_search"}]},
    {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
    {"truncation": "auto"},
    {"text": {"verbosity": "low"}},
    {"include": ["reasoning.encrypted_content"]},
    {"model": "gpt-5-pro"},
    {"reasoning": {"effort": "low"}},
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize("model_name", ["gpt-4o-mini", "gpt-6-astra"])
async def test_the_answer_for_a_payload_is_where_that_call_goes(
    fake_openai: FakeOpenAI, make_model: Factory, model_name: str, call: dict[str, Any], mode: str
) -> None:
    model = make_model(model=model_name)
    assert model.use_responses_api is None
    asked = model._use_responses_api(call)
    await run(model.bind(**call), mode)
    assert endpoint(fake_openai) == ENDPOINTS[asked]
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_copy_with_chatopenai_names_reports_and_sends_alike(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    model = make_model()
    for update, expected in [
        ({"use_responses_api": True}, True),
        ({"use_responses_api": False}, False),
        ({"model_name": "gpt-5-pro"}, True),
        ({"use_responses_api": None}, None),
    ]:
        copy = model.model_copy(update=update)
        assert copy.use_responses_api is expected
        await run(copy, mode)
        assert endpoint(fake_openai) == ENDPOINTS[bool(expected)]
    assert model.use_responses_api is None
    await run(model, mode)
    assert endpoint(fake_openai) == ENDPOINTS[False]
