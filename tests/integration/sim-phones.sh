#!/usr/bin/env bash
# puente-sim's config file, scripted phones (quiz right and wrong, a late reply, STOP after
# the third message, a multipart reply, an alphanumeric sender), the timed script file, and
# the file:line errors of both files.
. "$(dirname "$0")/sim-lib.bash"
cat >"$T/sim.conf" <<CONF
# network
report-delay = 0
timezone = -24

modem m1 {
	path = "$T/m1"
	number = "+5215500000001"
	sm = "30"
}

phone ana {
	number = "+5215512345678"
	rule { match = "*capital*" reply = "Lima" }
	rule { nth = 3 reply = "STOP" }
}
phone beto {
	number = "+5215587654321"
	rule { match = "*capital*" reply = "Bogota" delay = 700 }
}
phone carla {
	number = "+5215511112222"
	rule { reply = "Muchas gracias por la informacion, la proxima semana voy a la clinica con mis dos hijos para la vacuna y tambien para la consulta de control del mas pequeno. Hasta pronto, saludos a todo el equipo." }
}
phone clinica {
	number = "+5215599990000"
	sender = "CLINICA"
	rule { times = 1 reply = "Confirmado" }
}
CONF
cat >"$T/script" <<'SCRIPT'
# seconds  command
0.2  send +5215512345678 m1 desde el guion
0.3  signal m1 9
SCRIPT

# errors in either file are reported as file:line and stop the start
printf 'modem m1 {\n\tpath = "%s/x"\n\tdialect = "nokia"\n}\n' "$T" >"$T/bad.conf"
if "$SIM" -c "$T/bad.conf" 2>"$T/err"; then echo "a bad config was accepted"; exit 1; fi
grep -q "bad.conf:[0-9]*: modem m1: unknown dialect 'nokia'" "$T/err" || { cat "$T/err"; exit 1; }
printf 'soon unplug m1\n' >"$T/bad.script"
if "$SIM" -m "m9=$T/m9" -S "$T/bad.script" 2>"$T/err"; then echo "a bad script was accepted"; exit 1; fi
grep -q "bad.script:1: expected 'SECONDS COMMAND'" "$T/err" || { cat "$T/err"; exit 1; }
[ ! -e "$T/m9" ] || { echo "link left after a failed start"; exit 1; }
"$SIM" --help | grep -q -- "--modem NAME=PATH"

sim_start -c "$T/sim.conf" -S "$T/script"

py "$T" <<'PY'
import sys, time
from simclient import *
T = sys.argv[1]
CTL = T + "/ctl"

def main():
    m = Modem(T + "/m1")
    m.ok("ATE0"); m.ok("AT+CMGF=0")
    time.sleep(0.4)  # the script has run by now
    info = m.ok("AT+CMGL=4")
    check(decode_deliver(info[1])["text"] == "desde el guion", "scripted send: %r" % info)
    check(m.ok("AT+CSQ") == ["+CSQ: 9,99"], "scripted signal")
    check(m.ok('AT+CPMS?')[0].startswith('+CPMS: "SM",1,30,'), "sm size from the config")
    m.ok("AT+CNMI=2,2,0,0,0")

    def send(to, text):
        for hexpdu, n in submit_pdus(text, to):
            check(m.send_pdu(hexpdu, n)[1] == "OK", "send to " + to)

    def reply(timeout=3):
        hdr, pdu = m.urc("+CMT:", timeout=timeout)
        return decode_deliver(pdu)

    send("+5215512345678", "Pregunta: cual es la capital de Peru?")
    d = reply()
    check((d["oa"], d["text"]) == ("+5215512345678", "Lima"), "right answer: %r" % d)
    send("+5215512345678", "Gracias por participar")
    check(m.silent(0.3), "no rule for the second message")
    send("+5215512345678", "Recordatorio de su cita")
    check(reply()["text"] == "STOP", "STOP after the third")

    t0 = time.monotonic()
    send("+5215587654321", "Pregunta: cual es la capital de Peru?")
    d = reply()
    check(d["text"] == "Bogota" and time.monotonic() - t0 >= 0.65, "late wrong answer")

    send("+5215511112222", "Hola Carla")
    parts = sorted((reply(), reply()), key=lambda d: d["concat"][2])
    check(parts[0]["concat"][1] == 2 and "".join(p["text"] for p in parts).startswith(
        "Muchas gracias") and parts[1]["text"].endswith("equipo."), "multipart reply")

    send("+5215599990000", "Confirma su cita?")
    d = reply()
    check((d["oa"], d["text"]) == ("CLINICA", "Confirmado"), "alphanumeric sender: %r" % d)
    send("+5215599990000", "Otra vez?")
    check(m.silent(0.3), "times = 1")

    # records: what each phone received, exactly once
    msgs = records(T + "/rec.jsonl", "message")
    check([r["phone"] for r in msgs].count("+5215512345678") == 3, "ana got 3")
    sent = records(T + "/rec.jsonl", "sent")
    check(any(r["phone"] == "CLINICA" for r in sent), "sent record names the sender")
    out = ctl(CTL, "status")[1]
    check("phone ana +5215512345678 received=3" in out, out)

    # phones can be changed at run time: unreachable ones get failed reports
    ctl(CTL, "phone", "+5215587654321", "reachable=off")
    m.ok("AT+CNMI=2,2,0,1,0")
    hexpdu, n = submit_pdus("hola?", "+5215587654321", srr=True)[0]
    m.send_pdu(hexpdu, n)
    hdr, pdu = m.urc("+CDS:")
    check(decode_deliver(pdu)["status"] == 0x46, "report of an unreachable phone")
    check(records(T + "/rec.jsonl", "undeliverable")[-1]["text"] == "hola?", "undeliverable")

run(main)
PY
sim_stop
echo "sim-phones: all passed"
