/* test-store-rules: schema version 3 (from a version 2 database too), the rules runner's
 * state per contact, settled keys (idempotent), the due list, recent sends for the caps, and
 * contacts in bulk (one transaction: all or none). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/store.h"

static char path[64];

static struct store *open_store(unsigned version)
{
        struct store_options o = { .target_version = version };
        struct store *s = NULL;
        char err[STORE_ERRMSG_MAX];

        if (store_open(path, &o, &s, err) < 0)
                fail_msg("store_open: %s", err);
        return s;
}

static int setup(void **state)
{
        int fd;

        (void)state;
        snprintf(path, sizeof(path), "/tmp/test-store-rules-XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
                return -1;
        close(fd);
        unlink(path);
        return 0;
}

static int teardown(void **state)
{
        char p[96];

        (void)state;
        unlink(path);
        snprintf(p, sizeof(p), "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", path);
        unlink(p);
        return 0;
}

static int collect_due(int64_t id, int64_t due, void *userdata)
{
        int64_t *sum = userdata;

        sum[0]++;
        sum[1] += id * 1000 + due;
        return 0;
}

static void test_state_and_keys(void **state)
{
        struct store *s = open_store(2); /* a version 2 database, migrated below */
        struct store_rules_state st;
        int64_t a, b, sum[2] = { 0, 0 }, times[4];
        size_t n = 0;
        unsigned v = 0;
        (void)state;
        assert_int_equal(store_contact_upsert(s, "S1", "+525512345678", "es", "c1", NULL, 100, &a),
                         0);
        store_close(s);
        s = open_store(0);
        assert_int_equal(store_schema_version(s, &v), 0);
        assert_int_equal(v, STORE_SCHEMA_VERSION);
        assert_int_equal(store_contact_upsert(s, "S2", "+525512345679", "es", "c1", NULL, 100, &b),
                         0);
        /* state */
        assert_int_equal(store_rules_state_get(s, a, &st), -ENOENT);
        assert_int_equal(store_rules_state_put(s, a, "{\"track\":0}", 5000, "abc"), 0);
        assert_int_equal(store_rules_state_put(s, a, "{\"track\":1}", 6000, "abd"), 0);
        assert_int_equal(store_rules_state_put(s, b, "{}", 7000, NULL), 0);
        assert_int_equal(store_rules_state_get(s, a, &st), 0);
        assert_string_equal(st.state, "{\"track\":1}");
        assert_int_equal(st.next_due, 6000);
        assert_string_equal(st.rule_set, "abd");
        assert_int_not_equal(store_rules_state_put(s, a, "not json", 1, NULL), 0);
        assert_int_not_equal(store_rules_state_put(s, 999, "{}", 1, NULL), 0); /* no contact */
        assert_int_equal(store_rules_due_list(s, collect_due, sum), 0);
        assert_int_equal(sum[0], 2);
        assert_int_equal(sum[1], a * 1000 + 6000 + b * 1000 + 7000);
        /* touch: due at the latest now, never later than it was */
        assert_int_equal(store_rules_touch(s, a, 5500), 0);
        assert_int_equal(store_rules_state_get(s, a, &st), 0);
        assert_int_equal(st.next_due, 5500);
        assert_int_equal(store_rules_touch(s, a, 9000), 0);
        assert_int_equal(store_rules_state_get(s, a, &st), 0);
        assert_int_equal(st.next_due, 5500);
        sum[0] = sum[1] = 0;
        assert_int_equal(store_rules_due_list(s, collect_due, sum), 0);
        assert_int_equal(sum[1], a * 1000 + 5500 + b * 1000 + 7000);
        /* keys */
        assert_int_equal(store_rules_is_settled(s, a, "semanal#3"), 0);
        assert_int_equal(store_rules_settle(s, a, "semanal#3", 100), 1);
        assert_int_equal(store_rules_settle(s, a, "semanal#3", 200), 0);
        assert_int_equal(store_rules_is_settled(s, a, "semanal#3"), 1);
        assert_int_equal(store_rules_is_settled(s, b, "semanal#3"), 0);
        assert_int_equal(store_rules_settle(s, a, "", 1), -EINVAL);
        /* recent sends */
        for (int i = 0; i < 3; i++) {
                struct store_outgoing_new m = { .recipient = "+525512345678",
                                                .contact_id = a,
                                                .text = "hola",
                                                .encoding = STORE_ENC_GSM7,
                                                .part_count = 1 };
                int64_t id;

                assert_int_equal(store_queue_message(s, &m, 1000 + i * 100, &id), 0);
        }
        assert_int_equal(store_rules_recent_sends(s, a, 1050, times, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(times[0], 1200);
        assert_int_equal(times[1], 1100);
        assert_int_equal(store_rules_recent_sends(s, b, 0, times, 4, &n), 0);
        assert_int_equal(n, 0);
        /* Withdrawn: every still-queued message of the contact, none of another's. */
        {
                struct store_outgoing_new m = { .recipient = "+525512345679",
                                                .contact_id = b,
                                                .text = "hola",
                                                .encoding = STORE_ENC_GSM7,
                                                .part_count = 1 };
                unsigned w = 0;
                int64_t id;

                assert_int_equal(store_queue_message(s, &m, 1500, &id), 0);
                assert_int_equal(store_rules_withdraw_queued(s, a, &w), 0);
                assert_int_equal(w, 3);
                assert_int_equal(store_rules_recent_sends(s, a, 0, times, 4, &n), 0);
                assert_int_equal(n, 0);
                assert_int_equal(store_rules_recent_sends(s, b, 0, times, 4, &n), 0);
                assert_int_equal(n, 1);
        }
        store_close(s);
}

static void test_contacts_import_all_or_none(void **state)
{
        struct store *s = open_store(0);
        const struct store_contact_import good[] = {
                { "S10", "+525500000010", "es", "c1", "{\"edd\":\"2026-05-01\"}" },
                { "S11", "+525500000011", NULL, NULL, NULL },
        };
        const struct store_contact_import bad[] = {
                { "S12", "+525500000012", "es", "c1", NULL },
                { "S13", "+525500000010", "es", "c1", NULL }, /* S10's phone */
        };
        struct store_contact c;
        size_t failed = 99;
        (void)state;
        assert_int_equal(store_contacts_import(s, good, 2, 10, &failed), 0);
        assert_int_equal(store_contact_by_study_id(s, "S10", &c), 0);
        assert_string_equal(c.phone, "+525500000010");
        assert_string_equal(c.fields, "{\"edd\":\"2026-05-01\"}");
        assert_int_equal(store_contacts_import(s, bad, 2, 10, &failed), -EEXIST);
        assert_int_equal(failed, 1);
        assert_int_equal(store_contact_by_study_id(s, "S12", &c), -ENOENT); /* rolled back */
        store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_and_keys),
                cmocka_unit_test(test_contacts_import_all_or_none),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
