/* The store: Puente's one SQLite database (WAL, versioned schema, forward migrations) with the
 * exactly-once states of outgoing message parts, inbound reassembly that survives a power cut,
 * delivery reports, modems, the append-only event log and settings. docs/store.md has the
 * contract; daemon/store*.c are the only files that include sqlite3.h.
 *
 * Ownership: store_open() returns a struct store the caller frees with store_close() (NULL is
 * fine). String arguments are borrowed for the call and copied into the database. Rows handed
 * to a callback (listings) and struct fields filled by getters point into buffers that stay
 * valid only until the callback returns / until the next call on the same store, unless a
 * field is an inline array. Callbacks may not call back into the same store: the statement
 * that feeds them is still stepping. A non-zero return from a callback stops the listing and
 * is passed back to the caller.
 *
 * Time: every "now" is the caller's clock in Unix seconds (UTC); the store never reads the
 * clock, which keeps the tests in charge of time.
 *
 * Errors: 0 (or a count) on success, a negative errno on failure; store_errmsg() then names
 * the failed operation and SQLite's message. -ENOSPC: the disk (or max_pages) is full, the
 * write was rolled back and the database is still usable. -EBUSY: another connection held the
 * write lock longer than the busy time-out. -ENOENT: no such row. -ESTALE: a part was not in
 * the state the transition requires (e.g. store_part_sent() on a part not "sending").
 * -EEXIST: a unique key (study id, phone) is taken. -EINVAL: a caller's mistake or a value
 * the schema refuses (bad JSON, bad event type). -EBADMSG: not a database or corrupt.
 * -ENOTSUP: written by a newer Puente (schema version above STORE_SCHEMA_VERSION).
 *
 * Not thread-safe: one struct store per thread (the daemon has one; puentectl its own).
 * Several processes may share the file: writes are short IMMEDIATE transactions that wait up
 * to busy_timeout_ms for the lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION  7
#define STORE_BUSY_TIMEOUT_MS 5000 /* puentectl waits this long for the daemon's lock */
#define STORE_ERRMSG_MAX      512
#define STORE_TEXT_MAX        4096 /* UTF-8 bytes of a whole message (255 parts is more) */
#define STORE_PARTS_MAX       255  /* TS 23.040 9.2.3.24.1: an 8-bit part count */
#define STORE_CONCAT_REFS     256 /* TS 23.040 9.2.3.24.1: 8-bit references, counted per recipient */
#define STORE_PDU_HEX_MAX     353             /* 2 * SMS_PDU_MAX hex digits and the NUL */
#define STORE_NUMBER_MAX      48              /* E.164 or an alphanumeric sender, NUL included */
#define STORE_ERROR_TEXT_MAX  128             /* a part's last error ("+CMS ERROR: 38") */
#define STORE_REPORT_WINDOW_S (3 * 24 * 3600) /* a report older than its part by more... */
#define STORE_REPORT_AHEAD_S  600             /* ...or this much before it is not its */
/* A single-part message with the sender, SC time stamp and text of one received less than
 * this long before is the same SMS read again from the SIM after a crash (docs/store.md). */
#define STORE_INBOUND_DUP_WINDOW_S (7 * 24 * 3600)
#define STORE_EVENT_TYPE_MAX       64
#define STORE_IDENT_MAX            64 /* IMEI, ICCID, IMSI, maker, model, revision */
#define STORE_RULE_NAME_MAX        63 /* a reminder's name carried by its message */
#define STORE_RULE_SET_MAX         64 /* the rule set's SHA-256 in hex */
#define STORE_STATE_TEXT_MAX       128
#define STORE_DEVICE_MAX           256

struct store;

struct store_options {
        /* Stop at this schema version instead of STORE_SCHEMA_VERSION (0 = latest). Only for
         * tests of the migrations: the store's other calls expect the latest schema. */
        unsigned target_version;
        /* What to do at open with parts caught in "sending" by a crash: false (the default and
         * the exactly-once contract) marks them "unknown"; true sends them again ("retry"). */
        bool resend_unknown;
        /* Leave parts in "sending" alone: set by every process but the one sender (puentectl,
         * tools), since the daemon may be between AT+CMGS and its answer right now. */
        bool leave_sending;
        /* Wait for another connection's write lock (0 = STORE_BUSY_TIMEOUT_MS). */
        unsigned busy_timeout_ms;
        /* Cap the database at this many pages (0 = SQLite's default, no cap); a full store
         * answers -ENOSPC. Lets the appliance keep room on its SD card; used by tests too. */
        unsigned max_pages;
};

