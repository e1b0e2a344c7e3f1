"""A rate-limit mode for FakeOpenAI: N requests and M tokens per window, OpenAI's headers, 429s.

Every create answer carries ``x-ratelimit-limit-*``, ``x-ratelimit-remaining-*`` and
``x-ratelimit-reset-*`` like OpenAI's; a request over either limit gets a 429
``rate_limit_exceeded`` (type ``requests`` or ``tokens``) and is not counted. Windows are
fixed: the budget comes back whole ``period`` seconds after the window began. Tokens are
estimated the way ``langchain_paramchat.pacer.estimate_tokens`` does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.pacer import estimate_tokens

__all__ = ["Admission", "RateLimit"]


@dataclass(frozen=True)
class Admission:
    """The verdict on one request: the headers to send and, if refused, which limit and why."""

    headers: dict[str, str]
    exceeded: str | None = None
    message: str = ""


class RateLimit:
    """Admit requests within ``requests`` and ``tokens`` per ``period`` seconds (None: no limit).

    ``admitted`` and ``rejected`` count the verdicts; ``reset()`` zeroes them.
    """

    def __init__(
        self, *, requests: int | None = None, tokens: int | None = None, period: float = 60.0
    ) -> None:
        if requests is None and tokens is None:
            raise ValueError("RateLimit needs requests=, tokens= or both")
        for name, value in (("requests", requests), ("tokens", tokens)):
            if value is not None and value < 1:
                raise ValueError(f"{name}={value} must be at least 1")
        if not period > 0:
            raise ValueError(f"period={period} must be > 0 seconds")
        self.requests = requests
        self.tokens = tokens
        self.period = period
        self.admitted = 0
        self.rejected = 0
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._used_requests = 0
        self._used_tokens = 0

    def reset(self) -> None:
        """Start a fresh window and zero the counts."""
        with self._lock:
            self._start = time.monotonic()
            self._used_requests = self._used_tokens = 0
            self.admitted = self.rejected = 0

    def admit(self, body: Mapping[str, Any]) -> Admission:
        """Count one request if it fits, and return the headers and verdict."""
        cost = estimate_tokens(body)
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.period:
                self._start = now
                self._used_requests = self._used_tokens = 0
            exceeded = None
            if self.requests is not None and self._used_requests + 1 > self.requests:
                exceeded = "requests"
            elif self.tokens is not None and self._used_tokens + cost > self.tokens:
                exceeded = "tokens"
            if exceeded is None:
                self._used_requests += 1
                self._used_tokens += cost
                self.admitted += 1
            else:
                self.rejected += 1
            headers = self._headers(self._start + self.period - now)
        if exceeded is None:
            return Admission(headers)
        limit = self.requests if exceeded == "requests" else self.tokens
        message = (
            f"Rate limit reached for requests per {self.period:g}s: Limit {limit}. "
            f"Please try again in {headers[f'x-ratelimit-reset-{exceeded}']}."
        )
        return Admission(headers, exceeded, message)

    def _headers(self, left: float) -> dict[str, str]:
        # Rounded up, so a client that waits the reset never arrives before the window turns.
        reset = f"{max(math.ceil(left * 1000), 1)}ms"
        headers: dict[str, str] = {}
        if self.requests is not None:
            headers["x-ratelimit-limit-requests"] = str(self.requests)
            headers["x-ratelimit-remaining-requests"] = str(self.requests - self._used_requests)
            headers["x-ratelimit-reset-requests"] = reset
        if self.tokens is not None:
            headers["x-ratelimit-limit-tokens"] = str(self.tokens)
            headers["x-ratelimit-remaining-tokens"] = str(self.tokens - self._used_tokens)
            headers["x-ratelimit-reset-tokens"] = reset
        return headers
