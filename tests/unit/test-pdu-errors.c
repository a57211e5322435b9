/* Tests for at/pdu on bad input: malformed PDUs name what and where; encoders refuse
 * bad text, numbers and options without writing their outputs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at/pdu.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct sms_part parts[SMS_PARTS_MAX];

/* A valid DELIVER the cases below start from: "Hola" from +525512345678, 2026-11-27
 * 15:30:45 -06:00. Octets: 0 SMSC length, 1 first octet, 2-9 originator, 10 PID,
 * 11 DCS, 12-18 SCTS, 19 UDL, 20- UD. */
#define OA   "0C91255521436587"
#define SCTS "6211725103544A"

static const struct {
        const char *name;
        const char *hex;
        enum sms_dir dir;
        int err;
        const char *msg; /* a substring of sms_pdu_error() */
} malformed[] = {
        { "empty", "", SMS_DIR_MT, -EBADMSG, "truncated in SMSC address length at octet 0" },
        { "SMSC length 12",
          "0C91"
          "2555214365870000000000"
          "04" OA "0000" SCTS "04C8373B0C",
          SMS_DIR_MT, -EBADMSG, "SMSC address length 12 exceeds 11 octets at octet 0" },
        { "SMSC cut", "0791255521", SMS_DIR_MT, -EBADMSG,
          "truncated in SMSC address at octet 1: needs 7 octets, 4 left" },
        { "no first octet", "00", SMS_DIR_MT, -EBADMSG, "truncated in first octet at octet 1" },
        { "address length 21", "0004159125552143658700000000" SCTS "04C8373B0C", SMS_DIR_MT,
          -EBADMSG, "TP-Originating-Address length 21 exceeds 20 semi-octets at octet 2" },
        { "address length 255",
          "0004FF91255521436587"
          "0000" SCTS "04C8373B0C",
          SMS_DIR_MT, -EBADMSG, "length 255 exceeds 20 semi-octets at octet 2" },
        { "destination length 21", "0011001591255521436587000000000000AA04C8373B0C", SMS_DIR_MO,
          -EBADMSG, "TP-Destination-Address length 21 exceeds 20 semi-octets at octet 3" },
        { "recipient length 22", "00060116", SMS_DIR_MT, -EBADMSG,
          "TP-Recipient-Address length 22 exceeds" },
        { "UDL 161 septets", "0004" OA "0000" SCTS "A1C8373B0C", SMS_DIR_MT, -EBADMSG,
          "TP-User-Data-Length 161 exceeds 160 septets at octet 19" },
        { "UDL 255 septets", "0004" OA "0000" SCTS "FFC8373B0C", SMS_DIR_MT, -EBADMSG,
          "TP-User-Data-Length 255 exceeds 160 septets at octet 19" },
        { "UCS-2 UDL 141 octets", "0004" OA "0008" SCTS "8D0041", SMS_DIR_MT, -EBADMSG,
          "TP-User-Data-Length 141 exceeds 140 octets at octet 19" },
        { "8-bit UDL 200", "0004" OA "0004" SCTS "C80041", SMS_DIR_MT, -EBADMSG,
          "TP-User-Data-Length 200 exceeds 140 octets" },
        { "UDL beyond the PDU", "0004" OA "0000" SCTS "05C8373B0C", SMS_DIR_MT, -EBADMSG,
          "truncated in TP-User-Data at octet 20: needs 5 octets, 4 left" },
        { "UCS-2 UDL beyond the PDU", "0004" OA "0008" SCTS "0A00480069", SMS_DIR_MT, -EBADMSG,
          "truncated in TP-User-Data at octet 20: needs 10 octets, 4 left" },
        { "UDH length beyond user data", "0044" OA "0000" SCTS "050900030102", SMS_DIR_MT, -EBADMSG,
          "UDH length 9 exceeds the 5 octets of user data at octet 20" },
        { "UCS-2 UDH length beyond user data", "0044" OA "0008" SCTS "0406000301", SMS_DIR_MT,
          -EBADMSG, "UDH length 6 exceeds the 4 octets of user data at octet 20" },
        { "UDH element beyond the UDH", "0044" OA "0000" SCTS "0A050005010201000000", SMS_DIR_MT,
          -EBADMSG, "UDH element 00 length 5 exceeds the UDH at octet 22" },
        { "UDH element one octet past the UDH", "0044" OA "0000" SCTS "0A050004010201000000",
          SMS_DIR_MT, -EBADMSG, "UDH element 00 length 4 exceeds the UDH at octet 22" },
        { "UDH element header cut", "0044" OA "0000" SCTS "03010000", SMS_DIR_MT, -EBADMSG,
          "UDH element at octet 21 truncated" },
        { "UDH longer than UDL septets", "0044" OA "0000" SCTS "03027000", SMS_DIR_MT, -EBADMSG,
          "UDH of 3 octets exceeds TP-User-Data-Length 3 at octet 20" },
        { "SCTS not BCD",
          "0004" OA "0000"
          "62117251035A4A"
          "04C8373B0C",
          SMS_DIR_MT, -EBADMSG, "TP-Service-Centre-Time-Stamp has non-BCD octet 5A at octet 17" },
        { "SCTS zone not BCD",
          "0004" OA "0000"
          "621172510354FA"
          "04C8373B0C",
          SMS_DIR_MT, -EBADMSG, "non-BCD octet FA at octet 18" },
        { "SCTS cut",
          "0004" OA "0000"
          "62117251",
          SMS_DIR_MT, -EBADMSG,
          "truncated in TP-Service-Centre-Time-Stamp at octet 12: needs 7 octets, 4 left" },
        { "discharge time not BCD",
          "000601"
          "0A812555214365" SCTS "6211AA5103544A00",
          SMS_DIR_MT, -EBADMSG, "TP-Discharge-Time has non-BCD octet AA at octet 19" },
        { "status report PI announces UDL",
          "000601"
          "0A812555214365" SCTS SCTS "0004",
          SMS_DIR_MT, -EBADMSG, "truncated in TP-User-Data-Length" },
        { "status report PI extension cut",
          "000601"
          "0A812555214365" SCTS SCTS "0080",
          SMS_DIR_MT, -EBADMSG, "truncated in TP-Parameter-Indicator extension" },
        { "status report PI announces PID",
          "000601"
          "0A812555214365" SCTS SCTS "0001",
          SMS_DIR_MT, -EBADMSG, "truncated in TP-Protocol-Identifier" },
        { "submit relative VP missing", "0011000C912555214365870000", SMS_DIR_MO, -EBADMSG,
          "truncated in TP-Validity-Period at octet 13" },
        { "submit enhanced VP cut", "0009000C912555214365870000010203", SMS_DIR_MO, -EBADMSG,
          "truncated in TP-Validity-Period at octet 13: needs 7 octets, 3 left" },
        { "submit absolute VP not BCD",
          "0019000C912555214365870000"
          "F211725103544A04C8373B0C",
          SMS_DIR_MO, -EBADMSG, "TP-Validity-Period has non-BCD octet F2 at octet 13" },
        { "bad hex", "00G4", SMS_DIR_MT, -EBADMSG, "bad hex character 0x47 at offset 2 (octet 1)" },
        { "hex with space", "00 04", SMS_DIR_MT, -EBADMSG, "bad hex character 0x20 at offset 2" },
        { "odd hex", "000", SMS_DIR_MT, -EBADMSG, "odd number of hex digits (3)" },
        { "reserved MTI from the modem", "0003", SMS_DIR_MO, -EBADMSG,
          "reserved TP-MTI 3 in an MO PDU at octet 1" },
        { "SMS-COMMAND", "0002000000", SMS_DIR_MO, -ENOTSUP, "SMS-COMMAND is not supported" },
        { "SMS-SUBMIT-REPORT", "00010000", SMS_DIR_MT, -ENOTSUP,
          "SMS-SUBMIT-REPORT is not supported" },
        { "SMS-DELIVER-REPORT", "00000000", SMS_DIR_MO, -ENOTSUP,
          "SMS-DELIVER-REPORT is not supported" },
};

