/* The store's core: opening, WAL and durability settings, migrations, settling parts caught
 * in "sending" by a crash, the statement cache, transactions and the error mapping. */
#include "daemon/store-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's page cache per connection, in KiB (issue 4: puented's peak RSS). SQLite's default
 * is 2,000 KiB, which a database of months of messages fills in the end, all of it heap; the
 * daemon's statements touch a few index pages each (the queued parts, a modem's row, a batch
 * of events) and the rest is read once, so 512 KiB keeps the hot pages with room to spare
 * (figures in docs/benchmarks.md). */
#define STORE_CACHE_KIB 512

int store_errno_of(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
                return -EINVAL;
        case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                        return -EEXIST;
                return -EINVAL; /* CHECK, NOT NULL, foreign key, the event log's triggers */
        default:
                return -EIO;
        }
}

int store_fail(struct store *s, int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
        va_end(ap);
        return err;
}

int store_sqlfail(struct store *s, int rc, const char *what)
{
        int err = store_errno_of(rc);

        /* A disk that is really full may surface as an I/O error with errno ENOSPC. */
        if (err == -EIO && sqlite3_system_errno(s->db) == ENOSPC)
                err = -ENOSPC;
        if (err >= 0) /* SQLITE_ROW or _DONE as a failure: still a failure */
                err = -EIO;
        store_fail(s, err, "%s: %s", what, sqlite3_errmsg(s->db));
        return err;
}

const char *store_errmsg(const struct store *s)
{
        return s ? s->errmsg : "";
}

void store_errmsg_clear(struct store *s)
{
        s->errmsg[0] = '\0';
}

unsigned store_settled_at_open(const struct store *s)
{
        return s->settled;
}

uint64_t store_commits(const struct store *s)
{
        return s->commits;
}

uint64_t store_scan_steps(const struct store *s)
{
        uint64_t n = 0;

        for (unsigned i = 0; i < STMT_COUNT; i++)
                if (s->stmt[i])
                        n += (unsigned)sqlite3_stmt_status(s->stmt[i],
                                                           SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
        return n;
}

int store_stmt(struct store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **ret)
{
        sqlite3_stmt *st = s->stmt[id];
        int rc;

        if (!st) {
                rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
                if (rc != SQLITE_OK)
                        return store_sqlfail(s, rc, "prepare");
                s->stmt[id] = st;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        *ret = st;
        return 0;
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);
        int r = 0;

        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = store_sqlfail(s, rc, what);
        sqlite3_reset(st);
        return r;
}

int store_tx_begin(struct store *s, const char *what)
{
        sqlite3_stmt *st;
        int r;

        if (s->batch) {
                /* SQLite ends the whole transaction itself on some errors (SQLITE_FULL):
                 * a savepoint then would open a new, deferred one outside the batch. */
                if (sqlite3_get_autocommit(s->db))
                        return store_fail(s, -EIO, "%s: the batch was rolled back", what);
                r = store_stmt(s, STMT_SAVEPOINT, "SAVEPOINT one", &st);
        } else {
                r = store_stmt(s, STMT_BEGIN, "BEGIN IMMEDIATE", &st);
        }
        return r < 0 ? r : store_step_done(s, st, what);
}

int store_tx_commit(struct store *s, const char *what)
{
        sqlite3_stmt *st;
        int r = s->batch ? store_stmt(s, STMT_RELEASE, "RELEASE one", &st)
                         : store_stmt(s, STMT_COMMIT, "COMMIT", &st);

        if (r == 0)
                r = store_step_done(s, st, what);
        if (r < 0)
                store_tx_rollback(s);
        return r;
}

void store_tx_rollback(struct store *s)
{
        sqlite3_stmt *st;

        if (sqlite3_get_autocommit(s->db))
                return;
        if (s->batch) {
                /* This call's changes only; the savepoint is then released (empty). */
                if (store_stmt(s, STMT_ROLLBACK_TO, "ROLLBACK TO one", &st) == 0) {
                        sqlite3_step(st); // NOLINT(clang-analyzer-core.CallAndMessage): as below
                        sqlite3_reset(st);
                }
                if (store_stmt(s, STMT_RELEASE, "RELEASE one", &st) == 0) {
                        sqlite3_step(st); // NOLINT(clang-analyzer-core.CallAndMessage): as below
                        sqlite3_reset(st);
                }
                return;
        }
        if (store_stmt(s, STMT_ROLLBACK, "ROLLBACK", &st) == 0) {
                /* store_stmt() sets st whenever it returns 0; the analyzer stops following
                 * calls five deep (migrate, commit, rollback, store_stmt, store_sqlfail). */
                sqlite3_step(st); // NOLINT(clang-analyzer-core.CallAndMessage): see above
                sqlite3_reset(st);
        }
}

int store_batch_begin(struct store *s)
{
        if (s->batch)
                return store_fail(s, -EBUSY, "begin batch: a batch is already open");
        int r = store_tx_begin(s, "begin batch");
        if (r == 0)
                s->batch = true;
        return r;
}

int store_batch_commit(struct store *s)
{
        if (!s->batch)
                return store_fail(s, -EINVAL, "commit batch: no batch is open");
        s->batch = false;
        if (sqlite3_get_autocommit(s->db)) /* SQLite rolled it back after an error */
                return store_fail(s, -EIO, "commit batch: the batch was rolled back");
        return store_tx_commit(s, "commit batch");
}

bool store_batch_open(const struct store *s)
{
        return s && s->batch;
}

int store_savepoint_begin(struct store *s, const char *what)
{
        if (!s->batch)
                return store_fail(s, -EINVAL, "%s: no batch is open", what);
        return store_tx_begin(s, what);
}

int store_savepoint_release(struct store *s, const char *what)
{
        if (!s->batch)
                return store_fail(s, -EINVAL, "%s: no batch is open", what);
        return store_tx_commit(s, what);
}

void store_savepoint_rollback(struct store *s)
{
        if (s->batch)
                store_tx_rollback(s);
}

void store_batch_rollback(struct store *s)
{
        if (!s->batch)
                return;
        s->batch = false;
        store_tx_rollback(s);
}

int store_bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
        if (!v || !*v)
                return sqlite3_bind_null(st, i);
        return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int store_bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
        if (id == 0)
                return sqlite3_bind_null(st, i);
        return sqlite3_bind_int64(st, i, id);
}

