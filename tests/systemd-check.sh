#!/usr/bin/env bash
# Checks an installed Puente tree (make install DESTDIR=ROOT): `systemd-analyze verify` on the
# unit (ExecStart pointed into ROOT, man pages looked up in ROOT), `systemd-analyze security
# --offline=true` with the exposure printed and refused above MAX (default 2.0), and, when run
# as root, systemd-sysusers and systemd-tmpfiles applied to ROOT (what first boot does).
# Works where systemd is installed but not PID 1 (containers, CI).
#
#   tests/systemd-check.sh ROOT [PREFIX] [MAX]
set -euo pipefail
root=${1:?usage: systemd-check.sh DESTDIR [PREFIX] [MAX-EXPOSURE]}
prefix=${2:-/usr/local}
max=${3:-2.0}
root=$(cd "$root" && pwd)

command -v systemd-analyze >/dev/null ||
	{ echo "systemd-check: systemd-analyze not found (Debian package systemd)"; exit 1; }
echo "systemd-check: $(systemd-analyze --version | head -n 1)"

unit=$root$prefix/lib/systemd/system/puented.service
[ -f "$unit" ] || { echo "systemd-check: no unit at $unit"; exit 1; }
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$root$exec_start" ] || { echo "systemd-check: ExecStart $exec_start not installed in $root"; exit 1; }

work=$(mktemp -d /tmp/puente-systemd-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
# verify wants ExecStart to exist on this system: point it at the copy in ROOT.
sed "s|^ExecStart=$exec_start|ExecStart=$root$exec_start|" "$unit" >"$work/puented.service"
man_opt=--man=no
if command -v man >/dev/null; then
	man_opt=--man=yes
	export MANPATH=$root$prefix/share/man
fi
if ! out=$(systemd-analyze verify $man_opt "$work/puented.service" 2>&1) || [ -n "$out" ]; then
	echo "systemd-check: systemd-analyze verify puented.service:"
	echo "$out"
	exit 1
fi
echo "systemd-check: verify puented.service: clean ($man_opt)"

sec=$(systemd-analyze security --offline=true "$work/puented.service" 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for puented.service: \([0-9.]*\).*/\1/p' <<<"$sec")
[ -n "$exposure" ] || { echo "systemd-check: no exposure figure in:"; echo "$sec"; exit 1; }
echo "systemd-check: exposure of puented.service: $exposure (at most $max)"
grep '✗' <<<"$sec" | sed 's/  */ /g; s/^/systemd-check:   /' || true
awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }' ||
	{ echo "systemd-check: exposure $exposure is above $max"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$root/etc"
	touch "$root/etc/passwd" "$root/etc/group"
	grep -q '^dialout:' "$root/etc/group" || echo 'dialout:x:20:' >>"$root/etc/group"
	systemd-sysusers --root="$root" "$root$prefix/lib/sysusers.d/puente.conf"
	grep -q '^puente:' "$root/etc/passwd" || { echo "systemd-check: sysusers made no puente user"; exit 1; }
	grep -q '^dialout:.*puente' "$root/etc/group" || { echo "systemd-check: puente not in dialout"; exit 1; }
	systemd-tmpfiles --root="$root" --create "$root$prefix/lib/tmpfiles.d/puente.conf"
	owner=$(stat -c %U:%a "$root/var/lib/puente")
	[ "$owner" = "puente:750" ] || [ "$(stat -c %a "$root/var/lib/puente")" = 750 ] ||
		{ echo "systemd-check: /var/lib/puente is $owner"; exit 1; }
	echo "systemd-check: sysusers and tmpfiles applied to $root: user puente in dialout, /var/lib/puente 0750"
else
	echo "systemd-check: not root: sysusers and tmpfiles not applied"
fi
echo "systemd-check: ok"
