/* Outgoing messages: queueing, picking what is due, the exactly-once part transitions,
 * delivery reports and the outbox listing. */
#include "daemon/store-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const part_state_names[STORE_PART_STATE_COUNT] = {
        [STORE_PART_QUEUED] = "queued",       [STORE_PART_SENDING] = "sending",
        [STORE_PART_SENT] = "sent",           [STORE_PART_RETRY] = "retry",
        [STORE_PART_FAILED] = "failed",       [STORE_PART_UNKNOWN] = "unknown",
        [STORE_PART_DELIVERED] = "delivered", [STORE_PART_UNDELIVERABLE] = "undeliverable",
};

static const char *const encoding_names[] = {
        [STORE_ENC_GSM7] = "gsm7",
        [STORE_ENC_UCS2] = "ucs2",
        [STORE_ENC_8BIT] = "8bit",
};

const char *store_part_state_name(enum store_part_state st)
{
        return (unsigned)st < STORE_PART_STATE_COUNT ? part_state_names[st] : "?";
}

int store_part_state_from_name(const char *name, enum store_part_state *ret_state)
{
        for (int i = 0; i < STORE_PART_STATE_COUNT; i++) {
                if (name && strcmp(name, part_state_names[i]) == 0) {
                        *ret_state = (enum store_part_state)i;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *store_encoding_name(enum store_encoding e)
{
        return (unsigned)e <= STORE_ENC_8BIT ? encoding_names[e] : "?";
}

int store_encoding_from_name(const char *name, enum store_encoding *ret)
{
        for (int i = 0; i <= STORE_ENC_8BIT; i++) {
                if (name && strcmp(name, encoding_names[i]) == 0) {
                        *ret = (enum store_encoding)i;
                        return 0;
                }
        }
        return -EINVAL;
}

static bool pdu_hex_ok(const char *pdu)
{
        size_t n = strlen(pdu);

        if (n == 0 || n % 2 || n >= STORE_PDU_HEX_MAX)
                return false;
        return strspn(pdu, "0123456789abcdefABCDEF") == n;
}

static int check_new(struct store *s, const struct store_outgoing_new *m)
{
        if (!m->recipient || !*m->recipient || strlen(m->recipient) >= STORE_NUMBER_MAX)
                return store_fail(s, -EINVAL, "queue message: recipient missing or too long");
        if (!m->text || !*m->text || strlen(m->text) >= STORE_TEXT_MAX)
                return store_fail(s, -EINVAL, "queue message: text empty or over %d bytes",
                                  STORE_TEXT_MAX - 1);
        if (m->part_count < 1 || m->part_count > STORE_PARTS_MAX)
                return store_fail(s, -EINVAL, "queue message: %u parts (1..%d)", m->part_count,
                                  STORE_PARTS_MAX);
        if ((unsigned)m->encoding > STORE_ENC_8BIT)
                return store_fail(s, -EINVAL, "queue message: bad encoding");
        if (m->reminder && strlen(m->reminder) > STORE_RULE_NAME_MAX)
                return store_fail(s, -EINVAL, "queue message: reminder name over %d bytes",
                                  STORE_RULE_NAME_MAX);
        if (m->rule_set && strlen(m->rule_set) > STORE_RULE_SET_MAX)
                return store_fail(s, -EINVAL, "queue message: rule set hash over %d bytes",
                                  STORE_RULE_SET_MAX);
        if (m->pdus && m->part_count > 1)
                return store_fail(s, -EINVAL,
                                  "queue message: PDUs given for a multi-part message (its "
                                  "reference is the store's, encoded at send time)");
        for (unsigned i = 0; m->pdus && i < m->part_count; i++)
                if (!m->pdus[i] || !pdu_hex_ok(m->pdus[i]))
                        return store_fail(s, -EINVAL, "queue message: PDU of part %u is not hex",
                                          i + 1);
        return 0;
}

/* Moves the recipient's reference counter on and returns the new value. A recipient without
 * a counter starts after the last reference used for it (a database from before the
 * counter), else at 0. Inside the queueing transaction. */
static int next_ref(struct store *s, const char *recipient, unsigned *ret_ref)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_CONCAT_REF_NEXT,
                           "INSERT INTO concat_refs (recipient, last_ref) VALUES (?1,"
                           " coalesce((SELECT (concat_ref + 1) % ?2 FROM outgoing"
                           " WHERE recipient = ?1 AND part_count > 1 ORDER BY id DESC LIMIT 1),"
                           " 0)) ON CONFLICT (recipient) DO UPDATE"
                           " SET last_ref = (last_ref + 1) % ?2 RETURNING last_ref",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, STORE_CONCAT_REFS);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret_ref = (unsigned)sqlite3_column_int(st, 0);
        else
                r = store_sqlfail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc,
                                  "count the recipient's concatenation reference");
        sqlite3_reset(st);
        return r;
}

