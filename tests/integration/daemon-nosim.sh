#!/usr/bin/env bash
# A SIM missing at start, then re-seated by the clinic's staff: the modem fails "no SIM", is
# probed again within MODEM_NOSIM_RETRY_MS (20 s, not the 5 min of other failures) and sends.
. "$(dirname "$0")/daemon-lib.bash"
ICC=8952020000000000033
sim_start -m "m1=$T/m1,iccid=$ICC" -p +525512345641
simctl sim m1 remove >/dev/null || fail "sim remove"
write_conf "
modem \"$T/m1\" { }
"
state() { q "SELECT state FROM modems WHERE iccid = '$ICC' OR imei <> '' LIMIT 1"; }
is_state() { [ "$(state)" = "$1" ]; }
puented_start
wait_until 30 "m1 failed without its SIM" is_state failed
echo "m1: $(q "SELECT health FROM modems LIMIT 1")"
simctl sim m1 insert >/dev/null || fail "sim insert"
t0=$SECONDS
wait_until 40 "m1 ready again after the SIM came back" is_state ready
echo "ready again after $((SECONDS - t0)) s"
printf '+525512345641\tSIM de vuelta\n' >"$T/msgs"
queue_file "$T/msgs"
wait_until 20 "the message sent" parts_settled
check_exactly_once "$T/msgs"
puented_stop
echo "daemon-nosim: ok"
