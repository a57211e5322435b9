/* The configuration's checks and conversions, without libconfuse: config.c walks the parsed
 * cfg_t and hands each key's string values here; this turns them into struct config fields
 * or collects an error naming the file, the line, the key and what was expected.
 *
 * Ownership: the context borrows the file name, the diagnostics and the line index for the
 * duration of one parse; values are borrowed for each call. */
#pragma once

#include "daemon/config-scan.h"
#include "daemon/config.h"

struct config_ctx {
        const char *name; /* the file, for messages */
        struct config_diag *diag;
        const struct config_scan *scan;
        unsigned errors;
        /* the section being converted */
        const char *section, *title;
        struct config_modem *modem;
        struct config_pin *pin;
        struct config_clinic *clinic;
        unsigned country_line, cc_line; /* where country / default_country_code were set */
};

/* Records one error at `line` (0 = the whole file). */
void config_error(struct config_ctx *x, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Opens a section: "" for the top level, "modem"/"pin"/"clinic" with their title, "retry",
 * "upload". Then config_check_key() for each key that is set, then config_check_end_section(). */
void config_check_section(struct config_ctx *x, struct config *c, const char *section,
                          const char *title);
void config_check_key(struct config_ctx *x, struct config *c, const char *key,
                      const char *const *values, unsigned n);
void config_check_end_section(struct config_ctx *x, struct config *c);

/* Checks across sections once all are in (duplicate modems, country and code agreeing). */
void config_check_finish(struct config_ctx *x, struct config *c);
