"""The first model download says how far it is and how fast it goes (langchain_paramchat.local)."""

from __future__ import annotations

import io
from pathlib import Path

from langchain_paramchat.local import download


def test_terminal_gets_one_bar_redrawn_in_place_with_bytes_and_rate() -> None:
    out = io.StringIO()
    report = download._Progress(True, out, live=True)
    report.transfer("downloading", 0, 92_871_040, 0.0)
    report.transfer("downloading", 46_435_520, 92_871_040, 5.0)
    report.end_update()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    last = text.rsplit("\r", 1)[1]
    assert "downloading [############------------] 46.4 of 92.9 MB at 9.3 MB/s" in last


def test_elsewhere_a_plain_line_every_few_seconds_with_percent_and_rate() -> None:
    out = io.StringIO()
    report = download._Progress(True, out, live=False, every=5.0)
    for second in range(12):
        report.transfer("downloading", second * 1_000_000, 9_000_000, float(second))
    lines = out.getvalue().splitlines()
    assert lines == [
        "langchain-paramchat: downloading 5.0 of 9.0 MB (56%) at 1.0 MB/s",
        "langchain-paramchat: downloading 10.0 MB at 1.0 MB/s",  # more than the expected size
    ]
    assert "\r" not in out.getvalue()


def test_disabled_progress_writes_nothing() -> None:
    out = io.StringIO()
    report = download._Progress(False, out, live=True)
    report.line("x")
    report.transfer("downloading", 1, 2, 1.0)
    report.end_update()
    assert out.getvalue() == ""


def test_a_line_after_a_bar_starts_on_its_own_line() -> None:
    out = io.StringIO()
    report = download._Progress(True, out, live=True)
    report.transfer("extracting", 10, 100, 1.0)
    report.line("model ready")
    assert out.getvalue().endswith("MB/s\x1b[K\nlangchain-paramchat: model ready\n")


def test_downloaded_bytes_are_counted_under_pips_temporary_directory(tmp_path: Path) -> None:
    (tmp_path / "pip-unpack-x").mkdir()
    (tmp_path / "pip-unpack-x" / "model.whl").write_bytes(b"\0" * 1500)
    (tmp_path / "log.txt").write_bytes(b"\0" * 20)
    assert download._bytes_under(tmp_path) == 1520
    assert download._bytes_under(tmp_path / "missing") == 0
