#!/usr/bin/env bash
# Crash safety: a run of PUENTE_MESSAGES messages through two modems while puented is
# SIGKILLed at PUENTE_ROUNDS random moments and restarted each time. The defaults (120
# messages, 8 rounds) keep make check short under ASan; the issue's full run is
#   PUENTE_MESSAGES=500 PUENTE_ROUNDS=20 tests/integration/daemon-killrounds.sh
# At the end no message is lost (every message whose parts are all "sent" reached its phone
# exactly once), parts caught by a kill are "unknown" and were not resent, and the counts
# are printed. PUENTE_SEED makes the kill moments repeatable.
. "$(dirname "$0")/daemon-lib.bash"
N=${PUENTE_MESSAGES:-120}
ROUNDS=${PUENTE_ROUNDS:-8}
SEED=${PUENTE_SEED:-$$}
PUENTE_SEND_TIMEOUT=5
RANDOM=$SEED

phones=(+525512345651 +525512345652 +525512345653 +525512345654)
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2" -l 5)
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
# The store must exist for queue_file's fall-back: a first start creates it.
puented_start
make_messages "$N" "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
t0=$SECONDS
for round in $(seq "$ROUNDS"); do
	[ "$round" = 1 ] || puented_start
	ms=$((300 + RANDOM % 1200)) # start-up (probe, SIM, network) takes some of it
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	puented_kill
	left=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('queued', 'retry')")
	echo "round $round: killed; $left parts left"
done
puented_start
wait_until $((40 + N / 4)) "every part settled" parts_settled
sleep 0.5
puented_stop
echo "rounds: $ROUNDS in $((SECONDS - t0)) s (seed $SEED)"
q "SELECT state, count(*) FROM outgoing_parts GROUP BY state"
python3 - "$DB" "$T/rec.jsonl" <<'PY' || fail "messages lost or duplicated"
import collections, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
got = collections.Counter()
for l in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "message":
        got[(r["phone"], r["text"])] += 1
msgs = {}
for mid, to, text, state, modem, ref, count in db.execute(
        "SELECT o.id, o.recipient, o.text, p.state, p.modem_id, o.concat_ref, o.part_count"
        " FROM outgoing o JOIN outgoing_parts p ON p.message_id = o.id"):
    m = msgs.setdefault(mid, [to, text, set(), set(), ref, count])
    m[2].add(state)
    if state in ("sent", "delivered", "undeliverable"):
        m[3].add(modem)  # only parts that went out say which SIM a message used
# Multi-part messages a handset may still hold incomplete (a part in doubt, or parts split
# over two SIMs), by (recipient, reference, parts).
stale = collections.Counter((m[0], m[4], m[5]) for m in msgs.values()
                            if m[5] > 1 and ("unknown" in m[2] or len(m[3]) > 1))
lost = dup = doubtful = doubtful_received = bad_state = split = collided = 0
for to, text, states, modems, ref, count in msgs.values():
    n = got[(to, text)]
    if not states <= {"sent", "delivered", "unknown"}:
        bad_state += 1
    if "unknown" in states:
        doubtful += 1
        doubtful_received += n
        dup += n > 1
    elif n == 0 and len(modems) > 1:
        # The parts went out through two SIMs: the handset joins parts by originator and
        # reference, so it never sees the message whole. The bank keeps the parts of a
        # message on one modem, also across restarts (docs/bank.md): fatal.
        split += 1
        print("  split across modems: %s %r" % (to, text[:40]))
    elif n == 0 and count > 1 and stale[(to, ref, count)] > 0:
        # An earlier message to this phone with the same 8-bit reference is still
        # incomplete on the handset, which joins this one's parts with it (real handsets
        # do the same). The store counts references per recipient: fatal.
        collided += 1
        print("  joined with an incomplete message of the same reference: %s %r"
              % (to, text[:40]))
    else:
        lost += n == 0
        dup += n > 1
        if n != 1:
            print("  %s %r: received %d times, parts %s" % (to, text[:40], n, sorted(states)))
print("messages %d: lost %d, duplicated %d, in doubt (a part unknown) %d of which %d arrived,"
      " split across modems %d, joined by a repeated reference %d, parts in a bad state %d"
      % (len(msgs), lost, dup, doubtful, doubtful_received, split, collided, bad_state))
sys.exit(1 if lost or dup or bad_state or split or collided else 0)
PY
echo "daemon-killrounds: ok"
