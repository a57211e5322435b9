/* The daemon's manager: owns the sd-event loop and every source as a named field (signals,
 * wake socket, store poll, status, watchdog, hotplug, modems, the bank's deadline, inbound
 * flush), the store, the bank and the configuration. Callbacks are short and call manager
 * methods (daemon/manager.c, status in daemon/manager-status.c).
 *
 * Ownership: manager_new() takes the struct config (freed by manager_free(), also on
 * failure); config_path is copied. manager_free() closes everything (NULL is fine).
 * Not thread-safe: one manager per process. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define MANAGER_MODEMS_MAX   64    /* bindings: configured paths and detected ports */
#define MANAGER_POLL_MS      3000  /* the store is re-read this often (besides wake-ups) */
#define MANAGER_STATUS_MS    5000  /* STATUS= and the daemon.status snapshot */
#define MANAGER_STATUS_SOON  300   /* ms: a change is shown this soon */
#define MANAGER_FLUSH_MS     60000 /* incomplete inbound messages are looked at this often */
#define MANAGER_STOP_WAIT_MS 15000 /* SIGTERM: longest wait for AT commands in flight */
#define MANAGER_STOP_POLL_MS 50    /* ... checked this often */
#define MANAGER_CLOCK_SKEW_S 300   /* network time this far from ours is logged */
#define MANAGER_STATUS_KEY   "daemon.status"
#define MANAGER_STATUS_MAX   8192 /* bytes of the JSON snapshot */

struct config;
struct manager;

/* Opens the store (READY=1 is sent once it is), binds the wake socket, starts hotplug and
 * the configured modems. Returns 0 or a negative errno (logged). */
int manager_new(struct config *cfg, const char *config_path, bool verbose, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* Runs the loop until SIGTERM/SIGINT; returns 0 or a negative errno. */
int manager_run(struct manager *m);
