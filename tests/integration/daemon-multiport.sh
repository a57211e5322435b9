#!/usr/bin/env bash
# A USB modem with four tty interfaces (diagnostics, AT, GPS spewing NMEA, a silent one) found
# through one glob, like /dev/serial/by-id/*: puented uses the AT port, leaves the three others
# after a bounded probe each (each logged once, never probed again), and takes no NMEA line
# for a modem. Then the modem is replugged with every node renamed (new ptys, new links) while
# a message is half sent and others wait: it is known again by its IMEI (same store row, its
# sent counter goes on), the pinned rest of the half-sent message goes out through it, and every
# message queued before the replug arrives exactly once.
. "$(dirname "$0")/daemon-lib.bash"
phones=(+525512345671 +525512345672)
base=$T/by-id/usb-HUAWEI_E3372_0123456789
sim_start -m "m1=$base,ports=diag:at:nmea:silent,dialect=huawei" -p "${phones[0]}" -p "${phones[1]}"
write_conf "
modem \"$T/by-id/usb-*\" { }
"
puented_start
wait_until 30 "the AT port ready" modems_ready 1
id1=$(q "SELECT id FROM modems")
[ "$(q "SELECT device FROM modems")" = "$base-if01-port0" ] ||
	fail "the modem was found on $(q "SELECT device FROM modems"), not the AT interface 01"

started=$SECONDS
make_messages 4 "$T/msgs1" "${phones[@]}"
queue_file "$T/msgs1"
wait_until 30 "the first messages sent" parts_settled
check_exactly_once "$T/msgs1"
sent1=$(q "SELECT sent_today FROM modems WHERE id = $id1")
[ "$sent1" -ge 4 ] || fail "sent_today is $sent1 after 4 messages"
# rejected N: N "not used" lines in the log (one per non-AT interface).
rejected() { [ "$(grep -c ': not used: ' "$T/puented.log")" -ge "$1" ]; }
wait_until 30 "the three other interfaces left alone" rejected 3

# A three-part message, its prompts 2.5 s late: once its first part is out, the replug comes
# while the second waits for its prompt (its PDU not written: not in doubt, pinned to m1).
simctl slow-prompt m1 2500 >/dev/null
python3 - "$T/msgs2" "${phones[0]}" "${phones[1]}" <<'PY'
import sys
out, a, b = sys.argv[1:4]
with open(out, "w", encoding="utf-8") as f:
    f.write("%s\tPinned: %s\n" % (a, "la vacuna de las ocho semanas es el martes. " * 8))
    for i in range(5):
        f.write("%s\tQueued before the replug %d\n" % ((a, b)[i % 2], i))
PY
queue_file "$T/msgs2"
first_part_out() {
	python3 -c 'import json,sys
sys.exit(0 if any(r.get("event") == "part" and r.get("seq") == 1 and r.get("total") == 3
                  for r in map(json.loads, open(sys.argv[1]))) else 1)' "$T/rec.jsonl"
}
wait_until 20 "the first part of the pinned message" first_part_out
out=$(simctl replug m1 renamed)
simctl slow-prompt m1 0 >/dev/null
pinned_parts() {
	python3 -c 'import json,sys
print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r.get("event") == "part" and r.get("total") == 3))' "$T/rec.jsonl"
}
[ "$(pinned_parts)" = 1 ] || fail "$(pinned_parts) parts of the pinned message out before the replug, not 1"
echo "replugged renamed: $out"
[ ! -e "$base-if01-port0" ] || fail "the old link is still there"
[ -L "$base-r1-if01-port0" ] || fail "no renamed link: $(ls "$T/by-id")"

moved() { [ "$(q "SELECT device FROM modems WHERE id = $id1")" = "$base-r1-if01-port0" ] &&
	[ "$(q "SELECT state FROM modems WHERE id = $id1")" = ready ]; }
wait_until 40 "the modem known again behind its renamed AT port" moved
wait_until 40 "every part settled" parts_settled
[ "$(q "SELECT count(*) FROM modems")" = 1 ] ||
	fail "$(q "SELECT count(*) FROM modems") store rows for one modem: $(q "SELECT imei, device FROM modems")"
cat "$T/msgs1" "$T/msgs2" >"$T/all"
check_exactly_once "$T/all"
[ "$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'unknown'")" = 0 ] ||
	fail "a part in doubt: the PDU of the interrupted part was written"
[ "$(q "SELECT count(DISTINCT modem_id) FROM outgoing_parts")" = 1 ] ||
	fail "parts went out through $(q "SELECT group_concat(DISTINCT modem_id) FROM outgoing_parts")"
# The rest went after the replug, through the same modem, under the same reference: no
# "resent whole" (that would be a second row and three more parts).
[ "$(pinned_parts)" = 3 ] || fail "the pinned message took $(pinned_parts) parts"
[ "$(q "SELECT count(*) FROM outgoing")" = 10 ] || fail "a message was queued again"
sent2=$(q "SELECT sent_today FROM modems WHERE id = $id1")
parts=$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('sent', 'delivered')")
[ "$sent2" = "$parts" ] || fail "sent_today $sent2 after the replug, $parts parts sent in all"

# Bounded probing: each non-AT node was opened once and rejected once, before and after the
# renaming (six in all), and stays rejected while it exists (a scan every 3 s).
wait_until 30 "the renamed non-AT interfaces left alone" rejected 6
written() { simctl ports m1 | awk '$1 == "port" && $3 != "at" { printf "%s %s ", $2, $6 }'; }
before=$(written)
sleep 3.5
[ "$(written)" = "$before" ] || fail "bytes written to non-AT interfaces after their rejection: $before, then $(written)"
echo "written to each non-AT interface: $before"
for f in if00 if02 if03 r1-if00 r1-if02 r1-if03; do
	n=$(grep -c -- "_0123456789-$f-port0 opened" "$T/puented.log" || true)
	[ "$n" = 1 ] || fail "$f opened $n times"
	n=$(grep -c -- "_0123456789-$f-port0: not used: " "$T/puented.log" || true)
	[ "$n" = 1 ] || fail "$f rejected $n times"
	lines=$(grep -c -- "_0123456789-$f-port0" "$T/puented.log" || true)
	[ "$lines" -le 12 ] || fail "$lines log lines about $f"
done
grep -q 'GPGGA' "$T/puented.log" && fail "NMEA text reached the log"
echo "non-AT interfaces: $(grep -c ': not used: ' "$T/puented.log") rejections in $((SECONDS - started)) s of traffic; log $(wc -l <"$T/puented.log") lines"
puented_stop
echo "daemon-multiport: ok"
