#!/usr/bin/env bash
# One modem unplugged in the middle of a run and plugged back: the store and the status say
# "unplugged" meanwhile, the rest of the queue goes through the other modem, the replugged
# modem keeps its store row (matched by IMEI) and is used again; nothing is duplicated and a
# message is missing only if one of its parts was in flight at the unplug (state "unknown").
. "$(dirname "$0")/daemon-lib.bash"
N=${PUENTE_MESSAGES:-80}
export PUENTED_TEST_SEND_RATE=0

phones=(+525512345611 +525512345612 +525512345613)
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2" -l 40)
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2
id1=$(q "SELECT id FROM modems WHERE device = '$T/m1'")

make_messages "$N" "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
m1_parts() { python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("event") == "part" and json.loads(l)["modem"] == "m1"))' "$T/rec.jsonl"; }
at_least_parts() { [ "$(record_count part)" -ge "$1" ]; }
wait_until 30 "a few parts out" at_least_parts 12
simctl unplug m1 >/dev/null
is_unplugged() { [ "$(q "SELECT state FROM modems WHERE id = $id1")" = unplugged ]; }
wait_until 10 "m1 marked unplugged" is_unplugged
echo "m1 unplugged after $(m1_parts) of its parts"
before=$(m1_parts)
# The other modem carries on meanwhile.
more=$(($(record_count part) + 10))
wait_until 30 "m2 carrying on" at_least_parts "$more"
[ "$(m1_parts)" = "$before" ] || fail "parts went out through an unplugged modem"
snap=$(q "SELECT value FROM settings WHERE key = 'daemon.status'")
echo "$snap" | grep -q '"state":"unplugged"' || sleep 1
snap=$(q "SELECT value FROM settings WHERE key = 'daemon.status'")
echo "$snap" | grep -q '"state":"unplugged"' || fail "status does not show the unplugged modem: $snap"

simctl replug m1 >/dev/null
ready1() { [ "$(q "SELECT state FROM modems WHERE id = $id1")" = ready ] ||
	[ "$(q "SELECT state FROM modems WHERE id = $id1")" = sending ]; }
wait_until 20 "m1 back" ready1
[ "$(q "SELECT count(*) FROM modems")" = 2 ] || fail "the replugged modem got a new identity"
# Queue more: the replugged modem takes its share.
make_messages 20 "$T/msgs2" "${phones[@]}"
sed -i 's/\t/\tsecond round: /' "$T/msgs2"
queue_file "$T/msgs2"
wait_until 60 "every part settled" parts_settled
cat "$T/msgs" "$T/msgs2" >"$T/all"
[ "$(m1_parts)" -gt "$before" ] || fail "m1 not used after the replug"

unknown=$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'unknown'")
echo "parts unknown (in flight at the unplug): $unknown"
[ "$unknown" -le 1 ] || fail "$unknown parts unknown; one modem had at most one in flight"
if [ "$unknown" = 0 ]; then
	check_exactly_once "$T/all"
else
	# The message whose part was in flight may be incomplete; nothing else.
	q "SELECT o.recipient || char(9) || o.text FROM outgoing o JOIN outgoing_parts p
	   ON p.message_id = o.id WHERE p.state = 'unknown'" >"$T/doubtful"
	grep -vxFf "$T/doubtful" "$T/all" >"$T/sure" || true
	python3 - "$T/rec.jsonl" "$T/sure" "$T/doubtful" <<'PY' || fail "lost or duplicated messages"
import collections, json, sys
got = collections.Counter()
for l in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "message":
        got[(r["phone"], r["text"])] += 1
sure = [tuple(l.rstrip("\n").split("\t", 1)) for l in open(sys.argv[2], encoding="utf-8")]
doubt = [tuple(l.rstrip("\n").split("\t", 1)) for l in open(sys.argv[3], encoding="utf-8")]
bad = [k for k in sure if got[k] != 1] + [k for k in doubt if got[k] > 1]
print("sure %d all once; doubtful %d (received %d)" % (len(sure), len(doubt),
      sum(got[k] for k in doubt)))
sys.exit(1 if bad else 0)
PY
fi
puented_stop
echo "daemon-unplug: ok"
