/* Conversions and checks of puente.conf values; see config-check.h. Each key has one row in
 * a table: its section, its name and the function that converts it. */
#include "daemon/config-check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at/phone.h"

void config_error(struct config_ctx *x, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (x->diag && x->diag->count < CONFIG_ERRORS_MAX) {
                char *out = x->diag->text[x->diag->count];
                int n = line ? snprintf(out, CONFIG_ERROR_TEXT_MAX, "%s:%u: ", x->name, line)
                             : snprintf(out, CONFIG_ERROR_TEXT_MAX, "%s: ", x->name);
                x->diag->line[x->diag->count] = line;
                if (n >= 0 && n < CONFIG_ERROR_TEXT_MAX) {
                        va_start(ap, fmt);
                        vsnprintf(out + n, (size_t)(CONFIG_ERROR_TEXT_MAX - n), fmt, ap);
                        va_end(ap);
                }
        }
        if (x->diag)
                x->diag->count++;
        x->errors++;
}

/* Copies with truncation (the callers have checked the length). */
static void copy(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

static const unsigned bauds[] = { 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 };

struct key_ctx {
        struct config_ctx *x;
        struct config *c;
        const char *key;
        const char *const *v;
        unsigned n;
        unsigned line;
};

/* "modem \"m1\": baud: " or "baud: " before each message. */
#define KERR(k, fmt, ...)                                                                          \
        config_error((k)->x, (k)->line, "%s%s%s%s%s%s: " fmt, (k)->x->section,                     \
                     *(k)->x->title ? " \"" : "", (k)->x->title, *(k)->x->title ? "\"" : "",       \
                     *(k)->x->section ? ": " : "", (k)->key, ##__VA_ARGS__)

static bool all_digits(const char *s, size_t min, size_t max)
{
        size_t n = strlen(s);
        return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/* 1 to max_digits digits of base 10 or 16 at s, no sign or space (the fields of a time or a
 * USB id); *ret_end after them. max_digits is small, so the value cannot overflow. */
static bool small_uint(const char *s, size_t max_digits, int base, const char **ret_end,
                       unsigned *ret)
{
        char buf[8], *end;
        size_t n = strspn(s, base == 16 ? "0123456789abcdefABCDEF" : "0123456789");

        if (n > max_digits)
                n = max_digits;
        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        unsigned long v = strtoul(buf, &end, base);
        if (end != buf + n)
                return false;
        *ret_end = s + n;
        *ret = (unsigned)v;
        return true;
}

static bool to_uint(struct key_ctx *k, unsigned min, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (!all_digits(k->v[0], 1, 10)) {
                KERR(k, "'%s' is not a whole number; expected %u..%u", k->v[0], min, max);
                return false;
        }
        v = strtoul(k->v[0], &end, 10);
        if (v < min || v > max) {
                KERR(k, "%s is out of range; expected %u..%u", k->v[0], min, max);
                return false;
        }
        *ret = (unsigned)v;
        return true;
}

static bool to_bool(struct key_ctx *k, bool *ret)
{
        static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no",
                                                                                  "off" };
        for (size_t i = 0; i < 3; i++) {
                if (strcasecmp(k->v[0], yes[i]) == 0)
                        return *ret = true, true;
                if (strcasecmp(k->v[0], no[i]) == 0)
                        return *ret = false, true;
        }
        KERR(k, "'%s' is not a boolean; expected true or false", k->v[0]);
        return false;
}

/* Seconds, or a number with s, m, h or d. */
static bool to_duration(struct key_ctx *k, unsigned min, unsigned max, unsigned *ret)
{
        static const struct {
                char suffix;
                unsigned mult;
        } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
        const char *v = k->v[0];
        size_t n = strlen(v), digits = strspn(v, "0123456789");
        unsigned long long secs;
        unsigned mult = 0;

        if (digits > 0 && digits <= 9 && digits == n)
                mult = 1;
        for (size_t i = 0; digits > 0 && digits <= 9 && digits + 1 == n && i < 4; i++)
                if (v[digits] == units[i].suffix)
                        mult = units[i].mult;
        if (!mult) {
                KERR(k,
                     "'%s' is not a duration; expected seconds or a number with s, m, h or d "
                     "(90s, 15m, 6h, 1d)",
                     v);
                return false;
        }
        secs = strtoull(v, NULL, 10) * mult;
        if (secs < min || secs > max) {
                KERR(k, "%s is out of range; expected %us..%us", v, min, max);
                return false;
        }
        *ret = (unsigned)secs;
        return true;
}

static bool to_path(struct key_ctx *k, char *out, size_t size)
{
        const char *v = k->v[0];

        if (v[0] != '/') {
                KERR(k, "'%s' is not an absolute path; expected a path starting with /", v);
                return false;
        }
        if (strlen(v) >= size) {
                KERR(k, "path longer than %zu bytes", size - 1);
                return false;
        }
        memcpy(out, v, strlen(v) + 1);
        return true;
}

static bool to_digits(struct key_ctx *k, const char *what, size_t min, size_t max, char *out)
{
        if (!all_digits(k->v[0], min, max)) {
                if (min == max)
                        KERR(k, "'%s' is not an %s; expected %zu digits", k->v[0], what, min);
                else
                        KERR(k, "'%s' is not a %s; expected %zu to %zu digits", k->v[0], what, min,
                             max);
                return false;
        }
        memcpy(out, k->v[0], strlen(k->v[0]) + 1);
        return true;
}

static void k_database(struct key_ctx *k)
{
        to_path(k, k->c->database, sizeof(k->c->database));
}

static void k_state_directory(struct key_ctx *k)
{
        to_path(k, k->c->state_directory, sizeof(k->c->state_directory));
}

static void k_rules_directory(struct key_ctx *k)
{
        to_path(k, k->c->rules_directory, sizeof(k->c->rules_directory));
}

static void k_country(struct key_ctx *k)
{
        unsigned cc;

        if (phone_country_code(k->v[0], &cc) < 0) {
                KERR(k,
                     "'%s' is not a country Puente knows; expected an ISO 3166 code such as "
                     "MX, GT, US, or set default_country_code instead",
                     k->v[0]);
                return;
        }
        snprintf(k->c->country, sizeof(k->c->country), "%c%c", k->v[0][0] & ~0x20,
                 k->v[0][1] & ~0x20);
        k->c->country_code = cc;
        k->x->country_line = k->line;
}

static void k_country_code(struct key_ctx *k)
{
        unsigned cc;

        if (!to_uint(k, 1, PHONE_CC_MAX, &cc))
                return;
        if (!phone_cc_valid(cc)) {
                KERR(k,
                     "%u is not a country calling code (E.164 codes are prefix-free: none but "
                     "1 and 7 starts with 1 or 7, none with a two-digit code); expected one "
                     "such as 52, 1 or 502",
                     cc);
                return;
        }
        k->x->cc_line = k->line;
        if (!k->x->country_line)
                k->c->country[0] = '\0';
        k->c->country_code = cc;
}

static void k_autodetect(struct key_ctx *k)
{
        to_bool(k, &k->c->autodetect);
}

static void k_unknown_resend(struct key_ctx *k)
{
        to_bool(k, &k->c->unknown_resend);
}

static void k_autodetect_rescan(struct key_ctx *k)
{
        to_duration(k, 1, CONFIG_AUTODETECT_RESCAN_MAX, &k->c->autodetect_rescan);
}

static void k_reassembly_timeout(struct key_ctx *k)
{
        to_duration(k, 60, 7 * 86400, &k->c->reassembly_timeout);
}

static bool parse_usb(const char *v, struct config_usb_id *ret)
{
        unsigned vid, pid;
        const char *p;

        if (strlen(v) != 9 || v[4] != ':')
                return false;
        if (!small_uint(v, 4, 16, &p, &vid) || p != v + 4 || !small_uint(v + 5, 4, 16, &p, &pid) ||
            p != v + 9)
                return false;
        ret->vendor = (uint16_t)vid;
        ret->product = (uint16_t)pid;
        return true;
}

static void k_filter(struct key_ctx *k)
{
        struct config_filter *f = strcmp(k->key, "allow") == 0 ? &k->c->allow : &k->c->deny;

        for (unsigned i = 0; i < k->n; i++) {
                const char *v = k->v[i];
                struct config_usb_id id;
                if (f->n_usb + f->n_imei + f->n_iccid >= CONFIG_FILTER_MAX) {
                        KERR(k, "more than %d entries", CONFIG_FILTER_MAX);
                        return;
                }
                if (parse_usb(v, &id))
                        f->usb[f->n_usb++] = id;
                else if (all_digits(v, CONFIG_IMEI_DIGITS, CONFIG_IMEI_DIGITS))
                        memcpy(f->imei[f->n_imei++], v, CONFIG_IMEI_DIGITS + 1);
                else if (all_digits(v, CONFIG_ICCID_MIN, CONFIG_ICCID_MAX))
                        memcpy(f->iccid[f->n_iccid++], v, strlen(v) + 1);
                else
                        KERR(k,
                             "entry %u '%s' is neither a USB vendor:product (1e0e:9001), an "
                             "IMEI (15 digits) nor an ICCID (18 to 22 digits)",
                             i + 1, v);
        }
}

static void k_send_rate(struct key_ctx *k)
{
        unsigned *out = k->x->modem ? &k->x->modem->send_rate : &k->c->send_rate;
        to_uint(k, 0, CONFIG_SEND_RATE_MAX, out); /* 0: no pacing (the bank's "no limit") */
}

static void k_send_timeout(struct key_ctx *k)
{
        unsigned *out = k->x->modem ? &k->x->modem->send_timeout : &k->c->send_timeout;
        to_duration(k, 1, CONFIG_SEND_TIMEOUT_MAX, out);
}

static void k_daily_limit(struct key_ctx *k)
{
        unsigned *out = k->x->modem ? &k->x->modem->daily_limit : &k->c->daily_limit;
        to_uint(k, 0, CONFIG_DAILY_LIMIT_MAX, out);
}

static void k_retry_attempts(struct key_ctx *k)
{
        to_uint(k, 1, CONFIG_RETRY_ATTEMPTS_MAX, &k->c->retry.attempts);
}

static void k_retry_first(struct key_ctx *k)
{
        to_duration(k, 1, 86400, &k->c->retry.first_delay);
}

static void k_retry_max(struct key_ctx *k)
{
        to_duration(k, 1, CONFIG_DURATION_MAX, &k->c->retry.max_delay);
}

static void k_upload_url(struct key_ctx *k)
{
        const char *v = k->v[0];

        if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) {
                KERR(k, "'%s' is not a URL; expected https://HOST/PATH", v);
                return;
        }
        if (strlen(v) >= sizeof(k->c->upload.url) || strpbrk(v, " \t\"<>\\")) {
                KERR(k, "URL too long or with spaces or quotes");
                return;
        }
        memcpy(k->c->upload.url, v, strlen(v) + 1);
}

static void k_upload_interval(struct key_ctx *k)
{
        to_duration(k, 60, 86400, &k->c->upload.interval);
}

static void k_upload_key_file(struct key_ctx *k)
{
        to_path(k, k->c->upload.key_file, sizeof(k->c->upload.key_file));
}

/* An upload secret or a short name: any printable text without quotes, spaces or
 * backslashes (they would end up in an HTTP header). */
static void to_text(struct key_ctx *k, char *out, size_t size)
{
        const char *v = k->v[0];

        if (!*v || strlen(v) >= size) {
                KERR(k, "empty or longer than %zu bytes", size - 1);
                return;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f) {
                        KERR(k, "spaces, quotes or control characters; expected one word");
                        return;
                }
        memcpy(out, v, strlen(v) + 1);
}

static void k_upload_device(struct key_ctx *k)
{
        const char *v = k->v[0];
        size_t n = strlen(v);

        if (n == 0 || n >= sizeof(k->c->upload.device) ||
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
            strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
                KERR(k, "'%s' is not a device id; expected 1..63 of A-Z a-z 0-9 . _ -", v);
                return;
        }
        memcpy(k->c->upload.device, v, n + 1);
}

static void k_upload_auth(struct key_ctx *k)
{
        static const char *const names[] = { "none", "bearer", "basic", "cert", "s3" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(k->v[0], names[i]) == 0) {
                        k->c->upload.auth = (enum config_upload_auth)i;
                        return;
                }
        KERR(k, "'%s' is not an authentication; expected none, bearer, basic, cert or s3", k->v[0]);
}

static void k_upload_token(struct key_ctx *k)
{
        to_text(k, k->c->upload.token, sizeof(k->c->upload.token));
}

static void k_upload_user(struct key_ctx *k)
{
        to_text(k, k->c->upload.user, sizeof(k->c->upload.user));
}

static void k_upload_password(struct key_ctx *k)
{
        to_text(k, k->c->upload.password, sizeof(k->c->upload.password));
}

static void k_upload_s3_region(struct key_ctx *k)
{
        to_text(k, k->c->upload.s3_region, sizeof(k->c->upload.s3_region));
}

static void k_upload_client_cert(struct key_ctx *k)
{
        to_path(k, k->c->upload.client_cert, sizeof(k->c->upload.client_cert));
}

static void k_upload_client_key(struct key_ctx *k)
{
        to_path(k, k->c->upload.client_key, sizeof(k->c->upload.client_key));
}

static void k_upload_ca_file(struct key_ctx *k)
{
        to_path(k, k->c->upload.ca_file, sizeof(k->c->upload.ca_file));
}

static void k_upload_batch_events(struct key_ctx *k)
{
        to_uint(k, 1, 100000, &k->c->upload.batch_events);
}

static void k_upload_batch_interval(struct key_ctx *k)
{
        to_duration(k, 10, 86400, &k->c->upload.batch_interval);
}

static void k_upload_timeout(struct key_ctx *k)
{
        to_duration(k, 5, 3600, &k->c->upload.timeout);
}

static void k_upload_backoff_max(struct key_ctx *k)
{
        to_duration(k, 60, 86400, &k->c->upload.backoff_max);
}

static void k_upload_heartbeat_days(struct key_ctx *k)
{
        to_uint(k, 1, 365, &k->c->upload.heartbeat_days);
}

static void k_upload_disk_budget(struct key_ctx *k)
{
        to_uint(k, 1, 1024 * 1024, &k->c->upload.disk_budget_mb);
}

/* "HH:MM-HH:MM" in local time; the end may be past midnight ("22:00-06:00"). */
static void k_upload_hours(struct key_ctx *k)
{
        unsigned h1, m1, h2, m2;
        const char *p = k->v[0];

        /* one or two digits each, as "6:30-9:00" has always been accepted */
        if (!small_uint(p, 2, 10, &p, &h1) || *p++ != ':' || !small_uint(p, 2, 10, &p, &m1) ||
            *p++ != '-' || !small_uint(p, 2, 10, &p, &h2) || *p++ != ':' ||
            !small_uint(p, 2, 10, &p, &m2) || *p != '\0' || h1 > 23 || h2 > 24 || m1 > 59 ||
            m2 > 59 || (h2 == 24 && m2 != 0)) {
                KERR(k, "'%s' is not a time window; expected HH:MM-HH:MM (22:00-06:00)", k->v[0]);
                return;
        }
        k->c->upload.hours_start = (int)(h1 * 60 + m1);
        k->c->upload.hours_end = (int)((h2 % 24) * 60 + m2);
}

static void k_modem_device(struct key_ctx *k)
{
        to_path(k, k->x->modem->device, sizeof(k->x->modem->device));
}

static void k_modem_baud(struct key_ctx *k)
{
        unsigned b;
        char list[128];
        size_t n = 0;

        if (all_digits(k->v[0], 1, 7)) {
                b = (unsigned)strtoul(k->v[0], NULL, 10);
                for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
                        if (bauds[i] == b) {
                                k->x->modem->baud = b;
                                return;
                        }
                }
        }
        for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++)
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? ", " : "", bauds[i]);
        KERR(k, "'%s' is not a serial speed; expected one of %s", k->v[0], list);
}

