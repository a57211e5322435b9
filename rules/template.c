/* rules/template: {placeholder} templates: walk, render, worst-case cost. */
#include <errno.h>
#include <string.h>

#include "at/pdu.h"
#include "rules/template.h"

/* A character outside the GSM 7-bit default alphabet and its extension (TS 23.038 6.2.1),
 * as UTF-8: LATIN SMALL LETTER S WITH ACUTE. */
#define UCS2_FILLER     "\xc5\x9b"
#define UCS2_FILLER_LEN 2

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* A placeholder: its name and its fallback text (fallback NULL: none). */
struct placeholder {
        const char *name;
        size_t name_len;
        const char *fallback;
        size_t fallback_len;
};

/* The template's pieces: literal text (ph NULL) and placeholders, in order. */
typedef int (*piece_fn)(void *userdata, const char *lit, size_t lit_len,
                        const struct placeholder *ph, size_t offset);

/* The fallback after "{name|": up to the closing brace; no '{' inside, at most
 * RULES_TEMPLATE_FALLBACK_MAX bytes. Returns the index of the '}', or 0 when bad with
 * *ret_bad at a stray '{' (else left alone: the placeholder's own '{' is to blame, for a
 * fallback never closed or too long). */
static size_t fallback_end(const char *tmpl, size_t start, size_t *ret_bad)
{
        size_t i = start;

        while (tmpl[i] && tmpl[i] != '{' && tmpl[i] != '}' &&
               i - start <= RULES_TEMPLATE_FALLBACK_MAX)
                i++;
        if (tmpl[i] == '{')
                *ret_bad = i;
        if (tmpl[i] != '}' || i - start > RULES_TEMPLATE_FALLBACK_MAX)
                return 0;
        return i;
}

static int split(const char *tmpl, piece_fn piece, void *userdata, size_t *ret_error_offset)
{
        size_t i = 0, lit = 0;
        int r;

        while (tmpl[i]) {
                if ((tmpl[i] == '{' && tmpl[i + 1] == '{') ||
                    (tmpl[i] == '}' && tmpl[i + 1] == '}')) {
                        /* literal brace: flush up to and including one of the pair */
                        r = piece(userdata, tmpl + lit, i + 1 - lit, NULL, lit);
                        if (r < 0)
                                return r;
                        i += 2;
                        lit = i;
                        continue;
                }
                if (tmpl[i] == '}')
                        goto bad;
                if (tmpl[i] != '{') {
                        i++;
                        continue;
                }
                size_t start = i + 1, end = start, close;
                struct placeholder ph = { 0 };

                while (name_char(tmpl[end]) && end - start < RULES_TEMPLATE_NAME_MAX)
                        end++;
                if (end == start || (tmpl[end] != '}' && tmpl[end] != '|')) {
                        i = end == start ? i : end;
                        goto bad;
                }
                close = end;
                if (tmpl[end] == '|') {
                        close = fallback_end(tmpl, end + 1, &i);
                        if (!close)
                                goto bad;
                        ph.fallback = tmpl + end + 1;
                        ph.fallback_len = close - end - 1;
                }
                ph.name = tmpl + start;
                ph.name_len = end - start;
                if (i > lit) {
                        r = piece(userdata, tmpl + lit, i - lit, NULL, lit);
                        if (r < 0)
                                return r;
                }
                r = piece(userdata, NULL, 0, &ph, i);
                if (r < 0)
                        return r;
                i = close + 1;
                lit = i;
        }
        if (i > lit)
                return piece(userdata, tmpl + lit, i - lit, NULL, lit);
        return 0;
bad:
        if (ret_error_offset)
                *ret_error_offset = i;
        return -EBADMSG;
}

struct walk_ctx {
        rules_template_visit_fn visit;
        void *userdata;
};

static int walk_piece(void *userdata, const char *lit, size_t lit_len, const struct placeholder *ph,
                      size_t offset)
{
        struct walk_ctx *w = userdata;

        (void)lit;
        (void)lit_len;
        return ph ? w->visit(w->userdata, ph->name, ph->name_len, offset, ph->fallback,
                             ph->fallback_len)
                  : 0;
}

int rules_template_walk(const char *tmpl, rules_template_visit_fn visit, void *userdata,
                        size_t *ret_error_offset)
{
        struct walk_ctx w = { visit, userdata };

        if (!tmpl || !visit)
                return -EINVAL;
        return split(tmpl, walk_piece, &w, ret_error_offset);
}

