/* TS 27.007 commands of the simulated modem: identity, SIM and PIN, network registration,
 * signal, clock, functionality; and the lookup over every command table. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "at/parse.h"
#include "daemon/log.h"
#include "tests/sim/sim.h"

#define OPERATOR_NAME  "PUENTE SIM"
#define OPERATOR_SHORT "PUENTE"
#define OPERATOR_PLMN  "33420"

/* Sets an integer setting from "AT+X=<n>", answers "AT+X?" and "AT+X=?". */
static int int_setting(struct sim_modem *m, enum sim_cmd_kind kind, const char *args,
                       const char *name, int *value, int lo, int hi)
{
        switch (kind) {
        case CMD_SET:
                return sim_args_int(args, lo, hi, value) < 0 ? SIM_CME(CME_NOT_SUPPORTED) : SIM_OK;
        case CMD_READ:
                sim_modem_info(m, "%s: %d", name, *value);
                return SIM_OK;
        case CMD_TEST:
                sim_modem_info(m, "%s: (%d-%d)", name, lo, hi);
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

static int ident(struct sim_modem *m, enum sim_cmd_kind kind, const char *text)
{
        if (kind == CMD_TEST)
                return SIM_OK;
        if (kind != CMD_EXEC)
                return SIM_ERROR;
        sim_modem_info(m, "%s", text);
        return SIM_OK;
}

static int cmd_cgmi(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return ident(m, kind, m->dialect->manufacturer);
}

static int cmd_cgmm(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return ident(m, kind, m->dialect->model);
}

static int cmd_cgmr(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return ident(m, kind, m->dialect->revision);
}

static int cmd_cgsn(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return ident(m, kind, m->imei);
}

static int cmd_cimi(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return ident(m, kind, m->imsi);
}

static int cmd_ccid(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (!m->sim_present)
                return SIM_CME(CME_SIM_NOT_INSERTED);
        if (kind == CMD_TEST)
                return SIM_OK;
        sim_modem_info(m, "+CCID: %s", m->iccid);
        return SIM_OK;
}

static int cmd_cnum(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST)
                return SIM_OK;
        sim_modem_info(m, "+CNUM: \"\",\"%s\",%d", m->number, m->number[0] == '+' ? 145 : 129);
        return SIM_OK;
}

static int cmd_cmee(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return int_setting(m, kind, args, "+CMEE", &m->cmee, 0, 2);
}

static int cmd_cpin(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST)
                return SIM_OK;
        if (!m->sim_present)
                return SIM_CME(CME_SIM_NOT_INSERTED);
        if (kind == CMD_READ) {
                sim_modem_info(m, "+CPIN: %s", m->pin_ok ? "READY" : "SIM PIN");
                return SIM_OK;
        }
        if (kind != CMD_SET)
                return SIM_ERROR;
        char f[2][128];
        if (sim_args_split(args, f, 2) < 1)
                return SIM_CME(CME_INCORRECT_PASSWORD);
        if (m->pin_ok)
                return SIM_CME(CME_NOT_ALLOWED);
        if (strcmp(f[0], m->pin) != 0)
                return SIM_CME(CME_INCORRECT_PASSWORD);
        m->pin_ok = true;
        log_modem(LOG_INFO, m->name, "PIN accepted");
        if (m->dialect->flags & SIM_DF_READY_URCS) {
                sim_modem_urc(m, "+CPIN: READY");
                sim_modem_urc(m, "SMS Ready");
        }
        sim_modem_registration_changed(m);
        return SIM_OK;
}

static int cmd_csq(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST) {
                sim_modem_info(m, "+CSQ: (0-31,99),(0-7,99)");
                return SIM_OK;
        }
        if (kind != CMD_EXEC)
                return SIM_ERROR;
        sim_modem_info(m, "+CSQ: %d,99", sim_modem_registered(m) ? m->csq : 99);
        return SIM_OK;
}

