"""The option table: every request option, its type, and where it goes in each API's payload.

``RequestOptions`` declares one field per option, typed with the ``openai`` SDK's own param
types, and annotated with an ``Opt`` row saying how the value is written into the Chat
Completions and Responses payloads. ``OPTIONS`` is read from those annotations; routing,
payload building, validation and the README's option table all use it, and nothing else
lists options.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Literal

from openai.types.chat import (
    ChatCompletionAudioParam,
    ChatCompletionPredictionContentParam,
)
from openai.types.chat import completion_create_params as _chat_params
from openai.types.responses import ResponseTextConfigParam
from openai.types.responses import response_create_params as _resp_params
from openai.types.shared_params import Reasoning
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from langchain_paramchat.options.converters import (
    COUNT_LIMIT,
    Converter,
    Placement,
    Unsupported,
    chat_modalities,
    chat_reasoning,
    chat_text,
    check_logit_bias,
    check_metadata,
    check_stop,
    in_range,
    responses_logprobs,
    responses_modalities,
    responses_n,
    responses_response_format,
)
from langchain_paramchat.options.sdk_versions import sdk_type as _newer
from langchain_paramchat.options.typecheck import find_error, typeddict_fields

__all__ = [
    "ALIASES",
    "API_LABELS",
    "OPTIONS",
    "Api",
    "Opt",
    "OptionSpec",
    "RequestOptions",
    "place",
    "sdk_type",
]

Api = Literal["chat_completions", "responses"]
API_LABELS: dict[str, str] = {"chat_completions": "Chat Completions", "responses": "Responses"}


@dataclass(frozen=True)
class Opt:
    """One row of the option table (attached to a field with ``Annotated``).

    ``chat`` / ``responses``: a dotted payload path, a converter returning
    ``{path: value}`` or ``Unsupported``, or ``None`` when that API has no equivalent.
    ``check``: an extra constraint returning a message when the value is out of range.
    """

    doc: str
    chat: str | Converter | None = None
    responses: str | Converter | None = None
    check: Callable[[Any], str | None] | None = None
    # Handled by the adapters (needs bound tools or the stream flag), not by ``place``.
    special: bool = False
    # When support depends on the value: which values need which API, in words (README).
    routes: str | None = None


@dataclass(frozen=True)
class OptionSpec:
    """A resolved option-table row: name, declared type and the ``Opt`` row."""

    name: str
    type: Any
    opt: Opt
    aliases: tuple[str, ...] = field(default=())

    def target(self, api: Api) -> str | Converter | None:
        """Return where this option goes in ``api``'s payload."""
        return self.opt.chat if api == "chat_completions" else self.opt.responses


# --- the table ----------------------------------------------------------------------------

# Types newer than the oldest supported openai (3.0): options using them need a newer SDK.
if typing.TYPE_CHECKING:
    from openai.types.responses.response_create_params import (
        AccessPrograms as _AccessPrograms,
    )
    from openai.types.responses.response_create_params import (
        BackgroundOptions as _BackgroundOptions,
    )
    from openai.types.responses.response_create_params import Image as _Image
else:
    _AccessPrograms = _newer(_resp_params, "AccessPrograms", "3.20.0")
    _BackgroundOptions = _newer(_resp_params, "BackgroundOptions", "3.53.0")
    _Image = _newer(_resp_params, "Image", "3.50.0")

_ChatParams = _chat_params.CompletionCreateParamsBase
_RespParams = _resp_params.ResponseCreateParamsBase
_ServiceTier = Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"]