int store_keep_text(struct store *s, const char *text, const char **ret)
{
        char *k = strdup(text ? text : "");

        if (!k)
                return store_fail(s, -ENOMEM, "out of memory");
        free(s->kept);
        s->kept = k;
        *ret = k;
        return 0;
}

void store_column_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
        const unsigned char *t = sqlite3_column_text(st, i);

        snprintf(buf, size, "%s", t ? (const char *)t : "");
}

/* Runs one statement of our own (no data in it) outside the cache. */
static int exec(struct store *s, const char *sql, const char *what)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, what);
}

static int pragma_int(struct store *s, const char *sql, long long *ret)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return store_sqlfail(s, rc, sql);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return store_sqlfail(s, rc, sql);
        return 0;
}

static int pragma_text(struct store *s, const char *sql, char *buf, size_t size)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return store_sqlfail(s, rc, sql);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                store_column_copy(st, 0, buf, size);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return store_sqlfail(s, rc, sql);
        return 0;
}

int store_schema_version(struct store *s, unsigned *ret_version)
{
        long long v = 0;
        int r = pragma_int(s, "PRAGMA user_version", &v);

        if (r < 0)
                return r;
        *ret_version = (unsigned)v;
        return 0;
}

/* Applies the missing steps, each in its own IMMEDIATE transaction that re-reads the
 * version, so that two processes opening an old database at once migrate it once. */
static int migrate(struct store *s, unsigned target)
{
        for (;;) {
                char sql[64];
                unsigned v;
                int r;

                r = store_tx_begin(s, "begin migration");
                if (r < 0)
                        return r;
                r = store_schema_version(s, &v);
                if (r < 0)
                        goto fail;
                if (v > STORE_SCHEMA_VERSION) {
                        r = store_fail(s, -ENOTSUP,
                                       "database schema version %u is newer than this "
                                       "Puente's %d",
                                       v, STORE_SCHEMA_VERSION);
                        goto fail;
                }
                if (v >= target) {
                        store_tx_rollback(s);
                        return 0;
                }
                r = exec(s, store_migrations[v], "migration");
                if (r < 0) {
                        store_fail(s, r, "migration to version %u: %s", v + 1,
                                   sqlite3_errmsg(s->db));
                        goto fail;
                }
                /* A pragma takes no parameter; the number is ours, not data. */
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", v + 1);
                r = exec(s, sql, "set schema version");
                if (r < 0)
                        goto fail;
                r = store_tx_commit(s, "commit migration");
                if (r < 0)
                        return r;
                continue;
        fail:
                store_tx_rollback(s);
                return r;
        }
}

