/* rules: the programme model, the validated rule set every other part of Puente reads.
 *
 * rules/parse.h turns rule files (libconfuse syntax, docs/rules.md, puente.rules(5)) into a
 * struct rules_set; rules/engine runs it; the store logs its content hash with every event.
 * Everything here is plain data, checked at load: indices are in range, names resolved,
 * words normalized (rules/match.h), times and offsets converted to minutes and days.
 *
 * Ownership: one struct rules_set owns everything reachable from it (all arrays and strings
 * live in one arena, freed at once by rules_free()). Nothing points outside it. A loaded set
 * is never modified: the daemon swaps a whole new set in on reload, so readers may keep
 * pointers into the set they hold for as long as they hold it. The lookup helpers below
 * return pointers into the set, or indices.
 *
 * Conventions:
 *   - references between objects are indices into the set's arrays; RULES_NONE (-1) = none;
 *   - days and minutes are signed ints; times of day are minutes after local midnight
 *     (0..1439), a window's end is exclusive and may be before its start (it wraps midnight);
 *     an end of 1440 is the midnight that ends the day ("00:00-24:00": the whole day);
 *   - arm sets are bit masks over trial.arms (bit i = trial.arms[i]); a set without a trial
 *     has the one implicit arm RULES_ARM_ALL covers;
 *   - words (keywords, answers, opt-out) are stored normalized by rules_match_normalize(),
 *     so the engine compares them with strcmp() against a normalized reply.
 *
 * This header grows only by addition: the engine is written against it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_NONE                 (-1)
#define RULES_NAME_MAX             64 /* identifiers: fields, arms, tracks, reminders, ... */
#define RULES_LANG_MAX             8  /* "es", "nah", "yua": ISO 639-1 or 639-3 */
#define RULES_ARMS_MAX             32 /* bits of an arm mask */
#define RULES_ARM_ALL              UINT32_MAX
#define RULES_TEXT_MAX             1600 /* bytes of one template before rendering */
#define RULES_WORD_MAX             64   /* bytes of one normalized keyword or answer */
#define RULES_HASH_LEN             32   /* SHA-256 */
#define RULES_HASH_HEX_LEN         (2 * RULES_HASH_LEN)
#define RULES_DATE_TEXT_LEN        10 /* dates render as dd/mm/yyyy */
#define RULES_DAY_MINUTES          (24 * 60)
#define RULES_DEFAULT_WINDOW_START (9 * 60)
#define RULES_DEFAULT_WINDOW_END   (19 * 60)

/* Where an object or value was written, for messages and the event log ("rule 12" is
 * useless to a technician; "etc/rules.d/20-embarazo.conf:14" is not). */
struct rules_loc {
        const char *file; /* the file's name as given to the parser */
        unsigned line;    /* from 1 */
        unsigned column;  /* from 1; 0 when only the line is known */
};

/* A list of strings in the arena. */
struct rules_strings {
        const char *const *v;
        size_t n;
};

/* ---- contact fields ---------------------------------------------------------------- */

enum rules_field_type {
        RULES_FIELD_TEXT,   /* free text, at most max_length characters */
        RULES_FIELD_DATE,   /* a calendar date (stored as YYYY-MM-DD, shown dd/mm/yyyy) */
        RULES_FIELD_NUMBER, /* an integer */
        RULES_FIELD_CHOICE, /* one of `values` */
        RULES_FIELD_PHONE,  /* an E.164 number */
};

/* The built-in fields, always present at these indices of rules_set.fields (custom fields
 * follow at RULES_FIELD_CUSTOM and up). */
enum rules_builtin_field {
        RULES_F_STUDY_ID,    /* "study_id": random, made at enrolment; what the evaluation sees */
        RULES_F_PHONE,       /* "phone" */
        RULES_F_LANGUAGE,    /* "language": a code of settings.languages */
        RULES_F_CLINIC,      /* "clinic": the id of a declared clinic */
        RULES_F_ARM,         /* "arm": set once by assignment, never changed */
        RULES_F_STRATUM,     /* "stratum": the strata fields' values joined with '/' */
        RULES_F_NAME,        /* "name": how messages address the participant */
        RULES_F_EDD,         /* "edd": estimated due date */
        RULES_F_BIRTH,       /* "birth": the baby's birth date */
        RULES_F_ENROLLED,    /* "enrolled": enrolment date */
        RULES_F_APPOINTMENT, /* "appointment": next clinic appointment */
        RULES_F_LMP,         /* "lmp": last menstrual period */
        RULES_FIELD_CUSTOM,  /* first custom field */
};

