/* Hotplug: tty devices from udev (sd-device, with rescans for lost events) and configured globs. */
#include "daemon/hotplug.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-device.h>
#include <unistd.h>

#include "daemon/log.h"

/* The monitor's receive buffer. sd-device asks 128 MiB, which only a process with
 * CAP_NET_ADMIN gets (SO_RCVBUFFORCE): puented.service runs as puente without it, capped at
 * net.core.rmem_max (208 KiB by default). Asking 1 MiB gives the unit that same cap and root
 * (the tests) 1 MiB: about two thousand udev messages for ttys, where a hub of 8 modems
 * re-enumerating sends about 40, and a size a test can overflow (hotplug-lost.sh) to show
 * that what overflows is made up. */
#define HOTPLUG_MONITOR_RCVBUF (1024 * 1024)

/* The tty class: a link to each tty's sysfs directory (what sd-device enumerates). */
#define HOTPLUG_SYS_TTY "/sys/class/tty"
/* Remembered ttys at first: a box has 60 to 130 (virtual consoles, UARTs, the modems'). */
#define HOTPLUG_TTYS_FIRST 128

/* The periodic rescan may fire this much late (a quarter of a shorter interval): sd-event
 * wakes once for it and the timers due about then. */
#define HOTPLUG_RESCAN_ACCURACY_US 1000000

/* One tty as the last enumeration found it. Its link in the tty class is made anew (a new
 * kernfs inode, which readdir() gives) whenever the kernel makes the device anew (a replug,
 * even on the same USB socket under the same name), so while the inode holds, what sd-device
 * said about the tty holds too: a rescan reads the directory and asks sd-device (about 30
 * opens along the sysfs path of each device and parent) only about new ones. */
struct hotplug_tty {
        char *name; /* ttyUSB0: its entry in HOTPLUG_SYS_TTY */
        ino_t ino;  /* of that entry */
        bool seen;  /* in the enumeration under way */
        bool usb;   /* has a USB parent: reported, with the fields below */
        char *devname, *usb_syspath;
        uint16_t vendor, product;
        int interface;
};

struct hotplug {
        sd_event *event;
        bool watch;                   /* autodetect on: udev's ttys are reported */
        sd_device_monitor *monitor;   /* NULL while it could not start (tried at each rescan) */
        sd_event_source *lost_source; /* EPOLLERR on a dup of the monitor's socket */
        sd_event_source *enumerate;   /* a deferred enumeration */
        enum hotplug_found due;       /* why `enumerate` is due */
        sd_event_source *rescan_timer;
        uint64_t rescan_us;       /* 0: no periodic rescan */
        bool warned;              /* the monitor's failure to start was logged */
        struct hotplug_tty *ttys; /* what the last enumeration found in HOTPLUG_SYS_TTY */
        size_t n_ttys, cap_ttys;
        struct hotplug_port port; /* scratch for reporting (8 KiB: not on the stack) */
        struct hotplug_stats stats;
        struct hotplug_ops ops;
        void *userdata;
};

const char *hotplug_found_name(enum hotplug_found found)
{
        switch (found) {
        case HOTPLUG_FOUND_EVENT:
                return "udev";
        case HOTPLUG_FOUND_START:
                return "enumeration at start";
        case HOTPLUG_FOUND_RELOAD:
                return "enumeration after a reload";
        case HOTPLUG_FOUND_RESCAN:
                return "periodic rescan: its udev event was lost";
        case HOTPLUG_FOUND_LOST:
                return "rescan after lost udev events";
        case HOTPLUG_FOUND_MONITOR:
                return "rescan once the udev monitor started";
        }
        return "?";
}

/* Fills p from a tty sd_device; false when it has no device node or no USB parent (a
 * virtual console, a pty, an on-board UART: not a modem we autodetect). */