/* Opens (creating if missing) the database at `path`, switches it to WAL, migrates it to the
 * latest schema (each step in its own transaction) and, unless opts->leave_sending, settles
 * parts caught in "sending" (see store_options.resend_unknown). opts may be NULL. On failure
 * nothing is returned and, if errmsg is not NULL, a description is written there (STORE_ERRMSG_MAX
 * bytes). */
int store_open(const char *path, const struct store_options *opts, struct store **ret_store,
               char *errmsg);
struct store *store_close(struct store *s);

/* Groups the calls that follow into one transaction with one commit (one fsync) at
 * store_batch_commit(): the bank records a send's outcome and marks the next parts "sending"
 * together. Each call inside still goes or stays whole (a savepoint); nothing is durable
 * before store_batch_commit() returns 0. Not nested: -EBUSY when a batch is open. A failed
 * commit or store_batch_rollback() undoes every call of the batch. */
int store_batch_begin(struct store *s);
int store_batch_commit(struct store *s);
void store_batch_rollback(struct store *s);
/* Whether a batch is open (a caller that may run inside another's batch joins it). */
bool store_batch_open(const struct store *s);
/* Inside a batch: what follows, up to store_savepoint_release() or _rollback(), goes or stays
 * whole within the batch (one contact's run among a group). Savepoints nest. -EINVAL outside
 * a batch; -EIO if SQLite already rolled the batch back. A failed release rolls back. */
int store_savepoint_begin(struct store *s, const char *what);
int store_savepoint_release(struct store *s, const char *what);
void store_savepoint_rollback(struct store *s);

/* The last error's description ("queue message: database or disk is full"); "" if none. */
const char *store_errmsg(const struct store *s);
/* Forgets the last error's description (a caller that reports only what its call set). */
void store_errmsg_clear(struct store *s);
/* The database's schema version (PRAGMA user_version). */
int store_schema_version(struct store *s, unsigned *ret_version);
/* How many parts the last store_open() found in "sending" and settled. */
unsigned store_settled_at_open(const struct store *s);
/* For tests and benchmarks: the rows stepped through in full scans (of a table or a whole
 * index) by the statements this store has run, since it was opened. A path meant to take
 * the same time at a million parts as at ten adds nothing to it. */
uint64_t store_scan_steps(const struct store *s);
/* For tests and benchmarks: the transactions this store has committed since it was opened
 * (each one fsync of the WAL under synchronous = FULL). */
uint64_t store_commits(const struct store *s);

/* ---- outgoing messages and their parts ---- */

enum store_part_state {
        STORE_PART_QUEUED,        /* waiting for its first attempt */
        STORE_PART_SENDING,       /* committed before AT+CMGS: the modem may have it */
        STORE_PART_SENT,          /* +CMGS answered, TP-MR known */
        STORE_PART_RETRY,         /* failed for now, due again at next_attempt */
        STORE_PART_FAILED,        /* given up */
        STORE_PART_UNKNOWN,       /* was "sending" at a crash: maybe sent, not resent */
        STORE_PART_DELIVERED,     /* a status report said delivered */
        STORE_PART_UNDELIVERABLE, /* a status report said the SC gave up */
        STORE_PART_STATE_COUNT,
};

const char *store_part_state_name(enum store_part_state st);
int store_part_state_from_name(const char *name, enum store_part_state *ret_state);

enum store_encoding {
        STORE_ENC_GSM7,
        STORE_ENC_UCS2,
        STORE_ENC_8BIT,
};

struct store_outgoing_new {
        const char *recipient; /* E.164, normalized by the caller (at/phone) */
        int64_t contact_id;    /* 0 when the recipient is not a known contact */
        const char *text;      /* the whole message, UTF-8 */
        enum store_encoding encoding;
        unsigned part_count;     /* 1..STORE_PARTS_MAX, from the caller's encoder */
        int priority;            /* higher goes first; 0 for ordinary reminders */
        int64_t not_before;      /* earliest send time (0 = at once) */
        const char *const *pdus; /* NULL, or the hex PDU of a single-part message */
        /* Queued by a rule: the reminder's name (NULL for other messages) and the rule set's
         * hash (NULL when no rule queued it); copied into the message's sms.* events. */
        const char *reminder, *rule_set;
};

