/* A contact's study id by row id, for the uploader's pseudonyms (see daemon/store-upload.h). */
#include <errno.h>
#include <string.h>

#include "daemon/store-internal.h"
#include "daemon/store-upload.h"

int store_contact_study_id(struct store *s, int64_t contact_id, char *buf, size_t size)
{
        sqlite3_stmt *st = NULL;
        int rc, r;

        if (contact_id <= 0 || !buf || size == 0)
                return store_fail(s, -EINVAL, "contact study id: bad contact id %lld",
                                  (long long)contact_id);
        /* Not in the statement cache: its enum belongs to the store's owner; the uploader
         * keeps the pseudonyms it made, so this runs once per contact and batch run. */
        rc = sqlite3_prepare_v2(s->db, "SELECT study_id FROM contacts WHERE id = ?1", -1, &st,
                                NULL);
        if (rc != SQLITE_OK)
                return store_sqlfail(s, rc, "contact study id");
        sqlite3_bind_int64(st, 1, contact_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                size_t n = v ? strlen(v) : 0;
                if (n + 1 > size) {
                        r = store_fail(s, -ENOBUFS, "contact study id: %zu bytes", n);
                } else {
                        memcpy(buf, v ? v : "", n + 1);
                        r = 0;
                }
        } else if (rc == SQLITE_DONE) {
                r = store_fail(s, -ENOENT, "contact study id: no contact %lld",
                               (long long)contact_id);
        } else {
                r = store_sqlfail(s, rc, "contact study id");
        }
        sqlite3_finalize(st);
        return r;
}
