"""Bound models (``bind``, ``bind_tools``, ``with_config``) that keep ParamChat's own methods.

LangChain's ``RunnableBinding`` hands unknown attributes to the model unchanged, so
``model.bind_tools([...]).preview_request("x")`` previewed a call without the tools. A
``BoundParamChat`` passes what was bound to ``preview_request``, ``count_tokens`` and any
name in ``FORWARDED`` (call keyword arguments win over bound ones, as in ``invoke``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig

from langchain_paramchat import tools as toolkit
from langchain_paramchat.errors import ParamChatError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import _ChatModelBinding as _Binding
else:
    try:  # langchain-core >= 1.8 types chat-model bindings; older ones use RunnableBinding
        from langchain_core.language_models.chat_models import _ChatModelBinding as _Binding
    except ImportError:
        _Binding = RunnableBinding

__all__ = ["FORWARDED", "Bindable", "BoundParamChat", "StructuredOutput", "tools_binding"]

# Model methods that take (input, **call kwargs) and must see the bound kwargs too.
FORWARDED = frozenset(
    {"preview_request", "count_tokens", "acount_tokens", "submit_batch", "asubmit_batch"}
)


class StructuredOutput:
    """``with_structured_output`` for ParamChat and its bound models alike."""

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        strict: bool | None = None,
        include_raw: bool = False,
        stream_partial: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable that answers with ``schema`` (Pydantic class, TypedDict, JSON schema).

        ``json_schema`` (default, strict unless ``strict=False``) uses ``response_format`` /
        ``text.format``; ``function_calling`` forces a tool call; ``json_mode`` asks for any
        JSON object. A refusal raises ``RefusalError``, a reply cut by the token limit raises
        ``LengthLimitError``; with ``include_raw=True`` errors come back as ``parsing_error``.
        Streaming a dict schema yields the growing JSON as dicts and a Pydantic schema only
        the validated object, as ChatOpenAI does; ``stream_partial=True`` / ``False``
        always / never yields the growing JSON (as plain dicts).
        """
        return toolkit.structured_runnable(
            self,
            schema,
            method=method,
            strict=strict,
            include_raw=include_raw,
            stream_partial=stream_partial,
            **kwargs,
        )


class BoundParamChat(StructuredOutput, _Binding):
    """A ParamChat with call keyword arguments (and config) bound; previews include them."""

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """Return the serialization namespace (this module), so ``load`` finds the class."""
        return ["langchain_paramchat", "binding"]

    @classmethod
    def lc_id(cls) -> list[str]:
        """Return the serialized id: this module and class."""
        return [*cls.get_lc_namespace(), cls.__name__]

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """Return bound tools as OpenAI tool dicts (MCP credentials redacted) for ``dumpd``."""
        tools = self.kwargs.get("tools")
        if not tools:
            return {}
        neutral = (toolkit.FunctionTool, toolkit.CustomTool, toolkit.BuiltinTool)
        specs = [toolkit.tool_spec(t) if isinstance(t, neutral) else t for t in tools]
        # Tracers see this too: an MCP tool's credentials are not saved (pass them again).
        specs = [toolkit.redacted_spec(s) if isinstance(s, dict) else s for s in specs]
        return {"kwargs": {**self.kwargs, "tools": specs}}

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self.kwargs, **kwargs}

    def preview_request(self, input: LanguageModelInput, **kwargs: Any) -> Any:
        """Return what ``invoke(input, **kwargs)`` would send, bound arguments included."""
        return self.bound.preview_request(input, **self._merged(kwargs))  # type: ignore[attr-defined]

    def count_tokens(self, input: LanguageModelInput, **kwargs: Any) -> int:
        """Return OpenAI's exact input-token count of the call, bound arguments included."""
        return int(self.bound.count_tokens(input, **self._merged(kwargs)))  # type: ignore[attr-defined]

    async def acount_tokens(self, input: LanguageModelInput, **kwargs: Any) -> int:
        """Async twin of ``count_tokens``."""
        count = await self.bound.acount_tokens(input, **self._merged(kwargs))  # type: ignore[attr-defined]
        return int(count)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> BoundParamChat:
        """Bind ``tools`` on top of what is already bound (see ``ParamChat.bind_tools``)."""
        fresh = self.bound.bind_tools(tools, **kwargs)  # type: ignore[attr-defined]
        return self.__class__(
            bound=self.bound, kwargs=self._merged(fresh.kwargs), config=self.config
        )

    def __getattr__(self, name: str) -> Any:
        attr = super().__getattr__(name)
        if name not in FORWARDED or not callable(attr):
            return attr

        def with_bound(input: Any, **kwargs: Any) -> Any:
            return attr(input, **self._merged(kwargs))

        with_bound.__doc__ = attr.__doc__
        return with_bound


class Bindable(StructuredOutput):
    """``bind`` and ``with_config`` for ParamChat, returning a ``BoundParamChat``."""

    def bind(self, **kwargs: Any) -> BoundParamChat:
        """Return this model with ``kwargs`` passed to every call and to ``preview_request``."""
        return BoundParamChat(bound=self, kwargs=kwargs, config={})  # type: ignore[arg-type]

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Return this model with ``config`` bound (tags, callbacks, ...), keeping its methods."""
        merged: RunnableConfig = {**(config or {}), **kwargs}  # type: ignore[typeddict-item]
        return BoundParamChat(bound=self, kwargs={}, config=merged)  # type: ignore[arg-type]

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_invocation_params(stop=stop, **kwargs)  # type: ignore[misc]
        if params.get("tools"):
            # Callbacks and tracers see OpenAI tool dicts, never an MCP tool's credentials.
            params["tools"] = [toolkit.traced_tool(t) for t in params["tools"]]
        return params


def tools_binding(
    model: Any, tools: Sequence[Any], strict: Any, response_format: Any, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Return the kwargs ``bind_tools`` binds: the tools read into neutral values, and more.

    ``strict=True`` compiles each schema to OpenAI's strict subset; ``strict=None`` keeps a
    tool dict's own ``strict``, else sends ``False``. ``response_format`` (a Pydantic class,
    TypedDict or JSON schema) shapes the answer when the model calls no tool; a class parses
    it into ``additional_kwargs["parsed"]``. As in ChatOpenAI it makes ``strict`` default to
    ``True``, unless every call goes to the Responses API, which does not need it.

    Raises ``ToolSchemaError`` for a tool it cannot read or make strict.
    """
    bound: dict[str, Any] = {"tools": toolkit.normalize_tools(tools, strict=strict), **kwargs}
    if response_format is None:
        return bound
    if strict is None and not _goes_to_responses(model, bound["tools"]):
        strict = True
        bound["tools"] = toolkit.normalize_tools(tools, strict=True)
    bound["response_format"] = toolkit.tools_response_format(response_format, strict)
    return bound


def _goes_to_responses(model: Any, tools: Sequence[Any]) -> bool:
    # The router's own answer, asked without building a body or warning at bind time.
    try:
        return bool(model._use_responses_api({"tools": list(tools)}))
    except ParamChatError:
        return False
