/* The messages' outcome events the store writes with the part transitions (docs/upload.md
 * "Message events"): sms.sent once when the last part is submitted, sms.delivered once when
 * the last part is reported delivered (a repeated report writes none), sms.failed once per
 * message with its reason category; the reminder and rule set of a message a rule queued;
 * the clock flag; and what of them leaves the box (no number, no text). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "daemon/batch.h"
#include "daemon/store.h"

#define PHONE      "+5215512345678"
#define TEXT       "Hola Maria, recuerde su cita"
#define RULE_SET   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define T0         1790000000
#define EVENTS_MAX 32

struct fixture {
        char path[64];
        struct store *s;
        int64_t contact, modem;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char err[STORE_ERRMSG_MAX];
        int fd;

        snprintf(f->path, sizeof(f->path), "/tmp/puente-test-events-XXXXXX");
        fd = mkstemp(f->path);
        if (fd < 0)
                return -1;
        close(fd);
        if (store_open(f->path, NULL, &f->s, err) < 0 ||
            store_contact_upsert(f->s, "STUDY-0007", PHONE, "es", "c1", NULL, T0, &f->contact) <
                    0 ||
            store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = "356938035643809" },
                               "/dev/ttyUSB0", T0, &f->modem) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_close(f->s);
        unlink(f->path);
        free(f);
        return 0;
}

/* The events of one type, in order: their payloads parsed, contact and clock flag. */
struct seen {
        const char *type;
        unsigned n;
        struct json_object *data[EVENTS_MAX];
        int64_t contact[EVENTS_MAX], time[EVENTS_MAX];
        bool trusted[EVENTS_MAX];
};

static int collect(const struct store_event_row *ev, void *userdata)
{
        struct seen *v = userdata;

        if (strcmp(ev->type, v->type) != 0 || v->n >= EVENTS_MAX)
                return 0;
        v->data[v->n] = json_tokener_parse(ev->json);
        v->contact[v->n] = ev->contact_id;
        v->time[v->n] = ev->time;
        v->trusted[v->n] = ev->clock_trusted;
        v->n++;
        return 0;
}

static void seen_free(struct seen *v)
{
        for (unsigned i = 0; i < v->n; i++)
                json_object_put(v->data[i]);
        v->n = 0;
}

static unsigned count(struct fixture *f, const char *type, struct seen *v)
{
        seen_free(v);
        v->type = type;
        assert_true(store_events_after(f->s, 0, 1000, collect, v) >= 0);
        return v->n;
}

static int64_t get_i(struct json_object *o, const char *key)
{
        struct json_object *x;

        if (!json_object_object_get_ex(o, key, &x))
                fail_msg("no %s in %s", key, json_object_to_json_string(o));
        return json_object_get_int64(x);
}

static const char *get_s(struct json_object *o, const char *key)
{
        struct json_object *x;

        return json_object_object_get_ex(o, key, &x) ? json_object_get_string(x) : NULL;
}

static int64_t queue(struct fixture *f, unsigned parts, const char *reminder, const char *rule_set)
{
        struct store_outgoing_new m = {
                .recipient = PHONE,
                .contact_id = f->contact,
                .text = TEXT,
                .encoding = parts > 1 ? STORE_ENC_UCS2 : STORE_ENC_GSM7,
                .part_count = parts,
                .reminder = reminder,
                .rule_set = rule_set,
        };
        int64_t id = 0;

        assert_int_equal(store_queue_message(f->s, &m, T0, &id), 0);
        return id;
}

/* The part ids of a message, by seq. */
struct parts {
        int64_t message, id[8];
        unsigned n;
};

static int part_cb(const struct store_part *p, void *userdata)
{
        struct parts *ps = userdata;

        if (p->message_id == ps->message && p->seq >= 1 && p->seq <= 8) {
                ps->id[p->seq - 1] = p->part_id;
                ps->n++;
        }
        return 0;
}

static void parts_of(struct fixture *f, int64_t message, struct parts *ps)
{
        memset(ps, 0, sizeof(*ps));
        ps->message = message;
        assert_true(store_outbox_list(f->s, 1000, part_cb, ps) >= 0);
}

static void send_part(struct fixture *f, int64_t part, unsigned mr, int64_t now)
{
        assert_int_equal(store_part_sending(f->s, part, f->modem, now), 0);
        assert_int_equal(store_part_sent(f->s, part, mr, now), 0);
}

static void report(struct fixture *f, unsigned mr, unsigned status, int64_t time)
{
        int64_t part = 0;

        assert_int_equal(store_report_match(f->s, f->modem, mr, PHONE, status, time, &part), 0);
        assert_true(part > 0);
}

