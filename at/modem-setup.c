/* The modem's init sequences as data (probe, SIM, network, SMS set-up) and their handlers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at/modem-internal.h"
#include "at/quirks.h"

#define CTX(ctx) ((struct at_modem *)(ctx))

/* Some stick firmwares (Huawei E173 after AT+CMEE=2) put the identity on one line after an
 * echo of the command name: the last line that is not empty wins, prefix stripped. */
static const char *last_line(const struct at_result *r)
{
        return r->n_lines > 0 ? r->lines[r->n_lines - 1].text : NULL;
}

static void copy_ident(char *dst, size_t size, const char *line)
{
        if (!line)
                return;
        const char *colon = line[0] == '+' ? strchr(line, ':') : NULL;
        if (colon)
                line = colon + 1;
        while (*line == ' ' || *line == '"')
                line++;
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '"'))
                n--;
        if (n >= size)
                n = size - 1;
        memcpy(dst, line, n);
        dst[n] = '\0';
}

/* --- probe: autobaud, echo off, numeric errors, identity ------------------------------ */

static int h_at(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status != AT_STATUS_TIMEOUT)
                return 0; /* any answer, even ERROR, says it is awake */
        unsigned tries =
                m->quirks & AT_QUIRK_AUTOBAUD ? 2 * AT_MODEM_PROBE_TRIES : AT_MODEM_PROBE_TRIES;
        return ++m->probe_tries < tries ? -EAGAIN : -ETIMEDOUT;
}

/* An IMEI is 15 digits (3GPP TS 23.003 6.2.1). Anything else (a stray line taken for the
 * answer, a serial number of another length) is refused rather than kept as the modem's
 * identity: the daemon matches modems by IMEI and probes again when it is missing. */
static int parse_imei(const char *line, char *ret_imei, size_t size)
{
        char id[AT_PARSE_ID_MAX];
        int rc = at_parse_identity(line, id, sizeof(id));
        if (rc < 0)
                return -EBADMSG;
        if (strlen(id) != MODEM_IMEI_DIGITS || id[MODEM_IMEI_DIGITS - 1] == 'F' ||
            id[MODEM_IMEI_DIGITS - 1] == 'f')
                return -EBADMSG;
        if (strlen(id) >= size)
                return -ENOBUFS;
        memcpy(ret_imei, id, MODEM_IMEI_DIGITS + 1);
        return 0;
}

static int h_ident(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        struct at_modem_info *i = &m->info;
        const struct at_seq_step *st = &s->steps[s->i];
        if (r->status != AT_STATUS_OK)
                return -EIO;
        const char *l = last_line(r);
        if (strcmp(st->cmd, "AT+CGMI") == 0)
                copy_ident(i->maker, sizeof(i->maker), l);
        else if (strcmp(st->cmd, "AT+CGMM") == 0)
                copy_ident(i->model, sizeof(i->model), l);
        else if (strcmp(st->cmd, "AT+CGMR") == 0)
                copy_ident(i->revision, sizeof(i->revision), l);
        else if (l)
                return parse_imei(l, i->imei, sizeof(i->imei));
        return 0;
}

/* After the identity: add what the model table knows (AT^CURC=0 for Huawei, ...). */
static int h_cgmm(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        int rc = h_ident(s, ctx, r);
        m->quirks |= at_quirks_by_model(m->info.maker, m->info.model);
        m->info.quirks = m->quirks;
        return rc;
}

static const struct at_seq_step probe_steps[] = {
        /* ESC first (27.005 3.5.1): a host killed after the prompt leaves the modem taking
         * everything as message text until Ctrl-Z or ESC. Text before "AT" is ignored in
         * command mode (V.250 5.2.1). */
        { .cmd = "\x1b"
                 "AT",
          .timeout_ms = MODEM_PROBE_AT_MS,
          .handler = h_at },
        /* Echo off first: with echo on, every answer starts with our own line. The wait lets
         * the second answer of a modem that was taking a message (OK to the ESC, OK to the
         * AT) arrive as stray rather than as ATE0's. */
        { .cmd = "ATE0", .wait_ms = MODEM_PROBE_SETTLE_MS },
        { .cmd = "AT+CMEE=1", .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CGMI", .handler = h_ident, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CGMM", .handler = h_cgmm, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CGMR", .handler = h_ident, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CGSN", .handler = h_ident, .on_error = AT_SEQ_SKIP },
        /* Huawei E173/E1550/E3131: ^RSSI, ^MODE, ^BOOT every few seconds otherwise. */
        { .cmd = "AT^CURC=0", .need = AT_QUIRK_CURC, .on_error = AT_SEQ_SKIP },
};

