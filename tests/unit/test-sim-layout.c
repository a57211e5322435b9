/* puente-sim's USB modem layouts: the "diag:at:nmea" parser and its errors, the by-id style
 * link names before and after renaming replugs, NMEA 0183 sentences (the checksum checked
 * against the textbook GGA example) and diagnostics frames (RFC 1662 FCS check value, escapes).
 * The simulator is a program, not a library: its pure file is compiled in directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tests/sim/args.c"
#include "tests/sim/layout.c"

struct layout_case {
        const char *spec;
        int want; /* 0 or -EINVAL */
        size_t n, at;
        enum sim_port_kind kinds[SIM_PORTS_MAX];
        const char *err; /* a piece of the message when want < 0 */
};

static const struct layout_case layout_cases[] = {
        { "at", 0, 1, 0, { SIM_PORT_AT }, NULL },
        /* Huawei E3372 in serial mode: a diagnostics port, the PCUI (AT), a GPS port */
        { "diag:at:nmea", 0, 3, 1, { SIM_PORT_DIAG, SIM_PORT_AT, SIM_PORT_NMEA }, NULL },
        /* SIMCom SIM7600: DIAG, NMEA, AT, modem (silent here), audio */
        { "diag:nmea:at:silent:silent",
          0,
          5,
          2,
          { SIM_PORT_DIAG, SIM_PORT_NMEA, SIM_PORT_AT, SIM_PORT_SILENT, SIM_PORT_SILENT },
          NULL },
        { "diag:nmea", -EINVAL, 0, 0, { 0 }, "no AT interface" },
        { "at:at", -EINVAL, 0, 0, { 0 }, "interface 1 is a second AT port" },
        { "diag:gps:at", -EINVAL, 0, 0, { 0 }, "interface 1 of 'diag:gps:at': 'gps' is not" },
        { "", -EINVAL, 0, 0, { 0 }, "interface 0 of '': '' is not" },
        { "at:", -EINVAL, 0, 0, { 0 }, "interface 1" },
        { "AT", -EINVAL, 0, 0, { 0 }, "'AT' is not" }, /* kinds are lower case */
        { "at:diag:diag:diag:diag:diag", 0, 6, 0, { 0, 1, 1, 1, 1, 1 }, NULL },
        { "at:diag:diag:diag:diag:diag:diag", -EINVAL, 0, 0, { 0 }, "more than 6 interfaces" },
};

static void test_layout_parse(void **state)
{
        for (size_t i = 0; i < sizeof(layout_cases) / sizeof(layout_cases[0]); i++) {
                const struct layout_case *c = &layout_cases[i];
                enum sim_port_kind kinds[SIM_PORTS_MAX];
                size_t n = 99, at = 99;
                char err[160] = "";
                int r = sim_layout_parse(c->spec, kinds, SIM_PORTS_MAX, &n, &at, err, sizeof(err));
                if (r != c->want)
                        fail_msg("case %zu '%s': %d, want %d (%s)", i, c->spec, r, c->want, err);
                if (r < 0) {
                        if (!strstr(err, c->err))
                                fail_msg("case %zu '%s': message '%s' lacks '%s'", i, c->spec, err,
                                         c->err);
                        assert_int_equal(n, 99); /* outputs untouched on error */
                        assert_int_equal(at, 99);
                        continue;
                }
                assert_int_equal(n, c->n);
                assert_int_equal(at, c->at);
                for (size_t k = 0; k < n; k++)
                        if (kinds[k] != c->kinds[k])
                                fail_msg("case %zu '%s': interface %zu is %s, want %s", i, c->spec,
                                         k, sim_port_kind_name(kinds[k]),
                                         sim_port_kind_name(c->kinds[k]));
        }
}

static void test_port_link(void **state)
{
        static const struct {
                unsigned renames;
                int ifnum;
                const char *want;
        } cases[] = {
                { 0, -1, "/run/s/usb-X_1" },
                { 0, 0, "/run/s/usb-X_1-if00-port0" },
                { 0, 12, "/run/s/usb-X_1-if12-port0" },
                { 1, -1, "/run/s/usb-X_1-r1" },
                { 3, 2, "/run/s/usb-X_1-r3-if02-port0" },
        };
        char buf[PATH_MAX];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(sim_port_link(buf, sizeof(buf), "/run/s/usb-X_1", cases[i].renames,
                                               cases[i].ifnum),
                                 0);
                assert_string_equal(buf, cases[i].want);
        }
        char small[20];
        assert_int_equal(sim_port_link(small, sizeof(small), "/run/s/usb-X_1", 0, 2),
                         -ENAMETOOLONG);
}

