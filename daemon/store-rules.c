/* daemon/store-rules: contacts in bulk for puentectl contacts (import in one transaction,
 * export, lookup by study id), and the rules runner's state. The runner's statements run
 * several times a contact: they are cached (store_stmt()), reset after use so no read
 * transaction stays open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/store-internal.h"
#include "daemon/store.h"

int store_contacts_import(struct store *s, const struct store_contact_import *rows, size_t n,
                          int64_t now, size_t *ret_failed)
{
        int r = store_tx_begin(s, "contacts import");

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                int64_t id;

                r = store_contact_upsert(s, rows[i].study_id, rows[i].phone, rows[i].language,
                                         rows[i].clinic, rows[i].fields, now, &id);
                if (r < 0) {
                        store_tx_rollback(s);
                        if (ret_failed)
                                *ret_failed = i;
                        return r;
                }
        }
        return store_tx_commit(s, "contacts import");
}

static void copy(char *dst, size_t size, const unsigned char *src)
{
        snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static void row_of(sqlite3_stmt *st, struct store_contact *c)
{
        c->id = sqlite3_column_int64(st, 0);
        copy(c->study_id, sizeof(c->study_id), sqlite3_column_text(st, 1));
        copy(c->phone, sizeof(c->phone), sqlite3_column_text(st, 2));
        copy(c->language, sizeof(c->language), sqlite3_column_text(st, 3));
        copy(c->clinic, sizeof(c->clinic), sqlite3_column_text(st, 4));
        c->fields = (const char *)sqlite3_column_text(st, 5);
}

#define CONTACT_COLUMNS "id, study_id, phone, language, clinic, fields"

int store_contact_list(struct store *s, store_contact_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int rc, r = 0;

        /* Not cached: an export runs once per process. */
        rc = sqlite3_prepare_v2(s->db, "SELECT " CONTACT_COLUMNS " FROM contacts ORDER BY id", -1,
                                &st, NULL);
        if (rc != SQLITE_OK)
                return store_sqlfail(s, rc, "contact list");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r >= 0) {
                struct store_contact c;

                row_of(st, &c);
                r = cb(&c, userdata);
        }
        if (r >= 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = store_sqlfail(s, rc, "contact list");
        sqlite3_finalize(st);
        return r < 0 ? r : 0;
}

int store_contact_by_study_id(struct store *s, const char *study_id, struct store_contact *ret)
{
        sqlite3_stmt *st;
        int rc, r = 0;

        if (!study_id)
                return -EINVAL;
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT " CONTACT_COLUMNS " FROM contacts WHERE study_id = ?1", -1,
                                &st, NULL);
        if (rc != SQLITE_OK)
                return store_sqlfail(s, rc, "contact by study id");
        sqlite3_bind_text(st, 1, study_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                struct store_contact c;

                row_of(st, &c);
                free(s->kept);
                s->kept = c.fields ? strdup(c.fields) : NULL;
                c.fields = s->kept;
                *ret = c;
        } else if (rc == SQLITE_DONE)
                r = -ENOENT;
        else
                r = store_sqlfail(s, rc, "contact by study id");
        sqlite3_finalize(st);
        return r;
}

/* ---- the rules runner's state ---- */

int store_rules_state_put(struct store *s, int64_t contact_id, const char *state_json,
                          int64_t next_due, const char *rule_set)
{
        sqlite3_stmt *st;
        int r;

        if (!state_json || contact_id <= 0)
                return -EINVAL;
        r = store_stmt(s, STMT_RULES_STATE_PUT,
                       "INSERT OR REPLACE INTO rules_state (contact_id, state, next_due, rule_set)"
                       " VALUES (?1, ?2, ?3, IFNULL(?4, ''))",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_text(st, 2, state_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, next_due);
        if (rule_set)
                sqlite3_bind_text(st, 4, rule_set, -1, SQLITE_STATIC);
        return store_step_done(s, st, "rules state put");
}

int store_rules_state_get(struct store *s, int64_t contact_id, struct store_rules_state *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_RULES_STATE_GET,
                               "SELECT state, next_due, rule_set FROM rules_state"
                               " WHERE contact_id = ?1",
                               &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                free(s->kept);
                s->kept = strdup((const char *)sqlite3_column_text(st, 0));
                if (!s->kept)
                        r = -ENOMEM;
                else {
                        ret->contact_id = contact_id;
                        ret->state = s->kept;
                        ret->next_due = sqlite3_column_int64(st, 1);
                        copy(ret->rule_set, sizeof(ret->rule_set), sqlite3_column_text(st, 2));
                }
        } else
                r = rc == SQLITE_DONE ? -ENOENT : store_sqlfail(s, rc, "rules state get");
        sqlite3_reset(st);
        return r;
}

