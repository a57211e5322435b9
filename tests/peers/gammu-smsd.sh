#!/usr/bin/env bash
# gammu-smsd (files backend) sends 30 messages (GSM 7-bit, UCS-2 Spanish, multipart) through a
# puente-sim modem and receives 10 (multipart too); every text arrives exactly once.
. "$(dirname "$0")/../integration/sim-lib.bash"
command -v gammu-smsd >/dev/null || { echo "gammu-smsd is not installed (make deps)"; exit 1; }
export PYTHONPATH=$PYTHONPATH:$PUENTE_SRC/tests/peers LANG=C.UTF-8 LC_ALL=C.UTF-8
peer_pid=
stop_peer() {
	if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2>/dev/null; then
		kill -TERM "$peer_pid"
		timeout 10 tail --pid="$peer_pid" -f /dev/null || kill -KILL "$peer_pid" 2>/dev/null || true
	fi
	peer_pid=
}
trap 'stop_peer; [ -f "$T/smsd.log" ] && { echo "--- gammu-smsd log (tail)"; tail -n 20 "$T/smsd.log"; }; sim_cleanup' EXIT

sim_start -m "m1=$T/m1"
mkdir -p "$T/inbox" "$T/outbox" "$T/sent" "$T/error"
cat >"$T/gammu.conf" <<CONF
[gammu]
device = $T/m1
connection = at
logfile = $T/gammu.log

[smsd]
service = files
inboxpath = $T/inbox/
outboxpath = $T/outbox/
sentsmspath = $T/sent/
errorsmspath = $T/error/
inboxformat = standard
transmitformat = auto
logfile = $T/smsd.log
debuglevel = 1
loopsleep = 0
receivefrequency = 1
statusfrequency = 0
checksecurity = 0
checkbattery = 0
checksignal = 0
phoneid = sim
pidfile = $T/gammu-smsd.pid
CONF

# the outbox first, so gammu-smsd finds all of it at once
py "$T" <<'PY'
import sys
from peer_texts import OUT, PHONE
for i, text in enumerate(OUT):
    name = "%s/outbox/OUTA20260101_000000_%02d_%s_t.txt" % (sys.argv[1], i, PHONE)
    with open(name, "wb") as f:
        f.write(b"\xfe\xff" + text.encode("utf-16-be"))  # BOM: gammu reads UCS-2 as is
PY

gammu-smsd -c "$T/gammu.conf" >"$T/gammu-smsd.out" 2>&1 &
peer_pid=$!

py "$T" <<'PY'
import glob, os, sys, time
from simclient import *
from peer_texts import OUT, IN, PHONE
T = sys.argv[1]

def main():
    msgs = wait_records(T + "/rec.jsonl", "message", len(OUT), timeout=45)
    time.sleep(0.5)
    msgs = records(T + "/rec.jsonl", "message")
    got = sorted(r["text"] for r in msgs)
    check(got == sorted(OUT), "sent texts differ:\n%s" % "\n".join(
        repr(t) for t in sorted(set(got) ^ set(OUT))))
    check(all(r["phone"] == PHONE for r in msgs), "wrong recipient")
    check(sum(1 for r in msgs if r["parts"] > 1) == 10, "10 multipart messages")
    parts = records(T + "/rec.jsonl", "part")
    check({r["charset"] for r in parts} == {"gsm7", "ucs2"}, "both alphabets used")
    check(not glob.glob(T + "/error/*"), "gammu-smsd put messages in error/")

    for text in IN:
        ctl(T + "/ctl", "send", PHONE, "m1", text)
    deadline = time.monotonic() + 30
    while True:
        files = sorted(glob.glob(T + "/inbox/IN*.txt"))
        # IN<date>_<time>_<serial>_<number>_<part>.txt: one message per date_time_serial
        texts = {}
        for f in files:
            key = os.path.basename(f).rsplit("_", 2)[0]
            with open(f, encoding="utf-8") as fh:
                texts[key] = texts.get(key, "") + fh.read()
        if sorted(texts.values()) == sorted(IN):
            break
        if time.monotonic() > deadline:
            raise Fail("inbox holds %r" % sorted(texts.values()))
        time.sleep(0.2)

run(main)
PY
stop_peer
sim_stop
echo "gammu-smsd: 30 sent, 10 received, each exactly once"
