/* test-engine: reminders on a fake clock: weekly series, arms, catch-up, windows, weekdays,
 * slots, quiet hours, caps, downtime and grace, daylight saving and year ends, idempotent
 * keys and date changes, tracks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test-engine-fixture.h"

static struct rules_drive *enrol(struct fx *x, int arm, int64_t at)
{
        struct rules_drive *d = NULL;

        assert_int_equal(rules_drive_new(&x->env, x->values, arm, at, &d), 0);
        return d;
}

/* Treatment: week 10 to 40 of pregnancy at 09:00 Mexico City; weeks 8 and 9 were before
 * enrolment (catch_up skip); the Monday-only series moves to Mondays. */
static void test_weekly_treatment(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        const struct fx_event *e;
        (void)state;
        x->values[RULES_F_EDD] = "2026-08-01"; /* day zero 2025-10-25 */
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 9, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), 31);
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0);
        assert_string_equal(e->a.key, "semanal#2");
        assert_string_equal(e->text, "Hola Ana, semana 10. ¡Tú puedes!");
        assert_int_equal(e->a.at, fx_local(x->tz[0], 2026, 1, 3, 9, 0));
        assert_int_equal(e->now, e->a.at);
        assert_int_equal(e->a.late_seconds, 0);
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 30);
        assert_string_equal(e->text, "Hola Ana, semana 40. ¡Tú puedes!");
        assert_int_equal(e->a.at, fx_local(x->tz[0], 2026, 8, 1, 9, 0));
        /* Every send at 09:00 local exactly, a week apart. */
        for (size_t i = 0; i < 31; i++) {
                e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, i);
                assert_int_equal(rules_floor_div(rules_tz_to_local(x->tz[0], e->a.at), 60) % 1440,
                                 9 * 60);
        }
        e = fx_find(x, RULES_ACT_SUPPRESSED, FX_R_WEEKLY, 0);
        assert_int_equal(e->a.reason, RULES_SUPPRESS_BEFORE_ENROLMENT);
        assert_string_equal(e->a.key, "semanal#0");
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_WEEKLY), 2);
        /* Mondays: weeks 10, 11, 12 fall on Saturdays; sent the Monday after. */
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_MOTIV), 3);
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_MOTIV, 0);
        assert_int_equal(e->a.at, fx_local(x->tz[0], 2026, 1, 5, 9, 0));
        /* The pregnancy track ends at day 294 and the baby track begins. */
        e = fx_find(x, RULES_ACT_TRACK_SWITCH, -1, 0);
        assert_non_null(e);
        assert_int_equal(e->a.track_from, FX_T_PREG);
        assert_int_equal(e->a.track_to, FX_T_BABY);
        assert_int_equal(e->now, fx_local(x->tz[0], 2026, 8, 15, 0, 0));
        rules_drive_free(d);
        fx_free(x);
}

/* Control: the active-control variant, the motivational series and quiz omitted by design. */
static void test_weekly_control(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        const struct fx_event *e;
        (void)state;
        x->values[RULES_F_EDD] = "2026-08-01";
        d = enrol(x, 1, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 9, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), 31);
        assert_string_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0)->text,
                            "Semana 10 de embarazo.");
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_MOTIV), 0);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV), 3);
        e = fx_find(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV, 0);
        assert_int_equal(e->a.reason, RULES_SUPPRESS_NOT_FOR_ARM);
        e = fx_find(x, RULES_ACT_SUPPRESSED, FX_R_QUIZ, 0);
        assert_non_null(e);
        assert_int_equal(e->a.reason, RULES_SUPPRESS_NOT_FOR_ARM);
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_STARTED, -1), 0);
        rules_drive_free(d);
        fx_free(x);
}

