#!/usr/bin/env bash
# puented's udev path for real: libsystemd's sd-device enumeration at start and its monitor on
# udev's netlink group, fed by a fake kernel and udev (tests/integration/udev/fakeudev.py) in
# a private mount and network namespace: tmpfs over /sys and /run holding what sd-device reads
# for USB serial modems, device nodes under a test-unique /dev directory bound to puente-sim's
# ptys, and udev's "add"/"remove" messages sent to NETLINK_KOBJECT_UEVENT group 2. With
# autodetect and allow/deny lists:
# - cold plug: a SIM7600 (three ttys) is found at start on its AT interface, the two others
#   (the quirks table names them diagnostics and GPS) never opened; a modem on a USB id not on
#   the allow list is used because its IMEI is on it; a denied USB id and a tty with no USB
#   parent are never opened;
# - hot plug: an "add" brings a second modem in; "remove" and the pty going let the first go
#   (the status says unplugged) and its part waiting for the prompt goes out through another;
#   re-added under other ttyUSB numbers it is known by its IMEI (same store row, its sent
#   counter goes on); a USB reset (remove and add under the same name) is taken again;
# - one modem with two AT ports (two simulated modems with one IMEI and SIM behind two
#   interfaces of one USB device): one is used, the other closed as a duplicate; no part twice;
# - SIGHUP: a port the new lists let in is taken (udev enumerated again); autodetect turned
#   off lets go what udev found, and each store row says so ("autodetect turned off", not
#   "daemon stopped", also after SIGTERM).
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
# shellcheck source=udev/udev-lib.bash
. "$PUENTE_SRC/tests/integration/udev/udev-lib.bash"
state_of() { q "SELECT state FROM modems WHERE id = $1"; }
device_of() { q "SELECT device FROM modems WHERE id = $1"; }
# parts_by MODEM: parts puente-sim's network took from that simulated modem
parts_by() {
	python3 -c 'import json,sys
print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r.get("event") == "part" and r["modem"] == sys.argv[2]))' \
		"$T/rec.jsonl" "$1"
}
# commands_to MODEM: AT command lines puente-sim logged for that modem (-v)
commands_to() { grep -c -- "\[modem=$1\] <- AT" "$T/sim.log" || true; }

phones=(+525512345691 +525512345692)
IMEI1=350000000000011 IMEI2=350000000000012 IMEI3=350000000000013 IMEI4=350000000000014
IMEI7=350000000000017 IMEI_DUP=350000000000099 ICCID_DUP=8952020000000999099
S=$T/sim
sim_start -v \
	-m "m1=$S/m1,imei=$IMEI1,ports=diag:nmea:at" -m "m2=$S/m2,imei=$IMEI2" \
	-m "m3=$S/m3,imei=$IMEI3" -m "m4=$S/m4,imei=$IMEI4" -m "m7=$S/m7,imei=$IMEI7" \
	-m "m5=$S/m5,imei=$IMEI_DUP,iccid=$ICCID_DUP" -m "m6=$S/m6,imei=$IMEI_DUP,iccid=$ICCID_DUP" \
	-p "${phones[0]}" -p "${phones[1]}"

# Cold plug. A SIM7600 (1e0e:9001: diagnostics, GPS, AT), a Quectel EC25 on the deny list
# (and on the allow list: deny wins), a SIM800 behind an FTDI bridge (0403:6001, on no list:
# its IMEI is allowed), and an on-board UART with no USB parent.
for i in 0 1 2; do node "ttyUSB$i" "$S/m1-if0$i-port0"; done
fu usb 1-1 1e0e:9001 "0=ttyUSB0=$D/ttyUSB0" "1=ttyUSB1=$D/ttyUSB1" "2=ttyUSB2=$D/ttyUSB2"
node ttyUSB3 "$S/m3"
fu usb 1-4 2c7c:0125 "2=ttyUSB3=$D/ttyUSB3"
node ttyUSB4 "$S/m7"
fu usb 1-7 0403:6001 "0=ttyUSB4=$D/ttyUSB4"
node ttyS0 "$S/m4"
fu platform ttyS0 "$D/ttyS0"

