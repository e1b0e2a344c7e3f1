"""Client-side pacing at OpenAI's rate limits, shared by every model with the same key and URL.

OpenAI reports each account's state on every response: ``x-ratelimit-limit-requests``,
``x-ratelimit-remaining-requests``, ``x-ratelimit-reset-requests`` (and the same for tokens),
and refills each limit continuously. The pacer keeps a local copy of each bucket from those
headers, takes out what this process sends, and makes a call wait only when the bucket is
empty, just until it has refilled enough. So a large ``abatch``/``gather`` rides the limit
instead of drawing a storm of 429s.

It never delays a call the limit allows. Before any headers were seen the limit is unknown;
then only the first call goes out alone, and the others wait for its headers (at most
``probe_timeout`` seconds, once per process, key and URL). A server that sends no rate-limit
headers (llama.cpp, most proxies) is never paced.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Pacer", "PacerStats", "estimate_tokens", "parse_duration", "shared_pacer"]

# OpenAI formats resets as Go durations: "1s", "6m0s", "20ms", "1h2m3.5s".
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str | None) -> float | None:
    """Return seconds for an OpenAI reset value (``"1s"``, ``"6m0s"``, ``"20ms"``), or None."""
    if not text:
        return None
    text = text.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Return a rough token count OpenAI charges a request against its token limit.

    About four characters of input per token, plus the output cap when one is set (OpenAI
    reserves it up front).
    """
    size = 0
    for key in ("messages", "input", "instructions", "tools"):
        value = body.get(key)
        if value:
            size += len(str(value))
    cap = (
        body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens")
    )
    return size // 4 + (cap if isinstance(cap, int) else 0)


@dataclass
class PacerStats:
    """What a pacer did: calls sent, calls that waited, total seconds waited, 429s seen."""

    sent: int = 0
    delayed: int = 0
    waited: float = 0.0
    rate_limited: int = 0


class _Bucket:
    """One limit (requests or tokens) as OpenAI keeps it: a bucket refilled continuously.

    From headers: ``limit`` is the bucket's size, ``remaining`` its level and ``reset`` the
    time until it is full again, so it refills at ``(limit - remaining) / reset`` per second.
    Our own sends are taken out locally at once (the server only counts them on arrival).
    """

    def __init__(self) -> None:
        self.limit: int | None = None
        self.level = 0.0
        self.rate: float | None = None
        self.stamp = 0.0

    @property
    def known(self) -> bool:
        return self.limit is not None

    def _refill(self, now: float) -> None:
        if self.limit is not None and self.rate:
            self.level = min(float(self.limit), self.level + self.rate * (now - self.stamp))
        self.stamp = now

    def wait_for(self, cost: int, now: float) -> float:
        """Return how long to wait before ``cost`` fits (0: now)."""
        if self.limit is None:
            return 0.0
        self._refill(now)
        if cost <= self.level or cost > self.limit:
            return 0.0
        if not self.rate:
            return 0.05  # spent, refill rate not known yet: look again shortly
        return (cost - self.level) / self.rate

    def take(self, cost: int) -> None:
        if self.limit is not None:
            self.level -= cost

    def observe(
        self, limit: int | None, remaining: int | None, reset: float | None, now: float
    ) -> None:
        if limit is None or remaining is None:
            return
        if reset and limit - remaining >= 2:
            # Rounded-up resets make this an underestimate: pacing errs on the safe side.
            rate = (limit - remaining) / reset
            self.rate = rate if self.rate is None else min(self.rate, rate)
        if self.limit is None:
            self.limit, self.level, self.stamp = limit, float(remaining), now
            return
        self.limit = limit
        self._refill(now)
        # Our level already counts calls still in flight, which the server's does not yet;
        # a lower server level means others (processes sharing the key) spent it.
        self.level = min(self.level, float(remaining))


