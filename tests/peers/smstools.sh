#!/usr/bin/env bash
# SMS Server Tools 3 (smsd) sends 30 messages (GSM 7-bit, UCS-2 Spanish, multipart) through a
# puente-sim modem and receives 10 (multipart too); every text arrives exactly once.
. "$(dirname "$0")/../integration/sim-lib.bash"
command -v smsd >/dev/null || { echo "smsd (smstools) is not installed (make deps)"; exit 1; }
export PYTHONPATH=$PYTHONPATH:$PUENTE_SRC/tests/peers LANG=C.UTF-8 LC_ALL=C.UTF-8
peer_pid=
stop_peer() {
	if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2>/dev/null; then
		kill -TERM "$peer_pid"  # the main process stops its modem process too
		timeout 10 tail --pid="$peer_pid" -f /dev/null || kill -KILL "$peer_pid" 2>/dev/null || true
	fi
	peer_pid=
}
trap 'stop_peer; [ -f "$T/smsd.log" ] && { echo "--- smsd log (tail)"; tail -n 30 "$T/smsd.log"; }; sim_cleanup' EXIT

sim_start -m "m1=$T/m1"
mkdir -p "$T/outgoing" "$T/checked" "$T/incoming" "$T/failed" "$T/sent"
cat >"$T/smsd.conf" <<CONF
devices = GSM1
logfile = $T/smsd.log
loglevel = 7
outgoing = $T/outgoing
checked = $T/checked
incoming = $T/incoming
failed = $T/failed
sent = $T/sent
delaytime = 1
delaytime_mainprocess = 1
decode_unicode_text = yes
incoming_utf8 = yes
internal_combine = yes

[GSM1]
device = $T/m1
incoming = yes
pin = ignore
cs_convert_optical = no
CONF

py "$T" <<'PY'
import sys
from peer_texts import OUT, PHONE
for i, text in enumerate(OUT):
    with open("%s/outgoing/puente%02d" % (sys.argv[1], i), "w", encoding="utf-8") as f:
        # "Alphabet: UTF": GSM 7-bit when it fits, else the whole message in UCS-2
        f.write("To: %s\nAlphabet: UTF\n\n%s" % (PHONE.lstrip("+"), text))
PY

smsd -t -c "$T/smsd.conf" -p "$T/smsd.pid" -i "$T/smsd.working" >"$T/smsd.out" 2>&1 &
peer_pid=$!

py "$T" <<'PY'
import glob, os, sys, time
from simclient import *
from peer_texts import OUT, IN, PHONE
T = sys.argv[1]

def main():
    wait_records(T + "/rec.jsonl", "message", len(OUT), timeout=45)
    time.sleep(0.5)
    msgs = records(T + "/rec.jsonl", "message")
    got = sorted(r["text"] for r in msgs)
    check(got == sorted(OUT), "sent texts differ:\n%s" % "\n".join(
        repr(t) for t in sorted(set(got) ^ set(OUT))))
    check(all(r["phone"] == PHONE for r in msgs), "wrong recipient")
    check(sum(1 for r in msgs if r["parts"] > 1) == 10, "10 multipart messages")
    parts = records(T + "/rec.jsonl", "part")
    check({r["charset"] for r in parts} == {"gsm7", "ucs2"}, "both alphabets used")
    check(not glob.glob(T + "/failed/*"), "smsd failed some messages")

    for text in IN:
        ctl(T + "/ctl", "send", PHONE, "m1", text)
    deadline = time.monotonic() + 30
    while True:
        texts = []
        for f in glob.glob(T + "/incoming/GSM1.*"):  # GSM1-concatenated is smsd's own
            with open(f, encoding="utf-8", errors="replace") as fh:
                head, _, body = fh.read().partition("\n\n")
            check("From: " + PHONE.lstrip("+") in head, "sender in %s: %s" % (f, head))
            texts.append(body)
        if sorted(texts) == sorted(IN):
            break
        if time.monotonic() > deadline:
            raise Fail("incoming holds %r" % sorted(texts))
        time.sleep(0.2)

run(main)
PY
stop_peer
sim_stop
echo "smsd: 30 sent, 10 received, each exactly once"
