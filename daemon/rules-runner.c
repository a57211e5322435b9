/* daemon/rules-runner: the rule set's life in puented (load, reload, zones, trial secret),
 * the next-due index and its timer, enrolment of new contacts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/rules-files.h"
#include "daemon/rules-runner-internal.h"
#include "daemon/store.h"
#include "rules/parse.h"
#include "rules/tz.h"

#define RUNNER_ENROL_MAX 64 /* new contacts enrolled per run */
/* Looking for contacts not yet enrolled walks every contact (5 ms for 100,000 here): it runs
 * when some may have come (start, a wake-up from puentectl, a reload, the clock trusted) and
 * then at most this often, in case a wake-up was lost. */
#define RUNNER_ENROL_RECHECK_S 600
#define RUNNER_RETRY_S         300 /* a contact whose run failed is tried again after this */
/* Contacts run per commit: one fsync for the group, not one a contact (the loop waits for
 * each fsync, and flash storage is slow at them); 64 runs take about 11 ms of CPU here. */
#define RUNNER_GROUP       64
#define RUNNER_USEC        1000000LL
#define RUNNER_ACCURACY_US 100000 /* 0.1 s: a send time is recorded to the second */

static int read_bytes(const char *path, uint8_t *buf, size_t max, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        size_t n;
        int e = errno;

        if (!f)
                return e > 0 ? -e : -EIO;
        n = fread(buf, 1, max, f);
        /* fopen() opens a directory; reading it fails (EISDIR), which is no empty file */
        bool failed = ferror(f);
        fclose(f);
        if (failed)
                return -EIO;
        if (n == max)
                return -EFBIG;
        *ret_len = n;
        return 0;
}

static struct rules_tz *load_zone(const char *name)
{
        static uint8_t buf[RULES_TZ_FILE_MAX];
        const char *dir = getenv("TZDIR");
        char path[512];
        struct rules_tz *tz = NULL;
        size_t n;

        if (!name || strstr(name, ".."))
                return NULL;
        snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : RULES_FILES_ZONEINFO, name);
        /* read_bytes() sets n when it returns 0: clang 14's analyzer cannot tell that -errno
         * is negative, so it thinks a failed fopen() may return 0 */
        // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): see above
        if (read_bytes(path, buf, sizeof(buf), &n) < 0 || rules_tz_parse(buf, n, &tz) < 0)
                return NULL;
        return tz;
}

static void drop_set(struct rules_runner *r)
{
        for (size_t i = 0; r->set && r->zones && i < r->set->n_clinics; i++)
                rules_tz_free(r->zones[i]);
        free(r->zones);
        r->zones = NULL;
        r->default_tz = rules_tz_free(r->default_tz);
        r->sealed = rules_arms_sealed_free(r->sealed);
        r->set = rules_free(r->set);
        memset(r->secret, 0, sizeof(r->secret));
        r->secret_len = 0;
}

static int index_add(int64_t contact_id, int64_t next_due, void *userdata)
{
        return rules_schedule_set(userdata, contact_id, next_due);
}

static void arm_timer(struct rules_runner *r, int64_t at);

static void update_status(struct rules_runner *r)
{
        int64_t due = rules_runner_next_due(r);
        char when[32] = "none";

        if (due != INT64_MAX) {
                int64_t day = rules_floor_div(due, RULES_DAY_SECONDS);
                char date[11];

                rules_date_format(day, date);
                snprintf(when, sizeof(when), "%s %02d:%02d UTC", date,
                         (int)(due - day * RULES_DAY_SECONDS) / 3600,
                         (int)(due - day * RULES_DAY_SECONDS) / 60 % 60);
        }
        snprintf(r->status, sizeof(r->status), "rules %.12s: %zu contacts scheduled, next due %s%s",
                 r->set->hash_hex, rules_schedule_count(r->index), when,
                 r->clock_trusted ? "" : " (held: the clock is not trusted yet)");
}

