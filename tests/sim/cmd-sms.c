/* TS 27.005 commands of the simulated modem: message format, service, storage, indications,
 * sending (prompt and Ctrl-Z), writing, listing, reading and deleting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

static const char *const stat_names[] = { "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT",
                                          "ALL" };

static int cmd_cmgf(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_SET) {
                int v;
                if (sim_args_int(args, 0, 1, &v) < 0)
                        return SIM_CMS(CMS_OP_NOT_ALLOWED);
                m->cmgf = v;
                return SIM_OK;
        }
        if (kind == CMD_READ)
                sim_modem_info(m, "+CMGF: %d", m->cmgf);
        else if (kind == CMD_TEST)
                sim_modem_info(m, "+CMGF: (0,1)");
        else
                return SIM_ERROR;
        return SIM_OK;
}

static int cmd_csca(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        char f[2][128];
        switch (kind) {
        case CMD_READ:
                sim_modem_info(m, "+CSCA: \"%s\",%d", m->smsc, m->smsc[0] == '+' ? 145 : 129);
                return SIM_OK;
        case CMD_SET:
                if (sim_args_split(args, f, 2) < 1 ||
                    sim_strcpy(m->smsc, sizeof(m->smsc), f[0]) < 0)
                        return SIM_CMS(CMS_OP_NOT_ALLOWED);
                return SIM_OK;
        case CMD_TEST:
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

static int cmd_csms(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        switch (kind) {
        case CMD_SET:
                if (sim_args_int(args, 0, 1, &m->csms) < 0)
                        return SIM_CMS(CMS_NOT_SUPPORTED);
                sim_modem_info(m, "+CSMS: 1,1,1");
                return SIM_OK;
        case CMD_READ:
                sim_modem_info(m, "+CSMS: %d,1,1,1", m->csms);
                return SIM_OK;
        case CMD_TEST:
                sim_modem_info(m, "+CSMS: (0,1)");
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

static struct sim_store *store_named(struct sim_modem *m, const char *name)
{
        if (strcasecmp(name, "SM") == 0 && m->sm.size > 0)
                return &m->sm;
        if (strcasecmp(name, "ME") == 0 && m->me.size > 0)
                return &m->me;
        return NULL;
}

static int cmd_cpms(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST) {
                const char *l = m->sm.size > 0 ? "(\"SM\",\"ME\")" : "(\"ME\")";
                sim_modem_info(m, "+CPMS: %s,%s,%s", l, l, l);
                return SIM_OK;
        }
        if (kind == CMD_READ) {
                struct sim_store **s = m->mem;
                sim_modem_info(m, "+CPMS: \"%s\",%d,%d,\"%s\",%d,%d,\"%s\",%d,%d", s[0]->name,
                               sim_store_used(s[0]), s[0]->size, s[1]->name, sim_store_used(s[1]),
                               s[1]->size, s[2]->name, sim_store_used(s[2]), s[2]->size);
                return SIM_OK;
        }
        if (kind != CMD_SET)
                return SIM_ERROR;
        char f[3][128];
        int n = sim_args_split(args, f, 3);
        if (n < 1)
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        struct sim_store *want[3] = { m->mem[0], m->mem[1], m->mem[2] };
        for (int i = 0; i < n; i++) {
                if (!f[i][0])
                        continue;
                want[i] = store_named(m, f[i]);
                if (!want[i])
                        return SIM_CMS(CMS_OP_NOT_ALLOWED);
        }
        memcpy(m->mem, want, sizeof(want));
        sim_modem_info(m, "+CPMS: %d,%d,%d,%d,%d,%d", sim_store_used(want[0]), want[0]->size,
                       sim_store_used(want[1]), want[1]->size, sim_store_used(want[2]),
                       want[2]->size);
        sim_modem_pump(m);
        return SIM_OK;
}

static void mask_list(uint8_t mask, char *buf, size_t len)
{
        size_t k = 0;
        buf[k++] = '(';
        for (int v = 0; v < 8; v++)
                if (mask & (1u << v))
                        k += (size_t)snprintf(buf + k, len - k, "%s%d", k > 1 ? "," : "", v);
        snprintf(buf + k, len - k, ")");
}

static int cmd_cnmi(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        const uint8_t *allowed = m->dialect->cnmi_allowed;
        if (kind == CMD_READ) {
                sim_modem_info(m, "+CNMI: %d,%d,%d,%d,%d", m->cnmi[0], m->cnmi[1], m->cnmi[2],
                               m->cnmi[3], m->cnmi[4]);
                return SIM_OK;
        }
        if (kind == CMD_TEST) {
                char l[5][32];
                for (int i = 0; i < 5; i++)
                        mask_list(allowed[i], l[i], sizeof(l[i]));
                sim_modem_info(m, "+CNMI: %s,%s,%s,%s,%s", l[0], l[1], l[2], l[3], l[4]);
                return SIM_OK;
        }
        if (kind != CMD_SET)
                return SIM_ERROR;
        char f[5][128];
        int v[5] = { 0 };
        int n = sim_args_split(args, f, 5);
        if (n < 1)
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        for (int i = 0; i < n; i++) {
                if (!f[i][0])
                        continue;
                if (sim_args_int(f[i], 0, 7, &v[i]) < 0 || !(allowed[i] & (1u << v[i])))
                        return SIM_CMS(CMS_NOT_SUPPORTED);
        }
        memcpy(m->cnmi, v, sizeof(v));
        sim_modem_pump(m);
        return SIM_OK;
}

static int cmd_cnma(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST) {
                sim_modem_info(m, "+CNMA: (0-2)");
                return SIM_OK;
        }
        if (kind == CMD_SET && strcmp(args, "0") != 0)
                return SIM_CMS(CMS_NOT_SUPPORTED); /* RP-ERROR with a PDU: not simulated */
        if (!m->cmt_unacked)
                return SIM_CMS(340); /* TS 27.005 3.2.5: no +CNMA acknowledgement expected */
        m->cmt_unacked = false;
        m->cnma_timer = sd_event_source_disable_unref(m->cnma_timer);
        sim_modem_pump(m);
        return SIM_OK;
}

