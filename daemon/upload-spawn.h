/* One run of the upload helper (puente-upload) as a child process watched from the sd-event
 * loop: started with posix_spawn, settings written to its stdin, its result line read from
 * its stdout, its exit seen with sd_event_add_child, killed (SIGKILL, by its PID) when it
 * outlives its time. Whatever goes wrong with the helper itself (missing, crashed, killed,
 * garbage printed, non-zero exit) comes back as a failed run with words naming the helper.
 *
 * SIGCHLD must be blocked in the process before upload_spawn_start() (sd-event's rule for
 * child sources; puented's main blocks it).
 *
 * Ownership: upload_spawn_start() returns a struct upload_spawn the caller frees with
 * upload_spawn_free() (NULL is fine); freeing a run whose child still lives kills and reaps
 * the child, and `done` is then not called. The loop is borrowed for the run's life; every
 * string argument is borrowed for the call only (the settings may be wiped after it). `done`
 * is called once, from the loop, when the child has exited; it may free the run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "daemon/upload-helper.h"

#define UPLOAD_SPAWN_GRACE_S 5 /* the helper's own time-out plus this: then it is killed */

struct upload_spawn_result {
        bool ran; /* the helper ran and printed a result: `result` holds it */
        struct upload_helper_result result;
        char error[UPLOAD_ERROR_MAX]; /* when !ran: what went wrong with the helper */
};

struct upload_spawn;
typedef void (*upload_spawn_done_fn)(const struct upload_spawn_result *r, void *userdata);

/* Where the helper is: `configured` when not empty (tests), else puente-upload beside the
 * running program (/proc/self/exe: a build tree, or an install that keeps them together),
 * else PUENTE_LIBEXECDIR/puente-upload. Never fails: the last candidate is returned even
 * when it does not exist (the spawn then says so). */
void upload_spawn_find_helper(const char *configured, char *buf, size_t size);

/* Starts `helper FILE OBJECT` with `settings` on its stdin; `kill_after_s` seconds later it
 * is killed. -errno when it could not start, with words in errmsg (UPLOAD_ERROR_MAX bytes):
 * "upload helper /usr/libexec/puente/puente-upload: not found". */
int upload_spawn_start(sd_event *loop, const char *helper, const char *file, const char *object,
                       const char *settings, size_t settings_len, unsigned kill_after_s,
                       upload_spawn_done_fn done, void *userdata, struct upload_spawn **ret,
                       char *errmsg);

struct upload_spawn *upload_spawn_free(struct upload_spawn *s);

/* The child's PID, 0 once it has been reaped (for tests and logs). */
pid_t upload_spawn_pid(const struct upload_spawn *s);
