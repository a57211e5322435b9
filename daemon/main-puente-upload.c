/* puente-upload: puented's upload helper. Does ONE PUT of one batch file with libcurl's easy
 * interface, prints one result line and exits, so that puented itself never maps libcurl and
 * its TLS libraries (issue 4: 7 MiB of a 14 MiB daemon) and never parses the network's TLS
 * in the process that holds the database and the modems.
 *
 *   puente-upload FILE OBJECT  < settings
 *
 * FILE is the batch (<state>/upload/0000000042.ndjson.gz), OBJECT its name under the
 * configured url (<device>/0000000042.ndjson.gz); neither is secret. The settings, secrets
 * included, come on stdin as "key value" lines between "puente-upload 1" and "end" (the
 * format is in daemon/upload-helper.h), never in argv or the environment, which ps and /proc
 * show. The result is one line on stdout, "result CLASS CURLCODE HTTPSTATUS DETAIL"
 * (upload-helper.h); exit status 0, or 1 with class "local" when the helper could not try at
 * all (bad settings, unreadable batch), 2 for a usage error. puented kills it when it runs
 * past its time-out plus UPLOAD_SPAWN_GRACE_S.
 *
 * The only file of Puente that includes curl/curl.h (docs/upload.md). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/batch.h"
#include "daemon/ctl.h" /* PUENTE_VERSION */
#include "daemon/upload-helper.h"

#define CONNECT_TIMEOUT_S 30
#define BODY_MAX          (512u * 1024 * 1024) /* far above any batch (BATCH_EVENTS_MAX) */

_Static_assert(CURL_ERROR_SIZE <= UPLOAD_HELPER_DETAIL_MAX, "curl's error text fits the result");

struct body {
        uint8_t *data;
        size_t len, off;
};

static size_t read_body(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct body *b = userdata;
        size_t n = size * nitems, left = b->len - b->off;

        if (n > left)
                n = left;
        memcpy(buf, b->data + b->off, n);
        b->off += n;
        return n;
}

