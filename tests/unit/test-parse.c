/* Tests for at/parse: every response form from real modems' bytes, then malformed lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "at/parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_cmgs(void **state)
{
        static const struct {
                const char *line;
                int ret, mr;
        } t[] = {
                { "+CMGS: 12", 0, 12 },
                { "+CMGS: 0", 0, 0 },
                { "+CMGS: 255", 0, 255 },
                { "+CMGS:7", 0, 7 },                             /* no space */
                { "+CMGS: 44,\"26/11/27,14:05:33-24\"", 0, 44 }, /* with <scts> */
                { "+CMGS: 256", -EBADMSG, 0 },
                { "+CMGS: ", -EBADMSG, 0 },
                { "+CMGS: x", -EBADMSG, 0 },
                { "+CMGW: 3", -EBADMSG, 0 },
                { "OK", -EBADMSG, 0 },
        };
        for (size_t i = 0; i < N(t); i++) {
                int mr = -99;
                int r = at_parse_cmgs(t[i].line, &mr);
                if (r != t[i].ret)
                        fail_msg("%s: got %d, want %d", t[i].line, r, t[i].ret);
                assert_int_equal(mr, r == 0 ? t[i].mr : -99); /* untouched on failure */
        }
}

static void test_cmti_cdsi(void **state)
{
        struct at_msg_ref r;
        assert_int_equal(at_parse_cmti("+CMTI: \"SM\",3", &r), 0);
        assert_string_equal(r.mem, "SM");
        assert_int_equal(r.index, 3);
        assert_int_equal(at_parse_cmti("+CMTI: \"ME\", 27", &r), 0);
        assert_string_equal(r.mem, "ME");
        assert_int_equal(r.index, 27);
        assert_int_equal(at_parse_cmti("+CMTI: SM,4", &r), 0); /* unquoted */
        assert_int_equal(r.index, 4);
        assert_int_equal(at_parse_cdsi("+CDSI: \"SR\",1", &r), 0);
        assert_string_equal(r.mem, "SR");
        assert_int_equal(at_parse_cmti("+CMTI: \"SM\"", &r), -EBADMSG);
        assert_int_equal(at_parse_cmti("+CMTI: \"SM\",-1", &r), -EBADMSG);
        assert_int_equal(at_parse_cmti("+CMTI: ,1", &r), -EBADMSG);
        assert_int_equal(at_parse_cmti("+CMTI: \"SM,1", &r), -EBADMSG);
        assert_int_equal(at_parse_cmti("+CMTI: \"TOOLONGMEM\",1", &r), -ENOBUFS);
        assert_int_equal(at_parse_cdsi("+CMTI: \"SM\",1", &r), -EBADMSG);
        assert_int_equal(at_parse_cmti(NULL, &r), -EINVAL);
}

struct hdr_case {
        int (*fn)(const char *, struct at_pdu_header *);
        const char *line;
        int ret;
        int index, stat;
        const char *alpha;
        int length;
};

