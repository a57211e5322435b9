#!/usr/bin/env bash
# SIM PINs: a SIM with a PIN is unlocked with the configured one and sends; a wrong PIN is
# tried once only (puente-sim logs every AT command it receives: AT+CPIN= is counted), not
# again after SIGHUP with the same configuration nor after a restart (the store remembers it),
# and the right PIN given by a reload unlocks the SIM.
. "$(dirname "$0")/daemon-lib.bash"
ICC1=8952020000000000011 ICC2=8952020000000000022
sim_start -v -m "m1=$T/m1,pin=1234,iccid=$ICC1" -m "m2=$T/m2,pin=4321,iccid=$ICC2" \
	-p +525512345631
conf() {
	write_conf "
modem \"$T/m1\" { pin = \"1234\" }
modem \"$T/m2\" { }
pin $ICC2 { pin = \"$1\" }
"
}
conf 9999
cpin2() { grep -c '\[modem=m2\] <- AT+CPIN=' "$T/sim.log" || true; }
state() { q "SELECT state FROM modems WHERE iccid = '$1'"; }
is_state() { [ "$(state "$1")" = "$2" ]; }

puented_start
wait_until 30 "m1 unlocked and ready" is_state $ICC1 ready
wait_until 30 "m2 failed on its PIN" is_state $ICC2 failed
echo "m2: $(q "SELECT health FROM modems WHERE iccid = '$ICC2'")"
[ "$(cpin2)" = 1 ] || fail "wrong PIN sent $(cpin2) times"
[ "$(q "SELECT value FROM settings WHERE key = 'pin.failed.$ICC2'")" = 9999 ] ||
	fail "refused PIN not remembered"
printf '+525512345631\tCon PIN\n' >"$T/msgs"
queue_file "$T/msgs"
wait_until 20 "the message sent" parts_settled
check_exactly_once "$T/msgs"

# SIGHUP with the same configuration: the failed modem starts over, but the PIN is not sent.
kill -HUP "$pd_pid"
sleep 3
wait_until 10 "m2 failed again" is_state $ICC2 failed
[ "$(cpin2)" = 1 ] || fail "wrong PIN sent again after SIGHUP ($(cpin2) times)"
# A restart: the store still knows.
puented_stop
puented_start
wait_until 30 "m1 ready after restart" is_state $ICC1 ready
wait_until 30 "m2 failed after restart" is_state $ICC2 failed
[ "$(cpin2)" = 1 ] || fail "wrong PIN sent again after a restart ($(cpin2) times)"

# The right PIN, by reload.
conf 4321
kill -HUP "$pd_pid"
wait_until 30 "m2 unlocked with the new PIN" is_state $ICC2 ready
[ "$(cpin2)" = 2 ] || fail "expected one more AT+CPIN= for the new PIN, saw $(cpin2) in all"
# A configuration with errors is refused and the running one kept.
echo 'colour = "blue"' >>"$CONF"
kill -HUP "$pd_pid"
sleep 1
grep -q "puente.conf:.*colour" "$T/puented.log" || fail "config error not logged as FILE:LINE"
grep -q "keeping the running one" "$T/puented.log" || fail "bad reload not refused"
is_state $ICC2 ready || fail "m2 lost after a refused reload"
puented_stop
echo "daemon-pin: ok"
