"""The bulk benchmark still runs end to end (tiny counts, no timing assertions)."""

from __future__ import annotations

import logging

from benchmarks.bulk import bench_pacer, bench_parse, bench_write


def test_writing_and_parsing_a_small_batch_report_rates_and_flat_memory() -> None:
    written = bench_write(1_000)
    assert written["lines"] == 1_000 and written["lines_per_cpu_s"] > 0
    assert set(written["peak_kib"]) == {"100", "1000"}
    parsed = bench_parse(1_000)
    assert parsed["lines"] == 1_000 and parsed["lines_per_cpu_s"] > 0


def test_the_pacer_scenario_runs_with_and_without_pacing() -> None:
    logger = logging.getLogger("langchain_paramchat")
    level = logger.level
    report = bench_pacer(calls=60, limit=50, concurrency=30)
    assert logger.level == level  # later tests read the package's logs
    assert report["paced"]["failed_calls"] == 0
    # How many 429s the unpaced run draws depends on the machine's speed: only its shape here.
    assert set(report["unpaced"]) == set(report["paced"])