/* Queues a message and its parts (state "queued") in one transaction. A multi-part message
 * gets its concatenation reference here, in the same transaction: the recipient's counter
 * (table concat_refs) moved on by one modulo STORE_CONCAT_REFS, so that no two of the last
 * 256 multi-part messages to one number share one (a phone would join them); its PDUs are
 * encoded at send time with it (daemon/bank-encode.c), so pre-encoded PDUs are refused for
 * it. A single-part message has reference 0. Returns the new message id in *ret_id. -EINVAL
 * for an empty recipient or text, a part count out of range, too long a text, a malformed
 * PDU or PDUs given for a multi-part message. */
int store_queue_message(struct store *s, const struct store_outgoing_new *m, int64_t now,
                        int64_t *ret_id);

/* A part due to be sent, as store_next_parts() hands it over. */
struct store_part {
        int64_t part_id;
        int64_t message_id;
        unsigned seq; /* 1..part_count */
        unsigned part_count;
        unsigned concat_ref;
        enum store_encoding encoding;
        enum store_part_state state;
        unsigned attempts;
        int64_t modem_id; /* last modem tried, 0 if none */
        /* The modem that sent a part of this message or is sending one (sending, sent,
         * delivered, undeliverable or unknown), 0 if none: the other parts must go out
         * through it (docs/bank.md); and the latest time it sent one (wall seconds). */
        int64_t pinned_modem, pinned_at;
        int priority;
        char recipient[STORE_NUMBER_MAX];
        const char *text; /* the whole message's text: borrowed, see the header */
        const char *pdu;  /* hex or NULL: borrowed */
};

typedef int (*store_part_cb)(const struct store_part *p, void *userdata);

/* Hands to cb, ordered by priority (highest first) then age (oldest message first, then
 * seq), up to `limit` parts that are "queued" or "retry" with next_attempt <= now. Returns
 * the number of parts handed over, or cb's non-zero return, or a negative errno. */
int store_next_parts(struct store *s, int64_t now, unsigned limit, store_part_cb cb,
                     void *userdata);

/* The exactly-once transitions, each one synchronous commit (docs/store.md).
 *   sending: queued|retry -> sending; attempts + 1, modem recorded. Commit it BEFORE AT+CMGS.
 *   sent:    sending -> sent with the TP-MR of +CMGS.
 *   failed:  sending -> failed, with the error text.
 *   retry:   sending -> retry, due again at next_attempt, with the error text.
 *   unknown: sending -> unknown, with the error text: the modem took the PDU and then gave
 *            no clear answer (a reset or a time-out after the PDU), so it may have been sent; it
 *            is not resent (the crash rule of docs/store.md, reached without a crash).
 * -ESTALE when the part is not in the state required, -ENOENT when there is no such part. */
int store_part_sending(struct store *s, int64_t part_id, int64_t modem_id, int64_t now);
int store_part_sent(struct store *s, int64_t part_id, unsigned mr, int64_t now);
int store_part_failed(struct store *s, int64_t part_id, const char *error, int64_t now);
int store_part_retry(struct store *s, int64_t part_id, int64_t next_attempt, const char *error,
                     int64_t now);
int store_part_unknown(struct store *s, int64_t part_id, const char *error, int64_t now);

/* Queues message_id again as a new message (same recipient, contact, text, priority; a new
 * concatenation reference) and fails its parts still "queued" or "retry" with `why`, in
 * one transaction: the parts already sent from one SIM cannot be joined with parts from
 * another, so the phone gets the whole message again instead (docs/bank.md). The parts
 * already sent are left as they are. -ENOENT when the message has no part left to send
 * (so it is resent once). */
int store_message_resend(struct store *s, int64_t message_id, const char *why, int64_t now,
                         int64_t *ret_new_id);

