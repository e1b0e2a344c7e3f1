"""Flex processing (timeout, fallback) and background responses (windows, resume by id)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.call.background import schedule
from langchain_paramchat.errors import APITimeoutError, RateLimitError
from langchain_paramchat.flex import FLEX_TIMEOUT, resource_unavailable
from langchain_paramchat.testing import FakeOpenAI, Fault

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
UNAVAILABLE = Fault.status(429, message="Resource Unavailable", error_code="resource_unavailable")


def _invoke(model: Any, use_async: bool, **kwargs: Any) -> Any:
    if use_async:
        return asyncio.run(model.ainvoke("hi", **kwargs))
    return model.invoke("hi", **kwargs)


def test_flex_calls_get_openais_15_minute_timeout_unless_one_was_set(make_model: Factory) -> None:
    model = make_model()
    assert model._transport_for({}).settings.timeout.read == 600
    assert model._transport_for({"service_tier": "flex"}).settings.timeout.read == FLEX_TIMEOUT
    assert FLEX_TIMEOUT == 900
    mine = make_model(timeout=30)
    assert mine._transport_for({"service_tier": "flex"}).settings.timeout.read == 30


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_flex_fallback_resends_at_the_default_tier(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.add(UNAVAILABLE)
    model = make_model(api=api, service_tier="flex", flex_fallback=True)
    reply = _invoke(model, use_async)
    assert reply.text == "Echo: hi"
    tiers = [r.body["service_tier"] for r in fake_openai.requests]
    assert tiers == ["flex", "default"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
def test_flex_fallback_applies_to_streams_before_their_first_event(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    fake_openai.add(UNAVAILABLE)
    model = make_model(api=api, service_tier="flex", flex_fallback=True)

    async def collect() -> list[Any]:
        return [chunk async for chunk in model.astream("hi")]

    chunks = asyncio.run(collect()) if use_async else list(model.stream("hi"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.text == "Echo: hi"
    assert merged.usage_metadata is not None
    assert [r.body["service_tier"] for r in fake_openai.requests] == ["flex", "default"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_without_fallback_or_for_a_rate_limit_the_429_is_raised(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    fake_openai.add(UNAVAILABLE)
    with pytest.raises(RateLimitError, match="Resource Unavailable"):
        _invoke(make_model(service_tier="flex"), use_async)
    fake_openai.add(
        Fault.status(429, message="Rate limit reached", error_code="rate_limit_exceeded")
    )
    with pytest.raises(RateLimitError, match="Rate limit reached"):
        _invoke(make_model(flex_fallback=True), use_async, service_tier="flex")
    assert [r.body["service_tier"] for r in fake_openai.requests] == ["flex", "flex"]


def test_resource_unavailable_is_told_apart_from_rate_and_quota_limits() -> None:
    def error(code: str | None, message: str) -> RateLimitError:
        return RateLimitError(message, status_code=429, code=code)

    assert resource_unavailable(error(None, "Resource Unavailable"))
    assert resource_unavailable(error("resource_unavailable", "Try again later"))
    assert not resource_unavailable(error("rate_limit_exceeded", "Resource unavailable"))
    assert not resource_unavailable(error("insufficient_quota", "You exceeded your quota"))


def test_completion_windows_stretch_the_default_polling_schedule(make_model: Factory) -> None:
    model = make_model()
    assert schedule(model, {}) == (600.0, 1.0)
    assert schedule(model, {"background_options": {"completion_window": "2h"}}) == (7800.0, 30.0)
    assert schedule(model, {"background_options": {"completion_window": "8h"}}) == (29400.0, 30.0)
    mine = make_model(background_timeout=60, background_poll_interval=2)
    assert schedule(mine, {"background_options": {"completion_window": "8h"}}) == (60.0, 2.0)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_completion_window_response_is_polled_to_completion(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    model = make_model(
        background=True,
        background_options={"completion_window": "2h"},
        background_poll_interval=0.01,
    )
    reply = _invoke(model, use_async)
    assert reply.text == "Echo: hi"
    create, *polls = fake_openai.requests
    assert create.body["background_options"] == {"completion_window": "2h"}
    assert [p.method for p in polls] == ["GET"] * len(polls) and polls


def _resume(base_url: str, response_id: str) -> str:
    model = ParamChat(base_url=base_url, api_key="sk-test-key-123", background_poll_interval=0.01)
    return str(model.resume_response(response_id).text)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_background_response_resumes_by_id_in_another_model(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    impatient = make_model(background=True, background_timeout=0.001, background_poll_interval=0.01)
    with pytest.raises(APITimeoutError, match="resume_response") as info:
        _invoke(impatient, use_async)
    response_id = info.value.response_id  # type: ignore[attr-defined]
    later = make_model(background_poll_interval=0.01)
    if use_async:
        reply = asyncio.run(later.aresume_response(response_id))
    else:
        reply = later.resume_response(response_id)
    assert reply.text == "Echo: hi"
    assert reply.response_metadata["api"] == "responses"
    assert reply.response_metadata["id"] == response_id
    assert reply.usage_metadata is not None


def test_a_background_response_resumes_in_a_spawned_process(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    impatient = make_model(background=True, background_timeout=0.001)
    with pytest.raises(APITimeoutError) as info:
        impatient.invoke("from elsewhere")
    response_id = info.value.response_id  # type: ignore[attr-defined]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        text = pool.apply_async(_resume, (fake_openai.base_url, response_id)).get(timeout=120)
    assert text == "Echo: from elsewhere"
