#!/usr/bin/env bash
# Hostile inbound text (docs/hardening.md): SMS whose text is shell syntax, printf
# conversions, SQL, control bytes and a 3-part message, from numbers and from an
# alphanumeric sender, reach the store byte for byte; nothing is run (a file the shell
# syntax would create stays absent), puented stays up and the log shows no expansion.
. "$(dirname "$0")/daemon-lib.bash"
sim_start -m "m1=$T/m1"
write_conf "
modem \"$T/m1\" { }
"
puented_start
wait_until 30 "modem ready" modems_ready 1
canary=$T/pwned
texts=(
	"\$(touch $canary) \`touch $canary\` ; touch $canary"
	"%s%s%s%n%n%x%x %99999999d %.999999f %1\$s"
	"'); DROP TABLE incoming; -- \" OR 1=1"
	"{{.}} \${HOME} \$PATH | cat /etc/passwd > $canary"
	"$(printf 'linea1\\nlinea2\\r\\tfin')"
	"Largo: $(printf '%%n%%s$(id) %.0s' $(seq 60))"
)
senders=(+525512345681 CLINICA +525512345682 +525512345683 INFO +525512345684)
for i in "${!texts[@]}"; do
	simctl send "${senders[i]}" m1 "${texts[i]}" >/dev/null || fail "inject $i"
done
n=${#texts[@]}
wait_until 60 "all $n stored" sh -c "[ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM incoming')\" -ge $n ]"
sleep 1
kill -0 "$pd_pid" 2>/dev/null || fail "puented died"
[ ! -e "$canary" ] || fail "inbound text was run by a shell"
[ "$(q "SELECT name FROM sqlite_master WHERE name = 'incoming'")" = incoming ] ||
	fail "the incoming table is gone"
python3 - "$DB" "$n" "${texts[@]}" <<'PY' || fail "stored text differs"
import sqlite3, sys
db, n, want = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
got = [r[0] for r in sqlite3.connect(db).execute("SELECT text FROM incoming")]
# puente-sim's control line reads "\n" as a line break, as the phone would send it.
want = [w.replace("\\n", "\n") for w in want]
missing = [w for w in want if w not in got]
for w in missing:
    print("missing or altered: %r" % w[:60])
    print("  stored: %r" % [g[:60] for g in got])
sys.exit(1 if missing else 0)
PY
if grep -qE 'sh: |not found|\(nil\)|0x[0-9a-f]{6,}' "$T/puented.log"; then
	fail "the log shows an expansion: $(grep -E 'sh: |not found|\(nil\)' "$T/puented.log" | head -3)"
fi
puented_stop
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
echo "harden-hostile: ok"