static const struct hdr_case hdr_cases[] = {
        /* 27.005 forms */
        { at_parse_cmt, "+CMT: ,38", 0, -1, -1, "", 38 },
        { at_parse_cmt, "+CMT: \"\",38", 0, -1, -1, "", 38 },
        { at_parse_cmt, "+CMT: \"Clinica\",24", 0, -1, -1, "Clinica", 24 },
        { at_parse_cmt, "+CMT: 22", 0, -1, -1, "", 22 }, /* without <alpha> */
        { at_parse_cmt, "+CMT: ,", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmt, "+CMT: a,b,c", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cds, "+CDS: 26", 0, -1, -1, "", 26 },
        { at_parse_cds, "+CDS: ,26", 0, -1, -1, "", 26 }, /* empty first field */
        { at_parse_cds, "+CDS: 1,26", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cds, "+CDS: ", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgl, "+CMGL: 0,1,,38", 0, 0, 1, "", 38 },
        { at_parse_cmgl, "+CMGL: 5,0,\"Ana\",22", 0, 5, 0, "Ana", 22 },
        /* UCS2 name in hex (+CSCS="UCS2"): kept as given. */
        { at_parse_cmgl, "+CMGL: 1,1,\"004A006F00730065\",22", 0, 1, 1, "004A006F00730065", 22 },
        { at_parse_cmgl, "+CMGL: 3,0,30", 0, 3, 0, "", 30 },             /* no <alpha> field */
        { at_parse_cmgl, "+CMGL: 4,,,22", 0, 4, -1, "", 22 },            /* no status either */
        { at_parse_cmgl, "+CMGL: 2,\"REC READ\",,22", 0, 2, 1, "", 22 }, /* text-mode word */
        { at_parse_cmgl, "+CMGL: 2,5,,22", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgl, "+CMGL: ,1,,22", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgl, "+CMGL: 1", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgl, "+CMGL: 1,1,,22,9", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgl, "+CMGL: 1,1,,-3", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgr, "+CMGR: 0,,40", 0, -1, 0, "", 40 },
        { at_parse_cmgr, "+CMGR: 1,\"Juan\",40", 0, -1, 1, "Juan", 40 },
        { at_parse_cmgr, "+CMGR: ,,22", 0, -1, -1, "", 22 }, /* no status, no name */
        { at_parse_cmgr, "+CMGR: 1,22", 0, -1, 1, "", 22 },
        { at_parse_cmgr, "+CMGR: 22", 0, -1, -1, "", 22 },
        { at_parse_cmgr, "+CMGR: 0,,", -EBADMSG, 0, 0, "", 0 },
        { at_parse_cmgr, "+CMGL: 0,,40", -EBADMSG, 0, 0, "", 0 },
};

static void test_pdu_headers(void **state)
{
        for (size_t i = 0; i < N(hdr_cases); i++) {
                const struct hdr_case *c = &hdr_cases[i];
                struct at_pdu_header h;
                memset(&h, 0x5a, sizeof(h));
                int r = c->fn(c->line, &h);
                if (r != c->ret)
                        fail_msg("%s: got %d, want %d", c->line, r, c->ret);
                if (r < 0) {
                        assert_int_equal(h.length, 0x5a5a5a5a);
                        continue;
                }
                if (h.index != c->index || h.stat != c->stat || strcmp(h.alpha, c->alpha) != 0 ||
                    h.length != c->length)
                        fail_msg("%s: got index %d stat %d alpha \"%s\" length %d", c->line,
                                 h.index, h.stat, h.alpha, h.length);
        }
}

static void test_cpms(void **state)
{
        struct at_cpms c;
        assert_int_equal(at_parse_cpms("+CPMS: \"SM\",3,50,\"SM\",3,50,\"SM\",3,50", &c), 0);
        assert_int_equal(c.n, 3);
        assert_string_equal(c.s[2].mem, "SM");
        assert_int_equal(c.s[0].used, 3);
        assert_int_equal(c.s[0].total, 50);
        assert_int_equal(at_parse_cpms("+CPMS: \"ME\",0,255", &c), 0);
        assert_int_equal(c.n, 1);
        assert_string_equal(c.s[0].mem, "ME");
        assert_int_equal(c.s[0].total, 255);
        assert_int_equal(at_parse_cpms("+CPMS: \"SM\",3", &c), -EBADMSG);
        assert_int_equal(at_parse_cpms("+CPMS: \"SM\",x,50", &c), -EBADMSG);
        assert_int_equal(at_parse_cpms("+CPMS: ,1,50", &c), -EBADMSG);

        struct at_cpms_support s;
        assert_int_equal(
                at_parse_cpms_support(
                        "+CPMS: (\"ME\",\"SM\",\"SR\"),(\"ME\",\"SM\"),(\"ME\",\"SM\")", &s),
                0);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.mem[0], AT_MEM_ME | AT_MEM_SM | AT_MEM_SR);
        assert_int_equal(s.mem[1], AT_MEM_ME | AT_MEM_SM);
        assert_int_equal(at_parse_cpms_support("+CPMS: (\"SM\",\"XX\")", &s), 0);
        assert_int_equal(s.mem[0], AT_MEM_SM);
        assert_int_equal(at_parse_cpms_support("+CPMS: \"SM\",3,30", &s), -EBADMSG);
        assert_int_equal(at_parse_cpms_support("+CPMS: (\"SM\"", &s), -EBADMSG);
        assert_int_equal(at_mem_from_name("mt"), AT_MEM_MT);
        assert_int_equal(at_mem_from_name("XX"), 0);
}