write_conf "
allow = {\"1e0e:9001\", \"12d1:1506\", \"2c7c:0125\", \"1bc7:1201\", \"$IMEI7\"}
deny = {\"2c7c:0125\"}
"
sed -i 's/^autodetect = false$/autodetect = true/' "$CONF"
puented_start
started=$SECONDS
imei_ready() { [ "$(q "SELECT count(*) FROM modems WHERE imei = '$1' AND state = 'ready'")" = 1 ]; }
wait_until 30 "the cold-plugged SIM7600 ready" imei_ready "$IMEI1"
wait_until 30 "the FTDI modem allowed by its IMEI ready" imei_ready "$IMEI7"
id1=$(q "SELECT id FROM modems WHERE imei = '$IMEI1'")
id7=$(q "SELECT id FROM modems WHERE imei = '$IMEI7'")
[ "$(device_of "$id1")" = "$D/ttyUSB2" ] || fail "the SIM7600 is on $(device_of "$id1"), not its AT interface 2"
[ "$(device_of "$id7")" = "$D/ttyUSB4" ] || fail "the FTDI modem is on $(device_of "$id7")"
echo "cold plug: both modems ready in $((SECONDS - started)) s"

make_messages 4 "$T/msgs1" "${phones[@]}"
queue_file "$T/msgs1"
wait_until 30 "the first messages sent" parts_settled
check_exactly_once "$T/msgs1"

# Hot plug: a Huawei E3131 comes.
node ttyUSB5 "$S/m2"
fu usb 1-2 12d1:1506 "1=ttyUSB5=$D/ttyUSB5" --send
wait_until 30 "the hot-plugged E3131 ready" imei_ready "$IMEI2"
id2=$(q "SELECT id FROM modems WHERE imei = '$IMEI2'")
[ "$(device_of "$id2")" = "$D/ttyUSB5" ] || fail "the E3131 is on $(device_of "$id2")"

# The SIM7600 goes while one of its parts waits for the prompt (its PDU not written).
simctl slow-prompt m1 4000 >/dev/null
make_messages 9 "$T/msgs2" "${phones[@]}"
sed -i 's/\t/\tround two: /' "$T/msgs2"
queue_file "$T/msgs2"
m1_waiting() { [ "$(q "SELECT count(*) FROM outgoing_parts WHERE modem_id = $id1 AND state = 'sending'")" -ge 1 ]; }
wait_until 20 "a part of the SIM7600's waiting for its prompt" m1_waiting
m1_before=$(parts_by m1)
simctl unplug m1 >/dev/null
for i in 0 1 2; do unnode "ttyUSB$i"; done
fu remove 1-1 --send
m1_unplugged() { [ "$(state_of "$id1")" = unplugged ]; }
wait_until 10 "the SIM7600 unplugged" m1_unplugged
# puentectl status reads the daemon's snapshot, written soon after a change
status_unplugged() {
	"$PUENTECTL" --config "$CONF" status >"$T/status.txt" 2>&1 || true
	grep -A1 "IMEI $IMEI1" "$T/status.txt" | grep -q 'state: *unplugged'
}
wait_until 10 "puentectl status saying the SIM7600 is unplugged" status_unplugged
wait_until 30 "the second round sent by the others" parts_settled
[ "$(parts_by m1)" = "$m1_before" ] || fail "parts went out through the unplugged SIM7600"
[ "$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'unknown'")" = 0 ] ||
	fail "a part in doubt: the waiting part's PDU was written"
cat "$T/msgs1" "$T/msgs2" >"$T/all2"
check_exactly_once "$T/all2"
sent_before=$(q "SELECT sent_today FROM modems WHERE id = $id1")

# Back on another USB port: new ttyUSB numbers, new ptys; known by its IMEI.
simctl slow-prompt m1 0 >/dev/null
simctl replug m1 renamed >/dev/null
for i in 0 1 2; do node "ttyUSB$((6 + i))" "$S/m1-r1-if0$i-port0"; done
fu usb 1-3 1e0e:9001 "0=ttyUSB6=$D/ttyUSB6" "1=ttyUSB7=$D/ttyUSB7" "2=ttyUSB8=$D/ttyUSB8" --send
back() { [ "$(device_of "$id1")" = "$D/ttyUSB8" ] && [ "$(state_of "$id1")" = ready ]; }
wait_until 30 "the SIM7600 known again on ttyUSB8" back
[ "$(q "SELECT count(*) FROM modems WHERE imei = '$IMEI1'")" = 1 ] || fail "a second store row for the SIM7600"

# A USB reset (AT+CFUN=1,1 reboots a modem: it leaves the bus and comes back at once): the
# E3131's pty goes, "remove", and "add" under the same name; the same binding or a new one
# must take it again.
m2_before=$(parts_by m2)
simctl unplug m2 >/dev/null
unnode ttyUSB5
fu remove 1-2 --send
simctl replug m2 >/dev/null
node ttyUSB5 "$S/m2"
fu usb 1-2 12d1:1506 "1=ttyUSB5=$D/ttyUSB5" --send
reopened() { [ "$(opened ttyUSB5)" -ge 2 ] && [ "$(state_of "$id2")" = ready ]; }
wait_until 30 "the E3131 back on ttyUSB5 after its reset" reopened

# One modem, two AT ports: a cdc-acm modem (1bc7:1201, no row in the quirks table) with AT
# on interfaces 0 and 3.
node ttyACM0 "$S/m5"
node ttyACM1 "$S/m6"
fu usb 1-5 1bc7:1201 "0=ttyACM0=$D/ttyACM0" "3=ttyACM1=$D/ttyACM1" --send
wait_until 30 "the two-port modem ready" imei_ready "$IMEI_DUP"
dup_rejected() { grep -q "not used: another port of modem $IMEI_DUP is in use" "$T/puented.log"; }
wait_until 30 "its second AT port closed as a duplicate" dup_rejected
dup_dev=$(q "SELECT device FROM modems WHERE imei = '$IMEI_DUP'")
case $dup_dev in
"$D/ttyACM0") used=m5 other=m6 other_node=ttyACM1 ;;
"$D/ttyACM1") used=m6 other=m5 other_node=ttyACM0 ;;
*) fail "the two-port modem is on $dup_dev" ;;
esac
wait_until 10 "the duplicate port ($other_node) closed" closed "$other_node" "$S/$other"
! closed "${dup_dev#"$D"/}" "$S/$used" || fail "the port in use is not seen open: the check above proves nothing"
[ "$(opened "$other_node")" = 1 ] || fail "the duplicate port $other_node was opened $(opened "$other_node") times, want once"

