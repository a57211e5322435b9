#!/usr/bin/env bash
# The message events on real data (docs/upload.md "Message events"): puented sends through a
# simulated modem; a message to a contact gets one sms.sent and one sms.delivered carrying
# its contact, one to an unreachable phone sms.sent and sms.failed (undeliverable), one the
# network refuses sms.failed (refused); the exported batches carry them under the contact's
# pseudonym, never the number or the text. And the heartbeat: with no upload for 2 days and
# heartbeat_number set, exactly one heartbeat SMS reaches that phone, counts only.
. "$(dirname "$0")/daemon-lib.bash"

CONTACT=+525512345601 LOST=+525512345602 CENTRAL=+525512345609 REFUSED=+525512345603
sim_start -m "m1=$T/m1" -p "$CONTACT" -p "$LOST,reachable=no" -p "$CENTRAL" -p "$REFUSED"
write_conf "
modem \"$T/m1\" { }
upload {
  url = \"http://127.0.0.1:1/dav\"
  device = \"box-events\"
  heartbeat_days = 2
  heartbeat_number = \"$CENTRAL\"
}
"
printf 'study_id,phone,language,clinic\nSTUDY-0042,%s,es,c1\n' "$CONTACT" >"$T/contacts.csv"
"$PUENTECTL" --config "$CONF" contacts import "$T/contacts.csv" >/dev/null ||
	fail "contacts import refused"
# the last upload that worked, two days and a minute ago (nothing listens on port 1)
q "INSERT INTO settings (key, value) VALUES ('upload.last_ok', '$(($(date +%s) - 2 * 86400 - 60))')"

puented_start
wait_until 30 "the modem ready" modems_ready 1
heartbeat_arrived() { [ "$(record_count message)" -ge 1 ] && grep -q "no upload for 2 d" "$T/rec.jsonl"; }
wait_until 30 "the heartbeat SMS" heartbeat_arrived
# the daemon's one-line summary (STATUS=, puentectl status) ends with the upload's age
summary_says() { "$PUENTECTL" --config "$CONF" status | grep -q "^Daemon: running.*1 modem ready, [0-9]* queued, last upload 2 days ago"; }
wait_until 15 "the summary with the last upload" summary_says

n() { q "SELECT count(*) FROM events WHERE type = '$1'"; }
at_least() { [ "$(n "$1")" -ge "$2" ] && parts_settled; }
queue "$CONTACT" "Hola Maria, recuerde su cita del martes"
wait_until 30 "the contact's message delivered" at_least sms.delivered 2
simctl fail m1 1 1 >/dev/null || fail "puente-sim ctl fail" # +CMS 1: unassigned number
queue "$REFUSED" "Mensaje rechazado por la red"
wait_until 30 "the refused message failed" at_least sms.failed 1
queue "$LOST" "Mensaje que no llega"
wait_until 30 "the lost message reported undeliverable" at_least sms.failed 2

[ "$(n upload.heartbeat)" = 1 ] || fail "$(n upload.heartbeat) heartbeat events"
# the record's "message" lines: one heartbeat, to the central number
beats=$(python3 -c 'import json, sys
print(" ".join(r.get("phone", "?") for r in map(json.loads, open(sys.argv[1]))
               if r.get("event") == "message" and "no upload for 2 d" in r.get("text", "")))' "$T/rec.jsonl")
[ "$beats" = "$CENTRAL" ] || fail "heartbeat SMS received by: '$beats' (expected $CENTRAL once)"
# sent: the heartbeat, the contact's, the lost one; delivered: the heartbeat, the contact's
[ "$(n sms.sent)" = 3 ] || fail "sms.sent: $(q "SELECT payload FROM events WHERE type = 'sms.sent'")"
[ "$(n sms.delivered)" = 2 ] || fail "sms.delivered: $(n sms.delivered)"
contact=$(q "SELECT id FROM contacts WHERE study_id = 'STUDY-0042'")
[ "$(q "SELECT count(*) FROM events WHERE type IN ('sms.sent', 'sms.delivered')
        AND contact_id = $contact")" = 2 ] || fail "the contact's events do not carry her"
reasons=$(q "SELECT group_concat(json_extract(payload, '$.reason'), ',') FROM
             (SELECT payload FROM events WHERE type = 'sms.failed' ORDER BY seq)")
[ "$reasons" = "refused,undeliverable" ] || fail "sms.failed reasons: $reasons"
puented_stop

# what leaves the box: the export's batches, as the central team gets them
"$PUENTECTL" --config "$CONF" export --to "$T/usb" >/dev/null || fail "export failed"
python3 - "$T/usb/box-events" "$CONTACT" <<'PY'
import gzip, json, os, sys
d, phone = sys.argv[1], sys.argv[2]
types, raw = [], b""
for name in sorted(os.listdir(d)):
    data = gzip.decompress(open(os.path.join(d, name), "rb").read())
    raw += data
    types += [(json.loads(l)["type"], json.loads(l).get("subject")) for l in data.splitlines()[1:]]
for leak in (phone[1:].encode(), b"Maria", b"STUDY-0042", b"rechazado", b"CMS"):
    assert leak not in raw, f"{leak!r} in an uploaded batch"
sent = [s for t, s in types if t == "sms.sent"]
assert len(sent) == 3 and sum(s is not None for s in sent) == 1, sent
assert [t for t, _ in types].count("upload.heartbeat") == 1
print("upload-events: sent", len(sent), "delivered", [t for t, _ in types].count("sms.delivered"),
      "failed", [t for t, _ in types].count("sms.failed"), "; heartbeat once; no number or text")
PY
