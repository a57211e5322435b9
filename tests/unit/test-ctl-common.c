/* daemon/ctl-common: the one-line text excerpts of puentectl's listings (UTF-8 never cut
 * inside a character, line breaks flattened, "..." on a cut, tiny buffers), number parsing,
 * and local times. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/ctl-common.h"

static void test_excerpt_table(void **state)
{
        static const struct {
                const char *in;
                size_t max, size;
                const char *want;
        } rows[] = {
                { "hola", 10, 64, "hola" },
                { "hola", 4, 64, "hola" },          /* exactly max: no cut */
                { "hola mundo", 4, 64, "hola..." }, /* cut after max characters */
                { "línea\nsegunda\tcol\r", 40, 64, "línea segunda col " }, /* flattened */
                { "ñññññ", 3, 64, "ñññ..." }, /* 2-byte characters count once */
                { "😀😀😀", 2, 64, "😀😀..." },    /* 4-byte characters */
                { "😀😀😀", 10, 9, "😀..." },     /* buffer-bound cut: 4 + 3 + NUL */
                { "abcdef", 10, 4, "..." },   /* room for the mark only */
                { "", 10, 8, "" },
                { NULL, 10, 8, "" },
                { "ab\xF0\x9F", 10, 16, "ab" }, /* truncated sequence at the end dropped */
        };

        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                char buf[64];

                memset(buf, 'Z', sizeof(buf));
                ctl_text_excerpt(rows[i].in, rows[i].max, buf, rows[i].size);
                if (strcmp(buf, rows[i].want) != 0)
                        fail_msg("row %zu: got '%s', want '%s'", i, buf, rows[i].want);
                assert_true(strlen(buf) < rows[i].size);
        }
}

static void test_excerpt_tiny(void **state)
{
        char buf[3] = { 'x', 'x', 'x' };

        (void)state;
        ctl_text_excerpt("hola", 10, buf, 3);
        assert_string_equal(buf, "");
        ctl_text_excerpt("hola", 10, buf, 0); /* writes nothing */
        assert_string_equal(buf, "");
}

static void test_parse_long(void **state)
{
        static const struct {
                const char *in;
                long min, max;
                int ret;
                long want;
        } rows[] = {
                { "5", 1, 10, 0, 5 },
                { "-1000", -1000, 1000, 0, -1000 },
                { "0", 1, 10, -EINVAL, 0 },
                { "11", 1, 10, -EINVAL, 0 },
                { "", 1, 10, -EINVAL, 0 },
                { "5x", 1, 10, -EINVAL, 0 },
                { " 5", 1, 10, 0, 5 }, /* strtol skips leading space */
                { "99999999999999999999", 1, 10, -EINVAL, 0 },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                long v = 12345;
                int r = ctl_parse_long(rows[i].in, rows[i].min, rows[i].max, &v);

                if (r != rows[i].ret)
                        fail_msg("row %zu ('%s'): returned %d, want %d", i, rows[i].in, r,
                                 rows[i].ret);
                assert_int_equal(v, r == 0 ? rows[i].want : 12345); /* untouched on failure */
        }
}

static void test_time_str(void **state)
{
        char buf[CTL_TIME_MAX];

        (void)state;
        setenv("TZ", "CST6", 1); /* POSIX form: UTC-6 with no tzdata needed */
        ctl_time_str(0, buf);
        assert_string_equal(buf, "-");
        ctl_time_str(1790000000, buf); /* 2026-09-21 14:13:20 UTC */
        assert_string_equal(buf, "2026-09-21 08:13");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_excerpt_table),
                cmocka_unit_test(test_excerpt_tiny),
                cmocka_unit_test(test_parse_long),
                cmocka_unit_test(test_time_str),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
