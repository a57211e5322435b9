/* puentectl export --to DIR: batches for a USB stick: every event once, chained, nothing
 * that identifies a person; --mark-sent records them and frees the state directory; a
 * second export has nothing new; usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/ctl-export.h"
#include "tests/unit/test-upload-harness.h"

static int run_export(const char *conf, const char *to, bool mark)
{
        struct ctl_context ctx = { .prog = "puentectl", .config_path = conf };
        char *argv[] = { "export", "--to", (char *)to, mark ? "--mark-sent" : NULL, NULL };
        return ctl_export(&ctx, mark ? 4 : 3, argv);
}

static void test_export(void **state)
{
        struct harness h;
        char conf[H_PATH_MAX], usb[H_PATH_MAX], text[1024];
        struct upload_position pos;

        assert_int_equal(h_setup(&h, "upload-export"), 0);
        assert_int_equal(h_add_events(&h, 2345), 0);
        h_path(&h, conf, "puente.conf");
        h_path(&h, usb, "www/usb");
        snprintf(text, sizeof(text),
                 "database = \"%s\"\nstate_directory = \"%s\"\n"
                 "upload {\n url = \"https://central.invalid/dav\"\n device = \"%s\"\n}\n",
                 h.db, h.dir, H_DEVICE);
        FILE *f = fopen(conf, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);

        assert_int_equal(run_export(conf, usb, false), CTL_EXIT_OK);
        assert_int_equal(h_check_uploaded(&h, "usb", 2345, NULL), 3);
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.cut, 3);
        assert_int_equal(pos.sent, 0); /* a copy is not a delivery */

        /* more events, then export and mark: the new batch joins the chain */
        assert_int_equal(h_add_events(&h, 100), 0);
        assert_int_equal(run_export(conf, usb, true), CTL_EXIT_OK);
        assert_int_equal(h_check_uploaded(&h, "usb", 2445, NULL), 4);
        assert_int_equal(upload_position_read(h.store, &pos), 0);
        assert_int_equal(pos.sent, 4);
        assert_int_equal(pos.sent_seq, 2445);
        char dir[H_PATH_MAX];
        h_path(&h, dir, "upload");
        assert_int_equal(upload_backlog_bytes(dir), 0);
        assert_int_equal(run_export(conf, usb, true), CTL_EXIT_OK); /* nothing new */

        /* usage */
        struct ctl_context ctx = { .prog = "puentectl", .config_path = conf };
        char *no_to[] = { "export", NULL };
        assert_int_equal(ctl_export(&ctx, 1, no_to), CTL_EXIT_USAGE);
        char *extra[] = { "export", "--to", usb, "junk", NULL };
        assert_int_equal(ctl_export(&ctx, 4, extra), CTL_EXIT_USAGE);
        /* an unwritable destination */
        assert_int_equal(h_add_events(&h, 10), 0);
        assert_int_equal(run_export(conf, "/proc/puente-no", false), CTL_EXIT_FAIL);
        h_cleanup(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_export),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
