/* Incoming messages: parts stored as they arrive (a power cut loses none of those already
 * acknowledged), joined into a message when the last one is in, flushed after a time-out or
 * when a sender (or everyone) has too many unfinished (daemon/store-inbound.h). */
#include "daemon/store-inbound.h"
#include "daemon/store-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MISSING_PART_MARK "[...]" /* where a flushed message lacks parts: one per run */

struct text_buf {
        char *data;
        size_t len, cap;
};

static int buf_add(struct text_buf *b, const char *t)
{
        size_t n = strlen(t);

        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                char *d;
                while (cap < b->len + n + 1)
                        cap *= 2;
                d = realloc(b->data, cap);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, t, n + 1);
        b->len += n;
        return 0;
}

/* Inserts an incoming message, linking it to the contact with that phone if there is one. */
static int incoming_insert(struct store *s, int64_t modem_id, const char *sender, const char *text,
                           unsigned parts, bool complete, int64_t sc_time, int64_t now,
                           int64_t *ret_id)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_INCOMING_INSERT,
                           "INSERT INTO incoming (modem_id, sender, contact_id, text, parts,"
                           " complete, sc_time, received) VALUES (?1, ?2,"
                           " (SELECT id FROM contacts WHERE phone = ?2), ?3, ?4, ?5, ?6, ?7)",
                           &st);
        if (r < 0)
                return r;
        store_bind_id_or_null(st, 1, modem_id);
        sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, (int)parts);
        sqlite3_bind_int(st, 5, complete);
        sqlite3_bind_int64(st, 6, sc_time);
        sqlite3_bind_int64(st, 7, now);
        r = store_step_done(s, st, "insert incoming message");
        if (r == 0)
                *ret_id = sqlite3_last_insert_rowid(s->db);
        return r;
}

/* Binds a multi-part group's key, the same three parameters in every statement that names one:
 * ?1 sender, ?2 reference, ?3 part count. */
static void bind_group(sqlite3_stmt *st, const char *sender, unsigned ref, unsigned total)
{
        sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)ref);
        sqlite3_bind_int(st, 3, (int)total);
}

/* Joins the stored parts of (sender, ref, total) in seq order, marking the missing ones, then
 * deletes them and makes the message. */
static int join_parts(struct store *s, const char *sender, unsigned ref, unsigned total,
                      int64_t now, int64_t *ret_id)
{
        struct text_buf b = { 0 };
        int64_t modem_id = 0, sc_time = 0;
        unsigned expect = 1;
        sqlite3_stmt *st;
        int rc, r;

        r = store_stmt(s, STMT_INBOUND_PARTS,
                       "SELECT seq, text, IFNULL(modem_id, 0), sc_time FROM inbound_parts"
                       " WHERE sender = ?1 AND ref = ?2 AND total = ?3 ORDER BY seq",
                       &st);
        if (r < 0)
                return r;
        bind_group(st, sender, ref, total);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                unsigned seq = (unsigned)sqlite3_column_int(st, 0);
                /* one mark for a run of missing parts: a lone part claiming 255 would
                 * otherwise bring 254 of them */
                if (expect < seq)
                        r = buf_add(&b, MISSING_PART_MARK);
                if (r == 0)
                        r = buf_add(&b, (const char *)sqlite3_column_text(st, 1));
                if (expect == 1) {
                        modem_id = sqlite3_column_int64(st, 2);
                        sc_time = sqlite3_column_int64(st, 3);
                }
                expect = seq + 1;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "read inbound parts");
        sqlite3_reset(st);
        if (r == 0 && expect <= total)
                r = buf_add(&b, MISSING_PART_MARK);
        if (r == 0)
                r = store_stmt(s, STMT_INBOUND_DELETE,
                               "DELETE FROM inbound_parts WHERE sender = ?1 AND ref = ?2"
                               " AND total = ?3",
                               &st);
        if (r == 0) {
                int deleted;
                bind_group(st, sender, ref, total);
                r = store_step_done(s, st, "delete inbound parts");
                deleted = sqlite3_changes(s->db);
                if (r == 0)
                        r = incoming_insert(s, modem_id, sender, b.data ? b.data : "",
                                            (unsigned)deleted, (unsigned)deleted == total, sc_time,
                                            now, ret_id);
        }
        free(b.data);
        return r;
}

