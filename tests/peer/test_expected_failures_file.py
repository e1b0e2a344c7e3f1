"""The peer run's lists are well formed, and its comparison fails both ways it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peer import run


@pytest.mark.parametrize("path", [run.EXPECTED, run.UPSTREAM_FAILURES], ids=lambda p: p.name)
def test_every_line_is_an_upstream_test_id_with_a_comment(path: Path) -> None:
    entries = run.read_list(path)
    assert entries, f"{path.name} lists nothing"
    for test_id in entries:
        assert test_id.startswith("tests/unit_tests/"), test_id
        assert ".py::test" in test_id or ".py::Test" in test_id, test_id


def test_every_expected_failure_has_a_reason_from_the_fixed_list() -> None:
    for test_id, why in run.read_list(run.EXPECTED).items():
        assert run.reason_of(why) in run.REASONS, test_id
        assert len(why) > len("(a) "), f"{test_id}: a reason letter with no explanation"


def test_no_test_is_both_expected_to_fail_and_left_out() -> None:
    assert not set(run.read_list(run.EXPECTED)) & set(run.read_list(run.UPSTREAM_FAILURES))


def test_an_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="starts with none of"):
        run.reason_of("(z) because")


def test_comparison_flags_unlisted_failures_listed_passes_and_vanished_tests() -> None:
    outcome = run.Outcome(passed={"t::listed_passes", "t::ok"}, failed={"t::new"}, errors={})
    expected = {"t::listed_passes": "(a) x", "t::gone": "(b) y"}
    problems = run.compare(outcome, expected)
    assert problems == [
        "FAILS but is not listed: t::new",
        "PASSES but is listed as failing ((a) x): t::listed_passes",
        "listed but did not run: t::gone",
    ]
    assert run.compare(run.Outcome({"t::ok"}, {"t::f"}, {}), {"t::f": "(a) x"}) == []


def test_parameters_named_after_the_class_keep_their_upstream_id() -> None:
    assert run.upstream_id("a.py::test_x[ParamChat]") == "a.py::test_x[ChatOpenAI]"
    assert run.upstream_id("a.py::test_ParamChat[x]") == "a.py::test_ParamChat[x]"
