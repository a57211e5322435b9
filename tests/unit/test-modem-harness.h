/* A scripted fake modem for the at/modem tests: expected command -> response lines, fed back
 * through at_modem_feed() with a fake clock; everything the core reports is logged. Included by
 * the test-modem*.c files only (static functions, one copy per test binary). */
#pragma once

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at/modem.h"

/* Each test binary uses a different part of the harness. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

/* One exchange: the command the core must write (the PDU after a prompt is written as
 * "PDU:<hex>", an ESC as "ESC") and the answer: lines separated by '|', ">" for the bare
 * prompt, "> " for prompt and space, NULL for silence. */
struct exch {
        const char *cmd;
        const char *resp;
};

#define END                                                                                        \
        {                                                                                          \
                NULL, NULL                                                                         \
        }
#define SEGS_MAX    24
#define SEEN_MAX    256
#define LOGTEXT_MAX 65536

struct fake {
        struct at_modem *m;
        uint64_t now;
        const struct exch *segs[SEGS_MAX];
        size_t n_segs, seg, pos;
        bool echo;
        char out[16384];
        size_t out_len;
        bool strict;                 /* a command past the end of the script fails the test */
        const struct exch *fallback; /* past the end: answers by command, if not strict */
        bool hold; /* past the end: leave what the core writes unread until more script */

        /* what the core reported */
        char log[LOGTEXT_MAX];
        size_t log_len;
        enum at_modem_state states[SEEN_MAX];
        size_t n_states;
        struct at_modem_send_result results[SEEN_MAX];
        char result_texts[SEEN_MAX][AT_MODEM_TEXT_MAX];
        size_t n_results;
        int sms_index[SEEN_MAX];
        char sms_pdu[SEEN_MAX][600];
        size_t n_sms;
        int report_index[SEEN_MAX];
        size_t n_reports;
        enum at_modem_event_type events[SEEN_MAX];
        size_t n_events;
        char refused_pin[16];
        bool time_sane;
        const char *pin;   /* what get_pin answers */
        int pin_rc;        /* ... or this error */
        bool auto_ack;     /* call at_modem_sms_done() from inside on_sms/on_report */
        unsigned commands; /* commands written */
};

static void flog(struct fake *f, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(f->log + f->log_len, LOGTEXT_MAX - f->log_len, fmt, ap);
        va_end(ap);
        if (n > 0 && (size_t)n < LOGTEXT_MAX - f->log_len - 2) {
                f->log_len += (size_t)n;
                f->log[f->log_len++] = '\n';
                f->log[f->log_len] = '\0';
        }
}

static void cb_state(struct at_modem *m, enum at_modem_state from, enum at_modem_state to,
                     const char *reason, void *ud)
{
        struct fake *f = ud;
        (void)m;
        flog(f, "state %s -> %s: %s", at_modem_state_name(from), at_modem_state_name(to), reason);
        if (f->n_states < SEEN_MAX)
                f->states[f->n_states++] = to;
}

static int cb_pin(struct at_modem *m, const char *iccid, char *ret_pin, size_t size, void *ud)
{
        struct fake *f = ud;
        (void)m;
        flog(f, "get_pin %s", iccid);
        if (!f->pin)
                return f->pin_rc ? f->pin_rc : -ENOENT;
        if (f->refused_pin[0] && strcmp(f->refused_pin, f->pin) == 0)
                return -EPERM; /* what the binding answers for a PIN that failed once */
        snprintf(ret_pin, size, "%s", f->pin);
        return 0;
}

static void cb_result(struct at_modem *m, const struct at_modem_send_result *r, void *ud)
{
        struct fake *f = ud;
        (void)m;
        flog(f, "result %llu %s mr=%d cms=%d %s", (unsigned long long)r->cookie,
             at_send_outcome_name(r->outcome), r->mr, r->cms, r->text);
        if (f->n_results < SEEN_MAX) {
                f->results[f->n_results] = *r;
                snprintf(f->result_texts[f->n_results], AT_MODEM_TEXT_MAX, "%s", r->text);
                f->results[f->n_results].text = f->result_texts[f->n_results];
                f->n_results++;
        }
}

