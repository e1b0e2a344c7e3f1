"""Importing the package and building a model load only what a first call needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import langchain_paramchat
at_import = sorted(m for m in sys.modules if m.startswith("langchain_paramchat"))
langchain_paramchat.ParamChat(model="gpt-4o-mini", api_key="sk-test")
after_init = sorted(m for m in sys.modules if m.startswith("langchain_paramchat"))
print(json.dumps({"import": at_import, "init": after_init}))
"""


def _loaded() -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_optional_parts_load_only_when_used() -> None:
    loaded = _loaded()
    for stage in ("import", "init"):
        names = set(loaded[stage])
        for optional in ("local", "testing", "structured", "batch", "pickling"):
            assert f"langchain_paramchat.{optional}" not in names, (stage, optional)
        # Tools, strict schemas and the adapters wait for the first call that needs them.
        for first_call in ("tools", "strict", "tool_choice", "finish", "apis.responses"):
            assert f"langchain_paramchat.{first_call}" not in names, (stage, first_call)
