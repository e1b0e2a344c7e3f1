"""What the package knows about each OpenAI model: the installed SDK first, one table after.

The ``openai`` SDK lists the models each API takes: ``ChatModel`` (Chat Completions and
Responses) and ``ResponsesModel`` (those plus the Responses-only ones), and its ``ChatModel``
module announces shutdown dates. Those are read lazily, once, from the installed SDK. Ids the
SDK does not know yet (newer models, dated snapshots, fine-tunes) get their facts from the
first matching row of ``FAMILIES``; ``tests/unit/test_model_facts.py`` fails when the SDK
lists an id no row classifies.

``facts(model)`` returns every fact the code needs: the API, whether function tools need the
Responses API, the system-message role, reasoning and its effort levels, the sampling options
the model rejects, context and output limits, the shutdown date and a successor, and the
LangChain ``profile``.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models import ModelProfile

__all__ = [
    "FAMILIES",
    "REASONING_REJECTS",
    "Family",
    "ModelFacts",
    "default_responses_only_models",
    "facts",
    "family_of",
    "is_reasoning_model",
    "sdk_chat_models",
    "sdk_responses_only_models",
    "sdk_shutdown_dates",
    "shutdown_notice",
    "system_role",
]

# Sampling options OpenAI's reasoning models reject (its reasoning guide lists them).
REASONING_REJECTS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "logprobs",
        "top_logprobs",
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
    }
)
# What gpt-5.1 and later accept again when ``reasoning.effort`` is ``"none"`` (no reasoning).
_ACCEPTED_WITHOUT_REASONING: frozenset[str] = frozenset(
    {"temperature", "top_p", "logprobs", "top_logprobs"}
)

_O_EFFORTS = ("low", "medium", "high")
_GPT5_EFFORTS = ("minimal", "low", "medium", "high")
_GPT51_EFFORTS = ("none", "low", "medium", "high")
_GPT52_EFFORTS = ("none", "low", "medium", "high", "xhigh")
_GPT56_EFFORTS = ("none", "low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class Family:
    """One row of the family table: a name pattern (matched at the start) and its facts.

    ``rejects``: request options the family refuses; ``unless_no_reasoning``: those of them
    it accepts when ``reasoning.effort`` is ``"none"``. ``successor``: the current model a
    shutdown notice suggests instead. ``developer_role``: system messages go in the
    ``developer`` role (the o-series, as ChatOpenAI sends them to these models).
    """

    name: str
    pattern: str
    responses_only: bool = False
    tools_need_responses: bool = False
    reasoning: bool = False
    effort_levels: tuple[str, ...] = ()
    rejects: frozenset[str] = frozenset()
    unless_no_reasoning: frozenset[str] = frozenset()
    context_window: int | None = None
    max_output_tokens: int | None = None
    image_inputs: bool = True
    audio_inputs: bool = False
    pdf_inputs: bool = True
    tool_calling: bool = True
    structured_output: bool = True
    successor: str | None = None
    developer_role: bool = False


def _reasoning(
    name: str,
    pattern: str,
    efforts: tuple[str, ...],
    context: int,
    output: int,
    successor: str | None = None,
    **more: Any,
) -> Family:
    accepts = _ACCEPTED_WITHOUT_REASONING if "none" in efforts else frozenset()
    return Family(
        name,
        pattern,
        reasoning=True,
        effort_levels=efforts,
        rejects=REASONING_REJECTS,
        unless_no_reasoning=accepts,
        context_window=context,
        max_output_tokens=output,
        successor=successor,
        **more,
    )


# First match wins, so specific rows come before the broad ones. Limits are the published
# input-context and output-token limits; a successor is the current model of the same size
# and kind that a shutdown notice suggests (OpenAI's deprecations page has the full advice).
FAMILIES: tuple[Family, ...] = (
    Family(
        "computer-use",
        r".*computer-use",
        responses_only=True,
        context_window=8192,
        max_output_tokens=1024,
        structured_output=False,
        pdf_inputs=False,
    ),
    _reasoning(
        "deep-research",
        r".*deep-research",
        _O_EFFORTS,
        200_000,
        100_000,
        "gpt-5.5",
        responses_only=True,
    ),
    _reasoning(
        "o-series pro",
        r"o\d+-pro",
        _O_EFFORTS,
        200_000,
        100_000,
        "gpt-5.5-pro",
        responses_only=True,
        developer_role=True,
    ),
    _reasoning(
        "codex", r".*codex", _GPT52_EFFORTS, 400_000, 128_000, "gpt-5.5", responses_only=True
    ),
    # Domain models (cyber, law, healthcare, research) are served by Responses only.
    _reasoning(
        "domain models",
        r"gpt-[\d.]+-\w+-(?:healthcare|law)|gpt-[\d.]+-cyber|.*rosalind|gpt-daybreak",
        _GPT56_EFFORTS,
        1_050_000,
        128_000,
        responses_only=True,
        tools_need_responses=True,
    ),
    # OpenAI's model pages list no structured outputs for these two pro models.
    _reasoning(
        "gpt-5.2/5.4 pro",
        r"gpt-5\.[24]-pro",
        _GPT52_EFFORTS,
        1_050_000,
        128_000,
        "gpt-5.5-pro",
        responses_only=True,
        structured_output=False,
    ),
    _reasoning(
        "gpt-x pro",
        r"gpt-[\d.]+-pro",
        _GPT52_EFFORTS,
        1_050_000,
        128_000,
        "gpt-5.5-pro",
        responses_only=True,
    ),
    Family(
        "gpt-5 chat",
        r"gpt-5(?:\.\d+)?-chat",
        context_window=128_000,
        max_output_tokens=16_384,
        successor="gpt-5.5",
    ),
    # gpt-6 and gpt-5.6 take function tools only on the Responses API (as ChatOpenAI routes).
    # gpt-6 astra reasons always: no "none" effort, so it never takes temperature.
    _reasoning(
        "gpt-6 astra",
        r"gpt-6(?:\.\d+)?-astra",
        _GPT56_EFFORTS[1:],
        1_050_000,
        128_000,
        tools_need_responses=True,
    ),
    _reasoning("gpt-6", r"gpt-6", _GPT56_EFFORTS, 1_050_000, 128_000, tools_need_responses=True),
    _reasoning(
        "gpt-5.6", r"gpt-5\.6", _GPT56_EFFORTS, 1_050_000, 128_000, tools_need_responses=True
    ),
    _reasoning("gpt-5.5", r"gpt-5\.5", _GPT52_EFFORTS, 1_050_000, 128_000),
    _reasoning(
        "gpt-5.4 mini", r"gpt-5\.4-(?:mini|nano)", _GPT52_EFFORTS, 400_000, 128_000, "gpt-5.4-mini"
    ),
    _reasoning("gpt-5.4", r"gpt-5\.4", _GPT52_EFFORTS, 1_050_000, 128_000, "gpt-5.5"),
    _reasoning("gpt-5.2", r"gpt-5\.[23]", _GPT52_EFFORTS, 272_000, 128_000, "gpt-5.5"),
    _reasoning("gpt-5.1", r"gpt-5\.1", _GPT51_EFFORTS, 272_000, 128_000, "gpt-5.5"),
    _reasoning(
        "gpt-5 mini", r"gpt-5-(?:mini|nano)", _GPT5_EFFORTS, 272_000, 128_000, "gpt-5.4-mini"
    ),
    _reasoning("gpt-5", r"gpt-5", _GPT5_EFFORTS, 272_000, 128_000, "gpt-5.5"),
    _reasoning(
        "o-series mini",
        r"o\d+-mini",
        _O_EFFORTS,
        200_000,
        100_000,
        "gpt-5.4-mini",
        developer_role=True,
    ),
    _reasoning("o-series", r"o\d+", _O_EFFORTS, 200_000, 100_000, "gpt-5.5", developer_role=True),
    Family(
        "gpt-4.1 mini",
        r"gpt-4\.1-(?:mini|nano)",
        context_window=1_047_576,
        max_output_tokens=32_768,
        successor="gpt-5.4-mini",
    ),
    Family(
        "gpt-4.1",
        r"gpt-4\.1",
        context_window=1_047_576,
        max_output_tokens=32_768,
        successor="gpt-5.4",
    ),
    Family(
        "gpt-4o audio",
        r"gpt-4o(?:-mini)?-audio",
        context_window=128_000,
        max_output_tokens=16_384,
        image_inputs=False,
        pdf_inputs=False,
        audio_inputs=True,
        structured_output=False,
        successor="gpt-audio-mini",
    ),
    # The SDK names no chat model after gpt-audio-mini: the notice points to OpenAI's page.
    Family(
        "gpt-audio",
        r"gpt-audio",
        context_window=128_000,
        max_output_tokens=16_384,
        image_inputs=False,
        pdf_inputs=False,
        audio_inputs=True,
        structured_output=False,
    ),
    Family(
        "search",
        r"gpt-4o(?:-mini)?-search",
        context_window=128_000,
        max_output_tokens=16_384,
        structured_output=False,
        successor="gpt-5.4-mini with the web_search tool",
    ),
    Family(
        "gpt-4o mini",
        r"gpt-4o-mini",
        context_window=128_000,
        max_output_tokens=16_384,
        successor="gpt-5.4-mini",
    ),
    Family(
        "gpt-4o",
        r"gpt-4o|chatgpt-4o",
        context_window=128_000,
        max_output_tokens=16_384,
        successor="gpt-5.4",
    ),
    Family(
        "gpt-4 turbo",
        r"gpt-4-(?:turbo|\d{4}-preview|vision)",
        context_window=128_000,
        max_output_tokens=4096,
        structured_output=False,
        successor="gpt-5.4",
    ),
    Family(
        "gpt-4 32k",
        r"gpt-4-32k",
        context_window=32_768,
        max_output_tokens=4096,
        image_inputs=False,
        pdf_inputs=False,
        structured_output=False,
        successor="gpt-5.4",
    ),
    Family(
        "gpt-4",
        r"gpt-4",
        context_window=8192,
        max_output_tokens=8192,
        image_inputs=False,
        pdf_inputs=False,
        structured_output=False,
        successor="gpt-5.4",
    ),
    Family(
        "gpt-3.5",
        r"gpt-3",
        context_window=16_385,
        max_output_tokens=4096,
        image_inputs=False,
        pdf_inputs=False,
        structured_output=False,
        successor="gpt-5.4-mini",
    ),
)

_UNKNOWN = Family("unknown", r"", image_inputs=False, pdf_inputs=False)


@dataclass(frozen=True)
class ModelFacts:
    """Every fact the package uses about one model id."""

    model: str
    family: Family
    responses_only: bool
    responses_only_because: str | None
    shutdown: date | None
    known: bool

    @property
    def reasoning(self) -> bool:
        """Return True for a reasoning model (takes reasoning options, rejects sampling ones)."""
        return self.family.reasoning

    @property
    def tools_need_responses(self) -> bool:
        """Return True when the model takes function tools only on the Responses API."""
        return self.family.tools_need_responses

    @property
    def system_role(self) -> str:
        """Return the role system messages take: ``developer`` for the o-series only.

        OpenAI reads a ``system`` message to any other reasoning model as developer
        instructions, and ChatOpenAI sends ``system`` to them, so ParamChat does too.
        """
        return "developer" if self.family.developer_role else "system"

    def rejects(self, option: str, effort: Any = None) -> bool:
        """Return True when the model refuses ``option`` at reasoning effort ``effort``."""
        if option not in self.family.rejects:
            return False
        return not (effort == "none" and option in self.family.unless_no_reasoning)

    def profile(self) -> ModelProfile | None:
        """Return a LangChain ``ModelProfile`` for a known model, else None."""
        if not self.known:
            return None
        from langchain_core.language_models import ModelProfile

        fam = self.family
        profile = ModelProfile(
            text_inputs=True,
            text_outputs=True,
            image_inputs=fam.image_inputs,
            image_url_inputs=fam.image_inputs,
            pdf_inputs=fam.pdf_inputs,
            audio_inputs=fam.audio_inputs,
            video_inputs=False,
            tool_calling=fam.tool_calling,
            tool_choice=fam.tool_calling,
            tool_call_streaming=fam.tool_calling,
            structured_output=fam.structured_output,
            reasoning_output=fam.reasoning,
            temperature="temperature" not in fam.rejects or bool(fam.unless_no_reasoning),
        )
        if fam.context_window is not None:
            profile["max_input_tokens"] = fam.context_window
        if fam.max_output_tokens is not None:
            profile["max_output_tokens"] = fam.max_output_tokens
        if fam.effort_levels:
            profile["reasoning_effort_levels"] = list(fam.effort_levels)
        if self.shutdown is not None:
            profile["status"] = "deprecated"
        return profile


@cache
def _family_patterns() -> tuple[tuple[re.Pattern[str], Family], ...]:
    return tuple((re.compile(f.pattern), f) for f in FAMILIES)


def _base_id(model: str) -> str:
    # Fine-tunes ("ft:gpt-4o-mini:org::id") and provider prefixes ("openai/gpt-5") share
    # their base model's facts.
    name = model.strip().lower()
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return name.rsplit("/", 1)[-1]


def family_of(model: str) -> Family | None:
    """Return the first family row whose pattern matches ``model``, or None."""
    name = _base_id(model)
    for pattern, family in _family_patterns():
        if pattern.match(name):
            return family
    return None


@cache
def sdk_chat_models() -> frozenset[str]:
    """Return the installed SDK's ``ChatModel`` ids (taken by both APIs)."""
    from openai.types.shared.chat_model import ChatModel

    return frozenset(typing.get_args(ChatModel))


