#!/usr/bin/env bash
# Mutation testing on demand (not in CI): mutmut over the core parsers and rules, with the
# scope and test command in pyproject.toml's [tool.mutmut]. It runs in a scratch copy of the
# working tree, so the repository never gets a mutants/ folder, at the lowest CPU priority.
#
#   tests/mutation/run.sh                  # the default scope (hours on 2 shared busy cores)
#   tests/mutation/run.sh 'langchain_paramchat.transport.sse*'   # only matching mutants
#   MUTATION_TIME_LIMIT=3600 tests/mutation/run.sh 'langchain_paramchat.batch*'
#       # stop after an hour; the mutants run by then keep their verdicts, the rest "not run"
#   MUTATION_REUSE=1 tests/mutation/run.sh 'langchain_paramchat.transport.pacer*'
#       # run more names in the last scratch copy (same code), keeping its earlier results
#   MUTATION_WITH_INTEGRATION=1 tests/mutation/run.sh 'langchain_paramchat.batch.results*'
#       # add the batch integration tests (FakeOpenAI; they compare entries with invoke's
#       # messages) to the tests each mutant runs: many times slower per mutant
#   MUTATION_NICE=10 ...   # the CPU priority (default 19, the lowest)
#
# Needs the dev extra (pip install -e '.[dev]'). Prints the score and every survivor; the
# verdicts are recorded in docs/testing.md. PYTHON and MUTATION_DIR override the defaults.
# Each mutant's tests are stopped after (their usual time + timeout_constant) x
# timeout_multiplier seconds ([tool.mutmut]); such a mutant counts as killed ("timeout").
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if [ -z "${PYTHON:-}" ] && [ ! -x "$python" ]; then
    # A git worktree has no .venv of its own: use the main checkout's.
    common="$(cd "$root" && git rev-parse --path-format=absolute --git-common-dir)"
    python="$(dirname "$common")/.venv/bin/python"
fi
work="${MUTATION_DIR:-${TMPDIR:-/tmp}/paramchat-mutation}"
jobs="${MUTATION_JOBS:-2}"
limit="${MUTATION_TIME_LIMIT:-0}"
niceness="${MUTATION_NICE:-19}"

if [ "${MUTATION_REUSE:-0}" != 1 ] || [ ! -d "$work/mutants" ]; then
    rm -rf "$work"
    mkdir -p "$work"
    # Tracked and new (not ignored) files, as they are now in the working tree.
    (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$root" && xargs -0 cp --parents -t "$work" 2>/dev/null || true)
    cd "$work"
    if [ "${MUTATION_WITH_INTEGRATION:-0}" = 1 ]; then
        "$python" - <<'PY'
import pathlib

path = pathlib.Path("pyproject.toml")
text = path.read_text(encoding="utf-8")
old = '    "tests/fuzz",\n]'
assert text.count(old) == 1, "pytest_add_cli_args_test_selection no longer ends with tests/fuzz"
new = '    "tests/fuzz",\n    "tests/integration/test_batch.py",\n    "tests/integration/test_batch_integrity.py",\n]'
path.write_text(text.replace(old, new), encoding="utf-8")
PY
    fi
    git init -q && git add -A && git -c user.name=m -c user.email=m@localhost commit -qm scratch
fi
cd "$work"

# The default scope: every function of routing, option rules, the SSE decoder and batch
# lines/results, and the header-reading functions of retry and pacer (their sleep loops and
# tenacity plumbing are left out: each mutant there waits out a timeout).
if [ "$#" -eq 0 ]; then
    set -- 'langchain_paramchat.routing.*' 'langchain_paramchat.options.rules.*' \
        'langchain_paramchat.transport.sse.*' 'langchain_paramchat.batch.*' \
        'langchain_paramchat.transport.retry.x_parse_retry_after*' 'langchain_paramchat.transport.retry.x_retry_reason*' \
        'langchain_paramchat.transport.retry.xǁRetryPolicyǁwait_for*' 'langchain_paramchat.transport.retry.xǁRetryPolicyǁbackoff*' \
        'langchain_paramchat.transport.pacer.x_parse_duration*' 'langchain_paramchat.transport.pacer.x__count_header*' \
        'langchain_paramchat.transport.pacer.x_shared_pacer*' 'langchain_paramchat.transport.pacer.xǁ_Bucketǁ*' \
        'langchain_paramchat.transport.pacer.xǁPacerǁafter_response*' 'langchain_paramchat.transport.pacer.xǁPacerǁ_reset*'
fi
# A time limit interrupts mutmut as Ctrl-C would: it stops its workers and keeps every
# verdict it has (mutants not reached stay "not checked" and are left out of the score).
status=0
if [ "$limit" -gt 0 ]; then
    timeout -s INT -k 60 "$limit" nice -n "$niceness" "$python" -m mutmut run --max-children "$jobs" "$@" \
        >>"$work/run.log" 2>&1 || status=$?
else
    nice -n "$niceness" "$python" -m mutmut run --max-children "$jobs" "$@" >>"$work/run.log" 2>&1 || status=$?
fi
if [ "$status" -eq 124 ]; then
    echo "stopped at the time limit ($limit s); the score below covers the mutants run"
elif [ "$status" -ne 0 ]; then
    tail -n 40 "$work/run.log"
    exit 1
fi
"$python" -m mutmut results --all true >"$work/results.txt" 2>&1 || true
"$python" - "$work/results.txt" <<'PY'
import collections
import sys

# Per module: killed, timeout, survived, and "not checked" (not run: outside the names asked
# for, or not reached before the time limit).
counts = collections.defaultdict(collections.Counter)
survivors = []
for line in open(sys.argv[1], encoding="utf-8"):
    name, _, status = line.strip().rpartition(": ")
    if not name:
        continue
    module = name.split(".x", 1)[0].removeprefix("langchain_paramchat.")
    counts[module][status] += 1
    if status == "survived":
        survivors.append(name)
total = collections.Counter()
for module in sorted(counts):
    run = {k: v for k, v in counts[module].items() if k != "not checked"}
    if run:
        print(module, dict(sorted(counts[module].items())))
        total.update(run)
killed = total["killed"] + total["timeout"]
tried = sum(total.values())
print(f"score: {killed}/{tried} killed ({100 * killed / max(tried, 1):.1f}%)")
for name in survivors:
    print("survived:", name)
PY
echo "diffs: cd $work && $python -m mutmut show <name>"
