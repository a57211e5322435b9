/* Tests for at/modem sending and receiving: +CMGS outcomes, bare OK, +CMS 330 retry, AT+CMMS,
 * the +CMS table, reset mid-send, +CMTI/+CMGR/+CMGD, empty slots, +CMT with +CNMA, +CDS, the
 * start-up listing, URC floods during a send. */
#include "tests/unit/test-modem-harness.h"

#include "at/chat.h" /* AT_CHAT_TIMEOUT_DEFAULT */

#define PDU_CMD  "PDU:" SUBMIT_PDU
#define CMGS_CMD "AT+CMGS=23"

static void check_len(void)
{
        /* the length the tests write in CMGS_CMD */
        assert_int_equal(SUBMIT_LEN, 23);
}

static void send_one(struct fake *f, bool more, uint64_t cookie)
{
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, more, cookie, f->now), 0);
        assert_state(f, AT_MODEM_SENDING);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, more, cookie, f->now), -EBUSY);
        fake_pump(f);
}

/* One exchange per case: what the modem answers after the PDU, and the outcome. */
static void test_send_outcomes(void **state)
{
        (void)state;
        check_len();
        static const struct {
                const char *prompt;
                const char *answer;
                enum at_send_outcome outcome;
                int mr, cms;
                const char *text;
        } cases[] = {
                { "> ", "+CMGS: 7|OK", AT_SEND_SENT, 7, -1, "sent" },
                /* prompt without its space (puente-sim "nospace", Wavecom) */
                { ">", "+CMGS: 255|OK", AT_SEND_SENT, 255, -1, "sent" },
                /* URCs between +CMGS: and OK */
                { "> ", "+CMGS: 8|+CREG: 1|^RSSI: 9|OK", AT_SEND_SENT, 8, -1, "sent" },
                { "> ", "OK", AT_SEND_TEMPORARY, -1, -1,
                  "modem answered OK without a message reference: not sent" },
                { "> ", "+CMS ERROR: 1", AT_SEND_PERMANENT, -1, 1, "unassigned number (+CMS 1)" },
                /* an empty prepaid SIM: another SIM may send it (issue 4) */
                { "> ", "+CMS ERROR: 21", AT_SEND_NO_CREDIT, -1, 21,
                  "short message transfer rejected: no credit? (+CMS 21)" },
                { "> ", "+CMS ERROR: 304", AT_SEND_PERMANENT, -1, 304, "invalid PDU (+CMS 304)" },
                { "> ", "+CMS ERROR: 38", AT_SEND_TEMPORARY, -1, 38,
                  "network out of order (+CMS 38)" },
                { "> ", "+CMS ERROR: 42", AT_SEND_TEMPORARY, -1, 42, "congestion (+CMS 42)" },
                { "> ", "+CMS ERROR: 331", AT_SEND_TEMPORARY, -1, 331,
                  "no network service (+CMS 331)" },
                { "> ", "+CMS ERROR: 500", AT_SEND_TEMPORARY, -1, 500,
                  "unknown error (no credit?) (+CMS 500)" },
                /* text errors after AT+CMEE=2 (Huawei E173) map to the same numbers */
                { "> ", "+CMS ERROR: no network service", AT_SEND_TEMPORARY, -1, 331,
                  "no network service (+CMS 331)" },
                /* a text no table knows: kept in the words, outcome TEMPORARY */
                { "> ", "+CMS ERROR: Unassigned (unallocated) number", AT_SEND_TEMPORARY, -1, -1,
                  "unspecified error (+CMS ERROR: Unassigned (unallocated) number)" },
                { "> ", "ERROR", AT_SEND_MODEM_FAULT, -1, -1, "modem refused the send (ERROR)" },
                { "> ", "+CMS ERROR: 302", AT_SEND_MODEM_FAULT, -1, 302,
                  "operation not allowed (+CMS 302)" },
                { "> ", "+CMGS: x|OK", AT_SEND_UNKNOWN, -1, -1, "unreadable +CMGS answer" },
        };
        struct fake *f = fake_ready();
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                struct exch ex[] = {
                        { CMGS_CMD, cases[c].prompt },
                        { PDU_CMD, cases[c].answer },
                        END,
                };
                fake_add(f, ex);
                size_t before = f->n_results;
                send_one(f, false, 100 + c);
                assert_script_done(f);
                assert_int_equal(f->n_results, before + 1);
                const struct at_modem_send_result *r = &f->results[before];
                if (r->outcome != cases[c].outcome || strcmp(r->text, cases[c].text) != 0)
                        fail_msg("case %zu: %s \"%s\"\n%s", c, at_send_outcome_name(r->outcome),
                                 r->text, f->log);
                assert_int_equal(r->cookie, 100 + c);
                assert_int_equal(r->mr, cases[c].mr);
                assert_int_equal(r->cms, cases[c].cms);
                assert_state(f, AT_MODEM_READY);
        }
        fake_free(f);
}

