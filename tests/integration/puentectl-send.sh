#!/usr/bin/env bash
# puentectl send: numbers normalized or refused with the exact error, texts encoded into the
# store's PDUs (Spanish, emoji, multipart: part counts and texts decoded back), priorities,
# usage errors, the wake datagram, and concurrent senders losing nothing.
. "$(dirname "$0")/puentectl-lib.bash"

# --- refusals: nothing is queued, the message says what is wrong ---
run 1 send --to abc "hola"
err_is "puentectl send: invalid number 'abc': contains a letter"
run 1 send --to 12 "hola"
err_is "puentectl send: invalid number '12': is too short for its country"
run 1 send --to "+52 55 1234 5678 1234" "hola"
err_has "puentectl send: invalid number '+52 55 1234 5678 1234': "
run 1 send --to "55-12+34" "hola"
err_has "invalid number '55-12+34': "
run 2 send "hola"
err_is "puentectl send: no recipient: --to NUMBER is required (try 'puentectl send --help')"
run 2 send --to 5512345678
err_is "puentectl send: no text given (try 'puentectl send --help')"
run 2 send --to 5512345678 ""
err_is "puentectl send: the text is empty (try 'puentectl send --help')"
run 2 send --to 5512345678 hola mundo
err_is "puentectl send: give the text as one argument (quote it) (try 'puentectl send --help')"
run 2 send --priority high --to 5512345678 hola
err_is "puentectl send: --priority 'high': expected a whole number from -1000 to 1000 (try 'puentectl send --help')"
run 2 send --bogus --to 5512345678 hola
err_is "puentectl send: unknown option '--bogus' (try 'puentectl send --help')"
run 1 send --to 5512345678 "$(python3 -c 'print("a" * 5000)')"
err_is "puentectl send: text too long: 5000 bytes, at most 4095"
[ ! -e "$DB" ] || [ "$(q 'SELECT count(*) FROM outgoing')" = 0 ] || fail "a refused send queued something"
run 0 send --help
out_has "Usage: puentectl [--config FILE] send"

# --- accepted: national and international forms, the summary line ---
run 0 send --to "55 1234 5678" "Hola, su cita es mañana"
out_is "queued message 1 to +525512345678: 1 part, gsm7 (23 septets)"
err_is "puentectl send: puented is not listening; the message waits in the queue until it runs"
run 0 send --to "044 55 8765 4321" "¿Vendrá el lunes?" # á is not GSM 7-bit
out_is "queued message 2 to +525587654321: 1 part, ucs2 (17 UTF-16 units)"
run 0 send --to "+1 (415) 555-0100" "Appointment reminder"
out_is "queued message 3 to +14155550100: 1 part, gsm7 (20 septets)"

# expect TEXT PARTS ENCODING: queues TEXT, checks the summary and that the PDUs decode
# (puentectl pdu decode) to TEXT with status reports requested and one concatenation ref.
# A single part's PDU is stored; the parts of a longer message are not (puented encodes them
# at send time with the reference the store counted, docs/bank.md): encoded here the same
# way with that reference.
expect() {
	local text=$1 parts=$2 enc=$3 id pdus ref
	run 0 send --json --to 5512345678 "$text"
	json_check "j['parts'] == $parts and j['encoding'] == '$enc' and j['to'] == '+525512345678'"
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/out")
	[ "$(q "SELECT part_count || ' ' || encoding FROM outgoing WHERE id = $id")" = "$parts $enc" ] ||
		fail "stored message $id: $(q "SELECT part_count, encoding FROM outgoing WHERE id = $id")"
	if [ "$parts" = 1 ]; then
		pdus=$(q "SELECT pdu FROM outgoing_parts WHERE message_id = $id ORDER BY seq")
	else
		[ "$(q "SELECT count(*) FROM outgoing_parts WHERE message_id = $id AND pdu IS NULL")" = "$parts" ] ||
			fail "message $id: PDUs stored for a multi-part message"
		ref=$(q "SELECT concat_ref FROM outgoing WHERE id = $id")
		pdus=$("$CTL" pdu encode --report --ref "$ref" --to +525512345678 "$text" | awk 'NF == 2 { print $2 }')
	fi
	# shellcheck disable=SC2086
	"$CTL" pdu decode --mo $pdus >"$T/dec" || fail "PDUs of message $id do not decode"
	python3 - "$T/dec" "$text" "$parts" <<'PY' || fail "decoded parts of message $id differ from '$text'"
import json, sys
parts = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
text, n = sys.argv[2], int(sys.argv[3])
ok = len(parts) == n and "".join(p["text"] for p in parts) == text
ok = ok and all(p["status_report_request"] for p in parts)
if n > 1:
    ok = ok and len({p["concatenation"]["reference"] for p in parts}) == 1
    ok = ok and [p["concatenation"]["sequence"] for p in parts] == list(range(1, n + 1))
sys.exit(0 if ok else 1)
PY
}
expect "Recuerde su cita el martes a las 9:00. ¡Gracias!" 1 gsm7
expect "Niño, señora, corazón: cita mañana" 1 ucs2 # ó is not GSM 7-bit
expect "Gracias 😀" 1 ucs2
expect "$(python3 -c 'print("a" * 160)')" 1 gsm7
expect "$(python3 -c 'print("a" * 161)')" 2 gsm7
expect "$(python3 -c 'print("ab{}" * 100)')" 4 gsm7 # { } take two septets each: 600
expect "$(python3 -c 'print("ó" * 70)')" 1 ucs2
expect "$(python3 -c 'print("ó" * 71)')" 2 ucs2
expect "$(python3 -c 'print("😀" * 35)')" 1 ucs2 # 70 UTF-16 units
expect "$(python3 -c 'print("😀" * 36)')" 2 ucs2 # surrogate pairs are never split
# the multi-part messages to one number took the recipient's references in turn
refs=$(q "SELECT group_concat(concat_ref, ' ') FROM (SELECT concat_ref FROM outgoing WHERE recipient = '+525512345678' AND part_count > 1 ORDER BY id)")
[ "$refs" = "0 1 2 3" ] || fail "references of the multi-part messages: $refs"
printf 'Desde stdin: su cita\n' | "$CTL" --config "$CONF" send --to 5512345678 - >"$T/out" 2>/dev/null ||
	fail "send from stdin"
