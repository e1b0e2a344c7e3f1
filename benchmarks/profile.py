"""Split ParamChat's per-call cost into stages, and profile its per-call path.

    python -m benchmarks.profile                 # stage table for every scenario
    python -m benchmarks.profile --cprofile a,b  # plus cProfile's top functions per scenario
                                                 # (lc-a, lc-c: langchain-core's own invoke/stream)
    python -m benchmarks.profile --quick         # tiny counts (the smoke test runs this)

Each stage is one piece of the path timed alone, in this process's CPU time (a busy machine
distorts it far less than wall time), interleaved with the other stages of its scenario and
reported as the median over repetitions. ``total`` is ParamChat's whole call; ``lc-core`` is
langchain-core's own cost for the same call (an I/O-free model); ``floor`` is httpx2 with a
pre-serialized body. Stages reach into ParamChat's internals (``_prepare``, ``transport``):
a stage whose internals moved is reported as unavailable instead of failing the run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/profile.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk

from benchmarks import workloads
from benchmarks.run import RESULTS, _start_server
from benchmarks.server import MODEL
from benchmarks.targets import _HEADERS, _LIMITS, Targets, run_concurrently

__all__ = ["Stage", "main", "stage_tables"]


@dataclass
class Stage:
    """One timed piece: ``fn`` is called ``calls`` times per sample, each doing ``per_call`` units.

    A unit is one call, or one chunk for stream stages (``per_call`` = chunks per stream), or
    one ``ainvoke`` for async stages (``per_call`` = calls in one concurrent wave).
    """

    name: str
    fn: Callable[[], Any] | None
    calls: int = 1
    per_call: int = 1
    is_async: bool = False
    cpu: list[float] = field(default_factory=list)
    error: str | None = None


def _attempt(build: Callable[[], Callable[[], Any]]) -> Callable[[], Any] | None:
    """Return ``build()``, or None when ParamChat's internals no longer fit it."""
    try:
        return build()
    except (AttributeError, ImportError, TypeError):
        return None


def _sdk_direct(model: Any, path: str) -> Callable[[dict[str, Any]], Any]:
    """Return a sender that posts through the SDK's own httpx2 client with headers built once.

    This is what ParamChat would cost if it skipped the SDK's per-request machinery
    (request options model, header merging, URL building, auth wrapper) but kept its client.
    """
    from openai._utils._json import openapi_dumps

    client = model.transport.client
    headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
    headers["authorization"] = _HEADERS["authorization"]
    url = str(client.base_url).rstrip("/") + path
    http = client._client

    def send(payload: dict[str, Any]) -> Any:
        return json.loads(http.post(url, content=openapi_dumps(payload), headers=headers).content)

    return send


