# Shared setup for tests/integration/daemon-*.sh (sourced; not a test itself, hence not *.sh):
# a private temp dir, puente-sim and puented started and stopped by PID with time-outs, a
# puente.conf writer, and counters over puente-sim's JSON-lines record and the store.
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
SIM=$PUENTE_BUILD/puente-sim
PUENTED=$PUENTE_BUILD/puented
PUENTECTL=$PUENTE_BUILD/puentectl
T=$(mktemp -d /tmp/puente-daemon-test.XXXXXX)
export PYTHONPATH=$PUENTE_SRC/tests/integration PUENTE_BUILD
sim_pid= pd_pid=
DB=$T/puente.db
CONF=$T/puente.conf
SOCK=$T/puented.sock

# Stops a process by PID: SIGTERM, up to $2 tenths of a second, then SIGKILL.
dl_stop_pid() {
	local pid=$1 tenths=${2:-50}
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq "$tenths"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

dl_cleanup() {
	local rc=$?
	dl_stop_pid "$pd_pid"
	dl_stop_pid "$sim_pid"
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/puented*.log; do
			[ -f "$f" ] && { echo "--- $(basename "$f") (tail)"; tail -n 60 "$f"; }
		done
		[ -f "$T/sim.log" ] && { echo "--- puente-sim log (tail)"; tail -n 30 "$T/sim.log"; }
	fi
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
	exit "$rc"
}
trap dl_cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# sim_start ARGS...: puente-sim with a control socket at $T/ctl and a record at $T/rec.jsonl;
# waits until the socket answers.
sim_start() {
	"$SIM" -s "$T/ctl" -r "$T/rec.jsonl" "$@" 2>>"$T/sim.log" &
	sim_pid=$!
	for _ in $(seq 100); do
		if [ -S "$T/ctl" ] && "$SIM" ctl "$T/ctl" status >/dev/null 2>&1; then return 0; fi
		kill -0 "$sim_pid" 2>/dev/null || fail "puente-sim died"
		sleep 0.05
	done
	fail "puente-sim did not come up"
}

simctl() { timeout 10 "$SIM" ctl "$T/ctl" "$@"; }

# write_conf EXTRA-LINES: a puente.conf for this temp dir; modems and keys come from $1.
# send_rate = 0: no pacing against a simulator (the 1..60 per minute of a real SIM would
# make a 1,000-message test take minutes). $PUENTE_SEND_TIMEOUT (seconds, if set): the
# AT+CMGS time-out, so that a hung modem is noticed within a test's time.
write_conf() {
	cat >"$CONF" <<CONF
database = "$DB"
state_directory = "$T"
autodetect = false
send_rate = 0
${PUENTE_SEND_TIMEOUT:+send_timeout = $PUENTE_SEND_TIMEOUT}
$1
CONF
}

# puented_start [ARGS...]: starts puented on $CONF (log in $T/puented.log, appended) and
# waits until its wake socket exists (bound once the store is open).
puented_start() {
	# A SIGKILLed puented leaves its socket: waiting for it must wait for the new one.
	rm -f "$SOCK"
	"$PUENTED" --config "$CONF" ${PUENTED_ARGS:-} "$@" >>"$T/puented.log" 2>&1 &
	pd_pid=$!
	for _ in $(seq 200); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$pd_pid" 2>/dev/null || fail "puented died at start"
		sleep 0.05
	done
	fail "puented did not bind $SOCK"
}

# puented_stop: SIGTERM; it must exit 0 within 10 s and remove its socket.
puented_stop() {
	kill -TERM "$pd_pid"
	timeout 10 tail --pid="$pd_pid" -f /dev/null || fail "puented ignored SIGTERM"
	local rc=0
	wait "$pd_pid" || rc=$?
	pd_pid=
	[ "$rc" -eq 0 ] || fail "puented exited $rc after SIGTERM"
	[ ! -e "$SOCK" ] || fail "wake socket left behind"
}

puented_kill() {
	kill -KILL "$pd_pid" 2>/dev/null || true
	wait "$pd_pid" 2>/dev/null || true
	pd_pid=
}

q() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_until() {
	local secs=$1 what=$2
	shift 2
	local end=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
		kill -0 "$pd_pid" 2>/dev/null || fail "puented died while waiting for $what"
		sleep 0.2
	done
}

# parts_settled: no part queued, retry or sending.
parts_settled() {
	[ "$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('queued','retry','sending')")" = 0 ]
}

modems_ready() { # N: the store mirrors N modems in state "ready"
	[ "$(q "SELECT count(*) FROM modems WHERE state = 'ready'")" -ge "$1" ]
}

# queue TO TEXT: puentectl send (it wakes the daemon).
queue() { "$PUENTECTL" --config "$CONF" send --to "$1" "$2" >/dev/null; }

# record_count EVENT: lines of the record with that event.
record_count() {
	python3 -c 'import json,sys
n=0
for l in open(sys.argv[1], encoding="utf-8"):
    n += json.loads(l).get("event") == sys.argv[2]
print(n)' "$T/rec.jsonl" "$1"
}

# have_ctl_send: puentectl has the send subcommand.
have_ctl_send() { "$PUENTECTL" --help 2>&1 | grep -qw send; }

# queue_file FILE: queues every "PHONE<TAB>TEXT" line of FILE: through `puentectl send` when
# it exists, else straight into the store with pre-encoded PDUs (simclient's encoder) and a
# wake datagram, which is what puentectl send does.
queue_file() {
	if have_ctl_send; then
		while IFS=$'\t' read -r to text; do
			"$PUENTECTL" --config "$CONF" send --to "$to" "$text" >/dev/null ||
				fail "puentectl send --to $to failed"
		done <"$1"
		return 0
	fi
	python3 - "$DB" "$1" "$SOCK" <<'PY'
import socket, sqlite3, sys, time
from simclient import submit_pdus, gsm7_ok
db, path, sock = sys.argv[1:4]
c = sqlite3.connect(db, timeout=10)
now = int(time.time())
for ref, line in enumerate(open(path, encoding="utf-8"), start=1):
    to, text = line.rstrip("\n").split("\t", 1)
    pdus = submit_pdus(text, to, ref=ref & 0xFF)
    with c:
        cur = c.execute("INSERT INTO outgoing (recipient, text, encoding, part_count, concat_ref,"
                        " created) VALUES (?, ?, ?, ?, ?, ?)",
                        (to, text, "gsm7" if gsm7_ok(text) else "ucs2", len(pdus), ref & 0xFF, now))
        for seq, (hexpdu, n) in enumerate(pdus, start=1):
            c.execute("INSERT INTO outgoing_parts (message_id, seq, pdu, updated)"
                      " VALUES (?, ?, ?, ?)", (cur.lastrowid, seq, hexpdu, now))
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"wake", sock)
except OSError:
    pass
PY
}

