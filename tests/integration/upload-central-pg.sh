#!/usr/bin/env bash
# docs/central/arms.sql gives the same numbers on PostgreSQL as on SQLite (docs/central.md):
# test batches of two boxes (sharing the key, so one person seen at both clinics is one
# subject) are loaded with docs/central/load.py into SQLite and queried; then a private
# PostgreSQL cluster (initdb in a temporary directory, a Unix socket there, no TCP, run as
# an unprivileged user when we are root, stopped by its PID) gets the same rows and runs the
# same file; every number must agree. Without PostgreSQL (Debian: postgresql) it says so and
# passes.
set -euo pipefail
src=${PUENTE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ] || ! command -v psql >/dev/null; then
	echo "SKIP: PostgreSQL is not installed (Debian package postgresql): arms.sql not run on it"
	exit 0
fi

tmp=$(mktemp -d /tmp/puente-central-pg-XXXXXX)
pgpid=
cleanup() {
	if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
		kill -INT "$pgpid" # fast shutdown
		for _ in $(seq 1 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
	fi
	[ -n "${PUENTE_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# --- the test data: batches as boxes upload them -------------------------------------------
python3 - "$tmp/uploads" <<'PY'
import gzip, hashlib, json, os, sys
root = sys.argv[1]
arms = ["control", "sms", "sms_quiz"]
def subject(i):
    return hashlib.sha256(f"person {i}".encode()).hexdigest()[:16]
for dev, people in (("clinic-01", range(0, 60)), ("clinic-02", range(50, 100))):
    events = []
    def ev(t, who, data):
        events.append({"seq": len(events) + 1, "time": 1790000000 + len(events) * 37,
                       "clock_trusted": len(events) % 11 != 0, "type": t,
                       **({"subject": subject(who)} if who is not None else {}),
                       "data": data})
    for p in people:
        ev("rules.arm_assigned", p, {"arm": arms[p % 3], "stratum": f"s{p % 2}"})
        for m in range(p % 4):
            mid = p * 10 + m
            ev("sms.sent", p, {"message_id": mid, "parts": 1 + m % 2, "encoding": "gsm7",
                               "reminder": f"week_{m}"})
            if (p + m) % 3:
                ev("sms.delivered", p, {"message_id": mid, "parts": 1 + m % 2, "status": 0})
        if p % 7 == 0:
            ev("sms.failed", p, {"message_id": p * 10 + 9, "part": 1, "parts": 1,
                                 "reason": "refused"})
        if p % 4 == 1:
            ev("rules.inbound_received", p, {"category": "reply"})
        if p % 5 == 2:
            ev("rules.quiz_completed", p, {"quiz": "knowledge", "score": (p // 5) % 5,
                                             "total": 4})
        if p % 9 in (3, 4):
            ev("rules.opted_out", p, {"keyword": "stop"})
        if p % 10 == 0:
            ev("modem.health", None, {"modem_id": 1, "signal": 17})
    os.makedirs(os.path.join(root, dev))
    prev = "0" * 64
    for b, start in enumerate(range(0, len(events), 100), 1):
        chunk = events[start:start + 100]
        head = {"schema": "puente.event/1", "device": dev, "batch": b, "prev_sha256": prev,
                "first_seq": chunk[0]["seq"], "last_seq": chunk[-1]["seq"],
                "events": len(chunk), "key_id": "0badcafe"}
        text = "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in [head] + chunk)
        raw = gzip.compress(text.encode(), mtime=0)
        with open(os.path.join(root, dev, f"{b:010d}.ndjson.gz"), "wb") as f:
            f.write(raw)
        prev = hashlib.sha256(raw).hexdigest()
PY
python3 "$src/docs/central/validate.py" "$tmp/uploads" >/dev/null

# --- SQLite ------------------------------------------------------------------------------------
python3 "$src/docs/central/load.py" "$tmp/uploads" "$tmp/trial.sqlite" \
	"$src/docs/central/arms.sql" >"$tmp/sqlite.csv" 2>/dev/null

# --- PostgreSQL: a private cluster ----------------------------------------------------------------
run_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	# initdb refuses root: the cluster belongs to an unprivileged user
	chown nobody "$tmp"
	run_pg() { runuser -u nobody -- "$@"; }
fi
run_pg "$pgbin/initdb" -D "$tmp/pg" -U puente -A trust --no-sync >"$tmp/initdb.log" 2>&1 ||
	{ cat "$tmp/initdb.log"; exit 1; }
run_pg "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w -t 60 \
	-o "-k $tmp -c listen_addresses= -c fsync=off" start >/dev/null ||
	{ cat "$tmp/pg.log"; exit 1; }
pgpid=$(head -n 1 "$tmp/pg/postmaster.pid")
psql_() { run_pg psql -h "$tmp" -U puente -d postgres -v ON_ERROR_STOP=1 -q "$@"; }

python3 - "$tmp/trial.sqlite" "$tmp/events.csv" <<'PY'
import csv, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT device, seq, time, CASE WHEN clock_trusted THEN 't' ELSE 'f' END, type, subject,"
    " data FROM events")
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
PY
chmod 644 "$tmp/events.csv"
psql_ -c "CREATE TABLE events (device TEXT, seq BIGINT, time BIGINT, clock_trusted BOOLEAN,
                               type TEXT, subject TEXT, data JSONB, PRIMARY KEY (device, seq))"
psql_ -c "\\copy events FROM '$tmp/events.csv' CSV"
psql_ --csv -f "$src/docs/central/arms.sql" >"$tmp/pg.csv"

# --- the same numbers -------------------------------------------------------------------------
python3 - "$tmp/sqlite.csv" "$tmp/pg.csv" <<'PY'
import csv, sys
a = list(csv.reader(open(sys.argv[1])))
b = list(csv.reader(open(sys.argv[2])))
assert a[0] == b[0], f"columns differ: {a[0]} / {b[0]}"
assert len(a) == len(b) == 4, f"rows: sqlite {len(a) - 1}, postgresql {len(b) - 1} (3 arms)"
for ra, rb in zip(a[1:], b[1:]):
    for col, x, y in zip(a[0], ra, rb):
        same = x == y
        if not same:
            try:
                same = abs(float(x) - float(y)) < 1e-9  # 2.0 (REAL) and 2.000 (NUMERIC)
            except ValueError:
                pass
        assert same, f"{ra[0]} {col}: sqlite {x}, postgresql {y}"
assert int(a[1][a[0].index("sent")]) > 0 and int(a[1][a[0].index("failed")]) > 0
print("arms.sql: SQLite and PostgreSQL agree:", "; ".join(",".join(r) for r in a[1:]))
PY