static void k_modem_flow(struct key_ctx *k)
{
        if (strcmp(k->v[0], "rtscts") == 0)
                k->x->modem->flow = CONFIG_FLOW_RTSCTS;
        else if (strcmp(k->v[0], "none") == 0)
                k->x->modem->flow = CONFIG_FLOW_NONE;
        else
                KERR(k, "'%s' is not a flow control; expected \"rtscts\" or \"none\"", k->v[0]);
}

static void k_modem_pin(struct key_ctx *k)
{
        to_digits(k, "SIM PIN", CONFIG_PIN_MIN, CONFIG_PIN_MAX, k->x->modem->pin);
}

static void k_modem_iccid(struct key_ctx *k)
{
        to_digits(k, "ICCID", CONFIG_ICCID_MIN, CONFIG_ICCID_MAX, k->x->modem->iccid);
}

static void k_modem_imei(struct key_ctx *k)
{
        to_digits(k, "IMEI", CONFIG_IMEI_DIGITS, CONFIG_IMEI_DIGITS, k->x->modem->imei);
}

static void k_pin_pin(struct key_ctx *k)
{
        to_digits(k, "SIM PIN", CONFIG_PIN_MIN, CONFIG_PIN_MAX, k->x->pin->pin);
}

static void k_staff_replies(struct key_ctx *k)
{
        to_uint(k, 1, CONFIG_STAFF_REPLIES_MAX, &k->c->staff_replies_per_hour);
}