static void test_nmea(void **state)
{
        char line[SIM_NMEA_MAX];
        /* The GGA example every NMEA 0183 primer quotes, checksum 47. */
        int n = sim_nmea_sentence(line, sizeof(line),
                                  "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
        assert_int_equal(n, (int)strlen(line));
        assert_string_equal(
                line, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n");
        char gga[SIM_NMEA_MAX], rmc[SIM_NMEA_MAX];
        sim_nmea_fix(1795910400, gga, rmc, sizeof(gga)); /* 2026-11-29 00:00:00 UTC */
        assert_string_equal(gga,
                            "GPGGA,000000.00,1925.956,N,09907.992,W,1,08,0.9,2240.0,M,-7.0,M,,");
        assert_string_equal(rmc, "GPRMC,000000.00,A,1925.956,N,09907.992,W,0.0,0.0,291126,,,A");
        assert_true(sim_nmea_sentence(line, sizeof(line), gga) > 0);
        assert_true(sim_nmea_sentence(line, sizeof(line), rmc) > 0);
        /* NMEA 0183 caps a sentence at 82 characters */
        char body[90];
        memset(body, 'A', sizeof(body) - 1);
        body[sizeof(body) - 1] = '\0';
        char big[128];
        assert_int_equal(sim_nmea_sentence(big, sizeof(big), body), -ENAMETOOLONG);
        body[76] = '\0'; /* $ + 76 + *CS + CRLF = 82 */
        assert_int_equal(sim_nmea_sentence(big, sizeof(big), body), 82);
}

static void test_diag_frame(void **state)
{
        /* CRC-16/X-25 (the RFC 1662 FCS) of "123456789" is 0x906e */
        assert_int_equal(sim_fcs16((const uint8_t *)"123456789", 9), 0x906e);

        uint8_t out[SIM_DIAG_FRAME_MAX];
        size_t n = sim_diag_frame((const uint8_t *)"AT\r", 3, out);
        uint16_t fcs = sim_fcs16((const uint8_t[]){ 0x13, 'A', 'T', '\r' }, 4);
        assert_true(n >= 7);
        assert_int_equal(out[0], 0x13);
        assert_memory_equal(out + 1, "AT\r", 3);
        assert_int_equal(out[n - 1], 0x7e);
        if ((fcs & 0xff) != 0x7e && (fcs & 0xff) != 0x7d && (fcs >> 8) != 0x7e &&
            (fcs >> 8) != 0x7d) {
                assert_int_equal(n, 7);
                assert_int_equal(out[4], fcs & 0xff);
                assert_int_equal(out[5], fcs >> 8);
        }

        /* flag and escape bytes in the request are escaped; the echo is cut at 16 bytes */
        uint8_t req[40];
        memset(req, 0x7e, sizeof(req));
        n = sim_diag_frame(req, sizeof(req), out);
        assert_true(n <= SIM_DIAG_FRAME_MAX);
        assert_int_equal(out[1], 0x7d);
        assert_int_equal(out[2], 0x5e);
        size_t flags = 0;
        for (size_t i = 0; i < n; i++)
                flags += out[i] == 0x7e;
        assert_int_equal(flags, 1); /* only the closing flag */
        /* undo the escapes: 0x13, 16 echoed bytes, 2 FCS bytes, and the FCS checks */
        uint8_t raw[SIM_DIAG_FRAME_MAX];
        size_t k = 0;
        for (size_t i = 0; i + 1 < n; i++)
                raw[k++] = out[i] == 0x7d ? (uint8_t)(out[++i] ^ 0x20) : out[i];
        assert_int_equal(k, 1 + SIM_DIAG_ECHO_MAX + 2);
        uint16_t got = (uint16_t)(raw[k - 2] | raw[k - 1] << 8);
        assert_int_equal(got, sim_fcs16(raw, k - 2));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_parse),
                cmocka_unit_test(test_port_link),
                cmocka_unit_test(test_nmea),
                cmocka_unit_test(test_diag_frame),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
