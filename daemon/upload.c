/* The uploader on the sd-event loop: libcurl's multi interface with its sockets and timer
 * as sd-event sources, one PUT at a time, back-off with jitter (see upload.h). With
 * upload-cut.c, the only files that include curl/curl.h. */
#include "daemon/upload.h"

_Static_assert((int)UPLOAD_AUTH_S3 == (int)CONFIG_UPLOAD_AUTH_S3 &&
                       (int)UPLOAD_AUTH_CERT == (int)CONFIG_UPLOAD_AUTH_CERT,
               "upload_auth and config_upload_auth list the same methods");

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/log.h"
#include "daemon/upload-internal.h"

#define USEC_PER_SEC      1000000ull
#define CONNECT_TIMEOUT_S 30
#define LOCK_RETRY_S      1
/* sd-event coalesces timers within 250 ms by default; a batch follows the last at once. */
#define TIMER_ACCURACY_US 1

struct upload {
        sd_event *loop;
        struct store *store;
        struct upload_config cfg;
        struct upload_cutter cutter;
        CURLM *multi;
        sd_event_source *curl_timer, *work;
        /* the PUT in flight: one at a time, in batch order */
        CURL *easy;
        struct curl_slist *headers;
        uint8_t *body;
        size_t body_len, body_off;
        struct batch_info body_info;
        char errbuf[CURL_ERROR_SIZE];
        char url[CONFIG_URL_MAX + 128];
        /* state */
        bool force_partial;
        int64_t last_cut_check, last_ok, last_attempt, next_attempt, started, heartbeat_check;
        unsigned failures;
        bool disk_full;
        char last_error[UPLOAD_ERROR_MAX];
};

static int64_t now_s(void)
{
        return (int64_t)time(NULL);
}

