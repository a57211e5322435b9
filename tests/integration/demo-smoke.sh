#!/bin/bash
# make demo, shortened (DEMO_QUICK=1) into a temp dir: it must end 0 within 60 s, print the
# summary table and the final lines, narrate deliveries on both modems, and leave no process
# of its own behind (puente-sim, puented, the narrator and the upload target are stopped).
set -euo pipefail
: "${PUENTE_BUILD:?set by tests/run-tests.sh}" "${PUENTE_SRC:?set by tests/run-tests.sh}"
T=$(mktemp -d /tmp/puente-demo-smoke.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; sed -n '1,400p' "$T/out" 2>/dev/null | tail -40; exit 1; }

rc=0
DEMO_QUICK=1 DEMO_DIR="$T/demo" timeout 60 "$PUENTE_SRC/tests/demo/demo.sh" "$PUENTE_BUILD" >"$T/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "demo.sh exited $rc"
grep -q '^Summary per arm' "$T/out" || fail "no summary table"
grep -q 'nothing is left running' "$T/out" || fail "no closing lines"
grep -q "^Database: *$T/demo/puente.db" "$T/out" || fail "the database's place is not named"
for m in m1 m2; do
	grep -Eq "^[0-9]{2}:[0-9]{2}  $m +-> " "$T/out" || fail "no message narrated on $m"
done
grep -q 'm1 unplugged' "$T/out" || fail "the unplugged modem is not narrated"
# Every narrated delivery is a message line of puente-sim's record (nothing invented).
told=$(grep -Ec '^[0-9]{2}:[0-9]{2}  m[12] +-> ' "$T/out" || true)
recorded=$(grep -c '"event":"message"' "$T/demo/phones.jsonl" || true)
[ "$told" = "$recorded" ] || fail "narrated $told deliveries, the record has $recorded"
# No process of the demo's is left: none has the demo directory on its command line.
sleep 0.2
if pgrep -f "$T/demo" >/dev/null; then
	pgrep -af "$T/demo"
	fail "processes left running"
fi
pids=$(sed -n 's/.*(pids \([0-9]*\), \([0-9]*\)).*/\1 \2/p' "$T/out")
[ -n "$pids" ] || fail "the start line with the pids is missing"
for p in $pids; do ! kill -0 "$p" 2>/dev/null || fail "pid $p still runs"; done
echo "demo-smoke: ok ($told deliveries narrated; $(grep -c '' "$T/out") lines)"
