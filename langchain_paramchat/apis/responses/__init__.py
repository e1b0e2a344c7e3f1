"""The Responses adapter: ``request`` builds bodies, ``reply`` and ``stream`` parse.

``chaining`` continues a conversation from a stored response; background replies are polled
at ``/responses/{id}`` until they finish; ``compaction`` builds and reads the compact
endpoint's calls (``ParamChat.compact``).

May import: ``apis`` (adapter, content, request and reply parts), ``errors``, ``options``,
``tools``, ``model_facts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langchain_paramchat.apis.adapter import Adapter, PackageAdapter
from langchain_paramchat.apis.responses import compaction, reply, request, stream
from langchain_paramchat.bounds import plain_id_problem
from langchain_paramchat.errors import ResponseFormatError

__all__ = ["ADAPTER", "ResponsesAdapter"]

_PENDING = frozenset({"queued", "in_progress"})


class ResponsesAdapter(PackageAdapter):
    """``POST /responses``: typed input items, built-in tools, reasoning, stored state.

    It takes every tool kind; audio input and assistant audio are Chat Completions only.
    """

    api: Literal["responses"] = "responses"
    path = request.PATH
    _request = request
    _reply = reply
    _stream = stream
    compaction = compaction

    def stream_options(
        self, options: Mapping[str, Any] | None, stream_usage: bool
    ) -> dict[str, Any]:
        """Drop ``include_usage``: Responses streams always end with usage."""
        return {k: v for k, v in (options or {}).items() if k != "include_usage"}

    def poll_path(self, body: Mapping[str, Any]) -> str | None:
        """Return ``/responses/{id}`` while a background response is queued or in progress.

        Raises ``ResponseFormatError`` when such a reply carries no plain id to poll.
        """
        status = body.get("status")
        if body.get("object") == "response" and status.__class__ is str and status in _PENDING:
            response_id = body.get("id")
            problem = plain_id_problem(response_id)
            if problem is not None:
                raise ResponseFormatError(
                    f"a background response is {status} but its id {problem}; it cannot be polled"
                )
            return f"{request.PATH}/{response_id}"
        return None


ADAPTER: Adapter = ResponsesAdapter()