static void run_catch_up(enum rules_catch_up mode, size_t sent, size_t skipped)
{
        struct fx *x = fx_new();
        struct rules_drive *d;

        x->reminders[FX_R_WEEKLY].catch_up = mode;
        x->values[RULES_F_EDD] = "2026-08-01";
        /* Enrolled late, 2026-01-20 at 15:00 (week 12, day 87): weeks 8 to 12 are past. */
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 20, 15, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 23, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), sent);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_WEEKLY), skipped);
        if (sent) {
                const struct fx_event *e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0);

                /* 15:00 is past the day's grace: the next window, 09:00 the day after. */
                assert_int_equal(e->now, fx_local(x->tz[0], 2026, 1, 21, 9, 0));
        }
        rules_drive_free(d);
        fx_free(x);
}

static void test_catch_up(void **state)
{
        (void)state;
        run_catch_up(RULES_CATCH_UP_SKIP, 0, 5);
        run_catch_up(RULES_CATCH_UP_LATEST, 1, 4);
        run_catch_up(RULES_CATCH_UP_ALL, 5, 0);
}

/* {week} is the week the occurrence is for, not the week it goes out in: weeks 8 to 12
 * caught up on 2026-01-21 (catch_up all) say 8 to 12, week 13 on Saturday; enrolled Friday
 * 2026-01-23 at 20:00, week 12 (latest) goes out on Saturday beside week 13 and still says 12. */
static void test_catch_up_week(void **state)
{
        static const struct {
                enum rules_catch_up mode;
                unsigned d, hh;
                const char *want[8];
        } cases[] = {
                { RULES_CATCH_UP_ALL,
                  20,
                  15,
                  { "semana 8.", "semana 9.", "semana 10.", "semana 11.", "semana 12.",
                    "semana 13.", NULL } },
                { RULES_CATCH_UP_LATEST, 23, 20, { "semana 12.", "semana 13.", NULL } },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct fx *x = fx_new();
                struct rules_drive *d;
                size_t n = 0;

                x->reminders[FX_R_WEEKLY].catch_up = cases[i].mode;
                x->values[RULES_F_EDD] = "2026-08-01";
                d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, cases[i].d, (int)cases[i].hh, 0));
                assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 25, 0, 0), NULL, 0,
                                            fx_record, x) > 0);
                for (; cases[i].want[n]; n++) {
                        const struct fx_event *e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, n);

                        assert_non_null(e);
                        if (!strstr(e->text, cases[i].want[n]))
                                fail_msg("case %zu, message %zu: '%s', expected '%s'", i, n,
                                         e->text, cases[i].want[n]);
                }
                assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), n);
                rules_drive_free(d);
                fx_free(x);
        }
}

/* {day} (it never rendered: every text using it was suppressed no_text) counts days like
 * {week} counts weeks, to the occurrence's own day: weeks 8 to 12 caught up together say
 * 56 to 84. */
static void test_day_placeholder(void **state)
{
        static const char *const want[] = { "8/56", "9/63", "10/70", "11/77", "12/84" };
        struct fx *x = fx_new();
        struct rules_drive *d;
        (void)state;
        x->reminders[FX_R_WEEKLY].catch_up = RULES_CATCH_UP_ALL;
        x->reminders[FX_R_WEEKLY].text = T1("{week}/{day}");
        x->values[RULES_F_EDD] = "2026-08-01";
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 20, 15, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 22, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), 5);
        for (size_t i = 0; i < 5; i++)
                assert_string_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, i)->text, want[i]);
        rules_drive_free(d);
        fx_free(x);
}

/* "arm is control": the arm is the contact's assigned one (state.arm) even though puented
 * stores no "arm" field (the condition never held there, while rules simulate, given
 * arm=control, had the field and sent the reminder). */
static void test_arm_condition(void **state)
{
        static const struct rules_condition is_control[] = {
                { .field = RULES_F_ARM, .op = RULES_COND_IS, .value = "control" },
        };
        (void)state;
        for (int arm = 0; arm < 2; arm++) {
                struct fx *x = fx_new();
                struct rules_drive *d;
                const struct fx_event *e;

                x->reminders[FX_R_APPT].conditions = is_control;
                x->reminders[FX_R_APPT].n_conditions = 1;
                x->values[RULES_F_EDD] = "2026-08-01";
                x->values[RULES_F_APPOINTMENT] = "2026-02-10";
                x->values[RULES_F_ARM] = NULL; /* as puented loads a contact */
                d = enrol(x, arm, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
                assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 2, 11, 0, 0), NULL, 0,
                                            fx_record, x) > 0);
                assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_APPT), arm == 1);
                if (arm == 0) {
                        e = fx_find(x, RULES_ACT_SUPPRESSED, FX_R_APPT, 0);
                        assert_non_null(e);
                        assert_int_equal(e->a.reason, RULES_SUPPRESS_CONDITION);
                }
                rules_drive_free(d);
                fx_free(x);
        }
}

