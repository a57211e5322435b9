/* What daemon/store*.c share: the struct store, the prepared-statement cache, transactions
 * and error mapping. Nothing outside daemon/store*.c includes this (it includes sqlite3.h), but
 * a white-box test (test-rules-runner makes a commit fail through the connection). */
#pragma once

#include <sqlite3.h>

#include "daemon/store.h"

/* Every cached statement has a name here; its SQL sits next to the code that runs it. */
enum store_stmt_id {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_SAVEPOINT, /* store_batch_begin(): each call's own part of the batch */
        STMT_RELEASE,
        STMT_ROLLBACK_TO,
        STMT_MSG_INSERT,
        STMT_CONCAT_REF_NEXT,
        STMT_MSG_RESEND_FAIL,
        STMT_MSG_RESEND_COPY,
        STMT_MSG_RESEND_PARTS,
        STMT_PART_INSERT,
        STMT_NEXT_PARTS,
        STMT_PART_SENDING,
        STMT_PART_SENT,
        STMT_PART_FAILED,
        STMT_PART_RETRY,
        STMT_PART_UNKNOWN, /* added by the bank's helper for store_part_unknown() */
        STMT_PART_STATE,
        STMT_PART_GET,
        STMT_REPORT_FIND,
        STMT_REPORT_APPLY,
        STMT_REPORT_INSERT,
        STMT_OUTBOX,
        STMT_PARTS_BY_STATE,
        STMT_INBOUND_INSERT,
        STMT_INBOUND_COUNT,
        STMT_INBOUND_PARTS,
        STMT_INBOUND_DELETE,
        STMT_INBOUND_STALE,
        STMT_INCOMING_INSERT,
        STMT_INCOMING_DUP,
        STMT_INBOX,
        STMT_INBOX_UNHANDLED,
        STMT_INCOMING_HANDLED,
        STMT_MODEM_UPSERT,
        STMT_MODEM_SENT,
        STMT_MODEM_SENT_GET,
        STMT_MODEM_ERROR,
        STMT_MODEM_STATE,
        STMT_MODEM_GET,
        STMT_MODEM_LIST,
        STMT_EVENT_INSERT,
        STMT_EVENTS_AFTER,
        STMT_CONTACT_UPSERT,
        STMT_CONTACT_BY_PHONE,
        STMT_SETTING_SET,
        STMT_SETTING_GET,
        STMT_STATUS_PARTS,
        STMT_STATUS_TOTALS,
        STMT_STATUS_OPEN, /* store_status_open() */
        STMT_STATUS_EVENTS,
        STMT_EVENT_MSG_SENT, /* the messages' outcome events (store-outgoing.c) */
        STMT_EVENT_MSG_FAILED,
        STMT_EVENT_MSG_DELIVERED,
        STMT_RULES_STATE_PUT, /* the rules runner's (store-rules.c): several a contact */
        STMT_RULES_STATE_GET,
        STMT_RULES_DUE_LIST,
        STMT_RULES_SETTLE,
        STMT_RULES_IS_SETTLED,
        STMT_RULES_RECENT,
        STMT_CONTACT_GET,
        STMT_RULES_UNENROLLED,
        STMT_RULES_WITHDRAW,
        STMT_RULES_TOUCH,
        STMT_COUNT,
};

struct store {
        sqlite3 *db;
        sqlite3_stmt *stmt[STMT_COUNT];
        unsigned settled;
        bool batch; /* store_batch_begin(): store_tx_* are savepoints inside one transaction */
        bool clock_untrusted; /* store_set_clock_trusted(false) */
        uint64_t commits;     /* transactions committed (store_commits()) */
        char *kept;           /* what getters hand out as borrowed text, until the next getter */
        char errmsg[STORE_ERRMSG_MAX];
};

/* The migration steps: migrations[i] takes a database from version i to i + 1. */
extern const char *const store_migrations[STORE_SCHEMA_VERSION];

/* Returns the cached statement `id`, preparing `sql` on first use, reset and with its
 * bindings cleared. */
int store_stmt(struct store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **ret);

/* Maps a SQLite result code to a negative errno and records "what: message" as the error. */
int store_sqlfail(struct store *s, int rc, const char *what);
/* Records an error that is not SQLite's; returns err. */
int store_fail(struct store *s, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int store_errno_of(int rc);

/* BEGIN IMMEDIATE (waits busy_timeout for other writers), COMMIT, and a ROLLBACK that is a
 * no-op outside a transaction (SQLite may already have rolled back after SQLITE_FULL). */
int store_tx_begin(struct store *s, const char *what);
int store_tx_commit(struct store *s, const char *what);
void store_tx_rollback(struct store *s);

/* Steps a statement that returns no row (or whose rows are ignored) and resets it. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);

/* Binds a string, or NULL when it is NULL or empty. */
int store_bind_text_or_null(sqlite3_stmt *st, int i, const char *v);
/* Binds an id, or NULL when it is 0. */
int store_bind_id_or_null(sqlite3_stmt *st, int i, int64_t id);

/* Copies a text into the store's kept buffer (replacing the previous one) and points *ret at
 * it: the getters' borrowed strings. */
int store_keep_text(struct store *s, const char *text, const char **ret);

/* Copies column i (NULL reads "") into a fixed buffer, truncating. */
void store_column_copy(sqlite3_stmt *st, int i, char *buf, size_t size);

const char *store_encoding_name(enum store_encoding e);
int store_encoding_from_name(const char *name, enum store_encoding *ret);
