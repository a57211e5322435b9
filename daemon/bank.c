/* The bank's dispatch: modems in and out, and bank_kick(), which matches due parts to free
 * modems (docs/bank.md says why each rule). Results are in bank-result.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/bank-internal.h"
#include "daemon/log.h"

void bank_time_now(struct bank_time *ret)
{
        struct timespec mono, real;
        struct tm local;

        clock_gettime(CLOCK_MONOTONIC, &mono);
        clock_gettime(CLOCK_REALTIME, &real);
        localtime_r(&real.tv_sec, &local);
        *ret = (struct bank_time){
                .mono_ms = (uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000,
                .wall = real.tv_sec,
                .day = (uint32_t)((local.tm_year + 1900) * 10000 + (local.tm_mon + 1) * 100 +
                                  local.tm_mday),
        };
}

int bank_new(struct store *store, const struct config *config, struct bank **ret)
{
        struct bank *b;

        if (!store || !config || !ret)
                return -EINVAL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->store = store;
        b->config = config;
        *ret = b;
        return 0;
}

struct bank *bank_free(struct bank *b)
{
        if (b) {
                free(b->encode_parts);
                free(b);
        }
        return NULL;
}

static struct bank_modem *modem_of(const struct bank *b, const void *ctx)
{
        for (unsigned i = 0; i < b->n_modems; i++)
                if (b->modems[i].ctx == ctx)
                        return (struct bank_modem *)&b->modems[i];
        return NULL;
}

static struct bank_modem *modem_by_id(struct bank *b, int64_t id)
{
        for (unsigned i = 0; i < b->n_modems; i++)
                if (b->modems[i].id == id)
                        return &b->modems[i];
        return NULL;
}

int bank_modem_add(struct bank *b, int64_t modem_id, const struct bank_modem_ops *ops,
                   void *modem_ctx, unsigned send_rate_per_min, unsigned daily_limit)
{
        struct store_modem row;
        struct bank_modem *m;
        int r;

        if (!b || !ops || !ops->send || modem_id <= 0)
                return -EINVAL;
        if (modem_of(b, modem_ctx) || modem_by_id(b, modem_id))
                return -EEXIST;
        if (b->n_modems >= BANK_MODEMS_MAX)
                return -E2BIG;
        /* A modem that comes back keeps today's count: the carrier's limit does. */
        r = store_modem_get(b->store, modem_id, 0, &row);
        if (r < 0)
                return r;
        m = &b->modems[b->n_modems++];
        *m = (struct bank_modem){
                .id = modem_id,
                .ops = ops,
                .ctx = modem_ctx,
                .rate = send_rate_per_min,
                .daily_limit = daily_limit,
                .day = row.sent_day,
                .sent_today = row.sent_today,
        };
        return 0;
}

int bank_modem_remove(struct bank *b, void *modem_ctx)
{
        struct bank_modem *m = b ? modem_of(b, modem_ctx) : NULL;
        int r = 0;

        if (!m)
                return -ENOENT;
        if (m->busy) {
                /* The PDU may be out: the crash rule of docs/store.md, without the crash. */
                r = bank_finish(b, m,
                                &(struct bank_result){ .outcome = BANK_OUTCOME_UNKNOWN,
                                                       .cms = -1,
                                                       .text = "modem removed during the send" },
                                &b->last);
        }
        *m = b->modems[--b->n_modems];
        return r;
}

int bank_modem_ready(struct bank *b, void *modem_ctx, bool ready)
{
        struct bank_modem *m = b ? modem_of(b, modem_ctx) : NULL;

        if (!m)
                return -ENOENT;
        m->ready = ready;
        return 0;
}

static uint64_t spacing_ms(const struct bank_modem *m)
{
        return m->rate ? (60000 + m->rate - 1) / m->rate : 0;
}

/* Ready, with credit, under its daily limit: may send, busy or not. */
static bool modem_able(const struct bank_modem *m, const struct bank_time *now)
{
        return m->ready && bank_modem_has_credit(m, now) &&
               (m->daily_limit == 0 || bank_modem_sent_on(m, now->day) < m->daily_limit);
}

/* Able and idle: may take a part now or once the rate allows. */
static bool modem_usable(const struct bank_modem *m, const struct bank_time *now)
{
        return modem_able(m, now) && !m->busy;
}

static bool modem_free(const struct bank_modem *m, const struct bank_time *now)
{
        return modem_usable(m, now) &&
               (!m->started || now->mono_ms >= m->last_start_ms + spacing_ms(m));
}