int store_rules_due_list(struct store *s, store_rules_due_cb cb, void *userdata)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_RULES_DUE_LIST,
                               "SELECT contact_id, next_due FROM rules_state", &st);

        if (r < 0)
                return r;
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
                r = cb(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), userdata);
        if (r >= 0 && rc != SQLITE_DONE)
                r = store_sqlfail(s, rc, "rules due list");
        sqlite3_reset(st);
        return r < 0 ? r : 0;
}

int store_rules_settle(struct store *s, int64_t contact_id, const char *key, int64_t time)
{
        sqlite3_stmt *st;
        int r;

        if (!key || !*key || strlen(key) >= STORE_RULES_KEY_MAX)
                return -EINVAL;
        r = store_stmt(s, STMT_RULES_SETTLE,
                       "INSERT OR IGNORE INTO rules_settled (contact_id, key, time)"
                       " VALUES (?1, ?2, ?3)",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, time);
        r = store_step_done(s, st, "rules settle");
        return r < 0 ? r : sqlite3_changes(s->db) > 0;
}

int store_rules_is_settled(struct store *s, int64_t contact_id, const char *key)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_RULES_IS_SETTLED,
                               "SELECT 1 FROM rules_settled WHERE contact_id = ?1 AND key = ?2",
                               &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_sqlfail(s, rc, "rules settled");
        sqlite3_reset(st);
        return r;
}

int store_rules_recent_sends(struct store *s, int64_t contact_id, int64_t since, int64_t *times,
                             size_t max, size_t *ret_n)
{
        sqlite3_stmt *st;
        size_t n = 0;
        int rc, r = store_stmt(s, STMT_RULES_RECENT,
                               "SELECT created FROM outgoing WHERE contact_id = ?1 AND created > ?2"
                               " ORDER BY created DESC LIMIT ?3",
                               &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_int64(st, 2, since);
        sqlite3_bind_int64(st, 3, (int64_t)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
                times[n++] = sqlite3_column_int64(st, 0);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = store_sqlfail(s, rc, "rules recent sends");
        sqlite3_reset(st);
        if (r == 0)
                *ret_n = n;
        return r;
}

int store_contact_get(struct store *s, int64_t id, struct store_contact *ret)
{
        sqlite3_stmt *st;
        int rc, r = store_stmt(s, STMT_CONTACT_GET,
                               "SELECT " CONTACT_COLUMNS " FROM contacts WHERE id = ?1", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                struct store_contact c;

                row_of(st, &c);
                free(s->kept);
                s->kept = c.fields ? strdup(c.fields) : NULL;
                c.fields = s->kept;
                *ret = c;
        } else
                r = rc == SQLITE_DONE ? -ENOENT : store_sqlfail(s, rc, "contact get");
        sqlite3_reset(st);
        return r;
}

int store_rules_unenrolled(struct store *s, int64_t *ids, size_t max, size_t *ret_n)
{
        sqlite3_stmt *st;
        size_t n = 0;
        int rc, r = store_stmt(s, STMT_RULES_UNENROLLED,
                               "SELECT id FROM contacts WHERE id NOT IN"
                               " (SELECT contact_id FROM rules_state) ORDER BY id LIMIT ?1",
                               &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (int64_t)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
                ids[n++] = sqlite3_column_int64(st, 0);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = store_sqlfail(s, rc, "rules unenrolled");
        sqlite3_reset(st);
        if (r == 0)
                *ret_n = n;
        return r;
}

int store_rules_withdraw_queued(struct store *s, int64_t contact_id, unsigned *ret_n)
{
        sqlite3_stmt *st;
        int r;

        /* Parts cascade with their message (schema v1). A message with any part past "queued"
         * is the sender's now: the exactly-once contract decides its fate, not us. */
        r = store_stmt(
                s, STMT_RULES_WITHDRAW,
                "DELETE FROM outgoing WHERE contact_id = ?1 AND NOT EXISTS (SELECT 1 FROM"
                " outgoing_parts p WHERE p.message_id = outgoing.id AND p.state <> 'queued')",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        r = store_step_done(s, st, "withdraw queued");
        if (r == 0 && ret_n)
                *ret_n = (unsigned)sqlite3_changes(s->db);
        return r;
}

int store_rules_touch(struct store *s, int64_t contact_id, int64_t now)
{
        sqlite3_stmt *st;
        int r = store_stmt(s, STMT_RULES_TOUCH,
                           "UPDATE rules_state SET next_due = MIN(next_due, ?2)"
                           " WHERE contact_id = ?1",
                           &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, contact_id);
        sqlite3_bind_int64(st, 2, now);
        return store_step_done(s, st, "rules touch");
}