/* +CREG, +CGREG and +CEREG share one form (TS 27.007 7.2, 10.1.19, 10.1.22). */
static int reg_command(struct sim_modem *m, enum sim_cmd_kind kind, const char *args,
                       const char *name, int *n)
{
        if (kind == CMD_READ) {
                int stat = sim_modem_registered(m) ? 1 : 0;
                if (*n == 2 && stat == 1)
                        sim_modem_info(m, "%s: %d,%d,\"00A1\",\"1B2C\"", name, *n, stat);
                else
                        sim_modem_info(m, "%s: %d,%d", name, *n, stat);
                return SIM_OK;
        }
        return int_setting(m, kind, args, name, n, 0, 2);
}

static int cmd_creg(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return reg_command(m, kind, args, "+CREG", &m->creg_n);
}

static int cmd_cgreg(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return reg_command(m, kind, args, "+CGREG", &m->cgreg_n);
}

static int cmd_cereg(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return reg_command(m, kind, args, "+CEREG", &m->cereg_n);
}

static int cmd_cops(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        switch (kind) {
        case CMD_READ:
                if (sim_modem_registered(m))
                        sim_modem_info(m, "+COPS: 0,0,\"%s\",0", OPERATOR_NAME);
                else
                        sim_modem_info(m, "+COPS: 0");
                return SIM_OK;
        case CMD_TEST:
                sim_modem_info(m, "+COPS: (2,\"%s\",\"%s\",\"%s\",0),,(0-4),(0-2)", OPERATOR_NAME,
                               OPERATOR_SHORT, OPERATOR_PLMN);
                return SIM_OK;
        case CMD_SET:
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

static int cmd_cpas(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST) {
                sim_modem_info(m, "+CPAS: (0-5)");
                return SIM_OK;
        }
        sim_modem_info(m, "+CPAS: 0");
        return SIM_OK;
}

static int cmd_cscs(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        char f[1][128];
        switch (kind) {
        case CMD_READ:
                sim_modem_info(m, "+CSCS: \"%s\"", m->cscs);
                return SIM_OK;
        case CMD_TEST:
                /* UCS2 is not offered: it would turn every text response into hex. */
                sim_modem_info(m, "+CSCS: (\"GSM\",\"IRA\")");
                return SIM_OK;
        case CMD_SET:
                if (sim_args_split(args, f, 1) != 1 ||
                    (strcasecmp(f[0], "GSM") != 0 && strcasecmp(f[0], "IRA") != 0))
                        return SIM_CME(CME_NOT_SUPPORTED);
                for (size_t i = 0; i < 4 && f[0][i]; i++)
                        m->cscs[i] = (char)toupper((unsigned char)f[0][i]);
                m->cscs[strlen(f[0])] = '\0';
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

static int cmd_cclk(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_READ) {
                struct sms_time t;
                bool valid;
                sim_modem_clock(m, &t, &valid);
                int q = t.tz_quarters;
                sim_modem_info(m, "+CCLK: \"%02d/%02d/%02d,%02d:%02d:%02d%c%02d\"", t.year % 100,
                               t.month, t.day, t.hour, t.minute, t.second, q < 0 ? '-' : '+',
                               abs(q));
                return SIM_OK;
        }
        if (kind == CMD_TEST)
                return SIM_OK;
        if (kind != CMD_SET)
                return SIM_ERROR;
        /* "yy/MM/dd,hh:mm:ss±zz" (TS 27.007 8.15); zone in quarter hours, optional. The
         * same form as the answer, so the modem library's parser reads it. */
        char f[2][128], line[160];
        struct at_time t;
        if (sim_args_split(args, f, 2) != 1)
                return SIM_CME(CME_INVALID_CHAR);
        snprintf(line, sizeof(line), "+CCLK: \"%s\"", f[0]);
        if (at_parse_cclk(line, &t) < 0)
                return SIM_CME(CME_INVALID_CHAR);
        struct tm tm = { .tm_year = t.year - 1900,
                         .tm_mon = t.mon - 1,
                         .tm_mday = t.day,
                         .tm_hour = t.hour,
                         .tm_min = t.min,
                         .tm_sec = t.sec };
        int64_t local = timegm(&tm);
        int64_t utc = local - (int64_t)(t.has_tz ? t.tz_quarters : 0) * 15 * 60;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        m->clock_offset_us = (utc - now.tv_sec) * 1000000;
        m->clock_set = true;
        return SIM_OK;
}

static int cmd_ctzu(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        int v = m->ctzu;
        int r = int_setting(m, kind, args, "+CTZU", &v, 0, 1);
        if (r == SIM_OK && kind == CMD_SET) {
                m->ctzu = v;
                /* NITZ comes again with the next registration; do it now, as a modem that
                 * kept the last NITZ would. */
                if (v && sim_modem_registered(m) && m->nettime != NETTIME_ABSENT) {
                        m->clock_set = true;
                        m->clock_offset_us = m->nettime == NETTIME_WRONG
                                                     ? (int64_t)m->net->nettime_skew_s * 1000000
                                                     : 0;
                }
        }
        return r;
}

static int cmd_cfun(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_READ) {
                sim_modem_info(m, "+CFUN: %d", m->cfun);
                return SIM_OK;
        }
        if (kind == CMD_TEST) {
                sim_modem_info(m, "+CFUN: (0,1,4),(0,1)");
                return SIM_OK;
        }
        char f[2][128];
        int fun, rst = 0;
        int n = sim_args_split(args, f, 2);
        if (kind != CMD_SET || n < 1 || sim_args_int(f[0], 0, 4, &fun) < 0 || fun == 2 ||
            fun == 3 || (n == 2 && sim_args_int(f[1], 0, 1, &rst) < 0))
                return SIM_CME(CME_NOT_SUPPORTED);
        if (rst) { /* TS 27.007 8.2: reset before setting; answer first, then reboot */
                sim_modem_finish(m, SIM_OK);
                log_modem(LOG_INFO, m->name, "AT+CFUN reset");
                sim_modem_reboot(m, m->net->boot_ms);
                return SIM_PENDING;
        }
        m->cfun = fun;
        sim_modem_registration_changed(m);
        return SIM_OK;
}

static int cmd_curc(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        int v = m->curc;
        int r = int_setting(m, kind, args, "^CURC", &v, 0, 1);
        m->curc = v;
        return r;
}

static const struct sim_cmd basic_cmds[] = {
        { "+CGMI", cmd_cgmi, 0 },
        { "+GMI", cmd_cgmi, 0 },
        { "+CGMM", cmd_cgmm, 0 },
        { "+GMM", cmd_cgmm, 0 },
        { "+CGMR", cmd_cgmr, 0 },
        { "+GMR", cmd_cgmr, 0 },
        { "+CGSN", cmd_cgsn, 0 },
        { "+GSN", cmd_cgsn, 0 },
        { "+CIMI", cmd_cimi, CMD_NEEDS_SIM },
        { "+CCID", cmd_ccid, 0 },
        { "+ICCID", cmd_ccid, 0 },
        { "^ICCID", cmd_ccid, CMD_HUAWEI },
        { "+CNUM", cmd_cnum, CMD_NEEDS_SIM },
        { "+CMEE", cmd_cmee, 0 },
        { "+CPIN", cmd_cpin, 0 },
        { "+CSQ", cmd_csq, 0 },
        { "+CREG", cmd_creg, 0 },
        { "+CGREG", cmd_cgreg, 0 },
        { "+CEREG", cmd_cereg, 0 },
        { "+COPS", cmd_cops, CMD_NEEDS_SIM },
        { "+CPAS", cmd_cpas, 0 },
        { "+CSCS", cmd_cscs, 0 },
        { "+CCLK", cmd_cclk, 0 },
        { "+CTZU", cmd_ctzu, 0 },
        { "+CFUN", cmd_cfun, 0 },
        { "^CURC", cmd_curc, CMD_HUAWEI },
        { NULL, NULL, 0 },
};

const struct sim_cmd *sim_cmd_find(const char *name)
{
        const struct sim_cmd *tables[] = { basic_cmds, sim_sms_cmds };
        for (size_t t = 0; t < 2; t++)
                for (const struct sim_cmd *c = tables[t]; c->name; c++)
                        if (strcmp(c->name, name) == 0)
                                return c;
        return NULL;
}