@cache
def sdk_responses_only_models() -> frozenset[str]:
    """Return the ids the installed SDK lists in ``ResponsesModel`` but not in ``ChatModel``."""
    from openai.types.shared.responses_model import ResponsesModel

    listed: set[str] = set()
    for arg in typing.get_args(ResponsesModel):
        listed.update(a for a in typing.get_args(arg) if isinstance(a, str))
    return frozenset(listed - sdk_chat_models())


# One entry of the SDK's "Deprecated values" list: quoted ids, then the announced date.
_DATED = re.compile(r'-\s*((?:"[^"]+",?\s*)+):\s*Announced\s+shutdown\s+date:\s*(\d{4}-\d\d-\d\d)')


@cache
def sdk_shutdown_dates() -> dict[str, date]:
    """Return the shutdown dates the installed SDK's ``ChatModel`` module announces, by id."""
    from openai.types.shared import chat_model

    try:
        source = Path(chat_model.__file__).read_text(encoding="utf-8")
    except OSError:  # a frozen or zipped SDK: no dates, no warnings
        return {}
    dates: dict[str, date] = {}
    for found in _DATED.finditer(source):
        when = date.fromisoformat(found.group(2))
        for model in re.findall(r'"([^"]+)"', found.group(1)):
            dates[model] = when
    return dates


