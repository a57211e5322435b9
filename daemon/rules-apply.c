/* daemon/rules-apply: one contact's engine call against the store: its values and state in,
 * messages, events, fields, settled keys and state out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json.h>

#include "at/pdu.h"
#include "daemon/rules-runner-internal.h"
#include "daemon/store.h"

#define RUNNER_PRIORITY_ALERT 10 /* a warning sign forwarded to staff goes before reminders */
#define RUNNER_PRIORITY_REPLY 5  /* an answer to the participant before the day's batch */

struct loaded {
        struct store_contact c;
        const char **values;
        struct json_object *fields; /* parsed fields, owns the value strings */
};

static void loaded_free(struct loaded *l)
{
        free(l->values);
        json_object_put(l->fields);
}

static int load_contact(struct rules_runner *r, int64_t id, struct loaded *l)
{
        const struct rules_set *set = r->set;
        int e = store_contact_get(r->store, id, &l->c);

        if (e < 0)
                return e;
        l->fields = json_tokener_parse(l->c.fields ? l->c.fields : "{}");
        l->values = calloc(set->n_fields, sizeof(*l->values));
        if (!l->values)
                return -ENOMEM;
        for (size_t f = 0; f < set->n_fields; f++) {
                struct json_object *v;

                if (l->fields && json_object_object_get_ex(l->fields, set->fields[f].name, &v))
                        l->values[f] = json_object_get_string(v);
        }
        l->values[RULES_F_STUDY_ID] = l->c.study_id;
        l->values[RULES_F_PHONE] = l->c.phone;
        l->values[RULES_F_LANGUAGE] = l->c.language[0] ? l->c.language : NULL;
        l->values[RULES_F_CLINIC] = l->c.clinic[0] ? l->c.clinic : NULL;
        return 0;
}

/* ---- state <-> JSON, by names so that a reload may reorder the set ---- */

static const char *name_of(const char *const *base, size_t stride, size_t n, int i)
{
        return i >= 0 && (size_t)i < n
                       ? *(const char *const *)((const char *)base + stride * (size_t)i)
                       : NULL;
}

#define NAME(arr, n, i) name_of((const char *const *)(const void *)(arr), sizeof(*(arr)), (n), (i))

static char *state_json(const struct rules_set *set, const struct rules_state *s)
{
        struct json_object *o = json_object_new_object();
        char *out;

#define ADD_S(k, v) json_object_object_add(o, k, (v) ? json_object_new_string(v) : NULL)
#define ADD_I(k, v) json_object_object_add(o, k, json_object_new_int64(v))
#define ADD_B(k, v) json_object_object_add(o, k, json_object_new_boolean(v))
        ADD_S("arm", NAME(set->trial.arms, set->trial.n_arms, s->arm));
        ADD_S("track", NAME(set->tracks, set->n_tracks, s->track));
        ADD_I("track_entered", s->track_entered);
        ADD_I("enrolled_at", s->enrolled_at);
        ADD_I("settled_until", s->settled_until);
        ADD_B("opted_out", s->opted_out);
        ADD_B("stopped", s->stopped);
        ADD_B("loss_choice_pending", s->loss_choice_pending);
        ADD_S("loss_keyword", NAME(set->keywords, set->n_keywords, s->loss_keyword));
        ADD_S("quiz", NAME(set->quizzes, set->n_quizzes, s->quiz));
        ADD_I("question", s->question);
        ADD_I("tries", s->tries);
        ADD_I("score", s->score);
        ADD_I("answered", s->answered);
        ADD_I("asked_at", s->asked_at);
        out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return out;
}

