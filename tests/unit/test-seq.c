/* Tests for at/seq: skip, fail, fall-back chains, quirk conditions, built commands, re-runs
 * with and without delay, the re-run cap, abort, a handler that starts another run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at/seq.h"

struct h {
        struct at_chat *chat;
        struct at_seq seq;
        uint64_t now;
        unsigned quirks;
        const char *const *answers; /* one per command written, in order; NULL: silence */
        size_t n_answers, next;
        char written[1024];
        int done_calls, done_r;
        size_t done_step;
        int again_left;
        bool abort_in_handler;
};

static void feed(struct h *h, const char *s)
{
        assert_int_equal(at_chat_feed(h->chat, (const uint8_t *)s, strlen(s), h->now), 0);
}

/* Writes out what the chat wrote and answers each command line from the list. */
static void pump(struct h *h)
{
        for (int guard = 0; guard < 1000; guard++) {
                const uint8_t *buf;
                size_t n = at_chat_output(h->chat, &buf);
                if (n == 0)
                        return;
                char line[300];
                assert_true(n < sizeof(line));
                memcpy(line, buf, n);
                line[n] = '\0';
                at_chat_output_done(h->chat, n);
                char *cr = strchr(line, '\r');
                if (cr)
                        *cr = '\0';
                strncat(h->written, line, sizeof(h->written) - strlen(h->written) - 2);
                strcat(h->written, ";");
                assert_true(h->next < h->n_answers);
                const char *a = h->answers[h->next++];
                if (a)
                        feed(h, a);
        }
        fail_msg("runaway");
}

static void done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res)
{
        struct h *h = ctx;
        (void)s;
        (void)res;
        h->done_calls++;
        h->done_r = r;
        h->done_step = step;
}

static void setup(struct h *h, const char *const *answers, size_t n)
{
        memset(h, 0, sizeof(*h));
        struct at_chat_config cc = { 0 };
        assert_int_equal(at_chat_new(&cc, &h->chat), 0);
        at_seq_init(&h->seq, h->chat, &h->now, &h->quirks, h, done);
        h->answers = answers;
        h->n_answers = n;
}

static void teardown_h(struct h *h)
{
        at_chat_free(h->chat);
}

static int h_again(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct h *h = ctx;
        (void)r;
        if (h->abort_in_handler) {
                at_seq_abort(s);
                return 0;
        }
        if (h->again_left-- > 0) {
                at_seq_delay(s, 1000);
                return -EAGAIN;
        }
        return 0;
}

static int h_always_again(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        (void)ctx;
        (void)r;
        return -EAGAIN;
}

static int b_skip(void *ctx, char *buf, size_t size)
{
        (void)ctx;
        (void)buf;
        (void)size;
        return -ENODATA;
}

static int b_text(void *ctx, char *buf, size_t size)
{
        (void)ctx;
        snprintf(buf, size, "AT+BUILT=%d", 7);
        return 0;
}

#define Q1 1u
#define Q2 2u

/* One table row: steps, answers in order, quirks, then what must have been written and how
 * the run ended. */
struct row {
        const char *name;
        const struct at_seq_step *steps;
        size_t n;
        const char *answers[12];
        unsigned quirks;
        const char *written;
        int r;
        size_t step; /* when r < 0 */
};