/* Inserts parts 1..count of message `id`, queued from not_before; pdus (borrowed) holds one
 * pre-encoded PDU per part or is NULL (encoded at send time). Runs inside the caller's
 * transaction. */
static int insert_parts(struct store *s, int64_t id, unsigned count, const char *const *pdus,
                        int64_t not_before, int64_t now)
{
        sqlite3_stmt *st;
        int r = store_stmt(
                s, STMT_PART_INSERT,
                "INSERT INTO outgoing_parts (message_id, seq, pdu, next_attempt, updated)"
                " VALUES (?1, ?2, ?3, ?4, ?5)",
                &st);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < count; i++) {
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int(st, 2, (int)i + 1);
                store_bind_text_or_null(st, 3, pdus ? pdus[i] : NULL);
                sqlite3_bind_int64(st, 4, not_before);
                sqlite3_bind_int64(st, 5, now);
                r = store_step_done(s, st, "queue part");
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_queue_message(struct store *s, const struct store_outgoing_new *m, int64_t now,
                        int64_t *ret_id)
{
        unsigned ref = 0;
        sqlite3_stmt *st;
        int64_t id;
        int r;

        r = check_new(s, m);
        if (r < 0)
                return r;
        r = store_tx_begin(s, "queue message");
        if (r < 0)
                return r;
        if (m->part_count > 1) {
                r = next_ref(s, m->recipient, &ref);
                if (r < 0)
                        goto fail;
        }
        r = store_stmt(s, STMT_MSG_INSERT,
                       "INSERT INTO outgoing (recipient, contact_id, text, encoding, part_count,"
                       " concat_ref, priority, not_before, created, reminder, rule_set)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                       &st);
        if (r < 0)
                goto fail;
        sqlite3_bind_text(st, 1, m->recipient, -1, SQLITE_STATIC);
        store_bind_id_or_null(st, 2, m->contact_id);
        sqlite3_bind_text(st, 3, m->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, store_encoding_name(m->encoding), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, (int)m->part_count);
        sqlite3_bind_int(st, 6, (int)ref);
        sqlite3_bind_int(st, 7, m->priority);
        sqlite3_bind_int64(st, 8, m->not_before);
        sqlite3_bind_int64(st, 9, now);
        store_bind_text_or_null(st, 10, m->reminder);
        store_bind_text_or_null(st, 11, m->rule_set);
        r = store_step_done(s, st, "queue message");
        if (r < 0)
                goto fail;
        id = sqlite3_last_insert_rowid(s->db);

        r = insert_parts(s, id, m->part_count, m->pdus, m->not_before, now);
        if (r < 0)
                goto fail;
        r = store_tx_commit(s, "queue message");
        if (r < 0)
                return r;
        *ret_id = id;
        return 0;
fail:
        store_tx_rollback(s);
        return r;
}

/* ---- the messages' outcome events (docs/upload.md "Message events") ----
 *
 * One event per message, written by the statement that changes the part's state, inside its
 * transaction, so that none is lost or doubled: sms.sent when the last part is submitted,
 * sms.delivered when the last part is reported delivered, sms.failed when the first part
 * fails for good or is reported undeliverable. Each is an INSERT ... SELECT whose WHERE is
 * that condition, run after the part's UPDATE: the terminal states never move back, so the
 * condition turns true once. The payload keys are those of batch.c's whitelist; json_patch
 * drops a key whose value is NULL (RFC 7396), so a message no rule queued has no reminder. */

#define EVENT_INSERT                                                                               \
        "INSERT INTO events (time, clock_trusted, type, contact_id, payload) SELECT ?2, ?3, "
#define EVENT_FROM " FROM outgoing_parts p JOIN outgoing o ON o.id = p.message_id WHERE p.id = ?1"
/* The keys that may be NULL (no modem, no rule): json_patch leaves them out then. */
#define EVENT_NULLABLE_KEYS                                                                        \
        " json_object('modem_id', p.modem_id, 'reminder', o.reminder, 'rule_set', o.rule_set)"

/* Whether no other part of the message is failed or undeliverable: it had not failed. */
#define EVENT_FIRST_FAILURE                                                                        \
        " AND NOT EXISTS (SELECT 1 FROM outgoing_parts q WHERE q.message_id = p.message_id"        \
        " AND q.id <> p.id AND q.state IN ('failed', 'undeliverable'))"

/* Every part was taken by the SMSC (a part whose outcome is unknown was not). */
static const char event_sent_sql[] =
        EVENT_INSERT "'sms.sent', o.contact_id, json_patch(json_object('message_id', o.id,"
                     " 'parts', o.part_count, 'encoding', o.encoding,"
                     " 'attempts', (SELECT sum(q.attempts) FROM outgoing_parts q"
                     " WHERE q.message_id = o.id)), " EVENT_NULLABLE_KEYS ")" EVENT_FROM
                     " AND NOT EXISTS (SELECT 1 FROM outgoing_parts q WHERE q.message_id = o.id"
                     " AND q.state NOT IN ('sent', 'delivered', 'undeliverable'))";

/* The reason as a category: the part never reached a modem in its last step (another part
 * failed, the text cannot be encoded: daemon/bank.c fail_unsent), the bank gave up after
 * its attempts (daemon/bank-result.c on_retry writes "gave up after N attempts: ..."), or
 * the network refused it; ?4 overrides (a status report's "undeliverable"). */
static const char event_failed_sql[] = EVENT_INSERT
        "'sms.failed', o.contact_id, json_patch(json_object('message_id', o.id,"
        " 'part', p.seq, 'parts', o.part_count,"
        " 'attempts', p.attempts, 'reason', coalesce(?4, CASE"
        " WHEN p.modem_id IS NULL THEN 'not_sent'"
        " WHEN p.error LIKE 'gave up after %' THEN 'gave_up'"
        " ELSE 'refused' END)), " EVENT_NULLABLE_KEYS ")" EVENT_FROM EVENT_FIRST_FAILURE;

/* Every part delivered (?4: the part was not delivered before this report). */
static const char event_delivered_sql[] =
        EVENT_INSERT "'sms.delivered', o.contact_id, json_patch(json_object('message_id', o.id,"
                     " 'parts', o.part_count, 'status',"
                     " p.report_status), " EVENT_NULLABLE_KEYS ")" EVENT_FROM " AND ?4"
                     " AND NOT EXISTS (SELECT 1 FROM outgoing_parts q WHERE q.message_id = o.id"
                     " AND q.state <> 'delivered')";

void store_set_clock_trusted(struct store *s, bool trusted)
{
        s->clock_untrusted = !trusted;
}

bool store_clock_trusted(const struct store *s)
{
        return !s->clock_untrusted;
}

/* Runs one of the statements above for part_id inside the caller's transaction; arg4 is
 * bound to ?4 (NULL or a text for failed, a flag for delivered). */
static int message_event(struct store *s, enum store_stmt_id id, const char *sql, int64_t part_id,
                         int64_t now, const char *text4, int flag4)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, id, sql, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, part_id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int(st, 3, !s->clock_untrusted);
        if (text4)
                sqlite3_bind_text(st, 4, text4, -1, SQLITE_STATIC);
        else if (id == STMT_EVENT_MSG_DELIVERED)
                sqlite3_bind_int(st, 4, flag4);
        return store_step_done(s, st, "write the message's event");
}

/* The pin: the modem of the message's parts that went out or may be going out now (the
 * first by seq), and the latest time one did. "sending" counts: its AT+CMGS may still be
 * answered "+CMGS: <mr>" after its modem left READY (a re-init keeps the command on the
 * line: at/modem.c stop_everything), and a part sent meanwhile from another SIM would never
 * join it on the phone (issue 4, the split message of the soak). */
#define PIN_STATES "('sending', 'sent', 'delivered', 'undeliverable', 'unknown')"
#define PART_COLUMNS                                                                               \
        "p.id, p.message_id, p.seq, o.part_count, o.concat_ref, o.encoding, p.state,"              \
        " p.attempts, IFNULL(p.modem_id, 0), o.priority, o.recipient, o.text, p.pdu,"              \
        " IFNULL((SELECT q.modem_id FROM outgoing_parts q WHERE q.message_id = p.message_id"       \
        "  AND q.modem_id IS NOT NULL AND q.state IN " PIN_STATES " ORDER BY q.seq LIMIT 1), 0),"  \
        " IFNULL((SELECT max(IFNULL(q.sent_at, q.updated)) FROM outgoing_parts q"                  \
        "  WHERE q.message_id = p.message_id AND q.modem_id IS NOT NULL AND q.state "              \
        "IN " PIN_STATES "), 0)"

static void read_part(sqlite3_stmt *st, struct store_part *p)
{
        memset(p, 0, sizeof(*p));
        p->part_id = sqlite3_column_int64(st, 0);
        p->message_id = sqlite3_column_int64(st, 1);
        p->seq = (unsigned)sqlite3_column_int(st, 2);
        p->part_count = (unsigned)sqlite3_column_int(st, 3);
        p->concat_ref = (unsigned)sqlite3_column_int(st, 4);
        store_encoding_from_name((const char *)sqlite3_column_text(st, 5), &p->encoding);
        store_part_state_from_name((const char *)sqlite3_column_text(st, 6), &p->state);
        p->attempts = (unsigned)sqlite3_column_int(st, 7);
        p->modem_id = sqlite3_column_int64(st, 8);
        p->priority = sqlite3_column_int(st, 9);
        store_column_copy(st, 10, p->recipient, sizeof(p->recipient));
        p->text = (const char *)sqlite3_column_text(st, 11);
        p->pdu = (const char *)sqlite3_column_text(st, 12);
        p->pinned_modem = sqlite3_column_int64(st, 13);
        p->pinned_at = sqlite3_column_int64(st, 14);
}

/* Steps a statement of PART_COLUMNS rows into cb. */
static int each_part(struct store *s, sqlite3_stmt *st, store_part_cb cb, void *userdata,
                     const char *what)
{
        int n = 0, rc, r = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_part p;
                read_part(st, &p);
                r = cb(&p, userdata);
                if (r != 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, what);
        sqlite3_reset(st);
        return r != 0 ? r : n;
}

int store_next_parts(struct store *s, int64_t now, unsigned limit, store_part_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_NEXT_PARTS,
                           "SELECT " PART_COLUMNS " FROM outgoing_parts p"
                           " JOIN outgoing o ON o.id = p.message_id"
                           " WHERE p.state IN ('queued', 'retry') AND p.next_attempt <= ?1"
                           " ORDER BY o.priority DESC, o.id, p.seq LIMIT ?2",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, limit);
        return each_part(s, st, cb, userdata, "next parts");
}

