#!/usr/bin/env bash
# make soak: puented against puente-sim for SOAK_MINUTES (default 30) while every fault the
# simulator can make is thrown at three modems, alone and together: hangs, reboots (now and in
# the middle of AT+CMGS), unplug/replug, garbage on the line, SIMs pulled, storage full, send
# errors (+CMS 500/38), no credit; inbound messages arrive all along; in the first half puented
# is also SIGKILLed at random moments (PRAGMA integrity_check after each), the second half
# runs one process so its memory can be watched. The anonymized event log goes to an nginx
# WebDAV server on loopback (tests/integration/nginx-lib.bash) that is stopped for a while
# (down) or stopped and started a few times in a row (flapping); contacts imported along the
# way give it events.
#   tests/soak.sh [BUILD]   SOAK_MINUTES=5  SOAK_SEED=N  SOAK_KILLS=0 (no SIGKILL)
#                           SOAK_STRICT=1 (a message split across modems fails the run)
# Figures at the end: messages queued, sent (reached their phone), lost (must be 0),
# duplicated (only allowed where a part is "unknown", docs/store.md), inbound received (each
# must be stored, waited for up to SOAK_INBOUND_WAIT = 330 s: the 5-minute storage listing),
# recoveries, kills, RSS of the last process after warm-up and at the end; upload: events,
# batches received, outages, backlog at the end (0 once healed), the chain checked by
# docs/central/validate.py.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/longrun-lib.bash" "${1:-}" soak "${SOAK_TMPDIR:-/var/tmp}"
MIN=${SOAK_MINUTES:-30}
SEED=${SOAK_SEED:-$$}
KILLS=${SOAK_KILLS:-1}
RANDOM=$SEED
PUENTE_SEND_TIMEOUT=5 # seconds; write_conf also sets send_rate = 0
# daily_limit = 0 below: 30 minutes send about 3,000 parts, past the default 500 per SIM and
# day (a run of 2026-11-28 stopped sending after 20 minutes when all three SIMs reached it).
modems=(m1 m2 m3)
phones=(+525512345661 +525512345662 +525512345663 +525512345664)
sim_args=(-l 5-200 --seed "$SEED")
for m in "${modems[@]}"; do sim_args+=(-m "$m=$T/$m"); done
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
nginx_start
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
modem \"$T/m3\" { }
daily_limit = 0
# Retries every 5 s doubling up to 1 min: with the defaults (1 min up to 1 h) a part that met a
# few network errors waits its back-off well past the settle time though nothing is wrong.
retry {
	first_delay = 5s
	max_delay = 1m
}
$(upload_conf soakbox)
"
puented_start
wait_until 30 "a modem ready" modems_ready 1

rss() { awk '/^VmRSS/ {print $2}' "/proc/$pd_pid/status" 2>/dev/null || echo 0; }
integrity() {
	[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed after restart"
}
# One random fault on one random modem, undone later by heal(); some are one-shot.
fault() {
	local m=${modems[RANDOM % 3]}
	case $((RANDOM % 11)) in
	0) simctl hang "$m" ;;
	1) simctl reboot "$m" ;;
	2) simctl reboot "$m" +CMGS ;;
	3) simctl unplug "$m"; sleep 0.$((RANDOM % 9 + 1)); simctl replug "$m" ;;
	4) simctl garbage "$m" $((RANDOM % 2000 + 1)) ;;
	5) simctl sim "$m" remove ;;
	6) simctl full "$m" on ;;
	7) simctl fail "$m" 500 $((RANDOM % 3 + 1)) ;;
	8) simctl fail "$m" 38 ;;
	9) simctl credit "$m" off ;;
	10) simctl slow-prompt "$m" $((RANDOM % 3000)) ;;
	esac >/dev/null 2>&1 || true
}
# The upload server: down until the next heal, or flapping (stopped and started 2..4 times
# a few seconds apart).
upload_fault() {
	if [ $((RANDOM % 2)) = 0 ]; then
		nginx_stop
	else
		for _ in $(seq $((RANDOM % 3 + 2))); do
			nginx_stop; sleep $((RANDOM % 4 + 1)); nginx_start; sleep $((RANDOM % 3 + 1))
		done
	fi
	outages=$((outages + 1))
}
heal() {
	[ -n "$nginx_pid" ] || nginx_start
	for m in "${modems[@]}"; do
		simctl unhang "$m"; simctl sim "$m" insert; simctl full "$m" off
		simctl credit "$m" on; simctl slow-prompt "$m" 0
	done >/dev/null 2>&1 || true
}

