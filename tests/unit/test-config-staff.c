/* daemon/config: the clinic sections (staff numbers, manager) and staff_replies_per_hour;
 * numbers normalized with the file's country, realistic mistakes with the exact errors, and
 * config_staff_find(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"

static struct config *parse_ok(const char *text)
{
        struct config_diag d;
        struct config *c = NULL;
        int r = config_parse_text(text, "t.conf", &c, &d);

        if (r != 0) {
                for (unsigned i = 0; i < d.count && i < CONFIG_ERRORS_MAX; i++)
                        fprintf(stderr, "%s\n", d.text[i]);
                fail_msg("parse failed: %d", r);
        }
        return c;
}

static void test_no_clinic(void **state)
{
        struct config *c = parse_ok("country = MX\n");

        assert_int_equal(c->n_clinics, 0);
        assert_int_equal(c->staff_replies_per_hour, CONFIG_DEFAULT_STAFF_REPLIES);
        assert_null(config_staff_find(c, "+525512345678"));
        config_free(c);
}

static void test_clinics(void **state)
{
        struct config *c = parse_ok("country = MX\n"
                                    "staff_replies_per_hour = 3\n"
                                    "clinic norte {\n"
                                    "  staff = { \"55 1234 5678\", \"+52 1 55 8765 4321\" }\n"
                                    "  manager = \"044 55 1111 2222\"\n"
                                    "  summary = \"19:30\"\n"
                                    "}\n"
                                    "clinic \"Centro de Salud Sur\" {\n"
                                    "  manager = \"+502 2345 6789\"\n"
                                    "}\n");

        assert_int_equal(c->staff_replies_per_hour, 3);
        assert_int_equal(c->n_clinics, 2);
        assert_string_equal(c->clinics[0].name, "norte");
        assert_int_equal(c->clinics[0].n_staff, 2);
        /* national forms and the old mobile prefixes normalized with the file's country */
        assert_string_equal(c->clinics[0].staff[0], "+525512345678");
        assert_string_equal(c->clinics[0].staff[1], "+525587654321");
        assert_string_equal(c->clinics[0].manager, "+525511112222");
        assert_int_equal(c->clinics[0].line, 3);
        assert_int_equal(c->clinics[0].summary_minute, 19 * 60 + 30);
        assert_int_equal(c->clinics[1].summary_minute, -1);
        assert_string_equal(c->clinics[1].name, "Centro de Salud Sur");
        assert_int_equal(c->clinics[1].n_staff, 0);
        assert_string_equal(c->clinics[1].manager, "+50223456789");

        assert_ptr_equal(config_staff_find(c, "+525587654321"), &c->clinics[0]);
        assert_ptr_equal(config_staff_find(c, "+525511112222"), &c->clinics[0]);
        assert_ptr_equal(config_staff_find(c, "+50223456789"), &c->clinics[1]);
        assert_null(config_staff_find(c, "+525599999999"));
        assert_null(config_staff_find(c, ""));
        assert_null(config_staff_find(c, NULL));
        config_free(c);
}

/* The country given after... no: top-level keys are read before sections, so a clinic
 * earlier in the file still uses the file's country. */
static void test_country_applies_before_sections(void **state)
{
        struct config *c = parse_ok("clinic a {\n  staff = { \"2345 6789\" }\n}\ncountry = GT\n");

        assert_string_equal(c->clinics[0].staff[0], "+50223456789");
        config_free(c);
}

