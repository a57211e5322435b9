/* daemon/config: puente.conf parsed into structs; realistic mistakes with the exact errors
 * (file:line and what was expected), all of them from one pass; the sample file; defaults
 * when there is no file; the lookup helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void test_defaults(void **state)
{
        struct config *c = parse_ok("# nothing but a comment\n");

        assert_string_equal(c->database, CONFIG_DEFAULT_DB);
        assert_string_equal(c->state_directory, CONFIG_DEFAULT_STATEDIR);
        assert_string_equal(c->rules_directory, "");
        assert_int_equal(c->country_code, 52);
        assert_true(c->autodetect);
        assert_int_equal(c->autodetect_rescan, CONFIG_DEFAULT_AUTODETECT_RESCAN_S);
        assert_false(c->unknown_resend);
        assert_int_equal(c->reassembly_timeout, CONFIG_DEFAULT_REASSEMBLY_S);
        assert_int_equal(c->retry.attempts, CONFIG_DEFAULT_RETRY_ATTEMPTS);
        assert_int_equal(c->send_timeout, 0); /* the modem core's own (at/modem.h) */
        assert_int_equal(c->n_modems, 0);
        assert_false(c->upload.enabled);
        config_free(c);
}

static void test_database_follows_state_directory(void **state)
{
        struct config *c = parse_ok("state_directory = /srv/puente\n");

        assert_string_equal(c->database, "/srv/puente/puente.db");
        config_free(c);
}

static const char full[] =
        "database = /srv/puente/p.db\n"
        "state_directory = \"/srv/puente\"\n"
        "rules_directory = /etc/puente/rules.d\n"
        "country = \"gt\"\n"
        "unknown_resend = yes\n"
        "reassembly_timeout = 2h\n"
        "send_rate = 10\n"
        "send_timeout = 90\n"
        "daily_limit = 0\n"
        "autodetect = false\n"
        "autodetect_rescan = 2m\n"
        "allow = { \"1e0e:9001\", 861234567890123, \"8952140000000000009\" }\n"
        "deny = 12d1:1001\n"
        "retry { attempts = 3 first_delay = 30s max_delay = 10m }\n"
        "upload {\n"
        "  url = \"https://example.org/up\"\n"
        "  interval = 15m\n"
        "  key_file = /etc/puente/upload.key\n"
        "}\n"
        "modem \"/dev/serial/by-id/usb-SimTech-if02-port0\" {\n"
        "  baud = 921600\n"
        "  flow = rtscts\n"
        "  daily_limit = 800\n"
        "}\n"
        "modem 861234567890124 { pin = \"1234\" send_rate = 0 send_timeout = 5s }\n"
        "modem norte { device = /dev/ttyUSB2 iccid = 8952140000000000001 }\n"
        "pin 8952140000000000002 { pin = 43210 }\n";