struct rules_field {
        const char *name;
        enum rules_field_type type;
        bool builtin;
        /* Longest value a template may receive, in characters; what the worst-case part
         * count is computed with. Dates: RULES_DATE_TEXT_LEN. */
        unsigned max_length;
        /* The value may hold characters outside GSM 7-bit (worst case then UCS-2). */
        bool unicode;
        struct rules_strings values; /* RULES_FIELD_CHOICE: the allowed values */
        struct rules_loc loc;        /* builtins: file NULL */
};

/* ---- texts -------------------------------------------------------------------------- */

/* Worst-case cost of a text, computed at load with every placeholder at its longest. */
struct rules_cost {
        unsigned chars; /* characters after rendering, worst case */
        unsigned parts; /* SMS parts, worst case */
        bool ucs2;      /* needs UCS-2 in the worst case */
};

struct rules_text {
        const char *lang; /* a code of settings.languages */
        const char *text; /* the template, UTF-8, placeholders as {name} (rules/template.h) */
        struct rules_cost cost;
        struct rules_loc loc;
};

/* One message in several languages: rules_text_pick() chooses. */
struct rules_texts {
        const struct rules_text *v;
        size_t n;
};

/* ---- programme settings, clinics, slots --------------------------------------------- */

struct rules_settings {
        const char *timezone;           /* IANA name for clinics without their own */
        struct rules_strings languages; /* declared languages; default first */
        const char *default_language;   /* every text must exist in it */
        const char *fallback_language;  /* tried after the contact's own, before default */
        int quiet_start, quiet_end;     /* minutes; RULES_NONE when there are no quiet hours */
        unsigned max_per_day;           /* messages per contact per local day; 0 = no cap */
        unsigned max_per_week;          /* per contact per 7 days; 0 = no cap */
        unsigned part_budget;           /* a text above this many parts (worst case) is an error */
        bool translit;                  /* fold to GSM 7-bit instead of UCS-2 (at/pdu.h) */
        int grace_minutes;              /* default lateness allowed after the window opens */
        struct rules_strings opt_out_words; /* normalized; always win, even inside a quiz */
        struct rules_texts opt_out_reply;   /* may be empty: opt out silently */
        struct rules_strings opt_in_again;  /* words that undo an opt-out ("ALTA" too) */
        struct rules_strings help_words;
        struct rules_texts help_reply;
        struct rules_texts unknown_reply; /* to a text no rule matched; may be empty */
        struct rules_loc loc;
        /* The clinic id recorded for a contact who enrols by SMS (an opt-in keyword from an
         * unknown number): a box that serves one clinic names it; NULL: such contacts have
         * no clinic until the clinic's list gives one. */
        const char *enrol_clinic;
};

/* A clinic: where contacts are enrolled, its time zone and its staff numbers. */
struct rules_clinic {
        const char *id;             /* the value of a contact's "clinic" field */
        const char *name;           /* rendered by {clinic}; id when not given */
        const char *timezone;       /* IANA name; settings.timezone when not given */
        struct rules_strings staff; /* phone numbers alerts are forwarded to */
        struct rules_loc loc;
};

/* A sending slot a participant may choose (morning, evening): a named window. */
struct rules_slot {
        const char *name; /* the value of the reminder's slot field that selects it */
        int start, end;   /* minutes */
        struct rules_loc loc;
};

/* ---- trial ---------------------------------------------------------------------------- */

enum rules_unit {
        RULES_UNIT_INDIVIDUAL, /* each contact is randomized */
        RULES_UNIT_CLINIC,     /* the clinic is: all its contacts share its arm */
};

struct rules_arm {
        const char *name;
        double weight; /* > 0; assignment probability = weight / sum of weights */
        struct rules_loc loc;
};

struct rules_trial {
        bool present; /* false: no trial, every contact in the implicit arm */
        const char *name;
        enum rules_unit unit;
        const struct rules_arm *arms;
        size_t n_arms;
        const int *strata; /* field indices; assignment is balanced within each stratum */
        size_t n_strata;
        /* Exactly one of these: the HMAC key file (assignment = keyed hash of the study id,
         * verifiable offline), or the evaluator's sealed list (study id -> arm). Paths are
         * kept as written; the daemon reads them, the rules core does not. */
        const char *secret_key_file;
        const char *sealed_list_file;
        struct rules_loc loc;
};

/* ---- tracks and stages ------------------------------------------------------------- */

struct rules_stage {
        const char *name;
        int from_day, to_day; /* days after the track's day zero, to_day exclusive */
        struct rules_loc loc;
};

/* A track (pregnancy, baby, loss support): a contact is in at most one at a time. At
 * enrolment a contact enters the first track, in declaration order, marked `start` whose
 * anchor field it has. Day zero = anchor field + zero_offset_days (pregnancy: edd - 280,
 * so that day 7*w is week w of pregnancy). */