/* curl rewinds when it must send the body again (a redirect or an auth round). */
static int seek_body(void *userdata, curl_off_t offset, int origin)
{
        struct body *b = userdata;

        if (origin != SEEK_SET || offset < 0 || (size_t)offset > b->len)
                return CURL_SEEKFUNC_CANTSEEK;
        b->off = (size_t)offset;
        return CURL_SEEKFUNC_OK;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

static int print_result(enum upload_helper_class class, int code, long status, const char *detail)
{
        struct upload_helper_result r = { .class = class,
                                          .curl_code = code,
                                          .http_status = status };
        char line[UPLOAD_HELPER_RESULT_MAX];

        snprintf(r.detail, sizeof(r.detail), "%s", detail);
        upload_helper_result_format(&r, line, sizeof(line));
        if (fputs(line, stdout) == EOF || fflush(stdout) == EOF)
                return 1;
        return class == UPLOAD_HELPER_LOCAL ? 1 : 0;
}

static int fail_local(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_local(const char *fmt, ...)
{
        char text[UPLOAD_HELPER_DETAIL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        fprintf(stderr, "puente-upload: %s\n", text);
        print_result(UPLOAD_HELPER_LOCAL, 0, 0, text);
        return 1;
}

/* The settings from stdin, up to the end line. */
static int read_settings(struct upload_config *cfg, char *errmsg)
{
        char line[UPLOAD_HELPER_LINE_MAX + 2];
        unsigned n = 0;

        memset(cfg, 0, sizeof(*cfg));
        while (fgets(line, sizeof(line), stdin)) {
                size_t len = strlen(line);
                n++;
                if (len == 0 || line[len - 1] != '\n') {
                        snprintf(errmsg, UPLOAD_ERROR_MAX, "settings line %u: too long or cut", n);
                        return -EBADMSG;
                }
                line[len - 1] = '\0';
                int r = upload_helper_settings_parse(cfg, line, n, errmsg);
                if (r < 0)
                        return r;
                if (r == 1)
                        return cfg->url[0]
                                       ? 0
                                       : (snprintf(errmsg, UPLOAD_ERROR_MAX, "no url"), -EBADMSG);
        }
        snprintf(errmsg, UPLOAD_ERROR_MAX, "settings end before \"%s\"", UPLOAD_HELPER_END);
        return -EBADMSG;
}

static int read_body_file(const char *path, struct body *ret)
{
        struct stat st;
        FILE *f = fopen(path, "rbe");
        int r = 0;

        if (!f)
                return -errno;
        if (fstat(fileno(f), &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > BODY_MAX)
                r = -EFBIG;
        else if (!(ret->data = malloc(st.st_size ? (size_t)st.st_size : 1)))
                r = -ENOMEM;
        else if (fread(ret->data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
                r = -EIO;
        fclose(f);
        if (r < 0) {
                free(ret->data);
                ret->data = NULL;
                return r;
        }
        ret->len = (size_t)st.st_size;
        ret->off = 0;
        return 0;
}

/* An object name: path components of [A-Za-z0-9._-], never "." or "..". */
static bool object_ok(const char *o)
{
        if (!*o || *o == '/' || strstr(o, "..") || strstr(o, "//"))
                return false;
        for (; *o; o++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
                            *o))
                        return false;
        return true;
}

static int setup_auth(CURL *e, const struct upload_config *c, const struct body *b,
                      struct curl_slist **headers)
{
        char region[160];

        switch (c->auth) {
        case UPLOAD_AUTH_NONE:
                break;
        case UPLOAD_AUTH_BEARER:
                curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
                curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, c->token);
                break;
        case UPLOAD_AUTH_BASIC:
                curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
                curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
                break;
        case UPLOAD_AUTH_CERT:
                curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert);
                if (c->client_key[0])
                        curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key);
                break;
        case UPLOAD_AUTH_S3: {
                char sha[BATCH_HASH_HEX + 1], h[BATCH_HASH_HEX + 32];
                /* S3 wants the payload's hash signed with the request */
                batch_sha256_hex(b->data, b->len, sha);
                snprintf(h, sizeof(h), "x-amz-content-sha256: %s", sha);
                struct curl_slist *l = curl_slist_append(*headers, h);
                if (!l)
                        return -ENOMEM;
                *headers = l;
                snprintf(region, sizeof(region), "aws:amz:%s:s3",
                         c->s3_region[0] ? c->s3_region : "us-east-1");
                curl_easy_setopt(e, CURLOPT_AWS_SIGV4, region);
                curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
                curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
                break;
        }
        }
        return 0;
}

static enum upload_helper_class classify(CURLcode rc)
{
        switch (rc) {
        case CURLE_OK:
                return UPLOAD_HELPER_OK;
        case CURLE_COULDNT_RESOLVE_HOST:
                return UPLOAD_HELPER_RESOLVE;
        case CURLE_COULDNT_CONNECT:
                return UPLOAD_HELPER_CONNECT;
        case CURLE_OPERATION_TIMEDOUT:
                return UPLOAD_HELPER_TIMEOUT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                return UPLOAD_HELPER_SERVER_CERT;
        case CURLE_SSL_CERTPROBLEM:
                return UPLOAD_HELPER_CLIENT_CERT;
        case CURLE_SSL_CONNECT_ERROR:
                return UPLOAD_HELPER_TLS;
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
                return UPLOAD_HELPER_CUT_OFF;
        default:
                return UPLOAD_HELPER_FAILED;
        }
}

/* The PUT, with the options puented's in-process uploader used. */
static int put(const struct upload_config *c, const char *object, struct body *b)
{
        char url[CONFIG_URL_MAX + 128], errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        long status = 0;

        size_t base = strlen(c->url);
        while (base > 0 && c->url[base - 1] == '/')
                base--;
        snprintf(url, sizeof(url), "%.*s/%s", (int)base, c->url, object);

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return fail_local("libcurl could not be initialized");
        CURL *e = curl_easy_init();
        headers = curl_slist_append(NULL, "Content-Type: application/gzip");
        if (headers)
                headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
        if (!e || !headers || setup_auth(e, c, b, &headers) < 0)
                return fail_local("out of memory");
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(e, CURLOPT_READDATA, b);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, b);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->timeout);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                         (long)(c->timeout < CONNECT_TIMEOUT_S ? c->timeout : CONNECT_TIMEOUT_S));
        /* Certificates are always verified (curl's default, said again so no one unsays it). */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->ca_file[0])
                curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);

        CURLcode rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        int ret = print_result(classify(rc), (int)rc, rc == CURLE_OK ? status : 0,
                               rc == CURLE_OK ? ""
                               : errbuf[0]    ? errbuf
                                              : curl_easy_strerror(rc));
        curl_easy_cleanup(e);
        curl_slist_free_all(headers);
        curl_global_cleanup();
        return ret;
}

int main(int argc, char **argv)
{
        struct upload_config cfg;
        struct body body = { 0 };
        char err[UPLOAD_ERROR_MAX];
        int r;

        /* nothing of puented's but stdin, stdout and stderr, even if it forgot one */
        close_range(STDERR_FILENO + 1, ~0u, 0);
        /* a puented that went away makes the result's write fail, not kill us mid-line */
        signal(SIGPIPE, SIG_IGN);
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                printf("puente-upload %s\n", PUENTE_VERSION);
                return 0;
        }
        if (argc != 3 || argv[1][0] == '-') {
                fprintf(stderr,
                        "Usage: puente-upload FILE OBJECT < settings\n"
                        "puented's upload helper: one PUT of FILE to <url>/OBJECT with the\n"
                        "settings read from stdin (see docs/upload.md).\n");
                return 2;
        }
        if (!object_ok(argv[2]))
                return fail_local("object name \"%.60s\" is not made of [A-Za-z0-9._-/] components",
                                  argv[2]);
        if (read_settings(&cfg, err) < 0)
                return fail_local("%s", err);
        if (!cfg.timeout)
                cfg.timeout = UPLOAD_DEFAULT_TIMEOUT_S;
        if ((r = read_body_file(argv[1], &body)) < 0)
                return fail_local("cannot read batch %.200s: %s", argv[1], strerror(-r));
        r = put(&cfg, argv[2], &body);
        explicit_bzero(&cfg, sizeof(cfg));
        free(body.data);
        return r;
}