static int count_parts(struct store *s, const struct store_inbound_part *p, unsigned *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_INBOUND_COUNT,
                               "SELECT count(*) FROM inbound_parts"
                               " WHERE sender = ?1 AND ref = ?2 AND total = ?3",
                               &st);
        if (r < 0)
                return r;
        bind_group(st, p->sender, p->ref, p->total);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (unsigned)sqlite3_column_int(st, 0);
        else
                r = store_sqlfail(s, rc, "count inbound parts");
        sqlite3_reset(st);
        return r;
}

/* A single-part SMS has no reference to tell a second reading from a new message: the same
 * sender, SC time stamp (to the second, set by the network) and text within the window is the
 * one stored before a crash and read again from the SIM. An unknown time stamp (0) proves
 * nothing. Returns 1 if seen, 0 if not, or a negative errno. */
static int single_seen(struct store *s, const struct store_inbound_part *p, int64_t now)
{
        sqlite3_stmt *st;
        if (p->sc_time == 0)
                return 0;
        int r = store_stmt(s, STMT_INCOMING_DUP,
                           "SELECT 1 FROM incoming WHERE sender = ?1 AND sc_time = ?2"
                           " AND parts = 1 AND text = ?3 AND received >= ?4 LIMIT 1",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, p->sender, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, p->sc_time);
        sqlite3_bind_text(st, 3, p->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now - STORE_INBOUND_DUP_WINDOW_S);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = 1;
        else if (rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "look for a single-part message read before");
        sqlite3_reset(st);
        return r;
}

/* A one-off statement (the caps are checked only for a new multi-part group). */
static int prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
        return rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, "prepare");
}

/* The oldest unfinished group other than p's: of p's sender (by_sender), or of anyone.
 * Returns 1 and fills the key, 0 if there is none, or a negative errno. */
static int oldest_group(struct store *s, const struct store_inbound_part *p, bool by_sender,
                        char sender[static STORE_NUMBER_MAX], unsigned *ret_ref,
                        unsigned *ret_total)
{
        sqlite3_stmt *st;
        int r = prepare(s,
                        "SELECT sender, ref, total FROM inbound_parts"
                        " WHERE (?4 = 0 OR sender = ?1)"
                        " AND NOT (sender = ?1 AND ref = ?2 AND total = ?3)"
                        " GROUP BY sender, ref, total ORDER BY min(received), min(id) LIMIT 1",
                        &st);
        if (r < 0)
                return r;
        bind_group(st, p->sender, p->ref, p->total);
        sqlite3_bind_int(st, 4, by_sender);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                store_column_copy(st, 0, sender, STORE_NUMBER_MAX);
                *ret_ref = (unsigned)sqlite3_column_int(st, 1);
                *ret_total = (unsigned)sqlite3_column_int(st, 2);
                r = 1;
        } else if (rc != SQLITE_DONE) {
                r = store_sqlfail(s, rc, "find the oldest unfinished message");
        }
        sqlite3_finalize(st);
        return r;
}

/* The unfinished groups and their text bytes: of p's sender (by_sender), or of everyone. */
static int pending_of(struct store *s, const struct store_inbound_part *p, bool by_sender,
                      unsigned *ret_groups, int64_t *ret_bytes)
{
        sqlite3_stmt *st;
        int r = prepare(s,
                        "SELECT count(DISTINCT sender || ':' || ref || '/' || total),"
                        " IFNULL(sum(length(CAST(text AS BLOB))), 0)"
                        " FROM inbound_parts WHERE ?2 = 0 OR sender = ?1",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, p->sender, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, by_sender);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret_groups = (unsigned)sqlite3_column_int(st, 0);
                *ret_bytes = sqlite3_column_int64(st, 1);
        } else {
                r = store_sqlfail(s, rc, "count unfinished messages");
        }
        sqlite3_finalize(st);
        return r;
}

