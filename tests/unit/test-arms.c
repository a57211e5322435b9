/* test-arms: keyed-hash assignment (deterministic, verifiable with the openssl CLI, balanced
 * within 1 % over 100,000 contacts, stratified, weighted) and the sealed list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/arms.h"

static const uint8_t key[] = "0123456789abcdef"; /* 16 bytes, the minimum */
#define KEY_LEN 16

static struct rules_arm arms2[] = { { .name = "treatment", .weight = 1 },
                                    { .name = "control", .weight = 1 } };
static struct rules_arm arms3[] = { { .name = "treatment", .weight = 2 },
                                    { .name = "active", .weight = 1 },
                                    { .name = "control", .weight = 1 } };
static const int strata[] = { RULES_F_CLINIC, RULES_F_LANGUAGE };

static struct rules_set make_set(struct rules_arm *arms, size_t n)
{
        struct rules_set set = { 0 };

        set.trial.present = true;
        set.trial.name = "prospera";
        set.trial.arms = arms;
        set.trial.n_arms = n;
        set.trial.strata = strata;
        set.trial.n_strata = 2;
        return set;
}

/* What `printf 'puente-arm-v1\0prospera\0c1/es\0S000001' | openssl dgst -sha256 -mac HMAC
 * -macopt key:0123456789abcdef` prints starts with bd1e985babbbb6c0. */
static void test_arms_verifiable(void **state)
{
        double u = 0;
        (void)state;
        assert_int_equal(rules_arms_draw(key, KEY_LEN, "prospera", "c1/es", "S000001", &u), 0);
        assert_true(u == (double)(0xbd1e985babbbb6c0ULL >> 11) * 0x1.0p-53);
}

