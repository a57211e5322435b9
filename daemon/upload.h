/* The uploader: cuts the event log into anonymized, chained, gzip batches in the state
 * directory and PUTs them, one at a time and in order, to an HTTPS/WebDAV server or an S3
 * bucket. Each PUT runs in the upload helper, puente-upload, a child process watched from the
 * daemon's sd-event loop (daemon/upload-spawn.c): puented never maps libcurl and its TLS
 * libraries, and never blocks. docs/upload.md has the contract.
 *
 * Positions live in the store's settings: UPLOAD_SETTING_CUT ("<batch> <event seq> <hash>")
 * is written after the batch file is durable, UPLOAD_SETTING_SENT after the server answered
 * 2xx; a crash between the two re-cuts or re-sends, both harmless (a batch is cut again to
 * the same bytes, and a PUT of the same name replaces the same content).
 *
 * Ownership: upload_new() returns a struct upload the caller frees with upload_free() (NULL
 * is fine) before the loop and the store; it borrows the sd_event and the store for its whole
 * life and copies the config. The status is filled into the caller's struct. No callback.
 * Logs through daemon/log.h (an upload failure is a warning once, then debug while it lasts).
 * SIGCHLD must be blocked before upload_new() (the helper's exit is an sd-event child
 * source); upload_free() kills and reaps a helper still running. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "daemon/batch.h"
#include "daemon/config.h"
#include "daemon/store.h"

#define UPLOAD_SETTING_CUT            "upload.cut"
#define UPLOAD_SETTING_SENT           "upload.sent"
#define UPLOAD_SETTING_LAST_OK        "upload.last_ok"
#define UPLOAD_SETTING_HEARTBEAT      "upload.heartbeat" /* Unix time of the last one */
#define UPLOAD_HEARTBEAT_EVENT        "upload.heartbeat"
#define UPLOAD_HEARTBEAT_EVERY_S      86400    /* at most one heartbeat SMS a day */
#define UPLOAD_HEARTBEAT_CHECK_S      600      /* how often the uploader looks whether one is due */
#define UPLOAD_HEARTBEAT_PRIORITY     0        /* as a reminder: staff replies go first */
#define UPLOAD_DIR                    "upload" /* under the state directory */
#define UPLOAD_LOCK_FILE              "upload/.lock"
#define UPLOAD_ERROR_MAX              256
#define UPLOAD_SECRET_MAX             512
#define UPLOAD_DEFAULT_EVENTS         1000
#define UPLOAD_DEFAULT_CUT_S          (15 * 60)
#define UPLOAD_DEFAULT_RETRY_S        30
#define UPLOAD_DEFAULT_BACKOFF_S      3600
#define UPLOAD_DEFAULT_TIMEOUT_S      120
#define UPLOAD_DEFAULT_BUDGET         (256ull * 1024 * 1024)
#define UPLOAD_BUDGET_NEAR_PCT        80 /* "disk budget near" from this share of the budget on */
#define UPLOAD_DEFAULT_HEARTBEAT_DAYS 3

enum upload_auth {
        UPLOAD_AUTH_NONE,
        UPLOAD_AUTH_BEARER, /* Authorization: Bearer <token> */
        UPLOAD_AUTH_BASIC,  /* user and password */
        UPLOAD_AUTH_CERT,   /* TLS client certificate and key */
        UPLOAD_AUTH_S3,     /* AWS SigV4: user = access key id, password = secret key */
};

struct upload_config {
        char url[CONFIG_URL_MAX];              /* "" = no network upload (export only) */
        char state_directory[CONFIG_PATH_MAX]; /* batches go to <it>/upload */
        char key_file[CONFIG_PATH_MAX];        /* "" = <state_directory>/upload.key */
        char device[BATCH_DEVICE_MAX];         /* "" = the host name */
        enum upload_auth auth;
        char token[UPLOAD_SECRET_MAX];
        char user[UPLOAD_SECRET_MAX], password[UPLOAD_SECRET_MAX];
        char client_cert[CONFIG_PATH_MAX], client_key[CONFIG_PATH_MAX];
        char ca_file[CONFIG_PATH_MAX]; /* "" = the system's CAs; never unverified */
        char s3_region[64];
        unsigned batch_events;      /* N: at most this many events per batch */
        unsigned cut_interval;      /* T: seconds; a non-empty batch is cut at least this often */
        unsigned interval;          /* seconds between upload attempts when idle */
        unsigned retry_first;       /* back-off: first delay, doubled each failure... */
        unsigned backoff_max;       /* ...up to this (with jitter), seconds */
        unsigned timeout;           /* seconds for one PUT (a slow server counts as failed) */
        int hours_start, hours_end; /* minutes of the local day; equal = at any hour */
        uint64_t disk_budget;       /* bytes of batch files kept waiting before cutting stops */
        unsigned heartbeat_days;
        char heartbeat_number[CONFIG_PHONE_MAX]; /* "" = no heartbeat SMS */
        /* The upload helper program; "" = puente-upload beside the running program, else in
         * PUENTE_LIBEXECDIR (upload-spawn.h). Not in puente.conf: for tests, whose binaries
         * live apart from the programs, and whose fake helpers hang or print garbage. */
        char helper[CONFIG_PATH_MAX];
};

