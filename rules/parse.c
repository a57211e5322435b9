/* rules/parse: the driver. Scan and parse each file, check its keys against the schema,
 * then convert in three passes over all files (declare, define, check), so that a reminder
 * may name a quiz of a later file; hash the bytes; sort the messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/hash.h"
#include "rules/parse-internal.h"

static void add_diag(struct rules_diags *d, bool warning, const char *file, unsigned file_index,
                     unsigned line, unsigned column, const char *text)
{
        if (warning)
                d->n_warnings++;
        else
                d->n_errors++;
        if (d->n >= RULES_DIAGS_MAX)
                return;
        if (d->n == d->cap) {
                size_t cap = d->cap ? 2 * d->cap : 16;
                void *p = realloc(d->v, cap * sizeof(*d->v));

                if (!p)
                        return; /* counted, not kept: the count still fails the load */
                d->v = p;
                d->cap = cap;
        }
        struct rules_diag *g = &d->v[d->n++];

        memset(g, 0, sizeof(*g));
        g->warning = warning;
        snprintf(g->file, sizeof(g->file), "%s", file ? file : "");
        g->file_index = file_index;
        g->line = line;
        g->column = column;
        snprintf(g->text, sizeof(g->text), "%s", text);
}

static unsigned file_index_of(struct parse_ctx *x, const char *file)
{
        for (size_t i = 0; file && i < x->n_files; i++)
                if (x->files[i].name == file || strcmp(x->files[i].name, file) == 0)
                        return (unsigned)i;
        return (unsigned)x->n_files; /* messages about the whole set come last */
}

void parse_diag_v(struct parse_ctx *x, bool warning, const char *file, unsigned line,
                  unsigned column, const char *fmt, va_list ap)
{
        char text[RULES_DIAG_TEXT_MAX];

        vsnprintf(text, sizeof(text), fmt, ap);
        add_diag(x->diags, warning, file, file_index_of(x, file), line, column, text);
}

void parse_error_at(struct parse_ctx *x, const struct rules_loc *loc, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        parse_diag_v(x, false, loc ? loc->file : NULL, loc ? loc->line : 0, loc ? loc->column : 0,
                     fmt, ap);
        va_end(ap);
}

void parse_warning_at(struct parse_ctx *x, const struct rules_loc *loc, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        parse_diag_v(x, true, loc ? loc->file : NULL, loc ? loc->line : 0, loc ? loc->column : 0,
                     fmt, ap);
        va_end(ap);
}

int rules_diag_format(const struct rules_diag *d, char *buf, size_t size)
{
        const char *w = d->warning ? "warning: " : "";

        if (!d->file[0])
                return snprintf(buf, size, "%s%s", w, d->text);
        if (!d->column)
                return snprintf(buf, size, "%s:%u: %s%s", d->file, d->line, w, d->text);
        return snprintf(buf, size, "%s:%u:%u: %s%s", d->file, d->line, d->column, w, d->text);
}

void rules_diags_free(struct rules_diags *diags)
{
        if (!diags)
                return;
        free(diags->v);
        memset(diags, 0, sizeof(*diags));
}

