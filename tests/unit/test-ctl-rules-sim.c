/* test-ctl-rules-sim: `puentectl rules simulate` on the sample programme (etc/rules.d): the
 * timeline of a treatment and a control contact, replies that answer a quiz, set an
 * appointment, report a birth and opt out; the totals; mistakes in the arguments. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ctl-rules-sim.h"
#include "daemon/rules-files.h"
#include "rules/arms.h"
#include "rules/parse.h"

#define OUT_MAX (256 * 1024)

static char out[OUT_MAX];
static char err[8192];

static char dir[512];

static const char *secret_arg; /* --secret FILE for the next sim() calls, or NULL */

/* Runs the subcommand with stdout and stderr captured into out and err. */
static int sim(const char *contact, const char *from, const char *to, const char *replies)
{
        struct ctl_context ctx = { .prog = "puentectl" };
        char *argv[18];
        int argc = 0, r, so, se;
        FILE *fo = tmpfile(), *fe = tmpfile();
        size_t n;

        argv[argc++] = "simulate";
        argv[argc++] = "--dir";
        argv[argc++] = dir;
        if (contact) {
                argv[argc++] = "--contact";
                argv[argc++] = (char *)contact;
        }
        argv[argc++] = "--from";
        argv[argc++] = (char *)from;
        argv[argc++] = "--to";
        argv[argc++] = (char *)to;
        if (replies) {
                argv[argc++] = "--replies";
                argv[argc++] = (char *)replies;
        }
        if (secret_arg) {
                argv[argc++] = "--secret";
                argv[argc++] = (char *)secret_arg;
        }
        argv[argc] = NULL;
        fflush(stdout);
        fflush(stderr);
        so = dup(1);
        se = dup(2);
        dup2(fileno(fo), 1);
        dup2(fileno(fe), 2);
        r = ctl_rules_simulate(&ctx, argc, argv);
        fflush(stdout);
        fflush(stderr);
        dup2(so, 1);
        dup2(se, 2);
        close(so);
        close(se);
        rewind(fo);
        n = fread(out, 1, sizeof(out) - 1, fo);
        out[n] = '\0';
        rewind(fe);
        n = fread(err, 1, sizeof(err) - 1, fe);
        err[n] = '\0';
        fclose(fo);
        fclose(fe);
        return r;
}

static int setup(void **state)
{
        const char *src = getenv("PUENTE_SRC");

        (void)state;
        snprintf(dir, sizeof(dir), "%s/etc/rules.d", src ? src : ".");
        return 0;
}

