/* Receiving: +CMTI/+CDSI -> AT+CMGR -> on_sms/on_report -> ack -> AT+CMGD; +CMT/+CDS with
 * AT+CNMA; the storage listing (AT+CMGL=4) at READY, after resets and when storage is full. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "at/modem-internal.h"

#define READ_TIMEOUT_MS 10000
#define LIST_TIMEOUT_MS 60000 /* a full SIM of 50 messages on a slow stick */

static int hexbyte(const char *s)
{
        int v = 0;
        for (int i = 0; i < 2; i++) {
                char c = s[i];
                v *= 16;
                if (c >= '0' && c <= '9')
                        v += c - '0';
                else if (c >= 'a' && c <= 'f')
                        v += c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v += c - 'A' + 10;
                else
                        return -1;
        }
        return v;
}

/* TP-MTI (23.040 9.2.3.1) of a received PDU, the SMSC address first (27.005 3.1 <pdu>):
 * 0 DELIVER, 2 STATUS-REPORT; -1 if the PDU is too short to tell. */
static int pdu_mti(const char *hex)
{
        size_t n = strlen(hex);
        if (n < 2)
                return -1;
        int sca = hexbyte(hex);
        if (sca < 0 || n < 2 + 2 * (size_t)sca + 2)
                return -1;
        int fo = hexbyte(hex + 2 + 2 * sca);
        return fo < 0 ? -1 : (fo & 3);
}

static bool pending_has(const struct at_modem *m, int index)
{
        for (size_t i = 0; i < m->n_pend; i++)
                if (m->pend[i].index == index)
                        return true;
        return false;
}

static void send_cnma(struct at_modem *m)
{
        /* 27.005 3.4.4: acknowledges the last +CMT/+CDS when <service> is 1. */
        if (m->cnma_needed)
                modem_issue(m, "AT+CNMA", NULL, 0, 0, NULL, NULL, NULL);
}

/* A stored message read by +CMGR or listed by +CMGL: hand it on, remember it for the ack. */
static void hand_stored(struct at_modem *m, int index, int stat, const char *pdu)
{
        /* Messages we stored to send (27.005 3.1 <stat> 2, 3) are not incoming. */
        if (stat == AT_STAT_STO_UNSENT || stat == AT_STAT_STO_SENT || index < 0)
                return;
        if (pending_has(m, index))
                return; /* already handed on, not yet acked */
        if (m->n_pend + m->n_dels >= AT_MODEM_PENDING_MAX) {
                m->drain_again = true; /* it stays stored: the next listing offers it */
                return;
        }
        bool report = pdu_mti(pdu) == 2;
        m->pend[m->n_pend++] = (struct modem_pending){ .index = index, .report = report };
        if (report && m->cb.on_report)
                m->cb.on_report(m, pdu, index, m->info.mem, m->userdata);
        else if (report)
                at_modem_sms_done(m, index, m->now);
        else
                m->cb.on_sms(m, pdu, index, m->info.mem, m->userdata);
}

static void on_cmgr(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (r->id != m->read_id)
                return;
        m->read_id = 0;
        if (r->status == AT_STATUS_TIMEOUT) {
                modem_ladder(m, "AT+CMGR timed out");
                return;
        }
        const struct at_line *l = at_result_find(r, "+CMGR:");
        struct at_pdu_header h;
        /* An empty slot (OK alone, or +CMS 321 invalid index) is skipped, never deleted. */
        if (r->status == AT_STATUS_OK && l && l->pdu && at_parse_cmgr(l->text, &h) == 0)
                hand_stored(m, m->reading.index, h.stat, l->pdu);
        modem_recv_pump(m);
}

static void on_cmgl_line(const char *line, const char *pdu, void *userdata)
{
        struct at_modem *m = userdata;
        struct at_pdu_header h;
        if (m->drain_id == 0 || !pdu || at_parse_cmgl(line, &h) < 0)
                return;
        hand_stored(m, h.index, h.stat, pdu);
}

static void on_cmgl(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (r->id != m->drain_id)
                return;
        m->drain_id = 0;
        if (r->status == AT_STATUS_TIMEOUT) {
                modem_ladder(m, "AT+CMGL timed out");
                return;
        }
        m->drain_wanted = m->drain_again;
        m->drain_again = false;
        m->storage_full = false;
        m->list_at = m->now + m->list_interval_ms; /* just listed: the next sweep from now */
        modem_recv_pump(m);
}

static void queue_read(struct at_modem *m, const char *line, bool report, bool cdsi)
{
        struct at_msg_ref ref;
        if ((cdsi ? at_parse_cdsi(line, &ref) : at_parse_cmti(line, &ref)) < 0)
                return;
        if (pending_has(m, ref.index))
                return;
        for (size_t i = 0; i < m->n_reads; i++)
                if (m->reads[i].index == ref.index)
                        return;
        if (m->n_reads >= MODEM_READ_MAX) {
                m->drain_wanted = true; /* a flood: the listing catches up */
                return;
        }
        m->reads[m->n_reads++] = (struct modem_read){ .index = ref.index, .report = report };
        modem_recv_pump(m);
}

static void on_cmti(const char *line, const char *pdu, void *userdata)
{
        (void)pdu;
        queue_read(userdata, line, false, false);
}

static void on_cdsi(const char *line, const char *pdu, void *userdata)
{
        (void)pdu;
        queue_read(userdata, line, true, true);
}

