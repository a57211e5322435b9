/* A preload for the faked-clock tests (daemon-lib.bash fc_env), listed before libfaketime:
 * timerfd_settime() straight to the kernel. libfaketime 0.9.10 (Debian 12) moves every
 * TFD_TIMER_ABSTIME expiry by the faked offset, also on CLOCK_MONOTONIC timers while
 * FAKETIME_DONT_FAKE_MONOTONIC=1 keeps clock_gettime(CLOCK_MONOTONIC) real, so each sd-event
 * timer of a program with a clock set days back would sleep for those days (and one set
 * ahead fails with EINVAL). Our programs arm only monotonic timers, which need no faking.
 * Built by the tests with `cc -shared -fPIC`; not part of any program. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
                    struct itimerspec *old_value)
{
        return (int)syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}
