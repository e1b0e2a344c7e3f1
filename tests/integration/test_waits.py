"""Every wait is bounded: option checks, background polling, batch polls and Retry-After.

The pacer's bounds are in ``test_pacer.py`` and the flex fallback's in
``test_flex_background.py``. Waits are injected (the retry policy's ``sleep``,
``async_sleep`` and ``clock``) wherever a real one would be long.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.call.background import MIN_POLL_INTERVAL
from langchain_paramchat.errors import DeadlineExceededError, OptionError
from langchain_paramchat.testing import FakeOpenAI
from langchain_paramchat.transport.retry import MAX_RETRY_AFTER, RetryPolicy, capped_retry_after

Factory = Callable[..., ParamChat]
KEY = "sk-waits-test-key-1"
NAN, INF = math.nan, math.inf


# --- options: NaN, infinity, zero and negatives fail when the model is built -------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("background_timeout", NAN),
        ("background_timeout", INF),
        ("background_timeout", 0),
        ("background_timeout", -1),
        ("background_poll_interval", 0),
        ("background_poll_interval", NAN),
        ("background_poll_interval", INF),
        ("background_poll_interval", -0.5),
        ("background_poll_interval", MIN_POLL_INTERVAL / 10),
        ("total_timeout", NAN),
        ("total_timeout", INF),
        ("total_timeout", 0),
        ("stream_idle_timeout", NAN),
        ("stream_idle_timeout", -3),
        ("timeout", NAN),
        ("timeout", INF),
        ("timeout", 0),
        ("timeout", -1),
    ],
)
def test_every_timeout_and_interval_refuses_nan_infinity_zero_and_negatives(
    option: str, value: float
) -> None:
    # Except stream_idle_timeout=0: "no idle timeout", as ChatOpenAI's stream_chunk_timeout=0
    # (test_dropin_messages.py shows a slow stream still arriving).
    with pytest.raises(OptionError, match=option):
        ParamChat(api_key=KEY, **{option: value})


@pytest.mark.parametrize("name", ["initial_backoff", "max_backoff", "max_retry_after", "deadline"])
@pytest.mark.parametrize("value", [NAN, INF, -1])
def test_retry_policy_waits_must_be_finite(name: str, value: float) -> None:
    with pytest.raises(OptionError, match=name):
        RetryPolicy(**{name: value})


def test_a_background_poll_interval_at_the_floor_is_accepted() -> None:
    model = ParamChat(api_key=KEY, background_poll_interval=MIN_POLL_INTERVAL)
    assert model.background_poll_interval == MIN_POLL_INTERVAL


# --- background polling --------------------------------------------------------------------


class Recorder:
    """Sleeps that record what was asked, and advance a fake clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=0, sleep=self.sleep, async_sleep=self.async_sleep, clock=self.clock
        )


def _polls(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.method == "GET")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_background_polling_waits_the_poll_interval_before_each_poll(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    recorder = Recorder()
    model = make_model(
        background=True, background_poll_interval=7.5, retry_policy=recorder.policy()
    )
    reply = asyncio.run(model.ainvoke("hi")) if use_async else model.invoke("hi")
    assert reply.text == "Echo: hi"
    polls = _polls(fake_openai)
    assert polls >= 1
    assert recorder.sleeps == [7.5] * polls  # awaited, once before each poll


@pytest.mark.timeout(60)
async def test_async_background_polling_really_waits_between_polls(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    # The real asyncio.sleep: the call cannot end before each interval has passed.
    model = make_model(background=True, background_poll_interval=0.2)
    started = time.monotonic()
    reply = await model.ainvoke("hi")
    elapsed = time.monotonic() - started
    assert reply.text == "Echo: hi"
    assert _polls(fake_openai) >= 1
    assert elapsed >= 0.2 * _polls(fake_openai)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_background_timeout_is_kept_on_the_policy_clock(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    from langchain_paramchat.errors import APITimeoutError

    recorder = Recorder()
    model = make_model(
        background=True,
        background_timeout=5,
        background_poll_interval=3,
        retry_policy=recorder.policy(),
    )
    recorder.now = 0.0
    fake_openai.background_polls = 10  # stays in progress
    with pytest.raises(APITimeoutError, match="background_timeout=5") as info:
        asyncio.run(model.ainvoke("hi")) if use_async else model.invoke("hi")
    assert info.value.response_id  # type: ignore[attr-defined]
    assert recorder.sleeps == [3, 2]  # never past the timeout


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_total_timeout_bounds_background_polling(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    # A 30 s poll interval never fits a 5 s call: it says so at once, with the id to resume.
    # (5 s, not 1 s: on a busy machine creating the response alone could take a second.)
    model = make_model(background=True, background_poll_interval=30, total_timeout=5.0)
    with pytest.raises(DeadlineExceededError, match=r"total_timeout=5\.0") as info:
        asyncio.run(model.ainvoke("hi")) if use_async else model.invoke("hi")
    response_id = info.value.response_id  # type: ignore[attr-defined]
    assert response_id and "resume_response" in str(info.value)
    assert _polls(fake_openai) == 0
    later = make_model(background_poll_interval=MIN_POLL_INTERVAL)
    assert later.resume_response(response_id).text == "Echo: hi"


# --- Retry-After on batch polls -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "1e300"}, MAX_RETRY_AFTER),
        ({"retry-after-ms": "1e300"}, MAX_RETRY_AFTER),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-3"}, None),
        ({}, None),
    ],
)
def test_capped_retry_after_never_exceeds_the_cap(headers: dict[str, str], wait: Any) -> None:
    assert capped_retry_after(headers) == wait


@pytest.mark.timeout(60)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_batch_polls_retry_after_of_1e300_is_capped(
    fake_openai: FakeOpenAI, make_model: Factory, use_async: bool
) -> None:
    # It used to sleep forever (async) or overflow time.sleep (sync).
    fake_openai.batches.auto_advance = False
    fake_openai.batches.retry_after = 1e300
    job = make_model().submit_batch(["a"])
    state = asyncio.run(job.arefresh()) if use_async else job.refresh()
    assert state.retry_after == MAX_RETRY_AFTER


@pytest.mark.parametrize("bad", [INF, NAN, 0, -1])
def test_batch_wait_refuses_an_unbounded_poll_interval(
    fake_openai: FakeOpenAI, make_model: Factory, bad: float
) -> None:
    job = make_model().submit_batch(["a"])
    with pytest.raises(ValueError, match="poll_interval"):
        job.wait(poll_interval=bad)