/* --- SIM: ICCID, PIN, IMSI --------------------------------------------------------------- */

static int h_iccid(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status != AT_STATUS_OK)
                return -EIO;
        for (size_t k = 0; k < r->n_lines; k++)
                if (at_parse_identity(r->lines[k].text, m->info.iccid, sizeof(m->info.iccid)) == 0)
                        return 0;
        return -EBADMSG;
}

static int h_imsi(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status == AT_STATUS_OK && last_line(r))
                at_parse_identity(last_line(r), m->info.imsi, sizeof(m->info.imsi));
        return 0;
}

/* Fails the modem from inside a sequence: the sequence is stopped by the state change. */
static int sim_fail(struct at_modem *m, enum at_modem_fail why, const char *text)
{
        m->info.sim_text = text;
        modem_fail(m, why, NULL);
        return -EPERM;
}

/* +CME ERROR numbers of 27.007 9.2.1 that say something about the SIM. */
static int sim_error(struct at_seq *s, struct at_modem *m, const struct at_result *r)
{
        if (r->status == AT_STATUS_CME) {
                switch (r->err) {
                case 10: /* SIM not inserted */
                        return sim_fail(m, AT_MODEM_FAIL_NO_SIM, "no SIM");
                case 11: /* SIM PIN required: handled by the +CPIN? answer */
                        break;
                case 12: /* SIM PUK required */
                case 18: /* SIM PUK2 required */
                        return sim_fail(m, AT_MODEM_FAIL_PUK_NEEDED, "needs PUK");
                case 13: /* SIM failure */
                case 15: /* SIM wrong */
                        return sim_fail(m, AT_MODEM_FAIL_SIM, "SIM failure");
                default:
                        break;
                }
        }
        /* SIM busy (+CME 14), "not ready" or a bare ERROR right after boot: ask again. */
        at_seq_delay(s, 1000);
        return -EAGAIN;
}

static int h_cpin(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        const struct at_line *l = at_result_find(r, "+CPIN:");
        struct at_cpin c;
        /* Some SIMCom firmwares give "+CPIN: READY" and never OK: the time-out ends it. */
        if (!l || at_parse_cpin(l->text, &c) < 0) {
                if (r->status == AT_STATUS_TIMEOUT)
                        return -ETIMEDOUT;
                return sim_error(s, m, r);
        }
        switch (c.state) {
        case AT_PIN_READY:
                m->info.sim_text = "ready";
                return 0;
        case AT_PIN_SIM_PIN:
                if (m->pin_entered) { /* accepted, not yet applied: ask again */
                        at_seq_delay(s, 1000);
                        return -EAGAIN;
                }
                m->info.sim_text = "needs PIN";
                int rc = m->cb.get_pin ? m->cb.get_pin(m, m->info.iccid, m->pin, sizeof(m->pin),
                                                       m->userdata)
                                       : -ENOENT;
                if (rc < 0 || !m->pin[0] || strlen(m->pin) >= sizeof(m->pin)) {
                        memset(m->pin, 0, sizeof(m->pin));
                        m->info.sim_text = "needs PIN";
                        /* Never try a PIN that failed once: the SIM would lock. */
                        modem_fail(m, AT_MODEM_FAIL_PIN_NEEDED,
                                   rc == -EPERM ? "the configured PIN failed before" : NULL);
                        return -EPERM;
                }
                return 0;
        case AT_PIN_SIM_PUK:
        case AT_PIN_SIM_PUK2:
                return sim_fail(m, AT_MODEM_FAIL_PUK_NEEDED, "needs PUK");
        case AT_PIN_SIM_PIN2:
                /* PIN2 guards only the fixed dialling numbers: SMS works. */
                m->info.sim_text = "ready";
                return 0;
        default:
                if (strstr(c.text, "NOT INSERTED") || strstr(c.text, "NOT PRESENT"))
                        return sim_fail(m, AT_MODEM_FAIL_NO_SIM, "no SIM");
                if (strstr(c.text, "NOT READY") || strstr(c.text, "BUSY")) {
                        at_seq_delay(s, 1000);
                        return -EAGAIN;
                }
                return sim_fail(m, AT_MODEM_FAIL_PUK_NEEDED, "locked");
        }
}

