/* daemon/disk: the full-disk mark in the state directory (made once, its time kept, removed)
 * and the free space of a database's filesystem, for a file that does not exist yet too;
 * bad paths are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include "daemon/disk.h"

static void test_mark(void **state)
{
        (void)state;
        char dir[] = "/tmp/puente-test-disk-XXXXXX", path[128];
        int64_t since = -1;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/%s", dir, DISK_MARK_NAME);
        assert_int_equal(disk_mark_get(dir, &since), 0);
        assert_int_equal(since, -1);                /* untouched when absent */
        assert_int_equal(disk_mark(dir, false), 0); /* nothing to remove: fine */
        assert_int_equal(disk_mark(dir, true), 0);
        struct utimbuf old = { .actime = 1000000000, .modtime = 1000000000 };
        assert_int_equal(utime(path, &old), 0);
        assert_int_equal(disk_mark(dir, true), 0); /* again: the start time is kept */
        assert_int_equal(disk_mark_get(dir, &since), 1);
        assert_int_equal(since, 1000000000);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 0); /* no data block needed on a full disk */
        assert_int_equal(disk_mark(dir, false), 0);
        assert_int_equal(disk_mark_get(dir, NULL), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_bad_paths(void **state)
{
        (void)state;
        static char long_dir[DISK_PATH_MAX + 8];
        uint64_t free_bytes = 7;

        memset(long_dir, 'a', sizeof(long_dir) - 1);
        long_dir[0] = '/';
        assert_int_equal(disk_mark("", true), -EINVAL);
        assert_int_equal(disk_mark(NULL, true), -EINVAL);
        assert_int_equal(disk_mark(long_dir, true), -ENAMETOOLONG);
        assert_int_equal(disk_mark_get(long_dir, NULL), -ENAMETOOLONG);
        assert_int_equal(disk_mark("/nonexistent-puente-dir", true), -ENOENT);
        assert_int_equal(disk_free_bytes("", &free_bytes), -EINVAL);
        assert_int_equal(disk_free_bytes(long_dir, &free_bytes), -EINVAL);
        assert_int_equal(disk_free_bytes("/nonexistent-puente-dir/puente.db", &free_bytes),
                         -ENOENT);
        assert_int_equal(free_bytes, 7);                             /* written only on success */
        assert_false(disk_low("/nonexistent-puente-dir/puente.db")); /* unknown: not full */
}

static void test_free_space(void **state)
{
        (void)state;
        uint64_t a = 0, b = 0;

        /* /tmp has room on any machine that runs the tests */
        assert_int_equal(disk_free_bytes("/tmp", &a), 0);
        assert_true(a >= DISK_FREE_MIN);
        /* a database not made yet: its directory tells */
        assert_int_equal(disk_free_bytes("/tmp/puente-no-such-file.db", &b), 0);
        assert_true(b > 0);
        assert_false(disk_low("/tmp/puente-no-such-file.db"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mark),
                cmocka_unit_test(test_bad_paths),
                cmocka_unit_test(test_free_space),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