static void test_cnmi_support(void **state)
{
        struct at_cnmi_support c;
        assert_int_equal(at_parse_cnmi_support("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", &c), 0);
        assert_int_equal(c.mode, 0x7);
        assert_int_equal(c.mt, 0xf);
        assert_int_equal(c.bm, 0x5);
        assert_int_equal(c.ds, 0x7);
        assert_int_equal(c.bfr, 0x3);
        /* Only three lists, one of them a single value. */
        assert_int_equal(at_parse_cnmi_support("+CNMI: (0,1,2),(0,1,2,3),(0)", &c), 0);
        assert_int_equal(c.mode, 0x7);
        assert_int_equal(c.bm, 0x1);
        assert_int_equal(c.ds, 0);
        assert_int_equal(at_parse_cnmi_support("+CNMI: 0-2,1", &c), 0);
        assert_int_equal(c.mode, 0x7);
        assert_int_equal(c.mt, 0x2);
        assert_int_equal(at_parse_cnmi_support("+CNMI: (2-0)", &c), -EBADMSG);
        assert_int_equal(at_parse_cnmi_support("+CNMI: (a)", &c), -EBADMSG);
        assert_int_equal(at_parse_cnmi_support("+CNMI: (0),(0),(0),(0),(0),(0)", &c), -EBADMSG);
        assert_int_equal(at_parse_cnmi_support("+CNMI: ", &c), -EBADMSG);
}

static void test_csca(void **state)
{
        struct at_csca c;
        assert_int_equal(at_parse_csca("+CSCA: \"+5215550000000\",145", &c), 0);
        assert_string_equal(c.number, "+5215550000000");
        assert_int_equal(c.type, 145);
        assert_int_equal(at_parse_csca("+CSCA: \"\"", &c), 0);
        assert_string_equal(c.number, "");
        assert_int_equal(c.type, -1);
        assert_int_equal(at_parse_csca("+CSCA: \"+44\",x", &c), -EBADMSG);
}

static void test_cmgd_support(void **state)
{
        struct at_cmgd_support c;
        assert_int_equal(at_parse_cmgd_support("+CMGD: (1,2,5-7),(0-4)", &c), 0);
        assert_int_equal(c.index.n, 3);
        assert_true(at_ranges_contain(&c.index, 6));
        assert_true(at_ranges_contain(&c.index, 1));
        assert_false(at_ranges_contain(&c.index, 3));
        assert_int_equal(c.delflag, 0x1f);
        assert_int_equal(at_parse_cmgd_support("+CMGD: (),(0-4)", &c), 0);
        assert_int_equal(c.index.n, 0);
        assert_int_equal(at_parse_cmgd_support("+CMGD: (0-49)", &c), 0);
        assert_int_equal(c.delflag, 0);
        assert_true(at_ranges_contain(&c.index, 49));
        assert_int_equal(at_parse_cmgd_support("+CMGD: (1,,2)", &c), -EBADMSG);
        assert_int_equal(
                at_parse_cmgd_support("+CMGD: (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)", &c),
                -ENOBUFS);
}

static void test_csq(void **state)
{
        static const struct {
                int rssi, ret, dbm, bars;
        } t[] = {
                { 0, 0, -113, 0 },     { 1, 0, -111, 0 },     { 3, 0, -107, 0 },
                { 4, 0, -105, 1 },     { 7, 0, -99, 1 },      { 8, 0, -97, 2 },
                { 12, 0, -89, 2 },     { 13, 0, -87, 3 },     { 17, 0, -79, 3 },
                { 18, 0, -77, 4 },     { 31, 0, -51, 4 },     { 99, -ENODATA, 0, 0 },
                { 32, -EINVAL, 0, 0 }, { -1, -EINVAL, 0, 0 },
        };
        for (size_t i = 0; i < N(t); i++) {
                int dbm = 0;
                assert_int_equal(at_csq_to_dbm(t[i].rssi, &dbm), t[i].ret);
                assert_int_equal(dbm, t[i].dbm);
                assert_int_equal(at_csq_to_bars(t[i].rssi), t[i].bars);
        }
        struct at_csq q;
        assert_int_equal(at_parse_csq("+CSQ: 17,99", &q), 0);
        assert_int_equal(q.rssi, 17);
        assert_int_equal(q.ber, 99);
        assert_int_equal(at_parse_csq("+CSQ: 99,99", &q), 0);
        assert_int_equal(at_parse_csq("+CSQ: 40,0", &q), -EBADMSG);
        assert_int_equal(at_parse_csq("+CSQ: 17", &q), -EBADMSG);
        assert_int_equal(at_parse_csq("+CSQ: 17,8", &q), -EBADMSG);
        assert_int_equal(at_parse_csq(NULL, &q), -EINVAL);
        assert_int_equal(at_parse_csq("+CSQ: 1,1", NULL), -EINVAL);
}