static int b_pin(void *ctx, char *buf, size_t size)
{
        struct at_modem *m = CTX(ctx);
        if (!m->pin[0])
                return -ENODATA;
        snprintf(buf, size, "AT+CPIN=\"%s\"", m->pin);
        return 0;
}

static int h_pin(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status == AT_STATUS_OK) {
                memset(m->pin, 0, sizeof(m->pin));
                m->pin_entered = true;
                return 0;
        }
        if (r->status == AT_STATUS_CME && (r->err == 16 || r->err == 12)) {
                /* 27.007 9.2.1: 16 incorrect password; 12 the SIM went to PUK. Reported once
                 * so that the binding never offers this PIN again. */
                struct at_modem_event ev = {
                        .type = AT_MODEM_EV_PIN_REFUSED,
                        .iccid = m->info.iccid,
                        .pin = m->pin,
                };
                if (m->cb.on_event)
                        m->cb.on_event(m, &ev, m->userdata);
                memset(m->pin, 0, sizeof(m->pin));
                return sim_fail(m,
                                r->err == 12 ? AT_MODEM_FAIL_PUK_NEEDED : AT_MODEM_FAIL_PIN_REFUSED,
                                r->err == 12 ? "needs PUK" : "PIN refused");
        }
        memset(m->pin, 0, sizeof(m->pin));
        if (r->status == AT_STATUS_TIMEOUT)
                return -ETIMEDOUT;
        return sim_error(s, m, r) == -EAGAIN ? sim_fail(m, AT_MODEM_FAIL_SIM, "PIN not taken")
                                             : -EPERM;
}

static int b_cpin_again(void *ctx, char *buf, size_t size)
{
        if (!CTX(ctx)->pin_entered)
                return -ENODATA;
        snprintf(buf, size, "AT+CPIN?");
        return 0;
}

static const struct at_seq_step sim_steps[] = {
        /* The ICCID is readable without the PIN and names the PIN in the configuration. */
        { .cmd = "AT+CCID", .handler = h_iccid, .on_error = AT_SEQ_NEXT },
        { .cmd = "AT+ICCID", .handler = h_iccid, .on_error = AT_SEQ_NEXT, .alt = true },
        { .cmd = "AT+QCCID", .handler = h_iccid, .on_error = AT_SEQ_NEXT, .alt = true },
        { .cmd = "AT^ICCID?", .handler = h_iccid, .on_error = AT_SEQ_SKIP, .alt = true },
        { .cmd = "AT+CPIN?", .prefix = "+CPIN:", .handler = h_cpin, .unless = AT_QUIRK_CPIN_NO_OK },
        { .cmd = "AT+CPIN?",
          .prefix = "+CPIN:",
          .flags = AT_CMD_PREFIX_IS_FINAL,
          .handler = h_cpin,
          .need = AT_QUIRK_CPIN_NO_OK },
        { .build = b_pin, .handler = h_pin, .timeout_ms = 10000 },
        { .build = b_cpin_again, .prefix = "+CPIN:", .handler = h_cpin },
        { .cmd = "AT+CIMI", .handler = h_imsi, .on_error = AT_SEQ_SKIP },
};

/* --- network: registration, operator, signal, network time ---------------------------- */

static int h_creg(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CREG:");
        struct at_creg c;
        if (r->status != AT_STATUS_OK || !l || at_parse_creg(l->text, true, &c) < 0)
                return r->status == AT_STATUS_TIMEOUT ? -ETIMEDOUT : -EIO;
        modem_set_reg(m, c.stat);
        return 0;
}

