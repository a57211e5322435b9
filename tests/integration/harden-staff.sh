#!/usr/bin/env bash
# Staff commands and spoofing end to end (docs/hardening.md, daemon/staff.h): ESTADO and
# PRUEBA from a configured staff number (written in national form in puente.conf) are answered
# in one SMS each; the same commands from an alphanumeric sender that spells the staff
# number, from another alphanumeric sender, from a short code and from an unconfigured number
# are not obeyed (no reply; logged); and an auto-responder at a staff number that answers
# every SMS with ESTADO (two auto-repliers texting each other) gets at most
# staff_replies_per_hour replies, then silence: the loop stops by itself.
. "$(dirname "$0")/daemon-lib.bash"
STAFF=+525512345678 ECHO=+525512340000 OTHER=+525599999999
# ECHO answers everything with ESTADO after 1.5 s: the other auto-replier (1.5 s: the same text
# from the same sender with the same SC time stamp, to the second, is a second reading of one
# SMS for the store, docs/store.md).
sim_start -m "m1=$T/m1" -p "$STAFF" -p "$ECHO,reply=ESTADO,delay=1500" -p "$OTHER"
write_conf "
modem \"$T/m1\" { }
country = \"MX\"
clinic norte {
	staff = { \"55 1234 5678\", \"+525512340000\" }
}
staff_replies_per_hour = 3
"
puented_start
wait_until 30 "modem ready" modems_ready 1
# The first command a new box receives is answered too (no wait for a first inbox pass);
# ESTADO reads the status snapshot, so wait until it shows the modem ready.
snap_ready() { q "SELECT value FROM settings WHERE key = 'daemon.status'" | grep -q '"modems_ready":1'; }
wait_until 30 "the status snapshot" snap_ready

# got PHONE PREFIX [N]: the phone received at least N (1) whole messages starting with PREFIX.
got() {
	python3 - "$T/rec.jsonl" "$1" "$2" "${3:-1}" <<'PY'
import json, sys
rec, phone, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
k = sum(1 for l in open(rec, encoding="utf-8") for r in [json.loads(l)]
        if r["event"] == "message" and r["phone"] == phone and r["text"].startswith(prefix))
sys.exit(0 if k >= n else 1)
PY
}
replies_to() { # PHONE: whole messages the phone received
	python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1], encoding="utf-8") for r in [json.loads(l)]
          if r["event"] == "message" and r["phone"] == sys.argv[2]))' "$T/rec.jsonl" "$1"
}
logged() { grep -qF "$1" "$T/puented.log"; }

# 1. The staff number is obeyed.
simctl send "$STAFF" m1 "Estado" >/dev/null
wait_until 30 "the ESTADO reply" got "$STAFF" "Puente: modems 1/1"
simctl send "$STAFF" m1 " prueba. " >/dev/null
wait_until 30 "the PRUEBA reply" got "$STAFF" "Puente: PRUEBA OK"
echo "staff: ESTADO and PRUEBA from $STAFF answered"

# 2. Spoofable and unknown senders are not.
simctl send 5512345678 m1 ESTADO >/dev/null || true # digits in an alphanumeric field, or national
simctl send CLINICA m1 ESTADO >/dev/null
simctl send 333 m1 PRUEBA >/dev/null
simctl send "$OTHER" m1 ESTADO >/dev/null
wait_until 30 "the alphanumeric sender logged" logged "ESTADO from CLINICA ignored: an alphanumeric sender"
wait_until 30 "the short code logged" logged "from 333 ignored"
wait_until 30 "the unknown number logged" logged "ESTADO from $OTHER ignored: not a staff number"
# Every one of them handled (staff and rules have seen them), and no reply queued to any.
handled() { [ "$(q "SELECT count(*) FROM incoming WHERE handled = 0")" = 0 ]; }
wait_until 30 "the inbox handled" handled
q "SELECT sender, text FROM incoming ORDER BY id" | sed 's/^/  stored: /'
n=$(q "SELECT count(*) FROM outgoing WHERE recipient <> '$STAFF'")
[ "$n" = 0 ] || fail "$n replies queued to senders that are not staff: $(q "SELECT recipient FROM outgoing WHERE recipient <> '$STAFF'")"
# "5512345678" is the staff number in national form: a network gives that for a national
# sender (type 0xA1), which is the staff member; as an alphanumeric sender it is not.
echo "staff: CLINICA, 333 and $OTHER ignored (the national form 5512345678: $(grep -F '[sender=5512345678]' "$T/puented.log" | tail -n 1 | sed 's/.*\] //'))"

# 3. Two auto-repliers: the box answers ECHO's ESTADO, ECHO answers with ESTADO, ...
simctl send "$ECHO" m1 ESTADO >/dev/null
wait_until 60 "the silence logged" logged "no more automatic replies to $ECHO this hour"
wait_until 30 "the third reply" got "$ECHO" "Puente" 3
# ECHO answered the third reply too; once that ESTADO is handled nothing more may come.
wait_until 30 "ECHO's fourth ESTADO" sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM incoming WHERE sender = '$ECHO'\") -ge 4 ]"
wait_until 30 "the inbox handled" handled
parts_settled || wait_until 30 "the queue settled" parts_settled
n=$(replies_to "$ECHO") in=$(q "SELECT count(*) FROM incoming WHERE sender = '$ECHO'")
[ "$n" = 3 ] || fail "the auto-responder got $n replies; expected 3 (staff_replies_per_hour)"
[ "$in" -le 5 ] || fail "the loop went on: $in messages from the auto-responder"
echo "staff: the auto-responder got $n replies and sent $in messages, then the loop stopped"
puented_stop
echo "harden-staff: ok"
