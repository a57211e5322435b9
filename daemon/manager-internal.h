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

        struct modem *modems[MANAGER_MODEMS_MAX];
        unsigned n_modems;

        bool stopping;
        uint64_t stop_deadline_ms;
        uint64_t status_due_ms;
        bool disk_full;           /* daemon/disk.h: marked in the state directory */
        uint64_t disk_recheck_ms; /* while full: no relisting before this */
};

uint64_t manager_now_ms(const struct manager *m);
/* Writes STATUS= and the daemon.status snapshot now. */
void manager_status_write(struct manager *m);
/* modem_host.store_full: the store refused a received part for want of space. */
void manager_store_full(void *userdata);
/* The snapshot as JSON into buf (MANAGER_STATUS_MAX); for tests too. */
int manager_status_json(struct manager *m, char *buf, size_t size, char *summary,
                        size_t summary_size);