static void test_cms_table(void **state)
{
        (void)state;
        static const struct {
                int cms;
                enum at_send_outcome o;
        } cases[] = {
                { 1, AT_SEND_PERMANENT },     { 8, AT_SEND_PERMANENT },
                { 10, AT_SEND_PERMANENT },    { 17, AT_SEND_TEMPORARY },
                { 21, AT_SEND_NO_CREDIT },    { 27, AT_SEND_TEMPORARY },
                { 28, AT_SEND_PERMANENT },    { 29, AT_SEND_PERMANENT },
                { 38, AT_SEND_TEMPORARY },    { 41, AT_SEND_TEMPORARY },
                { 42, AT_SEND_TEMPORARY },    { 47, AT_SEND_TEMPORARY },
                { 50, AT_SEND_PERMANENT },    { 96, AT_SEND_PERMANENT },
                { 111, AT_SEND_TEMPORARY },   { 127, AT_SEND_TEMPORARY },
                { 192, AT_SEND_TEMPORARY },   { 195, AT_SEND_PERMANENT },
                { 197, AT_SEND_PERMANENT },   { 255, AT_SEND_TEMPORARY },
                { 300, AT_SEND_MODEM_FAULT }, { 304, AT_SEND_PERMANENT },
                { 305, AT_SEND_MODEM_FAULT }, { 310, AT_SEND_MODEM_FAULT },
                { 322, AT_SEND_MODEM_FAULT }, { 330, AT_SEND_MODEM_FAULT },
                { 331, AT_SEND_TEMPORARY },   { 332, AT_SEND_TEMPORARY },
                { 500, AT_SEND_TEMPORARY },   { 512, AT_SEND_TEMPORARY },
                { 77, AT_SEND_TEMPORARY }, /* unlisted network cause: as 41 (24.011 E) */
                { 399, AT_SEND_MODEM_FAULT }, { -1, AT_SEND_TEMPORARY },
        };
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                const char *text = NULL;
                enum at_send_outcome o = at_cms_classify(cases[c].cms, &text);
                if (o != cases[c].o)
                        fail_msg("+CMS %d: %s", cases[c].cms, at_send_outcome_name(o));
                assert_non_null(text);
                assert_true(text[0] != '\0');
        }
        assert_int_equal(at_cms_classify(1, NULL), AT_SEND_PERMANENT);
}

/* +CMS 330: AT+CSCA from what the SIM said at set-up, and one more try; a second 330 stands. */
static void test_cms330_retry_once(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMS ERROR: 330" },
                { "AT+CSCA=\"+5294100001410\",145", "OK" },
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMGS: 12|OK" },
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMS ERROR: 330" },
                { "AT+CSCA=\"+5294100001410\",145", "OK" },
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMS ERROR: 330" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        send_one(f, false, 1);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_SENT);
        assert_int_equal(f->results[0].mr, 12);
        send_one(f, false, 2);
        assert_script_done(f);
        assert_int_equal(f->n_results, 2);
        assert_int_equal(f->results[1].outcome, AT_SEND_MODEM_FAULT);
        assert_int_equal(f->results[1].cms, 330);
        fake_free(f);
}

