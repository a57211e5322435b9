/* puentectl contacts: import (every bad row reported with its line, nothing imported unless
 * all are good, one transaction), export (CSV), set (one contact's fields). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "at/phone.h"
#include "daemon/config.h"
#include "daemon/csv.h"
#include "daemon/ctl-common.h"
#include "daemon/ctl-contacts.h"
#include "daemon/rules-files.h"
#include "daemon/store.h"
#include "rules/tz.h"

#define CONTACTS_FILE_MAX     (64 * 1024 * 1024) /* bytes of an import */
#define CONTACTS_ROWS_MAX     1000000
#define CONTACTS_ERRORS_SHOWN 200 /* more are counted */

/* Columns that are the contacts table's own; every other column is a field. */
enum { COL_STUDY_ID, COL_PHONE, COL_LANGUAGE, COL_CLINIC, COL_FIXED };
static const char *const fixed_cols[COL_FIXED] = { "study_id", "phone", "language", "clinic" };

struct importer {
        const char *cmd, *path;
        const struct config *config;
        const struct rules_set *set; /* NULL: no rules, only the built-in checks */
        char **header;
        size_t n_header;
        int col[COL_FIXED];
        struct store_contact_import *rows;
        unsigned *lines;
        size_t n_rows, cap_rows;
        unsigned errors;
};

static int row_error(struct importer *im, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int row_error(struct importer *im, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (im->errors++ < CONTACTS_ERRORS_SHOWN) {
                fprintf(stderr, "%s:%u: ", im->path, line);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        return 0;
}

static const char *builtin_dates[] = { "edd", "birth", "enrolled", "appointment", "lmp" };

static bool is_date_field(const struct importer *im, const char *name)
{
        int f;

        if (im->set) {
                f = rules_field_find(im->set, name);
                return f >= 0 && im->set->fields[f].type == RULES_FIELD_DATE;
        }
        for (size_t i = 0; i < sizeof(builtin_dates) / sizeof(builtin_dates[0]); i++)
                if (strcmp(name, builtin_dates[i]) == 0)
                        return true;
        return false;
}

static int header(struct importer *im, unsigned line, const char *const *f, size_t n)
{
        im->header = calloc(n, sizeof(char *));
        if (!im->header)
                return -ENOMEM;
        im->n_header = n;
        for (int c = 0; c < COL_FIXED; c++)
                im->col[c] = -1;
        for (size_t i = 0; i < n; i++) {
                im->header[i] = strdup(f[i]);
                if (!im->header[i])
                        return -ENOMEM;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(f[i], f[j]) == 0)
                                row_error(im, line, "column '%s' appears twice", f[i]);
                for (int c = 0; c < COL_FIXED; c++)
                        if (strcmp(f[i], fixed_cols[c]) == 0)
                                im->col[c] = (int)i;
                if (strcmp(f[i], "arm") == 0 || strcmp(f[i], "stratum") == 0)
                        row_error(im, line,
                                  "column '%s': arms are assigned at enrolment (or from the "
                                  "evaluator's sealed list), never imported",
                                  f[i]);
                else if (im->set && rules_field_find(im->set, f[i]) < 0)
                        row_error(im, line, "column '%s' is not a field of the rules", f[i]);
        }
        if (im->col[COL_STUDY_ID] < 0 || im->col[COL_PHONE] < 0)
                row_error(im, line, "the header must name the columns study_id and phone");
        return 0;
}

static bool in_list(const struct rules_strings *l, const char *v)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], v) == 0)
                        return true;
        return false;
}

/* Checks one value of a field column; the stored form of a date goes to out. */
static bool check_field(struct importer *im, unsigned line, const char *name, const char *v,
                        char out[11])
{
        int f = im->set ? rules_field_find(im->set, name) : -1;
        int64_t d;

        if (is_date_field(im, name)) {
                if (rules_date_parse(v, &d) < 0) {
                        row_error(im, line, "%s: '%s' is not a date (YYYY-MM-DD or DD/MM/YYYY)",
                                  name, v);
                        return false;
                }
                rules_date_format(d, out);
                return true;
        }
        out[0] = '\0';
        if (f >= 0 && im->set->fields[f].type == RULES_FIELD_CHOICE &&
            !in_list(&im->set->fields[f].values, v)) {
                row_error(im, line, "%s: '%s' is not one of its values", name, v);
                return false;
        }
        if (f >= 0 && im->set->fields[f].type == RULES_FIELD_NUMBER &&
            strspn(v, "0123456789") != strlen(v)) {
                row_error(im, line, "%s: '%s' is not a number", name, v);
                return false;
        }
        if (f >= 0 && im->set->fields[f].max_length &&
            strlen(v) > 4 * im->set->fields[f].max_length) {
                row_error(im, line, "%s: longer than %u characters", name,
                          im->set->fields[f].max_length);
                return false;
        }
        return true;
}

