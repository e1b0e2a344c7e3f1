#!/usr/bin/env bash
# Mutation testing on demand (not in CI): mutmut over the core parsers and rules, with the
# scope and test command in pyproject.toml's [tool.mutmut]. It runs in a scratch copy of the
# working tree, so the repository never gets a mutants/ folder, at the lowest CPU priority.
#
#   tests/mutation/run.sh                  # the default scope (about 20 minutes on 2 busy cores)
#   tests/mutation/run.sh 'langchain_paramchat.transport.sse*'   # only matching mutants
#
# Needs the dev extra (pip install -e '.[dev]'). Prints the score and every survivor; the
# verdicts are recorded in docs/testing.md. PYTHON and MUTATION_DIR override the defaults.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
work="${MUTATION_DIR:-${TMPDIR:-/tmp}/paramchat-mutation}"
jobs="${MUTATION_JOBS:-2}"

rm -rf "$work"
mkdir -p "$work"
# Tracked and new (not ignored) files, as they are now in the working tree.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$root" && xargs -0 cp --parents -t "$work" 2>/dev/null || true)
cd "$work"
git init -q && git add -A && git -c user.name=m -c user.email=m@localhost commit -qm scratch

# The default scope: every function of routing, option rules, the SSE decoder and batch
# lines/results, and the header-reading functions of retry and pacer (their sleep loops and
# tenacity plumbing are left out: each mutant there waits out a timeout).
if [ "$#" -eq 0 ]; then
    set -- 'langchain_paramchat.routing.*' 'langchain_paramchat.options.rules.*' \
        'langchain_paramchat.transport.sse.*' 'langchain_paramchat.batch.*' \
        'langchain_paramchat.transport.retry.x_parse_retry_after*' 'langchain_paramchat.transport.retry.x_retry_reason*' \
        'langchain_paramchat.transport.retry.xǁRetryPolicyǁwait_for*' 'langchain_paramchat.transport.retry.xǁRetryPolicyǁbackoff*' \
        'langchain_paramchat.transport.pacer.x_parse_duration*' 'langchain_paramchat.transport.pacer.x__int*' \
        'langchain_paramchat.transport.pacer.x_shared_pacer*' 'langchain_paramchat.transport.pacer.xǁ_Bucketǁ*' \
        'langchain_paramchat.transport.pacer.xǁPacerǁafter_response*'
fi
nice -n 19 "$python" -m mutmut run --max-children "$jobs" "$@" >"$work/run.log" 2>&1 || {
    tail -n 40 "$work/run.log"
    exit 1
}
"$python" -m mutmut results --all true >"$work/results.txt" 2>&1 || true
"$python" - "$work/results.txt" <<'PY'
import collections
import sys

counts = collections.Counter()
survivors = []
for line in open(sys.argv[1], encoding="utf-8"):
    name, _, status = line.strip().rpartition(": ")
    if not name:
        continue
    if status == "not checked":  # outside the names asked for
        continue
    counts[status] += 1
    if status == "survived":
        survivors.append(name)
killed = counts["killed"] + counts["timeout"]
total = sum(counts.values())
print(dict(counts))
print(f"score: {killed}/{total} killed ({100 * killed / max(total, 1):.1f}%)")
for name in survivors:
    print("survived:", name)
PY
echo "diffs: cd $work && $python -m mutmut show <name>"
