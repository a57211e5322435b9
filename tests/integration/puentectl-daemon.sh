#!/usr/bin/env bash
# puentectl beside a running puented and puente-sim: status sees the daemon and both modems
# live (state, operator, signal), send wakes the daemon (no warning) and its messages reach
# the phones exactly once, outbox shows them sent, an incoming message shows in the inbox,
# and status says the daemon stopped once it has.
. "$(dirname "$0")/daemon-lib.bash"

sim_start -m "m1=$T/m1" -m "m2=$T/m2" -p +525512345601 -p +525512345602
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2
ctl() { "$PUENTECTL" --config "$CONF" "$@"; }

# status: the daemon's snapshot names both modems ready
status_ready() {
	ctl status >"$T/st" 2>&1 && grep -q "^Daemon: running (pid $pd_pid): " "$T/st" &&
		[ "$(grep -c '^  state:       ready$' "$T/st")" -eq 2 ]
}
wait_until 20 "status: running, 2 modems ready" status_ready
grep -qE '^  signal:      [0-9]+ bars? \(-[0-9]+ dBm\)$' "$T/st" || fail "no signal line: $(cat "$T/st")"
grep -qE '^  network:     [^ ].*, registered' "$T/st" || fail "no network line: $(cat "$T/st")"
grep -qE '^  SIM:         ready, ICCID [0-9]+$' "$T/st" || fail "no SIM line: $(cat "$T/st")"
[ "$(grep -c '^  errors:      none$' "$T/st")" -eq 2 ] || fail "errors on a clean start: $(cat "$T/st")"
# what is missing is said: this configuration has no rules directory
grep -qE '^Rules: no rules' "$T/st" || fail "no Rules line saying none run: $(cat "$T/st")"
grep -qE '^Upload: ' "$T/st" || fail "no Upload line: $(cat "$T/st")"

# send: national forms, a 3-part message; the daemon is woken (no warning on stderr)
long=$(python3 -c 'print("Recordatorio: tome su medicamento con agua. " * 10)')
ctl send --to "55 1234 5601" "Su cita es mañana a las 9" >"$T/out" 2>"$T/err" || fail "send 1: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "send did not reach the daemon: $(cat "$T/err")"
ctl send --to "044 55 1234 5602" "$long" >"$T/out" 2>"$T/err" || fail "send 2: $(cat "$T/err")"
grep -q ": 3 parts, gsm7 " "$T/out" || fail "long message: $(cat "$T/out")"
wait_until 30 "every part out" parts_settled
printf '%s\t%s\n' +525512345601 "Su cita es mañana a las 9" +525512345602 "$long" >"$T/msgs"
check_exactly_once "$T/msgs"

ctl outbox --json >"$T/ob" || fail "outbox"
python3 - "$T/ob" <<'PY' || fail "outbox: $(cat "$T/ob")"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert [m["part_count"] for m in j] == [3, 1], j
for m in j:
    assert m["state"] in ("sent", "delivered"), m
    assert len({p["modem_id"] for p in m["parts"]}) == 1, m  # one SIM per message
PY

# inbox: a phone answers
simctl send +525512345601 m1 "SI, ahí estaré" >/dev/null
inbox_has() { [ "$(q "SELECT count(*) FROM incoming")" -ge 1 ]; }
wait_until 20 "the answer stored" inbox_has
ctl inbox --json >"$T/ib" || fail "inbox"
python3 - "$T/ib" <<'PY' || fail "inbox: $(cat "$T/ib")"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(j) == 1 and j[0]["from"] == "+525512345601" and j[0]["text"] == "SI, ahí estaré", j
PY

sent_counted() { # the snapshot counts the 4 parts sent today over both modems
	ctl status --json >"$T/sj" && python3 - "$T/sj" <<'PY'
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert j["daemon"]["running"] and len(j["modems"]) == 2 and all(m["live"] for m in j["modems"])
assert sum(m["sent_today"] for m in j["modems"]) == 4
assert j["incoming"]["messages"] == 1
PY
}
wait_until 20 "status JSON with the counts" sent_counted

puented_stop
ctl status >"$T/st" || fail "status after stop"
grep -q "^Daemon: NOT RUNNING (puented stopped); " "$T/st" || fail "after stop: $(cat "$T/st")"
echo "puentectl-daemon: ok"
