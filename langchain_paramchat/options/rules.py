"""Option rules: names and aliases, per-value checks, one merge, and contradictions.

Construction and every call go through ``merge_options`` (aliases resolved, values checked,
two spellings of one option reconciled), ``apply_implied_options`` (what one option implies
for another) and ``check_contradictions`` (combinations OpenAI rejects or that cannot work),
so a rule holds the same way wherever an option is given.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langchain_paramchat.bounds import json_shape_problem
from langchain_paramchat.errors import OptionError, UnknownOptionError
from langchain_paramchat.options.sdk_versions import require_sdk
from langchain_paramchat.options.table import ALIASES, OPTIONS
from langchain_paramchat.options.typecheck import find_error

__all__ = [
    "DEPRECATED_OPTIONS",
    "RejectedOptionWarning",
    "apply_implied_options",
    "callers_stacklevel",
    "check_contradictions",
    "check_option",
    "merge_options",
    "resolve_name",
    "suggest",
    "warn_deprecated_options",
]

# OpenAI's ``metadata`` is ``request_metadata`` here: ``metadata`` is LangChain's run metadata.
_HINTS = {"metadata": "request_metadata"}


def resolve_name(name: str, value: Any, known: Iterable[str] = ()) -> tuple[str, Any]:
    """Map an alias keyword to its option, or raise ``UnknownOptionError`` with a suggestion.

    ``known`` adds the caller's other keywords (client settings, call arguments) to the
    names a suggestion may come from.
    """
    if name in OPTIONS:
        return name, value
    alias = ALIASES.get(name)
    if alias is not None:
        return alias[0], alias[1](value)
    raise UnknownOptionError(name, suggest(name, known))


def suggest(name: str, known: Iterable[str] = ()) -> str | None:
    """Return the option, alias or ``known`` keyword ``name`` plausibly misspells, if any.

    Plausible: a few typed characters off (one for names up to 5 characters, two up to 10,
    three beyond), or a unique option that ``name`` abbreviates (``temp``) or names part
    of (``retries`` for ``max_retries``). Anything else gets no suggestion: a wrong one
    (``top_k`` → ``top_logprobs``, ``cache`` → ``pace``) misleads more than none.
    """
    if name in _HINTS:
        return _HINTS[name]
    pool = sorted({k for k in (*OPTIONS, *ALIASES, *known) if k != name})
    lowered = name.lower()
    allowed = 1 if len(name) <= 5 else 2 if len(name) <= 10 else 3
    scored = [(_typo_distance(lowered, k.lower(), allowed), k) for k in pool]
    close = [(d, k) for d, k in scored if d <= allowed]
    if close:
        return min(close)[1]
    grown = [k for k in pool if _extends(lowered, k.lower())]
    return grown[0] if len(grown) == 1 else None


def _extends(name: str, candidate: str) -> bool:
    """Return True when ``candidate`` starts with ``name`` or holds its ``_`` words in a row."""
    if len(name) >= 4 and candidate.startswith(name):
        return True
    words, parts = name.split("_"), candidate.split("_")
    return len(words) < len(parts) and any(
        parts[i : i + len(words)] == words for i in range(len(parts) - len(words) + 1)
    )


def _typo_distance(a: str, b: str, limit: int) -> int:
    """Return the edit distance of ``a`` and ``b`` (a swap of neighbours counts once).

    Stops early: anything above ``limit`` comes back as ``limit + 1``.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if (
                before is not None
                and i > 1
                and j > 1
                and a[i - 1] == b[j - 2]
                and a[i - 2] == b[j - 1]
            ):
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def check_option(name: str, value: Any) -> None:
    """Raise ``OptionError`` when ``value`` does not fit option ``name``'s type or range."""
    spec = OPTIONS[name]
    if value is None:
        return
    shape = json_shape_problem(value)
    if shape is not None:
        raise OptionError(name, value, f"a JSON value that {shape}")
    require_sdk(name, value, spec.type)
    error = find_error(value, spec.type, name)
    if error is not None:
        allowed = error.split(": ", 1)[1] if ": " in error else error
        where = error.split(": ", 1)[0]
        raise OptionError(where, _value_at(value, where, name), allowed)
    if spec.opt.check is not None:
        problem = spec.opt.check(value)
        if problem:
            raise OptionError(name, value, problem)


def _value_at(value: Any, where: str, name: str) -> Any:
    """Return the part of ``value`` that ``where`` (``name.key[0]``) points at, best effort."""
    if where == name:
        return value
    current = value
    for token in where[len(name) :].replace("[", ".[").split("."):
        if not token:
            continue
        try:
            current = current[int(token[1:-1])] if token.startswith("[") else current[token]
        except (KeyError, IndexError, TypeError, ValueError):
            return value
    return current


def merge_options(
    base: Mapping[str, Any], given: Mapping[str, Any], known: Iterable[str] = ()
) -> dict[str, Any]:
    """Return ``base`` updated with the option keywords in ``given``, each checked.

    Aliases resolve to their option; ``None`` unsets an option; ``reasoning_effort`` sets
    only ``reasoning.effort`` and keeps the rest of ``reasoning``. Two spellings of one
    option in ``given`` must agree (``OptionError`` otherwise), in either order. Unknown
    keywords raise ``UnknownOptionError`` naming the closest option or ``known`` keyword.
    Construction and every call use this one merge.
    """
    merged = dict(base)
    spelled: dict[str, tuple[str, Any, Any]] = {}  # option -> (keyword, raw, resolved)
    for key, raw in given.items():
        name, value = resolve_name(key, raw, known)
        if value is not None:
            check_option(name, value)
        earlier = spelled.get(name)
        if earlier is not None and earlier[0] != key:
            value = _agree(earlier, key, raw, value)
        spelled[name] = (key, raw, value)
        if value is None:
            merged.pop(name, None)
            continue
        if key in ALIASES and isinstance(value, dict) and isinstance(merged.get(name), dict):
            value = {**merged[name], **value}
        merged[name] = value
    return merged


