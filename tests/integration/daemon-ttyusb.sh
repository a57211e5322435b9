#!/usr/bin/env bash
# Two USB modems (three and two tty interfaces) found through a glob over kernel-style names
# ($T/dev/ttyUSB0..4, which this script hands out as the kernel does: in enumeration order).
# Both are replugged and come back enumerated the other way round, so every name now leads
# to another interface: a name once rejected (a GPS port) is now an AT port, and the AT
# names are now a GPS port and the other modem's AT port. puented must forget what it knew
# by name and find each modem again by IMEI: same store rows, every message queued before the
# replug sent exactly once, and the new non-AT interfaces left alone after a bounded probe.
. "$(dirname "$0")/daemon-lib.bash"
phones=(+525512345681 +525512345682)
# -b: each modem answers only 6.5 s after it is plugged, as a modem booting after a USB reset:
# its AT port fails its first probe (5 s) and must be found by the second, not rejected.
sim_start -b 6500 -m "m1=$T/by-id/usb-m1,ports=diag:at:nmea" -m "m2=$T/by-id/usb-m2,ports=nmea:at" \
	-p "${phones[0]}" -p "${phones[1]}"
mkdir "$T/dev"

# enumerate MODEM...: links ttyUSB0.. to the modems' interfaces in that order, the way the
# kernel numbers usb-serial ports.
enumerate() {
	local n=0 m
	for m in "$@"; do
		while read -r _ _ kind _ pts _; do
			ln -s "$pts" "$T/dev/ttyUSB$n"
			echo "ttyUSB$n = $m $kind"
			n=$((n + 1))
		done < <(simctl ports "$m" | grep '^port ')
	done
}
enumerate m1 m2 # ttyUSB0 diag, 1 AT, 2 nmea (m1); 3 nmea, 4 AT (m2)
write_conf "
modem \"$T/dev/ttyUSB*\" { }
"
puented_start
wait_until 30 "both AT ports ready" modems_ready 2
id1=$(q "SELECT id FROM modems WHERE imei = '350000000000101'")
id2=$(q "SELECT id FROM modems WHERE imei = '350000000000102'")
[ "$(q "SELECT device FROM modems WHERE id = $id1")" = "$T/dev/ttyUSB1" ] || fail "m1 not on ttyUSB1"
[ "$(q "SELECT device FROM modems WHERE id = $id2")" = "$T/dev/ttyUSB4" ] || fail "m2 not on ttyUSB4"
rejected() { [ "$(grep -c ': not used: ' "$T/puented.log")" -ge "$1" ]; }
wait_until 30 "the three other interfaces left alone" rejected 3

make_messages 6 "$T/msgs1" "${phones[@]}"
queue_file "$T/msgs1"
wait_until 30 "the first messages sent" parts_settled

# Both unplugged: messages wait. Plugged back, m2 first: every name means something else.
simctl unplug m1 >/dev/null
simctl unplug m2 >/dev/null
# udev removes the nodes at once: a link left dangling here could come to lead to a pty
# number handed out again to another test's simulator running meanwhile.
rm -f "$T"/dev/ttyUSB*
unplugged() { [ "$(q "SELECT count(*) FROM modems WHERE state = 'unplugged'")" = 2 ]; }
wait_until 15 "both modems unplugged" unplugged
make_messages 8 "$T/msgs2" "${phones[@]}"
sed -i 's/\t/\tafter the shuffle: /' "$T/msgs2"
queue_file "$T/msgs2"
simctl replug m2 renamed >/dev/null
simctl replug m1 renamed >/dev/null
enumerate m2 m1 # ttyUSB0 nmea, 1 AT (m2); 2 diag, 3 AT, 4 nmea (m1)

at_new_names() {
	[ "$(q "SELECT device FROM modems WHERE id = $id1 AND state = 'ready'")" = "$T/dev/ttyUSB3" ] &&
		[ "$(q "SELECT device FROM modems WHERE id = $id2 AND state = 'ready'")" = "$T/dev/ttyUSB1" ]
}
wait_until 40 "both modems known again under their new names" at_new_names
wait_until 30 "every part settled" parts_settled
[ "$(q "SELECT count(*) FROM modems")" = 2 ] ||
	fail "store rows: $(q "SELECT id, imei, device FROM modems")"
cat "$T/msgs1" "$T/msgs2" >"$T/all"
check_exactly_once "$T/all"
# The three new non-AT names were probed and left alone, once each: ttyUSB0 and 2 were
# non-AT before and after, 3 only before, 4 only after.
wait_until 30 "the new non-AT interfaces left alone" rejected 6
sleep 3.5 # one more glob scan: nothing probed again
for want in 0:2 1:0 2:2 3:1 4:1; do
	n=${want%:*}
	c=$(grep -c "/dev/ttyUSB$n: not used: " "$T/puented.log" || true)
	[ "$c" = "${want#*:}" ] || fail "ttyUSB$n rejected $c times, want ${want#*:}"
done
echo "log: $(wc -l <"$T/puented.log") lines, $(grep -c ': not used: ' "$T/puented.log") rejections"
puented_stop
echo "daemon-ttyusb: ok"