/* AT+CMMS=1 once per burst; refused: remembered, the parts go on without it. */
static void test_cmms(void **state)
{
        (void)state;
        static const struct exch burst_ok[] = {
                { "AT+CMMS=1", "OK" },      { CMGS_CMD, "> " },
                { PDU_CMD, "+CMGS: 1|OK" }, { CMGS_CMD, "> " }, /* second part: no second AT+CMMS */
                { PDU_CMD, "+CMGS: 2|OK" }, { CMGS_CMD, "> " }, /* last part */
                { PDU_CMD, "+CMGS: 3|OK" }, END,
        };
        static const struct exch burst_refused[] = {
                { "AT+CMMS=1", "ERROR" },   { CMGS_CMD, "> " },
                { PDU_CMD, "+CMGS: 4|OK" }, { CMGS_CMD, "> " },
                { PDU_CMD, "+CMGS: 5|OK" }, { CMGS_CMD, "> " }, /* a new burst: not asked again */
                { PDU_CMD, "+CMGS: 6|OK" }, END,
        };
        struct fake *f = fake_ready();
        fake_add(f, burst_ok);
        send_one(f, true, 1);
        send_one(f, true, 2);
        send_one(f, false, 3);
        assert_script_done(f);
        assert_false(at_modem_info(f->m)->cmms_refused);
        fake_add(f, burst_refused);
        send_one(f, true, 4);
        send_one(f, false, 5);
        send_one(f, true, 6);
        assert_script_done(f);
        assert_true(at_modem_info(f->m)->cmms_refused);
        assert_int_equal(f->n_results, 6);
        for (size_t k = 0; k < 6; k++) {
                assert_int_equal(f->results[k].outcome, AT_SEND_SENT);
                assert_int_equal(f->results[k].mr, (int)k + 1);
        }
        fake_free(f);

        /* a part that fails ends the burst: the next message asks for AT+CMMS=1 again */
        static const struct exch burst_broken[] = {
                { "AT+CMMS=1", "OK" },
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMS ERROR: 42" },
                { "AT+CMMS=1", "OK" },
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMGS: 7|OK" },
                END,
        };
        f = fake_ready();
        fake_add(f, burst_broken);
        send_one(f, true, 1);
        send_one(f, true, 2);
        assert_script_done(f);
        assert_int_equal(f->results[0].outcome, AT_SEND_TEMPORARY);
        assert_int_equal(f->results[1].outcome, AT_SEND_SENT);
        fake_free(f);
}

static const struct exch reinit_ready[] = {
        { PROBE_AT, "OK" },
        { "ATE0", "OK" },
        { "AT+CMEE=1", "OK" },
        { "AT+CGMI", "Puente|OK" },
        { "AT+CGMM", "SIM-27007|OK" },
        { "AT+CGMR", "1.0|OK" },
        { "AT+CGSN", "356938035643809|OK" },
        END,
};

/* The modem reboots after the PDU went out: UNKNOWN, echo back on, full re-init, drain. */
static void test_reset_mid_send(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "> " },
                { PDU_CMD, "RDY|+CFUN: 1|+CPIN: READY|Call Ready|SMS Ready" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        fake_add(f, reinit_ready);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        f->echo = false;
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, false, 9, f->now), 0);
        /* the reboot turns echo back on: the fake echoes from the PDU answer on */
        fake_pump(f);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_UNKNOWN);
        assert_int_equal(f->results[0].cookie, 9);
        assert_true(saw_event(f, AT_MODEM_EV_RESET));
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        fake_free(f);
}

/* A reset before the prompt: the PDU never went, so MODEM_FAULT (safe to send elsewhere). */
static void test_reset_before_prompt(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "RDY" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        f->strict = false;
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, false, 5, f->now), 0);
        fake_pump(f);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_MODEM_FAULT);
        assert_state(f, AT_MODEM_PROBE);
        fake_free(f);
}

