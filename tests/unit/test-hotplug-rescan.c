/* Tests for daemon/hotplug's enumerations on a real sd-event loop and this machine's /sys:
 * one at start, then one every hotplug_set_rescan() interval (so that a udev event lost is
 * made up), one on request (a reload), requests coalesced, none without watch_udev, none
 * once the interval is 0; the monitor runs exactly when udev says it runs. The udev side
 * itself (a lost "add", an overflowed socket, udev starting late) is tested in
 * tests/integration/hotplug-lost.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/hotplug.h"

#define KINDS 6 /* enum hotplug_found */

struct seen {
        unsigned by_why[KINDS];
        unsigned enumerations, added;
};

static void on_enumerating(enum hotplug_found why, void *userdata)
{
        struct seen *s = userdata;
        assert_true((unsigned)why < KINDS);
        s->by_why[why]++;
        s->enumerations++;
}

static void on_added(const struct hotplug_port *p, void *userdata)
{
        struct seen *s = userdata;
        assert_true(p->usb || p->vendor == 0); /* only ttys with a USB parent come */
        assert_int_not_equal(p->found, HOTPLUG_FOUND_EVENT);
        s->added++;
}

static const struct hotplug_ops ops = {
        .added = on_added,
        .enumerating = on_enumerating,
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop for ms milliseconds. */
static void run_for(sd_event *e, uint64_t ms)
{
        uint64_t end = now_ms() + ms;
        for (uint64_t t = now_ms(); t < end; t = now_ms())
                assert_true(sd_event_run(e, (end - t) * 1000) >= 0);
}

static int setup(void **state)
{
        sd_event *e = NULL;
        if (sd_event_new(&e) < 0)
                return -1;
        *state = e;
        return 0;
}

static int teardown(void **state)
{
        sd_event_unref(*state);
        return 0;
}

static void test_start_then_every_interval(void **state)
{
        sd_event *e = *state;
        struct seen s = { 0 };
        struct hotplug *h = NULL;
        struct hotplug_stats st;

        assert_int_equal(hotplug_new(e, true, &ops, &s, &h), 0);
        assert_int_equal(s.enumerations, 0); /* never from inside hotplug_new() */
        /* the monitor runs exactly where udev does (sd-device would join no group) */
        assert_int_equal(hotplug_monitoring(h), access(HOTPLUG_UDEV_CONTROL, F_OK) == 0);
        assert_int_equal(sd_event_run(e, 0), 1);
        assert_int_equal(s.by_why[HOTPLUG_FOUND_START], 1);
        assert_int_equal(s.enumerations, 1);

        /* no rescan before it is asked for */
        run_for(e, 60);
        assert_int_equal(s.enumerations, 1);

        assert_int_equal(hotplug_set_rescan(h, 20), 0);
        uint64_t t0 = now_ms();
        /* waits for 3 (a loaded machine may stall the loop), 2 s at most */
        while (s.by_why[HOTPLUG_FOUND_RESCAN] < 3 && now_ms() < t0 + 2000)
                assert_true(sd_event_run(e, 100000) >= 0);
        uint64_t spent = now_ms() - t0;
        assert_int_equal(s.by_why[HOTPLUG_FOUND_RESCAN], 3);
        assert_true(spent >= 3 * 20); /* never sooner than the interval */
        hotplug_get_stats(h, &st);
        assert_int_equal(st.enumerations, s.enumerations);
        assert_int_equal(st.lost, 0);
        assert_true(st.last_cpu_ns <= st.max_cpu_ns);
        assert_true(st.last_usb <= st.last_ttys);
        assert_int_equal(s.added, st.last_usb * st.enumerations); /* the same ttys each time */

        /* interval 0: no more */
        assert_int_equal(hotplug_set_rescan(h, 0), 0);
        unsigned before = s.enumerations;
        run_for(e, 100);
        assert_int_equal(s.enumerations, before);
        assert_null(hotplug_free(h));
}

static void test_request_coalesced(void **state)
{
        sd_event *e = *state;
        struct seen s = { 0 };
        struct hotplug *h = NULL;

        assert_int_equal(hotplug_new(e, true, &ops, &s, &h), 0);
        run_for(e, 20);
        assert_int_equal(s.enumerations, 1);
        assert_int_equal(hotplug_rescan(h), 0);
        assert_int_equal(hotplug_rescan(h), 0); /* already due: one enumeration */
        run_for(e, 20);
        assert_int_equal(s.by_why[HOTPLUG_FOUND_RELOAD], 1);
        assert_int_equal(s.enumerations, 2);
        assert_null(hotplug_free(h));
}

static void test_without_watch(void **state)
{
        sd_event *e = *state;
        struct seen s = { 0 };
        struct hotplug *h = NULL;

        assert_int_equal(hotplug_new(e, false, &ops, &s, &h), 0);
        assert_false(hotplug_monitoring(h));
        assert_int_equal(hotplug_set_rescan(h, 10), 0);
        assert_int_equal(hotplug_rescan(h), 0);
        run_for(e, 80);
        assert_int_equal(s.enumerations, 0);
        assert_int_equal(s.added, 0);
        assert_null(hotplug_free(h));
        assert_null(hotplug_free(NULL));
        assert_int_equal(hotplug_set_rescan(NULL, 10), 0);
        assert_int_equal(hotplug_rescan(NULL), 0);
}

/* The log says how a port was found: each reason its own words. */
static void test_found_names(void **state)
{
        for (int i = 0; i < KINDS; i++) {
                const char *a = hotplug_found_name((enum hotplug_found)i);
                assert_string_not_equal(a, "?");
                for (int k = 0; k < i; k++)
                        assert_string_not_equal(a, hotplug_found_name((enum hotplug_found)k));
        }
        assert_string_equal(hotplug_found_name(HOTPLUG_FOUND_EVENT), "udev");
        assert_string_equal(hotplug_found_name(HOTPLUG_FOUND_LOST),
                            "rescan after lost udev events");
        assert_string_equal(hotplug_found_name((enum hotplug_found)KINDS), "?");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_then_every_interval, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_coalesced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_without_watch, setup, teardown),
                cmocka_unit_test(test_found_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
