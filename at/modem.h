/* One GSM modem's life as an I/O-free state machine: probe, SIM, network, SMS set-up, ready;
 * sending one SMS part at a time, receiving and deleting stored messages, recovering.
 *
 * How the daemon drives it (same contract as at/chat.h, which it owns):
 *   - at_modem_start(m, now) once the port is open;
 *   - at_modem_feed(m, bytes, n, now) with whatever the port delivered (any split);
 *   - at_modem_tick(m, now) when the timer armed for at_modem_next_deadline() fires;
 *   - after each call into the modem (feed, tick, start, send, sms_done, reopened, restart),
 *     drain at_modem_output() / at_modem_output_done() to the port and re-arm the timer from
 *     at_modem_next_deadline(): any call may change both.
 * `now` is a monotonic time in milliseconds chosen by the caller; it must not go backwards.
 *
 * Ownership: at_modem_new() allocates the modem (and its at_chat) and copies the config
 * (strings included); at_modem_free() frees both. Everything handed to callbacks (strings,
 * structs) is borrowed and valid only during the callback. at_modem_info() returns a pointer
 * into the modem, valid until the next call that feeds, ticks or frees it.
 *
 * Re-entrancy: callbacks may call at_modem_send(), at_modem_sms_done(), at_modem_info(),
 * at_modem_state() and the output functions. They must not call at_modem_feed(),
 * at_modem_tick(), at_modem_start(), at_modem_restart(), at_modem_reopened() or
 * at_modem_free() on the same modem (defer those to the event loop).
 *
 * States and transitions are in docs/modems.md; every transition goes through one function
 * that calls on_state with a plain-words reason, so the binding logs them in one place; it is
 * called also when the state stays the same with a new reason (PROBE again after a ladder
 * step), so from == to is possible.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at/parse.h"

#define AT_MODEM_SEND_TIMEOUT_MS     60000  /* AT+CMGS: real networks take seconds */
#define AT_MODEM_REGISTER_TIMEOUT_MS 180000 /* NETWORK: waiting before saying "not registered" */
#define AT_MODEM_CSQ_INTERVAL_MS     60000  /* signal polled this often when idle */
/* Storage listed this often while ready: a message whose +CMTI was lost on the line (garbage,
 * a flood, a reset between the store and the notice) is read then, not at the next restart. */
#define AT_MODEM_LIST_INTERVAL_MS 300000
#define AT_MODEM_CREG_POLL_MS     5000  /* registration polled this often in NETWORK */
#define AT_MODEM_PROBE_TRIES      5     /* "AT" written this many times before giving up */
#define AT_MODEM_RESET_WAIT_MS    20000 /* after AT+CFUN=1,1: time to boot */
#define AT_MODEM_PENDING_MAX      64    /* stored messages read but not yet acked */
#define AT_MODEM_ID_MAX           64    /* maker, model, revision strings, NUL included */
#define AT_MODEM_TEXT_MAX         160   /* last error text, NUL included */
#define AT_MODEM_PIN_MAX          16    /* PIN digits, NUL included */

enum at_modem_state {
        AT_MODEM_PROBE,      /* ATE0, AT+CMEE=1, identity */
        AT_MODEM_SIM,        /* AT+CPIN?, entering the PIN if asked */
        AT_MODEM_NETWORK,    /* waiting for registration (home or roaming) */
        AT_MODEM_SMS_SETUP,  /* PDU mode, storage, CNMI, SMSC; then drains storage */
        AT_MODEM_READY,      /* idle: at_modem_send() accepted */
        AT_MODEM_SENDING,    /* one part in flight (AT+CMMS / AT+CMGS) */
        AT_MODEM_RECOVERING, /* a ladder step runs: see at_modem_info()->ladder_step */
        AT_MODEM_FAILED,     /* see at_modem_info()->fail; only at_modem_restart() leaves it */
};

