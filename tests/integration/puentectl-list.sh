#!/usr/bin/env bash
# puentectl outbox and inbox: newest first, --limit, message states summed up from their
# parts, long and multi-line texts cut to one line, the JSON forms, and usage errors.
. "$(dirname "$0")/puentectl-lib.bash"

run 1 outbox
err_is "puentectl outbox: no database at $DB yet: puented has not run with this configuration"
run 0 send --to 5512345678 "primero"
run 0 send --priority 2 --to 5587654321 "$(python3 -c 'print("segundo " * 30)')" # 2 parts
run 0 send --to 5511112222 "tercero
con salto de línea"

run 0 outbox
python3 - "$T/out" <<'PY' || fail "outbox text: $(cat "$T/out")"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines[0].split() == ["ID", "TO", "STATE", "SENT", "PRI", "TEXT"], lines[0]
rows = [l.split(None, 5) for l in lines[1:]]
assert [r[0] for r in rows] == ["3", "2", "1"], rows
assert rows[0][1:5] == ["+525511112222", "queued", "0/1", "0"], rows[0]
assert rows[0][5] == "tercero con salto de línea", rows[0]
assert rows[1][1:5] == ["+525587654321", "queued", "0/2", "2"], rows[1]
assert rows[1][5].endswith("...") and len(rows[1][5]) == 48 + 3, rows[1]
PY
run 0 outbox --limit 2
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "outbox --limit 2: $(cat "$T/out")"

# states summed up: part 1 of message 2 sent, part 2 failed -> failed; message 1 delivered
q "UPDATE outgoing_parts SET state = 'sent', attempts = 1 WHERE message_id = 2 AND seq = 1" >/dev/null
q "UPDATE outgoing_parts SET state = 'failed', attempts = 3 WHERE message_id = 2 AND seq = 2" >/dev/null
q "UPDATE outgoing_parts SET state = 'delivered', attempts = 1 WHERE message_id = 1" >/dev/null
run 0 outbox
grep -qE '^2 +\+525587654321 +failed +1/2 ' "$T/out" || fail "message 2 not failed 1/2: $(cat "$T/out")"
grep -qE '^1 +\+525512345678 +delivered +1/1 ' "$T/out" || fail "message 1 not delivered: $(cat "$T/out")"
run 0 outbox --json
json_check "[m['id'] for m in j] == [3, 2, 1] and j[1]['state'] == 'failed' and [p['state'] for p in j[1]['parts']] == ['sent', 'failed'] and j[1]['parts'][1]['attempts'] == 3 and j[1]['text'] == 'segundo ' * 30 and j[1]['part_count'] == 2 and j[1]['priority'] == 2"
run 0 outbox --json --limit 1
json_check "len(j) == 1 and j[0]['id'] == 3 and j[0]['text'] == 'tercero\ncon salto de línea'"

run 2 outbox --limit 0
err_is "puentectl outbox: --limit '0': expected a whole number from 1 to 100000"
run 2 outbox --limit
err_is "puentectl outbox: option '--limit' needs an argument"
run 2 outbox --unhandled
err_is "puentectl outbox: unknown option '--unhandled' (try 'puentectl outbox --help')"
run 0 outbox --help
out_has "Usage: puentectl [--config FILE] outbox [--json] [--limit N]"

# --- inbox ---
run 0 inbox
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "empty inbox: $(cat "$T/out")"
run 0 inbox --json
json_check "j == []"
now=$(date +%s)
q "INSERT INTO incoming (sender, text, parts, complete, sc_time, received, handled) VALUES
   ('+525512345678', 'SI', 1, 1, $now, $((now - 120)), 1),
   ('+525587654321', 'No puedo ir, ¿me cambia la cita? 😀', 2, 1, $now, $((now - 60)), 0),
   ('TELCEL', 'Su saldo es [...]', 3, 0, $now, $now, 0)" >/dev/null
run 0 inbox
python3 - "$T/out" <<'PY' || fail "inbox text: $(cat "$T/out")"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines[0].split() == ["ID", "RECEIVED", "FROM", "PARTS", "STATE", "TEXT"], lines[0]
rows = [l.split(None, 7) for l in lines[1:]]
assert [r[0] for r in rows] == ["3", "2", "1"], rows
assert rows[0][3:6] == ["TELCEL", "3", "incomplete"], rows[0]
assert rows[1][3:6] == ["+525587654321", "2", "new"], rows[1]
assert rows[1][6] + " " + rows[1][7] == "No puedo ir, ¿me cambia la cita? 😀", rows[1]
assert rows[2][5:] == ["handled", "SI"], rows[2]
PY
run 0 inbox --unhandled --json
json_check "[m['id'] for m in j] == [3, 2] and j[1]['from'] == '+525587654321' and j[1]['parts'] == 2 and j[1]['complete'] and not j[1]['handled'] and j[0]['complete'] is False"
run 0 inbox --limit 1 --json
json_check "len(j) == 1 and j[0]['text'] == 'Su saldo es [...]'"
run 2 inbox --limit x
err_is "puentectl inbox: --limit 'x': expected a whole number from 1 to 100000"

finish
