"""A rate-limit mode for FakeOpenAI: N requests and M tokens per window, OpenAI's headers, 429s.

Every create answer carries ``x-ratelimit-limit-*``, ``x-ratelimit-remaining-*`` and
``x-ratelimit-reset-*`` like OpenAI's; a request over either limit gets a 429
``rate_limit_exceeded`` (type ``requests`` or ``tokens``) and is not counted. As at OpenAI,
each limit is a bucket refilled continuously: ``requests`` per ``period`` seconds, so a full
bucket allows a burst of ``requests`` and then one request every ``period / requests``
seconds; ``reset`` is the time until the bucket is full. Tokens are estimated the way
``langchain_paramchat.transport.pacer.estimate_tokens`` does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.transport.pacer import estimate_tokens

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

    Raises ``ValueError`` when neither limit is given or a value is out of range.
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
        self._stamp = time.monotonic()
        self._requests_left = float(requests or 0)
        self._tokens_left = float(tokens or 0)

    def reset(self) -> None:
        """Fill both buckets and zero the counts."""
        with self._lock:
            self._stamp = time.monotonic()
            self._requests_left = float(self.requests or 0)
            self._tokens_left = float(self.tokens or 0)
            self.admitted = self.rejected = 0

    def admit(self, body: Mapping[str, Any]) -> Admission:
        """Count one request if it fits, and return the headers and verdict."""
        cost = estimate_tokens(body)
        with self._lock:
            now = time.monotonic()
            elapsed, self._stamp = now - self._stamp, now
            if self.requests is not None:
                refill = self._requests_left + elapsed * self.requests / self.period
                self._requests_left = min(float(self.requests), refill)
            if self.tokens is not None:
                refill = self._tokens_left + elapsed * self.tokens / self.period
                self._tokens_left = min(float(self.tokens), refill)
            exceeded = None
            if self.requests is not None and self._requests_left < 1:
                exceeded = "requests"
            elif self.tokens is not None and self._tokens_left < cost <= self.tokens:
                exceeded = "tokens"
            if exceeded is None:
                self._requests_left -= 1
                self._tokens_left -= cost
                self.admitted += 1
            else:
                self.rejected += 1
            headers = self._headers()
        if exceeded is None:
            return Admission(headers)
        limit = self.requests if exceeded == "requests" else self.tokens
        message = (
            f"Rate limit reached for {exceeded} per {self.period:g}s: Limit {limit}. "
            f"Please try again in {headers[f'x-ratelimit-reset-{exceeded}']}."
        )
        return Admission(headers, exceeded, message)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for kind, size, left in (
            ("requests", self.requests, self._requests_left),
            ("tokens", self.tokens, self._tokens_left),
        ):
            if size is None:
                continue
            # Rounded up, so a client that waits the reset never finds the bucket short.
            full_in = (size - left) * self.period / size
            headers[f"x-ratelimit-limit-{kind}"] = str(size)
            headers[f"x-ratelimit-remaining-{kind}"] = str(max(math.floor(left), 0))
            headers[f"x-ratelimit-reset-{kind}"] = f"{math.ceil(full_in * 1000)}ms"
        return headers