static void test_sent_and_delivered_once(void **state)
{
        struct fixture *f = *state;
        struct seen v = { 0 };
        struct parts ps;
        int64_t id = queue(f, 3, "week_12", RULE_SET);

        parts_of(f, id, &ps);
        assert_int_equal(ps.n, 3);
        send_part(f, ps.id[0], 10, T0 + 1);
        report(f, 10, 0x00, T0 + 2); /* a part delivered before the last one went out */
        send_part(f, ps.id[1], 11, T0 + 3);
        assert_int_equal(count(f, "sms.sent", &v), 0);
        send_part(f, ps.id[2], 12, T0 + 4);
        assert_int_equal(count(f, "sms.sent", &v), 1);
        assert_int_equal(get_i(v.data[0], "message_id"), id);
        assert_int_equal(get_i(v.data[0], "parts"), 3);
        assert_string_equal(get_s(v.data[0], "encoding"), "ucs2");
        assert_int_equal(get_i(v.data[0], "modem_id"), f->modem);
        assert_int_equal(get_i(v.data[0], "attempts"), 3);
        assert_string_equal(get_s(v.data[0], "reminder"), "week_12");
        assert_string_equal(get_s(v.data[0], "rule_set"), RULE_SET);
        assert_int_equal(v.contact[0], f->contact);
        assert_int_equal(v.time[0], T0 + 4); /* the exact submission time */
        assert_true(v.trusted[0]);

        assert_int_equal(count(f, "sms.delivered", &v), 0);
        report(f, 11, 0x00, T0 + 5);
        report(f, 11, 0x00, T0 + 6); /* the SMSC repeats itself */
        assert_int_equal(count(f, "sms.delivered", &v), 0);
        report(f, 12, 0x20, T0 + 7); /* still trying: no state change */
        assert_int_equal(count(f, "sms.delivered", &v), 0);
        report(f, 12, 0x01, T0 + 8);
        assert_int_equal(count(f, "sms.delivered", &v), 1);
        assert_int_equal(get_i(v.data[0], "message_id"), id);
        assert_int_equal(get_i(v.data[0], "status"), 1);
        assert_int_equal(v.time[0], T0 + 8);
        report(f, 12, 0x00, T0 + 9);
        report(f, 10, 0x00, T0 + 9);
        assert_int_equal(count(f, "sms.delivered", &v), 1);
        assert_int_equal(count(f, "sms.sent", &v), 1);
        assert_int_equal(count(f, "sms.failed", &v), 0);
        seen_free(&v);
}

/* How a message fails, and the reason category its one sms.failed event carries. */
enum how { REFUSED, GAVE_UP, NOT_SENT, UNDELIVERABLE, TWO_PARTS_FAIL };

static void test_failed_reasons(void **state)
{
        static const struct {
                enum how how;
                unsigned parts;
                const char *reason;
                bool with_modem;
        } cases[] = {
                { REFUSED, 1, "refused", true },        { GAVE_UP, 1, "gave_up", true },
                { NOT_SENT, 1, "not_sent", false },     { UNDELIVERABLE, 2, "undeliverable", true },
                { TWO_PARTS_FAIL, 2, "refused", true },
        };
        struct fixture *f = *state;
        struct seen v = { 0 };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct parts ps;
                int64_t id = queue(f, cases[i].parts, NULL, NULL), now = T0 + 100 * (int64_t)i;
                unsigned mr = 40 + 2 * (unsigned)i;

                parts_of(f, id, &ps);
                switch (cases[i].how) {
                case REFUSED:
                        assert_int_equal(store_part_sending(f->s, ps.id[0], f->modem, now), 0);
                        assert_int_equal(store_part_failed(f->s, ps.id[0], "+CMS ERROR: 38", now),
                                         0);
                        break;
                case GAVE_UP:
                        assert_int_equal(store_part_sending(f->s, ps.id[0], f->modem, now), 0);
                        assert_int_equal(store_part_retry(f->s, ps.id[0], now, "timeout", now), 0);
                        assert_int_equal(store_part_sending(f->s, ps.id[0], f->modem, now), 0);
                        assert_int_equal(store_part_failed(f->s, ps.id[0],
                                                           "gave up after 2 attempts: timeout",
                                                           now),
                                         0);
                        break;
                case NOT_SENT:
                        assert_int_equal(store_part_sending(f->s, ps.id[0], 0, now), 0);
                        assert_int_equal(store_part_failed(f->s, ps.id[0], "cannot encode", now),
                                         0);
                        break;
                case UNDELIVERABLE:
                        send_part(f, ps.id[0], mr, now);
                        send_part(f, ps.id[1], mr + 1, now);
                        report(f, mr, 0x41, now + 1);
                        report(f, mr, 0x41, now + 2);     /* repeated */
                        report(f, mr + 1, 0x45, now + 3); /* the other part: no second event */
                        break;
                case TWO_PARTS_FAIL:
                        send_part(f, ps.id[0], mr, now);
                        assert_int_equal(store_part_sending(f->s, ps.id[1], f->modem, now), 0);
                        assert_int_equal(store_part_failed(f->s, ps.id[1], "+CMS ERROR: 500", now),
                                         0);
                        break;
                }
                assert_int_equal(count(f, "sms.failed", &v), i + 1);
                struct json_object *d = v.data[i];
                if (strcmp(get_s(d, "reason"), cases[i].reason) != 0)
                        fail_msg("case %zu: reason %s, expected %s", i, get_s(d, "reason"),
                                 cases[i].reason);
                assert_int_equal(get_i(d, "message_id"), id);
                assert_int_equal(get_i(d, "parts"), cases[i].parts);
                assert_int_equal(json_object_object_get_ex(d, "modem_id", NULL),
                                 cases[i].with_modem);
                assert_null(get_s(d, "reminder")); /* no rule queued it */
                assert_null(get_s(d, "rule_set"));
                assert_int_equal(v.contact[i], f->contact);
        }
        /* the undeliverable message had been submitted; none was delivered */
        assert_int_equal(count(f, "sms.sent", &v), 1);
        assert_int_equal(count(f, "sms.delivered", &v), 0);
        seen_free(&v);
}

