/* daemon/store at scale: on a database that already holds a history of sent, delivered and
 * received messages, what the daemon does for every part and every few seconds (queue, pick,
 * send, count, match a report, receive, list the unhandled, status) must not step through the
 * history: SQLite's full-scan counter (store_scan_steps()) moves by the few open rows at
 * most, where one pass over the history would move it by thousands. The full
 * status and the inbox listing for puentectl do scan, which shows the counter sees scans. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0            1790000000 /* a fixed "now": the store never reads the clock */
#define HISTORY       3000 /* parts sent before the test, and half as many messages received */
#define PHONES        10
#define OPEN_ROWS_MAX 8 /* scan steps allowed: the open rows the test makes, not the history */

struct fixture {
        char dir[TMPSTORE_DIR_MAX];
        char path[TMPSTORE_PATH_MAX];
        struct store *s;
        int64_t modem;
};

static void phone(unsigned i, char buf[16])
{
        snprintf(buf, 16, "+5255123456%02u", i % PHONES);
}

static int first_cb(const struct store_part *p, void *userdata)
{
        *(int64_t *)userdata = p->part_id;
        return 1; /* one is enough */
}

/* Queues a one-part message to phone i and takes it through sending to sent at `at`; returns
 * its part. */
static int64_t send_one(struct fixture *f, unsigned i, int64_t at)
{
        char to[16];
        int64_t msg = 0, part = 0;
        unsigned today = 0;

        phone(i, to);
        struct store_outgoing_new m = {
                .recipient = to,
                .text = "Recuerde su cita de control prenatal",
                .encoding = STORE_ENC_GSM7,
                .part_count = 1,
        };
        assert_int_equal(store_queue_message(f->s, &m, at, &msg), 0);
        assert_int_equal(store_next_parts(f->s, at, 1, first_cb, &part), 1);
        assert_true(part > 0);
        assert_int_equal(store_part_sending(f->s, part, f->modem, at), 0);
        assert_int_equal(store_part_sent(f->s, part, i % 256, at), 0);
        assert_int_equal(store_modem_count_sent(f->s, f->modem, 20260101, &today), 0);
        return part;
}

