#!/usr/bin/env bash
# Runs the integration suite (tests/integration/*.sh) with puented, puentectl and puente-sim
# under valgrind memcheck, and fails on any memory error or definite/indirect leak.
#
#   tests/valgrind.sh [BUILD]        BUILD holds the programs (default build); built -O1 or -O2
#                                    without sanitizers (valgrind and ASan do not mix)
#   VG_TESTS="daemon-send sim-basic" only these scripts (names without .sh)
#   VG_STRICT=1                      also fail when a script fails (not only on memcheck errors)
#
# How: a directory BUILD/valgrind holds one wrapper script per program that execs valgrind on
# the real binary (same PID, so the tests' kill/wait by PID still work), and the scripts run
# with PUENTE_BUILD pointing there. Every process writes its own log BUILD/valgrind/logs/vg.PID;
# they are read at the end. The appliance-* scripts are skipped: they run `make install` on
# PUENTE_BUILD, which the wrapper directory cannot be.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd) || exit 2
vg=$build/valgrind
rm -rf "$vg" && mkdir -p "$vg/logs" || exit 2
for p in puented puentectl puente-sim; do
	[ -x "$build/$p" ] || { echo "valgrind.sh: $build/$p missing (make B=... first)"; exit 2; }
	cat >"$vg/$p" <<WRAP
#!/bin/sh
exec valgrind -q --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \\
	--errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99 \\
	--log-file="$vg/logs/vg.%p" "$build/$p" "\$@"
WRAP
	chmod +x "$vg/$p"
done
export PUENTE_BUILD=$vg PUENTE_SRC=$src
pass=0 fail=0 failed=()
for t in "$src"/tests/integration/*.sh; do
	name=$(basename "$t" .sh)
	case $name in appliance-*) continue ;; esac
	if [ -n "${VG_TESTS:-}" ] && ! [[ " $VG_TESTS " == *" $name "* ]]; then continue; fi
	t0=$SECONDS
	if bash "$t" >"$vg/logs/$name.log" 2>&1; then
		pass=$((pass + 1)); printf 'PASS  %-36s %4ds\n' "$name" $((SECONDS - t0))
	else
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-36s (log: %s)\n' "$name" "$vg/logs/$name.log"
		tail -n 15 "$vg/logs/$name.log" | sed 's/^/      /'
	fi
done
# A process log is non-empty only when memcheck reported something (-q), apart from two
# warnings that are not errors: TIOCNXCL (ioctl 0x540c, which libserialport sends on every
# port it opens) and pidfd_open (syscall 434, which valgrind 3.19 does not know: sd-event's
# child source for puente-upload gets ENOSYS and falls back to SIGCHLD and waitid).
bad=0
for l in "$vg"/logs/vg.*; do
	[ -s "$l" ] || continue
	grep -vE 'unhandled ioctl 0x540c|could cause spurious value errors|README_MISSING_SYSCALL|unhandled amd64-linux syscall: 434|write your own handler|we consider this a bug|valgrind.org/support/bug_reports' \
		"$l" >"$l.findings" || true
	[ -s "$l.findings" ] || continue
	bad=$((bad + 1))
	echo "--- $l"; head -n 40 "$l.findings"
done
nlogs=$(ls "$vg"/logs/vg.* 2>/dev/null | grep -vc '\.findings$')
echo
[ ${#failed[@]} -eq 0 ] || echo "failed under valgrind: ${failed[*]}"
echo "valgrind: $nlogs processes checked, $bad with errors or leaks; scripts $pass passed, $fail failed"
# The verdict is memcheck's: a script that fails only under valgrind is nearly always a
# time-out (everything runs 10 to 50 times slower); VG_STRICT=1 fails on those too.
[ "$bad" -eq 0 ] && { [ "$fail" -eq 0 ] || [ "${VG_STRICT:-0}" != 1 ]; }
