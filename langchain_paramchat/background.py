"""Background responses: discounted completion windows, and resuming a response by id.

``background_options={"completion_window": "2h"}`` (or ``"8h"``) with ``background=True``
asks OpenAI for discounted background execution that may take that long. ParamChat polls
it like any background response; unless set explicitly, ``background_timeout`` becomes the
window plus 10 minutes and ``background_poll_interval`` 30 s (not one poll a second for
hours). A response outlives the process that created it: ``ParamChat.resume_response(id)``
polls it to completion from anywhere and returns the ``AIMessage`` invoke would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["COMPLETION_WINDOWS", "RESUMED", "schedule"]

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
