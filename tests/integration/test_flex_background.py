"""Flex processing (timeout, fallback) and background responses (windows, resume by id)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.call.background import schedule
from langchain_paramchat.errors import (
    APITimeoutError,
    DeadlineExceededError,
    RateLimitError,
    StreamInterruptedError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply
from langchain_paramchat.transport.flex import FLEX_TIMEOUT, resource_unavailable
from langchain_paramchat.transport.retry import RetryPolicy

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
UNAVAILABLE = Fault.status(429, message="Resource Unavailable", error_code="resource_unavailable")


def _invoke(model: Any, use_async: bool, **kwargs: Any) -> Any:
    if use_async:
        return asyncio.run(model.ainvoke("hi", **kwargs))
    return model.invoke("hi", **kwargs)


def test_flex_calls_get_openais_15_minute_timeout_unless_one_was_set(make_model: Factory) -> None:
    transport = make_model().transport
    flex = {"service_tier": "flex"}
    assert transport._timeout_for({}, False).read == 600
    assert transport._timeout_for(flex, False).read == FLEX_TIMEOUT
    assert transport._timeout_for({"service_tier": "default"}, False).read == 600
    assert FLEX_TIMEOUT == 900
    assert transport._timeout_for(flex, True).read == 120  # streams: stream_idle_timeout
    assert transport._timeout_for(flex, True).write == FLEX_TIMEOUT
    mine = make_model(timeout=30).transport
    assert mine._timeout_for(flex, False).read == 30


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


async def _collect(model: Any, use_async: bool) -> tuple[list[str], BaseException | None]:
    """Return the chunk texts a caller saw and the error that ended the stream, if any."""
    texts: list[str] = []
    try:
        if use_async:
            async for chunk in model.astream("hi"):
                texts.append(chunk.text)
        else:
            for chunk in model.stream("hi"):
                texts.append(chunk.text)
    except Exception as exc:
        return texts, exc
    return texts, None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
async def test_a_flex_stream_broken_after_content_is_never_resent(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    # The old fallback wrapped the stream, so the transport never saw the caller's commit:
    # the break was resent and the caller got "Alpha beta gamma dSECOND ANSWER", no error.
    first = Reply(text="Alpha beta gamma delta epsilon", chunk_size=6)
    before_text = {"chat_completions": 1, "responses": 4}[api]
    fake_openai.add(Fault.drop_mid_stream(before_text + 3, reply=first), "SECOND ANSWER")
    policy = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02)
    model = make_model(api=api, service_tier="flex", flex_fallback=True, retry_policy=policy)
    texts, error = await _collect(model, use_async)
    assert isinstance(error, StreamInterruptedError), error
    assert "".join(texts) == "Alpha beta gamma d"
    assert error.received is not None and error.received.text == "Alpha beta gamma d"
    assert "SECOND" not in "".join(texts)
    assert [r.body["service_tier"] for r in fake_openai.requests] == ["flex"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
async def test_a_flex_stream_broken_after_content_raises_like_a_plain_stream(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    outcomes = []
    before_text = {"chat_completions": 1, "responses": 4}[api]
    for options in ({}, {"service_tier": "flex", "flex_fallback": True}):
        fake_openai.reset()
        first = Reply(text="Alpha beta gamma delta epsilon", chunk_size=6)
        fake_openai.add(Fault.drop_mid_stream(before_text + 3, reply=first), "SECOND ANSWER")
        texts, error = await _collect(make_model(api=api, max_retries=2, **options), use_async)
        outcomes.append((texts, type(error), len(fake_openai.requests)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] is not None and issubclass(outcomes[0][1], StreamInterruptedError)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS)
async def test_a_flex_stream_dropped_before_content_is_retried_at_flex_first(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    before_text = {"chat_completions": 1, "responses": 4}[api]
    drop = Fault.drop_mid_stream(before_text, reply=Reply(text="lost"))
    fake_openai.add(drop, "kept answer")
    policy = RetryPolicy(max_retries=1, initial_backoff=0.01, max_backoff=0.02)
    model = make_model(api=api, service_tier="flex", flex_fallback=True, retry_policy=policy)
    texts, error = await _collect(model, use_async)
    assert error is None and "".join(texts) == "kept answer"
    assert [r.body["service_tier"] for r in fake_openai.requests] == ["flex", "flex"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("api", APIS)
async def test_total_timeout_bounds_the_flex_fallback(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    # Flex turns the call away twice (0.4 s apart, as told), and the default tier then
    # answers after 0.7 s: the fallback shares the call's 1 s (it used to start a fresh
    # call with a fresh total_timeout, and answered).
    busy = Fault.status(
        429,
        message="Resource Unavailable",
        error_code="resource_unavailable",
        headers={"retry-after-ms": "400"},
        times=2,
    )
    fake_openai.add(busy, Fault.slow(0.7, reply=Reply(text="late")))
    model = make_model(
        api=api,
        service_tier="flex",
        flex_fallback=True,
        total_timeout=1.0,
        timeout=30,
        retry_policy=RetryPolicy(max_retries=1),
    )
    with pytest.raises(DeadlineExceededError, match=r"total_timeout"):
        if mode == "invoke":
            model.invoke("hi")
        elif mode == "ainvoke":
            await model.ainvoke("hi")
        else:
            _, error = await _collect(model, mode == "astream")
            assert error is not None
            raise error
    # On a busy machine the retry may not fit the deadline, and the fallback starts sooner.
    tiers = [r.body["service_tier"] for r in fake_openai.requests]
    assert tiers[0] == "flex" and tiers.count("default") <= 1 and len(tiers) <= 3


def test_a_flex_model_pickles_after_a_call_and_the_copy_answers(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    secret = "sk-flex-pickled-secret-808"
    model = make_model(api_key=secret, service_tier="flex", flex_fallback=True)
    fake_openai.add(UNAVAILABLE)
    assert model.invoke("first").text == "Echo: first"  # fell back: the model is used
    data = pickle.dumps(model)
    assert secret.encode() not in data
    monkeypatch.setenv("OPENAI_API_KEY", "sk-worker-key-1")
    copy = pickle.loads(data)
    assert copy.service_tier == "flex" and copy.flex_fallback is True
    fake_openai.add(UNAVAILABLE)
    assert copy.invoke("again").text == "Echo: again"
    assert [r.body["service_tier"] for r in fake_openai.requests] == [
        "flex",
        "default",
        "flex",
        "default",
    ]
    assert fake_openai.requests[-1].headers["authorization"] == "Bearer sk-worker-key-1"
    assert pickle.loads(pickle.dumps(copy)).invoke("third").text == "Echo: third"


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
