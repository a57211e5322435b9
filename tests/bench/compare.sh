#!/usr/bin/env bash
# make bench, second half: puented side by side with gammu-smsd and SMS Server Tools 3 on the
# same puente-sim modems (tests/bench/compare.py does the work; docs/benchmarks.md says how to
# read it). Usage: tests/bench/compare.sh BUILD_DIR. BENCH_QUICK=1 for a short run;
# BENCH_OUT=FILE keeps the Markdown report (default BUILD_DIR/bench/compare.md);
# BENCH_HISTORY=N the parts of history in the store of puented's second send table (default
# 300000, 0 leaves that table out).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${BENCH_OUT:-$build/bench/compare.md}
mkdir -p "$(dirname "$out")"
for p in puented puentectl puente-sim; do
	[ -x "$build/$p" ] || { echo "compare.sh: $build/$p is missing (make B=$build)" >&2; exit 1; }
done
for peer in gammu-smsd smsd; do
	command -v "$peer" >/dev/null || echo "compare.sh: $peer is not installed (make deps); left out" >&2
done
args=(--build "$build" --out "$out")
[ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ] && args+=(--quick)
[ -n "${BENCH_RUNS:-}" ] && args+=(--runs "$BENCH_RUNS")
args+=(--history "${BENCH_HISTORY:-300000}")
LANG=C.UTF-8 LC_ALL=C.UTF-8 python3 "$src/tests/bench/compare.py" "${args[@]}"
echo "compare.sh: report in $out"
