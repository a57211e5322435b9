/* Parsers for the network and clock responses of 27.007 (see at/parse.h). */
#include "at/parse.h"

#include <errno.h>
#include <string.h>

#include "at/parse-fields.h"

int at_parse_csq(const char *line, struct at_csq *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_csq c;
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+CSQ:", f, AT_FIELDS_MAX, &n) < 0 || n != 2)
                return -EBADMSG;
        if (at_field_int(&f[0], &c.rssi) < 0 || at_field_int(&f[1], &c.ber) < 0)
                return -EBADMSG;
        if (c.rssi < 0 || (c.rssi > 31 && c.rssi != 99) || c.ber < 0 || (c.ber > 7 && c.ber != 99))
                return -EBADMSG;
        *ret = c;
        return 0;
}

int at_csq_to_dbm(int rssi, int *ret_dbm)
{
        if (rssi == 99)
                return -ENODATA;
        if (rssi < 0 || rssi > 31 || !ret_dbm)
                return -EINVAL;
        *ret_dbm = -113 + 2 * rssi;
        return 0;
}

int at_csq_to_bars(int rssi)
{
        int dbm;
        if (at_csq_to_dbm(rssi, &dbm) < 0)
                return 0;
        if (dbm <= -107)
                return 0;
        if (dbm <= -99)
                return 1;
        if (dbm <= -89)
                return 2;
        if (dbm <= -79)
                return 3;
        return 4;
}

int at_parse_creg(const char *line, bool query, struct at_creg *ret)
{
        static const char *const prefixes[] = { "+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:" };
        struct at_field f[AT_FIELDS_MAX];
        size_t n = 0, i = 0;
        int r = -EBADMSG;
        if (!line || !ret)
                return -EINVAL;
        for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]) && r < 0; p++)
                r = at_fields_split(line, prefixes[p], f, AT_FIELDS_MAX, &n);
        if (r < 0)
                return -EBADMSG;
        struct at_creg c = { .n = -1, .lac = -1, .ci = -1, .act = -1 };
        if (query) {
                if (at_field_int(&f[i++], &c.n) < 0 || c.n < 0 || c.n > 5)
                        return -EBADMSG;
        }
        if (i >= n || at_field_int(&f[i++], &c.stat) < 0 || c.stat < 0 || c.stat > 11)
                return -EBADMSG;
        /* Optional fields may also be present but empty ("+CEREG: 1,,,7"). */
        if (i < n && (r = at_field_hex(&f[i++], &c.lac)) < 0 && r != -ENODATA)
                return -EBADMSG;
        if (i < n && (r = at_field_hex(&f[i++], &c.ci)) < 0 && r != -ENODATA)
                return -EBADMSG;
        if (i < n && (r = at_field_int(&f[i++], &c.act)) < 0 && r != -ENODATA)
                return -EBADMSG;
        /* Further fields (<rac>, <cause_type>, <reject_cause>...) are ignored. */
        *ret = c;
        return 0;
}

int at_parse_cops(const char *line, struct at_cops *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_cops c = { .format = -1, .act = -1 };
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+COPS:", f, AT_FIELDS_MAX, &n) < 0 || n > 4 || n == 2)
                return -EBADMSG;
        if (at_field_int(&f[0], &c.mode) < 0 || c.mode < 0 || c.mode > 4)
                return -EBADMSG;
        if (n >= 3) {
                if (at_field_int(&f[1], &c.format) < 0 || c.format < 0 || c.format > 2)
                        return -EBADMSG;
                if (at_field_str(&f[2], c.oper, sizeof(c.oper)) < 0)
                        return -ENOBUFS;
        }
        if (n == 4 && at_field_int(&f[3], &c.act) < 0)
                return -EBADMSG;
        *ret = c;
        return 0;
}

static bool valid_time(const struct at_time *t)
{
        return t->mon >= 1 && t->mon <= 12 && t->day >= 1 && t->day <= 31 && t->hour >= 0 &&
               t->hour <= 23 && t->min >= 0 && t->min <= 59 && t->sec >= 0 && t->sec <= 60;
}

#define AT_CLOCK_LEN 17 /* "yy/MM/dd,hh:mm:ss" */

