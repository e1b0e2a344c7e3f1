"""RetryPolicy: what is retried, how long it waits, when it stops, and what it logs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import tenacity

from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextOverflowError,
    NotFoundError,
    OptionError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    StreamInterruptedError,
    StreamStalledError,
    StreamTimeoutError,
)
from langchain_paramchat.transport.retry import (
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    retry_reason,
)

SECRET = "sk-unit-SECRET-4242"


def status_error(
    status: int, code: str | None = None, headers: dict[str, str] | None = None
) -> APIStatusError:
    cls: type[APIStatusError] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        422: BadRequestError,
        429: RateLimitError,
    }.get(status, ServerError if status >= 500 else APIStatusError)
    return cls(
        f"scripted {status}", status_code=status, code=code, headers=headers, request_id="req_1"
    )


class FakeTime:
    """A clock whose sleeps only advance it, so tests never wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def policy(fake: FakeTime, **kwargs: object) -> RetryPolicy:
    kwargs.setdefault("jitter", 0.0)
    return RetryPolicy(
        sleep=fake.sleep,
        async_sleep=fake.async_sleep,
        clock=fake.clock,
        **kwargs,  # type: ignore[arg-type]
    )


def failing(*errors: BaseException, result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """Return a function raising ``errors`` in turn, then returning ``result``; and its call log."""
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


# --- classification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (status_error(400), False),
        (status_error(401), False),
        (status_error(403), False),
        (status_error(404), False),
        (status_error(422), False),
        (status_error(408), True),
        (status_error(409), True),
        (status_error(429), True),
        (status_error(429, "rate_limit_exceeded"), True),
        (status_error(429, "insufficient_quota"), False),
        (status_error(500), True),
        (status_error(502), True),
        (status_error(503), True),
        (status_error(504), True),
        (status_error(503, headers={"x-should-retry": "false"}), False),
        (ContextOverflowError("too long", status_code=400, code="context_length_exceeded"), False),
        (APIConnectionError("refused"), True),
        (APITimeoutError("slow"), True),
        (StreamTimeoutError("silent before the first event"), True),
        (StreamInterruptedError("dropped after output"), False),
        (StreamStalledError("silent after output"), False),
        (APIError("error event in a stream", code="server_error"), False),
        (ResponseFormatError("not json"), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_classification_table(error: BaseException, retried: bool) -> None:
    assert is_retryable(error) is retried


def test_reason_names_status_and_code_only() -> None:
    assert retry_reason(status_error(429, "rate_limit_exceeded")) == (
        "status 429, code rate_limit_exceeded"
    )
    assert retry_reason(status_error(503)) == "status 503"
    assert retry_reason(APITimeoutError("x")) == "timeout"
    assert retry_reason(APIConnectionError("x")) == "connection error"
    assert retry_reason(StreamTimeoutError("x")) == "stream idle timeout"


def test_an_api_error_with_a_status_but_no_headers_is_judged_by_its_status() -> None:
    # is_retryable is a building block for custom tenacity policies, which may see an
    # APIError built by hand: a status and no response headers.
    assert retry_reason(APIError("overloaded", status_code=503)) == "status 503"
    assert not is_retryable(APIError("bad", status_code=400))


# --- Retry-After parsing ---------------------------------------------------------------------


def test_retry_after_ms_wins_over_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "7"}) == 0.25


def test_retry_after_seconds() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after-ms": "0.5"}, 0.0005),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "0.5"}, 0.5),
    ],
)
def test_a_retry_after_of_zero_or_under_one_unit_is_honoured(
    headers: dict[str, str], seconds: float
) -> None:
    # "Retry now" and sub-unit waits are real answers, not a missing header: without them
    # the policy would fall back to its own (longer) backoff.
    assert parse_retry_after(headers) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": later}, now=now.timestamp()) == 30.0


def test_retry_after_date_in_the_past_means_now() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": earlier}, now=now.timestamp()) == 0.0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"retry-after": "soon"},
        {"retry-after": "-3"},
        {"retry-after": "nan"},
        {"retry-after-ms": "lots"},
        {"retry-after-ms": "-1"},
    ],
)
def test_unusable_retry_after_is_ignored(headers: dict[str, str]) -> None:
    assert parse_retry_after(headers) is None


def test_bad_ms_header_falls_back_to_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "lots", "retry-after": "2"}) == 2.0


# --- waits ------------------------------------------------------------------------------------


