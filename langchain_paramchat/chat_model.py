"""``ParamChat``: the LangChain chat model. Merges options, routes, builds, sends, parses."""

from __future__ import annotations

import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput, ModelProfile
from langchain_core.language_models.chat_models import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils import from_env, secret_from_env
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    SerializationInfo,
    ValidationError,
    field_serializer,
)

from langchain_paramchat import batch
from langchain_paramchat import call as steps
from langchain_paramchat import tools as toolkit
from langchain_paramchat.apis.adapter import Adapter, adapter_for, unsupported
from langchain_paramchat.binding import Bindable, tools_binding
from langchain_paramchat.bounds import check_settings
from langchain_paramchat.call.prepare import websocket_setting
from langchain_paramchat.call.prepared import Prepared, Routed
from langchain_paramchat.compat import translate as compat
from langchain_paramchat.compat.translate import ChatOpenAISettings
from langchain_paramchat.errors import (
    APIError,
    MessageConversionError,
    OptionError,
    setting_error,
)
from langchain_paramchat.options import (
    OPTIONS,
    RequestOptions,
    apply_implied_options,
    check_contradictions,
    check_option,
    merge_options,
    warn_deprecated_options,
)
from langchain_paramchat.routing.decide import DEFAULT_RESPONSES_ONLY_MODELS, ApiSetting, route_call
from langchain_paramchat.routing.model_checks import drop_rejected_options, warn_model_shutdown
from langchain_paramchat.routing.model_facts import facts
from langchain_paramchat.secrets import is_credential_header, redact_headers, redact_url
from langchain_paramchat.surface.connection import DEFAULT_TIMEOUT
from langchain_paramchat.surface.model import ModelSurface
from langchain_paramchat.surface.model_class import register_model_class
from langchain_paramchat.surface.sdk_objects import give_sdk_objects, take_sdk_objects
from langchain_paramchat.transport.credentials import describe_provider

if TYPE_CHECKING:
    from langchain_paramchat.batch import BatchJob
    from langchain_paramchat.tools import NeutralChoice, NeutralTool

__all__ = ["ParamChat", "RequestPreview"]

logger = logging.getLogger("langchain_paramchat")


@dataclass(frozen=True)
class RequestPreview:
    """What ``ParamChat`` would send for one call: the API, the exact body and why."""

    api: str
    payload: dict[str, Any]
    reasons: tuple[str, ...]
    path: str


_CALL_ARGS = frozenset(  # keyword arguments a call may carry besides options
    {
        "tools",
        "api",
        "stream_usage",
        "extra_body",
        "ls_structured_output_format",
        "stream",
        "strict",
        "chain_responses",
        "model",
        "websocket",
    }
)


