#!/usr/bin/env bash
# Runs every unit binary in BUILD/tests and every tests/{integration,peers}/*.sh,
# each with PUENTE_BUILD=BUILD, and prints one closing line "N passed, N failed".
# PUENTE_JOBS=N runs up to N tests at once (default 1): most integration scripts wait on
# simulated modem latency, not on the CPU, so two or three at a time shorten the suite.
set -u
build=${1:-build}
mkdir -p "$build"
export PUENTE_BUILD=$(cd "$build" && pwd)
export PUENTE_SRC=$(cd "$(dirname "$0")/.." && pwd)
jobs=${PUENTE_JOBS:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run-tests: PUENTE_JOBS must be a positive number, not '$jobs'" >&2; exit 2; }
# PUENTE_SKIP: space-separated names (as printed, e.g. "peers/gammu-smsd.sh") or prefixes
# ending in "/" that this run leaves out; they are counted as skipped.
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
logs="$PUENTE_BUILD/logs"
mkdir -p "$logs"
names=()
# The long integration scripts first, so the short unit binaries fill the gaps at the end.
for t in "$PUENTE_SRC"/tests/integration/*.sh "$PUENTE_SRC"/tests/peers/*.sh; do
	[ -f "$t" ] || continue
	names+=("${t#$PUENTE_SRC/tests/}")
done
for t in "$build"/tests/test-*; do
	[ -x "$t" ] || continue
	names+=("unit/$(basename "$t")")
done
pass=0 fail=0 skip=0 failed=()
declare -A running=() # pid -> index
report() { # index rc ms
	local name=${names[$1]} log="$logs/$(basename "${names[$1]}").log"
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1))
		printf 'PASS  %-40s %4d.%03ds\n' "$name" $(($3 / 1000)) $(($3 % 1000))
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s (log: %s)\n' "$name" "$log"
		tail -n 40 "$log" | sed 's/^/      /'
	fi
}
reap() { # waits for one test to end and reports it
	local pid rc
	wait -n -p pid "${!running[@]}"; rc=$?
	local i=${running[$pid]}
	unset "running[$pid]"
	local ms=$((($(date +%s%N) - ${t0[$i]}) / 1000000))
	report "$i" "$rc" "$ms"
}
declare -a t0=()
for i in "${!names[@]}"; do
	if skipped "${names[$i]}"; then
		skip=$((skip + 1)); printf 'SKIP  %s\n' "${names[$i]}"; continue
	fi
	while [ ${#running[@]} -ge "$jobs" ]; do reap; done
	t0[$i]=$(date +%s%N)
	case ${names[$i]} in
	unit/*) "$PUENTE_BUILD/tests/${names[$i]#unit/}" ;;
	*) bash "$PUENTE_SRC/tests/${names[$i]}" ;;
	esac >"$logs/$(basename "${names[$i]}").log" 2>&1 </dev/null &
	running[$!]=$i
done
while [ ${#running[@]} -gt 0 ]; do reap; done
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ $fail -eq 0 ]