int store_outbox_list(struct store *s, unsigned limit, store_part_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_OUTBOX,
                           "SELECT " PART_COLUMNS " FROM outgoing_parts p"
                           " JOIN outgoing o ON o.id = p.message_id"
                           " ORDER BY o.id DESC, p.seq LIMIT ?1",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, limit);
        return each_part(s, st, cb, userdata, "outbox");
}

int store_parts_by_state(struct store *s, enum store_part_state state, unsigned limit,
                         store_part_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int r;

        if ((unsigned)state >= STORE_PART_STATE_COUNT)
                return store_fail(s, -EINVAL, "parts by state: no state %d", (int)state);
        r = store_stmt(s, STMT_PARTS_BY_STATE,
                       "SELECT " PART_COLUMNS " FROM outgoing_parts p"
                       " JOIN outgoing o ON o.id = p.message_id"
                       " WHERE p.state = ?1 ORDER BY p.message_id, p.seq LIMIT ?2",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, store_part_state_name(state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, limit);
        return each_part(s, st, cb, userdata, "parts by state");
}

int store_part_get(struct store *s, int64_t part_id, struct store_part *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_PART_GET,
                               "SELECT " PART_COLUMNS " FROM outgoing_parts p"
                               " JOIN outgoing o ON o.id = p.message_id WHERE p.id = ?1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, part_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                read_part(st, ret);
                ret->text = ret->pdu = NULL;
        } else if (rc == SQLITE_DONE) {
                r = store_fail(s, -ENOENT, "part %lld: no such part", (long long)part_id);
        } else {
                r = store_sqlfail(s, rc, "get part");
        }
        sqlite3_reset(st);
        return r;
}

