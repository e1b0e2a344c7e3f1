"""Background responses: discounted completion windows, and resuming a response by id.

``background_options={"completion_window": "2h"}`` (or ``"8h"``) with ``background=True``
asks OpenAI for discounted background execution that may take that long. ParamChat polls
it like any background response; unless set explicitly, ``background_timeout`` becomes the
window plus 10 minutes and ``background_poll_interval`` 30 s (not one poll a second for
hours). A response outlives the process that created it: ``ParamChat.resume_response(id)``
polls it to completion from anywhere and returns the ``AIMessage`` invoke would have.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.bounds import plain_id_problem
from langchain_paramchat.errors import APITimeoutError, DeadlineExceededError, OptionError

__all__ = [
    "COMPLETION_WINDOWS",
    "MIN_POLL_INTERVAL",
    "RESUMED",
    "apoll",
    "check_schedule",
    "checked_id",
    "poll",
    "schedule",
]

logger = logging.getLogger("langchain_paramchat")

COMPLETION_WINDOWS = {"2h": 7200.0, "8h": 28800.0}
"""Seconds each discounted completion window may take."""
MIN_POLL_INTERVAL = 0.01
"""Seconds: the shortest ``background_poll_interval`` allowed (a floor, not a default)."""
_SLACK = 600.0
_LONG_POLL = 30.0
RESUMED = "resumed a background response by its id"
"""The routing reason a resumed response carries in ``route_reasons``."""


def check_schedule(timeout: object, interval: object) -> None:
    """Raise ``OptionError`` unless both are finite seconds: timeout > 0, interval >= 0.01."""
    if not _finite(timeout) or not timeout > 0:  # type: ignore[operator]
        raise OptionError("background_timeout", timeout, "a finite number of seconds > 0")
    if not _finite(interval) or not interval >= MIN_POLL_INTERVAL:  # type: ignore[operator]
        raise OptionError(
            "background_poll_interval",
            interval,
            f"a finite number of seconds >= {MIN_POLL_INTERVAL:g}",
        )


def schedule(model: Any, options: Mapping[str, Any]) -> tuple[float, float]:
    """Return ``(timeout, poll interval)`` in seconds for one background call."""
    timeout, interval = model.background_timeout, model.background_poll_interval
    window = (options.get("background_options") or {}).get("completion_window")
    if window in COMPLETION_WINDOWS:
        if "background_timeout" not in model.model_fields_set:
            timeout = COMPLETION_WINDOWS[window] + _SLACK
        if "background_poll_interval" not in model.model_fields_set:
            interval = _LONG_POLL
    return float(timeout), float(interval)


class _Polling:
    """One background call's polling: its timeouts, and the waits they leave.

    ``background_timeout`` runs on the retry policy's ``clock`` (tests pass a fake one);
    ``total_timeout`` bounds the whole call, from ``started`` (a ``time.monotonic()`` time,
    when the call began) through every poll.
    """

    def __init__(self, model: Any, options: Mapping[str, Any], started: float | None) -> None:
        self.timeout, self.interval = schedule(model, options)
        policy = model.transport.settings.retry
        self.sleep, self.async_sleep, self.clock = policy.sleep, policy.async_sleep, policy.clock
        self.begun = self.clock()
        self.total = model.total_timeout
        began = time.monotonic() if started is None else started
        self.deadline: float | None = None if self.total is None else began + self.total
        self.polls = 0

    def next_wait(self, body: Mapping[str, Any]) -> float:
        """Return the wait before the next poll, or raise when a timeout ends the call."""
        _log(body, self.clock() - self.begun, self.polls, self.interval)
        left = self.begun + self.timeout - self.clock()
        if left <= 0:
            raise _timed_out(body, self.timeout)
        wait = min(self.interval, left)
        if self.deadline is not None and time.monotonic() + wait >= self.deadline:
            raise _past_deadline(body, self.total)
        return wait

    def done(self, body: Mapping[str, Any]) -> Any:
        if self.polls:
            _log(body, self.clock() - self.begun, self.polls, None)
        return body


def poll(
    model: Any,
    adapter: Any,
    body: dict[str, Any],
    options: Mapping[str, Any],
    started: float | None = None,
) -> Any:
    """Poll ``body``'s reply through ``model.transport`` until ``adapter`` says it is done.

    Waits ``background_poll_interval`` between polls (the retry policy's ``sleep``). Raises
    ``APITimeoutError`` (with ``response_id``) past ``background_timeout``, and
    ``DeadlineExceededError`` (with ``response_id``) when the next poll would end past the
    call's ``total_timeout``, counted from ``started`` (``time.monotonic()``).
    """
    polling = _Polling(model, options, started)
    while (path := adapter.poll_path(body)) is not None:
        polling.sleep(polling.next_wait(body))
        body = model.transport.get_json(path, deadline=polling.deadline)
        polling.polls += 1
    return polling.done(body)


async def apoll(
    model: Any,
    adapter: Any,
    body: dict[str, Any],
    options: Mapping[str, Any],
    started: float | None = None,
) -> Any:
    """Async twin of ``poll``; awaits the retry policy's ``async_sleep`` between polls."""
    polling = _Polling(model, options, started)
    while (path := adapter.poll_path(body)) is not None:
        await polling.async_sleep(polling.next_wait(body))
        body = await model.transport.aget_json(path, deadline=polling.deadline)
        polling.polls += 1
    return polling.done(body)


def checked_id(response_id: str) -> str:
    """Return ``response_id``; raise ``OptionError`` unless it is a plain id (``resp_...``).

    Checked before any URL is built: no ``/``, ``..``, query or whitespace, at most 256
    characters.
    """
    problem = plain_id_problem(response_id)
    if problem is not None:
        raise OptionError(
            "response_id", response_id, f"a response id such as 'resp_...'; this one {problem}"
        )
    return response_id


def _log(body: Mapping[str, Any], elapsed: float, polls: int, next_in: float | None) -> None:
    """Log a background reply's status at INFO: a long wait should not look like a hang."""
    then = f"; polling again in {next_in:g} s" if next_in is not None else ""
    logger.info(
        "background response %s is %s after %.1f s (%d polls)%s",
        body.get("id"),
        body.get("status"),
        elapsed,
        polls,
        then,
    )


def _timed_out(body: Mapping[str, Any], timeout: float) -> APITimeoutError:
    error = APITimeoutError(
        f"background response {body.get('id')} still {body.get('status')!r} after "
        f"background_timeout={timeout} s; it keeps running: resume it later with "
        f"resume_response({body.get('id')!r}) (from any process), or raise background_timeout"
    )
    error.response_id = body.get("id")  # type: ignore[attr-defined]
    return error


def _past_deadline(body: Mapping[str, Any], total: float | None) -> DeadlineExceededError:
    error = DeadlineExceededError(
        f"background response {body.get('id')} still {body.get('status')!r} when the call "
        f"reached total_timeout={total} s (polling included); it keeps running: resume it "
        f"later with resume_response({body.get('id')!r}) (from any process)"
    )
    error.is_retryable = False
    error.response_id = body.get("id")  # type: ignore[attr-defined]
    return error


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
