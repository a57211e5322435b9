/* A simulated USB modem's tty interfaces as data, and what the non-AT ones say: the layout
 * parser, the by-id style link names, NMEA 0183 sentences and diagnostics frames. No I/O. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static const char *const kind_names[] = {
        [SIM_PORT_AT] = "at",
        [SIM_PORT_DIAG] = "diag",
        [SIM_PORT_NMEA] = "nmea",
        [SIM_PORT_SILENT] = "silent",
};

const char *sim_port_kind_name(enum sim_port_kind k)
{
        return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

static int kind_find(const char *word, size_t len, enum sim_port_kind *ret)
{
        for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
                if (strlen(kind_names[i]) == len && strncmp(kind_names[i], word, len) == 0) {
                        *ret = (enum sim_port_kind)i;
                        return 0;
                }
        return -EINVAL;
}

int sim_layout_parse(const char *spec, enum sim_port_kind *ret_kinds, size_t max, size_t *ret_n,
                     size_t *ret_at, char *err, size_t errlen)
{
        enum sim_port_kind kinds[SIM_PORTS_MAX];
        size_t n = 0, at = 0;
        bool have_at = false;
        const char *p = spec;

        if (max > SIM_PORTS_MAX)
                max = SIM_PORTS_MAX;
        for (;;) {
                size_t len = strcspn(p, ":");
                enum sim_port_kind k;
                if (kind_find(p, len, &k) < 0) {
                        snprintf(err, errlen,
                                 "interface %zu of '%s': '%.*s' is not at, diag, nmea or silent", n,
                                 spec, (int)(len > 32 ? 32 : len), p);
                        return -EINVAL;
                }
                if (n >= max) {
                        snprintf(err, errlen, "'%s': more than %zu interfaces", spec, max);
                        return -EINVAL;
                }
                if (k == SIM_PORT_AT) {
                        if (have_at) {
                                snprintf(err, errlen,
                                         "'%s': interface %zu is a second AT port (one only: the "
                                         "simulated modem has one command interpreter)",
                                         spec, n);
                                return -EINVAL;
                        }
                        have_at = true;
                        at = n;
                }
                kinds[n++] = k;
                if (!p[len])
                        break;
                p += len + 1;
        }
        if (!have_at) {
                snprintf(err, errlen, "'%s': no AT interface", spec);
                return -EINVAL;
        }
        memcpy(ret_kinds, kinds, n * sizeof(kinds[0]));
        *ret_n = n;
        *ret_at = at;
        return 0;
}

int sim_port_link(char *buf, size_t size, const char *path, unsigned renames, int ifnum)
{
        char gen[16] = "", intf[32] = "";
        if (renames > 0)
                snprintf(gen, sizeof(gen), "-r%u", renames);
        /* udev's by-id names end in -ifNN-portM for each interface of a USB serial device */
        if (ifnum >= 0)
                snprintf(intf, sizeof(intf), "-if%02d-port0", ifnum);
        int n = snprintf(buf, size, "%s%s%s", path, gen, intf);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int sim_nmea_sentence(char *buf, size_t size, const char *body)
{
        uint8_t cs = 0;
        for (const char *p = body; *p; p++)
                cs ^= (uint8_t)*p;
        int n = snprintf(buf, size, "$%s*%02X\r\n", body, cs);
        if (n < 0 || (size_t)n >= size || n > SIM_NMEA_MAX - 1)
                return -ENAMETOOLONG;
        return n;
}

void sim_nmea_fix(int64_t t, char *gga, char *rmc, size_t size)
{
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        /* Mexico City's Zocalo, 2240 m: a fix that never moves, 8 satellites */
        snprintf(gga, size,
                 "GPGGA,%02d%02d%02d.00,1925.956,N,09907.992,W,1,08,0.9,2240.0,M,-7.0,M,,",
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        snprintf(rmc, size,
                 "GPRMC,%02d%02d%02d.00,A,1925.956,N,09907.992,W,0.0,0.0,%02d%02d%02d,,,A",
                 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100);
}

uint16_t sim_fcs16(const uint8_t *data, size_t len)
{
        uint16_t fcs = 0xffff;
        for (size_t i = 0; i < len; i++) {
                fcs ^= data[i];
                for (int b = 0; b < 8; b++)
                        fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408) : (uint16_t)(fcs >> 1);
        }
        return (uint16_t)~fcs;
}

static size_t put_escaped(uint8_t *out, size_t k, uint8_t b)
{
        /* RFC 1662 4.2: the flag and the escape byte are sent as 0x7d, b ^ 0x20 */
        if (b == 0x7e || b == 0x7d) {
                out[k++] = 0x7d;
                out[k++] = b ^ 0x20;
        } else {
                out[k++] = b;
        }
        return k;
}

size_t sim_diag_frame(const uint8_t *req, size_t len, uint8_t *out)
{
        uint8_t raw[SIM_DIAG_ECHO_MAX + 3];
        size_t n = 0, k = 0;
        raw[n++] = 0x13; /* DIAG "bad command" response: the request follows */
        for (size_t i = 0; i < len && i < SIM_DIAG_ECHO_MAX; i++)
                raw[n++] = req[i];
        uint16_t fcs = sim_fcs16(raw, n);
        raw[n++] = (uint8_t)(fcs & 0xff);
        raw[n++] = (uint8_t)(fcs >> 8);
        for (size_t i = 0; i < n; i++)
                k = put_escaped(out, k, raw[i]);
        out[k++] = 0x7e;
        return k;
}