/* After an UPDATE guarded by the required state changed nothing: says why. */
static int explain_no_change(struct store *s, int64_t part_id, const char *what)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_PART_STATE, "SELECT state FROM outgoing_parts WHERE id = ?1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, part_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = store_fail(s, -ESTALE, "%s: part %lld is %s", what, (long long)part_id,
                               (const char *)sqlite3_column_text(st, 0));
        else if (rc == SQLITE_DONE)
                r = store_fail(s, -ENOENT, "%s: no part %lld", what, (long long)part_id);
        else
                r = store_sqlfail(s, rc, what);
        sqlite3_reset(st);
        return r;
}

/* Steps a transition guarded by the state it requires, writes the message's event if the
 * transition has one (event_sql, else NULL), and commits the transaction the caller began;
 * nothing changed means the part was not in that state (or does not exist). */
static int run_transition_event(struct store *s, sqlite3_stmt *st, int64_t part_id,
                                const char *what, enum store_stmt_id event_id,
                                const char *event_sql, int64_t now)
{
        int r = store_step_done(s, st, what);

        if (r == 0 && sqlite3_changes(s->db) == 0)
                r = explain_no_change(s, part_id, what);
        if (r == 0 && event_sql)
                r = message_event(s, event_id, event_sql, part_id, now, NULL, 0);
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        return store_tx_commit(s, what);
}

