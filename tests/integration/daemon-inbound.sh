#!/usr/bin/env bash
# 200 incoming messages (a quarter of them in 3 parts, UCS-2 and GSM 7-bit) sent by phones to
# two modems while puented runs; puented is SIGKILLed once in the middle of the flow and
# restarted, so messages it stored but had not yet deleted are read again (repeats). Every
# message is stored exactly once, whole, with the right sender and text.
. "$(dirname "$0")/daemon-lib.bash"
N=${PUENTE_INBOUND:-200}
sim_start -v -m "m1=$T/m1" -m "m2=$T/m2"
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
"
puented_start
wait_until 30 "both modems ready" modems_ready 2

python3 - "$N" "$T/expected" "$T/ctl" <<'PY' &
import socket, sys, time
n, out, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmds, want = [], []
for i in range(n):
    sender = "+525512%06d" % (40000 + i % 17)
    if i % 4 == 0:
        text = "Respuesta larga %d: " % i + "me siento bien, gracias por preguntar. " * 9
    elif i % 4 == 1:
        text = "Sí, asistiré %d ✓" % i
    else:
        text = "OK %d" % i
    cmds.append("send %s m%d %s\n" % (sender, 1 + i % 2, text))
    want.append("%s\t%s\n" % (sender, text))
open(out, "w", encoding="utf-8").writelines(want)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
f = s.makefile("rw", encoding="utf-8")
for k, c in enumerate(cmds):
    f.write(c)
    f.flush()
    answer = f.readline()
    time.sleep(0.01) # a flow over ~2 s, for the kill to land in the middle
    if not answer.startswith("OK"):
        sys.exit("ctl %r -> %r" % (c, answer))
PY
inject_pid=$!
stored() { [ "$(q "SELECT count(*) FROM incoming")" -ge "$1" ]; }
wait_until 30 "a third stored" stored $((N / 3))
puented_kill
wait "$inject_pid" || fail "injecting failed"
echo "killed with $(q "SELECT count(*) FROM incoming") stored"
puented_start
wait_until 60 "all $N stored" stored "$N"
sleep 1 # anything read twice would show up now
python3 - "$DB" "$T/expected" <<'PY' || fail "inbound messages wrong"
import collections, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
want = collections.Counter(tuple(l.rstrip("\n").split("\t", 1))
                           for l in open(sys.argv[2], encoding="utf-8"))
got = collections.Counter()
incomplete = 0
for sender, text, complete in db.execute("SELECT sender, text, complete FROM incoming"):
    got[(sender, text)] += 1
    incomplete += complete == 0
missing = sum((want - got).values())
extra_multi = sum(v for k, v in (got - want).items() if k[1].startswith("Respuesta larga"))
extra_single = sum(v for k, v in (got - want).items() if not k[1].startswith("Respuesta larga"))
partial = db.execute("SELECT count(*) FROM inbound_parts").fetchone()[0]
print("incoming: expected %d, stored %d, missing %d, extra multipart %d, extra single %d,"
      " incomplete %d, parts left %d" % (sum(want.values()), sum(got.values()), missing,
                                         extra_multi, extra_single, incomplete, partial))
# A single-part message stored and then read again because the kill came before its
# AT+CMGD is recognised by sender, SC time stamp and text (docs/store.md): no repeat.
sys.exit(1 if missing or extra_multi or incomplete or extra_single else 0)
PY
held=$(simctl status | grep -o 'held=[0-9]*' | tr '\n' ' ')
echo "left in the simulated network: $held"
puented_stop
echo "daemon-inbound: ok"
