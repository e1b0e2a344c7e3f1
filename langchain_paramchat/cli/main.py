"""The ``paramchat`` command (``python -m langchain_paramchat``): ``demo`` and ``options-table``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_paramchat.chat_model import ParamChat
from langchain_paramchat.cli.readme import option_table_markdown, render_readme_table
from langchain_paramchat.errors import LocalModelError, ParamChatError
from langchain_paramchat.local import LocalServer
from langchain_paramchat.testing import FakeOpenAI, Reply


def _options_table(write: bool) -> int:
    if not write:
        sys.stdout.write(option_table_markdown())
        return 0
    path = Path("README.md")
    path.write_text(render_readme_table(path.read_text()))
    print("README.md option table updated")
    return 0


_INSTALL_LOCAL = "pip install 'langchain-paramchat[local]'"


@dataclass
class _Backend:
    """Where the demo runs: a description, ParamChat settings, and a scripted server if any."""

    where: str
    settings: dict[str, Any]
    scripted: FakeOpenAI | None = None


@contextlib.contextmanager
def _backend() -> Iterator[_Backend]:
    """Yield the real API (OPENAI_API_KEY set), else a local model, else the scripted server."""
    if os.environ.get("OPENAI_API_KEY"):
        # No reasoning, so gpt-5.4-mini takes the demo's temperature=0.
        yield _Backend(
            "the OpenAI API (OPENAI_API_KEY is set) with gpt-5.4-mini",
            {"model": "gpt-5.4-mini", "reasoning_effort": "none"},
        )
        return
    why_not_local = _local_unavailable()
    if why_not_local is None:
        server = LocalServer()
        print(
            "Starting SmolLM2-135M-Instruct on llama.cpp's server (the first run downloads "
            "the model, 93 MB) ...",
            flush=True,
        )
        try:
            base_url = server.start()
        except LocalModelError as exc:
            why_not_local = f"the local model could not start: {str(exc).rstrip('.')}"
        else:
            try:
                yield _Backend(
                    "a real local model: SmolLM2-135M-Instruct on llama.cpp's server at "
                    f"{base_url} (no OPENAI_API_KEY is set; set it to use the OpenAI API)",
                    {"model": server.model, "base_url": base_url, "api_key": "local"},
                )
            finally:
                server.stop()
            return
    with FakeOpenAI() as fake:
        yield _Backend(
            "the package's scripted OpenAI-compatible server (FakeOpenAI): the replies below "
            f"are scripted, not generated.\nNo real model because {why_not_local}.\n"
            "Set OPENAI_API_KEY to use the OpenAI API.",
            {
                "model": "gpt-5.4-mini",
                "reasoning_effort": "none",
                "base_url": fake.base_url,
                "api_key": "scripted",
            },
            scripted=fake,
        )


def _local_unavailable() -> str | None:
    """Return why the local model cannot run here, or None when it can."""
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        return f"the 'local' extra (llama.cpp's server) is not installed: {_INSTALL_LOCAL}"
    return None


def _script(server: FakeOpenAI) -> None:
    """Queue one sensible reply per demo step, in the order the steps call the model."""
    server.add(
        Reply(text="Hello there, nice to meet you!"),
        Reply(text="Blue at noon, orange at sunset, and black at night.", chunk_size=3),
        Reply(text='{"name": "Lyon", "country": "France"}'),
        Reply(text="Rome."),
    )


def _usage(usage: Mapping[str, Any] | None) -> str:
    if not usage:
        return "not reported"
    text = (
        f"{usage['input_tokens']} input + {usage['output_tokens']} output "
        f"= {usage['total_tokens']} tokens"
    )
    cached = (usage.get("input_token_details") or {}).get("cache_read")
    return f"{text} ({cached} input tokens from the prompt cache)" if cached else text


def _step(title: str, run: Callable[[], None]) -> bool:
    """Print a numbered step and run it; report a package error and go on instead of crashing."""
    print(title)
    started = time.monotonic()
    try:
        run()
    except ParamChatError as exc:
        print(f"   FAILED: {type(exc).__name__}: {exc}\n", flush=True)
        return False
    print(f"   took {time.monotonic() - started:.1f} s\n", flush=True)
    return True


def _demo() -> int:
    # Importing langchain-core and the openai SDK takes a second or two on a cold start.
    print("Loading ParamChat (langchain-core and the openai SDK) ...", flush=True)
    from langchain_core.callbacks import get_usage_metadata_callback
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str

    with _backend() as backend, get_usage_metadata_callback() as totals:
        print(f"ParamChat demo on {backend.where}\n", flush=True)
        if backend.scripted is not None:
            _script(backend.scripted)
        model = ParamChat(temperature=0, max_tokens=48, **backend.settings)

        def plain() -> None:
            reply = model.invoke("Say hello in five words.")
            print(f"   reply: {reply.text.strip()!r}")
            meta = reply.response_metadata
            print(f"   route: {meta['api']} ({'; '.join(meta['route_reasons'])})")
            print(f"   usage: {_usage(reply.usage_metadata)}")

        def chain() -> None:
            prompt = ChatPromptTemplate.from_messages(
                [("human", "In one sentence, what colors can {thing} be?")]
            )
            pieces = 0
            print("   reply: ", end="", flush=True)
            for piece in (prompt | model | StrOutputParser()).stream({"thing": "the sky"}):
                # Leading whitespace would leave the label alone on its line.
                text = piece if pieces else piece.lstrip()
                if text:
                    pieces += 1
                    print(text, end="", flush=True)
            print(f"\n   ({pieces} pieces streamed as they arrived)")

        def structured() -> None:
            city = model.with_structured_output(City).invoke("Give me a city in France.")
            print(f"   parsed: {city!r}")

        def responses() -> None:
            instructions = "Answer in one word."
            preview = model.preview_request("hi", instructions=instructions)
            print(f"   preview (no request sent): {preview.api} ({'; '.join(preview.reasons)})")
            reply = model.invoke("What is the capital of Italy?", instructions=instructions)
            print(f"   reply: {reply.text.strip()!r}")
            meta = reply.response_metadata
            print(f"   route: {meta['api']} ({'; '.join(meta['route_reasons'])})")
            print(f"   usage: {_usage(reply.usage_metadata)}")

        steps = [
            ("1. A plain call: model.invoke(...)", plain),
            ("2. Streaming through an LCEL chain: prompt | model | StrOutputParser()", chain),
            ("3. Structured output: model.with_structured_output(City)", structured),
            ("4. The Responses API, picked by an option only it has (instructions=)", responses),
        ]
        results = [_step(title, run) for title, run in steps]
        print("Token usage for the whole demo, by model (get_usage_metadata_callback):")
        for name, usage in totals.usage_metadata.items():
            print(f"   {name}: {_usage(usage)}")
    if not all(results):
        print(f"\n{results.count(False)} of {len(results)} steps failed (see FAILED above)")
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser; ``--help`` lists every command with one line each."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_paramchat",
        description="ParamChat's command line: a demo and the README's generated parts.",
        epilog="Run 'python -m langchain_paramchat COMMAND --help' for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    sub.add_parser("demo", help="run the demo (real API, local model, or scripted server)")
    table = sub.add_parser("options-table", help="print the README's option table")
    table.add_argument("--write", action="store_true", help="update README.md in place")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return _demo()
    return _options_table(args.write)