static int64_t local_minute(const struct rules_tz *tz, int64_t utc)
{
        return rules_floor_div(rules_tz_to_local(tz, utc), 60) % 1440;
}

/* Tijuana follows US daylight saving: 09:00 local is 17:00 UTC in winter, 16:00 in summer;
 * the weekly message stays at 09:00 local across 2026-03-08 and 2026-11-01. */
static void test_dst(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        int64_t prev = 0;
        size_t n, shorter = 0, longer = 0;
        (void)state;
        x->values[RULES_F_CLINIC] = "c2";
        x->values[RULES_F_EDD] = "2026-12-01";   /* weeks 8..40: 2026-04-07 .. 2026-11-17 */
        x->reminders[FX_R_WEEKLY].from_days = 0; /* from 2026-02-24, across March */
        x->tracks[FX_T_PREG].end_day = 400;
        d = enrol(x, 0, fx_local(x->tz[1], 2026, 2, 1, 8, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[1], 2026, 12, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        n = fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY);
        assert_int_equal(n, 40); /* 2026-02-24 .. 2026-11-24; Dec 1 is past the run */
        for (size_t i = 0; i < n; i++) {
                const struct fx_event *e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, i);

                assert_int_equal(local_minute(x->tz[1], e->a.at), 9 * 60);
                if (i > 0) {
                        shorter += e->a.at - prev == 7 * 86400 - 3600;
                        longer += e->a.at - prev == 7 * 86400 + 3600;
                }
                prev = e->a.at;
        }
        assert_int_equal(shorter, 1); /* the week of 2026-03-08 */
        assert_int_equal(longer, 1);  /* the week of 2026-11-01 */
        assert_int_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0)->a.at,
                         fx_local(x->tz[1], 2026, 2, 24, 9, 0));
        assert_int_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0)->a.at,
                         rules_days_from_civil(2026, 2, 24) * 86400 + 17 * 3600);
        assert_int_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 20)->a.at,
                         rules_days_from_civil(2026, 7, 14) * 86400 + 16 * 3600);
        rules_drive_free(d);
        fx_free(x);
}

/* A series across the new year: every week exactly 7 days apart, dates in order. */
static void test_year_end(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        size_t n;
        bool crossed = false;
        (void)state;
        x->values[RULES_F_EDD] = "2027-03-01"; /* day zero 2026-05-25 */
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 7, 1, 12, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2027, 4, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        n = fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY);
        assert_int_equal(n, 33); /* weeks 8 to 40 */
        for (size_t i = 1; i < n; i++) {
                const struct fx_event *a = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, i - 1);
                const struct fx_event *b = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, i);
                int ya, yb;
                unsigned m, dd;

                assert_int_equal(b->a.at - a->a.at, 7 * 86400);
                rules_civil_from_days(rules_floor_div(a->a.at, 86400), &ya, &m, &dd);
                rules_civil_from_days(rules_floor_div(b->a.at, 86400), &yb, &m, &dd);
                crossed |= ya == 2026 && yb == 2027;
        }
        assert_true(crossed);
        assert_string_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 32)->text,
                            "Hola Ana, semana 40. ¡Tú puedes!");
        rules_drive_free(d);
        fx_free(x);
}