# make_messages N FILE PHONES...: N mixed messages (GSM 7-bit and UCS-2, single and
# multipart), round robin over PHONES, each text unique, as "PHONE<TAB>TEXT" lines.
make_messages() {
	local n=$1 out=$2
	shift 2
	python3 - "$n" "$out" "$@" <<'PY'
import sys
n, out, phones = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
kinds = [
    lambda i: "Cita %d: mañana a las 9 en la clínica" % i,            # GSM 7-bit (ñ, í are GSM)
    lambda i: "Recordatorio %d: " % i + "tome su medicamento con agua. " * 6,  # 2 parts
    lambda i: "¿Cómo se siente hoy? Responda 1-5 (%d) ✓" % i,         # UCS-2
    lambda i: "Aviso %d — " % i + "vacunación gratuita para niñas y niños. " * 3,  # UCS-2, 2 parts
    lambda i: "Hola %d" % i,
]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        f.write("%s\t%s\n" % (phones[i % len(phones)], kinds[i % len(kinds)](i)))
PY
}

# check_exactly_once FILE [ALLOW_DUP_FILE]: every (phone, text) of FILE was recorded by
# puente-sim as a whole message exactly once, and nothing else was. Prints the counts.
check_exactly_once() {
	python3 - "$T/rec.jsonl" "$1" <<'PY'
import collections, json, sys
rec, want = sys.argv[1], sys.argv[2]
expected = collections.Counter()
for line in open(want, encoding="utf-8"):
    to, text = line.rstrip("\n").split("\t", 1)
    expected[(to, text)] += 1
got = collections.Counter()
modems = collections.Counter()
for line in open(rec, encoding="utf-8"):
    r = json.loads(line)
    if r.get("event") == "message":
        got[(r["phone"], r["text"])] += 1
        modems[r["modem"]] += 1
missing = [k for k in expected if got[k] < expected[k]]
dups = [k for k in got if got[k] > expected.get(k, 0) and k in expected]
strange = [k for k in got if k not in expected]
print("messages expected %d, received %d, missing %d, duplicated %d, unexpected %d; by modem %s"
      % (sum(expected.values()), sum(got.values()), len(missing), len(dups), len(strange),
         dict(modems)))
for k in (missing + dups + strange)[:5]:
    print("  e.g.", k, "expected", expected.get(k, 0), "got", got[k])
sys.exit(0 if not missing and not dups and not strange else 1)
PY
}

