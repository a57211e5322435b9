#!/usr/bin/env bash
# docs/schema/event-v1.json is a valid JSON Schema (2020-12), accepts a header and an event as
# docs/upload.md shows them, and refuses what must never be uploaded: a phone number or a
# sentence in data, a nested value, an unknown field, a long subject.
set -euo pipefail
src=${PUENTE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 - "$src/docs/schema/event-v1.json" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
good = [
    {"schema": "puente.event/1", "device": "clinic-07", "batch": 1, "prev_sha256": "0" * 64,
     "first_seq": 1, "last_seq": 2, "events": 2, "key_id": "0badcafe"},
    {"seq": 1, "time": 1790000000, "clock_trusted": True, "type": "contact.enrolled",
     "subject": "0123456789abcdef", "data": {"arm": "sms", "stratum": "s2", "rule_set": "ab" * 32}},
    {"seq": 2, "time": 1790000001, "clock_trusted": False, "type": "modem.health",
     "data": {"modem_id": 1, "signal": 17, "registered": True}},
    {"seq": 3, "time": 1790000002, "clock_trusted": True, "type": "quiz.answer",
     "subject": "0123456789abcdef", "data": {"score": 0.75}},
    # the store's message events (docs/upload.md "Message events")
    {"seq": 4, "time": 1790000003, "clock_trusted": True, "type": "sms.sent",
     "subject": "0123456789abcdef", "data": {"message_id": 7, "parts": 2, "encoding": "ucs2",
     "modem_id": 1, "attempts": 2, "reminder": "week_12", "rule_set": "ab" * 32}},
    {"seq": 5, "time": 1790000004, "clock_trusted": True, "type": "sms.failed",
     "subject": "0123456789abcdef", "data": {"message_id": 8, "part": 1, "parts": 1,
     "attempts": 0, "reason": "not_sent"}},
]
bad = [
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"reason": "+5215512345678"}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"message_id": 5215512345678}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"reason": "please stop"}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"x": {"text": "hola"}}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {}, "phone": "+52155"},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {}, "subject": "STUDY-0001"},
    {"seq": 0, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"keyword": "5215512345678"}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.sent", "data": {"rule_set": "visit"}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.failed",
     "data": {"message_id": 1, "parts": 1, "reason": "modem_on_fire"}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.failed", "data": {"message_id": 1, "parts": 1}},
    {"seq": 1, "time": 1, "clock_trusted": True, "type": "sms.delivered", "data": {"message_id": 1}},
    {"schema": "puente.event/2", "device": "x", "batch": 1, "prev_sha256": "0" * 64,
     "first_seq": 1, "last_seq": 1, "events": 1, "key_id": "0badcafe"},
]
for i, o in enumerate(good):
    errs = list(v.iter_errors(o))
    assert not errs, f"good {i}: {errs[0].message}"
for i, o in enumerate(bad):
    assert list(v.iter_errors(o)), f"bad {i} accepted: {o}"
print(f"schema ok: {len(good)} accepted, {len(bad)} refused")
PY
