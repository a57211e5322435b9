/* Init sequences as data: a constant array of steps {command, prefix, time-out, flags,
 * handler, on_error} run one at a time over an at_chat by one sequencer. No I/O, no clock.
 *
 * A step runs only if its quirk conditions hold (need / unless against *quirks, read when the
 * step starts, so an earlier step may add quirks) and, for an `alt` step, only if the step
 * before it failed with AT_SEQ_NEXT (a chain of fall-backs: the first that succeeds ends the
 * chain, the later alternatives are skipped). The text is fixed (cmd) or built by build()
 * from the caller's context, which may also skip the step (-ENODATA).
 *
 * The handler sees every result of its step (OK or not) and returns 0 (done, go on), -EAGAIN
 * (run the same step again, after at_seq_delay() if it set one; at most AT_SEQ_AGAIN_MAX
 * times) or another negative errno (the step failed: on_error decides). Without a handler a
 * step succeeds iff its status is AT_STATUS_OK. A time-out (AT_STATUS_TIMEOUT) that the
 * handler does not answer with -EAGAIN ends the run with -ETIMEDOUT whatever on_error says:
 * a late answer would be taken for the next command's, so the caller must recover.
 *
 * Ownership: the caller owns struct at_seq (embed it) and the step arrays (constant, they
 * must outlive the run). The chat and *now / *quirks are borrowed. done() and handlers may
 * call at_seq_run() (a new sequence) or at_seq_abort(); after at_seq_abort() the result of
 * the command in flight is ignored (it is matched by command id).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at/chat.h"

#define AT_SEQ_AGAIN_MAX 20 /* -EAGAIN re-runs of one step before it counts as failed */

enum at_seq_on_error {
        AT_SEQ_FAIL, /* the sequence ends with the step's error */
        AT_SEQ_SKIP, /* go on with the next step as if it succeeded */
        AT_SEQ_NEXT, /* try the next step (marked alt); the last alt's on_error decides */
};

struct at_seq;

struct at_seq_step {
        const char *cmd;                                 /* text, or NULL to use build */
        int (*build)(void *ctx, char *buf, size_t size); /* 0, or -ENODATA: skip the step */
        const char *prefix;                              /* response prefix or NULL */
        uint32_t timeout_ms;                             /* 0: the chat's default */
        unsigned flags;                                  /* enum at_cmd_flags */
        unsigned need;                                   /* quirk bits that must all be set */
        unsigned unless;                                 /* quirk bits that skip the step */
        int (*handler)(struct at_seq *s, void *ctx, const struct at_result *r);
        at_chat_line_fn on_line; /* optional: every intermediate line (long listings) */
        enum at_seq_on_error on_error;
        bool alt; /* a fall-back: runs only if the step before failed with AT_SEQ_NEXT */
        /* Wait this long before writing the command, so that a late second answer to the
         * step before arrives with nothing in flight (the chat reports it as stray) instead
         * of being taken for this command's. */
        uint32_t wait_ms;
};

/* r: 0, or the failing step's error; step: its index; res: its result (NULL if the chat
 * refused the command, -ENOSPC/-EINVAL). */
typedef void (*at_seq_done_fn)(struct at_seq *s, void *ctx, int r, size_t step,
                               const struct at_result *res);

struct at_seq {
        struct at_chat *chat;
        const uint64_t *now;
        const unsigned *quirks;
        void *ctx;
        at_seq_done_fn done;
        const struct at_seq_step *steps;
        size_t n, i;
        bool running;
        unsigned gen;          /* bumped by run and abort: a handler can tell it was replaced */
        bool prev_next_failed; /* the step before failed with AT_SEQ_NEXT */
        unsigned cmd_id;       /* the command in flight, 0 none */
        unsigned again;        /* -EAGAIN re-runs of the current step */
        bool waited;           /* the current step's wait_ms has passed */
        uint32_t delay_ms;     /* set by at_seq_delay() in a handler */
        uint64_t wake_at;      /* a delayed re-run is due; UINT64_MAX none */
};

/* Ties a sequencer to a chat; now and quirks are read when needed. */
void at_seq_init(struct at_seq *s, struct at_chat *chat, const uint64_t *now,
                 const unsigned *quirks, void *ctx, at_seq_done_fn done);

/* Starts steps[0..n) (forgetting any run in progress). done() is called when it ends,
 * possibly before this returns. Returns 0 or -EINVAL. */
int at_seq_run(struct at_seq *s, const struct at_seq_step *steps, size_t n);

/* Stops the run; done() is not called. Harmless when idle. */
void at_seq_abort(struct at_seq *s);

/* From a handler about to return -EAGAIN: wait ms before the re-run. */
void at_seq_delay(struct at_seq *s, uint32_t ms);

bool at_seq_running(const struct at_seq *s);

/* A delayed re-run due at or before *now starts. */
void at_seq_tick(struct at_seq *s);

/* When at_seq_tick() must run, or UINT64_MAX. */
uint64_t at_seq_next_deadline(const struct at_seq *s);
