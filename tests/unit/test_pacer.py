"""The rate-limit pacer's budget logic, driven with OpenAI's headers: pure, no sockets."""

from __future__ import annotations

import gc
import logging
import time
from contextvars import copy_context

import pytest

from langchain_paramchat.errors import DeadlineExceededError, OptionError
from langchain_paramchat.testing.ratelimit import RateLimit
from langchain_paramchat.transport import pacer as pacer_module
from langchain_paramchat.transport.pacer import (
    MAX_WAIT,
    RECENT,
    Pacer,
    estimate_tokens,
    parse_duration,
    shared_pacer,
)
from langchain_paramchat.transport.settings import CALL_DEADLINE

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _headers(
    limit: int, remaining: int, reset: str = "1s", kind: str = "requests"
) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": str(limit),
        f"x-ratelimit-remaining-{kind}": str(remaining),
        f"x-ratelimit-reset-{kind}": reset,
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("20ms", 0.02),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("0.25", 0.25),
        ("0s", 0.0),  # full now
    ],
)
def test_parse_duration_reads_openai_reset_values(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "soon", "1x", "s"])
def test_parse_duration_rejects_what_it_cannot_read(text: str | None) -> None:
    assert parse_duration(text) is None


def test_a_server_without_rate_limit_headers_is_never_paced() -> None:
    pacer = Pacer()
    assert pacer._delay(1) == 0  # the probe
    pacer.after_response("chat/completions", 200, {})
    assert all(pacer._delay(1) == 0 for _ in range(500))
    assert pacer.stats.delayed == 0


def test_calls_the_limit_allows_go_at_once_and_the_next_waits_for_the_refill() -> None:
    pacer = Pacer(clock=FakeTime().clock)  # time stands still: no refill between calls
    assert pacer._delay(1) == 0
    # 10 per second: the bucket is 5 short, so it is full again in 500 ms.
    pacer.after_response("responses", 200, _headers(limit=10, remaining=5, reset="500ms"))
    assert [pacer._delay(1) for _ in range(5)] == [0, 0, 0, 0, 0]
    assert pacer._delay(1) == pytest.approx(0.1)  # one request's worth of refill at 10/s
    assert pacer.stats.sent == 6


def test_other_callers_wait_for_the_first_answer_only_while_the_limit_is_unknown() -> None:
    pacer = Pacer(probe_timeout=30)
    assert pacer._delay(1) == 0
    assert pacer._delay(1) > 0  # waits for the probe's headers
    pacer.after_response("chat/completions", 200, _headers(limit=100, remaining=99))
    assert pacer._delay(1) == 0


def test_token_budget_paces_big_requests_and_never_blocks_one_larger_than_the_limit() -> None:
    pacer = Pacer(clock=FakeTime().clock)  # time stands still: no refill between calls
    pacer._delay(1)
    pacer.after_response("responses", 200, _headers(1000, 600, "2s", kind="tokens"))
    big = {"model": "m", "input": "x" * 2000, "max_output_tokens": 0}  # ~500 tokens
    assert estimate_tokens(big) == 500
    assert pacer._delay(estimate_tokens(big)) == 0
    assert pacer._delay(estimate_tokens(big)) == pytest.approx(2.0)  # 400 short at 200/s
    assert pacer._delay(5000) == 0  # over the whole limit: only the server can say no


def test_a_429_with_an_empty_bucket_makes_the_next_call_wait() -> None:
    pacer = Pacer(clock=FakeTime().clock)  # time stands still: no refill between calls
    pacer._delay(1)
    pacer.after_response("chat/completions", 200, _headers(100, 90, "100ms"))
    pacer.after_response("chat/completions", 429, _headers(100, 0, "1s"))
    assert pacer.stats.rate_limited == 1
    assert pacer._delay(1) > 0


def test_a_lower_count_from_other_processes_is_respected() -> None:
    pacer = Pacer(clock=FakeTime().clock)  # time stands still: no refill between calls
    pacer._delay(1)
    pacer.after_response("chat/completions", 200, _headers(100, 99, "10ms"))
    pacer.after_response("chat/completions", 200, _headers(100, 1, "990ms"))
    assert pacer._delay(1) == 0
    assert pacer._delay(1) > 0


