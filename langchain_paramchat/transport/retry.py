"""Decide which failed requests to retry, how long to wait, and run calls under tenacity.

The openai SDK client is built with ``max_retries=0``; this module is the only place
retries happen, so SDK and package retries never multiply.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from langchain_paramchat.errors import (
    APIConnectionError,
    APIError,
    DeadlineExceededError,
    OptionError,
    StreamInterruptedError,
    StreamTimeoutError,
)

if TYPE_CHECKING:  # imported on the first retry: most calls never need tenacity
    import tenacity

__all__ = [
    "MAX_RETRY_AFTER",
    "RetryPolicy",
    "capped_retry_after",
    "is_retryable",
    "parse_retry_after",
    "retry_reason",
]

logger = logging.getLogger("langchain_paramchat")

T = TypeVar("T")

# 408 request timeout, 409 lock conflict, 429 rate limit; every 5xx is added below.
_RETRYABLE_STATUS = frozenset({408, 409, 429})
# A 429 with this code is a billing limit: waiting does not help.
_NO_RETRY_CODES = frozenset({"insufficient_quota"})

MAX_RETRY_AFTER = 60.0
"""Seconds: the longest server-requested wait honoured by default (``max_retry_after``)."""


def retry_reason(exc: BaseException) -> str | None:
    """Return why ``exc`` is worth retrying (for the log), or None when it is not.

    Retried: connection errors, timeouts (including a stream that stays silent before its
    first event), and HTTP 408, 409, 429 and 5xx. Never retried: any other status
    (400, 401, 403, 404, 422, ...), a 429 whose code is ``insufficient_quota``, a reply the
    server marks ``x-should-retry: false``, a stream that already yielded output
    (``StreamInterruptedError``), a call past its ``total_timeout``
    (``DeadlineExceededError``), and anything that is not a package ``APIError``.
    """
    if isinstance(exc, StreamInterruptedError | DeadlineExceededError):
        return None
    if isinstance(exc, StreamTimeoutError):
        return "stream idle timeout"
    if isinstance(exc, APIConnectionError):
        return "timeout" if isinstance(exc, TimeoutError) else "connection error"
    if not isinstance(exc, APIError) or exc.status_code is None:
        return None
    status = exc.status_code
    if status not in _RETRYABLE_STATUS and status < 500:
        return None
    if exc.code in _NO_RETRY_CODES:
        return None
    headers: Mapping[str, str] = getattr(exc, "headers", None) or {}
    if headers.get("x-should-retry") == "false":
        return None
    return f"status {status}, code {exc.code}" if exc.code else f"status {status}"


def is_retryable(exc: BaseException) -> bool:
    """Return True when ``exc`` is worth retrying; usable as ``tenacity.retry_if_exception``."""
    return retry_reason(exc) is not None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Return the server's requested wait in seconds, or None when it gave no usable one.

    Reads ``retry-after-ms`` (milliseconds, OpenAI's) first, then ``retry-after`` as seconds
    or as an HTTP date (relative to ``now``, a Unix time, default the current time; a date
    in the past means 0). ``headers`` must look keys up case-insensitively (``httpx2.Headers``)
    or use lower-case keys.
    """
    value = headers.get("retry-after-ms")
    if value:
        try:
            millis = float(value)
        except ValueError:
            millis = math.nan
        if math.isfinite(millis) and millis >= 0:
            return millis / 1000.0
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def capped_retry_after(
    headers: Mapping[str, str], cap: float = MAX_RETRY_AFTER, *, now: float | None = None
) -> float | None:
    """Return :func:`parse_retry_after`'s wait, at most ``cap`` seconds (None: none given).

    For waits that are not retries (polling a batch): a server asking for ``1e300`` seconds
    gets ``cap``, never a sleep that overflows or never ends.
    """
    requested = parse_retry_after(headers, now=now)
    return None if requested is None else min(requested, cap)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry transient OpenAI failures with capped exponential backoff, under a deadline.

    A call makes at most ``max_retries + 1`` attempts and stops earlier when the next wait
    would end past ``deadline`` seconds after the call began (in-flight attempts are not cut
    short; ``timeout`` bounds those). The wait after attempt *n* is the server's
    ``retry-after-ms`` / ``retry-after`` when present, capped at ``max_retry_after``;
    otherwise ``min(max_backoff, initial_backoff * 2 ** (n - 1))`` shortened by a random
    fraction of up to ``jitter``. A server that asks for a longer wait than
    ``max_retry_after`` is not retried at all: its error is raised at once, saying so (as the
    openai SDK does). What is retried is :func:`retry_reason`'s table. When
    retries run out, the last attempt's own error is raised (never ``tenacity.RetryError``).
    Each retry is logged at WARNING on the ``langchain_paramchat`` logger with the attempt,
    the wait and the reason (status, code, request id) -- never headers, body or key.

    To run your own tenacity strategy instead, use :meth:`custom`.

    ``sleep``, ``async_sleep`` and ``clock`` exist so tests can run without real waiting.
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.25
    deadline: float | None = 120.0
    max_retry_after: float = MAX_RETRY_AFTER
    retrying: tenacity.Retrying | tenacity.AsyncRetrying | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise OptionError("max_retries", self.max_retries, "an int >= 0")
        for name in ("initial_backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if not _finite(value) or not value >= 0:
                raise OptionError(name, value, "a finite number of seconds >= 0 (0: no wait)")
        if not _finite(self.jitter) or not 0 <= self.jitter <= 1:
            raise OptionError("jitter", self.jitter, "a fraction between 0 and 1")
        if self.deadline is not None and (not _finite(self.deadline) or not self.deadline > 0):
            raise OptionError(
                "deadline", self.deadline, "a finite number of seconds > 0, or None for no deadline"
            )
        if self.retrying is not None and not _is_tenacity(self.retrying):
            raise OptionError(
                "retrying", self.retrying, "a tenacity.Retrying or tenacity.AsyncRetrying"
            )

    @classmethod
    def custom(cls, retrying: tenacity.Retrying | tenacity.AsyncRetrying) -> RetryPolicy:
        """Return a policy that runs every call under your own tenacity object.

        Your object decides everything (stop, wait, retry, logging); the fields of this
        policy are ignored. It is copied per call, so one object can serve concurrent calls.
        A ``Retrying`` also serves async calls (and an ``AsyncRetrying`` sync calls): its
        stop/wait/retry/before/after callbacks are reused, so keep them plain functions.
        This module's rules are available as building blocks::

            RetryPolicy.custom(tenacity.Retrying(
                retry=tenacity.retry_if_exception(is_retryable),
                stop=tenacity.stop_after_attempt(5),
                wait=tenacity.wait_random_exponential(max=30),
            ))

        When it gives up, the last attempt's error is raised even without ``reraise=True``.
        """
        return cls(retrying=retrying)

    def backoff(self, failed_attempts: int) -> float:
        """Return the wait after ``failed_attempts`` failures when the server named none."""
        base = min(self.max_backoff, self.initial_backoff * 2 ** (failed_attempts - 1))
        return base * (1.0 - self.jitter * random.random())

    def wait_for(self, exc: BaseException | None, failed_attempts: int) -> float:
        """Return how long to wait before retrying after ``exc``, honouring Retry-After."""
        headers: Mapping[str, str] | None = getattr(exc, "headers", None)
        if headers:
            requested = parse_retry_after(headers)
            if requested is not None:
                return min(requested, self.max_retry_after)
        return self.backoff(failed_attempts)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` until it succeeds, a non-retryable error occurs, or the policy gives up."""
        started = self.clock()
        # The first attempt runs outside tenacity: building its machinery on every call
        # costs more than the request's own bookkeeping, and most calls succeed at once.
        try:
            return fn()
        except Exception as exc:
            if not self._may_retry(exc):
                raise
            replay = _Replay(exc, fn)
        retrying = self._sync_retrying(started)
        import tenacity

        try:
            return retrying(replay)
        except tenacity.RetryError as exc:
            exc.reraise()

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` under the policy; the async twin of :meth:`call`."""
        started = self.clock()
        try:
            return await fn()
        except Exception as exc:
            if not self._may_retry(exc):
                raise
            replay = _AsyncReplay(exc, fn)
        retrying = self._async_retrying(started)
        import tenacity

        try:
            result: T = await retrying(replay)
        except tenacity.RetryError as exc:
            exc.reraise()
        return result

    def restart_wait(
        self, exc: BaseException, failed_attempts: int, started: float
    ) -> float | None:
        """Return the wait before resending a stream that broke before any content, or None.

        ``failed_attempts`` counts the failures so far and ``started`` is this policy's
        ``clock()`` when the call began. None (give up) when ``exc`` is not retryable, retries
        or the deadline are used up, the server asks for too long a wait, or the policy is
        a custom tenacity one (it cannot be asked). A retry is logged as in :meth:`call`.
        """
        if self.retrying is not None or failed_attempts > self.max_retries:
            return None
        if not is_retryable(exc) or self._asks_too_long(exc):
            return None
        wait = self.wait_for(exc, failed_attempts)
        if self.deadline is not None and self.clock() - started + wait > self.deadline:
            return None
        reason = retry_reason(exc)
        logger.warning(
            "OpenAI stream attempt %d of %d broke before any content (%s); retrying in %.2f s",
            failed_attempts,
            self.max_retries + 1,
            reason,
            wait,
            extra={
                "paramchat_attempt": failed_attempts,
                "paramchat_wait": wait,
                "paramchat_reason": reason,
                "paramchat_status_code": getattr(exc, "status_code", None),
            },
        )
        return wait

    def _may_retry(self, exc: BaseException) -> bool:
        if self.retrying is not None:
            return True  # a custom policy decides for itself
        return self.max_retries > 0 and is_retryable(exc) and not self._asks_too_long(exc)

    def _asks_too_long(self, exc: BaseException | None) -> bool:
        """Return True (and say so in ``exc``) when the server wants a wait above the cap."""
        headers: Mapping[str, str] | None = getattr(exc, "headers", None)
        requested = parse_retry_after(headers) if headers else None
        if requested is None or requested <= self.max_retry_after:
            return False
        if isinstance(exc, APIError):
            exc.message = (
                f"{exc.message}; the server asked to retry after {requested:g} s, more than "
                f"max_retry_after={self.max_retry_after:g} s, so the call was not retried"
            )
            exc.args = (exc.message,)
        return True

    # --- tenacity plumbing ------------------------------------------------------------

    def _sync_retrying(self, started: float) -> tenacity.Retrying:
        import tenacity

        if isinstance(self.retrying, tenacity.Retrying):
            return self.retrying.copy()
        if self.retrying is not None:
            return tenacity.Retrying(**_strategies(self.retrying))
        return tenacity.Retrying(
            sleep=self.sleep,
            stop=partial(self._should_stop, started),
            wait=self._wait,
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _async_retrying(self, started: float) -> tenacity.AsyncRetrying:
        import tenacity

        if isinstance(self.retrying, tenacity.AsyncRetrying):
            return self.retrying.copy()
        if self.retrying is not None:
            return tenacity.AsyncRetrying(**_strategies(self.retrying))
        return tenacity.AsyncRetrying(
            sleep=self.async_sleep,
            stop=partial(self._should_stop, started),
            wait=self._wait,
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.wait_for(exc, state.attempt_number)

    def _should_stop(self, started: float, state: tenacity.RetryCallState) -> bool:
        # tenacity computes the wait before asking stop, so upcoming_sleep is the next wait.
        if state.attempt_number > self.max_retries:
            return True
        if self._asks_too_long(state.outcome.exception() if state.outcome else None):
            return True
        if self.deadline is None:
            return False
        return self.clock() - started + state.upcoming_sleep > self.deadline

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        reason = retry_reason(exc) if exc is not None else None
        request_id = getattr(exc, "request_id", None)
        if request_id:
            reason = f"{reason}, request id {request_id}"
        logger.warning(
            "OpenAI request attempt %d of %d failed (%s); retrying in %.2f s",
            state.attempt_number,
            self.max_retries + 1,
            reason,
            state.upcoming_sleep,
            extra={
                "paramchat_attempt": state.attempt_number,
                "paramchat_wait": state.upcoming_sleep,
                "paramchat_reason": reason,
                "paramchat_status_code": getattr(exc, "status_code", None),
            },
        )


def _is_tenacity(retrying: Any) -> bool:
    """Return True for a tenacity retrying object (tenacity is imported here, on first need)."""
    import tenacity

    return isinstance(retrying, tenacity.BaseRetrying)


def _strategies(retrying: tenacity.BaseRetrying) -> dict[str, Any]:
    """Return the callbacks of a tenacity object, to rebuild it for the other sync/async mode."""
    return {
        "stop": retrying.stop,
        "wait": retrying.wait,
        "retry": retrying.retry,
        "before": retrying.before,
        "after": retrying.after,
        "before_sleep": retrying.before_sleep,
        "reraise": retrying.reraise,
        "retry_error_cls": retrying.retry_error_cls,
        "retry_error_callback": retrying.retry_error_callback,
    }


class _Replay(Generic[T]):
    """Raise the first attempt's error once (tenacity's attempt 1), then call ``fn``."""

    def __init__(self, first: BaseException, fn: Callable[[], T]) -> None:
        self._first: BaseException | None = first
        self._fn = fn

    def __call__(self) -> T:
        if self._first is not None:
            first, self._first = self._first, None
            raise first
        return self._fn()


class _AsyncReplay(Generic[T]):
    """Async twin of ``_Replay``."""

    def __init__(self, first: BaseException, fn: Callable[[], Awaitable[T]]) -> None:
        self._first: BaseException | None = first
        self._fn = fn

    async def __call__(self) -> T:
        if self._first is not None:
            first, self._first = self._first, None
            raise first
        return await self._fn()


def _finite(value: object) -> bool:
    """Return True for a finite int or float (not a bool, NaN or an infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
