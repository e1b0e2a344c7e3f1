"""The README's option table is the one generated from the option table."""

from __future__ import annotations

from pathlib import Path

from langchain_paramchat.cli.readme import render_readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_option_table_is_current() -> None:
    text = README.read_text()
    regenerated = render_readme_table(text)
    assert regenerated == text, "run: python -m langchain_paramchat options-table --write"


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test,local,bench]' "
        "&& .venv/bin/python -m pytest"
    )
    assert command in README.read_text()
    assert command in ci
