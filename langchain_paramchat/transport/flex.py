"""``service_tier="flex"``: the longer timeout OpenAI recommends, and an opt-in fallback.

Flex processing is cheaper and slower, and now and then answers 429 "Resource Unavailable"
when it lacks capacity. OpenAI's flex guide raises the client timeout from 10 to 15
minutes (900 s) for flex requests, so requests with ``service_tier="flex"`` use 900 s per
phase unless the model's ``timeout`` was set explicitly. With ``flex_fallback=True`` a call
that flex turns away (after the usual retries) is sent once more at
``service_tier="default"``, streamed or not, as long as no content reached the caller; the
send loop decides it (``transport/resend.py``), within the call's ``total_timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.errors import RateLimitError

__all__ = ["FALLBACK_TIER", "FLEX_TIMEOUT", "fallback_body", "resource_unavailable"]

logger = logging.getLogger("langchain_paramchat")

FLEX_TIMEOUT = 900.0
"""Seconds per request phase for flex calls: OpenAI's recommendation (15 minutes, up from 10)."""
FALLBACK_TIER = "default"
"""The tier a call flex turned away is sent again at."""


def resource_unavailable(exc: BaseException) -> bool:
    """Return True for flex's 429 "Resource Unavailable" (capacity), not a rate or quota limit."""
    if not isinstance(exc, RateLimitError):
        return False
    if exc.code in ("rate_limit_exceeded", "insufficient_quota"):
        return False
    text = f"{exc.code or ''} {exc}".lower().replace("_", " ")
    return "resource unavailable" in text


def fallback_body(exc: BaseException, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return ``body`` at the default tier when flex turned it away with ``exc``, else None.

    Logs the fallback at WARNING.
    """
    if body.get("service_tier") != "flex" or not resource_unavailable(exc):
        return None
    logger.warning(
        "flex processing is unavailable (%s); sending the request at service_tier=%r",
        exc,
        FALLBACK_TIER,
    )
    return {**body, "service_tier": FALLBACK_TIER}
