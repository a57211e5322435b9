/* rules/engine: enrolment, the tick (tracks, quiz time-outs, reminders) and names. */
#include <errno.h>
#include <string.h>

#include "rules/engine-internal.h"

int rules_engine_enrol(const struct rules_engine_env *env, const char *const *values, int arm,
                       int64_t now, struct rules_state *ret_state)
{
        const struct rules_set *set = env ? env->set : NULL;

        if (!set || !values)
                return -EINVAL;
        for (size_t t = 0; t < set->n_tracks; t++) {
                const struct rules_track *tr = &set->tracks[t];
                int64_t d;

                if (!tr->start || !values[tr->anchor_field] ||
                    rules_date_parse(values[tr->anchor_field], &d) < 0)
                        continue;
                *ret_state = (struct rules_state){
                        .arm = arm,
                        .track = (int)t,
                        .track_entered = now,
                        .enrolled_at = now,
                        .loss_keyword = RULES_NONE,
                        .quiz = RULES_NONE,
                        .question = RULES_NONE,
                };
                return 0;
        }
        return -ENOENT;
}

void engine_switch_track(struct engine_ctx *x, int t)
{
        struct rules_action *a = engine_action(x, RULES_ACT_TRACK_SWITCH);

        if (a) {
                a->track_from = x->res->state.track;
                a->track_to = t;
        }
        x->res->state.track = t;
        x->res->state.track_entered = x->now;
}

/* When the contact's track ends, or INT64_MAX. */
static int64_t track_end(const struct engine_ctx *x)
{
        const struct rules_state *s = &x->res->state;
        const struct rules_track *t;
        int64_t zero, end = INT64_MAX;

        if (s->track < 0 || (size_t)s->track >= x->set->n_tracks)
                return INT64_MAX;
        t = &x->set->tracks[s->track];
        if (engine_track_zero(x, s->track, &zero) == 0)
                end = engine_utc_of(x, zero + t->end_day, 0);
        if (t->max_days > 0 && s->track_entered + (int64_t)t->max_days * RULES_DAY_SECONDS < end)
                end = s->track_entered + (int64_t)t->max_days * RULES_DAY_SECONDS;
        return end;
}

int rules_engine_tick(const struct rules_engine_env *env, const struct rules_contact *contact,
                      int64_t now, struct rules_result *ret)
{
        struct engine_ctx x;
        int64_t t;

        if (!env || !env->set || !contact || !ret)
                return -EINVAL;
        engine_ctx_init(&x, env, contact, now, ret);
        if (ret->state.opted_out)
                return 0;
        /* A track ended (pregnancy -> baby): one switch per step, bounded by the count. */
        for (size_t i = 0; i <= env->set->n_tracks && track_end(&x) <= now; i++) {
                int next = env->set->tracks[ret->state.track].next_track;

                engine_switch_track(&x, next);
        }
        if (ret->state.quiz != RULES_NONE && engine_quiz_deadline(&x) <= now)
                engine_quiz_timeout(&x);
        engine_reminders(&x);
        t = track_end(&x);
        if (t < ret->next_due)
                ret->next_due = t;
        t = ret->state.quiz != RULES_NONE ? engine_quiz_deadline(&x) : INT64_MAX;
        if (t < ret->next_due)
                ret->next_due = t;
        if (ret->truncated)
                ret->next_due = now;
        else
                ret->state.settled_until = now;
        return 0;
}

const char *rules_suppress_name(enum rules_suppress reason)
{
        static const char *const names[] = {
                [RULES_SUPPRESS_NOT_FOR_ARM] = "not_for_arm",
                [RULES_SUPPRESS_CONDITION] = "condition",
                [RULES_SUPPRESS_BEFORE_ENROLMENT] = "before_enrolment",
                [RULES_SUPPRESS_MISSED] = "missed",
                [RULES_SUPPRESS_CAP_DAY] = "cap_day",
                [RULES_SUPPRESS_CAP_WEEK] = "cap_week",
                [RULES_SUPPRESS_QUIET] = "quiet_hours",
                [RULES_SUPPRESS_DURING_QUIZ] = "during_quiz",
                [RULES_SUPPRESS_OPTED_OUT] = "opted_out",
                [RULES_SUPPRESS_STOPPED] = "stopped",
                [RULES_SUPPRESS_NO_TEXT] = "no_text",
        };
        return (size_t)reason < sizeof(names) / sizeof(names[0]) && names[reason] ? names[reason]
                                                                                  : "unknown";
}

const char *rules_act_name(enum rules_act kind)
{
        static const char *const names[] = {
                [RULES_ACT_REMINDER] = "reminder_queued",
                [RULES_ACT_SUPPRESSED] = "reminder_suppressed",
                [RULES_ACT_REPLY] = "reply_queued",
                [RULES_ACT_ALERT] = "alert_escalated",
                [RULES_ACT_INBOUND] = "inbound_received",
                [RULES_ACT_KEYWORD] = "keyword_matched",
                [RULES_ACT_FIELD_SET] = "field_changed",
                [RULES_ACT_TRACK_SWITCH] = "stage_switched",
                [RULES_ACT_LOSS] = "loss_reported",
                [RULES_ACT_LOSS_CHOICE] = "loss_choice",
                [RULES_ACT_QUIZ_STARTED] = "quiz_started",
                [RULES_ACT_QUIZ_ANSWER] = "quiz_answer",
                [RULES_ACT_QUIZ_TIMED_OUT] = "quiz_timed_out",
                [RULES_ACT_QUIZ_COMPLETED] = "quiz_completed",
                [RULES_ACT_QUIZ_ENDED] = "quiz_ended",
                [RULES_ACT_OPTED_OUT] = "opted_out",
                [RULES_ACT_OPTED_IN] = "opted_in",
        };
        return (size_t)kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind]
                                                                              : "unknown";
}

const char *rules_inbound_category_name(enum rules_inbound_category c)
{
        static const char *const names[] = {
                [RULES_IN_OPT_OUT] = "opt_out",         [RULES_IN_OPT_IN] = "opt_in",
                [RULES_IN_LOSS_CHOICE] = "loss_choice", [RULES_IN_QUIZ_ANSWER] = "quiz_answer",
                [RULES_IN_KEYWORD] = "keyword",         [RULES_IN_HELP] = "help",
                [RULES_IN_UNKNOWN] = "unknown",         [RULES_IN_IGNORED] = "ignored",
        };
        return (size_t)c < sizeof(names) / sizeof(names[0]) && names[c] ? names[c] : "unknown";
}
