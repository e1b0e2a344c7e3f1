"""Run langchain-openai's own unit tests with ``ParamChat`` swapped in for ``ChatOpenAI``.

Usage (from the repository root)::

    python tests/peer/run.py              # the peer run CI does: compare with the list
    python tests/peer/run.py --baseline   # the same tests on the real ChatOpenAI
    python tests/peer/run.py --open       # print every failing test as a list line

Downloads the sdist of one pinned langchain-openai release from PyPI (``pip download``;
the only network use, cached in ``$PARAMCHAT_PEER_CACHE`` or ``~/.cache/paramchat-peer``),
runs its chat-model unit tests plus the four other unit-test files that use ``ChatOpenAI``
with ``tests/peer/paramchat_swap.py`` loaded (``ChatOpenAI`` *is* ``ParamChat`` there), and compares
the outcome with ``tests/peer/expected_failures.txt``. A listed test that passes, or an
unlisted test that fails, fails the run (exit status 1). Tests that fail on the real
ChatOpenAI in the same offline run (``chatopenai_failures.txt``) are left out of both.

The upstream tests run as published: sockets are disabled (``--disable-socket``, as
upstream's own Makefile runs them), so nothing reaches the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VERSION = "1.8.1"
# The sdist's SHA-256 as PyPI publishes it: a changed download fails instead of running.
SHA256 = "d046911c1cd88e36005090ae47dbd5883deb2991657376ee9c1a9f69fa1f0bac"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPECTED = HERE / "expected_failures.txt"
UPSTREAM_FAILURES = HERE / "chatopenai_failures.txt"

# The selection: langchain-openai's chat-model unit tests and the other unit-test files
# that construct ChatOpenAI. (middleware/test_model_router.py only names ChatOpenAI in
# an isinstance check of langchain's router; test_token_counts.py needs tiktoken's
# encodings from the network and fails offline on ChatOpenAI itself.)
SELECTED = (
    "tests/unit_tests/chat_models",
    "tests/unit_tests/test_secrets.py",
    "tests/unit_tests/test_load.py",
    "tests/unit_tests/test_tools.py",
    "tests/unit_tests/test_imports.py",
)
# Everything pytest needs to import the selection (its conftests and package markers).
_SUPPORT = (
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/unit_tests/__init__.py",
    "tests/unit_tests/conftest.py",
)

# The fixed list of reasons a test may be expected to fail for.
REASONS = {
    "a": "reaches a private langchain-openai helper with no ParamChat equivalent",
    "b": 'a deliberate difference the README\'s "Coming from ChatOpenAI" section states',
    "c": "open: not fixed yet (temporary; must reach zero)",
}


def cache_dir() -> Path:
    """Return the download cache, created if needed."""
    path = Path(os.environ.get("PARAMCHAT_PEER_CACHE", Path.home() / ".cache" / "paramchat-peer"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sdist() -> Path:
    """Return the cached langchain-openai sdist, downloading it from PyPI once."""
    name = f"langchain_openai-{VERSION}.tar.gz"
    path = cache_dir() / name
    if not path.exists():
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    f"langchain-openai=={VERSION}",
                    "-d",
                    tmp,
                ],
                check=True,
            )
            digest = hashlib.sha256(Path(tmp, name).read_bytes()).hexdigest()
            if digest != SHA256:
                raise SystemExit(f"{name}: SHA-256 {digest}, expected {SHA256}")
            Path(tmp, name).rename(path)
    return path


def extracted() -> Path:
    """Return the directory holding the selected upstream test files, extracting once."""
    top = f"langchain_openai-{VERSION}"
    target = cache_dir() / f"tests-{VERSION}"
    if (target / top / SELECTED[0]).is_dir():
        return target / top
    wanted = tuple(f"{top}/{p}" for p in SELECTED + _SUPPORT)
    with tarfile.open(sdist()) as tar:
        members = [
            m
            for m in tar.getmembers()
            if (m.isfile() or m.isdir())
            and any(m.name == w or m.name.startswith(w + "/") for w in wanted)
        ]
        tar.extractall(target, members=members, filter="data")
    return target / top


@dataclass
class Outcome:
    """What one pytest run reported: test ids that passed and that failed or errored."""

    passed: set[str]
    failed: set[str]
    errors: dict[str, str]


def run_pytest(root: Path, *, swap: bool, deselect: set[str], extra: list[str]) -> Outcome:
    """Run the selection under pytest in ``root``; return the outcome per test id."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "report.json")
        ini = Path(tmp, "pytest.ini")
        # Upstream's own settings minus coverage; ours would add nbmake and testpaths.
        ini.write_text(
            "[pytest]\nasyncio_mode = auto\n"
            "asyncio_default_fixture_loop_scope = function\n"
            "filterwarnings =\n    ignore::DeprecationWarning\n"
            "markers =\n    requires\n    compile\n    scheduled\n"
        )
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ini),
            "--rootdir",
            str(root),
            "-q",
            "-p",
            "no:cacheprovider",
            "--disable-socket",
            "--allow-unix-socket",
            "--timeout=60",
            "-p",
            "paramchat_peer_report",
        ]
        if swap:
            cmd += ["-p", "paramchat_swap"]
        for test_id in sorted(deselect):
            cmd += ["--deselect", test_id]
        cmd += extra or list(SELECTED)
        env = dict(os.environ)
        # The package under test is this checkout's, before any installed copy; the
        # upstream root comes first so its own ``tests`` package is the one imported.
        env["PARAMCHAT_PEER_REPORT"] = str(report)
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(ROOT), str(HERE)])
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        if not report.exists():
            sys.stdout.write(proc.stdout + proc.stderr)
            raise SystemExit(f"pytest produced no report (exit status {proc.returncode})")
        return parse_report(report)


