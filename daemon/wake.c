/* The wake socket: puentectl pokes the daemon after queuing work. */
#include "daemon/wake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define WAKE_DRAIN_MAX 64 /* datagrams read per wake-up; the rest wake us again */

struct wake {
        sd_event_source *io;
        int fd;
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        wake_cb cb;
        void *userdata;
};

static int wake_addr(const char *path, struct sockaddr_un *ret_addr)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };

        if (!path || !*path || !ret_addr)
                return -EINVAL;
        size_t n = strlen(path);
        if (n >= sizeof(a.sun_path))
                return -ENAMETOOLONG;
        memcpy(a.sun_path, path, n + 1);
        *ret_addr = a;
        return 0;
}

int wake_socket_path(const char *state_directory, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s", state_directory, WAKE_SOCKET_NAME);
        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        if ((size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return -ENAMETOOLONG;
        return 0;
}

static int on_wake_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct wake *w = userdata;
        char buf[64];

        /* A burst of wakes (puentectl send in a loop) is one look at the store. */
        for (int i = 0; i < WAKE_DRAIN_MAX; i++)
                if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
                        break;
        if (w->cb)
                w->cb(w->userdata);
        return 0;
}

int wake_open(sd_event *event, const char *path, wake_cb cb, void *userdata, struct wake **ret_wake)
{
        struct sockaddr_un a;
        struct stat st;
        int r = wake_addr(path, &a);
        if (r < 0)
                return r;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                /* Left by a daemon that died without cleaning up; another live daemon would
                 * answer a connect, and then we must not steal its socket. */
                r = wake_send(path);
                if (r == 0 || r == -EAGAIN) /* EAGAIN: alive, its queue is full */
                        return -EADDRINUSE;
                unlink(path);
        }

        struct wake *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        memcpy(w->path, a.sun_path, sizeof(w->path)); /* same size; wake_addr() checked it */
        w->cb = cb;
        w->userdata = userdata;

        w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->fd < 0) {
                r = -errno;
                goto fail;
        }
        /* umask may be tighter than the group write puentectl needs; chmod after bind. */
        if (bind(w->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                r = -errno;
                w->path[0] = '\0';
                goto fail;
        }
        if (chmod(path, WAKE_SOCKET_MODE) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, on_wake_io, w);
        if (r < 0)
                goto fail;
        (void)sd_event_source_set_description(w->io, "wake");
        *ret_wake = w;
        return 0;
fail:
        wake_close(w);
        return r;
}

struct wake *wake_close(struct wake *w)
{
        if (!w)
                return NULL;
        w->io = sd_event_source_disable_unref(w->io);
        if (w->fd >= 0)
                close(w->fd);
        if (w->path[0])
                unlink(w->path);
        free(w);
        return NULL;
}

int wake_send(const char *path)
{
        struct sockaddr_un a;
        int r = wake_addr(path, &a);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = 0;
        if (sendto(fd, WAKE_PAYLOAD, strlen(WAKE_PAYLOAD), MSG_DONTWAIT, (struct sockaddr *)&a,
                   sizeof(a)) < 0)
                r = -errno;
        close(fd);
        return r;
}