# The bank prefers the least used modem and the E3131 has sent more than most: with every
# modem answering at once it could sit the round out (seen once in CI). The others answer
# slowly for this round, so that the free one it finds is the E3131.
for slow in m1 m7 "$used"; do simctl latency "$slow" 300 >/dev/null; done
make_messages 12 "$T/msgs3" "${phones[@]}"
sed -i 's/\t/\tround three: /' "$T/msgs3"
queue_file "$T/msgs3"
wait_until 60 "the third round sent" parts_settled
for slow in m1 m7 "$used"; do simctl latency "$slow" default >/dev/null; done
cat "$T/msgs1" "$T/msgs2" "$T/msgs3" >"$T/all3"
check_exactly_once "$T/all3"
[ "$(parts_by "$other")" = 0 ] || fail "$(parts_by "$other") parts went out through the duplicate port"
[ "$(parts_by m2)" -gt "$m2_before" ] || fail "the E3131 not used after its reset"
[ "$(q "SELECT count(*) FROM modems WHERE imei = '$IMEI2'")" = 1 ] || fail "a second store row for the E3131"
sent_after=$(q "SELECT sent_today FROM modems WHERE id = $id1")
[ "$sent_after" = "$(parts_by m1)" ] ||
	fail "the SIM7600's sent counter is $sent_after (was $sent_before before the unplug), $(parts_by m1) parts went out through it"

# Never opened: the GPS and diagnostics interfaces (quirks table), the denied EC25, the
# on-board UART.
for n in ttyUSB0 ttyUSB1 ttyUSB3 ttyUSB6 ttyUSB7 ttyS0; do
	[ "$(opened "$n")" = 0 ] || fail "$D/$n was opened"
