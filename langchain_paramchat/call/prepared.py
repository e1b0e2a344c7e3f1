"""One call made ready to send: its route, payload, adapter, options and finishing step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from langchain_core.outputs import ChatResult

from langchain_paramchat.apis.adapter import Adapter
from langchain_paramchat.routing.decide import Route

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from langchain_paramchat.call.finish import Finish, FinishedStream
    from langchain_paramchat.tools.normalize import NeutralTool


class Routed(NamedTuple):
    """One call's routing step: what it sends (before the body is built) and where."""

    messages: Sequence[BaseMessage]
    options: dict[str, Any]
    call: dict[str, Any]
    model: str
    tools: tuple[NeutralTool, ...] | None
    route: Route
    websocket: bool


@dataclass(frozen=True)
class Prepared:
    route: Route
    payload: dict[str, Any]
    adapter: Adapter
    options: dict[str, Any]
    finish: Finish
    websocket: bool = False

    def result(self, body: dict[str, Any], headers: Mapping[str, str] | None) -> ChatResult:
        """Return the finished result of the reply ``body``."""
        return self.finish.result(self.adapter.parse_reply(body, self.payload), body, headers)

    def stream_state(self) -> FinishedStream:
        """Return a fresh finishing state for one stream of the reply."""
        return self.finish.stream(self.adapter.stream_parser(self.payload))
