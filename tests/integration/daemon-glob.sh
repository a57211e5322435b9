#!/usr/bin/env bash
# Ports found through a configured glob (like /dev/serial/by-id/*): both simulated modems are
# used, a second link to the same tty is not opened twice, and a modem unplugged and plugged
# back is found again by the glob and keeps its store row (matched by IMEI).
. "$(dirname "$0")/daemon-lib.bash"
phones=(+525512345661 +525512345662)
sim_start -m "m1=$T/by-id/usb-m1" -m "m2=$T/by-id/usb-m2" -p "${phones[0]}" -p "${phones[1]}"
ln -s "$(readlink "$T/by-id/usb-m1")" "$T/by-id/usb-m1-alias"
write_conf "
modem \"$T/by-id/usb-*\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2
sleep 3.5 # one more glob scan: the alias must not become a third binding
[ "$(q "SELECT count(*) FROM modems")" = 2 ] || fail "$(q "SELECT count(*) FROM modems") modems"
grep -q "usb-m1-alias.*opened" "$T/puented.log" && fail "the alias of an open tty was opened"
make_messages 10 "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
wait_until 30 "sent" parts_settled
check_exactly_once "$T/msgs"

id1=$(q "SELECT id FROM modems WHERE device LIKE '%usb-m1%'")
rm "$T/by-id/usb-m1-alias"
simctl unplug m1 >/dev/null
is_unplugged() { [ "$(q "SELECT state FROM modems WHERE id = $id1")" = unplugged ]; }
wait_until 10 "m1 unplugged" is_unplugged
simctl replug m1 >/dev/null
ready1() { [ "$(q "SELECT state FROM modems WHERE id = $id1")" = ready ]; }
wait_until 30 "m1 found again by the glob" ready1
[ "$(q "SELECT count(*) FROM modems")" = 2 ] || fail "the replugged modem got a new row"
puented_stop
echo "daemon-glob: ok"
