/* Serial ports for modems: opens a device 8N1 at a given speed and hands out a non-blocking
 * fd for the event loop, plus what identifies the device (USB ids, strings, interface).
 *
 * Real ttys go through libserialport (this module is its only user). libserialport 0.1.1
 * looks ports up in sysfs and so refuses pseudo-terminals (puente-sim, socat, ser2net):
 * whatever it refuses or fails to open is opened with termios instead, same settings.
 *
 * Ownership: serial_open() returns a port the caller frees with serial_close(), which closes
 * the fd; the fd and strings returned by the getters are borrowed from the port. Error
 * messages go to the caller's buffer; nothing here logs. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_BAUD_DEFAULT 115200
#define SERIAL_STR_MAX      128 /* USB strings (manufacturer, product, serial number) */
#define SERIAL_ERR_MAX      (PATH_MAX + 128) /* a buffer large enough for any message */

struct serial_params {
        unsigned baud; /* 0: SERIAL_BAUD_DEFAULT; otherwise one of the standard rates */
        bool rtscts;   /* hardware flow control; none when false */
};

/* What identifies the device, for hotplug and the quirks table. */
struct serial_info {
        char real_path[PATH_MAX]; /* the path with symlinks resolved (/dev/ttyUSB2) */
        bool via_termios;         /* libserialport refused it: opened with termios */
        bool usb;                 /* vid and pid are known */
        uint16_t vid, pid;
        int interface; /* USB bInterfaceNumber from sysfs, -1 unknown */
        char manufacturer[SERIAL_STR_MAX], product[SERIAL_STR_MAX], serial[SERIAL_STR_MAX];
};

struct serial_port;

/* Opens path (kept as given for messages; symlinks such as /dev/serial/by-id/... are
 * resolved for the sysfs lookups) in raw 8N1 mode, non-blocking, close-on-exec, with
 * exclusive access (TIOCEXCL) so another program cannot open it meanwhile. params may be
 * NULL for the defaults. Returns 0 or a negative errno: -ENOENT (no such path), -ENOTTY (not
 * a terminal), -EINVAL (unsupported baud rate), -EACCES, -EBUSY...; then err (when not NULL)
 * holds a message naming the path. */
int serial_open(const char *path, const struct serial_params *params, struct serial_port **ret_port,
                char *err, size_t errlen);

/* Closes the fd and frees the port. Accepts NULL; returns NULL. */
struct serial_port *serial_close(struct serial_port *port);

int serial_fd(const struct serial_port *port);           /* non-blocking */
const char *serial_path(const struct serial_port *port); /* as given */
const struct serial_info *serial_get_info(const struct serial_port *port);

/* Reads the USB interface number, the vendor and product ids and the strings still empty in
 * info of tty `name` ("ttyUSB2") below a sysfs root ("/sys", or a fake tree in tests): from
 * <root>/class/tty/<name>/device up to the USB device. Fields not found stay as they were
 * (interface -1, usb false).
 * Returns 0, or -ENOENT when the tty has no device directory (a pty, a virtual console). */
int serial_sysfs_usb(const char *sysfs_root, const char *name, struct serial_info *info);
