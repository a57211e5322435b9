/* test-engine-inbound: replies on a fake clock: quiz answers (normalized), retries, time-outs,
 * score; opt-out inside a quiz and opting in again; keywords (birth, loss, alert, set), help,
 * unknown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test-engine-fixture.h"

/* Treatment, edd 2026-08-01: the savings quiz starts Saturday 2026-03-14 09:00. */
static struct rules_drive *start(struct fx *x)
{
        struct rules_drive *d = NULL;

        x->values[RULES_F_EDD] = "2026-08-01";
        assert_int_equal(
                rules_drive_new(&x->env, x->values, 0, fx_local(x->tz[0], 2026, 1, 1, 10, 0), &d),
                0);
        assert_true(rules_drive_run(d, fx_local(x->tz[0], 2026, 3, 14, 9, 1), NULL, 0, NULL, NULL) >
                    0);
        assert_int_equal(rules_drive_state(d)->quiz, 0);
        return d;
}

static int64_t at(struct fx *x, unsigned m, unsigned d, int hh, int mm)
{
        return fx_local(x->tz[0], 2026, m, d, hh, mm);
}

static const char *reply_text(const struct fx *x, size_t nth)
{
        const struct fx_event *e = fx_find(x, RULES_ACT_REPLY, -1, nth);

        return e ? e->text : "(none)";
}

static void test_quiz_answers(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d = start(x);
        const struct fx_event *e;
        const struct rules_drive_reply replies[] = {
                { at(x, 3, 14, 9, 5), "  Sí!! " }, /* Q1 right */
                { at(x, 3, 14, 9, 10), "A" },      /* Q2 wrong, one retry */
                { at(x, 3, 14, 9, 15), "quizas" }, /* not an answer */
        };
        (void)state;
        assert_true(rules_drive_run(d, at(x, 3, 14, 9, 20), replies, 3, fx_record, x) > 0);
        e = fx_find(x, RULES_ACT_QUIZ_ANSWER, -1, 0);
        assert_int_equal(e->a.choice, 0);
        assert_true(e->a.right);
        assert_string_equal(reply_text(x, 0), "¡Bien!");
        assert_string_equal(reply_text(x, 1), "P2: ¿Cuánto? a) 10 b) 20");
        e = fx_find(x, RULES_ACT_QUIZ_ANSWER, -1, 1);
        assert_int_equal(e->a.choice, 0);
        assert_false(e->a.right);
        assert_string_equal(reply_text(x, 2), "No.");
        assert_string_equal(reply_text(x, 3), "P2: ¿Cuánto? a) 10 b) 20");
        /* "quizas" is no answer: invalid, retries spent -> the quiz ends, score 1 of 2. */
        e = fx_find(x, RULES_ACT_QUIZ_ANSWER, -1, 2);
        assert_int_equal(e->a.choice, RULES_NONE);
        e = fx_find(x, RULES_ACT_QUIZ_COMPLETED, -1, 0);
        assert_non_null(e);
        assert_int_equal(e->a.score, 1);
        assert_int_equal(e->a.total, 2);
        assert_string_equal(rules_drive_value(d, FX_F_SCORE), "1");
        assert_string_equal(reply_text(x, 5), "Puntos: 1/2");
        assert_int_equal(rules_drive_state(d)->quiz, RULES_NONE);
        /* The inbound events carry a category, never the text. */
        e = fx_find(x, RULES_ACT_INBOUND, -1, 0);
        assert_int_equal(e->a.category, RULES_IN_QUIZ_ANSWER);
        assert_string_equal(e->text, "");
        rules_drive_free(d);
        fx_free(x);
}

