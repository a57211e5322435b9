/* rules/tz: TZif (RFC 8536) and POSIX TZ rules, civil-date arithmetic; no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/tz.h"

#define TZIF_HEADER_LEN      44
#define TZ_DEFAULT_RULE_TIME (2 * 3600) /* POSIX: a rule's time defaults to 02:00:00 */
#define TZ_HOUR              3600

/* POSIX TZ rule date forms (IEEE 1003.1 8.3). */
enum tz_date_kind { TZ_JULIAN1, TZ_JULIAN0, TZ_MONTH_WEEK_DAY };

struct tz_date {
        enum tz_date_kind kind;
        int n, m, w, d; /* Jn / n / Mm.w.d */
        int32_t time;   /* seconds after local midnight; may be negative or > 24 h */
};

struct tz_posix {
        bool valid;
        int32_t std_off, dst_off; /* seconds east of UTC */
        bool has_dst;
        struct tz_date start, end;
};

struct rules_tz {
        int64_t *at;        /* transition instants, ascending */
        int32_t *off_after; /* offset in force from at[i] */
        size_t n;
        int32_t off_before; /* before the first transition (type 0) */
        struct tz_posix posix;
};

int64_t rules_floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days from civil: the era-based method (400-year cycles of 146097 days). */
int64_t rules_days_from_civil(int y, unsigned m, unsigned d)
{
        int64_t yy = (int64_t)y - (m <= 2);
        int64_t era = rules_floor_div(yy, 400);
        unsigned yoe = (unsigned)(yy - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + (int64_t)doe - 719468;
}

void rules_civil_from_days(int64_t days, int *ret_y, unsigned *ret_m, unsigned *ret_d)
{
        int64_t z = days + 719468;
        int64_t era = rules_floor_div(z, 146097);
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;

        *ret_y = (int)((int64_t)yoe + era * 400 + (m <= 2));
        *ret_m = m;
        *ret_d = d;
}

unsigned rules_weekday(int64_t days)
{
        /* 1970-01-01 was a Thursday. */
        return (unsigned)(((days % 7) + 11) % 7);
}

static bool is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int y, unsigned m)
{
        static const unsigned len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static int parse_uint(const char **p, unsigned digits, unsigned *ret)
{
        unsigned v = 0;

        for (unsigned i = 0; i < digits; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)((*p)[i] - '0');
        }
        *p += digits;
        *ret = v;
        return 0;
}

