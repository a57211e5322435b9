/* rules/match: replies as participants write them, normalized the way quiz answers and
 * keywords are stored; dates as they are typed after ALTA, BEBE or CITA. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/match.h"

struct norm_case {
        const char *in;
        const char *want;
};

static const struct norm_case norm[] = {
        /* case, accents, spaces */
        { "SI", "si" },
        { "Sí", "si" },
        { "  sí  ", "si" },
        { "SÍ!!", "si" },
        { "¡Sí!", "si" },
        { "No.", "no" },
        { "Año", "ano" },
        { "ÑANDÚ", "nandu" },
        { "pingüino", "pinguino" },
        { "Ça va", "ca va" },
        { "straße", "strasse" },
        { "hola\tmundo\r\n", "hola mundo" },
        { "a,b;c", "a b c" },
        /* number words and ordinals, Spanish and English */
        { "1", "1" },
        { "uno", "1" },
        { "Uno.", "1" },
        { "UNA", "1" },
        { "primero", "1" },
        { "Primera", "1" },
        { "1º", "1" },
        { "1ª", "1a" }, /* "1a" stays: an answer list may hold it, it is not an ordinal here */
        { "1ro", "1" },
        { "1er", "1" },
        { "first", "1" },
        { "dos", "2" },
        { "2do", "2" },
        { "segunda", "2" },
        { "tres", "3" },
        { "tercero", "3" },
        { "3er", "3" },
        { "cuatro", "4" },
        { "diez", "10" },
        { "cero", "0" },
        { "opcion dos", "opcion 2" },
        /* letters stay letters: "a" is an answer of its own */
        { "a", "a" },
        { "A)", "a" },
        { "b.", "b" },
        /* keywords with their arguments */
        { "ALTA 15/03/2026", "alta 15 03 2026" },
        { "bebe", "bebe" },
        { "BEBÉ", "bebe" },
        { "Pérdida aborto", "perdida aborto" },
        /* emoji and symbols separate words, invalid UTF-8 is dropped */
        { "si👍", "si" },
        { "👍", "" },
        { "s\xff"
          "i",
          "si" },
        { "\xc3", "" },
        { "", "" },
        { "   ", "" },
        /* a word longer than any keyword is cut, not lost */
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
};

static void test_normalize(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
                char out[RULES_MATCH_TEXT_MAX];
                int n = rules_match_normalize(norm[i].in, strlen(norm[i].in), out, sizeof(out));

                if (n < 0 || strcmp(out, norm[i].want) != 0)
                        print_message("'%s': got '%s' (%d), want '%s'\n", norm[i].in, out, n,
                                      norm[i].want);
                assert_int_equal(n, (int)strlen(norm[i].want));
                assert_string_equal(out, norm[i].want);
        }
}

/* The input need not be NUL-terminated: len bytes are read, no more. */
static void test_normalize_len(void **state)
{
        char out[16];

        (void)state;
        assert_int_equal(rules_match_normalize("SIXXX", 2, out, sizeof(out)), 2);
        assert_string_equal(out, "si");
}

/* A small buffer holds whole words only, and says so. */
static void test_normalize_small(void **state)
{
        char out[8];

        (void)state;
        assert_int_equal(rules_match_normalize("uno dos tres cuatro", 19, out, sizeof(out)), 7);
        assert_string_equal(out, "1 2 3 4");
        assert_int_equal(rules_match_normalize("uno dos tres cuatro", 19, out, 6), -ENOBUFS);
        assert_string_equal(out, "1 2 3");
        assert_int_equal(rules_match_normalize("abcdefgh", 8, out, sizeof(out)), -ENOBUFS);
        assert_string_equal(out, "");
        assert_int_equal(rules_match_normalize("x", 1, out, 0), -EINVAL);
        assert_int_equal(rules_match_normalize(NULL, 1, out, sizeof(out)), -EINVAL);
}

static void test_first_word(void **state)
{
        const char *rest;

        (void)state;
        assert_int_equal(rules_match_first_word("alta 15 03 2026", &rest), 4);
        assert_string_equal(rest, "15 03 2026");
        assert_int_equal(rules_match_first_word("bebe", &rest), 4);
        assert_string_equal(rest, "");
        assert_int_equal(rules_match_first_word("", &rest), 0);
}

static void test_any_same(void **state)
{
        static const char *const words[] = { "stop", "alto", "baja", "cancelar" };

        (void)state;
        assert_true(rules_match_any("baja", words, 4));
        assert_false(rules_match_any("bajar", words, 4));
        assert_false(rules_match_any("", words, 4));
        assert_true(rules_match_same("Sí", "si"));
        assert_true(rules_match_same("uno", "1"));
        assert_true(rules_match_same("1ro", "Primero"));
        assert_false(rules_match_same("a", "1"));
        assert_false(rules_match_same("dos", "1"));
}

struct date_case {
        const char *in;
        int ret; /* bytes used, or -EBADMSG */
        int y, m, d;
};

static const struct date_case dates[] = {
        { "15/03/2026", 10, 2026, 3, 15 },
        { "5/3/2026", 8, 2026, 3, 5 },
        { "05-03-2026", 10, 2026, 3, 5 },
        { "05.03.26", 8, 2026, 3, 5 },
        { "15 03 2026", 10, 2026, 3, 15 }, /* normalized text */
        { "  1/1/2027 extra", 10, 2027, 1, 1 },
        { "29/02/2028", 10, 2028, 2, 29 }, /* leap year */
        { "29/02/2026", -EBADMSG, 0, 0, 0 },
        { "31/04/2026", -EBADMSG, 0, 0, 0 },
        { "00/01/2026", -EBADMSG, 0, 0, 0 },
        { "15/13/2026", -EBADMSG, 0, 0, 0 },
        { "15/03/202", -EBADMSG, 0, 0, 0 },
        { "15/03/20266", -EBADMSG, 0, 0, 0 },
        { "2026-03-15", -EBADMSG, 0, 0, 0 }, /* ISO: the day would be 2026 */
        { "15/03", -EBADMSG, 0, 0, 0 },
        { "mañana", -EBADMSG, 0, 0, 0 },
        { "", -EBADMSG, 0, 0, 0 },
};

static void test_dates(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
                int y = 0, m = 0, d = 0;
                int r = rules_match_date(dates[i].in, &y, &m, &d);

                if (r != dates[i].ret)
                        print_message("'%s': got %d\n", dates[i].in, r);
                assert_int_equal(r, dates[i].ret);
                if (r > 0) {
                        assert_int_equal(y, dates[i].y);
                        assert_int_equal(m, dates[i].m);
                        assert_int_equal(d, dates[i].d);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalize),       cmocka_unit_test(test_normalize_len),
                cmocka_unit_test(test_normalize_small), cmocka_unit_test(test_first_word),
                cmocka_unit_test(test_any_same),        cmocka_unit_test(test_dates),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
