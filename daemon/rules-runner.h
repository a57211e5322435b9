/* daemon/rules-runner: the programme run inside puented: loads the rule set, enrols new
 * contacts (arm assignment), runs the engine (rules/engine.h) for contacts that are due
 * (rules/schedule.h index rebuilt from the store), answers inbound messages, queues texts
 * through store_queue_message() as `puentectl send` does (the bank encodes and sends), and
 * appends every step to the event log stamped with the rule set's content hash.
 *
 * Wiring (daemon/manager.c): rules_runner_new() after the store and the bank exist, passing
 * the loop; rules_runner_reload() on SIGHUP (a broken set keeps the running one and says why);
 * rules_runner_inbound() for each complete incoming message from a known contact before other
 * handlers; rules_runner_kick() after `contacts import` (the wake datagram: any wake runs the
 * due contacts at once, which is how a test that moved a faked clock makes it look) and after
 * the clock becomes trustworthy; rules_runner_set_clock_trusted(false) holds all scheduling while
 * the clock is not sane. After queueing, the runner calls the `on_queued` callback so the
 * manager can kick the bank.
 *
 * Ownership: the store and config are borrowed and must outlive the runner; the runner owns
 * its rule set, zones, index and timer. Callbacks are called from the loop, never re-entered
 * by the runner. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rules_runner;
struct store;
struct config;
typedef struct sd_event sd_event;

#define RULES_RUNNER_SLICE      256 /* contacts per timer callback: the loop stays responsive */
#define RULES_RUNNER_WHY_MAX    512
#define RULES_RUNNER_SECRET_MAX 1024
/* The runner's timer sleeps at most this long (seconds), so a clock jump is noticed within
 * it even when nothing is due; docs/engine.md "Time". */
#define RULES_RUNNER_TIMER_CAP_S 60
/* The wall clock moving this many seconds more or less than the monotonic one between two
 * looks is a jump: logged and stored as a rules.clock_jumped event. */
#define RULES_RUNNER_JUMP_S 30

struct rules_runner_opts {
        const char *rules_dir;   /* NULL: config->rules_directory */
        const char *secret_file; /* NULL: the trial's secret_key_file (tests point elsewhere) */
        void (*on_queued)(void *userdata); /* messages were queued: kick the bank */
        void *userdata;
};

/* ev may be NULL (tests): then nothing runs by itself; call rules_runner_run(). The rule set
 * is loaded at once; failing that, the runner exists without one and says why in *why. */
int rules_runner_new(sd_event *ev, struct store *store, const struct config *config,
                     const struct rules_runner_opts *opts, struct rules_runner **ret);
struct rules_runner *rules_runner_free(struct rules_runner *r);

/* Loads the rules again; on any error the running set stays and why says what (file:line). */
int rules_runner_reload(struct rules_runner *r, char *why, size_t size);

/* Enrols contacts without state and runs up to `max` due contacts at `now`. Returns how many
 * contacts were run, or a negative errno. */
int rules_runner_run(struct rules_runner *r, int64_t now, unsigned max);

/* A message from contact_id received at `now`. 0, -ENOENT (no rules or not enrolled). */
int rules_runner_inbound(struct rules_runner *r, int64_t contact_id, const char *text, int64_t now);

/* A message from a number that is no contact: when it is an opt-in keyword with what the
 * start track needs (ALTA 15/03/2026), the sender is enrolled as a new contact with a random
 * study id, and *ret_contact_id (may be NULL) gets its id. -ENOENT: not an opt-in, not ours. */
int rules_runner_inbound_unknown(struct rules_runner *r, const char *phone, const char *text,
                                 int64_t now, int64_t *ret_contact_id);

/* Re-reads who is due (new contacts, changed dates) and runs at once. */
int rules_runner_kick(struct rules_runner *r);

/* The earliest due time in the index, or INT64_MAX. */
int64_t rules_runner_next_due(const struct rules_runner *r);

/* How long the timer sleeps (microseconds) when the wall clock reads now_us and the next
 * contact is due at `due` (seconds, INT64_MAX: none): 0 when due, else until due, at most
 * RULES_RUNNER_TIMER_CAP_S. Pure; exposed for the tests. */
int64_t rules_runner_sleep_us(int64_t now_us, int64_t due);

/* Whole seconds the wall clock moved beyond the monotonic clock between two readings of
 * both (negative: it went back). Pure; exposed for the tests. */
int64_t rules_runner_clock_jump_s(int64_t wall_before_us, uint64_t mono_before_us,
                                  int64_t wall_after_us, uint64_t mono_after_us);

void rules_runner_set_clock_trusted(struct rules_runner *r, bool trusted);

/* "rules 0e76533ded79: 1234 contacts, next due 2026-05-01 09:00" or why there are none. */
const char *rules_runner_status(const struct rules_runner *r);
