/* puente.conf: libconfuse parses, this file checks the structure against the schema (every
 * unknown key, with its line) and converts every value itself, so that all bad values are
 * reported in one pass. The only daemon file that includes confuse.h. */
#include "daemon/config.h"

#include <confuse.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at/phone.h"
#include "daemon/config-check.h"
#include "daemon/config-scan.h"

/* Every value is declared a string: config-check.c converts it, so a bad number is one more
 * collected error instead of the end of libconfuse's parse. */
#define STR(name)  CFG_STR(name, NULL, CFGF_NONE)
#define LIST(name) CFG_STR_LIST(name, NULL, CFGF_NONE)

static cfg_opt_t modem_opts[] = {
        STR("device"),       STR("baud"),        STR("flow"),  STR("pin"),  STR("send_rate"),
        STR("send_timeout"), STR("daily_limit"), STR("iccid"), STR("imei"), CFG_END(),
};
static cfg_opt_t pin_opts[] = { STR("pin"), CFG_END() };
static cfg_opt_t retry_opts[] = { STR("attempts"), STR("first_delay"), STR("max_delay"),
                                  CFG_END() };
static cfg_opt_t upload_opts[] = {
        STR("url"),          STR("interval"),       STR("key_file"),       STR("device"),
        STR("auth"),         STR("token"),          STR("user"),           STR("password"),
        STR("client_cert"),  STR("client_key"),     STR("ca_file"),        STR("s3_region"),
        STR("batch_events"), STR("batch_interval"), STR("timeout"),        STR("backoff_max"),
        STR("hours"),        STR("disk_budget_mb"), STR("heartbeat_days"), STR("heartbeat_number"),
        CFG_END(),
};
static cfg_opt_t clinic_opts[] = { LIST("staff"), STR("manager"), STR("summary"), CFG_END() };

