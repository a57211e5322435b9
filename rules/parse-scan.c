/* rules/parse-scan: where each key, section and value of a rule file starts (libconfuse keeps
 * only the line of its look-ahead token, and no columns), and the schema check that uses it
 * to report every unknown key at once instead of libconfuse's first. */
#include <confuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse-internal.h"

enum tok_type {
        TOK_EOF,
        TOK_WORD, /* unquoted or quoted string */
        TOK_EQ,   /* = or += */
        TOK_LBRACE,
        TOK_RBRACE,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_COMMA,
        TOK_BAD, /* unterminated string or comment */
};

struct token {
        enum tok_type type;
        const char *text; /* WORD: its first byte (a quote for quoted strings) */
        size_t text_len;
        unsigned line, column;
};

struct lexer {
        const char *s;
        size_t len, pos, line_start;
        unsigned line;
        struct token last;               /* the last token read: where a syntax error is */
        unsigned open_line, open_column; /* an unterminated comment or string */
        const char *open_what;
        unsigned env_line, env_column; /* "${" inside double quotes */
};

static unsigned column_of(const struct lexer *l, size_t pos)
{
        unsigned col = 1;

        for (size_t i = l->line_start; i < pos; i++)
                if (((unsigned char)l->s[i] & 0xC0) != 0x80)
                        col++;
        return col;
}

static void newline(struct lexer *l, size_t pos_after)
{
        l->line++;
        l->line_start = pos_after;
}

/* Unquoted words in libconfuse end at blanks and at these. */
static bool word_end(char c)
{
        return c != '\0' && strchr(" \t\r\n#=,{}()\"'", c) != NULL; /* strchr finds NUL */
}

static void skip_blank(struct lexer *l)
{
        while (l->pos < l->len) {
                char c = l->s[l->pos];

                if (c == '\n') {
                        newline(l, ++l->pos);
                } else if (c == ' ' || c == '\t' || c == '\r') {
                        l->pos++;
                } else if (c == '#' ||
                           (c == '/' && l->pos + 1 < l->len && l->s[l->pos + 1] == '/')) {
                        while (l->pos < l->len && l->s[l->pos] != '\n')
                                l->pos++;
                } else if (c == '/' && l->pos + 1 < l->len && l->s[l->pos + 1] == '*') {
                        unsigned line = l->line, column = column_of(l, l->pos);

                        l->pos += 2;
                        while (l->pos < l->len && !(l->s[l->pos] == '*' && l->pos + 1 < l->len &&
                                                    l->s[l->pos + 1] == '/')) {
                                if (l->s[l->pos] == '\n')
                                        newline(l, l->pos + 1);
                                l->pos++;
                        }
                        if (l->pos + 2 > l->len && !l->open_what) {
                                l->open_what = "comment";
                                l->open_line = line;
                                l->open_column = column;
                        }
                        l->pos = l->pos + 2 > l->len ? l->len : l->pos + 2;
                } else {
                        return;
                }
        }
}

static struct token lex_token(struct lexer *l)
{
        struct token t = { 0 };

        skip_blank(l);
        t.line = l->line;
        t.column = column_of(l, l->pos);
        t.text = l->s + l->pos;
        if (l->pos >= l->len) {
                t.type = TOK_EOF;
                return t;
        }
        char c = l->s[l->pos];

