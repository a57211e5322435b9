#!/usr/bin/env bash
# Lost udev events are made up (issue 4), with sd-device unmodified against the fake kernel
# and udev of hotplug-udev.sh (tests/integration/udev/: a private namespace, fake /sys and
# /run, netlink messages from fakeudev.py):
# - udev not running at start (no /run/udev/control): the monitor does not start, the tty
#   present is still found by the enumeration at start;
# - a lost "add" (a tty in sysfs with no netlink message): found by the periodic rescan
#   (autodetect_rescan = 1 s here), the log saying so;
# - a lost "remove" (the tty and its pty gone, no message): the binding reads the dead tty,
#   says unplugged and is dropped; the modem back under another name with no message either
#   is found again, same store row;
# - behind one USB socket and tty name, a SIM7600's diagnostics port (never opened) is
#   replaced by another modem's AT port, with no message either way: the rescan, which asks
#   sd-device again only about ttys made anew, finds and uses it;
# - udev starts: the monitor starts at the next rescan; with rescans off (1 d) a hot "add"
#   comes through it;
# - the monitor's socket overflows (puented stopped, fakeudev floods the group until the
#   kernel counts drops) while a modem's "add" is sent and dropped: on waking, the socket's
#   error makes an enumeration at once (rescans still 1 d away) and the modem is found.
# Messages queued at the end go out exactly once through the five.
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
# shellcheck source=udev/udev-lib.bash
. "$PUENTE_SRC/tests/integration/udev/udev-lib.bash"

phones=(+525512345681 +525512345682)
IMEI1=350000000000041 IMEI2=350000000000042 IMEI3=350000000000043 IMEI4=350000000000044
IMEI5=350000000000045
S=$T/sim
sim_start -v -m "m1=$S/m1,imei=$IMEI1" -m "m2=$S/m2,imei=$IMEI2" -m "m3=$S/m3,imei=$IMEI3" \
	-m "m4=$S/m4,imei=$IMEI4" -m "m5=$S/m5,imei=$IMEI5" -p "${phones[0]}" -p "${phones[1]}"
ready() { [ "$(q "SELECT count(*) FROM modems WHERE imei = '$1' AND state = 'ready'")" = 1 ]; }
device_of() { q "SELECT device FROM modems WHERE imei = '$1'"; }
logged() { grep -q -- "$1" "$T/puented.log"; }
conf() { # RESCAN
	write_conf "autodetect_rescan = $1"
	sed -i 's/^autodetect = false$/autodetect = true/' "$CONF"
}
# usb PORT TTY MODEM [--send]: a Huawei E3131 (12d1:1506, AT on interface 1) on USB port PORT
usb() {
	node "$2" "$S/$3"
	fu usb "$1" 12d1:1506 "1=$2=$D/$2" ${4:+"$4"}
}

rm /run/udev/control # udevd not running yet
usb 1-1 ttyUSB0 m1
conf 1
puented_start -v # debug: each enumeration is logged
started=$SECONDS
enumerations() { grep -c "hotplug: enumerated" "$T/puented.log" || true; }
wait_until 30 "the modem present at start ready" ready "$IMEI1"
logged "$D/ttyUSB0: new port (USB 12d1:1506 interface 1), found by enumeration at start" ||
	fail "the first modem not found by the enumeration at start"
logged "no udev monitor (udev is not running" || fail "no word that the monitor did not start"

# A lost "add".
t=$SECONDS
usb 1-2 ttyUSB1 m2
wait_until 10 "the modem whose add was lost ready" ready "$IMEI2"
logged "$D/ttyUSB1: new port .*, found by the periodic rescan" || fail "not found by the rescan"
echo "lost add: ready in $((SECONDS - t)) s (rescan every 1 s)"
id2=$(q "SELECT id FROM modems WHERE imei = '$IMEI2'")

# A lost "remove": the binding finds the tty dead by itself.
simctl unplug m2 >/dev/null
unnode ttyUSB1
fu remove 1-2
unplugged() { [ "$(q "SELECT state FROM modems WHERE id = $id2")" = unplugged ]; }
wait_until 10 "the modem whose remove was lost unplugged" unplugged
gone() { logged "$D/ttyUSB1: unplugged"; }
wait_until 5 "its binding saying unplugged" gone
simctl replug m2 >/dev/null
usb 1-3 ttyUSB2 m2
back() { ready "$IMEI2" && [ "$(device_of "$IMEI2")" = "$D/ttyUSB2" ]; }
wait_until 10 "the modem back on ttyUSB2 with no udev message" back
[ "$(q "SELECT id FROM modems WHERE imei = '$IMEI2'")" = "$id2" ] || fail "a new store row"

# Same socket, same name, another device: first a diagnostics port, seen by two rescans...
node ttyUSB5 "$S/m5"
fu usb 1-6 1e0e:9001 "0=ttyUSB5=$D/ttyUSB5"
n=$(enumerations)
rescanned() { [ "$(enumerations)" -ge $((n + 2)) ]; }
wait_until 10 "two rescans with the diagnostics port" rescanned
[ "$(opened ttyUSB5)" = 0 ] || fail "the SIM7600's diagnostics port was opened"
# ...then, with no message, an AT port at the same sysfs path and node
unnode ttyUSB5
fu remove 1-6
node ttyUSB5 "$S/m5"
fu usb 1-6 1bc7:1201 "0=ttyUSB5=$D/ttyUSB5"
wait_until 10 "the modem now behind ttyUSB5 ready" ready "$IMEI5"

# udev starts: the monitor follows at the next rescan.
fu init # /run/udev/control again
wait_until 10 "the udev monitor started" logged "hotplug: udev monitor started"
conf 1d
kill -HUP "$pd_pid"
wait_until 10 "the reload" logged "configuration reloaded"
usb 1-4 ttyUSB3 m3 --send
wait_until 10 "the modem plugged with its udev message ready" ready "$IMEI3"
logged "$D/ttyUSB3: new port .*, found by udev" || fail "not found through the monitor"

# The monitor's socket overflows while puented is stopped; m4's "add" is dropped.
kill -STOP "$pd_pid"
fu flood || { kill -CONT "$pd_pid"; fail "the monitor's socket never overflowed"; }
before=$(fu drops)
usb 1-5 ttyUSB4 m4 --send
after=$(fu drops)
kill -CONT "$pd_pid"
[ "$after" -gt "$before" ] || fail "m4's add was not dropped ($before -> $after drops)"
t=$SECONDS
wait_until 15 "the modem whose add was dropped ready" ready "$IMEI4"
logged "hotplug: udev events lost" || fail "no word of the lost events"
logged "$D/ttyUSB4: new port .*, found by the rescan after lost udev events" ||
	fail "not found by the rescan after the overflow"
echo "overflow: $before -> $after drops; the dropped modem ready $((SECONDS - t)) s after waking"

make_messages 8 "$T/msgs" "${phones[@]}"
queue_file "$T/msgs"
wait_until 30 "the messages sent" parts_settled
check_exactly_once "$T/msgs"
[ "$(q "SELECT count(*) FROM modems")" = 5 ] || fail "rows: $(q "SELECT imei, device, state FROM modems")"
puented_stop
echo "hotplug-lost: ok ($((SECONDS - started)) s)"