/* Reads one part's state (for tests and puentectl): fills *ret (text and pdu are NULL). */
int store_part_get(struct store *s, int64_t part_id, struct store_part *ret);

/* Records a status report (TS 23.040 9.2.2.3) and matches it to the sent part with this
 * TP-MR and recipient, sent by this modem (modem_id 0 = any), whose sent time lies within
 * [time - STORE_REPORT_WINDOW_S, time + STORE_REPORT_AHEAD_S]; the most recent wins.
 * `status` is the TP-ST octet: 0x00-0x1F delivered, 0x20-0x3F still trying (state kept),
 * 0x40-0x7F failed. The report is stored even without a match. *ret_part_id (may be NULL)
 * gets the matched part, or 0. */
int store_report_match(struct store *s, int64_t modem_id, unsigned mr, const char *recipient,
                       unsigned status, int64_t time, int64_t *ret_part_id);

/* ---- incoming messages ---- */

struct store_inbound_part {
        int64_t modem_id;
        const char *sender; /* as decoded: E.164 or alphanumeric */
        unsigned ref;       /* concatenation reference; ignored when total == 1 */
        unsigned total;     /* 1..STORE_PARTS_MAX */
        unsigned seq;       /* 1..total */
        const char *text;   /* this part's UTF-8 text */
        int64_t sc_time;    /* the SC time stamp, Unix seconds (0 if unknown) */
};

/* Stores one received part durably (commit it before deleting the SMS from the SIM). When
 * it completes its message, the parts are joined in seq order into a new incoming message in
 * the same transaction and *ret_message_id gets its id; otherwise *ret_message_id is 0.
 * A part already stored (same sender, ref, total, seq) is a duplicate: ignored, 0 returned
 * and *ret_message_id = 0. So is a single-part message whose sender, non-zero sc_time and text
 * match a single-part message received less than STORE_INBOUND_DUP_WINDOW_S before `now`. -EINVAL
 * for seq or total out of range. */
int store_inbound_part_add(struct store *s, const struct store_inbound_part *p, int64_t now,
                           int64_t *ret_message_id);

/* Turns the incomplete messages whose first part arrived before `older_than` into incoming
 * messages marked incomplete, received at `now` (the missing parts shown as "[...]"), each in
 * its own transaction. Returns how many. */
int store_inbound_flush(struct store *s, int64_t older_than, int64_t now);

struct store_incoming {
        int64_t id;
        int64_t modem_id;
        int64_t contact_id; /* 0 when the sender is not a contact */
        int64_t received;
        unsigned parts;
        bool complete;
        bool handled;
        char sender[STORE_NUMBER_MAX];
        const char *text; /* borrowed */
};

typedef int (*store_incoming_cb)(const struct store_incoming *m, void *userdata);

/* Newest first, up to limit; only_unhandled to see what the rules have not processed. */
int store_inbox_list(struct store *s, unsigned limit, bool only_unhandled, store_incoming_cb cb,
                     void *userdata);
/* The unhandled ones, oldest first, up to limit: the rules take them in the order they came.
 * Its time grows with the unhandled messages, not with the inbox. */
int store_inbox_unhandled(struct store *s, unsigned limit, store_incoming_cb cb, void *userdata);
int store_incoming_mark_handled(struct store *s, int64_t message_id);

/* Outbox listing: one row per part, newest message first. */
int store_outbox_list(struct store *s, unsigned limit, store_part_cb cb, void *userdata);

/* Parts in one state, oldest first (the "unknown" ones after a crash, the failed ones). */
int store_parts_by_state(struct store *s, enum store_part_state state, unsigned limit,
                         store_part_cb cb, void *userdata);

/* ---- modems ---- */

struct store_modem_identity {
        const char *imei; /* required: the modem's identity across ports and reboots */
        const char *iccid, *imsi, *maker, *model, *revision; /* NULL or "" = unknown */
};

/* Finds the modem by IMEI, creating it if new; refreshes its SIM identity, device path and
 * last-seen time. *ret_modem_id gets its id. */
int store_modem_upsert(struct store *s, const struct store_modem_identity *id, const char *device,
                       int64_t now, int64_t *ret_modem_id);

/* Counts one sent part on `day` (the caller's local date as YYYYMMDD: the daily limits are
 * the carrier's, in local time). A new day restarts the count. *ret_sent_today (may be NULL)
 * gets the count after this one. */
