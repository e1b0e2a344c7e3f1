"""The send loop's decisions: what to send next after a failure, and what one call may spend.

Every transport (HTTP with SSE, and the Responses WebSocket) runs the same loop, written once
per way of waiting in ``TransportBase._resending`` / ``_aresending``: send ``Attempts.body``;
on failure before the caller got content, ask :class:`Resends` whether to resend (and after
how long); after content, raise the interruption. The flex fallback is one of these
decisions, not a wrapper around a stream: flex's 429 "Resource Unavailable" before any
content switches the call's body to the default tier and sends it again; after content it
is an interruption like any other. One ``Attempts`` carries the call's deadline
(``total_timeout``) through every attempt, retry, fallback and pacer wait.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from langchain_core.exceptions import ContextOverflowError as CoreContextOverflowError

from langchain_paramchat.errors import (
    APIError,
    ResponseFailedError,
    StreamFailedError,
    StreamInterruptedError,
    StreamStalledError,
    StreamTimeoutError,
)
from langchain_paramchat.transport.flex import fallback_body
from langchain_paramchat.transport.retry import RetryPolicy

__all__ = ["Attempts", "Resends", "interrupted", "resend_wait"]


class Attempts:
    """One call across its attempts: the body to send, how many went before, its deadline.

    ``deadline`` is a ``time.monotonic()`` time: ``total_timeout`` seconds from now, or an
    earlier ``deadline`` handed in by a caller bounding a longer operation (background
    polling). ``flex_fallback`` allows one switch of a flex body to the default tier.
    """

    __slots__ = ("body", "deadline", "flex_fallback", "n")

    def __init__(
        self,
        total_timeout: float | None,
        body: Mapping[str, Any] | None = None,
        *,
        flex_fallback: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.n = -1
        self.body: Mapping[str, Any] = {} if body is None else body
        self.flex_fallback = flex_fallback
        own = None if total_timeout is None else time.monotonic() + total_timeout
        if deadline is not None and (own is None or deadline < own):
            own = deadline
        self.deadline = own

    def next(self) -> int:
        """Start the next attempt; return how many came before it."""
        self.n += 1
        return self.n

    def fall_back(self, exc: BaseException) -> bool:
        """Switch to the default tier after flex's "Resource Unavailable"; True when it did.

        Only once per call, only with ``flex_fallback`` on and only for a flex body.
        """
        if not self.flex_fallback or not isinstance(exc, APIError):
            return False
        body = fallback_body(exc, self.body)
        if body is None:
            return False
        self.flex_fallback = False
        self.body = body
        return True


def resend_wait(
    policy: RetryPolicy,
    exc: APIError,
    attempts: Attempts,
    *,
    committed: bool,
    failures: int,
    started: float,
) -> float | None:
    """Return the wait before resending a stream that broke after ``failures`` failures.

    None means raise: content already reached the caller (``committed``), or neither the flex
    fallback nor the retry policy resends it. ``started`` is the policy's ``clock()`` when
    the call began.
    """
    if committed:
        return None
    if attempts.fall_back(exc):
        return 0.0
    return policy.restart_wait(exc, failures, started)


class Resends:
    """One stream's resends: what reached the caller, and what each break leads to.

    The send loop (sync or async, HTTP or WebSocket) counts the events of each attempt it
    yields, calls :meth:`broke` with that count when an attempt fails and :meth:`restarted`
    when the next attempt's events begin. ``stream`` is the caller's ``EventStream`` (or its async
    twin): its ``committed`` flag says content was delivered, its ``restarts`` counts resends.
    """

    __slots__ = ("_attempts", "_policy", "_started", "_stream", "failures")

    def __init__(self, policy: RetryPolicy, stream: Any, attempts: Attempts) -> None:
        self._policy = policy
        self._stream = stream
        self._attempts = attempts
        self._started = policy.clock()
        self.failures = 0

    def broke(self, exc: APIError, received: int) -> float:
        """Return the wait before sending again after ``exc``, which came after ``received``
        events of this attempt; raise what the caller gets when it is not sent again (``exc``
        itself, or the interruption carrying the count)."""
        self.failures += 1
        wait = resend_wait(
            self._policy,
            exc,
            self._attempts,
            committed=self._stream.committed,
            failures=self.failures,
            started=self._started,
        )
        if wait is None:
            error = interrupted(exc, received)
            if error is exc:
                raise exc
            raise error from exc
        return wait

    def restarted(self) -> None:
        """Tell the caller the events start over (the next attempt's)."""
        self._stream.restarts += 1


def interrupted(exc: APIError, received: int) -> APIError:
    """Return the error for a stream that failed after ``received`` events were yielded.

    A context overflow is returned as it is: it comes before any output.
    """
    if isinstance(exc, CoreContextOverflowError):
        return exc
    cls: type[StreamInterruptedError]
    if isinstance(exc, StreamTimeoutError):
        cls = StreamStalledError
    elif isinstance(exc, ResponseFailedError):
        cls = StreamFailedError
    else:
        cls = StreamInterruptedError
    err = cls(f"The stream broke off after {received} event(s): {exc}")
    err.status_code = exc.status_code
    err.code = exc.code
    err.request_id = exc.request_id
    err.error_type = err.type = exc.error_type
    err.request = exc.request
    err.body = exc.body
    return err