        switch (c) {
        case '=':
                l->pos++;
                t.type = TOK_EQ;
                return t;
        case '+':
                if (l->pos + 1 < l->len && l->s[l->pos + 1] == '=') {
                        l->pos += 2;
                        t.type = TOK_EQ;
                        return t;
                }
                break;
        case '{':
        case '}':
        case '(':
        case ')':
        case ',':
                l->pos++;
                t.type = c == '{'   ? TOK_LBRACE
                         : c == '}' ? TOK_RBRACE
                         : c == '(' ? TOK_LPAREN
                         : c == ')' ? TOK_RPAREN
                                    : TOK_COMMA;
                return t;
        case '"':
        case '\'':
                l->pos++;
                while (l->pos < l->len && l->s[l->pos] != c) {
                        if (l->s[l->pos] == '\\' && l->pos + 1 < l->len)
                                l->pos++;
                        else if (c == '"' && l->s[l->pos] == '$' && l->pos + 1 < l->len &&
                                 l->s[l->pos + 1] == '{' && !l->env_line) {
                                l->env_line = l->line;
                                l->env_column = column_of(l, l->pos);
                        }
                        if (l->s[l->pos] == '\n')
                                newline(l, l->pos + 1);
                        l->pos++;
                }
                if (l->pos >= l->len) {
                        if (!l->open_what) {
                                l->open_what = "string";
                                l->open_line = t.line;
                                l->open_column = t.column;
                        }
                        t.type = TOK_BAD;
                        return t;
                }
                l->pos++;
                t.type = TOK_WORD;
                t.text_len = (size_t)(l->s + l->pos - t.text);
                return t;
        default:
                break;
        }
        while (l->pos < l->len && !word_end(l->s[l->pos]) &&
               !(l->s[l->pos] == '+' && l->pos + 1 < l->len && l->s[l->pos + 1] == '='))
                l->pos++;
        t.type = TOK_WORD;
        t.text_len = (size_t)(l->s + l->pos - t.text);
        return t;
}

static struct token next_token(struct lexer *l)
{
        l->last = lex_token(l);
        return l->last;
}

static size_t append_str(char *out, size_t size, size_t n, const char *s)
{
        while (*s && n + 1 < size)
                out[n++] = *s++;
        out[n] = '\0';
        return n;
}

void scan_path_join(char *out, size_t size, const char *parent, const char *key, const char *title)
{
        size_t n = 0;

        if (!size)
                return;
        out[0] = '\0';
        /* out may be parent itself (appending in place) */
        if (out != parent)
                n = append_str(out, size, 0, parent);
        else
                n = strlen(out);
        if (*parent)
                n = append_str(out, size, n, "/");
        n = append_str(out, size, n, key);
        if (title && *title) {
                n = append_str(out, size, n, ":");
                append_str(out, size, n, title);
        }
}

static int add(struct scan *s, enum scan_kind kind, const char *path, const struct token *key,
               const struct token *title, unsigned index, const struct token *at)
{
        struct scan_entry *e;

        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                void *p = realloc(s->e, cap * sizeof(*s->e));

                if (!p)
                        return -ENOMEM;
                s->e = p;
                s->cap = cap;
        }
        e = &s->e[s->n++];
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        snprintf(e->path, sizeof(e->path), "%s", path);
        snprintf(e->key, sizeof(e->key), "%.*s", (int)key->text_len, key->text);
        if (title) {
                const char *t = title->text;
                size_t n = title->text_len;

                if (n >= 2 && (t[0] == '"' || t[0] == '\'')) {
                        t++;
                        n -= 2;
                }
                snprintf(e->title, sizeof(e->title), "%.*s", (int)n, t);
        }
        e->index = index;
        e->line = at->line;
        e->column = at->column;
        return 0;
}