/* A staff number is normalized with the country of the top-level keys (read first). */
static bool to_phone(struct key_ctx *k, const char *v, char out[CONFIG_PHONE_MAX])
{
        enum phone_problem problem = PHONE_OK;
        char e164[PHONE_E164_MAX];

        if (phone_normalize(v, k->c->country_code, e164, &problem) < 0) {
                KERR(k, "'%s' is not a phone number: it %s; expected one such as +525512345678", v,
                     phone_problem_str(problem));
                return false;
        }
        memcpy(out, e164, sizeof(e164));
        return true;
}

static void k_upload_heartbeat_number(struct key_ctx *k)
{
        to_phone(k, k->v[0], k->c->upload.heartbeat_number);
}

static void k_clinic_staff(struct key_ctx *k)
{
        struct config_clinic *cl = k->x->clinic;

        for (unsigned i = 0; i < k->n; i++) {
                char e164[CONFIG_PHONE_MAX];
                bool dup = false;
                if (!to_phone(k, k->v[i], e164))
                        continue;
                for (unsigned j = 0; j < cl->n_staff; j++)
                        dup |= strcmp(cl->staff[j], e164) == 0;
                if (dup) {
                        KERR(k, "'%s' (%s) is listed twice", k->v[i], e164);
                        continue;
                }
                if (cl->n_staff == CONFIG_STAFF_MAX) {
                        KERR(k, "more than %d numbers", CONFIG_STAFF_MAX);
                        return;
                }
                memcpy(cl->staff[cl->n_staff++], e164, CONFIG_PHONE_MAX);
        }
}

