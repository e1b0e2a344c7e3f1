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

Every wait is bounded and follows the server:

- The bucket's level and refill rate come from the last response read (up as well as down:
  a raised limit, or a bucket the server says is nearly full, takes effect at once), less
  what this process sent after that response's request went out.
- A bucket refills completely within ``MAX_WAIT`` (60 s) at the latest. A reset header that
  cannot be read (``abc``, ``-5s``, ``inf``), is missing, or is longer than that (``1e308``,
  ``6m0s``) is taken as ``MAX_WAIT`` and logged once per pacer and header at WARNING.
- One call waits at most ``MAX_WAIT`` in all; then it is sent and the server decides (a 429
  is retried under the retry policy).
- A wait that would end past the call's ``total_timeout`` is not started: the call raises
  ``DeadlineExceededError`` at once.
- Pacers are kept per key and URL while a model uses them, plus the ``RECENT`` most recently
  used ones; a server with many keys (multi-tenant) does not grow without bound.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_paramchat.errors import DeadlineExceededError, OptionError
from langchain_paramchat.transport.settings import call_deadline

__all__ = [
    "MAX_WAIT",
    "RECENT",
    "Pacer",
    "PacerStats",
    "estimate_tokens",
    "parse_duration",
    "shared_pacer",
]

logger = logging.getLogger("langchain_paramchat")

MAX_WAIT = 60.0
"""Seconds: the longest one call waits for the rate limit, and the longest refill assumed."""
RECENT = 1024
"""Pacers kept for recently used keys and URLs beyond those live models hold."""

# OpenAI formats resets as Go durations: "1s", "6m0s", "20ms", "1h2m3.5s".
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
# While the limit is unknown, callers behind the first one look again this often.
_PROBE_POLL = 0.01


def parse_duration(text: str | None) -> float | None:
    """Return seconds for an OpenAI reset value (``"1s"``, ``"6m0s"``, ``"20ms"``), or None.

    None for anything else: empty, unreadable, negative, infinite or NaN.
    """
    if not text:
        return None
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            return None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


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
    return size // 4 + (cap if isinstance(cap, int) and cap > 0 else 0)


@dataclass
class PacerStats:
    """What a pacer did: calls sent, calls that waited, total seconds waited, 429s seen."""

    sent: int = 0
    delayed: int = 0
    waited: float = 0.0
    rate_limited: int = 0


class _Bucket:
    """One limit (requests or tokens) as OpenAI keeps it: a bucket refilled continuously.

    From headers: ``limit`` is the bucket's size, ``remaining`` its level when the request
    arrived and ``reset`` the time until it is full again, so it refills at
    ``(limit - remaining) / reset`` per second, and at least ``limit / MAX_WAIT``. Our own
    sends are taken out locally at once (the server only counts them on arrival).
    """

    __slots__ = ("level", "limit", "rate", "stamp")

    def __init__(self) -> None:
        self.limit: int | None = None
        self.level = 0.0
        self.rate = 0.0
        self.stamp = 0.0

    @property
    def known(self) -> bool:
        return self.limit is not None

    def _refill(self, now: float) -> None:
        if self.limit is not None:
            elapsed = max(0.0, now - self.stamp)
            self.level = min(float(self.limit), self.level + self.rate * elapsed)
        self.stamp = now

    def wait_for(self, cost: int, now: float) -> float:
        """Return how long to wait before ``cost`` fits (0: now), at most ``MAX_WAIT``."""
        if self.limit is None:
            return 0.0
        self._refill(now)
        if cost <= self.level or cost > self.limit:
            return 0.0
        return min((cost - self.level) / self.rate, MAX_WAIT)

    def take(self, cost: int) -> None:
        if self.limit is not None:
            self.level -= cost

    def observe(self, limit: int, remaining: int, reset: float, now: float, unseen: int) -> None:
        """Follow one response: the server's level, less ``unseen`` sent it may not count.

        ``unseen`` is what this process sent that the response's count may miss: everything
        sent after its request, and everything sent before it still unanswered.
        """
        remaining = min(remaining, limit)
        floor = limit / MAX_WAIT
        if limit - remaining >= 2 and reset > 0:
            # Rounded-up resets make this an underestimate: pacing errs on the safe side.
            rate = (limit - remaining) / reset
        elif self.limit == limit and self.rate:
            rate = self.rate
        else:
            rate = floor
        self.rate = max(rate, floor)
        if self.limit is None:
            self.level = float(remaining - unseen)
        else:
            self._refill(now)
            # Ours already counts calls in flight, which the server's may not yet: a lower
            # server level means others (processes sharing the key) spent it; a higher one
            # than ours even net of every call it may miss means the bucket has more.
            self.level = max(min(self.level, float(remaining)), float(remaining - unseen))
        self.limit = limit
        self.stamp = now


