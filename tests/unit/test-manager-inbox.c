/* daemon/manager-inbox: which outcomes of the rules mark an incoming message handled and
 * which leave it for a later pass (issue 4: a transient failure lost the message), the order
 * kept across a failure, and the bounded back-off; against a real store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"
#include "daemon/manager-internal.h"
#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0        1790000000 /* a fixed "now" */
#define N_MSGS    3
#define CALLS_MAX 16

struct fixture {
        char dir[64], path[96];
        struct store *s;
        int64_t modem;
        int64_t ids[N_MSGS];
};

/* The fake rules: answers from a script, one per call, and what it was given. */
struct fake_rules {
        const int *answers;
        unsigned n_answers, calls;
        int64_t seen[CALLS_MAX];
        char text[CALLS_MAX][32];
};

static int fake_fn(const struct manager_inbox_msg *msg, void *userdata)
{
        struct fake_rules *f = userdata;
        assert_int_equal(msg->now, T0 + 100);
        if (f->calls < CALLS_MAX) { /* the first ones are enough to check the order */
                f->seen[f->calls] = msg->id;
                snprintf(f->text[f->calls], sizeof(f->text[0]), "%s", msg->text);
        }
        int r = f->calls < f->n_answers ? f->answers[f->calls] : 0;
        f->calls++;
        return r;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (tmpstore_open("inbox", NULL, f->dir, f->path, &f->s) < 0)
                return -1;
        if (tmpstore_modem(f->s, T0, &f->modem) < 0)
                return -1;
        for (int i = 0; i < N_MSGS; i++) {
                char text[16];
                snprintf(text, sizeof(text), "msg %d", i);
                struct store_inbound_part p = { .modem_id = f->modem,
                                                .sender = "+525512345678",
                                                .total = 1,
                                                .seq = 1,
                                                .text = text,
                                                .sc_time = T0 + i };
                if (store_inbound_part_add(f->s, &p, T0 + i, &f->ids[i]) < 0 || f->ids[i] <= 0)
                        return -1;
        }
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

static int count_cb(const struct store_incoming *in, void *userdata)
{
        (*(unsigned *)userdata)++;
        return 0;
}

static unsigned unhandled(struct fixture *f)
{
        unsigned n = 0;
        assert_true(store_inbox_list(f->s, 100, true, count_cb, &n) >= 0);
        return n;
}

/* What each answer of the rules to the first message does to the pass. */
static const struct {
        const char *name;
        int answer;         /* the rules' answer to the first message (the others: 0) */
        int ret;            /* the pass's result */
        unsigned calls;     /* messages given to the rules */
        unsigned unhandled; /* left for the next pass */
} outcomes[] = {
        { "all handled", 0, N_MSGS, N_MSGS, 0 },
        { "no rule applies: handled", -ENOENT, N_MSGS, N_MSGS, 0 },
        { "a permanent error: handled, not tried again", -EINVAL, N_MSGS, N_MSGS, 0 },
        { "store locked: kept, the pass stops", -EBUSY, -EBUSY, 1, N_MSGS },
        { "store full: kept", -ENOSPC, -ENOSPC, 1, N_MSGS },
        { "no memory: kept", -ENOMEM, -ENOMEM, 1, N_MSGS },
        { "I/O error: kept", -EIO, -EIO, 1, N_MSGS },
};

static void test_outcomes(void **state)
{
        for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
                struct fixture *f;
                assert_int_equal(setup((void **)&f), 0);
                struct fake_rules fr = { .answers = &outcomes[i].answer, .n_answers = 1 };
                bool more = true;
                int r = manager_inbox_pass(f->s, T0 + 100, fake_fn, &fr, &more);
                if (r != outcomes[i].ret || fr.calls != outcomes[i].calls ||
                    unhandled(f) != outcomes[i].unhandled)
                        fail_msg("%s: returned %d, %u calls, %u unhandled", outcomes[i].name, r,
                                 fr.calls, unhandled(f));
                if (r >= 0)
                        assert_false(more); /* 3 messages: not a full batch */
                teardown((void **)&f);
        }
}

/* A failure in the middle keeps the failed message and the later ones, and the next pass
 * starts from the failed one: oldest first, nothing skipped, nothing repeated. */
static void test_retry_keeps_order(void **state)
{
        struct fixture *f = *state;
        static const int first[] = { 0, -EBUSY };
        struct fake_rules fr = { .answers = first, .n_answers = 2 };
        bool more = false;

        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, fake_fn, &fr, &more), -EBUSY);
        assert_int_equal(fr.calls, 2);
        assert_int_equal(fr.seen[0], f->ids[0]);
        assert_string_equal(fr.text[0], "msg 0");
        assert_int_equal(fr.seen[1], f->ids[1]);
        assert_int_equal(unhandled(f), 2);

        struct fake_rules again = { .n_answers = 0 };
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, fake_fn, &again, &more), 2);
        assert_int_equal(again.calls, 2);
        assert_int_equal(again.seen[0], f->ids[1]);
        assert_string_equal(again.text[0], "msg 1");
        assert_int_equal(again.seen[1], f->ids[2]);
        assert_int_equal(unhandled(f), 0);

        struct fake_rules none = { .n_answers = 0 };
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, fake_fn, &none, &more), 0);
        assert_int_equal(none.calls, 0);
}

/* More than a batch: the pass says so, so the daemon takes the rest on the next loop turn;
 * the oldest go first (a quiz's answers read off a SIM after an outage are scored in the order
 * they were sent; the first pass took the newest 64 and left the oldest for the next). */
