/* rules/engine-remind: reminder occurrences: when each is due, whether it goes, and why not. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/engine-internal.h"
#include "rules/match.h"

struct occurrence {
        int64_t open, deadline; /* UTC */
};

static void window_of(const struct engine_ctx *x, const struct rules_reminder *r, int *ret_start,
                      int *ret_len)
{
        int ws = r->window_start, we = r->window_end;

        if (r->slot_field >= 0) {
                int s = rules_slot_find(x->set, engine_value(x, r->slot_field));

                if (s >= 0) {
                        ws = x->set->slots[s].start;
                        we = x->set->slots[s].end;
                }
        }
        *ret_start = ws;
        /* An end before the start wraps midnight; equal means the whole day. */
        *ret_len = ((we - ws) % RULES_DAY_MINUTES + RULES_DAY_MINUTES) % RULES_DAY_MINUTES;
        if (*ret_len == 0)
                *ret_len = RULES_DAY_MINUTES;
}

/* Minute m (from midnight of some day, may exceed a day) pushed past the quiet hours. */
static int past_quiet(const struct rules_settings *st, int m)
{
        if (st->quiet_start < 0 || st->quiet_end < 0 || st->quiet_start == st->quiet_end)
                return m;
        for (int pass = 0; pass < 2; pass++)
                for (int k = -1; k <= 2; k++) {
                        int qs = st->quiet_start + k * RULES_DAY_MINUTES;
                        int qe = st->quiet_end + k * RULES_DAY_MINUTES +
                                 (st->quiet_end < st->quiet_start ? RULES_DAY_MINUTES : 0);

                        if (m >= qs && m < qe)
                                m = qe;
                }
        return m;
}

static bool in_quiet(const struct engine_ctx *x, int64_t utc, int64_t *ret_quiet_end)
{
        const struct rules_settings *st = &x->set->settings;
        int64_t local = rules_tz_to_local(x->tz, utc);
        int64_t day = rules_floor_div(local, RULES_DAY_SECONDS);
        int m = (int)((local - day * RULES_DAY_SECONDS) / 60);
        int after = past_quiet(st, m);

        if (after == m)
                return false;
        *ret_quiet_end = engine_utc_of(x, day, after);
        return true;
}

static int grace_of(const struct engine_ctx *x, const struct rules_reminder *r)
{
        int g = r->grace_minutes > 0 ? r->grace_minutes : x->set->settings.grace_minutes;

        return g < RULES_ENGINE_MIN_GRACE ? RULES_ENGINE_MIN_GRACE : g;
}

/* The first opportunity on an allowed weekday from `day` whose deadline is not before
 * not_before. -ENOENT when quiet hours cover every window of the week. */
static int opportunity(const struct engine_ctx *x, const struct rules_reminder *r, int64_t day,
                       int64_t not_before, struct occurrence *ret)
{
        uint8_t days = r->days ? r->days : 0x7f;
        int ws, len;

        window_of(x, r, &ws, &len);
        for (int i = 0; i < 15; i++) {
                int64_t d = day + i;
                int open_m;

                if (!(days & (1u << rules_weekday(d))))
                        continue;
                open_m = past_quiet(&x->set->settings, ws);
                if (open_m >= ws + len)
                        continue;
                int until = open_m + grace_of(x, r);

                if (until > ws + len)
                        until = ws + len;
                ret->open = engine_utc_of(x, d, open_m);
                ret->deadline = engine_utc_of(x, d, until);
                if (ret->deadline >= not_before)
                        return 0;
        }
        return -ENOENT;
}

/* Conditions hold normalized values (rules.h), so the contact's value is normalized too. */
static bool same_value(const char *v, const char *norm)
{
        char buf[RULES_MATCH_TEXT_MAX];

        return rules_match_normalize(v, strlen(v), buf, sizeof(buf)) >= 0 && strcmp(buf, norm) == 0;
}

static bool conditions_hold(const struct engine_ctx *x, const struct rules_reminder *r)
{
        for (size_t i = 0; i < r->n_conditions; i++) {
                const struct rules_condition *c = &r->conditions[i];
                const char *v = engine_value(x, c->field);
                bool ok;

                switch (c->op) {
                case RULES_COND_IS:
                        ok = v && c->value && same_value(v, c->value);
                        break;
                case RULES_COND_IS_NOT:
                        ok = !v || !c->value || !same_value(v, c->value);
                        break;
                case RULES_COND_SET:
                        ok = v != NULL;
                        break;
                case RULES_COND_NOT_SET:
                default:
                        ok = v == NULL;
                        break;
                }
                if (!ok)
                        return false;
        }
        return true;
}

static unsigned sends_since(const struct engine_ctx *x, int64_t from, int64_t day)
{
        unsigned n = 0;

        for (size_t i = 0; i < x->c->n_recent; i++)
                if (day >= 0 ? engine_local_day(x, x->c->recent[i]) == day : x->c->recent[i] > from)
                        n++;
        for (unsigned i = 0; i < x->sent_now; i++)
                if (day >= 0 ? engine_local_day(x, x->sent_at[i]) == day : x->sent_at[i] > from)
                        n++;
        return n;
}

