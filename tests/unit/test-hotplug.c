/* Tests for daemon/hotplug without udev: configured globs (sorted, no match, a glob or not)
 * and the node snapshots that tell a path made again (a pty number handed out again, a
 * by-id link pointing elsewhere, ttyUSB0 recreated) from the same one, on real ptys. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
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

#define FOUND_MAX 8

struct found {
        char path[FOUND_MAX][PATH_MAX];
        int n;
};

static void collect(const char *path, void *userdata)
{
        struct found *f = userdata;
        if (f->n < FOUND_MAX)
                snprintf(f->path[f->n++], PATH_MAX, "%s", path);
}

static char dir[] = "/tmp/test-hotplug.XXXXXX";

static int setup(void **state)
{
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, const char *name)
{
        snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void test_is_glob(void **state)
{
        static const struct {
                const char *s;
                bool glob;
        } cases[] = {
                { "/dev/serial/by-id/*", true },
                { "/dev/ttyUSB?", true },
                { "/dev/ttyUSB[0-3]", true },
                { "/dev/ttyUSB2", false },
                { "", false },
                { NULL, false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (hotplug_is_glob(cases[i].s) != cases[i].glob)
                        fail_msg("'%s': glob %d", cases[i].s ? cases[i].s : "(null)",
                                 cases[i].glob);
}

/* hotplug_glob_matches: a path a configured glob could have found (why a reload that turns
 * autodetect off keeps a modem). */
static void test_glob_matches(void **state)
{
        static const struct {
                const char *pattern, *path;
                bool match;
        } t[] = {
                { "/dev/serial/by-id/*", "/dev/serial/by-id/usb-HUAWEI_E3372_01-if02-port0", true },
                { "/dev/serial/by-id/*", "/dev/ttyUSB2", false },
                { "/dev/serial/by-id/*", "/dev/serial/by-id/sub/x", false },   /* '/' literally */
                { "/dev/serial/by-id/*", "/dev/serial/by-id/.hidden", false }, /* glob() too */
                { "/dev/ttyUSB*", "/dev/ttyUSB10", true },
                { "/dev/ttyUSB[0-3]", "/dev/ttyUSB3", true },
                { "/dev/ttyUSB[0-3]", "/dev/ttyUSB4", false },
                { "/dev/ttyACM?", "/dev/ttyACM1", true },
                { "/dev/ttyACM?", "/dev/ttyACM12", false },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (hotplug_glob_matches(t[i].pattern, t[i].path) != t[i].match)
                        fail_msg("%s against %s: want %s", t[i].pattern, t[i].path,
                                 t[i].match ? "a match" : "no match");
}

static void test_glob(void **state)
{
        char p[PATH_MAX], pattern[PATH_MAX];
        /* by-id names of one modem's interfaces, made in another order than they sort */
        static const char *const names[] = { "usb-X_1-if02-port0", "usb-X_1-if00-port0",
                                             "usb-X_1-if01-port0", "other", "usb-Y_2-if00-port0" };
        for (size_t i = 0; i < 5; i++) {
                path_in(p, names[i]);
                /* the last: a link left behind by a device that is gone */
                assert_int_equal(symlink(i < 4 ? "/dev/null" : "/nonexistent/ttyUSB7", p), 0);
        }
        struct found f = { 0 };
        path_in(pattern, "usb-*");
        assert_int_equal(hotplug_glob(pattern, collect, &f), 3);
        assert_int_equal(f.n, 3);
        for (int i = 0; i < 3; i++) {
                char want[PATH_MAX], name[32];
                snprintf(name, sizeof(name), "usb-X_1-if%02d-port0", i);
                path_in(want, name);
                assert_string_equal(f.path[i], want);
        }
        f.n = 0;
        path_in(pattern, "nothing-*");
        assert_int_equal(hotplug_glob(pattern, collect, &f), 0); /* no match is no error */
        assert_int_equal(f.n, 0);
        for (size_t i = 0; i < 5; i++) {
                path_in(p, names[i]);
                unlink(p);
        }
}

static void open_pty(int *master, int *slave, char *name)
{
        assert_int_equal(openpty(master, slave, name, NULL, NULL), 0);
}

static void test_node_pty_link(void **state)
{
        int m1, s1, m2, s2;
        char pts1[PATH_MAX], pts2[PATH_MAX], link[PATH_MAX], tmp[PATH_MAX];
        struct hotplug_node a, b, c;

        open_pty(&m1, &s1, pts1);
        open_pty(&m2, &s2, pts2);
        path_in(link, "usb-X_1-if00-port0");
        assert_int_equal(symlink(pts1, link), 0);
        assert_int_equal(hotplug_node_get(link, &a), 0);
        assert_true(a.is_link);
        assert_int_equal(hotplug_node_get(link, &b), 0);
        assert_true(hotplug_node_same(&a, &b)); /* nothing happened */

        /* the same name, made again (rename over it) to another pty: a replug */
        path_in(tmp, "tmp-link");
        assert_int_equal(symlink(pts2, tmp), 0);
        assert_int_equal(rename(tmp, link), 0);
        assert_int_equal(hotplug_node_get(link, &c), 0);
        assert_false(hotplug_node_same(&a, &c));

        /* the same name made again to the same pty: the link changed all the same (the new
         * link is made while the old exists, so its inode number differs) */
        assert_int_equal(hotplug_node_get(link, &b), 0);
        assert_int_equal(symlink(pts2, tmp), 0);
        assert_int_equal(rename(tmp, link), 0);
        assert_int_equal(hotplug_node_get(link, &c), 0);
        assert_false(hotplug_node_same(&b, &c));

        /* the node itself, not through a link */
        assert_int_equal(hotplug_node_get(pts1, &a), 0);
        assert_false(a.is_link);
        assert_int_equal(hotplug_node_get(pts1, &b), 0);
        assert_true(hotplug_node_same(&a, &b));
        assert_int_equal(hotplug_node_get(pts2, &c), 0);
        assert_false(hotplug_node_same(&a, &c));

        /* a dangling link (the pty is gone) and a missing path: -ENOENT, ret untouched */
        close(m2);
        close(s2);
        path_in(tmp, "dangling");
        assert_int_equal(symlink("/nonexistent/ttyUSB9", tmp), 0);
        struct hotplug_node keep = a;
        assert_int_equal(hotplug_node_get(tmp, &a), -ENOENT);
        assert_memory_equal(&a, &keep, sizeof(a));
        path_in(tmp, "missing");
        assert_int_equal(hotplug_node_get(tmp, &a), -ENOENT);
        close(m1);
        close(s1);
}

/* A device node made again under the same name (what devtmpfs does with ttyUSB0 after a
 * replug) is another node even with the same major:minor; a regular file stands in. */
static void test_node_recreated(void **state)
{
        char p[PATH_MAX];
        struct hotplug_node a, b;
        path_in(p, "ttyUSB0");
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(hotplug_node_get(p, &a), 0);
        /* keep the old inode alive so the new file cannot reuse its number */
        char held[PATH_MAX];
        path_in(held, "held");
        assert_int_equal(link(p, held), 0);
        assert_int_equal(unlink(p), 0);
        fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(hotplug_node_get(p, &b), 0);
        assert_false(hotplug_node_same(&a, &b));
        unlink(p);
        unlink(held);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_is_glob),        cmocka_unit_test(test_glob),
                cmocka_unit_test(test_glob_matches),   cmocka_unit_test(test_node_pty_link),
                cmocka_unit_test(test_node_recreated),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