void sim_cmd_cnma_timeout(struct sim_modem *m)
{
        log_modem(LOG_NOTICE, m->name, "no +CNMA in %d ms: the network will retry",
                  m->net->cnma_timeout_ms);
        sim_modem_requeue_unacked(m);
        sim_modem_pump(m);
}

static int cmd_cmms(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_SET)
                return sim_args_int(args, 0, 2, &m->cmms) < 0 ? SIM_CMS(CMS_OP_NOT_ALLOWED)
                                                              : SIM_OK;
        if (kind == CMD_READ)
                sim_modem_info(m, "+CMMS: %d", m->cmms);
        else if (kind == CMD_TEST)
                sim_modem_info(m, "+CMMS: (0-2)");
        else
                return SIM_ERROR;
        return SIM_OK;
}

/* Text-mode parameters: accepted so hosts that set them before switching to PDU go on. */
static int cmd_csmp(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_READ)
                sim_modem_info(m, "+CSMP: 17,167,0,0");
        return SIM_OK;
}

static int cmd_csdh(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_READ)
                sim_modem_info(m, "+CSDH: 0");
        return SIM_OK;
}

/* ---- sending and writing ---- */

static int start_prompt(struct sim_modem *m, enum sim_cmd_kind kind, const char *args, bool cmgw)
{
        if (kind == CMD_TEST)
                return SIM_OK;
        if (kind != CMD_SET)
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        char f[2][128];
        int n = sim_args_split(args, f, 2);
        if (n < 1)
                return SIM_CMS(m->cmgf ? CMS_INVALID_TEXT_PARAM : CMS_INVALID_PDU_PARAM);
        m->cmgw = cmgw;
        m->cmgw_stat = STAT_STO_UNSENT;
        if (m->cmgf) {
                if (!f[0][0] || sim_strcpy(m->cmgs_to, sizeof(m->cmgs_to), f[0]) < 0)
                        return SIM_CMS(CMS_INVALID_TEXT_PARAM);
        } else {
                /* TS 27.005 3.5.1: <length> counts TPDU octets, at most 164 */
                if (sim_args_int(f[0], 7, 164, &m->cmgs_len) < 0)
                        return SIM_CMS(CMS_INVALID_PDU_PARAM);
                if (cmgw && n == 2 && sim_args_int(f[1], 0, 3, &m->cmgw_stat) < 0)
                        return SIM_CMS(CMS_INVALID_PDU_PARAM);
        }
        if (cmgw && sim_store_full(m->mem[1]))
                return SIM_CMS(CMS_MEMORY_FULL);
        sim_modem_prompt(m, m->slow_prompt_ms);
        return SIM_PENDING;
}