def _scenario_stages(t: Targets, key: str, chunks: int, quick: bool) -> list[Stage]:
    from langchain_paramchat.apis.chat_completions import ADAPTER as cc
    from langchain_paramchat.apis.chat_completions import request as cc_request

    one: list[BaseMessage] = [HumanMessage(workloads.PROMPT)]
    prompt = workloads.PROMPT
    pc, pc0, fake = t.paramchat(), t.paramchat(max_retries=0), t.fake()
    sdk = pc.transport.client
    if key == "a":
        payload = pc._prepare(one, None, {}, stream=False).payload
        body = pc.transport.post_json(cc.path, payload)
        direct = _attempt(lambda: _sdk_direct(pc, cc.path))
        raw_body = json.dumps(payload).encode()
        calls = 5 if quick else 60
        small = 20 if quick else 2000
        return [
            Stage("total: ParamChat.invoke", lambda: pc.invoke(prompt), calls),
            Stage("total: ParamChat.invoke, max_retries=0", lambda: pc0.invoke(prompt), calls),
            Stage("lc-core: I/O-free model .invoke", lambda: fake.invoke(prompt), calls),
            Stage("ref: raw SDK create()", t.invoke()["raw"], calls),
            Stage(
                "floor: httpx2, pre-serialized body",
                lambda: json.loads(
                    t._http.post("/chat/completions", content=raw_body, headers=_HEADERS).content
                ),
                calls,
            ),
            Stage(
                "transport.post_json (retry + SDK post + json)",
                _attempt(lambda: lambda: pc.transport.post_json(cc.path, payload)),
                calls,
            ),
            Stage(
                "SDK generic post(cast_to=httpx2.Response) + json",
                lambda: json.loads(
                    sdk.post(cc.path, body=payload, cast_to=httpx2.Response).content
                ),
                calls,
            ),
            Stage(
                "SDK's httpx2 client, headers built once + json",
                direct and (lambda: direct(payload)),
                calls,
            ),
            Stage(
                "RetryPolicy.call(no-op), retries on",
                _attempt(lambda: lambda: pc.transport._policy.call(lambda: None)),
                small,
            ),
            Stage(
                "_prepare (options, route, payload)",
                _attempt(lambda: lambda: pc._prepare(one, None, {}, stream=False)),
                small,
            ),
            Stage("parse_response", lambda: cc.parse_reply(body), small),
            Stage(
                "_convert_input (str -> messages)",
                lambda: pc._convert_input(prompt).to_messages(),
                small,
            ),
        ]
    if key == "b":
        from openai._utils._json import openapi_dumps

        bound = pc.bind_tools(list(workloads.TOOLS))
        kwargs = bound.kwargs  # type: ignore[attr-defined]
        history = t.history
        payload = pc._prepare(history, None, kwargs, stream=False).payload
        direct = _attempt(lambda: _sdk_direct(pc, cc.path))
        calls = 1 if quick else 10
        return [
            Stage("total: ParamChat(tools bound).invoke", lambda: bound.invoke(history), calls),
            Stage("lc-core: I/O-free model .invoke", lambda: fake.invoke(history), calls),
            Stage(
                "_prepare (200 messages, 3 tools)",
                _attempt(lambda: lambda: pc._prepare(history, None, kwargs, stream=False)),
                calls,
            ),
            Stage(
                "convert_messages",
                lambda: cc_request.convert_messages(history, model=MODEL),
                calls,
            ),
            Stage(
                "unsupported_inputs (second walk of the history)",
                lambda: cc.unsupported_inputs(history),
                calls,
            ),
            Stage(
                "render_tool x3 (rendered per call)",
                _attempt(lambda: lambda: [cc_request.render_tool(x) for x in kwargs["tools"]]),
                calls * 10,
            ),
            Stage(
                "openapi_dumps(payload) (the SDK's body encoding)",
                lambda: openapi_dumps(payload),
                calls,
            ),
            Stage(
                "SDK generic post of the payload + json",
                lambda: json.loads(
                    sdk.post(cc.path, body=payload, cast_to=httpx2.Response).content
                ),
                calls,
            ),
            Stage(
                "SDK's httpx2 client, headers built once + json",
                direct and (lambda: direct(payload)),
                calls,
            ),
        ]
    if key in ("c", "e-stream"):
        responses = key == "e-stream"
        model = t.paramchat(api="responses") if responses else pc
        adapter = _adapter(responses)
        payload = model._prepare(one, None, {}, stream=True).payload
        events = list(model.transport.stream_events(adapter.path, payload))
        ops = t.responses_stream() if responses else t.stream()

        def parse_only() -> None:
            parser = adapter.stream_parser()
            for name, data in events:
                parser.feed(name, data)

        def transport_only() -> None:
            for _ in model.transport.stream_events(adapter.path, payload):
                pass

        def chunks_only() -> None:
            for _ in range(chunks):
                ChatGenerationChunk(message=AIMessageChunk(content="tok "))

        return [
            Stage("total: ParamChat.stream", lambda: list(model.stream(prompt)), 1, chunks),
            Stage(
                "ParamChat._stream (without langchain-core)",
                lambda: list(model._stream(one)),
                1,
                chunks,
            ),
            Stage("lc-core: I/O-free model .stream", lambda: list(fake.stream(prompt)), 1, chunks),
            Stage("ref: raw SDK stream", ops["raw"], 1, chunks),
            Stage("floor: httpx2 + minimal SSE loop", ops["floor"], 1, chunks),
            Stage(
                "transport.stream_events (SSE + json)", _attempt(lambda: transport_only), 1, chunks
            ),
            Stage("StreamParser.feed (includes chunk objects)", parse_only, 1, chunks),
            Stage("AIMessageChunk + ChatGenerationChunk alone", chunks_only, 1, chunks),
        ]
    if key == "d":
        return _async_stages(t, pc, pc0, fake, quick)
    if key == "e-invoke":
        from langchain_paramchat.apis.responses import ADAPTER as rs

        model = t.paramchat(api="responses")
        payload = model._prepare(one, None, {}, stream=False).payload
        body = model.transport.post_json(rs.path, payload)
        direct = _attempt(lambda: _sdk_direct(model, rs.path))
        calls = 5 if quick else 60
        return [
            Stage("total: ParamChat(api='responses').invoke", lambda: model.invoke(prompt), calls),
            Stage("lc-core: I/O-free model .invoke", lambda: fake.invoke(prompt), calls),
            Stage("ref: raw SDK responses.create()", t.responses_invoke()["raw"], calls),
            Stage("floor: httpx2, pre-serialized body", t.responses_invoke()["floor"], calls),
            Stage(
                "transport.post_json",
                _attempt(lambda: lambda: model.transport.post_json(rs.path, payload)),
                calls,
            ),
            Stage(
                "SDK's httpx2 client, headers built once + json",
                direct and (lambda: direct(payload)),
                calls,
            ),
            Stage(
                "_prepare",
                _attempt(lambda: lambda: model._prepare(one, None, {}, stream=False)),
                calls * 10,
            ),
            Stage("parse_response", lambda: rs.parse_reply(body), calls * 10),
        ]
    raise ValueError(f"unknown scenario {key!r}")


