/* Hotplug: udev's tty devices with a USB parent (sd-device monitor, an enumeration at start
 * and periodic ones), and configured path globs (/dev/serial/by-id/...) expanded on demand.
 * Decides nothing: it reports candidate ports; the manager applies the autodetect policy and
 * the quirks.
 *
 * Ownership: hotplug_new() returns a struct hotplug the caller frees with hotplug_free()
 * (NULL is fine). The sd_event is borrowed and must outlive it. A struct hotplug_port handed
 * to a callback is borrowed for the call. Callbacks run on the event loop and may call any
 * hotplug function but hotplug_free().
 *
 * A udev event can be lost: the monitor's netlink socket drops messages when its receive
 * buffer is full (ENOBUFS: a hub of modems re-enumerating while the daemon is busy), udevd
 * can be restarted, and the monitor may not start at all. So udev's ttys are enumerated
 * again every hotplug_set_rescan() interval (the manager compares them with its bindings:
 * a known port costs a string compare), at once when the monitor's socket reports an error,
 * and the monitor, when it could not start (udev not running yet: no /run/udev/control), is
 * tried again at each of these rescans. A lost "remove" needs nothing here: the binding
 * reads end of file or EIO from the dead tty (daemon/modem.c).
 *
 * Without udev (containers, the tests with ptys) nothing is found, and globs keep working:
 * sd-device (systemd 252) enumerates only ttys udev has recorded in /run/udev/data, and
 * hotplug_monitoring() says false. The udev path is tested for real in
 * tests/integration/hotplug-udev.sh and hotplug-lost.sh (docs/modems.md). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <time.h>

/* How a port came to be reported. */
enum hotplug_found {
        HOTPLUG_FOUND_EVENT,   /* udev's "add" */
        HOTPLUG_FOUND_START,   /* present at start */
        HOTPLUG_FOUND_RELOAD,  /* enumerated again on request (hotplug_rescan: a reload) */
        HOTPLUG_FOUND_RESCAN,  /* the periodic rescan: its "add" was lost or never came */
        HOTPLUG_FOUND_LOST,    /* the monitor's socket lost events (ENOBUFS) */
        HOTPLUG_FOUND_MONITOR, /* the monitor started late: what came meanwhile */
};
/* "udev", "enumeration at start", ... for the log. */
const char *hotplug_found_name(enum hotplug_found found);

struct hotplug_port {
        enum hotplug_found found;
        char devname[PATH_MAX]; /* /dev/ttyUSB2, or the path a glob matched */
        bool usb;               /* vendor, product and interface below are known */
        uint16_t vendor, product;
        int interface;              /* bInterfaceNumber, -1 unknown */
        char usb_syspath[PATH_MAX]; /* the USB device: siblings share it ("" unknown) */
};

/* added: a tty appeared (or is there at an enumeration: known ports are reported again).
 * removed: it went away. enumerating (may be NULL): an enumeration begins, `added` follows
 * for every tty present. */
struct hotplug_ops {
        void (*added)(const struct hotplug_port *p, void *userdata);
        void (*removed)(const char *devname, void *userdata);
        void (*enumerating)(enum hotplug_found why, void *userdata);
};

struct hotplug;

/* Where udev says it runs; sd-device joins udev's netlink group only then (or on a
 * devtmpfs /dev, where no udevd may send anything). */
#define HOTPLUG_UDEV_CONTROL "/run/udev/control"

/* With watch_udev (autodetect on): starts the monitor (or logs why not, once: it is tried
 * again at every rescan) and reports the ttys present at start through ops->added from a
 * deferred event source, before the first event-loop turn, never from inside hotplug_new().
 * No periodic rescan until hotplug_set_rescan(). Returns 0, -ENOMEM, or the errno of an
 * event source that could not be added. */
int hotplug_new(sd_event *event, bool watch_udev, const struct hotplug_ops *ops, void *userdata,
                struct hotplug **ret);
struct hotplug *hotplug_free(struct hotplug *h);
/* Enumerates udev's ttys every interval_ms (0: never), from now on. Without watch_udev it
 * does nothing. Returns 0 or a negative errno (the timer could not be added). */
int hotplug_set_rescan(struct hotplug *h, uint64_t interval_ms);
/* Reports the ttys present now through ops->added once more, from a deferred event source
 * (a reload may let in a port the manager turned down). 0 without watch_udev or when an
 * enumeration is already due; a negative errno when the source cannot be added. */
int hotplug_rescan(struct hotplug *h);
/* The monitor runs: udev's "add" and "remove" come as they happen. */
bool hotplug_monitoring(const struct hotplug *h);

/* What the rescans found and cost, for docs/modems.md's measurement and the tests. */
struct hotplug_stats {
        unsigned enumerations; /* every kind, the first at start included */
        unsigned lost;         /* errors on the monitor's socket (ENOBUFS: events dropped) */
        unsigned last_ttys;    /* ttys the last enumeration went through */
        unsigned last_usb;     /* of them, with a USB parent (reported to ops->added) */
        uint64_t last_cpu_ns;  /* CPU the last enumeration took, callbacks included */
        uint64_t max_cpu_ns;
};
void hotplug_get_stats(const struct hotplug *h, struct hotplug_stats *ret);

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
