#!/usr/bin/env bash
# puentectl rules check: the shipped programmes load (exit 0, a summary with the hash); a
# directory with mistakes gives every error as FILE:LINE:COLUMN and exit 1; the hash does
# not depend on where the files are; usage errors exit 2.
set -euo pipefail
: "${PUENTE_SRC:?set by tests/run-tests.sh}" "${PUENTE_BUILD:?set by tests/run-tests.sh}"
ctl=$PUENTE_BUILD/puentectl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for dir in etc/rules.d etc/rules.d.demo; do
	out=$("$ctl" rules check "$PUENTE_SRC/$dir")
	echo "$out"
	grep -q "files, .* reminders, .* quizzes, .* keywords, 2 arms; rule set [0-9a-f]\{12\}; OK, 0 warnings$" <<<"$out"
done

# the same bytes elsewhere: the same rule set hash
cp -r "$PUENTE_SRC/etc/rules.d" "$tmp/copy"
h1=$("$ctl" rules check "$PUENTE_SRC/etc/rules.d" | grep -o 'rule set [0-9a-f]*')
h2=$("$ctl" rules check "$tmp/copy" | grep -o 'rule set [0-9a-f]*')
[ "$h1" = "$h2" ] || { echo "hash changed with the directory: $h1 / $h2"; exit 1; }

# a technician's edit with three mistakes: all three, in order, nothing applied
mkdir "$tmp/bad"
cp "$PUENTE_SRC/etc/rules.d/00-ajustes.conf" "$tmp/bad/"
cat >"$tmp/bad/20-citas.conf" <<'CONF'
reminder cita {
    anchor = apointment
    offset = "-3 dias"
    window = "10:00-18:00"
    dias = { lun }
    text {
        es = "Su cita es el {appointment_date} en {clinica}."
    }
}
CONF
rc=0
out=$("$ctl" rules check "$tmp/bad") || rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "exit $rc, expected 1"; exit 1; }
want="$tmp/bad/20-citas.conf:5:5: unknown key 'dias' in reminder; expected one of: track, anchor, offset, every, from, to, window, days, slot_field, when, arms, catch_up, during_quiz, grace, quiz, text, variant
$tmp/bad: 1 error, 0 warnings; nothing applied"
[ "$out" = "$want" ] || { echo "unexpected output; wanted:"; echo "$want"; exit 1; }
sed -i '/dias = /d' "$tmp/bad/20-citas.conf"
out=$("$ctl" rules check "$tmp/bad") || true
echo "$out"
grep -qx "$tmp/bad/20-citas.conf:2:14: unknown date field 'apointment'; .*" <<<"$out"
grep -qx "$tmp/bad/20-citas.conf:6:51: unknown placeholder {clinica}; .*" <<<"$out"
grep -qx "$tmp/bad: 2 errors, 0 warnings; nothing applied" <<<"$out"

# --quiet: errors only
out=$("$ctl" rules check --quiet "$PUENTE_SRC/etc/rules.d")
[ -z "$out" ] || { echo "--quiet printed: $out"; exit 1; }

# missing directory, empty directory, usage
rc=0; "$ctl" rules check "$tmp/none" 2>/dev/null || rc=$?; [ $rc -eq 1 ]
mkdir "$tmp/empty"
rc=0; "$ctl" rules check "$tmp/empty" 2>/dev/null || rc=$?; [ $rc -eq 1 ]
rc=0; "$ctl" rules check --bogus 2>/dev/null || rc=$?; [ $rc -eq 2 ]
rc=0; "$ctl" rules frobnicate 2>/dev/null || rc=$?; [ $rc -eq 2 ]
rc=0; "$ctl" rules 2>/dev/null || rc=$?; [ $rc -eq 2 ]
echo "puentectl rules check: samples load, mistakes located, exit codes right"
