/* puented's configuration (puente.conf): read with libconfuse into plain validated structs.
 * docs/puente.conf.md documents every key; etc/puente.conf is the commented sample.
 *
 * Ownership: config_load() and config_parse_text() return a struct config the caller frees
 * with config_free() (NULL is fine); it holds no pointer into anything else, and the cfg_t
 * is freed before they return. Every string argument is borrowed for the call. The lookup
 * helpers return pointers into the struct config: valid until it is freed.
 *
 * Errors are collected, not stopped at: every unknown key and section, duplicate section,
 * and bad or inconsistent value is reported as "FILE:LINE: what; expected what" in one
 * pass. Only a syntax error stops libconfuse's parser (then that is the one error, with the
 * line libconfuse gives). Not reentrant across threads while parsing (libconfuse's error
 * callback has no user pointer; a thread-local one stands in).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH       "/etc/puente/puente.conf"
#define CONFIG_DEFAULT_STATEDIR   "/var/lib/puente"
#define CONFIG_DEFAULT_DB         "/var/lib/puente/puente.db"
#define CONFIG_PATH_MAX           256
#define CONFIG_NAME_MAX           CONFIG_PATH_MAX /* a modem section's title: a path too */
#define CONFIG_URL_MAX            512
#define CONFIG_MODEMS_MAX         32 /* a USB hub of modems is 4..16 in practice */
#define CONFIG_PINS_MAX           64
#define CONFIG_FILTER_MAX         64 /* entries of allow or deny */
#define CONFIG_ERRORS_MAX         32 /* errors kept with their text; more are only counted */
#define CONFIG_ERROR_TEXT_MAX     320
#define CONFIG_FILE_MAX           (1024 * 1024) /* a larger file is refused unread */
#define CONFIG_IMEI_DIGITS        15            /* 3GPP TS 23.003 6.2.1 */
#define CONFIG_ICCID_MIN          18 /* ITU-T E.118: 18..22 digits with the check digit */
#define CONFIG_ICCID_MAX          22
#define CONFIG_PIN_MIN            4 /* 3GPP TS 22.030 / 31.101: 4..8 digits */
#define CONFIG_PIN_MAX            8
#define CONFIG_SEND_RATE_MAX      60     /* parts per minute per modem (GSM: ~10..20 at best) */
#define CONFIG_SEND_TIMEOUT_MAX   600    /* seconds one AT+CMGS may take before the modem is hung */
#define CONFIG_DAILY_LIMIT_MAX    100000 /* parts per modem per day; 0 = no limit */
#define CONFIG_RETRY_ATTEMPTS_MAX 20
#define CONFIG_DURATION_MAX       (30 * 24 * 3600)
#define CONFIG_CLINICS_MAX        16 /* clinic sections: one box serves one or a few */
#define CONFIG_STAFF_MAX          16 /* staff numbers per clinic */
#define CONFIG_CLINIC_NAME_MAX    64
#define CONFIG_PHONE_MAX          17 /* "+", 15 digits (E.164 6.2.1) and the NUL */
#define CONFIG_STAFF_REPLIES_MAX  60 /* automatic replies per number per hour, at most */

/* Defaults (docs/puente.conf.md says why each). */
#define CONFIG_DEFAULT_BAUD         115200
#define CONFIG_DEFAULT_SEND_RATE    6   /* parts per minute: a conservative pace */
#define CONFIG_DEFAULT_DAILY_LIMIT  500 /* parts per modem per day */
#define CONFIG_DEFAULT_REASSEMBLY_S 3600
/* udev's ttys are enumerated again this often: a lost "add" (a full netlink buffer, udevd
 * restarted) is made up within it. One rescan costs about 0.13 ms of CPU on a box with 8
 * modems and 120 ttys (docs/modems.md "Lost udev events"). */
#define CONFIG_DEFAULT_AUTODETECT_RESCAN_S 10
#define CONFIG_AUTODETECT_RESCAN_MAX       86400
#define CONFIG_DEFAULT_RETRY_ATTEMPTS      5
#define CONFIG_DEFAULT_RETRY_FIRST_S       60
#define CONFIG_DEFAULT_RETRY_MAX_S         3600
#define CONFIG_DEFAULT_UPLOAD_INTERVAL_S   900
#define CONFIG_DEFAULT_STAFF_REPLIES       5 /* per number per hour (daemon/staff.h says why) */

