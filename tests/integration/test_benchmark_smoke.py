"""The benchmark still runs end to end (tiny counts, no timing assertions), so it cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("langchain_openai", reason="the benchmark compares against langchain-openai")

from benchmarks import run as bench
from benchmarks.fresh import TARGETS

_TARGETS = {"floor", "raw", "ChatOpenAI", "ParamChat", "lc-core"}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    settings = bench.Settings.quick()
    results = bench.run(settings, only={"a", "b", "c", "d", "e"})
    bench.write(results, out)
    return results, out


def test_every_scenario_measures_every_target_with_the_same_reply(
    results: tuple[dict, Path],
) -> None:
    data, _ = results
    keys = [s["key"] for s in data["scenarios"]]
    assert keys == ["a", "b", "c", "c-lcel", "d", "e-invoke", "e-stream"]
    for scenario in data["scenarios"]:
        assert scenario["errors"] == {}, scenario["key"]
        measured = {n for n, v in scenario["median_wall_s"].items() if v is not None}
        expected = {"raw", "ChatOpenAI", "ParamChat", "lc-core"}
        if scenario["key"] != "c-lcel":
            expected |= {"floor"}
        assert expected <= measured <= _TARGETS | {"ParamChat r=0"}, scenario["key"]
        assert scenario["ratios"]["ParamChat/raw"] is not None


def test_results_are_written_as_json_and_a_markdown_table(results: tuple[dict, Path]) -> None:
    data, out = results
    assert json.loads((out / "latest.json").read_text())["scenarios"] == json.loads(
        json.dumps(data["scenarios"])
    )
    table = (out / "latest.md").read_text()
    assert "| (a) invoke, one-line prompt |" in table
    assert "prompt \\| model \\| StrOutputParser()" in table
    assert "Failures:" not in table
    # The chart is drawn on every run, from the same results.
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_has_one_group_per_scenario_with_the_three_targets(
    results: tuple[dict, Path],
) -> None:
    from benchmarks.chart import chart_rows

    data, _ = results
    rows = chart_rows(data)
    assert [title.split("\n")[0] for title, _ in rows] == [
        f"({s['key']})" for s in data["scenarios"]
    ]
    assert all(set(times) == {"raw", "ChatOpenAI", "ParamChat"} for _, times in rows)


def test_committed_chart_is_drawn_from_the_committed_results_and_linked_from_the_readme(
    tmp_path: Path,
) -> None:
    from benchmarks.chart import main as chart

    root = Path(bench.__file__).resolve().parents[1]
    committed = root / "benchmarks" / "results" / "latest.png"
    assert committed.read_bytes()[:4] == b"\x89PNG"
    assert "](benchmarks/results/latest.png)" in (root / "README.md").read_text()
    redrawn = chart([str(root / "benchmarks" / "results" / "latest.json"), str(tmp_path / "c.png")])
    assert redrawn.stat().st_size > 10_000


def test_fresh_process_reports_its_own_peak_rss() -> None:
    # The child is started through sh, so its peak RSS is its own, not this test process's.
    fresh = bench._fresh("http://127.0.0.1:9/v1", reps=1, names=["python"])
    python = fresh["medians"]["python"]
    assert python["peak_rss_mib"] < 100
    assert set(TARGETS) >= {"python", "floor", "raw", "ChatOpenAI", "ParamChat"}


def test_readme_section_is_replaced_in_place(tmp_path: Path, results: tuple[dict, Path]) -> None:
    data, _ = results
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Options\n\ntext\n\n## Testing your own chains offline\n\nmore\n")
    bench.update_readme(data, readme)
    once = readme.read_text()
    assert once.index("## Options") < once.index("## Performance") < once.index("## Testing your")
    assert "![ParamChat vs ChatOpenAI" in once
    assert bench.summary(data) in once
    bench.update_readme(data, readme)
    assert readme.read_text() == once


def test_profile_stages_run() -> None:
    from benchmarks.profile import stage_tables

    text = stage_tables(["a", "c"], quick=True, reps=1)
    assert "| total: ParamChat.invoke |" in text
    assert "| total: ParamChat.stream |" in text