/* Two decimal digits at p; -EBADMSG for anything else (no sign, no space). */
static int two_digits(const char *p, int *ret)
{
        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
                return -EBADMSG;
        *ret = (p[0] - '0') * 10 + (p[1] - '0');
        return 0;
}

/* "yy/MM/dd,hh:mm:ss[±zz]" as in +CCLK and +CTZE <time>: 27.007 8.15 gives every part
 * two digits, so the layout is fixed. */
static int parse_clock(const char *s, size_t len, bool zone_allowed, struct at_time *t)
{
        char buf[40];
        int yy;
        if (len >= sizeof(buf) || len < AT_CLOCK_LEN)
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (buf[2] != '/' || buf[5] != '/' || buf[8] != ',' || buf[11] != ':' || buf[14] != ':' ||
            two_digits(buf, &yy) < 0 || two_digits(buf + 3, &t->mon) < 0 ||
            two_digits(buf + 6, &t->day) < 0 || two_digits(buf + 9, &t->hour) < 0 ||
            two_digits(buf + 12, &t->min) < 0 || two_digits(buf + 15, &t->sec) < 0)
                return -EBADMSG;
        t->year = 2000 + yy;
        t->has_time = true;
        if (!valid_time(t))
                return -EBADMSG;
        const char *z = buf + AT_CLOCK_LEN;
        if (*z == '\0')
                return 0;
        if (!zone_allowed || (*z != '+' && *z != '-'))
                return -EBADMSG;
        struct at_field f = { .p = z, .len = strlen(z) };
        if (at_field_int(&f, &t->tz_quarters) < 0 || t->tz_quarters < -96 || t->tz_quarters > 96)
                return -EBADMSG;
        t->has_tz = true;
        return 0;
}

int at_parse_cclk(const char *line, struct at_time *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_time t = { .dst = -1 };
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+CCLK:", f, AT_FIELDS_MAX, &n) < 0 || n != 1 || !f[0].quoted)
                return -EBADMSG;
        if (parse_clock(f[0].p, f[0].len, true, &t) < 0)
                return -EBADMSG;
        *ret = t;
        return 0;
}

static int parse_tz(const struct at_field *f, struct at_time *t)
{
        if (at_field_int(f, &t->tz_quarters) < 0 || t->tz_quarters < -96 || t->tz_quarters > 96)
                return -EBADMSG;
        t->has_tz = true;
        return 0;
}

int at_parse_ctzv(const char *line, struct at_time *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_time t = { .dst = -1 };
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+CTZV:", f, AT_FIELDS_MAX, &n) < 0 || n != 1 ||
            parse_tz(&f[0], &t) < 0)
                return -EBADMSG;
        *ret = t;
        return 0;
}

int at_parse_ctze(const char *line, struct at_time *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_time t = { .dst = -1 };
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+CTZE:", f, AT_FIELDS_MAX, &n) < 0 || n < 2 || n > 3 ||
            parse_tz(&f[0], &t) < 0)
                return -EBADMSG;
        if (at_field_int(&f[1], &t.dst) < 0 || t.dst < 0 || t.dst > 2)
                return -EBADMSG;
        if (n == 3) {
                int tz = t.tz_quarters;
                if (parse_clock(f[2].p, f[2].len, false, &t) < 0)
                        return -EBADMSG;
                t.tz_quarters = tz;
        }
        *ret = t;
        return 0;
}

int at_parse_psuttz(const char *line, struct at_time *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_time t = { .dst = -1 };
        int *v[] = { &t.year, &t.mon, &t.day, &t.hour, &t.min, &t.sec };
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "*PSUTTZ:", f, AT_FIELDS_MAX, &n) < 0 || n != 8)
                return -EBADMSG;
        for (size_t i = 0; i < 6; i++)
                if (at_field_int(&f[i], v[i]) < 0)
                        return -EBADMSG;
        /* Accept a two-digit year as well as the usual four. */
        if (t.year < 100)
                t.year += 2000;
        t.has_time = true;
        if (!valid_time(&t) || parse_tz(&f[6], &t) < 0 || at_field_int(&f[7], &t.dst) < 0 ||
            t.dst < 0 || t.dst > 2)
                return -EBADMSG;
        *ret = t;
        return 0;
}
