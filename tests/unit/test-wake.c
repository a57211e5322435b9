/* Tests for daemon/wake (the wake socket) and the glob half of daemon/hotplug, on a real
 * sd-event loop in a temp directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/hotplug.h"
#include "daemon/wake.h"

#define LOOP_TURNS 20
#define TURN_US    10000

struct fixture {
        char dir[64];
        char sock[128];
        sd_event *event;
        unsigned wakes;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-wake.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(wake_socket_path(f->dir, f->sock, sizeof(f->sock)), 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];
        sd_event_unref(f->event);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void count_wake(void *userdata)
{
        ((struct fixture *)userdata)->wakes++;
}

static void run_loop(struct fixture *f)
{
        for (int i = 0; i < LOOP_TURNS; i++)
                assert_true(sd_event_run(f->event, TURN_US) >= 0);
}

static void test_path(void **state)
{
        char buf[16], big[200];
        assert_int_equal(wake_socket_path("/var/lib/puente", big, sizeof(big)), 0);
        assert_string_equal(big, "/var/lib/puente/" WAKE_SOCKET_NAME);
        assert_int_equal(wake_socket_path("/var/lib/puente", buf, sizeof(buf)), -ENAMETOOLONG);
        /* fits the buffer, not sockaddr_un's 108 bytes */
        char dir[150];
        memset(dir, 'a', sizeof(dir) - 1);
        dir[0] = '/';
        dir[sizeof(dir) - 1] = '\0';
        assert_int_equal(wake_socket_path(dir, big, sizeof(big)), -ENAMETOOLONG);
}

static void test_wake_roundtrip(void **state)
{
        struct fixture *f = *state;
        struct wake *w = NULL;
        struct stat st;

        assert_int_equal(wake_send(f->sock), -ENOENT); /* no daemon: not an error for callers */
        assert_int_equal(wake_open(f->event, f->sock, count_wake, f, &w), 0);
        assert_int_equal(stat(f->sock, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, WAKE_SOCKET_MODE);

        /* a burst of datagrams is one look at the store */
        for (int i = 0; i < 5; i++)
                assert_int_equal(wake_send(f->sock), 0);
        run_loop(f);
        assert_int_equal(f->wakes, 1);
        assert_int_equal(wake_send(f->sock), 0);
        run_loop(f);
        assert_int_equal(f->wakes, 2);

        /* a second daemon must not steal a live socket */
        struct wake *w2 = NULL;
        assert_int_equal(wake_open(f->event, f->sock, count_wake, f, &w2), -EADDRINUSE);
        assert_null(w2);

        assert_null(wake_close(w));
        assert_int_equal(stat(f->sock, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_null(wake_close(NULL));
}

static void test_wake_stale_and_clash(void **state)
{
        struct fixture *f = *state;
        struct wake *w = NULL;

        /* a socket file left by a crashed daemon is replaced */
        assert_int_equal(wake_open(f->event, f->sock, count_wake, f, &w), 0);
        char moved[160];
        snprintf(moved, sizeof(moved), "%s.old", f->sock);
        assert_int_equal(link(f->sock, moved), 0);
        wake_close(w); /* removes f->sock; put the dead socket back under its name */
        assert_int_equal(rename(moved, f->sock), 0);
        assert_int_equal(wake_send(f->sock), -ECONNREFUSED);
        assert_int_equal(wake_open(f->event, f->sock, count_wake, f, &w), 0);
        assert_int_equal(wake_send(f->sock), 0);
        run_loop(f);
        assert_int_equal(f->wakes, 1);
        wake_close(w);

        /* a regular file there is someone else's: refused, left alone */
        FILE *fp = fopen(f->sock, "w");
        assert_non_null(fp);
        fclose(fp);
        assert_int_equal(wake_open(f->event, f->sock, count_wake, f, &w), -EEXIST);
        struct stat st;
        assert_int_equal(stat(f->sock, &st), 0);
        assert_true(S_ISREG(st.st_mode));

        assert_int_equal(wake_open(f->event, "", count_wake, f, &w), -EINVAL);
        assert_int_equal(wake_send(NULL), -EINVAL);
}

struct globbed {
        unsigned n;
        char last[256];
};

static void on_path(const char *path, void *userdata)
{
        struct globbed *g = userdata;
        g->n++;
        snprintf(g->last, sizeof(g->last), "%s", path);
}

static void test_glob(void **state)
{
        struct fixture *f = *state;
        char p[160], pat[160];
        struct globbed g = { 0 };

        static const struct {
                const char *s;
                bool glob;
        } cases[] = {
                { "/dev/serial/by-id/*", true },      { "/dev/ttyUSB?", true },
                { "/dev/ttyUSB[0-3]", true },         { "/dev/ttyUSB0", false },
                { "/dev/serial/by-id/usb-x", false }, { "", false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(hotplug_is_glob(cases[i].s), cases[i].glob);
        assert_false(hotplug_is_glob(NULL));

        snprintf(pat, sizeof(pat), "%s/usb-*-if0?", f->dir);
        assert_int_equal(hotplug_glob(pat, on_path, &g), 0);
        for (int i = 0; i < 3; i++) {
                snprintf(p, sizeof(p), "%s/usb-modem%d-if0%d", f->dir, i, i);
                FILE *fp = fopen(p, "w");
                assert_non_null(fp);
                fclose(fp);
        }
        snprintf(p, sizeof(p), "%s/usb-modem9-if10", f->dir); /* does not match */
        fclose(fopen(p, "w"));
        assert_int_equal(hotplug_glob(pat, on_path, &g), 3);
        assert_int_equal(g.n, 3);
        snprintf(p, sizeof(p), "%s/usb-modem2-if02", f->dir); /* sorted: the last one last */
        assert_string_equal(g.last, p);
}

static void test_hotplug_without_udev(void **state)
{
        struct fixture *f = *state;
        struct hotplug *h = NULL;
        static const struct hotplug_ops ops = { 0 };
        assert_int_equal(hotplug_new(f->event, false, &ops, NULL, &h), 0);
        assert_false(hotplug_monitoring(h));
        run_loop(f);
        assert_null(hotplug_free(h));
        assert_null(hotplug_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path),
                cmocka_unit_test_setup_teardown(test_wake_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wake_stale_and_clash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_glob, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hotplug_without_udev, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