static void k_clinic_manager(struct key_ctx *k)
{
        to_phone(k, k->v[0], k->x->clinic->manager);
}

/* "HH:MM", 24-hour local time. */
static void k_clinic_summary(struct key_ctx *k)
{
        const char *v = k->v[0];
        unsigned h, m;
        const char *p;

        if (strlen(v) != 5 || !small_uint(v, 2, 10, &p, &h) || p != v + 2 || *p != ':' ||
            !small_uint(v + 3, 2, 10, &p, &m) || p != v + 5 || h > 23 || m > 59) {
                KERR(k, "'%s' is not a time of day; expected HH:MM such as \"19:00\"", v);
                return;
        }
        k->x->clinic->summary_minute = (int)(h * 60 + m);
}

static const struct {
        const char *section, *key;
        void (*fn)(struct key_ctx *k);
} keys[] = {
        { "", "database", k_database },
        { "", "state_directory", k_state_directory },
        { "", "rules_directory", k_rules_directory },
        { "", "country", k_country },
        { "", "default_country_code", k_country_code },
        { "", "autodetect", k_autodetect },
        { "", "autodetect_rescan", k_autodetect_rescan },
        { "", "allow", k_filter },
        { "", "deny", k_filter },
        { "", "unknown_resend", k_unknown_resend },
        { "", "reassembly_timeout", k_reassembly_timeout },
        { "", "send_rate", k_send_rate },
        { "", "send_timeout", k_send_timeout },
        { "", "daily_limit", k_daily_limit },
        { "retry", "attempts", k_retry_attempts },
        { "retry", "first_delay", k_retry_first },
        { "retry", "max_delay", k_retry_max },
        { "upload", "url", k_upload_url },
        { "upload", "interval", k_upload_interval },
        { "upload", "key_file", k_upload_key_file },
        { "upload", "device", k_upload_device },
        { "upload", "auth", k_upload_auth },
        { "upload", "token", k_upload_token },
        { "upload", "user", k_upload_user },
        { "upload", "password", k_upload_password },
        { "upload", "client_cert", k_upload_client_cert },
        { "upload", "client_key", k_upload_client_key },
        { "upload", "ca_file", k_upload_ca_file },
        { "upload", "s3_region", k_upload_s3_region },
        { "upload", "batch_events", k_upload_batch_events },
        { "upload", "batch_interval", k_upload_batch_interval },
        { "upload", "timeout", k_upload_timeout },
        { "upload", "backoff_max", k_upload_backoff_max },
        { "upload", "hours", k_upload_hours },
        { "upload", "disk_budget_mb", k_upload_disk_budget },
        { "upload", "heartbeat_days", k_upload_heartbeat_days },
        { "upload", "heartbeat_number", k_upload_heartbeat_number },
        { "modem", "device", k_modem_device },
        { "modem", "baud", k_modem_baud },
        { "modem", "flow", k_modem_flow },
        { "modem", "pin", k_modem_pin },
        { "modem", "send_rate", k_send_rate },
        { "modem", "send_timeout", k_send_timeout },
        { "modem", "daily_limit", k_daily_limit },
        { "modem", "iccid", k_modem_iccid },
        { "modem", "imei", k_modem_imei },
        { "pin", "pin", k_pin_pin },
        { "", "staff_replies_per_hour", k_staff_replies },
        { "clinic", "staff", k_clinic_staff },
        { "clinic", "manager", k_clinic_manager },
        { "clinic", "summary", k_clinic_summary },
};