static int64_t get_i(struct json_object *o, const char *k)
{
        struct json_object *v;

        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static const char *get_s(struct json_object *o, const char *k)
{
        struct json_object *v;

        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static int found(int i)
{
        return i >= 0 ? i : RULES_NONE;
}

static int state_parse(const struct rules_set *set, const char *json, struct rules_state *s)
{
        struct json_object *o = json_tokener_parse(json);

        if (!o)
                return -EBADMSG;
        *s = (struct rules_state){
                .arm = set->trial.present ? found(rules_arm_find(set, get_s(o, "arm"))) : 0,
                .track = found(rules_track_find(set, get_s(o, "track"))),
                .track_entered = get_i(o, "track_entered"),
                .enrolled_at = get_i(o, "enrolled_at"),
                .settled_until = get_i(o, "settled_until"),
                .opted_out = get_i(o, "opted_out") != 0,
                .stopped = get_i(o, "stopped") != 0,
                .loss_choice_pending = get_i(o, "loss_choice_pending") != 0,
                .loss_keyword = found(rules_keyword_find(set, get_s(o, "loss_keyword"))),
                .quiz = found(rules_quiz_find(set, get_s(o, "quiz"))),
                .question = (int)get_i(o, "question"),
                .tries = (unsigned)get_i(o, "tries"),
                .score = (int)get_i(o, "score"),
                .answered = (int)get_i(o, "answered"),
                .asked_at = get_i(o, "asked_at"),
        };
        if (s->quiz == RULES_NONE)
                s->question = RULES_NONE;
        json_object_put(o);
        return 0;
}

/* ---- events ---- */

static int event(struct rules_runner *r, int64_t contact_id, int64_t now, const char *type,
                 struct json_object *o)
{
        struct store_event ev = { .time = now,
                                  .clock_trusted = r->clock_trusted,
                                  .type = type,
                                  .contact_id = contact_id };
        char t[64];
        int e;

        json_object_object_add(o, "rule_set", json_object_new_string(r->set->hash_hex));
        snprintf(t, sizeof(t), "rules.%s", type);
        ev.type = t;
        ev.json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        e = store_event_append(r->store, &ev, NULL);
        json_object_put(o);
        return e;
}

static int queue(struct rules_runner *r, const char *to, int64_t contact_id, const char *text,
                 int priority, const char *reminder, int64_t now)
{
        struct sms_text_info info;
        int64_t id;
        int e = sms_text_analyze(text, r->set->settings.translit, &info);

        if (e < 0)
                return e;
        struct store_outgoing_new m = {
                .recipient = to,
                .contact_id = contact_id,
                .text = text,
                .encoding = info.charset == SMS_CHARSET_UCS2 ? STORE_ENC_UCS2 : STORE_ENC_GSM7,
                .part_count = (unsigned)info.parts,
                .priority = priority,
                /* for the message's sms.* events (docs/upload.md "Message events") */
                .reminder = reminder,
                .rule_set = r->set->hash_hex,
                /* no PDUs: the bank encodes at send time (daemon/bank-encode.c) */
        };
        e = store_queue_message(r->store, &m, now, &id);
        if (e == 0)
                r->queued = true;
        return e;
}

static int set_field(struct rules_runner *r, struct loaded *l, int f, const char *value,
                     int64_t now)
{
        int64_t id;

        if (f == RULES_F_LANGUAGE || f == RULES_F_CLINIC || f == RULES_F_PHONE ||
            f == RULES_F_STUDY_ID)
                return 0; /* columns; changed at the clinic (puentectl contacts set) */
        if (!l->fields)
                l->fields = json_object_new_object();
        json_object_object_add(l->fields, r->set->fields[f].name,
                               value ? json_object_new_string(value) : NULL);
        return store_contact_upsert(
                r->store, l->c.study_id, l->c.phone, l->c.language[0] ? l->c.language : NULL,
                l->c.clinic[0] ? l->c.clinic : NULL,
                json_object_to_json_string_ext(l->fields, JSON_C_TO_STRING_PLAIN), now, &id);
}

static struct json_object *describe(const struct rules_set *set, const struct rules_action *a)
{
        struct json_object *o = json_object_new_object();

#define PUT_S(k, v)                                                                                \
        do {                                                                                       \
                if (v)                                                                             \
                        json_object_object_add(o, k, json_object_new_string(v));                   \
        } while (0)
        if (a->key[0])
                PUT_S("key", a->key);
        PUT_S("reminder", NAME(set->reminders, set->n_reminders, a->reminder));
        PUT_S("keyword", NAME(set->keywords, set->n_keywords, a->keyword));
        PUT_S("quiz", NAME(set->quizzes, set->n_quizzes, a->quiz));
        PUT_S("field", NAME(set->fields, set->n_fields, a->field));
        if (a->kind == RULES_ACT_SUPPRESSED)
                PUT_S("reason", rules_suppress_name(a->reason));
        if (a->kind == RULES_ACT_INBOUND)
                PUT_S("category", rules_inbound_category_name(a->category));
        if (a->kind == RULES_ACT_TRACK_SWITCH) {
                PUT_S("from", NAME(set->tracks, set->n_tracks, a->track_from));
                PUT_S("to", NAME(set->tracks, set->n_tracks, a->track_to));
        }
        if (a->kind == RULES_ACT_QUIZ_ANSWER) {
                json_object_object_add(o, "question", json_object_new_int(a->question));
                PUT_S("choice",
                      a->choice >= 0 && a->quiz >= 0
                              ? set->quizzes[a->quiz].questions[a->question].choices[a->choice].name
                              : NULL);
                json_object_object_add(o, "right", json_object_new_boolean(a->right));
        }
        if (a->kind == RULES_ACT_QUIZ_COMPLETED || a->kind == RULES_ACT_QUIZ_ENDED) {
                json_object_object_add(o, "score", json_object_new_int(a->score));
                json_object_object_add(o, "total", json_object_new_int(a->total));
        }
        if (a->kind == RULES_ACT_REMINDER) {
                json_object_object_add(o, "due", json_object_new_int64(a->at));
                json_object_object_add(o, "late", json_object_new_int(a->late_seconds));
        }
        if (a->kind == RULES_ACT_LOSS || a->kind == RULES_ACT_LOSS_CHOICE ||
            a->kind == RULES_ACT_FIELD_SET)
                PUT_S("value", a->value);
        return o;
}

static int apply(struct rules_runner *r, struct loaded *l, int64_t now)
{
        const struct rules_result *res = &r->res;

        for (size_t i = 0; i < res->n_actions; i++) {
                const struct rules_action *a = &res->actions[i];
                int e = 0;

                switch (a->kind) {
                case RULES_ACT_REMINDER:
                        if (a->text)
                                e = queue(r, l->c.phone, l->c.id, a->text, 0,
                                          NAME(r->set->reminders, r->set->n_reminders, a->reminder),
                                          now);
                        if (e == 0)
                                e = store_rules_settle(r->store, l->c.id, a->key, now);
                        break;
                case RULES_ACT_SUPPRESSED:
                        e = store_rules_settle(r->store, l->c.id, a->key, now);
                        break;
                case RULES_ACT_REPLY:
                        e = queue(r, l->c.phone, l->c.id, a->text, RUNNER_PRIORITY_REPLY, NULL,
                                  now);
                        break;
                case RULES_ACT_ALERT:
                        e = queue(r, a->to, 0, a->text, RUNNER_PRIORITY_ALERT, NULL, now);
                        break;
                case RULES_ACT_FIELD_SET:
                        e = set_field(r, l, a->field, a->value, now);
                        break;
                case RULES_ACT_OPTED_OUT: {
                        unsigned n = 0;

                        /* Before anything else goes out: what waits in the queue never will. */
                        e = store_rules_withdraw_queued(r->store, l->c.id, &n);
                        if (e == 0 && n > 0) {
                                struct json_object *o = json_object_new_object();

                                json_object_object_add(o, "messages", json_object_new_int((int)n));
                                e = event(r, l->c.id, now, "withdrawn", o);
                        }
                        break;
                }
                default:
                        break;
                }
                if (e >= 0)
                        e = event(r, l->c.id, now, rules_act_name(a->kind), describe(r->set, a));
                if (e < 0)
                        return e;
        }
        return 0;
}

/* ---- one contact ---- */

struct settled_ctx {
        struct rules_runner *r;
        int64_t contact_id;
};

static bool settled_cb(void *userdata, const char *key)
{
        const struct settled_ctx *sc = userdata;

        return store_rules_is_settled(sc->r->store, sc->contact_id, key) == 1;
}

static int enrol(struct rules_runner *r, struct loaded *l, int64_t now, struct rules_state *st)
{
        const struct rules_set *set = r->set;
        char stratum[RULES_ARMS_STRATUM_MAX] = "";
        int arm = 0, e;

        if (set->trial.present) {
                e = rules_arms_stratum(set, l->values, stratum, sizeof(stratum));
                if (e == 0 && r->sealed)
                        e = arm = rules_arms_sealed_lookup(r->sealed, l->c.study_id);
                else if (e == 0)
                        e = rules_arms_assign(set, r->secret, r->secret_len, stratum,
                                              set->trial.unit == RULES_UNIT_CLINIC ? l->c.clinic
                                                                                   : l->c.study_id,
                                              &arm);
                if (e < 0)
                        return e;
        }
        e = rules_engine_enrol(&r->env, l->values, arm, now, st);
        if (e < 0)
                return e;
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "track", json_object_new_string(set->tracks[st->track].name));
        e = event(r, l->c.id, now, "enrolled", o);
        if (e == 0 && set->trial.present) {
                o = json_object_new_object();
                json_object_object_add(o, "arm", json_object_new_string(set->trial.arms[arm].name));
                json_object_object_add(o, "stratum", json_object_new_string(stratum));
                json_object_object_add(
                        o, "method",
                        json_object_new_string(r->sealed ? "sealed_list" : "hmac_sha256"));
                e = event(r, l->c.id, now, "arm_assigned", o);
        }
        return e;
}

int runner_contact(struct rules_runner *r, int64_t contact_id, const char *text, int64_t now)
{
        struct loaded l = { 0 };
        struct store_rules_state stored;
        struct rules_contact c = { .id = contact_id };
        struct settled_ctx sc = { r, contact_id };
        int64_t recent[RUNNER_RECENT_MAX];
        size_t n_recent = 0;
        char *json = NULL;
        int e;
        /* One transaction for the contact's whole run (one fsync): a reminder queued is
         * settled with it, an enrolment logged is saved with it, or none of it is (a failure
         * half way left the message queued and the key unsettled, and the retry queued it
         * again). Inside a caller's batch (a group of the runner's, an inbound message's
         * pass, a new participant's opt-in), a savepoint of it: still all or none. */
        bool own = !store_batch_open(r->store), ran = false;

        e = own ? store_batch_begin(r->store) : store_savepoint_begin(r->store, "contact run");
        if (e < 0)
                return e;
        e = load_contact(r, contact_id, &l);
        if (e < 0)
                goto out;
        e = store_rules_state_get(r->store, contact_id, &stored);
        if (e == -ENOENT) {
                e = enrol(r, &l, now, &c.state);
                if (e < 0) {
                        /* No start track (no due date yet): nothing to run; not an error. */
                        e = e == -ENOENT ? 0 : e;
                        goto out;
                }
        } else if (e == 0)
                e = state_parse(r->set, stored.state, &c.state);
        if (e < 0)
                goto out;
        e = store_rules_recent_sends(r->store, contact_id, now - RULES_ENGINE_WEEK, recent,
                                     RUNNER_RECENT_MAX, &n_recent);
        if (e < 0)
                goto out;
        c.values = l.values;
        c.recent = recent;
        c.n_recent = n_recent;
        c.settled = settled_cb;
        c.settled_userdata = &sc;
        e = text ? rules_engine_inbound(&r->env, &c, text, strlen(text), now, &r->res)
                 : rules_engine_tick(&r->env, &c, now, &r->res);
        if (e == 0)
                e = apply(r, &l, now);
        if (e < 0)
                goto out;
        json = state_json(r->set, &r->res.state);
        e = json ? store_rules_state_put(r->store, contact_id, json, r->res.next_due,
                                         r->set->hash_hex)
                 : -ENOMEM;
        ran = e == 0;
out:
        if (own && e >= 0)
                e = store_batch_commit(r->store);
        else if (own)
                store_batch_rollback(r->store);
        else if (e >= 0)
                e = store_savepoint_release(r->store, "contact run");
        else
                store_savepoint_rollback(r->store);
        /* The index follows the store: at once when this was the commit; inside a caller's
         * batch the caller puts the contact back for a retry if its commit fails. */
        if (e == 0 && ran)
                e = rules_schedule_set(r->index, contact_id, r->res.next_due);
        free(json);
        loaded_free(&l);
        return e;
}

/* ---- a new participant writes first ---- */

#define STUDY_ID_BYTES 8 /* 16 hex digits: random, what the evaluation sees */

int runner_unknown(struct rules_runner *r, const char *phone, const char *text, int64_t now,
                   int64_t *ret_id)
{
        const struct rules_set *set = r->set;
        const char **values = calloc(set->n_fields, sizeof(*values));
        struct rules_contact c = { 0 };
        struct json_object *fields = json_object_new_object();
        bool opt_in = false;
        uint8_t rnd[STUDY_ID_BYTES];
        char study_id[2 * STUDY_ID_BYTES + 1];
        int64_t id = 0;
        int e;

        if (!values || !fields) {
                free(values);
                json_object_put(fields);
                return -ENOMEM;
        }
        values[RULES_F_PHONE] = phone;
        values[RULES_F_LANGUAGE] = set->settings.default_language;
        /* A box that serves one clinic names it (settings' enrol_clinic): recorded now, so
         * the welcome, her times and her alerts are that clinic's. */
        values[RULES_F_CLINIC] = set->settings.enrol_clinic;
        c.values = values;
        c.state = (struct rules_state){ .arm = 0,
                                        .track = RULES_NONE,
                                        .loss_keyword = RULES_NONE,
                                        .quiz = RULES_NONE,
                                        .question = RULES_NONE };
        e = rules_engine_inbound(&r->env, &c, text, strlen(text), now, &r->res);
        for (size_t i = 0; e == 0 && i < r->res.n_actions; i++) {
                const struct rules_action *a = &r->res.actions[i];

                if (a->kind == RULES_ACT_KEYWORD &&
                    set->keywords[a->keyword].action == RULES_KW_OPT_IN)
                        opt_in = true;
                if (a->kind == RULES_ACT_FIELD_SET && a->value)
                        json_object_object_add(fields, set->fields[a->field].name,
                                               json_object_new_string(a->value));
        }
        if (e == 0 && !opt_in)
                e = -ENOENT;
        if (e == 0 && getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                e = -EIO;
        /* The contact, her welcome, the event and her enrolment: all or none (a failure half
         * way left the contact and her welcome in the store without her enrolment). */
        bool own = e == 0 && !store_batch_open(r->store);
        if (own && (e = store_batch_begin(r->store)) < 0)
                own = false;
        if (e == 0) {
                for (size_t i = 0; i < sizeof(rnd); i++)
                        snprintf(study_id + 2 * i, 3, "%02x", rnd[i]);
                e = store_contact_upsert(
                        r->store, study_id, phone, set->settings.default_language,
                        set->settings.enrol_clinic,
                        json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN), now, &id);
        }
        /* The welcome the engine rendered for the keyword goes to the new contact. */
        for (size_t i = 0; e == 0 && i < r->res.n_actions; i++)
                if (r->res.actions[i].kind == RULES_ACT_REPLY)
                        e = queue(r, phone, id, r->res.actions[i].text, RUNNER_PRIORITY_REPLY, NULL,
                                  now);
        if (e == 0) {
                struct json_object *o = json_object_new_object();

                json_object_object_add(o, "category", json_object_new_string("opt_in"));
                e = event(r, id, now, "inbound_received", o);
        }
        if (e == 0)
                e = runner_contact(r, id, NULL, now); /* enrolment: arm, track, first tick */
        if (own && e == 0)
                e = store_batch_commit(r->store);
        else if (own)
                store_batch_rollback(r->store);
        free(values);
        json_object_put(fields);
        if (e == 0)
                *ret_id = id;
        return e;
}
