"""Translate ChatOpenAI's constructor and call keyword names, with ChatOpenAI's meaning.

Code written for ``langchain_openai.ChatOpenAI`` keeps working with only the import
changed: each ChatOpenAI name is either translated to ParamChat's own setting or refused at
construction with the exact fix. The names themselves (``CHAT_OPENAI_NAMES``, the single list
the README's migration table is checked against) live in
:mod:`langchain_paramchat.compat.names` and are re-exported here.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from typing import Any

from langchain_core.utils import from_env
from pydantic import BaseModel, Field, field_serializer

from langchain_paramchat import tools as toolkit
from langchain_paramchat.compat.gateway import apply_gateway
from langchain_paramchat.compat.names import (
    CHAT_OPENAI_NAMES,
    Translation,
    migration_table_markdown,
)
from langchain_paramchat.errors import OptionError, UnknownOptionError
from langchain_paramchat.options import resolve_name
from langchain_paramchat.secrets import redact_url

__all__ = [
    "ACCEPTED",
    "CHAT_OPENAI_NAMES",
    "FIELD_NAMES",
    "ChatOpenAISettings",
    "Translation",
    "apply_disabled_params",
    "check_output_version",
    "drop_disabled_keys",
    "migration_table_markdown",
    "parse_target",
    "schema_response_format",
    "translate_call_kwargs",
    "translate_init_kwargs",
]


logger = logging.getLogger("langchain_paramchat")

_RENAMED = {
    "openai_api_key": "api_key",
    "openai_api_base": "base_url",
    "openai_organization": "organization",
    "request_timeout": "timeout",
    "stream_chunk_timeout": "stream_idle_timeout",
    "stop_sequences": "stop",
}

_OUTPUT_VERSIONS = (None, "v0", "v1", "responses/v1")

# OpenAI request keys whose ParamChat option has another name (the LangChain field took it).
_OPENAI_REQUEST_NAMES = {"metadata": "request_metadata"}

# ChatOpenAI's attribute names -> ParamChat's fields (for configurable_fields and reading).
FIELD_NAMES = {
    **_RENAMED,
    "model_name": "model",
    "max_completion_tokens": "max_tokens",
    "use_previous_response_id": "chain_responses",
}


def _renamed(name: str) -> Any:
    """Return a property that reads and writes the ParamChat field ``name`` under another name."""

    def read(model: Any) -> Any:
        return getattr(model, name)

    def write(model: Any, value: Any) -> None:
        setattr(model, name, value)

    read.__doc__ = f"Return ``{name}`` (ChatOpenAI's name for it)."
    return property(read, write, doc=read.__doc__)


class ChatOpenAISettings(BaseModel):
    """Settings ParamChat takes from ChatOpenAI that are not request options."""

    include_response_headers: bool = False
    """Put the HTTP response headers in ``response_metadata['headers']`` (first chunk when
    streaming)."""
    disabled_params: dict[str, Any] | None = None
    """Options never to send: ``{name: None}`` drops ``name``; ``{name: [v, ...]}`` drops those
    values only (for OpenAI-compatible servers that reject a parameter)."""
    tiktoken_model_name: str | None = None
    """Model name whose tiktoken encoding ``get_num_tokens_from_messages`` uses."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict, exclude=True)
    """ChatOpenAI's ``model_kwargs`` as given: each key already went to its option (OpenAI's
    ``metadata`` to ``request_metadata``), or into ``extra_body`` when ParamChat has none."""
    openai_proxy: str | None = Field(
        default_factory=from_env("OPENAI_PROXY", default=None), repr=False
    )
    """Send every request through this proxy (``http://[user:password@]host:port``; also
    ``https://``, or ``socks5://`` with the HTTP library's ``socks`` extra); defaults to
    ``OPENAI_PROXY``. Not with your own ``http_client``/``http_async_client`` (set the proxy
    on them). Shown and saved without its credentials."""
    http_socket_options: Any = None
    """``(level, option, value)`` socket options for every connection of the HTTP clients
    ParamChat builds (e.g. ``[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]``); your own
    ``http_client``/``http_async_client`` are used as given. None or ``()``: none."""

    @field_serializer("openai_proxy")
    def _dump_proxy(self, value: str | None) -> str | None:
        """Hide a proxy URL's credentials from dumps and traces."""
        return redact_url(value)

    # ChatOpenAI's attribute names, readable (and settable) with ChatOpenAI's meaning; each
    # reads the ParamChat setting or option the constructor turned it into.
    model_name = _renamed("model")
    openai_api_key = _renamed("api_key")
    openai_api_base = _renamed("base_url")
    openai_organization = _renamed("organization")
    request_timeout = _renamed("timeout")
    stream_chunk_timeout = _renamed("stream_idle_timeout")
    max_completion_tokens = _renamed("max_tokens")
    stop_sequences = _renamed("stop")
    use_previous_response_id = _renamed("chain_responses")

    @property
    def reasoning_effort(self) -> str | None:
        """ChatOpenAI's ``reasoning_effort``: the effort in ``reasoning``, if any."""
        reasoning = getattr(self, "reasoning", None)
        effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else None
        return effort if isinstance(effort, str) else None