void config_check_key(struct config_ctx *x, struct config *c, const char *key,
                      const char *const *values, unsigned n)
{
        struct key_ctx k = { .x = x, .c = c, .key = key, .v = values, .n = n };

        k.line = config_scan_line(x->scan, x->section, x->title, key);
        if ((x->modem == NULL && strcmp(x->section, "modem") == 0) ||
            (x->pin == NULL && strcmp(x->section, "pin") == 0) ||
            (x->clinic == NULL && strcmp(x->section, "clinic") == 0))
                return; /* a section over the limit: reported once at its start */
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                if (strcmp(keys[i].section, x->section) == 0 && strcmp(keys[i].key, key) == 0) {
                        if (n == 0)
                                return;
                        keys[i].fn(&k);
                        return;
                }
        }
        /* the schema in config.c and this table disagree: a programming error */
        KERR(&k, "no conversion for this key");
}

static enum config_modem_key modem_key_of(const char *title)
{
        if (title[0] == '/')
                return CONFIG_KEY_DEVICE;
        if (all_digits(title, CONFIG_IMEI_DIGITS, CONFIG_IMEI_DIGITS))
                return CONFIG_KEY_IMEI;
        if (all_digits(title, CONFIG_ICCID_MIN, CONFIG_ICCID_MAX))
                return CONFIG_KEY_ICCID;
        return CONFIG_KEY_NAME;
}

