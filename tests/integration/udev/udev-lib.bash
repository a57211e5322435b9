# Shared by tests/integration/hotplug-*.sh (sourced, not a test): runs the calling script
# again inside a private mount and network namespace (unshare --mount --net) with tmpfs over
# /sys and /run and a test-unique /dev directory, where fakeudev.py plays the kernel and udev
# (docs/modems.md "Testing the udev path without USB or udevd"); skips, saying why, where
# that is refused. In the namespace: daemon-lib.bash, then fu, node, unnode and opened.
FAKEUDEV=$PUENTE_SRC/tests/integration/udev/fakeudev.py
if [ -z "${PUENTE_UDEV_DEV:-}" ]; then
	skip() {
		echo "$(basename "$0" .sh): SKIP: $*"
		exit 0
	}
	[ "$(id -u)" = 0 ] ||
		skip "needs root (a mount and network namespace, tmpfs over /sys, udev's netlink group)"
	unshare --mount --net --propagation private true 2>/dev/null ||
		skip "unshare --mount --net is refused here"
	unshare --mount --net --propagation private python3 "$FAKEUDEV" can-send ||
		skip "no netlink uevent multicast in a new network namespace here"
	# The nodes' directory must exist outside to be a mount point inside; it stays empty
	# outside, and goes when the test ends, killed or not.
	dev=$(mktemp -d /dev/puente-udev.XXXXXX 2>/dev/null) || skip "cannot make a directory in /dev"
	trap 'rmdir "$dev" 2>/dev/null || true' EXIT
	trap 'exit 143' TERM INT
	rc=0
	PUENTE_UDEV_DEV=$dev unshare --mount --net --propagation private "$BASH" "$0" || rc=$?
	exit "$rc"
fi

# ---- in the namespace: nothing below is seen outside it
D=$PUENTE_UDEV_DEV
mount -t tmpfs -o mode=0755 puente-sysfs /sys
mount -t tmpfs -o mode=0755 puente-run /run
mount -t tmpfs -o mode=0755 puente-dev "$D"
python3 "$FAKEUDEV" init
# sd-device checks that a device directory is on sysfs (statfs), which a tmpfs is not; this
# is systemd's own switch for tests (docs/ENVIRONMENT.md). puented reads the same files.
export SYSTEMD_DEVICE_VERIFY_SYSFS=0
# shellcheck source=../daemon-lib.bash
. "$PUENTE_SRC/tests/integration/daemon-lib.bash"

fu() { python3 "$FAKEUDEV" "$@"; }
# node NAME LINK: $D/NAME is the node udev would make, here the pty behind puente-sim's LINK
# (a bind mount, so that puented's realpath() and its sysfs look-up see /dev/.../ttyUSBn as
# they would see /dev/ttyUSBn).
node() {
	local pts
	pts=$(readlink -f "$2")
	[ -c "$pts" ] || fail "$2 leads to no pty"
	touch "$D/$1"
	mount --bind "$pts" "$D/$1"
}
# unnode NAME: the node goes as the kernel removes it, whoever holds it open (a lazy unmount)
unnode() { umount -l "$D/$1" && rm -f "$D/$1"; }
# opened NAME: how many times puented logged opening $D/NAME
opened() { grep -c -- "$D/$1 opened" "$T/puented.log" || true; }
# closed NODE LINK: none of puented's file descriptors leads to NODE or the pty behind
# puente-sim's LINK (the kernel names a bind-mounted node by the path it was opened through)
closed() {
	local fd to pts
	pts=$(readlink -f "$2")
	for fd in /proc/"$pd_pid"/fd/*; do
		to=$(readlink "$fd" 2>/dev/null) || continue
		[ "$to" != "$pts" ] && [ "$to" != "$D/$1" ] || return 1
	done
}
