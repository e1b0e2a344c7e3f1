"""Draw the benchmark results as a bar chart: ParamChat vs ChatOpenAI vs the raw SDK.

    python -m benchmarks.chart                   # benchmarks/results/latest.json → latest.png
    python -m benchmarks.chart results.json out.png

``python -m benchmarks.run`` calls :func:`write_chart` after every run, so the PNG in
``benchmarks/results/`` always matches ``latest.json``. Bars are each target's median time
relative to the raw ``openai`` SDK (1.0), so scenarios measured in milliseconds and in
microseconds share one axis; each bar is labelled with its absolute time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CHART_NAME = "latest.png"
# Drawn left to right in each group; colours stay fixed so the chart reads the same each run.
SERIES = (
    ("raw", "raw openai SDK", "#9e9e9e"),
    ("ChatOpenAI", "langchain-openai ChatOpenAI", "#e07b39"),
    ("ParamChat", "ParamChat", "#2f6db5"),
)

__all__ = ["CHART_NAME", "chart_rows", "main", "write_chart"]


def _time_label(seconds: float) -> str:
    us = seconds * 1e6
    if us >= 1000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.0f} µs" if us >= 100 else f"{us:.1f} µs"


def chart_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """Return ``(scenario label, {target: median seconds})`` for each scenario with a raw time.

    Raises ``ValueError`` when no scenario has a raw-SDK time to compare against.
    """
    rows = []
    for scenario in results["scenarios"]:
        medians = scenario["median_wall_s"]
        times = {
            key: medians[key]
            for key, _, _ in SERIES
            if medians.get(key) is not None and key not in scenario["errors"]
        }
        if "raw" in times:
            rows.append((f"({scenario['key']})\n{_short_title(scenario)}", times))
    if not rows:
        raise ValueError("the results have no scenario with a raw-SDK time to chart")
    return rows


def _short_title(scenario: dict[str, Any]) -> str:
    title = str(scenario["title"])
    title = title.split(" (raw:")[0].replace("Responses API: ", "Responses ")
    words, lines, line = title.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 20:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def write_chart(results: dict[str, Any], path: Path) -> Path:
    """Draw ``results`` (the dict ``benchmarks.run`` writes as JSON) as a PNG at ``path``.

    Raises ``ImportError`` naming the extra when matplotlib is not installed, and
    ``ValueError`` when the results hold nothing to chart.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "the benchmark chart needs matplotlib: pip install -e '.[bench]'"
        ) from exc
    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    rows = chart_rows(results)
    width = 0.27
    fig, ax = plt.subplots(figsize=(max(8.0, 1.45 * len(rows) + 1.5), 5.2), dpi=110)
    for index, (key, label, colour) in enumerate(SERIES):
        xs, heights, texts = [], [], []
        for position, (_, times) in enumerate(rows):
            if key in times:
                xs.append(position + (index - 1) * width)
                heights.append(times[key] / times["raw"])
                texts.append(_time_label(times[key]))
        bars = ax.bar(xs, heights, width, label=label, color=colour)
        ax.bar_label(bars, texts, fontsize=6.5, padding=2, rotation=90)
    ax.axhline(1.0, color="#555555", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(rows)), [title for title, _ in rows], fontsize=8)
    ax.set_ylabel("median time relative to the raw openai SDK (lower is faster)")
    top = max(t[k] / t["raw"] for _, t in rows for k in t)
    ax.set_ylim(0, top * 1.35)
    ax.spines[["top", "right"]].set_visible(False)
    machine = results.get("machine", {})
    ax.set_title(
        "Median time per call (per chunk for streams) against a local server "
        f"(run {results.get('date', '?')}, {machine.get('cores', '?')} cores)",
        fontsize=10,
    )
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    # No timestamp in the file: the same results give the same bytes.
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> Path:
    """Draw ``latest.json`` (or the given JSON file) to ``latest.png`` (or the given path)."""
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else RESULTS / "latest.json"
    target = Path(args[1]) if len(args) > 1 else source.with_name(CHART_NAME)
    written = write_chart(json.loads(source.read_text()), target)
    print(f"wrote {written}")
    return written


if __name__ == "__main__":
    main()