/* Number words and accents: "uno" is 1, "B" and "20" the same choice; a branch ends it. */
static void test_quiz_normalized_and_branch(void **state)
{
        static const struct {
                const char *q1, *q2;
                int score;
                bool completed_after_q1;
        } cases[] = {
                { "uno", "20", 2, false }, { "1", "b", 2, false },
                { "SI", " B ", 2, false }, { "No", NULL, 0, true }, /* choice "no" ends the quiz */
                { "dos", NULL, 0, true },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct fx *x = fx_new();
                struct rules_drive *d = start(x);
                const struct fx_event *e;

                assert_int_equal(
                        rules_drive_inbound(d, at(x, 3, 14, 9, 5), cases[i].q1, fx_record, x), 0);
                if (cases[i].q2)
                        assert_int_equal(rules_drive_inbound(d, at(x, 3, 14, 9, 6), cases[i].q2,
                                                             fx_record, x),
                                         0);
                e = fx_find(x, RULES_ACT_QUIZ_COMPLETED, -1, 0);
                if (!e)
                        fail_msg("case %zu: not completed", i);
                assert_int_equal(e->a.score, cases[i].score);
                rules_drive_free(d);
                fx_free(x);
        }
}

/* No answer: question 1 times out after 60 min and moves on; question 2 ends the quiz. A
 * reminder that waits for the quiz goes after it, within its grace. */
static void test_quiz_timeouts(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d;
        const struct fx_event *e;
        (void)state;
        x->reminders[FX_R_WEEKLY].window_start = 9 * 60 + 30;
        d = start(x);
        assert_true(rules_drive_run(d, at(x, 3, 14, 12, 0), NULL, 0, fx_record, x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_TIMED_OUT, -1), 2);
        e = fx_find(x, RULES_ACT_QUIZ_TIMED_OUT, -1, 0);
        assert_int_equal(e->now, at(x, 3, 14, 10, 0));
        assert_int_equal(e->a.question, 0);
        e = fx_find(x, RULES_ACT_QUIZ_TIMED_OUT, -1, 1);
        assert_int_equal(e->now, at(x, 3, 14, 11, 0));
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_ENDED, -1), 1);
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_COMPLETED, -1), 0);
        /* Week 20's weekly reminder (during_quiz wait, due 09:30) went at 11:00, when the
         * quiz ended, inside its 2 h grace. */
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0);
        assert_non_null(e);
        assert_int_equal(e->now, at(x, 3, 14, 11, 0));
        assert_int_equal(e->a.late_seconds, 90 * 60);
        rules_drive_free(d);
        fx_free(x);
}

/* Opt-out wins inside a quiz (even where an answer would match), ends it, stops everything;
 * a later unknown text is ignored; ALTA brings the contact back without a flood of
 * "missed" entries for the weeks away. */
static void test_opt_out_in_quiz(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d = start(x);
        const struct rules_drive_reply replies[] = {
                { at(x, 3, 14, 9, 5), "ALTO" },
                { at(x, 3, 20, 9, 5), "hola" },
                { at(x, 4, 1, 12, 0), "Alta" },
        };
        (void)state;
        x->choices[0][0].answers = W("1", "si", "alto"); /* a trap: opt-out still wins */
        assert_true(rules_drive_run(d, at(x, 4, 12, 0, 0), replies, 3, fx_record, x) > 0);
        assert_int_equal(fx_find(x, RULES_ACT_INBOUND, -1, 0)->a.category, RULES_IN_OPT_OUT);
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_ANSWER, -1), 0);
        assert_int_equal(fx_count(x, RULES_ACT_QUIZ_ENDED, -1), 1);
        assert_int_equal(fx_count(x, RULES_ACT_OPTED_OUT, -1), 1);
        assert_string_equal(reply_text(x, 0), "Ya no recibirás mensajes. ALTA para volver.");
        assert_int_equal(fx_find(x, RULES_ACT_INBOUND, -1, 1)->a.category, RULES_IN_IGNORED);
        assert_int_equal(fx_find(x, RULES_ACT_INBOUND, -1, 2)->a.category, RULES_IN_OPT_IN);
        /* Weeks 21 (Mar 21) and 22 (Mar 28): nothing, not even a suppression. */
        for (size_t i = 0; i < x->n_ev; i++)
                if (x->ev[i].a.kind == RULES_ACT_REMINDER ||
                    x->ev[i].a.kind == RULES_ACT_SUPPRESSED)
                        assert_true(x->ev[i].now >= at(x, 4, 1, 12, 0));
        /* Week 23, April 4, is sent. */
        assert_int_equal(fx_count(x, RULES_ACT_REMINDER, FX_R_WEEKLY), 2);
        assert_int_equal(fx_find(x, RULES_ACT_REMINDER, FX_R_WEEKLY, 0)->a.at, at(x, 4, 4, 9, 0));
        rules_drive_free(d);
        fx_free(x);
}