static const struct at_seq_step s_skip[] = {
        { .cmd = "AT+A", .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+B" },
};
static const struct at_seq_step s_fail[] = {
        { .cmd = "AT+A" },
        { .cmd = "AT+B" },
};
static const struct at_seq_step s_chain[] = {
        { .cmd = "AT+A", .on_error = AT_SEQ_NEXT },
        { .cmd = "AT+A2", .on_error = AT_SEQ_NEXT, .alt = true },
        { .cmd = "AT+A3", .alt = true },
        { .cmd = "AT+B" },
};
static const struct at_seq_step s_quirks[] = {
        { .cmd = "AT+NEED1", .need = Q1 },
        { .cmd = "AT+UNLESS1", .unless = Q1 },
        { .cmd = "AT+NEED12", .need = Q1 | Q2 },
        { .cmd = "AT+END" },
};
static const struct at_seq_step s_quirk_chain[] = {
        /* a chain whose middle alternative does not apply: the chain goes on past it */
        { .cmd = "AT+A", .on_error = AT_SEQ_NEXT },
        { .cmd = "AT+A2", .on_error = AT_SEQ_NEXT, .alt = true, .need = Q2 },
        { .cmd = "AT+A3", .alt = true },
};
static const struct at_seq_step s_build[] = {
        { .build = b_skip },
        { .build = b_text },
        { .cmd = NULL },
};
static const struct at_seq_step s_cap[] = {
        { .cmd = "AT+X", .handler = h_always_again },
};

#define ROW(steps) steps, sizeof(steps) / sizeof(steps[0])

static const struct row rows[] = {
        { "skip", ROW(s_skip), { "\r\nERROR\r\n", "\r\nOK\r\n" }, 0, "AT+A;AT+B;", 0, 0 },
        { "fail", ROW(s_fail), { "\r\n+CME ERROR: 3\r\n" }, 0, "AT+A;", -EIO, 0 },
        { "chain first ok", ROW(s_chain), { "\r\nOK\r\n", "\r\nOK\r\n" }, 0, "AT+A;AT+B;", 0, 0 },
        { "chain second ok",
          ROW(s_chain),
          { "\r\nERROR\r\n", "\r\nOK\r\n", "\r\nOK\r\n" },
          0,
          "AT+A;AT+A2;AT+B;",
          0,
          0 },
        { "chain all fail",
          ROW(s_chain),
          { "\r\nERROR\r\n", "\r\nERROR\r\n", "\r\nERROR\r\n" },
          0,
          "AT+A;AT+A2;AT+A3;",
          -EIO,
          2 },
        { "quirks none",
          ROW(s_quirks),
          { "\r\nOK\r\n", "\r\nOK\r\n" },
          0,
          "AT+UNLESS1;AT+END;",
          0,
          0 },
        { "quirks Q1",
          ROW(s_quirks),
          { "\r\nOK\r\n", "\r\nOK\r\n" },
          Q1,
          "AT+NEED1;AT+END;",
          0,
          0 },
        { "quirks Q1|Q2",
          ROW(s_quirks),
          { "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n" },
          Q1 | Q2,
          "AT+NEED1;AT+NEED12;AT+END;",
          0,
          0 },
        { "chain skips an alternative",
          ROW(s_quirk_chain),
          { "\r\nERROR\r\n", "\r\nOK\r\n" },
          0,
          "AT+A;AT+A3;",
          0,
          0 },
        { "built and skipped", ROW(s_build), { "\r\nOK\r\n" }, 0, "AT+BUILT=7;", 0, 0 },
        { "re-run cap",
          ROW(s_cap),
          { "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n",
            "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n" },
          0,
          NULL,
          -ETIMEDOUT,
          0 },
};

static void test_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                const struct row *w = &rows[i];
                struct h h;
                /* the re-run cap needs AT_SEQ_AGAIN_MAX + 1 answers: recycle the list */
                static const char *many[AT_SEQ_AGAIN_MAX + 1];
                for (size_t k = 0; k <= AT_SEQ_AGAIN_MAX; k++)
                        many[k] = "\r\nOK\r\n";
                bool cap = w->steps == s_cap;
                setup(&h, cap ? many : w->answers, cap ? AT_SEQ_AGAIN_MAX + 1 : 12);
                h.quirks = w->quirks;
                assert_int_equal(at_seq_run(&h.seq, w->steps, w->n), 0);
                pump(&h);
                if (h.done_calls != 1 || h.done_r != w->r ||
                    (w->written && strcmp(h.written, w->written) != 0) ||
                    (w->r < 0 && h.done_step != w->step))
                        fail_msg("%s: done %d r=%d step=%zu wrote %s", w->name, h.done_calls,
                                 h.done_r, h.done_step, h.written);
                if (cap)
                        assert_int_equal(h.next, AT_SEQ_AGAIN_MAX + 1);
                assert_false(at_seq_running(&h.seq));
                teardown_h(&h);
        }
}

/* A handler asking for a re-run after a delay: nothing is written before the deadline. */
static void test_delay(void **state)
{
        (void)state;
        static const struct at_seq_step steps[] = {
                { .cmd = "AT+D", .handler = h_again },
                { .cmd = "AT+E" },
        };
        static const char *const answers[] = { "\r\nOK\r\n", "\r\nOK\r\n", "\r\nOK\r\n",
                                               "\r\nOK\r\n" };
        struct h h;
        setup(&h, answers, 4);
        h.again_left = 2;
        assert_int_equal(at_seq_run(&h.seq, steps, 2), 0);
        pump(&h);
        assert_string_equal(h.written, "AT+D;");
        assert_int_equal(at_seq_next_deadline(&h.seq), h.now + 1000);
        h.now += 999;
        at_seq_tick(&h.seq);
        pump(&h);
        assert_string_equal(h.written, "AT+D;");
        h.now += 1;
        at_seq_tick(&h.seq);
        pump(&h);
        assert_string_equal(h.written, "AT+D;AT+D;");
        h.now += 1000;
        at_seq_tick(&h.seq);
        pump(&h);
        assert_string_equal(h.written, "AT+D;AT+D;AT+D;AT+E;");
        assert_int_equal(h.done_calls, 1);
        assert_int_equal(h.done_r, 0);
        assert_int_equal(at_seq_next_deadline(&h.seq), UINT64_MAX);
        teardown_h(&h);
}