def test_models_with_the_same_key_and_url_share_one_pacer() -> None:
    a = shared_pacer("sk-one", "http://127.0.0.1:9/v1")
    assert shared_pacer("sk-one", "http://127.0.0.1:9/v1/") is a
    assert shared_pacer("sk-two", "http://127.0.0.1:9/v1") is not a
    assert shared_pacer("sk-one", "http://127.0.0.1:8/v1") is not a
    assert "sk-one" not in repr(a)


def test_fake_rate_limit_is_a_continuously_refilled_bucket_with_openai_headers() -> None:
    limit = RateLimit(requests=2, tokens=10_000, period=60)
    first, second, third = (limit.admit(BODY) for _ in range(3))
    assert first.exceeded is None and second.exceeded is None
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert parse_duration(first.headers["x-ratelimit-reset-requests"]) == pytest.approx(30, abs=1)
    assert third.exceeded == "requests" and "Limit 2" in third.message
    assert parse_duration(third.headers["x-ratelimit-reset-requests"]) == pytest.approx(60, abs=1)
    assert (limit.admitted, limit.rejected) == (2, 1)
    with pytest.raises(ValueError, match="requests="):
        RateLimit()


# --- every wait bounded and following the server ------------------------------------------------


class FakeTime:
    """A clock that only moves when slept on, and a record of the sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert 0 < seconds <= MAX_WAIT
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def _paced(fake: FakeTime, **headers: str) -> Pacer:
    pacer = Pacer(sleep=fake.sleep, async_sleep=fake.async_sleep, clock=fake.clock)
    pacer.before_send("chat/completions", BODY)  # the probe
    pacer.after_response("chat/completions", 200, headers)
    return pacer


@pytest.mark.parametrize("text", ["inf", "nan", "-5", "-5s", "-1ms", "Infinity", "1e309"])
def test_parse_duration_refuses_negative_and_infinite_values(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize("reset", ["abc", "-5s", "inf", "1e308", "6m0s", None])
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_an_unusable_reset_with_nothing_left_waits_at_most_the_cap(
    reset: str | None, use_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # It used to wait forever: no refill rate was known, so the bucket never refilled.
    fake = FakeTime()
    headers = {"x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0"}
    if reset is not None:
        headers["x-ratelimit-reset-requests"] = reset
    with caplog.at_level(logging.WARNING, logger="langchain_paramchat"):
        pacer = _paced(fake, **headers)
        for _ in range(3):
            if use_async:
                await pacer.abefore_send("chat/completions", BODY)
            else:
                pacer.before_send("chat/completions", BODY)
            pacer.after_response("chat/completions", 200, headers)
    assert pacer.stats.sent == 4
    assert 0 < sum(fake.sleeps) <= 3 * MAX_WAIT
    assert all(wait <= MAX_WAIT for wait in fake.sleeps)
    warnings = [
        r.getMessage() for r in caplog.records if "x-ratelimit-reset-requests" in r.getMessage()
    ]
    assert len(warnings) == 1  # once per pacer and header, not per response
    assert f"{MAX_WAIT:g} s" in warnings[0]


def test_one_call_waits_at_most_the_cap_in_all_then_is_sent() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=0, reset="1s"))
    pacer.sleep = fake.sleeps.append  # time stands still
    pacer.before_send("chat/completions", BODY)
    assert sum(fake.sleeps) == pytest.approx(MAX_WAIT)
    assert pacer.stats.sent == 2 and pacer.stats.delayed == 1


def test_the_refill_rate_follows_the_last_reading_up_as_well_as_down() -> None:
    fake = FakeTime()
    # One slow reading: half the bucket gone, full again in 30 minutes (capped at 60 s).
    pacer = _paced(fake, **_headers(limit=100, remaining=50, reset="30m0s"))
    assert pacer._requests.rate == pytest.approx(100 / MAX_WAIT)
    # Every later response says the limit is nearly untouched: calls go at once.
    for _ in range(200):
        pacer.before_send("chat/completions", BODY)
        pacer.after_response(
            "chat/completions", 200, _headers(limit=100, remaining=98, reset="20ms")
        )
    assert fake.sleeps == []
    pacer.after_response("chat/completions", 200, _headers(limit=100, remaining=0, reset="1s"))
    assert pacer._requests.rate == pytest.approx(100.0)
    assert 0 < pacer._delay(1) <= 0.011


def test_a_raised_limit_takes_effect_and_a_lowered_one_too() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=0, reset="1s"))
    assert pacer._delay(1) > 0
    pacer.after_response("chat/completions", 200, _headers(limit=1000, remaining=999, reset="1ms"))
    assert all(pacer._delay(1) == 0 for _ in range(500))
    pacer.after_response("chat/completions", 200, _headers(limit=5, remaining=0, reset="1s"))
    assert pacer._delay(1) > 0


def test_calls_sent_after_a_reply_are_taken_from_what_it_says_is_left() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=9, reset="100ms"))
    pacer.before_send("chat/completions", BODY)  # this call's reply comes last
    call = copy_context()
    for _ in range(5):
        pacer.before_send("chat/completions", BODY)  # in flight
    # The first call's reply counts only itself: the five sent after it are still taken out.
    call.run(pacer.after_response, "chat/completions", 200, _headers(10, 8, "200ms"))
    assert pacer._requests.level == pytest.approx(3)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_wait_past_the_calls_deadline_is_not_started(use_async: bool) -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=0, reset="10s"))
    token = CALL_DEADLINE.set(time.monotonic() + 0.5)
    try:
        with pytest.raises(DeadlineExceededError, match="total_timeout"):
            if use_async:
                await pacer.abefore_send("chat/completions", BODY)
            else:
                pacer.before_send("chat/completions", BODY)
    finally:
        CALL_DEADLINE.reset(token)
    assert fake.sleeps == []
    assert pacer.stats.sent == 1  # only the probe


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 3600, "2", True])
def test_probe_timeout_must_be_a_short_positive_number(bad: object) -> None:
    with pytest.raises(OptionError, match="probe_timeout"):
        Pacer(probe_timeout=bad)  # type: ignore[arg-type]


def test_a_multi_tenant_process_keeps_a_bounded_number_of_pacers() -> None:
    gc.collect()
    # Pacers other tests' models still hold are live too; count only what this test adds.
    before = set(pacer_module._LIVE)
    held = shared_pacer("sk-tenant-held", "http://127.0.0.1:9/v1")
    for i in range(20_000):
        shared_pacer(f"sk-tenant-{i}", "http://127.0.0.1:9/v1")
    gc.collect()
    assert len(pacer_module._RECENT) <= RECENT
    assert len(set(pacer_module._LIVE) - before) <= RECENT + 1  # the recent ones and the held one
    assert shared_pacer("sk-tenant-held", "http://127.0.0.1:9/v1") is held  # still in use
    recent = shared_pacer("sk-tenant-19999", "http://127.0.0.1:9/v1")
    assert shared_pacer("sk-tenant-19999", "http://127.0.0.1:9/v1") is recent


@pytest.mark.parametrize(
    ("used", "reset", "rate"),
    [(1, "1s", 10.0), (2, "100ms", 20.0)],
    ids=["one-used-keeps-the-rate", "two-used-give-a-new-rate"],
)
def test_a_refill_rate_is_read_from_two_used_requests_not_from_one(
    used: int, reset: str, rate: float
) -> None:
    # OpenAI rounds resets up: after one request of a 10-per-second limit it may say "1s",
    # which would make the pacer wait ten times too long. One used request keeps the rate
    # read before; from two on, the reading counts (here a faster refill).
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=100, remaining=0, reset="10s"))  # 10 per second
    fake.now += 10  # full again
    for _ in range(used):
        pacer.before_send("chat/completions", BODY)
    pacer.after_response("chat/completions", 200, _headers(100, 100 - used, reset))
    for _ in range(100 - used):  # empty the bucket
        pacer.before_send("chat/completions", BODY)
    assert fake.sleeps == []
    assert pacer._delay(1) == pytest.approx(1 / rate)  # one request's worth of refill


def _sent_at_once(pacer: Pacer) -> int:
    """Return how many calls go out now, time standing still, before one has to wait."""
    count = 0
    while count < 50 and pacer._delay(1) == 0:
        count += 1
    return count


def test_calls_sent_while_the_first_reply_was_awaited_are_taken_from_it() -> None:
    fake = FakeTime()
    pacer = Pacer(sleep=fake.sleep, async_sleep=fake.async_sleep, clock=fake.clock)
    probe = copy_context()
    probe.run(pacer.before_send, "chat/completions", BODY)
    fake.now += pacer.probe_timeout + 1  # its reply is late: the next call goes anyway
    pacer.before_send("chat/completions", BODY)
    # The probe's reply says 9 of 10 left; the call sent after it is not in that count.
    probe.run(pacer.after_response, "chat/completions", 200, _headers(10, 9, "1s"))
    assert _sent_at_once(pacer) == 8


def test_a_reply_that_counts_an_earlier_call_still_in_flight_leaves_our_count() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=9, reset="1s"))
    first, second = copy_context(), copy_context()
    first.run(pacer.before_send, "chat/completions", BODY)
    second.run(pacer.before_send, "chat/completions", BODY)
    # The second call's reply comes first and counts both calls: 7 left, as ours says. The
    # first call may or may not be in it, so the server's word is not taken below ours.
    second.run(pacer.after_response, "chat/completions", 200, _headers(10, 7, "1s"))
    assert _sent_at_once(pacer) == 7


def test_a_limit_without_a_remaining_count_never_paces() -> None:
    # Nothing to read a level from: calls go as if no limit were reported, none held back
    # behind a probe.
    fake = FakeTime()
    pacer = _paced(fake, **{"x-ratelimit-limit-requests": "10"})
    for _ in range(20):
        pacer.before_send("chat/completions", BODY)
    assert fake.sleeps == [] and pacer.stats.delayed == 0


def test_429s_are_counted_with_or_without_rate_limit_headers() -> None:
    pacer = Pacer()
    pacer.before_send("chat/completions", BODY)
    pacer.after_response("chat/completions", 200, {})
    assert pacer.stats.rate_limited == 0
    pacer.after_response("chat/completions", 429, {})
    pacer.after_response("chat/completions", 429, {})
    assert pacer.stats.rate_limited == 2
    pacer.after_response("chat/completions", 200, _headers(10, 5, "1s"))
    assert pacer.stats.rate_limited == 2
    pacer.after_response("chat/completions", 429, _headers(10, 0, "1s"))
    pacer.after_response("chat/completions", 429, _headers(10, 0, "1s"))
    assert pacer.stats.rate_limited == 4


def test_a_lowered_limit_refills_at_its_own_pace_not_the_old_ones() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=1000, remaining=0, reset="1s"))  # 1000 per second
    # The limit drops to 10; one used request gives no new rate, so the old one must not
    # carry over: the bucket refills at the floor, 10 per MAX_WAIT (one call every 6 s).
    pacer.after_response("chat/completions", 200, _headers(limit=10, remaining=9, reset="6s"))
    assert _sent_at_once(pacer) == 9
    assert pacer._delay(1) == pytest.approx(MAX_WAIT / 10)


def test_a_reset_of_exactly_the_cap_is_read_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="langchain_paramchat"):
        _paced(FakeTime(), **_headers(limit=10, remaining=0, reset="1m0s"))
    assert caplog.records == []


@pytest.mark.parametrize(
    ("reset", "why"),
    [
        (None, "is missing"),
        ("abc", "'abc' cannot be used"),
        ("9" * 99, f"'{'9' * 40}' cannot be used"),
    ],
    ids=["missing", "unreadable", "long"],
)
def test_an_unusable_reset_is_logged_saying_why_and_what_the_pacer_assumes(
    reset: str | None, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "50"}
    if reset is not None:
        headers["x-ratelimit-reset-tokens"] = reset
    with caplog.at_level(logging.WARNING, logger="langchain_paramchat"):
        _paced(FakeTime(), **headers)
    assert [r.getMessage() for r in caplog.records] == [
        f"rate-limit header x-ratelimit-reset-tokens {why}; pacing as if the limit refills "
        f"within {MAX_WAIT:g} s (the pacer's cap)"
    ]


def test_a_negative_remaining_count_is_unreadable_and_paces_nothing() -> None:
    fake = FakeTime()
    pacer = _paced(fake, **_headers(limit=10, remaining=-5, reset="1s"))
    pacer.sleep = fake.sleeps.append  # time stands still: a wait would show as sleeps
    for _ in range(20):
        pacer.before_send("chat/completions", BODY)
    assert fake.sleeps == [] and pacer.stats.delayed == 0