int rules_runner_reload(struct rules_runner *r, char *why, size_t size)
{
        const char *dir = r->opts.rules_dir ? r->opts.rules_dir : r->config->rules_directory;
        struct rules_files files = { 0 };
        struct rules_diags diags = { 0 };
        struct rules_parse_opts popts = { .zone_exists = rules_files_zone_exists };
        struct rules_runner next = { 0 };
        struct rules_schedule *index = NULL;
        const char *secret;
        int e;

        if (!dir || !*dir) {
                snprintf(why, size, "no rules_directory configured");
                return -ENOENT;
        }
        e = rules_files_read(dir, &files);
        if (e < 0) {
                snprintf(why, size, "%s", files.error);
                return e;
        }
        e = rules_parse(files.src, files.n, &popts, &diags, &next.set);
        if (e < 0) {
                if (diags.n)
                        rules_diag_format(&diags.v[0], why, size);
                else
                        snprintf(why, size, "%s: the rules cannot be loaded (%s)", dir,
                                 strerror(-e));
        }
        rules_diags_free(&diags);
        rules_files_free(&files);
        if (e < 0)
                return e;
        next.zones = calloc(next.set->n_clinics + 1, sizeof(struct rules_tz *));
        next.default_tz = load_zone(next.set->settings.timezone);
        for (size_t i = 0; next.zones && i < next.set->n_clinics; i++)
                next.zones[i] = next.set->clinics[i].timezone
                                        ? load_zone(next.set->clinics[i].timezone)
                                        : NULL;
        e = next.zones && next.default_tz ? 0 : -ENOENT;
        if (e < 0)
                snprintf(why, size, "time zone %s not found in the system zoneinfo",
                         next.set->settings.timezone);
        secret = r->opts.secret_file ? r->opts.secret_file : next.set->trial.secret_key_file;
        if (e == 0 && next.set->trial.present && next.set->trial.sealed_list_file) {
                static char list[RULES_TZ_FILE_MAX * 16];
                size_t len;
                unsigned line = 0;

                e = read_bytes(next.set->trial.sealed_list_file, (uint8_t *)list, sizeof(list),
                               &len);
                /* len is set when e is 0 (the analyzer's doubt: see load_zone()) */
                if (e == 0) // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): see above
                        e = rules_arms_sealed_parse(next.set, list, len, &next.sealed, &line);
                if (e < 0)
                        snprintf(why, size, "%s:%u: sealed list unreadable or malformed",
                                 next.set->trial.sealed_list_file, line);
        } else if (e == 0 && next.set->trial.present) {
                e = secret ? read_bytes(secret, next.secret, sizeof(next.secret), &next.secret_len)
                           : -ENOENT;
                if (e == 0 && next.secret_len < RULES_ARMS_SECRET_MIN)
                        e = -EINVAL;
                if (e < 0)
                        snprintf(why, size, "%s: the trial's secret key: %s (at least %d bytes)",
                                 secret ? secret : "(none)", strerror(-e), RULES_ARMS_SECRET_MIN);
        }
        index = e == 0 ? rules_schedule_new() : NULL;
        if (e == 0 && !index)
                e = -ENOMEM;
        if (e == 0)
                e = store_rules_due_list(r->store, index_add, index);
        if (e < 0) {
                rules_schedule_free(index);
                drop_set(&next);
                return e;
        }
        /* Swap: the new set runs from here; the old one is gone at once. */
        drop_set(r);
        r->set = next.set;
        r->zones = next.zones;
        r->default_tz = next.default_tz;
        r->sealed = next.sealed;
        memcpy(r->secret, next.secret, sizeof(r->secret));
        r->secret_len = next.secret_len;
        memset(next.secret, 0, sizeof(next.secret));
        rules_schedule_free(r->index);
        r->index = index;
        r->enrol_check = true; /* a new set may enrol whom the old one did not */
        r->env = (struct rules_engine_env){ .set = r->set,
                                            .clinic_tz = (const struct rules_tz *const *)r->zones,
                                            .default_tz = r->default_tz };
        update_status(r);
        {
                /* Every later event names this hash; this one says when it began to run. */
                char json[128];
                int64_t now = (int64_t)time(NULL);

                snprintf(json, sizeof(json), "{\"rule_set\":\"%s\"}", r->set->hash_hex);
                store_event_append(r->store,
                                   &(struct store_event){ .time = now,
                                                          .clock_trusted = r->clock_trusted,
                                                          .type = "rules.loaded",
                                                          .json = json },
                                   NULL);
        }
        arm_timer(r, 0);
        return 0;
}

