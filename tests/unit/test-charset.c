/* Tests for at/charset: GSM 7-bit tables (TS 23.038 6.2.1), folding, UTF-8, packing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "at/charset.h"

/* TS 23.038 6.2.1, written out again here from the spec's table (not from our code),
 * so a typo in either shows. 0x1B is the escape. */
static const uint32_t spec_basic[128] = {
        '@',   0xA3, '$',  0xA5,  0xE8, 0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  '\n',  0xD8,  0xF8,
        '\r',  0xC5, 0xE5, 0x394, '_',  0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398,
        0x39E, 0,    0xC6, 0xE6,  0xDF, 0xC9,  ' ',   '!',   '"',   '#',   0xA4,  '%',   '&',
        '\'',  '(',  ')',  '*',   '+',  ',',   '-',   '.',   '/',   '0',   '1',   '2',   '3',
        '4',   '5',  '6',  '7',   '8',  '9',   ':',   ';',   '<',   '=',   '>',   '?',   0xA1,
        'A',   'B',  'C',  'D',   'E',  'F',   'G',   'H',   'I',   'J',   'K',   'L',   'M',
        'N',   'O',  'P',  'Q',   'R',  'S',   'T',   'U',   'V',   'W',   'X',   'Y',   'Z',
        0xC4,  0xD6, 0xD1, 0xDC,  0xA7, 0xBF,  'a',   'b',   'c',   'd',   'e',   'f',   'g',
        'h',   'i',  'j',  'k',   'l',  'm',   'n',   'o',   'p',   'q',   'r',   's',   't',
        'u',   'v',  'w',  'x',   'y',  'z',   0xE4,  0xF6,  0xF1,  0xFC,  0xE0,
};

static const struct {
        uint8_t septet;
        uint32_t cp;
} spec_ext[] = {
        { 0x0A, 0x0C }, { 0x14, '^' }, { 0x28, '{' }, { 0x29, '}' }, { 0x2F, '\\' },
        { 0x3C, '[' },  { 0x3D, '~' }, { 0x3E, ']' }, { 0x40, '|' }, { 0x65, 0x20AC },
};

static uint32_t spec_ext_cp(uint8_t s)
{
        for (size_t i = 0; i < sizeof(spec_ext) / sizeof(spec_ext[0]); i++)
                if (spec_ext[i].septet == s)
                        return spec_ext[i].cp;
        return 0;
}

static void test_basic_table(void **state)
{
        for (int s = 0; s < 128; s++) {
                uint8_t back = 0xFF;

                if (s == CHARSET_GSM7_ESC) {
                        assert_int_equal(charset_gsm7_basic(s), 0xA0);
                        continue;
                }
                assert_int_equal(charset_gsm7_basic(s), spec_basic[s]);
                assert_int_equal(charset_gsm7_lookup(spec_basic[s], &back), 1);
                assert_int_equal(back, s);
        }
}

static void test_extension_table(void **state)
{
        for (int s = 0; s < 128; s++) {
                uint32_t cp = spec_ext_cp(s);
                uint8_t back = 0xFF;

                assert_int_equal(charset_gsm7_ext(s), cp);
                if (!cp)
                        continue;
                assert_int_equal(charset_gsm7_lookup(cp, &back), 2);
                assert_int_equal(back, s);
        }
}

/* The reverse tables hold exactly the characters of the two spec tables: every other
 * code point, all of Unicode, is absent. */
static void test_lookup_exhaustive(void **state)
{
        size_t found = 0;

        for (uint32_t cp = 0; cp <= CHARSET_CP_MAX; cp++) {
                uint8_t s = 0xFF;
                int n = charset_gsm7_lookup(cp, &s);

                if (n == 0) {
                        assert_int_equal(s, 0xFF); /* untouched */
                        continue;
                }
                found++;
                if (n == 1)
                        assert_int_equal(spec_basic[s], cp);
                else
                        assert_int_equal(spec_ext_cp(s), cp);
        }
        assert_int_equal(found, 127 + 10);
}

static const struct {
        const char *utf8;
        int ret;
        uint32_t cp;
} utf8_cases[] = {
        { "A", 1, 'A' },
        { "\x7f", 1, 0x7F },
        { "\xc2\x80", 2, 0x80 },
        { "\xc3\xa1", 2, 0xE1 },
        { "\xdf\xbf", 2, 0x7FF },
        { "\xe0\xa0\x80", 3, 0x800 },
        { "\xe2\x82\xac", 3, 0x20AC },
        { "\xed\x9f\xbf", 3, 0xD7FF },
        { "\xee\x80\x80", 3, 0xE000 },
        { "\xef\xbf\xbf", 3, 0xFFFF },
        { "\xf0\x90\x80\x80", 4, 0x10000 },
        { "\xf0\x9f\x98\x80", 4, 0x1F600 },
        { "\xf4\x8f\xbf\xbf", 4, 0x10FFFF },
        { "\x80", -EINVAL, 0 },             /* lone continuation */
        { "\xc0\xaf", -EINVAL, 0 },         /* overlong '/' */
        { "\xc1\xbf", -EINVAL, 0 },         /* overlong */
        { "\xe0\x80\xaf", -EINVAL, 0 },     /* overlong 3-byte */
        { "\xf0\x80\x80\xaf", -EINVAL, 0 }, /* overlong 4-byte */
        { "\xed\xa0\x80", -EINVAL, 0 },     /* surrogate D800 */
        { "\xed\xbf\xbf", -EINVAL, 0 },     /* surrogate DFFF */
        { "\xf4\x90\x80\x80", -EINVAL, 0 }, /* above U+10FFFF */
        { "\xf5\x80\x80\x80", -EINVAL, 0 },
        { "\xff", -EINVAL, 0 },
        { "\xc3", -EINVAL, 0 },         /* truncated at the NUL */
        { "\xe2\x82", -EINVAL, 0 },     /* truncated */
        { "\xf0\x9f\x98", -EINVAL, 0 }, /* truncated */
        { "\xc3(", -EINVAL, 0 },        /* bad continuation */
};

