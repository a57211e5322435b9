/* daemon/store: store_part_unknown(), the "maybe sent" outcome reached without a crash: only
 * from "sending", the error kept, never handed out again, and not touched by the settling of
 * a later store_open() (with or without resend_unknown). */
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

#define T0 1790000000

struct fixture {
        char dir[64];
        char path[96];
        struct store *s;
        int64_t modem;
        int64_t part; /* the one part of a queued message */
};

static int first_part(const struct store_part *p, void *userdata)
{
        *(int64_t *)userdata = p->part_id;
        return 1;
}

static int count_part(const struct store_part *p, void *userdata)
{
        (void)p;
        (*(unsigned *)userdata)++;
        return 0;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct store_outgoing_new m = {
                .recipient = "+525512345678",
                .text = "Recordatorio: cita mañana",
                .encoding = STORE_ENC_UCS2,
                .part_count = 1,
        };
        int64_t id;

        if (tmpstore_open("unknown", NULL, f->dir, f->path, &f->s) < 0)
                return -1;
        if (tmpstore_modem(f->s, T0, &f->modem) < 0)
                return -1;
        if (store_queue_message(f->s, &m, T0, &id) < 0)
                return -1;
        if (store_next_parts(f->s, T0, 1, first_part, &f->part) != 1)
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

static void test_unknown_from_sending(void **state)
{
        struct fixture *f = *state;
        struct store_part p;
        struct store_status st;
        unsigned due = 0;

        assert_int_equal(store_part_sending(f->s, f->part, f->modem, T0 + 1), 0);
        assert_int_equal(store_part_unknown(f->s, f->part, "modem reset during send", T0 + 2), 0);
        assert_int_equal(store_part_get(f->s, f->part, &p), 0);
        assert_int_equal(p.state, STORE_PART_UNKNOWN);
        assert_int_equal(p.attempts, 1);
        assert_true(p.modem_id == f->modem);
        /* Not due again, however late it gets. */
        assert_int_equal(store_next_parts(f->s, T0 + 100000, 10, count_part, &due), 0);
        assert_int_equal(due, 0);
        assert_int_equal(store_status_counts(f->s, &st), 0);
        assert_int_equal(st.parts[STORE_PART_UNKNOWN], 1);
        assert_int_equal(st.parts[STORE_PART_SENDING], 0);
}

/* Each row: the state the part is brought to first, and what store_part_unknown() says. */
static void test_unknown_refused(void **state)
{
        struct fixture *f = *state;
        struct store_part p;

        /* queued: nothing was attempted, there is nothing to be unsure about */
        assert_int_equal(store_part_unknown(f->s, f->part, "x", T0), -ESTALE);
        assert_non_null(strstr(store_errmsg(f->s), "is queued"));
        /* sent: already settled; a second answer must not undo it */
        assert_int_equal(store_part_sending(f->s, f->part, f->modem, T0), 0);
        assert_int_equal(store_part_sent(f->s, f->part, 17, T0 + 1), 0);
        assert_int_equal(store_part_unknown(f->s, f->part, "late", T0 + 2), -ESTALE);
        assert_int_equal(store_part_get(f->s, f->part, &p), 0);
        assert_int_equal(p.state, STORE_PART_SENT);
        /* no such part */
        assert_int_equal(store_part_unknown(f->s, 999999, "x", T0), -ENOENT);
        assert_non_null(strstr(store_errmsg(f->s), "no part"));
}

static void test_unknown_twice(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(store_part_sending(f->s, f->part, f->modem, T0), 0);
        assert_int_equal(store_part_unknown(f->s, f->part, NULL, T0 + 1), 0);
        assert_int_equal(store_part_unknown(f->s, f->part, NULL, T0 + 2), -ESTALE);
        assert_non_null(strstr(store_errmsg(f->s), "is unknown"));
        assert_int_equal(store_part_retry(f->s, f->part, T0, "x", T0 + 3), -ESTALE);
}

/* The settling at open only touches "sending": an unknown part stays unknown even when the
 * configuration resends parts interrupted by a crash (that choice is the bank's, per send). */
static void test_unknown_survives_reopen(void **state)
{
        struct fixture *f = *state;
        const struct store_options resend = { .resend_unknown = true };
        char err[STORE_ERRMSG_MAX];
        struct store_part p;

        assert_int_equal(store_part_sending(f->s, f->part, f->modem, T0), 0);
        assert_int_equal(store_part_unknown(f->s, f->part, "no +CMGS", T0 + 1), 0);
        f->s = store_close(f->s);
        assert_int_equal(store_open(f->path, &resend, &f->s, err), 0);
        assert_int_equal(store_settled_at_open(f->s), 0);
        assert_int_equal(store_part_get(f->s, f->part, &p), 0);
        assert_int_equal(p.state, STORE_PART_UNKNOWN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_unknown_from_sending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_twice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_survives_reopen, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