# ChatOpenAI settings whose default is None ("the SDK's default"); ParamChat's own default
# means the same, so an explicit None keeps it.
_NONE_IS_DEFAULT = frozenset({"stream_usage", "max_retries"})


def _put(out: dict[str, Any], name: str, value: Any, source: str) -> None:
    if value is None and (name in out or name in _NONE_IS_DEFAULT):
        return
    if name in out and out[name] is not None and out[name] != value:
        raise OptionError(
            source,
            value,
            f"disagrees with {name}={out[name]!r}",
            fix=f"pass only one of {source} and {name}",
        )
    out[name] = value


def translate_init_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Return constructor kwargs with ChatOpenAI's names turned into ParamChat's.

    Raise ``OptionError`` for a refused ChatOpenAI name or a contradiction, and
    ``UnknownOptionError`` for a ``model_kwargs`` or ``disabled_params`` key that is no
    option.
    """
    if "model_name" in kwargs and kwargs.get("model", kwargs["model_name"]) != kwargs["model_name"]:
        raise OptionError(
            "model_name",
            kwargs["model_name"],
            f"disagrees with model={kwargs['model']!r}",
            fix="pass only one of model and model_name",
        )
    out: dict[str, Any] = {}
    later: dict[str, Any] = {}
    kwargs = {**_from_environment(kwargs), **kwargs}
    for key, value in kwargs.items():
        if key == "stream_chunk_timeout":
            if (seconds := _chunk_timeout(value)) is not _KEEP:
                _put(out, "stream_idle_timeout", seconds, key)
        elif key in _RENAMED:
            _put(out, _RENAMED[key], value, key)
        elif key in ("model_kwargs", "use_responses_api", "use_previous_response_id"):
            later[key] = value
        elif key == "logit_bias":
            _put(out, key, logit_bias_keys(value), key)
        elif key == "disabled_params" and value is not None:
            _put(out, key, _disabled(value), key)
        elif key == "output_version":
            if value not in _OUTPUT_VERSIONS:
                raise OptionError(key, value, f"must be one of {_OUTPUT_VERSIONS}")
            _put(out, key, value, key)
        else:
            _put(out, key, value, key)
    if "model_kwargs" in later and not isinstance(later["model_kwargs"], Mapping | None):
        raise OptionError("model_kwargs", later["model_kwargs"], "must be a dict of options")
    passthrough: dict[str, Any] = {}
    for key, value in (later.get("model_kwargs") or {}).items():
        # As in ChatOpenAI, model_kwargs are request keys under OpenAI's names: an option's
        # value is checked like any option's; a key ParamChat has no option for is sent as is.
        name = _OPENAI_REQUEST_NAMES.get(key, key)
        try:
            resolve_name(name, None)
        except UnknownOptionError:
            passthrough[key] = value
            continue
        if name == "logit_bias":
            value = logit_bias_keys(value)
        _put(out, name, value, f"model_kwargs[{key!r}]")
    if passthrough:
        out["extra_body"] = {**passthrough, **(out.get("extra_body") or {})}
    if later.get("model_kwargs"):
        out["model_kwargs"] = dict(later["model_kwargs"])
    api = _api_from(later, out)
    if api is not None:
        _put(out, "api", api, _api_source(later, out))
    if later.get("use_previous_response_id"):
        _put(out, "chain_responses", True, "use_previous_response_id")
    apply_gateway(out)  # LANGSMITH_GATEWAY: base URL and key, as ChatOpenAI resolves them
    return out


_CHUNK_TIMEOUT_ENV = "LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S"


def _from_environment(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings ChatOpenAI reads from the environment that ``kwargs`` leave unset."""
    out: dict[str, Any] = {}
    version = os.environ.get("LC_OUTPUT_VERSION")
    if version and "output_version" not in kwargs:
        if version not in _OUTPUT_VERSIONS:
            raise OptionError(
                "LC_OUTPUT_VERSION (environment)", version, f"must be one of {_OUTPUT_VERSIONS}"
            )
        out["output_version"] = version
    timeout = os.environ.get(_CHUNK_TIMEOUT_ENV)
    if timeout and not {"stream_chunk_timeout", "stream_idle_timeout"} & kwargs.keys():
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = math.nan
        if math.isnan(seconds) or seconds < 0:
            # As ChatOpenAI: a typo falls back to the default, visibly, rather than failing.
            logger.warning(
                "Invalid %s=%r (%s); keeping the default stream_idle_timeout. "
                "Set it to 0 for no chunk timeout.",
                _CHUNK_TIMEOUT_ENV,
                timeout,
                "negative" if seconds < 0 else "not a number of seconds",
            )
        else:
            out["stream_chunk_timeout"] = seconds
    return out