/* No answer to AT+CMGS after the PDU: UNKNOWN after the (generous) time-out, then step 1. */
static void test_send_timeout(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "> " },
                { PDU_CMD, NULL },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, false, 3, f->now), 0);
        fake_pump(f);
        f->strict = false;
        fake_advance(f, AT_MODEM_SEND_TIMEOUT_MS - 100);
        assert_int_equal(f->n_results, 0); /* still waiting: networks take seconds */
        fake_advance(f, 200);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_UNKNOWN);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_REINIT);
        assert_state(f, AT_MODEM_PROBE);
        fake_free(f);
}

/* A part queued behind a command that times out never went: MODEM_FAULT, and the modem
 * goes from SENDING straight to the ladder's state. */
static void test_queued_send_cancelled(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { "AT+CSQ", NULL },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        fake_advance(f, AT_MODEM_CSQ_INTERVAL_MS);
        assert_script_done(f);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, false, 4, f->now), 0);
        f->strict = false;
        fake_advance(f, AT_CHAT_TIMEOUT_DEFAULT);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_MODEM_FAULT);
        assert_string_equal(f->results[0].text, "send abandoned before it started");
        assert_null(strstr(f->log, "sending -> ready"));
        assert_non_null(strstr(f->log, "sending -> probe: AT+CSQ timed out"));
        fake_free(f);
}

/* A modem that stops answering: re-init, AT+CFUN reset, reopen, FAILED, in that order; a
 * restart by the binding starts again from step 1 and a success clears the ladder. */
static void test_ladder_order(void **state)
{
        (void)state;
        struct fake *f = fake_ready();
        f->strict = false;                                /* silence from here on */
        fake_advance(f, AT_MODEM_CSQ_INTERVAL_MS + 6000); /* AT+CSQ times out */
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_REINIT);
        assert_non_null(strstr(f->log, "AT+CSQ timed out: re-initializing"));
        fake_advance(f, 10000); /* five unanswered "AT" */
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_CFUN);
        assert_non_null(strstr(f->log, "<- AT+CFUN=1,1"));
        assert_state(f, AT_MODEM_RECOVERING);
        fake_advance(f, AT_MODEM_RESET_WAIT_MS + 6000);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_REOPEN);
        assert_true(saw_event(f, AT_MODEM_EV_REOPEN));
        assert_state(f, AT_MODEM_RECOVERING);
        unsigned before = f->commands;
        fake_advance(f, 600000); /* nothing until the binding reopens */
        assert_int_equal(f->commands, before);
        assert_int_equal(at_modem_reopened(f->m, f->now), 0);
        fake_pump(f);
        fake_advance(f, 30000);
        assert_state(f, AT_MODEM_FAILED);
        assert_int_equal(at_modem_info(f->m)->fail, AT_MODEM_FAIL_NO_ANSWER);
        assert_string_equal(at_modem_info(f->m)->last_error, "does not answer: no answer to AT");
        assert_int_equal(at_modem_info(f->m)->failures, 4);

        /* the binding's slow retry; this time the modem answers */
        f->strict = true;
        f->n_segs = f->seg = f->pos = 0;
        fake_add(f, reinit_ready);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        assert_int_equal(at_modem_restart(f->m, f->now), 0);
        fake_run(f, 20000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_NONE);
        assert_int_equal(at_modem_info(f->m)->failures, 0);
        fake_free(f);
}

