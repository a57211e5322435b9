/* The configuration file's line index: a tolerant tokenizer and a walk over the tokens that
 * records where each key and section is. See config-scan.h. */
#include "daemon/config-scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_type {
        TOK_WORD,
        TOK_STRING,
        TOK_EQUAL, /* = and += */
        TOK_OPEN,
        TOK_CLOSE,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_COMMA,
};

struct tok {
        enum tok_type type;
        unsigned line;
        char text[CONFIG_SCAN_TITLE_MAX];
};

struct toks {
        struct tok *t;
        size_t n, cap;
};

struct lexer {
        const char *p, *end;
        unsigned line;
};

static int push_tok(struct toks *v, enum tok_type type, unsigned line, const char *text, size_t n)
{
        struct tok *t;

        if (v->n == v->cap) {
                size_t cap = v->cap ? v->cap * 2 : 64;
                struct tok *nt = realloc(v->t, cap * sizeof(*nt));
                if (!nt)
                        return -ENOMEM;
                v->t = nt;
                v->cap = cap;
        }
        t = &v->t[v->n++];
        t->type = type;
        t->line = line;
        if (n >= sizeof(t->text))
                n = sizeof(t->text) - 1;
        memcpy(t->text, text, n);
        t->text[n] = '\0';
        return 0;
}