static unsigned count(const char *needle)
{
        unsigned n = 0;

        for (const char *p = out; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_sim_treatment_and_control(void **state)
{
        unsigned treat_msgs, ctl_msgs;
        (void)state;
        assert_int_equal(sim("edd=2026-05-01,arm=tratamiento,lang=es,name=Ana", "2026-01-01",
                             "2026-08-01", NULL),
                         0);
        assert_non_null(strstr(out, "2026-01-16 09:00  reminder   embarazo_t2#11"));
        assert_non_null(strstr(out, "quiz_started ahorro"));
        assert_true(sscanf(strstr(out, "total: "), "total: %u messages", &treat_msgs) == 1);
        assert_true(treat_msgs > 20);
        /* Control: the same information, no quizzes, and the omissions logged. */
        assert_int_equal(sim("edd=2026-05-01,arm=control,lang=es,name=Ana", "2026-01-01",
                             "2026-08-01", NULL),
                         0);
        assert_null(strstr(out, "quiz_started"));
        assert_true(count("(not_for_arm)") > 0);
        assert_non_null(strstr(out, "Semana 25 de embarazo"));
        assert_true(sscanf(strstr(out, "total: "), "total: %u messages", &ctl_msgs) == 1);
        assert_true(ctl_msgs < treat_msgs);
}

static void test_sim_replies(void **state)
{
        char path[] = "/tmp/test-sim-XXXXXX";
        int fd = mkstemp(path);
        static const char replies[] = "# a participant's answers, local time\n"
                                      "2026-03-02 08:00 CITA 20/03/2026\n"
                                      "2026-04-28 10:00 BEBE 27/04/2026\n"
                                      "2026-05-20 10:00 alto\n";
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, replies, sizeof(replies) - 1), (ssize_t)sizeof(replies) - 1);
        close(fd);
        assert_int_equal(sim("edd=2026-05-01,arm=control,name=Ana,clinic=CS-MERIDA", "2026-01-10",
                             "2026-08-01", path),
                         0);
        assert_non_null(strstr(out, "field_changed appointment 2026-03-20"));
        assert_non_null(strstr(out, "2026-03-17 10:00  reminder   cita_3_dias@2026-03-20#0"));
        assert_non_null(strstr(out, "field_changed birth 2026-04-27"));
        assert_non_null(strstr(out, "stage_switched bebe"));
        assert_non_null(strstr(out, "2026-05-04 09:00  reminder   posparto#0"));
        assert_non_null(strstr(out, "opted_out"));
        /* Nothing is sent after the opt-out's reply. */
        assert_null(strstr(strstr(out, "opted_out"), "reminder "));
        /* Same input, same timeline. */
        {
                static char first[OUT_MAX];

                strcpy(first, out);
                assert_int_equal(sim("edd=2026-05-01,arm=control,name=Ana,clinic=CS-MERIDA",
                                     "2026-01-10", "2026-08-01", path),
                                 0);
                assert_string_equal(first, out);
        }
        /* A bad line is named. */
        fd = open(path, O_WRONLY | O_APPEND);
        assert_int_equal(write(fd, "tomorrow hello\n", 15), 15);
        close(fd);
        assert_int_equal(sim("edd=2026-05-01,arm=control", "2026-01-10", "2026-08-01", path), 1);
        assert_non_null(strstr(err, ":5: expected 'YYYY-MM-DD HH:MM TEXT'"));
        /* and so is a reply out of time order, or a time that is no time */
        {
                static const struct {
                        const char *text, *msg;
                } bad[] = {
                        { "2026-03-02 10:00 CITA 20/03/2026\n2026-03-01 10:00 hola\n",
                          ":2: replies must be in time order" },
                        { "2026-03-02 24:00 hola\n", ":1: expected 'YYYY-MM-DD HH:MM TEXT'" },
                        { "2026-03-02 9:00 hola\n", ":1: expected 'YYYY-MM-DD HH:MM TEXT'" },
                        { "2026-03-02 09:60 hola\n", ":1: expected 'YYYY-MM-DD HH:MM TEXT'" },
                        { "2026-03-02 09:00hola\n", ":1: expected 'YYYY-MM-DD HH:MM TEXT'" },
                };

                for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        fd = open(path, O_WRONLY | O_TRUNC);
                        assert_int_equal(write(fd, bad[i].text, strlen(bad[i].text)),
                                         (ssize_t)strlen(bad[i].text));
                        close(fd);
                        assert_int_equal(
                                sim("edd=2026-05-01,arm=control", "2026-01-10", "2026-08-01", path),
                                1);
                        if (!strstr(err, bad[i].msg))
                                fail_msg("case %zu: stderr '%s'", i, err);
                }
        }
        unlink(path);
}