static int h_cops(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+COPS:");
        struct at_cops c;
        if (r->status != AT_STATUS_OK || !l || at_parse_cops(l->text, &c) < 0)
                return -EIO;
        snprintf(m->info.oper, sizeof(m->info.oper), "%s", c.oper);
        return 0;
}

void modem_handle_csq(struct at_modem *m, const struct at_result *r)
{
        const struct at_line *l = at_result_find(r, "+CSQ:");
        struct at_csq c;
        if (r->status != AT_STATUS_OK || !l || at_parse_csq(l->text, &c) < 0)
                return;
        int dbm = 0;
        if (at_csq_to_dbm(c.rssi, &dbm) < 0)
                dbm = 0;
        if (c.rssi != m->info.rssi) {
                m->info.rssi = c.rssi;
                m->info.dbm = dbm;
                m->info.bars = at_csq_to_bars(c.rssi);
                modem_info_changed(m);
        }
}

static int h_csq(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        modem_handle_csq(CTX(ctx), r);
        return 0;
}

static int h_cclk(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CCLK:");
        struct at_time t;
        if (r->status != AT_STATUS_OK || !l || at_parse_cclk(l->text, &t) < 0 || !t.has_time)
                return -EIO;
        struct at_modem_event ev = {
                .type = AT_MODEM_EV_NETWORK_TIME,
                .time = &t,
                /* A modem without network time counts from its firmware date (2004, 2080). */
                .time_sane = t.year >= 2024 && t.year < 2080,
        };
        if (m->cb.on_event)
                m->cb.on_event(m, &ev, m->userdata);
        return 0;
}

static const struct at_seq_step net_steps[] = {
        /* 27.007 7.2: n=2 adds the cell; older modems refuse it. */
        { .cmd = "AT+CREG=2", .on_error = AT_SEQ_NEXT, .unless = AT_QUIRK_CREG1 },
        { .cmd = "AT+CREG=1", .on_error = AT_SEQ_SKIP, .alt = true },
        { .cmd = "AT+CREG?", .prefix = "+CREG:", .handler = h_creg },
};

static const struct at_seq_step net_ok_steps[] = {
        /* 27.007 7.3: long alphanumeric operator names in +COPS? */
        { .cmd = "AT+COPS=3,0", .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+COPS?", .prefix = "+COPS:", .handler = h_cops, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CSQ", .prefix = "+CSQ:", .handler = h_csq },
        /* 27.007 8.40: let the network set the modem's clock, then read it. */
        { .cmd = "AT+CTZU=1", .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CCLK?", .prefix = "+CCLK:", .handler = h_cclk, .on_error = AT_SEQ_SKIP },
};

/* --- SMS set-up: PDU mode, SMSC, storage, indications ----------------------------------- */

/* SMS commands refused right after boot (+CMS 500, 302, bare ERROR; SIM800 before "SMS
 * Ready") are retried by running the whole set-up again a little later. */
static int h_cmgf(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        (void)ctx;
        if (r->status == AT_STATUS_OK)
                return 0;
        return r->status == AT_STATUS_TIMEOUT ? -ETIMEDOUT : -EIO;
}

static int h_csca(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CSCA:");
        struct at_csca c;
        if (r->status == AT_STATUS_OK && l && at_parse_csca(l->text, &c) == 0)
                snprintf(m->info.smsc, sizeof(m->info.smsc), "%s", c.number);
        return 0;
}

/* The SIM forgot its SMSC and the configuration names one: set it (27.005 3.3.1). */
static int b_csca_set(void *ctx, char *buf, size_t size)
{
        struct at_modem *m = CTX(ctx);
        if (m->info.smsc[0] || !m->smsc_cfg[0])
                return -ENODATA;
        snprintf(buf, size, "AT+CSCA=\"%s\",%d", m->smsc_cfg, m->smsc_cfg[0] == '+' ? 145 : 129);
        return 0;
}

static int h_csca_set(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status == AT_STATUS_OK)
                snprintf(m->info.smsc, sizeof(m->info.smsc), "%s", m->smsc_cfg);
        return 0;
}

