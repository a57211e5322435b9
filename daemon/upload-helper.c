/* The upload helper's protocol: settings lines, the result line, and their words (see
 * upload-helper.h). */
#include "daemon/upload-helper.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[UPLOAD_HELPER_CLASS_COUNT] = {
        [UPLOAD_HELPER_OK] = "ok",
        [UPLOAD_HELPER_RESOLVE] = "resolve",
        [UPLOAD_HELPER_CONNECT] = "connect",
        [UPLOAD_HELPER_TIMEOUT] = "timeout",
        [UPLOAD_HELPER_SERVER_CERT] = "server-cert",
        [UPLOAD_HELPER_CLIENT_CERT] = "client-cert",
        [UPLOAD_HELPER_TLS] = "tls",
        [UPLOAD_HELPER_CUT_OFF] = "cut-off",
        [UPLOAD_HELPER_FAILED] = "failed",
        [UPLOAD_HELPER_LOCAL] = "local",
};

static const char *const auth_names[] = {
        [UPLOAD_AUTH_NONE] = "none", [UPLOAD_AUTH_BEARER] = "bearer", [UPLOAD_AUTH_BASIC] = "basic",
        [UPLOAD_AUTH_CERT] = "cert", [UPLOAD_AUTH_S3] = "s3",
};
#define AUTH_COUNT (sizeof(auth_names) / sizeof(auth_names[0]))

/* The string settings: their key and where they live in struct upload_config. */
static const struct {
        const char *key;
        size_t offset, size;
} string_keys[] = {
#define KEY(name)                                                                                  \
        {                                                                                          \
#name, offsetof(struct upload_config, name),                                       \
                        sizeof(((struct upload_config *)0)->name)                                  \
        }
        KEY(url),         KEY(token),      KEY(user),    KEY(password),
        KEY(client_cert), KEY(client_key), KEY(ca_file), KEY(s3_region),
#undef KEY
};
#define STRING_KEYS (sizeof(string_keys) / sizeof(string_keys[0]))

static int append(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
        if (strpbrk(value, "\r\n"))
                return -EINVAL;
        int n = snprintf(buf + *len, size - *len, "%s %s\n", key, value);
        if (n < 0 || (size_t)n >= size - *len)
                return -ENOBUFS;
        *len += (size_t)n;
        return 0;
}

int upload_helper_settings_write(const struct upload_config *cfg, char *buf, size_t size,
                                 size_t *ret_len)
{
        char timeout[16];
        size_t len = 0;
        int r;

        if ((unsigned)cfg->auth >= AUTH_COUNT)
                return -EINVAL;
        snprintf(timeout, sizeof(timeout), "%u", cfg->timeout);
        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        r = snprintf(buf, size, "%s\n", UPLOAD_HELPER_VERSION);
        if (r < 0 || (size_t)r >= size)
                return -ENOBUFS;
        len = (size_t)r;
        for (size_t i = 0; i < STRING_KEYS; i++)
                if ((r = append(buf, size, &len, string_keys[i].key,
                                (const char *)cfg + string_keys[i].offset)) < 0)
                        return r;
        if ((r = append(buf, size, &len, "auth", auth_names[cfg->auth])) < 0 ||
            (r = append(buf, size, &len, "timeout", timeout)) < 0)
                return r;
        r = snprintf(buf + len, size - len, "%s\n", UPLOAD_HELPER_END);
        if (r < 0 || (size_t)r >= size - len)
                return -ENOBUFS;
        *ret_len = len + (size_t)r;
        return 0;
}