/* The slot the participant chose replaces the window; quiet hours push an opening later. */
static void test_slot_and_quiet(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        (void)state;
        x->values[RULES_F_EDD] = "2026-08-01";
        x->values[FX_F_SLOT] = "tarde";
        x->reminders[FX_R_MOTIV].window_start = 6 * 60; /* inside quiet hours until 08:00 */
        x->reminders[FX_R_MOTIV].window_end = 9 * 60;
        x->reminders[FX_R_MOTIV].slot_field = RULES_NONE;
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 2, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(
                local_minute(x->tz[0], fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0)->a.at),
                17 * 60);
        assert_int_equal(
                local_minute(x->tz[0], fx_find(x, RULES_ACT_REMINDER, FX_R_MOTIV, 0)->a.at),
                8 * 60);
        rules_drive_free(d);
        fx_free(x);

        /* A window wholly inside quiet hours: every occurrence suppressed as such. */
        x = fx_new();
        x->values[RULES_F_EDD] = "2026-08-01";
        x->reminders[FX_R_MOTIV].window_start = 22 * 60;
        x->reminders[FX_R_MOTIV].window_end = 23 * 60;
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 2, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_MOTIV), 0);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV), 3);
        assert_int_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV, 0)->a.reason,
                         RULES_SUPPRESS_QUIET);
        rules_drive_free(d);
        fx_free(x);
}

/* At most one message a day: the appointment reminder on a Saturday with the weekly one
 * goes unsent and the log says why; at most 2 a week likewise. */
static void test_caps(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        (void)state;
        x->set.settings.max_per_day = 1;
        x->values[RULES_F_EDD] = "2026-08-01";
        x->values[RULES_F_APPOINTMENT] = "2026-01-20"; /* -3 days: Saturday 17th, 10:00 */
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 25, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_APPT), 0);
        assert_int_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_APPT, 0)->a.reason,
                         RULES_SUPPRESS_CAP_DAY);
        assert_string_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_APPT, 0)->a.key,
                            "cita@2026-01-20#0");
        rules_drive_free(d);
        fx_free(x);

        x = fx_new();
        x->set.settings.max_per_week = 2;
        x->values[RULES_F_EDD] = "2026-08-01";
        x->values[RULES_F_APPOINTMENT] = "2026-01-20";
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 25, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        /* Jan 10 weekly, Jan 12 Monday series, Jan 17 weekly (2 in 7 days: Jan 12, 17) ->
         * the appointment at 10:00 on the 17th exceeds the week. */
        assert_int_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_APPT, 0)->a.reason,
                         RULES_SUPPRESS_CAP_WEEK);
        rules_drive_free(d);
        fx_free(x);
}

/* Downtime: back within the grace, the reminder goes late (and says how late); past it,
 * it is skipped and the skip logged. */
static void test_downtime_grace(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        const struct fx_event *e;
        (void)state;
        x->values[RULES_F_EDD] = "2026-08-01";
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 1, 2, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        x->n_ev = 0;
        /* Down from Friday until Saturday 10:30: week 10 (09:00, grace 2 h) goes late. */
        assert_int_equal(rules_drive_tick(d, fx_local(x->tz[0], 2026, 1, 3, 10, 30), fx_record, x),
                         0);
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0);
        assert_non_null(e);
        assert_int_equal(e->a.late_seconds, 90 * 60);
        assert_int_equal(e->a.at, fx_local(x->tz[0], 2026, 1, 3, 9, 0));
        /* Down until Saturday the 10th at 11:01: week 11 missed, Monday 5th missed too. */
        x->n_ev = 0;
        assert_int_equal(rules_drive_tick(d, fx_local(x->tz[0], 2026, 1, 10, 11, 1), fx_record, x),
                         0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, -1), 0);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_WEEKLY), 1);
        assert_int_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_WEEKLY, 0)->a.reason,
                         RULES_SUPPRESS_MISSED);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV), 1);
        /* Ticking again changes nothing: settled is settled. */
        x->n_ev = 0;
        assert_int_equal(rules_drive_tick(d, fx_local(x->tz[0], 2026, 1, 10, 11, 2), fx_record, x),
                         0);
        assert_int_equal(x->n_ev, 0);
        rules_drive_free(d);
        fx_free(x);
}

