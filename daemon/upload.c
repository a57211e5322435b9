/* The uploader on the sd-event loop: cuts batches, runs one PUT at a time in the upload
 * helper (a child process, daemon/upload-spawn.c, so puented never maps libcurl), back-off
 * with jitter (see upload.h). */
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
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/upload-internal.h"
#include "daemon/upload-spawn.h"

#define USEC_PER_SEC 1000000ull
#define LOCK_RETRY_S 1
/* sd-event coalesces timers within 250 ms by default; a batch follows the last at once. */
#define TIMER_ACCURACY_US 1

struct upload {
        sd_event *loop;
        struct store *store;
        struct upload_config cfg;
        struct upload_cutter cutter;
        sd_event_source *work;
        /* the PUT in flight: one at a time, in batch order */
        struct upload_spawn *child;
        struct batch_info body_info;
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

static void set_error(struct upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct upload *u, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->last_error, sizeof(u->last_error), fmt, ap);
        va_end(ap);
}

static double jitter(void)
{
        uint32_t v;
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                return 0.5;
        return (double)v / 4294967296.0;
}

static void failed_try(struct upload *u, uint64_t batch)
{
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

/* The helper has exited: its result, or what went wrong with it. */
static void transfer_done(const struct upload_spawn_result *res, void *userdata)
{
        struct upload *u = userdata;
        uint64_t batch = u->body_info.batch;
        int64_t last_seq = u->body_info.last_seq;

        u->child = upload_spawn_free(u->child);
        if (res->ran && upload_helper_succeeded(&res->result)) {
                char buf[32];
                int r = upload_position_set_sent(u->store, batch, last_seq);
                if (r < 0) {
                        set_error(u, "sent batch %" PRIu64 " but cannot record it: %s", batch,
                                  store_errmsg(u->store));
                        failed_try(u, batch);
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
        if (res->ran)
                upload_helper_describe(&res->result, u->cfg.auth, u->cfg.timeout, u->last_error,
                                       sizeof(u->last_error));
        else
                set_error(u, "%s", res->error);
        failed_try(u, batch);
}

/* Starts the helper on the batch after the last sent. */
static int start_put(struct upload *u, uint64_t batch)
{
        char path[UPLOAD_NAME_MAX], object[BATCH_DEVICE_MAX + 32], helper[CONFIG_PATH_MAX + 64],
                err[UPLOAD_ERROR_MAX], settings[UPLOAD_HELPER_SETTINGS_MAX];
        uint8_t *body = NULL;
        size_t body_len = 0, settings_len = 0;
        int r;

        r = upload_batch_path(u->cutter.dir, batch, path, sizeof(path));
        if (r == 0)
                r = upload_read_file(path, &body, &body_len);
        if (r == 0 &&
            (batch_peek_header(body, body_len, &u->body_info) < 0 || u->body_info.batch != batch))
                r = -EBADMSG;
        free(body);
        if (r < 0) {
                set_error(u, "batch %" PRIu64 " unreadable in %s: %s", batch, u->cutter.dir,
                          strerror(-r));
                return r;
        }
        snprintf(object, sizeof(object), "%s/%0*" PRIu64 ".ndjson.gz", u->cutter.device,
                 UPLOAD_BATCH_DIGITS, batch);
        r = upload_helper_settings_write(&u->cfg, settings, sizeof(settings), &settings_len);
        if (r < 0) {
                set_error(u, "upload settings cannot be passed on: %s",
                          r == -EINVAL ? "a value holds a line break" : strerror(-r));
                return r;
        }
        upload_spawn_find_helper(u->cfg.helper, helper, sizeof(helper));
        u->last_attempt = now_s();
        r = upload_spawn_start(u->loop, helper, path, object, settings, settings_len,
                               u->cfg.timeout + UPLOAD_SPAWN_GRACE_S, transfer_done, u, &u->child,
                               err);
        explicit_bzero(settings, sizeof(settings)); /* the secrets */
        if (r < 0) {
                set_error(u, "%s", err);
                return r;
        }
        return 0;
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
        if (u->child || !u->cfg.url[0] || upload_position_read(u->store, &pos) < 0) {
                schedule(u, next);
                return 0;
        }
        if (pos.sent < pos.cut) {
                unsigned wait = wait_for_hours(u);
                if (wait == 0 && now >= u->next_attempt) {
                        if (start_put(u, pos.sent + 1) < 0)
                                failed_try(u, pos.sent + 1);
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

        if (sd_event_add_time(loop, &u->work, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_US, on_work, u) <
            0) {
                upload_free(u);
                return -ENOMEM;
        }
        sd_event_source_set_description(u->work, "upload-work");
        schedule(u, 0); /* resume where the last run stopped */
        *ret = u;
        return 0;
}

struct upload *upload_free(struct upload *u)
{
        if (!u)
                return NULL;
        u->child = upload_spawn_free(u->child); /* kills and reaps a helper still running */
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
        if (!u->child)
                schedule(u, 0);
}

pid_t upload_helper_pid(const struct upload *u)
{
        return u ? upload_spawn_pid(u->child) : 0;
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

        if (u->child || upload_position_read(u->store, &pos) < 0 || pos.sent < pos.cut)
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
        store_status_open(u->store, &ss);
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

void upload_summary(const struct upload_status *st, int64_t now, char *buf, size_t size)
{
        char when[32];

        if (!st->enabled)
                snprintf(buf, size, "%s", "");
        else if (!st->last_ok)
                snprintf(buf, size, "no upload yet");
        else {
                ago(now - st->last_ok, when, sizeof(when));
                snprintf(buf, size, "last upload %s", when);
        }
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