static void test_full(void **state)
{
        struct config *c = parse_ok(full);
        const struct config_modem *m;

        assert_string_equal(c->database, "/srv/puente/p.db");
        assert_string_equal(c->state_directory, "/srv/puente");
        assert_string_equal(c->country, "GT");
        assert_int_equal(c->country_code, 502);
        assert_true(c->unknown_resend);
        assert_false(c->autodetect);
        assert_int_equal(c->autodetect_rescan, 120);
        assert_int_equal(c->reassembly_timeout, 7200);
        assert_int_equal(c->allow.n_usb, 1);
        assert_int_equal(c->allow.usb[0].vendor, 0x1e0e);
        assert_int_equal(c->allow.usb[0].product, 0x9001);
        assert_int_equal(c->allow.n_imei, 1);
        assert_int_equal(c->allow.n_iccid, 1);
        assert_int_equal(c->deny.n_usb, 1);
        assert_int_equal(c->retry.attempts, 3);
        assert_int_equal(c->retry.first_delay, 30);
        assert_int_equal(c->retry.max_delay, 600);
        assert_true(c->upload.enabled);
        assert_string_equal(c->upload.url, "https://example.org/up");
        assert_int_equal(c->upload.interval, 900);
        assert_int_equal(c->n_modems, 3);

        m = &c->modems[0];
        assert_int_equal(m->key, CONFIG_KEY_DEVICE);
        assert_string_equal(m->device, "/dev/serial/by-id/usb-SimTech-if02-port0");
        assert_int_equal(m->baud, 921600);
        assert_int_equal(m->flow, CONFIG_FLOW_RTSCTS);
        assert_int_equal(m->send_rate, 10);    /* the top-level default */
        assert_int_equal(m->send_timeout, 90); /* the same */
        assert_int_equal(m->daily_limit, 800);
        assert_int_equal(m->line, 20);
        m = &c->modems[1];
        assert_int_equal(m->key, CONFIG_KEY_IMEI);
        assert_string_equal(m->imei, "861234567890124");
        assert_string_equal(m->pin, "1234");
        assert_int_equal(m->send_rate, 0); /* no pacing */
        assert_int_equal(m->send_timeout, 5);
        assert_int_equal(m->daily_limit, 0);
        assert_int_equal(m->baud, CONFIG_DEFAULT_BAUD);
        m = &c->modems[2];
        assert_int_equal(m->key, CONFIG_KEY_NAME);
        assert_string_equal(m->device, "/dev/ttyUSB2");
        assert_string_equal(m->iccid, "8952140000000000001");
        assert_int_equal(c->n_pins, 1);

        /* lookups */
        assert_ptr_equal(config_modem_find(c, "/dev/ttyUSB0", "861234567890124", NULL),
                         &c->modems[1]);
        assert_ptr_equal(config_modem_find(c, "/dev/ttyUSB2", NULL, NULL), &c->modems[2]);
        /* IMEI wins over device path */
        assert_ptr_equal(config_modem_find(c, "/dev/ttyUSB2", "861234567890124", NULL),
                         &c->modems[1]);
        assert_null(config_modem_find(c, "/dev/ttyACM0", "000000000000000", "1"));
        assert_string_equal(config_pin_for(c, &c->modems[1], NULL), "1234");
        assert_string_equal(config_pin_for(c, &c->modems[1], "8952140000000000002"), "43210");
        assert_null(config_pin_for(c, &c->modems[0], "8952140000000000003"));
        assert_true(config_autodetect_allows(c, 0x1e0e, 0x9001, NULL, NULL));
        assert_true(config_autodetect_allows(c, 0, 0, "861234567890123", NULL));
        assert_false(config_autodetect_allows(c, 0x2c7c, 0x0125, NULL, NULL)); /* not allowed */
        assert_false(config_autodetect_allows(c, 0x12d1, 0x1001, "861234567890123", NULL));
        assert_int_equal(config_retry_delay(c, 1), 30);
        assert_int_equal(config_retry_delay(c, 2), 60);
        assert_int_equal(config_retry_delay(c, 5), 480);
        assert_int_equal(config_retry_delay(c, 6), 600);
        assert_int_equal(config_retry_delay(c, 40), 600);
        config_free(c);
}

struct bad_case {
        const char *text;
        const char *errors[4]; /* the exact texts, in order; NULL-terminated */
};

