/* Staff commands, the edge: new incoming messages from the store, the status from the
 * daemon's snapshot, replies queued the way `puentectl send` queues (daemon/ctl-send.c),
 * decisions logged. The decisions themselves are daemon/staff.c's. */
#include "daemon/staff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "at/pdu.h"
#include "daemon/log.h"

/* Written by daemon/manager-status.c (MANAGER_STATUS_KEY) and daemon/upload.c
 * (UPLOAD_SETTING_LAST_OK, Unix seconds); named here to keep this file off their headers. */
#define STATUS_SETTING      "daemon.status"
#define STATUS_SETTING_MAX  8192
#define UPLOAD_LAST_SETTING "upload.last_ok"

struct staff {
        struct staff_throttle throttle;
};

int staff_new(struct staff **ret)
{
        struct staff *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

struct staff *staff_free(struct staff *s)
{
        free(s);
        return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key, int64_t dflt)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : dflt;
}

/* One modem of the snapshot: counts and problems. */
static void add_modem(struct staff_status *st, struct json_object *o, unsigned *connected)
{
        const char *state = jstr(o, "state"), *sim = jstr(o, "sim");
        struct json_object *v;
        bool ready = json_object_object_get_ex(o, "ready", &v) && json_object_get_boolean(v);

        if (strcmp(state, "rejected") == 0)
                return; /* not a modem of ours: a GPS port, a duplicate, a denied one */
        st->modems++;
        st->sent_today += (unsigned)jint(o, "sent_today", 0);
        if (strcmp(state, "unplugged") != 0 && strcmp(state, "closed") != 0)
                (*connected)++;
        if (ready) {
                int bars = (int)jint(o, "bars", -1);
                st->modems_ready++;
                if (bars > st->bars)
                        st->bars = bars;
                return;
        }
        if (strcmp(sim, "no SIM") == 0)
                st->problems |= STAFF_PROB_NO_SIM;
        else if (strcmp(sim, "needs PIN") == 0 || strcmp(sim, "needs PUK") == 0 ||
                 strcmp(sim, "locked") == 0)
                st->problems |= STAFF_PROB_SIM_LOCKED;
        else if (strcmp(state, "network") == 0)
                st->problems |= STAFF_PROB_NO_NETWORK;
        else if (strcmp(state, "failed") == 0)
                st->problems |= STAFF_PROB_MODEM_FAILED;
}

int staff_status_gather(struct store *store, const struct config *c, int64_t now,
                        struct staff_status *ret)
{
        struct staff_status st = { .bars = -1, .last_upload_age = -1 };
        struct store_status counts;
        struct json_object *snap = NULL, *arr;
        char *buf = malloc(STATUS_SETTING_MAX);
        unsigned connected = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        if (store_setting_get(store, STATUS_SETTING, buf, STATUS_SETTING_MAX) == 0)
                snap = json_tokener_parse(buf);
        if (snap && json_object_object_get_ex(snap, "modems", &arr) &&
            json_object_is_type(arr, json_type_array))
                for (size_t i = 0; i < json_object_array_length(arr); i++)
                        add_modem(&st, json_object_array_get_idx(arr, i), &connected);
        json_object_put(snap);
        if (connected == 0)
                st.problems |= STAFF_PROB_NO_MODEM;

        r = store_status_open(store, &counts);
        if (r < 0) {
                free(buf);
                return r;
        }
        st.queued = counts.parts[STORE_PART_QUEUED] + counts.parts[STORE_PART_RETRY];
        st.failed = counts.parts[STORE_PART_FAILED];
        if (st.failed)
                st.problems |= STAFF_PROB_FAILED_PARTS;

        if (!c->rules_directory[0])
                st.problems |= STAFF_PROB_NO_RULES;
        st.upload_configured = c->upload.enabled && c->upload.url[0];
        if (!st.upload_configured)
                st.problems |= STAFF_PROB_NO_UPLOAD;
        if (store_setting_get(store, UPLOAD_LAST_SETTING, buf, STATUS_SETTING_MAX) == 0) {
                int64_t last = strtoll(buf, NULL, 10);
                if (last > 0 && last <= now)
                        st.last_upload_age = now - last;
        }
        if (st.upload_configured && st.last_upload_age > STAFF_UPLOAD_LATE_S)
                st.problems |= STAFF_PROB_UPLOAD_LATE;
        free(buf);
        *ret = st;
        return 0;
}

/* An incoming message copied out of the listing (its strings are borrowed there). */
struct pending {
        int64_t id, received;
        char sender[STORE_NUMBER_MAX];
        char *text;
};

