/* The store's smaller tables: modems, the event log, contacts, settings, and the counts that
 * `puentectl status` shows. */
#include "daemon/store-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool too_long(const char *v, size_t max)
{
        return v && strlen(v) >= max;
}

int store_modem_upsert(struct store *s, const struct store_modem_identity *id, const char *device,
                       int64_t now, int64_t *ret_modem_id)
{
        const char *f[] = { id->iccid, id->imsi, id->maker, id->model, id->revision };
        sqlite3_stmt *st;
        int rc, r;

        if (!id->imei || !*id->imei || too_long(id->imei, STORE_IDENT_MAX) ||
            too_long(device, STORE_DEVICE_MAX))
                return store_fail(s, -EINVAL, "modem upsert: IMEI missing or a field too long");
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
                if (too_long(f[i], STORE_IDENT_MAX))
                        return store_fail(s, -EINVAL, "modem upsert: identity field too long");
        /* An unknown field ("" or NULL) keeps what was known: a modem whose SIM is not ready
         * yet still answers AT+CGSN but not AT+CCID. */
        r = store_stmt(s, STMT_MODEM_UPSERT,
                       "INSERT INTO modems (imei, iccid, imsi, maker, model, revision, device,"
                       " first_seen, last_seen) VALUES (?1, IFNULL(?2, ''), IFNULL(?3, ''),"
                       " IFNULL(?4, ''), IFNULL(?5, ''), IFNULL(?6, ''), IFNULL(?7, ''), ?8, ?8)"
                       " ON CONFLICT (imei) DO UPDATE SET"
                       " iccid = IFNULL(?2, iccid), imsi = IFNULL(?3, imsi),"
                       " maker = IFNULL(?4, maker), model = IFNULL(?5, model),"
                       " revision = IFNULL(?6, revision), device = IFNULL(?7, device),"
                       " last_seen = ?8 RETURNING id",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id->imei, -1, SQLITE_STATIC);
        for (int i = 0; i < 5; i++)
                store_bind_text_or_null(st, 2 + i, f[i]);
        store_bind_text_or_null(st, 7, device);
        sqlite3_bind_int64(st, 8, now);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret_modem_id = sqlite3_column_int64(st, 0);
                rc = sqlite3_step(st); /* finish the statement so it commits */
        }
        if (rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "modem upsert");
        sqlite3_reset(st);
        return r;
}

static int modem_update(struct store *s, sqlite3_stmt *st, int64_t modem_id, const char *what)
{
        int r = store_step_done(s, st, what);

        if (r == 0 && sqlite3_changes(s->db) == 0)
                r = store_fail(s, -ENOENT, "%s: no modem %lld", what, (long long)modem_id);
        return r;
}

int store_modem_count_sent(struct store *s, int64_t modem_id, uint32_t day,
                           unsigned *ret_sent_today)
{
        sqlite3_stmt *st;
        unsigned n = 0;
        int rc;
        /* No RETURNING: with it SQLite stages the row in a temporary table (about 40k
         * instructions a part, docs/benchmarks.md); the read back is one rowid lookup. */
        int r = store_stmt(s, STMT_MODEM_SENT,
                           "UPDATE modems SET sent_today = CASE WHEN sent_day = ?2"
                           " THEN sent_today + 1 ELSE 1 END, sent_day = ?2 WHERE id = ?1",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, modem_id);
        sqlite3_bind_int64(st, 2, day);
        r = modem_update(s, st, modem_id, "count sent");
        if (r < 0)
                return r;
        r = store_stmt(s, STMT_MODEM_SENT_GET, "SELECT sent_today FROM modems WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, modem_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                n = (unsigned)sqlite3_column_int(st, 0);
        else
                r = store_sqlfail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "count sent");
        sqlite3_reset(st);
        if (r == 0 && ret_sent_today)
                *ret_sent_today = n;
        return r;
}

int store_modem_count_error(struct store *s, int64_t modem_id)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_MODEM_ERROR,
                           "UPDATE modems SET errors = errors + 1 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, modem_id);
        return modem_update(s, st, modem_id, "count modem error");
}

