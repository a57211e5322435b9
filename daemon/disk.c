/* A full disk, told outside the database (daemon/disk.h). */
#include "daemon/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int disk_free_bytes(const char *path, uint64_t *ret_free)
{
        char dir[DISK_PATH_MAX];
        struct statvfs sv;

        size_t n = path ? strlen(path) : 0;

        if (n == 0 || n >= sizeof(dir))
                return -EINVAL;
        memcpy(dir, path, n + 1);
        if (statvfs(path, &sv) < 0) {
                /* the database itself may not exist yet: its directory tells the same */
                if (errno != ENOENT || statvfs(dirname(dir), &sv) < 0)
                        return -errno;
        }
        *ret_free = (uint64_t)sv.f_bavail * sv.f_frsize;
        return 0;
}

bool disk_low(const char *path)
{
        uint64_t free_bytes;

        /* set when 0 is returned: clang 14's analyzer cannot tell that -errno is negative */
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): above
        return disk_free_bytes(path, &free_bytes) == 0 && free_bytes < DISK_FREE_MIN;
}

static int mark_path(const char *state_dir, char buf[static DISK_PATH_MAX])
{
        if (!state_dir || !*state_dir)
                return -EINVAL;
        int n = snprintf(buf, DISK_PATH_MAX, "%s/%s", state_dir, DISK_MARK_NAME);
        return n < 0 || n >= DISK_PATH_MAX ? -ENAMETOOLONG : 0;
}

int disk_mark(const char *state_dir, bool full)
{
        char path[DISK_PATH_MAX];
        int r = mark_path(state_dir, path);

        if (r < 0)
                return r;
        if (!full)
                return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
        /* O_EXCL: made in one step, or already there with the condition's start time */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        close(fd);
        return 0;
}

int disk_mark_get(const char *state_dir, int64_t *ret_since)
{
        char path[DISK_PATH_MAX];
        struct stat st;
        int r = mark_path(state_dir, path);

        if (r < 0)
                return r;
        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (ret_since)
                *ret_since = (int64_t)st.st_mtime;
        return 1;
}