/* Why a modem is FAILED. */
enum at_modem_fail {
        AT_MODEM_FAIL_NONE,
        AT_MODEM_FAIL_NO_SIM,      /* +CME 10 SIM not inserted, or +CPIN? never answers */
        AT_MODEM_FAIL_PIN_NEEDED,  /* SIM PIN asked, no PIN configured (or it failed before) */
        AT_MODEM_FAIL_PIN_REFUSED, /* the PIN we sent was refused (+CME 16): never retried */
        AT_MODEM_FAIL_PUK_NEEDED,  /* SIM PUK (or another lock we cannot open) */
        AT_MODEM_FAIL_SIM,         /* SIM failure / busy / wrong (+CME 13, 14, 15) */
        AT_MODEM_FAIL_NO_SMS,      /* PDU mode or every storage refused: cannot do SMS */
        AT_MODEM_FAIL_NO_ANSWER,   /* the recovery ladder ran out */
};

/* Outcome of one part given to at_modem_send(). */
enum at_send_outcome {
        AT_SEND_SENT,        /* +CMGS: <mr> arrived */
        AT_SEND_PERMANENT,   /* the network or SMSC refused this message: do not retry it */
        AT_SEND_TEMPORARY,   /* network trouble, no credit, bare OK: retry later, maybe elsewhere */
        AT_SEND_MODEM_FAULT, /* the modem failed before the PDU went out: retry elsewhere */
        AT_SEND_UNKNOWN,     /* reset or time-out after the PDU was written: it may have gone */
        AT_SEND_NO_CREDIT,   /* the SIM's account was refused (+CMS 21): another SIM may send */
};

struct at_modem_send_result {
        uint64_t cookie;
        enum at_send_outcome outcome;
        int mr;           /* SENT: message reference 0-255; else -1 */
        int cms;          /* +CMS ERROR number, or -1 */
        const char *text; /* plain words: "sent", "unassigned number (+CMS 1)", ... */
};

/* Recovery ladder steps (docs/modems.md). */
enum at_modem_ladder {
        AT_LADDER_NONE,
        AT_LADDER_REINIT, /* back to PROBE */
        AT_LADDER_CFUN,   /* AT+CFUN=1,1 (or CFUN=0 then 1) and wait for the boot */
        AT_LADDER_REOPEN, /* the binding closes and reopens the port (AT_MODEM_EV_REOPEN) */
        AT_LADDER_GIVE_UP /* FAILED "does not answer" */
};

struct at_modem_info {
        char maker[AT_MODEM_ID_MAX];
        char model[AT_MODEM_ID_MAX];
        char revision[AT_MODEM_ID_MAX];
        char imei[AT_PARSE_ID_MAX];
        char imsi[AT_PARSE_ID_MAX];
        char iccid[AT_PARSE_ID_MAX];
        char oper[AT_PARSE_ALPHA_MAX];   /* operator name, "" unknown */
        int rssi;                        /* 27.007 8.5, 99 unknown */
        int dbm;                         /* 0 unknown */
        int bars;                        /* 0-4 */
        int reg;                         /* 27.007 7.2 <stat>, -1 unknown */
        const char *reg_text;            /* "registered (home)", "not registered (searching)"... */
        const char *sim_text;            /* "ready", "needs PIN", "no SIM", "unknown"... */
        char smsc[AT_PARSE_NUMBER_MAX];  /* as read by AT+CSCA?, "" unknown */
        char mem[AT_PARSE_MEM_MAX];      /* message storage in use ("SM", "ME") */
        int storage_used, storage_total; /* -1 unknown */
        enum at_modem_fail fail;
        enum at_modem_ladder ladder_step;   /* step running or last run; NONE after a success */
        unsigned failures;                  /* consecutive time-outs / garbage streaks */
        unsigned quirks;                    /* enum at_quirk bits in force (at/quirks.h) */
        bool cmms_refused;                  /* AT+CMMS=1 refused once: not tried again */
        char last_error[AT_MODEM_TEXT_MAX]; /* plain words, "" if none */
};

