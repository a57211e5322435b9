/* The modem binding: one serial port, its sd-event io and timer sources, and the I/O-free
 * modem core (at/modem.h) driven from them; the core's callbacks go to the store (identity,
 * received messages, reports, PIN memory, state mirror) and the bank (sends and results).
 *
 * A binding lives as long as its path is wanted (a configured device path: for ever; an
 * autodetected port: until it is gone). While the path is missing or dead (unplugged), the
 * binding stays "unplugged" and retries opening it every MODEM_REOPEN_MS and on
 * modem_poke(). When it comes back, maybe behind another tty, the modem is matched by IMEI
 * in the store (store_modem_upsert) and keeps its identity, counters and queue.
 *
 * Ownership: modem_new() returns a binding the caller frees with modem_free() (NULL is fine).
 * The host struct (event loop, store, bank, callbacks) is borrowed and must outlive the
 * binding. Host callbacks run on the event loop, never from inside modem_new()/modem_free();
 * they may not free the binding (defer that). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "at/modem.h"

#define MODEM_REOPEN_MS       2000   /* an unplugged path is tried this often */
#define MODEM_FAILED_RETRY_MS 300000 /* a FAILED modem (not for PIN reasons) starts over */
#define MODEM_NOSIM_RETRY_MS  20000  /* ...sooner when only the SIM was missing: staff re-seat it */
#define MODEM_READ_MAX        4096   /* bytes read per io wake-up */
#define MODEM_FAULT_HOLD_MS   2000   /* no sends this long after a modem fault */
#define MODEM_SETTLE_MS       200    /* after opening: ESC, then drop what comes this long */
#define MODEM_NAME_MAX        64     /* the MODEM= log field */
#define MODEM_TRACE_MAX       300    /* bytes of one traced read or write shown */
#define MODEM_IMEI_TRIES      3      /* probes without an IMEI before the port path stands in */
#define MODEM_DETECT_PROBES   2      /* a detected port silent this many probes is not a modem */

struct store;
struct bank;
struct config;
struct modem;

/* What the binding needs from the daemon. */
struct modem_host {
        sd_event *event;
        struct store *store;
        struct bank *bank;
        const struct config *config; /* the current configuration (updated in place) */
        bool trace;                  /* log every byte read and written (debug, -v) */
        /* Whether another open binding already serves this IMEI (a second AT port of the
         * same USB modem, or a configured path and a glob naming one device): the binding
         * then closes itself as a duplicate. */
        bool (*imei_taken)(const struct modem *md, const char *imei, void *userdata);
        /* State, identity, signal or health changed: refresh the status. */
        void (*changed)(struct modem *md, void *userdata);
        /* The bank may have work for this modem now (it became ready). */
        void (*kick)(void *userdata);
        /* A received message is complete in the store: staff commands and rules may act. */
        void (*inbound)(void *userdata);
        /* The network told the time (AT_MODEM_EV_NETWORK_TIME). */
        void (*network_time)(struct modem *md, const struct at_time *t, bool sane, void *userdata);
        /* The store refused a received part for want of space (-ENOSPC): the part stays on
         * the modem until modem_relist(). May be NULL. */
        void (*store_full)(void *userdata);
        /* A status report arrived: true lets the binding hold it, unacknowledged, until the
         * host calls modem_reports_match() inside a store batch and modem_reports_settle()
         * after it (at most MODEM_REPORT_HOLD_MS later: the host's promise); false, or NULL,
         * and the report is stored and acknowledged at once, in its own commit. */
        bool (*hold_report)(struct modem *md, void *userdata);
        void *userdata;
};

/* How the binding came to be. */
enum modem_origin {
        MODEM_CONFIGURED, /* a configured device path: retried for ever */
        MODEM_DETECTED,   /* autodetected (hotplug or a configured glob): dropped when gone */
};

/* What the binding is doing, above the core's state. */
enum modem_life {
        MODEM_LIFE_CLOSED,    /* not yet opened, or closed by SIGTERM */
        MODEM_LIFE_OPEN,      /* the core runs */
        MODEM_LIFE_UNPLUGGED, /* the path is missing or dead; retried */
        MODEM_LIFE_REJECTED,  /* not an AT port, a duplicate, or refused by allow/deny */
};