static const struct bad_case bad[] = {
        { "databse = /var/lib/p.db\n",
          { "t.conf:1: unknown key 'databse'; expected one of: database, state_directory, "
            "rules_directory, country, default_country_code, autodetect, autodetect_rescan, allow, "
            "deny, "
            "unknown_resend, reassembly_timeout, send_rate, send_timeout, daily_limit, "
            "staff_replies_per_hour, "
            "retry, upload, modem, pin, clinic" } },
        { "modem m1 {\n  device = /dev/ttyUSB0\n  speed = 9600\n}\n",
          { "t.conf:3: unknown key 'speed' in modem; expected one of: device, baud, flow, pin, "
            "send_rate, send_timeout, daily_limit, iccid, imei" } },
        { "modem m1 {\n  device = /dev/ttyUSB0\n\n  baud = 9601\n}\n",
          { "t.conf:4: modem \"m1\": baud: '9601' is not a serial speed; expected one of 9600, "
            "19200, 38400, 57600, 115200, 230400, 460800, 921600" } },
        { "database = var/lib/p.db\n",
          { "t.conf:1: database: 'var/lib/p.db' is not an absolute path; expected a path "
            "starting with /" } },
        { "send_rate = fast\n",
          { "t.conf:1: send_rate: 'fast' is not a whole number; expected 0..60" } },
        { "send_rate = 61\n", { "t.conf:1: send_rate: 61 is out of range; expected 0..60" } },
        { "send_timeout = 0\n",
          { "t.conf:1: send_timeout: 0 is out of range; expected 1s..600s" } },
        { "modem m1 {\n  device = /dev/ttyUSB0\n  send_timeout = 11m\n}\n",
          { "t.conf:3: modem \"m1\": send_timeout: 11m is out of range; expected 1s..600s" } },
        { "modem m1 {\n  device = /dev/ttyUSB0\n  send_timeout = soon\n}\n",
          { "t.conf:3: modem \"m1\": send_timeout: 'soon' is not a duration; expected seconds "
            "or a number with s, m, h or d (90s, 15m, 6h, 1d)" } },
        { "unknown_resend = maybe\n",
          { "t.conf:1: unknown_resend: 'maybe' is not a boolean; expected true or false" } },
        { "reassembly_timeout = 10 minutes\n",
          { "t.conf:1: unexpected 'minutes'; expected KEY = VALUE (quote a value that has "
            "spaces)" } },
        { "autodetect_rescan = 0\n",
          { "t.conf:1: autodetect_rescan: 0 is out of range; expected 1s..86400s" } },
        { "autodetect_rescan = 2d\n",
          { "t.conf:1: autodetect_rescan: 2d is out of range; expected 1s..86400s" } },
        { "autodetect_rescan = often\n",
          { "t.conf:1: autodetect_rescan: 'often' is not a duration; expected seconds or a "
            "number with s, m, h or d (90s, 15m, 6h, 1d)" } },
        { "reassembly_timeout = 10x\n",
          { "t.conf:1: reassembly_timeout: '10x' is not a duration; expected seconds or a number "
            "with s, m, h or d (90s, 15m, 6h, 1d)" } },
        { "country = \"XX\"\n",
          { "t.conf:1: country: 'XX' is not a country Puente knows; expected an ISO 3166 code "
            "such as MX, GT, US, or set default_country_code instead" } },
        { "country = MX\n\ndefault_country_code = 502\n",
          { "t.conf:3: default_country_code: 502 disagrees with country MX (line 1), whose code "
            "is 52; expected one of the two" } },
        { "modem m1 { flow = xonxoff }\n",
          { "t.conf:1: modem \"m1\": flow: 'xonxoff' is not a flow control; expected \"rtscts\" "
            "or \"none\"",
            "t.conf:1: modem \"m1\": no identity; expected device, imei or iccid in the section, "
            "or a path, IMEI or ICCID as its name" } },
        { "modem 86123456789012 { pin = 12 }\n",
          { "t.conf:1: modem \"86123456789012\": pin: '12' is not a SIM PIN; expected 4 to 8 "
            "digits",
            "t.conf:1: modem \"86123456789012\": no identity; expected device, imei or iccid in "
            "the section, or a path, IMEI or ICCID as its name" } },
        { "modem /dev/ttyUSB0 { }\nmodem \"/dev/ttyUSB0\" { }\n",
          { "t.conf:2: duplicate section modem \"/dev/ttyUSB0\" (first at line 1)" } },
        { "modem a { device = /dev/ttyUSB0 }\nmodem b { device = /dev/ttyUSB0 }\n",
          { "t.conf:2: modem \"b\": same device as modem \"a\" (line 1)" } },
        { "modem 861234567890123 { imei = 861234567890124 }\n",
          { "t.conf:1: modem \"861234567890123\": imei 861234567890124 differs from the "
            "section's IMEI" } },
        { "modem { device = /dev/ttyUSB0 }\n",
          { "t.conf:1: section 'modem' needs a name: expected modem NAME { ... }" } },
        { "retry x { attempts = 2 }\n",
          { "t.conf:1: section 'retry' takes no name: expected retry { ... }" } },
        { "database { }\n", { "t.conf:1: 'database' is a key: expected database = VALUE" } },
        { "modem = /dev/ttyUSB0\n",
          { "t.conf:1: 'modem' is a section: expected modem NAME { ... }" } },
        { "clinica norte { phone = 1 }\n",
          { "t.conf:1: unknown section 'clinica'; expected one of: database, state_directory, "
            "rules_directory, country, default_country_code, autodetect, autodetect_rescan, allow, "
            "deny, "
            "unknown_resend, reassembly_timeout, send_rate, send_timeout, daily_limit, "
            "staff_replies_per_hour, "
            "retry, upload, modem, pin, clinic" } },
        { "allow = { \"1e0e:9001\", \"usb0\", 12345 }\n",
          { "t.conf:1: allow: entry 2 'usb0' is neither a USB vendor:product (1e0e:9001), an "
            "IMEI (15 digits) nor an ICCID (18 to 22 digits)",
            "t.conf:1: allow: entry 3 '12345' is neither a USB vendor:product (1e0e:9001), an "
            "IMEI (15 digits) nor an ICCID (18 to 22 digits)" } },
        { "default_country_code = 115\n",
          { "t.conf:1: default_country_code: 115 is not a country calling code (E.164 codes are "
            "prefix-free: none but 1 and 7 starts with 1 or 7, none with a two-digit code); "
            "expected one such as 52, 1 or 502" } },
        { "\ndefault_country_code = 521\n",
          { "t.conf:2: default_country_code: 521 is not a country calling code (E.164 codes are "
            "prefix-free: none but 1 and 7 starts with 1 or 7, none with a two-digit code); "
            "expected one such as 52, 1 or 502" } },
        { "allow = { \"1e0:e9001\", \"1e0e:900g\" }\n",
          { "t.conf:1: allow: entry 1 '1e0:e9001' is neither a USB vendor:product (1e0e:9001), "
            "an IMEI (15 digits) nor an ICCID (18 to 22 digits)",
            "t.conf:1: allow: entry 2 '1e0e:900g' is neither a USB vendor:product (1e0e:9001), "
            "an IMEI (15 digits) nor an ICCID (18 to 22 digits)" } },
        { "pin 1234 { pin = 1234 }\n",
          { "t.conf:1: pin \"1234\": not an ICCID; expected pin ICCID { pin = \"1234\" } with 18 "
            "to 22 digits" } },
        { "pin 8952140000000000002 { }\n",
          { "t.conf:1: pin \"8952140000000000002\": no pin; expected pin = \"1234\"" } },
        { "retry {\n attempts = 3\n first_delay = 10m\n max_delay = 1m\n}\n",
          { "t.conf:4: retry: max_delay 60s is shorter than first_delay 600s" } },
        { "upload { interval = 15m }\n",
          { "t.conf:1: upload: no url; expected url = \"https://HOST/PATH\"" } },
        { "upload { url = ftp://x/ }\n",
          { "t.conf:1: upload: url: 'ftp://x/' is not a URL; expected https://HOST/PATH" } },
        { "database = \"/a\n", { "t.conf:2: premature end of file" } },
        { "send_rate = 5\n\nsend_rate = 7\n",
          { "t.conf:3: send_rate given twice (first at line 1)" } },
        { "allow = 1e0e:9001\nallow += 12d1:1001\nmodem a {\n device = /dev/ttyUSB0\n",
          { "t.conf:3: section not closed at the end of the file; expected }" } },
};

