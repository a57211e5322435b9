/* rules/engine: the programme run for one contact: (rule set, contact state, time, event)
 * -> actions, events and the contact's next due time. Pure: no clock, no store, no log.
 *
 * Two entry points. rules_engine_tick() computes what is due for a contact at `now`:
 * reminder occurrences to send or to suppress (and why), quiz time-outs, the end of a
 * track. rules_engine_inbound() classifies a message from the contact, in this order:
 * opt-out (always first, even inside a quiz), opt-in again while opted out, the loss
 * choice, a quiz answer, a keyword, help, unknown; then replies and acts. Both fill a
 * struct rules_result: the contact's new state, the actions in order (each one an event
 * for the log; some carry a text to queue) and next_due, what the schedule index keeps.
 *
 * Occurrences: each reminder occurrence has a key, the idempotence key the edge stores
 * once it is settled (sent or suppressed) and the engine never acts on twice:
 *   - anchored on a track (pregnancy week n): "NAME#k", k the occurrence index, so a
 *     corrected due date never sends week n twice;
 *   - anchored on a date field (the appointment): "NAME@YYYY-MM-DD#k" with the anchor
 *     date, so a new appointment date is a new occurrence and the old one is never resent.
 * Timing, in the local time of the contact's clinic (docs/engine.md has the details): the
 * nominal day is anchor + offset; it moves forward to the next allowed weekday; the window
 * is the reminder's, or the slot the contact chose; quiet hours push the opening later;
 * the occurrence is due at the opening and may go late up to grace (at least
 * RULES_ENGINE_MIN_GRACE, at most the window's end), after which it is suppressed as
 * missed. Caps are counted over the contact's recent sends and this call's.
 *
 * Ownership: env, the set and the contact (values, recent, settled callback) are borrowed
 * for the call. The result is the caller's; its texts point into result->pool or into the
 * set. The settled callback is called synchronously and must not call the engine. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"
#include "rules/template.h"
#include "rules/tz.h"

#define RULES_ENGINE_ACTIONS_MAX   48    /* one call's actions; more: next_due = now */
#define RULES_ENGINE_POOL          16384 /* bytes of rendered texts in one result */
#define RULES_ENGINE_KEY_MAX       96    /* an occurrence key */
#define RULES_ENGINE_FIELDS_MAX    8     /* fields one inbound message may set */
#define RULES_ENGINE_ARG_MAX       256   /* bytes of a text field read from a message */
#define RULES_ENGINE_MIN_GRACE     5     /* minutes: a tick a little late is not a miss */
#define RULES_ENGINE_WEEK          (7 * RULES_DAY_SECONDS)
#define RULES_ENGINE_LOOKBACK_DAYS 8   /* a window plus a weekday shift */
#define RULES_ENGINE_MISSING       "?" /* a staff alert's placeholder with no value nor fallback */
/* Room kept free before each occurrence so that one occurrence's actions (reminder, quiz
 * start, intro, question) always fit whole: a state change never goes without its event. */
#define RULES_ENGINE_RESERVE_ACTIONS 8
#define RULES_ENGINE_RESERVE_POOL    (2 * RULES_TEMPLATE_OUT_MAX) /* two texts at their longest */

/* What the edge supplies once per rule set: time zones, parsed from zoneinfo. */
struct rules_engine_env {
        const struct rules_set *set;
        const struct rules_tz *const *clinic_tz; /* n_clinics entries (NULL: default_tz) */
        const struct rules_tz *default_tz;       /* settings.timezone; NULL is UTC */
};

/* The mutable part of a contact the engine reads and returns updated. */
struct rules_state {
        int arm;               /* arm index (0 without a trial); RULES_NONE: unassigned */
        int track;             /* RULES_NONE: in no track (not started, or over) */
        int64_t track_entered; /* UTC seconds */
        int64_t enrolled_at;   /* UTC seconds */
        int64_t settled_until; /* every occurrence with a deadline before it is settled;
                                  0 before the first tick (catch_up applies then) */
        bool opted_out;
        bool stopped;             /* loss reported: routine messages stopped */
        bool loss_choice_pending; /* waiting for support / stop */
        int loss_keyword;         /* the LOSS keyword awaiting the choice */
        int quiz;                 /* RULES_NONE: not in a quiz */
        int question;
        unsigned tries;      /* wrong or unrecognized answers to this question */
        int score, answered; /* right answers, questions asked */
        int64_t asked_at;    /* when the current question went out */
};

struct rules_contact {
        int64_t id;
        const char *const *values; /* set->n_fields entries: each field's value or NULL */
        struct rules_state state;
        const int64_t *recent; /* UTC times of messages sent to it, the last 7 days */
        size_t n_recent;
        /* Whether an occurrence key is settled (sent or suppressed before). */
        bool (*settled)(void *userdata, const char *key);
        void *settled_userdata;
};