/* Garbage (control bytes) in a streak: a ladder step. */
static void test_garbage_streak(void **state)
{
        (void)state;
        struct fake *f = fake_ready();
        f->strict = false;
        for (int k = 0; k < 15; k++)
                fake_feed(f, "\x01\x02garbage\r\n", 11);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_NONE);
        fake_feed(f, "\x01\x02garbage\r\n", 11);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_REINIT);
        assert_non_null(strstr(f->log, "garbage on the line"));
        /* the rest of the same burst costs no second step */
        for (int k = 0; k < 40; k++)
                fake_feed(f, "\x01\x02garbage\r\n", 11);
        assert_int_equal(at_modem_info(f->m)->ladder_step, AT_LADDER_REINIT);
        /* a slow trickle (fewer than 16 in 10 s) never counts */
        struct fake *g = fake_ready();
        g->strict = false;
        for (int k = 0; k < 60; k++) {
                fake_feed(g, "\x01junk\r\n", 7);
                g->now += 1000;
        }
        assert_int_equal(at_modem_info(g->m)->ladder_step, AT_LADDER_NONE);
        fake_free(g);
        fake_free(f);
}

/* +CMTI -> AT+CMGR -> on_sms -> the binding's ack -> AT+CMGD; an empty slot is skipped and
 * never deleted; a repeated notice for a slot awaiting its ack is not read twice. */
static void test_cmti_read_ack_delete(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { "AT+CMGR=3", "+CMGR: 0,,23|" DELIVER_PDU "|OK" },
                { "AT+CMGD=3", "OK" },
                { "AT+CMGR=4", "OK" },              /* empty slot */
                { "AT+CMGR=5", "+CMS ERROR: 321" }, /* invalid index */
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        fake_urc(f, "+CMTI: \"SM\",3");
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(f->sms_index[0], 3);
        assert_string_equal(f->sms_pdu[0], DELIVER_PDU);
        fake_urc(f, "+CMTI: \"SM\",3"); /* again, before the ack: not read twice */
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), 0);
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), -ENOENT);
        fake_pump(f);
        fake_urc(f, "+CMTI: \"SM\",4");
        fake_urc(f, "+CMTI: \"SM\",5");
        assert_script_done(f);
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(at_modem_sms_done(f->m, 4, f->now), -ENOENT); /* never deleted */
        assert_int_equal(at_modem_sms_done(f->m, 5, f->now), -ENOENT);
        fake_pump(f);
        assert_script_done(f);
        fake_free(f);
}

/* +CDSI: the report is read, handed to on_report, deleted after the ack. */
static void test_cdsi(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { "AT+CMGR=7", "+CMGR: 0,,25|" REPORT_PDU "|OK" },
                { "AT+CMGD=7", "OK" },
                END,
        };
        struct fake *f = fake_ready();
        f->auto_ack = true;
        fake_add(f, ex);
        fake_urc(f, "+CDSI: \"SM\",7");
        assert_script_done(f);
        assert_int_equal(f->n_reports, 1);
        assert_int_equal(f->report_index[0], 7);
        assert_int_equal(f->n_sms, 0);
        fake_free(f);
}