static void test_malformed(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
                struct sms_pdu p;

                print_message("case: %s\n", malformed[i].name);
                memset(&p, 0x5A, sizeof(p));
                assert_int_equal(sms_pdu_decode_hex(malformed[i].hex, malformed[i].dir, &p),
                                 malformed[i].err);
                print_message("  error: %s\n", sms_pdu_error());
                assert_non_null(strstr(sms_pdu_error(), malformed[i].msg));
                assert_int_equal(p.text[0], 0x5A); /* ret_pdu untouched */
        }
}

static void test_hex_limits(void **state)
{
        static char hex[2 * (SMS_PDU_HEX_MAX + 1) + 1];
        uint8_t bin[4];
        size_t len = 99;
        struct sms_pdu p;

        memset(hex, '0', sizeof(hex) - 1);
        assert_int_equal(sms_pdu_decode_hex(hex, SMS_DIR_MT, &p), -EBADMSG);
        assert_non_null(strstr(sms_pdu_error(), "513 octets of hex exceed the 512 allowed"));
        assert_int_equal(sms_hex_decode("0011223344", bin, sizeof(bin), &len), -E2BIG);
        assert_int_equal(len, 99);
        assert_int_equal(sms_hex_decode("a0Ff", bin, sizeof(bin), &len), 0);
        assert_int_equal(len, 2);
        assert_int_equal(bin[0], 0xA0);
        assert_int_equal(bin[1], 0xFF);
        assert_int_equal(sms_hex_decode("", bin, sizeof(bin), &len), 0);
        assert_int_equal(len, 0);
        assert_int_equal(sms_hex_decode(NULL, bin, sizeof(bin), &len), -EINVAL);
        assert_int_equal(sms_pdu_decode_hex(NULL, SMS_DIR_MT, &p), -EINVAL);
        assert_int_equal(sms_pdu_decode(NULL, 0, SMS_DIR_MT, &p), -EINVAL);
        assert_int_equal(sms_pdu_decode((const uint8_t *)"", 0, (enum sms_dir)7, &p), -EINVAL);
}