/* Keeps the caps of daemon/store-inbound.h after p's part went in: while the sender has more
 * groups or bytes pending than allowed, or everyone more groups, the oldest other group (the
 * sender's own first) becomes an incomplete message, as a time-out would make it. p's own
 * group is never flushed here: it is the one still arriving. */
static int enforce_caps(struct store *s, const struct store_inbound_part *p, int64_t now)
{
        char sender[STORE_NUMBER_MAX];
        unsigned groups, ref = 0, total = 0;
        int64_t bytes, id;
        int r;

        for (;;) {
                bool by_sender = true;
                if ((r = pending_of(s, p, true, &groups, &bytes)) < 0)
                        return r;
                /* pending_of() sets both when it returns 0; its failure is store_sqlfail()'s,
                 * in store.c, whose negative errno the analyzer cannot see from here */
                // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): above
                if (groups <= STORE_INBOUND_GROUPS_PER_SENDER &&
                    bytes <= STORE_INBOUND_BYTES_PER_SENDER) {
                        if ((r = pending_of(s, p, false, &groups, &bytes)) < 0)
                                return r;
                        if (groups <= STORE_INBOUND_GROUPS_MAX)
                                return 0;
                        by_sender = false;
                }
                r = oldest_group(s, p, by_sender, sender, &ref, &total);
                if (r <= 0)
                        return r; /* only p's own group is left: bounded by STORE_PARTS_MAX */
                if ((r = join_parts(s, sender, ref, total, now, &id)) < 0)
                        return r;
        }
}

static int add_part(struct store *s, const struct store_inbound_part *p, int64_t now,
                    int64_t *ret_id)
{
        sqlite3_stmt *st;
        unsigned have = 0;
        int r;

        *ret_id = 0;
        if (p->total == 1) {
                r = single_seen(s, p, now);
                if (r != 0)
                        return r < 0 ? r : 0;
                return incoming_insert(s, p->modem_id, p->sender, p->text, 1, true, p->sc_time, now,
                                       ret_id);
        }
        r = store_stmt(s, STMT_INBOUND_INSERT,
                       "INSERT OR IGNORE INTO inbound_parts (modem_id, sender, ref, total, seq,"
                       " text, sc_time, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       &st);
        if (r < 0)
                return r;
        store_bind_id_or_null(st, 1, p->modem_id);
        sqlite3_bind_text(st, 2, p->sender, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)p->ref);
        sqlite3_bind_int(st, 4, (int)p->total);
        sqlite3_bind_int(st, 5, (int)p->seq);
        sqlite3_bind_text(st, 6, p->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, p->sc_time);
        sqlite3_bind_int64(st, 8, now);
        r = store_step_done(s, st, "store inbound part");
        if (r < 0 || sqlite3_changes(s->db) == 0) /* 0 changes: a duplicate, ignored */
                return r;
        r = enforce_caps(s, p, now);
        if (r == 0)
                r = count_parts(s, p, &have);
        if (r < 0 || have < p->total)
                return r;
        return join_parts(s, p->sender, p->ref, p->total, now, ret_id);
}

int store_inbound_part_add(struct store *s, const struct store_inbound_part *p, int64_t now,
                           int64_t *ret_message_id)
{
        static const char what[] = "add inbound part";
        int64_t id = 0;
        int r;

        if (!p->sender || !*p->sender || strlen(p->sender) >= STORE_NUMBER_MAX || !p->text)
                return store_fail(s, -EINVAL, "%s: sender or text missing", what);
        if (p->total < 1 || p->total > STORE_PARTS_MAX || p->seq < 1 || p->seq > p->total ||
            p->ref > 0xffff)
                return store_fail(s, -EINVAL, "%s: part %u of %u (ref %u) is out of range", what,
                                  p->seq, p->total, p->ref);
        r = store_tx_begin(s, what);
        if (r < 0)
                return r;
        r = add_part(s, p, now, &id);
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        r = store_tx_commit(s, what);
        if (r < 0)
                return r;
        if (ret_message_id)
                *ret_message_id = id;
        return 0;
}

