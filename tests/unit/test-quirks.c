/* Tests for at/quirks: the USB table (AT port by interface, flags), model prefixes, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "at/quirks.h"

static void test_quirks_table(void **state)
{
        (void)state;
        static const struct {
                uint16_t vid, pid;
                int iface;
                int is_at;
                unsigned quirk;
        } usb[] = {
                { 0x12d1, 0x1001, 2, 1, AT_QUIRK_CURC },
                { 0x12d1, 0x1001, 0, 0, AT_QUIRK_CURC },
                { 0x12d1, 0x1436, 3, -1, AT_QUIRK_CURC },
                { 0x2c7c, 0x0125, 2, 1, 0 },
                { 0x2c7c, 0x0125, 3, 0, 0 },
                { 0x1e0e, 0x9001, 2, 1, 0 },
                { 0x1199, 0x68c0, 3, 1, AT_QUIRK_CFUN_SPLIT },
                { 0x1234, 0x5678, 0, -1, 0 },
        };
        for (size_t k = 0; k < sizeof(usb) / sizeof(usb[0]); k++) {
                assert_int_equal(at_quirks_is_at_port(usb[k].vid, usb[k].pid, usb[k].iface),
                                 usb[k].is_at);
                const struct at_quirk_usb *q = at_quirks_by_usb(usb[k].vid, usb[k].pid);
                if (usb[k].vid == 0x1234) {
                        assert_null(q);
                        continue;
                }
                assert_non_null(q);
                assert_int_equal(q->quirks, usb[k].quirk);
        }
        assert_int_equal(at_quirks_is_at_port(0x12d1, 0x1001, -1), -1);
        assert_true(at_quirks_by_model("HUAWEI", "E3131") & AT_QUIRK_CURC);
        assert_true(at_quirks_by_model("SIMCOM_Ltd", "SIMCOM_SIM800L") & AT_QUIRK_AUTOBAUD);
        assert_int_equal(at_quirks_by_model("Quectel", "EC25"), 0);
        assert_int_equal(at_quirks_by_model(NULL, NULL), 0);
        assert_string_equal(at_quirk_name(AT_QUIRK_CURC), "curc");
        assert_string_equal(at_quirk_name(AT_QUIRK_SMS_SLOW), "sms-slow");
        assert_string_equal(at_quirk_name(0), "?");
        assert_string_equal(at_quirk_name(AT_QUIRK_CURC | AT_QUIRK_CNMA), "?");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quirks_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
