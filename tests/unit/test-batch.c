/* daemon/batch: the payload whitelist and what it refuses to pass, the event lines, the
 * gzip member read back (header first, chained, deterministic), and the pure policies of
 * upload-cut.c (back-off with jitter, upload hours). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <zlib.h>

#include "daemon/batch.h"
#include "daemon/upload-internal.h"

static char *gunzip(const uint8_t *gz, size_t len)
{
        size_t cap = 1 << 20;
        char *out = calloc(1, cap);
        z_stream z = { 0 };
        assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
        z.next_in = (Bytef *)gz;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap - 1;
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        inflateEnd(&z);
        return out;
}

/* One event through batch_add: the line's "data" object as text. */
static char *data_of(const char *type, const char *json)
{
        struct batch b;
        batch_init(&b);
        struct batch_event ev = { .seq = 1, .time = 1790000000, .type = type, .json = json };
        assert_int_equal(batch_add(&b, &ev), 0);
        b.buf[b.len - 1] = '\0';
        struct json_object *o = json_tokener_parse(b.buf), *d;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "data", &d));
        char *s = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        batch_free(&b);
        return s;
}

static void test_whitelist(void **state)
{
        static const struct {
                const char *type, *json, *data;
        } cases[] = {
                /* whitelisted keys pass, others do not */
                { "rules.arm_assigned",
                  "{\"arm\":\"sms\",\"stratum\":\"s2\",\"phone\":\"+5215512345678\"}",
                  "{\"arm\":\"sms\",\"stratum\":\"s2\"}" },
                { "sms.sent", "{\"message_id\":42,\"parts\":1,\"text\":\"Hola Maria\"}",
                  "{\"message_id\":42,\"parts\":1}" },
                /* the message events of daemon/store-outgoing.c: their reminder and reason */
                { "sms.sent",
                  "{\"message_id\":7,\"parts\":2,\"encoding\":\"ucs2\",\"modem_id\":1,"
                  "\"attempts\":2,\"reminder\":\"week_12\",\"recipient\":\"+5215512345678\"}",
                  "{\"message_id\":7,\"parts\":2,\"encoding\":\"ucs2\",\"modem_id\":1,"
                  "\"attempts\":2,\"reminder\":\"week_12\"}" },
                { "sms.failed",
                  "{\"message_id\":7,\"part\":2,\"reason\":\"gave_up\",\"error\":\"+CMS ERROR: "
                  "38\"}",
                  "{\"message_id\":7,\"part\":2,\"reason\":\"gave_up\"}" },
                { "sms.delivered", "{\"message_id\":7,\"status\":0,\"reminder\":\"Semana 12\"}",
                  "{\"message_id\":7,\"status\":0}" }, /* a name that is no token */
                /* a phone number in a whitelisted key: as text, as digits or as a number */
                { "rules.opted_out", "{\"keyword\":\"+5215512345678\"}", "{}" },
                { "rules.opted_out", "{\"keyword\":\"5215512345678\"}", "{}" },
                { "rules.arm_assigned", "{\"stratum\":\"s5512345678\"}", "{}" },
                { "rules.arm_assigned", "{\"stratum\":\"s-123456\"}",
                  "{\"stratum\":\"s-123456\"}" },
                { "sms.sent", "{\"message_id\":5215512345678}", "{}" },
                /* a sentence in a whitelisted key: not a token, dropped */
                { "rules.opted_out", "{\"keyword\":\"please stop texting me\"}", "{}" },
                { "rules.opted_out", "{\"keyword\":\"STOP\"}", "{}" }, /* upper case: free text */
                { "rules.opted_out", "{\"keyword\":\"stop\"}", "{\"keyword\":\"stop\"}" },
                /* values the rules set (a field, a loss) may be anything: never sent */
                { "rules.field_changed", "{\"field\":\"edd\",\"value\":\"2027-01-05\"}",
                  "{\"field\":\"edd\"}" },
                /* the rule set's hash passes as a hash, nothing else does under its name */
                { "rules.enrolled",
                  "{\"track\":\"prenatal\",\"rule_set\":"
                  "\"0123456789012345678901234567890123456789012345678901234567890123\"}",
                  "{\"track\":\"prenatal\",\"rule_set\":"
                  "\"0123456789012345678901234567890123456789012345678901234567890123\"}" },
                { "rules.enrolled", "{\"rule_set\":\"visit\"}", "{}" },
                /* nested values never pass */
                { "rules.quiz_completed", "{\"score\":{\"text\":\"x\"},\"total\":[1]}", "{}" },
                { "rules.quiz_completed", "{\"total\":4,\"score\":2.5}",
                  "{\"score\":2.5,\"total\":4}" }, /* whitelist order */
                /* an unknown type uploads with no data: a future event cannot leak */
                { "future.event", "{\"arm\":\"sms\"}", "{}" },
                /* the undecodable PDU carries the sender's number: nothing passes */
                { "sms.undecodable", "{\"pdu\":\"0791\",\"imei\":\"861234567890123\"}", "{}" },
                /* not an object */
                { "sms.sent", "[1,2]", "{}" },
                { "sms.sent", NULL, "{}" },
                /* a token too long */
                { "rules.keyword_matched", "{\"keyword\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                  "{}" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *d = data_of(cases[i].type, cases[i].json);
                if (strcmp(d, cases[i].data) != 0)
                        fail_msg("case %zu (%s %s): got %s, expected %s", i, cases[i].type,
                                 cases[i].json, d, cases[i].data);
                free(d);
        }
        assert_null(batch_whitelist("no.such.type")[0]);
        assert_string_equal(batch_whitelist("sms.sent")[0], "message_id");
}

static void test_event_line(void **state)
{
        struct batch b;
        batch_init(&b);
        struct batch_event ev = { .seq = 7,
                                  .time = 1790000123,
                                  .clock_trusted = false,
                                  .type = "sms.delivered",
                                  .subject = "0123456789abcdef",
                                  .json = "{\"message_id\":3,\"status\":0}" };
        assert_int_equal(batch_add(&b, &ev), 0);
        assert_int_equal(b.events, 1);
        assert_int_equal(b.first_seq, 7);
        const char want[] = "{\"seq\":7,\"time\":1790000123,\"clock_trusted\":false,"
                            "\"type\":\"sms.delivered\",\"subject\":\"0123456789abcdef\","
                            "\"data\":{\"message_id\":3,\"status\":0}}\n";
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.buf, want, b.len);
        /* errors: a seq not above the last, a bad type */
        assert_int_equal(batch_add(&b, &ev), -EINVAL);
        ev.seq = 8;
        ev.type = "Bad Type";
        assert_int_equal(batch_add(&b, &ev), -EINVAL);
        ev.type = NULL;
        assert_int_equal(batch_add(&b, &ev), -EINVAL);
        assert_int_equal(b.events, 1);
        batch_free(&b);
}