/* A reserved TP-MTI from the network reads as SMS-DELIVER (TS 23.040 9.2.3.1). */
static void test_reserved_mti_mt(void **state)
{
        struct sms_pdu p;

        assert_int_equal(sms_pdu_decode_hex("0007" OA "0000" SCTS "04C8373B0C", SMS_DIR_MT, &p), 0);
        assert_int_equal(p.type, SMS_TYPE_DELIVER);
        assert_string_equal(p.text, "Hola");
}

/* Concatenation elements the spec says to ignore leave concat.present false. */
static void test_concat_ignored(void **state)
{
        static const char *const hexes[] = {
                "0044" OA "0000" SCTS "090500032A00019069",   /* total 0 */
                "0044" OA "0000" SCTS "090500032A02009069",   /* seq 0 */
                "0044" OA "0000" SCTS "090500032A02039069",   /* seq > total */
                "0044" OA "0000" SCTS "090500012A70009069",   /* IE 00 with length 1 */
                "0044" OA "0000" SCTS "0A060804123400010000", /* 16-bit, total 0 */
        };

        for (size_t i = 0; i < ARRAY_SIZE(hexes); i++) {
                struct sms_pdu p;

                print_message("%s\n", hexes[i]);
                assert_int_equal(sms_pdu_decode_hex(hexes[i], SMS_DIR_MT, &p), 0);
                assert_false(p.concat.present);
                assert_true(p.udh_len > 0);
        }
}