static int bad(char *errmsg, unsigned line_no, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int bad(char *errmsg, unsigned line_no, const char *fmt, ...)
{
        char text[UPLOAD_ERROR_MAX - 32];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        snprintf(errmsg, UPLOAD_ERROR_MAX, "settings line %u: %s", line_no, text);
        return -EBADMSG;
}

int upload_helper_settings_parse(struct upload_config *cfg, const char *line, unsigned line_no,
                                 char *errmsg)
{
        if (line_no == 1)
                return strcmp(line, UPLOAD_HELPER_VERSION) == 0
                               ? 0
                               : bad(errmsg, line_no, "expected \"%s\" first",
                                     UPLOAD_HELPER_VERSION);
        if (strcmp(line, UPLOAD_HELPER_END) == 0)
                return 1;
        const char *sp = strchr(line, ' ');
        if (!sp)
                return bad(errmsg, line_no, "expected \"key value\", got \"%.60s\"", line);
        size_t klen = (size_t)(sp - line);
        const char *value = sp + 1;
        for (size_t i = 0; i < STRING_KEYS; i++) {
                if (strlen(string_keys[i].key) != klen ||
                    strncmp(line, string_keys[i].key, klen) != 0)
                        continue;
                if (strlen(value) >= string_keys[i].size)
                        return bad(errmsg, line_no, "%s too long", string_keys[i].key);
                memcpy((char *)cfg + string_keys[i].offset, value, strlen(value) + 1);
                return 0;
        }
        if (klen == 4 && strncmp(line, "auth", 4) == 0) {
                for (size_t a = 0; a < AUTH_COUNT; a++)
                        if (strcmp(value, auth_names[a]) == 0) {
                                cfg->auth = (enum upload_auth)a;
                                return 0;
                        }
                return bad(errmsg, line_no, "unknown auth \"%.40s\"", value);
        }
        if (klen == 7 && strncmp(line, "timeout", 7) == 0) {
                char *end;
                errno = 0;
                unsigned long t = strtoul(value, &end, 10);
                if (errno || end == value || *end || value[0] == '-' || t == 0 || t > 86400)
                        return bad(errmsg, line_no, "timeout \"%.20s\" is not 1..86400 seconds",
                                   value);
                cfg->timeout = (unsigned)t;
                return 0;
        }
        return bad(errmsg, line_no, "unknown key \"%.40s\"", line);
}

void upload_helper_result_format(const struct upload_helper_result *r, char *buf, size_t size)
{
        char detail[UPLOAD_HELPER_DETAIL_MAX];
        unsigned c = (unsigned)r->class < UPLOAD_HELPER_CLASS_COUNT ? (unsigned)r->class
                                                                    : UPLOAD_HELPER_FAILED;

        snprintf(detail, sizeof(detail), "%s", r->detail);
        for (char *p = detail; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                        *p = ' ';
        snprintf(buf, size, "result %s %d %ld %s\n", class_names[c], r->curl_code, r->http_status,
                 detail);
}

/* A decimal number of at most `digits` digits at *p, then a space. */
static int number(const char **p, const char *end, unsigned digits, long *ret)
{
        const char *s = *p;
        long v = 0;
        unsigned n = 0;

        while (s < end && *s >= '0' && *s <= '9' && n < digits) {
                v = v * 10 + (*s++ - '0');
                n++;
        }
        if (n == 0 || s >= end || *s != ' ')
                return -EBADMSG;
        *p = s + 1;
        *ret = v;
        return 0;
}

int upload_helper_result_parse(const char *text, size_t len, struct upload_helper_result *ret)
{
        static const char prefix[] = "result ";
        const char *p = text, *end = text + len;
        struct upload_helper_result r = { 0 };
        long code, status;
        size_t c;

        if (len < sizeof(prefix) || memcmp(p, prefix, sizeof(prefix) - 1) != 0 ||
            text[len - 1] != '\n')
                return -EBADMSG;
        end--; /* the line break, the only one allowed */
        p += sizeof(prefix) - 1;
        for (c = 0; c < UPLOAD_HELPER_CLASS_COUNT; c++) {
                size_t n = strlen(class_names[c]);
                if ((size_t)(end - p) > n && memcmp(p, class_names[c], n) == 0 && p[n] == ' ')
                        break;
        }
        if (c == UPLOAD_HELPER_CLASS_COUNT)
                return -EBADMSG;
        p += strlen(class_names[c]) + 1;
        if (number(&p, end, 4, &code) < 0 || number(&p, end, 3, &status) < 0)
                return -EBADMSG;
        if ((size_t)(end - p) >= sizeof(r.detail))
                return -EBADMSG;
        for (const char *q = p; q < end; q++)
                if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
                        return -EBADMSG;
        r.class = (enum upload_helper_class)c;
        r.curl_code = (int)code;
        r.http_status = status;
        memcpy(r.detail, p, (size_t)(end - p));
        r.detail[end - p] = '\0';
        *ret = r;
        return 0;
}

bool upload_helper_succeeded(const struct upload_helper_result *r)
{
        return r->class == UPLOAD_HELPER_OK && r->http_status >= 200 && r->http_status < 300;
}

void upload_helper_describe(const struct upload_helper_result *r, enum upload_auth auth,
                            unsigned timeout, char *buf, size_t size)
{
        const char *detail = r->detail[0] ? r->detail : "no detail";

        switch (r->class) {
        case UPLOAD_HELPER_OK: {
                long code = r->http_status;
                /* nginx answers 400 to a TLS client without the certificate that
                 * ssl_verify_client requires, or with one from a CA it does not know */
                const char *cert_400 =
                        auth == UPLOAD_AUTH_CERT
                                ? " (refused: the server did not accept our client certificate)"
                                : " (bad request: a server that requires a client certificate"
                                  " answers this to a box without one: auth = \"cert\")";
                const char *what = code == 400   ? cert_400
                                   : code == 401 ? " (not authorised: check token or user)"
                                   : code == 403 ? " (forbidden: check the server's rights)"
                                   : code == 404 ? " (no such place: check the url)"
                                   : code >= 500 ? " (server error)"
                                                 : "";
                snprintf(buf, size, "server answered %ld%s", code, what);
                break;
        }
        case UPLOAD_HELPER_RESOLVE:
                snprintf(buf, size, "cannot resolve the server's name (DNS or no network): %s",
                         detail);
                break;
        case UPLOAD_HELPER_CONNECT:
                snprintf(buf, size, "no connection to the server (refused or no route): %s",
                         detail);
                break;
        case UPLOAD_HELPER_TIMEOUT:
                snprintf(buf, size, "timed out after %u s: %s", timeout, detail);
                break;
        case UPLOAD_HELPER_SERVER_CERT:
                snprintf(buf, size, "server certificate not trusted: %s", detail);
                break;
        case UPLOAD_HELPER_CLIENT_CERT:
                snprintf(buf, size, "client certificate or key unusable: %s", detail);
                break;
        case UPLOAD_HELPER_TLS:
                snprintf(buf, size, "TLS failed: %s", detail);
                break;
        case UPLOAD_HELPER_CUT_OFF:
                snprintf(buf, size, "connection cut off: %s", detail);
                break;
        case UPLOAD_HELPER_LOCAL:
                snprintf(buf, size, "upload helper failed: %s", detail);
                break;
        case UPLOAD_HELPER_FAILED:
        default:
                snprintf(buf, size, "upload failed: %s", detail);
                break;
        }
}
