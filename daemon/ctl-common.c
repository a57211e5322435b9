/* puentectl's shared plumbing for the store commands: configuration, database, wake, times. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/ctl-common.h"
#include "daemon/store.h"
#include "daemon/wake.h"

int ctl_fail(int status, const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "puentectl %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return status;
}

int ctl_env_open(const struct ctl_context *ctx, const char *cmd, bool create, struct ctl_env *ret)
{
        struct config_diag *diag = calloc(1, sizeof(*diag));
        char err[STORE_ERRMSG_MAX];
        struct config *c = NULL;
        struct store *s = NULL;
        struct stat sb;
        int r;

        if (!diag)
                return ctl_fail(CTL_EXIT_FAIL, cmd, "out of memory");
        r = config_load(ctx->config_path, &c, diag);
        if (r < 0) {
                const char *path = ctx->config_path ? ctx->config_path : CONFIG_DEFAULT_PATH;

                if (diag->count == 0)
                        ctl_fail(CTL_EXIT_FAIL, cmd, "cannot read %s: %s", path, strerror(-r));
                for (unsigned i = 0; i < diag->count && i < CONFIG_ERRORS_MAX; i++)
                        ctl_fail(CTL_EXIT_FAIL, cmd, "%s", diag->text[i]);
                if (diag->count > CONFIG_ERRORS_MAX)
                        ctl_fail(CTL_EXIT_FAIL, cmd, "... and %u more errors",
                                 diag->count - CONFIG_ERRORS_MAX);
                free(diag);
                return CTL_EXIT_FAIL;
        }
        free(diag);
        if (!create && stat(c->database, &sb) < 0) {
                if (errno == ENOENT)
                        ctl_fail(CTL_EXIT_FAIL, cmd,
                                 "no database at %s yet: puented has not run with this "
                                 "configuration",
                                 c->database);
                else
                        ctl_fail(CTL_EXIT_FAIL, cmd, "cannot use the database %s: %s", c->database,
                                 strerror(errno));
                config_free(c);
                return CTL_EXIT_FAIL;
        }
        /* puented may be between AT+CMGS and its answer right now: its part stays "sending". */
        r = store_open(c->database, &(struct store_options){ .leave_sending = true }, &s, err);
        if (r < 0) {
                ctl_fail(CTL_EXIT_FAIL, cmd, "cannot open the database: %s", err);
                config_free(c);
                return CTL_EXIT_FAIL;
        }
        *ret = (struct ctl_env){ .config = c, .store = s };
        return CTL_EXIT_OK;
}

void ctl_env_close(struct ctl_env *e)
{
        e->store = store_close(e->store);
        e->config = config_free(e->config);
}

int ctl_parse_long(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int ctl_wake(const struct config *c)
{
        char path[CONFIG_PATH_MAX + sizeof("/" WAKE_SOCKET_NAME)];
        int r = wake_socket_path(c->state_directory, path, sizeof(path));

        return r < 0 ? r : wake_send(path);
}

void ctl_time_str(int64_t t, char buf[CTL_TIME_MAX])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (t <= 0 || !localtime_r(&tt, &tm) ||
            strftime(buf, CTL_TIME_MAX, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, CTL_TIME_MAX, "-");
}

static size_t utf8_len(unsigned char lead)
{
        return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

void ctl_text_excerpt(const char *text, size_t max, char *buf, size_t size)
{
        const char *p = text ? text : "";
        size_t chars = 0, o = 0;

        if (size < 4) {
                if (size)
                        buf[0] = '\0';
                return;
        }
        while (*p) {
                size_t n = utf8_len((unsigned char)*p);

                if (strnlen(p, n) < n)
                        break; /* a truncated sequence at the end */
                /* Room for this character and a possible "..." after it. */
                if (chars == max || o + n + 4 > size) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (n == 1 && (*p == '\n' || *p == '\r' || *p == '\t'))
                        buf[o] = ' ';
                else
                        memcpy(buf + o, p, n);
                o += n;
                p += n;
                chars++;
        }
        buf[o] = '\0';
}