static void test_creg(void **state)
{
        static const struct {
                const char *line;
                bool query;
                int ret, n, stat;
                long lac, ci;
                int act;
        } t[] = {
                { "+CREG: 1", false, 0, -1, 1, -1, -1, -1 },
                { "+CREG: 5,\"00C3\",\"0000D9A7\"", false, 0, -1, 5, 0xC3, 0xD9A7, -1 },
                { "+CREG: 2,1,\"00C3\",\"0000D9A7\"", true, 0, 2, 1, 0xC3, 0xD9A7, -1 },
                { "+CREG: 0,1", true, 0, 0, 1, -1, -1, -1 },
                { "+CREG: 1,5", false, 0, -1, 1, 5, -1, -1 }, /* URC: the 5 is a lac */
                { "+CREG: 2,1,A13F,10E5,2", true, 0, 2, 1, 0xA13F, 0x10E5, 2 }, /* bare hex */
                { "+CGREG: 2,1,\"3A0B\",\"0C84F01\",7,\"01\"", true, 0, 2, 1, 0x3A0B, 0xC84F01, 7 },
                { "+CEREG: 2,1,\"3A0B\",\"0C84F01\",7", true, 0, 2, 1, 0x3A0B, 0xC84F01, 7 },
                { "+CEREG: 1,\"3A0B\",\"0C84F02\",7", false, 0, -1, 1, 0x3A0B, 0xC84F02, 7 },
                { "+CEREG: 1,,,7", false, 0, -1, 1, -1, -1, 7 },
                { "+CREG: ", false, -EBADMSG, 0, 0, 0, 0, 0 },
                { "+CREG: 1", true, -EBADMSG, 0, 0, 0, 0, 0 },
                { "+CREG: 2,1,\"XYZ\",\"1\"", true, -EBADMSG, 0, 0, 0, 0, 0 },
                { "+CREG: 12", false, -EBADMSG, 0, 0, 0, 0, 0 },
                { "+COPS: 1", false, -EBADMSG, 0, 0, 0, 0, 0 },
        };
        for (size_t i = 0; i < N(t); i++) {
                struct at_creg c;
                int r = at_parse_creg(t[i].line, t[i].query, &c);
                if (r != t[i].ret)
                        fail_msg("%s: got %d, want %d", t[i].line, r, t[i].ret);
                if (r < 0)
                        continue;
                if (c.n != t[i].n || c.stat != t[i].stat || c.lac != t[i].lac || c.ci != t[i].ci ||
                    c.act != t[i].act)
                        fail_msg("%s: n %d stat %d lac %lx ci %lx act %d", t[i].line, c.n, c.stat,
                                 c.lac, c.ci, c.act);
        }
}

static void test_cops(void **state)
{
        struct at_cops c;
        assert_int_equal(at_parse_cops("+COPS: 0,0,\"TELCEL\",7", &c), 0);
        assert_int_equal(c.mode, 0);
        assert_int_equal(c.format, 0);
        assert_string_equal(c.oper, "TELCEL");
        assert_int_equal(c.act, 7);
        assert_int_equal(at_parse_cops("+COPS: 0,2,\"334020\"", &c), 0);
        assert_string_equal(c.oper, "334020");
        assert_int_equal(c.act, -1);
        assert_int_equal(at_parse_cops("+COPS: 0", &c), 0); /* not registered */
        assert_int_equal(c.format, -1);
        assert_string_equal(c.oper, "");
        assert_int_equal(at_parse_cops("+COPS: 0,0", &c), -EBADMSG);
        assert_int_equal(at_parse_cops("+COPS: 9", &c), -EBADMSG);
}

