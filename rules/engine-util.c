/* rules/engine-util: the engine's result building, values, dates and rendering. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/engine-internal.h"
#include "rules/template.h"

void engine_ctx_init(struct engine_ctx *x, const struct rules_engine_env *env,
                     const struct rules_contact *c, int64_t now, struct rules_result *res)
{
        const struct rules_set *set = env->set;
        const char *clinic = c->values ? c->values[RULES_F_CLINIC] : NULL;
        int ci = clinic ? rules_clinic_find(set, clinic) : -ENOENT;

        *x = (struct engine_ctx){ .env = env,
                                  .set = set,
                                  .c = c,
                                  .now = now,
                                  .res = res,
                                  .occ_day = INT64_MIN,
                                  .occ_zero = INT64_MIN };
        x->tz = ci >= 0 && env->clinic_tz && env->clinic_tz[ci] ? env->clinic_tz[ci]
                                                                : env->default_tz;
        res->state = c->state;
        res->n_actions = 0;
        res->truncated = false;
        res->next_due = INT64_MAX;
        res->pool_used = 0;
}

struct rules_action *engine_action(struct engine_ctx *x, enum rules_act kind)
{
        struct rules_action *a;

        if (x->res->n_actions >= RULES_ENGINE_ACTIONS_MAX) {
                x->res->truncated = true;
                return NULL;
        }
        a = &x->res->actions[x->res->n_actions++];
        *a = (struct rules_action){
                .kind = kind,
                .at = x->now,
                .reminder = RULES_NONE,
                .keyword = RULES_NONE,
                .quiz = RULES_NONE,
                .question = RULES_NONE,
                .choice = RULES_NONE,
                .field = RULES_NONE,
                .track_from = RULES_NONE,
                .track_to = RULES_NONE,
        };
        return a;
}

const char *engine_pool_dup(struct engine_ctx *x, const char *s, size_t len)
{
        char *p;

        if (x->res->pool_used + len + 1 > sizeof(x->res->pool)) {
                x->res->truncated = true;
                return NULL;
        }
        p = x->res->pool + x->res->pool_used;
        memcpy(p, s, len);
        p[len] = '\0';
        x->res->pool_used += len + 1;
        return p;
}

const char *engine_value(const struct engine_ctx *x, int f)
{
        if (f < 0 || (size_t)f >= x->set->n_fields)
                return NULL;
        /* The latest FIELD_SET of this call wins over the stored value. */
        for (size_t i = x->res->n_actions; i-- > 0;)
                if (x->res->actions[i].kind == RULES_ACT_FIELD_SET && x->res->actions[i].field == f)
                        return x->res->actions[i].value;
        if (x->c->values && x->c->values[f] && *x->c->values[f])
                return x->c->values[f];
        if (f == RULES_F_ARM && x->set->trial.present && x->res->state.arm >= 0 &&
            (size_t)x->res->state.arm < x->set->trial.n_arms)
                return x->set->trial.arms[x->res->state.arm].name;
        if (f == RULES_F_ENROLLED && x->res->state.enrolled_at > 0) {
                struct engine_ctx *mx = (struct engine_ctx *)x; /* the buffer only */

                rules_date_format(engine_local_day(x, x->res->state.enrolled_at), mx->enrolled);
                return mx->enrolled;
        }
        return NULL;
}

int engine_date(const struct engine_ctx *x, int f, int64_t *ret_days)
{
        struct engine_ctx *mx = (struct engine_ctx *)x; /* the cache only */
        const char *v = engine_value(x, f);
        int64_t d;

        if (!v)
                return -ENOENT;
        if (f < ENGINE_DATE_CACHE && mx->date_of[f] == v) {
                *ret_days = mx->date_days[f];
                return 0;
        }
        if (rules_date_parse(v, &d) < 0)
                return -ENOENT;
        if (f < ENGINE_DATE_CACHE) {
                mx->date_of[f] = v;
                mx->date_days[f] = d;
        }
        *ret_days = d;
        return 0;
}

int engine_track_zero(const struct engine_ctx *x, int track, int64_t *ret_days)
{
        const struct rules_track *t;
        int64_t d;

        if (track < 0 || (size_t)track >= x->set->n_tracks)
                return -ENOENT;
        t = &x->set->tracks[track];
        if (engine_date(x, t->anchor_field, &d) < 0)
                return -ENOENT;
        *ret_days = d + t->zero_offset_days;
        return 0;
}

int64_t engine_local_day(const struct engine_ctx *x, int64_t utc)
{
        return rules_floor_div(rules_tz_to_local(x->tz, utc), RULES_DAY_SECONDS);
}