static int suppress(struct engine_ctx *x, int ri, const char *key, int64_t at,
                    enum rules_suppress why)
{
        struct rules_action *a = engine_action(x, RULES_ACT_SUPPRESSED);

        if (!a)
                return -ENOBUFS;
        a->reminder = ri;
        a->reason = why;
        a->at = at;
        snprintf(a->key, sizeof(a->key), "%s", key);
        return 0;
}

static void due_at(struct engine_ctx *x, int64_t t)
{
        if (t < x->res->next_due)
                x->res->next_due = t;
}

/* Renders the occurrence of nominal day `day`: {week} and {day} count to that day from
 * the day zero of the reminder's anchor track (a date-anchored reminder: the contact's
 * track), not to today: week 12's text caught up on week 13 says 12 (rules issue 5). */
static int render_occurrence(struct engine_ctx *x, const struct rules_reminder *r,
                             const struct rules_texts *texts, int64_t day, const char **ret_text,
                             const char **ret_lang)
{
        int track = r->anchor_kind == RULES_ANCHOR_TRACK ? r->anchor : x->res->state.track;
        int64_t zero;
        int e;

        x->occ_day = day;
        x->occ_zero = engine_track_zero(x, track, &zero) < 0 ? INT64_MIN : zero;
        e = engine_render(x, texts, -1, -1, ret_text, ret_lang);
        x->occ_day = x->occ_zero = INT64_MIN;
        return e;
}

/* An occurrence of nominal day `day` whose window is open now (open <= now <= deadline):
 * send or suppress. */
static int due_now(struct engine_ctx *x, int ri, const char *key, const struct occurrence *o,
                   int64_t day)
{
        const struct rules_reminder *r = &x->set->reminders[ri];
        const struct rules_settings *st = &x->set->settings;
        struct rules_state *s = &x->res->state;
        const struct rules_texts *texts;
        int64_t quiet_end, today;
        const char *text = NULL, *lang = NULL;
        struct rules_action *a;

        texts = rules_reminder_runs_for_arm(r, s->arm < 0 ? 0 : s->arm)
                        ? rules_reminder_texts_for_arm(r, s->arm < 0 ? 0 : s->arm)
                        : NULL;
        if (!texts)
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_NOT_FOR_ARM);
        if (!conditions_hold(x, r))
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_CONDITION);
        if (s->quiz != RULES_NONE && r->during_quiz != RULES_DURING_QUIZ_INTERRUPT) {
                int64_t ends = engine_quiz_deadline(x);

                if (r->during_quiz == RULES_DURING_QUIZ_WAIT && ends <= o->deadline) {
                        due_at(x, ends);
                        return 0;
                }
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_DURING_QUIZ);
        }
        if (in_quiet(x, x->now, &quiet_end)) {
                if (quiet_end <= o->deadline) {
                        due_at(x, quiet_end);
                        return 0;
                }
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_QUIET);
        }
        today = engine_local_day(x, x->now);
        if (st->max_per_day && sends_since(x, 0, today) >= st->max_per_day)
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_CAP_DAY);
        if (st->max_per_week && sends_since(x, x->now - RULES_ENGINE_WEEK, -1) >= st->max_per_week)
                return suppress(x, ri, key, o->open, RULES_SUPPRESS_CAP_WEEK);
        if (texts->n > 0) {
                int e = render_occurrence(x, r, texts, day, &text, &lang);

                if (e == -ENOBUFS)
                        return e;
                if (e < 0)
                        return suppress(x, ri, key, o->open, RULES_SUPPRESS_NO_TEXT);
        }
        /* Also for a reminder that only starts a quiz (text NULL): it settles the key. */
        a = engine_action(x, RULES_ACT_REMINDER);
        if (!a)
                return -ENOBUFS;
        a->reminder = ri;
        a->at = o->open;
        a->late_seconds = (int)(x->now - o->open);
        a->text = text;
        a->lang = lang;
        snprintf(a->key, sizeof(a->key), "%s", key);
        if (text)
                x->sent_at[x->sent_now < RULES_ENGINE_ACTIONS_MAX ? x->sent_now++ : 0] = x->now;
        if (r->quiz != RULES_NONE) {
                const struct rules_quiz *q = &x->set->quizzes[r->quiz];
                int arm = s->arm < 0 ? 0 : s->arm;

                if (arm < RULES_ARMS_MAX && (q->arms & (1u << arm))) {
                        if (s->quiz != RULES_NONE)
                                engine_quiz_abort(x);
                        return engine_quiz_start(x, r->quiz);
                }
                if (texts->n == 0)
                        return suppress(x, ri, key, o->open, RULES_SUPPRESS_NOT_FOR_ARM);
        }
        return 0;
}