int store_modem_count_sent(struct store *s, int64_t modem_id, uint32_t day,
                           unsigned *ret_sent_today);
int store_modem_count_error(struct store *s, int64_t modem_id);
int store_modem_set_state(struct store *s, int64_t modem_id, const char *state, const char *health);

struct store_modem {
        int64_t id;
        char imei[STORE_IDENT_MAX], iccid[STORE_IDENT_MAX], imsi[STORE_IDENT_MAX];
        char maker[STORE_IDENT_MAX], model[STORE_IDENT_MAX], revision[STORE_IDENT_MAX];
        char device[STORE_DEVICE_MAX];
        char state[STORE_STATE_TEXT_MAX], health[STORE_STATE_TEXT_MAX];
        uint32_t sent_day;
        unsigned sent_today, errors;
        int64_t last_seen;
};

/* The modem's row; sent_today reads 0 when `day` is not its sent_day (pass 0 to get the
 * stored count whatever the day). */
int store_modem_get(struct store *s, int64_t modem_id, uint32_t day, struct store_modem *ret);

typedef int (*store_modem_cb)(const struct store_modem *m, void *userdata);

/* Every known modem in id order, with sent_today as store_modem_get() gives it for `day`. */
int store_modem_list(struct store *s, uint32_t day, store_modem_cb cb, void *userdata);

/* ---- the event log (append-only: the schema refuses UPDATE and DELETE) ---- */

struct store_event {
        int64_t time;
        bool clock_trusted; /* false until NTP or the network gave the time (no RTC) */
        const char *type;   /* "sms.sent", "quiz.answer" ...: [a-z0-9._-], 1..63 bytes */
        int64_t contact_id; /* 0 = none */
        const char *json;   /* a JSON value; NULL = "{}"; -EINVAL if not valid JSON */
};

/* Whether the events the store writes itself (the messages' sms.sent, sms.delivered and
 * sms.failed, docs/upload.md "Message events") say the clock was trustworthy; true until
 * told otherwise, as the rules runner's. */
void store_set_clock_trusted(struct store *s, bool trusted);
bool store_clock_trusted(const struct store *s);

/* Appends an event; *ret_seq (may be NULL) gets its sequence number (1, 2, 3 ...). */
int store_event_append(struct store *s, const struct store_event *ev, int64_t *ret_seq);

struct store_event_row {
        int64_t seq, time, contact_id;
        bool clock_trusted;
        const char *type, *json; /* borrowed */
};
typedef int (*store_event_cb)(const struct store_event_row *ev, void *userdata);

/* Events with seq > after_seq in order, up to limit (for the uploader). */
int store_events_after(struct store *s, int64_t after_seq, unsigned limit, store_event_cb cb,
                       void *userdata);

/* ---- contacts ---- */

struct store_contact {
        int64_t id;
        char study_id[STORE_IDENT_MAX];
        char phone[STORE_NUMBER_MAX];
        char language[16];
        char clinic[STORE_IDENT_MAX];
        const char *fields; /* JSON object, borrowed (until the next call) */
};

/* Inserts or updates (by study id) a contact. phone must be E.164; fields a JSON object or
 * NULL. -EEXIST when the phone belongs to another study id. */
int store_contact_upsert(struct store *s, const char *study_id, const char *phone,
                         const char *language, const char *clinic, const char *fields, int64_t now,
                         int64_t *ret_id);
int store_contact_by_phone(struct store *s, const char *phone, struct store_contact *ret);

/* ---- settings: small key/value pairs (upload position, last clock sync ...) ---- */

int store_setting_set(struct store *s, const char *key, const char *value);
/* -ENOENT when unset, -ENOBUFS when the value does not fit in size bytes. */
int store_setting_get(struct store *s, const char *key, char *buf, size_t size);

/* ---- status for puentectl ---- */

struct store_status {
        unsigned parts[STORE_PART_STATE_COUNT]; /* parts by state */
        unsigned messages_out;
        unsigned incoming, incoming_unhandled;
        unsigned inbound_partial; /* stored parts of incomplete inbound messages */
        unsigned reports, reports_unmatched;
        unsigned modems;
        int64_t events; /* last event seq */
};

