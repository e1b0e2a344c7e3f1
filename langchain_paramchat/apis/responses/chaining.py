"""Continue a conversation from the last stored Responses reply (``chain_responses=True``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from langchain_paramchat.errors import OptionError

__all__ = ["chain_from_last_response"]


def _response_id(message: BaseMessage) -> str | None:
    meta = message.response_metadata
    if meta.get("api") == "responses" or str(meta.get("id", "")).startswith("resp_"):
        return meta.get("id") or message.id
    return None


def chain_from_last_response(
    messages: Sequence[BaseMessage], merged: dict[str, Any]
) -> Sequence[BaseMessage]:
    """Send only the messages after the last Responses reply, continuing from its id.

    Sets ``previous_response_id`` in ``merged`` (the call's options), which routes the call
    to the Responses API.

    Raises ``OptionError`` when chaining is asked for with ``store=False``.
    """
    if merged.get("previous_response_id") or merged.get("conversation"):
        return messages
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, AIMessage) and (response_id := _response_id(message)):
            if merged.get("store") is False:
                raise OptionError(
                    "chain_responses",
                    True,
                    "needs stored responses, but store=False",
                    fix="set store=True (the default) or chain_responses=False",
                )
            merged["previous_response_id"] = response_id
            return messages[index + 1 :]
    return messages
