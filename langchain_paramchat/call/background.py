"""Background responses: discounted completion windows, and resuming a response by id.

``background_options={"completion_window": "2h"}`` (or ``"8h"``) with ``background=True``
asks OpenAI for discounted background execution that may take that long. ParamChat polls
it like any background response; unless set explicitly, ``background_timeout`` becomes the
window plus 10 minutes and ``background_poll_interval`` 30 s (not one poll a second for
hours). A response outlives the process that created it: ``ParamChat.resume_response(id)``
polls it to completion from anywhere and returns the ``AIMessage`` invoke would have.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.bounds import plain_id_problem
from langchain_paramchat.errors import APITimeoutError, OptionError

__all__ = ["COMPLETION_WINDOWS", "RESUMED", "apoll", "checked_id", "poll", "schedule"]

logger = logging.getLogger("langchain_paramchat")

COMPLETION_WINDOWS = {"2h": 7200.0, "8h": 28800.0}
"""Seconds each discounted completion window may take."""
_SLACK = 600.0
_LONG_POLL = 30.0
RESUMED = "resumed a background response by its id"
"""The routing reason a resumed response carries in ``route_reasons``."""


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


def poll(model: Any, adapter: Any, body: dict[str, Any], options: Mapping[str, Any]) -> Any:
    """Poll ``body``'s reply through ``model.transport`` until ``adapter`` says it is done.

    Raises ``APITimeoutError`` (with ``response_id``) when it outlives its timeout.
    """
    timeout, interval = schedule(model, options)
    started = time.monotonic()
    deadline, polls = started + timeout, 0
    while (path := adapter.poll_path(body)) is not None:
        _log(body, started, polls, interval)
        if time.monotonic() >= deadline:
            raise _timed_out(body, timeout)
        time.sleep(interval)
        body, polls = model.transport.get_json(path), polls + 1
    if polls:
        _log(body, started, polls, None)
    return body


async def apoll(model: Any, adapter: Any, body: dict[str, Any], options: Mapping[str, Any]) -> Any:
    """Async twin of ``poll``; raises ``APITimeoutError`` the same way."""
    timeout, interval = schedule(model, options)
    started = time.monotonic()
    deadline, polls = started + timeout, 0
    while (path := adapter.poll_path(body)) is not None:
        _log(body, started, polls, interval)
        if time.monotonic() >= deadline:
            raise _timed_out(body, timeout)
        await asyncio.sleep(interval)
        body, polls = await model.transport.aget_json(path), polls + 1
    if polls:
        _log(body, started, polls, None)
    return body


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


def _log(body: Mapping[str, Any], started: float, polls: int, next_in: float | None) -> None:
    """Log a background reply's status at INFO: a long wait should not look like a hang."""
    then = f"; polling again in {next_in:g} s" if next_in is not None else ""
    logger.info(
        "background response %s is %s after %.1f s (%d polls)%s",
        body.get("id"),
        body.get("status"),
        time.monotonic() - started,
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