int rules_runner_new(sd_event *ev, struct store *store, const struct config *config,
                     const struct rules_runner_opts *opts, struct rules_runner **ret)
{
        struct rules_runner *r = calloc(1, sizeof(*r));
        char why[RULES_RUNNER_WHY_MAX - 32];

        if (!r)
                return -ENOMEM;
        r->ev = ev ? sd_event_ref(ev) : NULL;
        r->store = store;
        r->config = config;
        r->clock_trusted = true;
        r->enrol_check = true;
        if (opts)
                r->opts = *opts;
        r->index = rules_schedule_new();
        if (!r->index) {
                rules_runner_free(r);
                return -ENOMEM;
        }
        if (rules_runner_reload(r, why, sizeof(why)) < 0)
                snprintf(r->status, sizeof(r->status), "no rules running: %s", why);
        *ret = r;
        return 0;
}

struct rules_runner *rules_runner_free(struct rules_runner *r)
{
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->timer);
        sd_event_unref(r->ev);
        drop_set(r);
        rules_schedule_free(r->index);
        free(r);
        return NULL;
}

/* A group of contacts run in one transaction (one commit, one fsync), each contact a savepoint
 * of it: one whose run fails is rolled back alone and tried again later. */
struct group {
        int64_t ids[RUNNER_GROUP];
        size_t n;
        bool open; /* a batch is open (when it cannot begin, each contact commits on its own) */
        /* the runs that failed in this firing, and the first one's contact and reason */
        unsigned failed;
        int64_t first_failed;
        char why[STORE_ERRMSG_MAX];
};

static void group_end(struct rules_runner *r, struct group *g, int64_t now)
{
        if (g->open && store_batch_commit(r->store) < 0) {
                /* Nothing of the group is stored: each is tried again (an enrolment too). */
                log_warning("rules: %zu contacts' runs not stored (%s); tried again in %d s", g->n,
                            store_errmsg(r->store), RUNNER_RETRY_S);
                for (size_t i = 0; i < g->n; i++)
                        rules_schedule_set(r->index, g->ids[i], now + RUNNER_RETRY_S);
                r->enrol_check = true;
        }
        g->open = false;
        g->n = 0;
}

static void group_run(struct rules_runner *r, struct group *g, int64_t id, bool enrolling,
                      int64_t now)
{
        int e;

        /* Begun at the first contact: a firing with nothing to run writes nothing. */
        if (g->n == 0)
                g->open = store_batch_begin(r->store) == 0;
        store_errmsg_clear(r->store);
        e = runner_contact(r, id, NULL, now);
        if (e == 0 && enrolling &&
            store_rules_state_get(r->store, id, &(struct store_rules_state){ 0 }) < 0)
                /* No start track applies (no due date): remember it as not running, so the
                 * next run does not take it again. */
                store_rules_state_put(r->store, id, "{}", INT64_MAX, r->set->hash_hex);
        g->ids[g->n++] = id;
        if (e < 0) {
                const char *why = store_errmsg(r->store);

                if (g->failed++ == 0) {
                        g->first_failed = id;
                        snprintf(g->why, sizeof(g->why), "%s", *why ? why : strerror(-e));
                }
                rules_schedule_set(r->index, id, now + RUNNER_RETRY_S);
        }
        /* After a failure the group is committed at once: SQLite may have rolled the whole
         * transaction back (a full disk), and then the next contact needs a new one. */
        if (g->n == RUNNER_GROUP || e < 0)
                group_end(r, g, now);
}