class ParamChat(ModelSurface, Bindable, BaseChatModel, RequestOptions, ChatOpenAISettings):
    """Chat model for OpenAI models with every request option, on Chat Completions or Responses.

    Each field below the client settings is a request option (see the README's option
    table). Fields are defaults; keyword arguments to ``invoke``/``stream``/``bind`` override
    them per call. The API is chosen per request from the options in play (``api="auto"``).
    Building one raises ``OptionError`` for a bad value, ``UnknownOptionError`` for an unknown
    keyword.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model: str = Field(default="gpt-5.4-mini", alias="model_name")
    """OpenAI model name."""
    api: ApiSetting = "auto"
    """``auto`` routes per request; ``chat_completions`` / ``responses`` force one API."""
    api_key: SecretStr | Callable[[], str] | Callable[[], Awaitable[str]] | None = Field(
        default_factory=secret_from_env("OPENAI_API_KEY", default=None)
    )
    """API key, or a sync or async function returning it (called per request); defaults to
    ``OPENAI_API_KEY``. Never shown in reprs, logs or dumps (a function is never called
    for them)."""
    base_url: str | None = Field(
        default_factory=from_env(["OPENAI_BASE_URL", "OPENAI_API_BASE"], default=None)
    )
    """Base URL (defaults to ``OPENAI_BASE_URL``, then ``OPENAI_API_BASE``, then OpenAI's)."""
    organization: str | None = Field(
        default_factory=from_env(["OPENAI_ORG_ID", "OPENAI_ORGANIZATION"], default=None)
    )
    """OpenAI organization id sent with each request; defaults to ``OPENAI_ORG_ID`` (or
    ``OPENAI_ORGANIZATION``)."""
    project: str | None = Field(default_factory=from_env("OPENAI_PROJECT_ID", default=None))
    """OpenAI project id sent with each request; defaults to ``OPENAI_PROJECT_ID``."""
    timeout: float | tuple[float, float] | Any = DEFAULT_TIMEOUT
    """Seconds each phase of a request may take (each read; connecting is capped at 10 s).

    Also a ``(connect, read)`` tuple or an ``httpx2.Timeout``/``httpx.Timeout``, as in
    ChatOpenAI. Finite by default, so a call never hangs forever; streams use
    ``stream_idle_timeout`` between events instead."""
    total_timeout: float | None = None
    """Seconds a whole call may take, retries and a slowly arriving reply included."""
    stream_idle_timeout: float | None = 120.0
    """Seconds a stream may stay silent between events before it fails (0 or None: no limit)."""
    max_retries: int = 2
    """Retries on connection errors, timeouts, 408/409/429/5xx (tenacity; SDK retries are off)."""
    retry_policy: Any = Field(default=None, exclude=True)
    """A ``langchain_paramchat.retry.RetryPolicy`` to replace the default policy."""
    pace: bool = True
    """Pace calls at the account's rate limit (``x-ratelimit-*`` headers); see ``pacer.py``."""
    flex_fallback: bool = False
    """Resend a call flex turns away (429 "Resource Unavailable") at the default tier."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every request."""
    default_query: dict[str, Any] | None = None
    """Extra URL query parameters sent with every request."""
    http_client: Any = Field(default=None, exclude=True)
    """An ``httpx2.Client`` (or ``httpx.Client``) for the sync SDK client."""
    http_async_client: Any = Field(default=None, exclude=True)
    """An ``httpx2.AsyncClient`` (or ``httpx.AsyncClient``) for the async SDK client."""
    extra_body: dict[str, Any] | None = None
    """Sent verbatim at the top level of every request body (for parameters ParamChat lacks)."""
    streaming: bool = False
    """Stream under the hood even for ``invoke``."""
    stream_usage: bool = True
    """Ask for token usage on streamed calls (``stream_options.include_usage``)."""
    responses_only_models: tuple[str, ...] = DEFAULT_RESPONSES_ONLY_MODELS
    """Model-name patterns (regex) served only by the Responses API."""
    strict_options: bool = False
    """Refuse (``OptionError``) options the model rejects, instead of leaving them out with a
    ``RejectedOptionWarning`` (e.g. ``temperature`` for reasoning models; see ``model_facts``)."""
    chain_responses: bool = False
    """Continue from the last AIMessage's response id, sending only the newer messages."""
    background_poll_interval: float = 1.0
    """Seconds between polls of a ``background=True`` response (each logged at INFO)."""
    background_timeout: float = 600.0
    """Seconds to wait for a background response before raising ``APITimeoutError``."""
    websocket: bool = False
    """Send Responses calls over persistent WebSockets, continuing each socket's last response
    with only the new items (``pip install 'langchain-paramchat[websocket]'``); see README."""

    _transport: Any = PrivateAttr(default=None)
    _websocket_transport: Any = PrivateAttr(default=None)
    _sdk: Any = PrivateAttr(default=None)
    _field_options: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __init__(self, **kwargs: Any) -> None:
        sdk = take_sdk_objects(kwargs)  # ChatOpenAI's client objects: used as given
        try:
            super().__init__(**_normalize_init(type(self), compat.translate_init_kwargs(kwargs)))
        except ValidationError as exc:
            raise setting_error(exc) from None
        # Outside pydantic's validation, so a bad setting raises OptionError itself.
        self._client_settings()
        give_sdk_objects(self, sdk)

    def model_post_init(self, context: Any, /) -> None:
        """Check option fields once and cache them for every call; record versions for tracing."""
        super().model_post_init(context)  # langchain-core's metadata["lc_versions"]
        self._record_version()
        self._cache_options()

    def _cache_options(self) -> None:
        """Check the option fields and cache the set ones for every call."""
        options = {}
        for name in OPTIONS:
            value = getattr(self, name)
            if value is not None:
                check_option(name, value)
                options[name] = value
        self._field_options = options

    # --- LangChain plumbing ------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "paramchat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Return True: ParamChat can be saved with ``dumpd`` and loaded back."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """Return the serialization namespace."""
        return ["langchain_paramchat", "chat_model"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Map secret fields to the environment variables that hold them."""
        return {"api_key": "OPENAI_API_KEY"}

    def to_json(self) -> Any:
        """Serialize for ``dumpd``, leaving out credential-looking ``default_headers``.

        langchain-core's ``load`` cannot restore a secret nested in a dict, so such headers
        are not saved at all (never their values): pass them again when you load.
        """
        serialized = super().to_json()
        kwargs = serialized.get("kwargs")
        if isinstance(kwargs, dict) and isinstance(self.default_headers, Mapping):
            kwargs["default_headers"] = {
                k: v for k, v in self.default_headers.items() if not is_credential_header(k)
            }
        for url in ("base_url", "openai_proxy"):
            if isinstance(kwargs, dict) and kwargs.get(url):
                kwargs[url] = redact_url(kwargs[url])
        return serialized

    @field_serializer("default_headers", "base_url")
    def _dump_secrets(self, value: Any) -> Any:
        """Hide credential headers and ``base_url`` credentials from dumps and traces."""
        return redact_url(value) if isinstance(value, str) else value and redact_headers(value)

    @field_serializer("api_key")
    def _dump_key(self, value: Any, info: SerializationInfo) -> Any:
        """Show a key function by name in dumps (never called, never its state)."""
        if callable(value):
            return describe_provider(value)
        if isinstance(value, SecretStr) and info.mode_is_json():
            return str(value)  # masked; older pydantic cannot serialize it inside the union
        return value

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "api_key" and callable(value):
                value = describe_provider(value)
            elif name == "default_headers" and isinstance(value, Mapping):
                value = redact_headers(value)
            elif name == "base_url" and isinstance(value, str):
                value = redact_url(value)
            yield name, value

    def _resolve_model_profile(self) -> ModelProfile | None:
        """Return the model's LangChain profile from its facts (``profile=`` given wins)."""
        return facts(self.model).profile()

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "api": self.api, **self._field_options}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="openai",
            ls_model_name=kwargs.get("model") or self.model,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop or kwargs.get("stop") or self.stop
        if stops:
            params["ls_stop"] = [stops] if isinstance(stops, str) else list(stops)
        return params

    # --- request preparation ------------------------------------------------------------

    def preview_request(self, input: LanguageModelInput, **kwargs: Any) -> RequestPreview:
        """Return the API, exact payload and routing reasons for a call, without sending it."""
        messages = self._convert_input(input).to_messages()
        stop = kwargs.pop("stop", None)
        stream = bool(kwargs.pop("stream", False))
        prepared = self._prepare_call(messages, stop, kwargs, stream=stream)
        return RequestPreview(
            api=prepared.route.api,
            payload=prepared.payload,
            reasons=prepared.route.reasons,
            path=prepared.adapter.path,
        )

    def _call_options(
        self, stop: list[str] | str | None, kwargs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        kwargs = compat.translate_call_kwargs(kwargs)
        call = {k: v for k, v in kwargs.items() if k in _CALL_ARGS}
        given = {k: v for k, v in kwargs.items() if k not in _CALL_ARGS}
        if given:
            merged = merge_options(self._field_options, given, _keywords())
        else:
            merged = dict(self._field_options)
        if stop is not None:
            check_option("stop", stop)
            merged["stop"] = stop
        return compat.apply_disabled_params(merged, self.disabled_params), call

    def _route_request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | str | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool,
        probe: bool = False,
    ) -> Routed:
        """Merge a call's options and route it: the one routing step of every call.

        ``probe=True`` asks where a request would go without sending one: no messages are
        needed and nothing warns (a rejected option is left out silently, as it would be).
        """
        merged, call = self._call_options(stop, kwargs)
        api = call.get("api", self.api)
        websocket = websocket_setting(call.get("websocket", self.websocket), api)
        # Over a socket the transport continues the last response itself (store=False too).
        if call.get("chain_responses", self.chain_responses) and not websocket:
            # lazy: the Responses adapter loads only for calls that use it
            from langchain_paramchat.apis.responses.chaining import chain_from_last_response

            messages = chain_from_last_response(messages, merged)
        no_input = not merged.get("previous_response_id") and not merged.get("prompt")
        if not messages and no_input and not probe:
            raise MessageConversionError(
                "no messages to send: pass at least one message (or previous_response_id / "
                "prompt on the Responses API)"
            )
        model = call.get("model") or self.model
        if not isinstance(model, str):
            raise OptionError("model", model, "must be a model name (a string)")
        bound_tools = None
        if call.get("tools"):
            bound_tools = toolkit.bound_tools(call["tools"], call.get("strict"))
        apply_implied_options(merged)
        check_contradictions(merged, stream=stream, tools=bool(bound_tools))
        drop_rejected_options(merged, model, strict=self.strict_options, quiet=probe)
        if not probe:
            warn_deprecated_options(merged)
            warn_model_shutdown(model)
        decided = route_call(
            merged,
            model=model,
            api=api,
            unsupported=unsupported(messages, bound_tools),
            responses_only_models=self.responses_only_models,
            websocket=websocket,
            tools=bool(bound_tools),
        )
        return Routed(messages, merged, call, model, bound_tools, decided, websocket)

    def _prepare(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | str | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool,
    ) -> Prepared:
        routed = self._route_request(messages, stop, kwargs, stream=stream)
        messages, merged, call, model, bound_tools, decided = routed[:6]
        choice = _choice(merged.get("tool_choice"), bound_tools)
        websocket = routed.websocket and decided.api == "responses" and not merged.get("background")
        compat.check_output_version(self.output_version, decided.api)
        adapter = adapter_for(decided.api)
        payload = adapter.build_request(
            messages,
            model=model,
            placements=decided.placements,
            tools=bound_tools,
            tool_choice=choice,
            stream=stream,
            stream_options=merged.get("stream_options"),
            stream_usage=call.get("stream_usage", self.stream_usage),
        )
        compat.drop_disabled_keys(payload, self.disabled_params)
        call_extra = call.get("extra_body") or {}
        if not isinstance(call_extra, Mapping):
            raise OptionError("extra_body", call_extra, "a dict of extra body fields")
        extra = {**(self.extra_body or {}), **call_extra}
        if extra:
            check_settings({"extra_body": extra})
            payload.update(extra)
        finish = steps.Finish(
            decided, bound_tools, compat.parse_target(kwargs), self.output_version
        )
        finish.transport = "websocket" if websocket else "http"
        return Prepared(decided, payload, adapter, merged, finish, websocket)

    # --- background responses -------------------------------------------------------------

    def resume_response(self, response_id: str) -> AIMessage:
        """Poll a (background) response by id until done; return the AIMessage invoke would.

        Works from any process with the same key; raises ``APITimeoutError`` (with
        ``response_id``) when it is still running after ``background_timeout``.
        """
        started, adapter = time.monotonic(), adapter_for("responses")
        body = self.transport.get_json(f"{adapter.path}/{steps.checked_id(response_id)}")
        return self._resumed(adapter, self._poll(adapter, body, {}, started))

    async def aresume_response(self, response_id: str) -> AIMessage:
        """Async twin of :meth:`resume_response`."""
        started, adapter = time.monotonic(), adapter_for("responses")
        body = await self.transport.aget_json(f"{adapter.path}/{steps.checked_id(response_id)}")
        return self._resumed(adapter, await self._apoll(adapter, body, {}, started))

    def _resumed(self, adapter: Adapter, body: dict[str, Any]) -> AIMessage:
        # lazy: batch's reply reader is its own module, loaded only to resume a response
        from langchain_paramchat.batch.results import ReplyReader

        return ReplyReader(self, adapter.api, [[steps.RESUMED]], None).message(body, 0)

    # --- generate ------------------------------------------------------------------------

    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        # ``streaming=True`` invoke streams in ``_generate``, whose merge parses tool-call
        # arguments as invoke does (langchain-core's would complete cut-off JSON).
        if self.streaming and "stream" not in kwargs:
            return False
        return super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            chunks = list(self._stream(messages, stop, run_manager, **kwargs))
            return steps.result_of_stream(chunks, standard_blocks=self.output_version == "v1")
        started = time.monotonic()
        prepared = self._prepare_call(messages, stop, kwargs, stream=False)
        transport = self._transport_of(prepared)
        body, headers = transport.post_json_reply(prepared.adapter.path, prepared.payload)
        body = self._poll(prepared.adapter, body, prepared.options, started)
        return self._finish_reply(prepared, body, headers)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return steps.result_of_stream(
                [chunk async for chunk in self._astream(messages, stop, run_manager, **kwargs)],
                standard_blocks=self.output_version == "v1",
            )
        started = time.monotonic()
        prepared = self._prepare_call(messages, stop, kwargs, stream=False)
        transport = self._transport_of(prepared)
        reply = await transport.apost_json_reply(prepared.adapter.path, prepared.payload)
        body, headers = reply
        body = await self._apoll(prepared.adapter, body, prepared.options, started)
        return self._finish_reply(prepared, body, headers)

    def _poll(
        self, adapter: Adapter, body: dict[str, Any], options: Mapping[str, Any], started: float
    ) -> dict[str, Any]:
        """Poll a background reply until done, within the timeouts of a call from ``started``."""
        if adapter.poll_path(body) is None:
            return body
        return steps.poll(self, adapter, body, options, started)

    async def _apoll(
        self, adapter: Adapter, body: dict[str, Any], options: Mapping[str, Any], started: float
    ) -> dict[str, Any]:
        """Async twin of ``_poll``."""
        if adapter.poll_path(body) is None:
            return body
        return await steps.apoll(self, adapter, body, options, started)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        prepared = self._prepare_call(messages, stop, kwargs, stream=True)
        transport = self._transport_of(prepared)
        with transport.stream_events(prepared.adapter.path, prepared.payload) as events:
            relay = steps.Relay(prepared, events, self.include_response_headers)
            try:
                for event, data in events:
                    for chunk in relay.take(event, data):
                        if run_manager:
                            run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                        yield chunk
                held, last = relay.close()
            except APIError as exc:
                error = relay.failed(exc)
                if error is exc:
                    raise
                raise error from error.__cause__
        for chunk in held:  # a stream that ended without content
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        if last is not None:
            yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        prepared = self._prepare_call(messages, stop, kwargs, stream=True)
        transport = self._transport_of(prepared)
        async with transport.astream_events(prepared.adapter.path, prepared.payload) as events:
            relay = steps.Relay(prepared, events, self.include_response_headers)
            try:
                async for event, data in events:
                    for chunk in relay.take(event, data):
                        if run_manager:
                            await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                        yield chunk
                held, last = relay.close()
            except APIError as exc:
                error = relay.failed(exc)
                if error is exc:
                    raise
                raise error from error.__cause__
        for chunk in held:  # a stream that ended without content
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        if last is not None:
            yield last

    # --- bulk jobs -------------------------------------------------------------------------

    def submit_batch(self, inputs: Iterable[LanguageModelInput], **kwargs: Any) -> BatchJob:
        """Submit ``inputs`` as an OpenAI Batch API job; see ``langchain_paramchat.batch``."""
        return batch.submit_batch(self, inputs, **kwargs)

    async def asubmit_batch(self, inputs: Iterable[LanguageModelInput], **kwargs: Any) -> BatchJob:
        """Async twin of :meth:`submit_batch`."""
        return await batch.asubmit_batch(self, inputs, **kwargs)

    # --- tools and structured output ------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: Any = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: Any = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools for every call of the result; ``strict`` is always sent explicitly.

        Takes Pydantic models, TypedDicts, dataclasses, functions, ``BaseTool``s and OpenAI
        tool dicts of either API (built-in ones route to Responses); see ``tools_binding`` for
        ``strict`` and ``response_format`` (the answer's shape when no tool is called).
        """
        bound = tools_binding(self, tools, strict, response_format, kwargs)
        neutral = bound["tools"]
        # Shown as OpenAI tool dicts (kwargs, invocation params, traces), as ChatOpenAI's.
        bound["tools"] = [toolkit.BoundTool(t) for t in neutral]
        if tool_choice is not None:
            # Fail now, not at the first call, when the choice names no bound tool.
            toolkit.normalize_tool_choice(tool_choice, neutral)
            bound["tool_choice"] = tool_choice
        if parallel_tool_calls is not None:
            bound["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(**bound)


register_model_class(ParamChat)


def _choice(choice: Any, tools: tuple[NeutralTool, ...] | None) -> NeutralChoice | None:
    if choice is None:
        return None
    return toolkit.normalize_tool_choice(choice, tools or ())


def _normalize_init(cls: type[ParamChat], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Resolve option aliases and reject unknown keywords (a subclass's fields are settings)."""
    known = _settings(cls)
    settings = {k: v for k, v in kwargs.items() if k in known}
    given = {k: v for k, v in kwargs.items() if k not in known}
    check_settings(settings)  # before pydantic and langchain-core walk them (recursively)
    return {**settings, **merge_options({}, given, _keywords())}


@cache
def _settings(cls: type[ParamChat]) -> frozenset[str]:
    aliases = {f.alias for n, f in cls.model_fields.items() if f.alias and n not in OPTIONS}
    return frozenset(cls.model_fields) - set(OPTIONS) | aliases


@cache
def _keywords() -> frozenset[str]:
    """Return the keywords besides options that a suggestion for a misspelling may name."""
    return frozenset(ParamChat.model_fields) | _CALL_ARGS | compat.ACCEPTED