int rules_date_parse(const char *s, int64_t *ret_days)
{
        unsigned y, m, d;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (strlen(s) != 10)
                return -EINVAL;
        if (s[4] == '-' && s[7] == '-') {
                if (parse_uint(&p, 4, &y) < 0 || *p++ != '-' || parse_uint(&p, 2, &m) < 0 ||
                    *p++ != '-' || parse_uint(&p, 2, &d) < 0)
                        return -EINVAL;
        } else if (s[2] == '/' && s[5] == '/') {
                if (parse_uint(&p, 2, &d) < 0 || *p++ != '/' || parse_uint(&p, 2, &m) < 0 ||
                    *p++ != '/' || parse_uint(&p, 4, &y) < 0)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (m < 1 || m > 12 || d < 1 || d > month_days((int)y, m))
                return -EINVAL;
        *ret_days = rules_days_from_civil((int)y, m, d);
        return 0;
}

void rules_date_format(int64_t days, char buf[static 11])
{
        int y;
        unsigned m, d;

        rules_civil_from_days(days, &y, &m, &d);
        /* Years outside 0..9999 are not dates a programme uses; clamp to keep 10 chars. */
        if (y < 0)
                y = 0;
        if (y > 9999)
                y = 9999;
        buf[0] = (char)('0' + y / 1000);
        buf[1] = (char)('0' + y / 100 % 10);
        buf[2] = (char)('0' + y / 10 % 10);
        buf[3] = (char)('0' + y % 10);
        buf[4] = '-';
        buf[5] = (char)('0' + m / 10);
        buf[6] = (char)('0' + m % 10);
        buf[7] = '-';
        buf[8] = (char)('0' + d / 10);
        buf[9] = (char)('0' + d % 10);
        buf[10] = '\0';
}

/* ---- POSIX TZ strings ---- */

static int posix_name(const char **p)
{
        const char *s = *p;

        if (*s == '<') {
                const char *e = strchr(s, '>');

                if (!e || e - s < 4)
                        return -EBADMSG;
                *p = e + 1;
                return 0;
        }
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
                s++;
        if (s - *p < 3)
                return -EBADMSG;
        *p = s;
        return 0;
}

static int posix_number(const char **p, int max, int *ret)
{
        int v = 0, n = 0;

        while (**p >= '0' && **p <= '9' && n < 3) {
                v = v * 10 + (**p - '0');
                (*p)++;
                n++;
        }
        if (n == 0 || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536 extension). */
static int posix_time(const char **p, int32_t *ret)
{
        int sign = 1, h, m = 0, s = 0;

        if (**p == '+' || **p == '-')
                sign = *(*p)++ == '-' ? -1 : 1;
        if (posix_number(p, 167, &h) < 0)
                return -EBADMSG;
        if (**p == ':') {
                (*p)++;
                if (posix_number(p, 59, &m) < 0)
                        return -EBADMSG;
                if (**p == ':') {
                        (*p)++;
                        if (posix_number(p, 59, &s) < 0)
                                return -EBADMSG;
                }
        }
        *ret = sign * (h * 3600 + m * 60 + s);
        return 0;
}

static int posix_date(const char **p, struct tz_date *ret)
{
        struct tz_date d = { .time = TZ_DEFAULT_RULE_TIME };

        if (**p == 'M') {
                (*p)++;
                d.kind = TZ_MONTH_WEEK_DAY;
                if (posix_number(p, 12, &d.m) < 0 || d.m < 1 || *(*p)++ != '.' ||
                    posix_number(p, 5, &d.w) < 0 || d.w < 1 || *(*p)++ != '.' ||
                    posix_number(p, 6, &d.d) < 0)
                        return -EBADMSG;
        } else if (**p == 'J') {
                (*p)++;
                d.kind = TZ_JULIAN1;
                if (posix_number(p, 365, &d.n) < 0 || d.n < 1)
                        return -EBADMSG;
        } else {
                d.kind = TZ_JULIAN0;
                if (posix_number(p, 365, &d.n) < 0)
                        return -EBADMSG;
        }
        if (**p == '/') {
                (*p)++;
                if (posix_time(p, &d.time) < 0)
                        return -EBADMSG;
        }
        *ret = d;
        return 0;
}

static int posix_parse(const char *s, struct tz_posix *ret)
{
        struct tz_posix z = { 0 };
        int32_t off;

        if (posix_name(&s) < 0 || posix_time(&s, &off) < 0)
                return -EBADMSG;
        z.std_off = -off; /* POSIX offsets count west of Greenwich */
        if (*s) {
                z.has_dst = true;
                if (posix_name(&s) < 0)
                        return -EBADMSG;
                z.dst_off = z.std_off + TZ_HOUR;
                if (*s && *s != ',') {
                        if (posix_time(&s, &off) < 0)
                                return -EBADMSG;
                        z.dst_off = -off;
                }
                if (*s == ',') {
                        s++;
                        if (posix_date(&s, &z.start) < 0 || *s++ != ',' ||
                            posix_date(&s, &z.end) < 0)
                                return -EBADMSG;
                } else {
                        /* No rule: the US rule glibc also assumes. */
                        z.start = (struct tz_date){ TZ_MONTH_WEEK_DAY,   0, 3, 2, 0,
                                                    TZ_DEFAULT_RULE_TIME };
                        z.end = (struct tz_date){ TZ_MONTH_WEEK_DAY,   0, 11, 1, 0,
                                                  TZ_DEFAULT_RULE_TIME };
                }
        }
        if (*s)
                return -EBADMSG;
        z.valid = true;
        *ret = z;
        return 0;
}

/* The local day (days since epoch) a rule date names in year y. */
static int64_t rule_day(const struct tz_date *d, int y)
{
        int64_t jan1 = rules_days_from_civil(y, 1, 1);

        switch (d->kind) {
        case TZ_JULIAN1: /* 1..365, February 29 never counted */
                return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60);
        case TZ_JULIAN0:
                return jan1 + d->n;
        case TZ_MONTH_WEEK_DAY:
        default: {
                int64_t first = rules_days_from_civil(y, (unsigned)d->m, 1);
                int64_t day = first + ((d->d - (int)rules_weekday(first)) + 7) % 7;

                day += 7 * (d->w - 1);
                if (d->w == 5)
                        while (day >= first + month_days(y, (unsigned)d->m))
                                day -= 7;
                return day;
        }
        }
}

static int32_t posix_offset(const struct tz_posix *z, int64_t utc)
{
        int y;
        unsigned m, dd;

        if (!z->has_dst)
                return z->std_off;
        rules_civil_from_days(rules_floor_div(utc + z->std_off, RULES_DAY_SECONDS), &y, &m, &dd);
        /* Start is written in standard time, end in daylight time. */
        int64_t start = rule_day(&z->start, y) * RULES_DAY_SECONDS + z->start.time - z->std_off;
        int64_t end = rule_day(&z->end, y) * RULES_DAY_SECONDS + z->end.time - z->dst_off;
        bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);

        return dst ? z->dst_off : z->std_off;
}

