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
from typing import TYPE_CHECKING, Any

import openai

from langchain_paramchat.errors import APIError, RateLimitError
from langchain_paramchat.transport.streams import AsyncEventStream, Event, EventStream, JSONReply

if TYPE_CHECKING:
    from langchain_paramchat.transport.protocol import ModelTransport
    from langchain_paramchat.transport.settings import ClientSettings

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

    def __init__(self, flex: ModelTransport, fallback_to: ModelTransport | None) -> None:
        self._flex = flex
        self._fallback_to = fallback_to

    @property
    def settings(self) -> ClientSettings:
        """Return the flex transport's settings."""
        return self._flex.settings

    @property
    def client(self) -> openai.OpenAI:
        """Return the flex transport's sync SDK client."""
        return self._flex.client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """Return the flex transport's async SDK client."""
        return self._flex.async_client

    def map_error(self, exc: openai.APIError) -> APIError:
        """Map an SDK exception as the flex transport does."""
        return self._flex.map_error(exc)

    def get_json(self, path: str) -> dict[str, Any]:
        """GET ``path`` at flex (polls are never sent again at the default tier)."""
        return self._flex.get_json(path)

    async def aget_json(self, path: str) -> dict[str, Any]:
        """Async twin of :meth:`get_json`."""
        return await self._flex.aget_json(path)

    def _fallback(
        self, exc: RateLimitError, body: Mapping[str, Any]
    ) -> tuple[ModelTransport, dict[str, Any]]:
        """Return the default-tier transport and body for a flex refusal, or raise ``exc``."""
        fallback_to = self._fallback_to
        if fallback_to is None or not resource_unavailable(exc):
            raise exc
        logger.warning(
            "flex processing is unavailable (%s); sending the request at service_tier=%r",
            exc,
            _FALLBACK_TIER,
        )
        return fallback_to, {**body, "service_tier": _FALLBACK_TIER}

    def post_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST at flex; on "Resource Unavailable" and with fallback on, POST at default."""
        try:
            return self._flex.post_json(path, body, extra_headers=extra_headers)
        except RateLimitError as exc:
            fallback_to, retry = self._fallback(exc, body)
            return fallback_to.post_json(path, retry, extra_headers=extra_headers)

    def post_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Like :meth:`post_json`, returning the body and headers."""
        try:
            return self._flex.post_json_reply(path, body, extra_headers=extra_headers)
        except RateLimitError as exc:
            fallback_to, retry = self._fallback(exc, body)
            return fallback_to.post_json_reply(path, retry, extra_headers=extra_headers)

    async def apost_json(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`post_json`."""
        try:
            return await self._flex.apost_json(path, body, extra_headers=extra_headers)
        except RateLimitError as exc:
            fallback_to, retry = self._fallback(exc, body)
            return await fallback_to.apost_json(path, retry, extra_headers=extra_headers)

    async def apost_json_reply(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> JSONReply:
        """Async twin of :meth:`post_json_reply`."""
        try:
            return await self._flex.apost_json_reply(path, body, extra_headers=extra_headers)
        except RateLimitError as exc:
            fallback_to, retry = self._fallback(exc, body)
            return await fallback_to.apost_json_reply(path, retry, extra_headers=extra_headers)

    def stream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> EventStream:
        """Stream at flex; turned away before the first event, stream at the default tier."""
        if self._fallback_to is None:
            return self._flex.stream_events(path, body, extra_headers=extra_headers)

        def run(outer: EventStream) -> Generator[Event, None, None]:
            inner = self._flex.stream_events(path, body, extra_headers=extra_headers)
            try:
                try:
                    first = next(inner)
                except RateLimitError as exc:
                    inner.close()
                    fallback_to, retry = self._fallback(exc, body)
                    inner = fallback_to.stream_events(path, retry, extra_headers=extra_headers)
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

    def astream_events(
        self, path: str, body: Mapping[str, Any], *, extra_headers: Mapping[str, str] | None = None
    ) -> AsyncEventStream:
        """Async twin of :meth:`stream_events`."""
        if self._fallback_to is None:
            return self._flex.astream_events(path, body, extra_headers=extra_headers)

        async def run(outer: AsyncEventStream) -> AsyncGenerator[Event, None]:
            inner = self._flex.astream_events(path, body, extra_headers=extra_headers)
            try:
                try:
                    first = await inner.__anext__()
                except RateLimitError as exc:
                    await inner.aclose()
                    fallback_to, retry = self._fallback(exc, body)
                    inner = fallback_to.astream_events(path, retry, extra_headers=extra_headers)
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