static int cmd_cmgs(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return start_prompt(m, kind, args, false);
}

static int cmd_cmgw(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        return start_prompt(m, kind, args, true);
}

/* The network's answer to one SMS-SUBMIT, after the faults the control socket armed. */
static int send_submit(struct sim_modem *m, const struct sms_pdu *pdu, const uint8_t *raw,
                       size_t len)
{
        if (m->fail_count > 0) {
                m->fail_count--;
                return SIM_CMS(m->fail_code);
        }
        if (!sim_modem_registered(m))
                return SIM_CMS(CMS_NO_SERVICE);
        if (m->no_credit)
                return SIM_CMS(CMS_SM_REJECTED); /* what operators answer to prepaid SIMs */
        m->mr++;
        int r = sim_net_submit(m, pdu, raw, len);
        if (r < 0)
                return SIM_CMS(CMS_UNKNOWN);
        m->parts_sent++;
        char info[32];
        snprintf(info, sizeof(info), "+CMGS: %u", m->mr);
        int ms = sim_modem_latency_ms(m);
        if (ms <= 0) {
                sim_modem_info(m, "%s", info);
                return SIM_OK;
        }
        sim_modem_finish_after(m, ms, info, SIM_OK);
        return SIM_PENDING;
}

int sim_cmd_sms_submit(struct sim_modem *m, const char *hex, size_t hex_len)
{
        uint8_t raw[SMS_PDU_MAX];
        size_t len;
        struct sms_pdu pdu;
        if (hex_len % 2 || sms_hex_decode(hex, raw, sizeof(raw), &len) < 0 || len < 1) {
                log_modem(LOG_NOTICE, m->name, "PDU is not hexadecimal: %.40s", hex);
                return SIM_CMS(CMS_INVALID_PDU_PARAM);
        }
        size_t tpdu = len - 1 - raw[0];
        if (raw[0] >= len || (int)tpdu != m->cmgs_len) {
                log_modem(LOG_NOTICE, m->name, "AT+CMGS length %d but the TPDU has %zu octets",
                          m->cmgs_len, raw[0] >= len ? 0 : tpdu);
                return SIM_CMS(CMS_INVALID_PDU_PARAM);
        }
        if (m->cmgw) {
                int slot = sim_store_put(m->mem[1], raw, len, tpdu, m->cmgw_stat, false);
                if (slot < 0)
                        return SIM_CMS(CMS_MEMORY_FULL);
                sim_modem_info(m, "+CMGW: %d", sim_modem_index(m, slot));
                return SIM_OK;
        }
        if (sms_pdu_decode(raw, len, SMS_DIR_MO, &pdu) < 0) {
                log_modem(LOG_NOTICE, m->name, "bad PDU (%s): %s", sms_pdu_error(), hex);
                return SIM_CMS(CMS_INVALID_PDU_PARAM);
        }
        if (pdu.type != SMS_TYPE_SUBMIT)
                return SIM_CMS(CMS_NOT_SUPPORTED);
        return send_submit(m, &pdu, raw, len);
}

int sim_cmd_sms_submit_text(struct sim_modem *m, const char *text, size_t len)
{
        struct sms_submit_opts opts = { .msg_class = -1 };
        struct sms_part part;
        struct sms_pdu pdu;
        char buf[SIM_TEXT_MAX];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, text);
        int n = sms_submit_encode(buf, m->cmgs_to, &opts, &part, 1, NULL);
        if (n != 1 || sms_pdu_decode(part.pdu, part.len, SMS_DIR_MO, &pdu) < 0)
                return SIM_CMS(CMS_INVALID_TEXT_PARAM);
        if (m->cmgw) {
                int slot = sim_store_put(m->mem[1], part.pdu, part.len, part.tpdu_len,
                                         STAT_STO_UNSENT, false);
                if (slot < 0)
                        return SIM_CMS(CMS_MEMORY_FULL);
                sim_modem_info(m, "+CMGW: %d", sim_modem_index(m, slot));
                return SIM_OK;
        }
        return send_submit(m, &pdu, part.pdu, part.len);
}

