/* daemon/bank: the batch hooks the daemon joins status reports to (docs/bank.md "Commits").
 * Over a real store file with a fake modem: what in_batch() writes is inside the step's
 * commit (invisible to a second connection until then, visible when committed() runs),
 * committed() comes before the step's next part reaches the modem, a plain kick with nothing
 * to do opens no batch and calls neither hook, and bank_sending() says whether a result (and
 * with it a commit) is still to come. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at/pdu.h"
#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/store.h"
#include "tests/unit/test-store-fixture.h"

#define T0    1790000000
#define DAY0  20260927
#define MONO0 5000000
#define TO    "+525512345678"
#define CALLS 16

enum call { CALL_IN_BATCH, CALL_COMMITTED, CALL_ROLLED_BACK, CALL_SEND };

struct fixture {
        char dir[64];
        char path[96];
        struct store *s;
        struct store *reader; /* a second connection: sees committed rows only */
        struct config *c;
        struct bank *b;
        struct bank_time now;
        int64_t modem_id;
        uint64_t cookie; /* of the latest send */
        enum call calls[CALLS];
        unsigned n_calls;
        /* in_batch() matches this report (mr of a sent part) when report_mr >= 0 */
        int report_mr;
        int64_t report_part;
        /* what the reader saw of the report's part in each hook */
        enum store_part_state seen_in_batch, seen_committed;
};

static void called(struct fixture *f, enum call c)
{
        assert_true(f->n_calls < CALLS);
        f->calls[f->n_calls++] = c;
}

static enum store_part_state reader_state(struct fixture *f, int64_t part_id)
{
        struct store_part p;

        assert_int_equal(store_part_get(f->reader, part_id, &p), 0);
        return p.state;
}

static int fake_send(void *ctx, const char *pdu_hex, size_t tpdu_len, bool more, uint64_t cookie)
{
        struct fixture *f = ctx;

        called(f, CALL_SEND);
        f->cookie = cookie;
        return 0;
}

static const struct bank_modem_ops fake_ops = { .send = fake_send };

static void in_batch(void *userdata)
{
        struct fixture *f = userdata;
        int64_t part = 0;

        called(f, CALL_IN_BATCH);
        if (f->report_mr < 0)
                return;
        assert_int_equal(store_report_match(f->s, f->modem_id, (unsigned)f->report_mr, TO, 0,
                                            f->now.wall, &part),
                         0);
        assert_int_equal(part, f->report_part);
        f->seen_in_batch = reader_state(f, part);
}

static void committed(void *userdata, bool durable)
{
        struct fixture *f = userdata;

        called(f, durable ? CALL_COMMITTED : CALL_ROLLED_BACK);
        if (f->report_mr >= 0)
                f->seen_committed = reader_state(f, f->report_part);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char err[STORE_ERRMSG_MAX];

        if (!f || tmpstore_open("bankhooks", NULL, f->dir, f->path, &f->s) < 0 ||
            store_open(f->path, &(struct store_options){ .leave_sending = true }, &f->reader, err) <
                    0)
                return -1;
        f->c = calloc(1, sizeof(*f->c));
        config_defaults(f->c);
        if (store_modem_upsert(f->s, &(struct store_modem_identity){ .imei = "861234567890120" },
                               "/dev/ttyUSB0", T0, &f->modem_id) < 0 ||
            bank_new(f->s, f->c, &f->b) < 0)
                return -1;
        f->now = (struct bank_time){ .mono_ms = MONO0, .wall = T0, .day = DAY0 };
        f->report_mr = -1;
        bank_set_batch_hooks(f->b, &(struct bank_batch_hooks){
                                           .in_batch = in_batch,
                                           .committed = committed,
                                           .userdata = f,
                                   });
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        bank_free(f->b);
        store_close(f->reader);
        store_close(f->s);
        free(f->c);
        tmpstore_remove(f->dir, f->path);
        free(f);
        return 0;
}