/* A message resent whole is not a failure: the new message gets the events. */
static void test_resend_is_not_failure(void **state)
{
        struct fixture *f = *state;
        struct seen v = { 0 };
        struct parts ps, ps2;
        int64_t id = queue(f, 2, "visit", RULE_SET), id2 = 0;

        parts_of(f, id, &ps);
        send_part(f, ps.id[0], 60, T0 + 1);
        assert_int_equal(store_message_resend(f->s, id, "modem gone", T0 + 700, &id2), 0);
        assert_int_equal(count(f, "sms.failed", &v), 0);
        parts_of(f, id2, &ps2);
        assert_int_equal(ps2.n, 2);
        send_part(f, ps2.id[0], 61, T0 + 701);
        send_part(f, ps2.id[1], 62, T0 + 702);
        assert_int_equal(count(f, "sms.sent", &v), 1);
        assert_int_equal(get_i(v.data[0], "message_id"), id2);
        assert_string_equal(get_s(v.data[0], "reminder"), "visit"); /* carried to the copy */
        seen_free(&v);
}

static void test_clock_flag_and_bad_input(void **state)
{
        struct fixture *f = *state;
        struct seen v = { 0 };
        struct parts ps;
        char long_name[STORE_RULE_NAME_MAX + 2];
        int64_t id;

        store_set_clock_trusted(f->s, false);
        id = queue(f, 1, NULL, NULL);
        parts_of(f, id, &ps);
        send_part(f, ps.id[0], 70, T0);
        assert_int_equal(count(f, "sms.sent", &v), 1);
        assert_false(v.trusted[0]);
        store_set_clock_trusted(f->s, true);

        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        struct store_outgoing_new m = {
                .recipient = PHONE, .text = "x", .part_count = 1, .reminder = long_name
        };
        assert_int_equal(store_queue_message(f->s, &m, T0, &id), -EINVAL);
        assert_non_null(strstr(store_errmsg(f->s), "reminder name"));
        seen_free(&v);
}

/* What leaves the box of these events: the whitelisted keys, never the number or the text. */
static void test_uploaded_line(void **state)
{
        struct fixture *f = *state;
        struct parts ps;
        struct batch b;
        int64_t id = queue(f, 1, "week_12", RULE_SET);

        parts_of(f, id, &ps);
        send_part(f, ps.id[0], 80, T0);
        report(f, 80, 0x00, T0 + 1);
        id = queue(f, 1, "week_13", RULE_SET);
        parts_of(f, id, &ps);
        assert_int_equal(store_part_sending(f->s, ps.id[0], f->modem, T0 + 2), 0);
        assert_int_equal(store_part_failed(f->s, ps.id[0], "+CMS ERROR: 38 " PHONE, T0 + 2), 0);

        batch_init(&b);
        struct seen v = { 0 };
        static const char *const types[] = { "sms.sent", "sms.delivered", "sms.failed" };
        static const char *const must[][2] = { { "\"reminder\":\"week_12\"", "\"encoding\"" },
                                               { "\"reminder\":\"week_12\"", "\"status\":0" },
                                               { "\"reason\":\"refused\"", "\"week_13\"" } };
        for (size_t t = 0; t < 3; t++) {
                assert_int_equal(count(f, types[t], &v), 1);
                batch_reset(&b);
                struct batch_event ev = { .seq = 1,
                                          .time = v.time[0],
                                          .type = types[t],
                                          .subject = "0123456789abcdef",
                                          .json = json_object_to_json_string(v.data[0]) };
                assert_int_equal(batch_add(&b, &ev), 0);
                b.buf[b.len - 1] = '\0';
                for (size_t k = 0; k < 2; k++)
                        if (!strstr(b.buf, must[t][k]))
                                fail_msg("%s: no %s in %s", types[t], must[t][k], b.buf);
                assert_non_null(strstr(b.buf, "\"rule_set\":\"" RULE_SET "\""));
                assert_null(strstr(b.buf, "5512345678"));
                assert_null(strstr(b.buf, "Maria"));
                assert_null(strstr(b.buf, "CMS"));
        }
        seen_free(&v);
        batch_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_sent_and_delivered_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_reasons, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resend_is_not_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clock_flag_and_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uploaded_line, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