/* Flushes one stale group; returns 1 if there was one, 0 if none is left. */
static int flush_one(struct store *s, int64_t older_than, int64_t now)
{
        char sender[STORE_NUMBER_MAX];
        unsigned ref, total;
        sqlite3_stmt *st;
        int64_t id;
        int rc, r;

        r = store_tx_begin(s, "flush inbound parts");
        if (r < 0)
                return r;
        r = store_stmt(s, STMT_INBOUND_STALE,
                       "SELECT sender, ref, total FROM inbound_parts GROUP BY sender, ref, total"
                       " HAVING min(received) < ?1 LIMIT 1",
                       &st);
        if (r < 0)
                goto fail;
        sqlite3_bind_int64(st, 1, older_than);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                r = rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, "find stale inbound parts");
                sqlite3_reset(st);
                goto fail; /* nothing to flush (or an error): roll back the empty transaction */
        }
        store_column_copy(st, 0, sender, sizeof(sender));
        ref = (unsigned)sqlite3_column_int(st, 1);
        total = (unsigned)sqlite3_column_int(st, 2);
        sqlite3_reset(st);
        r = join_parts(s, sender, ref, total, now, &id);
        if (r < 0)
                goto fail;
        r = store_tx_commit(s, "flush inbound parts");
        return r < 0 ? r : 1;
fail:
        store_tx_rollback(s);
        return r;
}

int store_inbound_flush(struct store *s, int64_t older_than, int64_t now)
{
        int n = 0, r;

        while ((r = flush_one(s, older_than, now)) > 0)
                n++;
        return r < 0 ? r : n;
}

/* Steps a statement of INCOMING_COLUMNS rows into cb. */
#define INCOMING_COLUMNS                                                                           \
        "id, IFNULL(modem_id, 0), IFNULL(contact_id, 0), received, parts, complete, handled,"      \
        " sender, text"

static int each_incoming(struct store *s, sqlite3_stmt *st, store_incoming_cb cb, void *userdata)
{
        int n = 0, rc, r = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_incoming m = {
                        .id = sqlite3_column_int64(st, 0),
                        .modem_id = sqlite3_column_int64(st, 1),
                        .contact_id = sqlite3_column_int64(st, 2),
                        .received = sqlite3_column_int64(st, 3),
                        .parts = (unsigned)sqlite3_column_int(st, 4),
                        .complete = sqlite3_column_int(st, 5) != 0,
                        .handled = sqlite3_column_int(st, 6) != 0,
                        .text = (const char *)sqlite3_column_text(st, 8),
                };
                store_column_copy(st, 7, m.sender, sizeof(m.sender));
                r = cb(&m, userdata);
                if (r != 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "inbox");
        sqlite3_reset(st);
        return r != 0 ? r : n;
}

int store_inbox_list(struct store *s, unsigned limit, bool only_unhandled, store_incoming_cb cb,
                     void *userdata)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_INBOX,
                           "SELECT " INCOMING_COLUMNS " FROM incoming"
                           " WHERE (?2 = 0 OR handled = 0) ORDER BY id DESC LIMIT ?1",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, limit);
        sqlite3_bind_int(st, 2, only_unhandled);
        return each_incoming(s, st, cb, userdata);
}

int store_inbox_unhandled(struct store *s, unsigned limit, store_incoming_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        /* "handled = 0" as in the incoming_unhandled index's WHERE: SQLite then walks that
         * index (schema version 7), not every message ever received. */
        int r = store_stmt(s, STMT_INBOX_UNHANDLED,
                           "SELECT " INCOMING_COLUMNS " FROM incoming"
                           " WHERE handled = 0 ORDER BY id LIMIT ?1",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, limit);
        return each_incoming(s, st, cb, userdata);
}

int store_incoming_mark_handled(struct store *s, int64_t message_id)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_INCOMING_HANDLED,
                           "UPDATE incoming SET handled = 1 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, message_id);
        r = store_step_done(s, st, "mark incoming handled");
        if (r == 0 && sqlite3_changes(s->db) == 0)
                r = store_fail(s, -ENOENT, "mark incoming handled: no message %lld",
                               (long long)message_id);
        return r;
}
