/* rules/schedule: the next-due index: each contact's next due time in a binary min-heap, with
 * an open-addressing map from contact id to heap slot, so a tick pops only what is due
 * (O(k log n) for k due of n contacts) instead of scanning contacts x rules.
 *
 * Ownership: a struct rules_schedule is the caller's (rules_schedule_free()). It stores only
 * ids and times. Not thread-safe. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RULES_SCHEDULE_MAX   (16u * 1024 * 1024) /* contacts; the map doubles up to this */
#define RULES_SCHEDULE_NEVER INT64_MAX           /* "nothing due": rules_schedule_set() removes */

struct rules_schedule;

struct rules_schedule *rules_schedule_new(void);
struct rules_schedule *rules_schedule_free(struct rules_schedule *s);

/* Sets (adds, moves or, with RULES_SCHEDULE_NEVER, removes) a contact's due time.
 * -ENOMEM, -E2BIG beyond RULES_SCHEDULE_MAX; ids are any int64 but INT64_MIN. */
int rules_schedule_set(struct rules_schedule *s, int64_t contact, int64_t due);

/* Removes a contact; -ENOENT if absent. */
int rules_schedule_remove(struct rules_schedule *s, int64_t contact);

/* The contact's due time, or -ENOENT. */
int rules_schedule_get(const struct rules_schedule *s, int64_t contact, int64_t *ret_due);

/* The earliest due time, or -ENOENT when empty (the daemon arms its timer for it). */
int rules_schedule_peek(const struct rules_schedule *s, int64_t *ret_due, int64_t *ret_contact);

/* Removes and returns the earliest contact due at or before now: 0, or -ENOENT when none is.
 * The caller recomputes it and sets its next due time. */
int rules_schedule_pop_due(struct rules_schedule *s, int64_t now, int64_t *ret_contact,
                           int64_t *ret_due);

size_t rules_schedule_count(const struct rules_schedule *s);
/* Bytes held, for the benchmark. */
size_t rules_schedule_memory(const struct rules_schedule *s);