static void test_keywords(void **state)
{
        struct fx *x = fx_new();
        struct rules_drive *d = start(x);
        const struct fx_event *e;
        const struct rules_drive_reply replies[] = {
                { at(x, 3, 14, 9, 2), "2" },                /* end the quiz */
                { at(x, 3, 15, 8, 0), "Fiebre" },           /* alert */
                { at(x, 3, 15, 8, 1), "ayuda" },            /* help */
                { at(x, 3, 15, 8, 2), "hola que tal" },     /* unknown */
                { at(x, 3, 16, 8, 0), "CITA 20/04/2026" },  /* set */
                { at(x, 6, 20, 12, 0), "bebe 12/06/2026" }, /* birth */
        };
        (void)state;
        assert_true(rules_drive_run(d, at(x, 7, 1, 0, 0), replies, 6, fx_record, x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_ALERT, -1), 2);
        e = fx_find(x, RULES_ACT_ALERT, -1, 0);
        assert_string_equal(e->a.to, "+5215511111111");
        assert_string_equal(e->text, "ALERTA S0001 +5215512345678");
        assert_int_equal(e->now, at(x, 3, 15, 8, 0));
        assert_string_equal(fx_find(x, RULES_ACT_ALERT, -1, 1)->a.to, "+5215522222222");
        assert_int_equal(fx_find(x, RULES_ACT_INBOUND, -1, 2)->a.category, RULES_IN_HELP);
        assert_int_equal(fx_find(x, RULES_ACT_INBOUND, -1, 3)->a.category, RULES_IN_UNKNOWN);
        /* The appointment: set, then reminded 3 days before at 10:00. */
        e = fx_find(x, RULES_ACT_FIELD_SET, -1, 1);
        assert_int_equal(e->a.field, RULES_F_APPOINTMENT);
        assert_string_equal(e->a.value, "2026-04-20");
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_APPT, 0);
        assert_int_equal(e->a.at, at(x, 4, 17, 10, 0));
        assert_string_equal(e->text, "Tu cita en Centro de Salud Tlalpan es el 20/04/2026.");
        /* Birth: the date set, the track switched, weekly pregnancy messages over, the baby
         * series from day 7 (June 19 was already past: logged missed). */
        assert_string_equal(rules_drive_value(d, RULES_F_BIRTH), "2026-06-12");
        e = fx_find(x, RULES_ACT_TRACK_SWITCH, -1, 0);
        assert_int_equal(e->a.track_to, FX_T_BABY);
        assert_int_equal(e->now, at(x, 6, 20, 12, 0));
        for (size_t i = 0; i < x->n_ev; i++)
                if (x->ev[i].a.kind == RULES_ACT_REMINDER && x->ev[i].a.reminder == FX_R_WEEKLY)
                        assert_true(x->ev[i].now < at(x, 6, 20, 12, 0));
        assert_int_equal(fx_find(x, RULES_ACT_SUPPRESSED, FX_R_BABY, 0)->a.reason,
                         RULES_SUPPRESS_MISSED);
        e = fx_find(x, RULES_ACT_REMINDER, FX_R_BABY, 0);
        assert_int_equal(e->a.at, at(x, 6, 26, 9, 0));
        assert_string_equal(e->text, "Tu bebé tiene 2 semanas.");
        rules_drive_free(d);
        fx_free(x);
}

/* The sample programme's staff text names the warning sign ({keyword}, docs/rules.md): it
 * rendered nothing, so no alert ever reached staff. */
static void test_alert_keyword_placeholder(void **state)
{
        struct fx *x = fx_new();
        (void)state;
        x->keywords[2].staff = T1("{keyword}: {study_id} {phone}, {clinic}");
        struct rules_drive *d = start(x);
        const struct rules_drive_reply replies[] = { { at(x, 3, 15, 8, 0), "Fiebre alta" } };
        assert_true(rules_drive_run(d, at(x, 3, 16, 0, 0), replies, 1, fx_record, x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_ALERT, -1), 2);
        assert_string_equal(fx_find(x, RULES_ACT_ALERT, -1, 0)->text,
                            "FIEBRE: S0001 +5215512345678, Centro de Salud Tlalpan");
        rules_drive_free(d);
        fx_free(x);
}