struct rules_track {
        const char *name;
        int anchor_field;     /* a date field */
        int zero_offset_days; /* day zero relative to the anchor field */
        bool start;           /* may be entered at enrolment */
        int end_day;          /* the track ends this many days after day zero */
        int max_days;         /* and at most this many days after it was entered; 0 = none */
        int next_track;       /* entered when it ends; RULES_NONE = programme over */
        const struct rules_stage *stages;
        size_t n_stages;
        struct rules_loc loc;
};

/* ---- conditions ----------------------------------------------------------------------- */

enum rules_cond_op {
        RULES_COND_IS,      /* field == value (text compare after normalization) */
        RULES_COND_IS_NOT,  /* field != value, or unset */
        RULES_COND_SET,     /* field has a value */
        RULES_COND_NOT_SET, /* field has no value */
};

/* One test on a contact, written as "FIELD is VALUE", "FIELD is not VALUE", "FIELD is set",
 * "FIELD is not set". All of an object's conditions must hold. */
struct rules_condition {
        int field;
        enum rules_cond_op op;
        const char *value; /* IS, IS_NOT: normalized */
        struct rules_loc loc;
};

/* ---- reminders ------------------------------------------------------------------------ */

enum rules_anchor_kind {
        RULES_ANCHOR_FIELD, /* anchor is a date field index */
        RULES_ANCHOR_TRACK, /* anchor is a track index: its day zero */
};

enum rules_catch_up {
        RULES_CATCH_UP_SKIP,   /* occurrences due before enrolment are never sent */
        RULES_CATCH_UP_LATEST, /* only the most recent past one, at the next window */
        RULES_CATCH_UP_ALL,    /* all past ones, oldest first, within the caps */
};

enum rules_during_quiz {
        RULES_DURING_QUIZ_INTERRUPT, /* send anyway; the quiz goes on afterwards */
        RULES_DURING_QUIZ_SKIP,      /* drop this occurrence (logged as suppressed) */
        RULES_DURING_QUIZ_WAIT,      /* hold it until the quiz ends, within its grace */
};

/* The same reminder with other text for some arms (active control: same information, none
 * of the motivational content). */
struct rules_variant {
        const char *name;
        uint32_t arms;
        struct rules_texts text;
        struct rules_loc loc;
};

struct rules_reminder {
        const char *name;
        int track; /* only while the contact is in this track; RULES_NONE = any */
        enum rules_anchor_kind anchor_kind;
        int anchor; /* field or track index */
        /* One-shot: anchor + offset_days. Repeating: anchor + from_days, then every
         * every_days, up to and including anchor + to_days. */
        bool repeat;
        int offset_days;
        int every_days, from_days, to_days;
        int window_start, window_end; /* minutes, local time of the contact's clinic */
        uint8_t days;                 /* allowed weekdays: bit 0 Sunday .. bit 6 Saturday */
        int slot_field;               /* its value names a slot whose window replaces ours */
        const struct rules_condition *conditions;
        size_t n_conditions;
        uint32_t arms; /* arms that get `text`; variants add theirs */
        enum rules_catch_up catch_up;
        enum rules_during_quiz during_quiz;
        int grace_minutes;       /* lateness allowed after the window opens, within the window */
        int quiz;                /* quiz started right after the text; RULES_NONE = none */
        struct rules_texts text; /* may be empty only when quiz is set */
        const struct rules_variant *variants;
        size_t n_variants;
        struct rules_loc loc;
};

/* ---- quizzes -------------------------------------------------------------------------- */

#define RULES_NEXT_QUESTION (-1) /* choice.next: the following question */
#define RULES_END_QUIZ      (-2) /* choice.next: the quiz ends */

enum rules_on_timeout {
        RULES_TIMEOUT_NEXT, /* count as unanswered, ask the next question */
        RULES_TIMEOUT_END,  /* end the quiz (logged as timed out) */
};

struct rules_choice {
        const char *name;
        struct rules_strings answers; /* normalized; no other choice of the question has one */
        bool right;
        int next; /* question index, RULES_NEXT_QUESTION or RULES_END_QUIZ */
        struct rules_loc loc;
};

struct rules_question {
        const char *name;
        struct rules_texts text;
        const struct rules_choice *choices;
        size_t n_choices;
        bool graded;         /* some choice is right */
        unsigned retries;    /* wrong or unrecognized answers re-asked this many times */
        int timeout_minutes; /* no answer within this: on_timeout */
        enum rules_on_timeout on_timeout;
        struct rules_texts right; /* feedback; may be empty */
        struct rules_texts wrong;
        struct rules_texts invalid; /* to an answer no choice accepts; may be empty */
        struct rules_loc loc;
};