static void begin_modem(struct config_ctx *x, struct config *c, const char *title, unsigned line)
{
        struct config_modem *m;

        if (c->n_modems == CONFIG_MODEMS_MAX) {
                config_error(x, line, "modem \"%s\": more than %d modem sections", title,
                             CONFIG_MODEMS_MAX);
                return;
        }
        if (strlen(title) >= CONFIG_NAME_MAX) {
                config_error(x, line, "modem \"%s\": name longer than %d bytes", title,
                             CONFIG_NAME_MAX - 1);
                return;
        }
        m = x->modem = &c->modems[c->n_modems++];
        memset(m, 0, sizeof(*m));
        copy(m->name, sizeof(m->name), title);
        m->key = modem_key_of(title);
        m->baud = CONFIG_DEFAULT_BAUD;
        m->flow = CONFIG_FLOW_NONE;
        m->send_rate = c->send_rate;
        m->send_timeout = c->send_timeout;
        m->daily_limit = c->daily_limit;
        m->line = line;
}

static void begin_pin(struct config_ctx *x, struct config *c, const char *title, unsigned line)
{
        if (!all_digits(title, CONFIG_ICCID_MIN, CONFIG_ICCID_MAX)) {
                config_error(x, line,
                             "pin \"%s\": not an ICCID; expected pin ICCID { pin = "
                             "\"1234\" } with 18 to 22 digits",
                             title);
                return;
        }
        if (c->n_pins == CONFIG_PINS_MAX) {
                config_error(x, line, "pin \"%s\": more than %d pin sections", title,
                             CONFIG_PINS_MAX);
                return;
        }
        x->pin = &c->pins[c->n_pins++];
        memset(x->pin, 0, sizeof(*x->pin));
        memcpy(x->pin->iccid, title, strlen(title) + 1);
}

static void begin_clinic(struct config_ctx *x, struct config *c, const char *title, unsigned line)
{
        if (c->n_clinics == CONFIG_CLINICS_MAX) {
                config_error(x, line, "clinic \"%s\": more than %d clinic sections", title,
                             CONFIG_CLINICS_MAX);
                return;
        }
        if (strlen(title) >= CONFIG_CLINIC_NAME_MAX) {
                config_error(x, line, "clinic \"%s\": name longer than %d bytes", title,
                             CONFIG_CLINIC_NAME_MAX - 1);
                return;
        }
        x->clinic = &c->clinics[c->n_clinics++];
        memset(x->clinic, 0, sizeof(*x->clinic));
        copy(x->clinic->name, sizeof(x->clinic->name), title);
        x->clinic->summary_minute = -1;
        x->clinic->line = line;
}

void config_check_section(struct config_ctx *x, struct config *c, const char *section,
                          const char *title)
{
        unsigned line = *section ? config_scan_section_line(x->scan, section, title, NULL) : 0;

        x->section = section;
        x->title = title;
        if (x->clinic && x->clinic->summary_minute >= 0 && !x->clinic->manager[0] &&
            !config_scan_line(x->scan, "clinic", x->title, "manager"))
                config_error(x, config_scan_line(x->scan, "clinic", x->title, "summary"),
                             "clinic \"%s\": summary: no manager to send it to; expected "
                             "manager = \"+525512345678\"",
                             x->title);
        x->modem = NULL;
        x->pin = NULL;
        x->clinic = NULL;
        if (strcmp(section, "modem") == 0)
                begin_modem(x, c, title, line);
        else if (strcmp(section, "clinic") == 0)
                begin_clinic(x, c, title, line);
        else if (strcmp(section, "pin") == 0)
                begin_pin(x, c, title, line);
        else if (strcmp(section, "upload") == 0)
                c->upload.enabled = true;
}

