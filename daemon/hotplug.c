/* Hotplug: tty devices from udev (sd-device) and configured globs. */
#include "daemon/hotplug.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-device.h>

#include "daemon/log.h"

struct hotplug {
        sd_event *event;
        sd_device_monitor *monitor;
        sd_event_source *enumerate; /* deferred first enumeration */
        struct hotplug_ops ops;
        void *userdata;
};

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
        if (port_from_device(d, &p) && h->ops.added)
                h->ops.added(&p, h->userdata);
        return 0;
}

static int on_enumerate(sd_event_source *s, void *userdata)
{
        struct hotplug *h = userdata;
        sd_device_enumerator *e = NULL;
        struct hotplug_port p;

        h->enumerate = sd_event_source_disable_unref(h->enumerate);
        if (sd_device_enumerator_new(&e) < 0)
                return 0;
        if (sd_device_enumerator_add_match_subsystem(e, "tty", 1) >= 0)
                for (sd_device *d = sd_device_enumerator_get_device_first(e); d;
                     d = sd_device_enumerator_get_device_next(e))
                        if (port_from_device(d, &p) && h->ops.added)
                                h->ops.added(&p, h->userdata);
        sd_device_enumerator_unref(e);
        return 0;
}

static int start_monitor(struct hotplug *h)
{
        int r = sd_device_monitor_new(&h->monitor);
        if (r < 0)
                return r;
        r = sd_device_monitor_filter_add_match_subsystem_devtype(h->monitor, "tty", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(h->monitor, h->event);
        if (r >= 0)
                r = sd_device_monitor_start(h->monitor, on_monitor, h);
        if (r < 0)
                h->monitor = sd_device_monitor_unref(h->monitor);
        return r;
}

int hotplug_new(sd_event *event, bool watch_udev, const struct hotplug_ops *ops, void *userdata,
                struct hotplug **ret)
{
        struct hotplug *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = event;
        h->ops = *ops;
        h->userdata = userdata;
        if (watch_udev) {
                int r = start_monitor(h);
                if (r < 0)
                        log_warning("hotplug: no udev monitor (%s): configured paths only",
                                    strerror(-r));
                else
                        (void)hotplug_rescan(h);
        }
        *ret = h;
        return 0;
}

int hotplug_rescan(struct hotplug *h)
{
        if (!h || !h->monitor || h->enumerate)
                return 0; /* no udev, or an enumeration already due */
        int r = sd_event_add_defer(h->event, &h->enumerate, on_enumerate, h);
        if (r < 0)
                h->enumerate = NULL;
        return r;
}

struct hotplug *hotplug_free(struct hotplug *h)
{
        if (!h)
                return NULL;
        h->enumerate = sd_event_source_disable_unref(h->enumerate);
        if (h->monitor) {
                sd_device_monitor_stop(h->monitor);
                sd_device_monitor_unref(h->monitor);
        }
        free(h);
        return NULL;
}

bool hotplug_monitoring(const struct hotplug *h)
{
        return h && h->monitor;
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
