/* daemon/store-incoming: the caps on inbound reassembly (daemon/store-inbound.h): a flood of
 * parts with new references from one sender keeps at most STORE_INBOUND_GROUPS_PER_SENDER
 * unfinished messages and STORE_INBOUND_BYTES_PER_SENDER bytes, all senders together at most
 * STORE_INBOUND_GROUPS_MAX; what goes past a cap is flushed as incomplete (nothing dropped)
 * and another sender's message still completes whole; a lone part claiming 255 parts gives
 * one "[...]" per run of missing parts, not 254. Against a real store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/store-inbound.h"
#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0        1790000000 /* a fixed "now" */
#define INBOX_MAX 600
#define TEXT_MAX  1200

struct fixture {
        char dir[64], path[96];
        struct store *s;
};

struct inbox {
        unsigned n, incomplete;
        char (*text)[TEXT_MAX];
        char (*sender)[STORE_NUMBER_MAX];
        bool *complete;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (tmpstore_open("inbound", NULL, f->dir, f->path, &f->s) < 0)
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

static int64_t add(struct fixture *f, const char *from, unsigned ref, unsigned total, unsigned seq,
                   const char *text, int64_t now)
{
        struct store_inbound_part p = {
                .sender = from,
                .ref = ref,
                .total = total,
                .seq = seq,
                .text = text,
                .sc_time = now,
        };
        int64_t id = -1;

        assert_int_equal(store_inbound_part_add(f->s, &p, now, &id), 0);
        return id;
}

static unsigned pending_parts(struct fixture *f)
{
        struct store_status st;

        assert_int_equal(store_status_counts(f->s, &st), 0);
        return st.inbound_partial;
}

static int inbox_cb(const struct store_incoming *m, void *userdata)
{
        struct inbox *b = userdata;

        assert_true(b->n < INBOX_MAX);
        snprintf(b->text[b->n], TEXT_MAX, "%s", m->text);
        snprintf(b->sender[b->n], STORE_NUMBER_MAX, "%s", m->sender);
        b->complete[b->n] = m->complete;
        b->incomplete += !m->complete;
        b->n++;
        return 0;
}

static void inbox_read(struct fixture *f, struct inbox *b)
{
        static char text[INBOX_MAX][TEXT_MAX];
        static char sender[INBOX_MAX][STORE_NUMBER_MAX];
        static bool complete[INBOX_MAX];

        *b = (struct inbox){ .text = text, .sender = sender, .complete = complete };
        assert_true(store_inbox_list(f->s, INBOX_MAX, false, inbox_cb, b) >= 0);
}

/* Whether some inbox message contains `needle`. */
static bool inbox_has(const struct inbox *b, const char *needle)
{
        for (unsigned i = 0; i < b->n; i++)
                if (strstr(b->text[i], needle))
                        return true;
        return false;
}

/* TS 23.040 9.2.3.24.1 allows 255 parts; a lone part that claims so becomes, once flushed,
 * a short message: one mark for each run of missing parts. */
static void test_missing_runs_marked_once(void **state)
{
        struct fixture *f = *state;
        static const struct {
                unsigned total;
                unsigned seqs[4];
                const char *want;
        } cases[] = {
                { 255, { 2 }, "[...]b[...]" },   { 255, { 1 }, "a[...]" },
                { 255, { 255 }, "[...]z" },      { 6, { 1, 3, 6 }, "a[...]c[...]f" },
                { 5, { 2, 3 }, "[...]bc[...]" },
        };
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                char from[24];
                struct inbox b;
                snprintf(from, sizeof(from), "+5255000000%02zu", c);
                for (unsigned i = 0; i < 4 && cases[c].seqs[i]; i++) {
                        unsigned seq = cases[c].seqs[i];
                        char t[2] = { seq == 255 ? 'z' : (char)('a' + seq - 1), 0 };
                        assert_int_equal(add(f, from, 42, cases[c].total, seq, t, T0), 0);
                }
                assert_int_equal(store_inbound_flush(f->s, T0 + 1, T0 + 600), 1);
                inbox_read(f, &b);
                assert_string_equal(b.sender[0], from); /* newest first */
                assert_string_equal(b.text[0], cases[c].want);
                assert_false(b.complete[0]);
        }
}

/* One sender floods part 1 of 2 under ever new references: at most GROUPS_PER_SENDER stay
 * pending, the older ones are flushed as incomplete with their text; another sender's
 * message that began before the flood completes whole. */
