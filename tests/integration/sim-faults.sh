#!/usr/bin/env bash
# puente-sim faults on demand: each control command has the effect docs/sim.md promises.
. "$(dirname "$0")/sim-lib.bash"
sim_start -b 200 -m "m1=$T/m1" -m "m2=$T/m2"

py "$T" <<'PY'
import os, sys, time
from simclient import *
T = sys.argv[1]
CTL = T + "/ctl"
PHONE = "+5215512345678"

def ready(path):
    """Waits out a boot, then turns echo off and asks for numeric errors and PDU mode."""
    deadline = time.monotonic() + 5
    m = Modem(path, timeout=0.5)
    while True:
        try:
            m.cmd("AT")
            break
        except Fail:
            check(time.monotonic() < deadline, "%s never answered after boot" % path)
            m.buf = b""
    m.timeout = 5
    m.ok("ATE0"); m.ok("AT+CMEE=1"); m.ok("AT+CMGF=0")
    return m

def send(m, text="hola"):
    hexpdu, n = submit_pdus(text, PHONE)[0]
    return m.send_pdu(hexpdu, n)

def main():
    m = ready(T + "/m1")

    # +CMS ERROR 500 / 38 / 331 for the next N sends, then normal
    for code in ("500", "38", "331"):
        ctl(CTL, "fail", "m1", code, "2")
        for _ in range(2):
            check(send(m)[1] == "+CMS ERROR: " + code, "fail " + code)
        check(send(m)[1] == "OK", "after fail " + code)
    n_ok = 3

    ctl(CTL, "credit", "m1", "off")
    check(send(m)[1] == "+CMS ERROR: 21", "no credit")
    ctl(CTL, "credit", "m1", "on")
    check(send(m)[1] == "OK", "credit back"); n_ok += 1

    # slow prompt and network latency
    ctl(CTL, "slow-prompt", "m1", "300")
    t0 = time.monotonic(); m.write("AT+CMGS=10\r"); m.read_until(b"> ")
    check(time.monotonic() - t0 >= 0.28, "slow prompt came early")
    m.write("\x1b"); check(m.line() == "OK", "ESC after slow prompt")
    ctl(CTL, "slow-prompt", "m1", "0")
    ctl(CTL, "latency", "m1", "300")
    t0 = time.monotonic(); info, final = send(m)
    check(final == "OK" and time.monotonic() - t0 >= 0.28, "latency")
    n_ok += 1
    ctl(CTL, "latency", "m1", "default")
    check(len(records(T + "/rec.jsonl", "message")) == n_ok, "only accepted sends reach the phone")

    # SIM removed, then PIN required
    m.ok("AT+CREG=1")
    ctl(CTL, "sim", "m1", "remove")
    check(m.urc("+CREG:") == "+CREG: 0", "CREG URC on removal")
    check(m.cmd("AT+CPIN?")[1] == "+CME ERROR: 10", "CPIN without SIM")
    check(send(m)[1] == "+CMS ERROR: 310", "CMGS without SIM")
    ctl(CTL, "sim", "m1", "insert")
    check(m.urc("+CREG:") == "+CREG: 1", "CREG URC on insertion")
    ctl(CTL, "pin", "m1", "4321")
    check(m.urc("+CREG:") == "+CREG: 0", "deregistered until the PIN")
    check(m.ok("AT+CPIN?") == ["+CPIN: SIM PIN"], "PIN asked")
    check(send(m)[1] == "+CMS ERROR: 311", "CMGS before PIN")
    check(m.cmd('AT+CPIN="0000"')[1] == "+CME ERROR: 16", "wrong PIN")
    m.ok('AT+CPIN="4321"')
    check(m.urc("+CREG:") == "+CREG: 1", "registered after PIN")
    check(send(m)[1] == "OK", "send after PIN")

    # storage full: the network holds inbound messages, AT+CMGW says 322
    m.ok("AT+CNMI=2,1,0,0,0")
    ctl(CTL, "full", "m1", "on")
    ctl(CTL, "send", PHONE, "m1", "espera")
    check(m.silent(0.3), "nothing may arrive while full")
    m.write("AT+CMGW=10\r")
    check(m.line() == "+CMS ERROR: 322", "CMGW when full")
    ctl(CTL, "full", "m1", "off")
    check(m.urc("+CMTI:") == '+CMTI: "SM",1', "held message delivered")

    # garbage on the line
    ctl(CTL, "garbage", "m1", "64")
    deadline = time.monotonic() + 3
    while len(m.buf) < 64:
        check(m._fill(deadline), "garbage did not arrive")
    m.buf = b""
    m.ok("AT")

    # hang: no answer at all, until unhang
    ctl(CTL, "hang", "m1")
    m.write("AT\r")
    check(m.silent(0.4), "a hung modem answered")
    ctl(CTL, "unhang", "m1")
    m.ok("AT")

    # network time: right, wrong by a day, absent
    m.ok("AT+CTZU=1")
    ok_clock = m.ok("AT+CCLK?")[0]
    check(ok_clock.startswith('+CCLK: "%02d/' % (time.gmtime().tm_year % 100)), ok_clock)
    ctl(CTL, "time", "m1", "wrong", "-86400")
    y = time.gmtime(time.time() - 86400)
    want = '+CCLK: "%02d/%02d/%02d,' % (y.tm_year % 100, y.tm_mon, y.tm_mday)
    check(m.ok("AT+CCLK?")[0].startswith(want), "wrong time: %s" % m.ok("AT+CCLK?"))
    ctl(CTL, "time", "m1", "absent")
    check(m.ok("AT+CCLK?")[0].startswith('+CCLK: "00/01/01,'), "absent time")

    # reboot now: silent while booting, then settings are the defaults again (echo on)
    ctl(CTL, "reboot", "m1")
    m.write("AT\r")
    check(m.silent(0.1), "answered while booting")
    deadline = time.monotonic() + 5
    while True:
        m.buf = b""
        m.write("AT\r")
        try:
            out = m.read_until(b"OK\r\n", timeout=0.3)
            break
        except Fail:
            check(time.monotonic() < deadline, "no answer after the reboot")
    check(out.startswith(b"AT\r"), "echo back on after reboot: %r" % out)

    # reboot in the middle of AT+CMGS: no prompt, no answer
    m = ready(T + "/m1")
    ctl(CTL, "reboot", "m1", "+CMGS")
    m.write("AT+CMGS=10\r")
    check(m.silent(0.15), "answered a command it rebooted on")
    m = ready(T + "/m1")

    # unplug: the link goes, the open port dies; replug: a new port behind the same link
    old = os.readlink(T + "/m1")
    ctl(CTL, "unplug", "m1")
    wait_path(T + "/m1", gone=True)
    try:
        os.write(m.fd, b"AT\r"); data = os.read(m.fd, 100)
        check(data == b"", "unplugged port still answers")
    except OSError:
        pass
    m.close()
    check(ctl(CTL, "status")[1].count("unplugged") == 1, "status shows unplugged")
    ctl(CTL, "replug", "m1")
    wait_path(T + "/m1")
    m = ready(T + "/m1")
    check(send(m)[1] == "+CMS ERROR: 311", "the SIM keeps its PIN across a replug")
    m.ok('AT+CPIN="4321"')
    check(send(m)[1] == "OK", "send after replug")

    # m2 was never touched by any of this
    m2 = ready(T + "/m2")
    check(m2.ok("AT+CPIN?") == ["+CPIN: READY"], "m2 unaffected")

run(main)
PY
sim_stop
echo "sim-faults: all passed"