/* Direct delivery: +CMT needs AT+CNMA when AT+CSMS? says service 1; +CDS goes to on_report. */
static void test_cmt_cnma_and_cds(void **state)
{
        (void)state;
        static const struct exch sms_csms1[] = {
                { "AT+CMGF=0", "OK" },
                { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
                { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 0,30,0,30,0,30|OK" },
                { "AT+CPMS?", "+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30|OK" },
                { "AT+CNMI=?", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)|OK" },
                { "AT+CNMI=2,1,0,2,0", "OK" },
                { "AT+CSMS?", "+CSMS: 1,1,1,1|OK" },
                { "AT+CMGL=4", "OK" },
                END,
        };
        static const struct exch acks[] = {
                { "AT+CNMA", "OK" },
                { "AT+CNMA", "OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_csms1);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        fake_add(f, acks);
        fake_urc(f, "+CMT: ,23|" DELIVER_PDU);
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(f->sms_index[0], -1);
        assert_int_equal(at_modem_sms_done(f->m, -1, f->now), 0);
        fake_pump(f);
        fake_urc(f, "+CDS: 25|" REPORT_PDU);
        assert_int_equal(f->n_reports, 1);
        assert_int_equal(f->report_index[0], -1);
        assert_int_equal(at_modem_sms_done(f->m, -1, f->now), 0);
        assert_int_equal(at_modem_sms_done(f->m, -1, f->now), -ENOENT);
        fake_pump(f);
        assert_script_done(f);
        /* a +CMT header whose PDU never came is not handed on */
        fake_urc(f, "+CMT: ,23|OK");
        assert_int_equal(f->n_sms, 1);
        fake_free(f);
}

/* Without service 1, +CMT is not acknowledged (the modem would answer +CMS 340). */
static void test_cmt_no_cnma(void **state)
{
        (void)state;
        struct fake *f = fake_ready();
        fake_urc(f, "+CMT: \"\",23|" DELIVER_PDU);
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(at_modem_sms_done(f->m, -1, f->now), 0);
        fake_pump(f); /* strict: an AT+CNMA would fail */
        fake_free(f);
}

/* At start: everything stored is listed, handed on by type (SUBMITs we stored are left
 * alone), deleted once acked. */
static void test_drain_at_start(void **state)
{
        (void)state;
        static const struct exch drain[] = {
                { "AT+CMGL=4",
                  "+CMGL: 1,1,,23|" DELIVER_PDU "|+CMTI: \"SM\",9|+CMGL: 2,0,,25|" REPORT_PDU
                  "|+CMGL: 3,2,,24|" SUBMIT_PDU "|OK" },
                END,
        };
        static const struct exch after[] = {
                { "AT+CMGR=9", "+CMGR: 0,,23|" DELIVER_PDU "|OK" },
                { "AT+CMGD=2", "OK" },
                { "AT+CMGD=1", "OK" },
                { "AT+CMGD=9", "OK" },
                END,
        };
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain);
        fake_add(f, after);
        fake_start(f);
        fake_run(f, 10000);
        assert_state(f, AT_MODEM_READY);
        assert_int_equal(f->n_sms, 2);
        assert_int_equal(f->sms_index[0], 1);
        assert_int_equal(f->sms_index[1], 9);
        assert_int_equal(f->n_reports, 1);
        assert_int_equal(f->report_index[0], 2);
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), -ENOENT); /* ours, not offered */
        assert_int_equal(at_modem_sms_done(f->m, 2, f->now), 0);
        assert_int_equal(at_modem_sms_done(f->m, 1, f->now), 0);
        assert_int_equal(at_modem_sms_done(f->m, 9, f->now), 0);
        fake_pump(f);
        assert_script_done(f);
        fake_free(f);
}

/* A full SIM listed at start and acked at once from the callbacks: the deletions go one at a
 * time (40 at once would overflow the chat's queue of AT_CHAT_QUEUE_MAX and lose some), and a
 * send still gets through after them. */
static void test_drain_many_acked(void **state)
{
        (void)state;
        enum { N_STORED = 40 };
        static char listing[N_STORED * 100];
        static char cmds[N_STORED][24];
        static struct exch ex[N_STORED + 4];
        size_t k = 0;
        for (int i = 0; i < N_STORED; i++)
                k += (size_t)snprintf(listing + k, sizeof(listing) - k, "+CMGL: %d,1,,23|%s|", i,
                                      DELIVER_PDU);
        snprintf(listing + k, sizeof(listing) - k, "OK");
        size_t e = 0;
        ex[e++] = (struct exch){ "AT+CMGL=4", listing };
        for (int i = 0; i < N_STORED; i++) {
                snprintf(cmds[i], sizeof(cmds[i]), "AT+CMGD=%d", i);
                ex[e++] = (struct exch){ cmds[i], "OK" };
        }
        ex[e++] = (struct exch){ CMGS_CMD, "> " };
        ex[e++] = (struct exch){ PDU_CMD, "+CMGS: 3|OK" };
        ex[e] = (struct exch)END;
        struct fake *f = fake_new(0, NULL);
        f->auto_ack = true;
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, ex);
        fake_start(f);
        for (int guard = 0; guard < 200 && f->n_sms < N_STORED; guard++)
                fake_advance(f, 100);
        assert_int_equal(f->n_sms, N_STORED);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN, false, 1, f->now), 0);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_SENT);
        assert_true(at_modem_idle(f->m));
        assert_int_equal(at_modem_info(f->m)->storage_used, 0);
        fake_free(f);
}