enum at_modem_event_type {
        AT_MODEM_EV_INFO,         /* identity, operator, signal, registration or storage changed */
        AT_MODEM_EV_PIN_REFUSED,  /* iccid, pin: remember it failed; it will never be sent again */
        AT_MODEM_EV_STORAGE_FULL, /* +CMS 322 or used == total: alarm; storage is drained */
        AT_MODEM_EV_REOPEN,       /* close and reopen the port, then call at_modem_reopened() */
        AT_MODEM_EV_NETWORK_TIME, /* time: the network's clock; time_sane: year >= 2024 */
        AT_MODEM_EV_RESET,        /* the modem rebooted by itself (boot lines mid-work) */
};

struct at_modem_event {
        enum at_modem_event_type type;
        const char *iccid;          /* PIN_REFUSED */
        const char *pin;            /* PIN_REFUSED */
        const struct at_time *time; /* NETWORK_TIME */
        bool time_sane;             /* NETWORK_TIME */
};

struct at_modem;

struct at_modem_callbacks {
        /* Every state change, with a plain-words reason ("registered (home)", "SIM needs a
         * PIN"). Required. */
        void (*on_state)(struct at_modem *m, enum at_modem_state from, enum at_modem_state to,
                         const char *reason, void *userdata);
        /* The PIN for this ICCID: writes it (NUL-terminated, < size) to ret_pin and returns
         * 0; returns -ENOENT when none is configured and -EPERM when the configured one
         * failed before. NULL: no PIN ever. */
        int (*get_pin)(struct at_modem *m, const char *iccid, char *ret_pin, size_t size,
                       void *userdata);
        /* Exactly once per accepted at_modem_send(). Required. */
        void (*on_send_result)(struct at_modem *m, const struct at_modem_send_result *r,
                               void *userdata);
        /* A received SMS-DELIVER (or other) PDU, hex with the SMSC address first as the modem
         * gives it. index >= 0: it is stored in slot `index` of storage `mem`; once it is
         * durably stored, call at_modem_sms_done(m, index, now) to delete it (not calling it
         * leaves it stored: it is offered again at the next drain). index -1: direct delivery
         * (+CMT); call at_modem_sms_done(m, -1, now) once stored, which sends AT+CNMA where the
         * modem needs it. Required. */
        void (*on_sms)(struct at_modem *m, const char *pdu_hex, int index, const char *mem,
                       void *userdata);
        /* A status report PDU (+CDS, or read after +CDSI / in a listing); same ack rules as
         * on_sms. NULL: reports are acked and dropped. */
        void (*on_report)(struct at_modem *m, const char *pdu_hex, int index, const char *mem,
                          void *userdata);
        /* Anything else; may be NULL. */
        void (*on_event)(struct at_modem *m, const struct at_modem_event *ev, void *userdata);
};

struct at_modem_config {
        unsigned quirks;              /* enum at_quirk bits from at_quirks_by_usb(); 0 if unknown */
        const char *smsc;             /* configured SMSC ("+5255..."), NULL: keep the SIM's */
        uint32_t send_timeout_ms;     /* 0: AT_MODEM_SEND_TIMEOUT_MS */
        uint32_t register_timeout_ms; /* 0: AT_MODEM_REGISTER_TIMEOUT_MS */
        uint32_t csq_interval_ms;     /* 0: AT_MODEM_CSQ_INTERVAL_MS */
        uint32_t list_interval_ms;    /* 0: AT_MODEM_LIST_INTERVAL_MS */
        const char *name;             /* for reasons and texts ("modem1"); may be NULL */
};

/* Allocates a modem in PROBE, not yet started. cfg and cb are copied. Returns 0, -EINVAL
 * (NULL argument or a required callback missing), -ENOMEM. */
int at_modem_new(const struct at_modem_config *cfg, const struct at_modem_callbacks *cb,
                 void *userdata, struct at_modem **ret_modem);

/* Frees the modem; a send in flight is reported UNKNOWN if its PDU was written, else
 * MODEM_FAULT. Accepts NULL, returns NULL. */
struct at_modem *at_modem_free(struct at_modem *m);

