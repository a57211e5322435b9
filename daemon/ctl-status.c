/* puentectl status: every modem (the store's mirror plus the daemon's daemon.status snapshot),
 * the queue by state, incoming messages, and whether puented runs: in plain words for a
 * clinic technician, or as one JSON object. A full disk is told from outside the database
 * (daemon/disk.h): the daemon's mark and the free space of the database's filesystem. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "daemon/config.h"
#include "daemon/ctl-common.h"
#include "daemon/disk.h"
#include "daemon/store.h"

#define CTL_STATUS_KEY      "daemon.status" /* docs/puented.md, "Status" */
#define CTL_STATUS_JSON_MAX (256 * 1024)    /* the snapshot of CONFIG_MODEMS_MAX modems fits */
#define CTL_STATUS_STALE_S  60              /* puented rewrites it every 5 s */

static const char cmd[] = "status";

struct daemon_state {
        bool running;
        long long pid;
        int64_t updated;
        char why[160];            /* when not running: why we think so */
        struct json_object *snap; /* the parsed snapshot, or NULL */
        bool disk_full;           /* marked by puented, or too little room for the database */
        int64_t disk_since;       /* when puented marked it; 0 unknown */
        uint64_t disk_free;       /* bytes free on the database's filesystem */
        int64_t stale;            /* seconds since the snapshot, when the disk keeps it old */
};

static int64_t json_int(struct json_object *o, const char *key, int64_t dflt)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : dflt;
}