/* Odd octet counts in UCS-2, lone surrogates and U+0000 padding decode sensibly. */
static void test_ucs2_oddities(void **state)
{
        static const struct {
                const char *ud;
                const char *text;
        } cases[] = {
                { "03004100", "A" },          /* dangling octet ignored */
                { "02D83D", "\xef\xbf\xbd" }, /* lone high surrogate */
                { "04DE000041", "\xef\xbf\xbd"
                                "A" }, /* lone low surrogate */
                { "04D83D0041", "\xef\xbf\xbd"
                                "A" }, /* high then not low */
                { "0600410000"
                  "0000",
                  "A" }, /* U+0000 padding */
                { "06D83DDE00"
                  "0042",
                  "\xf0\x9f\x98\x80"
                  "B" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char hex[128];
                struct sms_pdu p;

                snprintf(hex, sizeof(hex), "0004" OA "0008" SCTS "%s", cases[i].ud);
                print_message("%s\n", hex);
                assert_int_equal(sms_pdu_decode_hex(hex, SMS_DIR_MT, &p), 0);
                assert_string_equal(p.text, cases[i].text);
        }
}

static const struct sms_submit_opts no_opts = { .msg_class = -1 };

static const struct {
        const char *name;
        const char *text, *to;
        struct sms_submit_opts opts;
        size_t max_parts;
        int err;
        const char *msg;
} submit_errors[] = {
        { "NULL text", NULL, "+525512345678", { .msg_class = -1 }, 1, -EINVAL, "text is NULL" },
        { "bad UTF-8",
          "Hola \xc3(",
          "+525512345678",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "invalid UTF-8 at byte 5" },
        { "overlong UTF-8",
          "\xc0\xaf",
          "+525512345678",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "invalid UTF-8 at byte 0" },
        { "UTF-8 surrogate",
          "ab\xed\xa0\x80",
          "+525512345678",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "invalid UTF-8 at byte 2" },
        { "truncated UTF-8",
          "ab\xf0\x9f\x98",
          "+525512345678",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "invalid UTF-8 at byte 2" },
        { "NULL number", "x", NULL, { .msg_class = -1 }, 1, -EINVAL, "destination is empty" },
        { "empty number", "x", "", { .msg_class = -1 }, 1, -EINVAL, "destination is empty" },
        { "plus alone", "x", "+", { .msg_class = -1 }, 1, -EINVAL, "has 0 digits" },
        { "space in number",
          "x",
          "+52 55",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "destination \"+52 55\" has a non-digit character at byte 3" },
        { "dash in number",
          "x",
          "55-1234",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "non-digit character at byte 2" },
        { "letters", "x", "TELCEL", { .msg_class = -1 }, 1, -EINVAL, "non-digit" },
        { "21 digits",
          "x",
          "+123456789012345678901",
          { .msg_class = -1 },
          1,
          -EINVAL,
          "has 21 digits, expected 1 to 20" },
        { "bad SMSC",
          "x",
          "+525512345678",
          { .smsc = "+52x", .msg_class = -1 },
          1,
          -EINVAL,
          "SMSC address \"+52x\" has a non-digit" },
        { "class 4",
          "x",
          "+525512345678",
          { .msg_class = 4 },
          1,
          -EINVAL,
          "message class 4, expected -1 to 3" },
        { "class -2", "x", "+525512345678", { .msg_class = -2 }, 1, -EINVAL, "message class -2" },
        { "negative validity",
          "x",
          "+525512345678",
          { .msg_class = -1, .validity_minutes = -1 },
          1,
          -EINVAL,
          "validity -1 minutes" },
        { "validity beyond 63 weeks",
          "x",
          "+525512345678",
          { .msg_class = -1, .validity_minutes = SMS_VALIDITY_MAX + 1 },
          1,
          -EINVAL,
          "validity 635041 minutes, expected 0 to 635040" },
        { "no room",
          "x",
          "+525512345678",
          { .msg_class = -1 },
          0,
          -E2BIG,
          "text needs 1 parts, more than the 0 allowed" },
};

static void test_submit_errors(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(submit_errors); i++) {
                struct sms_text_info info = { .units = 12345 };

                print_message("case: %s\n", submit_errors[i].name);
                parts[0].len = 777;
                assert_int_equal(sms_submit_encode(submit_errors[i].text, submit_errors[i].to,
                                                   &submit_errors[i].opts, parts,
                                                   submit_errors[i].max_parts, &info),
                                 submit_errors[i].err);
                print_message("  error: %s\n", sms_pdu_error());
                assert_non_null(strstr(sms_pdu_error(), submit_errors[i].msg));
                assert_int_equal(info.units, 12345);
                assert_int_equal(parts[0].len, 777);
        }
        assert_int_equal(sms_submit_encode("x", "+5255", &no_opts, NULL, 1, NULL), -EINVAL);
}

static void test_too_many_parts(void **state)
{
        static char text[256 * 153 + 1];
        struct sms_text_info info;

        memset(text, 'a', 161);
        text[161] = '\0';
        assert_int_equal(sms_submit_encode(text, "5512345678", &no_opts, parts, 1, NULL), -E2BIG);
        assert_non_null(strstr(sms_pdu_error(), "text needs 2 parts, more than the 1 allowed"));
        assert_int_equal(sms_submit_encode(text, "5512345678", &no_opts, parts, 2, NULL), 2);

        /* 255 parts is the most an 8-bit count allows; one septet more is too many. */
        memset(text, 'a', 255 * 153);
        text[255 * 153] = '\0';
        assert_int_equal(
                sms_submit_encode(text, "5512345678", &no_opts, parts, SMS_PARTS_MAX, &info), 255);
        assert_int_equal(info.parts, 255);
        assert_int_equal(parts[254].pdu[1] & 0x40, 0x40);
        text[255 * 153] = 'a';
        text[255 * 153 + 1] = '\0';
        assert_int_equal(sms_text_analyze(text, false, &info), 0);
        assert_int_equal(info.parts, 256);
        assert_int_equal(sms_submit_encode(text, "5512345678", &no_opts, parts, 1000, NULL),
                         -E2BIG);
        assert_non_null(strstr(sms_pdu_error(), "256 parts, more than the 255 allowed"));
}