[ "$(q "SELECT text FROM outgoing ORDER BY id DESC LIMIT 1")" = "Desde stdin: su cita" ] ||
	fail "stdin text: $(q "SELECT text FROM outgoing ORDER BY id DESC LIMIT 1")"

# priority is stored
run 0 send --priority 7 --to 5512345678 "urgente"
[ "$(q "SELECT priority FROM outgoing ORDER BY id DESC LIMIT 1")" = 7 ] || fail "priority not stored"

# the default country comes from the configuration
cp "$CONF" "$T/us.conf"
echo 'default_country_code = 1' >>"$T/us.conf"
"$CTL" --config "$T/us.conf" send --to "415 555 0100" "hi" >"$T/out" 2>/dev/null || fail "send with country code 1"
out_is "queued message $(q 'SELECT max(id) FROM outgoing') to +14155550100: 1 part, gsm7 (2 septets)"

# --- the wake datagram reaches a listening socket ---
python3 - "$T/puented.sock" >"$T/woken" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(64).decode())
PY
listener=$!
for _ in $(seq 100); do [ -S "$T/puented.sock" ] && break; sleep 0.05; done
run 0 send --to 5512345678 "despierta"
[ -s "$T/err" ] && fail "a listening daemon still gave a warning: $(cat "$T/err")"
wait "$listener" || fail "the listener got no datagram"
[ "$(cat "$T/woken")" = wake ] || fail "wake payload: '$(cat "$T/woken")'"
rm -f "$T/puented.sock"

# --- concurrent senders: 6 processes x 20 messages, no lost or doubled message ---
before=$(q 'SELECT count(*) FROM outgoing')
for p in $(seq 6); do
	(for i in $(seq 20); do
		"$CTL" --config "$CONF" send --to "55 1234 56$(printf %02d "$i")" "proceso $p mensaje $i" >/dev/null 2>&1 ||
			echo "process $p message $i failed" >>"$T/conc-errors"
	done) &
done
wait
[ ! -s "$T/conc-errors" ] || fail "concurrent sends failed: $(cat "$T/conc-errors")"
after=$(q 'SELECT count(*) FROM outgoing')
[ $((after - before)) -eq 120 ] || fail "concurrent sends: $((after - before)) messages, want 120"
[ "$(q "SELECT count(DISTINCT text) FROM outgoing WHERE text LIKE 'proceso %'")" = 120 ] ||
	fail "concurrent sends: texts not all distinct"
[ "$(q "SELECT count(*) FROM outgoing_parts p JOIN outgoing o ON o.id = p.message_id WHERE o.text LIKE 'proceso %' AND p.state = 'queued' AND p.pdu IS NOT NULL")" = 120 ] ||
	fail "concurrent sends: parts missing or without PDU"

finish
