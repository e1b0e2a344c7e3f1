"""Deprecated options and models near their shutdown warn, from what the SDK marks.

The drift test reads the installed SDK's create() params: a field whose docstring calls it
deprecated must be in ``DEPRECATED_OPTIONS`` or be one ParamChat never sends.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params

from langchain_paramchat.options import DEPRECATED_OPTIONS, OPTIONS
from langchain_paramchat.routing.model_facts import shutdown_notice

# Deprecated SDK fields ParamChat never writes: max_tokens (it sends max_completion_tokens),
# functions / function_call (tools and tool_choice replace them).
NEVER_SENT = {"max_tokens", "functions", "function_call"}

_FIELD = re.compile(r'^    (\w+): [^\n]+\n    """(.*?)"""', re.S | re.M)


def _deprecated_fields(module: object, base: str) -> set[str]:
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    body = source.split(f"class {base}(", 1)[1].split("\nclass ", 1)[0]
    found = set()
    for name, doc in _FIELD.findall(body):
        text = doc.lower()
        # "Deprecated values:" lists model ids (the model facts read those), not the field.
        if "deprecated values:" in text:
            continue
        if "deprecated" in text or "being replaced" in text:
            found.add(name)
    return found


@pytest.mark.parametrize(
    ("module", "base", "api"),
    [
        (completion_create_params, "CompletionCreateParamsBase", "chat_completions"),
        (response_create_params, "ResponseCreateParamsBase", "responses"),
    ],
)
def test_every_option_the_sdk_deprecates_warns(module: object, base: str, api: str) -> None:
    fields = _deprecated_fields(module, base)
    assert fields, "the SDK's field docstrings were not read"
    by_target = {spec.target(api): name for name, spec in OPTIONS.items()}  # type: ignore[arg-type]
    for field in fields - NEVER_SENT:
        option = by_target.get(field)
        assert option in DEPRECATED_OPTIONS, f"the SDK deprecates {field!r} on {api}"


def test_shutdown_notices_name_the_date_and_a_successor() -> None:
    today = date(2026, 12, 1)
    assert shutdown_notice("gpt-5", today) == (
        "model 'gpt-5' shuts down on 2026-12-11 (announced in the openai SDK); "
        "use 'gpt-5.5' instead"
    )
    assert "was shut down on 2026-10-23" in (shutdown_notice("o4-mini", today) or "")
    # 44 days ahead: not yet; 30 days ahead: now.
    assert shutdown_notice("gpt-4o-mini", today) is None
    assert shutdown_notice("gpt-4o-mini", date(2026, 12, 15)) is not None
    assert shutdown_notice("gpt-5.4-mini", today) is None
    assert shutdown_notice("my-model", today) is None
    assert "deprecations for its replacement" in (
        shutdown_notice("gpt-audio-mini", date(2027, 1, 2)) or ""
    )