class _Unchecked:
    """Tell pydantic to take an option's value as given, without reading its type.

    ``check_option`` checks values against the SDK's types instead. Pydantic would coerce
    (it turns the SDK's ``Iterable`` fields into iterators) and building its schema for the
    SDK's nested TypedDicts costs tens of milliseconds at import for nothing.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.any_schema()


Unchecked = _Unchecked()


class RequestOptions(BaseModel):
    """Declare every OpenAI request option as a typed field; the option table is read from here.

    Values are checked against the SDK's param types by ``check_option`` (once at
    construction for fields, per call for keyword arguments), never coerced (``Unchecked``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # Sampling and length
    temperature: Annotated[
        float | None,
        Unchecked,
        Opt("Sampling temperature.", "temperature", "temperature", check=in_range(0, 2)),
    ] = None
    top_p: Annotated[
        float | None,
        Unchecked,
        Opt("Nucleus sampling mass.", "top_p", "top_p", check=in_range(0, 1)),
    ] = None
    max_tokens: Annotated[
        int | None,
        Unchecked,
        Opt(
            "Upper bound on generated tokens.",
            "max_completion_tokens",
            "max_output_tokens",
            check=in_range(1, COUNT_LIMIT),
        ),
    ] = None
    frequency_penalty: Annotated[
        float | None,
        Unchecked,
        Opt("Penalty for frequent tokens.", "frequency_penalty", None, check=in_range(-2, 2)),
    ] = None
    presence_penalty: Annotated[
        float | None,
        Unchecked,
        Opt("Penalty for tokens already present.", "presence_penalty", None, check=in_range(-2, 2)),
    ] = None
    logit_bias: Annotated[
        dict[str, int] | None,
        Unchecked,
        Opt("Token id → bias (-100..100).", "logit_bias", None, check=check_logit_bias),
    ] = None
    seed: Annotated[
        int | None,
        Unchecked,
        # OpenAI's spec bounds it to a signed 64-bit integer.
        Opt(
            "Best-effort deterministic sampling.", "seed", None, check=in_range(-(2**63), 2**63 - 1)
        ),
    ] = None
    stop: Annotated[
        str | list[str] | None,
        Unchecked,
        Opt("Up to 4 stop sequences.", "stop", None, check=check_stop),
    ] = None
    n: Annotated[
        int | None,
        Unchecked,
        Opt(
            "Number of choices (n > 1: Chat Completions only).",
            "n",
            responses_n,
            in_range(1, 128),
            routes="`n > 1` needs Chat Completions",
        ),
    ] = None
    logprobs: Annotated[
        bool | None,
        Unchecked,
        Opt("Return token log probabilities.", "logprobs", responses_logprobs),
    ] = None
    top_logprobs: Annotated[
        int | None,
        Unchecked,
        Opt("Alternatives per token (0..20).", "top_logprobs", "top_logprobs", in_range(0, 20)),
    ] = None

    # Reasoning and text shape
    reasoning: Annotated[
        Reasoning | None,
        Unchecked,
        Opt(
            "Reasoning effort and summaries. Only effort exists on Chat Completions.",
            chat_reasoning,
            "reasoning",
            routes="`reasoning.effort` goes to both; any other key (`summary`, "
            "`generate_summary`, `context`, `mode`) needs Responses",
        ),
    ] = None
    verbosity: Annotated[
        Literal["low", "medium", "high"] | None,
        Unchecked,
        Opt("How long and detailed the answer is.", "verbosity", "text.verbosity"),
    ] = None
    response_format: Annotated[
        _chat_params.ResponseFormat | None,
        Unchecked,
        Opt(
            "Text, JSON object or JSON schema output (Chat Completions shape).",
            "response_format",
            responses_response_format,
        ),
    ] = None
    text: Annotated[
        ResponseTextConfigParam | None,
        Unchecked,
        Opt(
            "Responses text config; format and verbosity also map to Chat Completions.",
            chat_text,
            "text",
            routes="keys beyond `format`/`verbosity` need Responses",
        ),
    ] = None

    # Audio and other modalities
    modalities: Annotated[
        list[Literal["text", "audio"]] | None,
        Unchecked,
        Opt(
            "Output modalities; 'audio' needs Chat Completions.",
            chat_modalities,
            responses_modalities,
            routes="`'audio'` needs Chat Completions",
        ),
    ] = None
    audio: Annotated[
        ChatCompletionAudioParam | None,
        Unchecked,
        Opt("Audio output voice and format (needs modalities with 'audio').", "audio", None),
    ] = None
    prediction: Annotated[
        ChatCompletionPredictionContentParam | None,
        Unchecked,
        Opt("Predicted output, to speed up edits.", "prediction", None),
    ] = None
    web_search_options: Annotated[
        _chat_params.WebSearchOptions | None,
        Unchecked,
        Opt(
            "Web search for search models on Chat Completions; the reply text then comes as "
            "one text block with its citations, as on Responses.",
            "web_search_options",
            None,
        ),
    ] = None

    # Tools
    tool_choice: Annotated[
        Any,
        Unchecked,
        Opt(
            "auto, none, required (any), a tool name, or an OpenAI tool-choice dict.",
            "tool_choice",
            "tool_choice",
            special=True,
        ),
    ] = None
    parallel_tool_calls: Annotated[
        bool | None,
        Unchecked,
        Opt("Allow several tool calls in one turn.", "parallel_tool_calls", "parallel_tool_calls"),
    ] = None
    max_tool_calls: Annotated[
        int | None,
        Unchecked,
        Opt(
            "Most built-in tool calls in one response.",
            None,
            "max_tool_calls",
            in_range(1, COUNT_LIMIT),
        ),
    ] = None

    # Caching, tiers, identity and storage
    prompt_cache_key: Annotated[
        str | None,
        Unchecked,
        Opt("Groups requests for prompt-cache hits.", "prompt_cache_key", "prompt_cache_key"),
    ] = None
    prompt_cache_retention: Annotated[
        Literal["in_memory", "24h"] | None,
        Unchecked,
        Opt(
            "Deprecated: how long cached prefixes live (use prompt_cache_options' ttl).",
            "prompt_cache_retention",
            "prompt_cache_retention",
        ),
    ] = None
    prompt_cache_options: Annotated[
        _resp_params.PromptCacheOptions | None,
        Unchecked,
        Opt(
            "Prompt-cache mode and ttl (some keys are Responses only).",
            "prompt_cache_options",
            "prompt_cache_options",
            routes="keys or values only the Responses type has (e.g. `ttl='12h'`) need Responses",
        ),
    ] = None
    service_tier: Annotated[
        _ServiceTier | None,
        Unchecked,
        Opt(
            "Processing tier ('ultrafast': Responses only).",
            "service_tier",
            "service_tier",
            routes="values only one API's SDK type lists (e.g. `'ultrafast'`) go there",
        ),
    ] = None
    safety_identifier: Annotated[
        str | None,
        Unchecked,
        Opt(
            "Stable hashed end-user id for abuse detection.",
            "safety_identifier",
            "safety_identifier",
        ),
    ] = None
    user: Annotated[
        str | None,
        Unchecked,
        Opt("Deprecated end-user id (use safety_identifier / prompt_cache_key).", "user", "user"),
    ] = None
    store: Annotated[
        bool | None,
        Unchecked,
        Opt("Store the response on OpenAI's side.", "store", "store"),
    ] = None
    request_metadata: Annotated[
        dict[str, str] | None,
        Unchecked,
        Opt(
            "OpenAI's `metadata` (up to 16 string pairs); renamed because LangChain's "
            "`metadata` is run metadata for callbacks and tracing.",
            "metadata",
            "metadata",
            check=check_metadata,
        ),
    ] = None
    moderation: Annotated[
        _chat_params.Moderation | None,
        Unchecked,
        Opt("Moderation model and policy.", "moderation", "moderation"),
    ] = None
    stream_options: Annotated[
        _chat_params.ChatCompletionStreamOptionsParam | None,
        Unchecked,
        Opt(
            "Streaming options (include_usage follows stream_usage).",
            "stream_options",
            "stream_options",
            special=True,
        ),
    ] = None

    # Responses-only
    include: Annotated[
        list[str] | None,
        Unchecked,
        Opt("Extra output to include (e.g. reasoning.encrypted_content).", None, "include"),
    ] = None
    instructions: Annotated[
        str | None,
        Unchecked,
        Opt("System-level instructions for this response only.", None, "instructions"),
    ] = None
    previous_response_id: Annotated[
        str | None,
        Unchecked,
        Opt("Continue from a stored response.", None, "previous_response_id"),
    ] = None
    conversation: Annotated[
        _resp_params.Conversation | None,
        Unchecked,
        Opt("A conversation this response belongs to.", None, "conversation"),
    ] = None
    truncation: Annotated[
        Literal["auto", "disabled"] | None,
        Unchecked,
        Opt("Drop old input when the context overflows.", None, "truncation"),
    ] = None
    background: Annotated[
        bool | None,
        Unchecked,
        Opt("Run in the background; ParamChat polls until done.", None, "background"),
    ] = None
    background_options: Annotated[
        _BackgroundOptions | None,
        Unchecked,
        Opt("Completion window for background responses.", None, "background_options"),
    ] = None
    context_management: Annotated[
        list[_resp_params.ContextManagement] | None,
        Unchecked,
        Opt("Server-side context compaction.", None, "context_management"),
    ] = None
    prompt: Annotated[
        _resp_params.ResponsePromptParam | None,
        Unchecked,
        Opt(
            "Deprecated: a saved prompt and its variables (saved prompts shut down 2026-11-30).",
            None,
            "prompt",
        ),
    ] = None
    access_programs: Annotated[
        _AccessPrograms | None,
        Unchecked,
        Opt("Access programs for gated capabilities.", None, "access_programs"),
    ] = None
    image: Annotated[
        _Image | None,
        Unchecked,
        Opt("Image input handling (context compression).", None, "image"),
    ] = None


# Keyword spellings that mean an option under another name: alias -> (option, wrap).
# An alias that wraps its value in a dict sets only that part of the option.
ALIASES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "max_completion_tokens": ("max_tokens", lambda v: v),
    "max_output_tokens": ("max_tokens", lambda v: v),
    "reasoning_effort": ("reasoning", lambda v: None if v is None else {"effort": v}),
}