int rules_tz_parse_posix(const char *s, struct rules_tz **ret_tz)
{
        struct tz_posix z;
        struct rules_tz *tz;

        if (!s || strlen(s) > RULES_TZ_POSIX_MAX || posix_parse(s, &z) < 0)
                return -EBADMSG;
        tz = calloc(1, sizeof(*tz));
        if (!tz)
                return -ENOMEM;
        tz->posix = z;
        tz->off_before = z.std_off;
        *ret_tz = tz;
        return 0;
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
        uint32_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(const uint8_t *p, size_t len, struct tzif_counts *c)
{
        if (len < TZIF_HEADER_LEN || memcmp(p, "TZif", 4) != 0)
                return -EBADMSG;
        c->isut = be32(p + 20);
        c->isstd = be32(p + 24);
        c->leap = be32(p + 28);
        c->time = be32(p + 32);
        c->type = be32(p + 36);
        c->chars = be32(p + 40);
        /* RFC 8536 3.1: typecnt must not be zero; the counts bound the file size. */
        if (c->type == 0 || c->type > 256 || c->time > RULES_TZ_FILE_MAX ||
            c->leap > RULES_TZ_FILE_MAX || c->chars > RULES_TZ_FILE_MAX || c->isut > 256 ||
            c->isstd > 256)
                return -EBADMSG;
        return 0;
}

static size_t tzif_block_len(const struct tzif_counts *c, size_t tsize)
{
        return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) +
               c->isstd + c->isut;
}