/* wait_ms holds a step back: a late second answer to the step before is stray, not its. */
static void test_wait(void **state)
{
        (void)state;
        static const struct at_seq_step steps[] = {
                { .cmd = "AT+A" },
                { .cmd = "AT+B", .wait_ms = 500 },
        };
        static const char *const answers[] = { "\r\nOK\r\nOK\r\n", "\r\nERROR\r\n" };
        struct h h;
        setup(&h, answers, 2);
        assert_int_equal(at_seq_run(&h.seq, steps, 2), 0);
        pump(&h);
        assert_string_equal(h.written, "AT+A;");
        assert_int_equal(at_seq_next_deadline(&h.seq), h.now + 500);
        h.now += 500;
        at_seq_tick(&h.seq);
        pump(&h);
        assert_string_equal(h.written, "AT+A;AT+B;");
        assert_int_equal(h.done_calls, 1);
        assert_int_equal(h.done_r, -EIO); /* AT+B got its own ERROR, not the stray OK */
        teardown_h(&h);
}

/* After abort the answer of the command in flight is ignored and done() never runs. */
static void test_abort(void **state)
{
        (void)state;
        static const struct at_seq_step steps[] = {
                { .cmd = "AT+A" },
                { .cmd = "AT+B" },
        };
        static const char *const answers[] = { NULL, NULL };
        struct h h;
        setup(&h, answers, 2);
        assert_int_equal(at_seq_run(&h.seq, steps, 2), 0);
        pump(&h);
        at_seq_abort(&h.seq);
        feed(&h, "\r\nOK\r\n");
        pump(&h);
        assert_string_equal(h.written, "AT+A;");
        assert_int_equal(h.done_calls, 0);
        /* abort from a handler stops likewise */
        static const struct at_seq_step steps2[] = {
                { .cmd = "AT+C", .handler = h_again },
                { .cmd = "AT+D" },
        };
        static const char *const answers2[] = { "\r\nOK\r\n" };
        h.answers = answers2;
        h.n_answers = 1;
        h.next = 0;
        h.written[0] = '\0';
        h.abort_in_handler = true;
        assert_int_equal(at_seq_run(&h.seq, steps2, 2), 0);
        pump(&h);
        assert_string_equal(h.written, "AT+C;");
        assert_int_equal(h.done_calls, 0);
        assert_false(at_seq_running(&h.seq));
        teardown_h(&h);
}

/* A time-out ends the run with -ETIMEDOUT even on a step marked AT_SEQ_SKIP. */
static void test_timeout(void **state)
{
        (void)state;
        static const struct at_seq_step steps[] = {
                { .cmd = "AT+T", .timeout_ms = 300, .on_error = AT_SEQ_SKIP },
                { .cmd = "AT+U" },
        };
        static const char *const answers[] = { NULL };
        struct h h;
        setup(&h, answers, 1);
        assert_int_equal(at_seq_run(&h.seq, steps, 2), 0);
        pump(&h);
        h.now += 300;
        at_chat_tick(h.chat, h.now);
        assert_int_equal(h.done_calls, 1);
        assert_int_equal(h.done_r, -ETIMEDOUT);
        assert_int_equal(h.done_step, 0);
        assert_string_equal(h.written, "AT+T;");
        teardown_h(&h);
}

static void test_arguments(void **state)
{
        (void)state;
        struct h h;
        setup(&h, NULL, 0);
        assert_int_equal(at_seq_run(&h.seq, NULL, 1), -EINVAL);
        assert_int_equal(at_seq_run(NULL, NULL, 0), -EINVAL);
        static const struct at_seq_step steps[] = { { .cmd = "AT" } };
        assert_int_equal(at_seq_run(&h.seq, steps, 0), -EINVAL);
        /* a command the chat refuses ends the run with its error */
        static const struct at_seq_step bad[] = { { .cmd = "AT\r\nX" } };
        assert_int_equal(at_seq_run(&h.seq, bad, 1), 0);
        assert_int_equal(h.done_calls, 1);
        assert_int_equal(h.done_r, -EINVAL);
        teardown_h(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),   cmocka_unit_test(test_delay),
                cmocka_unit_test(test_wait),    cmocka_unit_test(test_abort),
                cmocka_unit_test(test_timeout), cmocka_unit_test(test_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
