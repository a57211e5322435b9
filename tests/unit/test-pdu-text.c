/* Tests for at/pdu text handling: every GSM 7-bit character, Spanish with and without
 * transliteration, emoji, part boundaries, and a seeded round trip of random texts
 * encoded as SUBMIT and DELIVER, decoded and reassembled. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at/charset.h"
#include "at/pdu.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TEXT_MAX      8192 /* bytes of a test text, before or after reassembly */

static struct sms_part parts[SMS_PARTS_MAX];
static const struct sms_submit_opts no_opts = { .msg_class = -1 };
static const char to[] = "+525512345678";

/* Decodes n parts (given in any order), checks their concatenation fields and joins
 * the texts by sequence number into out. */
static void reassemble(const struct sms_part *ps, size_t n, enum sms_dir dir, bool ref16,
                       uint16_t ref, char *out)
{
        static struct sms_pdu pdus[SMS_PARTS_MAX];
        bool seen[SMS_PARTS_MAX + 1] = { false };
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                struct sms_pdu p;
                int r = sms_pdu_decode(ps[i].pdu, ps[i].len, dir, &p);

                if (r < 0)
                        print_message("part %zu: %s\n", i, sms_pdu_error());
                assert_int_equal(r, 0);
                assert_true(ps[i].tpdu_len <= 164);
                assert_int_equal(ps[i].tpdu_len, ps[i].len - 1); /* SMSC 00 */
                if (n == 1) {
                        assert_false(p.concat.present);
                        assert_int_equal(p.udh_len, 0);
                        pdus[0] = p;
                        continue;
                }
                assert_true(p.concat.present);
                assert_int_equal(p.concat.ref16, ref16);
                assert_int_equal(p.concat.ref, ref16 ? ref : (ref & 0xFF));
                assert_int_equal(p.concat.total, n);
                assert_in_range(p.concat.seq, 1, n);
                assert_false(seen[p.concat.seq]);
                seen[p.concat.seq] = true;
                pdus[p.concat.seq - 1] = p;
        }
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(pdus[i].text);

                assert_true(o + l < TEXT_MAX);
                memcpy(out + o, pdus[i].text, l);
                o += l;
        }
        out[o] = '\0';
}

/* What the decoder gives back after transliteration: GSM characters as they are,
 * the rest folded. */
static void folded(const char *in, char *out)
{
        size_t o = 0;

        while (*in) {
                uint32_t cp;
                uint8_t s;
                int n = charset_utf8_next(in, &cp);

                assert_true(n > 0);
                if (charset_gsm7_lookup(cp, &s)) {
                        memcpy(out + o, in, n);
                        o += n;
                } else {
                        const char *f = charset_fold(cp);

                        memcpy(out + o, f, strlen(f));
                        o += strlen(f);
                }
                in += n;
        }
        out[o] = '\0';
}

/* Every character of both tables: one or two septets, and back. */
static void test_every_gsm_character(void **state)
{
        char all[1024];
        size_t o = 0, septets = 0;

        for (int s = 0; s < 128; s++) {
                for (int ext = 0; ext < 2; ext++) {
                        uint32_t cp = ext ? charset_gsm7_ext(s) : charset_gsm7_basic(s);
                        char text[8];
                        struct sms_text_info info;
                        struct sms_pdu p;
                        size_t n;

                        if ((!ext && s == CHARSET_GSM7_ESC) || !cp)
                                continue;
                        n = charset_utf8_put(cp, text);
                        text[n] = '\0';
                        memcpy(all + o, text, n);
                        o += n;
                        septets += ext ? 2 : 1;
                        assert_int_equal(sms_text_analyze(text, false, &info), 0);
                        assert_int_equal(info.charset, SMS_CHARSET_GSM7);
                        assert_int_equal(info.units, ext ? 2 : 1);
                        assert_int_equal(sms_submit_encode(text, to, &no_opts, parts, 1, NULL), 1);
                        /* 00 FO MR 0C 91 +6 PID DCS UDL UD: UD at octet 14 */
                        const uint8_t *ud = parts[0].pdu + 14;

                        assert_int_equal(ud[-1], ext ? 2 : 1);
                        if (ext) {
                                assert_int_equal(ud[0] & 0x7F, CHARSET_GSM7_ESC);
                                assert_int_equal((ud[0] >> 7 | ud[1] << 1) & 0x7F, s);
                        } else {
                                assert_int_equal(ud[0], s);
                        }
                        assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MO, &p),
                                         0);
                        assert_string_equal(p.text, text);
                }
        }
        all[o] = '\0';
        assert_int_equal(septets, 127 + 2 * 10);
        {
                struct sms_text_info info;
                struct sms_pdu p;

                assert_int_equal(sms_submit_encode(all, to, &no_opts, parts, 1, &info), 1);
                assert_int_equal(info.units, septets);
                assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MO, &p), 0);
                assert_string_equal(p.text, all);
        }
}

