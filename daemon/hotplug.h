/* Hotplug: udev's tty devices with a USB parent (sd-device monitor and a first enumeration),
 * and configured path globs (/dev/serial/by-id/...) expanded on demand. Decides nothing: it
 * reports candidate ports; the manager applies the autodetect policy and the quirks.
 *
 * Ownership: hotplug_new() returns a struct hotplug the caller frees with hotplug_free()
 * (NULL is fine). The sd_event is borrowed and must outlive it. A struct hotplug_port handed
 * to a callback is borrowed for the call. Callbacks run on the event loop and may call any
 * hotplug function but hotplug_free().
 *
 * Without udev (containers, the tests with ptys) nothing is found, and globs keep working:
 * sd-device (systemd 252) joins udev's netlink group only when /run/udev/control exists or
 * /dev is a devtmpfs, and its enumeration skips a tty udev has not recorded in
 * /run/udev/data. hotplug_new() still succeeds when the monitor cannot start at all (no
 * netlink socket); hotplug_monitoring() then says false. The udev path is tested for real
 * in tests/integration/hotplug-udev.sh (docs/modems.md). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <time.h>

struct hotplug_port {
        char devname[PATH_MAX]; /* /dev/ttyUSB2, or the path a glob matched */
        bool usb;               /* vendor, product and interface below are known */
        uint16_t vendor, product;
        int interface;              /* bInterfaceNumber, -1 unknown */
        char usb_syspath[PATH_MAX]; /* the USB device: siblings share it ("" unknown) */
};

/* added: a tty appeared (or existed at start). removed: it went away. */
struct hotplug_ops {
        void (*added)(const struct hotplug_port *p, void *userdata);
        void (*removed)(const char *devname, void *userdata);
};

struct hotplug;

/* Starts monitoring when watch_udev is true (autodetect on); with enumerate_now the ttys
 * present at start are reported through ops->added before the first event-loop turn (they
 * are reported from a deferred event source, never from inside hotplug_new()). */
int hotplug_new(sd_event *event, bool watch_udev, const struct hotplug_ops *ops, void *userdata,
                struct hotplug **ret);
struct hotplug *hotplug_free(struct hotplug *h);
/* Reports the ttys present now through ops->added once more, from a deferred event source
 * (a reload may let in a port the manager turned down). 0 without a monitor or when an
 * enumeration is already due; a negative errno when the source cannot be added. */
int hotplug_rescan(struct hotplug *h);
bool hotplug_monitoring(const struct hotplug *h);

/* Whether a configured device string is a glob (has *, ? or [). */
bool hotplug_is_glob(const char *pattern);

/* Whether path is one hotplug_glob(pattern) could report (fnmatch() as glob() matches:
 * '/' and a leading '.' only literally), whether it exists or not. */
bool hotplug_glob_matches(const char *pattern, const char *path);

typedef void (*hotplug_path_fn)(const char *path, void *userdata);
/* Calls fn for every existing path matching the glob pattern, in sorted order (a dangling
 * link is not existing). Returns how many were reported, or a negative errno. */
int hotplug_glob(const char *pattern, hotplug_path_fn fn, void *userdata);

/* What a path leads to right now: the link itself (a by-id link made again) and the device
 * node behind it (ttyUSB0 created anew after a replug, a pty number handed out again). Two
 * snapshots differ when the kernel or udev made either again, even under the same name. */
struct hotplug_node {
        bool is_link;
        ino_t link_ino;
        struct timespec link_ctime;
        dev_t dev, rdev;
        ino_t ino;
        struct timespec ctime;
};

/* Fills ret from lstat() and stat() of path. Returns 0, or a negative errno (-ENOENT: gone,
 * or a dangling link); ret is written only on success. */
int hotplug_node_get(const char *path, struct hotplug_node *ret);
bool hotplug_node_same(const struct hotplug_node *a, const struct hotplug_node *b);
