/* rules/engine-internal: what engine*.c share; private to rules/. */
#pragma once

#include "rules/engine.h"

#define ENGINE_DATE_CACHE 32 /* date fields remembered parsed in one call */

/* The local frame of one contact: its zone and the set. */
struct engine_ctx {
        const struct rules_engine_env *env;
        const struct rules_set *set;
        const struct rules_contact *c;
        const struct rules_tz *tz;
        struct rules_result *res;
        int64_t now;
        unsigned sent_now; /* sends queued by this call, for the caps */
        const char *word;  /* inbound: the normalized first word, for {keyword}; NULL in ticks */
        /* Rendering a reminder occurrence: its nominal local day and the day zero {week} and
         * {day} count from, so a late or caught-up occurrence shows the week its content is
         * for. occ_day INT64_MIN: not a reminder ({week} is today's); occ_zero INT64_MIN:
         * no track to count from. */
        int64_t occ_day, occ_zero;
        /* What a placeholder with neither value nor fallback renders; NULL: the text fails.
         * Set for alerts to staff, which must never be dropped. */
        const char *missing;
        char enrolled[RULES_DATE_TEXT_LEN + 1]; /* the derived "enrolled" value, see engine_value */
        /* Parsed date fields, keyed by the value's address (a FIELD_SET gives a new one). */
        const char *date_of[ENGINE_DATE_CACHE];
        int64_t date_days[ENGINE_DATE_CACHE];
        int64_t sent_at[RULES_ENGINE_ACTIONS_MAX];
};

void engine_ctx_init(struct engine_ctx *x, const struct rules_engine_env *env,
                     const struct rules_contact *c, int64_t now, struct rules_result *res);

/* A new action appended to the result, zeroed with indices RULES_NONE; NULL (and
 * res->truncated) when full. */
struct rules_action *engine_action(struct engine_ctx *x, enum rules_act kind);

/* A copy of s in the result's pool, or NULL when it is full. */
const char *engine_pool_dup(struct engine_ctx *x, const char *s, size_t len);

/* Renders one of `texts` for the contact into the pool: 0 with *ret_text and *ret_lang,
 * -ENOENT (no text for the language or a placeholder without value), -ENOBUFS. `score`
 * and `total` feed {score} and {total} (quiz done texts); pass -1 elsewhere. */
int engine_render(struct engine_ctx *x, const struct rules_texts *texts, int score, int total,
                  const char **ret_text, const char **ret_lang);

/* Appends a REPLY action with a rendered text; no-op when texts is empty. */
int engine_reply(struct engine_ctx *x, const struct rules_texts *texts, int score, int total);

/* The value of field f (NULL when unset), seeing FIELD_SET actions of this call first.
 * "arm" unset is the name of state.arm, and "enrolled" unset the local date of the
 * contact's enrolment (state.enrolled_at): the daemon writes neither field, and a condition
 * on the arm or a reminder anchored on the enrolment must run there as in `rules simulate`. */
const char *engine_value(const struct engine_ctx *x, int f);

/* A date field's value as days, or -ENOENT. */
int engine_date(const struct engine_ctx *x, int f, int64_t *ret_days);

/* Day zero of a track for this contact, or -ENOENT (anchor unset). */
int engine_track_zero(const struct engine_ctx *x, int track, int64_t *ret_days);

/* Local <-> UTC in the contact's zone. */
int64_t engine_local_day(const struct engine_ctx *x, int64_t utc);
int64_t engine_utc_of(const struct engine_ctx *x, int64_t day, int minute);

/* Quiz: asks the current question (or the intro first when `intro`). */
int engine_quiz_ask(struct engine_ctx *x, bool intro);
/* Starts quiz q now. */
int engine_quiz_start(struct engine_ctx *x, int q);
/* The instant the current question times out, or INT64_MAX. */
int64_t engine_quiz_deadline(const struct engine_ctx *x);
/* A time-out at now (called by the tick when the deadline passed). */
int engine_quiz_timeout(struct engine_ctx *x);
/* A normalized reply to the current question: 1 when consumed (an answer), 0 when no
 * choice accepts it (the caller may try keywords, then engine_quiz_invalid()). */
int engine_quiz_answer(struct engine_ctx *x, const char *norm);
int engine_quiz_invalid(struct engine_ctx *x);
/* Ends the quiz without completing it (opt-out). */
void engine_quiz_abort(struct engine_ctx *x);

/* Reminders: settles and sends what is due; lowers res->next_due. */
int engine_reminders(struct engine_ctx *x);

/* Enters track t (RULES_NONE: programme over) now, logging the switch. */
void engine_switch_track(struct engine_ctx *x, int t);
