#!/usr/bin/env bash
# What one rescan of udev's ttys costs puented (docs/modems.md "Lost udev events"): not a
# test of make check (tests/run-tests.sh runs tests/integration/*.sh only), a measurement to
# run by hand as root:
#   PUENTE_BUILD=$PWD/build PUENTE_SRC=$PWD tests/integration/udev/rescan-cost.sh [SECONDS]
# In the udev tests' namespace (udev-lib.bash), a box as a clinic has it: 8 SIM7600s (three
# ttys each: diagnostics, GPS, AT), 64 virtual consoles and 32 on-board UARTs, 120 ttys.
# puented -v with autodetect_rescan = 1 s logs each enumeration's CPU (its thread's CPU
# clock, the manager's look-ups included); printed: their median and maximum, and the
# daemon's whole CPU over SECONDS idle with rescans every second against every day.
set -euo pipefail
: "${PUENTE_BUILD:?the build directory}" "${PUENTE_SRC:?the repository}"
# shellcheck source=udev-lib.bash
. "$PUENTE_SRC/tests/integration/udev/udev-lib.bash"
secs=${1:-20}
N=8
args=() allow=
for i in $(seq 1 "$N"); do
	args+=(-m "m$i=$T/sim/m$i,imei=3500000000001$(printf %02d "$i"),ports=diag:nmea:at")
	allow+="${allow:+, }\"3500000000001$(printf %02d "$i")\""
done
sim_start "${args[@]}" -p +525512345601
fu virtual 64
for i in $(seq 0 31); do fu platform "ttyS$i" "$D/ttyS$i"; done
n=0
for i in $(seq 1 "$N"); do
	for k in 0 1 2; do node "ttyUSB$n" "$T/sim/m$i-if0$k-port0"; n=$((n + 1)); done
	fu usb "1-$i" 1e0e:9001 "0=ttyUSB$((n - 3))=$D/ttyUSB$((n - 3))" \
		"1=ttyUSB$((n - 2))=$D/ttyUSB$((n - 2))" "2=ttyUSB$((n - 1))=$D/ttyUSB$((n - 1))"
done
echo "ttys: $(find /sys/class/tty -mindepth 1 -maxdepth 1 | wc -l)"

# cpu_ticks: puented's user + system time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pd_pid/stat"; }
run() { # RESCAN: starts puented, waits for the modems, returns its CPU ticks over $secs
	write_conf "autodetect_rescan = $1
allow = {$allow}"
	sed -i 's/^autodetect = false$/autodetect = true/' "$CONF"
	: >"$T/puented.log"
	puented_start -v
	wait_until 60 "$N modems ready" modems_ready "$N"
	sleep 2
	local c0
	c0=$(cpu_ticks)
	sleep "$secs"
	echo $(($(cpu_ticks) - c0))
	cp "$T/puented.log" "$T/puented-$1.log"
	puented_stop
}
hz=$(getconf CLK_TCK)
busy=$(run 1)
idle=$(run 1d)
grep -o 'enumerated [0-9]* ttys ([0-9]* with a USB parent) in [0-9]* us' "$T/puented-1.log" |
	python3 -c '
import re, statistics, sys
rows = [tuple(map(int, re.findall(r"\d+", l))) for l in sys.stdin]
us = sorted(r[2] for r in rows[1:])  # the first, at start, opens the ports
print("%d enumerations of %d ttys (%d with a USB parent): median %d us, max %d us of CPU each"
      % (len(us), rows[-1][0], rows[-1][1], statistics.median(us), us[-1]))
print("the first, at start (sd-device asked about every tty): %d us" % rows[0][2])'
echo "puented idle for $secs s with $N modems: $busy ticks of CPU with a rescan every second," \
	"$idle with none ($hz ticks a second)"
