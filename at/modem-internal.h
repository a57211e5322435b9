/* Internals shared by at/modem.c (states, sending, receiving) and at/modem-setup.c (the init
 * sequences and their handlers). Not for use outside at/modem*.c. */
#pragma once

#include "at/chat.h"
#include "at/modem.h"
#include "at/parse.h"
#include "at/seq.h"

#define MODEM_GARBAGE_MAX     16    /* dropped lines within MODEM_GARBAGE_WINDOW: a ladder step */
#define MODEM_GARBAGE_WINDOW  10000 /* ms */
#define MODEM_SETUP_TRIES     5     /* SMS set-up refused ("not ready yet"): runs before FAILED */
#define MODEM_SETUP_RETRY_MS  3000  /* wait between those runs */
#define MODEM_PROBE_AT_MS     1000  /* time-out of each autobaud "AT" */
#define MODEM_PROBE_SETTLE_MS 300   /* after the first answer, before ATE0 */
#define MODEM_IMEI_DIGITS     15    /* 3GPP TS 23.003 6.2.1 */
#define MODEM_CFUN_TIMEOUT_MS 15000 /* AT+CFUN=1,1 may answer only after detaching */
#define MODEM_READ_MAX        64    /* slots announced (+CMTI/+CDSI) and not yet read */
#define MODEM_CNMI_MAX        6     /* +CNMI settings tried */

struct modem_pending {
        int index; /* -1: a direct delivery waiting for AT+CNMA */
        bool report;
};

struct modem_read {
        int index;
        bool report; /* announced by +CDSI */
};

struct at_modem {
        struct at_modem_callbacks cb;
        void *userdata;
        char name[32];
        char smsc_cfg[AT_PARSE_NUMBER_MAX];
        uint32_t send_timeout_ms, register_timeout_ms, csq_interval_ms, list_interval_ms;

        struct at_chat *chat;
        struct at_seq seq;
        uint64_t now;
        unsigned quirks;
        enum at_modem_state state;
        struct at_modem_info info;
        bool started;
        bool stopping; /* inside stop_everything(): no state changes from results */

        /* probe and SIM */
        unsigned probe_tries;
        char pin[AT_MODEM_PIN_MAX]; /* to be entered; wiped once sent */
        bool pin_entered;

        /* network */
        uint64_t reg_deadline; /* NETWORK: after this, say "not registered" */
        uint64_t creg_poll_at; /* NETWORK: next AT+CREG? */
        unsigned creg_id;
        bool registered;

        /* SMS set-up */
        unsigned setup_tries;
        uint64_t setup_retry_at;
        struct at_cnmi_support cnmi;
        bool cnmi_known;
        size_t cnmi_try;
        char cnmi_set[32];
        bool cnma_needed;

        /* ready */
        uint64_t csq_at;
        uint64_t list_at; /* the storage's next listing (AT_MODEM_LIST_INTERVAL_MS) */
        unsigned csq_id;

        /* sending: one part */
        bool sending;
        uint64_t send_cookie;
        char send_pdu[AT_CHAT_PDU_HEX_MAX + 1];
        size_t send_tpdu_len;
        unsigned send_id; /* AT+CMGS in flight or queued */
        bool pdu_written; /* Ctrl-Z of the PDU reached the port */
        bool csca_retried;
        bool burst; /* AT+CMMS=1 sent for this multipart burst */

        /* receiving */
        struct modem_pending pend[AT_MODEM_PENDING_MAX];
        size_t n_pend;
        struct modem_read reads[MODEM_READ_MAX];
        size_t n_reads;
        unsigned read_id;
        struct modem_read reading;
        unsigned drain_id;
        unsigned direct_unacked;        /* +CMT/+CDS handed out and not yet acked */
        int dels[AT_MODEM_PENDING_MAX]; /* acked slots to delete, one AT+CMGD at a time */
        size_t n_dels;
        unsigned del_id;
        bool drain_wanted; /* list storage at the next chance */
        bool drain_again;  /* a listing had more than we could hold */
        bool storage_full;

        /* recovery */
        uint64_t ladder_wait_until; /* RECOVERING: CFUN reset boot wait; UINT64_MAX none */
        bool reopen_wait;
        uint64_t garbage_since;
        uint64_t garbage_quiet_until; /* drops ignored until then, after a garbage step */
        unsigned garbage;
};

/* at/modem.c */
void modem_enter(struct at_modem *m, enum at_modem_state to, const char *reason);
void modem_fail(struct at_modem *m, enum at_modem_fail why, const char *detail);
void modem_ladder(struct at_modem *m, const char *why);
void modem_set_error(struct at_modem *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void modem_info_changed(struct at_modem *m);
void modem_set_reg(struct at_modem *m, int stat);
void modem_storage_full(struct at_modem *m);
void modem_become_ready(struct at_modem *m);
int modem_issue(struct at_modem *m, const char *text, const char *prefix, uint32_t timeout_ms,
                unsigned flags, at_chat_result_fn fn, at_chat_line_fn on_line, unsigned *ret_id);

/* at/modem-send.c */
void modem_poll_signal(struct at_modem *m);

/* at/modem-recv.c */
int modem_recv_register(struct at_modem *m);
void modem_recv_forget(struct at_modem *m);
void modem_recv_pump(struct at_modem *m);

/* at/modem-setup.c */
void modem_start_probe(struct at_modem *m);
void modem_start_network(struct at_modem *m);
void modem_start_sms_setup(struct at_modem *m);
void modem_network_poll(struct at_modem *m);
void modem_handle_csq(struct at_modem *m, const struct at_result *r);