struct render_ctx {
        rules_template_lookup_fn lookup;
        void *userdata;
        const char *missing;
        char *out;
        size_t size, len;
};

static int append(struct render_ctx *c, const char *s, size_t n)
{
        if (n >= c->size - c->len)
                return -ENOBUFS;
        memcpy(c->out + c->len, s, n);
        c->len += n;
        c->out[c->len] = '\0';
        return 0;
}

static int render_piece(void *userdata, const char *lit, size_t lit_len,
                        const struct placeholder *ph, size_t offset)
{
        struct render_ctx *c = userdata;
        const char *v;
        size_t vlen;
        int r;

        (void)offset;
        if (!ph)
                return append(c, lit, lit_len);
        r = c->lookup(c->userdata, ph->name, ph->name_len, &v, &vlen);
        if (r == -ENOENT && ph->fallback)
                return append(c, ph->fallback, ph->fallback_len);
        if (r == -ENOENT && c->missing)
                return append(c, c->missing, strlen(c->missing));
        if (r < 0)
                return r;
        return append(c, v, vlen);
}

int rules_template_render(const char *tmpl, rules_template_lookup_fn lookup, void *userdata,
                          const char *missing, char *out, size_t size)
{
        struct render_ctx c = { lookup, userdata, missing, out, size, 0 };
        int r;

        if (!tmpl || !lookup || !out || size == 0)
                return -EINVAL;
        out[0] = '\0';
        r = split(tmpl, render_piece, &c, NULL);
        if (r < 0) {
                out[0] = '\0';
                return r;
        }
        return (int)c.len;
}

struct cost_ctx {
        rules_template_width_fn width;
        void *userdata;
        char buf[RULES_TEMPLATE_WORST_MAX + 1];
        size_t len;
};

static int cost_append(struct cost_ctx *c, const char *s, size_t n)
{
        if (n > RULES_TEMPLATE_WORST_MAX - c->len)
                return -E2BIG;
        memcpy(c->buf + c->len, s, n);
        c->len += n;
        return 0;
}

static unsigned count_code_points(const char *s, size_t len);

static int cost_piece(void *userdata, const char *lit, size_t lit_len, const struct placeholder *ph,
                      size_t offset)
{
        struct cost_ctx *c = userdata;
        unsigned width = 0, have = 0;
        bool unicode = false;
        int r;

        (void)offset;
        if (!ph)
                return cost_append(c, lit, lit_len);
        r = c->width(c->userdata, ph->name, ph->name_len, &width, &unicode);
        if (r < 0)
                return r;
        if (ph->fallback) {
                /* Fallback then padding up to the value's width: never less than either,
                 * whatever the fallback's characters cost (UCS-2, GSM escapes). */
                r = cost_append(c, ph->fallback, ph->fallback_len);
                if (r < 0)
                        return r;
                have = count_code_points(ph->fallback, ph->fallback_len);
        }
        for (unsigned i = have; i < width; i++) {
                r = unicode ? cost_append(c, UCS2_FILLER, UCS2_FILLER_LEN) : cost_append(c, "x", 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static unsigned count_code_points(const char *s, size_t len)
{
        unsigned n = 0;

        for (size_t i = 0; i < len; i++)
                if (((unsigned char)s[i] & 0xC0) != 0x80)
                        n++;
        return n;
}

int rules_template_cost(const char *tmpl, rules_template_width_fn width_fn, void *userdata,
                        bool translit, struct rules_template_cost *ret_cost)
{
        static _Thread_local struct cost_ctx c;
        struct sms_text_info info;
        int r;

        if (!tmpl || !width_fn || !ret_cost)
                return -EINVAL;
        c.width = width_fn;
        c.userdata = userdata;
        c.len = 0;
        r = split(tmpl, cost_piece, &c, NULL);
        if (r < 0)
                return r;
        c.buf[c.len] = '\0';
        r = sms_text_analyze(c.buf, translit, &info);
        if (r < 0)
                return -EBADMSG;
        ret_cost->chars = count_code_points(c.buf, c.len);
        ret_cost->parts = (unsigned)info.parts;
        ret_cost->ucs2 = info.charset == SMS_CHARSET_UCS2;
        return 0;
}
