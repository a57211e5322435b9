#!/usr/bin/env bash
# puente-sim's vendor dialects: Huawei noise and refusals, SIMCom boot lines and text mode,
# ME-only storage, a prompt without its space.
. "$(dirname "$0")/sim-lib.bash"
sim_start -m "hw=$T/hw,dialect=huawei" -m "sc=$T/sc,dialect=simcom" \
	-m "me=$T/me,dialect=me-only" -m "ns=$T/ns,dialect=nospace"

py "$T" <<'PY'
import sys, time
from simclient import *
T = sys.argv[1]
CTL = T + "/ctl"
PHONE = "+5215512345678"

def main():
    # Huawei: ^RSSI/^MODE noise until AT^CURC=0; CNMI mode 3 and ds 1 refused; index 0
    hw = Modem(T + "/hw")
    hw.ok("ATE0"); hw.ok("AT+CMEE=1")
    check(hw.ok("AT+CGMI") == ["huawei"], "CGMI")
    for _ in range(2):  # it repeats every 2 s
        check(hw.urc("^RSSI:", timeout=3).startswith("^RSSI:"), "^RSSI noise")
    check(hw.urc("^BOOT:", timeout=3).startswith("^BOOT:"), "^BOOT noise")
    hw.ok("AT^CURC=0")
    hw.urcs.clear()
    check(hw.silent(2.3), "noise after AT^CURC=0")
    check(hw.cmd("AT+CNMI=3,1,0,0,0")[1] == "+CMS ERROR: 303", "CNMI mode 3")
    check(hw.cmd("AT+CNMI=2,1,0,1,0")[1] == "+CMS ERROR: 303", "CNMI ds 1")
    hw.ok("AT+CNMI=2,1,0,2,0")
    hw.ok("AT+CMGF=0")
    ctl(CTL, "send", PHONE, "hw", "hola huawei")
    check(hw.urc("+CMTI:") == '+CMTI: "SM",0', "0-based index")
    check(decode_deliver(hw.ok("AT+CMGR=0")[1])["text"] == "hola huawei", "CMGR=0")
    # other dialects do not know ^CURC
    ns = Modem(T + "/ns")
    ns.ok("ATE0")
    check(ns.cmd("AT^CURC=0")[1] == "ERROR", "^CURC outside Huawei")

    # SIMCom: boot lines, text mode by default, text-mode sending and reading
    sc = Modem(T + "/sc")
    ctl(CTL, "reboot", "sc")
    for want in ("RDY", "+CPIN: READY", "Call Ready", "SMS Ready"):
        check(sc.urc(want, timeout=3) == want, want)
    sc.ok("ATE0")
    check(sc.ok("AT+CMGF?") == ["+CMGF: 1"], "text mode by default")
    sc.write('AT+CMGS="%s"\r' % PHONE)
    sc.read_until(b"> ")
    sc.write("hola en modo texto\x1a")
    check(sc.line().startswith("+CMGS: ") and sc.line() == "OK", "text-mode CMGS")
    msgs = wait_records(T + "/rec.jsonl", "message", 1)
    check(msgs[-1]["text"] == "hola en modo texto" and msgs[-1]["modem"] == "sc", repr(msgs))
    sc.ok("AT+CNMI=2,1,0,0,0")
    ctl(CTL, "send", PHONE, "sc", "respuesta texto")
    check(sc.urc("+CMTI:") == '+CMTI: "SM",1', "CMTI text mode")
    info = sc.ok('AT+CMGL="ALL"')
    check(info[0].startswith('+CMGL: 1,"REC UNREAD","%s",,"' % PHONE) and
          info[1] == "respuesta texto", repr(info))

    # ME only
    me = Modem(T + "/me")
    me.ok("ATE0"); me.ok("AT+CMEE=1")
    check(me.ok("AT+CPMS=?") == ['+CPMS: ("ME"),("ME"),("ME")'], "CPMS=? ME only")
    check(me.cmd('AT+CPMS="SM"')[1] == "+CMS ERROR: 302", "no SM storage")
    check(me.ok('AT+CPMS="ME","ME","ME"') == ["+CPMS: 0,30,0,30,0,30"], "ME size")
    me.ok("AT+CNMI=2,1,0,0,0")
    ctl(CTL, "send", PHONE, "me", "a memoria")
    check(me.urc("+CMTI:") == '+CMTI: "ME",1', "CMTI ME")

    # prompt without the space
    ns.ok("AT+CMGF=0")
    ns.write("AT+CMGS=10\r")
    got = ns.read_until(b">")
    check(got.endswith(b"\r\n>"), repr(got))
    check(ns.silent(0.2), "something after the prompt")
    ns.write("\x1b")
    check(ns.line() == "OK", "ESC")

run(main)
PY
"$SIM" --dialects | grep -q '^huawei'
sim_stop
echo "sim-dialects: all passed"
