#!/bin/bash
# make demo: puente-sim with two modems, 30 fake beneficiaries and two staff phones; puented
# with the compressed-time demo programme (etc/rules.d.demo); a local upload target; and a
# narrator printing, as it happens, one line per thing that happened (tests/demo/narrate.py).
# Everything runs under build/demo/ and is stopped by PID at the end and on Ctrl-C.
# docs/demo.md explains what you see. Usage: demo.sh BUILD_DIR (DEMO_QUICK=1: shorter).
set -euo pipefail
BUILD=$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
D=${DEMO_DIR:-$BUILD/demo}
SIM=$BUILD/puente-sim PUENTED=$BUILD/puented PUENTECTL=$BUILD/puentectl
if [ -n "${DEMO_QUICK:-}" ]; then SCALE=0.5 TAIL=15; else SCALE=1 TAIL=40; fi
for p in "$SIM" "$PUENTED" "$PUENTECTL"; do [ -x "$p" ] || { echo "demo: $p missing (make demo builds it)" >&2; exit 1; }; done

sim_pid= pd_pid= up_pid= nar_pid=
stop_pid() { # PID: SIGTERM, 5 s, then SIGKILL
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$nar_pid"
	stop_pid "$pd_pid"
	stop_pid "$sim_pid"
	stop_pid "$up_pid"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, stopping everything"; exit 130' INT TERM

START=$(date +%s.%N)
say() { python3 -c 'import sys,time; s=int(time.time()-float(sys.argv[1])); print("%02d:%02d  %s" % (s//60, s%60, sys.argv[2]), flush=True)' "$START" "$1"; }

rm -rf "$D"
mkdir -p "$D/central" "$D/dev"
# The demo programme, with the trial's secret key in the demo directory instead of /etc.
cp -r "$SRC/etc/rules.d.demo" "$D/rules"
openssl rand -hex 32 >"$D/trial.key"
sed -i "s|secret_key_file = \"[^\"]*\"|secret_key_file = \"$D/trial.key\"|" "$D/rules/10-ensayo.conf"

python3 "$SRC/tests/demo/upload-target.py" "$D/central" "$D/central.port" 2>>"$D/central.log" &
up_pid=$!
for _ in $(seq 100); do [ -s "$D/central.port" ] && break; sleep 0.05; done
[ -s "$D/central.port" ] || { echo "demo: the upload target did not start" >&2; exit 1; }
python3 "$SRC/tests/demo/cohort.py" "$D" "$D/rules" "http://127.0.0.1:$(cat "$D/central.port")/puente" "$SCALE"

echo "Puente demo: 2 simulated modems (m1, m2), 30 beneficiaries (+52 55 2000 01xx), 2 staff phones."
echo "Every line below comes from puente-sim's record, puented's store or the upload target."
echo
python3 "$SRC/tests/demo/narrate.py" "$D" "$START" &
nar_pid=$!

"$SIM" -c "$D/sim.conf" -r "$D/phones.jsonl" -s "$D/sim.sock" -S "$D/scenario.txt" 2>>"$D/sim.log" &
sim_pid=$!
for _ in $(seq 100); do
	[ -S "$D/sim.sock" ] && "$SIM" ctl "$D/sim.sock" status >/dev/null 2>&1 && break
	kill -0 "$sim_pid" 2>/dev/null || { echo "demo: puente-sim failed, see $D/sim.log" >&2; exit 1; }
	sleep 0.05
done
"$PUENTED" --config "$D/puente.conf" -v 2>>"$D/puented.log" >&2 &
pd_pid=$!
for _ in $(seq 200); do
	[ -S "$D/puented.sock" ] && break
	kill -0 "$pd_pid" 2>/dev/null || { echo "demo: puented failed, see $D/puented.log" >&2; tail -5 "$D/puented.log" >&2; exit 1; }
	sleep 0.05
done
say "puente-sim and puented started (pids $sim_pid, $pd_pid)"

q() { sqlite3 -cmd ".timeout 5000" "$D/puente.db" "$@"; }
# The clinic's list: 20 contacts by CSV.
if "$PUENTECTL" contacts --help >/dev/null 2>&1; then
	if out=$("$PUENTECTL" --config "$D/puente.conf" contacts import "$D/contacts.csv" 2>&1); then
		say "clinic list imported with puentectl contacts import: $(echo "$out" | tail -1)"
	else
		say "puentectl contacts import refused the list: $(echo "$out" | head -3 | tr '\n' ' ')"
	fi
else
	say "not shown: this puentectl has no 'contacts import' (the 20 CSV contacts are not enrolled)"
fi

# Is the rules runner in this puented? It logs rules.loaded at start.
sleep 3
if [ "$(q "SELECT count(*) FROM events WHERE type = 'rules.loaded'" 2>/dev/null || echo 0)" = 0 ]; then
	say "not shown: this puented runs no rules yet (no rules.loaded event); the phones' texts are only stored"
	say "so that the modems have work, the demo queues 30 plain messages with puentectl send"
	for i in $(seq 1 30); do
		"$PUENTECTL" --config "$D/puente.conf" send --to "$(printf '+52552000%04d' $((100 + i)))" \
			"Mensaje de prueba $i del demo de Puente (no es un recordatorio)" >/dev/null
	done
fi

# The scenario runs inside puente-sim (scenario.txt); wait for its end, then for the queue
# to drain and a batch to reach the upload target, within the time left.
end_script=$(awk '!/^#/ && NF {t=$1} END {print int(t)+1}' "$D/scenario.txt")
deadline=$(( ${START%.*} + end_script + TAIL ))
while [ "$(date +%s)" -lt $(( ${START%.*} + end_script )) ]; do
	kill -0 "$pd_pid" 2>/dev/null || { echo "demo: puented died, see $D/puented.log" >&2; exit 1; }
	sleep 0.5
done
while [ "$(date +%s)" -lt "$deadline" ]; do
	kill -0 "$pd_pid" 2>/dev/null || { echo "demo: puented died, see $D/puented.log" >&2; exit 1; }
	pending=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('queued','retry','sending')")
	batches=$(find "$D/central" -name '*.ndjson.gz' | wc -l)
	[ "$pending" = 0 ] && [ "$batches" -gt 0 ] && break
	[ "$pending" = 0 ] && ! grep -q '^upload' "$D/puente.conf" && break
	sleep 1
done

touch "$D/stop"
wait "$nar_pid" || true
nar_pid=
stop_pid "$pd_pid"; pd_pid=
stop_pid "$sim_pid"; sim_pid=
stop_pid "$up_pid"; up_pid=

# What the issue asks to see, checked against the store and the record: what is missing is
# said plainly rather than papered over.
echo
missing=()
has_ev() { [ "$(q "SELECT count(*) FROM events WHERE type = '$1'")" != 0 ]; }
rec_has() { grep -q "$1" "$D/phones.jsonl" 2>/dev/null; }
has_ev rules.enrolled || has_ev rules.arm_assigned || missing+=("enrolments with arms")
has_ev rules.reminder_queued || missing+=("reminders")
has_ev rules.quiz_answer || missing+=("a quiz answered")
has_ev rules.opted_out || missing+=("an opt-out honoured")
has_ev rules.alert_escalated || missing+=("a warning sign forwarded to staff")
python3 - "$D/phones.jsonl" <<'PY' || missing+=("a staff ESTADO answered")
import json, sys
sys.exit(0 if any(json.loads(l).get("event") == "message" and json.loads(l).get("phone") == "+525512345601"
                  for l in open(sys.argv[1])) else 1)
PY
[ "$(find "$D/central" -name '*.ndjson.gz' | wc -l)" -gt 0 ] || missing+=("an anonymized batch uploaded")
if [ ${#missing[@]} -gt 0 ]; then
	echo "Not shown in this run (the lines above say what happened instead):"
	printf '  - %s\n' "${missing[@]}"
	echo
fi
echo "The demo ended after $(( $(date +%s) - ${START%.*} )) s; nothing is left running."
echo "Database:        $D/puente.db   (sqlite3 $D/puente.db 'SELECT * FROM events')"
batch=$(find "$D/central" -name '*.ndjson.gz' | sort | tail -1)
nb=$(find "$D/central" -name '*.ndjson.gz' | wc -l)
echo "Uploaded batch:  ${batch:-none (the upload target is $D/central/)}${batch:+ (the last of $nb)}"
echo "Logs:            $D/puented.log, $D/sim.log; the phones' record: $D/phones.jsonl"
