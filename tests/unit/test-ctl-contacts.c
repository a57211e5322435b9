/* test-ctl-contacts: puentectl contacts import / export / set against a real store in a
 * temporary state directory, checked against the sample rules (etc/rules.d): every bad row
 * named by its line and nothing imported; a clean import in one go; export reads back; set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ctl-contacts.h"
#include "daemon/store.h"

static char dir[64], conf[128], csv[128], db[128], rules[512];
static char out[65536], err[65536];

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static int run(int argc, char **argv)
{
        struct ctl_context ctx = { .prog = "puentectl", .config_path = conf };
        FILE *fo = tmpfile(), *fe = tmpfile();
        int so = dup(1), se = dup(2), r;
        size_t n;

        fflush(stdout);
        fflush(stderr);
        dup2(fileno(fo), 1);
        dup2(fileno(fe), 2);
        r = ctl_contacts(&ctx, argc, argv);
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
        char text[1024];

        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/test-contacts-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(conf, sizeof(conf), "%s/puente.conf", dir);
        snprintf(csv, sizeof(csv), "%s/contacts.csv", dir);
        snprintf(db, sizeof(db), "%s/puente.db", dir);
        snprintf(rules, sizeof(rules), "%s/etc/rules.d", src ? src : ".");
        snprintf(text, sizeof(text),
                 "state_directory = \"%s\"\nrules_directory = \"%s\"\ncountry = \"MX\"\n", dir,
                 rules);
        write_file(conf, text);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

static unsigned count_contacts(void)
{
        char *argv[] = { "contacts", "export", NULL };
        unsigned lines = 0;

        if (run(2, argv) != 0)
                return 0;
        for (const char *p = out; *p; p++)
                lines += *p == '\n';
        return lines - 1; /* the header */
}

static void test_import_bad_rows(void **state)
{
        char *argv[] = { "contacts", "import", csv, NULL };
        (void)state;
        write_file(csv, "study_id,phone,language,clinic,edd,name,horario\n"
                        "S1,5512345678,es,CS-TLALPAN,2026-05-01,Ana,manana\n"
                        "S2,55 1234 5679,es,CS-NOWHERE,2026-05-01,Bea,manana\n"        /* line 3 */
                        "S3,+525512345680,es,CS-TLALPAN,31/02/2026,Eva,manana\n"       /* line 4 */
                        "S1,+525512345681,es,CS-TLALPAN,2026-05-01,Flor,manana\n"      /* 5 */
                        "S5,55-12-34-56-78,es,CS-TLALPAN,2026-05-01,Gina,tarde\n"      /* 6 */
                        "S6,+525512345690,es,CS-TLALPAN,2026-05-01,Ines,noche\n"       /* 7 */
                        "S7,55123,es,CS-TLALPAN,2026-05-01,Juana,manana\n"             /* 8 */
                        "S8,+525512345699,es\n"                                        /* 9 */
                        "S9,+525512345698,es,CS-TLALPAN,2026-05-01,\"Lu\"z,manana\n"); /* 10 */
        assert_int_equal(run(3, argv), 1);
        assert_non_null(strstr(err, ":3: clinic: 'CS-NOWHERE' is not a clinic of the rules"));
        assert_non_null(strstr(err, ":4: edd: '31/02/2026' is not a date"));
        assert_non_null(strstr(err, ":5: study_id 'S1' already on line 2"));
        assert_non_null(strstr(err, ":6: phone +525512345678 already on line 2"));
        assert_non_null(strstr(err, ":7: horario: 'noche' is not one of its values"));
        assert_non_null(strstr(err, ":8: phone: '55123'"));
        assert_non_null(strstr(err, ":9: 3 fields, the header has 7"));
        assert_non_null(strstr(err, ":10: column"));
        assert_non_null(strstr(err, "nothing imported"));
        /* Nothing: the database may not even exist yet, or holds no contact. */
        assert_int_equal(count_contacts(), 0);
}

