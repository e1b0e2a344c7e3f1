"""The pacer against FakeOpenAI's rate-limit mode: abatch and batch ride the limit."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import DeadlineExceededError
from langchain_paramchat.testing import FakeOpenAI
from langchain_paramchat.testing.ratelimit import Admission, RateLimit
from langchain_paramchat.transport.pacer import MAX_WAIT

Factory = Callable[..., ParamChat]
_keys = itertools.count()


def _fresh_key() -> str:
    # Pacers are shared per key and base URL in a process; each test gets its own.
    return f"sk-pacer-test-{next(_keys)}"


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_burst_over_the_limit_is_paced_instead_of_answered_429(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool
) -> None:
    # 20 requests a second: slow enough that even a busy machine sends the burst faster
    # (at 80 a second a loaded machine stayed under the limit, and nothing needed pacing).
    fake_openai.rate_limit = RateLimit(requests=20, period=1.0)
    model = make_model(api=api, api_key=_fresh_key(), max_retries=2)
    model.invoke("warm up")  # the first answer's headers tell the pacer the limit
    inputs = [f"q{i}" for i in range(100)]
    config = {"max_concurrency": 50}
    if use_async:
        results = asyncio.run(model.abatch(inputs, config=config, return_exceptions=True))
    else:
        results = model.batch(inputs, config=config, return_exceptions=True)
    assert [r.text for r in results] == [f"Echo: {x}" for x in inputs]  # type: ignore[union-attr]
    limit = fake_openai.rate_limit
    assert limit.rejected <= 0.05 * (limit.admitted + limit.rejected)
    assert model._pacer().stats.delayed > 0


def test_calls_the_limit_allows_are_never_delayed(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.rate_limit = RateLimit(requests=1000, tokens=1_000_000, period=60)
    model = make_model(api_key=_fresh_key())
    model.invoke("first")  # learns the limit
    asyncio.run(model.abatch([f"q{i}" for i in range(60)], config={"max_concurrency": 30}))
    stats = model._pacer().stats
    assert (stats.delayed, stats.waited, stats.sent) == (0, 0.0, 61)
    assert fake_openai.rate_limit.rejected == 0


def test_without_the_pacer_the_same_burst_draws_429s(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.rate_limit = RateLimit(requests=20, period=60)
    model = make_model(api_key=_fresh_key(), pace=False, max_retries=0)
    results = asyncio.run(model.abatch([f"q{i}" for i in range(30)], return_exceptions=True))
    assert sum(isinstance(r, Exception) for r in results) == 10
    assert fake_openai.rate_limit.rejected == 10
    assert model._pacer() is None


def test_models_with_the_same_key_and_url_share_the_pacer(make_model: Factory) -> None:
    key = _fresh_key()
    a, b = make_model(api_key=key, temperature=0), make_model(api_key=key, model="gpt-4o")
    assert a._pacer() is b._pacer()
    assert make_model(api_key=_fresh_key())._pacer() is not a._pacer()


class HostileHeaders(RateLimit):
    """Admit everything, and say the bucket is empty with the given reset header (or none)."""

    def __init__(self, reset: str | None) -> None:
        super().__init__(requests=1, period=60)
        self.reset_header = reset

    def admit(self, body: Mapping[str, Any]) -> Admission:
        self.admitted += 1
        headers = {"x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0"}
        if self.reset_header is not None:
            headers["x-ratelimit-reset-requests"] = self.reset_header
        return Admission(headers)


RESETS = ["abc", "-5s", "inf", "1e308", None]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_an_empty_bucket_with_an_unusable_reset_waits_a_bounded_time(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, use_async: bool, reset: str | None
) -> None:
    # Such a response used to make the next call wait forever.
    fake_openai.rate_limit = HostileHeaders(reset)
    model = make_model(api=api, api_key=_fresh_key())
    model.invoke("first")
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    pacer = model._pacer()
    pacer.sleep, pacer.async_sleep = slept.append, no_wait
    reply = asyncio.run(model.ainvoke("second")) if use_async else model.invoke("second")
    assert reply.text == "Echo: second"
    assert 0 < sum(slept) <= MAX_WAIT


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_total_timeout_bounds_the_pacers_wait(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.rate_limit = HostileHeaders("59s")  # the next call must wait about a minute
    key = _fresh_key()
    # The first call goes out without a deadline: on a busy machine building the client and
    # connecting alone can take a second. The timed model shares its pacer (same key and URL).
    make_model(api=api, api_key=key).invoke("first")
    model = make_model(api=api, api_key=key, total_timeout=1.0)

    async def run() -> None:
        if mode == "ainvoke":
            await model.ainvoke("second")
        else:
            async for _ in model.astream("second"):
                pass

    with pytest.raises(DeadlineExceededError, match="total_timeout"):
        if mode == "invoke":
            model.invoke("second")
        elif mode == "stream":
            list(model.stream("second"))
        else:
            asyncio.run(run())
    assert fake_openai.rate_limit.admitted == 1  # the second call was never sent
    assert model._pacer().stats.waited == 0


class RefuseOnce(RateLimit):
    """Refuse the first request with a 429 saying the bucket is empty for 59 s; admit the rest."""

    def __init__(self) -> None:
        super().__init__(requests=1, period=60)

    def admit(self, body: Mapping[str, Any]) -> Admission:
        headers = {
            "x-ratelimit-limit-requests": "1",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "59s",
        }
        if self.rejected:
            self.admitted += 1
            return Admission(headers)
        self.rejected += 1
        return Admission(headers, "requests", "Rate limit reached for requests")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_total_timeout_bounds_the_pacers_wait_over_a_websocket(
    fake_openai: FakeOpenAI, use_async: bool
) -> None:
    pytest.importorskip("websockets")
    fake_openai.rate_limit = RefuseOnce()
    model = ParamChat(
        base_url=fake_openai.base_url,
        api_key=_fresh_key(),
        model="gpt-4o",
        store=False,
        websocket=True,
        max_retries=1,
        # Far below the 59 s wait, and far above what the first (refused) request takes even
        # on a busy machine: connecting the socket used to eat a 2 s budget before the 429.
        total_timeout=20.0,
    )
    with pytest.raises(DeadlineExceededError, match="rate limit"):
        asyncio.run(model.ainvoke("hi")) if use_async else model.invoke("hi")
    assert fake_openai.rate_limit.admitted == 0  # the retry was never sent