static void schedule(struct upload *u, unsigned delay_s)
{
        uint64_t now;
        sd_event_now(u->loop, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(u->work, now + delay_s * USEC_PER_SEC);
        sd_event_source_set_enabled(u->work, SD_EVENT_ONESHOT);
}

static void check_done(struct upload *u);

/* ---- curl's sockets and timer as sd-event sources ---- */

static int on_socket_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct upload *u = userdata;
        int flags = 0, running;

        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(u->multi, fd, flags, &running);
        check_done(u);
        return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct upload *u = userp;
        sd_event_source *src = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (src) {
                        sd_event_source_disable_unref(src);
                        curl_multi_assign(u->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (src) {
                if (sd_event_source_set_io_events(src, events) < 0 ||
                    sd_event_source_set_enabled(src, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(u->loop, &src, fd, events, on_socket_io, u) < 0)
                return -1;
        sd_event_source_set_description(src, "upload-socket");
        curl_multi_assign(u->multi, fd, src);
        return 0;
}

static int on_curl_timer_fired(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct upload *u = userdata;
        int running;

        curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(u);
        return 0;
}

/* curl asks for a call back in timeout_ms (-1: none). Never act from inside curl: arm. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
        struct upload *u = userp;
        uint64_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(u->curl_timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        sd_event_now(u->loop, CLOCK_MONOTONIC, &now);
        if (sd_event_source_set_time(u->curl_timer, now + (uint64_t)timeout_ms * 1000) < 0 ||
            sd_event_source_set_enabled(u->curl_timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

/* ---- one PUT ---- */

static size_t read_body(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct upload *u = userdata;
        size_t n = size * nitems, left = u->body_len - u->body_off;

        if (n > left)
                n = left;
        memcpy(buf, u->body + u->body_off, n);
        u->body_off += n;
        return n;
}

/* curl rewinds when it must send the body again (a redirect or an auth round). */
static int seek_body(void *userdata, curl_off_t offset, int origin)
{
        struct upload *u = userdata;

        if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->body_len)
                return CURL_SEEKFUNC_CANTSEEK;
        u->body_off = (size_t)offset;
        return CURL_SEEKFUNC_OK;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

static void end_transfer(struct upload *u)
{
        if (u->easy) {
                curl_multi_remove_handle(u->multi, u->easy);
                curl_easy_cleanup(u->easy);
                u->easy = NULL;
        }
        curl_slist_free_all(u->headers);
        u->headers = NULL;
        free(u->body);
        u->body = NULL;
        u->body_len = u->body_off = 0;
}

static void set_error(struct upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct upload *u, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->last_error, sizeof(u->last_error), fmt, ap);
        va_end(ap);
}

static int setup_auth(struct upload *u, CURL *e)
{
        const struct upload_config *c = &u->cfg;
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
                batch_sha256_hex(u->body, u->body_len, sha);
                snprintf(h, sizeof(h), "x-amz-content-sha256: %s", sha);
                struct curl_slist *l = curl_slist_append(u->headers, h);
                if (!l)
                        return -ENOMEM;
                u->headers = l;
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

/* libcurl is set up at the first transfer, not at start: curl_global_init() sets up libssl,
 * libssh2 and curl's other libraries, about 0.6 MiB of puented's resident set
 * (docs/benchmarks.md, issue 4) that a clinic with no upload target never needs. Once per
 * process (curl's global cleanup is not re-entrant); puented has one thread. */
static int curl_start(struct upload *u)
{
        static bool curl_ready;

        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                curl_ready = true;
        }
        if (u->multi)
                return 0;
        u->multi = curl_multi_init();
        if (!u->multi)
                return -ENOMEM;
        curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
        curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
        curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
        return 0;
}

static int start_put(struct upload *u, uint64_t batch)
{
        char path[UPLOAD_NAME_MAX];
        int r;

        r = upload_batch_path(u->cutter.dir, batch, path, sizeof(path));
        if (r == 0)
                r = upload_read_file(path, &u->body, &u->body_len);
        if (r == 0 && (batch_peek_header(u->body, u->body_len, &u->body_info) < 0 ||
                       u->body_info.batch != batch))
                r = -EBADMSG;
        if (r < 0) {
                set_error(u, "batch %" PRIu64 " unreadable in %s: %s", batch, u->cutter.dir,
                          strerror(-r));
                end_transfer(u);
                return r;
        }
        size_t base = strlen(u->cfg.url);
        while (base > 0 && u->cfg.url[base - 1] == '/')
                base--;
        snprintf(u->url, sizeof(u->url), "%.*s/%s/%0*" PRIu64 ".ndjson.gz", (int)base, u->cfg.url,
                 u->cutter.device, UPLOAD_BATCH_DIGITS, batch);

        if (curl_start(u) < 0) {
                end_transfer(u);
                set_error(u, "libcurl could not be initialized");
                return -EIO;
        }
        CURL *e = curl_easy_init();
        struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/gzip");
        if (l)
                l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
        u->headers = l;
        if (!e || !l || setup_auth(u, e) < 0) {
                if (e)
                        curl_easy_cleanup(e);
                end_transfer(u);
                set_error(u, "out of memory");
                return -ENOMEM;
        }
        u->easy = e;
        u->body_off = 0;
        u->errbuf[0] = '\0';
        curl_easy_setopt(e, CURLOPT_URL, u->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(e, CURLOPT_READDATA, u);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, u);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->body_len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, u->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, u->errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)u->cfg.timeout);
        curl_easy_setopt(
                e, CURLOPT_CONNECTTIMEOUT,
                (long)(u->cfg.timeout < CONNECT_TIMEOUT_S ? u->cfg.timeout : CONNECT_TIMEOUT_S));
        /* Certificates are always verified (curl's default, said again so no one unsays it). */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (u->cfg.ca_file[0])
                curl_easy_setopt(e, CURLOPT_CAINFO, u->cfg.ca_file);
        curl_easy_setopt(e, CURLOPT_PRIVATE, u);
        u->last_attempt = now_s();
        if (curl_multi_add_handle(u->multi, e) != CURLM_OK) {
                end_transfer(u);
                set_error(u, "cannot start the transfer");
                return -EIO;
        }
        return 0;
}

/* Plain words for the status: what failed, not curl's enum. */
static void describe_failure(struct upload *u, CURLcode rc, long code)
{
        const char *detail = u->errbuf[0] ? u->errbuf : curl_easy_strerror(rc);

        if (rc == CURLE_OK) {
                /* nginx answers 400 to a TLS client without the certificate that
                 * ssl_verify_client requires, or with one from a CA it does not know */
                const char *cert_400 =
                        u->cfg.auth == UPLOAD_AUTH_CERT
                                ? " (refused: the server did not accept our client certificate)"
                                : " (bad request: a server that requires a client certificate"
                                  " answers this to a box without one: auth = \"cert\")";
                const char *what = code == 400   ? cert_400
                                   : code == 401 ? " (not authorised: check token or user)"
                                   : code == 403 ? " (forbidden: check the server's rights)"
                                   : code == 404 ? " (no such place: check the url)"
                                   : code >= 500 ? " (server error)"
                                                 : "";
                set_error(u, "server answered %ld%s", code, what);
                return;
        }
        switch (rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
                set_error(u, "cannot resolve the server's name (DNS or no network): %s", detail);
                break;
        case CURLE_COULDNT_CONNECT:
                set_error(u, "no connection to the server (refused or no route): %s", detail);
                break;
        case CURLE_OPERATION_TIMEDOUT:
                set_error(u, "timed out after %u s: %s", u->cfg.timeout, detail);
                break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                set_error(u, "server certificate not trusted: %s", detail);
                break;
        case CURLE_SSL_CERTPROBLEM:
                set_error(u, "client certificate or key unusable: %s", detail);
                break;
        case CURLE_SSL_CONNECT_ERROR:
                set_error(u, "TLS failed: %s", detail);
                break;
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
                set_error(u, "connection cut off: %s", detail);
                break;
        default:
                set_error(u, "upload failed: %s", detail);
                break;
        }
}

static double jitter(void)
{
        uint32_t v;
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                return 0.5;
        return (double)v / 4294967296.0;
}

static void transfer_done(struct upload *u, CURLcode rc)
{
        long code = 0;
        uint64_t batch = u->body_info.batch;
        int64_t last_seq = u->body_info.last_seq;

        curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK && code >= 200 && code < 300) {
                char buf[32];
                int r = upload_position_set_sent(u->store, batch, last_seq);
                end_transfer(u);
                if (r < 0) {
                        set_error(u, "sent batch %" PRIu64 " but cannot record it: %s", batch,
                                  store_errmsg(u->store));
                        u->failures++;
                        schedule(u, upload_backoff(u->failures, u->cfg.retry_first,
                                                   u->cfg.backoff_max, jitter()));
                        return;
                }
                u->last_ok = now_s();
                snprintf(buf, sizeof(buf), "%" PRId64, u->last_ok);
                store_setting_set(u->store, UPLOAD_SETTING_LAST_OK, buf);
                upload_prune(u->cutter.dir, batch);
                if (u->failures)
                        log_notice("upload: working again (batch %" PRIu64 ")", batch);
                u->failures = 0;
                u->next_attempt = 0;
                u->last_error[0] = '\0';
                schedule(u, 0);
                return;
        }
        describe_failure(u, rc, code);
        end_transfer(u);
        u->failures++;
        unsigned delay =
                upload_backoff(u->failures, u->cfg.retry_first, u->cfg.backoff_max, jitter());
        u->next_attempt = now_s() + delay;
        if (u->failures == 1)
                log_warning("upload: batch %" PRIu64 ": %s; trying again in %u s", batch,
                            u->last_error, delay);
        else
                log_debug("upload: batch %" PRIu64 ": %s (failure %u); again in %u s", batch,
                          u->last_error, u->failures, delay);
        schedule(u, delay);
}

