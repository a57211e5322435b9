/* What a send's outcome does to its part (docs/bank.md, "Outcomes"): sent and counted,
 * failed for good (with the message's other parts), retried with back-off, due again at once
 * elsewhere after a modem fault, or left "unknown". */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "at/modem.h"
#include "daemon/bank-internal.h"
#include "daemon/config.h"
#include "daemon/log.h"

void bank_log_part(int priority, int64_t message_id, unsigned seq, unsigned count, const char *what,
                   const char *why)
{
        char id[24];

        snprintf(id, sizeof(id), "%" PRId64, message_id);
        log_fields(priority, (const char *const[]){ "MESSAGE_ID", id, NULL },
                   "part %u/%u of message %s %s: %s", seq, count, id, what, why);
}

static const char *text_or(const struct bank_result *r, const char *fallback)
{
        return r->text && *r->text ? r->text : fallback;
}

static int on_sent(struct bank *b, struct bank_modem *m, const struct bank_flight *f,
                   const struct bank_result *r, const struct bank_time *now)
{
        unsigned count;
        int ret = store_part_sent(b->store, f->part_id, r->mr & 0xff, now->wall);

        if (ret < 0)
                return ret;
        bank_track_forget(b, f->part_id);
        /* Count it even when the day turned mid-send: the carrier counts on its own clock. */
        ret = store_modem_count_sent(b->store, m->id, now->day, &count);
        if (ret < 0)
                return ret;
        m->day = now->day;
        m->sent_today = count;
        return 0;
}

/* Temporary failures and modem faults: due again later (or at once), or given up. Modem
 * faults before the PDU left are not the part's doing, so up to BANK_FAULTS_MAX of them are
 * not counted against the configured attempts (memory only: after a restart they count). */
static int on_retry(struct bank *b, struct bank_modem *m, const struct bank_flight *f,
                    const struct bank_result *r, bool fault, const struct bank_time *now)
{
        struct bank_track *t = bank_track_find(b, f->part_id, true);
        char why[STORE_ERROR_TEXT_MAX];
        unsigned attempts;
        int64_t delay;

        if (fault && t->faults < BANK_FAULTS_MAX)
                t->faults++;
        unsigned forgiven = t->faults + t->no_credit;
        attempts = f->attempts > forgiven ? f->attempts - forgiven : 0;
        if (attempts >= b->config->retry.attempts ||
            f->attempts >= b->config->retry.attempts + BANK_FAULTS_MAX + t->no_credit) {
                snprintf(why, sizeof(why), "gave up after %u attempts: %s", f->attempts,
                         text_or(r, fault ? "modem fault" : "temporary failure"));
                bank_track_forget(b, f->part_id);
                int ret = store_part_failed(b->store, f->part_id, why, now->wall);
                if (ret == 0)
                        bank_log_part(LOG_WARNING, f->message_id, f->seq, f->part_count, "failed",
                                      why);
                return ret;
        }
        /* Elsewhere next time if another modem is free (bank.c: best_modem). A multipart
         * part stays with its modem unless it faulted (one SIM per message). */
        if (fault || f->part_count == 1)
                t->avoid_modem = m->id;
        delay = fault ? 0 : (int64_t)config_retry_delay(b->config, attempts);
        if (delay > 0)
                bank_retry_at(b, now->mono_ms + (uint64_t)delay * 1000);
        return store_part_retry(b->store, f->part_id, now->wall + delay,
                                text_or(r, fault ? "modem fault" : "temporary failure"), now->wall);
}

/* The SIM may not send (no credit): the part is due again at once on another modem, and this
 * one takes nothing for BANK_NO_CREDIT_HOLD_S or until the day changes. Not the message's
 * attempt: with every SIM dry, the message waits instead of failing (docs/bank.md). A part
 * of a message pinned to this modem waits for it like for a modem gone (bank.c). */
static int on_no_credit(struct bank *b, struct bank_modem *m, const struct bank_flight *f,
                        const struct bank_result *r, const struct bank_time *now)
{
        struct bank_track *t = bank_track_find(b, f->part_id, true);
        char why[STORE_ERROR_TEXT_MAX];
        char id[24];

        if (t->no_credit < UINT_MAX)
                t->no_credit++;
        t->avoid_modem = m->id;
        if (bank_modem_has_credit(m, now)) {
                snprintf(id, sizeof(id), "%" PRId64, m->id);
                log_fields(LOG_WARNING, (const char *const[]){ "MODEM_ID", id, NULL },
                           "modem %s has no credit (%s): no parts for it for %d min or until "
                           "tomorrow",
                           id, text_or(r, "+CMS 21"), BANK_NO_CREDIT_HOLD_S / 60);
        }
        m->no_credit_ms = now->mono_ms + BANK_NO_CREDIT_HOLD_S * 1000ull;
        m->no_credit_wall = now->wall + BANK_NO_CREDIT_HOLD_S;
        m->no_credit_day = now->day;
        snprintf(why, sizeof(why), "no credit on modem %" PRId64 ": %s", m->id,
                 text_or(r, "+CMS 21"));
        return store_part_retry(b->store, f->part_id, now->wall, why, now->wall);
}