static void test_bad(void **state)
{
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct config_diag d;
                struct config *c = NULL;
                unsigned want = 0;
                int r = config_parse_text(bad[i].text, "t.conf", &c, &d);

                while (want < 4 && bad[i].errors[want])
                        want++;
                if (r != -EINVAL || d.count != want) {
                        for (unsigned k = 0; k < d.count && k < CONFIG_ERRORS_MAX; k++)
                                fprintf(stderr, "  got: %s\n", d.text[k]);
                        fail_msg("case %zu (%s): r=%d, %u errors, want %u", i, bad[i].text, r,
                                 d.count, want);
                }
                for (unsigned k = 0; k < want; k++)
                        if (strcmp(d.text[k], bad[i].errors[k]) != 0)
                                fail_msg("case %zu error %u:\n  got  %s\n  want %s", i, k,
                                         d.text[k], bad[i].errors[k]);
                assert_null(c);
        }
}

/* A file with a mistake on many lines: every one is reported, each with its line. */
static void test_all_errors_in_one_pass(void **state)
{
        static const char text[] = "database = relative.db\n"   /* 1 */
                                   "send_rate = 100\n"          /* 2 */
                                   "colour = blue\n"            /* 3 */
                                   "modem m1 {\n"               /* 4 */
                                   "  device = /dev/ttyUSB0\n"  /* 5 */
                                   "  baud = 115201\n"          /* 6 */
                                   "  parity = even\n"          /* 7 */
                                   "}\n"                        /* 8 */
                                   "retry { attempts = 99 }\n"  /* 9 */
                                   "autodetect = sometimes\n"   /* 10 */
                                   "reassembly_timeout = 5s\n"; /* 11 */
        static const unsigned lines[] = { 1, 2, 3, 6, 7, 9, 10, 11 };
        struct config_diag d;
        struct config *c = NULL;

        assert_int_equal(config_parse_text(text, "t.conf", &c, &d), -EINVAL);
        for (unsigned k = 0; k < d.count && k < CONFIG_ERRORS_MAX; k++)
                fprintf(stderr, "  %s\n", d.text[k]);
        assert_int_equal(d.count, sizeof(lines) / sizeof(lines[0]));
        for (unsigned k = 0; k < d.count; k++) {
                char prefix[32];
                snprintf(prefix, sizeof(prefix), "t.conf:%u: ", lines[k]);
                assert_memory_equal(d.text[k], prefix, strlen(prefix));
        }
}