def _build_table() -> dict[str, OptionSpec]:
    hints = typing.get_type_hints(RequestOptions, include_extras=True)
    table: dict[str, OptionSpec] = {}
    for name in RequestOptions.model_fields:
        hint = hints[name]
        args = typing.get_args(hint)
        opt = next(a for a in args[1:] if isinstance(a, Opt))
        aliases = tuple(a for a, (target, _) in ALIASES.items() if target == name)
        table[name] = OptionSpec(name=name, type=args[0], opt=opt, aliases=aliases)
    return table


OPTIONS: dict[str, OptionSpec] = _build_table()


@cache
def sdk_type(api: Api, path: str) -> Any:
    """Return the SDK's type for a dotted payload path of ``api``'s create params."""
    root = _ChatParams if api == "chat_completions" else _RespParams
    tp: Any = root
    for part in path.split("."):
        hints, _ = typeddict_fields(_strip_optional(tp))
        tp = hints[part]
    return tp


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def place(api: Api, name: str, value: Any) -> Placement:
    """Return ``{payload_path: value}`` for ``name=value`` on ``api``, or ``Unsupported``.

    A value the SDK's type for that API rejects (e.g. ``service_tier="ultrafast"`` on Chat
    Completions) is unsupported there, so routing can pick the API that accepts it.
    """
    spec = OPTIONS[name]
    target = spec.target(api)
    if target is None:
        return Unsupported(name)
    placed = {target: value} if isinstance(target, str) else target(value)
    if isinstance(placed, Unsupported):
        return placed
    for path, item in placed.items():
        if find_error(item, sdk_type(api, path)) is not None:
            return Unsupported(f"{name}={item!r}")
    return placed