static void check_done(struct upload *u)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(u->multi, &left)))
                if (m->msg == CURLMSG_DONE && m->easy_handle == u->easy)
                        transfer_done(u, m->data.result);
}

/* ---- the work: cut, then send the next batch ---- */

static unsigned wait_for_hours(const struct upload *u)
{
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        return upload_wait_for_hours(u->cfg.hours_start, u->cfg.hours_end,
                                     tm.tm_hour * 60 + tm.tm_min);
}

/* Cuts one batch if one is due. Returns 1 when it cut (more may follow), 0 when nothing is
 * due, a negative errno when it could not (the status says why). */
static int cut_step(struct upload *u, int64_t now)
{
        bool partial = u->force_partial || now - u->last_cut_check >= u->cfg.cut_interval;
        bool cut = false;
        int r = upload_cut_one(&u->cutter, partial, &cut);

        if (r == -ENOSPC) {
                if (!u->disk_full)
                        log_warning("upload: batch files reached the disk budget (%" PRIu64
                                    " bytes); events wait in the store",
                                    u->cfg.disk_budget);
                u->disk_full = true;
                return r;
        }
        u->disk_full = false;
        if (r < 0) {
                if (r != -EAGAIN) {
                        set_error(u, "cannot cut a batch: %s",
                                  r == -EBADMSG ? "upload position settings malformed"
                                                : strerror(-r));
                        log_error("upload: %s (%s)", u->last_error, store_errmsg(u->store));
                }
                return r;
        }
        if (cut)
                return 1;
        if (partial) {
                u->force_partial = false;
                u->last_cut_check = now;
        }
        return 0;
}