struct rules_quiz {
        const char *name;
        uint32_t arms;
        int score_field; /* number field the score is stored in; RULES_NONE = not stored */
        const struct rules_question *questions;
        size_t n_questions;
        struct rules_texts intro; /* sent before the first question; may be empty */
        struct rules_texts done;  /* after the last; may use {score} and {total} */
        struct rules_loc loc;
};

/* ---- keywords ------------------------------------------------------------------------- */

enum rules_keyword_action {
        RULES_KW_OPT_IN, /* enrol (or re-enrol); args fill fields: ALTA 15/03/2026 -> edd */
        RULES_KW_SET,    /* set fields from args (a new appointment date) */
        RULES_KW_ALERT,  /* warning sign: reply, and forward to the clinic's staff at once */
        RULES_KW_BIRTH,  /* BEBE [date]: set_field (birth) to the date or today, switch track */
        RULES_KW_LOSS,   /* PERDIDA [reason]: stop routine messages, offer support or stop */
        RULES_KW_QUIZ,   /* start a quiz */
        RULES_KW_REPLY,  /* just answer with `reply` */
};

struct rules_keyword {
        const char *name;
        enum rules_keyword_action action;
        struct rules_strings words; /* normalized; the first word of the message */
        const int *args;            /* fields read, in order, from the words that follow */
        size_t n_args;
        int set_field; /* BIRTH: the date field set (default "birth"); LOSS: a date field set
                        * to the day of the report (RULES_NONE: none) */
        int track;     /* BIRTH: track switched to; LOSS: support track */
        int quiz;      /* QUIZ */
        uint32_t arms; /* arms the keyword works for (opt-in: all) */
        struct rules_texts reply;
        struct rules_texts staff; /* ALERT: what the staff receive */
        /* LOSS: the reason words recognized after the keyword (logged as the reason), then
         * the participant's choice between support content and a full stop. */
        struct rules_strings reasons;
        struct rules_strings support_words;
        struct rules_strings stop_words;
        struct rules_texts support_reply;
        struct rules_texts stop_reply;
        struct rules_loc loc;
};

/* ---- the whole set -------------------------------------------------------------------- */

struct rules_arena; /* private to rules/ */

struct rules_set {
        struct rules_settings settings;
        const struct rules_field *fields; /* builtins first, see enum rules_builtin_field */
        size_t n_fields;
        const struct rules_clinic *clinics;
        size_t n_clinics;
        const struct rules_slot *slots;
        size_t n_slots;
        struct rules_trial trial;
        const struct rules_track *tracks;
        size_t n_tracks;
        const struct rules_reminder *reminders;
        size_t n_reminders;
        const struct rules_quiz *quizzes;
        size_t n_quizzes;
        const struct rules_keyword *keywords;
        size_t n_keywords;
        /* SHA-256 of the files' bytes, in the order of their names, each preceded by its
         * name and length, so that renaming or splitting files changes it too. */
        uint8_t hash[RULES_HASH_LEN];
        char hash_hex[RULES_HASH_HEX_LEN + 1];
        size_t n_files;
        struct rules_arena *arena;
};

/* Frees the set and everything in it. NULL is fine. Returns NULL. */
struct rules_set *rules_free(struct rules_set *set);

/* Lookups by name (exact, case-sensitive): the index, or -ENOENT. */
int rules_field_find(const struct rules_set *set, const char *name);
int rules_arm_find(const struct rules_set *set, const char *name);
int rules_track_find(const struct rules_set *set, const char *name);
int rules_quiz_find(const struct rules_set *set, const char *name);
int rules_clinic_find(const struct rules_set *set, const char *id);
int rules_slot_find(const struct rules_set *set, const char *name);
int rules_reminder_find(const struct rules_set *set, const char *name);
int rules_keyword_find(const struct rules_set *set, const char *name);

/* The mask of all the set's arms (1 bit with no trial). */
uint32_t rules_arms_all(const struct rules_set *set);

/* The text for a contact's language: `lang` if present, else settings.fallback_language,
 * else settings.default_language, else the first. NULL when texts is empty. lang may be
 * NULL. */
const struct rules_text *rules_text_pick(const struct rules_set *set,
                                         const struct rules_texts *texts, const char *lang);

/* What a reminder sends to an arm (arm index, or 0 with no trial): its own text, a
 * variant's, or NULL when the arm gets nothing by design (log it as such). A reminder
 * that only starts a quiz returns its (empty) text for the arms it runs for. */
const struct rules_texts *rules_reminder_texts_for_arm(const struct rules_reminder *reminder,
                                                       int arm);

/* Whether the reminder runs for the arm at all (own arms or a variant's). */
bool rules_reminder_runs_for_arm(const struct rules_reminder *reminder, int arm);