/* The modem a due part must wait for, or NULL: the one sending the message's other parts
 * (follow), or for a multipart part tried before, the modem that tried it (one SIM per
 * message: the phone joins parts by sender). A modem gone, not ready, without credit or out
 * of today's quota holds nothing. */
static struct bank_modem *reserved_for(struct bank *b, const struct bank_due *d,
                                       const struct bank_time *now)
{
        struct bank_modem *m;

        for (unsigned i = 0; i < b->n_modems; i++) {
                m = &b->modems[i];
                if (m->follow_msg == d->message_id && modem_able(m, now))
                        return m;
        }
        if (d->part_count > 1 && d->last_modem) {
                const struct bank_track *t = bank_track_find(b, d->part_id, false);

                if (t && t->avoid_modem == d->last_modem)
                        return NULL; /* it faulted there: anywhere else */
                m = modem_by_id(b, d->last_modem);
                if (m && modem_able(m, now))
                        return m;
        }
        return NULL;
}

/* The healthiest free modem: fewest recent errors, then least used today, then the one whose
 * turn it is (longest since its last send). `avoid` is skipped unless it is the only one. */
static struct bank_modem *best_modem(struct bank *b, const struct bank_time *now, int64_t avoid)
{
        struct bank_modem *best = NULL, *fallback = NULL;

        for (unsigned i = 0; i < b->n_modems; i++) {
                struct bank_modem *m = &b->modems[i];

                if (!modem_free(m, now))
                        continue;
                if (m->id == avoid) {
                        fallback = m;
                        continue;
                }
                if (!best) {
                        best = m;
                        continue;
                }
                unsigned e = bank_modem_recent_errors(m, now->mono_ms);
                unsigned be = bank_modem_recent_errors(best, now->mono_ms);
                unsigned s = bank_modem_sent_on(m, now->day),
                         bs = bank_modem_sent_on(best, now->day);
                if (e < be || (e == be && (s < bs || (s == bs && m->last_used < best->last_used))))
                        best = m;
        }
        return best ? best : fallback;
}

static struct bank_due *find_due(struct bank *b, int64_t message_id, unsigned seq)
{
        for (unsigned i = 0; i < b->n_due; i++)
                if (!b->due[i].taken && b->due[i].message_id == message_id && b->due[i].seq == seq)
                        return &b->due[i];
        return NULL;
}

/* Fails a part that is not in flight (queued or retry) for good: the store only fails a part
 * from "sending", so it passes through it, with no modem. */
static int fail_unsent(struct bank *b, struct bank_due *d, const char *why,
                       const struct bank_time *now)
{
        int r = store_part_sending(b->store, d->part_id, 0, now->wall);

        d->taken = true;
        if (r == -ESTALE || r == -ENOENT)
                return 0;
        if (r == 0)
                r = store_part_failed(b->store, d->part_id, why, now->wall);
        if (r == 0)
                bank_log_part(LOG_NOTICE, d->message_id, d->seq, d->part_count, "failed", why);
        bank_track_forget(b, d->part_id);
        return r;
}

static int dispatch(struct bank *b, struct bank_modem *m, struct bank_due *d,
                    const struct bank_time *now);

/* The whole message again, from any modem, under a new reference: the parts sent from the
 * modem that is gone cannot be joined with parts from another SIM (docs/bank.md). */
static int resend_whole(struct bank *b, struct bank_due *d, const struct bank_time *now)
{
        const struct bank_modem *m = modem_by_id(b, d->pinned_modem);
        char why[STORE_ERROR_TEXT_MAX];
        int64_t id = 0;
        int r;

        snprintf(why, sizeof(why),
                 "resent whole: modem %lld that sent its first parts was %s for %d s",
                 (long long)d->pinned_modem,
                 m && m->ready && !bank_modem_has_credit(m, now) ? "without credit" : "away",
                 BANK_PIN_WAIT_S);
        r = store_message_resend(b->store, d->message_id, why, now->wall, &id);
        for (unsigned i = 0; i < b->n_due; i++)
                if (b->due[i].message_id == d->message_id)
                        b->due[i].taken = true;
        b->due_valid = false; /* the new message's parts are due */
        if (r == -ENOENT)
                return 0; /* nothing left to resend (another process did) */
        if (r < 0)
                return r;
        char what[64];
        snprintf(what, sizeof(what), "resent as message %lld", (long long)id);
        bank_log_part(LOG_WARNING, d->message_id, d->seq, d->part_count, what, why);
        return 1;
}