static const struct {
        const char *name;
        const char *text;
        bool translit;
        enum sms_charset charset;
        size_t units, parts;
        bool folded;
        const char *decoded; /* NULL: the text itself */
} texts[] = {
        { "plain GSM", "Cita confirmada el 12/03 a las 9:30. Responda SI o NO.", false,
          SMS_CHARSET_GSM7, 54, 1, false, NULL },
        { "GSM Spanish letters stay",
          "\xc2\xbf"
          "Ma\xc3\xb1"
          "ana? \xc2\xa1"
          "Ping\xc3\xbc"
          "ino! Caf\xc3\xa9",
          false, SMS_CHARSET_GSM7, 24, 1, false, NULL },
        { "Spanish accents need UCS-2",
          "\xc2\xbf"
          "D\xc3\xb3nde est\xc3\xa1 la cl\xc3\xadnica?",
          false, SMS_CHARSET_UCS2, 23, 1, false, NULL },
        { "Spanish accents transliterated",
          "\xc2\xbf"
          "D\xc3\xb3nde est\xc3\xa1 la cl\xc3\xadnica? \xc3\x9a"
          "ltima cita, "
          "\xc3\x81ngel \xc3\x8d\xc3\xb1igo \xc3\x93scar",
          true, SMS_CHARSET_GSM7, 54, 1, true,
          "\xc2\xbf"
          "Donde esta la clinica? Ultima cita, Angel I\xc3\xb1igo Oscar" },
        { "translit not needed", "Hola", true, SMS_CHARSET_GSM7, 4, 1, false, NULL },
        { "typographic quotes and dashes",
          "\xe2\x80\x9cHola\xe2\x80\x9d \xe2\x80\x94 "
          "\xe2\x80\x98ok\xe2\x80\x99\xe2\x80\xa6",
          true, SMS_CHARSET_GSM7, 16, 1, true, "\"Hola\" - 'ok'..." },
        { "emoji has no fold", "Hola \xf0\x9f\x98\x80", true, SMS_CHARSET_GSM7, 6, 1, true,
          "Hola ?" },
        { "emoji with variation selector", "\xe2\x9d\xa4\xef\xb8\x8f", true, SMS_CHARSET_GSM7, 1, 1,
          true, "?" },
        { "emoji as a surrogate pair", "Hola \xf0\x9f\x98\x80", false, SMS_CHARSET_UCS2, 7, 1,
          false, NULL },
        { "euro costs two septets",
          "\xe2\x82\xac"
          "5",
          false, SMS_CHARSET_GSM7, 3, 1, false, NULL },
        { "extension characters", "[]{}~\\^|\x0c", false, SMS_CHARSET_GSM7, 18, 1, false, NULL },
        { "c cedilla becomes capital", "Fran\xc3\xa7ois", true, SMS_CHARSET_GSM7, 8, 1, true,
          "Fran\xc3\x87ois" },
        { "c cedilla in UCS-2", "Fran\xc3\xa7ois", false, SMS_CHARSET_UCS2, 8, 1, false, NULL },
        { "empty", "", false, SMS_CHARSET_GSM7, 0, 1, false, NULL },
        { "invisible only", "\xe2\x80\x8b", true, SMS_CHARSET_GSM7, 0, 1, true, "" },
        { "backtick is not GSM", "`", false, SMS_CHARSET_UCS2, 1, 1, false, NULL },
        { "CJK", "\xe4\xb8\xad\xe6\x96\x87", false, SMS_CHARSET_UCS2, 2, 1, false, NULL },
        { "CJK transliterated", "\xe4\xb8\xad\xe6\x96\x87", true, SMS_CHARSET_GSM7, 2, 1, true,
          "??" },
};

