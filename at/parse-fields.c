/* Field splitting and conversions shared by the response parsers (see at/parse-fields.h). */
#include "at/parse-fields.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

int at_fields_split(const char *line, const char *prefix, struct at_field *f, size_t max,
                    size_t *ret_n)
{
        if (!line || !prefix || !f || !ret_n || max == 0)
                return -EINVAL;
        size_t plen = strlen(prefix);
        if (strncmp(line, prefix, plen) != 0)
                return -EBADMSG;
        const char *s = line + plen;
        size_t n = 0;
        for (;;) {
                while (is_blank(*s))
                        s++;
                if (n >= max)
                        return -EBADMSG;
                struct at_field *cur = &f[n++];
                *cur = (struct at_field){ .p = s, .len = 0 };
                if (*s == '"' || *s == '(') {
                        char close = *s == '"' ? '"' : ')';
                        cur->quoted = *s == '"';
                        cur->list = *s == '(';
                        const char *e = strchr(s + 1, close);
                        if (!e)
                                return -EBADMSG;
                        cur->p = s + 1;
                        cur->len = (size_t)(e - s - 1);
                        s = e + 1;
                        while (is_blank(*s))
                                s++;
                        if (*s != ',' && *s != '\0')
                                return -EBADMSG;
                } else {
                        const char *e = s;
                        while (*e && *e != ',')
                                e++;
                        const char *t = e;
                        while (t > s && is_blank(t[-1]))
                                t--;
                        cur->len = (size_t)(t - s);
                        s = e;
                }
                if (*s == '\0')
                        break;
                s++; /* the comma */
        }
        *ret_n = n;
        return 0;
}

int at_field_int(const struct at_field *f, int *ret)
{
        if (f->len == 0)
                return -ENODATA;
        size_t i = 0;
        bool neg = false;
        if (f->p[0] == '+' || f->p[0] == '-') {
                neg = f->p[0] == '-';
                i++;
        }
        if (i == f->len)
                return -EBADMSG;
        long v = 0;
        for (; i < f->len; i++) {
                char c = f->p[i];
                if (c < '0' || c > '9')
                        return -EBADMSG;
                v = v * 10 + (c - '0');
                if (v > INT_MAX)
                        return -EBADMSG;
        }
        *ret = (int)(neg ? -v : v);
        return 0;
}

int at_field_hex(const struct at_field *f, long *ret)
{
        if (f->len == 0)
                return -ENODATA;
        if (f->len > 8)
                return -EBADMSG;
        long v = 0;
        for (size_t i = 0; i < f->len; i++) {
                char c = f->p[i];
                int d;
                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        return -EBADMSG;
                v = v * 16 + d;
        }
        *ret = v;
        return 0;
}

int at_field_str(const struct at_field *f, char *buf, size_t size)
{
        if (f->len >= size)
                return -ENOBUFS;
        memcpy(buf, f->p, f->len);
        buf[f->len] = '\0';
        return 0;
}

static int parse_num(const char **s, const char *end, int *ret)
{
        const char *p = *s;
        while (p < end && is_blank(*p))
                p++;
        long v = 0;
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9') {
                v = v * 10 + (*p - '0');
                if (v > INT_MAX)
                        return -EBADMSG;
                p++;
        }
        if (p == start)
                return -EBADMSG;
        while (p < end && is_blank(*p))
                p++;
        *s = p;
        *ret = (int)v;
        return 0;
}

int at_field_ranges(const struct at_field *f, struct at_ranges *ret)
{
        struct at_ranges rs = { .n = 0 };
        const char *s = f->p, *end = f->p + f->len;
        while (s < end && is_blank(*s))
                s++;
        while (s < end) {
                int lo, hi;
                if (parse_num(&s, end, &lo) < 0)
                        return -EBADMSG;
                hi = lo;
                if (s < end && *s == '-') {
                        s++;
                        if (parse_num(&s, end, &hi) < 0 || hi < lo)
                                return -EBADMSG;
                }
                if (rs.n >= AT_PARSE_RANGES_MAX)
                        return -ENOBUFS;
                rs.r[rs.n++] = (struct at_range){ lo, hi };
                if (s < end) {
                        if (*s != ',')
                                return -EBADMSG;
                        s++;
                }
        }
        *ret = rs;
        return 0;
}

int at_field_bits(const struct at_field *f, uint32_t *ret)
{
        struct at_ranges rs;
        int r = at_field_ranges(f, &rs);
        if (r < 0)
                return r;
        uint32_t bits = 0;
        for (size_t i = 0; i < rs.n; i++)
                for (int v = rs.r[i].lo; v <= rs.r[i].hi && v < 32; v++)
                        bits |= UINT32_C(1) << v;
        *ret = bits;
        return 0;
}

bool at_field_is(const struct at_field *f, const char *word)
{
        return strlen(word) == f->len && strncasecmp(f->p, word, f->len) == 0;
}

bool at_ranges_contain(const struct at_ranges *rs, int v)
{
        for (size_t i = 0; rs && i < rs->n; i++)
                if (v >= rs->r[i].lo && v <= rs->r[i].hi)
                        return true;
        return false;
}