/* A part of a message that has parts sent from one modem goes there only: at once if it is
 * free, later if it is busy, and after BANK_PIN_WAIT_S without it the message is resent
 * whole. Returns 1 if something moved, 0 if the part waits, or a negative errno. */
static int pinned_part(struct bank *b, struct bank_due *d, const struct bank_time *now)
{
        struct bank_modem *m = modem_by_id(b, d->pinned_modem);

        if (m && modem_able(m, now)) {
                if (!modem_free(m, now) || (m->follow_msg && m->follow_msg != d->message_id))
                        return 0;
                int r = dispatch(b, m, d, now);
                return r < 0 ? r : 1;
        }
        if (now->wall < d->pinned_at + BANK_PIN_WAIT_S)
                return 0;
        return resend_whole(b, d, now);
}

/* Marks the part "sending" in the open batch; bank_step() hands it to the modem after the
 * commit. */
static int dispatch(struct bank *b, struct bank_modem *m, struct bank_due *d,
                    const struct bank_time *now)
{
        int r;

        d->taken = true;
        r = store_part_sending(b->store, d->part_id, m->id, now->wall);
        if (r == -ESTALE || r == -ENOENT)
                return 0; /* changed under us (another process): not ours any more */
        if (r < 0)
                return r;
        bank_due_pin(b, d->message_id, m->id, now->wall);
        m->pending_more = d->seq < d->part_count && find_due(b, d->message_id, d->seq + 1);
        m->busy = true;
        m->flight = (struct bank_flight){
                .cookie = ++b->next_cookie,
                .part_id = d->part_id,
                .message_id = d->message_id,
                .seq = d->seq,
                .part_count = d->part_count,
                .attempts = d->attempts + 1,
        };
        m->started = true;
        m->last_start_ms = now->mono_ms;
        m->last_used = ++b->dispatches;
        m->follow_msg = d->seq < d->part_count ? d->message_id : 0;
        m->follow_seq = d->seq + 1;
        m->pending = true;
        m->pending_tpdu_len = d->tpdu_len;
        memcpy(m->pending_pdu, d->pdu, strlen(d->pdu) + 1);
        return 0;
}

static int copy_due(const struct store_part *p, void *userdata)
{
        struct bank *b = userdata;
        struct bank_due *d = &b->due[b->n_due++];

        *d = (struct bank_due){
                .part_id = p->part_id,
                .message_id = p->message_id,
                .last_modem = p->modem_id,
                .pinned_modem = p->pinned_modem,
                .pinned_at = p->pinned_at,
                .seq = p->seq,
                .part_count = p->part_count,
                .attempts = p->attempts,
        };
        if (p->pdu && strlen(p->pdu) < sizeof(d->pdu) && bank_tpdu_len(p->pdu, &d->tpdu_len) == 0)
                memcpy(d->pdu, p->pdu, strlen(p->pdu) + 1);
        else
                d->encode_error = bank_encode_part(b, p, d);
        return b->n_due < BANK_FETCH_MAX ? 0 : 1;
}

/* Reads the due parts into the bank's list. The list is reused by the next kicks while it is
 * younger than BANK_DUE_TTL_MS and still holds parts nobody took: reading and sorting every
 * due part for each send would cost more than the send (docs/bank.md, "The due list"). */
static int fetch_due(struct bank *b, const struct bank_time *now)
{
        int r;

        b->n_due = 0;
        b->due_valid = false;
        r = store_next_parts(b->store, now->wall, BANK_FETCH_MAX, copy_due, b);
        if (r < 0)
                return r;
        b->due_valid = true;
        b->due_ms = now->mono_ms;
        return 0;
}

static bool due_usable(const struct bank *b, const struct bank_time *now)
{
        if (!b->due_valid || now->mono_ms >= b->due_ms + BANK_DUE_TTL_MS)
                return false;
        for (unsigned i = 0; i < b->n_due; i++)
                if (!b->due[i].taken)
                        return true;
        return false;
}

/* One round over the due list: give each free modem its next part. Returns how many parts
 * were dealt with (handed over, failed, refused by a modem), 0 when nothing moved. */
