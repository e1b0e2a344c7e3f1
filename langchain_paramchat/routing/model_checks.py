"""What a model's facts mean for one call's options: rejected options, shutdown notices.

The facts come from ``model_facts``; the options and their warnings from ``options``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date
from typing import Any

from langchain_paramchat.errors import OptionError
from langchain_paramchat.options.rules import RejectedOptionWarning, callers_stacklevel
from langchain_paramchat.routing.model_facts import facts, shutdown_notice

__all__ = ["drop_rejected_options", "warn_model_shutdown"]

# Values a reasoning model takes as given (they are its fixed defaults): left out silently.
_HARMLESS: dict[str, Any] = {
    "temperature": 1,
    "top_p": 1,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "logprobs": False,
}


def drop_rejected_options(
    merged: dict[str, Any], model: str, *, strict: bool, quiet: bool = False
) -> None:
    """Remove from ``merged`` the options ``model`` rejects (its facts say which).

    By default one ``RejectedOptionWarning`` names them and the model; with ``strict``, an
    ``OptionError`` is raised before anything is sent; ``quiet`` drops them without either
    (for asking where a request would go). gpt-5.1 and later take temperature, top_p and
    logprobs again at ``reasoning_effort="none"``.
    """
    known = facts(model)
    if not known.family.rejects:
        return
    reasoning = merged.get("reasoning")
    effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else None
    rejected = [name for name in merged if known.rejects(name, effort)]
    told: list[str] = []
    for name in rejected:
        value = merged.pop(name)
        if quiet or (name in _HARMLESS and value == _HARMLESS[name] and value is not True):
            continue
        if strict:
            raise OptionError(
                name,
                value,
                f"model {model!r} rejects it (a reasoning model)",
                fix=_fix(name, known.family.unless_no_reasoning),
            )
        told.append(f"{name}={value!r}")
    if told:
        warnings.warn(
            f"not sent: {', '.join(told)}, which model {model!r} rejects (a reasoning "
            "model). Pass strict_options=True to make this an error",
            RejectedOptionWarning,
            stacklevel=callers_stacklevel(),
        )


def _fix(name: str, unless: frozenset[str]) -> str:
    if name in unless:
        return f"leave {name} out, or pass reasoning_effort='none' (no reasoning) to use it"
    return f"leave {name} out for this model"


def warn_model_shutdown(model: str) -> None:
    """Warn (``DeprecationWarning``) when ``model`` is past or within 30 days of shutdown."""
    if facts(model).shutdown is None:  # most models: no need to ask the clock every call
        return
    notice = shutdown_notice(model, date.today())
    if notice is not None:
        warnings.warn(notice, DeprecationWarning, stacklevel=callers_stacklevel())