: >"$T/msgs"
end=$((SECONDS + MIN * 60)) half=$((SECONDS + MIN * 30))
n=0 inbound=0 kills=0 rss0= rss_t=0 outages=0 imports=0
while [ "$SECONDS" -lt "$end" ]; do
	# A few messages (mixed single/multipart, GSM/UCS-2) queued through puentectl.
	make_messages 3 "$T/batch" "${phones[@]:n%4}" "${phones[@]:0:n%4}"
	sed -i "s/\t/\tS$n /" "$T/batch" # unique texts across batches
	queue_file "$T/batch"
	cat "$T/batch" >>"$T/msgs"
	n=$((n + 3))
	simctl send "${phones[RANDOM % 4]}" "${modems[RANDOM % 3]}" "entrada $inbound" >/dev/null 2>&1 &&
		inbound=$((inbound + 1))
	for _ in 1 2; do fault; done
	# An event for the upload now and then (contacts.imported), and the server's faults.
	if [ $((RANDOM % 3)) = 0 ]; then
		printf 'study_id,phone\nSOAK-%d,+5255%08d\n' "$n" "$n" >"$T/c.csv"
		"$PUENTECTL" --config "$CONF" contacts import "$T/c.csv" >/dev/null 2>&1 &&
			imports=$((imports + 1))
	fi
	[ $((RANDOM % 15)) = 0 ] && upload_fault
	sleep 1.$((RANDOM % 9))
	[ $((RANDOM % 4)) = 0 ] && heal
	if [ "$KILLS" = 1 ] && [ "$SECONDS" -lt "$half" ] && [ $((RANDOM % 12)) = 0 ]; then
		puented_kill; kills=$((kills + 1)); integrity; puented_start
	fi
	if [ "$SECONDS" -ge "$half" ] && [ -z "$rss0" ] && [ "$SECONDS" -ge $((half + 20)) ]; then
		rss0=$(rss) rss_pid=$pd_pid
	fi
	if ! kill -0 "$pd_pid" 2>/dev/null; then
		st=0; wait "$pd_pid" || st=$?
		fail "puented died (wait status $st$([ "$st" -gt 128 ] && echo ", signal $((st - 128))"))"
	fi
done
heal
# Settling may not finish (a modem that never recovers holds its parts): the figures are
# printed anyway and the run fails at the end.
stuck=0
# Up to 12 minutes: a message pinned to a SIM the bank holds for no credit (an hour, in
# memory, even after heal() gave the credit back) is resent whole from another SIM only
# after BANK_PIN_WAIT_S (600 s). The loop ends as soon as every part is settled.
end=$((SECONDS + ${SOAK_SETTLE:-720}))
while ! parts_settled && [ "$SECONDS" -lt "$end" ]; do sleep 1; done
parts_settled || stuck=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('queued','retry','sending')")
# The upload backlog drains once the server is back (a retry waits at most backoff_max = 1m,
# a partial batch is cut every 10 s).
# Then every event of the store must be in the batches (events still come: late reports).
end=$((SECONDS + 150))
while ! { backlog0 && uploaded_all; } && [ "$SECONDS" -lt "$end" ]; do sleep 3; done
# Every message injected must be stored. One injected last may still be on a SIM that was
# pulled or a modem that was reset (read when it is probed again), or its +CMTI lost on the
# line (read at the storage's next listing, every 5 minutes while ready: at/modem.h,
# AT_MODEM_LIST_INTERVAL_MS); so wait up to that and a little more, and say how long it took.
inbound_all() { [ "$(q "SELECT count(DISTINCT text) FROM incoming WHERE text LIKE 'entrada %'")" -ge "$inbound" ]; }
t_in=$SECONDS
end=$((SECONDS + ${SOAK_INBOUND_WAIT:-330}))
while ! inbound_all && [ "$SECONDS" -lt "$end" ]; do sleep 2; done
in_wait=$((SECONDS - t_in))
up_line=$(up_status)
uploaded_all && up_all=1 || up_all=0
sleep 2
rss1=$(rss)
[ "${rss_pid:-}" = "$pd_pid" ] || rss0=${rss0:-$rss1}
# Transitions back to "ready", less the first one of each modem at each start.
recoveries=$(grep -cE -- '-> ready' "$T/puented.log" || true)
recoveries=$((recoveries - 3 * (kills + 1)))
got_in=$(q "SELECT count(DISTINCT text) FROM incoming WHERE text LIKE 'entrada %'")
dup_in=$(q "SELECT count(*) - count(DISTINCT text) FROM incoming WHERE text LIKE 'entrada %'")
puented_stop
integrity
echo "soak: $MIN min, seed $SEED, $kills SIGKILLs, $recoveries recoveries"
q "SELECT state, count(*) FROM outgoing_parts GROUP BY state"
lostrc=0
python3 - "$DB" "$T/rec.jsonl" "${SOAK_STRICT:-0}" <<'PY' || lostrc=1
import collections, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
got = collections.Counter()
for l in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "message":
        got[(r["phone"], r["text"])] += 1
