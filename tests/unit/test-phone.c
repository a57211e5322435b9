/* at/phone: E.164 normalization, table-driven, with numbers written the ways clinic staff
 * and spreadsheets write them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at/phone.h"

struct good_case {
        const char *input;
        unsigned cc;
        const char *want;
};

static const struct good_case good[] = {
        /* Mexico, national forms since and before the 2019 reform */
        { "5512345678", 52, "+525512345678" },
        { "55 1234 5678", 52, "+525512345678" },
        { "(55) 1234-5678", 52, "+525512345678" },
        { "55.1234.5678", 52, "+525512345678" },
        { "044 55 1234 5678", 52, "+525512345678" },
        { "045 33 1234 5678", 52, "+523312345678" },
        { "01 81 1234 5678", 52, "+528112345678" },
        /* Mexico, international forms, with and without the dropped mobile "1" */
        { "+52 55 1234 5678", 52, "+525512345678" },
        { "+52 1 55 1234 5678", 52, "+525512345678" },
        { "+5215512345678", 52, "+525512345678" },
        { "0052 55 1234 5678", 52, "+525512345678" },
        { "00 52 1 55 1234 5678", 52, "+525512345678" },
        { "525512345678", 52, "+525512345678" },  /* spreadsheet lost the '+' */
        { "5215512345678", 52, "+525512345678" }, /* and the old mobile 1 */
        { "+52-55-1234-5678", 52, "+525512345678" },
        /* a foreign number received in Mexico */
        { "+1 (202) 555-0142", 52, "+12025550142" },
        { "+502 2345 6789", 52, "+50223456789" },
        { "00 44 20 7946 0958", 52, "+442079460958" },
        /* other defaults */
        { "(202) 555-0142", 1, "+12025550142" },
        { "1 202 555 0142", 1, "+12025550142" },
        { "020 7946 0958", 44, "+442079460958" },
        { "2345 6789", 502, "+50223456789" },
        { "\t55 1234 5678 ", 52, "+525512345678" },
        { "+683 4002", 52, "+6834002" },                  /* 7 digits: Niue, the shortest */
        { "+49 1234 567890123", 52, "+491234567890123" }, /* 15 digits */
        /* default codes of one, two and three digits, with the trunk "0" dropped */
        { "(264) 497-1234", 1, "+12644971234" }, /* Anguilla: NANP +1 264, not a code 1264 */
        { "+1 264 497 1234", 52, "+12644971234" },
        { "+7 495 123 4567", 52, "+74951234567" },
        { "07700 900123", 44, "+447700900123" },
        { "099 123 4567", 593, "+593991234567" },
        { "+593 99 123 4567", 52, "+593991234567" },
        { "01712-345678", 880, "+8801712345678" },
        { "1712 345678", 880, "+8801712345678" },
};

struct bad_case {
        const char *input;
        unsigned cc;
        enum phone_problem want;
};

static const struct bad_case bad[] = {
        { "", 52, PHONE_EMPTY },
        { "  - ", 52, PHONE_EMPTY },
        { "+", 52, PHONE_EMPTY },
        { "55 CALL NOW", 52, PHONE_LETTER },
        { "1-800-FLOWERS", 1, PHONE_LETTER },
        { "55*1234*5678", 52, PHONE_BAD_CHAR },
        { "55/1234/5678", 52, PHONE_BAD_CHAR },
        { "5512345678\n", 52, PHONE_BAD_CHAR },
        { "55+12345678", 52, PHONE_MISPLACED_PLUS },
        { "++525512345678", 52, PHONE_MISPLACED_PLUS },
        { "+0525512345678", 52, PHONE_BAD_COUNTRY },
        { "0005512345678", 52, PHONE_BAD_COUNTRY },
        { "551234567", 52, PHONE_TOO_SHORT },
        { "+52 55 1234 567", 52, PHONE_TOO_SHORT },
        { "55123456789", 52, PHONE_TOO_LONG },
        { "+52 55 1234 56789", 52, PHONE_TOO_LONG },
        { "+52 2 55 1234 5678", 52, PHONE_TOO_LONG }, /* only "1" was ever inserted */
        { "044 55 1234 567", 52, PHONE_TOO_LONG },    /* 12 digits: no prefix to drop */
        { "+1234567890123456", 52, PHONE_TOO_LONG },
        { "+683 400", 52, PHONE_TOO_SHORT },
        { "202 555 014", 1, PHONE_TOO_SHORT },
        { "5512345678", 0, PHONE_BAD_COUNTRY },
        { "5512345678", 1000, PHONE_BAD_COUNTRY },
        /* E.164 codes are prefix-free: a default code under +1 or +7, or under a two-digit
         * code, is no code (115 made "+1155551234", a NANP number), nor is a two-digit
         * number that only starts three-digit codes (21: 212 Morocco ...) */
        { "5551234", 115, PHONE_BAD_COUNTRY },
        { "5551234", 12, PHONE_BAD_COUNTRY },
        { "5551234", 19, PHONE_BAD_COUNTRY },
        { "5551234", 76, PHONE_BAD_COUNTRY },
        { "5551234", 777, PHONE_BAD_COUNTRY },
        { "5551234", 521, PHONE_BAD_COUNTRY },
        { "5551234", 440, PHONE_BAD_COUNTRY },
        { "5551234", 21, PHONE_BAD_COUNTRY },
        { "5551234", 42, PHONE_BAD_COUNTRY },
        { "5551234", 2, PHONE_BAD_COUNTRY },
        { "4971234", 1264, PHONE_BAD_COUNTRY }, /* Anguilla is +1 with area code 264 */
        { "00", 52, PHONE_EMPTY },
};