enum rules_suppress {
        RULES_SUPPRESS_NOT_FOR_ARM,      /* the arm omits it by design */
        RULES_SUPPRESS_CONDITION,        /* a condition on the fields does not hold */
        RULES_SUPPRESS_BEFORE_ENROLMENT, /* catch_up skip / latest */
        RULES_SUPPRESS_MISSED,           /* past its window and grace (downtime) */
        RULES_SUPPRESS_CAP_DAY,
        RULES_SUPPRESS_CAP_WEEK,
        RULES_SUPPRESS_QUIET, /* the window lies inside quiet hours */
        RULES_SUPPRESS_DURING_QUIZ,
        RULES_SUPPRESS_OPTED_OUT,
        RULES_SUPPRESS_STOPPED, /* after a loss */
        RULES_SUPPRESS_NO_TEXT, /* a placeholder without a value */
};

enum rules_act {
        RULES_ACT_REMINDER,       /* send `text`: reminder occurrence `key` (text NULL: the
                                     reminder only starts a quiz; nothing to send) */
        RULES_ACT_SUPPRESSED,     /* occurrence `key` not sent: `reason` */
        RULES_ACT_REPLY,          /* send `text` to the contact (keyword, quiz, help...) */
        RULES_ACT_ALERT,          /* send `text` to staff number `to`; `keyword` */
        RULES_ACT_INBOUND,        /* a message came in: `category` (never its text) */
        RULES_ACT_KEYWORD,        /* `keyword` matched */
        RULES_ACT_FIELD_SET,      /* `field` := `value` */
        RULES_ACT_TRACK_SWITCH,   /* `track_from` -> `track_to` (RULES_NONE = over) */
        RULES_ACT_LOSS,           /* loss reported, `value` the reason word or NULL */
        RULES_ACT_LOSS_CHOICE,    /* `value` "support" or "stop" */
        RULES_ACT_QUIZ_STARTED,   /* `quiz` */
        RULES_ACT_QUIZ_ANSWER,    /* `quiz`, `question`, `choice` (NONE: invalid), `right` */
        RULES_ACT_QUIZ_TIMED_OUT, /* `quiz`, `question` */
        RULES_ACT_QUIZ_COMPLETED, /* `quiz`, `score`, `total` */
        RULES_ACT_QUIZ_ENDED,     /* `quiz` ended without completion (time-out, opt-out) */
        RULES_ACT_OPTED_OUT,
        RULES_ACT_OPTED_IN,
};

enum rules_inbound_category {
        RULES_IN_OPT_OUT,
        RULES_IN_OPT_IN,
        RULES_IN_LOSS_CHOICE,
        RULES_IN_QUIZ_ANSWER,
        RULES_IN_KEYWORD,
        RULES_IN_HELP,
        RULES_IN_UNKNOWN,
        RULES_IN_IGNORED, /* opted out and not opting in */
};

struct rules_action {
        enum rules_act kind;
        int64_t at; /* when: the time it is for (a reminder's due time) */
        int reminder, keyword, quiz, question, choice, field, track_from, track_to;
        bool right;
        int score, total;
        enum rules_suppress reason;
        enum rules_inbound_category category;
        int late_seconds; /* REMINDER: sent this long after its due time */
        char key[RULES_ENGINE_KEY_MAX];
        const char *text;  /* rendered UTF-8 (pool) */
        const char *lang;  /* the language picked */
        const char *to;    /* ALERT: the staff number (set) */
        const char *value; /* FIELD_SET, LOSS, LOSS_CHOICE (pool or set) */
};

struct rules_result {
        struct rules_state state;
        struct rules_action actions[RULES_ENGINE_ACTIONS_MAX];
        size_t n_actions;
        bool truncated;   /* out of room: run it again at once */
        int64_t next_due; /* INT64_MAX: nothing will ever be due without an event */
        size_t pool_used;
        char pool[RULES_ENGINE_POOL];
};

/* The contact's state at enrolment (`now`): the first start track whose anchor it has.
 * The arm is the caller's (rules/arms.h), passed in. -ENOENT: no start track applies. */
int rules_engine_enrol(const struct rules_engine_env *env, const char *const *values, int arm,
                       int64_t now, struct rules_state *ret_state);

/* Everything due for the contact at now. 0, or -EINVAL. */
int rules_engine_tick(const struct rules_engine_env *env, const struct rules_contact *contact,
                      int64_t now, struct rules_result *ret);

/* A message from the contact (UTF-8, len bytes) received at now. 0, or -EINVAL. */
int rules_engine_inbound(const struct rules_engine_env *env, const struct rules_contact *contact,
                         const char *text, size_t len, int64_t now, struct rules_result *ret);

const char *rules_suppress_name(enum rules_suppress reason); /* "not_for_arm", ... */
const char *rules_act_name(enum rules_act kind);             /* "reminder", ... */
const char *rules_inbound_category_name(enum rules_inbound_category c);