static void test_full_batch(void **state)
{
        struct fixture *f = *state;
        int64_t last = 0;
        for (int i = N_MSGS; i < MANAGER_INBOX_BATCH + 1; i++) {
                char text[16];
                snprintf(text, sizeof(text), "msg %d", i);
                struct store_inbound_part p = { .modem_id = f->modem,
                                                .sender = "+525512345678",
                                                .total = 1,
                                                .seq = 1,
                                                .text = text,
                                                .sc_time = T0 + i };
                assert_int_equal(store_inbound_part_add(f->s, &p, T0 + i, &last), 0);
        }
        struct fake_rules fr = { .n_answers = 0 };
        bool more = false;
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, fake_fn, &fr, &more),
                         MANAGER_INBOX_BATCH);
        assert_true(more);
        for (unsigned i = 0; i < CALLS_MAX; i++)
                assert_int_equal(fr.seen[i], f->ids[0] + i);
        assert_int_equal(unhandled(f), 1);
        fr.calls = 0;
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, fake_fn, &fr, &more), 1);
        assert_int_equal(fr.seen[0], last);
        assert_false(more);
}

/* Rules that queue a reply, then fail or not as scripted: each pass's work is one transaction
 * with marking the message handled. */
struct replying {
        struct store *s;
        int fail_first; /* the first call's error after queuing its reply */
        unsigned calls;
};

static int reply_fn(const struct manager_inbox_msg *msg, void *userdata)
{
        struct replying *rp = userdata;
        struct store_outgoing_new m = { .recipient = msg->sender,
                                        .text = "Gracias, recibimos su respuesta",
                                        .encoding = STORE_ENC_GSM7,
                                        .part_count = 1 };
        int64_t id;
        int r = store_queue_message(rp->s, &m, msg->now, &id);
        if (r < 0)
                return r;
        return rp->calls++ == 0 ? rp->fail_first : 0;
}

static unsigned outgoing(struct fixture *f)
{
        struct store_status st;
        assert_int_equal(store_status_counts(f->s, &st), 0);
        return st.messages_out;
}

/* A reply queued by rules that then failed (the disk full half way) goes with the failure:
 * the retry queues it once. Before, the first attempt's reply stayed and the retry queued a
 * second. Likewise when marking the message handled fails: its reply is undone with it. */
static void test_reply_once(void **state)
{
        struct fixture *f = *state;
        struct replying rp = { .s = f->s, .fail_first = -ENOSPC };
        bool more = false;

        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, reply_fn, &rp, &more), -ENOSPC);
        assert_int_equal(outgoing(f), 0);
        assert_int_equal(unhandled(f), N_MSGS);
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, reply_fn, &rp, &more), N_MSGS);
        assert_int_equal(outgoing(f), N_MSGS);
        assert_int_equal(unhandled(f), 0);
}

static void test_mark_fails(void **state)
{
        struct fixture *f = *state;
        struct replying rp = { .s = f->s };
        bool more = false;
        char cmd[256];

        snprintf(cmd, sizeof(cmd),
                 "sqlite3 '%s' \"CREATE TRIGGER broken BEFORE UPDATE OF handled ON incoming"
                 " BEGIN SELECT RAISE(ABORT, 'injected'); END;\"",
                 f->path);
        assert_int_equal(system(cmd), 0);
        assert_true(manager_inbox_pass(f->s, T0 + 100, reply_fn, &rp, &more) < 0);
        assert_int_equal(outgoing(f), 0);
        snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'DROP TRIGGER broken;'", f->path);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(manager_inbox_pass(f->s, T0 + 100, reply_fn, &rp, &more), N_MSGS);
        assert_int_equal(outgoing(f), N_MSGS);
}

static void test_transient(void **state)
{
        static const struct {
                int err;
                bool transient;
        } cases[] = {
                { -EBUSY, true },   { -ENOSPC, true },   { -ENOMEM, true }, { -EIO, true },
                { -EAGAIN, true },  { -EROFS, true },    { 0, false },      { -ENOENT, false },
                { -EINVAL, false }, { -EBADMSG, false }, { -E2BIG, false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (manager_inbox_transient(cases[i].err) != cases[i].transient)
                        fail_msg("%s: expected %s", strerror(-cases[i].err),
                                 cases[i].transient ? "transient" : "permanent");
}

/* The waits after failures in a row: doubled from the minimum, never above the maximum, and
 * never zero (a zero wait would be a busy loop). */
static void test_backoff(void **state)
{
        uint64_t w = 0, prev = 0;
        unsigned steps = 0;
        assert_int_equal(manager_inbox_backoff(0), MANAGER_INBOX_RETRY_MIN_MS);
        for (unsigned i = 0; i < 40; i++) {
                w = manager_inbox_backoff(w);
                assert_true(w >= MANAGER_INBOX_RETRY_MIN_MS);
                assert_true(w <= MANAGER_INBOX_RETRY_MAX_MS);
                assert_true(w >= prev);
                if (w != prev)
                        steps++;
                prev = w;
        }
        assert_int_equal(w, MANAGER_INBOX_RETRY_MAX_MS);
        assert_int_equal(manager_inbox_backoff(MANAGER_INBOX_RETRY_MIN_MS),
                         2 * MANAGER_INBOX_RETRY_MIN_MS);
        assert_true(steps >= 8); /* 1 s doubling to 300 s: 1, 2, 4, ... 256, 300 */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_outcomes),
                cmocka_unit_test_setup_teardown(test_retry_keeps_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_full_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reply_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mark_fails, setup, teardown),
                cmocka_unit_test(test_transient),
                cmocka_unit_test(test_backoff),
        };
        log_setup("test-manager-inbox", LOG_CRIT);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