static void test_good(void **state)
{
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char out[PHONE_E164_MAX];
                enum phone_problem p = PHONE_TOO_LONG;
                int r = phone_normalize(good[i].input, good[i].cc, out, &p);
                if (r != 0 || strcmp(out, good[i].want) != 0)
                        fail_msg("\"%s\" (cc %u): got %d %s, want %s", good[i].input, good[i].cc, r,
                                 r == 0 ? out : phone_problem_str(p), good[i].want);
                assert_int_equal(p, PHONE_OK);
        }
}

/* A normalized number normalizes to itself, whatever the default country: numbers already
 * in the store may be normalized again (puentectl import of an export). */
static void test_idempotent(void **state)
{
        static const unsigned ccs[] = { 52, 1, 44, 502 };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char once[PHONE_E164_MAX], twice[PHONE_E164_MAX];
                assert_int_equal(phone_normalize(good[i].input, good[i].cc, once, NULL), 0);
                for (size_t k = 0; k < sizeof(ccs) / sizeof(ccs[0]); k++) {
                        assert_int_equal(phone_normalize(once, ccs[k], twice, NULL), 0);
                        assert_string_equal(once, twice);
                }
        }
}

static void test_bad(void **state)
{
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char out[PHONE_E164_MAX] = "untouched";
                enum phone_problem p = PHONE_OK;
                int r = phone_normalize(bad[i].input, bad[i].cc, out, &p);
                if (r != -EINVAL || p != bad[i].want)
                        fail_msg("\"%s\" (cc %u): got %d problem %d (%s), want problem %d (%s)",
                                 bad[i].input, bad[i].cc, r, p, phone_problem_str(p), bad[i].want,
                                 phone_problem_str(bad[i].want));
                assert_string_equal(out, "untouched"); /* ret_ written only on success */
        }
}

static void test_input_limit(void **state)
{
        char in[PHONE_INPUT_MAX + 2];
        char out[PHONE_E164_MAX];
        enum phone_problem p;

        /* spaces do not count as digits, so the only problem is the length */
        memset(in, ' ', sizeof(in) - 1);
        in[sizeof(in) - 1] = '\0';
        memcpy(in, "5512345678", 10);
        assert_int_equal(phone_normalize(in, 52, out, &p), -EINVAL);
        assert_int_equal(p, PHONE_INPUT_TOO_LONG);
        in[PHONE_INPUT_MAX] = '\0'; /* exactly the limit is fine */
        assert_int_equal(phone_normalize(in, 52, out, &p), 0);
        assert_string_equal(out, "+525512345678");
        assert_int_equal(phone_normalize(NULL, 52, out, NULL), -EINVAL);
}

static void test_problem_strings(void **state)
{
        assert_string_equal(phone_problem_str(PHONE_LETTER), "contains a letter");
        for (int p = PHONE_OK; p <= PHONE_INPUT_TOO_LONG; p++)
                assert_true(strlen(phone_problem_str(p)) > 4);
}

static void test_country(void **state)
{
        unsigned cc = 0;

        assert_int_equal(phone_country_code("MX", &cc), 0);
        assert_int_equal(cc, 52);
        assert_int_equal(phone_country_code("gt", &cc), 0);
        assert_int_equal(cc, 502);
        cc = 7;
        assert_int_equal(phone_country_code("XX", &cc), -ENOENT);
        assert_int_equal(phone_country_code("MEX", &cc), -ENOENT);
        assert_int_equal(phone_country_code("", &cc), -ENOENT);
        assert_int_equal(cc, 7);
}

/* phone_cc_valid(), which the configuration uses for default_country_code. */
static void test_cc_valid(void **state)
{
        static const unsigned valid[] = { 1,   7,   20,  27,  44,  49,  52,  98,
                                          212, 351, 420, 502, 593, 683, 880, 998 };
        static const unsigned invalid[] = { 0,   2,   5,   10,  11,  12,   19,  21,
                                            42,  50,  99,  100, 115, 199,  200, 209,
                                            270, 440, 521, 700, 799, 1000, 1264 };

        (void)state;
        for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
                if (!phone_cc_valid(valid[i]))
                        fail_msg("%u refused", valid[i]);
        for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
                if (phone_cc_valid(invalid[i]))
                        fail_msg("%u accepted", invalid[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),        cmocka_unit_test(test_bad),
                cmocka_unit_test(test_input_limit), cmocka_unit_test(test_problem_strings),
                cmocka_unit_test(test_country),     cmocka_unit_test(test_idempotent),
                cmocka_unit_test(test_cc_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
