/* daemon/upload-cut: batches cut from a real store into the state directory: full batches
 * only unless partial, positions in the settings, a crash between the file and the setting
 * cut again to the same bytes, the disk budget, the lock, malformed positions, and one
 * pseudonym per contact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/file.h>

#include <cmocka.h>

#include "tests/unit/test-upload-harness.h"

static void init_cutter(struct harness *h, struct upload_cutter *c, unsigned events)
{
        struct upload_config cfg;
        char err[UPLOAD_ERROR_MAX];
        h_config(h, &cfg, NULL);
        cfg.batch_events = events;
        assert_int_equal(upload_cutter_init(c, h->store, &cfg, err), 0);
}

static void test_cut_positions(void **state)
{
        struct harness h;
        struct upload_cutter c;
        struct upload_position pos;
        bool cut;

        assert_int_equal(h_setup(&h, "upload-cut"), 0);
        init_cutter(&h, &c, 100);
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.cut, 0);
        assert_string_equal(pos.hash, BATCH_ZERO_HASH);

        assert_int_equal(h_add_events(&h, 250), 0);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_true(cut);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_true(cut);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_false(cut); /* 50 left: not a full batch */
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.cut, 2);
        assert_int_equal(pos.cut_seq, 200);
        assert_int_equal(upload_cut_one(&c, true, &cut), 0);
        assert_true(cut);
        assert_int_equal(upload_cut_one(&c, true, &cut), 0);
        assert_false(cut); /* nothing left */
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.cut, 3);
        assert_int_equal(pos.cut_seq, 250);

        /* the chain: batch 3's header names batch 2's hash */
        char p2[UPLOAD_NAME_MAX], p3[UPLOAD_NAME_MAX], hash2[BATCH_HASH_HEX + 1];
        uint8_t *raw;
        size_t len;
        assert_int_equal(upload_batch_path(c.dir, 2, p2, sizeof(p2)), 0);
        assert_int_equal(upload_batch_path(c.dir, 3, p3, sizeof(p3)), 0);
        assert_int_equal(upload_read_file(p2, &raw, &len), 0);
        batch_sha256_hex(raw, len, hash2);
        free(raw);
        char *text = NULL;
        assert_int_equal(h_gunzip(p3, &text, &len), 0);
        assert_non_null(strstr(text, hash2));
        /* events without a contact carry no subject; a contact keeps its pseudonym */
        assert_non_null(strstr(text, "\"type\":\"modem.health\",\"data\""));
        free(text);

        /* confirmed batches are pruned, the others kept */
        assert_int_equal(upload_position_set_sent(h.store, 2, 200), 0);
        upload_prune(c.dir, 2);
        assert_int_equal(access(p2, F_OK), -1);
        assert_int_equal(access(p3, F_OK), 0);
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.sent, 2);
        assert_int_equal(pos.sent_seq, 200);
        upload_cutter_done(&c);
        h_cleanup(&h);
}

/* A crash after the batch file is durable but before the setting: the next cut writes the
 * same batch number with the same bytes. */