done
for m in m3 m4; do
	[ "$(commands_to "$m")" = 0 ] || fail "$m got AT commands: it should never have been opened"
done
rows=$(q "SELECT count(*) FROM modems")
[ "$rows" = 4 ] || fail "$rows store rows, want 4: $(q "SELECT imei, device, state FROM modems")"
echo "modems: $(q "SELECT imei || ' ' || replace(device, '$D/', '') || ' ' || state || ' sent ' || sent_today FROM modems" | tr '\n' ';')"
echo "duplicate port: $used used, $other closed; SIM7600 sent $sent_before before the unplug, $sent_after in all"
# SIGHUP with the EC25 off the deny list: udev's ttys are enumerated again and it is taken.
write_conf "
allow = {\"1e0e:9001\", \"12d1:1506\", \"2c7c:0125\", \"1bc7:1201\", \"$IMEI7\"}
"
sed -i 's/^autodetect = false$/autodetect = true/' "$CONF"
kill -HUP "$pd_pid"
wait_until 30 "the EC25 taken after a reload let it in" imei_ready "$IMEI3"
[ "$(q "SELECT device FROM modems WHERE imei = '$IMEI3'")" = "$D/ttyUSB3" ] || fail "the EC25 is not on ttyUSB3"
# SIGHUP with the FTDI modem's IMEI off the allow list: a modem in use that the new lists
# refuse is let go once idle (no send left in doubt), and new messages avoid it.
write_conf "
allow = {\"1e0e:9001\", \"12d1:1506\", \"2c7c:0125\", \"1bc7:1201\"}
"
sed -i 's/^autodetect = false$/autodetect = true/' "$CONF"
kill -HUP "$pd_pid"
not_ready7() { [ "$(q "SELECT count(*) FROM modems WHERE imei = '$IMEI7' AND state IN ('ready', 'sending')")" = 0 ]; }
wait_until 30 "the FTDI modem let go after its IMEI left the allow list" not_ready7
m7_parts=$(parts_by m7)
make_messages 4 "$T/msgs4" "${phones[@]}"
sed -i 's/\t/\tround four: /' "$T/msgs4"
queue_file "$T/msgs4"
wait_until 30 "the messages after the reload sent" parts_settled
cat "$T/all3" "$T/msgs4" >"$T/all4"
check_exactly_once "$T/all4"
[ "$(parts_by m7)" = "$m7_parts" ] || fail "the refused FTDI modem still sent parts"
[ "$(q "SELECT count(*) FROM outgoing_parts WHERE state IN ('unknown', 'sending')")" = 0 ] || fail "a part was left in doubt"
# SIGHUP with autodetect off and no modem section: what udev found is let go (puente.conf.md:
# "false uses only the modem sections"), and a message waits.
write_conf ""
kill -HUP "$pd_pid"
none_ready() { [ "$(q "SELECT count(*) FROM modems WHERE state IN ('ready', 'sending')")" = 0 ]; }
wait_until 10 "every udev-found modem let go with autodetect off" none_ready
parts=$(record_count part)
queue "${phones[0]}" "after autodetect off"
sleep 2 # a wake is handled at once: a modem still in use would have taken it by now
[ "$(record_count part)" = "$parts" ] || fail "a part went out with autodetect off"
[ "$(q "SELECT count(*) FROM outgoing_parts WHERE state = 'queued'")" = 1 ] || fail "the message is not waiting"
# Every row says why its modem went (the daemon runs on), and still does after SIGTERM: the
# daemon held none of them when it stopped.
why_off() { [ "$(q "SELECT count(*) FROM modems WHERE state || ': ' || health <> 'closed: autodetect turned off'")" = 0 ]; }
wait_until 10 "every row saying autodetect was turned off" why_off
puented_stop
why_off || fail "rows after SIGTERM: $(q "SELECT imei || ' ' || state || ': ' || health FROM modems" | tr '\n' ';')"
echo "hotplug-udev: ok ($((SECONDS - started)) s)"