static void on_cmt(const char *line, const char *pdu, void *userdata)
{
        struct at_modem *m = userdata;
        (void)line;
        if (!pdu)
                return; /* header without its PDU: nothing to store */
        m->direct_unacked++;
        m->cb.on_sms(m, pdu, -1, "", m->userdata);
}

static void on_cds(const char *line, const char *pdu, void *userdata)
{
        struct at_modem *m = userdata;
        (void)line;
        if (!pdu)
                return;
        m->direct_unacked++;
        if (m->cb.on_report)
                m->cb.on_report(m, pdu, -1, "", m->userdata);
        else
                at_modem_sms_done(m, -1, m->now);
}

int modem_recv_register(struct at_modem *m)
{
        int r;
        if ((r = at_chat_register_urc(m->chat, "+CMTI:", false, on_cmti, m)) < 0 ||
            (r = at_chat_register_urc(m->chat, "+CDSI:", false, on_cdsi, m)) < 0 ||
            (r = at_chat_register_urc(m->chat, "+CMT:", true, on_cmt, m)) < 0 ||
            (r = at_chat_register_urc(m->chat, "+CDS:", true, on_cds, m)) < 0)
                return r;
        return 0;
}

/* After a reset or a ladder step: what was read is still stored and the next listing offers
 * it again (the binding's store keeps a part once), so forget the acks we waited for. */
void modem_recv_forget(struct at_modem *m)
{
        m->n_pend = 0;
        m->n_reads = 0;
        m->read_id = m->drain_id = m->del_id = 0;
        m->n_dels = 0;
        m->direct_unacked = 0;
}

static void on_cmgd(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (r->id != m->del_id)
                return;
        m->del_id = 0;
        if (m->n_dels > 0)
                memmove(&m->dels[0], &m->dels[1], --m->n_dels * sizeof(m->dels[0]));
        if (r->status == AT_STATUS_TIMEOUT) {
                modem_ladder(m, "AT+CMGD timed out");
                return;
        }
        if (r->status == AT_STATUS_OK && m->info.storage_used > 0)
                m->info.storage_used--;
        modem_recv_pump(m);
}

/* One AT+CMGD at a time, so that a binding acking a whole listing at once cannot fill the
 * chat's queue (AT_CHAT_QUEUE_MAX) and push a send out. */
static void pump_deletes(struct at_modem *m)
{
        if (m->del_id != 0 || m->n_dels == 0)
                return;
        char text[32];
        snprintf(text, sizeof(text), "AT+CMGD=%d", m->dels[0]);
        if (modem_issue(m, text, NULL, 0, 0, on_cmgd, NULL, &m->del_id) < 0)
                m->del_id = 0;
}

void modem_recv_pump(struct at_modem *m)
{
        if (!m->started || (m->state != AT_MODEM_READY && m->state != AT_MODEM_SENDING))
                return;
        pump_deletes(m);
        if (m->read_id != 0 || m->drain_id != 0)
                return;
        /* List only when nothing handed on awaits its ack or its deletion, so nothing is
         * offered twice. */
        if (m->drain_wanted && m->n_pend == 0 && m->n_dels == 0) {
                m->drain_again = false;
                m->n_reads = 0; /* the listing covers them */
                /* 27.005 3.4.2: <stat> 4 is "all messages". */
                modem_issue(m, "AT+CMGL=4", "+CMGL:", LIST_TIMEOUT_MS, AT_CMD_EXPECT_PDU, on_cmgl,
                            on_cmgl_line, &m->drain_id);
                return;
        }
        while (m->n_reads > 0) {
                m->reading = m->reads[0];
                memmove(&m->reads[0], &m->reads[1], --m->n_reads * sizeof(m->reads[0]));
                if (pending_has(m, m->reading.index))
                        continue;
                char text[32];
                snprintf(text, sizeof(text), "AT+CMGR=%d", m->reading.index);
                modem_issue(m, text, "+CMGR:", READ_TIMEOUT_MS, AT_CMD_EXPECT_PDU, on_cmgr, NULL,
                            &m->read_id);
                return;
        }
}

int at_modem_sms_done(struct at_modem *m, int index, uint64_t now)
{
        if (!m)
                return -EINVAL;
        m->now = now;
        if (index < 0) {
                if (m->direct_unacked == 0)
                        return -ENOENT;
                m->direct_unacked--;
                send_cnma(m);
                return 0;
        }
        for (size_t i = 0; i < m->n_pend; i++) {
                if (m->pend[i].index != index)
                        continue;
                memmove(&m->pend[i], &m->pend[i + 1], (m->n_pend - i - 1) * sizeof(m->pend[0]));
                m->n_pend--;
                /* n_pend + n_dels <= AT_MODEM_PENDING_MAX (hand_stored): no overflow */
                m->dels[m->n_dels++] = index;
                modem_recv_pump(m);
                return 0;
        }
        return -ENOENT;
}

int at_modem_sms_keep(struct at_modem *m, int index)
{
        if (!m || index < 0)
                return -EINVAL;
        for (size_t i = 0; i < m->n_pend; i++) {
                if (m->pend[i].index != index)
                        continue;
                memmove(&m->pend[i], &m->pend[i + 1], (m->n_pend - i - 1) * sizeof(m->pend[0]));
                m->n_pend--;
                return 0;
        }
        return -ENOENT;
}

int at_modem_relist(struct at_modem *m, uint64_t now)
{
        if (!m)
                return -EINVAL;
        m->now = now;
        m->drain_wanted = true;
        modem_recv_pump(m);
        return 0;
}