/* Fills `ret` from puente.conf's upload section and the defaults above. */
void upload_config_from(const struct config *c, struct upload_config *ret);
/* The defaults, for tests and tools (url empty). */
void upload_config_defaults(struct upload_config *ret);

struct upload_status {
        bool enabled;         /* a URL is configured */
        int64_t last_ok;      /* Unix time of the last 2xx, 0 = never */
        int64_t last_attempt; /* 0 = none since start */
        int64_t next_attempt; /* when the next try is due (back-off), 0 = now or idle */
        unsigned failures;    /* consecutive failed PUTs */
        char last_error[UPLOAD_ERROR_MAX];  /* plain words, "" when the last try worked */
        uint64_t batches_cut, batches_sent; /* positions: the last batch cut / confirmed */
        int64_t events_cut;                 /* last event seq in a batch */
        int64_t events_total;               /* last event seq in the store */
        uint64_t backlog_batches;           /* cut and not confirmed */
        int64_t backlog_events;             /* events not yet confirmed (cut or not) */
        uint64_t backlog_bytes;             /* batch files waiting */
        bool disk_near;                /* backlog_bytes >= UPLOAD_BUDGET_NEAR_PCT of the budget */
        bool disk_full;                /* cutting stopped: events wait in the store, none dropped */
        bool heartbeat_due;            /* no upload for heartbeat_days: the daemon may SMS */
        unsigned days_since_ok;        /* whole days since last_ok (or since start, if never) */
        char device[BATCH_DEVICE_MAX]; /* the id the batches carry */
};

struct upload;

int upload_new(sd_event *loop, struct store *store, const struct upload_config *cfg,
               struct upload **ret);
struct upload *upload_free(struct upload *u);

/* New events were appended, or the network may be back: cut and send soon (not now: from
 * the loop, so the caller is never delayed). Clears the back-off when `force`. */
void upload_kick(struct upload *u, bool force);

/* Fills *ret. Never fails. */
void upload_status(struct upload *u, struct upload_status *ret);

/* One line for STATUS= and puentectl status: "upload: last 3 min ago, backlog 2 batches
 * (1800 events); last error: server answered 500". */
void upload_status_line(const struct upload_status *st, int64_t now, char *buf, size_t size);

/* The few words the daemon's one-line summary ends with: "last upload 3 min ago", "no upload
 * yet", "" when no upload target is configured. */
void upload_summary(const struct upload_status *st, int64_t now, char *buf, size_t size);

#define UPLOAD_HEARTBEAT_MAX 161 /* one GSM-7 SMS (160 characters) and the NUL */

/* The heartbeat SMS for the central number when st->heartbeat_due (the daemon sends it at
 * most once a day): ASCII only, so one GSM-7 part, cut to 160 characters:
 * "PUENTE clinic-07: no upload for 4 d; waiting 1234 events (3 batches) of 56789; disk ok;
 * last error: server answered 500 (server error)". */
void upload_heartbeat_text(const struct upload_status *st, char buf[static UPLOAD_HEARTBEAT_MAX]);

/* The daily heartbeat: when st->heartbeat_due and `number` (E.164) is set, and none went out
 * in the last UPLOAD_HEARTBEAT_EVERY_S (setting UPLOAD_SETTING_HEARTBEAT), queues
 * upload_heartbeat_text() to `number` through the outbox (one GSM-7 part; the bank sends it
 * as any message) and appends an UPLOAD_HEARTBEAT_EVENT event with the counts. Returns 1
 * when it queued one (its id in *ret_message_id, which may be NULL), 0 when none is due, or
 * a negative errno (the store's). The time is recorded before the message is queued, so a
 * crash in between loses that day's SMS rather than sending two. The uploader calls it every
 * UPLOAD_HEARTBEAT_CHECK_S; the store is borrowed. */
int upload_heartbeat_step(struct store *store, const struct upload_status *st, const char *number,
                          int64_t now, int64_t *ret_message_id);

/* Whether nothing is left to send: every event is in a confirmed batch (for tests, and the
 * daemon's stop, which does not wait for it). */
bool upload_idle(struct upload *u);