static const struct {
        const char *name, *text, *error;
} bad[] = {
        { "letter in a number", "clinic norte {\n  staff = { \"55 12AB 5678\" }\n}\n",
          "t.conf:2: clinic \"norte\": staff: '55 12AB 5678' is not a phone number: it contains a "
          "letter; expected one such as +525512345678" },
        { "short number", "clinic norte {\n  manager = \"123\"\n}\n",
          "t.conf:2: clinic \"norte\": manager: '123' is not a phone number: it is too short for "
          "its country; "
          "expected one such as +525512345678" },
        { "listed twice", "clinic norte {\n  staff = { \"5512345678\", \"+525512345678\" }\n}\n",
          "t.conf:2: clinic \"norte\": staff: '+525512345678' (+525512345678) is listed twice" },
        { "empty clinic", "\nclinic norte {\n}\n",
          "t.conf:2: clinic \"norte\": no staff; expected staff = { \"+525512345678\" } or "
          "manager = \"+525512345678\"" },
        { "no name", "clinic {\n  manager = \"5512345678\"\n}\n",
          "t.conf:1: section 'clinic' needs a name: expected modem NAME { ... }" },
        { "replies zero", "staff_replies_per_hour = 0\n",
          "t.conf:1: staff_replies_per_hour: 0 is out of range; expected 1..60" },
        { "unknown key", "clinic norte {\n  phones = { \"5512345678\" }\n}\n",
          "t.conf:2: unknown key 'phones' in clinic; expected one of: staff, manager, summary" },
        { "summary hour", "clinic norte {\n  manager = \"5512345678\"\n  summary = \"25:00\"\n}\n",
          "t.conf:3: clinic \"norte\": summary: '25:00' is not a time of day; expected HH:MM "
          "such as \"19:00\"" },
        { "summary pm", "clinic norte {\n  manager = \"5512345678\"\n  summary = 7pm\n}\n",
          "t.conf:3: clinic \"norte\": summary: '7pm' is not a time of day; expected HH:MM "
          "such as \"19:00\"" },
        { "summary dot", "clinic norte {\n  manager = \"5512345678\"\n  summary = \"19.30\"\n}\n",
          "t.conf:3: clinic \"norte\": summary: '19.30' is not a time of day; expected HH:MM "
          "such as \"19:00\"" },
        { "summary without manager",
          "clinic norte {\n  staff = { \"5512345678\" }\n  summary = \"19:00\"\n}\n",
          "t.conf:3: clinic \"norte\": summary: no manager to send it to; expected manager = "
          "\"+525512345678\"" },
};

static void test_bad(void **state)
{
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct config_diag d;
                struct config *c = NULL;
                int r = config_parse_text(bad[i].text, "t.conf", &c, &d);
                if (r != -EINVAL || d.count < 1 || strcmp(d.text[0], bad[i].error) != 0)
                        fail_msg("%s: r=%d count=%u first='%s'", bad[i].name, r, d.count,
                                 d.count ? d.text[0] : "");
                assert_null(c);
        }
}

static void test_too_many_staff(void **state)
{
        char text[2048] = "clinic norte {\n  staff = { ";
        struct config_diag d;
        struct config *c = NULL;

        for (int i = 0; i <= CONFIG_STAFF_MAX; i++)
                snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"55123456%02d\"",
                         i ? ", " : "", i);
        strcat(text, " }\n}\n");
        assert_int_equal(config_parse_text(text, "t.conf", &c, &d), -EINVAL);
        assert_int_equal(d.count, 1);
        assert_string_equal(d.text[0], "t.conf:2: clinic \"norte\": staff: more than 16 numbers");
}

static void test_sample_file_parses(void **state)
{
        struct config_diag d;
        struct config *c = NULL;
        char path[512];
        const char *src = getenv("PUENTE_SRC");

        snprintf(path, sizeof(path), "%s/etc/puente.conf", src ? src : ".");
        if (config_load(path, &c, &d) != 0) {
                for (unsigned i = 0; i < d.count && i < CONFIG_ERRORS_MAX; i++)
                        fprintf(stderr, "%s\n", d.text[i]);
                fail_msg("the sample %s does not parse", path);
        }
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_clinic),
                cmocka_unit_test(test_clinics),
                cmocka_unit_test(test_country_applies_before_sections),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_too_many_staff),
                cmocka_unit_test(test_sample_file_parses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