int store_modem_set_state(struct store *s, int64_t modem_id, const char *state, const char *health)
{
        sqlite3_stmt *st;
        int r;

        if (too_long(state, STORE_STATE_TEXT_MAX) || too_long(health, STORE_STATE_TEXT_MAX))
                return store_fail(s, -EINVAL, "modem state: text too long");
        r = store_stmt(s, STMT_MODEM_STATE,
                       "UPDATE modems SET state = IFNULL(?2, ''), health = IFNULL(?3, '')"
                       " WHERE id = ?1",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, modem_id);
        store_bind_text_or_null(st, 2, state);
        store_bind_text_or_null(st, 3, health);
        return modem_update(s, st, modem_id, "set modem state");
}

#define MODEM_COLUMNS                                                                              \
        "id, imei, iccid, imsi, maker, model, revision, device, state, health, sent_day,"          \
        " sent_today, errors, last_seen"

static void read_modem(sqlite3_stmt *st, uint32_t day, struct store_modem *ret)
{
        struct store_modem m = { .id = sqlite3_column_int64(st, 0) };

        store_column_copy(st, 1, m.imei, sizeof(m.imei));
        store_column_copy(st, 2, m.iccid, sizeof(m.iccid));
        store_column_copy(st, 3, m.imsi, sizeof(m.imsi));
        store_column_copy(st, 4, m.maker, sizeof(m.maker));
        store_column_copy(st, 5, m.model, sizeof(m.model));
        store_column_copy(st, 6, m.revision, sizeof(m.revision));
        store_column_copy(st, 7, m.device, sizeof(m.device));
        store_column_copy(st, 8, m.state, sizeof(m.state));
        store_column_copy(st, 9, m.health, sizeof(m.health));
        m.sent_day = (uint32_t)sqlite3_column_int64(st, 10);
        m.sent_today = (unsigned)sqlite3_column_int(st, 11);
        m.errors = (unsigned)sqlite3_column_int(st, 12);
        m.last_seen = sqlite3_column_int64(st, 13);
        if (day != 0 && m.sent_day != day)
                m.sent_today = 0;
        *ret = m;
}

int store_modem_get(struct store *s, int64_t modem_id, uint32_t day, struct store_modem *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_MODEM_GET,
                               "SELECT " MODEM_COLUMNS " FROM modems WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, modem_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                read_modem(st, day, ret);
        else if (rc == SQLITE_DONE)
                r = store_fail(s, -ENOENT, "get modem: no modem %lld", (long long)modem_id);
        else
                r = store_sqlfail(s, rc, "get modem");
        sqlite3_reset(st);
        return r;
}

