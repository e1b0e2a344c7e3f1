"""Token counts: an offline estimate for LangChain's counters, an exact count from OpenAI.

``get_num_tokens_from_messages`` (which ``trim_messages(token_counter=model)`` calls) and
``get_num_tokens`` never need transformers: they count with tiktoken when it is installed
and its encoding loads (it downloads once, so offline it often cannot), and otherwise with
:func:`approximate_tokens`, warning once per process. ``count_tokens`` asks OpenAI's
``POST /v1/responses/input_tokens`` for the exact count of the call ParamChat would send.
"""

from __future__ import annotations

import functools
import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage, convert_to_openai_messages

from langchain_paramchat import tools as toolkit
from langchain_paramchat.compat.translate import translate_call_kwargs
from langchain_paramchat.errors import APIError, OptionError
from langchain_paramchat.options import (
    ALIASES,
    OPTIONS,
    Unsupported,
    check_option,
    place,
    resolve_name,
)
from langchain_paramchat.secrets import snippet

if TYPE_CHECKING:
    from langchain_paramchat.transport.protocol import ModelTransport

__all__ = [
    "INPUT_TOKENS_PATH",
    "TokenCounting",
    "TokenEstimateWarning",
    "approximate_tokens",
    "estimate_message_tokens",
]

INPUT_TOKENS_PATH = "/responses/input_tokens"

# Per-message framing of OpenAI's chat format (OpenAI cookbook, "How to count tokens with
# tiktoken"): every message costs 3 tokens besides its content, a name 1 more, and the reply
# is primed with 3.
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3
_PER_TOOL = 8
# Image inputs: 85 tokens at detail="low", 765 for a 1024x1024 image at "high"/"auto"
# (OpenAI's vision pricing guide); the real cost depends on the image size.
_IMAGE_LOW = 85
_IMAGE_DEFAULT = 765

_FALLBACK_ENCODING = "o200k_base"

# Keys of the input-token endpoint's body, for SDKs too old to declare InputTokenCountParams.
_COUNT_KEYS_FALLBACK = frozenset(
    {
        "conversation",
        "input",
        "instructions",
        "model",
        "parallel_tool_calls",
        "previous_response_id",
        "reasoning",
        "text",
        "tool_choice",
        "tools",
        "truncation",
    }
)


class TokenEstimateWarning(UserWarning):
    """Token counts are approximated because no tiktoken encoding could be loaded."""


_warned = False


def _warn_once() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        "ParamChat is approximating token counts (about one token per short word, number "
        "group or symbol) because no tiktoken encoding could be loaded; install tiktoken "
        "with its encoding cached (TIKTOKEN_CACHE_DIR) for local counts, or call "
        "model.count_tokens(...) for OpenAI's exact count",
        TokenEstimateWarning,
        stacklevel=3,
    )


@functools.lru_cache(maxsize=16)
def load_encoding(model: str) -> Any | None:
    """Return the tiktoken encoding for ``model`` (``o200k_base`` if unknown), or None."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        pass
    except Exception:
        return None
    try:
        return tiktoken.get_encoding(_FALLBACK_ENCODING)
    except Exception:
        return None


_PIECES = re.compile(r"[A-Za-z]+|\d{1,3}|\S")


def approximate_tokens(text: str) -> int:
    """Estimate tokens without a tokenizer: a Latin word per 6 letters, 3 digits, or 1 symbol.

    A rough figure (OpenAI's tokenizers give about one token per short English word, split
    numbers into groups of up to three digits and most symbols into their own token); each
    character of other scripts counts as one token. Use ``count_tokens`` when it matters.
    """
    return sum(
        math.ceil(len(piece) / 6) if piece.isascii() and piece.isalpha() else 1
        for piece in _PIECES.findall(text)
    )


def count_text(text: str, model: str) -> int:
    """Count ``text``'s tokens with tiktoken if its encoding loads, else approximately."""
    if not text:
        return 0
    encoding = load_encoding(model)
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    _warn_once()
    return approximate_tokens(text)


def _part_tokens(part: Any, model: str) -> int:
    if isinstance(part, str):
        return count_text(part, model)
    if not isinstance(part, Mapping):
        return count_text(json.dumps(part, default=str), model)
    kind = part.get("type")
    if kind == "text":
        return count_text(str(part.get("text", "")), model)
    if kind == "image_url":
        detail = (part.get("image_url") or {}).get("detail")
        return _IMAGE_LOW if detail == "low" else _IMAGE_DEFAULT
    if kind in ("refusal",):
        return count_text(str(part.get("refusal", "")), model)
    # Audio and file parts: count what describes them, not their base64 data.
    described = {k: v for k, v in part.items() if k not in ("input_audio", "file")}
    return count_text(json.dumps(described, default=str), model)


def estimate_message_tokens(
    messages: Sequence[BaseMessage], model: str, tools: Sequence[Any] | None = None
) -> int:
    """Estimate the input tokens of ``messages`` (and ``tools``) in OpenAI's chat format."""
    total = _REPLY_PRIMING
    for message in convert_to_openai_messages(list(messages)):
        total += _PER_MESSAGE + count_text(str(message.get("role", "")), model)
        content = message.get("content")
        if isinstance(content, list):
            total += sum(_part_tokens(part, model) for part in content)
        elif content:
            total += count_text(str(content), model)
        if message.get("name"):
            total += _PER_NAME + count_text(str(message["name"]), model)
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            total += _PER_MESSAGE + count_text(str(function.get("name", "")), model)
            total += count_text(str(function.get("arguments", "")), model)
        if message.get("tool_call_id"):
            total += count_text(str(message["tool_call_id"]), model)
    if tools:
        for tool in toolkit.normalize_tools(tools):
            rendered = json.dumps(toolkit.tool_spec(tool), sort_keys=True, default=str)
            total += _PER_TOOL + count_text(rendered, model)
    return total


