"""The async retry loop keeps the sync loop's rules: what it retries, and a log line per retry."""

from __future__ import annotations

import logging

import pytest

from langchain_paramchat.errors import BadRequestError, RateLimitError
from langchain_paramchat.transport.retry import RetryPolicy


def policy(sleeps: list[float]) -> RetryPolicy:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(
        max_retries=3, initial_backoff=0.5, jitter=0, deadline=None, async_sleep=sleep
    )


async def test_a_non_retryable_error_after_a_retry_is_raised_at_once() -> None:
    sleeps: list[float] = []
    errors = [
        RateLimitError("slow down", status_code=429, headers={}),
        BadRequestError("bad", status_code=400, headers={}),
    ]

    async def fn() -> str:
        raise errors.pop(0)

    with pytest.raises(BadRequestError):
        await policy(sleeps).acall(fn)
    assert sleeps == [0.5]
    assert errors == []


async def test_each_async_retry_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    calls: list[int] = []

    async def fn() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimitError("slow down", status_code=429, headers={})
        return "ok"

    with caplog.at_level(logging.WARNING, logger="langchain_paramchat"):
        assert await policy(sleeps).acall(fn) == "ok"
    messages = [r.getMessage() for r in caplog.records if r.name == "langchain_paramchat"]
    assert len(messages) == 2
    assert "attempt 1 of 4" in messages[0] and "status 429" in messages[0]
    assert "attempt 2 of 4" in messages[1]
