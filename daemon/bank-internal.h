/* What daemon/bank*.c share: the struct bank, its modems and the small memories it keeps
 * between kicks (parts to keep away from a modem, messages failed for good, retry times).
 * Nothing outside daemon/bank*.c includes this. */
#pragma once

#include "daemon/bank.h"
#include "daemon/store.h"

#define BANK_ERRORS_KEPT 16   /* error times remembered per modem (recent_errors) */
#define BANK_TRACK_MAX   64   /* parts remembered with their faults / modem to avoid */
#define BANK_DEAD_MAX    64   /* messages remembered as failed for good */
#define BANK_RETRIES_MAX 64   /* retry times remembered for bank_next_deadline() */
#define BANK_DUE_TTL_MS  1000 /* how long a read of the due parts is reused */

struct bank_flight {
        uint64_t cookie;
        int64_t part_id, message_id;
        unsigned seq, part_count;
        unsigned attempts; /* the store's count, this send included */
};

struct bank_modem {
        int64_t id;
        const struct bank_modem_ops *ops;
        void *ctx;
        unsigned rate, daily_limit;
        bool ready, busy;
        struct bank_flight flight;
        bool started;           /* a send was started: last_start_ms is meaningful */
        uint64_t last_start_ms; /* the rate limit spaces send starts */
        uint64_t last_used;     /* the bank's dispatch counter at its latest send */
        uint32_t day;           /* the day sent_today counts */
        unsigned sent_today;
        uint64_t err_ms[BANK_ERRORS_KEPT]; /* ring of recent error times */
        unsigned err_next, err_count;
        /* The next part of a multipart message started here: the parts of one message must
         * come from one SIM (the phone joins parts by sender), so they stay here. */
        int64_t follow_msg;
        unsigned follow_seq;
        /* "sending" is in the open store batch: the part goes to ops->send once the batch
         * is committed (bank.c: bank_step), never before (docs/store.md, exactly once). */
        /* No credit (+CMS 21): no parts before no_credit_ms, unless the day is no longer
         * no_credit_day; 0 = has credit. */
        uint64_t no_credit_ms;
        int64_t no_credit_wall;
        uint32_t no_credit_day;
        bool pending, pending_more;
        size_t pending_tpdu_len;
        char pending_pdu[STORE_PDU_HEX_MAX];
};

/* A part remembered across kicks: modem faults forgiven, and the modem it should avoid. */
struct bank_track {
        int64_t part_id; /* 0 = free slot */
        unsigned faults;
        unsigned no_credit; /* refusals for want of credit: never counted as attempts */
        int64_t avoid_modem;
};

struct bank_dead {
        int64_t message_id; /* 0 = free slot */
        char reason[STORE_ERROR_TEXT_MAX];
};

/* A due part copied out of store_next_parts() (its strings are borrowed there). */
struct bank_due {
        int64_t part_id, message_id, last_modem;
        int64_t pinned_modem, pinned_at; /* store_part: the modem with a part of it out */
        unsigned seq, part_count, attempts;
        bool taken;
        int encode_error; /* no PDU stored and encoding at send time failed */
        size_t tpdu_len;
        char pdu[STORE_PDU_HEX_MAX];
};

struct bank {
        struct store *store;
        const struct config *config;
        struct bank_modem modems[BANK_MODEMS_MAX];
        unsigned n_modems;
        uint64_t next_cookie, dispatches;
        unsigned handed;       /* parts handed to modems in this bank_kick() */
        struct bank_time last; /* the latest time the bank was given */
        struct bank_track track[BANK_TRACK_MAX];
        unsigned track_next;
        struct bank_dead dead[BANK_DEAD_MAX];
        unsigned dead_next;
        uint64_t retry_ms[BANK_RETRIES_MAX]; /* 0 = free slot */
        struct bank_due due[BANK_FETCH_MAX]; /* the due list, see bank.c: fetch_due() */
        unsigned n_due;
        bool due_valid; /* false: read it again at the next kick */
        uint64_t due_ms;
        struct sms_part *encode_parts; /* scratch for encoding at send time */
        struct bank_batch_hooks hooks;
};

/* bank.c: records the result r of done's send (done may be NULL: a plain kick) and kicks,
 * in one store batch (one commit), then hands the parts marked "sending" to their modems.
 * Returns the result's error first, else the kick's, else the number of parts handed. */
int bank_step(struct bank *b, struct bank_modem *done, const struct bank_result *r,
              const struct bank_time *now);

/* bank-memory.c */
struct bank_track *bank_track_find(struct bank *b, int64_t part_id, bool create);
void bank_track_forget(struct bank *b, int64_t part_id);
void bank_dead_add(struct bank *b, int64_t message_id, const char *reason);
const char *bank_dead_reason(const struct bank *b, int64_t message_id);
/* A part of message_id is now "sending" on modem_id: its other parts in the due list are
 * pinned there, as the store pins them (store_part.pinned_modem) for the next read. */
void bank_due_pin(struct bank *b, int64_t message_id, int64_t modem_id, int64_t wall);
void bank_retry_at(struct bank *b, uint64_t mono_ms);
void bank_retry_prune(struct bank *b, uint64_t now_ms);
void bank_modem_error(struct bank *b, struct bank_modem *m, uint64_t now_ms);
unsigned bank_modem_recent_errors(const struct bank_modem *m, uint64_t now_ms);
unsigned bank_modem_sent_on(const struct bank_modem *m, uint32_t day);
/* False while the modem's SIM is held for want of credit (BANK_NO_CREDIT_HOLD_S). */
bool bank_modem_has_credit(const struct bank_modem *m, const struct bank_time *now);

/* bank-encode.c: fills d->pdu and d->tpdu_len from the part's text (no PDU was stored). */
int bank_encode_part(struct bank *b, const struct store_part *p, struct bank_due *d);
/* The TPDU length AT+CMGS wants, from a hex PDU that starts with the SMSC octets. */
int bank_tpdu_len(const char *pdu_hex, size_t *ret_len);

/* bank-result.c: logs "part 2/3 of message 42 <what>: <why>" with MESSAGE_ID=. */
void bank_log_part(int priority, int64_t message_id, unsigned seq, unsigned count, const char *what,
                   const char *why);
/* bank-result.c: ends the send in flight on m with r (the daemon's result, a refused
 * ops->send, or a removal) and commits it; does not kick. */
int bank_finish(struct bank *b, struct bank_modem *m, const struct bank_result *r,
                const struct bank_time *now);