static void test_utf8_next(void **state)
{
        for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
                uint32_t cp = 0xDEAD;
                int r = charset_utf8_next(utf8_cases[i].utf8, &cp);

                assert_int_equal(r, utf8_cases[i].ret);
                if (r > 0) {
                        char out[CHARSET_UTF8_MAX];

                        assert_int_equal(cp, utf8_cases[i].cp);
                        assert_int_equal(charset_utf8_put(cp, out), r);
                        assert_memory_equal(out, utf8_cases[i].utf8, r);
                } else {
                        assert_int_equal(cp, 0xDEAD);
                }
        }
}

static void test_utf8_put_all(void **state)
{
        for (uint32_t cp = 1; cp <= CHARSET_CP_MAX; cp++) {
                char buf[CHARSET_UTF8_MAX + 1] = { 0 };
                uint32_t back;

                if (cp >= 0xD800 && cp <= 0xDFFF)
                        continue;
                size_t n = charset_utf8_put(cp, buf);

                assert_int_equal(charset_utf8_next(buf, &back), (int)n);
                assert_int_equal(back, cp);
        }
}

static const struct {
        uint32_t cp;
        const char *fold;
} fold_cases[] = {
        /* Spanish: the accented vowels GSM lacks lose their accent. */
        { 0xE1, "a" },
        { 0xED, "i" },
        { 0xF3, "o" },
        { 0xFA, "u" },
        { 0xC1, "A" },
        { 0xCD, "I" },
        { 0xD3, "O" },
        { 0xDA, "U" },
        /* Portuguese, French, Catalan... */
        { 0xE3, "a" },
        { 0xF5, "o" },
        { 0xEA, "e" },
        { 0xE2, "a" },
        { 0xC0, "A" },
        { 0xC8, "E" },
        { 0xE7, "\xc3\x87" }, /* ç -> Ç (0x09) */
        { 0xFF, "y" },
        { 0x153, "oe" },
        { 0x152, "OE" },
        { 0x141, "L" },
        { 0x142, "l" },
        { 0x15B, "s" },
        { 0x17E, "z" },
        { 0x11F, "g" },
        { 0x131, "i" },
        { 0x219, "s" },
        /* Typography from word processors and phones. */
        { 0x2018, "'" },
        { 0x2019, "'" },
        { 0x201C, "\"" },
        { 0x201D, "\"" },
        { 0x201E, "\"" },
        { 0x2013, "-" },
        { 0x2014, "-" },
        { 0x2026, "..." },
        { 0xAB, "\"" },
        { 0xBB, "\"" },
        { 0xA0, " " },
        { 0x2009, " " },
        { 0x200B, "" },
        { 0xFE0F, "" },
        { 0xFEFF, "" },
        { '`', "'" },
        { '\t', " " },
        { 0xBD, "1/2" },
        { 0xA9, "(c)" },
        { 0xB0, "o" },
        { 0xBA, "o" },
        { 0xAA, "a" },
        /* No sensible fold. */
        { 0x1F600, "?" },
        { 0x416, "?" },
        { 0x4E2D, "?" },
        { 0x3B1, "?" },
        { 0x01, "?" },
};

static void test_fold_cases(void **state)
{
        for (size_t i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
                uint8_t s;

                assert_int_equal(charset_gsm7_lookup(fold_cases[i].cp, &s), 0);
                assert_string_equal(charset_fold(fold_cases[i].cp), fold_cases[i].fold);
        }
}

/* Whatever a fold gives is short and entirely GSM 7-bit, for every code point. */
static void test_fold_all_gsm(void **state)
{
        for (uint32_t cp = 0; cp <= CHARSET_CP_MAX; cp++) {
                const char *f = charset_fold(cp);
                size_t chars = 0;

                assert_non_null(f);
                while (*f) {
                        uint32_t c;
                        uint8_t s;
                        int n = charset_utf8_next(f, &c);

                        assert_true(n > 0);
                        assert_int_not_equal(charset_gsm7_lookup(c, &s), 0);
                        f += n;
                        chars++;
                }
                assert_true(chars <= CHARSET_FOLD_MAX);
        }
}