/* Everything, for puentectl status: it counts every row, so its time grows with the history
 * (about 0.1 s a million parts here). */
int store_status_counts(struct store *s, struct store_status *ret);
/* What the daemon shows every few seconds, in a time that does not grow with the history:
 * parts[] of the open states only (queued, retry, sending, unknown, failed; the others stay 0)
 * and events; every other count stays 0. */
int store_status_open(struct store *s, struct store_status *ret);

/* ---- contacts in bulk: imports, exports (daemon/store-rules.c) ---- */

struct store_contact_import {
        const char *study_id, *phone, *language, *clinic;
        const char *fields; /* JSON object or NULL */
};

/* Inserts or updates every row in ONE transaction: all of them or none. On failure
 * *ret_failed (may be NULL) is the index of the row that failed (-EEXIST: its phone belongs
 * to another study id; -EINVAL: a value the schema refuses). */
int store_contacts_import(struct store *s, const struct store_contact_import *rows, size_t n,
                          int64_t now, size_t *ret_failed);

/* Every contact in id order; the struct and its fields are borrowed for the callback.
 * The callback's negative return stops the walk and is returned. */
typedef int (*store_contact_cb)(const struct store_contact *c, void *userdata);
int store_contact_list(struct store *s, store_contact_cb cb, void *userdata);

/* -ENOENT when no contact has this study id. ret->fields is borrowed until the next call. */
int store_contact_by_study_id(struct store *s, const char *study_id, struct store_contact *ret);

/* ---- the rules runner's per-contact state (daemon/store-rules.c; schema version 3) ---- */

#define STORE_RULES_KEY_MAX 96 /* an occurrence key (rules/engine.h), NUL included */

/* The engine's state of a contact as the runner serializes it (JSON), its next due time and
 * the content hash of the rule set that wrote it. */
struct store_rules_state {
        int64_t contact_id;
        const char *state; /* JSON, borrowed until the next call */
        int64_t next_due;
        char rule_set[65];
};

/* Inserts or replaces a contact's state. -EINVAL: not JSON, or no such contact. */
int store_rules_state_put(struct store *s, int64_t contact_id, const char *state_json,
                          int64_t next_due, const char *rule_set);
/* -ENOENT when the contact has none yet (not enrolled in the programme). */
int store_rules_state_get(struct store *s, int64_t contact_id, struct store_rules_state *ret);

/* Every (contact, next due) pair, for loading the next-due index at start. */
typedef int (*store_rules_due_cb)(int64_t contact_id, int64_t next_due, void *userdata);
int store_rules_due_list(struct store *s, store_rules_due_cb cb, void *userdata);

/* Marks an occurrence key settled (sent or suppressed) at `time`. Returns 1 when it is new,
 * 0 when it was settled already (idempotent: a crash between queueing and this call does not
 * send twice if the runner calls it in the same transaction as the queueing). */
int store_rules_settle(struct store *s, int64_t contact_id, const char *key, int64_t time);
/* 1 settled, 0 not, or a negative errno. */
int store_rules_is_settled(struct store *s, int64_t contact_id, const char *key);

/* The creation times of messages queued to the contact after `since`, newest first, at most
 * max of them (what the caps count). */
int store_rules_recent_sends(struct store *s, int64_t contact_id, int64_t since, int64_t *times,
                             size_t max, size_t *ret_n);

/* A contact by id; -ENOENT. ret->fields borrowed until the next call. */
int store_contact_get(struct store *s, int64_t id, struct store_contact *ret);
/* Ids of contacts that have no rules state yet (to enrol), in id order, at most max. */
int store_rules_unenrolled(struct store *s, int64_t *ids, size_t max, size_t *ret_n);

/* Withdraws the contact's messages none of whose parts has left "queued" (an opt-out is
 * honoured before any other message goes out). *ret_n (may be NULL) gets how many. */
int store_rules_withdraw_queued(struct store *s, int64_t contact_id, unsigned *ret_n);

/* Makes an enrolled contact due at `now` at the latest (its fields changed at the clinic: the
 * runner recomputes what is unsent). No-op for a contact without rules state. */
int store_rules_touch(struct store *s, int64_t contact_id, int64_t now);
