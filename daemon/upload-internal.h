/* What daemon/upload*.c and daemon/ctl-export.c share: cutting batches from the store into
 * the state directory (no curl, no loop), and the positions kept in the store's settings.
 *
 * Ownership: a struct upload_cutter is the caller's (upload_cutter_init() / _done()); it
 * borrows the store. File names are written into the caller's buffers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/batch.h"
#include "daemon/pseudo.h"
#include "daemon/store.h"
#include "daemon/upload.h"

#define UPLOAD_PSEUDO_CACHE 4096 /* contacts whose pseudonym is kept (a trial is ~10^3) */
#define UPLOAD_NAME_MAX     (CONFIG_PATH_MAX + 64)
#define UPLOAD_BATCH_DIGITS 10 /* batch file names sort as numbers */

struct upload_position {
        uint64_t cut;                  /* last batch cut (0 = none) */
        int64_t cut_seq;               /* last event in it */
        char hash[BATCH_HASH_HEX + 1]; /* its SHA-256, BATCH_ZERO_HASH before the first */
        uint64_t sent;                 /* last batch the server confirmed */
        int64_t sent_seq;              /* last event in it */
};

struct upload_pseudo_slot {
        int64_t contact_id; /* 0 = empty */
        char pseudo[PSEUDO_HEX_CHARS + 1];
};

struct upload_cutter {
        struct store *store;
        char dir[CONFIG_PATH_MAX];
        char device[BATCH_DEVICE_MAX];
        struct pseudo_key key;
        char key_id[PSEUDO_KEY_ID_HEX + 1];
        unsigned batch_events;
        uint64_t disk_budget;
        struct batch batch;
        struct upload_pseudo_slot *cache; /* UPLOAD_PSEUDO_CACHE slots */
        /* events copied out of the store's listing (its callback may not re-enter it) */
        struct upload_row *rows;
        char *text;
        size_t text_len, text_cap;
        unsigned n_rows;
};

/* Makes <state>/upload, loads or creates the key, picks the device id. errmsg gets a
 * description on failure (UPLOAD_ERROR_MAX bytes). */
int upload_cutter_init(struct upload_cutter *c, struct store *store,
                       const struct upload_config *cfg, char *errmsg);
void upload_cutter_done(struct upload_cutter *c);

/* Reads the positions (all zero, and the zero hash, on a fresh store). -EBADMSG when a
 * setting is malformed. */
int upload_position_read(struct store *store, struct upload_position *ret);
int upload_position_set_sent(struct store *store, uint64_t batch, int64_t last_seq);

/* Cuts one batch of up to batch_events events after the last cut, when there are that many
 * (or any, with `partial`); written durably, then recorded. *ret_cut is true when it did.
 * -EAGAIN when another process is cutting (the lock file), -ENOSPC when the batch files
 * waiting exceed the disk budget (the events stay in the store). */
int upload_cut_one(struct upload_cutter *c, bool partial, bool *ret_cut);

/* <dir>/<batch, 10 digits>.ndjson.gz */
int upload_batch_path(const char *dir, uint64_t batch, char *buf, size_t size);
/* Total bytes of batch files in dir. */
uint64_t upload_backlog_bytes(const char *dir);
/* Removes the files of batches <= sent (after confirmation, or left by a crash). */
void upload_prune(const char *dir, uint64_t sent);
/* Reads a whole batch file (malloc'ed). */
int upload_read_file(const char *path, uint8_t **ret, size_t *ret_len);
/* Writes bytes to path durably: a temporary file, fsync, rename, fsync of the directory. */
int upload_write_durable(const char *path, const uint8_t *data, size_t len);

/* Back-off before the next try after `failures` (1, 2 ...) failed ones: first doubled each
 * time up to max, then between 75 % and 100 % of that by `jitter` in [0, 1) (so boxes that
 * lost the same link do not come back in step). Pure. */
unsigned upload_backoff(unsigned failures, unsigned first, unsigned max, double jitter);
/* Seconds from `minute_of_day` (local) until uploads are allowed, 0 when they are now:
 * window [start, end) in minutes, wrapping past midnight when end < start; start == end is
 * always. Pure. */
unsigned upload_wait_for_hours(int start, int end, int minute_of_day);

/* The PID of the upload helper running now, 0 when none (for tests: to kill it mid-transfer,
 * or read its /proc/<pid>/cmdline). */
pid_t upload_helper_pid(const struct upload *u);
