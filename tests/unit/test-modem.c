/* Tests for at/modem bring-up: the standard init to READY, the dialects puente-sim implements
 * (Huawei noise and CNMI refusals, SIMCom text mode and boot lines, ME-only storage), the SIM
 * (PIN entered, missing, refused and never retried, no SIM), registration, storage full. */
#include "tests/unit/test-modem-harness.h"

#include "at/quirks.h" /* AT_QUIRK_* in the dialect tests */

static void test_standard_init(void **state)
{
        (void)state;
        struct fake *f = fake_ready();
        const struct at_modem_info *i = at_modem_info(f->m);
        assert_string_equal(i->maker, "Puente");
        assert_string_equal(i->model, "SIM-27007");
        assert_string_equal(i->revision, "1.0");
        assert_string_equal(i->imei, "356938035643809");
        assert_string_equal(i->iccid, "8952020012345678901");
        assert_string_equal(i->imsi, "334020123456789");
        assert_string_equal(i->oper, "Telcel");
        assert_int_equal(i->rssi, 20);
        assert_int_equal(i->dbm, -73);
        assert_int_equal(i->bars, 4);
        assert_int_equal(i->reg, 1);
        assert_string_equal(i->reg_text, "registered (home)");
        assert_string_equal(i->sim_text, "ready");
        assert_string_equal(i->smsc, "+5294100001410");
        assert_string_equal(i->mem, "SM");
        assert_int_equal(i->storage_used, 0);
        assert_int_equal(i->storage_total, 30);
        assert_int_equal(i->fail, AT_MODEM_FAIL_NONE);
        assert_string_equal(i->last_error, "");
        assert_true(f->time_sane);
        assert_true(saw_event(f, AT_MODEM_EV_NETWORK_TIME));
        /* every state once, in order, each reported */
        const enum at_modem_state want[] = { AT_MODEM_PROBE, AT_MODEM_SIM, AT_MODEM_NETWORK,
                                             AT_MODEM_SMS_SETUP, AT_MODEM_READY };
        assert_int_equal(f->n_states, 5);
        for (size_t k = 0; k < 5; k++)
                assert_int_equal(f->states[k], want[k]);
        assert_true(at_modem_idle(f->m));
        assert_int_equal(at_modem_send(f->m, "zz", 1, false, 1, f->now), -EINVAL);
        fake_free(f);
}

