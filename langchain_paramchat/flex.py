"""``service_tier="flex"``: the longer timeout OpenAI recommends, and an opt-in fallback.

Flex processing is cheaper and slower, and now and then answers 429 "Resource Unavailable"
when it lacks capacity. OpenAI's flex guide raises the client timeout from 10 to 15
minutes (900 s) for flex requests, so calls with ``service_tier="flex"`` use 900 s unless the
model's ``timeout`` was set explicitly. With ``flex_fallback=True`` a non-streamed call that
flex turns away (after the usual retries) is sent once more at ``service_tier="default"``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.errors import RateLimitError

__all__ = ["FLEX_TIMEOUT", "FlexTransport", "flex_transport", "resource_unavailable"]

logger = logging.getLogger("langchain_paramchat")

FLEX_TIMEOUT = 900.0
"""Seconds per request for flex calls: OpenAI's recommendation (15 minutes, up from 10)."""
_FALLBACK_TIER = "default"


def resource_unavailable(exc: BaseException) -> bool:
    """Return True for flex's 429 "Resource Unavailable" (capacity), not a rate or quota limit."""
    if not isinstance(exc, RateLimitError):
        return False
    if exc.code in ("rate_limit_exceeded", "insufficient_quota"):
        return False
    text = f"{exc.code or ''} {exc}".lower().replace("_", " ")
    return "resource unavailable" in text


class FlexTransport:
    """Send flex calls on a transport with the flex timeout; fall back to the default tier.

    Polls, streams and other calls go to the flex transport unchanged; only non-streamed
    posts fall back (a stream's 429 is raised as usual).
    """

    def __init__(self, flex: Any, fallback_to: Any) -> None:
        self._flex = flex
        self._fallback_to = fallback_to

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flex, name)

    def _fallback(self, exc: RateLimitError, body: Mapping[str, Any]) -> dict[str, Any]:
        if self._fallback_to is None or not resource_unavailable(exc):
            raise exc
        logger.warning(
            "flex processing is unavailable (%s); sending the request at service_tier=%r",
            exc,
            _FALLBACK_TIER,
        )
        return {**body, "service_tier": _FALLBACK_TIER}

    def post_json(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> Any:
        """POST at flex; on "Resource Unavailable" and with fallback on, POST at default."""
        try:
            return self._flex.post_json(path, body, **kwargs)
        except RateLimitError as exc:
            retry = self._fallback(exc, body)
            return self._fallback_to.post_json(path, retry, **kwargs)

    def post_json_reply(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> Any:
        """Like :meth:`post_json`, returning the body and headers."""
        try:
            return self._flex.post_json_reply(path, body, **kwargs)
        except RateLimitError as exc:
            retry = self._fallback(exc, body)
            return self._fallback_to.post_json_reply(path, retry, **kwargs)

    async def apost_json(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> Any:
        """Async twin of :meth:`post_json`."""
        try:
            return await self._flex.apost_json(path, body, **kwargs)
        except RateLimitError as exc:
            retry = self._fallback(exc, body)
            return await self._fallback_to.apost_json(path, retry, **kwargs)

    async def apost_json_reply(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> Any:
        """Async twin of :meth:`post_json_reply`."""
        try:
            return await self._flex.apost_json_reply(path, body, **kwargs)
        except RateLimitError as exc:
            retry = self._fallback(exc, body)
            return await self._fallback_to.apost_json_reply(path, retry, **kwargs)


def flex_transport(model: Any) -> FlexTransport:
    """Return ``model``'s transport for flex calls: 900 s per request unless ``timeout`` was set."""
    import dataclasses

    from langchain_paramchat.transport import shared_transport

    settings = model._client_settings()
    if "timeout" not in model.model_fields_set:
        settings = dataclasses.replace(settings, timeout=FLEX_TIMEOUT)
    return FlexTransport(
        shared_transport(settings), model.transport if model.flex_fallback else None
    )
