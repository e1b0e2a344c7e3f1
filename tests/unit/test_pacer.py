"""The rate-limit pacer's budget logic, driven with OpenAI's headers: pure, no sockets."""

from __future__ import annotations

import pytest

from langchain_paramchat.pacer import Pacer, estimate_tokens, parse_duration, shared_pacer
from langchain_paramchat.testing.ratelimit import RateLimit

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
    [("1s", 1.0), ("20ms", 0.02), ("6m0s", 360.0), ("1h2m3.5s", 3723.5), ("0.25", 0.25)],
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
    pacer = Pacer()
    assert pacer._delay(1) == 0
    # 10 per second: the bucket is 5 short, so it is full again in 500 ms.
    pacer.after_response("responses", 200, _headers(limit=10, remaining=5, reset="500ms"))
    assert [pacer._delay(1) for _ in range(5)] == [0, 0, 0, 0, 0]
    wait = pacer._delay(1)
    assert 0.05 < wait <= 0.1  # one request's worth of refill at 10/s
    assert pacer.stats.sent == 6


def test_other_callers_wait_for_the_first_answer_only_while_the_limit_is_unknown() -> None:
    pacer = Pacer(probe_timeout=30)
    assert pacer._delay(1) == 0
    assert pacer._delay(1) > 0  # waits for the probe's headers
    pacer.after_response("chat/completions", 200, _headers(limit=100, remaining=99))
    assert pacer._delay(1) == 0


def test_token_budget_paces_big_requests_and_never_blocks_one_larger_than_the_limit() -> None:
    pacer = Pacer()
    pacer._delay(1)
    pacer.after_response("responses", 200, _headers(1000, 600, "2s", kind="tokens"))
    big = {"model": "m", "input": "x" * 2000, "max_output_tokens": 0}  # ~500 tokens
    assert estimate_tokens(big) == 500
    assert pacer._delay(estimate_tokens(big)) == 0
    assert pacer._delay(estimate_tokens(big)) > 1.5  # 400 short at 200 tokens/s
    assert pacer._delay(5000) == 0  # over the whole limit: only the server can say no


def test_a_429_with_an_empty_bucket_makes_the_next_call_wait() -> None:
    pacer = Pacer()
    pacer._delay(1)
    pacer.after_response("chat/completions", 200, _headers(100, 90, "100ms"))
    pacer.after_response("chat/completions", 429, _headers(100, 0, "1s"))
    assert pacer.stats.rate_limited == 1
    assert pacer._delay(1) > 0


def test_a_lower_count_from_other_processes_is_respected() -> None:
    pacer = Pacer()
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