def _chunk_timeout(value: Any) -> Any:
    """Return ``stream_idle_timeout`` for ChatOpenAI's ``stream_chunk_timeout``.

    0 and None both mean none and read back as given, as in ChatOpenAI. A negative value
    falls back to the default with a warning, as in ChatOpenAI (``_KEEP``).
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        logger.warning(
            "Invalid `stream_chunk_timeout=%r` (negative); keeping the default "
            "stream_idle_timeout. Pass None or 0 for no chunk timeout.",
            value,
        )
        return _KEEP
    return value


_KEEP = object()


def _disabled(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OptionError("disabled_params", value, "must be a dict {option: None or [values]}")
    out: dict[str, Any] = {}
    for key, values in value.items():
        name, _ = resolve_name(key, None)
        if values is not None and not isinstance(values, list | tuple):
            raise OptionError(
                f"disabled_params[{key!r}]", values, "must be None (never send) or a list"
            )
        out[name] = values
    return out


def _api_from(later: Mapping[str, Any], out: Mapping[str, Any]) -> str | None:
    flag = later.get("use_responses_api")
    if flag is not None:
        if not isinstance(flag, bool):
            raise OptionError("use_responses_api", flag, "must be True, False or None")
        return "responses" if flag else "chat_completions"
    if later.get("use_previous_response_id") or out.get("output_version") == "responses/v1":
        return None if out.get("api", "auto") != "auto" else "responses"
    return None


def _api_source(later: Mapping[str, Any], out: Mapping[str, Any]) -> str:
    if later.get("use_responses_api") is not None:
        return "use_responses_api"
    if later.get("use_previous_response_id"):
        return "use_previous_response_id"
    return "output_version"


# Model settings a call cannot change; ChatOpenAI users sometimes pass them per call.
_SETTINGS = frozenset(
    {
        *_RENAMED,
        "openai_proxy",
        "http_socket_options",
        "api_key",
        "base_url",
        "organization",
        "project",
        "timeout",
        "max_retries",
        "default_headers",
        "default_query",
        "http_client",
        "http_async_client",
        "model_kwargs",
        "use_previous_response_id",
        "include_response_headers",
        "disabled_params",
        "streaming",
    }
) - {"stop_sequences"}

# SDK request options ChatOpenAI passes through per call; in ParamChat they are settings.
_PER_CALL_SDK = {
    "extra_headers": "default_headers",
    "extra_query": "default_query",
    "request_timeout": "timeout",
}

# Names ParamChat accepts only because ChatOpenAI has them (for "did you mean" suggestions).
ACCEPTED = frozenset(
    {
        *_RENAMED,
        "model_kwargs",
        "use_responses_api",
        "use_previous_response_id",
        *("client", "async_client", "root_client", "root_async_client"),
    }
)


def translate_call_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Return call kwargs with ChatOpenAI's spellings turned into ParamChat's.

    ``stop_sequences`` becomes ``stop``, ``use_responses_api`` becomes ``api`` and integer
    ``logit_bias`` keys become strings. Raise ``OptionError`` for a model setting passed
    per call (``timeout``, ``api_key``...), naming where it goes instead.
    """
    for key in kwargs:
        if key in _SETTINGS or key in _PER_CALL_SDK:
            name = _PER_CALL_SDK.get(key) or _RENAMED.get(key, key)
            raise OptionError(
                key,
                kwargs[key],
                "is a model setting, not a per-call option",
                fix=f"set it on the model: ParamChat({name}=...)",
            )
    if not {"stop_sequences", "logit_bias", "use_responses_api", "response_format"} & set(kwargs):
        return dict(kwargs)
    out = dict(kwargs)
    if "response_format" in out:
        out["response_format"] = schema_response_format(out["response_format"])
    if "use_responses_api" in out:
        flag = out.pop("use_responses_api")
        if flag is not None:
            api = _api_from({"use_responses_api": flag}, {})
            if out.get("api", api) != api:
                raise OptionError(
                    "use_responses_api",
                    flag,
                    f"disagrees with api={out['api']!r}",
                    fix="pass only api",
                )
            out["api"] = api
    if "logit_bias" in out:
        out["logit_bias"] = logit_bias_keys(out["logit_bias"])
    if "stop_sequences" in out:
        value = out.pop("stop_sequences")
        if out.get("stop") is not None and out["stop"] != value:
            raise OptionError(
                "stop_sequences",
                value,
                f"disagrees with stop={out['stop']!r}",
                fix="pass only stop",
            )
        out["stop"] = value
    return out


