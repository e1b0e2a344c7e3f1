"""Bulk-job and pacing benchmarks: batch files written and parsed, abatch at a rate limit.

    python -m benchmarks.bulk                 # everything (about a minute on 2 cores)
    python -m benchmarks.bulk --only files    # batch writing and parsing only
    python -m benchmarks.bulk --only pacer    # the rate-limit scenario only
    python -m benchmarks.bulk --quick         # tiny counts, a few seconds

Goals (issue 12): preparing and writing a 50,000-line batch at >= 20,000 lines/s with peak
memory that does not grow with the line count; parsing a 50,000-line output file at
>= 20,000 lines/s; 2,000 calls through ``abatch(max_concurrency=200)`` against a limit of 100
requests/s with zero failed calls, <= 5 % of requests answered 429 and >= 85 % of the limit
as throughput, next to the same run without the pacer. Rates are given per wall-clock
second and per CPU second of this process (which a busy machine distorts far less).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/bulk.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = ["bench_pacer", "bench_parse", "bench_write", "main"]

RESULTS = Path(__file__).resolve().parent / "results"


def _inputs(count: int) -> Iterator[str]:
    return (f"Summarize document {i} of the archive in one line." for i in range(count))


def _model(**kwargs: Any) -> Any:
    from langchain_paramchat import ParamChat

    kwargs.setdefault("api_key", "sk-bench")
    kwargs.setdefault("model", "gpt-4o-mini")
    return ParamChat(**kwargs)


def bench_write(lines: int) -> dict[str, Any]:
    """Prepare and write ``lines`` inputs; return rates and peak traced memory."""
    from langchain_paramchat.batch.lines import write_lines

    model = _model()
    write_lines(model, _inputs(200), {"temperature": 0}, tempfile.mkdtemp())  # warm caches
    with tempfile.TemporaryDirectory() as directory:
        wall, cpu = time.perf_counter(), time.process_time()
        written = write_lines(model, _inputs(lines), {"temperature": 0}, directory)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = sum(f.size for f in written.files)
    peaks = {}
    for count in (lines // 10, lines):
        with tempfile.TemporaryDirectory() as directory:
            tracemalloc.start()
            write_lines(model, _inputs(count), {"temperature": 0}, directory)
            peaks[count] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return {
        "lines": lines,
        "megabytes": round(size / 1e6, 1),
        "lines_per_s": round(lines / wall),
        "lines_per_cpu_s": round(lines / cpu),
        "peak_kib": {str(k): round(v / 1024) for k, v in peaks.items()},
    }


def _output_file(lines: int) -> bytes:
    from langchain_paramchat.testing.chat_render import chat_completion
    from langchain_paramchat.testing.script import Reply, Usage

    body = chat_completion(
        Reply(text="A one-line summary of the document.", usage=Usage(30, 9)),
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
    )
    out = []
    for i in range(lines):
        body = {**body, "id": f"chatcmpl-{i:08d}"}
        response = {"status_code": 200, "request_id": f"req_{i:08d}", "body": body}
        line = {"id": f"batch_req_{i}", "custom_id": str(i), "response": response, "error": None}
        out.append(json.dumps(line))
    return ("\n".join(out) + "\n").encode()


def bench_parse(lines: int) -> dict[str, Any]:
    """Parse a ``lines``-line output file into messages; return rates."""
    from langchain_paramchat.batch.results import Outcome, ReplyReader, read_line
    from langchain_paramchat.batch.submit import unwrap

    def read(text: str, reader: ReplyReader, entries: list[Any]) -> None:
        # As a job reads a file: text lines, each applied to the input it names.
        outcome = Outcome()
        for number, line in enumerate(text.splitlines(), start=1):
            read_line(line, f"line {number}", reader, None, entries, outcome)

    data = _output_file(lines)
    model, _, _ = unwrap(_model())
    reasons = [["no option needs the Responses API; Chat Completions is the default"]]
    warm = b"\n".join(data.splitlines()[: max(lines // 100, 1)]).decode()
    read(warm, ReplyReader(model, "chat_completions", reasons, None), [None] * lines)
    entries: list[Any] = [None] * lines
    reader = ReplyReader(model, "chat_completions", reasons, None)
    wall, cpu = time.perf_counter(), time.process_time()
    read(data.decode(), reader, entries)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(e is not None and e.text for e in entries)
    return {
        "lines": lines,
        "megabytes": round(len(data) / 1e6, 1),
        "lines_per_s": round(lines / wall),
        "lines_per_cpu_s": round(lines / cpu),
    }


def bench_pacer(calls: int, limit: int, concurrency: int) -> dict[str, Any]:
    """Run ``calls`` through ``abatch`` against ``limit`` requests/s, with and without pacing."""
    from langchain_paramchat.testing import FakeOpenAI
    from langchain_paramchat.testing.ratelimit import RateLimit

    out: dict[str, Any] = {"calls": calls, "limit_per_s": limit, "max_concurrency": concurrency}
    for paced in (True, False):
        with FakeOpenAI() as server:
            server.rate_limit = RateLimit(requests=limit, period=1.0)
            # A fresh key per run: pacers are shared per key and URL within a process.
            model = _model(
                base_url=server.base_url, api_key=f"sk-bench-{paced}", pace=paced, max_retries=2
            )
            inputs = [f"q{i}" for i in range(calls)]
            wall = time.perf_counter()
            results = asyncio.run(
                model.abatch(
                    inputs, config={"max_concurrency": concurrency}, return_exceptions=True
                )
            )
            wall = time.perf_counter() - wall
            failed = sum(isinstance(r, BaseException) for r in results)
            limited = server.rate_limit.rejected
            sent = server.rate_limit.admitted + limited
            out["paced" if paced else "unpaced"] = {
                "seconds": round(wall, 1),
                "failed_calls": failed,
                "answered_429": limited,
                "share_429_pct": round(100 * limited / sent, 1) if sent else 0.0,
                "throughput_pct_of_limit": round(100 * (calls - failed) / wall / limit, 1),
            }
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the chosen benchmarks, print JSON and write ``results/bulk.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("files", "pacer"))
    parser.add_argument("--quick", action="store_true", help="tiny counts, a few seconds")
    args = parser.parse_args(argv)
    lines = 2_000 if args.quick else 50_000
    report: dict[str, Any] = {}
    if args.only in (None, "files"):
        report["write"] = bench_write(lines)
        report["parse"] = bench_parse(lines)
    if args.only in (None, "pacer"):
        import logging

        # Each 429 retry logs a warning; thousands of them would bury the figures.
        logging.getLogger("langchain_paramchat").setLevel(logging.ERROR)
        calls, limit = (200, 100) if args.quick else (2_000, 100)
        report["pacer"] = bench_pacer(calls, limit, 200)
    text = json.dumps(report, indent=2)
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        target = RESULTS / "bulk.json"
        old = json.loads(target.read_text()) if target.exists() else {}
        target.write_text(json.dumps({**old, **report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
