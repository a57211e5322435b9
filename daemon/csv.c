/* daemon/csv: RFC 4180 records, strictly. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/csv.h"

struct reader {
        char *buf; /* the current record's fields, NUL-separated */
        size_t used;
        const char *fields[CSV_FIELDS_MAX];
        size_t n;
        size_t field_start;
};

static int fail(struct csv_error *e, unsigned line, unsigned col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(struct csv_error *e, unsigned line, unsigned col, const char *fmt, ...)
{
        va_list ap;

        if (e) {
                e->line = line;
                e->column = col;
                va_start(ap, fmt);
                vsnprintf(e->what, sizeof(e->what), fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

/* Bytes of the UTF-8 sequence at p (up to end), or 0 when invalid (RFC 3629). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
        size_t n;
        uint32_t c;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, c = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, c = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, c = p[0] & 0x07;
        else
                return 0;
        if ((size_t)(end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3f);
        }
        if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
            (n == 4 && (c < 0x10000 || c > 0x10ffff)))
                return 0;
        return n;
}

static int put(struct reader *r, const char *s, size_t n)
{
        if (r->used - r->field_start + n > CSV_FIELD_MAX)
                return -E2BIG;
        memcpy(r->buf + r->used, s, n);
        r->used += n;
        return 0;
}

static int end_field(struct reader *r)
{
        if (r->n >= CSV_FIELDS_MAX)
                return -E2BIG;
        r->buf[r->used++] = '\0';
        r->fields[r->n++] = r->buf + r->field_start; /* fixed up at end of record */
        r->field_start = r->used;
        return 0;
}

int csv_parse(const char *buf, size_t len, csv_row_fn fn, void *userdata,
              struct csv_error *ret_error)
{
        const unsigned char *p = (const unsigned char *)buf, *end;
        struct reader r = { 0 };
        unsigned line = 1, col = 1, rec_line = 1;
        int ret = 0;

        if (!buf && len)
                return -EINVAL;
        if (len == 0)
                return 0; /* no record; buf may be NULL, and NULL + 0 is undefined in C */
        end = p + len;
        r.buf = malloc(CSV_FIELDS_MAX * (CSV_FIELD_MAX + 1));
        if (!r.buf)
                return -ENOMEM;
        if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        while (p < end && ret == 0) {
                rec_line = line;
                r.used = r.n = r.field_start = 0;
                /* A blank line is no record. */
                if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
                        p += *p == '\r' ? 2 : 1;
                        line++;
                        col = 1;
                        continue;
                }
                for (;;) { /* fields of one record */
                        if (r.n >= CSV_FIELDS_MAX) {
                                ret = fail(ret_error, line, col, "more than %d fields",
                                           CSV_FIELDS_MAX);
                                goto out;
                        }
                        bool quoted = p < end && *p == '"';
                        unsigned qline = line, qcol = col;
                        if (quoted)
                                p++, col++;
                        for (;;) { /* bytes of one field */
                                size_t n;

                                if (p >= end) {
                                        if (quoted) {
                                                ret = fail(ret_error, qline, qcol,
                                                           "quote opened here is never closed");
                                                goto out;
                                        }
                                        break;
                                }
                                if (*p == '\0') {
                                        ret = fail(ret_error, line, col, "NUL byte");
                                        goto out;
                                }
                                if (quoted && *p == '"') {
                                        if (p + 1 < end && p[1] == '"') {
                                                if (put(&r, "\"", 1) < 0)
                                                        goto too_long;
                                                p += 2, col += 2;
                                                continue;
                                        }
                                        p++, col++;
                                        if (p < end && *p != ',' && *p != '\n' &&
                                            !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
                                                ret = fail(ret_error, line, col,
                                                           "text after a closing quote "
                                                           "(expected a comma or the line's end)");
                                                goto out;
                                        }
                                        break;
                                }
                                if (!quoted && (*p == ',' || *p == '\n' ||
                                                (*p == '\r' && p + 1 < end && p[1] == '\n')))
                                        break;
                                if (!quoted && *p == '"') {
                                        ret = fail(ret_error, line, col,
                                                   "quote inside an unquoted field (quote the "
                                                   "whole field and double the quote)");
                                        goto out;
                                }
                                n = utf8_len(p, end);
                                if (n == 0) {
                                        ret = fail(ret_error, line, col, "invalid UTF-8");
                                        goto out;
                                }
                                if (put(&r, (const char *)p, n) < 0)
                                        goto too_long;
                                if (*p == '\n')
                                        line++, col = 1;
                                else
                                        col++;
                                p += n;
                        }
                        if (end_field(&r) < 0) {
                                ret = fail(ret_error, line, col, "more than %d fields",
                                           CSV_FIELDS_MAX);
                                goto out;
                        }
                        if (p < end && *p == ',') {
                                p++, col++;
                                continue;
                        }
                        break;
                }
                if (p < end)
                        p += *p == '\r' ? 2 : 1; /* the record's CRLF or LF */
                line++;
                col = 1;
                ret = fn(userdata, rec_line, r.fields, r.n);
        }
        goto out;
too_long:
        ret = fail(ret_error, line, col, "field longer than %d bytes", CSV_FIELD_MAX);
out:
        free(r.buf);
        return ret;
}

int csv_quote(const char *field, char *out, size_t size)
{
        /* Also quoted: edge spaces (spreadsheets trim them) and a leading U+FEFF, which
         * at the start of a file would be taken for the byte order mark. */
        bool q = strpbrk(field, ",\"\r\n") != NULL || field[0] == ' ' ||
                 (*field && field[strlen(field) - 1] == ' ') ||
                 strncmp(field, "\xef\xbb\xbf", 3) == 0;
        size_t n = 0;

        if (size == 0)
                return -ENOBUFS;
        if (q)
                out[n++] = '"';
        for (const char *s = field; *s; s++) {
                if (n + 3 >= size)
                        return -ENOBUFS;
                if (*s == '"')
                        out[n++] = '"';
                out[n++] = *s;
        }
        if (q) {
                if (n + 2 > size)
                        return -ENOBUFS;
                out[n++] = '"';
        }
        if (n + 1 > size)
                return -ENOBUFS;
        out[n] = '\0';
        return (int)n;
}