/* ---- listing, reading, deleting ---- */

static void time_text(const struct sms_time *t, char *buf, size_t len)
{
        int q = t->tz_quarters;
        snprintf(buf, len, "\"%02d/%02d/%02d,%02d:%02d:%02d%c%02d\"", t->year % 100, t->month,
                 t->day, t->hour, t->minute, t->second, q < 0 ? '-' : '+', abs(q));
}

/* One stored message as +CMGL/+CMGR show it: header fields after the index, then data. */
static void format_slot(struct sim_modem *m, const struct sim_slot *s, bool list, char *out,
                        size_t len)
{
        char hex[SIM_PDU_HEX_MAX];
        if (!m->cmgf) {
                sms_hex_encode(s->pdu, s->len, hex);
                snprintf(out, len, "%d,,%zu\r\n%s", s->stat, s->tpdu_len, hex);
                return;
        }
        struct sms_pdu pdu;
        enum sms_dir dir = s->stat >= STAT_STO_UNSENT ? SMS_DIR_MO : SMS_DIR_MT;
        if (sms_pdu_decode(s->pdu, s->len, dir, &pdu) < 0) {
                snprintf(out, len, "\"%s\",\"\",,\r\n", stat_names[s->stat]);
                return;
        }
        char ts[40], dt[40];
        time_text(&pdu.scts, ts, sizeof(ts));
        if (pdu.type == SMS_TYPE_STATUS_REPORT) {
                time_text(&pdu.discharge, dt, sizeof(dt));
                snprintf(out, len, "\"%s\",%d,%d,\"%s\",%d,%s,%s,%d", stat_names[s->stat],
                         pdu.first_octet, pdu.mr, pdu.addr.number,
                         pdu.addr.number[0] == '+' ? 145 : 129, ts, dt, pdu.status);
        } else if (pdu.type == SMS_TYPE_SUBMIT) {
                snprintf(out, len, "\"%s\",\"%s\",\r\n%s", stat_names[s->stat], pdu.addr.number,
                         pdu.text);
        } else {
                snprintf(out, len, "\"%s\",\"%s\",%s%s\r\n%s", stat_names[s->stat], pdu.addr.number,
                         list ? "," : "", ts, pdu.text);
        }
}

static int parse_stat(struct sim_modem *m, const char *arg, int *ret)
{
        if (!arg[0]) {
                *ret = 0; /* TS 27.005 3.4.2: default "REC UNREAD" */
                return 0;
        }
        if (!m->cmgf)
                return sim_args_int(arg, 0, 4, ret);
        for (int i = 0; i < 5; i++)
                if (strcasecmp(arg, stat_names[i]) == 0) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

static int cmd_cmgl(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST) {
                if (m->cmgf)
                        sim_modem_info(m, "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\","
                                          "\"STO SENT\",\"ALL\")");
                else
                        sim_modem_info(m, "+CMGL: (0-4)");
                return SIM_OK;
        }
        char f[2][128];
        int stat;
        if (kind == CMD_READ || (kind == CMD_SET && sim_args_split(args, f, 2) < 1))
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        if (parse_stat(m, kind == CMD_SET ? f[0] : "", &stat) < 0)
                return SIM_CMS(m->cmgf ? CMS_INVALID_TEXT_PARAM : CMS_INVALID_PDU_PARAM);
        struct sim_store *st = m->mem[0];
        bool first = true;
        char body[SIM_PDU_HEX_MAX + SMS_TEXT_MAX];
        for (int i = 0; i < st->size; i++) {
                struct sim_slot *s = &st->slots[i];
                if (!s->used || (stat != 4 && (int)s->stat != stat))
                        continue;
                format_slot(m, s, true, body, sizeof(body));
                /* entries follow one another without blank lines, as most modems do */
                sim_modem_printf(m, "%s+CMGL: %d,%s\r\n", first ? "\r\n" : "",
                                 sim_modem_index(m, i), body);
                first = false;
                if (s->stat == STAT_REC_UNREAD)
                        s->stat = STAT_REC_READ;
        }
        return SIM_OK;
}