static int run_transition(struct store *s, sqlite3_stmt *st, int64_t part_id, const char *what)
{
        return run_transition_event(s, st, part_id, what, STMT_COUNT, NULL, 0);
}

int store_part_sending(struct store *s, int64_t part_id, int64_t modem_id, int64_t now)
{
        static const char what[] = "mark part sending";
        sqlite3_stmt *st;
        int r = store_tx_begin(s, what);

        if (r < 0)
                return r;
        r = store_stmt(s, STMT_PART_SENDING,
                       "UPDATE outgoing_parts SET state = 'sending', modem_id = ?2,"
                       " attempts = attempts + 1, updated = ?3"
                       " WHERE id = ?1 AND state IN ('queued', 'retry')",
                       &st);
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        sqlite3_bind_int64(st, 1, part_id);
        store_bind_id_or_null(st, 2, modem_id);
        sqlite3_bind_int64(st, 3, now);
        return run_transition(s, st, part_id, what);
}

int store_part_sent(struct store *s, int64_t part_id, unsigned mr, int64_t now)
{
        static const char what[] = "mark part sent";
        sqlite3_stmt *st;
        int r;

        if (mr > 255)
                return store_fail(s, -EINVAL, "%s: TP-MR %u is not an octet", what, mr);
        r = store_tx_begin(s, what);
        if (r < 0)
                return r;
        r = store_stmt(s, STMT_PART_SENT,
                       "UPDATE outgoing_parts SET state = 'sent', mr = ?2, sent_at = ?3,"
                       " error = NULL, updated = ?3 WHERE id = ?1 AND state = 'sending'",
                       &st);
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        sqlite3_bind_int64(st, 1, part_id);
        sqlite3_bind_int(st, 2, (int)mr);
        sqlite3_bind_int64(st, 3, now);
        return run_transition_event(s, st, part_id, what, STMT_EVENT_MSG_SENT, event_sent_sql, now);
}

static int end_attempt(struct store *s, enum store_stmt_id id, const char *sql, int64_t part_id,
                       int64_t next_attempt, const char *error, int64_t now, const char *what,
                       const char *event_sql)
{
        char err[STORE_ERROR_TEXT_MAX];
        sqlite3_stmt *st;
        int r = store_tx_begin(s, what);

        if (r < 0)
                return r;
        r = store_stmt(s, id, sql, &st);
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        snprintf(err, sizeof(err), "%s", error ? error : "");
        sqlite3_bind_int64(st, 1, part_id);
        store_bind_text_or_null(st, 2, err);
        sqlite3_bind_int64(st, 3, now);
        if (sqlite3_bind_parameter_count(st) >= 4)
                sqlite3_bind_int64(st, 4, next_attempt);
        return run_transition_event(s, st, part_id, what, STMT_EVENT_MSG_FAILED, event_sql, now);
}

