/* Logging for the daemon and puente-sim: structured journal fields under journald, plain
 * lines on stderr otherwise. Library code (at/, rules/) never logs; only daemon/ does.
 *
 * Ownership: every string argument is borrowed for the duration of the call. */
#pragma once

#include <syslog.h>

/* Decides once where logs go: the journal when stderr is connected to it (systemd sets
 * $JOURNAL_STREAM to stderr's device:inode), stderr otherwise. `ident` is kept (borrowed;
 * pass a string literal). max_priority drops messages less important than it. */
void log_setup(const char *ident, int max_priority);

/* Sets the maximum priority (LOG_ERR..LOG_DEBUG); used by -v and SIGHUP reloads. */
void log_set_max_priority(int max_priority);

/* Logs one message. `fields` is NULL or a NULL-terminated list of key, value pairs of journal
 * fields ({ "MODEM", "m1", "MESSAGE_ID", "42", NULL }); keys are upper case as the journal
 * wants; on stderr the fields show as "key=value" in brackets before the text.
 * Returns nothing: logging never fails the caller. */
void log_fields(int priority, const char *const *fields, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_error(...)   log_fields(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)  log_fields(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)    log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)   log_fields(LOG_DEBUG, NULL, __VA_ARGS__)

/* Logs with a MODEM= field. */
#define log_modem(prio, modem, ...)                                                                \
        log_fields((prio), (const char *const[]){ "MODEM", (modem), NULL }, __VA_ARGS__)
