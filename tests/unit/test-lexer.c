/* Tests for at/lexer: framing of lines, PDU lines, prompts and garbage, under any split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "at/lexer.h"

/* Renders the tokens of input as "L:text|P|U:hex|D:control/3" fed in pieces of `step` bytes
 * (0: all at once). expect_pdu_after: a line prefix after which the PDU mode is turned on,
 * as the chat does after +CMT: and +CMGL: headers. */
static void lex(const char *input, size_t len, size_t step, const char *expect_pdu_after, char *out,
                size_t size)
{
        struct at_lexer lx;
        at_lexer_reset(&lx);
        out[0] = '\0';
        size_t pos = 0;
        while (pos < len) {
                size_t chunk = step ? step : len - pos;
                if (chunk > len - pos)
                        chunk = len - pos;
                const uint8_t *p = (const uint8_t *)input + pos;
                size_t left = chunk;
                while (left > 0) {
                        size_t used;
                        struct at_token t;
                        assert_int_equal(at_lexer_feed(&lx, p, left, &used, &t), 0);
                        assert_true(used <= left);
                        p += used;
                        left -= used;
                        char item[AT_LINE_MAX + 32];
                        switch (t.type) {
                        case AT_TOKEN_NONE:
                                assert_int_equal(left, 0);
                                continue;
                        case AT_TOKEN_LINE:
                                assert_int_equal(strlen(t.text), t.len);
                                snprintf(item, sizeof(item), "L:%s", t.text);
                                if (expect_pdu_after && strncmp(t.text, expect_pdu_after,
                                                                strlen(expect_pdu_after)) == 0)
                                        at_lexer_expect_pdu(&lx, true);
                                break;
                        case AT_TOKEN_PDU:
                                snprintf(item, sizeof(item), "U:%s", t.text);
                                break;
                        case AT_TOKEN_PROMPT:
                                snprintf(item, sizeof(item), "P");
                                break;
                        case AT_TOKEN_DROPPED:
                                snprintf(item, sizeof(item), "D:%s/%zu",
                                         t.drop == AT_DROP_LONG ? "long" : "control", t.len);
                                break;
                        }
                        if (out[0])
                                strncat(out, "|", size - strlen(out) - 1);
                        strncat(out, item, size - strlen(out) - 1);
                }
                pos += chunk;
        }
}

struct lex_case {
        const char *name;
        const char *input;
        size_t len; /* 0: strlen(input) */
        const char *pdu_after;
        const char *expect;
};

static const struct lex_case cases[] = {
        { "crlf lines", "\r\nOK\r\n", 0, NULL, "L:OK" },
        { "lf only", "+CSQ: 14,99\nOK\n", 0, NULL, "L:+CSQ: 14,99|L:OK" },
        { "cr only", "\rOK\r", 0, NULL, "L:OK" },
        { "echo then answer", "AT+CSQ\r\r\n+CSQ: 20,0\r\n\r\nOK\r\n", 0, NULL,
          "L:AT+CSQ|L:+CSQ: 20,0|L:OK" },
        { "prompt with space", "AT+CMGS=23\r\r\n> ", 0, NULL, "L:AT+CMGS=23|P" },
        { "prompt without space", "\r\n>", 0, NULL, "P" },
        { "prompt then line end", "\r\n>\r\n", 0, NULL, "P" },
        { "prompt then echoed pdu", "\r\n> 0011\x1a\r\n+CMGS: 4\r\n", 0, NULL,
          "P|L:0011\x1a|L:+CMGS: 4" },
        { "prompt followed by text", ">X\r\n", 0, NULL, "P|L:X" },
        { "two prompts", "\r\n> \r\n> ", 0, NULL, "P|P" },
        { "only one space swallowed", ">  Y\r\n", 0, NULL, "P|L: Y" },
        { "greater-than inside a line", "\r\n+COPS: 0,0,\"A>B\"\r\n", 0, NULL,
          "L:+COPS: 0,0,\"A>B\"" },
        { "pdu after header", "\r\n+CMT: ,23\r\n0791AB\r\n", 0, "+CMT:", "L:+CMT: ,23|U:0791AB" },
        { "non-hex line while expecting pdu", "\r\n+CMT: ,23\r\nRING\r\n07AB\r\n", 0,
          "+CMT:", "L:+CMT: ,23|L:RING|U:07AB" },
        { "hex line without pdu mode", "\r\n356938035643809\r\n", 0, NULL, "L:356938035643809" },
        { "nul in a line", "\r\nO\0K\r\nOK\r\n", 11, NULL, "D:control/3|L:OK" },
        { "lone nul bytes", "\0\0\r\nOK\r\n", 8, NULL, "D:control/2|L:OK" },
        { "control byte", "\r\nAB\x01\x02\r\nOK\r\n", 0, NULL, "D:control/4|L:OK" },
        { "high bytes kept", "\r\n+COPS: 0,0,\"T\xc3\xa9l\"\r\n", 0, NULL,
          "L:+COPS: 0,0,\"T\xc3\xa9l\"" },
        { "tab kept", "\r\nA\tB\r\n", 0, NULL, "L:A\tB" },
};

