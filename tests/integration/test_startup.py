"""Importing the package and building a model load only what a first call needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_paramchat.testing import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
def loaded():
    return sorted(m for m in sys.modules if m.startswith(("langchain_paramchat", "tenacity")))
import langchain_paramchat
at_import = loaded()
model = langchain_paramchat.ParamChat(
    model="gpt-4o-mini", api_key="sk-test", base_url=sys.argv[1] or None, api=sys.argv[2]
)
after_init = loaded()
if sys.argv[1]:
    model.invoke("hi")
print(json.dumps({"import": at_import, "init": after_init, "call": loaded()}))
"""


def _loaded(base_url: str = "", api: str = "chat_completions") -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, base_url, api],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# Packages whose ``__init__`` is a lazy border (PEP 562): the model's modules import the
# package at their top, so the package itself is loaded; none of its code is until used.
LAZY_BORDERS = frozenset({"tools", "batch", "call"})


def _code_of(part: str, names: set[str]) -> set[str]:
    """Return the loaded modules of ``part`` (a package's submodules, or a module itself)."""
    full = f"langchain_paramchat.{part}"
    inside = {n for n in names if n.startswith(f"{full}.")}
    if full in names and part not in LAZY_BORDERS:
        inside.add(full)
    return inside


def test_lazy_borders_load_nothing_themselves() -> None:
    names = set(_loaded()["import"])
    for part in ("tools", "batch"):
        assert f"langchain_paramchat.{part}" in names, part
        assert not any(n.startswith(f"langchain_paramchat.{part}.") for n in names), part


def test_optional_parts_load_only_when_used() -> None:
    loaded = _loaded()
    for stage in ("import", "init"):
        names = set(loaded[stage])
        for optional in ("local", "testing", "tools.structured", "batch"):
            assert _code_of(optional, names) == set(), (stage, optional)
        # Tools, strict schemas and the adapters wait for the first call that needs them.
        for first_call in (
            "tools",
            "strict",
            "tools.tool_choice",
            "call.finish",
            "call.stream_relay",
            "apis.responses",
        ):
            assert _code_of(first_call, names) == set(), (stage, first_call)


def test_building_a_model_only_checks_its_settings() -> None:
    names = set(_loaded()["init"])
    # The send machinery (sync/async halves, SSE, the SDK fast path) waits for the first call;
    # tenacity waits for the first retry.
    for part in ("transport.http_transport", "transport.aio", "transport.sync", "transport.sse"):
        assert f"langchain_paramchat.{part}" not in names, part
    assert "tenacity" not in names


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_a_plain_first_call_loads_only_its_own_api(fake_openai: FakeOpenAI, api: str) -> None:
    fake_openai.add("Hello")
    names = set(_loaded(fake_openai.base_url, api)["call"])
    other = "responses" if api == "chat_completions" else "chat_completions"
    assert f"langchain_paramchat.apis.{api}" in names
    assert f"langchain_paramchat.apis.{other}" not in names
    # No tools, no schema, no batch: their modules stay unloaded.
    for unused in ("tools", "strict", "batch", "local", "testing"):
        assert _code_of(unused, names) == set(), unused