static const char *json_str(struct json_object *o, const char *key)
{
        struct json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

/* Reads the snapshot and decides whether the daemon runs: its pid exists and it wrote the
 * snapshot recently (a hung daemon keeps its pid but stops writing). */
static void daemon_state(struct store *s, const struct config *c, int64_t now,
                         struct daemon_state *d)
{
        char *buf = malloc(CTL_STATUS_JSON_MAX);
        int r = buf ? store_setting_get(s, CTL_STATUS_KEY, buf, CTL_STATUS_JSON_MAX) : -ENOMEM;

        *d = (struct daemon_state){ 0 };
        if (disk_free_bytes(c->database, &d->disk_free) == 0 && d->disk_free < DISK_FREE_MIN)
                d->disk_full = true;
        /* The mark counts while puented runs (one killed on a full disk leaves it behind). */
        if (disk_mark_get(c->state_directory, &d->disk_since) == 1 && r == 0)
                d->disk_full = true;
        if (r == -ENOENT)
                snprintf(d->why, sizeof(d->why), "puented has never run with this database");
        else if (r < 0)
                snprintf(d->why, sizeof(d->why), "cannot read its status: %s", strerror(-r));
        else if (!(d->snap = json_tokener_parse(buf)) ||
                 !json_object_is_type(d->snap, json_type_object))
                snprintf(d->why, sizeof(d->why), "its status record is unreadable");
        free(buf);
        if (d->why[0])
                return;
        d->pid = json_int(d->snap, "pid", 0);
        d->updated = json_int(d->snap, "updated", 0);
        if (d->pid <= 0)
                snprintf(d->why, sizeof(d->why), "puented stopped");
        else if (kill((pid_t)d->pid, 0) < 0 && errno == ESRCH)
                snprintf(d->why, sizeof(d->why), "puented (pid %lld) is gone", d->pid);
        if (d->why[0]) {
                d->disk_full = d->disk_free < DISK_FREE_MIN; /* a mark left behind: ignored */
                d->disk_since = 0;
                return;
        }
        if (now - d->updated > CTL_STATUS_STALE_S && !d->disk_full)
                snprintf(d->why, sizeof(d->why),
                         "puented (pid %lld) has not updated its status for %lld s", d->pid,
                         (long long)(now - d->updated));
        else {
                d->running = true;
                if (now - d->updated > CTL_STATUS_STALE_S)
                        d->stale = now - d->updated; /* the full disk keeps it from writing */
        }
}

/* The snapshot's entry for a modem (by store id), or NULL. */
static struct json_object *snap_modem(const struct daemon_state *d, int64_t id)
{
        struct json_object *arr;

        if (!d->snap || !json_object_object_get_ex(d->snap, "modems", &arr) ||
            !json_object_is_type(arr, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                struct json_object *m = json_object_array_get_idx(arr, i);

                if (json_object_is_type(m, json_type_object) && json_int(m, "modem_id", 0) == id)
                        return m;
        }
        return NULL;
}

static unsigned daily_limit_of(const struct config *c, const struct store_modem *m,
                               struct json_object *snap)
{
        const struct config_modem *cm;

        if (snap && json_int(snap, "daily_limit", -1) >= 0)
                return (unsigned)json_int(snap, "daily_limit", 0);
        cm = config_modem_find(c, m->device, m->imei, m->iccid);
        return cm ? cm->daily_limit : c->daily_limit;
}

static void today(int64_t now, uint32_t *ret_day)
{
        time_t t = (time_t)now;
        struct tm tm;

        localtime_r(&t, &tm);
        *ret_day = (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

struct modem_row {
        struct store_modem m;
        struct json_object *snap; /* borrowed from the daemon state, or NULL */
        unsigned daily_limit;
};

struct modem_list {
        struct ctl_env *env;
        const struct daemon_state *d;
        struct modem_row *rows;
        unsigned n, size;
};

static int add_modem(const struct store_modem *m, void *userdata)
{
        struct modem_list *l = userdata;
        struct modem_row *r;

        if (l->n == l->size) {
                unsigned size = l->size ? 2 * l->size : 8;
                struct modem_row *rows = realloc(l->rows, size * sizeof(*rows));

                if (!rows)
                        return -ENOMEM;
                l->rows = rows;
                l->size = size;
        }
        r = &l->rows[l->n++];
        *r = (struct modem_row){ .m = *m };
        r->snap = l->d->running ? snap_modem(l->d, m->id) : NULL;
        r->daily_limit = daily_limit_of(l->env->config, m, r->snap);
        return 0;
}

/* Every modem the store knows, in id order. */
static int load_modems(struct ctl_env *env, const struct daemon_state *d, uint32_t day,
                       struct modem_row **ret, unsigned *ret_n)
{
        struct modem_list l = { .env = env, .d = d };
        int r = store_modem_list(env->store, day, add_modem, &l);

        if (r < 0) {
                free(l.rows);
                return r;
        }
        *ret = l.rows;
        *ret_n = l.n;
        return 0;
}

/* "3 of 5 bars (-73 dBm)", or why there is no figure. */
static void signal_words(struct json_object *s, char *buf, size_t size)
{
        int64_t rssi = json_int(s, "rssi", 99), dbm = json_int(s, "dbm", 0);

        if (!s || rssi == 99 || rssi < 0)
                snprintf(buf, size, "unknown");
        else if (rssi == 0 && dbm == 0)
                snprintf(buf, size, "none");
        else
                snprintf(buf, size, "%lld bar%s (%lld dBm)", (long long)json_int(s, "bars", 0),
                         json_int(s, "bars", 0) == 1 ? "" : "s", (long long)dbm);
}

static void print_modem(const struct modem_row *r)
{
        const struct store_modem *m = &r->m;
        struct json_object *s = r->snap;
        char when[CTL_TIME_MAX], sig[64];
        const char *state = s && *json_str(s, "state") ? json_str(s, "state") : m->state;
        const char *last_error = json_str(s, "last_error");

        printf("Modem %lld: %s%s%s, IMEI %s\n", (long long)m->id, *m->maker ? m->maker : "",
               *m->maker ? " " : "", *m->model ? m->model : "(model unknown)", m->imei);
        if (s) {
                printf("  state:       %s%s%s\n", *state ? state : "unknown",
                       *json_str(s, "health") ? ": " : "", json_str(s, "health"));
                printf("  port:        %s\n", *json_str(s, "device") ? json_str(s, "device") : "-");
                printf("  network:     %s%s%s\n",
                       *json_str(s, "operator") ? json_str(s, "operator") : "no operator",
                       *json_str(s, "registration") ? ", " : "", json_str(s, "registration"));
                signal_words(s, sig, sizeof(sig));
                printf("  signal:      %s\n", sig);
                printf("  SIM:         %s%s%s\n",
                       *json_str(s, "sim") ? json_str(s, "sim") : "unknown",
                       *m->iccid ? ", ICCID " : "", m->iccid);
        } else {
                ctl_time_str(m->last_seen, when);
                printf("  state:       %s (as last recorded; last seen %s)\n",
                       *m->state ? m->state : "unknown", when);
                if (*m->health)
                        printf("  health:      %s\n", m->health);
                printf("  SIM:         %s%s\n", *m->iccid ? "ICCID " : "unknown",
                       *m->iccid ? m->iccid : "");
        }
        if (r->daily_limit)
                printf("  sent today:  %u of %u\n", m->sent_today, r->daily_limit);
        else
                printf("  sent today:  %u (no daily limit)\n", m->sent_today);
        if (s && json_int(s, "recent_errors", 0) > 0)
                printf("  errors:      %lld in the last 15 minutes, %u in total%s%s\n",
                       (long long)json_int(s, "recent_errors", 0), m->errors,
                       *last_error ? "; last: " : "", last_error);
        else if (*last_error)
                printf("  errors:      %u in total; last: %s\n", m->errors, last_error);
        else if (m->errors)
                printf("  errors:      %u in total\n", m->errors);
        else
                printf("  errors:      none\n");
}

static void print_plain(const struct daemon_state *d, const struct modem_row *rows, unsigned n,
                        const struct store_status *st)
{
        unsigned waiting = st->parts[STORE_PART_QUEUED] + st->parts[STORE_PART_RETRY];

        if (d->running)
                printf("Daemon: running (pid %lld): %s\n", d->pid, json_str(d->snap, "summary"));
        else
                printf("Daemon: NOT RUNNING (%s); queued messages wait until it starts\n", d->why);
        if (d->stale)
                printf("  (its status is %lld s old: it cannot be written while the disk is "
                       "full)\n",
                       (long long)d->stale);
        if (d->disk_full)
                printf("Disk: %s (%llu KB free for the database)\n", DISK_FULL_TEXT,
                       (unsigned long long)(d->disk_free / 1024));
        if (d->running && json_str(d->snap, "rules")[0])
                printf("Rules: %s\n", json_str(d->snap, "rules"));
        if (d->running && json_str(d->snap, "upload")[0])
                printf("Upload: %s\n", json_str(d->snap, "upload"));
        if (n == 0)
                printf("Modems: none known yet: plug in a USB modem, or check the modem sections "
                       "and autodetect in puente.conf\n");
        for (unsigned i = 0; i < n; i++)
                print_modem(&rows[i]);
        printf("Queue: %u part%s waiting (%u new, %u to retry), %u sending\n", waiting,
               waiting == 1 ? "" : "s", st->parts[STORE_PART_QUEUED], st->parts[STORE_PART_RETRY],
               st->parts[STORE_PART_SENDING]);
        printf("Sent: %u part%s (%u delivered, %u not delivered, %u awaiting a report)\n",
               st->parts[STORE_PART_SENT] + st->parts[STORE_PART_DELIVERED] +
                       st->parts[STORE_PART_UNDELIVERABLE],
               st->parts[STORE_PART_SENT] + st->parts[STORE_PART_DELIVERED] +
                                       st->parts[STORE_PART_UNDELIVERABLE] ==
                               1
                       ? ""
                       : "s",
               st->parts[STORE_PART_DELIVERED], st->parts[STORE_PART_UNDELIVERABLE],
               st->parts[STORE_PART_SENT]);
        if (d->disk_full)
                printf("Problems: %s; %u part%s failed, %u unknown\n", DISK_FULL_TEXT,
                       st->parts[STORE_PART_FAILED], st->parts[STORE_PART_FAILED] == 1 ? "" : "s",
                       st->parts[STORE_PART_UNKNOWN]);
        else if (st->parts[STORE_PART_FAILED] + st->parts[STORE_PART_UNKNOWN] == 0)
                printf("Problems: none\n");
        else
                printf("Problems: %u part%s failed, %u unknown (maybe sent, not resent)\n",
                       st->parts[STORE_PART_FAILED], st->parts[STORE_PART_FAILED] == 1 ? "" : "s",
                       st->parts[STORE_PART_UNKNOWN]);
        printf("Incoming: %u message%s (%u not yet handled), %u part%s of unfinished messages\n",
               st->incoming, st->incoming == 1 ? "" : "s", st->incoming_unhandled,
               st->inbound_partial, st->inbound_partial == 1 ? "" : "s");
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static struct json_object *modem_json(const struct modem_row *r)
{
        static const char *const from_snap[] = { "device", "operator",   "registration",
                                                 "sim",    "last_error", "health" };
        struct json_object *o = json_object_new_object();
        const struct store_modem *m = &r->m;

        add_int(o, "id", m->id);
        add_str(o, "imei", m->imei);
        add_str(o, "iccid", m->iccid);
        add_str(o, "imsi", m->imsi);
        add_str(o, "maker", m->maker);
        add_str(o, "model", m->model);
        add_str(o, "state",
                r->snap && *json_str(r->snap, "state") ? json_str(r->snap, "state") : m->state);
        add_int(o, "sent_today", m->sent_today);
        add_int(o, "daily_limit", r->daily_limit);
        add_int(o, "errors", m->errors);
        add_int(o, "last_seen", m->last_seen);
        json_object_object_add(o, "live", json_object_new_boolean(r->snap != NULL));
        for (size_t i = 0; i < sizeof(from_snap) / sizeof(from_snap[0]); i++)
                add_str(o, from_snap[i],
                        r->snap                               ? json_str(r->snap, from_snap[i])
                        : strcmp(from_snap[i], "health") == 0 ? m->health
                        : strcmp(from_snap[i], "device") == 0 ? m->device
                                                              : "");
        if (r->snap) {
                static const char *const ints[] = { "rssi", "dbm", "bars", "recent_errors" };

                for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
                        add_int(o, ints[i], json_int(r->snap, ints[i], 0));
        }
        return o;
}

static void print_json(const struct daemon_state *d, const struct modem_row *rows, unsigned n,
                       const struct store_status *st)
{
        struct json_object *root = json_object_new_object(), *dj = json_object_new_object();
        struct json_object *arr = json_object_new_array(), *q = json_object_new_object();
        struct json_object *in = json_object_new_object();

        json_object_object_add(dj, "running", json_object_new_boolean(d->running));
        add_int(dj, "pid", d->pid);
        add_int(dj, "updated", d->updated);
        add_str(dj, "summary", d->running ? json_str(d->snap, "summary") : "");
        add_str(dj, "problem", d->why);
        add_str(dj, "rules", d->running ? json_str(d->snap, "rules") : "");
        add_str(dj, "upload", d->running ? json_str(d->snap, "upload") : "");
        json_object_object_add(root, "daemon", dj);
        {
                struct json_object *disk = json_object_new_object();

                json_object_object_add(disk, "full", json_object_new_boolean(d->disk_full));
                add_int(disk, "since", d->disk_since);
                add_int(disk, "free_bytes", (int64_t)d->disk_free);
                add_str(disk, "problem", d->disk_full ? DISK_FULL_TEXT : "");
                json_object_object_add(root, "disk", disk);
        }
        for (unsigned i = 0; i < n; i++)
                json_object_array_add(arr, modem_json(&rows[i]));
        json_object_object_add(root, "modems", arr);
        for (int s = 0; s < STORE_PART_STATE_COUNT; s++)
                add_int(q, store_part_state_name((enum store_part_state)s), st->parts[s]);
        add_int(q, "messages", st->messages_out);
        json_object_object_add(root, "parts", q);
        add_int(in, "messages", st->incoming);
        add_int(in, "unhandled", st->incoming_unhandled);
        add_int(in, "partial_parts", st->inbound_partial);
        add_int(in, "reports", st->reports);
        add_int(in, "reports_unmatched", st->reports_unmatched);
        json_object_object_add(root, "incoming", in);
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_SPACED));
        json_object_put(root);
}

static int status_usage(FILE *f, int status)
{
        fprintf(f, "Usage: puentectl [--config FILE] status [--json]\n"
                   "\n"
                   "Shows whether puented runs, every modem (state, operator, signal, SIM, sent\n"
                   "today against the daily limit, errors), the queue and incoming messages.\n"
                   "  --json   one JSON object instead of text\n"
                   "\n"
                   "Exit status: 0 shown (even when the daemon is not running), 1 the database\n"
                   "cannot be read, 2 usage.\n");
        return status;
}

int ctl_status(const struct ctl_context *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct ctl_env env = { 0 };
        struct daemon_state d;
        struct store_status st;
        struct modem_row *rows = NULL;
        int64_t now = time(NULL);
        unsigned n = 0;
        uint32_t day;
        bool json = false;
        int c, r, status;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                if (c == 'j')
                        json = true;
                else if (c == 'h')
                        return status_usage(stdout, CTL_EXIT_OK);
                else
                        return ctl_fail(CTL_EXIT_USAGE, cmd,
                                        "unknown option '%s' (try 'puentectl status --help')",
                                        argv[optind - 1]);
        }
        if (optind < argc)
                return ctl_fail(CTL_EXIT_USAGE, cmd,
                                "unexpected argument '%s' (try 'puentectl status --help')",
                                argv[optind]);
        status = ctl_env_open(ctx, cmd, false, &env);
        if (status != CTL_EXIT_OK)
                return status;
        today(now, &day);
        daemon_state(env.store, env.config, now, &d);
        r = store_status_counts(env.store, &st);
        if (r == 0)
                r = load_modems(&env, &d, day, &rows, &n);
        if (r < 0) {
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "cannot read the database: %s",
                                  store_errmsg(env.store));
        } else if (json) {
                print_json(&d, rows, n, &st);
        } else {
                print_plain(&d, rows, n, &st);
        }
        free(rows);
        json_object_put(d.snap);
        ctl_env_close(&env);
        return status;
}