static void test_texts(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
                struct sms_submit_opts o = no_opts;
                struct sms_text_info info, info2;
                char out[TEXT_MAX];
                int n;

                print_message("text: %s\n", texts[i].name);
                o.translit = texts[i].translit;
                n = sms_submit_encode(texts[i].text, to, &o, parts, SMS_PARTS_MAX, &info);
                assert_int_equal(n, texts[i].parts);
                assert_int_equal(info.charset, texts[i].charset);
                assert_int_equal(info.units, texts[i].units);
                assert_int_equal(info.parts, texts[i].parts);
                assert_int_equal(info.translit, texts[i].folded);
                assert_int_equal(sms_text_analyze(texts[i].text, texts[i].translit, &info2), 0);
                assert_int_equal(info2.charset, info.charset);
                assert_int_equal(info2.units, info.units);
                assert_int_equal(info2.parts, info.parts);
                assert_int_equal(info2.translit, info.translit);
                reassemble(parts, n, SMS_DIR_MO, false, 0, out);
                assert_string_equal(out, texts[i].decoded ? texts[i].decoded : texts[i].text);
        }
}

/* Transliteration halves the cost of Spanish: 2 UCS-2 parts become 1 GSM part. */
static void test_translit_halves_cost(void **state)
{
        const char *t = "Su cita en la cl\xc3\xadnica es ma\xc3\xb1"
                        "ana mi\xc3\xa9rcoles a las "
                        "10:00. Por favor llegue 15 minutos antes. Gracias, Dr. Mart\xc3\xadnez";
        struct sms_text_info plain, fold;

        assert_int_equal(sms_text_analyze(t, false, &plain), 0);
        assert_int_equal(sms_text_analyze(t, true, &fold), 0);
        assert_int_equal(plain.charset, SMS_CHARSET_UCS2);
        assert_int_equal(plain.parts, 2);
        assert_int_equal(fold.charset, SMS_CHARSET_GSM7);
        assert_int_equal(fold.parts, 1);
        assert_int_equal(plain.units, fold.units);
        assert_true(fold.translit);
        assert_int_equal(sms_text_analyze(NULL, false, &plain), -EINVAL);
        assert_int_equal(sms_text_analyze("\xff", true, &plain), -EINVAL);
}

static void repeat(char *out, const char *unit, size_t times)
{
        size_t l = strlen(unit);

        for (size_t i = 0; i < times; i++)
                memcpy(out + i * l, unit, l);
        out[times * l] = '\0';
}

struct boundary {
        const char *name;
        const char *unit; /* repeated `times` times, then tail */
        size_t times;
        const char *tail;
        bool ref16;
        size_t parts;
        size_t first_units; /* septets or UTF-16 units in part 1, UDH excluded */
        const char *second; /* the text of part 2 when there is one */
};

static const struct boundary boundaries[] = {
        { "160 septets fit one message", "a", 160, "", false, 1, 160, NULL },
        { "161 septets need two", "a", 161, "", false, 2, 153, "aaaaaaaa" },
        { "escape would straddle septet 153", "a", 152,
          "\xe2\x82\xac"
          "bbbbbbbbbb",
          false, 2, 152,
          "\xe2\x82\xac"
          "bbbbbbbbbb" },
        { "escape ends exactly at 153", "a", 151,
          "\xe2\x82\xac"
          "bbbbbbbbbb",
          false, 2, 153, "bbbbbbbbbb" },
        { "escape straddles 152 with 16-bit ref", "a", 151,
          "\xe2\x82\xac"
          "bbbbbbbbbb",
          true, 2, 151,
          "\xe2\x82\xac"
          "bbbbbbbbbb" },
        { "80 euros fit one message", "\xe2\x82\xac", 80, "", false, 1, 160, NULL },
        { "81 euros: 76 per part", "\xe2\x82\xac", 81, "", false, 2, 152,
          "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" },
        { "70 UCS-2 units fit one message", "\xd0\x96", 70, "", false, 1, 70, NULL },
        { "71 UCS-2 units need two", "\xd0\x96", 71, "", false, 2, 67,
          "\xd0\x96\xd0\x96\xd0\x96\xd0\x96" },
        { "surrogate pair would straddle unit 67", "\xd0\x96", 66,
          "\xf0\x9f\x98\x80"
          "xxxx",
          false, 2, 66,
          "\xf0\x9f\x98\x80"
          "xxxx" },
        { "surrogate pair would straddle unit 66 (16-bit ref)", "\xd0\x96", 65,
          "\xf0\x9f\x98\x80"
          "xxxxx",
          true, 2, 65,
          "\xf0\x9f\x98\x80"
          "xxxxx" },
        { "35 emoji fit one message", "\xf0\x9f\x98\x80", 35, "", false, 1, 70, NULL },
        { "36 emoji: 33 per part", "\xf0\x9f\x98\x80", 36, "", false, 2, 66,
          "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" },
};