static void check_case(const struct lex_case *c, size_t step)
{
        char out[4 * AT_LINE_MAX];
        size_t len = c->len ? c->len : strlen(c->input);
        lex(c->input, len, step, c->pdu_after, out, sizeof(out));
        if (strcmp(out, c->expect) != 0)
                fail_msg("%s (step %zu): got \"%s\", want \"%s\"", c->name, step, out, c->expect);
}

static void test_table_whole_and_split(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                for (size_t step = 0; step <= 5; step++)
                        check_case(&cases[i], step);
}

static void test_line_max(void **state)
{
        /* Exactly AT_LINE_MAX bytes is kept; one more is dropped, and the next line is fine. */
        static char in[2 * AT_LINE_MAX + 64];
        static char want[AT_LINE_MAX + 64];
        char out[4 * AT_LINE_MAX];
        for (size_t step = 0; step <= 7; step += 7) {
                memset(in, 'A', AT_LINE_MAX);
                memcpy(in + AT_LINE_MAX, "\r\nOK\r\n", 7);
                lex(in, strlen(in), step, NULL, out, sizeof(out));
                memset(want, 0, sizeof(want));
                memcpy(want, "L:", 2);
                memset(want + 2, 'A', AT_LINE_MAX);
                strcat(want, "|L:OK");
                assert_string_equal(out, want);

                memset(in, 'A', AT_LINE_MAX + 1);
                memcpy(in + AT_LINE_MAX + 1, "\r\nOK\r\n", 7);
                lex(in, strlen(in), step, NULL, out, sizeof(out));
                snprintf(want, sizeof(want), "D:long/%d|L:OK", AT_LINE_MAX + 1);
                assert_string_equal(out, want);
        }
}

static void test_used_stops_at_token(void **state)
{
        struct at_lexer lx;
        struct at_token t;
        size_t used;
        const char *in = "OK\r\nERROR\r\n";
        at_lexer_reset(&lx);
        assert_int_equal(at_lexer_feed(&lx, (const uint8_t *)in, strlen(in), &used, &t), 0);
        assert_int_equal(t.type, AT_TOKEN_LINE);
        assert_string_equal(t.text, "OK");
        assert_int_equal(used, 3);
        assert_int_equal(
                at_lexer_feed(&lx, (const uint8_t *)in + used, strlen(in) - used, &used, &t), 0);
        assert_int_equal(t.type, AT_TOKEN_LINE);
        assert_string_equal(t.text, "ERROR");
}

static void test_bad_arguments(void **state)
{
        struct at_lexer lx;
        struct at_token t;
        size_t used;
        at_lexer_reset(&lx);
        assert_int_equal(at_lexer_feed(NULL, (const uint8_t *)"x", 1, &used, &t), -EINVAL);
        assert_int_equal(at_lexer_feed(&lx, NULL, 1, &used, &t), -EINVAL);
        assert_int_equal(at_lexer_feed(&lx, NULL, 0, &used, &t), 0);
        assert_int_equal(t.type, AT_TOKEN_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_whole_and_split),
                cmocka_unit_test(test_line_max),
                cmocka_unit_test(test_used_stops_at_token),
                cmocka_unit_test(test_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
