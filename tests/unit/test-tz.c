/* test-tz: rules/tz against the system's zoneinfo and glibc, gaps and overlaps, dates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rules/tz.h"

static struct rules_tz *load(const char *name)
{
        char path[256];
        static uint8_t buf[RULES_TZ_FILE_MAX];
        struct rules_tz *tz = NULL;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(rules_tz_parse(buf, n, &tz), 0);
        return tz;
}

/* Every 30 minutes from 2020 to 2040 (past the last listed transition of slim files, so
 * the POSIX footer is exercised), our offset equals glibc's. */
static void test_tz_matches_glibc(void **state)
{
        static const char *const zones[] = {
                "America/Mexico_City",
                "America/Tijuana",
                "America/Cancun",
                "America/Hermosillo",
                "America/Chihuahua",
                "America/Ciudad_Juarez",
                "Europe/Madrid",
                "Australia/Sydney",
                "America/Sao_Paulo",
                "Asia/Kolkata",
                "UTC",
        };
        (void)state;
        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
                struct rules_tz *tz = load(zones[z]);

                setenv("TZ", zones[z], 1);
                tzset();
                for (int64_t t = 1577836800; t < 2208988800; t += 1800) {
                        time_t tt = (time_t)t;
                        struct tm tm;

                        localtime_r(&tt, &tm);
                        if (rules_tz_offset(tz, t) != tm.tm_gmtoff)
                                fail_msg("%s at %lld: %d, glibc %ld", zones[z], (long long)t,
                                         rules_tz_offset(tz, t), tm.tm_gmtoff);
                }
                rules_tz_free(tz);
        }
}

static int64_t local_of(int y, unsigned m, unsigned d, int hh, int mm)
{
        return rules_days_from_civil(y, m, d) * RULES_DAY_SECONDS + hh * 3600 + mm * 60;
}

static void test_tz_gap_overlap(void **state)
{
        struct rules_tz *tj = load("America/Tijuana");
        struct rules_tz *mx = load("America/Mexico_City");
        (void)state;

        /* Tijuana 2026-03-08 02:30 does not exist: it lands at 03:30 PDT = 10:30 UTC. */
        assert_int_equal(rules_tz_to_utc(tj, local_of(2026, 3, 8, 2, 30)),
                         local_of(2026, 3, 8, 10, 30));
        /* 2026-11-01 01:30 happens twice: the first, PDT, 08:30 UTC. */
        assert_int_equal(rules_tz_to_utc(tj, local_of(2026, 11, 1, 1, 30)),
                         local_of(2026, 11, 1, 8, 30));
        /* An ordinary winter and summer 09:00. */
        assert_int_equal(rules_tz_to_utc(tj, local_of(2026, 1, 15, 9, 0)),
                         local_of(2026, 1, 15, 17, 0));
        assert_int_equal(rules_tz_to_utc(tj, local_of(2026, 7, 15, 9, 0)),
                         local_of(2026, 7, 15, 16, 0));
        /* Mexico City left daylight saving in 2022: 09:00 is 15:00 UTC all 2026. */
        assert_int_equal(rules_tz_to_utc(mx, local_of(2026, 7, 15, 9, 0)),
                         local_of(2026, 7, 15, 15, 0));
        /* ... but not in 2021. */
        assert_int_equal(rules_tz_to_utc(mx, local_of(2021, 7, 15, 9, 0)),
                         local_of(2021, 7, 15, 14, 0));
        /* Round trip at every half hour of 2026 outside the gap. */
        for (int64_t t = local_of(2026, 1, 1, 0, 0); t < local_of(2027, 1, 1, 0, 0); t += 1800)
                assert_int_equal(rules_tz_to_utc(tj, rules_tz_to_local(tj, t)) <= t, 1);
        rules_tz_free(tj);
        rules_tz_free(mx);
}

