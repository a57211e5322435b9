/* The manager's private parts, shared by daemon/manager.c and daemon/manager-status.c. */
#pragma once

#include <systemd/sd-event.h>

#include "daemon/manager.h"
#include "daemon/modem.h"

struct store;
struct bank;
struct wake;
struct hotplug;
struct rules_runner;
struct staff;
struct upload;

struct manager {
        sd_event *event;
        char *config_path; /* NULL: the default */
        bool verbose;
        struct config *config; /* replaced in place by SIGHUP: the bank and modems hold it */
        struct store *store;
        struct bank *bank;
        struct wake *wake;
        struct hotplug *hotplug;
        struct rules_runner *rules; /* the programme (daemon/rules-runner.h) */
        struct staff *staff;        /* ESTADO, PRUEBA, AYUDA from staff numbers */
        struct upload *upload;      /* event batches to the central team */
        struct modem_host host;     /* what every binding gets */

        sd_event_source *sig_term, *sig_int, *sig_hup;
        sd_event_source *poll_timer;    /* fall-back store poll, glob scan, sweep */
        sd_event_source *status_timer;  /* STATUS= and the snapshot */
        sd_event_source *bank_timer;    /* bank_next_deadline() */
        sd_event_source *kick_defer;    /* bank_kick() on the next loop turn */
        sd_event_source *inbound_timer; /* store_inbound_flush() */
        sd_event_source *stop_timer;    /* SIGTERM: waits for idle modems */
        sd_event_source *inbox_defer;   /* incoming messages to staff and rules, next turn */
        sd_event_source *inbox_timer;   /* the inbox again after a transient failure */
        sd_event_source *reports_timer; /* held status reports: their own commit by now */

        struct modem *modems[MANAGER_MODEMS_MAX];
        unsigned n_modems;

        bool stopping;
        uint64_t stop_deadline_ms;
        uint64_t status_due_ms;
        bool disk_full;            /* daemon/disk.h: marked in the state directory */
        uint64_t disk_recheck_ms;  /* while full: no relisting before this */
        uint64_t inbox_backoff_ms; /* 0, or the current wait after a transient failure */
        uint64_t inbox_retry_ms;   /* no inbox pass before this (monotonic ms) */
};

uint64_t manager_now_ms(const struct manager *m);
/* Writes STATUS= and the daemon.status snapshot now. */
void manager_status_write(struct manager *m);
/* modem_host.store_full: the store refused a received part for want of space. */
void manager_store_full(void *userdata);
/* The snapshot as JSON into buf (MANAGER_STATUS_MAX); for tests too. */
int manager_status_json(struct manager *m, char *buf, size_t size, char *summary,
                        size_t summary_size);

/* ---- the inbox pass (daemon/manager-inbox.c) ---- */

#define MANAGER_INBOX_BATCH        64     /* unhandled messages taken per pass; the rest next */
#define MANAGER_INBOX_RETRY_MIN_MS 1000   /* first wait after a transient failure... */
#define MANAGER_INBOX_RETRY_MAX_MS 300000 /* ...doubled each time up to this */

struct manager_inbox_msg {
        int64_t id, contact_id; /* contact_id 0: the sender is no contact */
        int64_t now;            /* Unix seconds of the pass */
        const char *sender, *text;
};

/* Handles one message: 0 or -ENOENT (nothing applies) and any other permanent error mark it
 * handled; a transient error (manager_inbox_transient()) leaves it for the next pass. */
typedef int (*manager_inbox_fn)(const struct manager_inbox_msg *msg, void *userdata);

/* Errors that may pass by themselves (a locked or full store, memory, I/O): the message is
 * worth handling again later. */
bool manager_inbox_transient(int err);

/* The wait after one more transient failure, given the current one (0 at first). */
uint64_t manager_inbox_backoff(uint64_t current_ms);

/* Gives up to MANAGER_INBOX_BATCH unhandled complete messages to fn, oldest first, marking
 * each handled after it. Stops at the first transient failure of fn (that message and the
 * later ones stay unhandled, in order) or of the store, and returns that error. Otherwise
 * returns how many were handled, and *ret_more says a full batch was read (more may wait).
 * Each message's fn and its mark run in one store batch (store_batch_begin()): fn's store
 * calls join it and are undone with a transient failure, or a permanent one (the mark
 * stays), or a failed mark. fn must not open a batch of its own (store_batch_open() says). */
int manager_inbox_pass(struct store *s, int64_t now, manager_inbox_fn fn, void *userdata,
                       bool *ret_more);