int rules_tz_parse(const uint8_t *buf, size_t len, struct rules_tz **ret_tz)
{
        struct tzif_counts c;
        size_t tsize = 4, off = 0;
        struct rules_tz *tz;

        if (!buf || len > RULES_TZ_FILE_MAX || tzif_header(buf, len, &c) < 0)
                return -EBADMSG;
        if (buf[4] >= '2') {
                /* Skip the 32-bit block: version 2+ repeats everything with 64-bit times. */
                off = TZIF_HEADER_LEN + tzif_block_len(&c, 4);
                if (off > len || tzif_header(buf + off, len - off, &c) < 0)
                        return -EBADMSG;
                tsize = 8;
        }
        off += TZIF_HEADER_LEN;
        if (tzif_block_len(&c, tsize) > len - off)
                return -EBADMSG;

        const uint8_t *times = buf + off, *idx = times + c.time * tsize;
        const uint8_t *types = idx + c.time;

        tz = calloc(1, sizeof(*tz));
        if (!tz)
                return -ENOMEM;
        tz->at = calloc(c.time ? c.time : 1, sizeof(*tz->at));
        tz->off_after = calloc(c.time ? c.time : 1, sizeof(*tz->off_after));
        if (!tz->at || !tz->off_after) {
                rules_tz_free(tz);
                return -ENOMEM;
        }
        for (uint32_t i = 0; i < c.time; i++) {
                if (idx[i] >= c.type ||
                    (i && (tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i)) <=
                                  tz->at[i - 1])) {
                        rules_tz_free(tz);
                        return -EBADMSG;
                }
                tz->at[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
                tz->off_after[i] = (int32_t)be32(types + 6 * idx[i]);
        }
        tz->n = c.time;
        tz->off_before = (int32_t)be32(types);

        /* The footer (version 2+): "\n" POSIX-TZ "\n", for instants after the last one. */
        off += tzif_block_len(&c, tsize);
        if (tsize == 8 && off < len && buf[off] == '\n') {
                char footer[RULES_TZ_POSIX_MAX + 1];
                const uint8_t *e = memchr(buf + off + 1, '\n', len - off - 1);
                size_t flen = e ? (size_t)(e - (buf + off + 1)) : 0;

                if (!e || flen > RULES_TZ_POSIX_MAX) {
                        rules_tz_free(tz);
                        return -EBADMSG;
                }
                memcpy(footer, buf + off + 1, flen);
                footer[flen] = '\0';
                if (flen && posix_parse(footer, &tz->posix) < 0) {
                        rules_tz_free(tz);
                        return -EBADMSG;
                }
        }
        *ret_tz = tz;
        return 0;
}

struct rules_tz *rules_tz_free(struct rules_tz *tz)
{
        if (tz) {
                free(tz->at);
                free(tz->off_after);
                free(tz);
        }
        return NULL;
}

int32_t rules_tz_offset(const struct rules_tz *tz, int64_t utc)
{
        size_t lo = 0, hi;

        if (!tz)
                return 0;
        if (tz->n == 0 || utc < tz->at[0])
                return tz->n == 0 && tz->posix.valid ? posix_offset(&tz->posix, utc)
                                                     : tz->off_before;
        if (utc >= tz->at[tz->n - 1] && tz->posix.valid)
                return posix_offset(&tz->posix, utc);
        hi = tz->n; /* invariant: at[lo] <= utc < at[hi] */
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;

                if (tz->at[mid] <= utc)
                        lo = mid;
                else
                        hi = mid;
        }
        return tz->off_after[lo];
}

int64_t rules_tz_to_local(const struct rules_tz *tz, int64_t utc)
{
        return utc + rules_tz_offset(tz, utc);
}

int64_t rules_tz_to_utc(const struct rules_tz *tz, int64_t local)
{
        /* Offsets a day either side; zones change offset at most once in a day. */
        int32_t ob = rules_tz_offset(tz, local - RULES_DAY_SECONDS);
        int32_t oa = rules_tz_offset(tz, local + RULES_DAY_SECONDS);

        /* The same offset a day either side: no transition near, the common case. */
        if (ob == oa && rules_tz_offset(tz, local - ob) == ob)
                return local - ob;
        int64_t tb = local - ob, ta = local - oa;
        bool vb = rules_tz_offset(tz, tb) == ob, va = rules_tz_offset(tz, ta) == oa;

        if (vb && va)
                return tb < ta ? tb : ta; /* overlap: the earlier instant */
        if (vb)
                return tb;
        if (va)
                return ta;
        return tb; /* gap: the offset before the jump puts it just after */
}
