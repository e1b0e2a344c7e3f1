"""Reply fields ChatOpenAI users read, on both APIs, invoke and stream alike.

``response_metadata["token_usage"]`` is the API's own usage object (``usage_metadata`` is
LangChain's summary of it), a refusal is also in ``additional_kwargs["refusal"]`` (not only
in a content block), and with ``include_response_headers=True`` the HTTP response headers
are in ``response_metadata["headers"]`` of the reply or of the first streamed chunk. A call
given ``response_format=MyModel`` (a class, as ChatOpenAI takes it) gets the reply parsed into
``additional_kwargs["parsed"]`` on invoke.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

from langchain_paramchat import tools as toolkit

__all__ = ["GATEWAY_INFO_KEY", "ReplyFields", "gateway_info"]

GATEWAY_INFO_KEY = "lc_gateway_metadata"
"""langchain-core's ``generation_info`` key for a LangSmith gateway's metadata: its tracers
put it in the run's metadata, and its chat model keeps it off the message."""

_GATEWAY_HEADER = "x-langsmith-gateway-metadata"

# Responses stream events that carry the finished response (and its usage).
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _raw_usage(event: str | None, data: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = data.get("type")
    if event in _FINAL_EVENTS or (kind.__class__ is str and kind in _FINAL_EVENTS):
        response = data.get("response")
        usage = response.get("usage") if isinstance(response, Mapping) else None
    else:
        usage = data.get("usage")
    return dict(usage) if isinstance(usage, Mapping) else None


def gateway_info(headers: Mapping[str, str] | None) -> dict[str, Any] | None:
    """Return the gateway metadata a reply's headers carry (a JSON object), else None."""
    if not headers:
        return None
    raw = headers.get(_GATEWAY_HEADER)
    if raw is None and not hasattr(headers, "get_list"):  # a plain dict: any spelling
        raw = next((v for k, v in headers.items() if k.lower() == _GATEWAY_HEADER), None)
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _refusal(message: BaseMessage) -> str:
    if not isinstance(message.content, list):
        return ""
    return "".join(
        str(block.get("refusal") or "")
        for block in message.content
        if isinstance(block, dict) and block.get("type") == "refusal"
    )


class ReplyFields:
    """Adds ChatOpenAI's reply fields to one call's reply or stream chunks."""

    def __init__(
        self, headers: Mapping[str, str] | None = None, *, copy_refusal: bool = True
    ) -> None:
        self.headers = dict(headers) if headers is not None else None
        # Off for output_version="v1": langchain-core reads a refusal both from a content
        # block and from additional_kwargs, and would show it twice.
        self.copy_refusal = copy_refusal
        self.headers_from: Any = None
        """An open stream whose ``headers`` (set at its first event) go on the first chunk."""
        self.parse_as: Any = None
        """A ``response_format`` class to parse an invoke reply into (``additional_kwargs``)."""
        self._usage: dict[str, Any] | None = None
        self._first = True

    def see(self, event: str | None, data: Mapping[str, Any]) -> None:
        """Note the raw usage a stream event carries, for the chunk that reports it."""
        usage = _raw_usage(event, data)
        if usage is not None:
            self._usage = usage

    def reply(self, message: BaseMessage, body: Mapping[str, Any]) -> None:
        """Add the fields to (each choice of) an invoke reply parsed from ``body``."""
        meta = message.response_metadata
        if self.headers is not None:
            meta["headers"] = dict(self.headers)
        usage = _raw_usage(None, body)
        if usage is not None:
            meta["token_usage"] = usage
        if self.copy_refusal:
            _copy_refusal(message)
        if self.parse_as is not None:
            # With tools bound, a tool call is a valid answer too: only the text is parsed.
            answered = not getattr(message, "tool_calls", None) or message.text.strip()
            parsed = toolkit.parse_reply_as(self.parse_as, message) if answered else None
            message.additional_kwargs["parsed"] = parsed

    def chunk(self, message: BaseMessage) -> None:
        """Add the fields to a streamed chunk (headers go on the first one only)."""
        meta = message.response_metadata
        if self._first:
            headers = self.headers
            if headers is None and self.headers_from is not None:
                headers = self.headers_from.headers
            if headers is not None:
                meta["headers"] = dict(headers)
        self._first = False
        if self._usage is not None and getattr(message, "usage_metadata", None):
            meta["token_usage"] = self._usage
            self._usage = None
        if self.copy_refusal:
            _copy_refusal(message)


def _copy_refusal(message: BaseMessage) -> None:
    refusal = _refusal(message)
    if refusal and "refusal" not in message.additional_kwargs:
        message.additional_kwargs["refusal"] = refusal
