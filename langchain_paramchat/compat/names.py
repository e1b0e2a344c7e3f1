"""Every ChatOpenAI name and how ParamChat takes it: the data behind the migration table.

``CHAT_OPENAI_NAMES`` is the single list the README's "Coming from ChatOpenAI" table is
generated from (``migration_table_markdown``) and checked against; the translation code is in
:mod:`langchain_paramchat.compat.translate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["CHAT_OPENAI_NAMES", "Kind", "Translation", "migration_table_markdown"]

Kind = Literal["same", "renamed", "translated", "refused", "refused per call"]


@dataclass(frozen=True)
class Translation:
    """How one ChatOpenAI name is taken by ParamChat, for the code and the migration table."""

    name: str
    kind: Kind
    paramchat: str
    """ParamChat's equivalent (a setting, an option or a method)."""
    note: str = ""
    """Any difference in behaviour, or the fix for a refused name."""


def _t(name: str, kind: Kind, paramchat: str, note: str = "") -> Translation:
    return Translation(name, kind, paramchat, note)


# Every ChatOpenAI constructor argument (langchain-openai 1.7's fields), then its call-only
# keyword arguments. "same": ParamChat has the name with the same meaning.
CHAT_OPENAI_NAMES: tuple[Translation, ...] = (
    _t(
        "model / model_name",
        "same",
        "model",
        "default `gpt-5.4-mini` (ChatOpenAI: `gpt-3.5-turbo`)",
    ),
    _t(
        "openai_api_key / api_key",
        "renamed",
        "api_key",
        "also read from `OPENAI_API_KEY`; a sync or async function returning the key is "
        "called per request, as in ChatOpenAI (async-only: async calls only)",
    ),
    _t(
        "openai_api_base / base_url",
        "renamed",
        "base_url",
        "also read from `OPENAI_BASE_URL` or `OPENAI_API_BASE`",
    ),
    _t(
        "openai_organization / organization",
        "renamed",
        "organization",
        "also read from `OPENAI_ORG_ID` or `OPENAI_ORGANIZATION`",
    ),
    _t(
        "openai_proxy",
        "same",
        "openai_proxy",
        "also read from `OPENAI_PROXY`; not with `http_client`/`http_async_client` (an "
        "error, as in ChatOpenAI) nor with `websocket=True`",
    ),
    _t(
        "request_timeout / timeout",
        "renamed",
        "timeout",
        "finite by default (600 s); streams also stop after `stream_idle_timeout` of silence",
    ),
    _t(
        "stream_chunk_timeout",
        "renamed",
        "stream_idle_timeout",
        "`0` or `None` means none (and reads back as given), as in ChatOpenAI, and so does "
        "`LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S=0`; it bounds sync streams too; a stall "
        "raises `StreamTimeoutError`, a `TimeoutError` (ChatOpenAI: `StreamChunkTimeoutError`)",
    ),
    _t("max_retries", "same", "max_retries", "ParamChat retries with tenacity, SDK retries off"),
    _t("default_headers / default_query", "same", "default_headers / default_query"),
    _t("http_client / http_async_client", "same", "http_client / http_async_client"),
    _t(
        "http_socket_options",
        "same",
        "http_socket_options",
        "applied to the HTTP clients ParamChat builds; `None` means none (ChatOpenAI: its "
        "TCP keep-alive defaults)",
    ),
    _t(
        "client / async_client / root_client / root_async_client",
        "same",
        "client / async_client / root_client / root_async_client",
        "openai SDK objects, built on first read over ParamChat's shared connection pool; "
        "pass or assign one, or patch its `create` (or the SDK class's "
        "`Completions.create` / `Responses.create`), and calls go through it, called once as "
        "ChatOpenAI calls it (its own retries, not ParamChat's)",
    ),
    _t(
        "model_kwargs",
        "translated",
        "the options themselves, else `extra_body`",
        "each key is taken under OpenAI's name: an option's value is checked like the option's "
        "(`metadata` is OpenAI's request metadata, ParamChat's `request_metadata`); a key "
        "ParamChat has no option for is sent as is (through `extra_body`), as in ChatOpenAI",
    ),
    _t("extra_body", "same", "extra_body"),
    _t(
        "use_responses_api",
        "translated",
        "api",
        '`True` → `api="responses"`, `False` → `api="chat_completions"`, `None` → `"auto"`. '
        "Read back, `llm.use_responses_api` is `True`/`False` as forced, `True` when the "
        "model's settings send every plain request to Responses (`include`, `truncation`, "
        '`context_management`, `output_version="responses/v1"`, a Responses-only model...), '
        "else `None` (the call decides); `llm._use_responses_api(payload)` says where a call "
        "with those request keys goes. Both ask ParamChat's router",
    ),
    _t(
        "output_version",
        "same",
        "output_version",
        '`"responses/v1"` also selects the Responses API (as in ChatOpenAI); `"v1"` gives '
        'standard content blocks; `None` the provider format; `"v0"` (the legacy layout of '
        "Responses output) is refused on calls that go to Responses; `LC_OUTPUT_VERSION` sets "
        "it too",
    ),
    _t(
        "use_previous_response_id",
        "translated",
        'chain_responses=True, api="responses"',
        "sends only the messages after the last Responses reply, continuing from its id",
    ),
    _t(
        "include_response_headers",
        "same",
        "include_response_headers",
        "`response_metadata['headers']` on invoke and the first streamed chunk",
    ),
    _t(
        "disabled_params",
        "same",
        "disabled_params",
        "`{name: None}` never sends `name`; `{name: [values]}` drops only those values",
    ),
    _t("stop / stop_sequences", "renamed", "stop"),
    _t("n", "same", "n", "n > 1 cannot be streamed (an error, not a merged stream)"),
    _t("streaming", "same", "streaming"),
    _t("stream_usage", "same", "stream_usage", "on by default"),
    _t("max_tokens / max_completion_tokens", "renamed", "max_tokens", "`max_output_tokens` too"),
    _t(
        "reasoning_effort",
        "translated",
        "reasoning={'effort': ...}",
        "stays on Chat Completions (as in ChatOpenAI)",
    ),
    _t(
        "reasoning",
        "same",
        "reasoning",
        "`{'effort': ...}` alone stays on Chat Completions (`reasoning_effort`); ChatOpenAI "
        'moves any `reasoning` to Responses — pass `api="responses"` for that; a `summary` '
        "routes to Responses in ParamChat too",
    ),
    _t(
        "temperature / top_p / seed",
        "same",
        "temperature / top_p / seed",
        "left out with a `RejectedOptionWarning` for reasoning models that reject them (as "
        "ChatOpenAI drops `temperature`); `strict_options=True` refuses them",
    ),
    _t("presence_penalty / frequency_penalty", "same", "presence_penalty / frequency_penalty"),
    _t(
        "logprobs / top_logprobs",
        "same",
        "logprobs / top_logprobs",
        "`top_logprobs` implies `logprobs`",
    ),
    _t(
        "logit_bias",
        "same",
        "logit_bias",
        "integer token ids are sent as strings, as OpenAI expects",
    ),
    _t("verbosity", "same", "verbosity"),
    _t(
        "service_tier",
        "same",
        "service_tier",
        "`response_metadata['service_tier']` is the tier that served the call; on flex and "
        "priority, `usage_metadata` details use ChatOpenAI's tier keys (`flex_cache_read`, "
        "`flex`, ...)",
    ),
    _t(
        "store / include / truncation",
        "same",
        "store / include / truncation",
        "`include` and `truncation` route to the Responses API, as in ChatOpenAI",
    ),
    _t("context_management", "same", "context_management", "routes to the Responses API"),
    _t("prompt_cache_options", "same", "prompt_cache_options", "keys checked against the SDK"),
    _t(
        "tiktoken_model_name",
        "same",
        "tiktoken_model_name",
        "the tokenizer's model for `get_num_tokens_from_messages`; `count_tokens` is exact",
    ),
    _t(
        "name / cache / verbose / callbacks / tags / metadata / rate_limiter / "
        "custom_get_token_ids / disable_streaming / profile",
        "same",
        "(LangChain's own)",
        "`metadata` is LangChain's run metadata; OpenAI's request `metadata` is `request_metadata`",
    ),
    # Call keyword arguments (invoke / stream / batch / bind).
    _t("stop= (call)", "same", "stop"),
    _t(
        "tools / tool_choice / parallel_tool_calls / strict / response_format (bind_tools)",
        "same",
        "bind_tools(...)",
        "built-in tool dicts route to the Responses API; with `response_format`, `strict` "
        "defaults to `True` unless the call surely goes to Responses (as in ChatOpenAI)",
    ),
    _t(
        "response_format (call)",
        "same",
        "response_format",
        "a Pydantic class or TypedDict works too (strict JSON schema; on invoke the reply is "
        "parsed into `additional_kwargs['parsed']`); on Responses it becomes `text.format`",
    ),
    _t(
        "previous_response_id (call)",
        "same",
        "previous_response_id",
        "routes to the Responses API",
    ),
    _t(
        "with_structured_output(method=, strict=, include_raw=)",
        "same",
        "with_structured_output",
        "streams growing dicts for a dict schema, only the validated object for a Pydantic "
        "one (as ChatOpenAI); `stream_partial=True`/`False` to choose",
    ),
    _t(
        "get_num_tokens_from_messages(messages, tools=)",
        "same",
        "get_num_tokens_from_messages",
        "tiktoken if its encoding loads, else an approximation (warned once); exact: "
        "`count_tokens(...)`",
    ),
    _t(
        "timeout / extra_headers / extra_query (call)",
        "refused per call",
        "timeout / default_headers / default_query",
        "model settings in ParamChat: set them on the model (or on a second model); a call "
        "passing them fails before sending",
    ),
    _t(
        "any other OpenAI parameter",
        "same",
        "its option (see [Options](#options)), else `extra_body`",
    ),
)


_KIND_LABELS = {
    "same": "same",
    "renamed": "renamed",
    "translated": "translated",
    "refused": "**refused** at construction",
    "refused per call": "**refused** per call",
}
_SUFFIX = re.compile(r"(.+?)( \(.+\))?")


def _cell(text: str) -> str:
    if "`" in text:
        return text
    parts = []
    for piece in text.split(" / "):
        match = _SUFFIX.fullmatch(piece)
        core, suffix = (match.group(1), match.group(2) or "") if match else (piece, "")
        prose = piece.startswith("(") or (" " in core and "=" not in core and "(" not in core)
        parts.append(piece if prose else f"`{core}`{suffix}")
    return " / ".join(parts)


def migration_table_markdown() -> str:
    """Return the README's "Coming from ChatOpenAI" table, generated from CHAT_OPENAI_NAMES."""
    lines = [
        "| ChatOpenAI | ParamChat | how | difference |",
        "|---|---|---|---|",
    ]
    for row in CHAT_OPENAI_NAMES:
        lines.append(
            f"| {_cell(row.name)} | {_cell(row.paramchat)} | {_KIND_LABELS[row.kind]} | "
            f"{row.note} |"
        )
    return "\n".join(lines) + "\n"