/* Creates a binding for path and opens it at once (a missing path is "unplugged", not an
 * error). quirks: from the USB table (0 unknown). Returns 0, -ENOMEM, -EINVAL. */
int modem_new(const struct modem_host *host, const char *path, enum modem_origin origin,
              unsigned quirks, struct modem **ret);
/* Why a binding is let go: its store row then says "closed" with these words as its health
 * (puentectl status shows them), never "daemon stopped" while the daemon runs. */
enum modem_gone {
        MODEM_GONE_STOPPED,        /* "daemon stopped": SIGTERM or SIGINT */
        MODEM_GONE_UNCONFIGURED,   /* "removed from configuration": its path left the file */
        MODEM_GONE_REFUSED,        /* "refused by allow/deny lists" (reloaded) */
        MODEM_GONE_AUTODETECT_OFF, /* "autodetect turned off" and no glob names it */
        MODEM_GONE_UNPLUGGED,      /* "unplugged": its path is gone or leads to a new node */
};
const char *modem_gone_name(enum modem_gone why);

/* Closes the port; a send in flight is reported to the bank as the core classifies it
 * (UNKNOWN once its PDU was written), then the modem leaves the bank; a binding that knew
 * its store row records "closed" there with modem_gone_name(why). */
struct modem *modem_free(struct modem *md, enum modem_gone why);

/* SIGTERM: stop taking sends (the bank sees the modem as not ready). */
void modem_drain(struct modem *md);
/* True when no AT command is in flight or queued (or the port is closed). */
bool modem_idle(const struct modem *md);

/* Try opening now if unplugged (a hotplug add); restart if FAILED (a config reload may have
 * brought a new PIN). */
void modem_poke(struct modem *md);

/* Status reports held for a shared commit (modem_host.hold_report, docs/bank.md "Commits").
 * At most MODEM_REPORTS_HELD per modem (more are stored at once); the host flushes them
 * within MODEM_REPORT_HOLD_MS: the network waits for AT+CNMA for some seconds (TS 24.011
 * TR2M), and a stored report's slot stays taken meanwhile. */
#define MODEM_REPORTS_HELD   8
#define MODEM_REPORT_HOLD_MS 200

/* Matches every held report not yet matched in the store (each call a savepoint of the
 * caller's open batch, or its own commit when none is open). A report the store refuses is
 * no longer held: it is left on the modem as an unstored one is (a stored one is listed
 * again later; a direct one stays unacknowledged). Returns how many were matched. */
unsigned modem_reports_match(struct modem *md);
/* After the batch: durable (committed, or no batch was open) acknowledges each matched
 * report to the modem (AT+CNMA or AT+CMGD) and forgets it; not durable (rolled back) keeps
 * them held, unmatched, for the next try. */
void modem_reports_settle(struct modem *md, bool durable);
/* Reports held, matched or not. */
unsigned modem_reports_held(const struct modem *md);

/* The store has room again: list the modem's storage and read what was kept there. */
void modem_relist(struct modem *md);

/* The configuration changed (SIGHUP): re-read this modem's rate and limits. */
void modem_config_changed(struct modem *md);

/* REJECTED and its path now leads to another node (made again by the kernel or udev, a link
 * pointing elsewhere) or to none: the rejection no longer holds. */
bool modem_node_changed(const struct modem *md);

const char *modem_path(const struct modem *md);
const char *modem_name(const struct modem *md); /* for MODEM= */
const char *modem_imei(const struct modem *md); /* "" unknown */
int64_t modem_store_id(const struct modem *md); /* 0 before the identity is known */
enum modem_origin modem_origin(const struct modem *md);
enum modem_life modem_life(const struct modem *md);
/* The core (NULL when the port is closed): for the status snapshot. */
const struct at_modem *modem_core(const struct modem *md);
/* "unplugged", "rejected", "closed" or the core's state name. */
const char *modem_state_word(const struct modem *md);
/* Plain words for the health column: the last error or why it failed, that the SIM has no
 * credit (the bank holds it: docs/bank.md), or "" if fine. Valid until the next call. */
const char *modem_health(struct modem *md);