int rules_runner_run(struct rules_runner *r, int64_t now, unsigned max)
{
        int64_t ids[RUNNER_ENROL_MAX], id, due;
        struct group g = { 0 };
        size_t n = 0;
        unsigned done = 0;
        int e;

        if (!r->set || !r->clock_trusted)
                return 0;
        r->queued = false;
        size_t limit = max < RUNNER_ENROL_MAX ? max : RUNNER_ENROL_MAX;
        bool look = r->enrol_check || now < r->enrol_checked_at ||
                    now - r->enrol_checked_at >= RUNNER_ENROL_RECHECK_S;
        e = look ? store_rules_unenrolled(r->store, ids, limit, &n) : 0;
        if (e < 0)
                return e;
        if (look && n < limit) { /* all enrolled: no need to look again soon */
                r->enrol_check = false;
                r->enrol_checked_at = now;
        }
        for (size_t i = 0; i < n; i++, done++)
                group_run(r, &g, ids[i], true, now);
        while (done < max && rules_schedule_pop_due(r->index, now, &id, &due) == 0) {
                group_run(r, &g, id, false, now);
                done++;
        }
        group_end(r, &g, now);
        if (g.failed) { /* one line a firing, however many failed */
                char more[48] = "";

                if (g.failed > 1)
                        snprintf(more, sizeof(more), " (and %u more contacts)", g.failed - 1);
                log_warning("rules: contact %lld: run failed: %s; tried again in %d s%s",
                            (long long)g.first_failed, g.why, RUNNER_RETRY_S, more);
        }
        if (r->queued && r->opts.on_queued)
                r->opts.on_queued(r->opts.userdata);
        update_status(r);
        return (int)done;
}

int rules_runner_inbound(struct rules_runner *r, int64_t contact_id, const char *text, int64_t now)
{
        int e;

        if (!r->set)
                return -ENOENT;
        r->queued = false;
        e = runner_contact(r, contact_id, text, now);
        if (r->queued && r->opts.on_queued)
                r->opts.on_queued(r->opts.userdata);
        arm_timer(r, 0);
        return e;
}

int rules_runner_inbound_unknown(struct rules_runner *r, const char *phone, const char *text,
                                 int64_t now, int64_t *ret_contact_id)
{
        int64_t id = 0;
        int e;

        if (!r->set || !phone || !text)
                return -ENOENT;
        r->queued = false;
        e = runner_unknown(r, phone, text, now, &id);
        if (r->queued && r->opts.on_queued)
                r->opts.on_queued(r->opts.userdata);
        arm_timer(r, 0);
        if (e == 0 && ret_contact_id)
                *ret_contact_id = id;
        return e;
}

int64_t rules_runner_next_due(const struct rules_runner *r)
{
        int64_t due;

        return rules_schedule_peek(r->index, &due, NULL) == 0 ? due : INT64_MAX;
}

int64_t rules_runner_sleep_us(int64_t now_us, int64_t due)
{
        int64_t cap = (int64_t)RULES_RUNNER_TIMER_CAP_S * RUNNER_USEC;

        if (due <= now_us / (int64_t)RUNNER_USEC)
                return 0;
        /* due * 1e6 overflows only for dates past year 292,000: those are "not soon". */
        if (due > INT64_MAX / (int64_t)RUNNER_USEC || due * (int64_t)RUNNER_USEC - now_us > cap)
                return cap;
        return due * (int64_t)RUNNER_USEC - now_us;
}

int64_t rules_runner_clock_jump_s(int64_t wall_before_us, uint64_t mono_before_us,
                                  int64_t wall_after_us, uint64_t mono_after_us)
{
        int64_t drift =
                (wall_after_us - wall_before_us) - (int64_t)(mono_after_us - mono_before_us);

        /* Rounded to whole seconds: the two clocks are read a few microseconds apart. */
        return (drift + (drift < 0 ? -RUNNER_USEC / 2 : RUNNER_USEC / 2)) / RUNNER_USEC;
}

static int64_t clock_us(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * RUNNER_USEC + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
        return clock_us(CLOCK_REALTIME);
}

/* Compares how far the wall clock and the monotonic clock moved since the last look: a
 * difference beyond RULES_RUNNER_JUMP_S is a jump (NTP stepping a box that booted without
 * an RTC, an operator's `date -s`), logged once and as an event. Nothing else needs to
 * follow: due times are wall-clock instants, settled keys keep a backward jump from sending
 * again, and the engine's window and grace decide what a forward jump skips. */
