/* rules/drive: one contact's run through the engine, its store kept in memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/drive.h"

struct rules_drive {
        const struct rules_engine_env *env;
        size_t n_fields; /* kept: rules_drive_free() must not need env */
        char **values;
        struct rules_state state;
        char **keys; /* settled occurrence keys */
        size_t n_keys, cap_keys;
        int64_t *recent; /* sends of the last week */
        size_t n_recent, cap_recent;
        int64_t next_due;
        struct rules_result res;
};

static bool is_settled(void *userdata, const char *key)
{
        const struct rules_drive *d = userdata;

        for (size_t i = 0; i < d->n_keys; i++)
                if (strcmp(d->keys[i], key) == 0)
                        return true;
        return false;
}

int rules_drive_set(struct rules_drive *d, int field, const char *value)
{
        char *v = NULL;

        if (field < 0 || (size_t)field >= d->env->set->n_fields)
                return -EINVAL;
        if (value && !(v = strdup(value)))
                return -ENOMEM;
        free(d->values[field]);
        d->values[field] = v;
        d->next_due = INT64_MIN; /* recompute at once */
        return 0;
}

int rules_drive_new(const struct rules_engine_env *env, const char *const *values, int arm,
                    int64_t now, struct rules_drive **ret_drive)
{
        struct rules_drive *d;
        int r;

        if (!env || !env->set || !values)
                return -EINVAL;
        d = calloc(1, sizeof(*d));
        if (!d || !(d->values = calloc(env->set->n_fields, sizeof(char *)))) {
                free(d);
                return -ENOMEM;
        }
        d->env = env;
        d->n_fields = env->set->n_fields;
        for (size_t i = 0; i < env->set->n_fields; i++)
                if (values[i] && !(d->values[i] = strdup(values[i]))) {
                        rules_drive_free(d);
                        return -ENOMEM;
                }
        r = rules_engine_enrol(env, values, arm, now, &d->state);
        if (r < 0) {
                rules_drive_free(d);
                return r;
        }
        d->next_due = now;
        *ret_drive = d;
        return 0;
}

struct rules_drive *rules_drive_free(struct rules_drive *d)
{
        if (!d)
                return NULL;
        for (size_t i = 0; d->values && i < d->n_fields; i++)
                free(d->values[i]);
        for (size_t i = 0; i < d->n_keys; i++)
                free(d->keys[i]);
        free(d->values);
        free(d->keys);
        free(d->recent);
        free(d);
        return NULL;
}

static int push_key(struct rules_drive *d, const char *key)
{
        if (d->n_keys == d->cap_keys) {
                size_t cap = d->cap_keys ? 2 * d->cap_keys : 64;
                char **k = realloc(d->keys, cap * sizeof(*k));

                if (!k)
                        return -ENOMEM;
                d->keys = k;
                d->cap_keys = cap;
        }
        if (!(d->keys[d->n_keys] = strdup(key)))
                return -ENOMEM;
        d->n_keys++;
        return 0;
}

static int push_send(struct rules_drive *d, int64_t now)
{
        size_t j = 0;

        /* Keep the last week only: what the caps look at. */
        for (size_t i = 0; i < d->n_recent; i++)
                if (d->recent[i] > now - RULES_ENGINE_WEEK)
                        d->recent[j++] = d->recent[i];
        d->n_recent = j;
        if (d->n_recent == d->cap_recent) {
                size_t cap = d->cap_recent ? 2 * d->cap_recent : 16;
                int64_t *r = realloc(d->recent, cap * sizeof(*r));

                if (!r)
                        return -ENOMEM;
                d->recent = r;
                d->cap_recent = cap;
        }
        d->recent[d->n_recent++] = now;
        return 0;
}

/* What the edge does with a result: store it. */
static int apply(struct rules_drive *d, int64_t now)
{
        const struct rules_result *res = &d->res;

        for (size_t i = 0; i < res->n_actions; i++) {
                const struct rules_action *a = &res->actions[i];
                int r = 0;

                switch (a->kind) {
                case RULES_ACT_REMINDER:
                        r = push_key(d, a->key);
                        if (r == 0 && a->text)
                                r = push_send(d, now);
                        break;
                case RULES_ACT_SUPPRESSED:
                        r = push_key(d, a->key);
                        break;
                case RULES_ACT_REPLY:
                        r = push_send(d, now);
                        break;
                case RULES_ACT_FIELD_SET:
                        r = rules_drive_set(d, a->field, a->value);
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        d->state = res->state;
        d->next_due = res->next_due;
        return 0;
}

static void contact_of(struct rules_drive *d, struct rules_contact *c)
{
        *c = (struct rules_contact){
                .values = (const char *const *)d->values,
                .state = d->state,
                .recent = d->recent,
                .n_recent = d->n_recent,
                .settled = is_settled,
                .settled_userdata = d,
        };
}

int rules_drive_inbound(struct rules_drive *d, int64_t now, const char *text, rules_drive_fn fn,
                        void *userdata)
{
        struct rules_contact c;
        int r;

        contact_of(d, &c);
        r = rules_engine_inbound(d->env, &c, text, strlen(text), now, &d->res);
        if (r < 0)
                return r;
        if (fn)
                fn(userdata, now, &d->res);
        return apply(d, now);
}

int rules_drive_tick(struct rules_drive *d, int64_t now, rules_drive_fn fn, void *userdata)
{
        struct rules_contact c;
        int r;

        contact_of(d, &c);
        r = rules_engine_tick(d->env, &c, now, &d->res);
        if (r < 0)
                return r;
        if (fn)
                fn(userdata, now, &d->res);
        return apply(d, now);
}

int rules_drive_run(struct rules_drive *d, int64_t until, const struct rules_drive_reply *replies,
                    size_t n_replies, rules_drive_fn fn, void *userdata)
{
        size_t next_reply = 0;
        int steps = 0, r;

        for (;;) {
                int64_t t = d->next_due;
                bool reply = next_reply < n_replies && replies[next_reply].at <= t &&
                             replies[next_reply].at < until;
                if (reply)
                        t = replies[next_reply].at;
                else if (t >= until)
                        return steps;
                if (++steps > RULES_DRIVE_STEPS_MAX)
                        return -ELOOP;
                if (reply) {
                        r = rules_drive_inbound(d, t, replies[next_reply++].text, fn, userdata);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (t == INT64_MIN)
                        t = d->state.settled_until > d->state.enrolled_at ? d->state.settled_until
                                                                          : d->state.enrolled_at;
                r = rules_drive_tick(d, t, fn, userdata);
                if (r < 0)
                        return r;
                /* Nothing earlier than now can be due next: time only moves on. */
                if (d->next_due < t)
                        d->next_due = t;
                if (d->next_due == t && !d->res.truncated && d->res.n_actions == 0)
                        d->next_due = t + 1;
        }
}

const struct rules_state *rules_drive_state(const struct rules_drive *d)
{
        return &d->state;
}

const char *rules_drive_value(const struct rules_drive *d, int field)
{
        return field >= 0 && (size_t)field < d->env->set->n_fields ? d->values[field] : NULL;
}

int64_t rules_drive_next_due(const struct rules_drive *d)
{
        return d->next_due;
}