static int kick_round(struct bank *b, const struct bank_time *now)
{
        int r, moved = 0;

        /* First the modems in the middle of a multipart message: their next part. */
        for (unsigned i = 0; i < b->n_modems; i++) {
                struct bank_modem *m = &b->modems[i];
                struct bank_due *d;

                if (!m->follow_msg || !modem_free(m, now))
                        continue;
                d = find_due(b, m->follow_msg, m->follow_seq);
                if (!d) {
                        m->follow_msg = 0; /* not due (retry later) or gone: let it go */
                        continue;
                }
                if (d->encode_error)
                        continue; /* the general pass fails it */
                r = dispatch(b, m, d, now);
                if (r < 0)
                        return r;
                moved++;
        }
        for (unsigned i = 0; i < b->n_due; i++) {
                struct bank_due *d = &b->due[i];
                struct bank_track *t;
                struct bank_modem *m;
                const char *dead;
                char why[STORE_ERROR_TEXT_MAX];

                if (d->taken)
                        continue;
                dead = bank_dead_reason(b, d->message_id);
                if (dead || d->encode_error) {
                        if (dead)
                                snprintf(why, sizeof(why), "not sent: another part failed: %s",
                                         dead);
                        else
                                snprintf(why, sizeof(why), "cannot encode the text (%s)",
                                         strerror(-d->encode_error));
                        r = fail_unsent(b, d, why, now);
                        if (r < 0)
                                return r;
                        moved++;
                        continue;
                }
                if (d->part_count > 1 && d->pinned_modem) {
                        r = pinned_part(b, d, now);
                        if (r < 0)
                                return r;
                        moved += r;
                        continue;
                }
                m = reserved_for(b, d, now);
                if (m) {
                        if (!modem_free(m, now) ||
                            (m->follow_msg && m->follow_msg != d->message_id))
                                continue;
                } else {
                        t = bank_track_find(b, d->part_id, false);
                        m = best_modem(b, now, t ? t->avoid_modem : 0);
                        if (!m)
                                break;
                }
                r = dispatch(b, m, d, now);
                if (r < 0)
                        return r;
                moved++;
        }
        return moved;
}

static bool any_free(const struct bank *b, const struct bank_time *now)
{
        for (unsigned i = 0; i < b->n_modems; i++)
                if (modem_free(&b->modems[i], now))
                        return true;
        return false;
}

static int kick_rounds(struct bank *b, const struct bank_time *now)
{
        int r;

        while (any_free(b, now)) {
                bool fresh = !due_usable(b, now);

                if (fresh && (r = fetch_due(b, now)) < 0)
                        return r;
                r = kick_round(b, now);
                if (r == 0 && !fresh) {
                        /* The list kept only parts nobody free may take: new ones may wait. */
                        if ((r = fetch_due(b, now)) < 0)
                                return r;
                        r = kick_round(b, now);
                }
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
        }
        return 0;
}

/* The batch did not commit: the parts marked in it are as they were (queued, retry). */
static void undo_pending(struct bank *b)
{
        for (unsigned i = 0; i < b->n_modems; i++) {
                struct bank_modem *m = &b->modems[i];

                if (!m->pending)
                        continue;
                m->pending = false;
                m->busy = false;
                m->flight = (struct bank_flight){ 0 };
                m->follow_msg = 0; /* the store's pin (pinned_modem) still holds the message */
        }
        b->due_valid = false;
}

/* Hands the committed parts to their modems. Returns how many modems refused theirs (each
 * then recorded as a modem fault), or a negative errno from recording one. */
static int send_pending(struct bank *b, const struct bank_time *now)
{
        int refused = 0, err = 0;

        for (unsigned i = 0; i < b->n_modems; i++) {
                struct bank_modem *m = &b->modems[i];
                char why[STORE_ERROR_TEXT_MAX];

                if (!m->pending)
                        continue;
                m->pending = false;
                int r = m->ops->send(m->ctx, m->pending_pdu, m->pending_tpdu_len, m->pending_more,
                                     m->flight.cookie);
                if (r == 0) {
                        b->handed++;
                        continue;
                }
                /* Nothing reached the modem: a fault before the PDU, and the modem sits out
                 * until the daemon says it is ready again. */
                m->ready = false;
                snprintf(why, sizeof(why), "modem refused the send (%s)", strerror(-r));
                r = bank_finish(b, m,
                                &(struct bank_result){ .outcome = BANK_OUTCOME_MODEM_FAULT,
                                                       .cms = -1,
                                                       .text = why },
                                now);
                if (r < 0 && err == 0)
                        err = r;
                refused++;
        }
        return err < 0 ? err : refused;
}