/* Begins at PROBE ("AT" a few times for autobaud modems, then ATE0...). Returns 0. */
int at_modem_start(struct at_modem *m, uint64_t now);

/* Leaves FAILED (or any state) and starts again from PROBE with the ladder reset, for the
 * binding's slow retry. A FAILED for PIN reasons asks get_pin again, which says -EPERM for a
 * PIN that failed: so a refused PIN is never sent twice. Returns 0. */
int at_modem_restart(struct at_modem *m, uint64_t now);

/* After AT_MODEM_EV_REOPEN: the port was closed and opened again (output dropped); starts
 * PROBE. Returns 0. */
int at_modem_reopened(struct at_modem *m, uint64_t now);

/* Feeds received bytes. Returns 0 or -EINVAL. */
int at_modem_feed(struct at_modem *m, const uint8_t *buf, size_t len, uint64_t now);

/* Runs due time-outs and timers (chat time-outs, polls, ladder waits). Harmless early. */
void at_modem_tick(struct at_modem *m, uint64_t now);

/* When at_modem_tick() must be called next, or UINT64_MAX. */
uint64_t at_modem_next_deadline(const struct at_modem *m);

/* Bytes to write to the port; see at_chat_output(). */
size_t at_modem_output(const struct at_modem *m, const uint8_t **ret_buf);
void at_modem_output_done(struct at_modem *m, size_t n);

/* Sends one part: pdu_hex is the whole PDU as written after the prompt (SMSC address octets
 * first, usually "00"), tpdu_len the AT+CMGS length (27.005 3.5.1: octets without the SMSC
 * address). more_follow: another part of the same message comes next (AT+CMMS=1 is sent once
 * per burst). The PDU is copied. The outcome comes by on_send_result with the cookie.
 * Returns 0; -EBUSY when not READY (or a part is in flight); -EINVAL (bad hex, length). */
int at_modem_send(struct at_modem *m, const char *pdu_hex, size_t tpdu_len, bool more_follow,
                  uint64_t cookie, uint64_t now);

/* The part given by on_sms/on_report with this index is durably stored: delete it from the
 * modem (AT+CMGD), or for index -1 acknowledge it (AT+CNMA) where needed. Returns 0;
 * -ENOENT if no such part awaits an ack (never deletes a slot it did not read). */
int at_modem_sms_done(struct at_modem *m, int index, uint64_t now);

/* The binding could not store the part given with this index (its disk is full): it stays
 * on the modem, undeleted, and is no longer awaited, so that a later listing offers it
 * again. Returns 0; -ENOENT if no such part awaits an ack; -EINVAL for index -1 (a direct
 * delivery is left unacknowledged instead: the network offers it again). */
int at_modem_sms_keep(struct at_modem *m, int index);

/* Lists the storage again (AT+CMGL) as soon as nothing handed on awaits its ack: the binding
 * has room again for what it kept. Returns 0 or -EINVAL. */
int at_modem_relist(struct at_modem *m, uint64_t now);

enum at_modem_state at_modem_state(const struct at_modem *m);

/* True while no command is in flight or queued (SIGTERM: wait for this, then close). */
bool at_modem_idle(const struct at_modem *m);

const struct at_modem_info *at_modem_info(const struct at_modem *m);

/* Lower-case names for logs and the store ("probe", "sim", "network", "sms-setup", "ready",
 * "sending", "recovering", "failed"). */
const char *at_modem_state_name(enum at_modem_state s);
const char *at_send_outcome_name(enum at_send_outcome o);
/* Plain words for a FAILED reason ("SIM needs a PIN", "does not answer"). */
const char *at_modem_fail_text(enum at_modem_fail f);

/* What a +CMS ERROR number answering AT+CMGS means for the part (27.005 3.2.5, 24.011
 * 8.2.5.4 and Annex E, 23.040 9.2.3.22; the table is in at/modem-cms.c and docs/modems.md).
 * Writes plain words ("unassigned number") to *ret_text if ret_text is not NULL. */
enum at_send_outcome at_cms_classify(int cms, const char **ret_text);
