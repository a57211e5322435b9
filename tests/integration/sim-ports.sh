#!/usr/bin/env bash
# puente-sim's multi-interface modems: a "ports" layout gives one modem a pty per USB
# interface, linked by-id style; only the AT one answers AT, the diagnostics one answers in
# binary frames, the GPS one spews checksummed NMEA, the silent one says nothing; "replug
# renamed" gives every interface a new pty and a new link, and the modem keeps its IMEI, SIM
# and stored messages. Bad layouts are refused at start with the word at fault.
. "$(dirname "$0")/sim-lib.bash"
B=$T/by-id/usb-SimTech_SIM7600_m1
sim_start -m "m1=$B,ports=diag:nmea:at:silent" -m "m2=$T/m2"

py "$T" <<'PY'
import os, select, sys, termios, time
from simclient import *
T = sys.argv[1]
CTL = T + "/ctl"
B = T + "/by-id/usb-SimTech_SIM7600_m1"

def ports():
    rc, out = ctl(CTL, "ports", "m1")
    rows = [l.split() for l in out.splitlines() if l.startswith("port ")]
    return {r[2]: (r[3], r[4]) for r in rows}, out

def read_for(fd, seconds):
    end, data = time.monotonic() + seconds, b""
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return data
        data += os.read(fd, 4096)

def nmea_ok(line):
    body, cs = line[1:].split("*")
    x = 0
    for c in body.encode():
        x ^= c
    return line.startswith("$GP") and int(cs, 16) == x

def probe_all(base):
    """What each interface says to AT: only the AT one answers OK with the IMEI."""
    p, out = ports()
    check(sorted(p) == ["at", "diag", "nmea", "silent"], "ports: " + out)
    for i, kind in enumerate(["diag", "nmea", "at", "silent"]):
        link = "%s-if%02d-port0" % (base, i)
        check(p[kind][0] == link, "%s linked at %s, want %s" % (kind, p[kind][0], link))
        check(os.readlink(link) == p[kind][1], "%s points at %s" % (link, os.readlink(link)))
    at = Modem(p["at"][0])
    at.ok("ATE0")
    imei = at.ok("AT+CGSN")
    at.close()
    diag = Modem(p["diag"][0])
    diag.write("AT\r")
    frame = read_for(diag.fd, 0.5)
    check(frame[:1] == b"\x13" and frame.endswith(b"\x7e") and b"OK" not in frame,
          "diag answered %r" % frame)
    diag.close()
    gps = Modem(p["nmea"][0])
    termios.tcflush(gps.fd, termios.TCIFLUSH)  # what piled up before we came
    gps.write("AT\r")
    lines = read_for(gps.fd, 2.3).decode("ascii").split("\r\n")[:-1]  # whole lines
    check(len(lines) >= 2 and "OK" not in lines, "nmea port said %r" % lines)
    check(all(nmea_ok(l) for l in lines), "bad NMEA sentence in %r" % lines)
    check(any(l.startswith("$GPGGA") for l in lines), "no GGA in %r" % lines)
    quiet = Modem(p["silent"][0])
    quiet.write("AT\r")
    check(quiet.silent(0.5), "the silent port answered")
    quiet.close()
    gps.close()
    return imei, p

def main():
    imei, before = probe_all(B)
    # a stored message survives the renaming replug
    at = Modem(before["at"][0]); at.ok("ATE0"); at.ok("AT+CMGF=0")
    ctl(CTL, "send", "+5215512345678", "m1", "antes")  # stored silently (CNMI 0)
    at.close()

    rc, out = ctl(CTL, "replug", "m1", "renamed")
    check(out.split()[2] == B + "-r1-if02-port0", "replug answered " + out)
    for i in range(4):
        check(not os.path.lexists("%s-if%02d-port0" % (B, i)), "old link %d left" % i)
    imei2, after = probe_all(B + "-r1")
    check(imei2 == imei, "IMEI %s after the replug, %s before" % (imei2, imei))
    for kind in before:
        check(after[kind][1] != before[kind][1],
              "%s kept its pty %s across the renaming replug" % (kind, before[kind][1]))
    at = Modem(after["at"][0]); at.ok("ATE0"); at.ok("AT+CMGF=1")
    check(any("antes" in l for l in at.ok("AT+CMGL=\"ALL\"")), "the stored message is gone")
    at.close()
    # a plain modem has one port and can be renamed too; bad arguments are refused
    rc, out = ctl(CTL, "ports", "m2")
    check("port - at %s/m2 " % T in out and "OK 1 port(s)" in out, out)
    rc, out = ctl(CTL, "replug", "m2", "renamed")
    check(out.split()[2] == T + "/m2-r1" and os.path.islink(T + "/m2-r1"), out)
    check(not os.path.lexists(T + "/m2"), "m2's old link left")
    rc, out = ctl(CTL, "replug", "m2", "sideways", expect_ok=False)
    check(rc == 1 and "'sideways' is not 'renamed'" in out, out)

run(main)
PY
sim_stop
left=$(ls "$T/by-id")
[ -z "$left" ] || { echo "links left after SIGTERM: $left"; exit 1; }

# Layout errors: refused at start, exit 2, the word at fault named.
for bad in "diag:nmea|no AT interface" "at:at|second AT port" "diag:gps:at|'gps' is not"; do
	spec=${bad%%|*} want=${bad#*|}
	rc=0
	"$SIM" -m "m9=$T/m9,ports=$spec" -s "$T/ctl9" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || { echo "ports=$spec: exit $rc, want 2"; exit 1; }
	grep -q -- "$want" "$T/err" || { echo "ports=$spec: $(cat "$T/err")"; exit 1; }
done
# The same from a configuration file: file:line and the modem named.
printf 'modem m9 {\n path = "%s"\n ports = "nmea:diag"\n}\n' "$T/m9" >"$T/bad.conf"
rc=0
"$SIM" -c "$T/bad.conf" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -Eq "bad.conf:[0-9]+: modem m9: ports: 'nmea:diag': no AT interface" "$T/err" ||
	{ echo "config file: exit $rc: $(cat "$T/err")"; exit 1; }
echo "sim-ports: ok"