int store_modem_list(struct store *s, uint32_t day, store_modem_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int n = 0, rc,
            r = store_stmt(s, STMT_MODEM_LIST, "SELECT " MODEM_COLUMNS " FROM modems ORDER BY id",
                           &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_modem m;
                read_modem(st, day, &m);
                r = cb(&m, userdata);
                if (r != 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "modem list");
        sqlite3_reset(st);
        return r != 0 ? r : n;
}

int store_event_append(struct store *s, const struct store_event *ev, int64_t *ret_seq)
{
        sqlite3_stmt *st;
        int r;

        if (!ev->type || !*ev->type || strlen(ev->type) >= STORE_EVENT_TYPE_MAX)
                return store_fail(s, -EINVAL, "append event: type missing or too long");
        r = store_stmt(s, STMT_EVENT_INSERT,
                       "INSERT INTO events (time, clock_trusted, type, contact_id, payload)"
                       " VALUES (?1, ?2, ?3, ?4,"
                       " CASE WHEN json_valid(?5) THEN json(?5) ELSE ?5 END)",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, ev->time);
        sqlite3_bind_int(st, 2, ev->clock_trusted);
        sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
        store_bind_id_or_null(st, 4, ev->contact_id);
        sqlite3_bind_text(st, 5, ev->json ? ev->json : "{}", -1, SQLITE_STATIC);
        r = store_step_done(s, st, "append event");
        if (r == 0 && ret_seq)
                *ret_seq = sqlite3_last_insert_rowid(s->db);
        return r;
}

int store_events_after(struct store *s, int64_t after_seq, unsigned limit, store_event_cb cb,
                       void *userdata)
{
        sqlite3_stmt *st;
        int n = 0, rc,
            r = store_stmt(s, STMT_EVENTS_AFTER,
                           "SELECT seq, time, IFNULL(contact_id, 0), clock_trusted,"
                           " type, payload FROM events WHERE seq > ?1"
                           " ORDER BY seq LIMIT ?2",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, after_seq);
        sqlite3_bind_int64(st, 2, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_event_row e = {
                        .seq = sqlite3_column_int64(st, 0),
                        .time = sqlite3_column_int64(st, 1),
                        .contact_id = sqlite3_column_int64(st, 2),
                        .clock_trusted = sqlite3_column_int(st, 3) != 0,
                        .type = (const char *)sqlite3_column_text(st, 4),
                        .json = (const char *)sqlite3_column_text(st, 5),
                };
                r = cb(&e, userdata);
                if (r != 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "events");
        sqlite3_reset(st);
        return r != 0 ? r : n;
}

int store_contact_upsert(struct store *s, const char *study_id, const char *phone,
                         const char *language, const char *clinic, const char *fields, int64_t now,
                         int64_t *ret_id)
{
        sqlite3_stmt *st;
        int rc, r;

        if (!study_id || !phone || too_long(study_id, STORE_IDENT_MAX) ||
            too_long(phone, STORE_NUMBER_MAX) || too_long(language, 16) ||
            too_long(clinic, STORE_IDENT_MAX))
                return store_fail(s, -EINVAL, "contact: study id or phone missing, or too long");
        r = store_stmt(s, STMT_CONTACT_UPSERT,
                       "INSERT INTO contacts (study_id, phone, language, clinic, fields, created,"
                       " updated) VALUES (?1, ?2, IFNULL(?3, 'es'), IFNULL(?4, ''),"
                       " IFNULL(?5, '{}'), ?6, ?6) ON CONFLICT (study_id) DO UPDATE SET"
                       " phone = excluded.phone, language = excluded.language,"
                       " clinic = excluded.clinic, fields = excluded.fields, updated = ?6"
                       " RETURNING id",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, study_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
        store_bind_text_or_null(st, 3, language);
        store_bind_text_or_null(st, 4, clinic);
        store_bind_text_or_null(st, 5, fields);
        sqlite3_bind_int64(st, 6, now);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                int64_t id = sqlite3_column_int64(st, 0);
                rc = sqlite3_step(st);
                if (rc == SQLITE_DONE)
                        *ret_id = id;
        }
        if (rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "contact upsert");
        sqlite3_reset(st);
        return r;
}

int store_contact_by_phone(struct store *s, const char *phone, struct store_contact *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_CONTACT_BY_PHONE,
                               "SELECT id, study_id, phone, language, clinic, fields"
                               " FROM contacts WHERE phone = ?1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                struct store_contact c = { .id = sqlite3_column_int64(st, 0) };
                store_column_copy(st, 1, c.study_id, sizeof(c.study_id));
                store_column_copy(st, 2, c.phone, sizeof(c.phone));
                store_column_copy(st, 3, c.language, sizeof(c.language));
                store_column_copy(st, 4, c.clinic, sizeof(c.clinic));
                r = store_keep_text(s, (const char *)sqlite3_column_text(st, 5), &c.fields);
                if (r == 0)
                        *ret = c;
        } else if (rc == SQLITE_DONE) {
                r = store_fail(s, -ENOENT, "contact: no contact with phone %s", phone);
        } else {
                r = store_sqlfail(s, rc, "contact by phone");
        }
        sqlite3_reset(st);
        return r;
}

int store_setting_set(struct store *s, const char *key, const char *value)
{
        sqlite3_stmt *st;
        int r;

        if (!key || !*key || !value)
                return store_fail(s, -EINVAL, "setting: key or value missing");
        r = store_stmt(s, STMT_SETTING_SET,
                       "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        return store_step_done(s, st, "set setting");
}

int store_setting_get(struct store *s, const char *key, char *buf, size_t size)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_SETTING_GET, "SELECT value FROM settings WHERE key = ?1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                size_t n = strlen(v ? v : "");
                if (n >= size)
                        r = store_fail(s, -ENOBUFS, "setting %s: value of %zu bytes", key, n);
                else
                        memcpy(buf, v ? v : "", n + 1);
        } else if (rc == SQLITE_DONE) {
                r = store_fail(s, -ENOENT, "setting %s: not set", key);
        } else {
                r = store_sqlfail(s, rc, "get setting");
        }
        sqlite3_reset(st);
        return r;
}