static int on_permanent(struct bank *b, const struct bank_flight *f, const struct bank_result *r,
                        const struct bank_time *now)
{
        const char *why = text_or(r, "refused by the network");
        int ret;

        bank_track_forget(b, f->part_id);
        /* The recipient or the message is refused: the other parts would be too, and a
         * message missing a part is no message. They fail as they fall due (bank.c). */
        if (f->part_count > 1)
                bank_dead_add(b, f->message_id, why);
        ret = store_part_failed(b->store, f->part_id, why, now->wall);
        if (ret == 0)
                bank_log_part(LOG_WARNING, f->message_id, f->seq, f->part_count, "failed", why);
        return ret;
}

static int on_unknown(struct bank *b, const struct bank_flight *f, const struct bank_result *r,
                      const struct bank_time *now)
{
        const char *why = text_or(r, "no clear answer from the modem");
        char text[STORE_ERROR_TEXT_MAX];

        bank_track_forget(b, f->part_id);
        if (b->config->unknown_resend) {
                /* puente.conf unknown_resend: a duplicate is preferred to a gap. */
                snprintf(text, sizeof(text), "%s; resent by configuration", why);
                return store_part_retry(b->store, f->part_id, now->wall, text, now->wall);
        }
        bank_log_part(LOG_WARNING, f->message_id, f->seq, f->part_count,
                      "may or may not have been sent (not resent)", why);
        return store_part_unknown(b->store, f->part_id, why, now->wall);
}

int bank_finish(struct bank *b, struct bank_modem *m, const struct bank_result *r,
                const struct bank_time *now)
{
        struct bank_flight f = m->flight;

        m->busy = false;
        m->flight = (struct bank_flight){ 0 };
        /* A part due again at once (fault, retry now, resend) is not in the due list.
         * r is never NULL: bank_step(b, NULL, NULL, now) finishes nothing; cppcheck's
         * cross-file check pairs its NULL result with a modem all the same. */
        // cppcheck-suppress ctunullpointer
        if (r->outcome != BANK_OUTCOME_SENT)
                b->due_valid = false;
        if (r->outcome != BANK_OUTCOME_SENT && r->outcome != BANK_OUTCOME_TEMPORARY &&
            m->follow_msg == f.message_id)
                m->follow_msg = 0; /* its other parts are failed, or better elsewhere */
        switch (r->outcome) {
        case BANK_OUTCOME_SENT:
                return on_sent(b, m, &f, r, now);
        case BANK_OUTCOME_PERMANENT:
                return on_permanent(b, &f, r, now);
        case BANK_OUTCOME_TEMPORARY:
                bank_modem_error(b, m, now->mono_ms);
                return on_retry(b, m, &f, r, false, now);
        case BANK_OUTCOME_MODEM_FAULT:
                bank_modem_error(b, m, now->mono_ms);
                return on_retry(b, m, &f, r, true, now);
        case BANK_OUTCOME_UNKNOWN:
                bank_modem_error(b, m, now->mono_ms);
                return on_unknown(b, &f, r, now);
        case BANK_OUTCOME_NO_CREDIT:
                return on_no_credit(b, m, &f, r, now);
        }
        return -EINVAL;
}

int bank_send_done(struct bank *b, uint64_t cookie, const struct bank_result *r,
                   const struct bank_time *now)
{
        if (!b || !r || !now || (unsigned)r->outcome > BANK_OUTCOME_NO_CREDIT)
                return -EINVAL;
        b->last = *now;
        for (unsigned i = 0; i < b->n_modems; i++) {
                struct bank_modem *m = &b->modems[i];

                if (!m->busy || m->flight.cookie != cookie)
                        continue;
                int ret = bank_step(b, m, r, now);
                return ret < 0 ? ret : 0;
        }
        return -ENOENT;
}

int bank_send_result(struct bank *b, uint64_t cookie, const struct at_modem_send_result *r,
                     const struct bank_time *now)
{
        static const enum bank_outcome map[] = {
                [AT_SEND_SENT] = BANK_OUTCOME_SENT,
                [AT_SEND_PERMANENT] = BANK_OUTCOME_PERMANENT,
                [AT_SEND_TEMPORARY] = BANK_OUTCOME_TEMPORARY,
                [AT_SEND_MODEM_FAULT] = BANK_OUTCOME_MODEM_FAULT,
                [AT_SEND_UNKNOWN] = BANK_OUTCOME_UNKNOWN,
                [AT_SEND_NO_CREDIT] = BANK_OUTCOME_NO_CREDIT,
        };

        if (!r || (unsigned)r->outcome >= sizeof(map) / sizeof(map[0]))
                return -EINVAL;
        /* "SENT" without a TP-MR would lose the report match: the core never gives one, but
         * if it did, the part did go, so it is sent with TP-MR 0 rather than resent. */
        return bank_send_done(b, cookie,
                              &(struct bank_result){ .outcome = map[r->outcome],
                                                     .mr = r->mr >= 0 ? (unsigned)r->mr : 0,
                                                     .cms = r->cms,
                                                     .text = r->text },
                              now);
}
