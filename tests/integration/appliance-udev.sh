#!/usr/bin/env bash
# etc/udev/70-puente-modems.rules against at/quirks.c: every USB vendor:product of the quirks
# table is marked twice (the USB device and its ttys) and no other id is; the rules tell
# ModemManager to keep off (ID_MM_DEVICE_IGNORE) and name the ports under /dev/puente/.
set -euo pipefail
: "${PUENTE_SRC:?set by tests/run-tests.sh}"
python3 - "$PUENTE_SRC/at/quirks.c" "$PUENTE_SRC/etc/udev/70-puente-modems.rules" <<'PY'
import re, sys
quirks = open(sys.argv[1]).read()
table = quirks[quirks.index("usb_table[]"):quirks.index("};", quirks.index("usb_table[]"))]
want = sorted(set(re.findall(r"\{\s*0x([0-9a-f]{4}),\s*0x([0-9a-f]{4}),", table)))
assert want, "no USB ids found in at/quirks.c"
rules = [l for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
usb = sorted(re.findall(r'^ATTR\{idVendor\}=="([0-9a-f]{4})", ATTR\{idProduct\}=="([0-9a-f]{4})"',
                        "".join(rules), re.M))
tty = sorted(re.findall(r'^ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"',
                        "".join(rules), re.M))
for name, got in (("USB device", usb), ("tty", tty)):
    if got != want:
        sys.exit("%s rules %s != quirks table %s: missing %s, extra %s" % (
            name, got, want, sorted(set(want) - set(got)), sorted(set(got) - set(want))))
text = "".join(rules)
assert text.count('ENV{ID_MM_DEVICE_IGNORE}="1"') >= 2, "ModemManager not told on both levels"
assert 'SYMLINK+="puente/$env{ID_VENDOR_ID}-$env{ID_SERIAL_SHORT}-if$env{ID_USB_INTERFACE_NUM}"' in text
# every GOTO has its LABEL
for g in re.findall(r'GOTO="([^"]+)"', text):
    assert 'LABEL="%s"' % g in text, "GOTO %s without LABEL" % g
print("udev rules: %d models (USB ids) of at/quirks.c marked for ModemManager and named" % len(want))
PY
if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
	udevadm verify "$PUENTE_SRC/etc/udev/70-puente-modems.rules" # systemd 253 and later
fi
echo "appliance-udev: ok"