/* At most every UPLOAD_HEARTBEAT_CHECK_S: the status reads the state directory. */
static void heartbeat_step(struct upload *u, int64_t now)
{
        struct upload_status st;
        int64_t id = 0;

        if (!u->cfg.heartbeat_number[0] || (u->heartbeat_check && now >= u->heartbeat_check &&
                                            now < u->heartbeat_check + UPLOAD_HEARTBEAT_CHECK_S))
                return;
        u->heartbeat_check = now;
        upload_status(u, &st);
        int r = upload_heartbeat_step(u->store, &st, u->cfg.heartbeat_number, now, &id);
        if (r < 0)
                log_warning("upload: heartbeat SMS not queued: %s", strerror(-r));
        else if (r > 0)
                log_notice("upload: no upload for %u days: heartbeat SMS queued (message %" PRId64
                           ")",
                           st.days_since_ok, id);
}

static int on_work(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct upload *u = userdata;
        int64_t now = now_s();
        struct upload_position pos;

        heartbeat_step(u, now);
        int r = cut_step(u, now);
        if (r == 1) {
                schedule(u, 0); /* one batch per turn: messaging never waits for us */
                return 0;
        }
        if (r == -EAGAIN) {
                schedule(u, LOCK_RETRY_S);
                return 0;
        }
        unsigned next = u->cfg.interval;
        unsigned to_cut = (unsigned)(u->last_cut_check + u->cfg.cut_interval - now);
        if (u->last_cut_check + u->cfg.cut_interval > now && to_cut < next)
                next = to_cut;
        if (u->easy || !u->cfg.url[0] || upload_position_read(u->store, &pos) < 0) {
                schedule(u, next);
                return 0;
        }
        if (pos.sent < pos.cut) {
                unsigned wait = wait_for_hours(u);
                if (wait == 0 && now >= u->next_attempt) {
                        if (start_put(u, pos.sent + 1) < 0) {
                                u->failures++;
                                schedule(u, upload_backoff(u->failures, u->cfg.retry_first,
                                                           u->cfg.backoff_max, jitter()));
                        }
                        return 0;
                }
                if (wait == 0)
                        wait = (unsigned)(u->next_attempt - now);
                if (wait < next)
                        next = wait;
        }
        schedule(u, next);
        return 0;
}

/* ---- life cycle and status ---- */

void upload_config_defaults(struct upload_config *ret)
{
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->state_directory, sizeof(ret->state_directory), "%s", CONFIG_DEFAULT_STATEDIR);
        ret->batch_events = UPLOAD_DEFAULT_EVENTS;
        ret->cut_interval = UPLOAD_DEFAULT_CUT_S;
        ret->interval = CONFIG_DEFAULT_UPLOAD_INTERVAL_S;
        ret->retry_first = UPLOAD_DEFAULT_RETRY_S;
        ret->backoff_max = UPLOAD_DEFAULT_BACKOFF_S;
        ret->timeout = UPLOAD_DEFAULT_TIMEOUT_S;
        ret->disk_budget = UPLOAD_DEFAULT_BUDGET;
        ret->heartbeat_days = UPLOAD_DEFAULT_HEARTBEAT_DAYS;
}

int upload_new(sd_event *loop, struct store *store, const struct upload_config *cfg,
               struct upload **ret)
{
        char err[UPLOAD_ERROR_MAX] = "";
        char buf[32];
        int r;