static void test_arms_bad_input(void **state)
{
        struct rules_set set = make_set(arms2, 2), none = { 0 };
        char longid[RULES_ARMS_UNIT_MAX + 1];
        int arm = -7;
        (void)state;
        memset(longid, 'x', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        assert_int_equal(rules_arms_assign(&set, key, KEY_LEN - 1, "", "S1", &arm), -EINVAL);
        assert_int_equal(rules_arms_assign(&set, key, KEY_LEN, "", "", &arm), -EINVAL);
        assert_int_equal(rules_arms_assign(&set, key, KEY_LEN, "", longid, &arm), -EINVAL);
        assert_int_equal(rules_arms_assign(&none, key, KEY_LEN, "", "S1", &arm), -EINVAL);
        assert_int_equal(arm, -7);
}

/* Counts per arm per stratum over n contacts, strata cycling through 4 clinics x 2 langs. */
static void check_balance(struct rules_set *set, unsigned n, const uint8_t *k)
{
        static const char *const clinics[] = { "c1", "c2", "c3", "c4" };
        static const char *const langs[] = { "es", "nah" };
        unsigned count[8][RULES_ARMS_MAX] = { { 0 } }, total[8] = { 0 },
                 all[RULES_ARMS_MAX] = { 0 };
        double wsum = 0;

        for (size_t a = 0; a < set->trial.n_arms; a++)
                wsum += set->trial.arms[a].weight;
        for (unsigned i = 0; i < n; i++) {
                const char *values[RULES_FIELD_CUSTOM] = { 0 };
                char stratum[RULES_ARMS_STRATUM_MAX], id[32];
                unsigned s = i % 8;
                int arm, again;

                values[RULES_F_CLINIC] = clinics[s / 2];
                values[RULES_F_LANGUAGE] = langs[s % 2];
                assert_int_equal(rules_arms_stratum(set, values, stratum, sizeof(stratum)), 0);
                snprintf(id, sizeof(id), "S%07u", i);
                assert_int_equal(rules_arms_assign(set, k, KEY_LEN, stratum, id, &arm), 0);
                assert_int_equal(rules_arms_assign(set, k, KEY_LEN, stratum, id, &again), 0);
                assert_int_equal(arm, again); /* deterministic */
                count[s][arm]++;
                total[s]++;
                all[arm]++;
        }
        for (size_t a = 0; a < set->trial.n_arms; a++) {
                double want = set->trial.arms[a].weight / wsum;
                double share = (double)all[a] / n;

                if (share < want - 0.01 || share > want + 0.01)
                        fail_msg("arm %s: %.4f of all, want %.4f +- 0.01", set->trial.arms[a].name,
                                 share, want);
                for (unsigned s = 0; s < 8; s++) {
                        share = (double)count[s][a] / total[s];
                        /* 12,500 per stratum: 1 point is about 2.2 standard deviations at
                         * 50 %; 1.5 points keeps the test about noise, not luck. */
                        if (share < want - 0.015 || share > want + 0.015)
                                fail_msg("arm %s stratum %u: %.4f, want %.4f",
                                         set->trial.arms[a].name, s, share, want);
                }
        }
}

static void test_arms_balanced(void **state)
{
        struct rules_set set2 = make_set(arms2, 2), set3 = make_set(arms3, 3);
        (void)state;
        check_balance(&set2, 100000, key);
        check_balance(&set3, 100000, (const uint8_t *)"another secret key!");
}

static void test_arms_secret_matters(void **state)
{
        struct rules_set set = make_set(arms2, 2);
        unsigned differ = 0;
        (void)state;
        for (unsigned i = 0; i < 1000; i++) {
                char id[16];
                int a, b;

                snprintf(id, sizeof(id), "S%u", i);
                assert_int_equal(rules_arms_assign(&set, key, KEY_LEN, "x", id, &a), 0);
                assert_int_equal(rules_arms_assign(&set, (const uint8_t *)"fedcba9876543210",
                                                   KEY_LEN, "x", id, &b),
                                 0);
                differ += a != b;
        }
        /* Independent draws: about half differ. */
        assert_in_range(differ, 400, 600);
}

static void test_arms_stratum(void **state)
{
        struct rules_set set = make_set(arms2, 2);
        const char *values[RULES_FIELD_CUSTOM] = { 0 };
        char buf[16], tiny[4];
        (void)state;
        values[RULES_F_CLINIC] = "c1";
        assert_int_equal(rules_arms_stratum(&set, values, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "c1/-");
        values[RULES_F_LANGUAGE] = "es";
        assert_int_equal(rules_arms_stratum(&set, values, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "c1/es");
        assert_int_equal(rules_arms_stratum(&set, values, tiny, sizeof(tiny)), -ENOBUFS);
}

static void test_arms_sealed(void **state)
{
        static const struct {
                const char *text;
                int ret;
                unsigned line;
        } cases[] = {
                { "study_id,arm\nS1,treatment\nS2, control\r\n\nS3,control\n", 0, 0 },
                { "S1,treatment\nS2 control\n", -EBADMSG, 2 },
                { "S1,treatment\nS2,placebo\n", -EBADMSG, 2 },
                { "S1,treatment\n,control\n", -EBADMSG, 2 },
                { "S1,treatment\nS2,control\nS1,control\n", -EBADMSG, 3 },
                { "", 0, 0 },
        };
        struct rules_set set = make_set(arms2, 2);
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct rules_sealed *sl = NULL;
                unsigned line = 0;
                int r = rules_arms_sealed_parse(&set, cases[i].text, strlen(cases[i].text), &sl,
                                                &line);

                if (r != cases[i].ret || line != cases[i].line)
                        fail_msg("case %zu: %d line %u", i, r, line);
                if (i == 0) {
                        assert_int_equal(rules_arms_sealed_lookup(sl, "S1"), 0);
                        assert_int_equal(rules_arms_sealed_lookup(sl, "S2"), 1);
                        assert_int_equal(rules_arms_sealed_lookup(sl, "S3"), 1);
                        assert_int_equal(rules_arms_sealed_lookup(sl, "S4"), -ENOENT);
                        assert_int_equal(rules_arms_sealed_lookup(sl, "study_id"), -ENOENT);
                }
                rules_arms_sealed_free(sl);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_arms_verifiable), cmocka_unit_test(test_arms_bad_input),
                cmocka_unit_test(test_arms_balanced),   cmocka_unit_test(test_arms_secret_matters),
                cmocka_unit_test(test_arms_stratum),    cmocka_unit_test(test_arms_sealed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
