# Shared setup for tests/integration/sim-*.sh (sourced; not a test itself): a private temp
# dir, puente-sim started and stopped by PID, and a time-out on everything.
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
SIM=$PUENTE_BUILD/puente-sim
T=$(mktemp -d /tmp/puente-sim-test.XXXXXX)
export PYTHONPATH=$PUENTE_SRC/tests/integration PUENTE_BUILD
sim_pid=

sim_cleanup() {
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		kill -TERM "$sim_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$sim_pid" 2>/dev/null || true
	fi
	if [ -f "$T/sim.log" ]; then echo "--- puente-sim log (tail)"; tail -n 30 "$T/sim.log"; fi
	rm -rf "$T"
}
trap sim_cleanup EXIT

# sim_start ARGS...: starts puente-sim with a control socket at $T/ctl and a record at
# $T/rec.jsonl, and waits until the socket and every --modem link exist.
sim_start() {
	"$SIM" -s "$T/ctl" -r "$T/rec.jsonl" "$@" 2>"$T/sim.log" &
	sim_pid=$!
	for _ in $(seq 100); do
		if [ -S "$T/ctl" ] && "$SIM" ctl "$T/ctl" status >/dev/null 2>&1; then return 0; fi
		kill -0 "$sim_pid" 2>/dev/null || { echo "puente-sim died"; return 1; }
		sleep 0.05
	done
	echo "puente-sim did not come up"; return 1
}

# sim_stop: SIGTERM, expect exit 0 within 5 s and no socket left behind.
sim_stop() {
	kill -TERM "$sim_pid"
	local rc=0
	timeout 5 tail --pid="$sim_pid" -f /dev/null || { echo "puente-sim ignored SIGTERM"; return 1; }
	wait "$sim_pid" || rc=$?
	sim_pid=
	[ "$rc" -eq 0 ] || { echo "puente-sim exited $rc"; return 1; }
	[ ! -e "$T/ctl" ] || { echo "control socket left behind"; return 1; }
}

py() { timeout 60 python3 - "$@"; }