/* +CMS 322 while sending: the storage-full alarm, and the storage is listed again. */
static void test_storage_full_on_send(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "> " },
                { PDU_CMD, "+CMS ERROR: 322" },
                { "AT+CMGL=4", "OK" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        send_one(f, false, 1);
        assert_script_done(f);
        assert_true(saw_event(f, AT_MODEM_EV_STORAGE_FULL));
        assert_int_equal(f->results[0].outcome, AT_SEND_MODEM_FAULT);
        fake_free(f);
}

/* The binding's store is full (puented on a full disk): the part it could not store is kept
 * on the modem (at_modem_sms_keep), never deleted; once the store has room again
 * at_modem_relist() lists the storage and offers it again, and only then is it deleted. */
static void test_kept_then_relisted(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { "AT+CMGR=3", "+CMGR: 0,,23|" DELIVER_PDU "|OK" },
                { "AT+CMGL=4", "+CMGL: 3,1,,23|" DELIVER_PDU "|OK" },
                { "AT+CMGD=3", "OK" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        fake_urc(f, "+CMTI: \"SM\",3");
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(at_modem_sms_keep(f->m, 3), 0);
        assert_int_equal(at_modem_sms_keep(f->m, 3), -ENOENT);         /* no longer awaits an ack */
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), -ENOENT); /* never deleted */
        fake_pump(f);
        assert_int_equal(f->n_sms, 1); /* not offered again by itself */
        assert_int_equal(at_modem_relist(f->m, f->now), 0);
        fake_pump(f);
        assert_int_equal(f->n_sms, 2);
        assert_int_equal(f->sms_index[1], 3);
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), 0);
        fake_pump(f);
        assert_script_done(f);
        assert_int_equal(at_modem_sms_keep(f->m, -1), -EINVAL);
        assert_int_equal(at_modem_relist(NULL, 0), -EINVAL);
        fake_free(f);
}

/* A new-message notice lost on the line (garbage over it, a flood, a reset between the store
 * and the +CMTI) must not leave the message on the SIM until the next restart: while ready,
 * the storage is listed every AT_MODEM_LIST_INTERVAL_MS, and what it finds is read and
 * deleted. Nothing is listed before that. */
static void test_storage_swept(void **state)
{
        (void)state;
        static const struct exch csq[] = {
                { "AT+CSQ", "+CSQ: 20,99|OK" },
                END,
        };
        static const struct exch sweep[] = {
                { "AT+CMGL=4", "+CMGL: 3,1,,23|" DELIVER_PDU "|OK" },
                { "AT+CSQ", "+CSQ: 20,99|OK" }, /* due at the same tick, queued behind */
                { "AT+CMGD=3", "OK" },
                END,
        };
        struct fake *f = fake_ready();
        unsigned polls = AT_MODEM_LIST_INTERVAL_MS / AT_MODEM_CSQ_INTERVAL_MS;

        for (unsigned i = 0; i + 1 < polls; i++)
                fake_add(f, csq);
        fake_advance(f, AT_MODEM_LIST_INTERVAL_MS - 1000);
        assert_script_done(f); /* signal polls only: no listing yet */
        assert_int_equal(f->n_sms, 0);
        fake_add(f, sweep);
        fake_advance(f, 1000);
        assert_int_equal(f->n_sms, 1);
        assert_int_equal(f->sms_index[0], 3);
        assert_int_equal(at_modem_sms_done(f->m, 3, f->now), 0);
        fake_pump(f);
        assert_script_done(f);
        fake_free(f);
}

/* A flood of URCs while a part is in flight (before the prompt, between the PDU and the
 * answer) neither ends nor starves the send; the +CMTI in it is read after. */