static bool port_from_device(sd_device *d, struct hotplug_port *p)
{
        const char *devname = NULL, *v = NULL, *syspath = NULL;
        sd_device *usb = NULL, *intf = NULL;

        memset(p, 0, sizeof(*p));
        p->interface = -1;
        if (sd_device_get_devname(d, &devname) < 0 || !devname)
                return false;
        snprintf(p->devname, sizeof(p->devname), "%s", devname);
        if (sd_device_get_parent_with_subsystem_devtype(d, "usb", "usb_device", &usb) < 0)
                return false;
        if (sd_device_get_sysattr_value(usb, "idVendor", &v) >= 0 && v)
                p->vendor = (uint16_t)strtoul(v, NULL, 16);
        if (sd_device_get_sysattr_value(usb, "idProduct", &v) >= 0 && v)
                p->product = (uint16_t)strtoul(v, NULL, 16);
        if (sd_device_get_syspath(usb, &syspath) >= 0 && syspath)
                snprintf(p->usb_syspath, sizeof(p->usb_syspath), "%s", syspath);
        if (sd_device_get_parent_with_subsystem_devtype(d, "usb", "usb_interface", &intf) >= 0 &&
            sd_device_get_sysattr_value(intf, "bInterfaceNumber", &v) >= 0 && v)
                p->interface = (int)strtol(v, NULL, 16);
        p->usb = p->vendor != 0;
        return true;
}

static int on_monitor(sd_device_monitor *m, sd_device *d, void *userdata)
{
        struct hotplug *h = userdata;
        sd_device_action_t action;
        struct hotplug_port p;
        const char *devname = NULL;

        if (sd_device_get_action(d, &action) < 0)
                return 0;
        if (action == SD_DEVICE_REMOVE) {
                if (sd_device_get_devname(d, &devname) >= 0 && devname && h->ops.removed)
                        h->ops.removed(devname, h->userdata);
                return 0;
        }
        if (action != SD_DEVICE_ADD)
                return 0;
        if (port_from_device(d, &p) && h->ops.added) {
                p.found = HOTPLUG_FOUND_EVENT;
                h->ops.added(&p, h->userdata);
        }
        return 0;
}