static void test_cpin(void **state)
{
        static const struct {
                const char *line;
                int ret;
                enum at_pin_state st;
        } t[] = {
                { "+CPIN: READY", 0, AT_PIN_READY },
                { "+CPIN: \"READY\"", 0, AT_PIN_READY },
                { "+CPIN: SIM PIN", 0, AT_PIN_SIM_PIN },
                { "+CPIN: SIM PUK", 0, AT_PIN_SIM_PUK },
                { "+CPIN: SIM PIN2", 0, AT_PIN_SIM_PIN2 },
                { "+CPIN: PH-SIM PIN", 0, AT_PIN_PH_SIM_PIN },
                { "+CPIN: PH-NET PIN", 0, AT_PIN_OTHER },
                { "+CPIN: ", -EBADMSG, 0 },
                { "+CPIN: A,B", -EBADMSG, 0 },
        };
        for (size_t i = 0; i < N(t); i++) {
                struct at_cpin c;
                int r = at_parse_cpin(t[i].line, &c);
                if (r != t[i].ret)
                        fail_msg("%s: got %d, want %d", t[i].line, r, t[i].ret);
                if (r == 0)
                        assert_int_equal(c.state, t[i].st);
        }
}

static void test_clock_and_network_time(void **state)
{
        struct at_time t;
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27,14:06:01-24\"", &t), 0);
        assert_true(t.has_time);
        assert_int_equal(t.year, 2026);
        assert_int_equal(t.mon, 11);
        assert_int_equal(t.day, 27);
        assert_int_equal(t.hour, 14);
        assert_int_equal(t.min, 6);
        assert_int_equal(t.sec, 1);
        assert_true(t.has_tz);
        assert_int_equal(t.tz_quarters, -24);
        assert_int_equal(at_parse_cclk("+CCLK: \"04/01/01,00:00:49+22\"", &t), 0); /* UTC+5:30 */
        assert_int_equal(t.tz_quarters, 22);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27,14:06:01\"", &t), 0);
        assert_false(t.has_tz);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/13/27,14:06:01+00\"", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27 14:06:01\"", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: 26/11/27,14:06:01", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27,14:06:01+99\"", &t), -EBADMSG);
        /* 27.007 8.15: two digits each; a sign or a space in a part is refused. */
        assert_int_equal(at_parse_cclk("+CCLK: \"26/+1/27,14:06:01\"", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/ 1/27,14:06:01\"", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27,14:06:1\"", &t), -EBADMSG);
        assert_int_equal(at_parse_cclk("+CCLK: \"26/11/27,14:06\"", &t), -EBADMSG);

        assert_int_equal(at_parse_ctzv("+CTZV: -24", &t), 0);
        assert_false(t.has_time);
        assert_int_equal(t.tz_quarters, -24);
        assert_int_equal(at_parse_ctzv("+CTZV: \"+08\"", &t), 0);
        assert_int_equal(t.tz_quarters, 8);
        assert_int_equal(at_parse_ctzv("+CTZV: x", &t), -EBADMSG);

        assert_int_equal(at_parse_ctze("+CTZE: \"+04\",1,\"26/06/01,10:00:00\"", &t), 0);
        assert_int_equal(t.tz_quarters, 4);
        assert_int_equal(t.dst, 1);
        assert_true(t.has_time);
        assert_int_equal(t.year, 2026);
        assert_int_equal(t.mon, 6);
        assert_int_equal(at_parse_ctze("+CTZE: \"-20\",0", &t), 0);
        assert_false(t.has_time);
        assert_int_equal(at_parse_ctze("+CTZE: \"-20\",3", &t), -EBADMSG);

        assert_int_equal(at_parse_psuttz("*PSUTTZ: 2026,11,27,20,6,1,\"-24\",0", &t), 0);
        assert_int_equal(t.year, 2026);
        assert_int_equal(t.hour, 20);
        assert_int_equal(t.tz_quarters, -24);
        assert_int_equal(t.dst, 0);
        assert_int_equal(at_parse_psuttz("*PSUTTZ: 15,3,9,14,56,43,\"+4\",1", &t), 0);
        assert_int_equal(t.year, 2015);
        assert_int_equal(at_parse_psuttz("*PSUTTZ: 2026,11,27,20,6,1,\"-24\"", &t), -EBADMSG);
}