static void test_boundaries(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(boundaries); i++) {
                const struct boundary *b = &boundaries[i];
                struct sms_submit_opts o = no_opts;
                struct sms_text_info info;
                char text[TEXT_MAX], out[TEXT_MAX];
                struct sms_pdu p;
                int n;

                print_message("boundary: %s\n", b->name);
                repeat(text, b->unit, b->times);
                strcat(text, b->tail);
                o.ref16 = b->ref16;
                o.ref = 0x4321;
                n = sms_submit_encode(text, to, &o, parts, SMS_PARTS_MAX, &info);
                assert_int_equal(n, b->parts);
                assert_int_equal(sms_text_analyze_ref(text, false, b->ref16, &info), 0);
                assert_int_equal(info.parts, b->parts);
                assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MO, &p), 0);
                if (p.charset == SMS_CHARSET_GSM7)
                        assert_int_equal(parts[0].pdu[13],
                                         b->first_units + (n > 1 ? (b->ref16 ? 8 : 7) : 0));
                else
                        assert_int_equal(parts[0].pdu[13],
                                         2 * b->first_units + (n > 1 ? (b->ref16 ? 7 : 6) : 0));
                if (n > 1) {
                        assert_int_equal(sms_pdu_decode(parts[1].pdu, parts[1].len, SMS_DIR_MO, &p),
                                         0);
                        assert_string_equal(p.text, b->second);
                }
                reassemble(parts, n, SMS_DIR_MO, b->ref16, 0x4321, out);
                assert_string_equal(out, text);
        }
}

/* The longest numbers, a validity period and full user data still fit SMS_PDU_MAX;
 * the part after the largest one is left alone. */
static void test_largest_pdus(void **state)
{
        static const char digits20[] = "+12345678901234567890";
        struct sms_submit_opts o = { .smsc = digits20, .msg_class = -1, .validity_minutes = 60 };
        struct sms_deliver_opts d = { .smsc = digits20, .scts = { 2026, 1, 1, 0, 0, 0, 0 } };
        char text[400];
        struct sms_pdu p;

        memset(&parts[1], 0x77, sizeof(parts[1]));
        repeat(text, "a", 160);
        assert_int_equal(sms_submit_encode(text, digits20, &o, parts, 1, NULL), 1);
        assert_int_equal(parts[0].len, 12 + 1 + 1 + 12 + 1 + 1 + 1 + 1 + 140);
        assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MO, &p), 0);
        assert_string_equal(p.smsc.number, digits20);
        assert_string_equal(p.addr.number, digits20);
        assert_string_equal(p.text, text);
        assert_int_equal(sms_deliver_encode(text, digits20, &d, parts, 1), 1);
        assert_int_equal(parts[0].len, 12 + 1 + 12 + 1 + 1 + 7 + 1 + 140);
        assert_true(parts[0].len <= SMS_PDU_MAX);
        repeat(text, "\xd0\x96", 70);
        assert_int_equal(sms_deliver_encode(text, digits20, &d, parts, 1), 1);
        assert_int_equal(parts[0].len, 12 + 1 + 12 + 1 + 1 + 7 + 1 + 140);
        assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MT, &p), 0);
        assert_string_equal(p.text, text);
        for (size_t i = 0; i < sizeof(parts[1]); i++)
                assert_int_equal(((const uint8_t *)&parts[1])[i], 0x77);
}

