#!/usr/bin/env bash
# Why a modem was let go, as `puentectl status --json` shows it (its store row: state and
# health): a configured path taken out of the file by a reload says "removed from
# configuration", a detected port the reloaded allow/deny lists refuse says so, and "daemon
# stopped" appears only after SIGTERM, only on the modems the daemon still had. No root, no
# udev: configured paths and a glob over puente-sim's ptys.
. "$(dirname "$0")/daemon-lib.bash"
phones=(+525512345671 +525512345672)
IMEI1=350000000000031 IMEI2=350000000000032 IMEI3=350000000000033
S=$T/sim
sim_start -m "m1=$S/cfg1,imei=$IMEI1" -m "m2=$S/glob2,imei=$IMEI2" -m "m3=$S/glob3,imei=$IMEI3" \
	-p "${phones[0]}" -p "${phones[1]}"
conf() { # ALLOW [CONFIGURED]: the glob's ports through the allow list, m1 by its path
	local cfg1=
	[ -z "${2:-}" ] || cfg1="modem \"$S/cfg1\" { }"
	write_conf "
allow = {$1}
modem \"$S/glob*\" { }
$cfg1
"
}
conf "\"$IMEI2\", \"$IMEI3\"" yes
puented_start
wait_until 30 "three modems ready" modems_ready 3

# status FIELD IMEI: the modem's field in `puentectl status --json`
status() {
	"$PUENTECTL" --config "$CONF" status --json | python3 -c '
import json, sys
m = [m for m in json.load(sys.stdin)["modems"] if m["imei"] == sys.argv[2]]
print(m[0][sys.argv[1]] if m else "")' "$1" "$2"
}
is() { [ "$(status state "$1")" = "$2" ] && [ "$(status health "$1")" = "$3" ]; }
says() { # IMEI STATE HEALTH: waits for it, or fails showing what it says
	is "$@" || wait_until 10 "$1 shown $2: $3" is "$@" ||
		fail "$1 is $(status state "$1"): $(status health "$1")"
}

# Reload 1: m3 off the allow list (taken out of use once idle: rejected).
conf "\"$IMEI2\"" yes
kill -HUP "$pd_pid"
says "$IMEI3" rejected "refused by the reloaded allow/deny lists"
# Reload 2: m1 no longer configured, and new lists that still refuse m3: the rejected
# binding is freed (to be probed afresh against the new lists).
conf "\"$IMEI2\", \"350000000000039\""
kill -HUP "$pd_pid"
says "$IMEI1" closed "removed from configuration"
says "$IMEI3" closed "refused by allow/deny lists"
is "$IMEI2" ready "" || fail "m2 is $(status state "$IMEI2"): $(status health "$IMEI2")"
grep -q "daemon stopped" "$T/puented.log" && fail "the log says the daemon stopped"
[ "$(q "SELECT count(*) FROM modems WHERE health = 'daemon stopped'")" = 0 ] ||
	fail "a row says the daemon stopped while it runs: $(q "SELECT imei, state, health FROM modems")"

puented_stop
says "$IMEI2" closed "daemon stopped"
says "$IMEI1" closed "removed from configuration"
says "$IMEI3" closed "refused by allow/deny lists"
echo "daemon-letgo: $(q "SELECT imei || ' ' || state || ': ' || health FROM modems" | tr '\n' ';')"