static int diag_cmp(const void *a, const void *b)
{
        const struct rules_diag *x = a, *y = b;

        if (x->file_index != y->file_index)
                return x->file_index < y->file_index ? -1 : 1;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return 0;
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

static int name_order_cmp(const void *a, const void *b)
{
        const struct rules_source *const *x = a, *const *y = b;

        return strcmp(base_name((*x)->name), base_name((*y)->name));
}

/* SHA-256 over, for each file in the order of its base name: the base name, a NUL, the
 * length as 8 big-endian octets, the bytes. The base name only, so that the same files
 * installed under another directory keep their hash. */
_Static_assert(RULES_HASH_LEN == PUENTE_SHA256_LEN, "the rule set's hash is a SHA-256");

static int hash_files(const struct rules_source *files, size_t n, struct rules_set *set)
{
        const struct rules_source **order = calloc(n ? n : 1, sizeof(const struct rules_source *));
        /* Three parts per file; the length octets live in their own array so the parts can
         * point at them. */
        struct puente_bytes *parts = calloc(n ? 3 * n : 1, sizeof(struct puente_bytes));
        uint8_t(*be)[8] = calloc(n ? n : 1, sizeof(*be));
        int r = -ENOMEM;

        if (!order || !parts || !be)
                goto out;
        for (size_t i = 0; i < n; i++)
                order[i] = &files[i];
        qsort(order, n, sizeof(const struct rules_source *), name_order_cmp);
        for (size_t i = 0; i < n; i++) {
                const char *name = base_name(order[i]->name);

                for (int k = 0; k < 8; k++)
                        be[i][k] = (uint8_t)((uint64_t)order[i]->len >> (56 - 8 * k));
                parts[3 * i] = (struct puente_bytes){ name, strlen(name) + 1 };
                parts[3 * i + 1] = (struct puente_bytes){ be[i], sizeof(be[i]) };
                parts[3 * i + 2] = (struct puente_bytes){ order[i]->data, order[i]->len };
        }
        puente_sha256_parts(parts, 3 * n, set->hash);
        puente_hex(set->hash, RULES_HASH_LEN, set->hash_hex);
        r = 0;
out:
        free(be);
        free(parts);
        free(order);
        return r;
}

static void free_files(struct parse_ctx *x)
{
        for (size_t i = 0; i < x->n_files; i++) {
                scan_free(&x->files[i].scan);
                parse_cfg_free(&x->files[i]);
        }
        free(x->files);
}

int rules_parse(const struct rules_source *files, size_t n, const struct rules_parse_opts *opts,
                struct rules_diags *diags, struct rules_set **ret_set)
{
        struct parse_ctx x = { .diags = diags, .opts = opts };
        size_t errors_before;
        int r = -ENOMEM;

        if ((!files && n) || !diags || !ret_set || n > RULES_FILES_MAX)
                return -EINVAL;
        errors_before = diags->n_errors;
        x.arena = rules_arena_new();
        x.set = calloc(1, sizeof(*x.set));
        x.files = calloc(n ? n : 1, sizeof(*x.files));
        if (!x.arena || !x.set || !x.files)
                goto fail;
        x.set->arena = x.arena;
        x.set->n_files = n;
        x.n_files = n;
        for (size_t i = 0; i < n; i++) {
                struct parse_file *f = &x.files[i];

                f->name = rules_arena_strdup(x.arena, files[i].name ? files[i].name : "?");
                if (!f->name)
                        goto fail;
                if (files[i].len > RULES_FILE_SIZE_MAX) {
                        struct rules_loc loc = { f->name, 0, 0 };

                        parse_error_at(&x, &loc, "file of %zu bytes; expected at most %d",
                                       files[i].len, RULES_FILE_SIZE_MAX);
                        continue;
                }
                r = scan_file(files[i].data, files[i].len, &f->scan);
                if (r < 0)
                        goto fail;
                if (parse_check_schema(&x, f) > 0)
                        continue; /* libconfuse would stop at the first unknown key */
                r = parse_cfg_file(&x, f, files[i].data, files[i].len);
                if (r == -ENOMEM)
                        goto fail;
        }
        parse_pass_declare(&x);
        parse_pass_define(&x);
        parse_pass_check(&x);
        x.file = NULL;
        r = hash_files(files, n, x.set);
        if (r < 0)
                goto fail;
        free_files(&x);
        if (diags->n > 1)
                qsort(diags->v, diags->n, sizeof(*diags->v), diag_cmp);
        if (diags->n_errors > errors_before) {
                rules_free(x.set);
                return -EBADMSG;
        }
        *ret_set = x.set;
        return 0;
fail:
        free_files(&x);
        if (x.set)
                rules_free(x.set); /* frees the arena too */
        else
                rules_arena_free(x.arena);
        return r < 0 ? r : -ENOMEM;
}
