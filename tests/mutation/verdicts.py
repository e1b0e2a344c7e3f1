"""Run chosen mutants of a mutmut scratch copy against chosen tests, one pytest per mutant.

mutmut runs each mutant against the tests its stats run saw reaching the function, inside
its own process; with the batch integration tests in the selection that took minutes per
mutant. This script asks for less: the tests you name (a file, ``-k``), started as a plain
``pytest`` in the scratch copy's ``mutants/`` folder with ``MUTANT_UNDER_TEST`` set, which
mutmut's trampolines read to pick the active mutant. It first checks that the tests pass
with no mutant active, then prints, per mutant, ``killed`` (and the first failing test),
``survived``, ``timeout`` (counted as killed, as mutmut does) or ``error``.

Needs a scratch copy made by ``tests/mutation/run.sh`` (its ``mutants/`` folder)::

    tests/mutation/verdicts.py 'langchain_paramchat.batch.results.x__entry__mutmut_*' \
        -- tests/integration/test_batch_integrity.py tests/integration/test_batch.py
    tests/mutation/verdicts.py --status survived 'langchain_paramchat.transport.sse*' \
        -- tests/unit/test_sse_decoder.py tests/fuzz/test_sse.py

Mutant names are shell-style patterns over the names mutmut generated (``--list`` prints
them); ``--status`` keeps only mutants with that mutmut status (``survived``, ``no tests``,
...). ``--map`` first runs the tests once as mutmut's stats run does (``MUTANT_UNDER_TEST=stats``)
and then gives each mutant only the tests that reached its function (``no tests`` when none
did): a wide selection such as ``tests/unit`` stays fast. ``--out FILE`` appends one
tab-separated line per verdict. The verdicts are not written back into mutmut's results.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# What mutmut adds to every pytest run ([tool.mutmut] pytest_add_cli_args), plus -x.
PYTEST_ARGS = [
    "-x",
    "-q",
    "-o",
    "addopts=",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:nbmake",
    "-p",
    "no:randomly",
]
# Loaded into the --map run: records, per test, the mutated functions it reached (the
# trampolines add each one to mutmut's state while MUTANT_UNDER_TEST is "stats").
_MAP_PLUGIN = """
import json, os
from mutmut.state import state

_reached = {}

def pytest_runtest_teardown(item, nextitem):
    for function in state()._stats:
        _reached.setdefault(function, set()).add(item.nodeid)
    state()._stats.clear()

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["PARAMCHAT_VERDICT_MAP"], "w", encoding="utf-8") as out:
        json.dump({k: sorted(v) for k, v in _reached.items()}, out)