/* FNV-1a over the fields that identify an entry. */
static uint64_t entry_hash(enum scan_kind kind, const char *path, const char *key,
                           const char *title, unsigned index)
{
        uint64_t h = 1469598103934665603ULL;
        const char *parts[] = { path, key, title };

        h = (h ^ (uint64_t)kind) * 1099511628211ULL;
        h = (h ^ (uint64_t)index) * 1099511628211ULL;
        for (size_t i = 0; i < 3; i++) {
                for (const char *p = parts[i]; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
                h = (h ^ 0xff) * 1099511628211ULL; /* "ab","c" differs from "a","bc" */
        }
        return h;
}

static bool entry_is(const struct scan_entry *e, enum scan_kind kind, const char *path,
                     const char *key, const char *title, unsigned index)
{
        return e->kind == kind && e->index == index && strcmp(e->key, key) == 0 &&
               strcmp(e->path, path) == 0 && strcmp(e->title, title) == 0;
}

/* The first entry like this one, or NULL. */
static const struct scan_entry *scan_find(const struct scan *s, enum scan_kind kind,
                                          const char *path, const char *key, const char *title,
                                          unsigned index)
{
        size_t mask = s->index_size - 1;

        if (!s->index_size)
                return NULL;
        for (size_t i = entry_hash(kind, path, key, title, index) & mask;; i = (i + 1) & mask) {
                int32_t k = s->index[i];

                if (k < 0)
                        return NULL;
                if (entry_is(&s->e[k], kind, path, key, title, index))
                        return &s->e[k];
        }
}

static int build_index(struct scan *s)
{
        size_t size = 16;

        while (size < 2 * s->n)
                size *= 2;
        s->index = malloc(size * sizeof(*s->index));
        if (!s->index)
                return -ENOMEM;
        memset(s->index, 0xff, size * sizeof(*s->index));
        s->index_size = size;
        for (size_t n = 0; n < s->n; n++) {
                const struct scan_entry *e = &s->e[n];
                size_t i = entry_hash(e->kind, e->path, e->key, e->title, e->index) & (size - 1);

                for (; s->index[i] >= 0; i = (i + 1) & (size - 1))
                        if (entry_is(&s->e[s->index[i]], e->kind, e->path, e->key, e->title,
                                     e->index))
                                break; /* keep the first */
                if (s->index[i] < 0)
                        s->index[i] = (int32_t)n;
        }
        return 0;
}

int scan_file(const char *text, size_t len, struct scan *ret)
{
        struct lexer l = { .s = text, .len = len, .line = 1 };
        char stack[PARSE_DEPTH_MAX + 1][PARSE_PATH_MAX];
        size_t opened[PARSE_DEPTH_MAX + 1]; /* the section entry of each depth */
        unsigned depth = 0;
        struct scan s = { 0 };
        int r = 0;

        stack[0][0] = '\0';
        for (;;) {
                struct token k = next_token(&l), t2, t3;

                if (k.type == TOK_RBRACE && depth > 0) {
                        depth--;
                        continue;
                }
                if (k.type != TOK_WORD)
                        break;
                t2 = next_token(&l);
                if (t2.type == TOK_EQ) {
                        r = add(&s, SCAN_KEY, stack[depth], &k, NULL, 0, &k);
                        if (r < 0)
                                break;
                        t3 = next_token(&l);
                        if (t3.type == TOK_WORD) {
                                r = add(&s, SCAN_VALUE, stack[depth], &k, NULL, 0, &t3);
                                if (r < 0)
                                        break;
                                continue;
                        }
                        if (t3.type != TOK_LBRACE)
                                break;
                        unsigned idx = 0;
                        struct token v;

                        while ((v = next_token(&l)).type == TOK_WORD || v.type == TOK_COMMA) {
                                if (v.type == TOK_WORD && (r = add(&s, SCAN_VALUE, stack[depth], &k,
                                                                   NULL, idx++, &v)) < 0)
                                        break;
                        }
                        if (r < 0 || v.type != TOK_RBRACE)
                                break;
                        continue;
                }
                if (t2.type == TOK_LPAREN) { /* a function call: include() is not offered */
                        while ((t3 = next_token(&l)).type != TOK_RPAREN && t3.type != TOK_EOF &&
                               t3.type != TOK_BAD)
                                ;
                        continue;
                }
                const struct token *title = NULL;

                if (t2.type == TOK_WORD) {
                        title = &t2;
                        t3 = next_token(&l);
                } else {
                        t3 = t2;
                }
                if (t3.type != TOK_LBRACE || depth >= PARSE_DEPTH_MAX)
                        break;
                r = add(&s, SCAN_SECTION, stack[depth], &k, title, 0, &k);
                if (r < 0)
                        break;
                scan_path_join(stack[depth + 1], PARSE_PATH_MAX, stack[depth], s.e[s.n - 1].key,
                               s.e[s.n - 1].title);
                opened[++depth] = s.n - 1;
        }
        if (r == 0)
                r = build_index(&s);
        if (r < 0) {
                scan_free(&s);
                return r;
        }
        if (l.last.type != TOK_EOF) {
                s.stop_line = l.last.line;
                s.stop_column = l.last.column;
        } else if (depth > 0) {
                s.unclosed = opened[depth] + 1;
        }
        s.env_line = l.env_line;
        s.env_column = l.env_column;
        s.open_what = l.open_what;
        s.open_line = l.open_line;
        s.open_column = l.open_column;
        *ret = s;
        return 0;
}

void scan_free(struct scan *s)
{
        free(s->e);
        free(s->index);
        s->e = NULL;
        s->index = NULL;
        s->n = s->cap = s->index_size = 0;
}

/* The section whose own path is `path` ("reminder:semana/variant:control"). */
static const struct scan_entry *find_section(const struct scan *s, const char *path)
{
        char parent[PARSE_PATH_MAX], key[PARSE_KEY_MAX], title[PARSE_KEY_MAX];
        const char *slash = strrchr(path, '/'), *last = slash ? slash + 1 : path;
        const char *colon = strchr(last, ':');
        size_t plen = slash ? (size_t)(slash - path) : 0;
        size_t klen = colon ? (size_t)(colon - last) : strlen(last);

        if (plen >= sizeof(parent) || klen >= sizeof(key) ||
            (colon && strlen(colon + 1) >= sizeof(title)))
                return NULL;
        memcpy(parent, path, plen);
        parent[plen] = '\0';
        memcpy(key, last, klen);
        key[klen] = '\0';
        snprintf(title, sizeof(title), "%s", colon ? colon + 1 : "");
        return scan_find(s, SCAN_SECTION, parent, key, title, 0);
}

struct rules_loc parse_loc(struct parse_ctx *x, const char *path, const char *key, int index)
{
        struct rules_loc loc = { .file = x->file ? x->file->name : NULL };
        const struct scan *s = x->file ? &x->file->scan : NULL;
        const struct scan_entry *hit = NULL;

        if (!s)
                return loc;
        if (key) {
                enum scan_kind kind = index >= 0 ? SCAN_VALUE : SCAN_KEY;

                hit = scan_find(s, kind, path, key, "", index >= 0 ? (unsigned)index : 0);
                if (!hit && index >= 0)
                        return parse_loc(x, path, key, -1);
        }
        if (!hit && *path)
                hit = find_section(s, path);
        if (hit) {
                loc.line = hit->line;
                loc.column = hit->column;
        }
        return loc;
}

/* ---- the schema check ------------------------------------------------------------------ */

extern cfg_opt_t parse_root_opts[];

static cfg_opt_t *opt_find(cfg_opt_t *opts, const char *name, size_t name_len)
{
        for (; opts && opts->name; opts++)
                if (strlen(opts->name) == name_len && strncmp(opts->name, name, name_len) == 0)
                        return opts;
        return NULL;
}

/* The options of the section at `path`, or NULL (unknown: already reported). */
static cfg_opt_t *opts_at(const char *path)
{
        cfg_opt_t *opts = parse_root_opts;
        const char *p = path;

        while (*p) {
                const char *slash = strchr(p, '/');
                size_t seg = slash ? (size_t)(slash - p) : strlen(p);
                const char *colon = memchr(p, ':', seg);
                cfg_opt_t *o = opt_find(opts, p, colon ? (size_t)(colon - p) : seg);

                if (!o || o->type != CFGT_SEC)
                        return NULL;
                opts = o->subopts;
                p += seg;
                if (*p == '/')
                        p++;
        }
        return opts;
}

static void expected_list(cfg_opt_t *opts, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        for (; opts && opts->name && n < size; opts++) {
                if (strncmp(opts->name, "__", 2) == 0)
                        continue;
                n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", opts->name);
        }
}

static const char *section_word(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

unsigned parse_check_schema(struct parse_ctx *x, struct parse_file *f)
{
        unsigned errors = 0;
        char expected[512], where[PARSE_KEY_MAX + 16];

        /* libconfuse takes the end of the file for the missing braces: a section that
         * swallowed the rest of the file would load as something else entirely */
        /* libconfuse also takes the end of the file for a closing quote or comment end */
        if (f->scan.open_what) {
                struct rules_loc loc = { f->name, f->scan.open_line, f->scan.open_column };

                parse_error_at(x, &loc, "%s not closed; expected %s before the end of the file",
                               f->scan.open_what,
                               strcmp(f->scan.open_what, "comment") == 0 ? "*/" : "its quote");
                return errors + 1;
        }
        /* libconfuse replaces ${NAME} in double quotes by the environment: the rules would
         * then depend on more than their bytes (and their hash) */
        if (f->scan.env_line) {
                struct rules_loc loc = { f->name, f->scan.env_line, f->scan.env_column };

                parse_error_at(x, &loc,
                               "'${' in double quotes would be replaced by an "
                               "environment variable; expected single quotes "
                               "'...' around this text");
                errors++;
        }
        if (f->scan.unclosed) {
                const struct scan_entry *e = &f->scan.e[f->scan.unclosed - 1];
                struct rules_loc loc = { f->name, e->line, e->column };

                parse_error_at(x, &loc,
                               "section '%s%s%s' is not closed; expected '}' before "
                               "the end of the file",
                               e->key, *e->title ? " " : "", e->title);
                errors++;
        }

        for (size_t i = 0; i < f->scan.n; i++) {
                const struct scan_entry *e = &f->scan.e[i];
                cfg_opt_t *opts, *o;
                struct rules_loc loc = { f->name, e->line, e->column };

                if (e->kind == SCAN_VALUE)
                        continue;
                opts = opts_at(e->path);
                if (!opts)
                        continue; /* inside an unknown section */
                o = opt_find(opts, e->key, strlen(e->key));
                if (*e->path) {
                        const char *w = section_word(e->path);
                        const char *colon = strchr(w, ':');

                        snprintf(where, sizeof(where), " in %.*s",
                                 (int)(colon ? (size_t)(colon - w) : strlen(w)), w);
                } else {
                        where[0] = '\0';
                }
                if (!o) {
                        expected_list(opts, expected, sizeof(expected));
                        parse_error_at(x, &loc, "unknown %s '%s'%s; expected one of: %s",
                                       e->kind == SCAN_SECTION ? "section" : "key", e->key, where,
                                       expected);
                        errors++;
                        continue;
                }
                if (e->kind == SCAN_KEY && o->type == CFGT_SEC) {
                        parse_error_at(x, &loc, "'%s' is a section; expected %s%s { ... }", e->key,
                                       e->key, (o->flags & CFGF_TITLE) ? " NAME" : "");
                        errors++;
                        continue;
                }
                if (e->kind == SCAN_SECTION && o->type != CFGT_SEC) {
                        parse_error_at(x, &loc, "'%s' is a key; expected %s = %s", e->key, e->key,
                                       (o->flags & CFGF_LIST) ? "{ ... }" : "VALUE");
                        errors++;
                        continue;
                }
                if (e->kind == SCAN_SECTION && !!(o->flags & CFGF_TITLE) != !!*e->title) {
                        if (*e->title)
                                parse_error_at(x, &loc,
                                               "section '%s' takes no name; expected %s { ... }",
                                               e->key, e->key);
                        else
                                parse_error_at(
                                        x, &loc,
                                        "section '%s' needs a name; expected %s NAME { ... }",
                                        e->key, e->key);
                        errors++;
                        continue;
                }
                /* the same key or section twice in one section: an editing slip */
                const struct scan_entry *p =
                        scan_find(&f->scan, e->kind, e->path, e->key, e->title, e->index);

                if (!p || p == e)
                        continue;
                if (e->kind == SCAN_SECTION && *e->title)
                        parse_error_at(x, &loc, "duplicate %s '%s' (first at line %u)", e->key,
                                       e->title, p->line);
                else if (e->kind == SCAN_SECTION)
                        parse_error_at(x, &loc, "section '%s' given twice (first at line %u)",
                                       e->key, p->line);
                else
                        parse_error_at(x, &loc, "'%s' given twice (first at line %u)", e->key,
                                       p->line);
                errors++;
        }
        return errors;
}
