/* test-rules-runner-clock: the rules runner's timer under a clock that jumps. How long it
 * sleeps (never past the cap, so a jump is seen within it), how a jump is measured against
 * the monotonic clock, and, on a real loop and store, that the timer is a monotonic one and
 * that a jump is stored as a rules.clock_jumped event with its size. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <systemd/sd-event.h>

#include "daemon/rules-runner-internal.h"
#include "daemon/store.h"
#include "tests/unit/test-runner-fixture.h"

#define S 1000000LL /* microseconds per second */

static void test_sleep_table(void **state)
{
        static const struct {
                int64_t now_us, due, want_us;
                const char *what;
        } cases[] = {
                { 1000 * S, 1000, 0, "due this second: at once" },
                { 1000 * S + S / 2, 1000, 0, "due half a second ago" },
                { 1000 * S, 1, 0, "due long ago (1: the kick's 'at once')" },
                { 1000 * S + S / 2, 1001, S / 2, "due in half a second: exactly then" },
                { 1000 * S, 1030, 30 * S, "due in 30 s: exactly then" },
                { 1000 * S, 1000 + RULES_RUNNER_TIMER_CAP_S, RULES_RUNNER_TIMER_CAP_S * S,
                  "due at the cap" },
                { 1000 * S, 1000 + RULES_RUNNER_TIMER_CAP_S + 1, RULES_RUNNER_TIMER_CAP_S * S,
                  "due one second past the cap: the cap" },
                { 1000 * S, 1000 + 86400 * 7, RULES_RUNNER_TIMER_CAP_S * S,
                  "due next week: the cap (a jump forward is seen within it)" },
                { 1000 * S, INT64_MAX, RULES_RUNNER_TIMER_CAP_S * S, "nothing due: the cap" },
                { 1000 * S, INT64_MAX / 1000, RULES_RUNNER_TIMER_CAP_S * S,
                  "due past what microseconds hold: the cap, no overflow" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t got = rules_runner_sleep_us(cases[i].now_us, cases[i].due);

                if (got != cases[i].want_us)
                        fail_msg("%s: slept %lld us, want %lld", cases[i].what, (long long)got,
                                 (long long)cases[i].want_us);
        }
}

static void test_jump_table(void **state)
{
        static const struct {
                int64_t wall0, wall1;
                uint64_t mono0, mono1;
                int64_t want;
                const char *what;
        } cases[] = {
                { 1000 * S, 1060 * S, 5 * S, 65 * S, 0, "both moved 60 s: no jump" },
                { 1000 * S, 1060 * S + S / 3, 5 * S, 65 * S, 0, "a third of a second: noise" },
                { 1000 * S, 1060 * S - S / 3, 5 * S, 65 * S, 0, "a third of a second back" },
                { 1000 * S, 1061 * S - 1, 5 * S, 65 * S, 1, "a microsecond short of 1 s: 1 s" },
                { 1000 * S, 1000 * S + 3 * 3600 * S, 5 * S, 6 * S, 3 * 3600 - 1,
                  "three hours forward in one second" },
                { 1000 * S + 3 * 3600 * S, 1000 * S, 5 * S, 5 * S, -3 * 3600,
                  "three hours back while the loop slept not at all" },
                { 1000 * S, 1000 * S, 5 * S, 65 * S, -60,
                  "the wall clock stood still for a minute (stopped, then stepped back)" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t got = rules_runner_clock_jump_s(cases[i].wall0, cases[i].mono0,
                                                        cases[i].wall1, cases[i].mono1);

                if (got != cases[i].want)
                        fail_msg("%s: jump %lld s, want %lld", cases[i].what, (long long)got,
                                 (long long)cases[i].want);
        }
}

/* ---- on a loop and a store ---- */

static int setup(void **state)
{
        (void)state;
        return runner_setup("runner-clock");
}

static int teardown(void **state)
{
        (void)state;
        return runner_teardown();
}

struct jumps {
        unsigned n;
        long long seconds;
};

static int jumps_cb(const struct store_event_row *ev, void *userdata)
{
        struct jumps *j = userdata;

        if (strcmp(ev->type, "rules.clock_jumped") == 0) {
                j->n++;
                assert_int_equal(sscanf(ev->json, "{\"seconds\":%lld", &j->seconds), 1);
        }
        return 0;
}

static struct jumps count_jumps(struct store *s)
{
        struct jumps j = { 0 };

        assert_true(store_events_after(s, 0, 1000, jumps_cb, &j) >= 0);
        return j;
}

static void test_timer_on_loop(void **state)
{
        struct store *s = NULL;
        char err[STORE_ERRMSG_MAX];
        struct rules_runner *r = NULL;
        sd_event *ev = NULL;
        clockid_t clock;
        struct timespec ts;
        uint64_t at, now;
        struct jumps j;

        (void)state;
        assert_int_equal(store_open(db, NULL, &s, err), 0);
        assert_int_equal(sd_event_new(&ev), 0);
        assert_int_equal(rules_runner_new(ev, s, NULL,
                                          &(struct rules_runner_opts){ .rules_dir = rules,
                                                                       .secret_file = secret },
                                          &r),
                         0);
        assert_non_null(r->set);
        assert_non_null(r->timer);
        /* A monotonic timer: a stepped wall clock does not move it. */
        assert_int_equal(sd_event_source_get_time_clock(r->timer, &clock), 0);
        assert_int_equal(clock, CLOCK_MONOTONIC);
        /* No contact: it still looks again within the cap. */
        assert_int_equal(rules_runner_kick(r), 0);
        assert_int_equal(sd_event_run(ev, 0), 1); /* the kick's "at once" */
        assert_int_equal(sd_event_source_get_time(r->timer, &at), 0);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec / 1000;
        assert_true(at > now);
        assert_true(at - now <= (uint64_t)RULES_RUNNER_TIMER_CAP_S * S);
        assert_true(at - now > (uint64_t)RULES_RUNNER_TIMER_CAP_S * S / 2); /* a loaded box */
        assert_int_equal(count_jumps(s).n, 0);

        /* The wall clock seen at the last look pretends to be three hours ahead of now: the
         * clock went back three hours since. The next look stores the jump, once. */
        r->clock_wall_us += 3 * 3600 * S;
        assert_int_equal(rules_runner_kick(r), 0);
        j = count_jumps(s);
        assert_int_equal(j.n, 1);
        assert_true(j.seconds >= -3 * 3600 - 2 && j.seconds <= -3 * 3600 + 2);
        assert_int_equal(rules_runner_kick(r), 0);
        assert_int_equal(count_jumps(s).n, 1);

        /* Less than RULES_RUNNER_JUMP_S is not a jump (NTP slewing, a slow loop). */
        r->clock_wall_us -= (RULES_RUNNER_JUMP_S - 2) * S;
        assert_int_equal(rules_runner_kick(r), 0);
        assert_int_equal(count_jumps(s).n, 1);
        /* Forward by a day. */
        r->clock_wall_us -= 86400 * S;
        assert_int_equal(rules_runner_kick(r), 0);
        j = count_jumps(s);
        assert_int_equal(j.n, 2);
        assert_true(j.seconds >= 86400 - 2 && j.seconds <= 86400 + 2);

        rules_runner_free(r);
        sd_event_unref(ev);
        store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sleep_table),
                cmocka_unit_test(test_jump_table),
                cmocka_unit_test_setup_teardown(test_timer_on_loop, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