int64_t engine_utc_of(const struct engine_ctx *x, int64_t day, int minute)
{
        return rules_tz_to_utc(x->tz, day * RULES_DAY_SECONDS + (int64_t)minute * 60);
}

/* ---- rendering ---- */

struct render_ctx {
        const struct engine_ctx *x;
        int score, total;
        char buf[32];
};

static int lookup(void *userdata, const char *name, size_t len, const char **ret_value,
                  size_t *ret_len)
{
        struct render_ctx *r = userdata;
        const struct engine_ctx *x = r->x;
        char key[RULES_TEMPLATE_NAME_MAX + 1];
        const char *v = NULL;
        int f;

        if (len >= sizeof(key))
                return -ENOENT;
        memcpy(key, name, len);
        key[len] = '\0';
        if (strcmp(key, "score") == 0 || strcmp(key, "total") == 0) {
                int n = key[0] == 's' ? r->score : r->total;

                if (n < 0)
                        return -ENOENT;
                snprintf(r->buf, sizeof(r->buf), "%d", n);
                v = r->buf;
        } else if (strcmp(key, "week") == 0 || strcmp(key, "day") == 0) {
                int64_t zero = x->occ_zero, day = x->occ_day;

                if (day == INT64_MIN) {
                        day = engine_local_day(x, x->now);
                        if (engine_track_zero(x, x->res->state.track, &zero) < 0)
                                return -ENOENT;
                }
                if (zero == INT64_MIN)
                        return -ENOENT;
                snprintf(r->buf, sizeof(r->buf), "%lld",
                         (long long)(key[0] == 'w' ? rules_floor_div(day - zero, 7) : day - zero));
                v = r->buf;
        } else if (strcmp(key, "keyword") == 0) {
                /* The word the participant sent, upper case so staff see it at a glance. */
                size_t i = 0;

                if (!x->word || !x->word[0])
                        return -ENOENT;
                for (; i < sizeof(r->buf) - 1 && x->word[i]; i++)
                        r->buf[i] = (char)toupper((unsigned char)x->word[i]);
                r->buf[i] = '\0';
                v = r->buf;
        } else if (strcmp(key, "clinic") == 0) {
                int ci = rules_clinic_find(x->set, engine_value(x, RULES_F_CLINIC));

                v = ci >= 0 ? x->set->clinics[ci].name : NULL;
        } else {
                /* A field by name; "appointment_date" is the appointment field. */
                if (len > 5 && strcmp(key + len - 5, "_date") == 0 &&
                    rules_field_find(x->set, key) < 0)
                        key[len - 5] = '\0';
                f = rules_field_find(x->set, key);
                if (f < 0)
                        return -ENOENT;
                v = engine_value(x, f);
                if (v && x->set->fields[f].type == RULES_FIELD_DATE) {
                        int64_t d;
                        int y;
                        unsigned m, dd;

                        if (rules_date_parse(v, &d) < 0)
                                return -ENOENT;
                        rules_civil_from_days(d, &y, &m, &dd);
                        snprintf(r->buf, sizeof(r->buf), "%02u/%02u/%04d", dd, m, y);
                        v = r->buf;
                }
        }
        if (!v)
                return -ENOENT;
        *ret_value = v;
        *ret_len = strlen(v);
        return 0;
}

int engine_render(struct engine_ctx *x, const struct rules_texts *texts, int score, int total,
                  const char **ret_text, const char **ret_lang)
{
        const struct rules_text *t;
        struct render_ctx r = { .x = x, .score = score, .total = total };
        char out[RULES_TEMPLATE_OUT_MAX];
        const char *p;
        int n;

        if (!texts || texts->n == 0)
                return -ENOENT;
        t = rules_text_pick(x->set, texts, engine_value(x, RULES_F_LANGUAGE));
        if (!t)
                return -ENOENT;
        n = rules_template_render(t->text, lookup, &r, x->missing, out, sizeof(out));
        if (n < 0)
                return n == -ENOBUFS ? -ENOBUFS : -ENOENT;
        p = engine_pool_dup(x, out, (size_t)n);
        if (!p)
                return -ENOBUFS;
        *ret_text = p;
        *ret_lang = t->lang;
        return 0;
}

int engine_reply(struct engine_ctx *x, const struct rules_texts *texts, int score, int total)
{
        const char *text, *lang;
        struct rules_action *a;
        int r;

        if (!texts || texts->n == 0)
                return 0;
        r = engine_render(x, texts, score, total, &text, &lang);
        if (r < 0)
                return r;
        a = engine_action(x, RULES_ACT_REPLY);
        if (!a)
                return -ENOBUFS;
        a->text = text;
        a->lang = lang;
        x->sent_at[x->sent_now < RULES_ENGINE_ACTIONS_MAX ? x->sent_now++ : 0] = x->now;
        return 0;
}
