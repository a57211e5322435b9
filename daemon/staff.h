/* Staff commands by SMS: the clinic's staff text ESTADO/STATUS, PRUEBA/TEST or AYUDA/HELP to
 * the box and get one SMS back. daemon/staff.c is the pure part (sender and text in, a
 * decision and the reply text out, the throttle state passed in: no clock, store or log);
 * daemon/staff-queue.c is the edge: it reads new incoming messages from the store, builds the
 * status from the daemon's snapshot, queues replies as `puentectl send` does, and logs.
 *
 * Who counts as staff: a sender whose number, normalized to E.164 with the configured
 * country, is a clinic's staff or manager number (config_staff_find()). Alphanumeric senders
 * ("TELCEL", "Banco") and short codes are never staff: anybody can set them. A command from
 * anyone else is ignored (no reply) and logged, and the message stays for the rules.
 *
 * Throttle: every automatic reply to a number is counted; past replies_per_hour replies in the
 * last STAFF_THROTTLE_WINDOW_S the number gets silence (logged once), so that the box and
 * another auto-responder never text each other until the credit is gone.
 *
 * Ownership: everything is caller-owned; strings are borrowed for the call. struct
 * staff_throttle is plain data (zero it to start). staff_new() returns a struct staff the
 * caller frees with staff_free() (NULL is fine). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/store.h"

#define STAFF_SMS_MAX           160  /* GSM 7-bit septets in one SMS (TS 23.038 6.1.2.1) */
#define STAFF_REPLY_MAX         400  /* bytes: 160 septets, some of them 2-byte UTF-8 (ñ) */
#define STAFF_COMMAND_MAX       32   /* a longer text is not a command */
#define STAFF_THROTTLE_SENDERS  32   /* numbers remembered; the least recent is forgotten */
#define STAFF_THROTTLE_WINDOW_S 3600 /* replies counted over the last hour */
#define STAFF_REPLY_MAX_AGE_S   3600 /* a command received longer ago is not answered */
#define STAFF_SCAN_MAX          64   /* incoming messages looked at per call */
#define STAFF_PRIORITY          500  /* replies go before reminders (priority 0) */
#define STAFF_UPLOAD_LATE_S     (2 * 24 * 3600)       /* "upload overdue" after two days */
#define STAFF_SETTING_CURSOR    "staff.last_incoming" /* last incoming id looked at */
#define STAFF_SETTING_SUMMARY   "staff.summary."      /* + clinic name: local day of the last one */

enum staff_command {
        STAFF_CMD_NONE, /* not a command */
        STAFF_CMD_STATUS,
        STAFF_CMD_TEST,
        STAFF_CMD_HELP,
};

enum staff_lang {
        STAFF_LANG_ES, /* the Spanish word was used: reply in Spanish */
        STAFF_LANG_EN,
};

/* Reads a command: the whole text is one command word (any case, accents and surrounding
 * spaces or punctuation ignored: "Estado", " prueba. ", "¿AYUDA?"). Returns 0 with *ret_cmd
 * and *ret_lang, or -ENOENT when the text is not a command. */
int staff_parse_command(const char *text, enum staff_command *ret_cmd, enum staff_lang *ret_lang);

/* Problems, in the order they are told (most urgent first). */
enum staff_problem {
        STAFF_PROB_NO_MODEM = 1 << 0,     /* no modem connected at all */
        STAFF_PROB_NO_SIM = 1 << 1,       /* a modem without SIM card */
        STAFF_PROB_SIM_LOCKED = 1 << 2,   /* a SIM asks for a PIN or PUK we do not have */
        STAFF_PROB_NO_NETWORK = 1 << 3,   /* a modem not registered */
        STAFF_PROB_MODEM_FAILED = 1 << 4, /* a modem out of service for another reason */
        STAFF_PROB_FAILED_PARTS = 1 << 5, /* messages given up (count in failed) */
        STAFF_PROB_NO_RULES = 1 << 6,     /* no rules directory: no reminders are made */
        STAFF_PROB_NO_UPLOAD = 1 << 7,    /* no upload target configured */
        STAFF_PROB_UPLOAD_LATE = 1 << 8,  /* no upload for STAFF_UPLOAD_LATE_S */
        STAFF_PROB_COUNT = 9,
};

/* What ESTADO tells, gathered by the edge. */
struct staff_status {
        unsigned modems;       /* modems seen (plugged or not) */
        unsigned modems_ready; /* in service */
        int bars;              /* best signal of the ready modems, 0-4; -1 unknown */
        unsigned sent_today;
        unsigned queued;         /* parts waiting (new and retry) */
        unsigned failed;         /* parts given up */
        int64_t last_upload_age; /* seconds since the last upload; -1 never */
        bool upload_configured;
        unsigned problems; /* enum staff_problem */
};