static void test_deliver_errors(void **state)
{
        static const struct {
                const char *from;
                const char *msg;
        } cases[] = {
                { "TelcelTelcel", "alphanumeric address \"TelcelTelcel\" exceeds 11" },
                { "[Clinica12]", "exceeds 11 GSM characters" }, /* 13 septets */
                { "Cl\xc3\xadnica", "has U+00ED, not in GSM 7-bit" },
                { "\xf0\x9f\x98\x80", "has U+1F600" },
                { "Bad\xc3", "invalid UTF-8 in address at byte 3" },
                { "", "originator is empty" },
                { NULL, "originator is empty" },
                { "+123456789012345678901", "21 digits" },
        };
        const struct sms_deliver_opts o = { .scts = { 2026, 1, 1, 0, 0, 0, 0 } };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                print_message("from: %s\n", cases[i].from ? cases[i].from : "(null)");
                assert_int_equal(sms_deliver_encode("x", cases[i].from, &o, parts, 1), -EINVAL);
                assert_non_null(strstr(sms_pdu_error(), cases[i].msg));
        }
        /* The limits themselves pass: 11 characters, and 9 + 2 escapes = 11 septets. */
        assert_int_equal(sms_deliver_encode("x", "ClinicaSalu", &o, parts, 1), 1);
        assert_int_equal(sms_deliver_encode("x", "[Clinica]", &o, parts, 1), 1);
        {
                struct sms_pdu p;

                assert_int_equal(sms_pdu_decode(parts[0].pdu, parts[0].len, SMS_DIR_MT, &p), 0);
                assert_string_equal(p.addr.number, "[Clinica]");
        }
        assert_int_equal(sms_deliver_encode("x", "+12345678901234567890", &o, parts, 1), 1);

        struct sms_deliver_opts bad = o;

        bad.scts.month = 13;
        assert_int_equal(sms_deliver_encode("x", "+5255", &bad, parts, 1), -EINVAL);
        assert_non_null(strstr(sms_pdu_error(), "TP-SCTS 2026-13-01 00:00:00 tz 0 out of range"));
        assert_int_equal(sms_deliver_encode("\xff", "+5255", &o, parts, 1), -EINVAL);
}

static void test_status_report_errors(void **state)
{
        const struct sms_time ok = { 2026, 11, 27, 15, 30, 45, -24 };
        struct sms_time bad[] = { ok, ok, ok, ok, ok, ok };

        bad[0].year = 1999;
        bad[1].day = 32;
        bad[2].hour = 24;
        bad[3].minute = 60;
        bad[4].tz_quarters = 80;
        bad[5].tz_quarters = -80;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                parts[0].len = 555;
                assert_int_equal(
                        sms_status_report_encode(1, "+5255", &bad[i], &ok, 0, NULL, &parts[0]),
                        -EINVAL);
                assert_int_equal(
                        sms_status_report_encode(1, "+5255", &ok, &bad[i], 0, NULL, &parts[0]),
                        -EINVAL);
                assert_int_equal(parts[0].len, 555);
        }
        assert_non_null(strstr(sms_pdu_error(), "TP-DT"));
        assert_int_equal(sms_status_report_encode(1, "abc", &ok, &ok, 0, NULL, &parts[0]), -EINVAL);
        assert_non_null(strstr(sms_pdu_error(), "recipient \"abc\" has a non-digit"));
        assert_int_equal(sms_status_report_encode(1, "+5255", NULL, &ok, 0, NULL, &parts[0]),
                         -EINVAL);
        assert_int_equal(sms_status_report_encode(1, "+5255", &ok, &ok, 0, NULL, NULL), -EINVAL);
        assert_int_equal(sms_status_report_encode(1, "+5255", &ok, &ok, 0, "+52a", &parts[0]),
                         -EINVAL);
}

static void *fail_in_thread(void *arg)
{
        struct sms_pdu p;

        if (sms_pdu_decode_hex("00G0", SMS_DIR_MT, &p) != -EBADMSG)
                return NULL;
        return strstr(sms_pdu_error(), "bad hex character 0x47") ? arg : NULL;
}

/* The error text is per thread and names the last failure. */
static void test_error_text(void **state)
{
        struct sms_pdu p;
        pthread_t t;
        void *ok = NULL;
        int token;

        assert_int_equal(sms_pdu_decode_hex("0", SMS_DIR_MT, &p), -EBADMSG);
        assert_string_equal(sms_pdu_error(), "odd number of hex digits (1)");
        assert_int_equal(pthread_create(&t, NULL, fail_in_thread, &token), 0);
        assert_int_equal(pthread_join(t, &ok), 0);
        assert_ptr_equal(ok, &token);
        /* The other thread's failure left ours alone. */
        assert_string_equal(sms_pdu_error(), "odd number of hex digits (1)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_hex_limits),
                cmocka_unit_test(test_reserved_mti_mt),
                cmocka_unit_test(test_concat_ignored),
                cmocka_unit_test(test_ucs2_oddities),
                cmocka_unit_test(test_submit_errors),
                cmocka_unit_test(test_too_many_parts),
                cmocka_unit_test(test_deliver_errors),
                cmocka_unit_test(test_status_report_errors),
                cmocka_unit_test(test_error_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
