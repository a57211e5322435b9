/* Pure helpers for AT command arguments and bounded string copies (no I/O). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

int sim_args_split(const char *args, char fields[][128], int max)
{
        int n = 0;
        const char *p = args;
        while (n < max) {
                size_t k = 0;
                bool quoted = false;
                while (*p == ' ')
                        p++;
                while (*p && (quoted || *p != ',')) {
                        if (*p == '"') {
                                quoted = !quoted;
                                p++;
                                continue;
                        }
                        if (k + 1 >= 128)
                                return -EINVAL;
                        fields[n][k++] = *p++;
                }
                while (k > 0 && fields[n][k - 1] == ' ')
                        k--;
                fields[n][k] = '\0';
                if (quoted)
                        return -EINVAL;
                n++;
                if (*p != ',')
                        return n;
                p++;
        }
        return -EINVAL; /* more fields than the command takes */
}

int sim_strcpy(char *dst, size_t size, const char *src)
{
        size_t len = strlen(src);
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(dst, src, len + 1);
        return 0;
}

void sim_strlcpy(char *dst, size_t size, const char *src)
{
        size_t len = strnlen(src, size - 1);
        memcpy(dst, src, len);
        dst[len] = '\0';
}

int sim_args_int(const char *s, int lo, int hi, int *ret)
{
        char *end;
        if (!*s)
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < lo || v > hi)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}