static void test_urc_flood_during_send(void **state)
{
        (void)state;
        static char flood[64 * 1024];
        size_t k = 0;
        for (int i = 0; i < 500; i++)
                k += (size_t)snprintf(flood + k, sizeof(flood) - k, "^RSSI: %d|+CREG: 1|", i % 31);
        snprintf(flood + k, sizeof(flood) - k, "+CMTI: \"SM\",2|+CMGS: 42|OK");
        struct exch ex[] = {
                { CMGS_CMD, "+CREG: 1|^RSSI: 3|> " },
                { PDU_CMD, flood },
                { "AT+CMGR=2", "+CMGR: 0,,23|" DELIVER_PDU "|OK" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        send_one(f, false, 77);
        assert_script_done(f);
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_SENT);
        assert_int_equal(f->results[0].mr, 42);
        assert_int_equal(f->n_sms, 1);
        fake_free(f);
}

/* Signal is polled about every minute when idle. */
static void test_csq_poll(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { "AT+CSQ", "+CSQ: 5,99|OK" },
                { "AT+CSQ", "+CSQ: 31,99|OK" },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        fake_advance(f, AT_MODEM_CSQ_INTERVAL_MS);
        assert_int_equal(at_modem_info(f->m)->bars, 1);
        fake_advance(f, AT_MODEM_CSQ_INTERVAL_MS);
        assert_int_equal(at_modem_info(f->m)->dbm, -51);
        assert_script_done(f);
        fake_free(f);
}

static void test_send_arguments(void **state)
{
        (void)state;
        struct fake *f = fake_ready();
        assert_int_equal(at_modem_send(f->m, NULL, 1, false, 1, f->now), -EINVAL);
        assert_int_equal(at_modem_send(f->m, "001", 1, false, 1, f->now), -EINVAL);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, SUBMIT_LEN + 1, false, 1, f->now),
                         -EINVAL);
        assert_int_equal(at_modem_send(f->m, SUBMIT_PDU, 0, false, 1, f->now), -EINVAL);
        assert_int_equal(at_modem_send(f->m, "00110G", 2, false, 1, f->now), -EINVAL);
        assert_state(f, AT_MODEM_READY);
        assert_int_equal(f->n_results, 0);
        fake_free(f);
}

/* Freeing with a part in flight reports it (the PDU went: UNKNOWN). */
static void test_free_mid_send(void **state)
{
        (void)state;
        static const struct exch ex[] = {
                { CMGS_CMD, "> " },
                { PDU_CMD, NULL },
                END,
        };
        struct fake *f = fake_ready();
        fake_add(f, ex);
        send_one(f, false, 11);
        at_modem_free(f->m);
        f->m = NULL;
        assert_int_equal(f->n_results, 1);
        assert_int_equal(f->results[0].outcome, AT_SEND_UNKNOWN);
        free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_send_outcomes),
                cmocka_unit_test(test_cms_table),
                cmocka_unit_test(test_cms330_retry_once),
                cmocka_unit_test(test_cmms),
                cmocka_unit_test(test_reset_mid_send),
                cmocka_unit_test(test_reset_before_prompt),
                cmocka_unit_test(test_send_timeout),
                cmocka_unit_test(test_queued_send_cancelled),
                cmocka_unit_test(test_ladder_order),
                cmocka_unit_test(test_garbage_streak),
                cmocka_unit_test(test_cmti_read_ack_delete),
                cmocka_unit_test(test_cdsi),
                cmocka_unit_test(test_cmt_cnma_and_cds),
                cmocka_unit_test(test_cmt_no_cnma),
                cmocka_unit_test(test_drain_at_start),
                cmocka_unit_test(test_drain_many_acked),
                cmocka_unit_test(test_storage_full_on_send),
                cmocka_unit_test(test_kept_then_relisted),
                cmocka_unit_test(test_storage_swept),
                cmocka_unit_test(test_urc_flood_during_send),
                cmocka_unit_test(test_csq_poll),
                cmocka_unit_test(test_send_arguments),
                cmocka_unit_test(test_free_mid_send),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
