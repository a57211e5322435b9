/* The upload helper as a child process on the sd-event loop (see upload-spawn.h). */
#include "daemon/upload-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The Makefile sets it for every object; the benchmarks compile the sources on their own. */
#ifndef PUENTE_LIBEXECDIR
#define PUENTE_LIBEXECDIR "/usr/local/libexec/puente"
#endif

#define USEC_PER_SEC 1000000ull
/* More than a result line is garbage; this much is kept to quote in the error. */
#define OUTPUT_MAX (UPLOAD_HELPER_RESULT_MAX + 1)
#define QUOTE_MAX  40

extern char **environ;

struct upload_spawn {
        sd_event *loop;
        sd_event_source *child, *io, *timer;
        pid_t pid;
        int fd; /* our end of the socket that is the child's stdin and stdout */
        char helper[PATH_MAX];
        unsigned kill_after_s;
        bool killed; /* by us, for the time-out */
        char out[OUTPUT_MAX];
        size_t out_len;
        bool out_overflow;
        upload_spawn_done_fn done;
        void *userdata;
};

/* Words into an UPLOAD_ERROR_MAX buffer (a long helper path cuts them short, which is fine). */
static void say(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, UPLOAD_ERROR_MAX, fmt, ap);
        va_end(ap);
}

void upload_spawn_find_helper(const char *configured, char *buf, size_t size)
{
        char exe[PATH_MAX];
        ssize_t n;

        if (configured && configured[0]) {
                snprintf(buf, size, "%s", configured);
                return;
        }
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *slash = strrchr(exe, '/');
                if (slash) {
                        *slash = '\0';
                        snprintf(buf, size, "%s/%s", exe, UPLOAD_HELPER_NAME);
                        if (access(buf, X_OK) == 0)
                                return;
                }
        }
        snprintf(buf, size, "%s/%s", PUENTE_LIBEXECDIR, UPLOAD_HELPER_NAME);
}

/* Reads what is there without blocking; keeps at most OUTPUT_MAX bytes. Returns true at the
 * end of the stream (or an error). */
static bool drain(struct upload_spawn *s)
{
        char buf[512];

        for (;;) {
                ssize_t n = read(s->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno != EAGAIN;
                if (n == 0)
                        return true;
                size_t room = sizeof(s->out) - s->out_len;
                size_t keep = (size_t)n < room ? (size_t)n : room;
                memcpy(s->out + s->out_len, buf, keep);
                s->out_len += keep;
                if (keep < (size_t)n || s->out_len == sizeof(s->out))
                        s->out_overflow = true;
        }
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct upload_spawn *s = userdata;

        if (drain(s))
                sd_event_source_set_enabled(src, SD_EVENT_OFF); /* the child's exit ends it */
        return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct upload_spawn *s = userdata;

        if (s->pid > 0) {
                s->killed = true;
                kill(s->pid, SIGKILL); /* its exit then ends the run */
        }
        return 0;
}

/* The first QUOTE_MAX bytes of the output, printable, for the error. */
static void quote(const struct upload_spawn *s, char *buf, size_t size)
{
        size_t n = s->out_len < QUOTE_MAX ? s->out_len : QUOTE_MAX;
        if (size == 0)
                return;
        if (n >= size)
                n = size - 1;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s->out[i];
                buf[i] = c >= 0x20 && c <= 0x7e ? (char)c : '.';
        }
        buf[n] = '\0';
}

static void judge(struct upload_spawn *s, const siginfo_t *si, struct upload_spawn_result *r)
{
        char q[QUOTE_MAX + 1];
        struct upload_helper_result res;
        bool parsed = !s->out_overflow && upload_helper_result_parse(s->out, s->out_len, &res) == 0;

        memset(r, 0, sizeof(*r));
        if (s->killed) {
                say(r->error, "upload helper %s: no answer after %u s, killed", s->helper,
                    s->kill_after_s);
        } else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
                say(r->error, "upload helper %s: killed by signal %d (%s)", s->helper,
                    si->si_status, strsignal(si->si_status));
        } else if (si->si_status != 0) {
                if (parsed && res.class == UPLOAD_HELPER_LOCAL)
                        say(r->error, "upload helper %s: %s", s->helper, res.detail);
                else
                        say(r->error, "upload helper %s: exited with status %d", s->helper,
                            si->si_status);
        } else if (s->out_len == 0) {
                say(r->error, "upload helper %s: printed no result", s->helper);
        } else if (!parsed) {
                quote(s, q, sizeof(q));
                say(r->error, "upload helper %s: printed garbage, not a result line: \"%s\"",
                    s->helper, q);
        } else {
                r->ran = true;
                r->result = res;
        }
}

