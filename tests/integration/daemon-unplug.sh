#!/usr/bin/env bash
# One modem unplugged in the middle of a run and plugged back: the store and the status say
# "unplugged" meanwhile, the rest of the queue goes through the other modem, the replugged
# modem keeps its store row (matched by IMEI) and is used again; nothing is duplicated and a
# message is missing only if one of its parts was in flight at the unplug (state "unknown").
. "$(dirname "$0")/daemon-lib.bash"
N=${PUENTE_MESSAGES:-80}

phones=(+525512345611 +525512345612 +525512345613)
# 150 ms a send: the queue lasts seconds, so the unplug lands in the middle of it (at 40 ms
# the whole queue could go out before the test saw 12 parts and unplugged m1).
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2" -l 150)
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
# The other modem carries on meanwhile: with fresh work queued now, so this holds even when a
# loaded machine let most of the first queue go out before the unplug.
make_messages 15 "$T/msgs_mid" "${phones[@]}"
sed -i 's/\t/\twhile m1 is out: /' "$T/msgs_mid"
queue_file "$T/msgs_mid"
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
cat "$T/msgs" "$T/msgs_mid" "$T/msgs2" >"$T/all"
[ "$(m1_parts)" -gt "$before" ] || fail "m1 not used after the replug"

unknown=$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'unknown'")
echo "parts unknown (in flight at the unplug): $unknown"
[ "$unknown" -le 1 ] || fail "$unknown parts unknown; one modem had at most one in flight"
# Every message once, whole; a message with the part in flight at the unplug may be missing;
# one whose parts went out through both modems (first parts before the unplug, the rest
# after) cannot be joined by the handset: the bank keeps a message's parts on one modem
# (docs/bank.md), so any is fatal.
python3 - "$DB" "$T/rec.jsonl" "$T/all" <<'PY' || fail "lost or duplicated messages"
import collections, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
got = collections.Counter()
for l in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "message":
        got[(r["phone"], r["text"])] += 1
info = {}
for to, text, state, modem in db.execute(
        "SELECT o.recipient, o.text, p.state, p.modem_id FROM outgoing o"
        " JOIN outgoing_parts p ON p.message_id = o.id"):
    i = info.setdefault((to, text), [set(), set()])
    i[0].add(state)
    i[1].add(modem)
want = [tuple(l.rstrip("\n").split("\t", 1)) for l in open(sys.argv[3], encoding="utf-8")]
bad = split = doubt = 0
for k in want:
    states, modems = info.get(k, (set(), set()))
    n = got[k]
    if "unknown" in states:
        doubt += 1
        bad += n > 1
    elif n == 0 and len(modems) > 1:
        split += 1
        print("  split across modems:", k[0], k[1][:40])
    elif n != 1:
        bad += 1
        print("  %s %r received %d times" % (k[0], k[1][:40], n))
extra = sum(n for k, n in got.items() if k not in info)
print("messages %d: wrong %d, in doubt %d, split across modems %d, unexpected %d; by modem %s"
      % (len(want), bad, doubt, split, extra,
         dict(collections.Counter(json.loads(l)["modem"] for l in open(sys.argv[2])
                                  if '"message"' in l))))
sys.exit(1 if bad or extra or split else 0)
PY
puented_stop
echo "daemon-unplug: ok"
