"""ChatOpenAI's ``use_responses_api`` and ``_use_responses_api(payload)``, read from the router.

ParamChat picks the API per request. ChatOpenAI code reads the choice off the model instead,
so both names answer from the routing step every call takes (``_route_request``), never
from a rule table of their own. Nothing is stored: reading them never changes what a dump,
copy or pickle of the model holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_paramchat.compat.translate import translate_call_kwargs
from langchain_paramchat.errors import IncompatibleOptionsError, ParamChatError

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from langchain_paramchat.call.prepared import Routed

__all__ = ["ApiChoice"]

_FORCED = {"responses": True, "chat_completions": False}


class ApiChoice:
    """Where requests go, in ChatOpenAI's terms."""

    if TYPE_CHECKING:
        api: str

        def _route_request(
            self,
            messages: Sequence[BaseMessage],
            stop: list[str] | str | None,
            kwargs: Mapping[str, Any],
            *,
            stream: bool,
            probe: bool = False,
        ) -> Routed: ...

    @property
    def use_responses_api(self) -> bool | None:
        """Return ChatOpenAI's ``use_responses_api``: whether every request goes to Responses.

        True/False when ``api`` forces one (``use_responses_api=True/False`` sets it); True
        when the model's own settings already route a plain request to the Responses API (an
        option only Responses takes, such as ``include`` or ``truncation``; a Responses-only
        model; ``output_version="responses/v1"``; ``websocket=True``); None while the API
        still depends on each request (its options, tools and messages).
        """
        forced = _FORCED.get(self.api)
        if forced is not None:
            return forced
        try:
            routed = self._route_request((), None, {}, stream=False, probe=True)
        except ParamChatError:  # the settings alone cannot be sent: nothing to claim
            return None
        return True if routed.route.api == "responses" else None

    def _use_responses_api(self, payload: Mapping[str, Any]) -> bool:
        """Return True if a call with ``payload``'s keys as keyword arguments goes to Responses.

        ``payload`` holds request keys under OpenAI's names, as ChatOpenAI's does (``tools``
        as OpenAI tool dicts, ``text``, ``reasoning``, ``include``, ``model``, ``stream``...);
        the model's own settings apply too. Raises what the call would raise for a bad
        value or for options no API takes together (``IncompatibleOptionsError``); with the
        API forced, the call goes nowhere else, so the forced API is the answer.
        """
        kwargs = dict(payload)
        stream = bool(kwargs.pop("stream", False))
        try:
            routed = self._route_request((), None, kwargs, stream=stream, probe=True)
        except IncompatibleOptionsError:
            forced = _FORCED.get(translate_call_kwargs(kwargs).get("api", self.api))
            if forced is None:
                raise
            return forced
        return routed.route.api == "responses"