static void make_key(const struct rules_reminder *r, int64_t anchor, int k, char *key)
{
        if (r->anchor_kind == RULES_ANCHOR_TRACK) {
                snprintf(key, RULES_ENGINE_KEY_MAX, "%s#%d", r->name, k);
        } else {
                char date[11];

                rules_date_format(anchor, date);
                snprintf(key, RULES_ENGINE_KEY_MAX, "%s@%s#%d", r->name, date, k);
        }
}

static bool settled(const struct engine_ctx *x, const char *key)
{
        /* This call's own settlements count too (a re-run after truncation). */
        for (size_t i = 0; i < x->res->n_actions; i++)
                if ((x->res->actions[i].kind == RULES_ACT_REMINDER ||
                     x->res->actions[i].kind == RULES_ACT_SUPPRESSED) &&
                    strcmp(x->res->actions[i].key, key) == 0)
                        return true;
        return x->c->settled && x->c->settled(x->c->settled_userdata, key);
}

static int one_reminder(struct engine_ctx *x, int ri)
{
        const struct rules_reminder *r = &x->set->reminders[ri];
        const struct rules_state *s = &x->res->state;
        int64_t anchor, first, last, every = 1, k0 = 0;
        char key[RULES_ENGINE_KEY_MAX];

        if (r->track != RULES_NONE && r->track != s->track)
                return 0;
        if (r->anchor_kind == RULES_ANCHOR_TRACK ? engine_track_zero(x, r->anchor, &anchor) < 0
                                                 : engine_date(x, r->anchor, &anchor) < 0)
                return 0;
        if (r->repeat) {
                every = r->every_days > 0 ? r->every_days : 1;
                first = anchor + r->from_days;
                last = anchor + r->to_days;
        } else
                first = last = anchor + r->offset_days;
        /* Before the horizon everything is settled; the first days after enrolment are
         * scanned whole for catch-up. */
        if (s->settled_until > s->enrolled_at + RULES_ENGINE_LOOKBACK_DAYS * RULES_DAY_SECONDS) {
                int64_t min_day =
                        engine_local_day(x, s->settled_until) - RULES_ENGINE_LOOKBACK_DAYS;

                if (min_day > first)
                        k0 = (min_day - first + every - 1) / every;
        }
        for (int64_t k = k0; first + k * every <= last; k++) {
                int64_t day = first + k * every;
                struct occurrence o, next;
                bool pre;

                if (x->res->n_actions + RULES_ENGINE_RESERVE_ACTIONS > RULES_ENGINE_ACTIONS_MAX ||
                    x->res->pool_used + RULES_ENGINE_RESERVE_POOL > RULES_ENGINE_POOL) {
                        x->res->truncated = true; /* the caller runs us again at once */
                        return -ENOBUFS;
                }

                make_key(r, anchor, (int)k, key);
                if (opportunity(x, r, day, INT64_MIN, &o) < 0) {
                        /* Quiet hours cover the window on every allowed day. */
                        int64_t midnight = engine_utc_of(x, day, 0);

                        if (midnight > x->now)
                                due_at(x, midnight);
                        else if (!settled(x, key) &&
                                 suppress(x, ri, key, midnight, RULES_SUPPRESS_QUIET) < 0)
                                return -ENOBUFS;
                        continue;
                }
                pre = o.deadline < s->enrolled_at;
                if (!pre && o.open > x->now) {
                        due_at(x, o.open);
                        break; /* the later ones are later still */
                }
                if (settled(x, key))
                        continue;
                if (pre) {
                        bool latest = day + every > last ||
                                      opportunity(x, r, day + every, INT64_MIN, &next) < 0 ||
                                      next.deadline >= s->enrolled_at;

                        if (r->catch_up == RULES_CATCH_UP_SKIP ||
                            (r->catch_up == RULES_CATCH_UP_LATEST && !latest)) {
                                if (suppress(x, ri, key, o.open, RULES_SUPPRESS_BEFORE_ENROLMENT) <
                                    0)
                                        return -ENOBUFS;
                                continue;
                        }
                        if (opportunity(x, r, engine_local_day(x, s->enrolled_at), s->enrolled_at,
                                        &o) < 0)
                                continue;
                        if (o.open > x->now) {
                                due_at(x, o.open);
                                continue;
                        }
                }
                if (x->now > o.deadline) {
                        if (suppress(x, ri, key, o.open, RULES_SUPPRESS_MISSED) < 0)
                                return -ENOBUFS;
                        continue;
                }
                if (due_now(x, ri, key, &o, day) < 0)
                        return -ENOBUFS;
        }
        return 0;
}

int engine_reminders(struct engine_ctx *x)
{
        const struct rules_state *s = &x->res->state;

        if (s->opted_out || s->stopped)
                return 0; /* nothing until an event: opt-in, the support choice */
        for (size_t i = 0; i < x->set->n_reminders; i++)
                if (one_reminder(x, (int)i) < 0)
                        return -ENOBUFS;
        return 0;
}
