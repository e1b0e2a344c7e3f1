"""Rate-limit and Retry-After headers: any value a server sends gives a bounded, finite wait.

The pacer reads ``x-ratelimit-*`` on every response and may delay the next call; the retry
policy reads ``retry-after-ms`` / ``retry-after`` on a failed one. Whatever those headers
say, the next call waits a finite time no longer than the documented cap, and nothing raises.
The pacer runs on a simulated clock here, so a hang shows as a failure, not a stuck test.
"""

from __future__ import annotations

import contextlib
import math
import types
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from langchain_paramchat.errors import RateLimitError, ServerError
from langchain_paramchat.transport import pacer as pacer_module
from langchain_paramchat.transport.pacer import Pacer, parse_duration
from langchain_paramchat.transport.retry import RetryPolicy, parse_retry_after
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import check_error, no_key_in_logs

PACER_CAP = 60.0
"""The longest a pacer may hold one call (issue 20: unreadable resets fall back to a cap)."""

NUMBER_TEXT = st.one_of(
    st.integers(-(10**6), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "1e308", "-5", "0", "00", " 7 ", "1_000", "0x10"]),
)
DURATION_TEXT = st.one_of(
    NUMBER_TEXT,
    st.lists(
        st.tuples(
            st.sampled_from(["0", "1", "2.5", "59", "1e3", "-5", "999999999"]),
            st.sampled_from(["h", "m", "s", "ms", "us", ""]),
        ),
        min_size=1,
        max_size=4,
    ).map(lambda parts: "".join(n + u for n, u in parts)),
    st.text(max_size=10),
)
READABLE_DURATION = st.lists(
    st.tuples(st.integers(0, 59), st.sampled_from(["m", "s", "ms"])), min_size=1, max_size=3
).map(lambda parts: "".join(f"{n}{u}" for n, u in parts))


@fuzz_settings()
@given(text=st.one_of(st.none(), DURATION_TEXT))
def test_parse_duration_never_raises_nor_goes_negative(text: str | None) -> None:
    seconds = parse_duration(text)
    assert seconds is None or (isinstance(seconds, float) and not seconds < 0)


@fuzz_settings()
@given(text=DURATION_TEXT)
@example("inf")
@example("nan")
def test_parse_duration_is_finite(text: str) -> None:
    seconds = parse_duration(text)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


class _Hang(Exception):
    pass


@contextlib.contextmanager
def simulated_clock() -> Iterator[types.SimpleNamespace]:
    """Run the pacer on a fake clock whose sleeps only advance it; a hang raises ``_Hang``."""
    clock = types.SimpleNamespace(now=1000.0, slept=0.0, sleeps=0)

    def sleep(seconds: float) -> None:
        assert seconds >= 0 and math.isfinite(seconds), f"pacer asked to sleep {seconds!r}"
        clock.sleeps += 1
        clock.now += seconds
        clock.slept += seconds
        if clock.sleeps > 5_000 or clock.slept > 10 * PACER_CAP:
            raise _Hang(f"the pacer kept the call waiting for {clock.slept:.0f} s")

    fake = types.SimpleNamespace(monotonic=lambda: clock.now, sleep=sleep, time=lambda: clock.now)
    real = pacer_module.time
    pacer_module.time = fake  # type: ignore[assignment]
    try:
        yield clock
    finally:
        pacer_module.time = real


def limit_headers(value: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    names = [
        f"x-ratelimit-{what}-{kind}"
        for what in ("limit", "remaining", "reset")
        for kind in ("requests", "tokens")
    ]
    return st.dictionaries(st.sampled_from(names), value, max_size=6)


def waits_after(responses: list[tuple[int, dict[str, str]]], calls: int = 3) -> float:
    """Return the longest simulated wait of ``calls`` calls after the pacer saw ``responses``."""
    pacer = Pacer()
    longest = 0.0
    with simulated_clock() as clock:
        for status, headers in responses:
            pacer.before_send("/chat/completions", {"messages": "hi", "max_tokens": 10})
            pacer.after_response("/chat/completions", status, headers)
        for _ in range(calls):
            before = clock.slept
            pacer.before_send("/chat/completions", {"messages": "hi", "max_tokens": 10})
            longest = max(longest, clock.slept - before)
    return longest


SANE = st.lists(
    st.tuples(
        st.sampled_from([200, 429]),
        st.fixed_dictionaries(
            {
                "x-ratelimit-limit-requests": st.integers(10, 10_000).map(str),
                "x-ratelimit-remaining-requests": st.integers(5, 10).map(str),
                "x-ratelimit-reset-requests": READABLE_DURATION,
            }
        ),
    ),
    min_size=1,
    max_size=4,
)
HOSTILE = st.lists(
    st.tuples(
        st.sampled_from([200, 429, 500]), limit_headers(st.one_of(NUMBER_TEXT, DURATION_TEXT))
    ),
    min_size=1,
    max_size=4,
)


@fuzz_settings()
@given(responses=SANE)
def test_readable_rate_limit_headers_keep_waits_under_the_cap(
    responses: list[tuple[int, dict[str, str]]],
) -> None:
    assert waits_after(responses) <= PACER_CAP


@fuzz_settings()
@given(responses=HOSTILE)
@example([(200, {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "0"})])
def test_any_rate_limit_headers_keep_waits_under_the_cap(
    responses: list[tuple[int, dict[str, str]]],
) -> None:
    try:
        longest = waits_after(responses)
    except _Hang as exc:
        raise AssertionError(str(exc)) from None
    assert longest <= PACER_CAP


RETRY_VALUES = st.one_of(
    NUMBER_TEXT,
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.sampled_from(["Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 01 Jan 99999 00:00:00 GMT", ""]),
    st.text(max_size=12),
)
RETRY_HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-should-retry"]), RETRY_VALUES, max_size=3
)


@fuzz_settings(scale=2)
@given(headers=RETRY_HEADERS, now=st.floats(0, 4e9))
def test_retry_after_is_none_or_a_finite_non_negative_wait(
    headers: dict[str, str], now: float
) -> None:
    seconds = parse_retry_after(headers, now=now)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@fuzz_settings(scale=2)
@given(
    headers=RETRY_HEADERS,
    status=st.sampled_from([429, 500, 503]),
    max_retry_after=st.sampled_from([0.5, 5.0, 60.0]),
)
def test_retry_waits_never_exceed_max_retry_after(
    headers: dict[str, str], status: int, max_retry_after: float
) -> None:
    slept: list[float] = []
    policy = RetryPolicy(
        max_retries=2, max_retry_after=max_retry_after, deadline=None, sleep=slept.append
    )
    cls = RateLimitError if status == 429 else ServerError
    attempts = 0

    def fail() -> Any:
        nonlocal attempts
        attempts += 1
        raise cls("scripted", status_code=status, headers=headers)

    with no_key_in_logs(), pytest.raises(cls) as info:
        policy.call(fail)
    check_error(info.value)
    assert attempts <= 3
    assert all(0 <= s <= max(max_retry_after, policy.max_backoff) for s in slept)
    assert all(math.isfinite(s) for s in slept)


@pytest.mark.parametrize("text", ["1sx", "2m1", "1s 5"])
def test_a_reset_with_anything_after_its_units_is_unreadable(text: str) -> None:
    assert parse_duration(text) is None
