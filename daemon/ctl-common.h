/* What puentectl's store commands share (send, status, outbox, inbox): the configuration and
 * the database it names, option parsing helpers, waking the daemon, times for people.
 *
 * Ownership: ctl_env_open() fills a struct ctl_env whose config and store the caller releases
 * with ctl_env_close() (a zeroed struct is fine). Strings are borrowed for the call. Every
 * function that fails has already said why on stderr, prefixed "puentectl CMD: ". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/ctl.h"

#define CTL_LIMIT_DEFAULT 20     /* rows of outbox / inbox */
#define CTL_LIMIT_MAX     100000 /* --limit */
#define CTL_TIME_MAX      32     /* "2026-11-27 21:30" and room */

struct config;
struct store;

struct ctl_env {
        struct config *config;
        struct store *store;
};

/* Loads the configuration (ctx->config_path, or the default with the defaults when that file
 * is missing) and opens its database. create: make the database when missing (send);
 * otherwise a missing database is an error that says puented has not run. Returns a
 * CTL_EXIT_* status. */
int ctl_env_open(const struct ctl_context *ctx, const char *cmd, bool create, struct ctl_env *ret);
void ctl_env_close(struct ctl_env *e);

/* Parses a whole decimal number in [min, max]. -EINVAL otherwise. */
int ctl_parse_long(const char *s, long min, long max, long *ret);

/* Sends the "wake" datagram to <state_directory>/puented.sock. Returns 0 when a daemon
 * listens, -ENOENT / -ECONNREFUSED when none does (not an error), another -errno else. */
int ctl_wake(const struct config *c);

/* Unix seconds as local "YYYY-MM-DD HH:MM" ("-" for 0). */
void ctl_time_str(int64_t t, char buf[CTL_TIME_MAX]);

/* Copies at most `max` characters (UTF-8 code points) of text into buf (size bytes) on one
 * line: newlines and tabs become spaces, and "..." marks a cut. */
void ctl_text_excerpt(const char *text, size_t max, char *buf, size_t size);

/* puentectl CMD: message to stderr; returns status. */
int ctl_fail(int status, const char *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
