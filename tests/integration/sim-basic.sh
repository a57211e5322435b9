#!/usr/bin/env bash
# puente-sim, standard dialect: identification, single and multipart PDUs to phones (records),
# an inbound message by +CMTI/AT+CMGR and by +CMT/AT+CNMA, a delivery report, clean SIGTERM.
. "$(dirname "$0")/sim-lib.bash"
sim_start -m "m1=$T/m1" -m "m2=$T/m2,number=+5215500000099" -p "+5215512345678,name=ana"

py "$T" <<'PY'
import sys, time
from simclient import *
T = sys.argv[1]

def main():
    m = Modem(T + "/m1")
    m.ok("ATE0")
    m.ok("AT+CMEE=1")
    check(m.ok("AT+CGMI") == ["Puente"], "CGMI")
    check(m.ok("AT+CGSN")[0].isdigit(), "CGSN")
    check(m.ok("AT+CIMI")[0].startswith("33420"), "CIMI")
    check(m.ok("AT+CCID")[0].startswith("+CCID: 89"), "CCID")
    check(m.ok("AT+CPIN?") == ["+CPIN: READY"], "CPIN")
    check(m.ok("AT+CREG?") == ["+CREG: 0,1"], "CREG")
    check(m.ok("AT+CSQ")[0].startswith("+CSQ: "), "CSQ")
    check(m.ok('AT+COPS?')[0].startswith('+COPS: 0,0,"'), "COPS")
    for probe in ("AT+MODE=2", "AT+CPROT=?", "AT+SYNCML=?", "AT$TSSPCSW=?", "AT+NOPE"):
        info, final = m.cmd(probe)
        check(final == "ERROR", "%s -> %s" % (probe, final))
    m.ok("AT+CMGF=0")
    check(m.ok('AT+CPMS="SM","SM","SM"') == ["+CPMS: 0,20,0,20,0,20"], "CPMS")

    # single GSM 7-bit, single UCS-2, multipart of each
    texts = ["Hola Ana, tu cita es el 5 de mayo",
             "¿Cómo está? Mañana vacunación en la clínica",
             "Recordatorio: " + "la toma de presión es importante. " * 8,
             "Información: " + "niños y niñas menores de cinco años, acudan. " * 4]
    ref = 20
    for t in texts:
        ref += 1
        for hexpdu, n in submit_pdus(t, "+5215512345678", ref=ref):
            info, final = m.send_pdu(hexpdu, n)
            check(final == "OK" and info and info[0].startswith("+CMGS: "), "CMGS %s %s" % (info, final))
    msgs = wait_records(T + "/rec.jsonl", "message", 4)
    check([r["text"] for r in msgs] == texts, "phone got %r" % [r["text"] for r in msgs])
    check(all(r["phone"] == "+5215512345678" and r["modem"] == "m1" for r in msgs), "routing")
    check([r["parts"] for r in msgs][2] > 1 and msgs[3]["parts"] > 1, "multipart")

    # wrong length and bad hex: +CMS ERROR 304
    hexpdu, n = submit_pdus("x", "+5215512345678")[0]
    info, final = m.send_pdu(hexpdu, n + 1)
    check(final == "+CMS ERROR: 304", "bad length -> %s" % final)
    info, final = m.send_pdu("00ZZ", 7)
    check(final == "+CMS ERROR: 304", "bad hex -> %s" % final)
    # ESC cancels
    m.write("AT+CMGS=10\r"); m.read_until(b"> ")
    m.write("0011\x1b")
    check(m.line() == "OK", "ESC")

    # inbound: stored with +CMTI, read with CMGR, listed with CMGL, deleted with CMGD
    m.ok("AT+CNMI=2,1,0,0,0")
    ctl(T + "/ctl", "send", "ana", "m1", "HOLA desde el teléfono")
    u = m.urc("+CMTI:")
    check(u == '+CMTI: "SM",1', u)
    info = m.ok("AT+CMGR=1")
    check(info[0].startswith("+CMGR: 0,,"), info[0])
    d = decode_deliver(info[1])
    check(d["oa"] == "+5215512345678" and d["text"] == "HOLA desde el teléfono", repr(d))
    info = m.ok("AT+CMGL=4")
    check(info[0].startswith("+CMGL: 1,1,,"), info)
    m.ok("AT+CMGD=1")
    info, final = m.cmd("AT+CMGR=1")
    check(final == "+CMS ERROR: 321", "empty slot -> " + final)

    # inbound multipart, direct +CMT with +CNMA (phase 2+)
    m.ok("AT+CSMS=1")
    m.ok("AT+CNMI=2,2,0,1,0")
    long = "Respuesta larga " * 15
    ctl(T + "/ctl", "send", "+5215512345678", "m1", long)
    got = []
    while len(got) < 2:
        hdr, pdu = m.urc("+CMT:")
        got.append(decode_deliver(pdu))
        m.ok("AT+CNMA")
    got.sort(key=lambda d: d["concat"][2])
    check("".join(d["text"] for d in got) == long, "multipart +CMT")
    info, final = m.cmd("AT+CNMA")
    check(final == "+CMS ERROR: 340", "CNMA without +CMT -> " + final)
    # an unacknowledged +CMT comes again after the network's time-out
    ctl(T + "/ctl", "cnma-timeout", "300")
    ctl(T + "/ctl", "send", "+5215512345678", "m1", "sin acuse")
    first = decode_deliver(m.urc("+CMT:")[1])
    t0 = time.monotonic()
    again = decode_deliver(m.urc("+CMT:", timeout=3)[1])
    check(first["text"] == again["text"] == "sin acuse" and time.monotonic() - t0 >= 0.25,
          "+CMT retried")
    m.ok("AT+CNMA")
    check(m.silent(0.5), "acknowledged +CMT came again")

    # a delivery report (+CDS) for a message with TP-SRR
    hexpdu, n = submit_pdus("con acuse", "+5215512345678", srr=True)[0]
    info, final = m.send_pdu(hexpdu, n)
    mr = int(info[0].split(":")[1])
    hdr, pdu = m.urc("+CDS:")
    d = decode_deliver(pdu)
    check(d["type"] == "status-report" and d["mr"] == mr and d["status"] == 0, repr(d))
    m.ok("AT+CNMA")

    # modem to modem through the network
    for hexpdu, n in submit_pdus("entre modems", "+5215500000099"):
        m.send_pdu(hexpdu, n)
    m2 = Modem(T + "/m2")
    m2.ok("ATE0"); m2.ok("AT+CMGF=0")
    wait_records(T + "/rec.jsonl", "message", 6)
    info = m2.ok("AT+CMGL=4")
    check(decode_deliver(info[1])["text"] == "entre modems", repr(info))

    # CCLK with network time, CFUN
    m.ok("AT+CTZU=1")
    import time as _t
    yy = _t.gmtime().tm_year % 100
    check(m.ok("AT+CCLK?")[0].startswith('+CCLK: "%02d/' % yy), "CCLK")
    check(m.ok("AT+CFUN?") == ["+CFUN: 1"], "CFUN?")
    m.ok("AT+CFUN=4")
    check(m.ok("AT+CREG?") == ["+CREG: 0,0"], "CFUN=4 deregisters")
    m.ok("AT+CFUN=1")
    # AT+CFUN=1,1 answers OK, then the modem restarts with default settings (echo on)
    m.ok("AT+CFUN=1,1")
    deadline = time.monotonic() + 5
    while True:
        m.buf = b""
        m.write("AT\r")
        try:
            out = m.read_until(b"OK\r\n", timeout=0.3)
            break
        except Fail:
            check(time.monotonic() < deadline, "no answer after AT+CFUN=1,1")
    check(out.startswith(b"AT\r"), "defaults after reset: %r" % out)

