#!/usr/bin/env bash
# No credit on one SIM (puente-sim `credit MODEM off`: +CMS ERROR: 21 to every AT+CMGS): the
# messages go out through the other modem, each once and whole (multipart ones from one
# modem), none fails, and the status says the SIM has no credit in plain words. With no
# credit on every SIM the messages wait in the queue instead of failing (docs/bank.md).
. "$(dirname "$0")/daemon-lib.bash"
N=${PUENTE_MESSAGES_CREDIT:-15}

phones=(+525512345611 +525512345612 +525512345613)
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2")
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
simctl credit m1 off >/dev/null || fail "puente-sim has no credit fault"
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2

make_messages "$N" "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
wait_until 60 "every part sent" parts_settled
for _ in $(seq 50); do
	[ "$(record_count message)" -ge "$N" ] && break
	sleep 0.1
done
check_exactly_once "$T/msgs" || fail "not every message exactly once"
failed=$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'failed'")
[ "$failed" = 0 ] || fail "$failed parts failed: $(q "SELECT error FROM outgoing_parts WHERE state = 'failed' LIMIT 3")"
from_m1=$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("event") == "part" and json.loads(l).get("modem") == "m1"))' "$T/rec.jsonl")
[ "$from_m1" = 0 ] || fail "$from_m1 parts reached phones through the SIM without credit"

# The status snapshot (what puentectl status shows) says so.
no_credit_shown() {
	q "SELECT value FROM settings WHERE key = 'daemon.status'" | grep -q '"health":"no credit'
}
wait_until 15 "the status naming the SIM without credit" no_credit_shown
"$PUENTECTL" --config "$CONF" status | grep -i "no credit" || fail "puentectl status does not say 'no credit'"

# No credit anywhere: the next messages wait (retry), none fails.
simctl credit m2 off >/dev/null
make_messages 3 "$T/msgs2" "${phones[@]}"
sed -i 's/\t/\tsin saldo: /' "$T/msgs2"
queue_file "$T/msgs2"
all_refused() { [ "$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'retry' AND error LIKE 'no credit%'")" -ge 1 ]; }
wait_until 30 "a part refused on both modems" all_refused
sleep 2 # the refusals settle; nothing may fail meanwhile
waiting=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('queued', 'retry')")
failed=$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'failed'")
[ "$failed" = 0 ] || fail "$failed parts failed with no credit anywhere: $(q "SELECT error FROM outgoing_parts WHERE state = 'failed' LIMIT 3")"
[ "$waiting" -ge 3 ] || fail "only $waiting parts waiting: $(q "SELECT state, count(*) FROM outgoing_parts GROUP BY state")"
echo "with no credit anywhere: $waiting parts waiting, none failed"
puented_stop
echo "daemon-credit: ok"