static void cb_sms(struct at_modem *m, const char *pdu, int index, const char *mem, void *ud)
{
        struct fake *f = ud;
        flog(f, "sms %d %s %s", index, mem, pdu);
        if (f->n_sms < SEEN_MAX) {
                f->sms_index[f->n_sms] = index;
                snprintf(f->sms_pdu[f->n_sms], sizeof(f->sms_pdu[0]), "%s", pdu);
                f->n_sms++;
        }
        if (f->auto_ack)
                assert_int_equal(at_modem_sms_done(m, index, f->now), 0);
}

static void cb_report(struct at_modem *m, const char *pdu, int index, const char *mem, void *ud)
{
        struct fake *f = ud;
        flog(f, "report %d %s %s", index, mem, pdu);
        if (f->n_reports < SEEN_MAX)
                f->report_index[f->n_reports++] = index;
        if (f->auto_ack)
                assert_int_equal(at_modem_sms_done(m, index, f->now), 0);
}

static void cb_event(struct at_modem *m, const struct at_modem_event *ev, void *ud)
{
        struct fake *f = ud;
        (void)m;
        if (ev->type == AT_MODEM_EV_INFO)
                return; /* too many to be worth logging */
        flog(f, "event %d", ev->type);
        if (f->n_events < SEEN_MAX)
                f->events[f->n_events++] = ev->type;
        if (ev->type == AT_MODEM_EV_PIN_REFUSED)
                snprintf(f->refused_pin, sizeof(f->refused_pin), "%s", ev->pin);
        if (ev->type == AT_MODEM_EV_NETWORK_TIME)
                f->time_sane = ev->time_sane;
}

static const struct at_modem_callbacks fake_cb = {
        .on_state = cb_state,
        .get_pin = cb_pin,
        .on_send_result = cb_result,
        .on_sms = cb_sms,
        .on_report = cb_report,
        .on_event = cb_event,
};

static void fake_feed(struct fake *f, const char *bytes, size_t n)
{
        assert_int_equal(at_modem_feed(f->m, (const uint8_t *)bytes, n, f->now), 0);
}

/* Answers in the modem's framing: "\r\n<line>\r\n" per line. */
static void fake_answer(struct fake *f, const char *resp)
{
        if (!resp)
                return;
        if (resp[0] == '>') {
                fake_feed(f, resp, strlen(resp));
                return;
        }
        static char buf[96 * 1024];
        size_t k = 0;
        const char *p = resp;
        while (*p) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                assert_true(k + n + 4 < sizeof(buf));
                memcpy(buf + k, "\r\n", 2);
                memcpy(buf + k + 2, p, n);
                memcpy(buf + k + 2 + n, "\r\n", 2);
                k += n + 4;
                p += n;
                if (*p == '|')
                        p++;
        }
        fake_feed(f, buf, k);
}

static const struct exch *fake_next(struct fake *f)
{
        while (f->seg < f->n_segs) {
                const struct exch *e = &f->segs[f->seg][f->pos];
                if (e->cmd)
                        return e;
                f->seg++;
                f->pos = 0;
        }
        return NULL;
}

static void fake_command(struct fake *f, const char *cmd)
{
        f->commands++;
        flog(f, "<- %s", cmd);
        const struct exch *e = fake_next(f);
        if (!e) {
                if (f->strict)
                        fail_msg("command \"%s\" after the end of the script\n%s", cmd, f->log);
                for (const struct exch *x = f->fallback; x && x->cmd; x++)
                        if (strcmp(x->cmd, cmd) == 0) {
                                fake_answer(f, x->resp);
                                break;
                        }
                return;
        }
        if (strcmp(e->cmd, cmd) != 0)
                fail_msg("expected \"%s\", the core wrote \"%s\"\n%s", e->cmd, cmd, f->log);
        f->pos++;
        if (f->echo && strncmp(cmd, "PDU:", 4) != 0 && strcmp(cmd, "ESC") != 0) {
                char echo[2100];
                if (strncmp(cmd, "ESC ", 4) == 0)
                        snprintf(echo, sizeof(echo), "\x1b%s\r", cmd + 4);
                else
                        snprintf(echo, sizeof(echo), "%s\r", cmd);
                fake_feed(f, echo, strlen(echo));
        }
        if (strcmp(cmd, "ATE0") == 0)
                f->echo = false;
        fake_answer(f, e->resp);
}