# ---- a faked wall clock (libfaketime) for the rules tests: rules-cohort.sh, harden-clockjump.sh
# Only the programs started with fc_run (puente-sim, puented, puentectl) see it; the test's
# own shell, python and sqlite3 keep the real clock. The offset is rewritten atomically in
# $T/faketime and read at every clock call (FAKETIME_NO_CACHE); monotonic clocks stay real
# so sd-event's time-outs and the bank's pacing are unaffected. Under ASan the preload comes
# before the sanitizer runtime, which ASan accepts with verify_asan_link_order=0.
FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}

# fc_available: libfaketime is installed (the tests that need it skip without it).
fc_available() { [ -r "$FAKETIME_LIB" ]; }

# fc_set EPOCH: from now on the faked clock reads EPOCH (UTC seconds), and runs on from there.
fc_set() {
	python3 -c 'import sys, time; print("%+d" % (int(sys.argv[1]) - int(time.time())))' "$1" \
		>"$T/faketime.new"
	mv -f "$T/faketime.new" "$T/faketime"
}

# fc_run CMD ARGS...: runs CMD under the faked clock. Started with & from a script,
# `env "${FC_ENV[@]}" CMD &` is used instead, so that $! is CMD's own pid (env execs it).
# tests/integration/cohort/faketime-timerfd.c (built here once) comes first: it undoes
# libfaketime's shift of monotonic timerfd expiries, which would stall every sd-event timer.
fc_env() {
	local shim=$T/faketime-timerfd.so
	[ -f "$shim" ] || cc -shared -fPIC -O2 -o "$shim" \
		"$PUENTE_SRC/tests/integration/cohort/faketime-timerfd.c" || fail "cannot build $shim"
	FC_ENV=(LD_PRELOAD="$shim:$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/faketime" FAKETIME_NO_CACHE=1
		FAKETIME_DONT_FAKE_MONOTONIC=1
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
}
fc_run() { fc_env; env "${FC_ENV[@]}" "$@"; }

# fc_sim_start / fc_puented_start ARGS...: sim_start and puented_start under the faked clock.
fc_sim_start() {
	fc_env
	env "${FC_ENV[@]}" "$SIM" -s "$T/ctl" -r "$T/rec.jsonl" "$@" 2>>"$T/sim.log" &
	sim_pid=$!
	for _ in $(seq 200); do
		if [ -S "$T/ctl" ] && "$SIM" ctl "$T/ctl" status >/dev/null 2>&1; then return 0; fi
		kill -0 "$sim_pid" 2>/dev/null || fail "puente-sim died"
		sleep 0.05
	done
	fail "puente-sim did not come up"
}

fc_puented_start() {
	rm -f "$SOCK" # a SIGKILLed puented leaves its socket
	fc_env
	env "${FC_ENV[@]}" "$PUENTED" --config "$CONF" ${PUENTED_ARGS:-} "$@" >>"$T/puented.log" 2>&1 &
	pd_pid=$!
	for _ in $(seq 400); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$pd_pid" 2>/dev/null || fail "puented died at start"
		sleep 0.05
	done
	fail "puented did not bind $SOCK"
}

# dl_wake: one wake datagram to puented (what puentectl sends after queuing): the rules
# runner looks at the clock and runs whoever is due at once.
dl_wake() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"wake", sys.argv[1])' "$SOCK"
}

# fc_cohort_start RULES_DIR: the cohort of tests/integration/cohort (cohort.prepare() already
# run in $T) on one simulated modem under the faked clock: puented with the rules of RULES_DIR,
# the modem ready, the contacts imported and all six enrolled.
fc_cohort_start() {
	fc_sim_start -m "m1=$T/m1"
	write_conf "
rules_directory = \"$1\"
modem \"$T/m1\" { }
"
	fc_puented_start
	wait_until 30 "the modem ready" modems_ready 1
	fc_run "$PUENTECTL" --config "$CONF" contacts import "$T/contacts.csv" >/dev/null ||
		fail "contacts import refused the cohort"
	wait_until 30 "six contacts enrolled" fc_cohort_enrolled
}
fc_cohort_enrolled() { [ "$(q "SELECT count(*) FROM rules_state")" = 6 ]; }
