/* Serial ports: libserialport for real ttys, termios for the paths it refuses. */
#include "daemon/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <libserialport.h>

#define SERIAL_SYSFS_ROOT  "/sys"
#define SERIAL_SYSFS_DEPTH 8 /* directories walked up from a tty to its USB device */

struct serial_port {
        char *path; /* as the caller gave it */
        int fd;
        struct sp_port *sp; /* NULL when opened with termios */
        struct serial_info info;
};

static const struct {
        unsigned baud;
        speed_t speed;
} serial_speeds[] = {
        { 1200, B1200 },       { 2400, B2400 },       { 4800, B4800 },       { 9600, B9600 },
        { 19200, B19200 },     { 38400, B38400 },     { 57600, B57600 },     { 115200, B115200 },
        { 230400, B230400 },   { 460800, B460800 },   { 921600, B921600 },   { 1000000, B1000000 },
        { 2000000, B2000000 }, { 3000000, B3000000 }, { 4000000, B4000000 },
};

static int serial_speed(unsigned baud, speed_t *ret)
{
        for (size_t i = 0; i < sizeof(serial_speeds) / sizeof(serial_speeds[0]); i++)
                if (serial_speeds[i].baud == baud) {
                        *ret = serial_speeds[i].speed;
                        return 0;
                }
        return -EINVAL;
}

