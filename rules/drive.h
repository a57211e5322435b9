/* rules/drive: runs one contact through the engine over a span of time, keeping what the
 * store would keep (field values, settled keys, recent sends, state) in memory. It is what
 * `puentectl rules simulate`, the engine tests and the benchmark share, so the simulated
 * timeline is the one the daemon produces. Pure: no I/O; time only as given.
 *
 * Ownership: a struct rules_drive is the caller's (rules_drive_free()); it copies the
 * values it is given and borrows env for its life. The callback gets each result as the
 * engine returned it (borrowed for the call) and must not call back into the drive. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rules/engine.h"

#define RULES_DRIVE_STEPS_MAX 200000 /* engine calls in one run, against a runaway rule set */

struct rules_drive;

/* The inbound messages of a run, sorted by time. */
struct rules_drive_reply {
        int64_t at;
        const char *text;
};

typedef void (*rules_drive_fn)(void *userdata, int64_t now, const struct rules_result *res);

/* A contact with values (n_fields entries, NULL = unset) enrolled at `now` in `arm`.
 * -ENOENT when no start track applies, -ENOMEM. */
int rules_drive_new(const struct rules_engine_env *env, const char *const *values, int arm,
                    int64_t now, struct rules_drive **ret_drive);
struct rules_drive *rules_drive_free(struct rules_drive *d);

/* Runs ticks (at each next due time) and the replies up to `until` (exclusive).
 * Returns the number of engine calls, or -ELOOP past RULES_DRIVE_STEPS_MAX. */
int rules_drive_run(struct rules_drive *d, int64_t until, const struct rules_drive_reply *replies,
                    size_t n_replies, rules_drive_fn fn, void *userdata);

/* One inbound message now (as rules_drive_run does for each reply). */
int rules_drive_inbound(struct rules_drive *d, int64_t now, const char *text, rules_drive_fn fn,
                        void *userdata);

/* One tick at `now` whatever next_due says (a daemon back from downtime). */
int rules_drive_tick(struct rules_drive *d, int64_t now, rules_drive_fn fn, void *userdata);

/* Sets a field as the clinic would (a new appointment, a corrected due date). */
int rules_drive_set(struct rules_drive *d, int field, const char *value);

const struct rules_state *rules_drive_state(const struct rules_drive *d);
const char *rules_drive_value(const struct rules_drive *d, int field);
int64_t rules_drive_next_due(const struct rules_drive *d);