static void test_recut_after_crash(void **state)
{
        struct harness h;
        struct upload_cutter c;
        char path[UPLOAD_NAME_MAX], setting[160];
        uint8_t *first, *again;
        size_t n1, n2;
        bool cut;

        assert_int_equal(h_setup(&h, "upload-recut"), 0);
        init_cutter(&h, &c, 100);
        assert_int_equal(h_add_events(&h, 100), 0);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_int_equal(upload_batch_path(c.dir, 1, path, sizeof(path)), 0);
        assert_int_equal(upload_read_file(path, &first, &n1), 0);
        /* roll the setting back as if the process died before writing it */
        assert_int_equal(store_setting_set(h.store, UPLOAD_SETTING_CUT, "0 0 " BATCH_ZERO_HASH), 0);
        upload_cutter_done(&c);
        init_cutter(&h, &c, 100); /* the key is read back from its file */
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_true(cut);
        assert_int_equal(upload_read_file(path, &again, &n2), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(first, again, n1);
        free(first);
        free(again);
        assert_int_equal(store_setting_get(h.store, UPLOAD_SETTING_CUT, setting, sizeof(setting)),
                         0);
        assert_true(strncmp(setting, "1 100 ", 6) == 0);
        upload_cutter_done(&c);
        h_cleanup(&h);
}

static void test_budget_lock_and_bad_settings(void **state)
{
        struct harness h;
        struct upload_cutter c;
        struct upload_position pos;
        bool cut;

        assert_int_equal(h_setup(&h, "upload-budget"), 0);
        init_cutter(&h, &c, 100);
        c.disk_budget = 1; /* any batch file waiting fills it */
        assert_int_equal(h_add_events(&h, 300), 0);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_true(cut);
        assert_int_equal(upload_cut_one(&c, false, &cut), -ENOSPC);
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.cut_seq, 100); /* the other events wait in the store */
        c.disk_budget = 0;

        /* another process cutting: not now */
        char lock[UPLOAD_NAME_MAX];
        snprintf(lock, sizeof(lock), "%s/.lock", c.dir);
        int fd = open(lock, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        assert_int_equal(upload_cut_one(&c, false, &cut), -EAGAIN);
        close(fd);
        assert_int_equal(upload_cut_one(&c, false, &cut), 0);
        assert_true(cut);

        static const char *const bad[][2] = {
                { UPLOAD_SETTING_CUT, "garbage" },
                { UPLOAD_SETTING_CUT, "1 100 abc" },
                { UPLOAD_SETTING_SENT, "x" },
                { UPLOAD_SETTING_SENT, "99 100" }, /* sent beyond cut */
                /* a sign, an overflow, a hash too long: refused (sscanf took the first two) */
                { UPLOAD_SETTING_CUT, "-1 100 " BATCH_ZERO_HASH },
                { UPLOAD_SETTING_CUT, "18446744073709551616 100 " BATCH_ZERO_HASH },
                { UPLOAD_SETTING_CUT, "1 100 " BATCH_ZERO_HASH "0" },
                { UPLOAD_SETTING_SENT, "1 99999999999999999999" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char saved[160];
                if (store_setting_get(h.store, bad[i][0], saved, sizeof(saved)) < 0)
                        strcpy(saved, "0 0");
                assert_int_equal(store_setting_set(h.store, bad[i][0], bad[i][1]), 0);
                assert_int_equal(upload_position_read(h.store, &pos), -EBADMSG);
                assert_int_equal(upload_cut_one(&c, true, &cut), -EBADMSG);
                assert_int_equal(store_setting_set(h.store, bad[i][0], saved), 0);
        }
        upload_cutter_done(&c);
        h_cleanup(&h);
}

static void test_bad_device_and_key(void **state)
{
        struct harness h;
        struct upload_cutter c;
        struct upload_config cfg;
        char err[UPLOAD_ERROR_MAX];

        assert_int_equal(h_setup(&h, "upload-baddev"), 0);
        h_config(&h, &cfg, NULL);
        snprintf(cfg.device, sizeof(cfg.device), "clinic 7/box");
        assert_int_equal(upload_cutter_init(&c, h.store, &cfg, err), -EINVAL);
        assert_non_null(strstr(err, "clinic 7/box"));
        h_config(&h, &cfg, NULL);
        snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/www", h.dir); /* a directory */
        assert_true(upload_cutter_init(&c, h.store, &cfg, err) < 0);
        assert_non_null(strstr(err, "pseudonym key"));
        h_cleanup(&h);
}

static void test_heartbeat_text(void **state)
{
        struct upload_status st = { .enabled = true,
                                    .days_since_ok = 4,
                                    .backlog_events = 1234,
                                    .backlog_batches = 3,
                                    .events_total = 56789 };
        char buf[UPLOAD_HEARTBEAT_MAX];

        snprintf(st.device, sizeof(st.device), "clinic-07");
        upload_heartbeat_text(&st, buf);
        assert_string_equal(buf, "PUENTE clinic-07: no upload for 4 d; waiting 1234 events (3 "
                                 "batches) of 56789; disk ok");
        st.disk_near = true;
        snprintf(st.last_error, sizeof(st.last_error),
                 "server certificate not trusted: SSL certificate problem: unable to get local "
                 "issuer certificate [\xc3\xa9]");
        upload_heartbeat_text(&st, buf);
        assert_int_equal(strlen(buf), 160); /* one SMS */
        assert_non_null(strstr(buf, "; disk nearly full; last error: server certificate"));
        for (const char *p = buf; *p; p++)
                assert_true(*p >= 0x20 && *p <= 0x7e && *p != '[');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cut_positions),
                cmocka_unit_test(test_recut_after_crash),
                cmocka_unit_test(test_budget_lock_and_bad_settings),
                cmocka_unit_test(test_bad_device_and_key),
                cmocka_unit_test(test_heartbeat_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
