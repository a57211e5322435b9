/* The modem binding's private parts, shared by daemon/modem.c (port, io, life) and
 * daemon/modem-core.c (the core's callbacks: identity, PIN, messages, reports). */
#pragma once

#include "at/pdu.h"
#include "daemon/hotplug.h"
#include "daemon/modem.h"

/* Work that may not run inside a core callback (the core is on the stack): done from a
 * deferred event source on the next loop turn. */
enum modem_action {
        MODEM_ACT_NONE,
        MODEM_ACT_UNPLUG,  /* the port died: free the core, retry the path */
        MODEM_ACT_REOPEN,  /* recovery ladder: close and reopen the port */
        MODEM_ACT_REJECT,  /* not ours: duplicate IMEI, denied, not an AT port */
        MODEM_ACT_RESTART, /* probe again: the identity did not come through */
};

struct modem {
        struct modem_host host;
        char path[PATH_MAX];
        char name[MODEM_NAME_MAX];
        enum modem_origin origin;
        enum modem_life life;
        unsigned quirks;

        struct serial_port *port;
        struct at_modem *core;
        sd_event_source *io;    /* the port: EPOLLIN, and EPOLLOUT while output waits */
        sd_event_source *timer; /* the core's next deadline */
        sd_event_source *retry; /* reopen an unplugged path / restart a FAILED core */
        sd_event_source *defer; /* runs `action` */
        sd_event_source *hold;  /* ends `held` */
        enum modem_action action;
        char action_why[128];

        int64_t store_id;
        unsigned imei_tries;    /* probes that ended without an IMEI */
        unsigned silent_probes; /* detected, never identified: probes that got no answer */
        struct hotplug_node rejected_node; /* what the path led to when it was rejected */
        bool have_rejected_node;
        char imei[AT_PARSE_ID_MAX], iccid[AT_PARSE_ID_MAX]; /* as last written to the store */
        bool in_bank, bank_ready;
        bool draining;     /* SIGTERM: no new sends */
        bool settling;     /* just opened: dropping an old session's output (modem_open) */
        bool core_started; /* at_modem_start() was called on this core */
        bool held;         /* a send just faulted: no sends for MODEM_FAULT_HOLD_MS */
        bool rejoin;       /* the configuration changed: re-enter the bank with new limits */
        bool refused;      /* new allow/deny lists refuse it: rejected once idle */
        char health[128];
        char credit_text[160]; /* modem_health() while the bank holds the SIM for no credit */

        struct sms_pdu pdu; /* scratch for decoding (too big for the stack of a callback) */
        /* Status reports decoded, not yet durable nor acknowledged (modem_reports_match). */
        struct modem_report {
                int index; /* storage slot, -1 for a direct +CDS */
                unsigned mr, status;
                enum sms_status_class status_class;
                int64_t when;
                bool matched; /* in the open batch (not yet durable) */
                int64_t part_id;
                char recipient[SMS_ADDR_MAX];
        } reports[MODEM_REPORTS_HELD];
        unsigned n_reports;
};

uint64_t modem_now_ms(const struct modem *md);
/* Writes what the core has for the port and re-arms the timer; safe inside callbacks. */
void modem_flush(struct modem *md);
/* Asks for `a` on the next loop turn (the first asked wins, UNPLUG over the others). */
void modem_defer(struct modem *md, enum modem_action a, const char *why);
/* Tells the bank whether this modem takes sends, from the core's state. */
void modem_bank_sync(struct modem *md);
/* A send failed with a modem fault: keep the next parts away for MODEM_FAULT_HOLD_MS, so
 * they go to another modem instead of faulting here in a tight loop. */
void modem_hold(struct modem *md);

/* daemon/modem-core.c */
/* Enters the bank (or re-enters it when `rejoin`) once the identity is known; then
 * modem_bank_sync() says ready. */
void modem_join_bank(struct modem *md);
extern const struct at_modem_callbacks modem_core_callbacks;