def parse_report(path: Path) -> Outcome:
    """Return the passed and failed test ids of the report plugin's JSON file."""
    data = json.loads(path.read_text())
    outcomes = {upstream_id(k): v for k, v in data["outcomes"].items()}
    return Outcome(
        {k for k, v in outcomes.items() if v == "passed"},
        {k for k, v in outcomes.items() if v == "failed"},
        {upstream_id(k): v for k, v in data["errors"].items()},
    )


def upstream_id(test_id: str) -> str:
    """Return the id a test has upstream: parameters named after the class say ChatOpenAI."""
    name, sep, params = test_id.partition("[")
    return name + sep + re.sub(r"\bParamChat\b", "ChatOpenAI", params)


def read_list(path: Path) -> dict[str, str]:
    """Return ``{test id: reason line}`` from a list file (``id  # (x) why``)."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test_id, sep, why = line.partition("  # ")
        if not sep:
            raise SystemExit(f"{path.name}:{number}: no '  # (x) reason' on {line!r}")
        out[test_id.strip()] = why.strip()
    return out


def reason_of(why: str) -> str:
    """Return the reason letter of a list line's comment, or raise for an unknown one."""
    if len(why) >= 3 and why[0] == "(" and why[2] == ")" and why[1] in REASONS:
        return why[1]
    raise ValueError(f"reason {why!r} starts with none of {sorted(REASONS)} as '(x)'")


def compare(outcome: Outcome, expected: dict[str, str]) -> list[str]:
    """Return the problems: listed tests that passed or vanished, unlisted tests that failed."""
    problems = []
    for test_id in sorted(outcome.failed - set(expected)):
        problems.append(f"FAILS but is not listed: {test_id}")
    for test_id in sorted(set(expected) & outcome.passed):
        problems.append(f"PASSES but is listed as failing ({expected[test_id]}): {test_id}")
    for test_id in sorted(set(expected) - outcome.passed - outcome.failed):
        problems.append(f"listed but did not run: {test_id}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the peer suite; return 0 when the outcome matches the expected failures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="run on the real ChatOpenAI")
    parser.add_argument(
        "--open", action="store_true", help="print failing tests as list lines, compare nothing"
    )
    parser.add_argument("tests", nargs="*", help="upstream test ids or paths (default: all)")
    args = parser.parse_args(argv)
    from importlib.metadata import version

    if version("langchain-openai") != VERSION:
        # The tests import this release's private helpers: another release's would mislead.
        raise SystemExit(f"tests/peer needs langchain-openai=={VERSION} installed (test extra)")
    root = extracted()
    upstream_failures = read_list(UPSTREAM_FAILURES)
    if args.baseline:
        outcome = run_pytest(root, swap=False, deselect=set(), extra=args.tests)
        print(f"ChatOpenAI {VERSION}: {len(outcome.passed)} passed, {len(outcome.failed)} failed")
        for test_id in sorted(outcome.failed):
            print(f"{test_id}  # fails on ChatOpenAI itself here")
        return 0
    outcome = run_pytest(root, swap=True, deselect=set(upstream_failures), extra=args.tests)
    total = len(outcome.passed) + len(outcome.failed)
    print(f"ParamChat as ChatOpenAI {VERSION}: {len(outcome.passed)} of {total} passed")
    if args.open:
        expected = read_list(EXPECTED)
        for test_id in sorted(outcome.failed):
            why = expected.get(test_id, "")
            if not why or why.startswith("(c)"):  # open: say what fails now
                why = f"(c) open: {outcome.errors.get(test_id, '?')}"
            print(f"{test_id}  # {why}")
        return 0
    expected = read_list(EXPECTED)
    counts = dict.fromkeys(REASONS, 0)
    for why in expected.values():
        counts[reason_of(why)] += 1
    if args.tests:  # a partial run: compare only what ran
        ran = outcome.passed | outcome.failed
        expected = {k: v for k, v in expected.items() if k in ran}
    problems = compare(outcome, expected)
    print(", ".join(f"({k}) {v}" for k, v in counts.items()) + " expected failures")
    if counts["c"]:
        print(f"{counts['c']} expected failures are still open (c): fix them or give a reason")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