# Per call (a thread or a task): which pacer reserved its slot, the slot's number, and the
# requests and tokens that pacer had sent by then.
_SENT: ContextVar[tuple[int, int, int, int] | None] = ContextVar("paramchat_sent", default=None)
# Sent calls remembered until answered; one never answered (its connection failed) is
# forgotten after MAX_WAIT, and at most this many are kept.
_MAX_UNANSWERED = 100_000


class Pacer:
    """Pace the calls of every model sharing one API key and base URL (see the module doc).

    It implements the transport's request hooks: ``before_send``/``abefore_send`` wait when
    needed, ``after_response`` reads the rate-limit headers. ``stats`` says what it did.
    ``sleep``, ``async_sleep`` and ``clock`` exist so tests can run without real waiting.

    Raises ``OptionError`` for a ``probe_timeout`` that is not a finite number of seconds > 0.
    """

    def __init__(
        self,
        *,
        probe_timeout: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (
            isinstance(probe_timeout, bool)
            or not isinstance(probe_timeout, int | float)
            or not 0 < probe_timeout <= MAX_WAIT
        ):
            raise OptionError(
                "probe_timeout", probe_timeout, f"seconds > 0 and at most {MAX_WAIT:g}"
            )
        self.probe_timeout = float(probe_timeout)
        self.sleep = sleep
        self.async_sleep = async_sleep
        self.clock = clock
        self.stats = PacerStats()
        self._lock = threading.Lock()
        self._requests = _Bucket()
        self._tokens = _Bucket()
        self._probing = False
        self._probe_started = 0.0
        self._paced = False
        self._warned: set[str] = set()
        self._seq = 0
        self._sent_tokens = 0
        # Calls sent and not yet answered, oldest first: number -> (when, tokens).
        self._unanswered: OrderedDict[int, tuple[float, int]] = OrderedDict()

    def __repr__(self) -> str:
        return f"Pacer(requests_limit={self._requests.limit}, tokens_limit={self._tokens.limit})"

    def _delay(self, cost: int, force: bool = False) -> float:
        """Reserve a slot for one call now and return 0, or return how long to wait first.

        ``force`` reserves at once (the call has waited ``MAX_WAIT`` already).
        """
        now = self.clock()
        with self._lock:
            if not self._paced and not self._requests.known and not self._tokens.known:
                if self._probing and now - self._probe_started < self.probe_timeout and not force:
                    return _PROBE_POLL
                if not self._probing:
                    self._probing = True
                    self._probe_started = now
                return self._reserve(cost, now)
            wait = max(self._requests.wait_for(1, now), self._tokens.wait_for(cost, now))
            if wait > 0 and not force:
                return wait
            return self._reserve(cost, now)

    def _reserve(self, cost: int, now: float) -> float:
        self._requests.take(1)
        self._tokens.take(cost)
        self.stats.sent += 1
        self._seq += 1
        self._sent_tokens += cost
        unanswered = self._unanswered
        unanswered[self._seq] = (now, cost)
        while unanswered and (
            len(unanswered) > _MAX_UNANSWERED or next(iter(unanswered.values()))[0] < now - MAX_WAIT
        ):
            unanswered.popitem(last=False)
        _SENT.set((id(self), self._seq, self._seq, self._sent_tokens))
        return 0.0

    def _unseen(self) -> tuple[int, int]:
        """Return (requests, tokens) this process sent that the response read may not count.

        Counted are the calls sent after the response's own (answered or not) and those sent
        before it that are still unanswered (they may have arrived after it). Unknown which
        call it answers: every unanswered call.
        """
        sent = _SENT.get()
        unanswered = self._unanswered
        if sent is None or sent[0] != id(self) or sent[1] not in unanswered:
            return len(unanswered), sum(cost for _, cost in unanswered.values())
        _, seq, requests_then, tokens_then = sent
        del unanswered[seq]
        requests, tokens = self._seq - requests_then, self._sent_tokens - tokens_then
        for earlier, (_, cost) in unanswered.items():
            if earlier > seq:
                break
            requests += 1
            tokens += cost
        return requests, tokens

    def _next_wait(self, cost: int, waited: float) -> float:
        """Return the next wait of a call that has waited ``waited`` s (0: it was reserved)."""
        wait = self._delay(cost, force=waited >= MAX_WAIT)
        if wait <= 0:
            return 0.0
        wait = min(wait, MAX_WAIT - waited)
        deadline = call_deadline()
        if deadline is not None and time.monotonic() + wait > deadline:
            raise DeadlineExceededError(
                f"The call would wait {wait:.2f} s for the rate limit (x-ratelimit-* headers), "
                f"past its total_timeout ({max(0.0, deadline - time.monotonic()):.2f} s "
                "left); it was not sent"
            )
        return wait

    def before_send(self, path: str, body: Mapping[str, Any]) -> None:
        """Block until the call fits the rate limit (never when the limit allows it)."""
        cost = estimate_tokens(body)
        waited = 0.0
        while (wait := self._next_wait(cost, waited)) > 0:
            self.sleep(wait)
            waited += wait
        self._count(waited)

    async def abefore_send(self, path: str, body: Mapping[str, Any]) -> None:
        """Await until the call fits the rate limit (never when the limit allows it)."""
        cost = estimate_tokens(body)
        waited = 0.0
        while (wait := self._next_wait(cost, waited)) > 0:
            await self.async_sleep(wait)
            waited += wait
        self._count(waited)

    def _count(self, waited: float) -> None:
        if waited > 0:
            with self._lock:
                self.stats.delayed += 1
                self.stats.waited += waited

    def after_response(self, path: str, status_code: int, headers: Mapping[str, str]) -> None:
        """Update the budgets from a response's ``x-ratelimit-*`` headers."""
        get = headers.get
        limit_requests = _count_header(get("x-ratelimit-limit-requests"))
        limit_tokens = _count_header(get("x-ratelimit-limit-tokens"))
        if limit_requests is None and limit_tokens is None:
            # No limits reported (a local server, most proxies): nothing to read or pace.
            with self._lock:
                self._probing = False
                self._paced = True
                if status_code == 429:
                    self.stats.rate_limited += 1
            return
        with self._lock:
            now = self.clock()
            self._probing = False
            self._paced = True
            unseen_requests, unseen_tokens = self._unseen()
            for kind, bucket, limit, unseen in (
                ("requests", self._requests, limit_requests, unseen_requests),
                ("tokens", self._tokens, limit_tokens, unseen_tokens),
            ):
                remaining = _count_header(get(f"x-ratelimit-remaining-{kind}"))
                if limit is None or limit < 1 or remaining is None:
                    continue
                reset = self._reset(kind, get(f"x-ratelimit-reset-{kind}"))
                bucket.observe(limit, remaining, reset, now, unseen)
            if status_code == 429:
                self.stats.rate_limited += 1

    def _reset(self, kind: str, text: str | None) -> float:
        """Return the reset in seconds, or ``MAX_WAIT`` (logged once) when it is unusable."""
        seconds = parse_duration(text)
        if seconds is not None and seconds <= MAX_WAIT:
            return seconds
        name = f"x-ratelimit-reset-{kind}"
        if name not in self._warned:
            self._warned.add(name)
            why = "is missing" if text is None else f"{text[:40]!r} cannot be used"
            logger.warning(
                "rate-limit header %s %s; pacing as if the limit refills within %g s "
                "(the pacer's cap)",
                name,
                why,
                MAX_WAIT,
            )
        return MAX_WAIT


def _count_header(value: str | None) -> int | None:
    """Return a header's non-negative integer, or None (missing, unreadable, negative)."""
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


_LIVE: weakref.WeakValueDictionary[tuple[str, str], Pacer] = weakref.WeakValueDictionary()
_RECENT: OrderedDict[tuple[str, str], Pacer] = OrderedDict()
_SHARED_LOCK = threading.Lock()


def shared_pacer(api_key: str | None, base_url: str | None) -> Pacer:
    """Return the process-wide pacer for this API key and base URL (created on first use).

    The key is kept only as a SHA-256 digest. A pacer lives while a model holds it, and
    for the ``RECENT`` most recently used keys and URLs besides.
    """
    key = os.environ.get("OPENAI_API_KEY", "") if api_key is None else api_key
    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    ident = (hashlib.sha256(key.encode()).hexdigest(), url.rstrip("/"))
    with _SHARED_LOCK:
        pacer = _RECENT.get(ident)
        if pacer is not None:
            _RECENT.move_to_end(ident)
            return pacer
        pacer = _LIVE.get(ident)
        if pacer is None:
            pacer = _LIVE[ident] = Pacer()
        _RECENT[ident] = pacer
        if len(_RECENT) > RECENT:
            _RECENT.popitem(last=False)
    return pacer


def _forget_after_fork() -> None:
    # A forked child has its own calls and its own view of the limit; it starts fresh.
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()
    _RECENT.clear()
    _LIVE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