def _agree(earlier: tuple[str, Any, Any], key: str, raw: Any, value: Any) -> Any:
    """Return the one value two spellings of an option in the same call mean, or raise."""
    first_key, first_raw, first = earlier
    if first is None or value is None:
        return value if first is None else first
    if isinstance(first, dict) and isinstance(value, dict):
        clash = [k for k in value if k in first and first[k] != value[k]]
        if not clash:
            return {**first, **value}
    elif first == value:
        return value
    raise OptionError(
        key,
        raw,
        f"disagrees with {first_key}={first_raw!r} in the same call",
        fix=f"pass only one of {first_key} and {key}",
    )


def apply_implied_options(merged: dict[str, Any]) -> None:
    """Write into ``merged`` what its options imply: ``top_logprobs`` alone turns ``logprobs``
    on, and ``n=1`` is dropped. Call it before ``check_contradictions``."""
    if merged.get("top_logprobs") is not None and merged.get("logprobs") is None:
        # top_logprobs means nothing without logprobs, and Chat Completions rejects it alone.
        merged["logprobs"] = True
    if merged.get("n") == 1:
        # One choice is what both APIs give anyway, and newer models reject any ``n``.
        del merged["n"]


def check_contradictions(merged: Mapping[str, Any], *, stream: bool, tools: bool) -> None:
    """Raise ``OptionError`` for option combinations OpenAI rejects or that cannot work.

    ``tools`` says whether tools are bound. Reads ``merged`` only; what options imply is
    written by ``apply_implied_options`` first.
    """
    modalities = merged.get("modalities") or []
    if merged.get("audio") is not None and "audio" not in modalities:
        raise OptionError(
            "audio",
            merged["audio"],
            "needs 'audio' in modalities",
            fix="pass modalities=['text', 'audio']",
        )
    if "audio" in modalities and merged.get("audio") is None:
        raise OptionError(
            "modalities",
            modalities,
            "'audio' output needs the audio option",
            fix="pass audio={'voice': 'alloy', 'format': 'wav'}",
        )
    n = merged.get("n") or 1
    if n > 1 and stream:
        raise OptionError(
            "n",
            n,
            "n > 1 cannot be streamed: LangChain merges a stream into one message",
            fix="use invoke/batch for several choices, or n=1 to stream",
        )
    if merged.get("top_logprobs") is not None and merged.get("logprobs") is False:
        raise OptionError(
            "top_logprobs", merged["top_logprobs"], "needs logprobs=True", fix="set logprobs=True"
        )
    if merged.get("prediction") is not None:
        _check_prediction(merged, tools)


# Options OpenAI rejects alongside Predicted Outputs (platform docs, "Predicted Outputs").
_PREDICTION_CONFLICTS: dict[str, Callable[[Any], bool]] = {
    "n": lambda v: v > 1,
    "logprobs": bool,
    "presence_penalty": lambda v: v > 0,
    "frequency_penalty": lambda v: v > 0,
    "audio": lambda v: v is not None,
    "modalities": lambda v: any(m != "text" for m in v),
    "max_tokens": lambda v: v is not None,
}


def _check_prediction(merged: Mapping[str, Any], tools: bool) -> None:
    for name, conflicts in _PREDICTION_CONFLICTS.items():
        value = merged.get(name)
        if value is not None and conflicts(value):
            raise OptionError(
                name,
                value,
                "cannot be combined with prediction (OpenAI rejects it)",
                fix=f"drop {name} or prediction",
            )
    if tools:
        raise OptionError(
            "prediction",
            merged["prediction"],
            "cannot be combined with tools (OpenAI rejects it)",
            fix="drop the tools or prediction",
        )


class RejectedOptionWarning(UserWarning):
    """An option was left out of a request because the model rejects it."""


# Options the SDK's create() params mark deprecated (their docstrings), with what to do
# instead; ``tests/unit/test_deprecations.py`` fails when the SDK marks one more.
DEPRECATED_OPTIONS: dict[str, str] = {
    "prompt": "OpenAI shuts saved prompts down on 2026-11-30; put the prompt in your messages",
    "prompt_cache_retention": "use prompt_cache_options={'ttl': ...} instead",
    "user": "use safety_identifier and prompt_cache_key instead",
}


def warn_deprecated_options(merged: Mapping[str, Any]) -> None:
    """Warn (``DeprecationWarning``) for each deprecated option in ``merged``."""
    for name in DEPRECATED_OPTIONS.keys() & merged.keys():
        warnings.warn(
            f"option {name!r} is deprecated in the openai SDK: {DEPRECATED_OPTIONS[name]}",
            DeprecationWarning,
            stacklevel=callers_stacklevel(),
        )


# Frames of these packages are skipped, so a warning points at the user's own call (and
# Python's default filters show a DeprecationWarning raised from ``__main__``).
_LIBRARY_FRAMES = ("langchain_paramchat", "langchain_core", "langchain.", "langgraph", "asyncio")


def callers_stacklevel() -> int:
    """Return the ``stacklevel`` of the first frame outside the libraries, seen by its caller."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_LIBRARY_FRAMES):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