def _adapter(responses: bool) -> Any:
    from langchain_paramchat.apis.adapter import adapter_for

    return adapter_for("responses" if responses else "chat_completions")


def _async_stages(t: Targets, pc: Any, pc0: Any, fake: Any, quick: bool) -> list[Stage]:
    from langchain_paramchat.apis.chat_completions import ADAPTER as cc

    calls, limit = (20, 5) if quick else (200, 50)
    prompt = workloads.PROMPT
    one: list[BaseMessage] = [HumanMessage(prompt)]
    payload = pc._prepare(one, None, {}, stream=False).payload
    raw_body = json.dumps(payload).encode()
    state: dict[str, Any] = {}

    def many(op: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        return lambda: run_concurrently(op, calls, limit)

    async def floor() -> Any:
        if "http" not in state:
            state["http"] = httpx2.AsyncClient(base_url=t.base_url, timeout=60.0, limits=_LIMITS)
        http = state["http"]
        reply = await http.post("/chat/completions", content=raw_body, headers=_HEADERS)
        return json.loads(reply.content)

    async def sdk_post() -> Any:
        reply = await pc.transport.async_client.post(cc.path, body=payload, cast_to=httpx2.Response)
        return json.loads(reply.content)

    async def noop() -> None:
        return None

    async def retry_only() -> None:
        for _ in range(calls):
            await pc.transport._policy.acall(noop)

    return [
        Stage("total: ParamChat.ainvoke", many(lambda: pc.ainvoke(prompt)), 1, calls, True),
        Stage(
            "total: ParamChat.ainvoke, max_retries=0",
            many(lambda: pc0.ainvoke(prompt)),
            1,
            calls,
            True,
        ),
        Stage(
            "lc-core: I/O-free model .ainvoke", many(lambda: fake.ainvoke(prompt)), 1, calls, True
        ),
        Stage("floor: httpx2.AsyncClient", many(floor), 1, calls, True),
        Stage(
            "transport.apost_json",
            many(lambda: pc.transport.apost_json(cc.path, payload)),
            1,
            calls,
            True,
        ),
        Stage("SDK generic async post + json", many(sdk_post), 1, calls, True),
        Stage("RetryPolicy.acall(no-op), retries on", retry_only, 1, calls, True),
    ]


def _measure(stages: list[Stage], reps: int) -> None:
    live = []
    for stage in stages:
        if stage.fn is None:
            stage.error = "unavailable (ParamChat internals changed)"
            continue
        try:
            _call(stage)
        except Exception as exc:
            stage.error = f"{type(exc).__name__}: {exc}"[:160]
            continue
        live.append(stage)
    gc.collect()
    gc.freeze()
    for _ in range(reps):
        for stage in live:
            start = time.process_time()
            for _ in range(stage.calls):
                _call(stage)
            stage.cpu.append((time.process_time() - start) / (stage.calls * stage.per_call))


def _call(stage: Stage) -> None:
    assert stage.fn is not None
    if stage.is_async:
        _loop().run_until_complete(stage.fn())
    else:
        stage.fn()


_LOOP: list[asyncio.AbstractEventLoop] = []


def _loop() -> asyncio.AbstractEventLoop:
    if not _LOOP:
        _LOOP.append(asyncio.new_event_loop())
    return _LOOP[0]


def _table(key: str, stages: list[Stage], unit: str) -> str:
    total = next((s for s in stages if s.name.startswith("total") and s.cpu), None)
    total_us = statistics.median(total.cpu) * 1e6 if total else None
    lines = [
        f"### ({key}) µs of CPU per {unit}",
        "",
        f"| stage | µs per {unit} | share of ParamChat's total |",
        "|---|---:|---:|",
    ]
    for stage in stages:
        if stage.error:
            lines.append(f"| {stage.name} | {stage.error} | |")
            continue
        us = statistics.median(stage.cpu) * 1e6
        share = f"{us / total_us:.0%}" if total_us else ""
        lines.append(f"| {stage.name} | {us:,.1f} | {share} |")
    return "\n".join(lines) + "\n"


def stage_tables(keys: list[str], *, quick: bool = False, reps: int | None = None) -> str:
    """Return the markdown stage tables for the scenario ``keys`` (a, b, c, d, e-invoke, ...)."""
    chunks = 20 if quick else 2000
    proc, base_url = _start_server(chunks, deadline=600.0)
    try:
        targets = Targets(base_url, chunks=chunks)
        out = []
        for key in keys:
            stages = (
                _loop().run_until_complete(_build_async(targets, key, chunks, quick))
                if key == "d"
                else _scenario_stages(targets, key, chunks, quick)
            )
            _measure(stages, reps or (2 if quick else 7))
            unit = "chunk" if key in ("c", "e-stream") else "call"
            out.append(_table(key, stages, unit))
        targets.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return "\n".join(out)


async def _build_async(targets: Targets, key: str, chunks: int, quick: bool) -> list[Stage]:
    # Async clients bind to the loop they are created in: build inside the stage loop.
    return _scenario_stages(targets, key, chunks, quick)


def profile_scenario(key: str, *, quick: bool = False, top: int = 25) -> str:
    """Return cProfile's top functions (by own time) for ParamChat's operation in ``key``."""
    chunks = 20 if quick else 2000
    proc, base_url = _start_server(chunks, deadline=600.0)
    try:
        t = Targets(base_url, chunks=chunks)
        ops: dict[str, Callable[[], Any]] = {
            "a": t.invoke()["ParamChat"],
            "b": t.history_invoke()["ParamChat"],
            "c": t.stream()["ParamChat"],
            "c-lcel": t.lcel_stream()["ParamChat"],
            "e-invoke": t.responses_invoke()["ParamChat"],
            "e-stream": t.responses_stream()["ParamChat"],
            # langchain-core's own machinery: the I/O-free model, invoke and stream.
            "lc-a": t.invoke()["lc-core"],
            "lc-c": t.stream()["lc-core"],
        }
        op = ops[key]
        count = {"a": 200, "b": 10, "e-invoke": 200, "lc-a": 500}.get(key, 2)
        if quick:
            count = 2
        op()
        gc.collect()
        gc.freeze()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            op()
        profiler.disable()
        t.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    body = text.getvalue()
    body = body[body.find("   ncalls") :] if "   ncalls" in body else body
    for prefix in sorted(_path_prefixes(), key=len, reverse=True):
        body = body.replace(prefix, "")
    who = "lc-core" if key.startswith("lc-") else "ParamChat"
    return f"### ({key}) cProfile, {count} {who} calls, top {top} by own time\n\n```\n{body}```\n"


def _path_prefixes() -> set[str]:
    """Return the directory prefixes to strip from profile lines (site-packages, stdlib, repo)."""
    import site
    import sysconfig

    prefixes = {
        sysconfig.get_paths()["stdlib"] + "/",
        str(Path(__file__).resolve().parents[1]) + "/",
    }
    prefixes.update(p + "/" for p in site.getsitepackages())
    return prefixes


def main(argv: list[str] | None = None) -> str:
    """Parse arguments, print (and optionally write) the stage tables and profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny counts")
    parser.add_argument("--only", default="a,b,c,d,e-invoke,e-stream", help="scenario keys")
    parser.add_argument("--reps", type=int, help="repetitions per stage")
    parser.add_argument("--cprofile", default="", help="scenario keys to run under cProfile")
    parser.add_argument("--out", type=Path, help=f"write markdown here (e.g. {RESULTS}/profile.md)")
    args = parser.parse_args(argv)
    keys = [k for k in args.only.split(",") if k]
    text = stage_tables(keys, quick=args.quick, reps=args.reps)
    for key in [k for k in args.cprofile.split(",") if k]:
        text += "\n" + profile_scenario(key, quick=args.quick)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
