/* puente-sim's pure parts: AT argument splitting and numbers (what hosts type reaches them
 * first), bounded copies, message storage slots and the dialect table. The simulator is a
 * program, not a library, so its pure files are compiled into this test directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tests/sim/args.c"
#include "tests/sim/dialect.c"
#include "tests/sim/store.c"

struct split_case {
        const char *args;
        int max;
        int want; /* count or -EINVAL */
        const char *fields[4];
};

static const struct split_case split_cases[] = {
        { "", 3, 1, { "" } },
        { "0", 3, 1, { "0" } },
        { "\"SM\",\"SM\",\"SM\"", 3, 3, { "SM", "SM", "SM" } },
        { "2,1,,0", 5, 4, { "2", "1", "", "0" } },
        { " \"+52 55\" , 145", 2, 2, { "+52 55", "145" } },
        { "\"a,b\",c", 2, 2, { "a,b", "c" } }, /* a comma inside quotes is text */
        { "1,2,3", 2, -EINVAL, { NULL } },     /* more fields than the command takes */
        { "\"open", 2, -EINVAL, { NULL } },    /* unbalanced quote */
};

static void test_split(void **state)
{
        for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
                const struct split_case *c = &split_cases[i];
                char f[SIM_ARGS_MAX][128];
                int n = sim_args_split(c->args, f, c->max);
                if (n != c->want)
                        fail_msg("case %zu '%s': %d fields, want %d", i, c->args, n, c->want);
                for (int k = 0; k < n; k++)
                        assert_string_equal(f[k], c->fields[k]);
        }
}

static void test_split_field_too_long(void **state)
{
        char arg[300], f[2][128];
        memset(arg, 'x', sizeof(arg) - 1);
        arg[sizeof(arg) - 1] = '\0';
        assert_int_equal(sim_args_split(arg, f, 2), -EINVAL);
        arg[127] = '\0'; /* 127 characters and the NUL fit */
        assert_int_equal(sim_args_split(arg, f, 2), 1);
}

static void test_int(void **state)
{
        static const struct {
                const char *s;
                int lo, hi, ret, value;
        } cases[] = {
                { "0", 0, 2, 0, 0 },       { "2", 0, 2, 0, 2 },
                { "3", 0, 2, -EINVAL, 0 }, { "-1", 0, 2, -EINVAL, 0 },
                { "", 0, 2, -EINVAL, 0 },  { "1x", 0, 9, -EINVAL, 0 },
                { "164", 7, 164, 0, 164 }, { "99999999999999999999", 0, 9, -EINVAL, 0 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int v = -42;
                int r = sim_args_int(cases[i].s, cases[i].lo, cases[i].hi, &v);
                if (r != cases[i].ret)
                        fail_msg("'%s' in %d..%d: %d", cases[i].s, cases[i].lo, cases[i].hi, r);
                assert_int_equal(v, r == 0 ? cases[i].value : -42); /* untouched on error */
        }
}

static void test_copies(void **state)
{
        char small[5] = "????";
        assert_int_equal(sim_strcpy(small, sizeof(small), "12345"), -ENAMETOOLONG);
        assert_string_equal(small, "????"); /* whole or not at all */
        assert_int_equal(sim_strcpy(small, sizeof(small), "1234"), 0);
        assert_string_equal(small, "1234");
        sim_strlcpy(small, sizeof(small), "abcdefgh");
        assert_string_equal(small, "abcd");
}

static void test_store(void **state)
{
        static struct sim_store st = { .name = "SM", .size = 3 };
        uint8_t pdu[4] = { 0, 1, 2, 3 };
        assert_int_equal(sim_store_used(&st), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(sim_store_put(&st, pdu, sizeof(pdu), 3, STAT_REC_UNREAD, false),
                                 i);
        assert_true(sim_store_full(&st));
        assert_int_equal(sim_store_put(&st, pdu, sizeof(pdu), 3, STAT_REC_UNREAD, false), -ENOSPC);
        st.slots[1].used = false; /* AT+CMGD frees the middle slot: it is reused first */
        assert_false(sim_store_full(&st));
        assert_int_equal(sim_store_put(&st, pdu, sizeof(pdu), 3, STAT_STO_UNSENT, false), 1);
        assert_int_equal(st.slots[1].stat, STAT_STO_UNSENT);
        st.slots[0].used = false;
        st.full_fault = true; /* the "full" fault wins over free slots */
        assert_true(sim_store_full(&st));
        assert_int_equal(sim_store_put(&st, pdu, sizeof(pdu), 3, STAT_REC_UNREAD, false), -ENOSPC);
        assert_int_equal(sim_store_put(&st, pdu, SMS_PDU_MAX + 1, 3, STAT_REC_UNREAD, false),
                         -ENOSPC);
}

static void test_dialects(void **state)
{
        static const char *const names[] = { "standard", "huawei", "simcom", "me-only", "nospace" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const struct sim_dialect *d = sim_dialect_find(names[i]);
                assert_non_null(d);
                assert_ptr_equal(d, sim_dialect_at(i));
                /* every dialect accepts the CNMI a host needs: 2,1,0,0,0 and 2,2,0,2,0 */
                assert_true(d->cnmi_allowed[0] & (1u << 2));
                assert_true(d->cnmi_allowed[1] & ((1u << 1) | (1u << 2)));
                assert_true(d->cnmi_allowed[3] & (1u << 2));
        }
        assert_null(sim_dialect_find("nokia"));
        assert_null(sim_dialect_at(sizeof(names) / sizeof(names[0])));
        assert_true(sim_dialect_find("huawei")->flags & SIM_DF_INDEX0);
        assert_int_equal(sim_dialect_find("simcom")->cmgf_default, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split), cmocka_unit_test(test_split_field_too_long),
                cmocka_unit_test(test_int),   cmocka_unit_test(test_copies),
                cmocka_unit_test(test_store), cmocka_unit_test(test_dialects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
