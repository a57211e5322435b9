/* The modem bank: decides which queued part goes to which modem, when, and what each send's
 * outcome does to the part (docs/bank.md). Pure logic over the store: no fd, no sd-event, no
 * clock read (bank_time_now() is the one helper that reads clocks, for the daemon). The
 * daemon (daemon/manager.c, daemon/modem.c) drives it: it adds modems, says when they are
 * ready, forwards each send's classified result, and calls bank_kick() when something may
 * have freed work (a wake datagram, a result, a modem ready, bank_next_deadline() reached).
 *
 * Ownership: bank_new() returns a struct bank the caller frees with bank_free() (NULL is
 * fine). The store and the config are borrowed and must outlive the bank. modem_ctx and ops
 * are borrowed until bank_modem_remove(). Strings passed in are borrowed for the call.
 *
 * Re-entrancy: ops->send() is called from inside bank_kick() (and bank_send_done(), which
 * kicks) and must not call back into the bank; the result of an accepted send comes later
 * through bank_send_done() / bank_send_result(). Not thread-safe.
 *
 * Time: every call takes a struct bank_time: a monotonic clock in ms for rate limits and
 * deadlines, Unix seconds for the store, and the local date for daily limits. Tests fill it
 * by hand; the daemon uses bank_time_now().
 *
 * Errors: 0 on success or a negative errno. A store failure in the middle of a kick stops
 * that kick (the part stays as the store left it; the next kick tries again).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bank;
struct store;
struct config;
struct at_modem_send_result; /* at/modem.h */

#define BANK_MODEMS_MAX      32           /* CONFIG_MODEMS_MAX: a hub of 4..16 in practice */
#define BANK_FETCH_MAX       64           /* due parts read from the store per kick round */
#define BANK_NO_DEADLINE     UINT64_MAX   /* bank_next_deadline(): nothing is waiting */
#define BANK_ERROR_WINDOW_MS (15 * 60000) /* errors this recent count against a modem */
#define BANK_FAULTS_MAX      8 /* modem faults forgiven per part before they count as attempts */
/* How long the rest of a multi-part message waits for the modem that sent its first parts
 * (gone, restarting, not ready) before the whole message is sent again from another one. */
#define BANK_PIN_WAIT_S 600
/* A SIM that answered "no credit" (+CMS 21) is given no parts for this long, or until the
 * local day changes (carriers renew daily plans at midnight), whichever comes first. */
#define BANK_NO_CREDIT_HOLD_S 3600

struct bank_time {
        uint64_t mono_ms; /* CLOCK_MONOTONIC in ms: rate limits, bank_next_deadline() */
        int64_t wall;     /* Unix seconds (UTC): what the store records */
        uint32_t day;     /* local date as YYYYMMDD: carriers count daily limits locally */
};

/* Reads CLOCK_MONOTONIC, CLOCK_REALTIME and the local date (localtime_r). */
void bank_time_now(struct bank_time *ret);

struct bank_modem_ops {
        /* Hand one part to the modem: AT+CMGS=<tpdu_len> then pdu_hex (SMSC octets
         * included). more_follow: the next part of the same message follows on this modem
         * at once (the core may use AT+CMMS=1; ignoring it is fine). Returns 0 when the modem
         * took it: exactly one result for `cookie` must then follow, through
         * bank_send_done()/bank_send_result(), unless the modem is removed first. A negative
         * errno means nothing was written to the modem: the part is due again at once on
         * another modem (as MODEM_FAULT) and this modem is taken as not ready until the
         * daemon calls bank_modem_ready(true) again. Must not call into the bank. */
        int (*send)(void *modem_ctx, const char *pdu_hex, size_t tpdu_len, bool more_follow,
                    uint64_t cookie);
};

/* A send's outcome, as the modem core classifies it (at/modem.h). */
enum bank_outcome {
        BANK_OUTCOME_SENT,        /* +CMGS: <mr> arrived */
        BANK_OUTCOME_PERMANENT,   /* the network refused the message for good (bad number) */
        BANK_OUTCOME_TEMPORARY,   /* network trouble: try again later, maybe elsewhere */
        BANK_OUTCOME_MODEM_FAULT, /* the modem failed before the PDU was written */
        BANK_OUTCOME_UNKNOWN,     /* the PDU was written, then no clear answer (reset,
                                   * time-out, bare OK): maybe sent */
        BANK_OUTCOME_NO_CREDIT,   /* the SIM may not send (no credit): any other modem may */
};