static void end_modem(struct config_ctx *x, struct config_modem *m)
{
        /* The title is the identity unless it is a plain name; a key inside that repeats the
         * identity must agree with it. */
        if (m->key == CONFIG_KEY_DEVICE) {
                if (m->device[0] && strcmp(m->device, m->name) != 0)
                        config_error(x, m->line,
                                     "modem \"%s\": device \"%s\" differs from the "
                                     "section's path",
                                     m->name, m->device);
                copy(m->device, sizeof(m->device), m->name);
        } else if (m->key == CONFIG_KEY_IMEI) {
                if (m->imei[0] && strcmp(m->imei, m->name) != 0)
                        config_error(x, m->line,
                                     "modem \"%s\": imei %s differs from the "
                                     "section's IMEI",
                                     m->name, m->imei);
                memcpy(m->imei, m->name, CONFIG_IMEI_DIGITS + 1);
        } else if (m->key == CONFIG_KEY_ICCID) {
                if (m->iccid[0] && strcmp(m->iccid, m->name) != 0)
                        config_error(x, m->line,
                                     "modem \"%s\": iccid %s differs from the "
                                     "section's ICCID",
                                     m->name, m->iccid);
                copy(m->iccid, sizeof(m->iccid), m->name);
        } else if (!m->device[0] && !m->imei[0] && !m->iccid[0]) {
                config_error(x, m->line,
                             "modem \"%s\": no identity; expected device, imei or iccid in "
                             "the section, or a path, IMEI or ICCID as its name",
                             m->name);
        }
}

/* No key at all in the section (a misspelt key is reported as unknown, not as missing). */
static bool section_is_empty(const struct config_ctx *x, const char *section, const char *title)
{
        for (size_t i = 0; i < x->scan->n; i++) {
                const struct config_scan_entry *e = &x->scan->e[i];
                if (e->depth == 1 && strcmp(e->section, section) == 0 &&
                    strcmp(e->title, title) == 0)
                        return false;
        }
        return true;
}

void config_check_end_section(struct config_ctx *x, struct config *c)
{
        if (x->modem)
                end_modem(x, x->modem);
        if (x->pin && !x->pin->pin[0])
                config_error(x, config_scan_section_line(x->scan, "pin", x->title, NULL),
                             "pin \"%s\": no pin; expected pin = \"1234\"", x->title);
        if (x->clinic && section_is_empty(x, "clinic", x->title))
                config_error(x, x->clinic->line,
                             "clinic \"%s\": no staff; expected staff = { \"+525512345678\" } "
                             "or manager = \"+525512345678\"",
                             x->title);
        if (x->clinic && x->clinic->summary_minute >= 0 && !x->clinic->manager[0] &&
            !config_scan_line(x->scan, "clinic", x->title, "manager"))
                config_error(x, config_scan_line(x->scan, "clinic", x->title, "summary"),
                             "clinic \"%s\": summary: no manager to send it to; expected "
                             "manager = \"+525512345678\"",
                             x->title);
        x->modem = NULL;
        x->pin = NULL;
        x->clinic = NULL;
        x->section = "";
        x->title = "";
}

/* Each authentication needs its keys: said once, at the section. */
static void check_upload_auth(struct config_ctx *x, const struct config *c)
{
        const struct config_upload *u = &c->upload;
        const char *missing = NULL;

        if (!u->enabled)
                return;
        if (u->auth == CONFIG_UPLOAD_AUTH_BEARER && !u->token[0])
                missing = "auth = \"bearer\" needs token = \"...\"";
        else if ((u->auth == CONFIG_UPLOAD_AUTH_BASIC || u->auth == CONFIG_UPLOAD_AUTH_S3) &&
                 (!u->user[0] || !u->password[0]))
                missing = u->auth == CONFIG_UPLOAD_AUTH_S3
                                  ? "auth = \"s3\" needs user (access key id) and password (secret)"
                                  : "auth = \"basic\" needs user and password";
        else if (u->auth == CONFIG_UPLOAD_AUTH_CERT && !u->client_cert[0])
                missing = "auth = \"cert\" needs client_cert = \"/PATH\"";
        if (missing)
                config_error(x, config_scan_section_line(x->scan, "upload", "", NULL), "upload: %s",
                             missing);
}

static void check_modem_pairs(struct config_ctx *x, struct config *c)
{
        for (unsigned i = 0; i < c->n_modems; i++) {
                const struct config_modem *a = &c->modems[i];
                for (unsigned j = 0; j < i; j++) {
                        const struct config_modem *b = &c->modems[j];
                        const char *same = NULL;
                        if (a->imei[0] && strcmp(a->imei, b->imei) == 0)
                                same = "IMEI";
                        else if (a->iccid[0] && strcmp(a->iccid, b->iccid) == 0)
                                same = "ICCID";
                        else if (a->device[0] && strcmp(a->device, b->device) == 0)
                                same = "device";
                        if (same)
                                config_error(x, a->line,
                                             "modem \"%s\": same %s as modem \"%s\" (line %u)",
                                             a->name, same, b->name, b->line);
                }
        }
}