static void queue(struct fixture *f, const char *text)
{
        struct sms_part parts[STORE_PARTS_MAX];
        char hex[STORE_PDU_HEX_MAX];
        const char *hexes[1] = { hex };
        struct sms_submit_opts o = { .status_report = true, .msg_class = -1 };
        struct sms_text_info info;
        int n = sms_submit_encode(text, TO, &o, parts, STORE_PARTS_MAX, &info);
        int64_t id;

        assert_int_equal(n, 1);
        sms_hex_encode(parts[0].pdu, parts[0].len, hex);
        struct store_outgoing_new m = {
                .recipient = TO,
                .text = text,
                .encoding = STORE_ENC_GSM7,
                .part_count = 1,
                .pdus = hexes,
        };
        assert_int_equal(store_queue_message(f->s, &m, f->now.wall, &id), 0);
}

/* The part the modem holds now ("sending", through the writer: it is committed). */
static int sending_part(const struct store_part *p, void *userdata)
{
        if (p->state == STORE_PART_SENDING)
                *(int64_t *)userdata = p->part_id;
        return 0;
}

static int64_t current_part(struct fixture *f)
{
        int64_t id = 0;

        assert_true(store_outbox_list(f->s, 100, sending_part, &id) >= 0);
        assert_true(id > 0);
        return id;
}

static void answer_sent(struct fixture *f, unsigned mr)
{
        const struct bank_result r = { .outcome = BANK_OUTCOME_SENT, .mr = mr, .cms = -1 };

        assert_int_equal(bank_send_done(f->b, f->cookie, &r, &f->now), 0);
}

static void test_report_joins_the_next_commit(void **state)
{
        struct fixture *f = *state;

        queue(f, "primero");
        queue(f, "segundo");
        assert_int_equal(bank_modem_add(f->b, f->modem_id, &fake_ops, f, 0, 0), 0);
        assert_int_equal(bank_modem_ready(f->b, f, true), 0);
        assert_false(bank_sending(f->b));

        /* The first kick: one batch, hooks around it, then the part reaches the modem. */
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        assert_int_equal(f->n_calls, 3);
        assert_int_equal(f->calls[0], CALL_IN_BATCH);
        assert_int_equal(f->calls[1], CALL_COMMITTED);
        assert_int_equal(f->calls[2], CALL_SEND);
        assert_true(bank_sending(f->b)); /* its result, and a commit, are to come */

        int64_t first = current_part(f);
        answer_sent(f, 7); /* "sent" with mr 7 and the second part's "sending": one commit */
        assert_int_equal(f->n_calls, 6);
        assert_int_equal(f->calls[5], CALL_SEND);
        assert_int_equal(reader_state(f, first), STORE_PART_SENT);

        /* The first part's report arrives while the second is in flight: matched in the
         * second's commit, invisible to others until that commit, durable before the
         * committed() hook and before anything more reaches the modem. */
        f->report_mr = 7;
        f->report_part = first;
        f->n_calls = 0;
        answer_sent(f, 8);
        assert_int_equal(f->n_calls, 2); /* nothing left to send */
        assert_int_equal(f->calls[0], CALL_IN_BATCH);
        assert_int_equal(f->calls[1], CALL_COMMITTED);
        assert_int_equal(f->seen_in_batch, STORE_PART_SENT);
        assert_int_equal(f->seen_committed, STORE_PART_DELIVERED);
        assert_false(bank_sending(f->b));
}

static void test_idle_kick_calls_no_hook(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(bank_modem_add(f->b, f->modem_id, &fake_ops, f, 0, 0), 0);
        assert_int_equal(bank_modem_ready(f->b, f, true), 0);
        queue(f, "uno");
        assert_int_equal(bank_kick(f->b, &f->now), 1);
        f->n_calls = 0;
        /* The only modem is busy: the kick returns before opening a batch. */
        assert_int_equal(bank_kick(f->b, &f->now), 0);
        assert_int_equal(f->n_calls, 0);
        /* Hooks removed: a step calls nothing. */
        bank_set_batch_hooks(f->b, NULL);
        answer_sent(f, 3);
        assert_int_equal(f->n_calls, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_report_joins_the_next_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_kick_calls_no_hook, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
