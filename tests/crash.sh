#!/usr/bin/env bash
# make crash: puented SIGKILLed at random moments for CRASH_ROUNDS rounds (default 100) while
# it sends, receives, reloads (SIGHUP) and uploads to an nginx WebDAV server on loopback; the
# run starts from a database of an older schema version and is killed within its first ms
# (round 0), so the kill hits the migration or its start. After every kill the database must
# pass PRAGMA integrity_check and, once puented has started, be at the current version. At
# the end:
#   - no message lost: every queued message whose parts are all sent reached its phone
#     exactly once; duplicates only where a part is "unknown" (docs/store.md), counted;
#   - no inbound message lost (each injected text stored; stored twice counted);
#   - no event lost: one contacts.imported event per import, sequence numbers with no gap;
#   - the upload has no holes: batches numbered with no gap, the hash chain intact, every
#     event of the store uploaded exactly once (docs/central/validate.py).
#   tests/crash.sh [BUILD]   CRASH_ROUNDS=N  CRASH_SEED=N  CRASH_FROM_VERSION=N (default 3)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tests/longrun-lib.bash" "${1:-}" crash "${CRASH_TMPDIR:-/var/tmp}"
ROUNDS=${CRASH_ROUNDS:-100}
SEED=${CRASH_SEED:-$$}
FROM=${CRASH_FROM_VERSION:-3}
RANDOM=$SEED
PUENTE_SEND_TIMEOUT=5
phones=(+525512345641 +525512345642 +525512345643 +525512345644)
sim_args=(-m "m1=$T/m1" -m "m2=$T/m2" -l 5-100 --seed "$SEED")
for p in "${phones[@]}"; do sim_args+=(-p "$p"); done
sim_start "${sim_args[@]}"
nginx_start
write_conf "
modem \"$T/m1\" { }
modem \"$T/m2\" { }
$(upload_conf crashbox)
"

# A database of schema version $FROM, made from the migrations' own SQL (daemon/store-schema.c),
# holding a few single-part messages queued as that version's puentectl did (pre-encoded).
python3 - "$src/daemon/store-schema.c" "$DB" "$FROM" "$T/old-msgs" "${phones[@]}" <<'PY'
import re, sqlite3, sys, time
from simclient import submit_pdus
path, db, upto, out, phones = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
c_src = open(path, encoding="utf-8").read()
steps = {}
for m in re.finditer(r"static const char schema_v(\d+)\[\]\s*=", c_src):
    i, sql, pos = m.end(), [], m.end()
    while True:  # string literals, comments and white space up to the ';'
        ws = re.compile(r"\s+|/\*.*?\*/", re.S).match(c_src, i)
        if ws:
            i = ws.end(); continue
        if c_src[i] == ";":
            break
        lit = re.compile(r'"((?:[^"\\]|\\.)*)"').match(c_src, i)
        assert lit, "unexpected text in schema_v%s at %d" % (m.group(1), i)
        sql.append(lit.group(1).encode().decode("unicode_escape"))
        i = lit.end()
    steps[int(m.group(1))] = "".join(sql)
assert all(v in steps for v in range(1, upto + 1)), sorted(steps)
c = sqlite3.connect(db)
for v in range(1, upto + 1):
    c.executescript(steps[v])
c.execute("PRAGMA user_version = %d" % upto)
c.execute("PRAGMA journal_mode = WAL")
now = int(time.time())
with c, open(out, "w", encoding="utf-8") as f:
    for i in range(6):
        to, text = phones[i % len(phones)], "Antes de migrar %d" % i
        (pdu, n), = submit_pdus(text, to)
        cur = c.execute("INSERT INTO outgoing (recipient, text, encoding, part_count, concat_ref,"
                        " created) VALUES (?, ?, 'gsm7', 1, 0, ?)", (to, text, now))
        c.execute("INSERT INTO outgoing_parts (message_id, seq, pdu, updated) VALUES (?, 1, ?, ?)",
                  (cur.lastrowid, pdu, now))
        f.write("%s\t%s\n" % (to, text))
c.close()
PY
cp "$T/old-msgs" "$T/msgs"
want_version=$(grep -o 'STORE_SCHEMA_VERSION *[0-9]*' "$src/daemon/store.h" | grep -o '[0-9]*$')