struct bank_result {
        enum bank_outcome outcome;
        unsigned mr;      /* TP-MR when SENT */
        int cms;          /* +CMS ERROR number, -1 when none */
        const char *text; /* plain words for people ("+CMS ERROR: 38 (network out of
                           * order)"); NULL or "" when none; stored as the part's error */
};

/* Creates a bank over an open store. -ENOMEM. */
int bank_new(struct store *store, const struct config *config, struct bank **ret);
struct bank *bank_free(struct bank *b);

/* Adds a modem (not ready until bank_modem_ready(true)). modem_id is its store id (from
 * store_modem_upsert()); its count of parts sent today is read from the store.
 * send_rate_per_min: parts per minute, enforced as a minimum spacing of 60000/rate ms
 * between the starts of two sends (no bursts: carriers block SIMs that burst); 0 = no limit.
 * daily_limit: parts per local day, 0 = no limit. -EEXIST when modem_ctx or modem_id is
 * already in the bank, -E2BIG beyond BANK_MODEMS_MAX, -EINVAL for NULL ops/send. */
int bank_modem_add(struct bank *b, int64_t modem_id, const struct bank_modem_ops *ops,
                   void *modem_ctx, unsigned send_rate_per_min, unsigned daily_limit);

/* Removes a modem. A send still in flight on it (no result forwarded) may have reached the
 * network: its part becomes "unknown" (or due again when unknown_resend is set), as after a
 * crash, stamped with the time of the bank's latest call; forward the core's result before
 * removing when there is one. -ENOENT if not known. */
int bank_modem_remove(struct bank *b, void *modem_ctx);

/* The modem can (true) or cannot (false) take a send: its state machine is READY and it is
 * not busy recovering. The bank itself keeps one send in flight per modem, so the daemon need
 * not toggle this around each send. Does not kick. -ENOENT if not known. */
int bank_modem_ready(struct bank *b, void *modem_ctx, bool ready);

/* The result of the send with this cookie: commits it to the store (sent + counted, failed,
 * retry with back-off, due again at once on another modem, or unknown), then kicks.
 * -ENOENT for a cookie not in flight (already answered, or its modem was removed). */
int bank_send_done(struct bank *b, uint64_t cookie, const struct bank_result *r,
                   const struct bank_time *now);

/* The same from the modem core's own result struct (at/modem.h). */
int bank_send_result(struct bank *b, uint64_t cookie, const struct at_modem_send_result *r,
                     const struct bank_time *now);

/* Work the daemon joins to the bank's commits (status reports, daemon/modem-core.c): each
 * fsync costs more than the rest of a send, so a report that arrives while sends are in
 * flight is matched inside the next send's commit instead of one of its own.
 * in_batch() runs inside every bank batch, just before its commit: store calls made there
 * are part of it (each a savepoint). committed() follows with true once the commit is
 * durable, before any part of that step is handed to a modem, or false when the batch was
 * rolled back (everything in_batch() did is undone). Neither may call into the bank. A
 * step that cannot open a batch (the store is busy) calls neither. */
struct bank_batch_hooks {
        void (*in_batch)(void *userdata);
        void (*committed)(void *userdata, bool durable);
        void *userdata;
};

/* Sets the hooks (copied); NULL removes them. */
void bank_set_batch_hooks(struct bank *b, const struct bank_batch_hooks *hooks);

/* Whether a send is in flight on some modem: its result will come through
 * bank_send_done()/bank_send_result(), and with it a commit the hooks can join. */
bool bank_sending(const struct bank *b);

/* Hands due parts to idle ready modems with room under their limits, until none is left on
 * either side. Returns the number of parts handed over, or a negative errno (store). */
int bank_kick(struct bank *b, const struct bank_time *now);

/* When to kick next, on the monotonic ms clock: the earliest time a rate limit frees a ready
 * modem or a retry the bank scheduled falls due. BANK_NO_DEADLINE when nothing waits on time
 * (parts queued by puentectl with a not_before are seen by the daemon's periodic kick). */
uint64_t bank_next_deadline(const struct bank *b);

/* What the bank knows of a modem, for the daemon's status snapshot. */
struct bank_modem_info {
        int64_t modem_id;
        bool ready, busy;
        unsigned sent_today, daily_limit, send_rate;
        unsigned recent_errors;  /* within BANK_ERROR_WINDOW_MS */
        int64_t no_credit_until; /* Unix seconds: no parts for it before (or the next day); 0:
                                  * it has credit, as far as the bank knows */
};
int bank_modem_info(const struct bank *b, void *modem_ctx, const struct bank_time *now,
                    struct bank_modem_info *ret);