/* The crash rule of docs/store.md: a part still "sending" may have reached the network. */
static int settle_sending(struct store *s, bool resend)
{
        static const char to_unknown[] =
                "UPDATE outgoing_parts SET state = 'unknown',"
                " error = 'interrupted while sending' WHERE state = 'sending'";
        static const char to_retry[] =
                "UPDATE outgoing_parts SET state = 'retry', next_attempt = 0,"
                " error = 'interrupted while sending; resent by configuration'"
                " WHERE state = 'sending'";
        int r;

        r = store_tx_begin(s, "settle parts caught sending");
        if (r < 0)
                return r;
        r = exec(s, resend ? to_retry : to_unknown, "settle parts caught sending");
        if (r < 0) {
                store_tx_rollback(s);
                return r;
        }
        s->settled = (unsigned)sqlite3_changes(s->db);
        return store_tx_commit(s, "settle parts caught sending");
}

static int count_commit(void *userdata)
{
        ((struct store *)userdata)->commits++;
        return 0; /* 0: the commit goes ahead */
}

static int configure(struct store *s, const struct store_options *o)
{
        char mode[16];
        int r;

        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_commit_hook(s->db, count_commit, s);
        sqlite3_busy_timeout(s->db,
                             o->busy_timeout_ms ? (int)o->busy_timeout_ms : STORE_BUSY_TIMEOUT_MS);
        r = pragma_text(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
        if (r < 0)
                return r;
        if (strcmp(mode, "wal") != 0)
                return store_fail(s, -EIO, "journal_mode: WAL refused (got %s)", mode);
        /* FULL: every commit is fsynced before it returns (docs/store.md explains why NORMAL
         * is not enough for the parts' states). */
        r = exec(s, "PRAGMA synchronous = FULL", "synchronous");
        if (r == 0)
                r = exec(s, "PRAGMA foreign_keys = ON", "foreign_keys");
        if (r == 0) {
                char sql[64];
                snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", STORE_CACHE_KIB);
                r = exec(s, sql, "cache_size");
        }
        /* No memory-mapped I/O (Debian's SQLite default, said here so a build that enables it
         * does not change us): mapped database pages would count in the resident set, and a
         * failing disk would raise SIGBUS in the daemon instead of returning an I/O error. */
        if (r == 0)
                r = exec(s, "PRAGMA mmap_size = 0", "mmap_size");
        if (r == 0 && o->max_pages) {
                char sql[64];
                snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %u", o->max_pages);
                r = exec(s, sql, "max_page_count");
        }
        return r;
}

int store_open(const char *path, const struct store_options *opts, struct store **ret_store,
               char *errmsg)
{
        static const struct store_options defaults = { 0 };
        const struct store_options *o = opts ? opts : &defaults;
        unsigned target = o->target_version ? o->target_version : STORE_SCHEMA_VERSION;
        struct store *s;
        int rc, r;

        if (!path || target > STORE_SCHEMA_VERSION) {
                if (errmsg)
                        snprintf(errmsg, STORE_ERRMSG_MAX, "store_open: bad arguments");
                return -EINVAL;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
                int sys = s->db ? sqlite3_system_errno(s->db) : 0;
                r = sys > 0 ? -sys : store_errno_of(rc);
                store_fail(s, r, "open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
                goto fail;
        }
        r = configure(s, o);
        if (r == 0)
                r = migrate(s, target);
        if (r == 0 && target == STORE_SCHEMA_VERSION && !o->leave_sending)
                r = settle_sending(s, o->resend_unknown);
        if (r < 0)
                goto fail;
        s->errmsg[0] = '\0';
        *ret_store = s;
        return 0;
fail:
        if (errmsg)
                snprintf(errmsg, STORE_ERRMSG_MAX, "%s", s->errmsg);
        store_close(s);
        return r;
}

struct store *store_close(struct store *s)
{
        if (!s)
                return NULL;
        for (int i = 0; i < STMT_COUNT; i++)
                sqlite3_finalize(s->stmt[i]);
        /* sqlite3_close_v2 checkpoints the WAL when it is the last connection. */
        sqlite3_close_v2(s->db);
        free(s->kept);
        free(s);
        return NULL;
}
