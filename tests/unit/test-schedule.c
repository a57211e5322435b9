/* test-schedule: the next-due index against a plain array model, under random operations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rules/schedule.h"

#define MODEL_IDS 2000

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void test_schedule_basics(void **state)
{
        struct rules_schedule *s = rules_schedule_new();
        int64_t due, id;
        (void)state;
        assert_int_equal(rules_schedule_peek(s, &due, &id), -ENOENT);
        assert_int_equal(rules_schedule_set(s, 7, 100), 0);
        assert_int_equal(rules_schedule_set(s, 3, 50), 0);
        assert_int_equal(rules_schedule_set(s, -9, 50), 0); /* ties go by id */
        assert_int_equal(rules_schedule_pop_due(s, 49, &id, &due), -ENOENT);
        assert_int_equal(rules_schedule_pop_due(s, 50, &id, &due), 0);
        assert_int_equal(id, -9);
        assert_int_equal(rules_schedule_pop_due(s, 50, &id, &due), 0);
        assert_int_equal(id, 3);
        assert_int_equal(rules_schedule_pop_due(s, 50, &id, &due), -ENOENT);
        assert_int_equal(rules_schedule_set(s, 7, 10), 0); /* moved earlier */
        assert_int_equal(rules_schedule_get(s, 7, &due), 0);
        assert_int_equal(due, 10);
        assert_int_equal(rules_schedule_count(s), 1);
        assert_int_equal(rules_schedule_set(s, 7, RULES_SCHEDULE_NEVER), 0);
        assert_int_equal(rules_schedule_count(s), 0);
        assert_int_equal(rules_schedule_remove(s, 7), -ENOENT);
        assert_int_equal(rules_schedule_set(s, INT64_MIN, 1), -EINVAL);
        rules_schedule_free(s);
}

static void test_schedule_random(void **state)
{
        static int64_t model[MODEL_IDS]; /* RULES_SCHEDULE_NEVER = absent */
        struct rules_schedule *s = rules_schedule_new();
        int64_t now = 0;
        (void)state;
        for (size_t i = 0; i < MODEL_IDS; i++)
                model[i] = RULES_SCHEDULE_NEVER;
        for (unsigned step = 0; step < 200000; step++) {
                uint64_t r = next_rand();
                int64_t id = (int64_t)(r % MODEL_IDS) * 7919 - 5000000; /* sparse, negative */
                size_t mi = (size_t)(r % MODEL_IDS);

                switch ((r >> 20) % 4) {
                case 0:
                case 1: {
                        int64_t due = now + (int64_t)((r >> 24) % 5000);

                        assert_int_equal(rules_schedule_set(s, id, due), 0);
                        model[mi] = due;
                        break;
                }
                case 2:
                        assert_int_equal(rules_schedule_remove(s, id),
                                         model[mi] == RULES_SCHEDULE_NEVER ? -ENOENT : 0);
                        model[mi] = RULES_SCHEDULE_NEVER;
                        break;
                default: {
                        int64_t got, due, best = RULES_SCHEDULE_NEVER;

                        now += (int64_t)((r >> 24) % 100);
                        for (size_t i = 0; i < MODEL_IDS; i++)
                                if (model[i] < best)
                                        best = model[i];
                        if (best > now) {
                                assert_int_equal(rules_schedule_pop_due(s, now, &got, &due),
                                                 -ENOENT);
                                break;
                        }
                        assert_int_equal(rules_schedule_pop_due(s, now, &got, &due), 0);
                        assert_int_equal(due, best);
                        /* Equal times: any of them is right; check it is one. */
                        size_t gi = (size_t)((got + 5000000) / 7919);

                        assert_int_equal(model[gi], best);
                        model[gi] = RULES_SCHEDULE_NEVER;
                }
                }
        }
        size_t n = 0;

        for (size_t i = 0; i < MODEL_IDS; i++) {
                int64_t due;

                if (model[i] == RULES_SCHEDULE_NEVER) {
                        assert_int_equal(rules_schedule_get(s, (int64_t)i * 7919 - 5000000, &due),
                                         -ENOENT);
                        continue;
                }
                n++;
                assert_int_equal(rules_schedule_get(s, (int64_t)i * 7919 - 5000000, &due), 0);
                assert_int_equal(due, model[i]);
        }
        assert_int_equal(rules_schedule_count(s), n);
        rules_schedule_free(s);
}

/* 100,000 contacts: pops come out in order and the index stays small. */
static void test_schedule_large(void **state)
{
        struct rules_schedule *s = rules_schedule_new();
        int64_t prev = INT64_MIN, id, due;
        size_t n = 0;
        (void)state;
        for (int64_t i = 1; i <= 100000; i++)
                assert_int_equal(rules_schedule_set(s, i, (int64_t)(next_rand() % 1000000)), 0);
        assert_true(rules_schedule_memory(s) < 8u * 1024 * 1024);
        while (rules_schedule_pop_due(s, INT64_MAX - 1, &id, &due) == 0) {
                assert_true(due >= prev);
                prev = due;
                n++;
        }
        assert_int_equal(n, 100000);
        rules_schedule_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_schedule_basics),
                cmocka_unit_test(test_schedule_random),
                cmocka_unit_test(test_schedule_large),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
