/* The bank's small memories: parts with their forgiven faults and the modem to avoid,
 * messages failed for good, retry times for the next deadline, each modem's recent errors
 * and daily count. Fixed rings: when one is full the oldest entry goes, and the cost of
 * forgetting is mild (a fault counted as an attempt, a remaining part tried once more and
 * refused again, a wake-up left to the daemon's periodic kick). */
#include <stdio.h>
#include <string.h>

#include "daemon/bank-internal.h"

struct bank_track *bank_track_find(struct bank *b, int64_t part_id, bool create)
{
        struct bank_track *t;

        for (unsigned i = 0; i < BANK_TRACK_MAX; i++)
                if (b->track[i].part_id == part_id)
                        return &b->track[i];
        if (!create)
                return NULL;
        t = &b->track[b->track_next];
        b->track_next = (b->track_next + 1) % BANK_TRACK_MAX;
        *t = (struct bank_track){ .part_id = part_id };
        return t;
}

void bank_track_forget(struct bank *b, int64_t part_id)
{
        struct bank_track *t = bank_track_find(b, part_id, false);

        if (t)
                *t = (struct bank_track){ 0 };
}

void bank_dead_add(struct bank *b, int64_t message_id, const char *reason)
{
        struct bank_dead *d;

        if (bank_dead_reason(b, message_id))
                return;
        d = &b->dead[b->dead_next];
        b->dead_next = (b->dead_next + 1) % BANK_DEAD_MAX;
        d->message_id = message_id;
        snprintf(d->reason, sizeof(d->reason), "%s", reason && *reason ? reason : "refused");
}

const char *bank_dead_reason(const struct bank *b, int64_t message_id)
{
        for (unsigned i = 0; i < BANK_DEAD_MAX; i++)
                if (b->dead[i].message_id == message_id)
                        return b->dead[i].reason;
        return NULL;
}

/* The due list may be reused for BANK_DUE_TTL_MS after it was read, and a part that goes out
 * meanwhile changes the pin of its message's other parts. Without this, a part read before
 * part 1 went out looked free to go anywhere once part 1's modem left READY (a re-init with
 * the AT+CMGS still on the line, answered "+CMGS: <mr>" all the same): the soak's split
 * message, issue 4. A modem already pinned stays (the store's pin is the first part's). */
void bank_due_pin(struct bank *b, int64_t message_id, int64_t modem_id, int64_t wall)
{
        for (unsigned i = 0; i < b->n_due; i++) {
                struct bank_due *d = &b->due[i];

                if (d->message_id != message_id || d->pinned_modem)
                        continue;
                d->pinned_modem = modem_id;
                d->pinned_at = wall;
        }
}

void bank_retry_at(struct bank *b, uint64_t mono_ms)
{
        unsigned latest = 0;

        if (mono_ms == 0)
                mono_ms = 1; /* 0 marks a free slot */
        for (unsigned i = 0; i < BANK_RETRIES_MAX; i++) {
                if (b->retry_ms[i] == 0) {
                        b->retry_ms[i] = mono_ms;
                        return;
                }
                if (b->retry_ms[i] > b->retry_ms[latest])
                        latest = i;
        }
        /* Full: the latest one is the least urgent to remember. */
        if (mono_ms < b->retry_ms[latest])
                b->retry_ms[latest] = mono_ms;
}

void bank_retry_prune(struct bank *b, uint64_t now_ms)
{
        for (unsigned i = 0; i < BANK_RETRIES_MAX; i++)
                if (b->retry_ms[i] != 0 && b->retry_ms[i] <= now_ms)
                        b->retry_ms[i] = 0;
}

void bank_modem_error(struct bank *b, struct bank_modem *m, uint64_t now_ms)
{
        m->err_ms[m->err_next] = now_ms;
        m->err_next = (m->err_next + 1) % BANK_ERRORS_KEPT;
        if (m->err_count < BANK_ERRORS_KEPT)
                m->err_count++;
        /* The store keeps the lifetime count for status; a failure there is not the send's. */
        (void)store_modem_count_error(b->store, m->id);
}

unsigned bank_modem_recent_errors(const struct bank_modem *m, uint64_t now_ms)
{
        unsigned n = 0;

        for (unsigned i = 0; i < m->err_count; i++)
                if (m->err_ms[i] + BANK_ERROR_WINDOW_MS > now_ms)
                        n++;
        return n;
}

unsigned bank_modem_sent_on(const struct bank_modem *m, uint32_t day)
{
        return m->day == day ? m->sent_today : 0;
}

bool bank_modem_has_credit(const struct bank_modem *m, const struct bank_time *now)
{
        return m->no_credit_ms == 0 || now->mono_ms >= m->no_credit_ms ||
               now->day != m->no_credit_day;
}