static cfg_opt_t root_opts[] = {
        STR("database"),
        STR("state_directory"),
        STR("rules_directory"),
        STR("country"),
        STR("default_country_code"),
        STR("autodetect"),
        STR("autodetect_rescan"),
        LIST("allow"),
        LIST("deny"),
        STR("unknown_resend"),
        STR("reassembly_timeout"),
        STR("send_rate"),
        STR("send_timeout"),
        STR("daily_limit"),
        STR("staff_replies_per_hour"),
        CFG_SEC("retry", retry_opts, CFGF_NONE),
        CFG_SEC("upload", upload_opts, CFGF_NONE),
        CFG_SEC("modem", modem_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_SEC("pin", pin_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_SEC("clinic", clinic_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_END(),
};

static __thread struct config_ctx *current; /* libconfuse's error callback has no user data */

/* libconfuse's own errors (syntax): its line is that of the token after the error. */
static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
        char msg[CONFIG_ERROR_TEXT_MAX];
        const char *q;

        if (!current)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        /* "... for option 'baud'": point at the key rather than past it */
        q = strstr(msg, "option '");
        if (q) {
                char key[CONFIG_SCAN_KEY_MAX];
                if (sscanf(q, "option '%63[^']'", key) == 1) {
                        unsigned l =
                                config_scan_key_before(current->scan, key, (unsigned)cfg->line);
                        if (l) {
                                config_error(current, l, "%s", msg);
                                return;
                        }
                }
        }
        config_error(current, (unsigned)cfg->line, "%s", msg);
}

/* Hands every key that is set in `sec` to the checker. */
static void convert_keys(struct config_ctx *x, struct config *c, cfg_t *sec)
{
        for (cfg_opt_t *o = sec->opts; o && o->name; o++) {
                const char **v;
                /* an unset string reads as one NULL value */
                if (o->type != CFGT_STR || o->nvalues == 0 || !cfg_opt_getnstr(o, 0))
                        continue;
                v = calloc(o->nvalues, sizeof(*v));
                if (!v) {
                        config_error(x, 0, "out of memory");
                        return;
                }
                for (unsigned i = 0; i < o->nvalues; i++)
                        v[i] = cfg_opt_getnstr(o, i);
                config_check_key(x, c, o->name, v, o->nvalues);
                free(v);
        }
}

static void convert_section(struct config_ctx *x, struct config *c, cfg_t *sec, const char *name,
                            const char *title)
{
        config_check_section(x, c, name, title);
        convert_keys(x, c, sec);
        config_check_end_section(x, c);
}

/* Walks the parsed file: top-level keys first (the modems take their defaults from them),
 * then the sections in file order within each kind. */
static void convert(struct config_ctx *x, cfg_t *cfg, struct config *c)
{
        static const char *const single[] = { "retry", "upload" };
        static const char *const multi[] = { "modem", "pin", "clinic" };

        convert_section(x, c, cfg, "", "");
        for (size_t i = 0; i < 2; i++)
                if (config_scan_section_line(x->scan, single[i], "", NULL))
                        convert_section(x, c, cfg_getsec(cfg, single[i]), single[i], "");
        for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
                for (unsigned n = 0; n < cfg_size(cfg, multi[i]); n++) {
                        cfg_t *sec = cfg_getnsec(cfg, multi[i], n);
                        convert_section(x, c, sec, multi[i], cfg_title(sec));
                }
        }
        config_check_finish(x, c);
}

static const cfg_opt_t *find_opt(const cfg_opt_t *opts, const char *name)
{
        for (; opts && opts->name; opts++)
                if (strcmp(opts->name, name) == 0)
                        return opts;
        return NULL;
}

static void list_keys(const cfg_opt_t *opts, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        for (; opts->name && n < size; opts++)
                n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", opts->name);
}

/* Checks one indexed entry against the schema; returns true when libconfuse cannot be
 * trusted with the file (an unknown or misused section). */
static bool check_entry(struct config_ctx *x, const struct config_scan_entry *e)
{
        const cfg_opt_t *scope = root_opts, *o, *parent = NULL;
        char keys[CONFIG_ERROR_TEXT_MAX];

        if (e->stray) {
                config_error(x, e->line,
                             "unexpected '%s'; expected KEY = VALUE (quote a value that has "
                             "spaces)",
                             e->key);
                return true;
        }
        if (e->depth >= 2)
                return false; /* its parent was reported */
        if (e->depth == 1) {
                parent = find_opt(root_opts, e->section);
                if (!parent || parent->type != CFGT_SEC)
                        return false;
                scope = parent->subopts;
        }
        o = find_opt(scope, e->key);
        list_keys(scope, keys, sizeof(keys));
        if (!o) {
                if (parent)
                        config_error(x, e->line, "unknown %s '%s' in %s; expected one of: %s",
                                     e->is_section ? "section" : "key", e->key, e->section, keys);
                else
                        config_error(x, e->line, "unknown %s '%s'; expected one of: %s",
                                     e->is_section ? "section" : "key", e->key, keys);
                return e->is_section;
        }
        if (e->is_section != (o->type == CFGT_SEC)) {
                if (e->is_section)
                        config_error(x, e->line, "'%s' is a key: expected %s = VALUE", e->key,
                                     e->key);
                else
                        config_error(x, e->line, "'%s' is a section: expected %s %s{ ... }", e->key,
                                     e->key, (o->flags & CFGF_TITLE) ? "NAME " : "");
                return true;
        }
        if (e->is_section && e->titled != !!(o->flags & CFGF_TITLE)) {
                config_error(x, e->line, "section '%s' %s", e->key,
                             e->titled ? "takes no name: expected retry { ... }"
                                       : "needs a name: expected modem NAME { ... }");
                return true;
        }
        if (e->is_section && e->depth == 0) {
                unsigned first = 0;
                config_scan_section_line(x->scan, e->key, e->title, &first);
                if (first && first != e->line) {
                        if (e->titled)
                                config_error(x, e->line,
                                             "duplicate section %s \"%s\" (first at line %u)",
                                             e->key, e->title, first);
                        else
                                config_error(x, e->line, "duplicate section %s (first at line %u)",
                                             e->key, first);
                        return true;
                }
        }
        return false;
}

/* libconfuse keeps the last value of a key given twice; that is a mistake more often than
 * not (two send_rate lines after an edit), so it is reported. Lists may be extended. */
static void check_repeated(struct config_ctx *x, size_t i)
{
        const struct config_scan_entry *e = &x->scan->e[i];
        const cfg_opt_t *scope = root_opts, *o;

        if (e->is_section || e->stray || e->depth >= 2)
                return;
        if (e->depth == 1) {
                o = find_opt(root_opts, e->section);
                if (!o || o->type != CFGT_SEC)
                        return;
                scope = o->subopts;
        }
        o = find_opt(scope, e->key);
        if (!o || (o->flags & CFGF_LIST))
                return;
        for (size_t j = 0; j < i; j++) {
                const struct config_scan_entry *p = &x->scan->e[j];
                if (!p->is_section && !p->stray && p->depth == e->depth &&
                    strcmp(p->key, e->key) == 0 && strcmp(p->section, e->section) == 0 &&
                    strcmp(p->title, e->title) == 0) {
                        config_error(x, e->line, "%s given twice (first at line %u)", e->key,
                                     p->line);
                        return;
                }
        }
}

static bool check_structure(struct config_ctx *x)
{
        bool untrusted = false;

        for (size_t i = 0; i < x->scan->n; i++) {
                untrusted |= check_entry(x, &x->scan->e[i]);
                check_repeated(x, i);
        }
        if (x->scan->unclosed_line) {
                config_error(x, x->scan->unclosed_line,
                             "section not closed at the end of the file; expected }");
                untrusted = true;
        }
        return untrusted;
}

/* Errors are found key by key in schema order; people read them in file order. */
static void sort_diag(struct config_diag *d)
{
        unsigned n = d->count < CONFIG_ERRORS_MAX ? d->count : CONFIG_ERRORS_MAX;
        char tmp[CONFIG_ERROR_TEXT_MAX];

        for (unsigned i = 1; i < n; i++) {
                unsigned j = i, line = d->line[i];
                memcpy(tmp, d->text[i], sizeof(tmp));
                for (; j > 0 && d->line[j - 1] > line; j--) {
                        memcpy(d->text[j], d->text[j - 1], sizeof(tmp));
                        d->line[j] = d->line[j - 1];
                }
                memcpy(d->text[j], tmp, sizeof(tmp));
                d->line[j] = line;
        }
}

static int parse(const char *text, size_t len, const char *name, struct config **ret,
                 struct config_diag *diag)
{
        struct config_scan scan = { 0 };
        struct config_ctx x = {
                .name = name, .diag = diag, .scan = &scan, .section = "", .title = ""
        };
        struct config *c;
        cfg_t *cfg = NULL;
        int r;

        if (diag)
                diag->count = 0;
        if (memchr(text, '\0', len)) {
                config_error(&x, 0, "contains a NUL byte: not a text file");
                return -EINVAL;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        config_defaults(c);
        snprintf(c->source, sizeof(c->source), "%s", name);
        r = config_scan(text, len, &scan);
        if (r < 0)
                goto out;
        if (!check_structure(&x)) {
                cfg = cfg_init(root_opts, CFGF_IGNORE_UNKNOWN);
                if (!cfg) {
                        r = -ENOMEM;
                        goto out;
                }
                cfg_set_error_function(cfg, confuse_error);
                current = &x;
                r = cfg_parse_buf(cfg, text);
                current = NULL;
                if (r == CFG_SUCCESS)
                        convert(&x, cfg, c);
                else if (x.errors == 0)
                        config_error(&x, 0, "cannot be parsed");
                /* the cfg_t goes at once: everything is in *c now */
                cfg_free(cfg);
        }
        r = x.errors ? -EINVAL : 0;
        if (diag)
                sort_diag(diag);
out:
        config_scan_free(&scan);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int config_parse_text(const char *text, const char *name, struct config **ret,
                      struct config_diag *diag)
{
        return parse(text, strlen(text), name ? name : "(text)", ret, diag);
}

static void diag_errno(struct config_diag *diag, const char *path, int err)
{
        if (!diag)
                return;
        snprintf(diag->text[0], CONFIG_ERROR_TEXT_MAX, "%s: %s", path, strerror(err));
        diag->count = 1;
}

int config_load(const char *path, struct config **ret, struct config_diag *diag)
{
        const char *p = path ? path : CONFIG_DEFAULT_PATH;
        struct config *c;
        char *text = NULL;
        size_t len;
        FILE *f;
        int r;

        if (diag)
                diag->count = 0;
        f = fopen(p, "re");
        if (!f) {
                r = -errno;
                if (!path && r == -ENOENT) {
                        c = calloc(1, sizeof(*c));
                        if (!c)
                                return -ENOMEM;
                        config_defaults(c);
                        *ret = c;
                        return 0;
                }
                diag_errno(diag, p, -r);
                return r;
        }
        text = malloc(CONFIG_FILE_MAX + 1);
        if (!text) {
                fclose(f);
                return -ENOMEM;
        }
        len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
        r = ferror(f) ? -EIO : 0;
        fclose(f);
        if (r == 0 && len > CONFIG_FILE_MAX) {
                r = -EFBIG;
                if (diag) {
                        snprintf(diag->text[0], CONFIG_ERROR_TEXT_MAX,
                                 "%s: larger than %d bytes: not a configuration file", p,
                                 CONFIG_FILE_MAX);
                        diag->count = 1;
                }
        } else if (r < 0) {
                diag_errno(diag, p, EIO);
        }
        if (r == 0) {
                text[len] = '\0';
                r = parse(text, len, p, ret, diag);
        }
        free(text);
        return r;
}

struct config *config_free(struct config *c)
{
        free(c);
        return NULL;
}

void config_defaults(struct config *c)
{
        memset(c, 0, sizeof(*c));
        snprintf(c->database, sizeof(c->database), "%s", CONFIG_DEFAULT_DB);
        snprintf(c->state_directory, sizeof(c->state_directory), "%s", CONFIG_DEFAULT_STATEDIR);
        snprintf(c->country, sizeof(c->country), "MX");
        c->country_code = PHONE_MX_CC;
        c->autodetect = true;
        c->autodetect_rescan = CONFIG_DEFAULT_AUTODETECT_RESCAN_S;
        c->unknown_resend = false;
        c->reassembly_timeout = CONFIG_DEFAULT_REASSEMBLY_S;
        c->send_rate = CONFIG_DEFAULT_SEND_RATE;
        c->daily_limit = CONFIG_DEFAULT_DAILY_LIMIT;
        c->retry = (struct config_retry){ .attempts = CONFIG_DEFAULT_RETRY_ATTEMPTS,
                                          .first_delay = CONFIG_DEFAULT_RETRY_FIRST_S,
                                          .max_delay = CONFIG_DEFAULT_RETRY_MAX_S };
        c->upload.interval = CONFIG_DEFAULT_UPLOAD_INTERVAL_S;
        c->staff_replies_per_hour = CONFIG_DEFAULT_STAFF_REPLIES;
}