static void test_sim_mistakes(void **state)
{
        static const struct {
                const char *contact, *from, *to;
                int status;
                const char *msg;
        } cases[] = {
                { "edd=2026-05-01,arm=placebo", "2026-01-01", "2026-02-01", 2, "no arm 'placebo'" },
                { "edd=2026-05-01,color=red", "2026-01-01", "2026-02-01", 2, "no field 'color'" },
                { "edd=31/02/2026", "2026-01-01", "2026-02-01", 2, "is not a date" },
                { "edd", "2026-01-01", "2026-02-01", 2, "is not FIELD=VALUE" },
                { "edd=2026-05-01", "2026-02-01", "2026-01-01", 2, "--from before --to" },
                { "name=Ana,arm=control", "2026-01-01", "2026-02-01", 1, "enters no track" },
                { NULL, "2026-01-01", "2026-02-01", 2, "usage" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r = sim(cases[i].contact, cases[i].from, cases[i].to, NULL);

                if (r != cases[i].status || !strstr(err, cases[i].msg))
                        fail_msg("case %zu: %d, stderr '%s'", i, r, err);
        }
}

/* The arm puented would assign: what rules/arms gives for the study id in its stratum. */
static int assigned(const char *key, const char *study_id, const char *clinic)
{
        struct rules_files files = { 0 };
        struct rules_diags diags = { 0 };
        struct rules_set *set = NULL;
        const char **values;
        char stratum[RULES_ARMS_STRATUM_MAX];
        int arm = -1;

        assert_int_equal(rules_files_read(dir, &files), 0);
        assert_int_equal(rules_parse(files.src, files.n, NULL, &diags, &set), 0);
        values = calloc(set->n_fields, sizeof(*values));
        values[RULES_F_STUDY_ID] = study_id;
        values[RULES_F_CLINIC] = clinic;
        assert_int_equal(rules_arms_stratum(set, values, stratum, sizeof(stratum)), 0);
        assert_int_equal(
                rules_arms_assign(set, (const uint8_t *)key, strlen(key), stratum, study_id, &arm),
                0);
        free(values);
        rules_free(set);
        rules_diags_free(&diags);
        rules_files_free(&files);
        return arm;
}

/* Without arm=, the contact gets the arm the trial assigns (it always got the first arm):
 * the keyed hash of study_id= under the secret key, or of a study id made and printed;
 * its timeline is that arm's (control: the active-control texts, no quiz). */
static void test_sim_assigned_arm(void **state)
{
        static const char key[] = "an evaluator's key, 32 bytes ok.";
        static const char *const arm_names[] = { "tratamiento", "control" };
        char path[] = "/tmp/test-sim-key-XXXXXX";
        int fd = mkstemp(path);
        unsigned seen[2] = { 0, 0 };
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, key, sizeof(key) - 1), (ssize_t)sizeof(key) - 1);
        close(fd);
        secret_arg = path;
        for (int i = 1; i <= 8; i++) {
                char contact[128], want[128];
                char id[16];
                int arm;

                snprintf(id, sizeof(id), "S%d", i);
                arm = assigned(key, id, "CS-TLALPAN");
                snprintf(contact, sizeof(contact),
                         "edd=2026-05-01,study_id=%s,clinic=CS-TLALPAN,name=Ana", id);
                assert_int_equal(sim(contact, "2026-01-01", "2026-04-01", NULL), 0);
                snprintf(want, sizeof(want),
                         "contact %s: arm %s (keyed hash, stratum CS-TLALPAN/-)\n", id,
                         arm_names[arm]);
                if (strncmp(out, want, strlen(want)) != 0)
                        fail_msg("%s: expected '%s', got '%.200s'", id, want, out);
                /* the arm's own timeline */
                assert_true((strstr(out, "quiz_started ahorro") != NULL) == (arm == 0));
                assert_true((strstr(out, "Semana 25 de embarazo") != NULL) == (arm == 1));
                seen[arm]++;
        }
        assert_true(seen[0] > 0 && seen[1] > 0); /* both arms were checked */
        /* arm= still decides, and no study id is needed then */
        assert_int_equal(sim("edd=2026-05-01,arm=control", "2026-01-01", "2026-02-01", NULL), 0);
        assert_null(strstr(out, "contact "));
        /* no study id: one is made, printed, and assigned from */
        assert_int_equal(sim("edd=2026-05-01,clinic=CS-MERIDA", "2026-01-01", "2026-02-01", NULL),
                         0);
        {
                char id[17] = "", arm[16] = "";

                assert_int_equal(
                        sscanf(out, "contact %16[0-9a-f]: arm %15[a-z] (keyed hash", id, arm), 2);
                assert_int_equal(strlen(id), 16);
                assert_string_equal(arm, arm_names[assigned(key, id, "CS-MERIDA")]);
        }
        /* the key is the rules' secret_key_file unless --secret: unreadable, a clear error */
        secret_arg = NULL;
        assert_int_equal(sim("edd=2026-05-01,study_id=S1", "2026-01-01", "2026-02-01", NULL), 1);
        assert_non_null(strstr(err, "the trial's secret key /etc/puente/trial.key cannot be "
                                    "read (No such file or directory); give arm=NAME in "
                                    "--contact, or --secret FILE"));
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sim_treatment_and_control),
                cmocka_unit_test(test_sim_replies),
                cmocka_unit_test(test_sim_mistakes),
                cmocka_unit_test(test_sim_assigned_arm),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