"""
# mutmut's exit codes for "killed" (pytest: tests failed; internal error).
KILLED = {1, 3}
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def mutant_names(mutants: Path) -> dict[str, str]:
    """Return every mutant name in ``mutants/`` with its mutmut status (from the .meta files)."""
    from mutmut.stats import status_by_exit_code

    names: dict[str, str] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in data.get("exit_code_by_key", {}).items():
            names[name] = status_by_exit_code[code]
    return names


def run_one(
    mutants: Path,
    name: str,
    tests: list[str],
    timeout: float,
    nice: int,
    env: dict[str, str] | None = None,
) -> tuple[str, str, float]:
    """Run ``tests`` with mutant ``name`` active; return (verdict, detail, seconds)."""
    if not tests:
        return "no tests", "no selected test reaches its function", 0.0
    basetemp = tempfile.mkdtemp(prefix="paramchat-verdict-")
    env = {
        **os.environ,
        **(env or {}),
        "MUTANT_UNDER_TEST": name,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        "nice",
        "-n",
        str(nice),
        sys.executable,
        "-m",
        "pytest",
        *PYTEST_ARGS,
        f"--basetemp={basetemp}",
        *tests,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=mutants,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", f"stopped after {timeout:.0f} s", time.monotonic() - started
    finally:
        shutil.rmtree(basetemp, ignore_errors=True)
    seconds = time.monotonic() - started
    failed = _FAILED.search(output)
    if process.returncode == 0:
        return "survived", "", seconds
    if process.returncode in KILLED:
        return "killed", failed[1] if failed else f"exit {process.returncode}", seconds
    last = output.strip().splitlines()[-3:] if output.strip() else []
    return "error", f"exit {process.returncode}: {' | '.join(last)}", seconds


def main(argv: list[str]) -> int:
    """Parse the command line, check the unmutated run, then give each mutant a verdict."""
    if "--" in argv:
        cut = argv.index("--")
        argv, tests = argv[:cut], argv[cut + 1 :]
    else:
        tests = []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="+", help="mutant name patterns (fnmatch)")
    parser.add_argument(
        "--dir",
        default=os.environ.get("MUTATION_DIR")
        or os.path.join(os.environ.get("TMPDIR", "/tmp"), "paramchat-mutation"),
        help="the scratch copy run.sh made (default: $MUTATION_DIR or run.sh's default)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--nice", type=int, default=19, help="CPU priority (default 19)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per mutant (default: (the unmutated run's time + 5) x 10, as mutmut)",
    )
    parser.add_argument("--status", help="only mutants with this mutmut status")
    parser.add_argument("--list", action="store_true", help="print the matching names and stop")
    parser.add_argument(
        "--map", action="store_true", help="give each mutant only the tests reaching its function"
    )
    parser.add_argument("--out", help="append tab-separated verdicts to this file")
    args = parser.parse_args(argv)

    mutants = Path(args.dir, "mutants").resolve()
    if not mutants.is_dir():
        parser.error(f"{mutants} does not exist: make a scratch copy with tests/mutation/run.sh")
    known = mutant_names(mutants)
    chosen = [
        name
        for name, status in known.items()
        if any(fnmatch.fnmatchcase(name, p) for p in args.patterns)
        and (args.status is None or status == args.status)
    ]
    chosen.sort(key=_natural)
    if args.list:
        for name in chosen:
            print(f"{name}: {known[name]}")
        return 0
    if not chosen:
        parser.error("no mutant matches")
    if not tests:
        parser.error("name the tests after '--' (files, -k ...)")

    reached: dict[str, list[str]] | None = None
    with tempfile.TemporaryDirectory(prefix="paramchat-verdict-map-") as folder:
        if args.map:
            Path(folder, "paramchat_verdict_map.py").write_text(_MAP_PLUGIN, encoding="utf-8")
            extra = {
                "PARAMCHAT_VERDICT_MAP": str(Path(folder, "map.json")),
                "PYTHONPATH": os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")])),
            }
            first = ["-p", "paramchat_verdict_map", *tests]
            verdict, detail, baseline = run_one(mutants, "stats", first, 3600.0, args.nice, extra)
        else:
            verdict, detail, baseline = run_one(mutants, "", tests, 3600.0, args.nice)
        if verdict != "survived":
            print(f"the tests do not pass without a mutant ({verdict}: {detail}); nothing run")
            return 2
        if args.map:
            reached = json.loads(Path(folder, "map.json").read_text(encoding="utf-8"))
    timeout = args.timeout or (baseline + 5.0) * 10.0
    print(f"unmutated: passed in {baseline:.1f} s; {len(chosen)} mutants, {timeout:.0f} s each")
    sys.stdout.flush()

    def tests_for(name: str) -> list[str]:
        # With --map, the node ids the stats run saw (its -k and -m choices included).
        if reached is None:
            return tests
        return reached.get(name.rpartition("__mutmut_")[0], [])

    counts: dict[str, int] = {}
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {
                pool.submit(run_one, mutants, name, tests_for(name), timeout, args.nice): name
                for name in chosen
            }
            for future in concurrent.futures.as_completed(futures):
                name = futures[future]
                verdict, detail, seconds = future.result()
                counts[verdict] = counts.get(verdict, 0) + 1
                print(f"{name}: {verdict} {detail} ({seconds:.0f} s)".rstrip())
                sys.stdout.flush()
                if out is not None:
                    out.write(f"{name}\t{verdict}\t{detail}\t{' '.join(tests)}\n")
                    out.flush()
    finally:
        if out is not None:
            out.close()
    print("verdicts:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("survived") or counts.get("error") else 0


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("_")
    return (base, int(number)) if number.isdigit() else (name, 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