def logit_bias_keys(value: Any) -> Any:
    """Return ``logit_bias`` with integer token ids as strings (ChatOpenAI takes ints)."""
    if isinstance(value, Mapping):
        return {str(k) if isinstance(k, int) else k: v for k, v in value.items()}
    return value


def _is_schema_class(value: Any) -> bool:
    if not isinstance(value, type):  # most calls: no class, so no need to load structured
        return False
    return toolkit.is_schema_class(value)


def schema_response_format(value: Any) -> Any:
    """Return ``response_format`` as OpenAI's dict when given as a Pydantic class or TypedDict.

    ChatOpenAI takes ``response_format=MyModel`` (strict JSON schema, like the SDK's
    ``parse``); any other value is returned unchanged for the option check.
    """
    if not _is_schema_class(value):
        return value
    return toolkit.json_schema_format(value, strict=True)


def parse_target(kwargs: Mapping[str, Any]) -> Any:
    """Return the Pydantic class a call's ``response_format`` names, to parse the reply into."""
    value = kwargs.get("response_format")
    return value if _is_schema_class(value) else None


def check_output_version(output_version: str | None, api: str) -> None:
    """Raise ``OptionError`` for ``output_version="v0"`` on a call routed to Responses.

    ChatOpenAI's "v0" is its legacy (langchain-openai 0.3) layout of Responses output,
    which ParamChat does not reproduce; it would otherwise be silently different.
    """
    if output_version == "v0" and api == "responses":
        raise OptionError(
            "output_version",
            output_version,
            "is ChatOpenAI's legacy layout of Responses output, which ParamChat does not produce",
            fix="leave output_version unset (the same blocks as ChatOpenAI's "
            "'responses/v1') or use 'v1' for standard content blocks",
        )


# Payload keys a request cannot do without, whatever disabled_params says.
_ESSENTIAL_KEYS = frozenset({"model", "messages", "input", "stream"})


def drop_disabled_keys(payload: dict[str, Any], disabled: Mapping[str, Any] | None) -> None:
    """Remove top-level payload keys ``disabled_params`` names, as ChatOpenAI does.

    Catches what ParamChat adds itself rather than from an option (``stream_options`` for
    usage on streams), which ``apply_disabled_params`` cannot see.
    """
    for name, values in (disabled or {}).items():
        essential = name in _ESSENTIAL_KEYS
        if not essential and name in payload and (values is None or payload[name] in values):
            del payload[name]


def apply_disabled_params(
    merged: dict[str, Any], disabled: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Drop the options ``disabled_params`` names (all values, or only the listed ones)."""
    if not disabled:
        return merged
    out = dict(merged)
    for name, values in disabled.items():
        if name not in out:
            continue
        if values is None or out[name] in values:
            del out[name]
    return out
