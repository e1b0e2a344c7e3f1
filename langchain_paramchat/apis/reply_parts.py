"""Parts of a reply both APIs' parsers build: usage metadata, tool calls, the provider tag.

Also the shape checks both parsers read replies with: a server that sends the wrong JSON
type somewhere gets a ``ResponseFormatError`` naming the field, never a raw ``TypeError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import InvalidToolCall, ToolCall
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

from langchain_paramchat.errors import ResponseFormatError

__all__ = [
    "MALFORMED",
    "METADATA_EXTRAS",
    "MODEL_PROVIDER",
    "array",
    "count",
    "detail",
    "malformed",
    "obj",
    "opt_obj",
    "opt_text",
    "parse_tool_call",
    "usage_from",
    "usage_metadata",
]

MODEL_PROVIDER = "openai"

# Reply fields kept in ``response_metadata`` as sent, when present: reasoning inputs the
# API withheld, prompt-cache diagnostics, and hosted tools' own usage.
METADATA_EXTRAS = ("input_transformations", "prompt_cache_diagnostics", "tool_usage")

# What reading a reply of an unexpected shape raises; parsers turn it into ResponseFormatError.
MALFORMED = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def malformed(what: str, exc: Exception) -> ResponseFormatError:
    """Return the error to raise for ``exc``, raised while reading ``what`` of a reply."""
    return ResponseFormatError(
        f"{what} is malformed ({type(exc).__name__}: {exc}); the server did not send the "
        "shape the OpenAI API documents"
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _at(where: str, field: str) -> str:
    return f"{where}.{field}" if field else where


def obj(value: Any, where: str, field: str = "") -> Mapping[str, Any]:
    """Return ``value`` when it is a JSON object; else raise ``ResponseFormatError``.

    ``where`` and ``field`` name the value in the error (joined only when raising).
    """
    if value.__class__ is dict or isinstance(value, Mapping):
        return value
    raise ResponseFormatError(f"{_at(where, field)} must be an object, got {_json_type(value)}")


def opt_obj(value: Any, where: str, field: str = "") -> Mapping[str, Any] | None:
    """Return ``value`` when it is a JSON object or absent (None); else raise."""
    return None if value is None else obj(value, where, field)


def array(value: Any, where: str, field: str = "", *, objects: bool = True) -> list[Any]:
    """Return ``value`` when it is an array (absent: []), of objects unless ``objects=False``.

    Raises ``ResponseFormatError`` naming ``where``/``field`` otherwise.
    """
    if value is None:
        return []
    if value.__class__ is not list:
        raise ResponseFormatError(f"{_at(where, field)} must be an array, got {_json_type(value)}")
    if objects:
        for i, item in enumerate(value):
            if item.__class__ is not dict:
                obj(item, f"{_at(where, field)}[{i}]")
    return value


def opt_text(value: Any, where: str, field: str = "") -> str | None:
    """Return ``value`` when it is a string or absent (None); else raise."""
    if value is None or value.__class__ is str or isinstance(value, str):
        return value
    raise ResponseFormatError(f"{_at(where, field)} must be a string, got {_json_type(value)}")


def count(mapping: Mapping[str, Any] | None, key: str, where: str) -> int | None:
    """Return a token count (absent: None); a string, float or negative count raises."""
    if not mapping:
        return None
    value = mapping.get(key)
    if value.__class__ is int and value >= 0:
        return value
    if value is None:
        return None
    raise ResponseFormatError(
        f"{where}.{key} must be a non-negative integer, got {_json_type(value)}"
    )


def usage_metadata(
    *,
    input_tokens: int,
    output_tokens: int,
    total_tokens: int | None = None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    cache_creation_30m: int | None = None,
    cache_creation_12h: int | None = None,
    input_audio: int | None = None,
    output_audio: int | None = None,
    reasoning: int | None = None,
    accepted_prediction: int | None = None,
    rejected_prediction: int | None = None,
    service_tier: str | None = None,
) -> UsageMetadata:
    """Return LangChain ``UsageMetadata`` with the details the API reported (zeros kept).

    On the flex and priority tiers (priced apart), the cache and reasoning keys carry the
    tier as a prefix (``flex_cache_read``) and ``flex`` / ``priority`` count the other
    tokens, as ChatOpenAI reports them. Cache writes split by lifetime go under
    ``cache_creation_30m`` and ``cache_creation_12h``.
    """
    usage = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens if total_tokens is not None else input_tokens + output_tokens,
    )
    tier = service_tier if service_tier in _PRICED_TIERS else None
    prefix = f"{tier}_" if tier else ""
    inp: dict[str, int] = {}
    if cache_read is not None:
        inp[f"{prefix}cache_read"] = cache_read
    if cache_creation is not None:
        inp[f"{prefix}cache_creation"] = cache_creation
    if cache_creation_30m is not None:
        inp[f"{prefix}cache_creation_30m"] = cache_creation_30m
    if cache_creation_12h is not None:
        inp[f"{prefix}cache_creation_12h"] = cache_creation_12h
    if input_audio is not None:
        inp["audio"] = input_audio
    out: dict[str, int] = {}
    if reasoning is not None:
        out[f"{prefix}reasoning"] = reasoning
    if output_audio is not None:
        out["audio"] = output_audio
    # Predicted-output token counts have no standard key in langchain-core; kept beside them.
    if accepted_prediction is not None:
        out["accepted_prediction"] = accepted_prediction
    if rejected_prediction is not None:
        out["rejected_prediction"] = rejected_prediction
    if tier:
        # The tokens billed at the tier's own rate: cache reads and reasoning are counted apart.
        inp[tier] = input_tokens - (cache_read or 0)
        out[tier] = output_tokens - (reasoning or 0)
    if inp:
        usage["input_token_details"] = InputTokenDetails(**inp)  # type: ignore[typeddict-item]
    if out:
        usage["output_token_details"] = OutputTokenDetails(**out)  # type: ignore[typeddict-item]
    return usage


# Service tiers billed at their own rates, whose token counts usage reports apart.
_PRICED_TIERS = frozenset({"flex", "priority"})


def usage_from(
    raw: Any, keys: tuple[str, str, str, str], service_tier: Any = None
) -> UsageMetadata | None:
    """Return LangChain ``usage_metadata`` for an API's ``usage`` object, or None.

    ``keys`` name the API's input and output counts and their detail objects, in that order
    (``prompt_tokens``... on Chat Completions, ``input_tokens``... on Responses); the detail
    keys are the same on both. ``service_tier`` is the tier the reply says served it.
    Raises ``ResponseFormatError`` for a field of the wrong type.
    """
    if not raw:
        return None
    usage = raw if raw.__class__ is dict else obj(raw, "usage")
    inp, out, inp_details, out_details = keys
    writes = _cache_writes(usage, inp_details)
    return usage_metadata(
        input_tokens=count(usage, inp, "usage") or 0,
        output_tokens=count(usage, out, "usage") or 0,
        total_tokens=count(usage, "total_tokens", "usage"),
        cache_read=detail(usage, inp_details, "cached_tokens", "usage"),
        cache_creation=detail(usage, inp_details, "cache_write_tokens", "usage"),
        cache_creation_30m=count(writes, "ttl_30m_tokens", _WRITES_AT),
        cache_creation_12h=count(writes, "ttl_12h_tokens", _WRITES_AT),
        input_audio=detail(usage, inp_details, "audio_tokens", "usage"),
        output_audio=detail(usage, out_details, "audio_tokens", "usage"),
        reasoning=detail(usage, out_details, "reasoning_tokens", "usage"),
        accepted_prediction=detail(usage, out_details, "accepted_prediction_tokens", "usage"),
        rejected_prediction=detail(usage, out_details, "rejected_prediction_tokens", "usage"),
        service_tier=service_tier if isinstance(service_tier, str) else None,
    )


_WRITES_AT = "usage.input_tokens_details.cache_write_tokens_details"


def _cache_writes(usage: Mapping[str, Any], details: str) -> Mapping[str, Any] | None:
    """Return the cache writes split by lifetime (Responses), or None when not reported."""
    inner = opt_obj(usage.get(details), "usage", details)
    if not inner:
        return None
    return opt_obj(inner.get("cache_write_tokens_details"), f"usage.{details}")


def detail(usage: Mapping[str, Any], details: str, key: str, where: str) -> int | None:
    """Return the count ``usage[details][key]`` (absent: None), checking both shapes."""
    inner = usage.get(details)
    if inner is None:
        return None
    if inner.__class__ is not dict:
        obj(inner, where, details)
    value = inner.get(key)
    if value.__class__ is int and value >= 0:
        return value
    return count(inner, key, _at(where, details))


def parse_tool_call(
    name: Any, arguments: Any, call_id: Any, where: str = "tool call"
) -> ToolCall | InvalidToolCall:
    """Return a ``ToolCall``, or an ``InvalidToolCall`` with the error when args are not JSON.

    A name, id or arguments that is not a string is a malformed reply and raises.
    """
    name = opt_text(name, where, "name") or ""
    call_id = opt_text(call_id, where, "id")
    raw = opt_text(arguments, where, "arguments") or ""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return InvalidToolCall(
            type="invalid_tool_call",
            name=name,
            args=raw,
            id=call_id,
            error=f"arguments are not valid JSON: {exc}",
        )
    except RecursionError:  # a hostile server's thousands of nested brackets
        return InvalidToolCall(
            type="invalid_tool_call",
            name=name,
            args=raw,
            id=call_id,
            error="arguments nest too deeply to be read as JSON",
        )
    if not isinstance(args, dict):
        return InvalidToolCall(
            type="invalid_tool_call",
            name=name,
            args=raw,
            id=call_id,
            error=f"arguments must be a JSON object, got {type(args).__name__}",
        )
    return ToolCall(type="tool_call", name=name, args=args, id=call_id)
