#!/usr/bin/env bash
# make install into a DESTDIR: every file where docs/appliance.md says (programs, unit,
# sysusers, tmpfiles, udev rules, man pages, the sample configuration); a second install
# leaves a technician's edited puente.conf alone (the sample rules go to rules.d.sample) and puts the new sample beside it as
# puente.conf.dist; PREFIX=/usr and another sysconfdir rewrite the unit's ExecStart. Then
# tests/systemd-check.sh: systemd-analyze verify and security (exposure printed, at most
# 2.0), sysusers and tmpfiles applied to the DESTDIR when root.
. "$(dirname "$0")/appliance-lib.bash"
T=$(mktemp -d /tmp/puente-appl-units.XXXXXX)
trap 'rm -rf "$T"' EXIT

D=$T/root
appl_install "$D"
for f in usr/local/sbin/puented usr/local/bin/puentectl usr/local/bin/puente-sim \
	usr/local/lib/systemd/system/puented.service usr/local/lib/sysusers.d/puente.conf \
	usr/local/lib/tmpfiles.d/puente.conf usr/local/lib/udev/rules.d/70-puente-modems.rules \
	usr/local/share/man/man8/puented.8 usr/local/share/man/man1/puentectl.1 \
	usr/local/share/man/man5/puente.conf.5 etc/puente/puente.conf; do
	[ -f "$D/$f" ] || fail "make install did not install /$f"
done
[ -d "$D/etc/puente/rules.d" ] || fail "no /etc/puente/rules.d"
# the sample programme goes beside the live rules directory, never into it
[ -z "$(ls -A "$D/etc/puente/rules.d")" ] || fail "samples installed into the live rules.d"
for f in "$PUENTE_SRC"/etc/rules.d/*.conf; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$D/etc/puente/rules.d.sample/${f##*/}" || fail "rules.d.sample/${f##*/} not installed"
done
if [ -f "$PUENTE_SRC/docs/man/puente.rules.5" ]; then
	[ -f "$D/usr/local/share/man/man5/puente.rules.5" ] || fail "puente.rules.5 not installed"
fi
[ -x "$D/usr/local/sbin/puented" ] || fail "puented not executable"
"$D/usr/local/sbin/puented" --version | grep -q '^puented ' || fail "installed puented --version"
cmp -s "$D/etc/puente/puente.conf" "$PUENTE_SRC/etc/puente.conf" || fail "sample differs"
[ ! -e "$D/etc/puente/puente.conf.dist" ] || fail "a .dist on the first install"

# A technician edits the configuration; a second install keeps it.
echo 'country = "GT"' >>"$D/etc/puente/puente.conf"
edited=$(sha256sum <"$D/etc/puente/puente.conf")
appl_install "$D"
[ "$(sha256sum <"$D/etc/puente/puente.conf")" = "$edited" ] || fail "install overwrote puente.conf"
cmp -s "$D/etc/puente/puente.conf.dist" "$PUENTE_SRC/etc/puente.conf" ||
	fail "the new sample is not beside it as puente.conf.dist"
echo "second install: edited puente.conf kept, new sample as puente.conf.dist"

# The Debian package's layout: PREFIX=/usr (units in /usr/lib/systemd/system, which is
# /lib/systemd/system on a merged-/usr Debian 12), and a sysconfdir elsewhere.
D2=$T/root2
appl_install "$D2" PREFIX=/usr sysconfdir=/srv/etc
grep -qx 'ExecStart=/usr/sbin/puented --config /srv/etc/puente/puente.conf' \
	"$D2/usr/lib/systemd/system/puented.service" || fail "ExecStart not rewritten: $(grep ExecStart "$D2/usr/lib/systemd/system/puented.service")"
[ -f "$D2/srv/etc/puente/puente.conf" ] || fail "sysconfdir not honoured"
[ -x "$D2/usr/sbin/puented" ] || fail "PREFIX not honoured"

bash "$PUENTE_SRC/tests/systemd-check.sh" "$D" /usr/local 2.0
bash "$PUENTE_SRC/tests/systemd-check.sh" "$D2" /usr 2.0
echo "appliance-units: ok"