/* A decimal int at p (leading blanks skipped); *ret_end after it. -EBADMSG if there is no
 * number or it does not fit an int. */
static int read_int(const char *p, const char **ret_end, int *ret)
{
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || v < INT_MIN || v > INT_MAX)
                return -EBADMSG;
        *ret_end = end;
        *ret = (int)v;
        return 0;
}

/* The answer to the set form is "+CPMS: used1,total1,used2,total2,used3,total3". */
static int cpms_set(struct at_modem *m, const struct at_result *r, const char *mem)
{
        const struct at_line *l = at_result_find(r, "+CPMS:");
        if (r->status != AT_STATUS_OK)
                return r->status == AT_STATUS_TIMEOUT ? -ETIMEDOUT : -EIO;
        snprintf(m->info.mem, sizeof(m->info.mem), "%s", mem);
        int used, total;
        const char *p;
        if (l && read_int(l->text + strlen("+CPMS:"), &p, &used) == 0 && *p == ',' &&
            read_int(p + 1, &p, &total) == 0) {
                m->info.storage_used = used;
                m->info.storage_total = total;
        }
        return 0;
}

static int h_cpms_sm(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        return cpms_set(CTX(ctx), r, "SM");
}

static int h_cpms_me(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        return cpms_set(CTX(ctx), r, "ME");
}

static int h_cpms_mt(struct at_seq *s, void *ctx, const struct at_result *r)
{
        (void)s;
        return cpms_set(CTX(ctx), r, "MT");
}

static int h_cpms_read(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CPMS:");
        struct at_cpms c;
        if (r->status != AT_STATUS_OK || !l || at_parse_cpms(l->text, &c) < 0)
                return 0;
        m->info.storage_used = c.s[0].used;
        m->info.storage_total = c.s[0].total;
        return 0;
}

static int h_cnmi_test(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CNMI:");
        m->cnmi_known =
                r->status == AT_STATUS_OK && l && at_parse_cnmi_support(l->text, &m->cnmi) == 0;
        m->cnmi_try = 0;
        return 0;
}

/* 27.005 3.4.1, in order of preference: <mt>=1 stores and announces (+CMTI), so nothing is
 * lost if we are slow; <ds>=2 stores reports (+CDSI), else <ds>=1 sends them (+CDS).
 * <mode>=2 buffers indications while the link is busy, else 1 drops them when busy (the
 * start-up listing and the read-back after each reset catch up). Huawei E173 refuses <ds>=1
 * and <mode>=3. */
static const int cnmi_choices[MODEM_CNMI_MAX][5] = {
        { 2, 1, 0, 2, 0 }, { 2, 1, 0, 1, 0 }, { 1, 1, 0, 2, 0 },
        { 1, 1, 0, 1, 0 }, { 2, 1, 0, 0, 0 }, { 1, 1, 0, 0, 0 },
};

static bool cnmi_supported(const struct at_cnmi_support *c, const int *v)
{
        return (c->mode >> v[0] & 1) && (c->mt >> v[1] & 1) && (c->bm >> v[2] & 1) &&
               (c->ds >> v[3] & 1) && (c->bfr >> v[4] & 1);
}

static int b_cnmi(void *ctx, char *buf, size_t size)
{
        struct at_modem *m = CTX(ctx);
        while (m->cnmi_try < MODEM_CNMI_MAX && m->cnmi_known &&
               !cnmi_supported(&m->cnmi, cnmi_choices[m->cnmi_try]))
                m->cnmi_try++;
        if (m->cnmi_try >= MODEM_CNMI_MAX)
                return -ENODATA;
        const int *v = cnmi_choices[m->cnmi_try];
        snprintf(buf, size, "AT+CNMI=%d,%d,%d,%d,%d", v[0], v[1], v[2], v[3], v[4]);
        snprintf(m->cnmi_set, sizeof(m->cnmi_set), "%s", buf + 8);
        return 0;
}