msgs = {}
for mid, to, text, state, modem in db.execute(
        "SELECT o.id, o.recipient, o.text, p.state, p.modem_id FROM outgoing o"
        " JOIN outgoing_parts p ON p.message_id = o.id"):
    m = msgs.setdefault(mid, [to, text, set(), set()])
    m[2].add(state)
    # The modems the parts went out from: a part never tried has none, and one still
    # waiting names only the last modem that tried it, so neither makes a message split
    # (a message still waiting at the end is counted by the settle check).
    if state in ("sent", "delivered", "undeliverable"):
        m[3].add(modem)
sent = lost = dup = dup_unknown = failed = split = 0
for to, text, states, modems in msgs.values():
    k = got[(to, text)]
    sent += k > 0
    if "failed" in states:
        failed += 1
    elif "unknown" in states:
        dup_unknown += k > 1
    elif k == 0 and len(modems) > 1:
        # Parts sent through two SIMs: the handset joins parts by originator and reference,
        # so it never sees the message whole (the bank must keep a message on one modem;
        # counted apart as in daemon-killrounds, fatal with SOAK_STRICT=1).
        split += 1
        print("  split across modems: %s %r: modems %s" % (to, text[:40], sorted(modems)))
    else:
        lost += k == 0
        dup += k > 1
        if k != 1:
            print("  %s %r: received %d times, parts %s" % (to, text[:40], k, sorted(states)))
print("messages queued %d, reached the phone %d, lost %d, duplicated %d,"
      " duplicated with a part unknown (allowed) %d, failed for good %d,"
      " never whole because split across modems %d"
      % (len(msgs), sent, lost, dup, dup_unknown, failed, split))
for err, n in db.execute("SELECT error, count(*) FROM outgoing_parts WHERE state = 'failed'"
                         " GROUP BY error ORDER BY 2 DESC LIMIT 5"):
    print("  parts failed for good: %d: %s" % (n, err))
strict = sys.argv[3] == "1"
sys.exit(1 if lost or dup or (strict and split) else 0)
PY
[ "$lostrc" = 0 ] || echo "LOST OR DUPLICATED (see above)"
echo "inbound: $inbound injected, $got_in stored ($dup_in stored twice: a kill before the modem's copy was deleted); waited $in_wait s for the last after the upload drained"
echo "RSS of puented: ${rss0:-?} kB after warm-up, $rss1 kB at the end"
events=$(q "SELECT count(*) FROM events")
uprc=0
valid=$(python3 "$src/docs/central/validate.py" "$T/www/up" 2>&1) || uprc=1
echo "upload: $events events ($imports contact imports), $(nginx_batches) batches received," \
	"$outages server outages (down or flapping); at the end: ${up_line:-no status}"
echo "upload check: $(echo "$valid" | tr '\n' ' ')"
inrc=0
if [ "$got_in" -lt "$inbound" ]; then
	echo "INBOUND NOT STORED: $((inbound - got_in)) of $inbound injected (missing: $(q "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $inbound) SELECT group_concat(i, ' ') FROM n WHERE 'entrada ' || i NOT IN (SELECT text FROM incoming)"))"
	inrc=1
fi
held=$(simctl status | grep -o 'held=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
echo "modems at the end: $(q "SELECT group_concat(state, ' ') FROM modems"); messages held in the network: $held"
[ "$lostrc" = 0 ] || fail "messages lost or duplicated"
[ "$inrc" = 0 ] || fail "inbound messages not stored (see above)"
[ "$uprc" = 0 ] || fail "the uploaded batches do not check out"
[ "$up_all" = 1 ] || fail "not every event of the store was uploaded"
echo "$up_line" | grep -q 'backlog 0 batches (0 events)' || fail "upload backlog left: $up_line"
[ "$stuck" = 0 ] || fail "$stuck parts never settled: $(q "SELECT group_concat(DISTINCT error) FROM outgoing_parts WHERE state IN ('queued','retry','sending')")"
echo "soak: ok"
