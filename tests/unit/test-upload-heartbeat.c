/* The daily heartbeat SMS: queued through the outbox only while no upload has succeeded for
 * heartbeat_days and a central number is set, at most once a day (also after the clock went
 * back), with counts only in its text and in its event; and the uploader does it by itself
 * on the loop, once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/test-upload-harness.h"

#define CENTRAL "+525500000001"
#define T0      1790000000

struct outbox {
        unsigned n;
        char recipient[8][STORE_NUMBER_MAX];
        char text[8][UPLOAD_HEARTBEAT_MAX + 1];
        unsigned parts[8];
};

static int outbox_cb(const struct store_part *p, void *userdata)
{
        struct outbox *o = userdata;

        if (o->n < 8) {
                snprintf(o->recipient[o->n], sizeof(o->recipient[0]), "%s", p->recipient);
                snprintf(o->text[o->n], sizeof(o->text[0]), "%s", p->text ? p->text : "");
                o->parts[o->n] = p->part_count;
        }
        o->n++;
        return 0;
}

static void outbox(struct store *s, struct outbox *o)
{
        memset(o, 0, sizeof(*o));
        assert_true(store_outbox_list(s, 100, outbox_cb, o) >= 0);
}

struct evs {
        unsigned n;
        char json[4][256];
        bool trusted[4];
};

static int ev_cb(const struct store_event_row *ev, void *userdata)
{
        struct evs *e = userdata;

        if (strcmp(ev->type, UPLOAD_HEARTBEAT_EVENT) == 0 && e->n < 4) {
                snprintf(e->json[e->n], sizeof(e->json[0]), "%s", ev->json);
                e->trusted[e->n] = ev->clock_trusted;
                e->n++;
        }
        return 0;
}

static void test_when_due(void **state)
{
        static const struct {
                bool due;
                const char *number;
                int64_t at;  /* seconds after T0 */
                bool queued; /* a new heartbeat */
        } steps[] = {
                { false, CENTRAL, 0, false },   /* uploads work */
                { true, "", 0, false },         /* no central number */
                { true, CENTRAL, 0, true },     /* the first */
                { true, CENTRAL, 3600, false }, /* not twice a day */
                { true, CENTRAL, 86399, false },
                { true, CENTRAL, 86400, true },             /* the next day */
                { false, CENTRAL, 3 * 86400, false },       /* uploads work again */
                { true, CENTRAL, 86400 - 2 * 86400, true }, /* the clock went back two days */
        };
        struct harness h;
        struct upload_status st = {
                .enabled = true,
                .device = "clinic-07",
                .days_since_ok = 4,
                .backlog_events = 1234,
                .backlog_batches = 3,
                .events_total = 56789,
        };
        struct outbox o;
        unsigned queued = 0;

        assert_int_equal(h_setup(&h, "upload-heartbeat"), 0);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                int64_t id = -1;
                st.heartbeat_due = steps[i].due;
                int r = upload_heartbeat_step(h.store, &st, steps[i].number, T0 + steps[i].at, &id);
                if (r != (steps[i].queued ? 1 : 0))
                        fail_msg("step %zu: %d", i, r);
                assert_true(steps[i].queued ? id > 0 : id == -1);
                queued += steps[i].queued;
                outbox(h.store, &o);
                assert_int_equal(o.n, queued);
        }
        /* the text: counts only, one GSM-7 part, to the central number */
        assert_string_equal(o.recipient[0], CENTRAL);
        assert_int_equal(o.parts[0], 1);
        assert_string_equal(o.text[0], "PUENTE clinic-07: no upload for 4 d; waiting 1234 events "
                                       "(3 batches) of 56789; disk ok");
        /* each one an event with the counts, which the whitelist lets through */
        struct evs e = { 0 };
        assert_true(store_events_after(h.store, 0, 100, ev_cb, &e) >= 0);
        assert_int_equal(e.n, queued);
        assert_non_null(strstr(e.json[0], "\"days\":4"));
        assert_non_null(strstr(e.json[0], "\"backlog_events\":1234"));
        assert_non_null(strstr(e.json[0], "\"message_id\":"));
        assert_true(e.trusted[0]);
        const char *const *keys = batch_whitelist(UPLOAD_HEARTBEAT_EVENT);
        assert_string_equal(keys[0], "message_id");
        assert_string_equal(keys[1], "days");
        h_cleanup(&h);
}