static char *fields_json(struct importer *im, unsigned line, const char *const *f, size_t n,
                         bool *ok)
{
        struct json_object *o = json_object_new_object();
        char *s;

        for (size_t i = 0; i < n; i++) {
                char date[11];
                bool fixed = false;

                for (int c = 0; c < COL_FIXED; c++)
                        fixed |= im->col[c] == (int)i;
                if (fixed || !f[i][0])
                        continue;
                if (!check_field(im, line, im->header[i], f[i], date)) {
                        *ok = false;
                        continue;
                }
                json_object_object_add(o, im->header[i],
                                       json_object_new_string(date[0] ? date : f[i]));
        }
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

static int row(void *userdata, unsigned line, const char *const *f, size_t n)
{
        struct importer *im = userdata;
        struct store_contact_import r = { 0 };
        char e164[PHONE_E164_MAX];
        enum phone_problem why;
        bool ok = true;

        if (!im->header)
                return header(im, line, f, n);
        if (n != im->n_header)
                return row_error(im, line, "%zu fields, the header has %zu", n, im->n_header);
        if (im->n_rows >= CONTACTS_ROWS_MAX)
                return row_error(im, line, "more than %d contacts in one file", CONTACTS_ROWS_MAX);
        if (im->col[COL_STUDY_ID] < 0 || im->col[COL_PHONE] < 0)
                return 0;
        r.study_id = f[im->col[COL_STUDY_ID]];
        if (!*r.study_id || strlen(r.study_id) >= STORE_IDENT_MAX) {
                row_error(im, line, "study_id: empty or longer than %d bytes", STORE_IDENT_MAX - 1);
                ok = false;
        }
        if (phone_normalize(f[im->col[COL_PHONE]], im->config->country_code, e164, &why) < 0) {
                row_error(im, line, "phone: '%s' %s", f[im->col[COL_PHONE]],
                          phone_problem_str(why));
                ok = false;
        }
        if (im->col[COL_LANGUAGE] >= 0 && f[im->col[COL_LANGUAGE]][0]) {
                r.language = f[im->col[COL_LANGUAGE]];
                if (im->set && !in_list(&im->set->settings.languages, r.language)) {
                        row_error(im, line, "language: '%s' is not a language of the programme",
                                  r.language);
                        ok = false;
                }
        }
        if (im->col[COL_CLINIC] >= 0 && f[im->col[COL_CLINIC]][0]) {
                r.clinic = f[im->col[COL_CLINIC]];
                if (im->set && rules_clinic_find(im->set, r.clinic) < 0) {
                        row_error(im, line, "clinic: '%s' is not a clinic of the rules", r.clinic);
                        ok = false;
                }
        }
        for (size_t i = 0; ok && i < im->n_rows; i++) {
                if (strcmp(im->rows[i].study_id, r.study_id) == 0) {
                        row_error(im, line, "study_id '%s' already on line %u", r.study_id,
                                  im->lines[i]);
                        ok = false;
                } else if (strcmp(im->rows[i].phone, e164) == 0) {
                        row_error(im, line, "phone %s already on line %u", e164, im->lines[i]);
                        ok = false;
                }
        }
        char *fields = fields_json(im, line, f, n, &ok);

        if (!ok) {
                free(fields);
                return 0;
        }
        if (im->n_rows == im->cap_rows) {
                size_t cap = im->cap_rows ? 2 * im->cap_rows : 256;
                void *nr = realloc(im->rows, cap * sizeof(*im->rows));
                void *nl = nr ? realloc(im->lines, cap * sizeof(*im->lines)) : NULL;

                if (nr)
                        im->rows = nr;
                if (!nl) {
                        free(fields);
                        return -ENOMEM;
                }
                im->lines = nl;
                im->cap_rows = cap;
        }
        r.study_id = strdup(r.study_id);
        r.phone = strdup(e164);
        r.language = r.language ? strdup(r.language) : NULL;
        r.clinic = r.clinic ? strdup(r.clinic) : NULL;
        r.fields = fields;
        im->lines[im->n_rows] = line;
        im->rows[im->n_rows++] = r;
        return 0;
}

static void importer_free(struct importer *im)
{
        for (size_t i = 0; i < im->n_header; i++)
                free(im->header[i]);
        free(im->header);
        for (size_t i = 0; i < im->n_rows; i++) {
                free((char *)im->rows[i].study_id);
                free((char *)im->rows[i].phone);
                free((char *)im->rows[i].language);
                free((char *)im->rows[i].clinic);
                free((char *)im->rows[i].fields);
        }
        free(im->rows);
        free(im->lines);
}

/* The rule set named by the configuration, for checking fields; NULL without one. */
static struct rules_set *load_rules(const struct config *c, const char *dir_opt)
{
        const char *dir = dir_opt ? dir_opt : c->rules_directory;
        struct rules_files files = { 0 };
        struct rules_diags diags = { 0 };
        struct rules_parse_opts opts = { .zone_exists = rules_files_zone_exists };
        struct rules_set *set = NULL;

        if (!dir || !*dir || rules_files_read(dir, &files) < 0)
                return NULL;
        if (rules_parse(files.src, files.n, &opts, &diags, &set) < 0)
                set = NULL;
        rules_diags_free(&diags);
        rules_files_free(&files);
        return set;
}

static char *read_file(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        size_t n;

        if (!f)
                return NULL;
        buf = malloc(CONTACTS_FILE_MAX + 1);
        n = buf ? fread(buf, 1, CONTACTS_FILE_MAX + 1, f) : 0;
        fclose(f);
        if (!buf || n > CONTACTS_FILE_MAX) {
                free(buf);
                errno = EFBIG;
                return NULL;
        }
        *ret_len = n;
        return buf;
}

/* After contacts changed: the runner recomputes them (due now), the change is logged, and
 * the daemon is woken to look. */
static void after_change(struct ctl_env *env, const struct store_contact_import *rows, size_t n,
                         const char *event)
{
        int64_t now = time(NULL);
        char json[64];

        for (size_t i = 0; i < n; i++) {
                struct store_contact c;

                if (store_contact_by_study_id(env->store, rows[i].study_id, &c) == 0)
                        store_rules_touch(env->store, c.id, now);
        }
        snprintf(json, sizeof(json), "{\"contacts\":%zu}", n);
        store_event_append(env->store,
                           &(struct store_event){ .time = now, .type = event, .json = json }, NULL);
        ctl_wake(env->config);
}

static int cmd_import(struct ctl_env *env, const char *path, const char *rules_dir)
{
        struct importer im = { .cmd = "contacts import", .path = path, .config = env->config };
        struct rules_set *set = load_rules(env->config, rules_dir);
        struct csv_error ce;
        size_t len = 0, failed = 0;
        char *buf = read_file(path, &len);
        int r, ret = CTL_EXIT_FAIL;

        im.set = set;
        if (!buf) {
                ctl_fail(CTL_EXIT_FAIL, im.cmd, "%s: %m", path);
                goto out;
        }
        r = csv_parse(buf, len, row, &im, &ce);
        if (r == -EBADMSG)
                row_error(&im, ce.line, "column %u: %s", ce.column, ce.what);
        else if (r < 0) {
                ctl_fail(CTL_EXIT_FAIL, im.cmd, "%s: %s", path, strerror(-r));
                goto out;
        }
        if (!im.header)
                row_error(&im, 1, "empty file: expected a header line (study_id,phone,...)");
        if (im.errors) {
                fprintf(stderr, "puentectl contacts import: %s: %u error%s, nothing imported\n",
                        path, im.errors, im.errors == 1 ? "" : "s");
                goto out;
        }
        r = store_contacts_import(env->store, im.rows, im.n_rows, time(NULL), &failed);
        if (r < 0) {
                fprintf(stderr, "%s:%u: %s; nothing imported\n", path, im.lines[failed],
                        r == -EEXIST ? "this phone belongs to another study id already stored"
                                     : store_errmsg(env->store));
                goto out;
        }
        printf("%zu contacts imported from %s%s\n", im.n_rows, path,
               set ? "" : " (no rules loaded: fields checked by name only)");
        after_change(env, im.rows, im.n_rows, "contacts.imported");
        ret = CTL_EXIT_OK;
out:
        free(buf);
        importer_free(&im);
        rules_free(set);
        return ret;
}

/* ---- export ---- */

struct keys {
        char **v;
        size_t n, cap;
};

static int collect_keys(const struct store_contact *c, void *userdata)
{
        struct keys *k = userdata;
        struct json_object *o = json_tokener_parse(c->fields ? c->fields : "{}");

        if (!o)
                return 0;
        json_object_object_foreach(o, key, val)
        {
                bool seen = false;

                (void)val;
                for (size_t i = 0; i < k->n && !seen; i++)
                        seen = strcmp(k->v[i], key) == 0;
                if (seen)
                        continue;
                if (k->n == k->cap) {
                        size_t cap = k->cap ? 2 * k->cap : 16;
                        char **v = realloc(k->v, cap * sizeof(*v));

                        if (!v) {
                                json_object_put(o);
                                return -ENOMEM;
                        }
                        k->v = v;
                        k->cap = cap;
                }
                k->v[k->n++] = strdup(key);
        }
        json_object_put(o);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_field(const char *v, bool first)
{
        char buf[2 * CSV_FIELD_MAX + 3];

        if (!first)
                putchar(',');
        if (csv_quote(v ? v : "", buf, sizeof(buf)) >= 0)
                fputs(buf, stdout);
}

static int print_contact(const struct store_contact *c, void *userdata)
{
        const struct keys *k = userdata;
        struct json_object *o = json_tokener_parse(c->fields ? c->fields : "{}");

        put_field(c->study_id, true);
        put_field(c->phone, false);
        put_field(c->language, false);
        put_field(c->clinic, false);
        for (size_t i = 0; i < k->n; i++) {
                struct json_object *v = NULL;

                put_field(o && json_object_object_get_ex(o, k->v[i], &v) ? json_object_get_string(v)
                                                                         : "",
                          false);
        }
        putchar('\n');
        json_object_put(o);
        return 0;
}

static int cmd_export(struct ctl_env *env)
{
        struct keys k = { 0 };
        int r = store_contact_list(env->store, collect_keys, &k);

        if (r == 0) {
                if (k.n)
                        qsort(k.v, k.n, sizeof(*k.v), cmp_str);
                for (int c = 0; c < COL_FIXED; c++)
                        put_field(fixed_cols[c], c == 0);
                for (size_t i = 0; i < k.n; i++)
                        put_field(k.v[i], false);
                putchar('\n');
                r = store_contact_list(env->store, print_contact, &k);
        }
        for (size_t i = 0; i < k.n; i++)
                free(k.v[i]);
        free(k.v);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAIL, "contacts export", "%s", store_errmsg(env->store));
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* ---- set ---- */

static int cmd_set(struct ctl_env *env, const char *study_id, int n, char **kv,
                   const char *rules_dir)
{
        struct importer im = { .cmd = "contacts set",
                               .path = "contacts set",
                               .config = env->config };
        struct store_contact c;
        struct json_object *o;
        char phone[STORE_NUMBER_MAX], language[16], clinic[STORE_IDENT_MAX];
        int64_t id;
        int r, ret = CTL_EXIT_FAIL;

        if (store_contact_by_study_id(env->store, study_id, &c) < 0)
                return ctl_fail(CTL_EXIT_FAIL, im.cmd, "no contact with study id '%s'", study_id);
        im.set = load_rules(env->config, rules_dir);
        o = json_tokener_parse(c.fields ? c.fields : "{}");
        snprintf(phone, sizeof(phone), "%s", c.phone);
        snprintf(language, sizeof(language), "%s", c.language);
        snprintf(clinic, sizeof(clinic), "%s", c.clinic);
        for (int i = 0; o && i < n; i++) {
                char key[RULES_NAME_MAX], date[11];
                const char *eq = strchr(kv[i], '=');
                enum phone_problem why;

                if (!eq || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof(key)) {
                        row_error(&im, (unsigned)i + 1, "'%s' is not FIELD=VALUE", kv[i]);
                        continue;
                }
                memcpy(key, kv[i], (size_t)(eq - kv[i]));
                key[eq - kv[i]] = '\0';
                eq++;
                if (strcmp(key, "study_id") == 0 || strcmp(key, "arm") == 0 ||
                    strcmp(key, "stratum") == 0)
                        row_error(&im, (unsigned)i + 1, "%s never changes", key);
                else if (strcmp(key, "phone") == 0) {
                        if (phone_normalize(eq, env->config->country_code, phone, &why) < 0)
                                row_error(&im, (unsigned)i + 1, "phone: '%s' %s", eq,
                                          phone_problem_str(why));
                } else if (strcmp(key, "language") == 0)
                        snprintf(language, sizeof(language), "%s", eq);
                else if (strcmp(key, "clinic") == 0)
                        snprintf(clinic, sizeof(clinic), "%s", eq);
                else if (im.set && rules_field_find(im.set, key) < 0)
                        row_error(&im, (unsigned)i + 1, "'%s' is not a field of the rules", key);
                else if (!*eq)
                        json_object_object_del(o, key);
                else if (check_field(&im, (unsigned)i + 1, key, eq, date))
                        json_object_object_add(o, key, json_object_new_string(date[0] ? date : eq));
        }
        if (!o || im.errors) {
                fprintf(stderr, "puentectl contacts set: nothing changed\n");
                goto out;
        }
        r = store_contact_upsert(env->store, study_id, phone, language, clinic,
                                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                 time(NULL), &id);
        if (r == 0) {
                /* Logged without values: the fields' names, and whether the number changed
                 * (the study id stays; the evaluation follows it). */
                struct json_object *ev = json_object_new_object(), *names = json_object_new_array();

                for (int i = 0; i < n; i++) {
                        const char *eq = strchr(kv[i], '=');

                        if (eq)
                                json_object_array_add(names, json_object_new_string_len(
                                                                     kv[i], (int)(eq - kv[i])));
                }
                json_object_object_add(ev, "fields", names);
                json_object_object_add(ev, "number_changed",
                                       json_object_new_boolean(strcmp(phone, c.phone) != 0));
                store_rules_touch(env->store, id, time(NULL));
                store_event_append(env->store,
                                   &(struct store_event){ .time = time(NULL),
                                                          .type = "contact.changed",
                                                          .contact_id = id,
                                                          .json = json_object_to_json_string_ext(
                                                                  ev, JSON_C_TO_STRING_PLAIN) },
                                   NULL);
                json_object_put(ev);
                ctl_wake(env->config);
        }
        if (r < 0) {
                ctl_fail(CTL_EXIT_FAIL, im.cmd, "%s",
                         r == -EEXIST ? "that phone belongs to another contact"
                                      : store_errmsg(env->store));
                goto out;
        }
        ret = CTL_EXIT_OK;
out:
        json_object_put(o);
        rules_free((struct rules_set *)im.set);
        return ret;
}

static int usage(FILE *f, int status)
{
        fprintf(f, "Usage: puentectl [--config FILE] contacts import [--rules DIR] FILE.csv\n"
                   "       puentectl [--config FILE] contacts export\n"
                   "       puentectl [--config FILE] contacts set [--rules DIR] STUDY_ID "
                   "FIELD=VALUE...\n"
                   "import: a header line names the columns (study_id and phone required, then\n"
                   "language, clinic and any field of the rules); every bad row is reported with\n"
                   "its line and nothing is imported unless all are good. An empty VALUE unsets a\n"
                   "field. Exit status: 0 done, 1 refused, 2 usage.\n");
        return status;
}

int ctl_contacts(const struct ctl_context *ctx, int argc, char **argv)
{
        struct ctl_env env = { 0 };
        const char *rules_dir = NULL;
        int i = 2, ret;

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return usage(argc < 2 ? stderr : stdout, argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK);
        if (i + 1 < argc && strcmp(argv[i], "--rules") == 0) {
                rules_dir = argv[i + 1];
                i += 2;
        }
        if (!((strcmp(argv[1], "import") == 0 && argc - i == 1) ||
              (strcmp(argv[1], "export") == 0 && argc - i == 0) ||
              (strcmp(argv[1], "set") == 0 && argc - i >= 2)))
                return usage(stderr, CTL_EXIT_USAGE);
        ret = ctl_env_open(ctx, "contacts", strcmp(argv[1], "import") == 0, &env);
        if (ret != CTL_EXIT_OK)
                return ret;
        if (strcmp(argv[1], "import") == 0)
                ret = cmd_import(&env, argv[i], rules_dir);
        else if (strcmp(argv[1], "export") == 0)
                ret = cmd_export(&env);
        else
                ret = cmd_set(&env, argv[i], argc - i - 1, argv + i + 1, rules_dir);
        ctl_env_close(&env);
        return ret;
}
