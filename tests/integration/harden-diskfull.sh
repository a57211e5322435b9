#!/usr/bin/env bash
# A full disk (docs/hardening.md): the database on a 2 MB tmpfs that is then filled up.
# puented must stay up, puentectl send must refuse with a clear error (not a crash), the
# database must pass integrity_check, and once space returns: the inbound messages that
# arrived meanwhile reach the store (they wait on the modem) and new messages go out.
# Needs root for the mount: skipped (exit 0, said so) otherwise.
. "$(dirname "$0")/daemon-lib.bash"
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=2m puente-test "$T/disk" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs here (not root?)"
	exit 0
fi
umount_disk() { umount -l "$T/disk" 2>/dev/null || true; }
trap 'umount_disk; dl_cleanup' EXIT
DB=$T/disk/puente.db
phones=(+525512345671 +525512345672)
sim_start -m "m1=$T/m1" -p "${phones[0]}" -p "${phones[1]}"
write_conf "
modem \"$T/m1\" { }
"
puented_start
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
sleep 4
kill -0 "$pd_pid" 2>/dev/null || fail "puented died on a full disk"
grep -iE 'full|ENOSPC|no space' "$T/puented.log" | tail -n 5 || true
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed on a full disk"

# Space returns.
rm -f "$T/disk/fill"
queue "${phones[1]}" "despues del disco lleno"
wait_until 60 "queued messages sent" parts_settled
# The inbound messages waited on the modem; a restart reads its storage at once.
got=$(q "SELECT count(*) FROM incoming WHERE text LIKE 'entrada llena %'")
if [ "$got" -lt 3 ]; then
	echo "inbound stored while full: $got of 3; restarting puented to read the modem"
	puented_stop
	puented_start
	wait_until 60 "inbound read after restart" \
		sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM incoming WHERE text LIKE 'entrada llena %'\")\" -ge 3 ]"
fi
puented_stop
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed after the disk full"
[ "$(record_count message)" -ge 2 ] || fail "the messages after space returned did not arrive"
q "SELECT count(*), count(DISTINCT text) FROM incoming WHERE text LIKE 'entrada llena %'"
echo "harden-diskfull: ok"