: >"$T/inbound"
imports=0 n=0 hups=0 t0=$SECONDS
integrity() {
	[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "round $1: integrity_check failed"
}
for round in $(seq "$ROUNDS"); do
	if [ "$round" = 1 ]; then
		# The migration runs before the wake socket is bound: kill within its first ms.
		"$PUENTED" --config "$CONF" >>"$T/puented.log" 2>&1 &
		pd_pid=$!
		sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
		puented_kill
		integrity 0
		echo "round 0: killed at schema version $(q 'PRAGMA user_version') (from $FROM)"
	fi
	puented_start
	# What runs when the kill comes: sends and receives (single and multipart), an import
	# (an event for the upload), now and then a reload; the kill at a random moment in the
	# first 2 s (start-up and migration included).
	ms=$((50 + RANDOM % 1950))
	end_ms=$(($(date +%s%3N) + ms))
	if [ $((RANDOM % 2)) = 0 ]; then
		make_messages 2 "$T/batch" "${phones[@]:round%4}" "${phones[@]:0:round%4}"
		sed -i "s/\t/\tR$round /" "$T/batch"
		queue_file "$T/batch" && cat "$T/batch" >>"$T/msgs"
	fi
	if [ $((RANDOM % 2)) = 0 ]; then
		p=${phones[RANDOM % 4]}
		text="entrada $round"
		[ $((RANDOM % 3)) = 0 ] && text="entrada larga $round: $(printf 'parte de un mensaje largo %.0s' {1..8})"
		simctl send "$p" "m$((RANDOM % 2 + 1))" "$text" >/dev/null && echo "$text" >>"$T/inbound"
	fi
	if [ $((RANDOM % 3)) = 0 ]; then
		printf 'study_id,phone\nCRASH-%d,+5255%08d\n' "$round" "$round" >"$T/c.csv"
		"$PUENTECTL" --config "$CONF" contacts import "$T/c.csv" >/dev/null && imports=$((imports + 1))
	fi
	if [ $((RANDOM % 4)) = 0 ]; then
		kill -HUP "$pd_pid" 2>/dev/null && hups=$((hups + 1))
	fi
	left=$((end_ms - $(date +%s%3N)))
	[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
	puented_kill
	integrity "$round"
	v=$(q 'PRAGMA user_version')
	[ "$round" -gt 1 ] || echo "round 1: killed after $ms ms at schema version $v (from $FROM)"
	[ "$v" = "$want_version" ] || fail "round $round: schema version $v, not $want_version"
done
rounds_s=$((SECONDS - t0))
puented_start
[ "$(q 'PRAGMA user_version')" = "$want_version" ] || wait_until 10 "the migration" \
	sh -c "[ \"\$(sqlite3 '$DB' 'PRAGMA user_version')\" = $want_version ]"
wait_until 120 "every part settled" parts_settled
stored_all() {
	python3 - "$DB" "$T/inbound" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
have = {t for (t,) in db.execute("SELECT text FROM incoming")}
sys.exit(0 if all(l.rstrip("\n") in have for l in open(sys.argv[2], encoding="utf-8")) else 1)
PY
}
wait_until 120 "every inbound message stored" stored_all
wait_until 180 "the upload backlog" backlog0
# and every event of the store in the batches (late delivery reports still make events)
wait_until 120 "every event uploaded" uploaded_all
puented_stop
integrity end
echo "crash: $ROUNDS rounds in $rounds_s s (seed $SEED), $hups reloads, $imports imports"
q "SELECT state, count(*) FROM outgoing_parts GROUP BY state" | tr '\n' ' '
echo
rc=0
python3 - "$DB" "$T/rec.jsonl" "$T/msgs" "$T/inbound" "$imports" <<'PY' || rc=1
import collections, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
got = collections.Counter()
for l in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(l)
    if r["event"] == "message":
        got[(r["phone"], r["text"])] += 1
queued = collections.Counter(tuple(l.rstrip("\n").split("\t", 1)) for l in open(sys.argv[3], encoding="utf-8"))
msgs = {}
for mid, to, text, state in db.execute(
        "SELECT o.id, o.recipient, o.text, p.state FROM outgoing o"
        " JOIN outgoing_parts p ON p.message_id = o.id"):
    msgs.setdefault(mid, [to, text, set()])[2].add(state)
bad = []
lost = dup = doubt = doubt_dup = failed = 0
in_store = collections.Counter((to, text) for to, text, _ in msgs.values())
for k, n in queued.items():
    if in_store[k] != n:
        bad.append("queued %d, in the store %d: %r" % (n, in_store[k], k))
for to, text, states in msgs.values():
    n = got[(to, text)]
    if "failed" in states:
        failed += 1
    elif "unknown" in states:
        doubt += 1
        doubt_dup += n > 1
    else:
        lost += n == 0
        dup += n > 1
        if n != 1:
            bad.append("%s %r: received %d times, parts %s" % (to, text[:40], n, sorted(states)))
    if not states <= {"sent", "delivered", "unknown", "failed"}:
        bad.append("parts left in %s: %r" % (sorted(states), text[:40]))
print("outbound: %d messages, lost %d, duplicated %d; a part unknown: %d (of which received"
      " twice: %d, allowed); failed for good %d" % (len(msgs), lost, dup, doubt, doubt_dup, failed))
inj = [l.rstrip("\n") for l in open(sys.argv[4], encoding="utf-8")]
stored = collections.Counter(t for (t,) in db.execute("SELECT text FROM incoming"))
missing = [t for t in inj if stored[t] == 0]
twice = sum(1 for t in inj if stored[t] > 1)
incomplete = db.execute("SELECT count(*) FROM incoming WHERE complete = 0").fetchone()[0]
print("inbound: %d injected, %d stored, missing %d, stored twice %d, incomplete %d"
      % (len(inj), sum(1 for t in inj if stored[t]), len(missing), twice, incomplete))
bad += ["inbound never stored: %r" % t[:40] for t in missing]
imports = int(sys.argv[5])
ev = db.execute("SELECT count(*) FROM events WHERE type = 'contacts.imported'").fetchone()[0]
seqs = [s for (s,) in db.execute("SELECT seq FROM events ORDER BY seq")]
gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
print("events: %d in the store, %d contacts.imported for %d imports, %d gaps in seq"
      % (len(seqs), ev, imports, gaps))
if ev != imports:
    bad.append("contacts.imported events %d, imports %d" % (ev, imports))
if gaps:
    bad.append("%d gaps in the event sequence" % gaps)
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
valid=$(python3 "$src/docs/central/validate.py" "$T/www/up" 2>&1) || rc=1
events=$(q "SELECT count(*) FROM events")
echo "upload: $(nginx_batches) batches; $(echo "$valid" | tr '\n' ' ')"
echo "$valid" | grep -q "^$events events valid" || { echo "not every event uploaded once ($events in the store)"; rc=1; }
[ "$rc" = 0 ] || fail "lost, duplicated or out of order (see above)"
echo "crash: ok"