int store_part_failed(struct store *s, int64_t part_id, const char *error, int64_t now)
{
        return end_attempt(s, STMT_PART_FAILED,
                           "UPDATE outgoing_parts SET state = 'failed', error = ?2, updated = ?3"
                           " WHERE id = ?1 AND state = 'sending'",
                           part_id, 0, error, now, "mark part failed", event_failed_sql);
}

int store_part_retry(struct store *s, int64_t part_id, int64_t next_attempt, const char *error,
                     int64_t now)
{
        return end_attempt(s, STMT_PART_RETRY,
                           "UPDATE outgoing_parts SET state = 'retry', error = ?2, updated = ?3,"
                           " next_attempt = ?4 WHERE id = ?1 AND state = 'sending'",
                           part_id, next_attempt, error, now, "mark part for retry", NULL);
}

/* The modem's answer left the outcome open (docs/store.md "Exactly once", rule 4, reached
 * without a crash): like the settling at open, but for one part and with the reason. */
int store_part_unknown(struct store *s, int64_t part_id, const char *error, int64_t now)
{
        return end_attempt(s, STMT_PART_UNKNOWN,
                           "UPDATE outgoing_parts SET state = 'unknown', error = ?2, updated = ?3"
                           " WHERE id = ?1 AND state = 'sending'",
                           part_id, 0, error, now, "mark part unknown", NULL);
}

/* TS 23.040 9.2.3.15: 0x00-0x1F completed, 0x20-0x3F still trying, 0x40-0x7F failed (and the
 * reserved values above, which 9.2.3.15 says to treat as "service rejected"). */
static const char *report_state(unsigned status)
{
        if (status < 0x20)
                return "delivered";
        if (status < 0x40)
                return NULL;
        return "undeliverable";
}

static int report_find(struct store *s, int64_t modem_id, unsigned mr, const char *recipient,
                       int64_t time, int64_t *ret_part, enum store_part_state *ret_state)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_REPORT_FIND,
                               "SELECT p.id, p.state FROM outgoing_parts p"
                               " JOIN outgoing o ON o.id = p.message_id"
                               " WHERE p.mr = ?1 AND o.recipient = ?2"
                               " AND (?3 = 0 OR p.modem_id = ?3)"
                               " AND p.state IN ('sent', 'delivered', 'undeliverable')"
                               " AND p.sent_at BETWEEN ?4 AND ?5"
                               " ORDER BY p.sent_at DESC, p.id DESC LIMIT 1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, (int)mr);
        sqlite3_bind_text(st, 2, recipient, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, modem_id);
        sqlite3_bind_int64(st, 4, time - STORE_REPORT_WINDOW_S);
        sqlite3_bind_int64(st, 5, time + STORE_REPORT_AHEAD_S);
        rc = sqlite3_step(st);
        *ret_part = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        if (rc == SQLITE_ROW)
                store_part_state_from_name((const char *)sqlite3_column_text(st, 1), ret_state);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "match report");
        sqlite3_reset(st);
        return r;
}