/* A warning sign from a contact with no clinic (enrolled by SMS, say) must still reach
 * people: it goes to the staff of every declared clinic instead of nowhere. */
static void test_alert_without_clinic(void **state)
{
        struct fx *x = fx_new();
        (void)state;
        x->values[RULES_F_CLINIC] = NULL;
        struct rules_drive *d = start(x);
        const struct rules_drive_reply replies[] = { { at(x, 3, 15, 8, 0), "Fiebre" } };
        assert_true(rules_drive_run(d, at(x, 3, 16, 0, 0), replies, 1, fx_record, x) > 0);
        assert_int_equal(fx_count(x, RULES_ACT_ALERT, -1), 3);
        assert_string_equal(fx_find(x, RULES_ACT_ALERT, -1, 0)->a.to, "+5215511111111");
        assert_string_equal(fx_find(x, RULES_ACT_ALERT, -1, 2)->a.to, "+5216633333333");
        rules_drive_free(d);
        fx_free(x);
}

/* The staff text of a contact with no clinic and no name: {clinic} rendered nothing, so the
 * alert was dropped whole. A fallback is shown; a placeholder without one shows "?"; the
 * alert always goes. */
static void test_alert_staff_text_without_clinic(void **state)
{
        static const struct {
                const char *staff, *want;
        } cases[] = {
                { "{keyword} de {study_id}, {clinic|sin clinica}", "FIEBRE de S0001, sin clinica" },
                { "{keyword} de {name}, {clinic}", "FIEBRE de ?, ?" },
                { "{keyword}: {name|(sin nombre)} {phone}", "FIEBRE: (sin nombre) +5215512345678" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct fx *x = fx_new();

                x->values[RULES_F_CLINIC] = NULL;
                x->values[RULES_F_NAME] = NULL;
                x->keywords[2].staff = T1(cases[i].staff);
                struct rules_drive *d = start(x);
                const struct rules_drive_reply replies[] = { { at(x, 3, 15, 8, 0), "Fiebre" } };

                assert_true(rules_drive_run(d, at(x, 3, 16, 0, 0), replies, 1, fx_record, x) > 0);
                assert_int_equal(fx_count(x, RULES_ACT_ALERT, -1), 3);
                assert_string_equal(fx_find(x, RULES_ACT_ALERT, -1, 0)->text, cases[i].want);
                rules_drive_free(d);
                fx_free(x);
        }
}

/* An opt-in keyword whose last arg is a text field takes the rest of the message: ALTA
 * 15/03/2026 Maria Lopez gives the name "Maria Lopez" (whole words up to max_length). */
static void test_opt_in_name(void **state)
{
        static const int args[] = { RULES_F_EDD, RULES_F_NAME };
        static const struct {
                const char *text, *edd, *name; /* name NULL: not set */
        } cases[] = {
                { "ALTA 15/03/2026 Maria Lopez", "2026-03-15", "Maria Lopez" },
                { "alta 15/03/2026   María   de  la Luz ", "2026-03-15", "María de la Luz" },
                { "ALTA 15/03/2026", "2026-03-15", NULL },
                /* 20 characters at most: the words that fit */
                { "ALTA 1/4/2026 Maria Guadalupe Hernandez", "2026-04-01", "Maria Guadalupe" },
                { "ALTA 1/4/2026 Mariaguadalupehernandez", "2026-04-01", NULL },
                /* a date where the name goes is not a name */
                { "ALTA 1/4/2026 2/4/2026", "2026-04-01", NULL },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct fx *x = fx_new();
                struct rules_drive *d = NULL;
                const char *edd = NULL, *name = NULL;

                x->keywords[0].args = args;
                x->keywords[0].n_args = 2;
                x->keywords[0].reply = T1("Bienvenida, {name|amiga}.");
                x->values[RULES_F_EDD] = "2026-08-01";
                x->values[RULES_F_NAME] = NULL;
                assert_int_equal(rules_drive_new(&x->env, x->values, 0, at(x, 1, 1, 10, 0), &d), 0);
                assert_true(rules_drive_inbound(d, at(x, 1, 1, 10, 5), cases[i].text, fx_record,
                                                x) >= 0);
                for (size_t k = 0; k < x->n_ev; k++)
                        if (x->ev[k].a.kind == RULES_ACT_FIELD_SET) {
                                if (x->ev[k].a.field == RULES_F_EDD)
                                        edd = x->ev[k].a.value;
                                if (x->ev[k].a.field == RULES_F_NAME)
                                        name = x->ev[k].a.value;
                        }
                if (!edd || strcmp(edd, cases[i].edd) != 0 ||
                    (cases[i].name ? !name || strcmp(name, cases[i].name) != 0 : name != NULL))
                        fail_msg("case %zu '%s': edd %s name %s", i, cases[i].text,
                                 edd ? edd : "(unset)", name ? name : "(unset)");
                {
                        char want[64];

                        snprintf(want, sizeof(want), "Bienvenida, %s.",
                                 cases[i].name ? cases[i].name : "amiga");
                        assert_string_equal(reply_text(x, 0), want);
                }
                rules_drive_free(d);
                fx_free(x);
        }
}

/* A loss stops routine messages at once; the participant then chooses support or a stop. */
static void test_loss(void **state)
{
        static const struct {
                const char *choice;
                bool support;
        } cases[] = { { "apoyo", true }, { "FIN", false } };
        (void)state;
        for (size_t i = 0; i < 2; i++) {
                struct fx *x = fx_new();
                struct rules_drive *d = start(x);
                const struct fx_event *e;
                const struct rules_drive_reply replies[] = {
                        { at(x, 3, 14, 9, 5), "Perdida aborto" },
                        { at(x, 3, 16, 9, 0), cases[i].choice },
                };

                assert_true(rules_drive_run(d, at(x, 5, 1, 0, 0), replies, 2, fx_record, x) > 0);
                e = fx_find(x, RULES_ACT_LOSS, -1, 0);
                assert_non_null(e);
                assert_string_equal(e->a.value, "aborto");
                assert_int_equal(fx_count(x, RULES_ACT_QUIZ_ENDED, -1), 1);
                assert_string_equal(reply_text(x, 0), "Lo sentimos. APOYO o FIN.");
                assert_int_equal(fx_count(x, RULES_ACT_REMINDER, -1), 0);
                e = fx_find(x, RULES_ACT_LOSS_CHOICE, -1, 0);
                assert_string_equal(e->a.value, cases[i].support ? "support" : "stop");
                assert_string_equal(reply_text(x, 1),
                                    cases[i].support ? "Te acompañamos." : "Cuídate.");
                if (cases[i].support) {
                        /* The support track, at most 28 days, then the programme is over. */
                        e = fx_find(x, RULES_ACT_TRACK_SWITCH, -1, 0);
                        assert_int_equal(e->a.track_to, FX_T_SUPPORT);
                        e = fx_find(x, RULES_ACT_TRACK_SWITCH, -1, 1);
                        assert_int_equal(e->a.track_to, RULES_NONE);
                        assert_int_equal(e->now, at(x, 3, 16, 9, 0) + 28 * 86400);
                } else {
                        assert_true(rules_drive_state(d)->stopped);
                        assert_int_equal(fx_count(x, RULES_ACT_TRACK_SWITCH, -1), 0);
                }
                rules_drive_free(d);
                fx_free(x);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quiz_answers),
                cmocka_unit_test(test_quiz_normalized_and_branch),
                cmocka_unit_test(test_quiz_timeouts),
                cmocka_unit_test(test_opt_out_in_quiz),
                cmocka_unit_test(test_keywords),
                cmocka_unit_test(test_alert_without_clinic),
                cmocka_unit_test(test_alert_keyword_placeholder),
                cmocka_unit_test(test_alert_staff_text_without_clinic),
                cmocka_unit_test(test_opt_in_name),
                cmocka_unit_test(test_loss),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