static void test_import_header_mistakes(void **state)
{
        char *argv[] = { "contacts", "import", csv, NULL };
        (void)state;
        write_file(csv, "study_id,telefono,arm\nS1,5512345678,control\n");
        assert_int_equal(run(3, argv), 1);
        assert_non_null(strstr(err, ":1: column 'telefono' is not a field of the rules"));
        assert_non_null(strstr(err, ":1: column 'arm': arms are assigned at enrolment"));
        assert_non_null(strstr(err, ":1: the header must name the columns study_id and phone"));
}

static int changed;

static int changed_cb(const struct store_event_row *ev, void *userdata)
{
        (void)userdata;
        changed += strcmp(ev->type, "contact.changed") == 0 &&
                   strcmp(ev->json, "{\"fields\":[\"appointment\",\"name\",\"horario\"],"
                                    "\"number_changed\":false}") == 0;
        return 0;
}

static void test_import_export_set(void **state)
{
        char *imp[] = { "contacts", "import", csv, NULL };
        char *exp[] = { "contacts", "export", NULL };
        char *set[] = { "contacts", "set",           "S2", "appointment=20/03/2026",
                        "name=",    "horario=tarde", NULL };
        char *bad[] = { "contacts", "set", "S2", "edd=mañana", "arm=control", NULL };
        (void)state;
        write_file(csv, "\xef\xbb\xbfstudy_id,phone,language,clinic,edd,name,horario\r\n"
                        "S1,5512345678,es,CS-TLALPAN,2026-05-01,Ana,manana\r\n"
                        "S2,+52 55 1234 5679,es,CS-MERIDA,15/06/2026,\"Peña, Bea\",\r\n");
        assert_int_equal(run(3, imp), 0);
        assert_non_null(strstr(out, "2 contacts imported"));
        assert_int_equal(run(2, exp), 0);
        assert_non_null(strstr(out, "study_id,phone,language,clinic,edd,horario,name\n"));
        assert_non_null(strstr(out, "S1,+525512345678,es,CS-TLALPAN,2026-05-01,manana,Ana\n"));
        assert_non_null(strstr(out, "S2,+525512345679,es,CS-MERIDA,2026-06-15,,\"Peña, Bea\"\n"));
        /* Importing the same file again updates, it does not duplicate. */
        assert_int_equal(run(3, imp), 0);
        assert_int_equal(count_contacts(), 2);
        /* The export reads back as an import. */
        assert_int_equal(run(2, exp), 0);
        write_file(csv, out);
        assert_int_equal(run(3, imp), 0);
        /* set: a date in either form, an empty value unsets, a choice checked. */
        assert_int_equal(run(6, set), 0);
        assert_int_equal(run(2, exp), 0);
        assert_non_null(
                strstr(out, "S2,+525512345679,es,CS-MERIDA,2026-03-20,2026-06-15,tarde,\n"));
        {
                struct store *st = NULL;
                char e[STORE_ERRMSG_MAX];

                assert_int_equal(
                        store_open(db, &(struct store_options){ .leave_sending = true }, &st, e),
                        0);
                changed = 0;
                assert_true(store_events_after(st, 0, 1000, changed_cb, NULL) >= 0);
                assert_int_equal(changed, 1);
                store_close(st);
        }
        assert_int_equal(run(5, bad), 1);
        assert_non_null(strstr(err, "edd: 'mañana' is not a date"));
        assert_non_null(strstr(err, "arm never changes"));
        assert_non_null(strstr(err, "nothing changed"));
        /* The database refuses row 3 (S1's phone for another study id): one transaction, so
         * row 2 is not imported either. */
        write_file(csv, "study_id,phone\nS3,+525512340003\nS4,+525512345678\n");
        assert_int_equal(run(3, imp), 1);
        assert_non_null(strstr(err, ":3: this phone belongs to another study id"));
        assert_int_equal(count_contacts(), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_import_bad_rows),
                cmocka_unit_test(test_import_header_mistakes),
                cmocka_unit_test(test_import_export_set),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
