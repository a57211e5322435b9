#!/usr/bin/env bash
# Runs every unit binary in BUILD/tests and every tests/{integration,peers}/*.sh,
# each with PUENTE_BUILD=BUILD, and prints one closing line "N passed, N failed".
set -u
build=${1:-build}
mkdir -p "$build"
export PUENTE_BUILD=$(cd "$build" && pwd)
export PUENTE_SRC=$(cd "$(dirname "$0")/.." && pwd)
# PUENTE_SKIP: space-separated names (as printed, e.g. "peers/gammu-smsd.sh") or prefixes
# ending in "/" that this run leaves out; they are counted as skipped.
skip=0
skipped() {
	local w
	for w in ${PUENTE_SKIP:-}; do
		if [ "${w%/}" != "$w" ]; then
			[[ $1 == "$w"* ]] && return 0
		else
			[ "$1" = "$w" ] && return 0
		fi
	done
	return 1
}
pass=0 fail=0 failed=()
run() {
	local name=$1; shift
	if skipped "$name"; then
		skip=$((skip + 1)); printf 'SKIP  %s\n' "$name"; return
	fi
	local log="$PUENTE_BUILD/logs/$(basename "$name").log"
	mkdir -p "$PUENTE_BUILD/logs"
	local t0=$(date +%s%N)
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1)); local ms=$((($(date +%s%N) - t0) / 1000000))
		printf 'PASS  %-40s %4d.%03ds\n' "$name" $((ms / 1000)) $((ms % 1000))
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s (log: %s)\n' "$name" "$log"
		tail -n 40 "$log" | sed 's/^/      /'
	fi
}
for t in "$build"/tests/test-*; do
	[ -x "$t" ] || continue
	run "unit/$(basename "$t")" "$t"
done
for t in "$PUENTE_SRC"/tests/integration/*.sh "$PUENTE_SRC"/tests/peers/*.sh; do
	[ -f "$t" ] || continue
	run "${t#$PUENTE_SRC/tests/}" bash "$t"
done
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ $fail -eq 0 ]