/* The classic example: "hellohello" packs to E8329BFD4697D9EC37. */
static void test_pack_hellohello(void **state)
{
        static const uint8_t want[] = { 0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37 };
        uint8_t sept[10], out[16] = { 0 }, back[10];

        for (int i = 0; i < 10; i++)
                sept[i] = "hellohello"[i];
        assert_int_equal(charset_septets_octets(10), 9);
        charset_septets_pack(sept, 10, 0, out);
        assert_memory_equal(out, want, sizeof(want));
        assert_int_equal(out[9], 0);
        charset_septets_unpack(out, 9, 0, 10, back);
        assert_memory_equal(back, sept, 10);
}

/* After a 6-octet UDH, 7 septets are taken (one fill bit); "Hi" then starts at bit 49. */
static void test_pack_after_udh(void **state)
{
        uint8_t out[16] = { 0x05, 0x00, 0x03, 0x2A, 0x02, 0x01 };
        static const uint8_t want[] = { 0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x90, 0x69 };
        const uint8_t sept[2] = { 'H', 'i' };
        uint8_t back[2];

        charset_septets_pack(sept, 2, 7, out);
        assert_memory_equal(out, want, sizeof(want));
        charset_septets_unpack(out, 8, 7, 2, back);
        assert_memory_equal(back, sept, 2);
}

static void test_pack_roundtrip_all_offsets(void **state)
{
        uint8_t sept[160], back[160];

        for (int i = 0; i < 160; i++)
                sept[i] = (i * 37 + 11) & 0x7F;
        for (size_t first = 0; first < 9; first++) {
                for (size_t n = 0; n + first <= 160; n += 13) {
                        uint8_t out[141] = { 0 };

                        charset_septets_pack(sept, n, first, out);
                        assert_true(charset_septets_octets(first + n) <= 140);
                        charset_septets_unpack(out, charset_septets_octets(first + n), first, n,
                                               back);
                        assert_memory_equal(back, sept, n);
                }
        }
}

/* Unpacking never reads past in_len: septets beyond read as 0. */
static void test_unpack_bounds(void **state)
{
        const uint8_t in[1] = { 0xFF };
        uint8_t out[3];

        charset_septets_unpack(in, 1, 0, 3, out);
        assert_int_equal(out[0], 0x7F);
        assert_int_equal(out[1], 0x01);
        assert_int_equal(out[2], 0x00);
}

static const struct {
        uint8_t septets[8];
        size_t n;
        const char *utf8;
} decode_cases[] = {
        { { 0x1B, 0x65, 'a' },
          3,
          "\xe2\x82\xac"
          "a" },                                 /* € */
        { { 0x1B, 0x0A }, 2, "\x0c" },           /* form feed */
        { { 0x1B, 0x3C, 0x1B, 0x3E }, 4, "[]" }, /* brackets */
        { { 0x1B, 'A' }, 2, "A" },               /* undefined extension: the basic character */
        { { 0x1B, 0x1B, 'x' }, 3, " x" },        /* ESC ESC: reserved, a space */
        { { 'a', 0x1B }, 2, "a" },               /* trailing lone escape dropped */
        { { 0x00, 0x02, 0x11 }, 3, "@$_" },
        { { 0x10, 0x1E, 0x5D, 0x7D }, 4, "\xce\x94\xc3\x9f\xc3\x91\xc3\xb1" }, /* ΔßÑñ */
};

static void test_gsm7_to_utf8(void **state)
{
        for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
                char out[32];
                size_t n = charset_gsm7_to_utf8(decode_cases[i].septets, decode_cases[i].n, out,
                                                sizeof(out));

                assert_string_equal(out, decode_cases[i].utf8);
                assert_int_equal(n, strlen(decode_cases[i].utf8));
        }
}

/* A small buffer stops the decoder at a character boundary, NUL-terminated. */
static void test_gsm7_to_utf8_limit(void **state)
{
        const uint8_t sept[] = { 'a', 0x1B, 0x65, 'b' }; /* "a€b" */
        char out[5];

        memset(out, 'X', sizeof(out));
        assert_int_equal(charset_gsm7_to_utf8(sept, 4, out, 4), 1);
        assert_string_equal(out, "a");
        assert_int_equal(charset_gsm7_to_utf8(sept, 4, out, 5), 4);
        assert_string_equal(out, "a\xe2\x82\xac");
        assert_int_equal(charset_gsm7_to_utf8(sept, 4, out, 1), 0);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_table),
                cmocka_unit_test(test_extension_table),
                cmocka_unit_test(test_lookup_exhaustive),
                cmocka_unit_test(test_utf8_next),
                cmocka_unit_test(test_utf8_put_all),
                cmocka_unit_test(test_fold_cases),
                cmocka_unit_test(test_fold_all_gsm),
                cmocka_unit_test(test_pack_hellohello),
                cmocka_unit_test(test_pack_after_udh),
                cmocka_unit_test(test_pack_roundtrip_all_offsets),
                cmocka_unit_test(test_unpack_bounds),
                cmocka_unit_test(test_gsm7_to_utf8),
                cmocka_unit_test(test_gsm7_to_utf8_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