/* The words the daemon's STATUS= line ends with. */
static void test_summary(void **state)
{
        static const struct {
                bool enabled;
                int64_t last_ok; /* seconds before now; -1 = never */
                const char *want;
        } cases[] = {
                { false, 30, "" },
                { true, -1, "no upload yet" },
                { true, 30, "last upload 30 s ago" },
                { true, 3 * 60, "last upload 3 min ago" },
                { true, 5 * 3600, "last upload 5 h ago" },
                { true, 3 * 86400, "last upload 3 days ago" },
        };
        const int64_t now = 1790000000;
        char buf[64];
        (void)state;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct upload_status st = {
                        .enabled = cases[i].enabled,
                        .last_ok = cases[i].last_ok < 0 ? 0 : now - cases[i].last_ok,
                };
                upload_summary(&st, now, buf, sizeof(buf));
                if (strcmp(buf, cases[i].want) != 0)
                        fail_msg("case %zu: \"%s\", expected \"%s\"", i, buf, cases[i].want);
        }
}

/* A long error and a full disk still make one 160-character GSM-7 part. */
static void test_text_bounds(void **state)
{
        struct upload_status st = { .enabled = true,
                                    .heartbeat_due = true,
                                    .device = "clinic-with-a-rather-long-device-name-0123456789",
                                    .days_since_ok = 365,
                                    .backlog_events = 999999999,
                                    .backlog_batches = 999999,
                                    .events_total = 999999999,
                                    .disk_near = true,
                                    .disk_full = true };
        char text[UPLOAD_HEARTBEAT_MAX];

        memset(st.last_error, 'x', sizeof(st.last_error) - 1);
        memcpy(st.last_error, "server [answered] {500} ~ ^ | \\ `", 33);
        upload_heartbeat_text(&st, text);
        assert_true(strlen(text) <= 160);
        assert_non_null(strstr(text, "disk FULL"));
        assert_null(strpbrk(text, "[]{}~^|\\`")); /* GSM-7 escapes: two septets each */
}

/* The uploader queues it by itself while uploads have failed for heartbeat_days: once. */
static void test_uploader_sends_once(void **state)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        struct outbox o;
        char ago[32];

        assert_int_equal(h_setup(&h, "upload-heartbeat-loop"), 0);
        assert_int_equal(h_add_events(&h, 50), 0);
        h_config(&h, &c, "http://127.0.0.1:1/up"); /* nobody listens there */
        c.heartbeat_days = 2;
        snprintf(c.heartbeat_number, sizeof(c.heartbeat_number), "%s", CENTRAL);
        snprintf(ago, sizeof(ago), "%lld", (long long)time(NULL) - 3 * 86400 - 60);
        assert_int_equal(store_setting_set(h.store, UPLOAD_SETTING_LAST_OK, ago), 0);

        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        for (int i = 0; i < 50; i++) {
                h_run_for(&h, 100);
                outbox(h.store, &o);
                if (o.n)
                        break;
        }
        assert_int_equal(o.n, 1);
        assert_string_equal(o.recipient[0], CENTRAL);
        assert_non_null(strstr(o.text[0], "no upload for 3 d; waiting 50 events"));
        /* a restart the same day sends no second one */
        upload_free(u);
        assert_int_equal(upload_new(h.loop, h.store, &c, &u), 0);
        upload_kick(u, true);
        h_run_for(&h, 1000);
        outbox(h.store, &o);
        assert_int_equal(o.n, 1);
        upload_free(u);
        h_cleanup(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_when_due),
                cmocka_unit_test(test_text_bounds),
                cmocka_unit_test(test_summary),
                cmocka_unit_test(test_uploader_sends_once),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
