/* Reading a rules directory: *.conf in name order, bytes in memory for the rules core. */
#include "daemon/rules-files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf(const char *name)
{
        size_t n = strlen(name);

        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int read_one(const char *path, struct rules_source *src, char *error, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r;

        if (fd < 0) {
                r = -errno;
                snprintf(error, size, "%.200s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(error, size, "%.200s: %s", path, strerror(-r));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EISDIR;
                snprintf(error, size, "%.200s: not a regular file", path);
                goto out;
        }
        if (st.st_size > RULES_FILE_SIZE_MAX) {
                r = -EFBIG;
                snprintf(error, size, "%.200s: %lld bytes; expected at most %d", path,
                         (long long)st.st_size, RULES_FILE_SIZE_MAX);
                goto out;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                r = -ENOMEM;
                goto out;
        }
        while (len < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + len, (size_t)st.st_size - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        snprintf(error, size, "%.200s: %s", path, strerror(-r));
                        goto out;
                }
                if (k == 0)
                        break; /* shrank while read: take what is there */
                len += (size_t)k;
        }
        src->name = strdup(path);
        if (!src->name) {
                r = -ENOMEM;
                goto out;
        }
        src->data = buf;
        src->len = len;
        buf = NULL;
        r = 0;
out:
        free(buf);
        close(fd);
        return r;
}

int rules_files_read(const char *dir, struct rules_files *files)
{
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        memset(files, 0, sizeof(*files));
        d = opendir(dir);
        if (!d) {
                r = -errno;
                snprintf(files->error, sizeof(files->error), "%.200s: %s", dir, strerror(-r));
                return r;
        }
        while ((de = readdir(d))) {
                if (!is_conf(de->d_name))
                        continue;
                if (n == RULES_FILES_MAX) {
                        r = -E2BIG;
                        snprintf(files->error, sizeof(files->error), "%s: more than %d .conf files",
                                 dir, RULES_FILES_MAX);
                        goto out;
                }
                if (n == cap) {
                        size_t c = cap ? 2 * cap : 16;
                        char **p = realloc(names, c * sizeof(*p));

                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        names = p;
                        cap = c;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        goto out;
                }
                n++;
        }
        if (n > 0) /* names is NULL when there is none, and qsort() takes no NULL */
                qsort(names, n, sizeof(*names), name_cmp);
        files->src = calloc(n ? n : 1, sizeof(*files->src));
        if (!files->src) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                char path[4096];

                snprintf(path, sizeof(path), "%s%s%s", dir,
                         dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
                r = read_one(path, &files->src[files->n], files->error, sizeof(files->error));
                if (r < 0)
                        goto out;
                files->n++;
        }
out:
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        if (r < 0) {
                char keep[sizeof(files->error)];

                memcpy(keep, files->error, sizeof(keep));
                rules_files_free(files);
                memcpy(files->error, keep, sizeof(keep));
                if (r == -ENOMEM && !files->error[0])
                        snprintf(files->error, sizeof(files->error), "out of memory");
        }
        return r;
}

void rules_files_free(struct rules_files *files)
{
        if (!files)
                return;
        for (size_t i = 0; files->src && i < files->n; i++) {
                free((char *)files->src[i].name);
                free((char *)files->src[i].data);
        }
        free(files->src);
        memset(files, 0, sizeof(*files));
}

bool rules_files_zone_exists(void *userdata, const char *zone)
{
        const char *dir = getenv("TZDIR");
        char path[1024];
        struct stat st;

        (void)userdata;
        if (!dir || !*dir)
                dir = RULES_FILES_ZONEINFO;
        if (!zone || !*zone || zone[0] == '/' || strstr(zone, ".."))
                return false;
        snprintf(path, sizeof(path), "%s/%s", dir, zone);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