        struct upload *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->loop = sd_event_ref(loop);
        u->store = store;
        u->cfg = *cfg;
        if (!u->cfg.timeout)
                u->cfg.timeout = UPLOAD_DEFAULT_TIMEOUT_S;
        if (!u->cfg.interval)
                u->cfg.interval = CONFIG_DEFAULT_UPLOAD_INTERVAL_S;
        if (!u->cfg.backoff_max)
                u->cfg.backoff_max = UPLOAD_DEFAULT_BACKOFF_S;
        u->started = now_s();
        r = upload_cutter_init(&u->cutter, store, &u->cfg, err);
        if (r < 0) {
                log_error("upload: %s", err);
                free(u);
                sd_event_unref(loop);
                return r;
        }
        if (store_setting_get(store, UPLOAD_SETTING_LAST_OK, buf, sizeof(buf)) == 0)
                u->last_ok = strtoll(buf, NULL, 10);
        struct upload_position pos;
        if (upload_position_read(store, &pos) == 0)
                upload_prune(u->cutter.dir, pos.sent); /* left by a crash after the 2xx */

        if (sd_event_add_time(loop, &u->curl_timer, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_US,
                              on_curl_timer_fired, u) < 0 ||
            sd_event_add_time(loop, &u->work, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_US, on_work, u) <
                    0) {
                upload_free(u);
                return -ENOMEM;
        }
        sd_event_source_set_enabled(u->curl_timer, SD_EVENT_OFF);
        sd_event_source_set_description(u->curl_timer, "upload-curl-timer");
        sd_event_source_set_description(u->work, "upload-work");
        schedule(u, 0); /* resume where the last run stopped */
        *ret = u;
        return 0;
}

struct upload *upload_free(struct upload *u)
{
        if (!u)
                return NULL;
        end_transfer(u);
        if (u->multi)
                curl_multi_cleanup(u->multi); /* removes the sockets: their sources go too */
        sd_event_source_disable_unref(u->curl_timer);
        sd_event_source_disable_unref(u->work);
        upload_cutter_done(&u->cutter);
        sd_event_unref(u->loop);
        memset(&u->cfg, 0, sizeof(u->cfg)); /* secrets */
        free(u);
        return NULL;
}

void upload_kick(struct upload *u, bool force)
{
        if (!u)
                return;
        if (force) {
                u->force_partial = true;
                u->next_attempt = 0;
        }
        if (!u->easy)
                schedule(u, 0);
}

static int count_one(const struct store_event_row *ev, void *userdata)
{
        *(int64_t *)userdata = ev->seq;
        return 0;
}

bool upload_idle(struct upload *u)
{
        struct upload_position pos;
        int64_t next = 0;

        if (u->easy || upload_position_read(u->store, &pos) < 0 || pos.sent < pos.cut)
                return false;
        return store_events_after(u->store, pos.cut_seq, 1, count_one, &next) == 0;
}

void upload_status(struct upload *u, struct upload_status *ret)
{
        struct upload_position pos = { 0 };
        struct store_status ss = { 0 };
        int64_t now = now_s();

        memset(ret, 0, sizeof(*ret));
        ret->enabled = u->cfg.url[0] != '\0';
        ret->last_ok = u->last_ok;
        ret->last_attempt = u->last_attempt;
        ret->next_attempt = u->failures ? u->next_attempt : 0;
        ret->failures = u->failures;
        memcpy(ret->last_error, u->last_error, sizeof(ret->last_error));
        upload_position_read(u->store, &pos);
        store_status_counts(u->store, &ss);
        ret->batches_cut = pos.cut;
        ret->batches_sent = pos.sent;
        ret->events_cut = pos.cut_seq;
        ret->events_total = ss.events;
        ret->backlog_batches = pos.cut - pos.sent;
        ret->backlog_events = ss.events > pos.sent_seq ? ss.events - pos.sent_seq : 0;
        ret->backlog_bytes = upload_backlog_bytes(u->cutter.dir);
        ret->disk_full = u->disk_full;
        ret->disk_near = u->disk_full ||
                         (u->cfg.disk_budget &&
                          ret->backlog_bytes * 100 >= u->cfg.disk_budget * UPLOAD_BUDGET_NEAR_PCT);
        int64_t since = u->last_ok ? u->last_ok : u->started;
        ret->days_since_ok = now > since ? (unsigned)((now - since) / 86400) : 0;
        memcpy(ret->device, u->cutter.device, sizeof(ret->device));
        ret->heartbeat_due = ret->enabled && u->cfg.heartbeat_days &&
                             ret->days_since_ok >= u->cfg.heartbeat_days;
}