struct collect {
        int64_t after;
        struct pending p[STAFF_SCAN_MAX];
        unsigned n;
        int64_t newest;
};

static int collect_cb(const struct store_incoming *m, void *userdata)
{
        struct collect *c = userdata;

        if (m->id > c->newest)
                c->newest = m->id;
        if (m->id <= c->after || c->n == STAFF_SCAN_MAX)
                return 0;
        struct pending *p = &c->p[c->n];
        p->text = strdup(m->text ? m->text : "");
        if (!p->text)
                return -ENOMEM;
        p->id = m->id;
        p->received = m->received;
        snprintf(p->sender, sizeof(p->sender), "%s", m->sender);
        c->n++;
        return 0;
}

static int queue_reply(struct store *store, const char *to, const char *text, int64_t now)
{
        struct sms_text_info info;
        int64_t id;
        int r = sms_text_analyze(text, false, &info);

        if (r < 0)
                return r;
        struct store_outgoing_new m = {
                .recipient = to,
                .text = text,
                .encoding = info.charset == SMS_CHARSET_UCS2 ? STORE_ENC_UCS2 : STORE_ENC_GSM7,
                .part_count = (unsigned)info.parts,
                .priority = STAFF_PRIORITY,
                /* no PDUs: the bank encodes at send time (daemon/bank-encode.c) */
        };
        return store_queue_message(store, &m, now, &id);
}

static const char *command_word(enum staff_command cmd, enum staff_lang lang)
{
        static const char *const w[][2] = {
                [STAFF_CMD_NONE] = { "(text)", "(text)" },
                [STAFF_CMD_STATUS] = { "ESTADO", "STATUS" },
                [STAFF_CMD_TEST] = { "PRUEBA", "TEST" },
                [STAFF_CMD_HELP] = { "AYUDA", "HELP" },
        };
        return w[cmd][lang == STAFF_LANG_EN];
}

/* The event log is uploaded anonymized: no number, only what happened. */
static void record_event(struct store *store, const struct staff_decision *d, int64_t now)
{
        static const char *const action[] = {
                [STAFF_PASS] = "pass",           [STAFF_REPLY] = "reply",
                [STAFF_IGNORED] = "not-staff",   [STAFF_SPOOFABLE] = "spoofable",
                [STAFF_THROTTLED] = "throttled",
        };
        struct json_object *o = json_object_new_object();
        char type[] = "staff.command";

        if (!o)
                return;
        json_object_object_add(o, "command", json_object_new_string(command_word(d->cmd, d->lang)));
        json_object_object_add(o, "action", json_object_new_string(action[d->action]));
        if (d->clinic)
                json_object_object_add(o, "clinic", json_object_new_string(d->clinic->name));
        struct store_event ev = { .time = now,
                                  .type = type,
                                  .json = json_object_to_json_string(o) };
        store_event_append(store, &ev, NULL);
        json_object_put(o);
}

static int handle(struct staff *s, struct store *store, const struct config *c,
                  const struct pending *p, const struct staff_status *st, int64_t now)
{
        const char *const fields[] = { "SENDER", p->sender, NULL };
        struct staff_decision d;
        int r = staff_decide(c, &s->throttle, p->sender, p->text, st, now, &d);

        if (r < 0)
                return r;
        if (d.action != STAFF_PASS && now - p->received > STAFF_REPLY_MAX_AGE_S) {
                log_fields(LOG_NOTICE, fields,
                           "%s from %s not answered: received %" PRId64 " min ago",
                           command_word(d.cmd, d.lang), p->sender, (now - p->received) / 60);
                return 0;
        }
        switch (d.action) {
        case STAFF_PASS:
                return 0;
        case STAFF_IGNORED:
                log_fields(LOG_NOTICE, fields, "%s from %s ignored: not a staff number",
                           command_word(d.cmd, d.lang), p->sender);
                break;
        case STAFF_SPOOFABLE:
                log_fields(LOG_NOTICE, fields,
                           "%s from %s ignored: an alphanumeric sender or short code is never "
                           "staff",
                           command_word(d.cmd, d.lang), p->sender);
                break;
        case STAFF_THROTTLED:
                if (d.first_refusal)
                        log_fields(LOG_WARNING, fields,
                                   "no more automatic replies to %s this hour: %u already sent "
                                   "(an auto-responder?)",
                                   d.number, c->staff_replies_per_hour);
                store_incoming_mark_handled(store, p->id);
                break;
        case STAFF_REPLY:
                r = queue_reply(store, d.number, d.reply, now);
                if (r < 0) {
                        log_fields(LOG_ERR, fields, "cannot queue the reply to %s: %s", d.number,
                                   store_errmsg(store));
                        return r;
                }
                store_incoming_mark_handled(store, p->id);
                log_fields(LOG_INFO, fields, "%s from %s (clinic %s): replied",
                           command_word(d.cmd, d.lang), d.number, d.clinic->name);
                break;
        }
        record_event(store, &d, now);
        return d.action == STAFF_REPLY;
}