static void fill(struct batch *b, int64_t first, unsigned n)
{
        batch_init(b);
        for (unsigned i = 0; i < n; i++) {
                struct batch_event ev = { .seq = first + i,
                                          .time = 1790000000 + i,
                                          .clock_trusted = true,
                                          .type = "sms.sent",
                                          .json = "{\"message_id\":1}" };
                assert_int_equal(batch_add(b, &ev), 0);
        }
}

static void test_finish_and_chain(void **state)
{
        struct batch b;
        uint8_t *gz1, *gz2;
        size_t len1, len2;
        char h1[BATCH_HASH_HEX + 1], h2[BATCH_HASH_HEX + 1], again[BATCH_HASH_HEX + 1];
        struct batch_info info;

        fill(&b, 11, 50);
        struct batch_header h = {
                .device = "box-1", .batch = 3, .prev_sha256 = BATCH_ZERO_HASH, .key_id = "0badcafe"
        };
        assert_int_equal(batch_finish(&b, &h, &gz1, &len1, h1), 0);
        batch_sha256_hex(gz1, len1, again);
        assert_string_equal(h1, again);
        /* the same input gives the same bytes (a re-cut after a crash is identical) */
        assert_int_equal(batch_finish(&b, &h, &gz2, &len2, h2), 0);
        assert_int_equal(len1, len2);
        assert_memory_equal(gz1, gz2, len1);
        free(gz2);
        /* the header line comes first and says what the lines hold */
        char *text = gunzip(gz1, len1);
        assert_true(strncmp(text,
                            "{\"schema\":\"puente.event/1\",\"device\":\"box-1\",\"batch\":3,"
                            "\"prev_sha256\":\"0000",
                            60) == 0);
        unsigned lines = 0;
        for (char *p = text; *p; p++)
                lines += *p == '\n';
        assert_int_equal(lines, 51);
        free(text);
        assert_int_equal(batch_peek_header(gz1, len1, &info), 0);
        assert_int_equal(info.batch, 3);
        assert_int_equal(info.first_seq, 11);
        assert_int_equal(info.last_seq, 60);
        assert_int_equal(info.events, 50);
        assert_string_equal(info.device, "box-1");
        /* the next batch carries this one's hash */
        h.batch = 4;
        h.prev_sha256 = h1;
        assert_int_equal(batch_finish(&b, &h, &gz2, &len2, h2), 0);
        text = gunzip(gz2, len2);
        assert_non_null(strstr(text, h1));
        free(text);
        free(gz2);
        /* truncated or foreign bytes are not a batch */
        assert_int_equal(batch_peek_header(gz1, 10, &info), -EBADMSG);
        assert_int_equal(batch_peek_header((const uint8_t *)"hello", 5, &info), -EBADMSG);
        free(gz1);
        /* refused headers */
        struct batch_header bad[] = {
                { .device = "", .batch = 1, .prev_sha256 = BATCH_ZERO_HASH },
                { .device = "../etc", .batch = 1, .prev_sha256 = BATCH_ZERO_HASH },
                { .device = "box", .batch = 0, .prev_sha256 = BATCH_ZERO_HASH },
                { .device = "box", .batch = 1, .prev_sha256 = "abc" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(batch_finish(&b, &bad[i], &gz1, &len1, h1), -EINVAL);
        batch_reset(&b);
        assert_int_equal(batch_finish(&b, &h, &gz1, &len1, h1), -EINVAL); /* empty */
        batch_free(&b);
}

static void test_device_names(void **state)
{
        static const struct {
                const char *name;
                bool ok;
        } cases[] = {
                { "clinic-07.box_A", true },
                { "a", true },
                { "", false },
                { ".", false },
                { "..", false },
                { "a/b", false },
                { "a b", false },
                { "caf\xc3\xa9", false },
                { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
                { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(batch_device_valid(cases[i].name), cases[i].ok);
}

static void test_backoff(void **state)
{
        static const struct {
                unsigned failures, first, max;
                double jitter;
                unsigned want;
        } cases[] = {
                { 1, 30, 3600, 0.999999, 29 },
                { 1, 30, 3600, 0.0, 22 },
                { 2, 30, 3600, 0.999999, 59 },
                { 3, 30, 3600, 0.0, 90 },
                { 8, 30, 3600, 0.999999, 3599 }, /* 30 * 2^7 = 3840, capped */
                { 50, 30, 3600, 0.0, 2700 },     /* never overflows */
                { 1, 0, 10, 0.0, 1 },            /* never zero */
                { 1, 30, 3600, 7.0, 22 },        /* jitter out of range: taken as 0 */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(upload_backoff(cases[i].failures, cases[i].first, cases[i].max,
                                                cases[i].jitter),
                                 cases[i].want);
}

static void test_hours(void **state)
{
        static const struct {
                int start, end, now;
                unsigned want;
        } cases[] = {
                { 0, 0, 720, 0 },                       /* always */
                { 22 * 60, 6 * 60, 23 * 60, 0 },        /* inside, before midnight */
                { 22 * 60, 6 * 60, 3 * 60, 0 },         /* inside, after midnight */
                { 22 * 60, 6 * 60, 6 * 60, 16 * 3600 }, /* the end is outside */
                { 22 * 60, 6 * 60, 12 * 60, 10 * 3600 },
                { 1 * 60, 5 * 60, 0, 3600 },
                { 1 * 60, 5 * 60, 6 * 60, 19 * 3600 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(upload_wait_for_hours(cases[i].start, cases[i].end, cases[i].now),
                                 cases[i].want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whitelist),        cmocka_unit_test(test_event_line),
                cmocka_unit_test(test_finish_and_chain), cmocka_unit_test(test_device_names),
                cmocka_unit_test(test_backoff),          cmocka_unit_test(test_hours),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
