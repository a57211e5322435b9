/* Unit-test helper: a store on a real database file in a fresh /tmp directory, and its removal.
 * Ownership: the caller owns the directory and path buffers (sizes below) and the store returned
 * by tmpstore_open(), which it closes with store_close() before tmpstore_remove(); nothing here
 * allocates. Static inline because each tests/unit/test-*.c is its own binary. */
#ifndef PUENTE_TEST_STORE_FIXTURE_H
#define PUENTE_TEST_STORE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/store.h"

#define TMPSTORE_DIR_MAX  64
#define TMPSTORE_PATH_MAX 96
/* The one modem most tests send and receive through. */
#define TMPSTORE_IMEI "861234567890123"
#define TMPSTORE_PORT "/dev/ttyUSB2"

/* Makes /tmp/puente-test-<tag>-XXXXXX in dir, writes dir/puente.db to path and opens the store
 * there with opts (NULL: the defaults). On failure prints what failed to stderr and returns -1
 * (the directory, if made, stays for tmpstore_remove()). */
static inline int tmpstore_open(const char *tag, const struct store_options *opts,
                                char dir[TMPSTORE_DIR_MAX], char path[TMPSTORE_PATH_MAX],
                                struct store **ret_s)
{
        char err[STORE_ERRMSG_MAX];
        struct store *s;

        snprintf(dir, TMPSTORE_DIR_MAX, "/tmp/puente-test-%s-XXXXXX", tag);
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return -1;
        }
        snprintf(path, TMPSTORE_PATH_MAX, "%s/puente.db", dir);
        if (store_open(path, opts, &s, err) < 0) {
                fprintf(stderr, "store_open %s: %s\n", path, err);
                return -1;
        }
        *ret_s = s;
        return 0;
}

/* Registers the modem TMPSTORE_IMEI on TMPSTORE_PORT, seen at now. */
static inline int tmpstore_modem(struct store *s, int64_t now, int64_t *ret_modem)
{
        return store_modem_upsert(s, &(struct store_modem_identity){ .imei = TMPSTORE_IMEI },
                                  TMPSTORE_PORT, now, ret_modem) < 0
                       ? -1
                       : 0;
}

/* Removes the database file, its WAL and shared-memory files, then the directory. Every
 * connection to it must be closed first. */
static inline void tmpstore_remove(const char *dir, const char *path)
{
        static const char *const suffix[] = { "", "-wal", "-shm" };
        char p[TMPSTORE_PATH_MAX + 8];

        for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
                snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
                unlink(p);
        }
        rmdir(dir);
}

#endif