int bank_step(struct bank *b, struct bank_modem *done, const struct bank_result *res,
              const struct bank_time *now)
{
        int fin = 0, kick = 0;

        b->last = *now;
        b->handed = 0;
        bank_retry_prune(b, now->mono_ms);
        if (!done && !any_free(b, now))
                return 0; /* the daemon kicks after every result: no empty transaction */
        /* A modem that refuses its part is taken as not ready, so this ends within
         * BANK_MODEMS_MAX + 1 rounds. */
        for (unsigned round = 0; round <= BANK_MODEMS_MAX; round++) {
                /* One commit for the result and every "sending" of the kick: each fsync
                 * costs more than the rest of a send (docs/bank.md, "Commits"). Without a
                 * batch (the store is busy) each call commits on its own, as durable. */
                bool batch = store_batch_begin(b->store) == 0;
                int r;

                if (done) {
                        fin = bank_finish(b, done, res, now);
                        done = NULL;
                }
                kick = kick_rounds(b, now);
                if (batch && b->hooks.in_batch)
                        b->hooks.in_batch(b->hooks.userdata);
                if (batch && (r = store_batch_commit(b->store)) < 0) {
                        undo_pending(b);
                        if (b->hooks.committed)
                                b->hooks.committed(b->hooks.userdata, false);
                        return fin < 0 ? fin : r;
                }
                if (batch && b->hooks.committed)
                        b->hooks.committed(b->hooks.userdata, true);
                r = send_pending(b, now);
                if (r < 0 && kick == 0)
                        kick = r;
                if (r <= 0 || kick < 0)
                        break;
        }
        return fin < 0 ? fin : kick < 0 ? kick : (int)b->handed;
}

void bank_set_batch_hooks(struct bank *b, const struct bank_batch_hooks *hooks)
{
        b->hooks = hooks ? *hooks : (struct bank_batch_hooks){ 0 };
}

bool bank_sending(const struct bank *b)
{
        for (unsigned i = 0; i < b->n_modems; i++)
                if (b->modems[i].busy && !b->modems[i].pending)
                        return true;
        return false;
}

int bank_kick(struct bank *b, const struct bank_time *now)
{
        if (!b || !now)
                return -EINVAL;
        return bank_step(b, NULL, NULL, now);
}

uint64_t bank_next_deadline(const struct bank *b)
{
        uint64_t next = BANK_NO_DEADLINE;

        for (unsigned i = 0; i < b->n_modems; i++) {
                const struct bank_modem *m = &b->modems[i];

                /* Only a modem the rate alone holds back frees work by time. */
                if (modem_usable(m, &b->last) && m->started && m->rate &&
                    m->last_start_ms + spacing_ms(m) > b->last.mono_ms &&
                    m->last_start_ms + spacing_ms(m) < next)
                        next = m->last_start_ms + spacing_ms(m);
        }
        for (unsigned i = 0; i < BANK_RETRIES_MAX; i++)
                if (b->retry_ms[i] != 0 && b->retry_ms[i] < next)
                        next = b->retry_ms[i];
        /* A SIM held for want of credit may take parts again (the day's change is seen by
         * the daemon's periodic kick). */
        for (unsigned i = 0; i < b->n_modems; i++) {
                const struct bank_modem *m = &b->modems[i];
                if (m->no_credit_ms > b->last.mono_ms && m->no_credit_ms < next)
                        next = m->no_credit_ms;
        }
        /* A part waiting for its message's modem: the whole message is resent at the end of
         * the wait even if nothing else wakes the daemon. */
        for (unsigned i = 0; i < b->n_due; i++) {
                const struct bank_due *d = &b->due[i];
                int64_t left = d->pinned_at + BANK_PIN_WAIT_S - b->last.wall;

                if (d->taken || !d->pinned_modem || d->part_count < 2 || left < 0)
                        continue;
                uint64_t at = b->last.mono_ms + (uint64_t)left * 1000u;
                if (at < next)
                        next = at;
        }
        return next;
}

int bank_modem_info(const struct bank *b, void *modem_ctx, const struct bank_time *now,
                    struct bank_modem_info *ret)
{
        const struct bank_modem *m = b ? modem_of(b, modem_ctx) : NULL;

        if (!m || !now || !ret)
                return m ? -EINVAL : -ENOENT;
        *ret = (struct bank_modem_info){
                .modem_id = m->id,
                .ready = m->ready,
                .busy = m->busy,
                .sent_today = bank_modem_sent_on(m, now->day),
                .daily_limit = m->daily_limit,
                .send_rate = m->rate,
                .recent_errors = bank_modem_recent_errors(m, now->mono_ms),
                .no_credit_until = bank_modem_has_credit(m, now) ? 0 : m->no_credit_wall,
        };
        return 0;
}
