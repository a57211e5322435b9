/* daemon/store-rules: contacts in bulk for puentectl contacts (import in one transaction,
 * export, lookup by study id). */
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