static uint64_t cpu_ns(void)
{
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tty_clear(struct hotplug_tty *t)
{
        free(t->name);
        free(t->devname);
        free(t->usb_syspath);
        memset(t, 0, sizeof(*t));
}

static void ttys_forget(struct hotplug *h)
{
        for (size_t i = 0; i < h->n_ttys; i++)
                tty_clear(&h->ttys[i]);
        h->n_ttys = 0;
}

/* The entry for name: looked for from `hint` on (readdir() gives the same order each time,
 * so the next entry is usually the one), or a new one; NULL out of memory. */
static struct hotplug_tty *ttys_get(struct hotplug *h, const char *name, size_t *hint)
{
        for (size_t k = 0; k < h->n_ttys; k++) {
                size_t i = (*hint + k) % h->n_ttys;
                if (strcmp(h->ttys[i].name, name) == 0) {
                        *hint = i + 1;
                        return &h->ttys[i];
                }
        }
        if (h->n_ttys == h->cap_ttys) {
                size_t cap = h->cap_ttys ? 2 * h->cap_ttys : HOTPLUG_TTYS_FIRST;
                struct hotplug_tty *t = reallocarray(h->ttys, cap, sizeof(*t));
                if (!t)
                        return NULL;
                h->ttys = t;
                h->cap_ttys = cap;
        }
        struct hotplug_tty *t = &h->ttys[h->n_ttys];
        memset(t, 0, sizeof(*t));
        if (!(t->name = strdup(name)))
                return NULL;
        h->n_ttys++;
        return t;
}

/* Learns a new (or made anew) tty from sd-device. False when it is not to be remembered:
 * gone meanwhile, out of memory, or not yet initialized by udev (sd-device's enumerator
 * skips those too: its "add" or the next rescan brings it). */
static bool tty_learn(struct hotplug *h, struct hotplug_tty *t, ino_t ino)
{
        char syspath[PATH_MAX];
        sd_device *d = NULL;

        free(t->devname);
        free(t->usb_syspath);
        t->devname = t->usb_syspath = NULL;
        t->usb = false;
        t->ino = 0;
        snprintf(syspath, sizeof(syspath), "%s/%s", HOTPLUG_SYS_TTY, t->name);
        if (sd_device_new_from_syspath(&d, syspath) < 0)
                return false;
        bool ok = sd_device_get_is_initialized(d) > 0;
        if (ok && port_from_device(d, &h->port)) {
                t->usb = true;
                t->vendor = h->port.vendor;
                t->product = h->port.product;
                t->interface = h->port.interface;
                t->devname = strdup(h->port.devname);
                t->usb_syspath = strdup(h->port.usb_syspath);
                ok = t->devname && t->usb_syspath;
        }
        sd_device_unref(d);
        if (ok)
                t->ino = ino;
        return ok;
}

static void tty_report(struct hotplug *h, const struct hotplug_tty *t, enum hotplug_found why)
{
        struct hotplug_port *p = &h->port;
        p->found = why;
        snprintf(p->devname, sizeof(p->devname), "%s", t->devname);
        snprintf(p->usb_syspath, sizeof(p->usb_syspath), "%s", t->usb_syspath);
        p->vendor = t->vendor;
        p->product = t->product;
        p->interface = t->interface;
        p->usb = p->vendor != 0;
        if (h->ops.added)
                h->ops.added(p, h->userdata);
}

/* Every tty of HOTPLUG_SYS_TTY (the tty class: what sd-device enumerates for the subsystem)
 * with a USB parent is reported; no system call for a tty when nothing changed. */
static int on_enumerate(sd_event_source *s, void *userdata)
{
        struct hotplug *h = userdata;
        enum hotplug_found why = h->due;
        uint64_t t0 = cpu_ns();
        unsigned ttys = 0, usb = 0;
        size_t hint = 0;

        h->enumerate = sd_event_source_disable_unref(h->enumerate);
        DIR *dir = opendir(HOTPLUG_SYS_TTY);
        if (!dir) {
                log_debug("hotplug: %s: %s", HOTPLUG_SYS_TTY, strerror(errno));
                return 0;
        }
        if (why == HOTPLUG_FOUND_START || why == HOTPLUG_FOUND_RELOAD)
                ttys_forget(h); /* asked for anew: everything from sd-device */
        if (h->ops.enumerating)
                h->ops.enumerating(why, h->userdata);
        for (size_t i = 0; i < h->n_ttys; i++)
                h->ttys[i].seen = false;
        for (struct dirent *de; (de = readdir(dir));) {
                if (de->d_name[0] == '.')
                        continue;
                ttys++;
                struct hotplug_tty *t = ttys_get(h, de->d_name, &hint);
                if (!t)
                        break; /* out of memory: the next rescan goes on */
                if (t->ino != de->d_ino && !tty_learn(h, t, de->d_ino))
                        continue; /* seen stays false: forgotten below, asked again next time */
                t->seen = true;
                if (t->usb) {
                        usb++;
                        tty_report(h, t, why);
                }
        }
        closedir(dir);
        size_t k = 0;
        for (size_t i = 0; i < h->n_ttys; i++) {
                if (h->ttys[i].seen)
                        h->ttys[k++] = h->ttys[i];
                else
                        tty_clear(&h->ttys[i]);
        }
        h->n_ttys = k;

        uint64_t spent = cpu_ns() - t0;
        h->stats.enumerations++;
        h->stats.last_ttys = ttys;
        h->stats.last_usb = usb;
        h->stats.last_cpu_ns = spent;
        if (spent > h->stats.max_cpu_ns)
                h->stats.max_cpu_ns = spent;
        log_debug("hotplug: enumerated %u ttys (%u with a USB parent) in %llu us of CPU", ttys, usb,
                  (unsigned long long)(spent / 1000));
        return 0;
}

/* Asks for an enumeration on the next loop turn; a pending one keeps its reason unless this
 * one says more (lost events, a late monitor) than a periodic rescan. */
static int enumerate_soon(struct hotplug *h, enum hotplug_found why)
{
        if (h->enumerate) {
                if (why == HOTPLUG_FOUND_LOST || why == HOTPLUG_FOUND_MONITOR)
                        h->due = why;
                return 0;
        }
        int r = sd_event_add_defer(h->event, &h->enumerate, on_enumerate, h);
        if (r < 0) {
                h->enumerate = NULL;
                return r;
        }
        sd_event_source_set_description(h->enumerate, "hotplug-enumerate");
        h->due = why;
        return 0;
}

/* The kernel flags a netlink socket whose receive buffer overflowed (sk_err = ENOBUFS, and
 * EPOLLERR) and drops what does not fit; sd-device 252 reads past that error silently. This
 * source watches a duplicate of the monitor's socket for EPOLLERR only, at a higher priority
 * than the monitor's own, reads the error (SO_ERROR clears it) and enumerates again. If the
 * monitor's read took the error first, this source is still dispatched with EPOLLERR. */
static int on_lost(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct hotplug *h = userdata;
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        h->stats.lost++;
        log_warning("hotplug: udev events lost (%s): enumerating the ttys again",
                    strerror(err ? err : ENOBUFS));
        (void)enumerate_soon(h, HOTPLUG_FOUND_LOST);
        return 0;
}

static void stop_monitor(struct hotplug *h)
{
        h->lost_source = sd_event_source_disable_unref(h->lost_source);
        if (h->monitor) {
                sd_device_monitor_stop(h->monitor);
                h->monitor = sd_device_monitor_unref(h->monitor);
        }
}

static int watch_lost(struct hotplug *h)
{
        sd_event_source *ms = sd_device_monitor_get_event_source(h->monitor);
        int fd = ms ? sd_event_source_get_io_fd(ms) : -EBADF;
        if (fd < 0)
                return fd;
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        int r = sd_event_add_io(h->event, &h->lost_source, dup, EPOLLERR, on_lost, h);
        if (r < 0) {
                h->lost_source = NULL;
                close(dup);
                return r;
        }
        sd_event_source_set_io_fd_own(h->lost_source, true);
        sd_event_source_set_description(h->lost_source, "hotplug-lost");
        return sd_event_source_set_priority(h->lost_source, SD_EVENT_PRIORITY_IMPORTANT);
}

static int start_monitor(struct hotplug *h)
{
        /* Without udevd sd-device makes a monitor that joins no group (or one nobody sends
         * to): it would never report anything. */
        if (access(HOTPLUG_UDEV_CONTROL, F_OK) < 0) {
                int e = errno;
                return e == ENOENT ? -ENXIO : -e;
        }
        int r = sd_device_monitor_new(&h->monitor);
        if (r < 0) {
                h->monitor = NULL;
                return r;
        }
        (void)sd_device_monitor_set_receive_buffer_size(h->monitor, HOTPLUG_MONITOR_RCVBUF);
        r = sd_device_monitor_filter_add_match_subsystem_devtype(h->monitor, "tty", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(h->monitor, h->event);
        if (r >= 0)
                r = sd_device_monitor_start(h->monitor, on_monitor, h);
        if (r >= 0)
                r = watch_lost(h);
        if (r < 0)
                stop_monitor(h);
        return r;
}

/* Starts the monitor if it is not running; logs the first failure and the late start. */
static void try_monitor(struct hotplug *h, bool at_start)
{
        if (h->monitor)
                return;
        int r = start_monitor(h);
        if (r < 0) {
                if (!h->warned)
                        log_warning("hotplug: no udev monitor (%s): udev's ttys are enumerated "
                                    "again every rescan, the monitor tried again then",
                                    r == -ENXIO ? "udev is not running: no " HOTPLUG_UDEV_CONTROL
                                                : strerror(-r));
                h->warned = true;
                return;
        }
        if (!at_start) {
                log_info("hotplug: udev monitor started");
                (void)enumerate_soon(h, HOTPLUG_FOUND_MONITOR);
        }
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hotplug *h = userdata;
        try_monitor(h, false);
        (void)enumerate_soon(h, HOTPLUG_FOUND_RESCAN);
        sd_event_source_set_time_relative(s, h->rescan_us);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

int hotplug_new(sd_event *event, bool watch_udev, const struct hotplug_ops *ops, void *userdata,
                struct hotplug **ret)
{
        struct hotplug *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = event;
        h->watch = watch_udev;
        h->ops = *ops;
        h->userdata = userdata;
        if (watch_udev) {
                try_monitor(h, true);
                int r = enumerate_soon(h, HOTPLUG_FOUND_START);
                if (r < 0) {
                        hotplug_free(h);
                        return r;
                }
        }
        *ret = h;
        return 0;
}

int hotplug_set_rescan(struct hotplug *h, uint64_t interval_ms)
{
        if (!h || !h->watch)
                return 0;
        h->rescan_us = interval_ms * 1000;
        if (!interval_ms) {
                sd_event_source_set_enabled(h->rescan_timer, SD_EVENT_OFF);
                return 0;
        }
        uint64_t accuracy = h->rescan_us / 4 < HOTPLUG_RESCAN_ACCURACY_US
                                    ? h->rescan_us / 4
                                    : HOTPLUG_RESCAN_ACCURACY_US;
        if (!h->rescan_timer) {
                int r = sd_event_add_time_relative(h->event, &h->rescan_timer, CLOCK_MONOTONIC,
                                                   h->rescan_us, accuracy, on_rescan, h);
                if (r < 0) {
                        h->rescan_timer = NULL;
                        return r;
                }
                sd_event_source_set_description(h->rescan_timer, "hotplug-rescan");
                return 0;
        }
        sd_event_source_set_time_accuracy(h->rescan_timer, accuracy);
        sd_event_source_set_time_relative(h->rescan_timer, h->rescan_us);
        return sd_event_source_set_enabled(h->rescan_timer, SD_EVENT_ONESHOT);
}

int hotplug_rescan(struct hotplug *h)
{
        if (!h || !h->watch)
                return 0;
        return enumerate_soon(h, HOTPLUG_FOUND_RELOAD);
}

struct hotplug *hotplug_free(struct hotplug *h)
{
        if (!h)
                return NULL;
        h->enumerate = sd_event_source_disable_unref(h->enumerate);
        h->rescan_timer = sd_event_source_disable_unref(h->rescan_timer);
        stop_monitor(h);
        ttys_forget(h);
        free(h->ttys);
        free(h);
        return NULL;
}

bool hotplug_monitoring(const struct hotplug *h)
{
        return h && h->monitor;
}

void hotplug_get_stats(const struct hotplug *h, struct hotplug_stats *ret)
{
        *ret = h ? h->stats : (struct hotplug_stats){ 0 };
}

bool hotplug_is_glob(const char *pattern)
{
        return pattern && strpbrk(pattern, "*?[") != NULL;
}

bool hotplug_glob_matches(const char *pattern, const char *path)
{
        return fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD) == 0;
}

int hotplug_glob(const char *pattern, hotplug_path_fn fn, void *userdata)
{
        glob_t g;
        int r = glob(pattern, 0, NULL, &g);
        if (r == GLOB_NOMATCH)
                return 0;
        if (r != 0)
                return r == GLOB_NOSPACE ? -ENOMEM : -EIO;
        int n = 0;
        for (size_t i = 0; i < g.gl_pathc; i++) {
                struct stat st;
                /* glob() lists a link whose device is gone: it would become a binding
                 * that cannot open, dropped and made again at every scan */
                if (stat(g.gl_pathv[i], &st) < 0)
                        continue;
                fn(g.gl_pathv[i], userdata);
                n++;
        }
        globfree(&g);
        return n;
}

int hotplug_node_get(const char *path, struct hotplug_node *ret)
{
        struct stat l, st;
        if (lstat(path, &l) < 0 || stat(path, &st) < 0)
                return -errno;
        *ret = (struct hotplug_node){
                .is_link = S_ISLNK(l.st_mode),
                .link_ino = l.st_ino,
                .link_ctime = l.st_ctim,
                .dev = st.st_dev,
                .rdev = st.st_rdev,
                .ino = st.st_ino,
                .ctime = st.st_ctim,
        };
        return 0;
}

static bool same_time(struct timespec a, struct timespec b)
{
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool hotplug_node_same(const struct hotplug_node *a, const struct hotplug_node *b)
{
        /* The node's ctime moves on chmod/chown too (udev's rules run after the node
         * appears), so a node is "the same" only while nothing about it changed: a
         * false "changed" costs one more bounded probe, a false "same" a lost modem. */
        if (a->is_link != b->is_link || a->dev != b->dev || a->rdev != b->rdev ||
            a->ino != b->ino || !same_time(a->ctime, b->ctime))
                return false;
        return !a->is_link ||
               (a->link_ino == b->link_ino && same_time(a->link_ctime, b->link_ctime));
}
