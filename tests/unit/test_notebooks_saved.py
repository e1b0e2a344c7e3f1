"""Committed notebooks show their results: every code cell executed, with outputs, clean.

On GitHub a notebook is read, not run, so each one is committed executed (``python
notebooks/execute.py``), and says in its first cell, in one line starting ``Runs on:``,
whether it runs on the real local model or the scripted server. Outputs must not carry
errors, machine-specific paths or ports, or anything that looks like a secret. (CI runs the
notebooks again with nbmake; this test only reads the files.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

# Paths and ports that differ per machine or per run, and secret-looking strings.
_MACHINE_SPECIFIC = re.compile(
    r"(/(root|home|Users|tmp|work|private/var|opt|usr/local)/|[A-Z]:\\\\|site-packages|"
    r"\.venv\b|(127\.0\.0\.1|localhost):\d{2,5})"
)
_SECRET = re.compile(r"(sk-[A-Za-z0-9_-]{8,}|Bearer [A-Za-z0-9._-]{8,}|OPENAI_API_KEY=\S+)")


def _text(output: dict[str, Any]) -> str:
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "\n".join(
        "".join(value) if isinstance(value, list) else str(value)
        for kind, value in data.items()
        if kind.startswith("text/")
    )


def _cells(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["cells"]


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_first_cell_says_in_one_line_what_it_runs_on(path: Path) -> None:
    first = "".join(_cells(path)[0]["source"])
    lines = [line for line in first.splitlines() if "Runs on:" in line]
    assert len(lines) == 1, f"{path.name}: add one line 'Runs on: ...' to the first cell"
    assert re.search(r"local model|scripted server", lines[0]), lines[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_code_cell_is_saved_executed_with_outputs(path: Path) -> None:
    code = [cell for cell in _cells(path) if cell["cell_type"] == "code"]
    without = [i for i, cell in enumerate(code) if not cell.get("outputs")]
    assert without == [], (
        f"{path.name}: code cells {without} have no saved output; run: "
        f"python notebooks/execute.py {path.name}"
    )
    counts = [cell.get("execution_count") for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not executed top to bottom"
    errors = [
        i for i, cell in enumerate(code) for o in cell["outputs"] if o["output_type"] == "error"
    ]
    assert errors == [], f"{path.name}: code cells {errors} saved an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_outputs_hold_no_machine_specific_paths_or_secrets(path: Path) -> None:
    found = []
    for index, cell in enumerate(c for c in _cells(path) if c["cell_type"] == "code"):
        for output in cell.get("outputs", []):
            text = _text(output)
            for pattern in (_MACHINE_SPECIFIC, _SECRET):
                found += [f"cell {index}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert found == [], f"{path.name}: outputs show {found}"


def test_the_checks_catch_what_they_are_for() -> None:
    assert _MACHINE_SPECIFIC.search("at http://127.0.0.1:45887/v1")
    assert _MACHINE_SPECIFIC.search("File /root/.cache/langchain-paramchat/x.gguf")
    assert _MACHINE_SPECIFIC.search("/work/main/.venv/lib/python3.11/site-packages/x.py")
    assert not _MACHINE_SPECIFIC.search("chat_completions /v1/chat/completions")
    assert _SECRET.search("api_key='sk-proj-abcdefgh1234'")
    assert not _SECRET.search("api_key=SecretStr('**********')")
