"""``service_tier="flex"``: the longer timeout OpenAI recommends, and an opt-in fallback.

Flex processing is cheaper and slower, and now and then answers 429 "Resource Unavailable"
when it lacks capacity. OpenAI's flex guide raises the client timeout from 10 to 15
minutes (900 s) for flex requests, so calls with ``service_tier="flex"`` use 900 s unless the
model's ``timeout`` was set explicitly. With ``flex_fallback=True`` a non-streamed call that
flex turns away (after the usual retries) is sent once more at ``service_tier="default"``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

from langchain_paramchat.errors import RateLimitError
from langchain_paramchat.transport.streams import AsyncEventStream, EventStream

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

    Posts and streams fall back; polls and other calls go to the flex transport unchanged.
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

    def stream_events(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> EventStream:
        """Stream at flex; turned away before the first event, stream at the default tier."""
        if self._fallback_to is None:
            stream: EventStream = self._flex.stream_events(path, body, **kwargs)
            return stream

        def run(outer: EventStream) -> Generator[Any, None, None]:
            inner = self._flex.stream_events(path, body, **kwargs)
            try:
                try:
                    first = next(inner)
                except RateLimitError as exc:
                    inner.close()
                    retry = self._fallback(exc, body)
                    inner = self._fallback_to.stream_events(path, retry, **kwargs)
                    first = next(inner)
                outer.headers = inner.headers
                yield first
                for event in inner:
                    outer.done = inner.done
                    yield event
                outer.done = inner.done
            except StopIteration:
                outer.done = inner.done
            finally:
                inner.close()

        return EventStream(run)

    def astream_events(self, path: str, body: Mapping[str, Any], **kwargs: Any) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""
        if self._fallback_to is None:
            stream: AsyncEventStream = self._flex.astream_events(path, body, **kwargs)
            return stream

        async def run(outer: AsyncEventStream) -> AsyncGenerator[Any, None]:
            inner = self._flex.astream_events(path, body, **kwargs)
            try:
                try:
                    first = await inner.__anext__()
                except RateLimitError as exc:
                    await inner.aclose()
                    retry = self._fallback(exc, body)
                    inner = self._fallback_to.astream_events(path, retry, **kwargs)
                    first = await inner.__anext__()
                outer.headers = inner.headers
                yield first
                async for event in inner:
                    outer.done = inner.done
                    yield event
                outer.done = inner.done
            except StopAsyncIteration:
                outer.done = inner.done
            finally:
                await inner.aclose()

        return AsyncEventStream(run)


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