@functools.cache
def _count_keys() -> frozenset[str]:
    try:
        from openai.types.responses.input_token_count_params import InputTokenCountParams
    except ImportError:
        return _COUNT_KEYS_FALLBACK
    return frozenset(InputTokenCountParams.__annotations__)


def input_tokens_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return the input-token endpoint's body for a Responses ``payload``.

    Keys that cannot change the input (sampling, limits, storage, streaming) are left out;
    a stored ``prompt`` cannot be counted by the endpoint and raises ``OptionError``.
    """
    if payload.get("prompt") is not None:
        raise OptionError(
            "prompt",
            payload["prompt"],
            "cannot be counted: OpenAI's input-token endpoint takes no stored prompt",
            fix="count the rendered messages instead of the prompt reference",
        )
    keys = _count_keys()
    return {key: value for key, value in payload.items() if key in keys}


class _Model(Protocol):
    model: str
    custom_get_token_ids: Any
    tiktoken_model_name: str | None

    @property
    def transport(self) -> ModelTransport: ...

    def preview_request(self, input: LanguageModelInput, **kwargs: Any) -> Any: ...


def _count_payload(model: _Model, input: LanguageModelInput, kwargs: dict[str, Any]) -> Any:
    api = kwargs.pop("api", "responses")
    if api != "responses":
        raise OptionError(
            "api",
            api,
            "count_tokens counts with the Responses API's input-token endpoint",
            fix="leave api unset (or 'responses') when counting tokens",
        )
    kwargs = translate_call_kwargs(kwargs)
    preview = model.preview_request(input, api="responses", **_without_chat_only(model, kwargs))
    return input_tokens_body(preview.payload)


def _without_chat_only(model: _Model, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return ``kwargs`` dropping option values only Chat Completions carries (checked first).

    None of them changes the input (``logit_bias``, ``n``, ``stop``...), and the count is
    taken on the Responses API, which would refuse them.
    """
    given: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in OPTIONS or key in ALIASES:
            name, resolved = resolve_name(key, value)
            given[name] = resolved
        else:
            out[key] = value
    for name, spec in OPTIONS.items():
        value = given[name] if name in given else getattr(model, name, None)
        if value is None or spec.opt.special:
            if name in given:
                out[name] = value
            continue
        check_option(name, value)
        unsupported = isinstance(place("responses", name, value), Unsupported)
        out[name] = None if unsupported else value
    return out


def _read_count(reply: Mapping[str, Any], transport: Any) -> int:
    """Return the count in ``reply``; raise ``APIError`` unless it is an integer >= 0."""
    count = reply.get("input_tokens")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        shown = snippet(repr(dict(reply)), transport.errors.scrub)
        raise APIError(
            "the input-token endpoint answered without a non-negative integer input_tokens: "
            + shown
        )
    return count


class TokenCounting:
    """Token counting for ``ParamChat``: local estimates and OpenAI's exact count."""

    def get_token_ids(self: _Model, text: str) -> list[int]:
        """Return the tiktoken ids of ``text``; raise ``OptionError`` when none can load."""
        if self.custom_get_token_ids is not None:
            return list(self.custom_get_token_ids(text))
        encoding = load_encoding(self.tiktoken_model_name or self.model)
        if encoding is None:
            raise OptionError(
                "get_token_ids",
                self.model,
                "needs a tiktoken encoding, and none could be loaded (offline or not installed)",
                fix="install tiktoken with its encoding cached, pass custom_get_token_ids, "
                "or use get_num_tokens (which approximates)",
            )
        return list(encoding.encode(text, disallowed_special=()))

    def get_num_tokens(self: _Model, text: str) -> int:
        """Count ``text``'s tokens locally (tiktoken, else an approximation; no network)."""
        if self.custom_get_token_ids is not None:
            return len(self.custom_get_token_ids(text))
        return count_text(text, self.tiktoken_model_name or self.model)

    def get_num_tokens_from_messages(
        self: _Model, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Estimate the input tokens of ``messages`` and ``tools`` locally, without network.

        Uses tiktoken when its encoding loads, otherwise :func:`approximate_tokens` (with a
        one-time ``TokenEstimateWarning``). For OpenAI's exact count use ``count_tokens``.
        """
        return estimate_message_tokens(messages, self.tiktoken_model_name or self.model, tools)

    def count_tokens(self: _Model, input: LanguageModelInput, **kwargs: Any) -> int:
        """Return OpenAI's exact input-token count for this call (``/v1/responses/input_tokens``).

        Takes the same input and keyword arguments as ``invoke`` (options, ``tools``), counts
        the request the Responses API would get, and sends nothing else.
        """
        body = _count_payload(self, input, kwargs)
        return _read_count(self.transport.post_json(INPUT_TOKENS_PATH, body), self.transport)

    async def acount_tokens(self: _Model, input: LanguageModelInput, **kwargs: Any) -> int:
        """Async twin of ``count_tokens``."""
        body = _count_payload(self, input, kwargs)
        return _read_count(await self.transport.apost_json(INPUT_TOKENS_PATH, body), self.transport)