def test_backoff_doubles_and_caps() -> None:
    p = RetryPolicy(initial_backoff=0.5, max_backoff=3.0, jitter=0.0)
    assert [p.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_shortens_and_stays_within_its_fraction() -> None:
    p = RetryPolicy(initial_backoff=1.0, jitter=0.25)
    waits = [p.backoff(1) for _ in range(200)]
    assert all(0.75 <= w <= 1.0 for w in waits)
    assert len(set(waits)) > 1


def test_wait_honours_retry_after_and_caps_it() -> None:
    p = RetryPolicy(max_retry_after=10.0, jitter=0.0)
    assert p.wait_for(status_error(429, headers={"retry-after": "4"}), 1) == 4.0
    assert p.wait_for(status_error(429, headers={"retry-after": "3600"}), 1) == 10.0
    assert p.wait_for(status_error(429, headers={"retry-after-ms": "20"}), 1) == 0.02
    assert p.wait_for(status_error(500), 1) == p.backoff(1)


# --- running calls ----------------------------------------------------------------------------


def test_succeeds_after_retryable_failures() -> None:
    fake = FakeTime()
    fn, calls = failing(status_error(500), status_error(429, headers={"retry-after": "2"}))
    assert policy(fake, initial_backoff=0.5).call(fn) == "ok"
    assert len(calls) == 3
    assert fake.sleeps == [0.5, 2.0]


def test_gives_up_after_max_retries_with_the_last_error() -> None:
    fake = FakeTime()
    errors = [status_error(503) for _ in range(5)]
    fn, calls = failing(*errors)
    with pytest.raises(ServerError) as info:
        policy(fake, max_retries=2).call(fn)
    assert info.value is errors[2]
    assert len(calls) == 3


def test_non_retryable_error_is_raised_at_once() -> None:
    fake = FakeTime()
    error = status_error(429, "insufficient_quota")
    fn, calls = failing(error)
    with pytest.raises(RateLimitError) as info:
        policy(fake).call(fn)
    assert info.value is error
    assert len(calls) == 1
    assert fake.sleeps == []


def test_zero_retries_runs_once() -> None:
    fn, calls = failing(status_error(500))
    with pytest.raises(ServerError):
        policy(FakeTime(), max_retries=0).call(fn)
    assert len(calls) == 1


def test_deadline_stops_before_a_wait_that_would_pass_it() -> None:
    fake = FakeTime()
    errors = [status_error(429, headers={"retry-after": "30"}) for _ in range(5)]
    fn, calls = failing(*errors)
    with pytest.raises(RateLimitError):
        policy(fake, max_retries=10, deadline=50.0).call(fn)
    # 30 s fits once; a second 30 s wait would end at 60 s > 50 s.
    assert fake.sleeps == [30.0]
    assert len(calls) == 2


def test_deadline_counts_time_spent_in_attempts() -> None:
    fake = FakeTime()
    calls: list[int] = []

    def slow_failure() -> str:
        calls.append(1)
        fake.now += 40.0
        raise status_error(500)

    with pytest.raises(ServerError):
        policy(fake, max_retries=10, deadline=100.0, initial_backoff=1.0).call(slow_failure)
    # Attempts end at 40, 81 and 123 s; after the third no wait fits in 100 s.
    assert len(calls) == 3


def test_attempt_count_stops_before_the_deadline() -> None:
    fake = FakeTime()
    fn, calls = failing(*[status_error(500) for _ in range(10)])
    with pytest.raises(ServerError):
        policy(fake, max_retries=3, deadline=10_000.0).call(fn)
    assert len(calls) == 4


async def test_async_retries_with_the_same_rules() -> None:
    fake = FakeTime()
    errors = [APIConnectionError("reset"), status_error(429, headers={"retry-after-ms": "10"})]
    calls: list[int] = []

    async def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    assert await policy(fake, initial_backoff=0.25).acall(fn) == "ok"
    assert fake.sleeps == [0.25, 0.01]


async def test_async_gives_up_with_the_last_error() -> None:
    fake = FakeTime()

    async def fn() -> str:
        raise status_error(502)

    with pytest.raises(ServerError) as info:
        await policy(fake, max_retries=1).acall(fn)
    assert info.value.status_code == 502
    assert len(fake.sleeps) == 1


# --- logging ----------------------------------------------------------------------------------


def test_each_retry_is_logged_with_attempt_wait_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    secret_headers = {"retry-after": "1", "authorization": f"Bearer {SECRET}"}
    fn, _ = failing(
        status_error(429, "rate_limit_exceeded", headers=secret_headers), status_error(500)
    )
    with caplog.at_level(logging.DEBUG, logger="langchain_paramchat"):
        policy(fake, initial_backoff=0.5).call(fn)
    records = [r for r in caplog.records if r.name == "langchain_paramchat"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    first, second = (r.getMessage() for r in records)
    assert "attempt 1 of 3" in first
    assert "1.00 s" in first
    assert "status 429, code rate_limit_exceeded" in first
    assert "req_1" in first
    assert "attempt 2 of 3" in second
    assert "status 500" in second
    assert records[0].paramchat_status_code == 429  # type: ignore[attr-defined]
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        assert SECRET not in text
        assert "scripted" not in record.getMessage()  # the server's message stays out


# --- custom tenacity --------------------------------------------------------------------------


def test_custom_retrying_is_used_and_reraises_the_last_error() -> None:
    fake = FakeTime()
    custom = RetryPolicy.custom(
        tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_retryable),
            stop=tenacity.stop_after_attempt(4),
            wait=tenacity.wait_fixed(0.1),
            sleep=fake.sleep,
        )
    )
    fn, calls = failing(*[status_error(500) for _ in range(10)])
    with pytest.raises(ServerError):
        custom.call(fn)
    assert len(calls) == 4
    assert fake.sleeps == [0.1, 0.1, 0.1]


async def test_custom_sync_retrying_also_serves_async_calls() -> None:
    custom = RetryPolicy.custom(
        tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_retryable),
            stop=tenacity.stop_after_attempt(2),
            wait=tenacity.wait_none(),
        )
    )
    calls: list[int] = []

    async def fn() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise APIConnectionError("reset")
        return "ok"

    assert await custom.acall(fn) == "ok"
    assert len(calls) == 2


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("initial_backoff", -0.1),
        ("max_backoff", float("nan")),
        ("jitter", 1.5),
        ("deadline", 0),
        ("max_retry_after", -1),
        ("retrying", "tenacity please"),
    ],
)
def test_bad_settings_fail_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(OptionError, match=field):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]