/* The ESTADO reply in one SMS: at most STAFF_SMS_MAX GSM 7-bit septets, problems in plain
 * words, most urgent first; those that do not fit are counted ("+2 mas"). Returns 0, or
 * -ENOBUFS when size is below STAFF_REPLY_MAX. */
int staff_format_status(const struct staff_status *st, enum staff_lang lang, char *buf,
                        size_t size);

/* The daily summary for a clinic's manager: the ESTADO text headed "Puente resumen:", in
 * Spanish, in one SMS. Same returns. */
int staff_format_summary(const struct staff_status *st, char *buf, size_t size);

/* Whether a clinic's daily summary is due: the local time (minute of the day, 0..1439) has
 * reached summary_minute (-1: never) and none was sent on `today` (local YYYYMMDD);
 * last_day is the local day of the last one (0 never). A box switched on after the hour
 * sends that day's summary at once; one switched on the next day sends one, not two. */
bool staff_summary_due(int summary_minute, int local_minute, uint32_t today, uint32_t last_day);

struct staff_throttle {
        struct {
                char number[STORE_NUMBER_MAX];
                int64_t times[CONFIG_STAFF_REPLIES_MAX]; /* reply times, oldest first */
                unsigned n;
                int64_t last;  /* last reply or refusal, for eviction */
                bool silenced; /* a refusal was reported since the last reply */
        } slot[STAFF_THROTTLE_SENDERS];
};

/* Takes one reply for `number` at `now` if fewer than `per_hour` were taken in the last
 * STAFF_THROTTLE_WINDOW_S: returns 1 (taken), 0 (refused; *ret_first tells whether this is
 * the first refusal since the last reply, to log it once), -EINVAL (per_hour out of
 * 1..CONFIG_STAFF_REPLIES_MAX, or an empty number). ret_first may be NULL. */
int staff_throttle_take(struct staff_throttle *t, const char *number, unsigned per_hour,
                        int64_t now, bool *ret_first);

enum staff_action {
        STAFF_PASS,      /* not for us: not a command, not from staff; the rules may see it */
        STAFF_REPLY,     /* reply with decision.reply and consume the message */
        STAFF_IGNORED,   /* a command from a number that is not staff: log, no reply */
        STAFF_SPOOFABLE, /* a command from an alphanumeric sender or short code: log */
        STAFF_THROTTLED, /* staff, but the throttle refused: consume, log (once) */
};

struct staff_decision {
        enum staff_action action;
        enum staff_command cmd;
        enum staff_lang lang;
        const struct config_clinic *clinic; /* staff: their clinic (points into the config) */
        char number[STORE_NUMBER_MAX];      /* the sender, E.164 when it normalized */
        bool first_refusal;                 /* STAFF_THROTTLED: the first since a reply */
        char reply[STAFF_REPLY_MAX];        /* STAFF_REPLY */
};

/* Decides what to do with one incoming message from `sender` saying `text`. A staff member's
 * text that is no command gets the list of commands. status is needed for ESTADO and PRUEBA
 * (may be NULL otherwise: then -EINVAL if needed). Only STAFF_REPLY and STAFF_THROTTLED
 * touch the throttle. Returns 0 and fills *ret, or -EINVAL. */
int staff_decide(const struct config *c, struct staff_throttle *t, const char *sender,
                 const char *text, const struct staff_status *status, int64_t now,
                 struct staff_decision *ret);

/* ---- the edge (daemon/staff-queue.c) ---- */

struct staff;

int staff_new(struct staff **ret);
struct staff *staff_free(struct staff *s);

/* Looks at the incoming messages stored since the last call (the cursor is the store
 * setting STAFF_SETTING_CURSOR; the first call on a database looks at what is there: the age
 * limit below keeps old texts unanswered), answers those from staff (replies queued like `puentectl
 * send`: number normalized, priority STAFF_PRIORITY, encoded at send time by the bank; the message
 * marked handled), logs the ignored and the throttled. Messages older than
 * STAFF_REPLY_MAX_AGE_S are not answered. Then queues the daily summaries that are due (local
 * time of the box). Returns the number of messages queued, or a negative errno from the
 * store (logged). */
int staff_process(struct staff *s, struct store *store, const struct config *c, int64_t now);

/* Fills *ret from the store (the daemon.status snapshot, part counts, the last upload) and
 * the configuration. */
int staff_status_gather(struct store *store, const struct config *c, int64_t now,
                        struct staff_status *ret);