/* Moves the core's output into the fake modem until nothing is left to answer. */
static void fake_pump(struct fake *f)
{
        for (int guard = 0; guard < 100000; guard++) {
                const uint8_t *buf;
                size_t n = at_modem_output(f->m, &buf);
                if (n > 0) {
                        assert_true(f->out_len + n < sizeof(f->out));
                        memcpy(f->out + f->out_len, buf, n);
                        f->out_len += n;
                        at_modem_output_done(f->m, n);
                }
                if (f->hold && !fake_next(f))
                        return;
                /* one complete unit: a command line, a PDU ended by Ctrl-Z, or ESC */
                /* an ESC with a command right behind it (the probe's "\x1bAT") is one
                 * unit, "ESC AT"; an ESC alone is the unit "ESC" */
                size_t start = f->out_len > 1 && f->out[0] == 0x1b ? 1 : 0;
                size_t i = start;
                while (i < f->out_len && f->out[i] != '\r' && f->out[i] != 0x1a &&
                       f->out[i] != 0x1b)
                        i++;
                if (i == f->out_len) {
                        if (n == 0)
                                return;
                        continue;
                }
                char unit[2048];
                char term = f->out[i];
                if (term == 0x1b && i == 0)
                        snprintf(unit, sizeof(unit), "ESC");
                else if (term == 0x1a)
                        snprintf(unit, sizeof(unit), "PDU:%.*s", (int)i, f->out);
                else if (start)
                        snprintf(unit, sizeof(unit), "ESC %.*s", (int)(i - 1), f->out + 1);
                else
                        snprintf(unit, sizeof(unit), "%.*s", (int)i, f->out);
                if (term == 0x1b && i > 0)
                        i--; /* the ESC ends this unit and starts the next */
                memmove(f->out, f->out + i + 1, f->out_len - i - 1);
                f->out_len -= i + 1;
                fake_command(f, unit);
        }
        fail_msg("the core does not stop writing\n%s", f->log);
}

/* Lets ms pass, running every deadline on the way. */
static void fake_advance(struct fake *f, uint64_t ms)
{
        uint64_t end = f->now + ms;
        for (int guard = 0; guard < 100000; guard++) {
                uint64_t d = at_modem_next_deadline(f->m);
                if (d > end)
                        break;
                if (d > f->now)
                        f->now = d;
                at_modem_tick(f->m, f->now);
                fake_pump(f);
        }
        f->now = end;
        at_modem_tick(f->m, f->now);
        fake_pump(f);
}

/* Unsolicited bytes from the modem, then whatever the core writes in answer. */
static void fake_urc(struct fake *f, const char *lines)
{
        fake_answer(f, lines);
        fake_pump(f);
}

static void fake_add(struct fake *f, const struct exch *seg)
{
        assert_true(f->n_segs < SEGS_MAX);
        f->segs[f->n_segs++] = seg;
}

static struct fake *fake_new(unsigned quirks, const char *smsc)
{
        struct fake *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        struct at_modem_config cfg = { .quirks = quirks, .smsc = smsc, .name = "test" };
        assert_int_equal(at_modem_new(&cfg, &fake_cb, f, &f->m), 0);
        f->now = 1000;
        f->echo = true; /* a modem fresh from boot echoes until ATE0 */
        f->strict = true;
        return f;
}

static void fake_start(struct fake *f)
{
        assert_int_equal(at_modem_start(f->m, f->now), 0);
        fake_pump(f);
}

/* Runs the clock until the script is used up (or limit ms pass). */
static void fake_run(struct fake *f, uint64_t limit)
{
        fake_pump(f);
        for (uint64_t t = 0; t < limit && fake_next(f); t += 100)
                fake_advance(f, 100);
}

static void fake_free(struct fake *f)
{
        at_modem_free(f->m);
        free(f);
}

