/* test-csv: RFC 4180 records (quotes, escaped quotes, line breaks in fields, CRLF, BOM) and
 * every malformed input with its line and column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/csv.h"

/* Rows flattened as "line:f1|f2|...;" */
struct sink {
        char out[2048];
        size_t n;
};

static int collect(void *userdata, unsigned line, const char *const *fields, size_t n)
{
        struct sink *s = userdata;

        s->n += (size_t)snprintf(s->out + s->n, sizeof(s->out) - s->n, "%u:", line);
        for (size_t i = 0; i < n; i++)
                s->n += (size_t)snprintf(s->out + s->n, sizeof(s->out) - s->n, "%s%s", i ? "|" : "",
                                         fields[i]);
        s->n += (size_t)snprintf(s->out + s->n, sizeof(s->out) - s->n, ";");
        return 0;
}

static void test_csv_good(void **state)
{
        static const struct {
                const char *in, *want;
        } cases[] = {
                { "a,b,c\n1,2,3\n", "1:a|b|c;2:1|2|3;" },
                { "a,b\r\n1,2\r\n", "1:a|b;2:1|2;" },
                { "a,b\n1,2", "1:a|b;2:1|2;" },
                { "\xef\xbb\xbf"
                  "phone,name\n",
                  "1:phone|name;" },
                { "\"x, y\",\"he said \"\"hi\"\"\"\n", "1:x, y|he said \"hi\";" },
                { "\"two\nlines\",z\nnext,1\n", "1:two\nlines|z;3:next|1;" },
                { "a,,c\n,\n", "1:a||c;2:|;" },
                { "\n\r\na\n\n", "3:a;" },
                { "María José,Peña\n", "1:María José|Peña;" },
                { "\"\"\n", "1:;" },
                { "", "" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sink s = { 0 };
                struct csv_error e = { 0 };
                int r = csv_parse(cases[i].in, strlen(cases[i].in), collect, &s, &e);

                if (r != 0)
                        fail_msg("case %zu: %d at %u:%u %s", i, r, e.line, e.column, e.what);
                assert_string_equal(s.out, cases[i].want);
        }
}

static void test_csv_bad(void **state)
{
        static const struct {
                const char *in;
                size_t len;
                unsigned line, column;
                const char *what;
        } cases[] = {
                { "a,b\n1,\"open\n2,3\n", 0, 2, 3, "never closed" },
                { "a,b\nab\"c,d\n", 0, 2, 3, "quote inside an unquoted field" },
                { "a,b\n\"x\"y,z\n", 0, 2, 4, "after a closing quote" },
                { "a,b\n1,\xff\n", 0, 2, 3, "invalid UTF-8" },
                { "a,b\n1,\xed\xa0\x80\n", 0, 2, 3, "invalid UTF-8" }, /* a surrogate */
                { "a,b\n1,\xc3", 0, 2, 3, "invalid UTF-8" },           /* truncated */
                { "a,b\nx\0y\n", 8, 2, 2, "NUL byte" },
                { "\"a\nb\nc\",\"d\ne\"x\n", 0, 4, 3, "after a closing quote" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sink s = { 0 };
                struct csv_error e = { 0 };
                size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
                int r = csv_parse(cases[i].in, len, collect, &s, &e);

                if (r != -EBADMSG || e.line != cases[i].line || e.column != cases[i].column ||
                    !strstr(e.what, cases[i].what))
                        fail_msg("case %zu: %d at %u:%u '%s'", i, r, e.line, e.column, e.what);
        }
}

static void test_csv_limits(void **state)
{
        char *big = malloc(CSV_FIELD_MAX + 16), *wide = malloc(4 * CSV_FIELDS_MAX + 16);
        struct sink s = { 0 };
        struct csv_error e = { 0 };
        size_t n = 0;
        (void)state;
        memset(big, 'x', CSV_FIELD_MAX);
        big[CSV_FIELD_MAX] = '\n';
        assert_int_equal(csv_parse(big, CSV_FIELD_MAX + 1, collect, &s, &e), 0);
        big[CSV_FIELD_MAX] = 'x';
        assert_int_equal(csv_parse(big, CSV_FIELD_MAX + 1, collect, &s, &e), -EBADMSG);
        assert_non_null(strstr(e.what, "longer than"));
        for (int i = 0; i < CSV_FIELDS_MAX; i++)
                n += (size_t)sprintf(wide + n, "%s1", i ? "," : "");
        assert_int_equal(csv_parse(wide, n, collect, &s, &e), 0);
        n += (size_t)sprintf(wide + n, ",1");
        assert_int_equal(csv_parse(wide, n, collect, &s, &e), -EBADMSG);
        assert_non_null(strstr(e.what, "more than"));
        free(big);
        free(wide);
}

static int stop_at_2(void *userdata, unsigned line, const char *const *fields, size_t n)
{
        (void)userdata;
        (void)fields;
        (void)n;
        return line == 2 ? -ECANCELED : 0;
}

static void test_csv_callback_and_quote(void **state)
{
        static const struct {
                const char *in, *out;
        } q[] = {
                { "plain", "plain" },
                { "a,b", "\"a,b\"" },
                { "say \"x\"", "\"say \"\"x\"\"\"" },
                { "two\nlines", "\"two\nlines\"" },
                { "", "" },
                { " pad", "\" pad\"" },
        };
        char out[64];
        (void)state;
        assert_int_equal(csv_parse("a\nb\nc\n", 6, stop_at_2, NULL, NULL), -ECANCELED);
        /* No input at all: no record, and NULL is allowed only with length 0. */
        struct sink none = { 0 };
        assert_int_equal(csv_parse(NULL, 0, collect, &none, NULL), 0);
        assert_int_equal(none.n, 0);
        assert_int_equal(csv_parse(NULL, 1, collect, &none, NULL), -EINVAL);
        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
                struct sink s = { 0 };
                char line[80];

                assert_int_equal(csv_quote(q[i].in, out, sizeof(out)), (int)strlen(q[i].out));
                assert_string_equal(out, q[i].out);
                /* What we write, we read back. */
                snprintf(line, sizeof(line), "%s,z\n", out);
                assert_int_equal(csv_parse(line, strlen(line), collect, &s, NULL), 0);
                snprintf(line, sizeof(line), "1:%s|z;", q[i].in);
                assert_string_equal(s.out, line);
        }
        assert_int_equal(csv_quote("abcdef", out, 4), -ENOBUFS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_csv_good),
                cmocka_unit_test(test_csv_bad),
                cmocka_unit_test(test_csv_limits),
                cmocka_unit_test(test_csv_callback_and_quote),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