void config_check_finish(struct config_ctx *x, struct config *c)
{
        /* the database follows the state directory unless it is placed elsewhere */
        if (!config_scan_line(x->scan, "", "", "database") &&
            config_scan_line(x->scan, "", "", "state_directory")) {
                size_t n = strlen(c->state_directory);
                if (n + sizeof("/puente.db") > sizeof(c->database)) {
                        config_error(x, config_scan_line(x->scan, "", "", "state_directory"),
                                     "state_directory: too long to hold puente.db");
                } else {
                        memcpy(c->database, c->state_directory, n);
                        memcpy(c->database + n, "/puente.db", sizeof("/puente.db"));
                }
        }
        check_modem_pairs(x, c);
        for (unsigned i = 0; i < c->n_pins; i++)
                for (unsigned j = 0; j < i; j++)
                        if (strcmp(c->pins[i].iccid, c->pins[j].iccid) == 0)
                                config_error(x, 0, "pin \"%s\": given twice", c->pins[i].iccid);
        if (x->country_line && x->cc_line) {
                unsigned cc = 0;
                phone_country_code(c->country, &cc);
                if (cc != c->country_code)
                        config_error(x, x->cc_line,
                                     "default_country_code: %u disagrees with country %s "
                                     "(line %u), whose code is %u; expected one of the two",
                                     c->country_code, c->country, x->country_line, cc);
        }
        if (c->retry.max_delay < c->retry.first_delay)
                config_error(x, config_scan_line(x->scan, "retry", "", "max_delay"),
                             "retry: max_delay %us is shorter than first_delay %us",
                             c->retry.max_delay, c->retry.first_delay);
        if (c->upload.enabled && !config_scan_line(x->scan, "upload", "", "url"))
                config_error(x, config_scan_section_line(x->scan, "upload", "", NULL),
                             "upload: no url; expected url = \"https://HOST/PATH\"");
        check_upload_auth(x, c);
}

const struct config_modem *config_modem_find(const struct config *c, const char *device,
                                             const char *imei, const char *iccid)
{
        for (int pass = 0; pass < 3; pass++) {
                for (unsigned i = 0; i < c->n_modems; i++) {
                        const struct config_modem *m = &c->modems[i];
                        if (pass == 0 && imei && *imei && strcmp(m->imei, imei) == 0)
                                return m;
                        if (pass == 1 && iccid && *iccid && strcmp(m->iccid, iccid) == 0)
                                return m;
                        if (pass == 2 && device && *device && strcmp(m->device, device) == 0)
                                return m;
                }
        }
        return NULL;
}

const char *config_pin_for(const struct config *c, const struct config_modem *m, const char *iccid)
{
        for (unsigned i = 0; iccid && i < c->n_pins; i++)
                if (strcmp(c->pins[i].iccid, iccid) == 0)
                        return c->pins[i].pin;
        return m && m->pin[0] ? m->pin : NULL;
}

static bool filter_has(const struct config_filter *f, uint16_t vendor, uint16_t product,
                       const char *imei, const char *iccid)
{
        for (unsigned i = 0; vendor && i < f->n_usb; i++)
                if (f->usb[i].vendor == vendor && f->usb[i].product == product)
                        return true;
        for (unsigned i = 0; imei && i < f->n_imei; i++)
                if (strcmp(f->imei[i], imei) == 0)
                        return true;
        for (unsigned i = 0; iccid && i < f->n_iccid; i++)
                if (strcmp(f->iccid[i], iccid) == 0)
                        return true;
        return false;
}

bool config_autodetect_allows(const struct config *c, uint16_t vendor, uint16_t product,
                              const char *imei, const char *iccid)
{
        if (filter_has(&c->deny, vendor, product, imei, iccid))
                return false;
        if (c->allow.n_usb + c->allow.n_imei + c->allow.n_iccid == 0)
                return true;
        return filter_has(&c->allow, vendor, product, imei, iccid);
}

bool config_autodetect_may_probe(const struct config *c, uint16_t vendor, uint16_t product)
{
        if (filter_has(&c->deny, vendor, product, NULL, NULL))
                return false;
        if (c->allow.n_imei + c->allow.n_iccid > 0)
                return true; /* its IMEI or SIM may be on the allow list: only a probe tells */
        return config_autodetect_allows(c, vendor, product, NULL, NULL);
}

const struct config_clinic *config_staff_find(const struct config *c, const char *e164)
{
        for (unsigned i = 0; e164 && *e164 && i < c->n_clinics; i++) {
                const struct config_clinic *cl = &c->clinics[i];
                if (strcmp(cl->manager, e164) == 0)
                        return cl;
                for (unsigned j = 0; j < cl->n_staff; j++)
                        if (strcmp(cl->staff[j], e164) == 0)
                                return cl;
        }
        return NULL;
}

unsigned config_retry_delay(const struct config *c, unsigned attempts)
{
        unsigned long long d = c->retry.first_delay;

        for (unsigned i = 1; i < attempts && d < c->retry.max_delay; i++)
                d *= 2;
        return d > c->retry.max_delay ? c->retry.max_delay : (unsigned)d;
}