/* xorshift64*: a fixed seed so a failure replays. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

static const uint32_t spanish[] = { 0xE1, 0xE9, 0xED, 0xF3, 0xFA, 0xC1, 0xC9, 0xCD,
                                    0xD3, 0xDA, 0xF1, 0xD1, 0xFC, 0xDC, 0xBF, 0xA1 };
static const uint32_t other_bmp[] = { 0xE7, 0xA0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2014,
                                      0x60, 0x9,  0x200B, 0xFE0F, 0x153,  0xFFFD, 0xFFFF };

static uint32_t random_char(unsigned mix)
{
        uint32_t s;

        switch (rnd(mix)) {
        case 0:
        case 1:
        case 2:
                do
                        s = rnd(128);
                while (s == CHARSET_GSM7_ESC);
                return charset_gsm7_basic(s);
        case 3: {
                static const uint8_t ext[] = { 0x0A, 0x14, 0x28, 0x29, 0x2F,
                                               0x3C, 0x3D, 0x3E, 0x40, 0x65 };

                return charset_gsm7_ext(ext[rnd(ARRAY_SIZE(ext))]);
        }
        case 4:
                return spanish[rnd(ARRAY_SIZE(spanish))];
        case 5:
                return other_bmp[rnd(ARRAY_SIZE(other_bmp))];
        case 6:
                switch (rnd(3)) {
                case 0:
                        return 0x410 + rnd(0x40); /* Cyrillic */
                case 1:
                        return 0x4E00 + rnd(0x1000); /* CJK */
                default:
                        return 0xE000 + rnd(0x1000); /* private use, up to the surrogates */
                }
        default:
                switch (rnd(3)) {
                case 0:
                        return 0x1F600 + rnd(0x50); /* emoji */
                case 1:
                        return 0x10000 + rnd(0x100);
                default:
                        return 0x10FF00 + rnd(0x100);
                }
        }
}

/* Thousands of random texts, each as SUBMIT (with and without transliteration) and as
 * DELIVER: decode every part, reassemble by sequence number, compare. */
static void test_random_roundtrip(void **state)
{
        static char text[TEXT_MAX], want[TEXT_MAX], out[TEXT_MAX];
        static struct sms_part shuffled[SMS_PARTS_MAX];
        size_t total_parts = 0;

        for (int iter = 0; iter < 3000; iter++) {
                /* Mixes: GSM only, GSM + extension, + Spanish, + BMP, + beyond the BMP. */
                unsigned mix = 3 + rnd(6);
                size_t len = rnd(4) == 0 ? rnd(1001) : rnd(400), o = 0;
                struct sms_submit_opts so = no_opts;
                struct sms_deliver_opts d = { .scts = { 2026, 11, 27, 15, 30, 45, -24 } };
                struct sms_text_info info;
                int n;

                for (size_t i = 0; i < len; i++)
                        o += charset_utf8_put(random_char(mix), text + o);
                text[o] = '\0';

                so.translit = rnd(2);
                so.ref16 = rnd(2);
                so.ref = rnd(65536);
                n = sms_submit_encode(text, to, &so, parts, SMS_PARTS_MAX, &info);
                if (n < 0)
                        print_message("iter %d: %s\n", iter, sms_pdu_error());
                assert_true(n > 0);
                assert_int_equal(info.parts, n);
                total_parts += n;
                /* Greedy: every part but the last is full up to one character. */
                for (int i = 0; i + 1 < n; i++) {
                        size_t udl = parts[i].pdu[13];

                        /* A character costs at most 3 septets (a fold such as "...")
                         * or 2 UTF-16 units; a part is closed only when the next
                         * one does not fit. */
                        if (info.charset == SMS_CHARSET_GSM7)
                                assert_true(udl >= 160 - 2);
                        else
                                assert_true(udl >= 139 - 2);
                }
                /* Decode in a shuffled order; reassembly goes by sequence number. */
                for (int i = 0; i < n; i++)
                        shuffled[i] = parts[i];
                for (int i = n - 1; i > 0; i--) {
                        int j = rnd(i + 1);
                        struct sms_part t = shuffled[i];

                        shuffled[i] = shuffled[j];
                        shuffled[j] = t;
                }
                reassemble(shuffled, n, SMS_DIR_MO, so.ref16, so.ref, out);
                if (so.translit) {
                        folded(text, want);
                        assert_string_equal(out, want);
                } else {
                        assert_string_equal(out, text);
                }

                d.ref16 = rnd(2);
                d.ref = rnd(65536);
                d.force_ucs2 = rnd(8) == 0;
                n = sms_deliver_encode(text, rnd(2) ? "+525512345678" : "TELCEL", &d, parts,
                                       SMS_PARTS_MAX);
                assert_true(n > 0);
                reassemble(parts, n, SMS_DIR_MT, d.ref16, d.ref, out);
                assert_string_equal(out, text);
        }
        print_message("random round trip: 3000 texts, %zu SUBMIT parts\n", total_parts);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_gsm_character),
                cmocka_unit_test(test_texts),
                cmocka_unit_test(test_translit_halves_cost),
                cmocka_unit_test(test_boundaries),
                cmocka_unit_test(test_largest_pdus),
                cmocka_unit_test(test_random_roundtrip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
