#!/usr/bin/env bash
# The parts of a two-part message leave through one SIM even when the modem sending part 1
# re-initializes with its AT+CMGS on the line (issue 4, the soak's "split across modems"):
# garbage on the line while the modem waits for the "> " prompt makes the modem core take a
# ladder step (PROBE: the daemon takes the modem as not ready) but keep the command, so the
# prompt comes, the PDU goes and "+CMGS: <mr>" answers it. A wake from `puentectl send`
# meanwhile kicks the bank with the other modem free: part 2 must wait for the first modem,
# and the phone must get the message whole, from one sender.
. "$(dirname "$0")/daemon-lib.bash"
PROMPT_MS=${PUENTE_SPLIT_PROMPT_MS:-8000} # long enough for the steps below on a loaded box

phone=+525512345671
sim_start -m "m1=$T/m1" -m "m2=$T/m2" -p "$phone" --seed 4
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2
for m in m1 m2; do simctl slow-prompt "$m" "$PROMPT_MS" >/dev/null; done

long="Recordatorio: tome su medicamento con agua despues de cada comida. "
long="$long${long}y avise a la clinica si algo cambia."
queue "$phone" "$long"
mid=$(q "SELECT max(id) FROM outgoing")
[ "$(q "SELECT part_count FROM outgoing WHERE id = $mid")" = 2 ] || fail "the text is not 2 parts"
part1_sending() { [ -n "$(q "SELECT modem_id FROM outgoing_parts WHERE message_id = $mid AND seq = 1 AND state = 'sending'")" ]; }
wait_until 20 "part 1 on a modem" part1_sending
# The modem that has part 1, by its port ($T/m1 or $T/m2).
dev=$(q "SELECT m.device FROM outgoing_parts p JOIN modems m ON m.id = p.modem_id WHERE p.message_id = $mid AND p.seq = 1")
x=$(basename "$dev")
case $x in m1) y=m2 ;; m2) y=m1 ;; *) fail "part 1 on an unknown port '$dev'" ;; esac
simctl slow-prompt "$y" 0 >/dev/null # the other modem would send part 2 at once
simctl garbage "$x" 4000 >/dev/null
x_not_ready() { [ "$(q "SELECT state FROM modems WHERE device = '$dev'")" != ready ]; }
wait_until 5 "$x re-initializing after the garbage" x_not_ready
queue "$phone" "Hola: un aviso corto" # a wake: the bank kicks with $y free
wait_until 60 "every part sent" parts_settled
for _ in $(seq 50); do
	[ "$(record_count message)" -ge 2 ] && break
	sleep 0.1
done
echo "parts: $(q "SELECT p.seq || ':' || p.state || '@' || m.device FROM outgoing_parts p JOIN modems m ON m.id = p.modem_id WHERE p.message_id = $mid" | tr '\n' ' ')"
modems=$(q "SELECT count(DISTINCT modem_id) FROM outgoing_parts WHERE message_id = $mid")
[ "$modems" = 1 ] || fail "the message's parts went out through $modems modems"
states=$(q "SELECT group_concat(state) FROM outgoing_parts WHERE message_id = $mid")
case $states in *unknown* | *failed*)
	# The answer did not come this time (a part in doubt): nothing was tested.
	fail "part 1 did not end sent ($states): the scenario did not happen" ;;
esac
printf '%s\t%s\n%s\t%s\n' "$phone" "$long" "$phone" "Hola: un aviso corto" >"$T/msgs"
check_exactly_once "$T/msgs" || fail "the message did not reach the phone whole, once"
grep -q "garbage on the line" "$T/puented.log" || fail "the modem took no ladder step for the garbage"
puented_stop
echo "daemon-split: ok"