enum config_flow {
        CONFIG_FLOW_NONE,
        CONFIG_FLOW_RTSCTS,
};

/* What a modem section's title names. */
enum config_modem_key {
        CONFIG_KEY_NAME,   /* a plain name: device, imei or iccid inside says which modem */
        CONFIG_KEY_DEVICE, /* starts with '/': a device path */
        CONFIG_KEY_IMEI,   /* 15 digits */
        CONFIG_KEY_ICCID,  /* 18..22 digits */
};

struct config_modem {
        char name[CONFIG_NAME_MAX];
        enum config_modem_key key;
        char device[CONFIG_PATH_MAX]; /* "" = any port */
        char imei[CONFIG_IMEI_DIGITS + 1];
        char iccid[CONFIG_ICCID_MAX + 1];
        char pin[CONFIG_PIN_MAX + 1]; /* "" = none */
        unsigned baud;
        enum config_flow flow;
        unsigned send_rate;    /* parts per minute, 0 = no pacing */
        unsigned send_timeout; /* seconds for one AT+CMGS, 0 = AT_MODEM_SEND_TIMEOUT_MS */
        unsigned daily_limit;  /* parts per day, 0 = none */
        unsigned line;         /* where the section starts, for messages */
};

struct config_pin {
        char iccid[CONFIG_ICCID_MAX + 1];
        char pin[CONFIG_PIN_MAX + 1];
};

struct config_usb_id {
        uint16_t vendor, product;
};

/* An allow or deny list: each entry is a USB vendor:product, an IMEI or an ICCID. */
struct config_filter {
        struct config_usb_id usb[CONFIG_FILTER_MAX];
        char imei[CONFIG_FILTER_MAX][CONFIG_IMEI_DIGITS + 1];
        char iccid[CONFIG_FILTER_MAX][CONFIG_ICCID_MAX + 1];
        unsigned n_usb, n_imei, n_iccid;
};

struct config_retry {
        unsigned attempts;    /* sends of one part before it is failed */
        unsigned first_delay; /* seconds before the first retry; doubled each time... */
        unsigned max_delay;   /* ...up to this */
};

#define CONFIG_UPLOAD_SECRET_MAX 512 /* a bearer token, a password, an S3 secret key */
#define CONFIG_UPLOAD_DEVICE_MAX 64  /* as BATCH_DEVICE_MAX */

enum config_upload_auth {
        CONFIG_UPLOAD_AUTH_NONE,
        CONFIG_UPLOAD_AUTH_BEARER,
        CONFIG_UPLOAD_AUTH_BASIC,
        CONFIG_UPLOAD_AUTH_CERT,
        CONFIG_UPLOAD_AUTH_S3,
};

/* docs/puente.conf.md and docs/upload.md; 0 / "" = the uploader's default. */
struct config_upload {
        bool enabled; /* an upload section is present */
        char url[CONFIG_URL_MAX];
        unsigned interval; /* seconds */
        char key_file[CONFIG_PATH_MAX];
        char device[CONFIG_UPLOAD_DEVICE_MAX];
        enum config_upload_auth auth;
        char token[CONFIG_UPLOAD_SECRET_MAX];
        char user[CONFIG_UPLOAD_SECRET_MAX], password[CONFIG_UPLOAD_SECRET_MAX];
        char client_cert[CONFIG_PATH_MAX], client_key[CONFIG_PATH_MAX], ca_file[CONFIG_PATH_MAX];
        char s3_region[64];
        unsigned batch_events, batch_interval, timeout, backoff_max, heartbeat_days;
        char heartbeat_number[CONFIG_PHONE_MAX]; /* E.164 or "": the central team's phone */
        int hours_start, hours_end;              /* minutes of the local day; equal = any time */
        unsigned disk_budget_mb;
        unsigned line; /* where the section starts, for messages */
};