int store_report_match(struct store *s, int64_t modem_id, unsigned mr, const char *recipient,
                       unsigned status, int64_t time, int64_t *ret_part_id)
{
        static const char what[] = "record status report";
        enum store_part_state before = STORE_PART_SENT;
        const char *after = report_state(status);
        int64_t part = 0;
        sqlite3_stmt *st;
        int r;

        if (mr > 255 || status > 255 || !recipient || !*recipient)
                return store_fail(s, -EINVAL, "%s: bad TP-MR, TP-ST or recipient", what);
        r = store_tx_begin(s, what);
        if (r < 0)
                return r;
        r = report_find(s, modem_id, mr, recipient, time, &part, &before);
        if (r == 0 && part)
                r = store_stmt(s, STMT_REPORT_APPLY,
                               "UPDATE outgoing_parts SET state = IFNULL(?2, state),"
                               " report_status = ?3, reported_at = ?4, updated = ?4"
                               " WHERE id = ?1",
                               &st);
        if (r == 0 && part) {
                sqlite3_bind_int64(st, 1, part);
                store_bind_text_or_null(st, 2, after);
                sqlite3_bind_int(st, 3, (int)status);
                sqlite3_bind_int64(st, 4, time);
                r = store_step_done(s, st, what);
        }
        /* A repeated report (the same part already in that state) writes no second event. */
        if (r == 0 && part && after && strcmp(after, "delivered") == 0)
                r = message_event(s, STMT_EVENT_MSG_DELIVERED, event_delivered_sql, part, time,
                                  NULL, before != STORE_PART_DELIVERED);
        if (r == 0 && part && after && strcmp(after, "undeliverable") == 0 &&
            before != STORE_PART_UNDELIVERABLE)
                r = message_event(s, STMT_EVENT_MSG_FAILED, event_failed_sql, part, time,
                                  "undeliverable", 0);
        if (r == 0)
                r = store_stmt(s, STMT_REPORT_INSERT,
                               "INSERT INTO reports (modem_id, mr, recipient, status, time,"
                               " part_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               &st);
        if (r == 0) {
                store_bind_id_or_null(st, 1, modem_id);
                sqlite3_bind_int(st, 2, (int)mr);
                sqlite3_bind_text(st, 3, recipient, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 4, (int)status);
                sqlite3_bind_int64(st, 5, time);
                store_bind_id_or_null(st, 6, part);
                r = store_step_done(s, st, what);
        }
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        r = store_tx_commit(s, what);
        if (r < 0)
                return r;
        if (ret_part_id)
                *ret_part_id = part;
        return 0;
}

int store_message_resend(struct store *s, int64_t message_id, const char *why, int64_t now,
                         int64_t *ret_new_id)
{
        sqlite3_stmt *st;
        unsigned ref = 0, count = 0;
        char recipient[STORE_NUMBER_MAX];
        int64_t id;
        int r, rc;

        r = store_tx_begin(s, "resend message");
        if (r < 0)
                return r;
        r = store_stmt(s, STMT_MSG_RESEND_FAIL,
                       "UPDATE outgoing_parts SET state = 'failed', error = ?2, updated = ?3"
                       " WHERE message_id = ?1 AND state IN ('queued', 'retry')",
                       &st);
        if (r < 0)
                goto fail;
        sqlite3_bind_int64(st, 1, message_id);
        sqlite3_bind_text(st, 2, why ? why : "resent whole", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        r = store_step_done(s, st, "fail the parts of a message resent");
        if (r < 0)
                goto fail;
        if (sqlite3_changes(s->db) == 0) {
                r = store_fail(s, -ENOENT, "resend message %lld: no part left to send",
                               (long long)message_id);
                goto fail;
        }
        r = store_stmt(s, STMT_MSG_RESEND_PARTS,
                       "SELECT recipient, part_count FROM outgoing WHERE id = ?1", &st);
        if (r < 0)
                goto fail;
        sqlite3_bind_int64(st, 1, message_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                store_column_copy(st, 0, recipient, sizeof(recipient));
                count = (unsigned)sqlite3_column_int(st, 1);
        } else {
                r = store_sqlfail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "resend message");
        }
        sqlite3_reset(st);
        if (r < 0)
                goto fail;
        if (count > 1) {
                r = next_ref(s, recipient, &ref);
                if (r < 0)
                        goto fail;
        }
        r = store_stmt(s, STMT_MSG_RESEND_COPY,
                       "INSERT INTO outgoing (recipient, contact_id, text, encoding, part_count,"
                       " concat_ref, priority, not_before, created, reminder, rule_set)"
                       " SELECT recipient, contact_id, text, encoding, part_count, ?2, priority,"
                       " 0, ?3, reminder, rule_set FROM outgoing WHERE id = ?1",
                       &st);
        if (r < 0)
                goto fail;
        sqlite3_bind_int64(st, 1, message_id);
        sqlite3_bind_int(st, 2, (int)ref);
        sqlite3_bind_int64(st, 3, now);
        r = store_step_done(s, st, "resend message");
        if (r < 0)
                goto fail;
        id = sqlite3_last_insert_rowid(s->db);
        /* no PDUs: encoded at send time with the new reference */
        r = insert_parts(s, id, count, NULL, 0, now);
        if (r < 0)
                goto fail;
        r = store_tx_commit(s, "resend message");
        if (r < 0)
                return r;
        *ret_new_id = id;
        return 0;
fail:
        store_tx_rollback(s);
        return r;
}