static size_t distinct_keys(const struct fx *x, enum rules_act kind, int reminder)
{
        size_t n = 0;

        for (size_t i = 0; i < x->n_ev; i++) {
                bool seen = false;

                if (x->ev[i].a.kind != kind || x->ev[i].a.reminder != reminder)
                        continue;
                for (size_t j = 0; j < i; j++)
                        seen |= x->ev[j].a.kind == kind &&
                                strcmp(x->ev[j].a.key, x->ev[i].a.key) == 0;
                n += !seen;
        }
        return n;
}

/* A corrected due date recomputes only what is unsent: no week goes twice. A new
 * appointment is a new occurrence; the same date set again is not. */
static void test_date_changes(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        (void)state;
        x->values[RULES_F_EDD] = "2026-08-01";
        x->values[RULES_F_APPOINTMENT] = "2026-02-10";
        d = enrol(x, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0));
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 2, 15, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_APPT), 1);
        assert_int_equal(rules_drive_set(d, RULES_F_EDD, "2026-07-25"), 0); /* a week earlier */
        assert_int_equal(rules_drive_set(d, RULES_F_APPOINTMENT, "2026-03-10"), 0);
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 4, 1, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(rules_drive_set(d, RULES_F_APPOINTMENT, "2026-03-10"), 0);
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 4, 15, 0, 0), NULL, 0, fx_record,
                                    x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_APPT), 2);
        assert_string_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_APPT, 1)->a.key,
                            "cita@2026-03-10#0");
        assert_string_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_APPT, 1)->text,
                            "Tu cita en Centro de Salud Tlalpan es el 10/03/2026.");
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY),
                         distinct_keys(x, RULES_ACT_REMINDER, FX_R_WEEKLY));
        rules_drive_free(d);
        fx_free(x);
}

/* More due at once than one result holds: the engine stops between occurrences, says so
 * (truncated, due again now) and the next call goes on; every occurrence is settled once. */
static void test_truncation(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        struct rules_result *res = calloc(1, sizeof(*res));
        struct rules_contact c = { 0 };
        struct rules_state st;
        int64_t at;
        (void)state;
        x->reminders[FX_R_MOTIV].every_days = 1; /* daily, days 70..170 */
        x->reminders[FX_R_MOTIV].to_days = 170;
        x->reminders[FX_R_MOTIV].days = 0x7f;
        x->values[RULES_F_EDD] = "2026-08-01";       /* day zero 2025-10-25: day 70 = 2026-01-03 */
        at = fx_local(x->tz[0], 2026, 4, 20, 12, 0); /* day 177: all 101 are past */
        assert_int_equal(rules_engine_enrol(&x->env, x->values, 0, at, &st), 0);
        c.values = x->values;
        c.state = st;
        assert_int_equal(rules_engine_tick(&x->env, &c, at, res), 0);
        assert_true(res->truncated);
        assert_int_equal(res->next_due, at);
        assert_true(res->n_actions <= RULES_ENGINE_ACTIONS_MAX);
        assert_int_equal(res->state.settled_until, 0); /* not advanced: more to settle */
        /* Through the drive: all of them, each once. */
        assert_int_equal(rules_drive_new(&x->env, x->values, 0, at, &d), 0);
        assert_true(rules_drive_run(d, at + 60, NULL, 0, fx_record, x) > 2);
        assert_int_equal(fx_count(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV), 101);
        assert_int_equal(distinct_keys(x, RULES_ACT_SUPPRESSED, FX_R_MOTIV), 101);
        rules_drive_free(d);
        free(res);
        fx_free(x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_weekly_treatment),
                cmocka_unit_test(test_weekly_control),
                cmocka_unit_test(test_catch_up),
                cmocka_unit_test(test_catch_up_week),
                cmocka_unit_test(test_arm_condition),
                cmocka_unit_test(test_day_placeholder),
                cmocka_unit_test(test_dst),
                cmocka_unit_test(test_year_end),
                cmocka_unit_test(test_slot_and_quiet),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_downtime_grace),
                cmocka_unit_test(test_date_changes),
                cmocka_unit_test(test_truncation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