static void skip_space_and_comments(struct lexer *lx)
{
        while (lx->p < lx->end) {
                char c = *lx->p;
                if (c == '\n') {
                        lx->line++;
                        lx->p++;
                } else if (c == ' ' || c == '\t' || c == '\r') {
                        lx->p++;
                } else if (c == '#' || (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
                        lx->p += 2;
                        while (lx->p < lx->end &&
                               !(*lx->p == '*' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
                                if (*lx->p == '\n')
                                        lx->line++;
                                lx->p++;
                        }
                        lx->p = lx->p + 2 <= lx->end ? lx->p + 2 : lx->end;
                } else {
                        return;
                }
        }
}

/* A quoted string, unescaped enough for titles (\" \' \\ keep the second character). */
static int lex_string(struct lexer *lx, struct toks *v)
{
        char quote = *lx->p++, buf[CONFIG_SCAN_TITLE_MAX];
        unsigned line = lx->line;
        size_t n = 0;

        while (lx->p < lx->end && *lx->p != quote) {
                char c = *lx->p++;
                if (c == '\\' && lx->p < lx->end)
                        c = *lx->p++;
                if (c == '\n')
                        lx->line++;
                if (n < sizeof(buf) - 1)
                        buf[n++] = c;
        }
        if (lx->p < lx->end)
                lx->p++;
        return push_tok(v, TOK_STRING, line, buf, n);
}

static bool is_word_char(char c)
{
        return !strchr(" \t\r\n\"'{}()=,#", c) && c != '\0';
}

static int tokenize(const char *text, size_t len, struct toks *v)
{
        struct lexer lx = { .p = text, .end = text + len, .line = 1 };
        int r = 0;

        for (skip_space_and_comments(&lx); r == 0 && lx.p < lx.end; skip_space_and_comments(&lx)) {
                const char *start = lx.p;
                switch (*lx.p) {
                case '"':
                case '\'':
                        r = lex_string(&lx, v);
                        continue;
                case '=':
                        r = push_tok(v, TOK_EQUAL, lx.line, "=", 1);
                        break;
                case '{':
                        r = push_tok(v, TOK_OPEN, lx.line, "{", 1);
                        break;
                case '}':
                        r = push_tok(v, TOK_CLOSE, lx.line, "}", 1);
                        break;
                case '(':
                        r = push_tok(v, TOK_LPAREN, lx.line, "(", 1);
                        break;
                case ')':
                        r = push_tok(v, TOK_RPAREN, lx.line, ")", 1);
                        break;
                case ',':
                        r = push_tok(v, TOK_COMMA, lx.line, ",", 1);
                        break;
                case '+':
                        if (lx.p + 1 < lx.end && lx.p[1] == '=') {
                                r = push_tok(v, TOK_EQUAL, lx.line, "+=", 2);
                                lx.p += 2;
                                continue;
                        }
                        /* fall through: a word starting with '+' (a phone number) */
                default:
                        while (lx.p < lx.end && is_word_char(*lx.p) &&
                               !(*lx.p == '+' && lx.p + 1 < lx.end && lx.p[1] == '='))
                                lx.p++;
                        if (lx.p == start)
                                lx.p++; /* a NUL byte: skip it */
                        else
                                r = push_tok(v, TOK_WORD, lx.line, start, (size_t)(lx.p - start));
                        continue;
                }
                lx.p++;
        }
        return r;
}

static int add_entry(struct config_scan *s, unsigned depth, bool is_section, bool titled,
                     const char *section, const char *title, const char *key, unsigned line)
{
        struct config_scan_entry *e;

        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 32;
                struct config_scan_entry *ne = realloc(s->e, cap * sizeof(*ne));
                if (!ne)
                        return -ENOMEM;
                s->e = ne;
                s->cap = cap;
        }
        e = &s->e[s->n++];
        e->depth = depth;
        e->is_section = is_section;
        e->titled = titled;
        e->stray = false;
        e->line = line;
        snprintf(e->section, sizeof(e->section), "%s", section);
        snprintf(e->title, sizeof(e->title), "%s", title);
        snprintf(e->key, sizeof(e->key), "%s", key);
        return 0;
}

static bool is_value(const struct tok *t)
{
        return t->type == TOK_WORD || t->type == TOK_STRING;
}

/* Skips a value after '=': a word, a string, a { list } or a function call. */
static size_t skip_value(const struct toks *v, size_t i)
{
        int nest = 0;

        if (i < v->n && is_value(&v->t[i]) && !(i + 1 < v->n && v->t[i + 1].type == TOK_LPAREN))
                return i + 1;
        do {
                if (i >= v->n)
                        return i;
                if (v->t[i].type == TOK_OPEN || v->t[i].type == TOK_LPAREN)
                        nest++;
                else if (v->t[i].type == TOK_CLOSE || v->t[i].type == TOK_RPAREN)
                        nest--;
                i++;
        } while (nest > 0);
        return i;
}

static int walk(const struct toks *v, struct config_scan *s)
{
        const char *top_name = "", *top_title = "";
        unsigned depth = 0, top_line = 0;
        size_t i = 0;
        int r = 0;

        while (r == 0 && i < v->n) {
                const struct tok *t = &v->t[i];
                const struct tok *n1 = i + 1 < v->n ? &v->t[i + 1] : NULL;
                const struct tok *n2 = i + 2 < v->n ? &v->t[i + 2] : NULL;
                const char *sec = depth ? top_name : "", *title = depth ? top_title : "";

                if (t->type == TOK_CLOSE) {
                        depth = depth ? depth - 1 : 0;
                        i++;
                } else if (t->type == TOK_WORD && n1 && n1->type == TOK_EQUAL) {
                        r = add_entry(s, depth, false, false, sec, title, t->text, t->line);
                        i = skip_value(v, i + 2);
                } else if (t->type == TOK_WORD && n1 && n1->type == TOK_OPEN) {
                        r = add_entry(s, depth, true, false, sec, depth ? title : "", t->text,
                                      t->line);
                        if (depth == 0)
                                top_name = t->text, top_title = "", top_line = t->line;
                        depth += depth < CONFIG_SCAN_DEPTH_MAX;
                        i += 2;
                } else if (t->type == TOK_WORD && n1 && is_value(n1) && n2 &&
                           n2->type == TOK_OPEN) {
                        r = add_entry(s, depth, true, true, sec, depth ? title : n1->text, t->text,
                                      t->line);
                        if (depth == 0)
                                top_name = t->text, top_title = n1->text, top_line = t->line;
                        depth += depth < CONFIG_SCAN_DEPTH_MAX;
                        i += 3;
                } else if (is_value(t)) {
                        /* "timeout = 10 minutes": the second word is where a key should be */
                        r = add_entry(s, depth, false, false, sec, title, t->text, t->line);
                        if (r == 0)
                                s->e[s->n - 1].stray = true;
                        i++;
                } else {
                        i++; /* stray punctuation: libconfuse will say so */
                }
        }
        s->unclosed_line = depth ? top_line : 0;
        return r;
}

int config_scan(const char *text, size_t len, struct config_scan *ret)
{
        struct config_scan s = { 0 };
        struct toks v = { 0 };
        int r = tokenize(text, len, &v);

        if (r == 0)
                r = walk(&v, &s);
        free(v.t);
        if (r < 0) {
                config_scan_free(&s);
                return r;
        }
        *ret = s;
        return 0;
}

void config_scan_free(struct config_scan *s)
{
        free(s->e);
        *s = (struct config_scan){ 0 };
}

unsigned config_scan_line(const struct config_scan *s, const char *section, const char *title,
                          const char *key)
{
        unsigned want_depth = *section ? 1 : 0;

        for (size_t i = s->n; i-- > 0;) {
                const struct config_scan_entry *e = &s->e[i];
                if (e->depth == want_depth && strcmp(e->key, key) == 0 &&
                    strcmp(e->section, section) == 0 && (!*section || strcmp(e->title, title) == 0))
                        return e->line;
        }
        return 0;
}

unsigned config_scan_key_before(const struct config_scan *s, const char *key, unsigned before)
{
        unsigned best = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->e[i].line <= before && strcmp(s->e[i].key, key) == 0)
                        best = s->e[i].line;
        return best;
}

unsigned config_scan_section_line(const struct config_scan *s, const char *name, const char *title,
                                  unsigned *ret_first)
{
        unsigned first = 0, last = 0;

        for (size_t i = 0; i < s->n; i++) {
                const struct config_scan_entry *e = &s->e[i];
                if (e->depth == 0 && e->is_section && strcmp(e->key, name) == 0 &&
                    strcmp(e->title, title) == 0) {
                        if (!first)
                                first = e->line;
                        last = e->line;
                }
        }
        if (ret_first)
                *ret_first = first;
        return last;
}