static void assert_script_done(struct fake *f)
{
        const struct exch *e = fake_next(f);
        if (e)
                fail_msg("the core never wrote \"%s\"\n%s", e->cmd, f->log);
}

static void assert_state(struct fake *f, enum at_modem_state s)
{
        if (at_modem_state(f->m) != s)
                fail_msg("state %s, expected %s\n%s", at_modem_state_name(at_modem_state(f->m)),
                         at_modem_state_name(s), f->log);
}

static bool saw_event(const struct fake *f, enum at_modem_event_type t)
{
        for (size_t i = 0; i < f->n_events; i++)
                if (f->events[i] == t)
                        return true;
        return false;
}

/* ---- scripts of a standard 27.007/27.005 modem (puente-sim's "standard" dialect) ---------- */

/* The probe's first command: ESC ends a message input a killed host left open
 * (27.005 3.5.1), then AT. */
#define PROBE_AT "ESC AT"

static const struct exch probe_std[] = {
        { PROBE_AT, "OK" },
        { "ATE0", "OK" },
        { "AT+CMEE=1", "OK" },
        { "AT+CGMI", "Puente|OK" },
        { "AT+CGMM", "SIM-27007|OK" },
        { "AT+CGMR", "1.0|OK" },
        { "AT+CGSN", "356938035643809|OK" },
        END,
};

static const struct exch sim_ready[] = {
        { "AT+CCID", "+CCID: 8952020012345678901|OK" },
        { "AT+CPIN?", "+CPIN: READY|OK" },
        { "AT+CIMI", "334020123456789|OK" },
        END,
};

static const struct exch net_home[] = {
        { "AT+CREG=2", "OK" },
        { "AT+CREG?", "+CREG: 2,1,\"1A2B\",\"00C0FFEE\"|OK" },
        END,
};

static const struct exch net_info[] = {
        { "AT+COPS=3,0", "OK" },
        { "AT+COPS?", "+COPS: 0,0,\"Telcel\",2|OK" },
        { "AT+CSQ", "+CSQ: 20,99|OK" },
        { "AT+CTZU=1", "OK" },
        { "AT+CCLK?", "+CCLK: \"26/11/27,21:30:00-24\"|OK" },
        END,
};

static const struct exch sms_std[] = {
        { "AT+CMGF=0", "OK" },
        { "AT+CSCA?", "+CSCA: \"+5294100001410\",145|OK" },
        { "AT+CPMS=\"SM\",\"SM\",\"SM\"", "+CPMS: 0,30,0,30,0,30|OK" },
        { "AT+CPMS?", "+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30|OK" },
        { "AT+CNMI=?", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)|OK" },
        { "AT+CNMI=2,1,0,2,0", "OK" },
        { "AT+CSMS?", "+CSMS: 0,1,1,1|OK" },
        END,
};

static const struct exch drain_empty[] = {
        { "AT+CMGL=4", "OK" },
        END,
};

/* The whole standard bring-up, from start to READY with an empty storage. */
static struct fake *fake_ready(void)
{
        struct fake *f = fake_new(0, NULL);
        fake_add(f, probe_std);
        fake_add(f, sim_ready);
        fake_add(f, net_home);
        fake_add(f, net_info);
        fake_add(f, sms_std);
        fake_add(f, drain_empty);
        fake_start(f);
        fake_run(f, 10000);
        assert_script_done(f);
        assert_state(f, AT_MODEM_READY);
        return f;
}

/* A SUBMIT to +31628870634 "hellohello" (TS 23.040 9.2.2.2), SMSC from the SIM ("00"). */
#define SUBMIT_PDU "0011000B911326880736F40000AA0AE8329BFD4697D9EC37"
#define SUBMIT_LEN ((sizeof(SUBMIT_PDU) - 1) / 2 - 1)
/* A DELIVER from +31641600986, "How are you?" (SMSC +31624000000). */
#define DELIVER_PDU "07911326040000F0040B911346610089F60000208062917314080CC8329BFD06"
/* A STATUS-REPORT (TP-MTI 2) for message reference 5 to +31628870634, delivered. */
#define REPORT_PDU "0006050B911326880736F4111011719551401110117195714000"