/* The daily summaries that are due, by the box's local time. */
static int send_summaries(struct store *store, const struct config *c, int64_t now)
{
        time_t t = (time_t)now;
        struct tm tm;
        int queued = 0;

        if (!localtime_r(&t, &tm))
                return 0;
        uint32_t today =
                (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
        for (unsigned i = 0; i < c->n_clinics; i++) {
                const struct config_clinic *cl = &c->clinics[i];
                char key[sizeof(STAFF_SETTING_SUMMARY) + CONFIG_CLINIC_NAME_MAX], buf[32];
                char text[STAFF_REPLY_MAX];
                struct staff_status st;
                uint32_t last = 0;
                int r;

                snprintf(key, sizeof(key), "%s%s", STAFF_SETTING_SUMMARY, cl->name);
                if (store_setting_get(store, key, buf, sizeof(buf)) == 0)
                        last = (uint32_t)strtoul(buf, NULL, 10);
                if (!cl->manager[0] || !staff_summary_due(cl->summary_minute,
                                                          tm.tm_hour * 60 + tm.tm_min, today, last))
                        continue;
                if ((r = staff_status_gather(store, c, now, &st)) < 0 ||
                    (r = staff_format_summary(&st, text, sizeof(text))) < 0)
                        return r;
                /* The summary and the day it was sent for: together, or it goes twice. */
                bool batch = store_batch_begin(store) == 0;
                snprintf(buf, sizeof(buf), "%" PRIu32, today);
                if ((r = queue_reply(store, cl->manager, text, now)) == 0)
                        r = store_setting_set(store, key, buf);
                if (r == 0 && batch)
                        r = store_batch_commit(store);
                else if (batch)
                        store_batch_rollback(store);
                if (r < 0)
                        return r;
                log_fields(LOG_INFO, (const char *const[]){ "SENDER", cl->manager, NULL },
                           "daily summary of clinic %s queued for its manager %s", cl->name,
                           cl->manager);
                queued++;
        }
        return queued;
}

int staff_process(struct staff *s, struct store *store, const struct config *c, int64_t now)
{
        struct collect *col = calloc(1, sizeof(*col));
        struct staff_status st;
        char buf[32];
        int r, replies = 0;

        if (!col)
                return -ENOMEM;
        r = store_setting_get(store, STAFF_SETTING_CURSOR, buf, sizeof(buf));
        /* No cursor yet: the first pass on this database looks at everything listed, and
         * the age limit (STAFF_REPLY_MAX_AGE_S) keeps old texts unanswered. The first pass
         * only runs once a message is stored, so starting after the newest one would skip
         * the first command a new box ever receives. */
        col->after = r == 0 ? strtoll(buf, NULL, 10) : 0;
        r = store_inbox_list(store, STAFF_SCAN_MAX, false, collect_cb, col);
        if (r < 0)
                goto out;
        if (col->n > 0 && (r = staff_status_gather(store, c, now, &st)) < 0)
                goto out;
        /* the listing is newest first: answer in arrival order */
        for (unsigned i = col->n; i-- > 0;) {
                /* The reply, the message's mark, its event and the cursor past it: one
                 * transaction, so a crash between them neither answers twice nor skips. */
                bool batch = store_batch_begin(store) == 0;
                int replied = r = handle(s, store, c, &col->p[i], &st, now);
                if (r >= 0) {
                        snprintf(buf, sizeof(buf), "%" PRId64, col->p[i].id);
                        r = store_setting_set(store, STAFF_SETTING_CURSOR, buf);
                }
                if (r >= 0 && batch)
                        r = store_batch_commit(store);
                else if (batch)
                        store_batch_rollback(store);
                if (r < 0)
                        break;
                replies += replied;
        }
        if (r >= 0 && (r = send_summaries(store, c, now)) > 0)
                replies += r;
out:
        if (r < 0)
                log_error("staff commands: %s", store_errmsg(store));
        for (unsigned i = 0; i < col->n; i++)
                free(col->p[i].text);
        free(col);
        return r < 0 ? r : replies;
}
