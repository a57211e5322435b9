/* puente.conf's upload section: every key converted into struct config_upload and then
 * into the uploader's struct upload_config; realistic mistakes with the exact message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/upload.h"

static void test_all_keys(void **state)
{
        static const char text[] = "state_directory = \"/var/lib/puente\"\n"
                                   "upload {\n"
                                   "  url = \"https://central.example.org/dav/trial\"\n"
                                   "  device = \"clinic-07\"\n"
                                   "  auth = \"basic\"\n"
                                   "  user = \"box7\"\n"
                                   "  password = \"s3cr3t\"\n"
                                   "  ca_file = \"/etc/puente/central-ca.pem\"\n"
                                   "  batch_events = \"500\"\n"
                                   "  batch_interval = \"10m\"\n"
                                   "  timeout = \"1m\"\n"
                                   "  backoff_max = \"2h\"\n"
                                   "  hours = \"22:00-06:30\"\n"
                                   "  disk_budget_mb = \"128\"\n"
                                   "  heartbeat_days = \"5\"\n"
                                   "  heartbeat_number = \"+52 55 1234 5678\"\n"
                                   "}\n";
        struct config *c = NULL;
        struct config_diag d = { 0 };
        struct upload_config u;

        assert_int_equal(config_parse_text(text, "t.conf", &c, &d), 0);
        assert_true(c->upload.enabled);
        assert_int_equal(c->upload.auth, CONFIG_UPLOAD_AUTH_BASIC);
        assert_int_equal(c->upload.hours_start, 22 * 60);
        assert_int_equal(c->upload.hours_end, 6 * 60 + 30);
        upload_config_from(c, &u);
        assert_string_equal(u.url, "https://central.example.org/dav/trial");
        assert_string_equal(u.device, "clinic-07");
        assert_int_equal(u.auth, UPLOAD_AUTH_BASIC);
        assert_string_equal(u.user, "box7");
        assert_string_equal(u.password, "s3cr3t");
        assert_string_equal(u.ca_file, "/etc/puente/central-ca.pem");
        assert_string_equal(u.state_directory, "/var/lib/puente");
        assert_int_equal(u.batch_events, 500);
        assert_int_equal(u.cut_interval, 600);
        assert_int_equal(u.timeout, 60);
        assert_int_equal(u.backoff_max, 7200);
        assert_int_equal(u.disk_budget, 128ull * 1024 * 1024);
        assert_int_equal(u.heartbeat_days, 5);
        assert_string_equal(u.heartbeat_number, "+525512345678");
        config_free(c);
}

static void test_defaults(void **state)
{
        struct config *c = NULL;
        struct upload_config u;

        assert_int_equal(
                config_parse_text("upload { url = \"https://h/p\" }\n", "t.conf", &c, NULL), 0);
        upload_config_from(c, &u);
        assert_int_equal(u.auth, UPLOAD_AUTH_NONE);
        assert_int_equal(u.batch_events, UPLOAD_DEFAULT_EVENTS);
        assert_int_equal(u.cut_interval, UPLOAD_DEFAULT_CUT_S);
        assert_int_equal(u.disk_budget, UPLOAD_DEFAULT_BUDGET);
        assert_int_equal(u.hours_start, u.hours_end); /* any hour */
        assert_string_equal(u.device, "");            /* the host name, at start */
        assert_string_equal(u.heartbeat_number, "");  /* no heartbeat SMS */
        config_free(c);
        /* no upload section: no URL, export only */
        assert_int_equal(config_parse_text("", "t.conf", &c, NULL), 0);
        upload_config_from(c, &u);
        assert_string_equal(u.url, "");
        config_free(c);
}

static void test_errors(void **state)
{
        static const struct {
                const char *body, *error;
        } cases[] = {
                { "device = \"clinic 7\"",
                  "t.conf:3: upload: device: 'clinic 7' is not a device id; expected 1..63 of "
                  "A-Z a-z 0-9 . _ -" },
                { "auth = \"kerberos\"",
                  "t.conf:3: upload: auth: 'kerberos' is not an authentication; expected none, "
                  "bearer, basic, cert or s3" },
                { "auth = \"bearer\"",
                  "t.conf:1: upload: auth = \"bearer\" needs token = \"...\"" },
                { "auth = \"s3\"\n user = \"AKIA\"",
                  "t.conf:1: upload: auth = \"s3\" needs user (access key id) and password "
                  "(secret)" },
                { "auth = \"cert\"",
                  "t.conf:1: upload: auth = \"cert\" needs client_cert = \"/PATH\"" },
                { "token = \"two words\"",
                  "t.conf:3: upload: token: spaces, quotes or control characters; expected one "
                  "word" },
                { "hours = \"22-6\"",
                  "t.conf:3: upload: hours: '22-6' is not a time window; expected HH:MM-HH:MM "
                  "(22:00-06:00)" },
                { "hours = \"25:00-06:00\"",
                  "t.conf:3: upload: hours: '25:00-06:00' is not a time window; expected "
                  "HH:MM-HH:MM (22:00-06:00)" },
                /* a sign or a space inside is refused (sscanf's %u took them) */
                { "hours = \"+7:00-09:00\"",
                  "t.conf:3: upload: hours: '+7:00-09:00' is not a time window; expected "
                  "HH:MM-HH:MM (22:00-06:00)" },
                { "hours = \"07:00- 9:00\"",
                  "t.conf:3: upload: hours: '07:00- 9:00' is not a time window; expected "
                  "HH:MM-HH:MM (22:00-06:00)" },
                { "batch_events = \"0\"",
                  "t.conf:3: upload: batch_events: 0 is out of range; expected 1..100000" },
                { "ca_file = \"ca.pem\"",
                  "t.conf:3: upload: ca_file: 'ca.pem' is not an absolute path; expected a path "
                  "starting with /" },
                { "heartbeat_number = \"central\"", "t.conf:3: upload: heartbeat_number: 'central' "
                                                    "is not a phone number: it contains a "
                                                    "letter; expected one such as +525512345678" },
                { "heartbeat_days = \"0\"",
                  "t.conf:3: upload: heartbeat_days: 0 is out of range; expected 1..365" },
                { "timeout = \"1s\"",
                  "t.conf:3: upload: timeout: 1s is out of range; expected 5s..3600s" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                struct config *c = NULL;
                struct config_diag d = { 0 };
                snprintf(text, sizeof(text), "upload {\n url = \"https://h/p\"\n %s\n}\n",
                         cases[i].body);
                assert_int_equal(config_parse_text(text, "t.conf", &c, &d), -EINVAL);
                assert_null(c);
                assert_int_equal(d.count, 1);
                if (strcmp(d.text[0], cases[i].error) != 0)
                        fail_msg("case %zu: got \"%s\", expected \"%s\"", i, d.text[0],
                                 cases[i].error);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_keys),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