static void receive_one(struct fixture *f, unsigned i, unsigned total, unsigned seq, int64_t at,
                        int64_t *ret_msg)
{
        char from[16];

        phone(i, from);
        struct store_inbound_part p = {
                .modem_id = f->modem,
                .sender = from,
                .ref = i % 256,
                .total = total,
                .seq = seq,
                .text = "SI",
                .sc_time = at - 5,
        };
        assert_int_equal(store_inbound_part_add(f->s, &p, at, ret_msg), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        int64_t matched, msg;

        if (!f || tmpstore_open("scale", NULL, f->dir, f->path, &f->s) < 0 ||
            tmpstore_modem(f->s, T0, &f->modem) < 0)
                return -1;
        /* One transaction for the whole history, as the bank's batches do for a few parts. */
        if (store_batch_begin(f->s) < 0)
                return -1;
        for (unsigned i = 0; i < HISTORY; i++) {
                int64_t at = T0 + i * 60;
                char to[16];
                int64_t part = send_one(f, i, at);
                phone(i, to);
                if (i % 10 != 9) /* a tenth never get a report: they stay "sent" */
                        assert_int_equal(store_report_match(f->s, f->modem, i % 256, to,
                                                            i % 50 ? 0x00 : 0x41, at + 30,
                                                            &matched),
                                         0);
                if (i % 10 != 9)
                        assert_int_equal(matched, part);
                if (i % 2 == 0) {
                        receive_one(f, i, 1, 1, at + 40, &msg);
                        assert_true(msg > 0);
                        assert_int_equal(store_incoming_mark_handled(f->s, msg), 0);
                }
        }
        if (store_batch_commit(f->s) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_close(f->s);
        tmpstore_remove(f->dir, f->path);
        free(f);
        return 0;
}

static int count_cb(const struct store_incoming *m, void *userdata)
{
        (void)m;
        ++*(unsigned *)userdata;
        return 0;
}

static int event_cb(const struct store_event_row *ev, void *userdata)
{
        (void)ev;
        ++*(unsigned *)userdata;
        return 0;
}

/* The open counts agree with the full ones and leave the history alone. */
static void test_status_open(void **state)
{
        struct fixture *f = *state;
        struct store_status all, open;
        int64_t part = 0;
        char to[16];

        phone(1, to);
        struct store_outgoing_new m = {
                .recipient = to, .text = "hola", .encoding = STORE_ENC_GSM7, .part_count = 1
        };
        for (unsigned i = 0; i < 3; i++) {
                int64_t msg = 0;
                assert_int_equal(store_queue_message(f->s, &m, T0 + HISTORY * 60, &msg), 0);
        }
        assert_int_equal(store_next_parts(f->s, T0 + HISTORY * 60, 1, first_cb, &part), 1);
        assert_int_equal(store_part_sending(f->s, part, f->modem, T0 + HISTORY * 60), 0);

        uint64_t before = store_scan_steps(f->s);
        assert_int_equal(store_status_open(f->s, &open), 0);
        assert_int_equal(store_scan_steps(f->s), before);
        assert_int_equal(store_status_counts(f->s, &all), 0);
        assert_true(store_scan_steps(f->s) > before); /* the counter does see scans */

        assert_int_equal(open.parts[STORE_PART_QUEUED], 2);
        assert_int_equal(open.parts[STORE_PART_SENDING], 1);
        static const enum store_part_state shown[] = { STORE_PART_QUEUED, STORE_PART_RETRY,
                                                       STORE_PART_SENDING, STORE_PART_UNKNOWN,
                                                       STORE_PART_FAILED };
        for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
                assert_int_equal(open.parts[shown[i]], all.parts[shown[i]]);
        assert_int_equal(open.parts[STORE_PART_DELIVERED], 0);
        assert_int_equal(open.parts[STORE_PART_SENT], 0);
        assert_int_equal(open.events, all.events);
        assert_true(all.events > HISTORY);
        assert_int_equal(all.parts[STORE_PART_SENT], HISTORY / 10);
        assert_int_equal(all.parts[STORE_PART_UNDELIVERABLE], HISTORY / 50);
        assert_int_equal(all.parts[STORE_PART_DELIVERED], HISTORY - HISTORY / 10 - HISTORY / 50);
}

/* Everything the daemon does per part or per loop turn, on top of the history. */
static void test_hot_paths_do_not_scan(void **state)
{
        struct fixture *f = *state;
        int64_t at = T0 + HISTORY * 60 + 600, matched = 0, msg = -1;
        struct store_status open;
        unsigned n = 0;
        char to[16];

        uint64_t before = store_scan_steps(f->s);
        int64_t part = send_one(f, 7, at);
        phone(7, to);
        assert_int_equal(store_report_match(f->s, f->modem, 7, to, 0x00, at + 20, &matched), 0);
        assert_int_equal(matched, part);
        /* a report nobody's part waits for: stored unmatched */
        assert_int_equal(store_report_match(f->s, f->modem, 200, to, 0x00, at + 20, &matched), 0);
        assert_int_equal(matched, 0);

        receive_one(f, 3, 1, 1, at + 30, &msg);
        assert_true(msg > 0);
        receive_one(f, 4, 2, 2, at + 31, &msg);
        assert_int_equal(msg, 0);
        receive_one(f, 4, 2, 1, at + 32, &msg);
        assert_true(msg > 0);
        assert_int_equal(store_inbox_unhandled(f->s, 16, count_cb, &n), 2);
        assert_int_equal(store_incoming_mark_handled(f->s, msg), 0);
        assert_int_equal(store_inbound_flush(f->s, at - 3600, at + 40), 0);

        assert_int_equal(store_status_open(f->s, &open), 0);
        assert_int_equal(store_events_after(f->s, open.events - 1, 10, event_cb, &n), 1);
        /* Walking a partial index (the unhandled messages) counts as a scan too: a step or
         * two for the few open rows, against thousands for one pass over the history. */
        assert_true(store_scan_steps(f->s) - before <= OPEN_ROWS_MAX);

        /* puentectl's listing of the unhandled, newest first, may walk the inbox */
        assert_int_equal(store_inbox_list(f->s, 16, true, count_cb, &n), 1);
        assert_true(store_scan_steps(f->s) - before >= HISTORY / 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_status_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hot_paths_do_not_scan, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