/* A modem whose clock was never set by the network: reported, flagged as not sane. */
static void test_clock_not_sane(void **state)
{
        (void)state;
        static const struct exch info_old_clock[] = {
                { "AT+COPS=3,0", "OK" },
                { "AT+COPS?", "+COPS: 0,0,\"Telcel\",2|OK" },
                { "AT+CSQ", "+CSQ: 99,99|OK" },
                { "AT+CTZU=1", "ERROR" },
                { "AT+CCLK?", "+CCLK: \"04/01/01,00:00:12+00\"|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, info_old_clock);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_true(saw_event(f, AT_MODEM_EV_NETWORK_TIME));
        assert_false(f->time_sane);
        assert_int_equal(at_modem_info(f->m)->rssi, 99);
        assert_int_equal(at_modem_info(f->m)->bars, 0);
        fake_free(f);
}

/* Huawei E173 (puente-sim "huawei"): ^RSSI/^MODE noise until AT^CURC=0, refuses CNMI <ds> 1
 * and <mode> 3; the maker string turns the CURC quirk on. */
static void test_huawei(void **state)
{
        (void)state;
        static const struct exch probe_huawei[] = {
                { PROBE_AT, "^RSSI: 14|OK" },
                { "ATE0", "OK|^MODE: 5,4" },
                { "AT+CMEE=1", "OK" },
                { "AT+CGMI", "huawei|OK" },
                { "AT+CGMM", "^BOOT: 1234,0,0,0,72|E173|OK" },
                { "AT+CGMR", "11.126.85.00.209|OK" },
                { "AT+CGSN", "^RSSI: 15|353142030000007|OK" },
                { "AT^CURC=0", "OK" },
                END,
        };
        static const struct exch sms_huawei[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 0,30,0,30,0,30|OK" },
                { "AT+CPMS?", "+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30|OK" },
                /* the test form lists <ds> 0,2 but the E173 refuses 2 anyway */
                { "AT+CNMI=?", "+CNMI: (0,1,2),(0,1,2),(0,2),(0,2),(0,1)|OK" },
                { "AT+CNMI=2,1,0,2,0", "+CMS ERROR: 303" },
                /* 2,1,0,1,0 is not listed: skipped without asking */
                { "AT+CNMI=1,1,0,2,0", "OK" },
                { "AT+CSMS?", "+CSMS: 0,1,1,1|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_huawei);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_huawei);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_string_equal(at_modem_info(f->m)->model, "E173");
        assert_true(at_modem_info(f->m)->quirks & AT_QUIRK_CURC);
        fake_free(f);
}

/* A modem that answers AT+CNMI=? with ERROR: the choices are tried blindly in order. */
static void test_cnmi_blind(void **state)
{
        (void)state;
        static const struct exch sms_blind[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "+CSCA: \"\",129|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 0,30,0,30,0,30|OK" },
                { "AT+CPMS?", "ERROR" },
                { "AT+CNMI=?", "ERROR" },
                { "AT+CNMI=2,1,0,2,0", "COMMAND NOT SUPPORT" },
                { "AT+CNMI=2,1,0,1,0", "+CMS ERROR: 303" },
                { "AT+CNMI=1,1,0,2,0", "OK" },
                { "AT+CSMS?", "ERROR" },
                END,
        };
        struct fake *f = fake_new(0, "+5255000000");
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        /* the SIM has no SMSC and one is configured: it is set after AT+CSCA? */
        struct exch seq[16];
        size_t k = 0;
        for (; sms_blind[k].cmd && k < 2; k++)
                seq[k] = sms_blind[k];
        seq[k++] = (struct exch){ "AT+CSCA=\"+5255000000\",145", "OK" };
        for (size_t j = 2; sms_blind[j].cmd; j++)
                seq[k++] = sms_blind[j];
        seq[k] = (struct exch)END;
        fake_add(f, seq);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_string_equal(at_modem_info(f->m)->smsc, "+5255000000");
        fake_free(f);
}

/* Reported by the daemon's tests: a +CMTI arriving while AT+CGSN (a bare answer) is in flight
 * left the IMEI empty. The URC must go to the message handler and the IMEI be kept, before or
 * after the URC. */
static void run_probe_cgsn(const char *answer, const char *want_imei)
{
        const struct exch probe[] = {
                { PROBE_AT, "OK" },
                { "ATE0", "OK" },
                { "AT+CMEE=1", "OK" },
                { "AT+CGMI", "Puente|OK" },
                { "AT+CGMM", "SIM-27007|OK" },
                { "AT+CGMR", "1.0|OK" },
                { "AT+CGSN", answer },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_string_equal(at_modem_info(f->m)->imei, want_imei);
        fake_free(f);
}

static void test_probe_cgsn_with_cmti(void **state)
{
        (void)state;
        run_probe_cgsn("+CMTI: \"SM\",3|356938035643809|OK", "356938035643809");
        run_probe_cgsn("356938035643809|+CMTI: \"SM\",3|OK", "356938035643809");
        run_probe_cgsn("356938035643809|OK|+CMTI: \"SM\",3", "356938035643809");
}

/* An answer to AT+CGSN that is not 15 digits (3GPP TS 23.003 6.2.1) is not stored as an IMEI. */
static void test_probe_cgsn_not_an_imei(void **state)
{
        (void)state;
        run_probe_cgsn("12345|OK", "");
        run_probe_cgsn("3569380356438091|OK", "");
        run_probe_cgsn("+CMTI: \"SM\",3|OK", "");
        run_probe_cgsn("+CGSN: 356938035643809|OK", "356938035643809");
}

/* SIMCom SIM800 (puente-sim "simcom"): boot lines at power-on restart the probe; text mode by
 * default, and SMS commands refused until "SMS Ready" (retried after a pause). */
static void test_simcom(void **state)
{
        (void)state;
        static const struct exch probe_simcom[] = {
                { PROBE_AT, "RDY|+CFUN: 1|+CPIN: READY" }, /* boot: the probe starts over */
                { PROBE_AT, "OK" },
                { "ATE0", "OK" },
                { "AT+CMEE=1", "OK" },
                { "AT+CGMI", "SIMCOM_Ltd|OK" },
                { "AT+CGMM", "SIMCOM_SIM800|OK" },
                { "AT+CGMR", "Revision:1308B08SIM800L16|OK" },
                { "AT+CGSN", "869988012345678|OK" },
                END,
        };
        static const struct exch sms_simcom[] = {
                { "AT+CMGF=0", "+CMS ERROR: 302" }, /* before "SMS Ready" */
                { "AT+CMGF=0", "Call Ready|SMS Ready|OK" },
                { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 0,30,0,30,0,30|OK" },
                { "AT+CPMS?", "+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30|OK" },
                { "AT+CNMI=?", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)|OK" },
                { "AT+CNMI=2,1,0,2,0", "OK" },
                { "AT+CSMS?", "+CSMS: 0,1,1,1|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_simcom);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_simcom);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_true(at_modem_info(f->m)->quirks & AT_QUIRK_TEXT_DEFAULT);
        fake_free(f);
}

/* puente-sim "me-only": no SIM storage offered. */
static void test_me_only(void **state)
{
        (void)state;
        static const struct exch sms_me[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CMS ERROR: 302" },
                { "AT+CPMS=\"ME\",\"ME\",\"ME\"", "+CPMS: 2,100,2,100,2,100|OK" },
                { "AT+CPMS?", "+CPMS: \"ME\",2,100,\"ME\",2,100,\"ME\",2,100|OK" },
                { "AT+CNMI=?", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)|OK" },
                { "AT+CNMI=2,1,0,2,0", "OK" },
                { "AT+CSMS?", "+CSMS: 0,1,1,1|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_me);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_string_equal(at_modem_info(f->m)->mem, "ME");
        assert_int_equal(at_modem_info(f->m)->storage_total, 100);
        fake_free(f);
}

/* Every storage refused, five set-up runs: FAILED "SMS set-up refused". */
static void test_no_storage(void **state)
{
        (void)state;
        static const struct exch sms_nostore[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "ERROR" },
                { "AT+CPMS=\"ME\",\"ME\",\"ME\"", "ERROR" },
                { "AT+CPMS=\"MT\",\"MT\",\"MT\"", "ERROR" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        for (int k = 0; k < 5; k++)
                fake_add(f, sms_nostore);
        fake_start(f);
        fake_run(f, 60000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_FAILED);
        assert_int_equal(at_modem_info(f->m)->fail, AT_MODEM_FAIL_NO_SMS);
        fake_free(f);
}

static const struct exch sim_pin_ok[] = {
        { "AT+CCID", "+CCID: 8952020012345678901|OK" },
        { "AT+CPIN?", "+CPIN: SIM PIN|OK" },
        { "AT+CPIN=\"1234\"", "OK" },
        { "AT+CPIN?", "+CPIN: SIM PIN|OK" }, /* not yet applied: asked again */
        { "AT+CPIN?", "+CPIN: READY|OK" },
        { "AT+CIMI", "334020123456789|OK" },
        END,
};

/* A command that times out in a sequence, even one whose error is skipped (AT+CGMR), is a
 * ladder step: its late answer would be taken for the next command's. */
static void test_skipped_step_timeout(void **state)
{
        (void)state;
        static const struct exch probe_hang[] = {
                { PROBE_AT, "OK" },
                { "ATE0", "OK" },
                { "AT+CMEE=1", "OK" },
                { "AT+CGMI", "Puente|OK" },
                { "AT+CGMM", "SIM-27007|OK" },
                { "AT+CGMR", NULL },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_hang);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_non_null(strstr(f->log, "state probe -> probe: probe failed: re-initializing"));
        assert_state(f, AT_MODEM_READY);
        /* READY clears the ladder */
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_NONE);
        assert_int_equal(at_modem_info(f->m)->failures, 0);
        fake_free(f);
}

/* A host killed after the prompt left the modem taking message text: the probe's ESC ends
 * it (OK), the AT gets its own OK, and that second OK passes as stray before ATE0. */
static void test_probe_after_killed_host(void **state)
{
        (void)state;
        static const struct exch probe_pdu_mode[] = {
                { PROBE_AT, "OK|OK" },
                { "ATE0", "+CME ERROR: 3" }, /* taken for ATE0 only if it is ATE0's */
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_pdu_mode);
        f->strict = false;
        fake_start(f);
        fake_run(f, 5000);
        assert_script_done(f);
        /* ATE0 failed on its own answer: the stray OK was not taken for it */
        assert_non_null(strstr(f->log, "probe failed"));
        fake_free(f);
}

/* quirk cpin-no-ok (set by configuration): "+CPIN: READY" without OK ends AT+CPIN?. */
static void test_cpin_no_ok(void **state)
{
        (void)state;
        static const struct exch sim_no_ok[] = {
                { "AT+CCID", "+CCID: 8952020012345678901|OK" },
                { "AT+CPIN?", "+CPIN: READY" },
                { "AT+CIMI", "334020123456789|OK" },
                END,
        };
        struct fake *f = fake_new(AT_QUIRK_CPIN_NO_OK, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_no_ok);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        fake_free(f);
}

static void test_pin_entered(void **state)
{
        (void)state;
        struct fake *f = fake_new(0, NULL);
        f->pin = "1234";
        fake_add(f, probe_std);
        fake_add(f, sim_pin_ok);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_non_null(strstr(f->log, "get_pin 8952020012345678901"));
        fake_free(f);
}

static const struct exch sim_pin_asked[] = {
        { "AT+CCID", "+CCID: 8952020012345678901|OK" },
        { "AT+CPIN?", "+CPIN: SIM PIN|OK" },
        END,
};

static void test_pin_missing(void **state)
{
        (void)state;
        struct fake *f = fake_new(0, NULL);
        f->pin = NULL;
        fake_add(f, probe_std);
        fake_add(f, sim_pin_asked);
        fake_start(f);
        fake_run(f, 20000); /* strict: an AT+CPIN= would fail the test */
        assert_script_done(f);
        assert_state(f, AT_MODEM_FAILED);
        assert_int_equal(at_modem_info(f->m)->fail, AT_MODEM_FAIL_PIN_NEEDED);
        assert_string_equal(at_modem_info(f->m)->last_error, "SIM needs a PIN");
        assert_string_equal(at_modem_info(f->m)->sim_text, "needs PIN");
        /* FAILED stays quiet */
        unsigned before = f->commands;
        fake_advance(f, 600000);
        assert_int_equal(f->commands, before);
        fake_free(f);
}

/* The PIN is refused once: reported, FAILED; a restart asks the binding, which says it failed
 * before, so the PIN is never sent a second time. */
static void test_pin_wrong_never_retried(void **state)
{
        (void)state;
        static const struct exch sim_pin_bad[] = {
                { "AT+CCID", "+CCID: 8952020012345678901|OK" },
                { "AT+CPIN?", "+CPIN: SIM PIN|OK" },
                { "AT+CPIN=\"1111\"", "+CME ERROR: 16" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        f->pin = "1111";
        fake_add(f, probe_std);
        fake_add(f, sim_pin_bad);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_FAILED);
        assert_int_equal(at_modem_info(f->m)->fail, AT_MODEM_FAIL_PIN_REFUSED);
        assert_true(saw_event(f, AT_MODEM_EV_PIN_REFUSED));
        assert_string_equal(f->refused_pin, "1111");
        assert_string_equal(at_modem_info(f->m)->last_error, "PIN refused");

        /* the binding's slow retry */
        static const struct exch probe_again[] = {
                { PROBE_AT, "OK" },
                { "ATE0", "OK" },
                { "AT+CMEE=1", "OK" },
                { "AT+CGMI", "Puente|OK" },
                { "AT+CGMM", "SIM-27007|OK" },
                { "AT+CGMR", "1.0|OK" },
                { "AT+CGSN", "356938035643809|OK" },
                END,
        };
        fake_add(f, probe_again);
        fake_add(f, sim_pin_asked);
        assert_int_equal(at_modem_restart(f->m, f->now), 0);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_FAILED);
        assert_int_equal(at_modem_info(f->m)->fail, AT_MODEM_FAIL_PIN_NEEDED);
        assert_non_null(strstr(at_modem_info(f->m)->last_error, "failed before"));
        fake_free(f);
}

static void test_sim_states(void **state)
{
        (void)state;
        static const struct {
                const char *ccid_answer;
                const char *cpin_answer;
                enum at_modem_fail fail;
                const char *sim_text;
        } cases[] = {
                { "+CME ERROR: 10", "+CME ERROR: 10", AT_MODEM_FAIL_NO_SIM, "no SIM" },
                { "ERROR", "+CPIN: NOT INSERTED|OK", AT_MODEM_FAIL_NO_SIM, "no SIM" },
                { "+CCID: 8952020012345678901|OK", "+CPIN: SIM PUK|OK", AT_MODEM_FAIL_PUK_NEEDED,
                  "needs PUK" },
                { "+CCID: 8952020012345678901|OK", "+CME ERROR: 13", AT_MODEM_FAIL_SIM,
                  "SIM failure" },
                { "+CCID: 8952020012345678901|OK", "+CPIN: PH-NET PIN|OK", AT_MODEM_FAIL_PUK_NEEDED,
                  "locked" },
        };
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                struct exch sim[6];
                size_t k = 0;
                sim[k++] = (struct exch){ "AT+CCID", cases[c].ccid_answer };
                if (strncmp(cases[c].ccid_answer, "+CCID", 5) != 0) {
                        /* the alternatives are asked in turn */
                        sim[k++] = (struct exch){ "AT+ICCID", "ERROR" };
                        sim[k++] = (struct exch){ "AT+QCCID", "ERROR" };
                        sim[k++] = (struct exch){ "AT^ICCID?", "ERROR" };
                }
                sim[k++] = (struct exch){ "AT+CPIN?", cases[c].cpin_answer };
                sim[k] = (struct exch)END;
                struct fake *f = fake_new(0, NULL);
                fake_add(f, probe_std);
                fake_add(f, sim);
                fake_start(f);
                fake_run(f, 20000);
                assert_script_done(f);
                assert_state(f, AT_MODEM_FAILED);
                assert_int_equal(at_modem_info(f->m)->fail, cases[c].fail);
                assert_string_equal(at_modem_info(f->m)->sim_text, cases[c].sim_text);
                fake_free(f);
        }
}

/* SIM busy right after boot: asked again a second later. */
static void test_sim_busy(void **state)
{
        (void)state;
        static const struct exch sim_busy[] = {
                { "AT+CCID", "+CCID: 8952020012345678901|OK" },
                { "AT+CPIN?", "+CME ERROR: 14" },
                { "AT+CPIN?", "+CPIN: NOT READY|OK" },
                { "AT+CPIN?", "+CPIN: READY|OK" },
                { "AT+CIMI", "334020123456789|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_busy);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        fake_free(f);
}

/* Registration denied: stays in NETWORK saying so, polls; a +CREG URC then lets it go on. */
static void test_registration_denied_then_ok(void **state)
{
        (void)state;
        static const struct exch net_denied[] = {
                { "AT+CREG=2", "OK" },
                { "AT+CREG?", "+CREG: 2,3|OK" },
                { "AT+CREG?", "+CREG: 2,2|OK" }, /* the poll, 5 s later */
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_denied);
        fake_start(f);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_NETWORK);
        assert_string_equal(at_modem_info(f->m)->reg_text, "not registered (searching)");

        /* after the registration time-out the words say it, still NETWORK */
        static const struct exch polls[] = {
                { "AT+CREG?", "+CREG: 2,3|OK" },
                END,
        };
        f->strict = false; /* the polls go on every 5 s */
        f->fallback = polls;
        unsigned before = f->commands;
        fake_advance(f, AT_MODEM_REGISTER_TIMEOUT_MS);
        assert_true(f->commands - before >=
                    AT_MODEM_REGISTER_TIMEOUT_MS / AT_MODEM_CREG_POLL_MS - 1);
        assert_state(f, AT_MODEM_NETWORK);
        assert_non_null(strstr(at_modem_info(f->m)->last_error, "registration denied"));

        f->strict = true;
        f->fallback = NULL;
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_urc(f, "+CREG: 5,\"1A2B\",\"00C0FFEE\",7");
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_string_equal(at_modem_info(f->m)->reg_text, "registered (roaming)");
        fake_free(f);
}

/* AT+CREG=2 refused (old firmware): AT+CREG=1. */
static void test_creg_fallback(void **state)
{
        (void)state;
        static const struct exch net_creg1[] = {
                { "AT+CREG=2", "ERROR" },
                { "AT+CREG=1", "OK" },
                { "AT+CREG?", "+CREG: 1,1|OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_creg1);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        fake_free(f);
}

/* Storage full at set-up: the alarm, then the listing drains it. */
static void test_storage_full_alarm(void **state)
{
        (void)state;
        static const struct exch sms_full[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 2,2,2,2,2,2|OK" },
                { "AT+CPMS?", "+CPMS: \"SM\",2,2,\"SM\",2,2,\"SM\",2,2|OK" },
                { "AT+CNMI=?", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)|OK" },
                { "AT+CNMI=2,1,0,2,0", "OK" },
                { "AT+CSMS?", "+CSMS: 0,1,1,1|OK" },
                { "AT+CMGL=4", "+CMGL: 0,1,,23|" DELIVER_PDU "|+CMGL: 1,0,,25|" DELIVER_PDU "|OK" },
                { "AT+CMGD=0", "OK" },
                { "AT+CMGD=1", "OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        f->auto_ack = true;
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_full);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_true(saw_event(f, AT_MODEM_EV_STORAGE_FULL));
        assert_int_equal(f->n_sms, 2);
        assert_int_equal(f->sms_index[0], 0);
        assert_int_equal(f->sms_index[1], 1);
        assert_int_equal(at_modem_info(f->m)->storage_used, 0);
        fake_free(f);
}

static void test_bad_arguments(void **state)
{
        (void)state;
        struct at_modem *m = NULL;
        struct at_modem_config cfg = { 0 };
        struct at_modem_callbacks cb = fake_cb;
        assert_int_equal(at_modem_new(NULL, &cb, NULL, &m), -EINVAL);
        assert_int_equal(at_modem_new(&cfg, NULL, NULL, &m), -EINVAL);
        cb.on_sms = NULL;
        assert_int_equal(at_modem_new(&cfg, &cb, NULL, &m), -EINVAL);
        cb = fake_cb;
        cfg.smsc = "+123456789012345678901234567890123456789012345678901234567890";
        assert_int_equal(at_modem_new(&cfg, &cb, NULL, &m), -EINVAL);
        assert_null(m);
        assert_null(at_modem_free(NULL));
        assert_string_equal(at_modem_state_name(AT_MODEM_SMS_SETUP), "sms-setup");
        assert_string_equal(at_modem_fail_text(AT_MODEM_FAIL_NO_ANSWER), "does not answer");
        assert_string_equal(at_send_outcome_name(AT_SEND_UNKNOWN), "unknown");
        /* not started: sends are refused */
        cfg.smsc = NULL;
        assert_int_equal(at_modem_new(&cfg, &cb, NULL, &m), 0);
        assert_int_equal(at_modem_send(m, SUBMIT_PDU, SUBMIT_LEN, false, 1, 0), -EBUSY);
        assert_int_equal(at_modem_sms_done(m, 3, 0), -ENOENT);
        assert_int_equal(at_modem_sms_done(m, -1, 0), -ENOENT);
        assert_int_equal(at_modem_next_deadline(m), UINT64_MAX);
        at_modem_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_standard_init),
                cmocka_unit_test(test_clock_not_sane),
                cmocka_unit_test(test_huawei),
                cmocka_unit_test(test_probe_cgsn_with_cmti),
                cmocka_unit_test(test_probe_cgsn_not_an_imei),
                cmocka_unit_test(test_cnmi_blind),
                cmocka_unit_test(test_simcom),
                cmocka_unit_test(test_me_only),
                cmocka_unit_test(test_no_storage),
                cmocka_unit_test(test_skipped_step_timeout),
                cmocka_unit_test(test_probe_after_killed_host),
                cmocka_unit_test(test_cpin_no_ok),
                cmocka_unit_test(test_pin_entered),
                cmocka_unit_test(test_pin_missing),
                cmocka_unit_test(test_pin_wrong_never_retried),
                cmocka_unit_test(test_sim_states),
                cmocka_unit_test(test_sim_busy),
                cmocka_unit_test(test_registration_denied_then_ok),
                cmocka_unit_test(test_creg_fallback),
                cmocka_unit_test(test_storage_full_alarm),
                cmocka_unit_test(test_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