@lru_cache(maxsize=256)
def facts(model: str) -> ModelFacts:
    """Return the facts for ``model`` (an unknown id gets permissive defaults)."""
    name = _base_id(model)
    family = family_of(name)
    in_sdk = name in sdk_chat_models() or name in sdk_responses_only_models()
    because = None
    if name in sdk_responses_only_models():
        because = "the openai SDK lists it in ResponsesModel, not in ChatModel"
    elif family is not None and family.responses_only:
        because = f"family rule {family.name!r}"
    return ModelFacts(
        model=model,
        family=family or _UNKNOWN,
        responses_only=because is not None,
        responses_only_because=because,
        shutdown=sdk_shutdown_dates().get(name),
        known=family is not None or in_sdk,
    )


# How long before a shutdown date calls start warning.
SHUTDOWN_NOTICE_DAYS = 30


@lru_cache(maxsize=256)
def shutdown_notice(model: str, today: date) -> str | None:
    """Return a warning for a model past or within 30 days of its shutdown date, else None."""
    known = facts(model)
    when = known.shutdown
    if when is None or (when - today).days > SHUTDOWN_NOTICE_DAYS:
        return None
    state = "was shut down" if when <= today else "shuts down"
    successor = known.family.successor
    instead = (
        f"use {successor!r} instead"
        if successor
        else "see https://developers.openai.com/api/docs/deprecations for its replacement"
    )
    return f"model {model!r} {state} on {when.isoformat()} (announced in the openai SDK); {instead}"


def default_responses_only_models() -> tuple[str, ...]:
    """Return the patterns of the families served only by the Responses API."""
    return tuple(f.pattern for f in FAMILIES if f.responses_only)


def is_reasoning_model(model: str) -> bool:
    """Return True when ``model`` is a reasoning model."""
    return facts(model).reasoning


def system_role(model: str) -> str:
    """Return the role system messages take for ``model`` (``developer`` or ``system``)."""
    return facts(model).system_role
