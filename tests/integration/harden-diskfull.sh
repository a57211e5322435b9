#!/usr/bin/env bash
# A full disk (docs/hardening.md): the database on a 2 MB tmpfs that is then filled up.
# puented must stay up, puentectl send must refuse with a clear error (not a crash), the
# database must pass integrity_check, puentectl status (text and --json) and systemd's
# STATUS= say "disk full" in plain words, and once space returns, without a restart: the
# inbound messages that arrived meanwhile reach the store (they waited on the modem and are
# read again) and new messages go out.
# Needs root for the mount: skipped (exit 0, said so) otherwise.
. "$(dirname "$0")/daemon-lib.bash"
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=2m puente-test "$T/disk" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs here (not root?)"
	exit 0
fi
umount_disk() { umount -l "$T/disk" 2>/dev/null || true; }
# (exit $rc): dl_cleanup reads the script's status from $?, which the commands before it reset
# (set +e: under errexit '(exit 1)' would end the trap before dl_cleanup).
trap 'rc=$?; set +e; umount_disk; (exit $rc); dl_cleanup' EXIT
DB=$T/disk/puente.db
phones=(+525512345671 +525512345672)
sim_start -m "m1=$T/m1" -p "${phones[0]}" -p "${phones[1]}"
write_conf "
modem \"$T/m1\" { }
"
# systemd's side of Type=notify: every STATUS= line.
python3 - "$T/notify" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as f:
    try:
        while True:
            f.write(s.recv(4096).decode() + "\n")
            f.flush()
    except OSError:
        pass
PY
notify_pid=$!
trap 'rc=$?; set +e; kill $notify_pid 2>/dev/null; dl_stop_pid "$pd_pid"; umount_disk; (exit $rc); dl_cleanup' EXIT
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify puented_start
wait_until 30 "modem ready" modems_ready 1
queue "${phones[0]}" "antes del disco lleno"
wait_until 30 "first message sent" parts_settled

# Fill the disk to the last block.
dd if=/dev/zero of="$T/disk/fill" bs=16k 2>/dev/null || true
sync
out=$("$PUENTECTL" --config "$CONF" send --to "${phones[1]}" "con el disco lleno" 2>&1) && rc=0 || rc=$?
echo "puentectl send on a full disk: exit $rc: $out"
[ "$rc" -ne 0 ] || echo "note: the send was accepted (SQLite had a free page)"
for i in 1 2 3; do simctl send "${phones[1]}" m1 "entrada llena $i" >/dev/null; done
WORDS="disk full: messages are kept on the modems until space returns"
status_full() { "$PUENTECTL" --config "$CONF" status | grep -qF "Disk: $WORDS"; }
wait_until 30 "puentectl status to say disk full" status_full
"$PUENTECTL" --config "$CONF" status | grep -E '^(Daemon|Disk|Problems)'
"$PUENTECTL" --config "$CONF" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["disk"]["full"] is True and d["disk"]["problem"] == sys.argv[1], d["disk"]
assert d["daemon"]["running"] is True, d["daemon"]' "$WORDS" || fail "status --json does not say disk full"
wait_until 30 "STATUS= to say disk full" grep -qF "$WORDS" "$T/notify.log"
wait_until 30 "the inbound parts to be refused" sh -c "[ \$(grep -c 'message left on the modem' '$T/puented.log') -ge 3 ]"
kill -0 "$pd_pid" 2>/dev/null || fail "puented died on a full disk"
grep -iE 'full|ENOSPC|no space' "$T/puented.log" | tail -n 5 || true
[ "$(q "SELECT count(*) FROM incoming WHERE text LIKE 'entrada llena %'")" = 0 ] ||
	fail "an inbound message was stored on a full disk (the test fills too little)"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed on a full disk"

# Space returns.
rm -f "$T/disk/fill"
queue "${phones[1]}" "despues del disco lleno"
wait_until 60 "queued messages sent" parts_settled
# The inbound messages waited on the modem: read again once space returned, no restart.
inbound_back() { [ "$(q "SELECT count(*) FROM incoming WHERE text LIKE 'entrada llena %'")" -ge 3 ]; }
wait_until 90 "the inbound messages kept on the modem" inbound_back
status_ok() { ! "$PUENTECTL" --config "$CONF" status | grep -qF "$WORDS"; }
wait_until 30 "puentectl status to stop saying disk full" status_ok
[ ! -e "$T/disk-full" ] || fail "the disk-full mark was left behind"
grep -F "room again" "$T/puented.log" || fail "no log line when space returned"
puented_stop
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed after the disk full"
[ "$(record_count message)" -ge 2 ] || fail "the messages after space returned did not arrive"
q "SELECT count(*), count(DISTINCT text) FROM incoming WHERE text LIKE 'entrada llena %'"
echo "harden-diskfull: ok"