/* A clinic's staff: the numbers that may text ESTADO, PRUEBA, AYUDA (daemon/staff.h). */
struct config_clinic {
        char name[CONFIG_CLINIC_NAME_MAX];
        char staff[CONFIG_STAFF_MAX][CONFIG_PHONE_MAX]; /* E.164, normalized when read */
        unsigned n_staff;
        char manager[CONFIG_PHONE_MAX]; /* E.164 or ""; the manager is staff too */
        int summary_minute; /* daily summary to the manager at this local minute; -1 none */
        unsigned line;
};

struct config {
        char source[CONFIG_PATH_MAX]; /* the file read; "" when running on defaults */
        char database[CONFIG_PATH_MAX];
        char state_directory[CONFIG_PATH_MAX];
        char rules_directory[CONFIG_PATH_MAX]; /* "" = no rules */
        char country[3];                       /* ISO 3166-1 alpha-2, "" if only the code */
        unsigned country_code;                 /* E.164 calling code for national numbers */
        bool autodetect;
        unsigned autodetect_rescan; /* seconds between enumerations of udev's ttys */
        bool unknown_resend;
        unsigned reassembly_timeout;                   /* seconds */
        unsigned send_rate, send_timeout, daily_limit; /* defaults for the modems */
        struct config_retry retry;
        struct config_filter allow, deny;
        struct config_upload upload;
        struct config_modem modems[CONFIG_MODEMS_MAX];
        unsigned n_modems;
        struct config_pin pins[CONFIG_PINS_MAX];
        unsigned n_pins;
        struct config_clinic clinics[CONFIG_CLINICS_MAX];
        unsigned n_clinics;
        unsigned staff_replies_per_hour; /* automatic replies to one number per hour */
};

struct config_diag {
        unsigned count; /* all errors found; the first CONFIG_ERRORS_MAX have a text */
        char text[CONFIG_ERRORS_MAX][CONFIG_ERROR_TEXT_MAX]; /* sorted by line */
        unsigned line[CONFIG_ERRORS_MAX];                    /* 0 = the whole file */
};

/* Reads `path`; NULL means CONFIG_DEFAULT_PATH, and then a missing file is not an error:
 * the defaults are returned (puented starts with no configuration at all). An explicit
 * path that cannot be read is -ENOENT/-EACCES... with one diagnostic. -EINVAL when the file
 * has errors: all of them are in *diag (diag may be NULL). -ENOMEM. */
int config_load(const char *path, struct config **ret, struct config_diag *diag);

/* Parses `text` as if read from a file called `name` (for messages). Same errors. */
int config_parse_text(const char *text, const char *name, struct config **ret,
                      struct config_diag *diag);

/* Fills the defaults (what an empty file gives). */
void config_defaults(struct config *c);

struct config *config_free(struct config *c);

/* The modem section for a modem seen at `device` with this IMEI and ICCID (any may be NULL):
 * a section keyed by IMEI wins over ICCID, which wins over device path. NULL if none. */
const struct config_modem *config_modem_find(const struct config *c, const char *device,
                                             const char *imei, const char *iccid);

/* The PIN to unlock the SIM with this ICCID in modem m (m may be NULL): a pin section for
 * the ICCID wins over the modem's pin. NULL when none is configured. */
const char *config_pin_for(const struct config *c, const struct config_modem *m, const char *iccid);

/* Whether autodetection may take a modem: deny wins over allow; an empty allow list allows
 * all. Any identity may be unknown (vendor 0, NULL strings) and then does not match. */
bool config_autodetect_allows(const struct config *c, uint16_t vendor, uint16_t product,
                              const char *imei, const char *iccid);
/* Whether autodetection may open and probe a USB port before its IMEI and ICCID are known:
 * false only when its vendor:product settles it (denied, or an allow list that names no
 * IMEI or ICCID and not this vendor:product). config_autodetect_allows() decides after. */
bool config_autodetect_may_probe(const struct config *c, uint16_t vendor, uint16_t product);

/* The clinic whose staff (or manager) has this E.164 number, or NULL: the number must be
 * normalized already (a sender as the modem reported it goes through phone_normalize()). */
const struct config_clinic *config_staff_find(const struct config *c, const char *e164);

/* The delay before the retry after `attempts` sends (1, 2 ...): first_delay doubled each
 * time, capped at max_delay. */
unsigned config_retry_delay(const struct config *c, unsigned attempts);