static struct sim_slot *slot_arg(struct sim_modem *m, struct sim_store *st, const char *arg,
                                 int *ret_index)
{
        int idx, slot;
        if (sim_args_int(arg, 0, SIM_STORE_SLOTS_MAX, &idx) < 0)
                return NULL;
        slot = sim_modem_slot(m, idx);
        if (slot < 0 || slot >= st->size)
                return NULL;
        *ret_index = idx;
        return &st->slots[slot];
}

static int cmd_cmgr(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        if (kind == CMD_TEST)
                return SIM_OK;
        char f[2][128];
        int idx;
        if (kind != CMD_SET || sim_args_split(args, f, 2) < 1)
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        struct sim_slot *s = slot_arg(m, m->mem[0], f[0], &idx);
        if (!s || !s->used)
                return SIM_CMS(CMS_INVALID_INDEX);
        char body[SIM_PDU_HEX_MAX + SMS_TEXT_MAX];
        format_slot(m, s, false, body, sizeof(body));
        sim_modem_info(m, "+CMGR: %s", body);
        if (s->stat == STAT_REC_UNREAD)
                s->stat = STAT_REC_READ;
        return SIM_OK;
}

static int cmd_cmgd(struct sim_modem *m, enum sim_cmd_kind kind, const char *args)
{
        struct sim_store *st = m->mem[0];
        if (kind == CMD_TEST) {
                char list[SIM_STORE_SLOTS_MAX * 4 + 4] = "";
                size_t k = 0;
                for (int i = 0; i < st->size; i++)
                        if (st->slots[i].used)
                                k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%d",
                                                      k ? "," : "", sim_modem_index(m, i));
                sim_modem_info(m, "+CMGD: (%s),(0-4)", list);
                return SIM_OK;
        }
        char f[2][128];
        int idx, flag = 0;
        int n = kind == CMD_SET ? sim_args_split(args, f, 2) : -1;
        if (n < 1 || (n == 2 && f[1][0] && sim_args_int(f[1], 0, 4, &flag) < 0))
                return SIM_CMS(CMS_OP_NOT_ALLOWED);
        struct sim_slot *s = slot_arg(m, st, f[0], &idx);
        if (flag == 0) {
                if (!s)
                        return SIM_CMS(CMS_INVALID_INDEX);
                s->used = false;
        } else {
                /* TS 27.005 3.5.4 <delflag>: 1 read, 2 +sent, 3 +unsent, 4 all */
                for (int i = 0; i < st->size; i++) {
                        struct sim_slot *o = &st->slots[i];
                        if (o->stat == STAT_REC_READ || flag == 4 ||
                            (flag >= 2 && o->stat == STAT_STO_SENT) ||
                            (flag >= 3 && o->stat == STAT_STO_UNSENT))
                                o->used = false;
                }
        }
        sim_modem_pump(m); /* room again: the network delivers what it held */
        return SIM_OK;
}

const struct sim_cmd sim_sms_cmds[] = {
        { "+CMGF", cmd_cmgf, 0 },
        { "+CSCA", cmd_csca, CMD_NEEDS_SIM | CMD_SMS },
        { "+CSMS", cmd_csms, CMD_SMS },
        { "+CPMS", cmd_cpms, CMD_NEEDS_SIM | CMD_SMS },
        { "+CNMI", cmd_cnmi, CMD_SMS },
        { "+CNMA", cmd_cnma, CMD_SMS },
        { "+CMMS", cmd_cmms, CMD_SMS },
        { "+CSMP", cmd_csmp, CMD_SMS },
        { "+CSDH", cmd_csdh, CMD_SMS },
        { "+CMGS", cmd_cmgs, CMD_NEEDS_SIM | CMD_SMS },
        { "+CMGW", cmd_cmgw, CMD_NEEDS_SIM | CMD_SMS },
        { "+CMGL", cmd_cmgl, CMD_NEEDS_SIM | CMD_SMS },
        { "+CMGR", cmd_cmgr, CMD_NEEDS_SIM | CMD_SMS },
        { "+CMGD", cmd_cmgd, CMD_NEEDS_SIM | CMD_SMS },
        { NULL, NULL, 0 },
};
