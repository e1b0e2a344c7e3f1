"""Decisions preparing one call makes that are not LangChain plumbing nor routing.

``chat_model.ParamChat._prepare`` runs the pipeline (translate, merge, tools, check, route,
build, finalize); ``routing.route_call`` picks the API; what is decided about the call's
transport lives here.
"""

from __future__ import annotations

from typing import Any

from langchain_paramchat.errors import OptionError

__all__ = ["websocket_setting"]


def websocket_setting(value: Any, api: Any) -> bool:
    """Return the call's ``websocket`` flag.

    Raises ``OptionError`` for a non-bool, or for ``True`` with ``api="chat_completions"``.
    """
    if not isinstance(value, bool):
        raise OptionError("websocket", value, "True or False")
    if value and api == "chat_completions":
        raise OptionError(
            "websocket",
            True,
            "is the Responses API's WebSocket mode, but api='chat_completions'",
            fix="use api='auto' or 'responses', or websocket=False",
        )
    return value