static void look_at_clock(struct rules_runner *r, int64_t wall, uint64_t mono)
{
        int64_t jump;
        char json[160];

        if (r->clock_mono_us) {
                jump = rules_runner_clock_jump_s(r->clock_wall_us, r->clock_mono_us, wall, mono);
                if (jump > RULES_RUNNER_JUMP_S || jump < -RULES_RUNNER_JUMP_S) {
                        log_warning("rules: the wall clock jumped %+lld s; reminders are "
                                    "rescheduled against the new time",
                                    (long long)jump);
                        snprintf(json, sizeof(json), "{\"seconds\":%lld,\"rule_set\":\"%s\"}",
                                 (long long)jump, r->set ? r->set->hash_hex : "");
                        store_event_append(
                                r->store,
                                &(struct store_event){ .time = wall / (int64_t)RUNNER_USEC,
                                                       .clock_trusted = r->clock_trusted,
                                                       .type = "rules.clock_jumped",
                                                       .json = json },
                                NULL);
                }
        }
        r->clock_wall_us = wall;
        r->clock_mono_us = mono;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct rules_runner *r = userdata;
        int n;

        (void)s;
        (void)usec;
        n = rules_runner_run(r, wall_us() / (int64_t)RUNNER_USEC, RULES_RUNNER_SLICE);
        /* A full slice: more are due; come back at once after the loop's other work. */
        arm_timer(r, n == RULES_RUNNER_SLICE ? 1 : 0);
        return 0;
}

/* The timer runs on CLOCK_MONOTONIC and sleeps at most RULES_RUNNER_TIMER_CAP_S: a
 * CLOCK_REALTIME timer fires at the kernel's idea of an instant, which is wrong after the
 * clock is stepped (and under a test's faked clock); here each wake-up reads the wall clock
 * again and asks the index what is due by it. at: 0 the index's earliest due time, else
 * that instant (1: at once). */
static void arm_timer(struct rules_runner *r, int64_t at)
{
        int64_t due = at ? at : rules_runner_next_due(r);
        /* Both read now, together (sd_event_now() is the loop's cached time, older). */
        int64_t wall = wall_us();
        uint64_t mono = (uint64_t)clock_us(CLOCK_MONOTONIC), sleep_us;

        if (!r->ev)
                return;
        look_at_clock(r, wall, mono);
        if (due == INT64_MAX && !r->set) {
                if (r->timer)
                        sd_event_source_set_enabled(r->timer, SD_EVENT_OFF);
                return;
        }
        /* Even with nothing due, look again after the cap: a clock jump is then still seen. */
        sleep_us = (uint64_t)rules_runner_sleep_us(wall, due);
        if (!r->timer) {
                if (sd_event_add_time(r->ev, &r->timer, CLOCK_MONOTONIC, mono + sleep_us,
                                      RUNNER_ACCURACY_US, on_timer, r) < 0)
                        return;
                sd_event_source_set_description(r->timer, "rules-runner");
                return;
        }
        sd_event_source_set_time(r->timer, mono + sleep_us);
        sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

int rules_runner_kick(struct rules_runner *r)
{
        struct rules_schedule *index = rules_schedule_new();
        int e = index ? store_rules_due_list(r->store, index_add, index) : -ENOMEM;

        r->enrol_check = true;
        /* puentectl contacts import / set moved some contacts' due times in the store (and
         * new contacts wait to be enrolled): take the store's view. */
        if (e == 0) {
                rules_schedule_free(r->index);
                r->index = index;
        } else
                rules_schedule_free(index);
        arm_timer(r, 1);
        return e;
}

void rules_runner_set_clock_trusted(struct rules_runner *r, bool trusted)
{
        r->clock_trusted = trusted;
        if (r->set)
                update_status(r);
        if (trusted) {
                r->enrol_check = true; /* no run enrolled anyone while it was not */
                arm_timer(r, 1);
        }
}

const char *rules_runner_status(const struct rules_runner *r)
{
        return r->status;
}
