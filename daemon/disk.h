/* A full disk, told outside the database: puented marks the condition with an empty file in
 * its state directory (an empty file needs no data block, so it can be made on a full disk)
 * and removes it when space returns; puentectl status reads the mark and looks at the free
 * space of the database's filesystem itself (the status snapshot lives in the database, which
 * cannot be written while the disk is full).
 *
 * Ownership: every path is borrowed for the call; nothing is kept. No callbacks. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Below this much space free to the daemon's user (statvfs f_bavail) the disk counts as full:
 * one write transaction with its WAL frames needs a few pages. */
#define DISK_FREE_MIN      (128 * 1024)
#define DISK_FREE_MIN_TEXT "128 KB"
#define DISK_MARK_NAME     "disk-full"
#define DISK_FULL_TEXT     "disk full: messages are kept on the modems until space returns"
#define DISK_PATH_MAX      4096

/* Bytes free to an unprivileged user on the filesystem holding `path` (a file: its
 * directory is looked at, so the file need not exist). Returns 0 or a negative errno. */
int disk_free_bytes(const char *path, uint64_t *ret_free);

/* True when the filesystem of `path` has less than DISK_FREE_MIN free (false when it cannot
 * be told). */
bool disk_low(const char *path);

/* Creates (full) or removes (!full) <state_dir>/disk-full. Creating an existing mark keeps
 * its time (the condition's start). Returns 0 or a negative errno. */
int disk_mark(const char *state_dir, bool full);

/* Whether the mark exists: 1 and its time in *ret_since (if not NULL), 0 when absent, or a
 * negative errno. */
int disk_mark_get(const char *state_dir, int64_t *ret_since);
