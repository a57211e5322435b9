#!/usr/bin/env bash
# puente-sim survives what strangers send: thousands of random AT command lines and bytes on
# a modem, random control lines on the socket; afterwards it still answers, and it stops
# cleanly (under ASan this catches memory errors the other tests do not reach).
. "$(dirname "$0")/sim-lib.bash"
sim_start -m "m1=$T/m1" -m "m2=$T/m2" -p "+5215512345678,reply=ok"

py "$T" <<'PY'
import os, random, socket, sys, time
from simclient import *
T = sys.argv[1]
rnd = random.Random(20261127)

CMDS = ["+CMGS", "+CMGW", "+CMGL", "+CMGR", "+CMGD", "+CPMS", "+CNMI", "+CNMA", "+CSMS",
        "+CMGF", "+CSCA", "+CMEE", "+CPIN", "+CREG", "+CGREG", "+CEREG", "+COPS", "+CCLK",
        "+CTZU", "+CFUN", "+CSCS", "+CMMS", "+CSQ", "+CGMI", "+CIMI", "+CCID", "^CURC",
        "+CNUM", "+CPAS", "+XYZ", "E", "V", "Q", "Z", "&F", "I", "S0", "S3?"]
ARGS = ["0", "1", "2", "3", "4", "5", "-1", "999999999999", "", '"SM"', '"ME"', '"XX"',
        '"+5215512345678"', '"', '""', "1,1", "2,2,0,1,0", "3,3,3,3,3", '"' + "9" * 200 + '"',
        '"00/01/01,00:00:00+00"', '"99/99/99,99:99:99-99"', ",,,,,,,,,", "a" * 1100]

def at_line():
    parts = []
    for _ in range(rnd.randint(1, 3)):
        c = rnd.choice(CMDS)
        kind = rnd.choice(["", "?", "=?", "=" + rnd.choice(ARGS)])
        parts.append(c + (kind if c[0] in "+^" else ""))
    return "AT" + ";".join(parts) + "\r"

def main():
    m = Modem(T + "/m1", timeout=2)
    m.ok("ATE0")
    for i in range(3000):
        if rnd.random() < 0.1:
            data = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
        else:
            data = at_line().encode()
        os.write(m.fd, data)
        if i % 50 == 0:  # drain what it said so the pty never fills
            m.buf = b""
            while m._fill(time.monotonic() + 0.01):
                m.buf = b""
    # whatever state that left: let it finish talking, cancel a prompt, reset; it must
    # answer again
    deadline = time.monotonic() + 15
    while True:
        check(time.monotonic() < deadline, "m1 stopped answering")
        while not m.silent(0.3):
            m.buf = b""
        m.buf = b""
        os.write(m.fd, b"\x1b\rATZ\r")
        try:
            m.read_until(b"OK\r\n", timeout=0.5)
        except Fail:
            continue
        if m.silent(0.3):
            break
    m.buf = b""
    m.ok("ATE0")
    m.ok("AT+CFUN=1")
    check(m.ok("AT+CMGF?") in (["+CMGF: 0"], ["+CMGF: 1"]), "CMGF after the storm")

    words = ["status", "send", "inject", "unplug", "replug", "hang", "unhang", "garbage",
             "reboot", "sim", "pin", "fail", "credit", "full", "slow-prompt", "latency",
             "report-delay", "cnma-timeout", "time", "signal", "phone", "help", "nope", "",
             "m2", "m9", "+5215512345678", "on", "off", "-5", "0", "99999999999", "wrong",
             "remove", "insert", "\\n", "héllo", "x" * 300]
    s = socket.socket(socket.AF_UNIX)
    s.connect(T + "/ctl")
    s.settimeout(5)
    f = s.makefile("rwb")
    for i in range(1500):
        line = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 6)))
        if line.split()[:1] == ["quit"]:
            continue
        line = line.replace(" m1", " m2")  # m1 keeps its pty for the checks below
        f.write(line.encode() + b"\n")
        f.flush()
        while True:
            answer = f.readline()
            check(answer, "no answer to %r" % line)
            if answer.startswith((b"OK", b"ERR")):
                break
    s.close()
    check(ctl(T + "/ctl", "status")[1].startswith("modem m1 ready"), "status after the storm")
    m.ok("AT")

run(main)
PY
sim_stop
echo "sim-robust: all passed"