static void test_tz_posix_strings(void **state)
{
        static const struct {
                const char *s;
                int ok;
        } cases[] = {
                { "UTC0", 0 },
                { "CST6", 0 },
                { "PST8PDT,M3.2.0,M11.1.0", 0 },
                { "CET-1CEST,M3.5.0,M10.5.0/3", 0 },
                { "<-03>3", 0 },
                { "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 0 },
                { "EST5EDT", 0 },
                { "", -EBADMSG },
                { "CS6", -EBADMSG },
                { "CST", -EBADMSG },
                { "CST6CDT,M13.1.0,M11.1.0", -EBADMSG },
                { "CST6CDT,M3.2.0", -EBADMSG },
                { "CST6 ", -EBADMSG },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct rules_tz *tz = NULL;
                int r = rules_tz_parse_posix(cases[i].s, &tz);

                if (r != cases[i].ok)
                        fail_msg("'%s': %d, expected %d", cases[i].s, r, cases[i].ok);
                rules_tz_free(tz);
        }
        struct rules_tz *tz = NULL;

        assert_int_equal(rules_tz_parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", &tz), 0);
        /* 2026-03-29 01:00 UTC: CEST begins. */
        assert_int_equal(rules_tz_offset(tz, local_of(2026, 3, 29, 0, 59)), 3600);
        assert_int_equal(rules_tz_offset(tz, local_of(2026, 3, 29, 1, 0)), 7200);
        rules_tz_free(tz);
}

static void test_tz_bad_files(void **state)
{
        static const uint8_t junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                      "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        struct rules_tz *tz = NULL;
        (void)state;
        assert_int_equal(rules_tz_parse((const uint8_t *)"hello", 5, &tz), -EBADMSG);
        /* typecnt 0 is invalid (RFC 8536 3.1) */
        assert_int_equal(rules_tz_parse(junk, sizeof(junk) - 1, &tz), -EBADMSG);
        assert_null(tz);
        assert_int_equal(rules_tz_offset(NULL, 12345), 0);
}

static void test_dates(void **state)
{
        static const struct {
                const char *s;
                int y;
                unsigned m, d, wday;
                int ok;
        } cases[] = {
                { "1970-01-01", 1970, 1, 1, 4, 0 },    { "2026-05-01", 2026, 5, 1, 5, 0 },
                { "29/02/2028", 2028, 2, 29, 2, 0 },   { "2026-12-31", 2026, 12, 31, 4, 0 },
                { "2027-01-01", 2027, 1, 1, 5, 0 },    { "1969-12-31", 1969, 12, 31, 3, 0 },
                { "29/02/2026", 0, 0, 0, 0, -EINVAL }, { "2026-13-01", 0, 0, 0, 0, -EINVAL },
                { "2026-1-1", 0, 0, 0, 0, -EINVAL },   { "2100-02-29", 0, 0, 0, 0, -EINVAL },
                { "2000-02-29", 2000, 2, 29, 2, 0 },   { "15/03/2026x", 0, 0, 0, 0, -EINVAL },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t days = 0;
                int r = rules_date_parse(cases[i].s, &days);
                int y;
                unsigned m, d;
                char buf[11];

                assert_int_equal(r, cases[i].ok);
                if (r < 0)
                        continue;
                rules_civil_from_days(days, &y, &m, &d);
                assert_int_equal(y, cases[i].y);
                assert_int_equal(m, cases[i].m);
                assert_int_equal(d, cases[i].d);
                assert_int_equal(rules_weekday(days), cases[i].wday);
                rules_date_format(days, buf);
                assert_int_equal(rules_days_from_civil(y, m, d), days);
                assert_int_equal(strlen(buf), 10);
        }
        /* Every day for 1000 years round-trips. */
        for (int64_t d = -200000; d < 200000; d++) {
                int y;
                unsigned m, dd;

                rules_civil_from_days(d, &y, &m, &dd);
                assert_int_equal(rules_days_from_civil(y, m, dd), d);
        }
        assert_int_equal(rules_floor_div(-1, 86400), -1);
        assert_int_equal(rules_floor_div(86400, 86400), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tz_matches_glibc),
                cmocka_unit_test(test_tz_gap_overlap),
                cmocka_unit_test(test_tz_posix_strings),
                cmocka_unit_test(test_tz_bad_files),
                cmocka_unit_test(test_dates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
