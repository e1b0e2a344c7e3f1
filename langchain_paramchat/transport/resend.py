"""The send loop's decisions: what to send next after a failure, and what one call may spend.

Every transport (HTTP with SSE here; any other behind the same ``Transport`` surface) runs
the same loop: send ``Attempts.body``; on failure before the caller got content, ask
:func:`resend_wait` whether to resend (and after how long); after content, raise the
interruption. The flex fallback is one of these decisions, not a wrapper around a stream:
flex's 429 "Resource Unavailable" before any content switches the call's body to the default
tier and sends it again; after content it is an interruption like any other. One
``Attempts`` carries the call's deadline (``total_timeout``) through every attempt, retry,
fallback and pacer wait.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.errors import APIError
from langchain_paramchat.transport.flex import fallback_body
from langchain_paramchat.transport.retry import RetryPolicy

__all__ = ["Attempts", "resend_wait"]


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
