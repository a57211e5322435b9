/* libFuzzer target for rules/match (keyword and quiz answer parsing): any bytes normalize
 * without a crash into the documented normal form (lower-case ASCII letters and digits,
 * single spaces, none at the ends), normalizing twice changes nothing, a too-small buffer
 * gives -ENOBUFS with whole words, and dates are valid calendar dates or refused. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_OUT 16 /* a buffer too small for most inputs, to exercise -ENOBUFS */

static void check_form(const char *s, int n)
{
        if (n < 0 || (size_t)n != strlen(s))
                abort();
        if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
                abort();
        for (int i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' '))
                        abort();
                if (c == ' ' && i > 0 && s[i - 1] == ' ')
                        abort();
        }
}

static int days_in(int y, int m)
{
        static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : d[m - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char out[RULES_MATCH_TEXT_MAX], again[RULES_MATCH_TEXT_MAX], small[SMALL_OUT];
        char *z;
        int n, m, y, mo, d;

        bool whole = true;

        n = rules_match_normalize((const char *)data, size, out, sizeof(out));
        if (n == -ENOBUFS)
                whole = false, n = (int)strlen(out);
        else if (n < 0)
                abort();
        check_form(out, n);
        m = rules_match_normalize(out, (size_t)n, again, sizeof(again));
        if (m != n || strcmp(out, again) != 0)
                abort(); /* the normal form is a fixed point */
        m = rules_match_normalize((const char *)data, size, small, sizeof(small));
        if (m == -ENOBUFS) {
                check_form(small, (int)strlen(small));
                if (strncmp(small, out, strlen(small)) != 0)
                        abort(); /* whole words of the full form */
        } else if (m != n || strcmp(small, out) != 0) {
                abort();
        }
        const char *rest = NULL;
        size_t w = rules_match_first_word(out, &rest);
        if (w > (size_t)n || !rest || rest < out || rest > out + n)
                abort();
        const char *words[] = { out };
        if (!rules_match_any(out, words, 1))
                abort();

        z = malloc(size + 1);
        if (!z)
                return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        /* rules_match_same() is false for texts whose normal form does not fit */
        if (whole && !rules_match_same(z, z) && memchr(data, 0, size) == NULL)
                abort();
        m = rules_match_date(z, &y, &mo, &d);
        if (m >= 0) {
                if (m == 0 || (size_t)m > strlen(z) || mo < 1 || mo > 12 || d < 1 ||
                    d > days_in(y, mo))
                        abort();
        } else if (m != -EBADMSG) {
                abort();
        }
        free(z);
        return 0;
}