static void test_too_many_errors(void **state)
{
        char text[CONFIG_ERRORS_MAX * 2 * 16];
        struct config_diag d;
        struct config *c = NULL;
        size_t n = 0;

        for (int i = 0; i < CONFIG_ERRORS_MAX * 2; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus%d = 1\n", i);
        assert_int_equal(config_parse_text(text, "t.conf", &c, &d), -EINVAL);
        assert_int_equal(d.count, CONFIG_ERRORS_MAX * 2); /* counted, first ones kept */
        assert_non_null(strstr(d.text[CONFIG_ERRORS_MAX - 1], ":32: unknown key 'bogus31'"));
}

static void test_files(void **state)
{
        char dir[] = "/tmp/puente-test-config-XXXXXX", path[128], sample[512];
        const char *src = getenv("PUENTE_SRC");
        struct config_diag d;
        struct config *c = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        /* an explicit path that does not exist is an error; the default one is not */
        snprintf(path, sizeof(path), "%s/none.conf", dir);
        assert_int_equal(config_load(path, &c, &d), -ENOENT);
        assert_int_equal(d.count, 1);
        assert_non_null(strstr(d.text[0], "none.conf: No such file"));
        if (access(CONFIG_DEFAULT_PATH, F_OK) != 0) {
                assert_int_equal(config_load(NULL, &c, &d), 0);
                assert_string_equal(c->source, "");
                assert_string_equal(c->database, CONFIG_DEFAULT_DB);
                c = config_free(c);
        }
        /* errors name the file */
        snprintf(path, sizeof(path), "%s/bad.conf", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("# a comment\nbaud = 9600\n", f);
        fclose(f);
        assert_int_equal(config_load(path, &c, &d), -EINVAL);
        assert_int_equal(d.count, 1);
        assert_memory_equal(d.text[0], path, strlen(path));
        assert_non_null(strstr(d.text[0], ":2: unknown key 'baud'"));
        unlink(path);
        rmdir(dir);

        /* the shipped sample parses as it is */
        snprintf(sample, sizeof(sample), "%s/etc/puente.conf", src ? src : ".");
        assert_int_equal(config_load(sample, &c, &d), 0);
        assert_string_equal(c->country, "MX");
        assert_int_equal(c->retry.first_delay, 60);
        assert_string_equal(c->source, sample);
        config_free(c);
}

static void test_nul_byte(void **state)
{
        char dir[] = "/tmp/puente-test-config-XXXXXX", path[128];
        struct config_diag d;
        struct config *c = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/bin.conf", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fwrite("database = /a\0\n", 1, 16, f);
        fclose(f);
        assert_int_equal(config_load(path, &c, &d), -EINVAL);
        assert_non_null(strstr(d.text[0], "NUL byte"));
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_database_follows_state_directory),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_all_errors_in_one_pass),
                cmocka_unit_test(test_too_many_errors),
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_nul_byte),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