class Pacer:
    """Pace the calls of every model sharing one API key and base URL (see the module doc).

    It implements the transport's request hooks: ``before_send``/``abefore_send`` wait when
    needed, ``after_response`` reads the rate-limit headers. ``stats`` says what it did.
    """

    def __init__(self, *, probe_timeout: float = 2.0) -> None:
        self.probe_timeout = probe_timeout
        self.stats = PacerStats()
        self._lock = threading.Lock()
        self._requests = _Bucket()
        self._tokens = _Bucket()
        self._probing = False
        self._probe_started = 0.0
        self._paced = False

    def __repr__(self) -> str:
        return f"Pacer(requests_limit={self._requests.limit}, tokens_limit={self._tokens.limit})"

    def _delay(self, cost: int) -> float:
        """Reserve a slot for one call now and return 0, or return how long to wait first."""
        now = time.monotonic()
        with self._lock:
            if not self._paced and not self._requests.known and not self._tokens.known:
                if self._probing and now - self._probe_started < self.probe_timeout:
                    return min(0.01, self.probe_timeout)
                if not self._probing:
                    self._probing = True
                    self._probe_started = now
                self.stats.sent += 1
                return 0.0
            wait = max(self._requests.wait_for(1, now), self._tokens.wait_for(cost, now))
            if wait > 0:
                return wait
            self._requests.take(1)
            self._tokens.take(cost)
            self.stats.sent += 1
            return 0.0

    def before_send(self, path: str, body: Mapping[str, Any]) -> None:
        """Block until the call fits the rate limit (never when the limit allows it)."""
        cost = estimate_tokens(body)
        delayed = False
        started = time.monotonic()
        while (wait := self._delay(cost)) > 0:
            delayed = True
            time.sleep(wait)
        self._count(delayed, started)

    async def abefore_send(self, path: str, body: Mapping[str, Any]) -> None:
        """Await until the call fits the rate limit (never when the limit allows it)."""
        cost = estimate_tokens(body)
        delayed = False
        started = time.monotonic()
        while (wait := self._delay(cost)) > 0:
            delayed = True
            await asyncio.sleep(wait)
        self._count(delayed, started)

    def _count(self, delayed: bool, started: float) -> None:
        if delayed:
            with self._lock:
                self.stats.delayed += 1
                self.stats.waited += time.monotonic() - started

    def after_response(self, path: str, status_code: int, headers: Mapping[str, str]) -> None:
        """Update the budgets from a response's ``x-ratelimit-*`` headers."""
        now = time.monotonic()
        get = headers.get
        limit_requests = _int(get("x-ratelimit-limit-requests"))
        limit_tokens = _int(get("x-ratelimit-limit-tokens"))
        if limit_requests is None and limit_tokens is None:
            # No limits reported (a local server, most proxies): nothing to read or pace.
            with self._lock:
                self._probing = False
                self._paced = True
                if status_code == 429:
                    self.stats.rate_limited += 1
            return
        with self._lock:
            self._probing = False
            self._paced = True
            self._requests.observe(
                limit_requests,
                _int(get("x-ratelimit-remaining-requests")),
                parse_duration(get("x-ratelimit-reset-requests")),
                now,
            )
            self._tokens.observe(
                limit_tokens,
                _int(get("x-ratelimit-remaining-tokens")),
                parse_duration(get("x-ratelimit-reset-tokens")),
                now,
            )
            if status_code == 429:
                self.stats.rate_limited += 1


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


_SHARED: dict[tuple[str, str], Pacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(api_key: str | None, base_url: str | None) -> Pacer:
    """Return the process-wide pacer for this API key and base URL (created on first use).

    The key is kept only as a SHA-256 digest.
    """
    key = os.environ.get("OPENAI_API_KEY", "") if api_key is None else api_key
    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    ident = (hashlib.sha256(key.encode()).hexdigest(), url.rstrip("/"))
    with _SHARED_LOCK:
        pacer = _SHARED.get(ident)
        if pacer is None:
            pacer = _SHARED[ident] = Pacer()
    return pacer


def _forget_after_fork() -> None:
    # A forked child has its own calls and its own view of the limit; it starts fresh.
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()
    _SHARED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