static void ago(int64_t secs, char *buf, size_t size)
{
        if (secs < 90)
                snprintf(buf, size, "%" PRId64 " s ago", secs < 0 ? 0 : secs);
        else if (secs < 90 * 60)
                snprintf(buf, size, "%" PRId64 " min ago", secs / 60);
        else if (secs < 48 * 3600)
                snprintf(buf, size, "%" PRId64 " h ago", secs / 3600);
        else
                snprintf(buf, size, "%" PRId64 " days ago", secs / 86400);
}

void upload_status_line(const struct upload_status *st, int64_t now, char *buf, size_t size)
{
        char when[32] = "never";
        int n;

        if (!st->enabled) {
                snprintf(buf, size, "upload: off (export only), %" PRId64 " events not exported",
                         st->backlog_events);
                return;
        }
        if (st->last_ok)
                ago(now - st->last_ok, when, sizeof(when));
        n = snprintf(buf, size, "upload: last %s, backlog %" PRIu64 " batches (%" PRId64 " events)",
                     when, st->backlog_batches, st->backlog_events);
        if (n >= 0 && (size_t)n < size && st->disk_near)
                n += snprintf(buf + n, size - (size_t)n, "%s",
                              st->disk_full ? "; disk budget reached, cutting paused"
                                            : "; disk budget nearly reached");
        if (n >= 0 && (size_t)n < size && st->last_error[0])
                snprintf(buf + n, size - (size_t)n, "; last error: %s", st->last_error);
}

void upload_heartbeat_text(const struct upload_status *st, char buf[static UPLOAD_HEARTBEAT_MAX])
{
        char text[512];
        size_t n;

        snprintf(text, sizeof(text),
                 "PUENTE %s: no upload for %u d; waiting %" PRId64 " events (%" PRIu64
                 " batches) of %" PRId64 "; disk %s%s%s",
                 st->device, st->days_since_ok, st->backlog_events, st->backlog_batches,
                 st->events_total,
                 st->disk_full   ? "FULL"
                 : st->disk_near ? "nearly full"
                                 : "ok",
                 st->last_error[0] ? "; last error: " : "", st->last_error);
        /* GSM-7 holds ASCII's printable characters but these few as escapes or not at all */
        for (char *p = text; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e ||
                    strchr("[]{}\\^~|`", *p))
                        *p = ' ';
        n = strlen(text);
        if (n > UPLOAD_HEARTBEAT_MAX - 1)
                n = UPLOAD_HEARTBEAT_MAX - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
}

void upload_config_from(const struct config *c, struct upload_config *ret)
{
        const struct config_upload *u = &c->upload;

        upload_config_defaults(ret);
        snprintf(ret->state_directory, sizeof(ret->state_directory), "%s", c->state_directory);
        if (!u->enabled)
                return;
        snprintf(ret->url, sizeof(ret->url), "%s", u->url);
        snprintf(ret->key_file, sizeof(ret->key_file), "%s", u->key_file);
        snprintf(ret->device, sizeof(ret->device), "%s", u->device);
        /* the two enums list the same methods in the same order */
        ret->auth = (enum upload_auth)u->auth;
        snprintf(ret->token, sizeof(ret->token), "%s", u->token);
        snprintf(ret->user, sizeof(ret->user), "%s", u->user);
        snprintf(ret->password, sizeof(ret->password), "%s", u->password);
        snprintf(ret->client_cert, sizeof(ret->client_cert), "%s", u->client_cert);
        snprintf(ret->client_key, sizeof(ret->client_key), "%s", u->client_key);
        snprintf(ret->ca_file, sizeof(ret->ca_file), "%s", u->ca_file);
        snprintf(ret->s3_region, sizeof(ret->s3_region), "%s", u->s3_region);
        if (u->interval)
                ret->interval = u->interval;
        if (u->batch_events)
                ret->batch_events = u->batch_events;
        if (u->batch_interval)
                ret->cut_interval = u->batch_interval;
        if (u->timeout)
                ret->timeout = u->timeout;
        if (u->backoff_max)
                ret->backoff_max = u->backoff_max;
        if (u->disk_budget_mb)
                ret->disk_budget = (uint64_t)u->disk_budget_mb * 1024 * 1024;
        ret->heartbeat_days = u->heartbeat_days ? u->heartbeat_days : ret->heartbeat_days;
        snprintf(ret->heartbeat_number, sizeof(ret->heartbeat_number), "%s", u->heartbeat_number);
        ret->hours_start = u->hours_start;
        ret->hours_end = u->hours_end;
}