static int on_exit_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        struct upload_spawn *s = userdata;
        struct upload_spawn_result r;

        /* the child is gone: what it wrote is all in the socket */
        drain(s);
        judge(s, si, &r);
        /* reaped here, not left to sd-event after the callback: `done` may free the source */
        while (waitpid(s->pid, NULL, WNOHANG) < 0 && errno == EINTR)
                ;
        s->pid = 0;
        s->io = sd_event_source_disable_unref(s->io);
        s->timer = sd_event_source_disable_unref(s->timer);
        s->done(&r, s->userdata); /* may free s */
        return 0;
}

static int spawn(struct upload_spawn *s, int child_fd, const char *file, const char *object)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, deflt;
        char *argv[] = { (char *)UPLOAD_HELPER_NAME, (char *)file, (char *)object, NULL };
        int r;

        sigemptyset(&none);
        /* what puented ignores (SIGPIPE) would stay ignored across exec */
        sigemptyset(&deflt);
        sigaddset(&deflt, SIGPIPE);
        if ((r = posix_spawn_file_actions_init(&fa)) != 0)
                return -r;
        if ((r = posix_spawnattr_init(&attr)) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        /* stdin and stdout are the socket, stderr stays puented's (the journal); the child
         * gets no other descriptor of ours: not the database, not the modems */
        if ((r = posix_spawn_file_actions_adddup2(&fa, child_fd, STDIN_FILENO)) == 0 &&
            (r = posix_spawn_file_actions_adddup2(&fa, child_fd, STDOUT_FILENO)) == 0 &&
            (r = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1)) == 0 &&
            (r = posix_spawnattr_setsigmask(&attr, &none)) == 0 &&
            (r = posix_spawnattr_setsigdefault(&attr, &deflt)) == 0 &&
            (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) ==
                    0)
                r = posix_spawn(&s->pid, s->helper, &fa, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

/* Kills and reaps a child that still runs; the caller drops the child source. */
static void stop_child(struct upload_spawn *s)
{
        if (s->pid <= 0)
                return;
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        s->pid = 0;
}

static int send_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int upload_spawn_start(sd_event *loop, const char *helper, const char *file, const char *object,
                       const char *settings, size_t settings_len, unsigned kill_after_s,
                       upload_spawn_done_fn done, void *userdata, struct upload_spawn **ret,
                       char *errmsg)
{
        int sv[2], r;
        uint64_t now;

        struct upload_spawn *s = calloc(1, sizeof(*s));
        if (!s) {
                say(errmsg, "out of memory");
                return -ENOMEM;
        }
        s->fd = -1;
        s->done = done;
        s->userdata = userdata;
        s->kill_after_s = kill_after_s;
        snprintf(s->helper, sizeof(s->helper), "%s", helper);
        if (access(s->helper, X_OK) < 0) {
                r = -errno;
                say(errmsg, "upload helper %s: %s", s->helper,
                    r == -ENOENT ? "not found" : strerror(-r));
                free(s);
                return r;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                r = -errno;
                say(errmsg, "upload helper: no socket: %s", strerror(-r));
                free(s);
                return r;
        }
        s->fd = sv[0];
        r = spawn(s, sv[1], file, object);
        close(sv[1]);
        if (r < 0) {
                say(errmsg, "upload helper %s: cannot start: %s", s->helper, strerror(-r));
                goto fail;
        }
        s->loop = sd_event_ref(loop);
        /* a few KiB into a fresh socket: never blocks. A child that died at once makes this
         * fail; its exit status then tells why. */
        if (send_all(s->fd, settings, settings_len) == 0)
                shutdown(s->fd, SHUT_WR);
        if (fcntl(s->fd, F_SETFL, O_NONBLOCK) < 0 ||
            (r = sd_event_add_io(loop, &s->io, s->fd, EPOLLIN, on_output, s)) < 0 ||
            (r = sd_event_add_child(loop, &s->child, s->pid, WEXITED, on_exit_child, s)) < 0 ||
            (r = sd_event_now(loop, CLOCK_MONOTONIC, &now)) < 0 ||
            (r = sd_event_add_time(loop, &s->timer, CLOCK_MONOTONIC,
                                   now + kill_after_s * USEC_PER_SEC, 0, on_timeout, s)) < 0) {
                if (r >= 0)
                        r = -errno;
                say(errmsg, "upload helper %s: cannot watch it: %s%s", s->helper, strerror(-r),
                    r == -EBUSY ? " (SIGCHLD is not blocked)" : "");
                goto fail;
        }
        sd_event_source_set_description(s->io, "upload-helper-output");
        sd_event_source_set_description(s->child, "upload-helper");
        sd_event_source_set_description(s->timer, "upload-helper-timeout");
        *ret = s;
        return 0;
fail:
        upload_spawn_free(s);
        return r;
}

struct upload_spawn *upload_spawn_free(struct upload_spawn *s)
{
        if (!s)
                return NULL;
        stop_child(s);
        sd_event_source_disable_unref(s->child);
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        if (s->fd >= 0)
                close(s->fd);
        sd_event_unref(s->loop);
        free(s);
        return NULL;
}

pid_t upload_spawn_pid(const struct upload_spawn *s)
{
        return s ? s->pid : 0;
}