static void test_groups_per_sender(void **state)
{
        struct fixture *f = *state;
        enum { FLOOD = 3 * STORE_INBOUND_GROUPS_PER_SENDER };
        struct inbox b;
        char t[32];

        assert_int_equal(add(f, "+525511111111", 9, 2, 1, "hola ", T0), 0);
        for (unsigned i = 0; i < FLOOD; i++) {
                snprintf(t, sizeof(t), "flood %u;", i);
                assert_int_equal(add(f, "+525599999999", i, 2, 1, t, T0 + 1 + i), 0);
                assert_true(pending_parts(f) <= STORE_INBOUND_GROUPS_PER_SENDER + 1);
        }
        assert_int_equal(pending_parts(f), STORE_INBOUND_GROUPS_PER_SENDER + 1);
        inbox_read(f, &b);
        assert_int_equal(b.n, FLOOD - STORE_INBOUND_GROUPS_PER_SENDER);
        assert_int_equal(b.incomplete, b.n);
        /* the oldest went first; nothing was dropped */
        assert_string_equal(b.text[b.n - 1], "flood 0;[...]");
        for (unsigned i = 0; i < FLOOD - STORE_INBOUND_GROUPS_PER_SENDER; i++) {
                snprintf(t, sizeof(t), "flood %u;", i);
                assert_true(inbox_has(&b, t));
        }
        /* the newest of the flood still completes */
        assert_true(add(f, "+525599999999", FLOOD - 1, 2, 2, "fin", T0 + 100) > 0);
        /* and the other sender's message is whole */
        assert_true(add(f, "+525511111111", 9, 2, 2, "mundo", T0 + 101) > 0);
        inbox_read(f, &b);
        assert_string_equal(b.text[0], "hola mundo");
        assert_true(b.complete[0]);
        snprintf(t, sizeof(t), "flood %u;fin", FLOOD - 1);
        assert_string_equal(b.text[1], t);
        assert_true(b.complete[1]);
}

/* Big parts under new references: the sender's pending bytes stay under the cap (its
 * other groups are flushed first), its current message keeps growing to completion. */
static void test_bytes_per_sender(void **state)
{
        struct fixture *f = *state;
        enum { PART = 600 };
        static char big[PART + 1];
        unsigned groups = STORE_INBOUND_GROUPS_PER_SENDER - 1; /* the group cap is not the one */
        unsigned parts_per_group = STORE_INBOUND_BYTES_PER_SENDER / PART / 4;
        struct inbox b;

        memset(big, 'x', PART);
        for (unsigned g = 0; g < groups * 2; g++)
                for (unsigned p = 1; p <= parts_per_group; p++)
                        add(f, "+525588888888", g, 200, p, big, T0 + g);
        /* a group never goes past what the bytes allow beside the others */
        assert_true((size_t)pending_parts(f) * PART <= STORE_INBOUND_BYTES_PER_SENDER);
        assert_true(pending_parts(f) >= parts_per_group);
        inbox_read(f, &b);
        assert_true(b.n >= groups);
        assert_int_equal(b.incomplete, b.n);
        assert_int_equal(b.n * parts_per_group + pending_parts(f), groups * 2 * parts_per_group);
}

/* Many senders (alphanumeric ones cost nothing to vary): the total stays bounded, the
 * oldest flushed first. */
static void test_groups_total(void **state)
{
        struct fixture *f = *state;
        enum { SENDERS = STORE_INBOUND_GROUPS_MAX + 20 };
        struct inbox b;
        char from[24];

        for (unsigned i = 0; i < SENDERS; i++) {
                snprintf(from, sizeof(from), "SPAM%u", i);
                assert_int_equal(add(f, from, 1, 3, 2, "x", T0 + i), 0);
        }
        assert_int_equal(pending_parts(f), STORE_INBOUND_GROUPS_MAX);
        inbox_read(f, &b);
        assert_int_equal(b.n, 20);
        assert_string_equal(b.sender[b.n - 1], "SPAM0");
        assert_string_equal(b.text[0], "[...]x[...]");
}

/* A repeated part of a pending message is a duplicate, not a new group: it flushes nothing. */
static void test_duplicate_flushes_nothing(void **state)
{
        struct fixture *f = *state;
        struct inbox b;
        char t[16];

        for (unsigned i = 0; i < STORE_INBOUND_GROUPS_PER_SENDER; i++) {
                snprintf(t, sizeof(t), "p%u", i);
                assert_int_equal(add(f, "+525577777777", i, 2, 1, t, T0 + i), 0);
        }
        assert_int_equal(add(f, "+525577777777", 0, 2, 1, "p0", T0 + 50), 0);
        inbox_read(f, &b);
        assert_int_equal(b.n, 0);
        assert_int_equal(pending_parts(f), STORE_INBOUND_GROUPS_PER_SENDER);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_missing_runs_marked_once),  T(test_groups_per_sender),
                T(test_bytes_per_sender),          T(test_groups_total),
                T(test_duplicate_flushes_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
