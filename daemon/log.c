/* Logging to the journal with structured fields, or to stderr. */
#include "daemon/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#define LOG_FIELDS_MAX 8    /* key/value pairs one message may carry */
#define LOG_TEXT_MAX   2048 /* a longer message is cut: logs must never allocate or fail */

static const char *log_ident = "puente";
static int log_max = LOG_INFO;
static bool log_journal;

/* systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream it connected to stderr. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        char *end;
        struct stat st;

        if (!e || !isdigit((unsigned char)*e))
                return false;
        errno = 0;
        dev = strtoull(e, &end, 10);
        if (errno || *end != ':' || !isdigit((unsigned char)end[1]))
                return false;
        ino = strtoull(end + 1, &end, 10);
        if (errno)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(const char *ident, int max_priority)
{
        log_ident = ident;
        log_max = max_priority;
        log_journal = stderr_is_journal();
}

void log_set_max_priority(int max_priority)
{
        log_max = max_priority;
}

static const char *prio_word(int p)
{
        static const char *const words[] = { "emerg",   "alert",  "crit", "error",
                                             "warning", "notice", "info", "debug" };
        return p >= 0 && p <= LOG_DEBUG ? words[p] : "?";
}

static void log_to_journal(int priority, const char *const *fields, const char *text)
{
        char buf[LOG_FIELDS_MAX + 3][LOG_TEXT_MAX + 32];
        struct iovec iov[LOG_FIELDS_MAX + 3];
        size_t n = 0;

        snprintf(buf[n], sizeof(buf[n]), "MESSAGE=%s", text);
        n++;
        snprintf(buf[n], sizeof(buf[n]), "PRIORITY=%d", priority);
        n++;
        snprintf(buf[n], sizeof(buf[n]), "SYSLOG_IDENTIFIER=%s", log_ident);
        n++;
        for (size_t i = 0; fields && fields[i] && fields[i + 1] && i / 2 < LOG_FIELDS_MAX; i += 2) {
                snprintf(buf[n], sizeof(buf[n]), "%s=%s", fields[i], fields[i + 1]);
                n++;
        }
        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = strlen(buf[i]) };
        if (sd_journal_sendv(iov, (int)n) < 0)
                fprintf(stderr, "%s: %s\n", log_ident, text);
}

static void log_to_stderr(int priority, const char *const *fields, const char *text)
{
        char pre[512] = "";
        size_t len = 0;

        for (size_t i = 0; fields && fields[i] && fields[i + 1] && i / 2 < LOG_FIELDS_MAX; i += 2) {
                int w = snprintf(pre + len, sizeof(pre) - len, "%s%s=%s", len ? " " : "[",
                                 fields[i], fields[i + 1]);
                if (w < 0 || (size_t)w >= sizeof(pre) - len)
                        break;
                len += (size_t)w;
                /* journal keys are upper case; people read lower case */
                for (size_t k = len - (size_t)w; k < len && pre[k] != '='; k++)
                        pre[k] = (char)tolower((unsigned char)pre[k]);
        }
        fprintf(stderr, "%s: %s: %s%s%s\n", log_ident, prio_word(priority), pre, len ? "] " : "",
                text);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
        char text[LOG_TEXT_MAX];
        va_list ap;

        if (priority > log_max)
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (log_journal)
                log_to_journal(priority, fields, text);
        else
                log_to_stderr(priority, fields, text);
}
