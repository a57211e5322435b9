/* A simulated USB modem's ttys: the pty and symlink plumbing every interface shares, and the
 * interfaces that are not the AT port (a diagnostics port answering in binary, a GPS port
 * spewing NMEA, a silent one), as a Huawei E3372 or a SIMCom SIM7600 shows 3 to 5 ttyUSB. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

#define PORT_READ_CHUNK 512

int sim_pty_open(int *ret_master, int *ret_slave, char *pts, size_t pts_size)
{
        int r, slave = -1;
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, pts_size) != 0) {
                r = -errno;
                goto fail;
        }
        slave = open(pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) {
                r = -errno;
                goto fail;
        }
        struct termios tio;
        if (tcgetattr(slave, &tio) == 0) {
                cfmakeraw(&tio); /* raw like a USB ACM or usb-serial port */
                tcsetattr(slave, TCSANOW, &tio);
        }
        chmod(pts, 0660);
        *ret_master = master;
        *ret_slave = slave;
        return 0;
fail:
        close(master);
        return r;
}

int sim_link_make(const char *target, const char *link)
{
        char tmp[PATH_MAX + 16];
        char dir[PATH_MAX];
        sim_strlcpy(dir, sizeof(dir), link);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        /* a link appears whole: a host scanning the directory never sees half of one */
        snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid());
        unlink(tmp);
        if (symlink(target, tmp) < 0)
                return -errno;
        if (rename(tmp, link) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

static void port_write(struct sim_port *p, const void *data, size_t len)
{
        /* Nobody reading (no host, or a host that ignores this port): the bytes are lost,
         * as a USB serial driver drops what the host does not read. */
        ssize_t n = write(p->master_fd, data, len);
        if (n > 0)
                p->bytes_out += (uint64_t)n;
}

static int on_port_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct sim_port *p = userdata;
        uint8_t buf[PORT_READ_CHUNK], frame[SIM_DIAG_FRAME_MAX];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
                return 0;
        p->bytes_in += (uint64_t)n;
        if (p->kind == SIM_PORT_DIAG)
                port_write(p, frame, sim_diag_frame(buf, (size_t)n, frame));
        return 0;
}

static int on_nmea(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_port *p = userdata;
        char gga[SIM_NMEA_MAX], rmc[SIM_NMEA_MAX], line[SIM_NMEA_MAX];
        sim_nmea_fix((int64_t)time(NULL), gga, rmc, sizeof(gga));
        int n = sim_nmea_sentence(line, sizeof(line), gga);
        if (n > 0)
                port_write(p, line, (size_t)n);
        n = sim_nmea_sentence(line, sizeof(line), rmc);
        if (n > 0)
                port_write(p, line, (size_t)n);
        sd_event_source_set_time_relative(s, SIM_NMEA_MS * 1000ULL);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void port_close(struct sim_port *p)
{
        p->io = sd_event_source_disable_unref(p->io);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (p->master_fd >= 0)
                close(p->master_fd);
        if (p->slave_fd >= 0)
                close(p->slave_fd);
        p->master_fd = p->slave_fd = -1;
        if (p->link[0])
                unlink(p->link);
}

static int port_open(struct sim_modem *m, size_t i)
{
        struct sim_port *p = &m->ports[i];
        int r = sim_port_link(p->link, sizeof(p->link), m->path, m->renames, (int)i);
        if (r < 0)
                return r;
        r = sim_pty_open(&p->master_fd, &p->slave_fd, p->pts, sizeof(p->pts));
        if (r < 0)
                return r;
        p->m = m;
        r = sim_link_make(p->pts, p->link);
        if (r >= 0)
                r = sd_event_add_io(m->net->event, &p->io, p->master_fd, EPOLLIN, on_port_io, p);
        if (r >= 0 && p->kind == SIM_PORT_NMEA)
                r = sd_event_add_time_relative(m->net->event, &p->timer, CLOCK_MONOTONIC,
                                               SIM_NMEA_MS * 1000ULL, 0, on_nmea, p);
        if (r < 0)
                return r;
        log_modem(LOG_INFO, m->name, "interface %zu (%s): %s -> %s", i, sim_port_kind_name(p->kind),
                  p->link, p->pts);
        return 0;
}

int sim_ports_plug(struct sim_modem *m)
{
        for (size_t i = 0; i < m->n_ports; i++) {
                if (i == m->at_port)
                        continue;
                int r = port_open(m, i);
                if (r < 0) {
                        sim_ports_unplug(m);
                        return r;
                }
        }
        return 0;
}

void sim_ports_unplug(struct sim_modem *m)
{
        for (size_t i = 0; i < m->n_ports; i++)
                if (i != m->at_port)
                        port_close(&m->ports[i]);
}

size_t sim_ports_hold(const struct sim_modem *m, int *fds)
{
        size_t n = 0;
        if (m->master_fd >= 0 && (fds[n] = fcntl(m->master_fd, F_DUPFD_CLOEXEC, 0)) >= 0)
                n++;
        for (size_t i = 0; i < m->n_ports; i++)
                if (i != m->at_port && m->ports[i].master_fd >= 0 &&
                    (fds[n] = fcntl(m->ports[i].master_fd, F_DUPFD_CLOEXEC, 0)) >= 0)
                        n++;
        return n;
}
