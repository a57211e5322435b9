# Shared by tests/integration/puentectl-{send,status,list}.sh: a scratch configuration and
# database, and helpers to run puentectl and check its output. Needs $PUENTE_BUILD, python3.
set -u
CTL=${PUENTE_BUILD:?}/puentectl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CONF=$T/puente.conf
DB=$T/puente.db
cat >"$CONF" <<CONF
database = "$DB"
state_directory = "$T"
CONF
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run EXPECTED_STATUS ARGS...: puentectl --config $CONF ARGS; stdout in $T/out, stderr in $T/err.
run() {
	local want=$1; shift
	"$CTL" --config "$CONF" "$@" >"$T/out" 2>"$T/err"
	local got=$?
	[ "$got" -eq "$want" ] || fail "puentectl $*: exit $got, want $want; stderr: $(cat "$T/err")"
}
# out_is TEXT / err_is TEXT: the whole stdout / stderr of the last run (one line) is TEXT.
out_is() { [ "$(cat "$T/out")" = "$1" ] || fail "stdout: '$(cat "$T/out")', want '$1'"; }
err_is() { [ "$(cat "$T/err")" = "$1" ] || fail "stderr: '$(cat "$T/err")', want '$1'"; }
out_has() { grep -qF -- "$1" "$T/out" || fail "stdout lacks '$1': $(cat "$T/out")"; }
err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(cat "$T/err")"; }

# q SQL: runs SQL (committed); prints its rows, '|'-separated, through python's sqlite3.
q() {
	python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
with c:
    for row in c.execute(sys.argv[2]).fetchall():
        print("|".join("" if v is None else str(v) for v in row))
PY
}

# json_check PYTHON_EXPR: stdout of the last run parses as one JSON document `j`; EXPR holds.
json_check() {
	python3 - "$1" "$T/out" <<'PY' || fail "JSON check failed: $1; output: $(head -c 2000 "$T/out")"
import json, sys
j = json.load(open(sys.argv[2], encoding="utf-8"))
sys.exit(0 if eval(sys.argv[1]) else 1)
PY
}

finish() {
	[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
	exit 0
}
