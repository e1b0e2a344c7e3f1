"""The pacer against FakeOpenAI's rate-limit mode: abatch and batch ride the limit."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI
from langchain_paramchat.testing.ratelimit import RateLimit

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
    fake_openai.rate_limit = RateLimit(requests=40, period=0.5)
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
