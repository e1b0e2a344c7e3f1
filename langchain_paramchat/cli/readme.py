"""Generate the README's option table and routing lists from the option table.

``python -m langchain_paramchat options-table --write`` rewrites the blocks between the
README's ``<!-- option-table:start -->`` / ``<!-- routing-lists:start -->`` /
``<!-- chatopenai-table:start -->`` markers (the last from ``compat.names.CHAT_OPENAI_NAMES``).
"""

from __future__ import annotations

import re

from langchain_paramchat.compat.translate import migration_table_markdown
from langchain_paramchat.options import CONVERTER_NOTES, OPTIONS, Api, OptionSpec

__all__ = ["option_table_markdown", "render_readme_table", "routing_summary_markdown"]


def _describe_target(api: Api, spec: OptionSpec) -> str:
    target = spec.target(api)
    if target is None:
        return "—"
    if isinstance(target, str):
        return f"`{target}`"
    return CONVERTER_NOTES.get(target, "converted")


def option_table_markdown() -> str:
    """Return the README's option table, generated from ``OPTIONS``."""
    lines = [
        "| option | Chat Completions | Responses | what it does |",
        "|---|---|---|---|",
    ]
    for name, spec in OPTIONS.items():
        label = f"`{name}`"
        if spec.aliases:
            label += " (" + ", ".join(f"`{a}`" for a in spec.aliases) + ")"
        lines.append(
            f"| {label} | {_describe_target('chat_completions', spec)} | "
            f"{_describe_target('responses', spec)} | {spec.opt.doc} |"
        )
    return "\n".join(lines) + "\n"


def routing_summary_markdown() -> str:
    """Return the README's routing lists, generated from ``OPTIONS``."""
    responses_only = [n for n, spec in OPTIONS.items() if spec.opt.chat is None]
    chat_only = [n for n, spec in OPTIONS.items() if spec.opt.responses is None]
    lines = [
        "- Responses only: " + ", ".join(f"`{n}`" for n in responses_only) + ".",
        "- Chat Completions only: " + ", ".join(f"`{n}`" for n in chat_only) + ".",
        "- Depends on the value:",
        *(f"  - `{n}`: {spec.opt.routes}" for n, spec in OPTIONS.items() if spec.opt.routes),
    ]
    return "\n".join(lines) + "\n"


def _replace_block(readme: str, marker: str, body: str) -> str:
    start, end = f"<!-- {marker}:start", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(start) + r"[^\n]*\n.*?" + re.escape(end), re.S)
    match = pattern.search(readme)
    if match is None:
        raise SystemExit(f"README.md has no {marker} markers")
    header = match.group(0).split("\n", 1)[0]
    return readme[: match.start()] + f"{header}\n{body}{end}" + readme[match.end() :]


def render_readme_table(readme: str) -> str:
    """Return ``readme`` with the option table, routing lists and ChatOpenAI table regenerated."""
    readme = _replace_block(readme, "chatopenai-table", migration_table_markdown())
    readme = _replace_block(readme, "option-table", option_table_markdown())
    return _replace_block(readme, "routing-lists", routing_summary_markdown())
