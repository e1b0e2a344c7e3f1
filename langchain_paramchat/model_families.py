"""What the package knows about OpenAI model families, in one table.

Each row is a regular expression searched in the model name and the facts it implies:
``responses_only`` (OpenAI serves the family only through the Responses API) and
``reasoning`` (a reasoning model: system text goes in the ``developer`` role, and with
``store=False`` its reasoning items need ``reasoning.encrypted_content`` to be replayed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

__all__ = [
    "MODEL_FAMILIES",
    "ModelFamily",
    "default_responses_only_models",
    "is_reasoning_model",
    "system_role",
]


@dataclass(frozen=True)
class ModelFamily:
    """One row of the table: a name pattern (searched) and what it implies."""

    pattern: str
    responses_only: bool = False
    reasoning: bool = False


MODEL_FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(r"^o\d", reasoning=True),
    ModelFamily(r"^gpt-5", reasoning=True),
    ModelFamily(r"^gpt-6", reasoning=True),
    ModelFamily(r"^codex", reasoning=True),
    ModelFamily(r"^o\d+-pro\b", responses_only=True),
    ModelFamily(r"^gpt-[\d.]+-pro\b", responses_only=True),
    ModelFamily(r"codex", responses_only=True),
    ModelFamily(r"deep-research", responses_only=True),
    ModelFamily(r"computer-use", responses_only=True),
)


def default_responses_only_models() -> tuple[str, ...]:
    """Return the patterns of families served only by the Responses API."""
    return tuple(f.pattern for f in MODEL_FAMILIES if f.responses_only)


@cache
def _reasoning_pattern() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{f.pattern})" for f in MODEL_FAMILIES if f.reasoning))


def is_reasoning_model(model: str) -> bool:
    """Return True when ``model`` belongs to a reasoning family."""
    return _reasoning_pattern().search(model) is not None


def system_role(model: str) -> str:
    """Return the role system messages take for ``model`` (``developer`` or ``system``)."""
    return "developer" if is_reasoning_model(model) else "system"
