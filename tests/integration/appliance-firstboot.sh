#!/usr/bin/env bash
# The box's first boots, from a DESTDIR install (make install), against puente-sim:
#  1. a configuration with no modem, rules or upload: puented starts, creates its database,
#     and `puentectl status` says it runs and knows no modem;
#  2. a modem whose SIM wants a PIN is plugged in later (the configured glob matches it):
#     status names it and says "needs PIN";
#  3. the PIN and a clinic's staff numbers are added and puented reloaded (SIGHUP): the
#     modem is ready;
#  4. from a staff number ESTADO, PRUEBA and STATUS are answered in one SMS each; the same
#     ESTADO from an unknown number and from an alphanumeric sender gets nothing and is
#     logged; an auto-responder at a staff number gets staff_replies_per_hour replies, then
#     silence.
. "$(dirname "$0")/appliance-lib.bash"
T=$(mktemp -d /tmp/puente-appl-boot.XXXXXX)
D=$T/root
CONF=$T/puente.conf
STATE=$T/state
sim_pid= pd_pid=
stop_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	stop_pid "$pd_pid"
	stop_pid "$sim_pid"
	if [ "$rc" -ne 0 ]; then
		echo "--- puented log (tail)"; tail -n 40 "$T/puented.log" 2>/dev/null || true
		echo "--- puente-sim log (tail)"; tail -n 20 "$T/sim.log" 2>/dev/null || true
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

appl_install "$D"
PUENTED=$D/usr/local/sbin/puented
PUENTECTL=$D/usr/local/bin/puentectl
SIM=$D/usr/local/bin/puente-sim
status() { "$PUENTECTL" --config "$CONF" status; }
# wait_for SECONDS WHAT COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local end=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || { status || true; fail "timed out waiting for $what"; }
		kill -0 "$pd_pid" 2>/dev/null || fail "puented died waiting for $what"
		sleep 0.2
	done
}
status_has() { status | grep -q -- "$1"; }
# messages PHONE PREFIX: how many whole messages PHONE received starting with PREFIX
messages() {
	[ -f "$T/rec.jsonl" ] || { echo 0; return; }
	python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1], encoding="utf-8")
          for r in [json.loads(l)]
          if r["event"] == "message" and r["phone"] == sys.argv[2] and r["text"].startswith(sys.argv[3])))' \
		"$T/rec.jsonl" "$1" "$2"
}
got() { [ "$(messages "$1" "$2")" -ge "${3:-1}" ]; }

base="state_directory = \"$STATE\"
autodetect = false
modem \"$T/dev/m*\" { }"

# 1. No modem, no rules, no upload.
mkdir -p "$STATE"
echo "$base" >"$CONF"
"$PUENTED" --config "$CONF" >>"$T/puented.log" 2>&1 &
pd_pid=$!
wait_for 10 "the wake socket" test -S "$STATE/puented.sock"
[ -f "$STATE/puente.db" ] || fail "no database created"
wait_for 10 "status: running" status_has "^Daemon: running (pid $pd_pid)"
status | grep -q "^Modems: none known yet" || fail "status does not say there is no modem"
echo "1. first start, no modem:"; status | sed 's/^/   /'

# 2. A modem is plugged in; its SIM wants a PIN that is not configured.
"$SIM" -s "$T/ctl" -r "$T/rec.jsonl" -m "m1=$T/dev/m1,pin=1234" \
	-p +525512345678 -p +525599999999 2>>"$T/sim.log" &
sim_pid=$!
wait_for 20 "status: the modem needs its PIN" status_has "needs PIN"
echo "2. modem plugged in, no PIN:"; status | sed -n '1,9s/^/   /p'
iccid=$(status | sed -n 's/.*SIM: *needs PIN, ICCID \([0-9]*\).*/\1/p')
[ -n "$iccid" ] || fail "status shows no ICCID"

# 3. The technician adds the PIN and the clinic's staff, and reloads.
cat >>"$CONF" <<CONF
pin $iccid { pin = "1234" }
clinic norte {
	staff = { "55 1234 5678" }
}
staff_replies_per_hour = 3
CONF
kill -HUP "$pd_pid"
wait_for 30 "status: the modem is ready" status_has "state: *ready"
echo "3. PIN configured, reloaded:"; status | sed -n '1,9s/^/   /p'

# 4. Staff commands end to end.
simctl() { timeout 10 "$SIM" ctl "$T/ctl" "$@" >/dev/null; }
simctl send +525512345678 m1 Estado
wait_for 20 "the ESTADO reply" got +525512345678 "Puente: modems 1/1 listos"
simctl send +525512345678 m1 "PRUEBA"
wait_for 20 "the PRUEBA reply" got +525512345678 "Puente: PRUEBA OK."
simctl send +525599999999 m1 ESTADO
simctl send TELCEL m1 ESTADO
wait_for 20 "the unknown sender logged" grep -q "ESTADO from +525599999999 ignored: not a staff number" "$T/puented.log"
wait_for 20 "the alphanumeric sender logged" grep -q "ESTADO from TELCEL ignored" "$T/puented.log"
[ "$(messages +525599999999 "")" = 0 ] || fail "a number that is not staff got a reply"
python3 - "$T/rec.jsonl" <<'PY' || fail "a staff reply is not one GSM 7-bit SMS"
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "part" and r["text"].startswith("Puente"):
        assert r["charset"] == "gsm7" and r.get("total", 1) == 1 and len(r["text"]) <= 160, r
        print("   reply to %s: %s" % (r["phone"], r["text"]))
PY
# an auto-responder at a staff number: 1 (ESTADO) + 1 (PRUEBA) + 1 more, then silence
for i in 1 2 3 4; do simctl send +525512345678 m1 "Mensaje automatico $i"; done
wait_for 20 "the silence logged" grep -q "no more automatic replies to +525512345678 this hour" "$T/puented.log"
wait_for 20 "the third reply" got +525512345678 "Puente" 3
sleep 4 # two poll rounds: nothing more may come
n=$(python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)] if r["event"] == "message" and r["phone"] == "+525512345678"))' "$T/rec.jsonl")
[ "$n" = 3 ] || fail "the staff number got $n replies; expected 3 (staff_replies_per_hour)"
echo "4. ESTADO and PRUEBA answered, unknown and alphanumeric senders ignored, auto-responder throttled after 3"
echo "appliance-firstboot: ok"