static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (err && errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* Reads a one-line sysfs attribute into buf without its newline. */
static int read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
        char p[PATH_MAX];
        FILE *f;
        size_t n;

        if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, attr) >= sizeof(p))
                return -ENAMETOOLONG;
        f = fopen(p, "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, len - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int read_hex_attr(const char *dir, const char *attr, unsigned long max, unsigned long *ret)
{
        char buf[32], *end;
        unsigned long v;
        int r = read_attr(dir, attr, buf, sizeof(buf));

        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(buf, &end, 16);
        if (errno || end == buf || *end || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int serial_sysfs_usb(const char *sysfs_root, const char *name, struct serial_info *info)
{
        char link[PATH_MAX], dir[PATH_MAX];
        bool have_if = false;

        if ((size_t)snprintf(link, sizeof(link), "%s/class/tty/%s/device", sysfs_root, name) >=
            sizeof(link))
                return -ENAMETOOLONG;
        if (!realpath(link, dir))
                return -ENOENT;
        /* ttyACM: device is the interface directory; ttyUSB: the usb-serial port below it.
         * Walk up: the first bInterfaceNumber is ours, idVendor marks the USB device. */
        for (int depth = 0; depth < SERIAL_SYSFS_DEPTH; depth++) {
                unsigned long v, vid, pid;
                char *slash;

                if (!have_if && read_hex_attr(dir, "bInterfaceNumber", 0xFF, &v) == 0) {
                        info->interface = (int)v;
                        have_if = true;
                }
                if (read_hex_attr(dir, "idVendor", 0xFFFF, &vid) == 0 &&
                    read_hex_attr(dir, "idProduct", 0xFFFF, &pid) == 0) {
                        info->usb = true;
                        info->vid = (uint16_t)vid;
                        info->pid = (uint16_t)pid;
                        /* Strings are optional in USB descriptors: absent files stay "". */
                        if (!info->manufacturer[0])
                                (void)read_attr(dir, "manufacturer", info->manufacturer,
                                                sizeof(info->manufacturer));
                        if (!info->product[0])
                                (void)read_attr(dir, "product", info->product,
                                                sizeof(info->product));
                        if (!info->serial[0])
                                (void)read_attr(dir, "serial", info->serial, sizeof(info->serial));
                        return 0;
                }
                slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        break;
                *slash = '\0';
        }
        return 0;
}

/* libserialport's strings win over sysfs's when it has them; NULL keeps what is there. */
static void copy_str(char *dst, size_t len, const char *src)
{
        if (src && *src)
                snprintf(dst, len, "%s", src);
}

static void sp_read_info(struct sp_port *sp, struct serial_info *info)
{
        int vid, pid;

        if (sp_get_port_transport(sp) != SP_TRANSPORT_USB)
                return;
        if (sp_get_port_usb_vid_pid(sp, &vid, &pid) == SP_OK) {
                info->usb = true;
                info->vid = (uint16_t)vid;
                info->pid = (uint16_t)pid;
        }
        copy_str(info->manufacturer, sizeof(info->manufacturer), sp_get_port_usb_manufacturer(sp));
        copy_str(info->product, sizeof(info->product), sp_get_port_usb_product(sp));
        copy_str(info->serial, sizeof(info->serial), sp_get_port_usb_serial(sp));
}

/* Opens with libserialport; any refusal returns < 0 and leaves nothing open. */
static int open_sp(struct serial_port *p, const struct serial_params *params)
{
        struct sp_port *sp = NULL;
        int fd, flags;

        if (sp_get_port_by_name(p->info.real_path, &sp) != SP_OK)
                return -ENODEV;
        sp_read_info(sp, &p->info);
        if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK)
                goto fail;
        /* sp_open() already made the line raw; these set what we were told. */
        if (sp_set_baudrate(sp, (int)params->baud) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
            sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
            sp_set_flowcontrol(sp, params->rtscts ? SP_FLOWCONTROL_RTSCTS : SP_FLOWCONTROL_NONE) !=
                    SP_OK ||
            sp_get_port_handle(sp, &fd) != SP_OK)
                goto fail_close;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                goto fail_close;
        (void)ioctl(fd, TIOCEXCL);
        p->sp = sp;
        p->fd = fd;
        return 0;

fail_close:
        sp_close(sp);
fail:
        sp_free_port(sp);
        return -EIO;
}

static int open_termios(struct serial_port *p, const struct serial_params *params, char *err,
                        size_t errlen)
{
        struct termios tio;
        speed_t speed;
        int fd, r;

        if (serial_speed(params->baud, &speed) < 0)
                return fail(-EINVAL, err, errlen, "%s: unsupported baud rate %u", p->path,
                            params->baud);
        fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return fail(r, err, errlen, "%s: cannot open: %s", p->path, strerror(-r));
        }
        if (tcgetattr(fd, &tio) < 0) {
                r = -errno;
                close(fd);
                return fail(r, err, errlen, "%s: not a terminal: %s", p->path, strerror(-r));
        }
        cfmakeraw(&tio);
        tio.c_cflag &= ~(CSIZE | PARENB | CSTOPB | CRTSCTS);
        tio.c_cflag |= CS8 | CLOCAL | CREAD | (params->rtscts ? CRTSCTS : 0);
        tio.c_iflag &= ~(IXON | IXOFF | IXANY);
        tio.c_cc[VMIN] = 1;
        tio.c_cc[VTIME] = 0;
        if (cfsetispeed(&tio, speed) < 0 || cfsetospeed(&tio, speed) < 0 ||
            tcsetattr(fd, TCSANOW, &tio) < 0) {
                r = -errno;
                close(fd);
                return fail(r, err, errlen, "%s: cannot set %u 8N1: %s", p->path, params->baud,
                            strerror(-r));
        }
        (void)ioctl(fd, TIOCEXCL);
        p->fd = fd;
        p->info.via_termios = true;
        return 0;
}

int serial_open(const char *path, const struct serial_params *params, struct serial_port **ret_port,
                char *err, size_t errlen)
{
        struct serial_params prm = { .baud = SERIAL_BAUD_DEFAULT };
        struct serial_port *p;
        speed_t speed;
        const char *base;
        int r;

        if (!path || !*path || !ret_port)
                return fail(-EINVAL, err, errlen, "serial: no device path given");
        if (params)
                prm = *params;
        if (prm.baud == 0)
                prm.baud = SERIAL_BAUD_DEFAULT;
        if (serial_speed(prm.baud, &speed) < 0)
                return fail(-EINVAL, err, errlen,
                            "%s: unsupported baud rate %u (expected 1200 to 4000000, a standard "
                            "rate)",
                            path, prm.baud);
        p = calloc(1, sizeof(*p));
        if (!p || !(p->path = strdup(path))) {
                free(p);
                return fail(-ENOMEM, err, errlen, "%s: out of memory", path);
        }
        p->fd = -1;
        p->info.interface = -1;
        if (!realpath(path, p->info.real_path)) {
                r = -errno;
                serial_close(p);
                return fail(r, err, errlen, "%s: %s", path, strerror(-r));
        }
        base = strrchr(p->info.real_path, '/');
        (void)serial_sysfs_usb(SERIAL_SYSFS_ROOT, base ? base + 1 : p->info.real_path, &p->info);

        if (open_sp(p, &prm) < 0) {
                r = open_termios(p, &prm, err, errlen);
                if (r < 0) {
                        serial_close(p);
                        return r;
                }
        }
        *ret_port = p;
        return 0;
}

struct serial_port *serial_close(struct serial_port *p)
{
        if (!p)
                return NULL;
        if (p->sp) {
                sp_close(p->sp);
                sp_free_port(p->sp);
        } else if (p->fd >= 0) {
                close(p->fd);
        }
        free(p->path);
        free(p);
        return NULL;
}

int serial_fd(const struct serial_port *p)
{
        return p->fd;
}

const char *serial_path(const struct serial_port *p)
{
        return p->path;
}

const struct serial_info *serial_get_info(const struct serial_port *p)
{
        return &p->info;
}