/* Steps "SELECT state, count(*) ... GROUP BY state" into c->parts. */
static int count_parts(struct store *s, sqlite3_stmt *st, struct store_status *c)
{
        int rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                enum store_part_state ps;
                if (store_part_state_from_name((const char *)sqlite3_column_text(st, 0), &ps) == 0)
                        c->parts[ps] = (unsigned)sqlite3_column_int(st, 1);
        }
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, "status");
}

int store_status_open(struct store *s, struct store_status *ret)
{
        struct store_status c = { 0 };
        sqlite3_stmt *st;
        int rc, r;

        /* Ranges of the outgoing_parts_due index (state first); the last event by rowid. */
        r = store_stmt(s, STMT_STATUS_OPEN,
                       "SELECT state, count(*) FROM outgoing_parts WHERE state IN"
                       " ('queued', 'retry', 'sending', 'unknown', 'failed') GROUP BY state",
                       &st);
        if (r == 0)
                r = count_parts(s, st, &c);
        if (r == 0)
                r = store_stmt(s, STMT_STATUS_EVENTS, "SELECT IFNULL(max(seq), 0) FROM events",
                               &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                c.events = sqlite3_column_int64(st, 0);
                *ret = c;
        } else {
                r = store_sqlfail(s, rc, "status");
        }
        sqlite3_reset(st);
        return r;
}

int store_status_counts(struct store *s, struct store_status *ret)
{
        struct store_status c = { 0 };
        sqlite3_stmt *st;
        int rc, r;

        r = store_stmt(s, STMT_STATUS_PARTS,
                       "SELECT state, count(*) FROM outgoing_parts GROUP BY state", &st);
        if (r == 0)
                r = count_parts(s, st, &c);
        if (r < 0)
                return r;
        r = store_stmt(s, STMT_STATUS_TOTALS,
                       "SELECT (SELECT count(*) FROM outgoing),"
                       " (SELECT count(*) FROM incoming),"
                       " (SELECT count(*) FROM incoming WHERE handled = 0),"
                       " (SELECT count(*) FROM inbound_parts),"
                       " (SELECT count(*) FROM reports),"
                       " (SELECT count(*) FROM reports WHERE part_id IS NULL),"
                       " (SELECT count(*) FROM modems),"
                       " (SELECT IFNULL(max(seq), 0) FROM events)",
                       &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                c.messages_out = (unsigned)sqlite3_column_int(st, 0);
                c.incoming = (unsigned)sqlite3_column_int(st, 1);
                c.incoming_unhandled = (unsigned)sqlite3_column_int(st, 2);
                c.inbound_partial = (unsigned)sqlite3_column_int(st, 3);
                c.reports = (unsigned)sqlite3_column_int(st, 4);
                c.reports_unmatched = (unsigned)sqlite3_column_int(st, 5);
                c.modems = (unsigned)sqlite3_column_int(st, 6);
                c.events = sqlite3_column_int64(st, 7);
                *ret = c;
        } else {
                r = store_sqlfail(s, rc, "status");
        }
        sqlite3_reset(st);
        return r;
}