static int h_cnmi(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r->status == AT_STATUS_OK)
                return 0;
        if (r->status == AT_STATUS_TIMEOUT)
                return -ETIMEDOUT;
        m->cnmi_set[0] = '\0';
        /* The modem refused what it listed (or listed nothing): try the next choice. */
        if (++m->cnmi_try < MODEM_CNMI_MAX)
                return -EAGAIN;
        modem_set_error(m, "no +CNMI setting accepted: new messages found only by listing");
        return -EIO;
}

/* 27.005 3.2.1: with <service> 1, every +CMT/+CDS must be acknowledged with AT+CNMA. */
static int h_csms(struct at_seq *s, void *ctx, const struct at_result *r)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        const struct at_line *l = at_result_find(r, "+CSMS:");
        int service;
        const char *end;
        m->cnma_needed = (m->quirks & AT_QUIRK_CNMA) != 0;
        if (r->status == AT_STATUS_OK && l &&
            read_int(l->text + strlen("+CSMS:"), &end, &service) == 0 && service == 1)
                m->cnma_needed = true;
        return 0;
}

static const struct at_seq_step sms_steps[] = {
        /* 27.005 3.2.3: PDU mode (SIMCom SIM800 boots in text mode). */
        { .cmd = "AT+CMGF=0", .handler = h_cmgf },
        { .cmd = "AT+CSCA?", .prefix = "+CSCA:", .handler = h_csca, .on_error = AT_SEQ_SKIP },
        { .build = b_csca_set, .handler = h_csca_set, .on_error = AT_SEQ_SKIP },
        /* 27.005 3.2.2: one storage for reading, writing and receiving, so that +CMGR and
         * +CMGD reach what +CMTI announces; SIM first, phone memory for ME-only modems. */
        { .cmd = "AT+CPMS=\"ME\",\"ME\",\"ME\"",
          .prefix = "+CPMS:",
          .handler = h_cpms_me,
          .on_error = AT_SEQ_NEXT,
          .need = AT_QUIRK_ME_STORAGE },
        { .cmd = "AT+CPMS=\"SM\",\"SM\",\"SM\"",
          .prefix = "+CPMS:",
          .handler = h_cpms_sm,
          .on_error = AT_SEQ_NEXT,
          .unless = AT_QUIRK_ME_STORAGE },
        { .cmd = "AT+CPMS=\"ME\",\"ME\",\"ME\"",
          .prefix = "+CPMS:",
          .handler = h_cpms_me,
          .on_error = AT_SEQ_NEXT,
          .alt = true },
        { .cmd = "AT+CPMS=\"SM\",\"SM\",\"SM\"",
          .prefix = "+CPMS:",
          .handler = h_cpms_sm,
          .on_error = AT_SEQ_NEXT,
          .alt = true,
          .need = AT_QUIRK_ME_STORAGE },
        { .cmd = "AT+CPMS=\"MT\",\"MT\",\"MT\"",
          .prefix = "+CPMS:",
          .handler = h_cpms_mt,
          .alt = true },
        { .cmd = "AT+CPMS?", .prefix = "+CPMS:", .handler = h_cpms_read, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CNMI=?", .prefix = "+CNMI:", .handler = h_cnmi_test, .on_error = AT_SEQ_SKIP },
        { .build = b_cnmi, .handler = h_cnmi, .on_error = AT_SEQ_SKIP },
        { .cmd = "AT+CSMS?", .prefix = "+CSMS:", .handler = h_csms, .on_error = AT_SEQ_SKIP },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- what happens when a sequence ends -------------------------------------------------- */

static bool timed_out(int r, const struct at_result *res)
{
        return r == -ETIMEDOUT || (res && res->status == AT_STATUS_TIMEOUT);
}

static void probe_done(struct at_seq *s, void *ctx, int r, size_t step,
                       const struct at_result *res);
static void sim_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res);
static void net_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res);
static void net_ok_done(struct at_seq *s, void *ctx, int r, size_t step,
                        const struct at_result *res);
static void sms_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res);

static void run(struct at_modem *m, const struct at_seq_step *steps, size_t n, at_seq_done_fn done)
{
        m->seq.done = done;
        at_seq_run(&m->seq, steps, n);
}

void modem_start_probe(struct at_modem *m)
{
        m->probe_tries = 0;
        run(m, probe_steps, N(probe_steps), probe_done);
}