run(main)
PY

# bad control input gets an error, never a crash
for bad in "frobnicate" "unplug" "unplug nosuch" "garbage m1 -5" "fail m1 abc" \
	"send ana nosuch hola" "latency m1 fast" "time m1 soon" "signal m1 77"; do
	if "$SIM" ctl "$T/ctl" $bad >"$T/out" 2>&1; then echo "ctl '$bad' did not fail"; exit 1; fi
	grep -q '^ERR' "$T/out" || { echo "ctl '$bad': no ERR line"; cat "$T/out"; exit 1; }
done
printf '\n' | timeout 5 socat - "UNIX-CONNECT:$T/ctl" | grep -q '^ERR empty' || { echo "empty line"; exit 1; }
py "$T/ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
try:
    s.sendall(b"x" * 9000)
except OSError:
    pass
assert s.recv(100).startswith(b"ERR line longer"), "overlong control line not refused"
PY
"$SIM" ctl "$T/ctl" status | grep -q "^modem m1 ready"

sim_stop
for l in "$T/m1" "$T/m2"; do [ ! -e "$l" ] && [ ! -L "$l" ] || { echo "$l left behind"; exit 1; }; done
# SIGHUP (the terminal closed) cleans up too
sim_start -m "m1=$T/m1"
kill -HUP "$sim_pid"
timeout 5 tail --pid="$sim_pid" -f /dev/null
wait "$sim_pid"; sim_pid=
[ ! -e "$T/ctl" ] || { echo "socket left after SIGHUP"; exit 1; }
for l in "$T/m1" "$T/m2"; do [ ! -e "$l" ] && [ ! -L "$l" ] || { echo "$l left behind"; exit 1; }; done
echo "sim-basic: all passed"
