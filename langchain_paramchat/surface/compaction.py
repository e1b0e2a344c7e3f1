"""``ParamChat.compact()`` / ``acompact()``: a conversation sent to OpenAI's compact endpoint.

The Responses adapter builds the body and reads the reply (``apis.responses.compaction``);
this mixin only prepares the options, sends and returns the shorter message list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage

from langchain_paramchat.apis.adapter import adapter_for
from langchain_paramchat.errors import OptionError

if TYPE_CHECKING:
    from langchain_core.prompt_values import PromptValue

    from langchain_paramchat.transport.protocol import ModelTransport

__all__ = ["Compactor"]


class _Model(Protocol):
    model: str

    @property
    def transport(self) -> ModelTransport: ...

    def _convert_input(self, input: LanguageModelInput) -> PromptValue: ...

    def _call_options(
        self, stop: Any, kwargs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]: ...


class Compactor:
    """``compact()`` and ``acompact()`` for ``ParamChat``."""

    def compact(self: _Model, input: LanguageModelInput, **kwargs: Any) -> list[BaseMessage]:
        """Return a shorter conversation from OpenAI's compact endpoint, ready for ``invoke``.

        The result is the user messages plus one ``AIMessage`` holding the compaction block
        (with ``usage_metadata``). Keywords: ``model`` and the options the endpoint takes
        (``instructions``, ``prompt_cache_key``, ``service_tier``, ...); any other option
        raises ``OptionError`` before anything is sent.
        """
        compaction, payload, model = _prepare(self, input, kwargs)
        body = self.transport.post_json(compaction.PATH, payload)
        messages: list[BaseMessage] = compaction.compacted_messages(body, model=model)
        return messages

    async def acompact(self: _Model, input: LanguageModelInput, **kwargs: Any) -> list[BaseMessage]:
        """Async twin of :meth:`compact`."""
        compaction, payload, model = _prepare(self, input, kwargs)
        body = await self.transport.apost_json(compaction.PATH, payload)
        messages: list[BaseMessage] = compaction.compacted_messages(body, model=model)
        return messages


def _prepare(
    model_obj: _Model, input: LanguageModelInput, kwargs: Mapping[str, Any]
) -> tuple[Any, dict[str, Any], str]:
    """Return the compaction module, the body to send and the model it names."""
    model = kwargs.get("model") or model_obj.model
    if not isinstance(model, str):
        raise OptionError("model", model, "must be a model name (a string)")
    given = {k: v for k, v in kwargs.items() if k != "model"}
    merged, _ = model_obj._call_options(None, given)
    messages = model_obj._convert_input(input).to_messages()
    # The adapter loads the Responses package (and its compaction module) on first use.
    compaction = adapter_for("responses").compaction  # type: ignore[attr-defined]
    payload = compaction.compact_payload(messages, model=model, options=merged, given=given)
    return compaction, payload, model