static void probe_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (r < 0) {
                modem_ladder(m, step == 0 ? "no answer to AT" : "probe failed");
                (void)res;
                return;
        }
        modem_info_changed(m);
        modem_enter(m, AT_MODEM_SIM, "checking the SIM");
        m->pin_entered = false;
        run(m, sim_steps, N(sim_steps), sim_done);
}

static void sim_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        (void)step;
        if (m->state != AT_MODEM_SIM)
                return; /* failed by a handler */
        if (r < 0) {
                if (timed_out(r, res))
                        modem_ladder(m, "SIM check timed out");
                else
                        modem_fail(m, AT_MODEM_FAIL_SIM, "the SIM does not become ready");
                return;
        }
        modem_info_changed(m);
        modem_enter(m, AT_MODEM_NETWORK, "waiting for the network");
        modem_start_network(m);
}

void modem_start_network(struct at_modem *m)
{
        m->registered = false;
        m->reg_deadline = m->now + m->register_timeout_ms;
        m->creg_poll_at = UINT64_MAX;
        run(m, net_steps, N(net_steps), net_done);
}

static void net_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        (void)step;
        if (m->state != AT_MODEM_NETWORK)
                return;
        if (r < 0 && timed_out(r, res)) {
                modem_ladder(m, "AT+CREG? timed out");
                return;
        }
        if (m->registered) {
                run(m, net_ok_steps, N(net_ok_steps), net_ok_done);
                return;
        }
        m->creg_poll_at = m->now + AT_MODEM_CREG_POLL_MS;
}

/* In NETWORK without registration: a +CREG URC or the poll says registered. */
void modem_network_poll(struct at_modem *m)
{
        if (m->state != AT_MODEM_NETWORK || at_seq_running(&m->seq))
                return;
        if (m->registered) {
                m->creg_poll_at = UINT64_MAX;
                run(m, net_ok_steps, N(net_ok_steps), net_ok_done);
                return;
        }
        if (m->now >= m->reg_deadline && m->reg_deadline != UINT64_MAX) {
                m->reg_deadline = UINT64_MAX;
                modem_set_error(m, "%s for %u s", m->info.reg_text, m->register_timeout_ms / 1000);
                modem_info_changed(m);
        }
        if (m->now >= m->creg_poll_at) {
                m->creg_poll_at = UINT64_MAX;
                run(m, net_steps + 2, 1, net_done); /* AT+CREG? alone */
        }
}

static void net_ok_done(struct at_seq *s, void *ctx, int r, size_t step,
                        const struct at_result *res)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        (void)step;
        if (m->state != AT_MODEM_NETWORK)
                return;
        if (r < 0 && timed_out(r, res)) {
                modem_ladder(m, "network query timed out");
                return;
        }
        modem_info_changed(m);
        modem_enter(m, AT_MODEM_SMS_SETUP, "setting up SMS");
        m->setup_tries = 0;
        modem_start_sms_setup(m);
}

void modem_start_sms_setup(struct at_modem *m)
{
        m->setup_retry_at = UINT64_MAX;
        m->cnmi_known = false;
        m->cnmi_try = 0;
        run(m, sms_steps, N(sms_steps), sms_done);
}

static void sms_done(struct at_seq *s, void *ctx, int r, size_t step, const struct at_result *res)
{
        struct at_modem *m = CTX(ctx);
        (void)s;
        if (m->state != AT_MODEM_SMS_SETUP)
                return;
        if (r < 0 && timed_out(r, res)) {
                modem_ladder(m, "SMS set-up timed out");
                return;
        }
        if (r < 0) {
                const char *what = step == 0 ? "PDU mode (AT+CMGF=0)" : "message storage (AT+CPMS)";
                if (++m->setup_tries < MODEM_SETUP_TRIES) {
                        /* Refused while the modem finishes booting: try again shortly. */
                        modem_set_error(m, "%s refused, retrying", what);
                        m->setup_retry_at = m->now + MODEM_SETUP_RETRY_MS;
                        return;
                }
                modem_fail(m, AT_MODEM_FAIL_NO_SMS, what);
                return;
        }
        modem_become_ready(m);
}
