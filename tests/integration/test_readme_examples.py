"""Every Python block in README.md runs, in order, and what it claims is checked.

The blocks run top to bottom in one namespace (later sections use the quickstart's
``model``), as a reader pasting them into one session would, with ``OPENAI_API_KEY`` and
``OPENAI_BASE_URL`` pointing at a fresh :class:`FakeOpenAI` (real HTTP through the real
``openai`` SDK). With nothing scripted the server echoes the last user message.

What a block claims is asserted:

- a top-level expression with a comment that looks like a value (``preview.api  #
  'responses'``, ``reply.tool_calls  # [{'name': 'GetWeather', ...}]``) must have that
  ``repr``, where ``...`` stands for anything; prose there is an error, since a reader
  takes it for the value;
- a ``text`` block right after a Python block is the output it must print (``...`` again
  stands for anything).

Directives, in an HTML comment right above a block (invisible on GitHub):

- ``<!-- fake-openai: Reply(...), ... -->`` queues scripted replies for the block
  (``Reply``, ``ToolCall``, ``Usage``, ``Fault`` from ``langchain_paramchat.testing``);
- ``<!-- needs: local -->`` runs the block only where the ``local`` extra (llama.cpp's
  server) is installed, and checks no claims (a real model's words vary);
- ``<!-- not-run: why -->`` skips a block that cannot run here; keep these few.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall, Usage

README = Path(__file__).resolve().parents[2] / "README.md"
MAX_NOT_RUN = 3

_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*(fake-openai|needs|not-run):\s*(.*?)\s*-->\s*$", re.S)
# A comment that reads as a value: a literal, a container, or a repr like City(...).
_CLAIM = re.compile(r"""^(['"\[{(\d-]|True\b|False\b|None\b|[A-Z]\w*\()""")


@dataclass
class Block:
    """One fenced Python block of the README, with what it needs and must print."""

    line: int
    source: str
    directives: dict[str, str]
    output: str | None = None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks(text: str) -> list[Block]:
    """Return the README's Python blocks with their directives and expected output."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        fence = _FENCE.match(lines[i])
        if directive:
            pending[directive.group(1)] = directive.group(2)
        elif fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            body = "\n".join(lines[i + 1 : end]) + "\n"
            language = fence.group(1)
            if language == "python":
                blocks.append(Block(i + 2, body, pending))
            elif language == "text" and blocks and _only_blank(lines, blocks[-1], i):
                blocks[-1].output = body
            pending = {}
            i = end
        elif lines[i].strip():
            pending = {}
        i += 1
    return blocks


def _only_blank(lines: list[str], block: Block, fence_line: int) -> bool:
    close = block.line - 1 + block.source.count("\n")
    return all(not line.strip() for line in lines[close + 1 : fence_line])


BLOCKS = readme_blocks(README.read_text())


def _matches(expected: str, actual: str) -> bool:
    parts = [re.escape(part.strip()) for part in expected.strip().split("...")]
    pattern = r"[\s\S]*?".join(parts)
    return re.fullmatch(r"\s*" + pattern + r"\s*", actual) is not None


def _comments(source: str) -> dict[int, str]:
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string[1:].strip()
    return found


def _is_call(statement: ast.Expr) -> bool:
    """Return whether the expression is a call whose value is not the point (``print(...)``)."""
    value = statement.value
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name)


def _run(block: Block, namespace: dict[str, Any]) -> str:
    """Execute ``block`` statement by statement; check value claims; return what it printed."""
    tree = ast.parse(block.source)
    comments = _comments(block.source)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for statement in tree.body:
            where = f"{block.id.split(':')[0]}:{block.line + statement.lineno - 1}"
            claim = comments.get(statement.end_lineno or statement.lineno, "")
            if isinstance(statement, ast.Expr) and claim and not _is_call(statement):
                # A comment on a bare expression reads as its value: make it one we can check.
                assert _CLAIM.match(claim), f"{where}: write the value, not prose: # {claim}"
            if isinstance(statement, ast.Expr) and _CLAIM.match(claim):
                code = compile(ast.Expression(statement.value), where, "eval")
                value = eval(code, namespace)
                assert _matches(claim, repr(value)), f"{where}: got {value!r}, README says {claim}"
            else:
                exec(compile(ast.Module([statement], []), where, "exec"), namespace)
    return printed.getvalue()


@pytest.fixture(scope="module")
def session() -> Iterator[tuple[FakeOpenAI, dict[str, Any]]]:
    """Yield one fake server and one namespace for the whole README, as one reader's session."""
    with FakeOpenAI() as server, pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", "sk-readme-test")
        env.setenv("OPENAI_BASE_URL", server.base_url)
        for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
            env.delenv(name, raising=False)
        yield server, {"__name__": "readme"}


def test_readme_has_runnable_blocks_and_few_exceptions() -> None:
    assert len(BLOCKS) >= 5
    not_run = [b.id for b in BLOCKS if "not-run" in b.directives]
    assert len(not_run) <= MAX_NOT_RUN, f"too many blocks marked not-run: {not_run}"
    assert all(b.directives["not-run"] for b in BLOCKS if "not-run" in b.directives), (
        "say why a block is not run: <!-- not-run: why -->"
    )


def test_claims_are_read_from_value_comments_only() -> None:
    assert _CLAIM.match("'responses'") and _CLAIM.match("City(name='Paris', ...)")
    assert not _CLAIM.match("AIMessage with usage_metadata")
    assert _matches(
        "[{'name': 'GetWeather', 'args': {'city': 'Oslo'}, ...}]",
        "[{'name': 'GetWeather', 'args': {'city': 'Oslo'}, 'id': 'call_1', 'type': 'tool_call'}]",
    )
    assert not _matches("'responses'", "'chat_completions'")


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs_and_its_claims_hold(
    block: Block, session: tuple[FakeOpenAI, dict[str, Any]]
) -> None:
    server, namespace = session
    if "not-run" in block.directives:
        pytest.skip(f"marked not-run in the README: {block.directives['not-run']}")
    if block.directives.get("needs") == "local" and importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("needs the 'local' extra (llama.cpp's server)")
    script = block.directives.get("fake-openai")
    assert server.pending == 0, "an earlier block left scripted replies unused"
    errors_before = len(server.errors)
    if script:
        scripted = {"Reply": Reply, "ToolCall": ToolCall, "Usage": Usage, "Fault": Fault}
        server.add(*eval(f"({script},)", scripted))
    printed = _run(block, namespace)
    if block.output is not None and block.directives.get("needs") != "local":
        assert _matches(block.output, printed), f"{block.id} printed:\n{printed}"
    assert server.pending == 0, f"{block.id}: scripted replies left unused"
    assert server.errors[errors_before:] == [], f"{block.id} sent bodies the API would reject"
