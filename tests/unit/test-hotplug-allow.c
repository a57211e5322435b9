/* Which hot-plugged USB ports the allow/deny lists let puented open and probe
 * (config_autodetect_may_probe), and that the decision after the probe
 * (config_autodetect_allows) agrees with it: a port refused before the probe is one no
 * IMEI or ICCID could have let in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "daemon/config.h"

struct probe_case {
        const char *name;
        const char *lists; /* allow/deny lines of puente.conf */
        uint16_t vendor, product;
        bool may_probe;
        const char *imei; /* then this identity: allowed? */
        bool allowed;
};

#define SIM7600 0x1e0e, 0x9001
#define EC25    0x2c7c, 0x0125
#define FTDI    0x0403, 0x6001 /* a SIM800 behind an FT232 bridge */
#define IMEI_A  "861234567890123"
#define IMEI_B  "861234567890124"

static const struct probe_case cases[] = {
        { "no lists: everything", "", FTDI, true, IMEI_A, true },
        { "USB allow list: listed", "allow = {\"1e0e:9001\"}\n", SIM7600, true, IMEI_A, true },
        { "USB allow list: unlisted, never opened", "allow = {\"1e0e:9001\"}\n", FTDI, false,
          IMEI_A, false },
        { "IMEI allow list: any USB id is probed (its IMEI decides)", "allow = {" IMEI_A "}\n",
          FTDI, true, IMEI_A, true },
        { "IMEI allow list: another IMEI is probed, then refused", "allow = {" IMEI_A "}\n", FTDI,
          true, IMEI_B, false },
        { "mixed allow list: unlisted USB id probed for its IMEI",
          "allow = {\"1e0e:9001\", " IMEI_A "}\n", FTDI, true, IMEI_A, true },
        { "ICCID allow list: any USB id is probed", "allow = {\"8952140000000000009\"}\n", EC25,
          true, IMEI_A, false },
        { "USB deny: never opened, whatever the allow list",
          "allow = {" IMEI_A "}\ndeny = {\"2c7c:0125\"}\n", EC25, false, IMEI_A, false },
        { "USB deny wins over USB allow", "allow = {\"2c7c:0125\"}\ndeny = {\"2c7c:0125\"}\n", EC25,
          false, IMEI_A, false },
        { "IMEI deny: probed, then refused", "deny = {" IMEI_A "}\n", SIM7600, true, IMEI_A,
          false },
};

static void test_may_probe(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct probe_case *t = &cases[i];
                struct config_diag d;
                struct config *c = NULL;
                int r = config_parse_text(t->lists, "t.conf", &c, &d);
                if (r != 0)
                        fail_msg("%s: the lists do not parse: %s", t->name,
                                 d.count ? d.text[0] : "?");
                bool may = config_autodetect_may_probe(c, t->vendor, t->product);
                bool allowed = config_autodetect_allows(c, t->vendor, t->product, t->imei, NULL);
                /* Refused before the probe must mean refused after it, whatever the identity. */
                bool any = config_autodetect_allows(c, t->vendor, t->product, IMEI_A, NULL) ||
                           config_autodetect_allows(c, t->vendor, t->product, IMEI_B, NULL) ||
                           config_autodetect_allows(c, t->vendor, t->product, IMEI_A,
                                                    "8952140000000000009");
                config_free(c);
                if (may != t->may_probe)
                        fail_msg("%s: may_probe %d, want %d", t->name, may, t->may_probe);
                if (allowed != t->allowed)
                        fail_msg("%s: allows %d, want %d", t->name, allowed, t->allowed);
                if (!may && any)
                        fail_msg("%s: refused before the probe, allowed after it", t->name);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_may_probe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