static void test_identity(void **state)
{
        static const struct {
                const char *line;
                int ret;
                const char *id;
        } t[] = {
                { "867962041234567", 0, "867962041234567" },
                { "+CGSN: 867962041234567", 0, "867962041234567" },
                { "+CGSN: \"867962041234567\"", 0, "867962041234567" }, /* quoted */
                { "334020123456789", 0, "334020123456789" },
                { "+QCCID: 89520201234567890123", 0, "89520201234567890123" },
                { "^ICCID: 8952020123456789012F", 0, "8952020123456789012F" },
                { "+CCID: \"8944110068256270054\"", 0, "8944110068256270054" },
                { "+ICCID: 89520201234567890123", 0, "89520201234567890123" },
                { "ERROR", -EBADMSG, NULL },
                { "+CGSN: 1234", -EBADMSG, NULL },
                { "+CGSN: 86796204123F4567", -EBADMSG, NULL },
                { "123456789012345678901234567890123", -EBADMSG, NULL },
        };
        for (size_t i = 0; i < N(t); i++) {
                char id[AT_PARSE_ID_MAX];
                int r = at_parse_identity(t[i].line, id, sizeof(id));
                if (r != t[i].ret)
                        fail_msg("%s: got %d, want %d", t[i].line, r, t[i].ret);
                if (r == 0)
                        assert_string_equal(id, t[i].id);
        }
        char small[8];
        assert_int_equal(at_parse_identity("867962041234567", small, sizeof(small)), -ENOBUFS);
}

static void test_errors(void **state)
{
        static const struct {
                const char *line;
                int ret;
                bool cms;
                int code;
                const char *text;
        } t[] = {
                { "+CME ERROR: 10", 0, false, 10, "10" },
                { "+CME ERROR:10", 0, false, 10, "10" },
                { "+CME ERROR: SIM not inserted", 0, false, 10, "SIM not inserted" },
                { "+CME ERROR: \"SIM busy\"", 0, false, 14, "SIM busy" },
                { "+CME ERROR: incorrect password", 0, false, 16, "incorrect password" },
                { "+CME ERROR: Invalid input value", 0, false, -1, "Invalid input value" },
                { "+CME ERROR: requested service option not subscribed", 0, false, 133,
                  "requested service option not subscribed" },
                { "+CME ERROR", 0, false, -1, "" },
                { "+CMS ERROR: 304", 0, true, 304, "304" },
                { "+CMS ERROR: SMSC address unknown", 0, true, 330, "SMSC address unknown" },
                { "+CMS ERROR: unknown error", 0, true, 500, "unknown error" },
                { "+CMS ERROR: operation not allowed", 0, true, 302, "operation not allowed" },
                { "+CME ERRORS: 1", -EBADMSG, false, 0, NULL },
                { "ERROR", -EBADMSG, false, 0, NULL },
        };
        for (size_t i = 0; i < N(t); i++) {
                struct at_error e;
                int r = at_parse_error(t[i].line, &e);
                if (r != t[i].ret)
                        fail_msg("%s: got %d, want %d", t[i].line, r, t[i].ret);
                if (r < 0)
                        continue;
                assert_int_equal(e.cms, t[i].cms);
                assert_int_equal(e.code, t[i].code);
                assert_string_equal(e.text, t[i].text);
        }
        assert_int_equal(at_cme_from_text("operation not allowed"), 3);
        assert_int_equal(at_cms_from_text("operation not allowed"), 302);
        assert_int_equal(at_cme_from_text("nonsense"), -1);
        assert_int_equal(at_cme_from_text(NULL), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmgs),         cmocka_unit_test(test_cmti_cdsi),
                cmocka_unit_test(test_pdu_headers),  cmocka_unit_test(test_cpms),
                cmocka_unit_test(test_cnmi_support), cmocka_unit_test(test_csca),
                cmocka_unit_test(test_cmgd_support), cmocka_unit_test(test_csq),
                cmocka_unit_test(test_creg),         cmocka_unit_test(test_cops),
                cmocka_unit_test(test_cpin),         cmocka_unit_test(test_clock_and_network_time),
                cmocka_unit_test(test_identity),     cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
