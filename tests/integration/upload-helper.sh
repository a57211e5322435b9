#!/usr/bin/env bash
# puented's uploads through the upload helper (docs/upload.md "The upload helper"): batches
# reach nginx while puented never maps libcurl; a helper caught mid-transfer (a server that
# accepts and never answers) shows no secret in its command line or environment, and
# puented's SIGTERM kills and reaps it; after the restart the backlog arrives, each event
# once.
. "$(dirname "$0")/daemon-lib.bash"
. "$(dirname "$0")/nginx-lib.bash"
nginx_have || { echo "SKIP: no nginx"; exit 0; }
# dl_cleanup reads the status from $? (set +e: under errexit '(exit 1)' would end the trap)
trap 'rc=$?; set +e; nginx_stop; [ -n "${silent_pid:-}" ] && kill "$silent_pid"; (exit $rc); dl_cleanup' EXIT

PASSWORD=pw-only-on-stdin-7f3a9c
CONTACT=+525512345601
sim_start -m "m1=$T/m1" -p "$CONTACT"
nginx_start
# the upload section, basic auth (nginx ignores it), a time-out long enough to catch a helper
# waiting for the silent server below
conf() {
	upload_conf box-helper | sed -e "s|timeout = 5s|timeout = 60s|" \
		-e "s|^}|  auth = \"basic\"\n  user = \"clinic-7\"\n  password = \"$PASSWORD\"\n}|"
}
write_conf "modem \"$T/m1\" { }
$(conf)"
grep -q "password = \"$PASSWORD\"" "$CONF" || fail "config not written: $(cat "$CONF")"

puented_start
wait_until 30 "the modem ready" modems_ready 1
queue "$CONTACT" "Hola Maria, recuerde su cita del martes"
sent() { q "SELECT value FROM settings WHERE key = 'upload.sent'" | grep -q .; }
wait_until 40 "a batch confirmed by nginx" sent
[ "$(nginx_batches)" -ge 1 ] || fail "no batch file at nginx"
if grep -q libcurl "/proc/$pd_pid/maps"; then fail "puented maps libcurl"; fi

# a server that accepts connections and never answers: the helper waits in its transfer
nginx_stop
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$nginx_port" &
silent_pid=$!
helper_pid() { pgrep -P "$pd_pid" -x puente-upload; }
queue "$CONTACT" "Segundo mensaje"
wait_until 40 "a helper in its transfer" helper_pid
child=$(helper_pid)
for _ in $(seq 50); do [ -s "/proc/$child/cmdline" ] && break; sleep 0.1; done
tr '\0' ' ' <"/proc/$child/cmdline" | grep -q "puente-upload .*box-helper/" ||
	fail "helper's command line: $(tr '\0' ' ' <"/proc/$child/cmdline")"
if tr '\0' '\n' <"/proc/$child/cmdline" | grep -q "$PASSWORD"; then fail "password in argv"; fi
if tr '\0' '\n' <"/proc/$child/environ" | grep -q "$PASSWORD"; then fail "password in environ"; fi
puented_stop
[ ! -e "/proc/$child" ] || fail "helper $child left running (or unreaped) after SIGTERM"
kill "$silent_pid" 2>/dev/null || true
wait "$silent_pid" 2>/dev/null || true
silent_pid=

# back online: everything arrives, each event once
nginx_start
puented_start
all_sent() {
	local cut sent
	cut=$(q "SELECT value FROM settings WHERE key = 'upload.cut'" | cut -d' ' -f1)
	sent=$(q "SELECT value FROM settings WHERE key = 'upload.sent'" | cut -d' ' -f1)
	[ -n "$cut" ] && [ "$cut" = "$sent" ] && [ "$(nginx_batches)" -ge "$cut" ]
}
wait_until 40 "the backlog confirmed" all_sent
puented_stop
python3 - "$T/www/up/box-helper" <<'PY' || fail "batches at nginx"
import glob, gzip, json, sys
seqs = []
files = sorted(glob.glob(sys.argv[1] + "/*.ndjson.gz"))
for f in files:
    lines = gzip.open(f, "rt").read().splitlines()
    seqs += [json.loads(l)["seq"] for l in lines[1:]]
assert len(seqs) == len(set(seqs)), "an event twice"
assert set(range(1, max(seqs) + 1)) <= set(seqs), "an event missing"
assert "pw-only" not in "".join(open(f, "rb").read().decode("latin-1") for f in files)
print("%d batches, %d events" % (len(files), len(seqs)))
PY
echo "ok"
