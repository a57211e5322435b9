/* Sending one part (AT+CMMS, AT+CMGS, the +CMS 330 retry) and the periodic signal poll. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "at/modem-internal.h"
#include "at/quirks.h"

#define CSCA_TIMEOUT_MS 5000

static void send_report(struct at_modem *m, enum at_send_outcome o, int mr, int cms,
                        const char *text)
{
        if (!m->sending)
                return;
        m->sending = false;
        m->send_id = 0;
        struct at_modem_send_result res = {
                .cookie = m->send_cookie,
                .outcome = o,
                .mr = mr,
                .cms = cms,
                .text = text,
        };
        if (o != AT_SEND_SENT && o != AT_SEND_PERMANENT)
                modem_set_error(m, "send: %s", text);
        if (o != AT_SEND_SENT)
                m->burst = false; /* the caller may not send the rest: ask AT+CMMS anew */
        /* not while at_modem_free() runs, nor while another state is being entered */
        if (m->state == AT_MODEM_SENDING && m->started && !m->stopping)
                modem_enter(m, AT_MODEM_READY, o == AT_SEND_SENT ? "part sent" : text);
        m->cb.on_send_result(m, &res, m->userdata);
        if (m->started && m->state == AT_MODEM_READY)
                modem_recv_pump(m);
}

static void on_cmgs(const struct at_result *r, void *userdata);

static int issue_cmgs(struct at_modem *m)
{
        char text[40];
        snprintf(text, sizeof(text), "AT+CMGS=%zu", m->send_tpdu_len);
        struct at_chat_cmd c = {
                .text = text,
                .prefix = "+CMGS:",
                .pdu = m->send_pdu,
                .timeout_ms = m->send_timeout_ms,
                .on_result = on_cmgs,
                .userdata = m,
        };
        m->pdu_written = false;
        return at_chat_send(m->chat, &c, m->now, &m->send_id);
}

/* +CMS 330 (27.005 3.2.5, SMSC address unknown): some SIMs lose it after a modem reset.
 * Set it from what the SIM said earlier or the configuration, and send once more. */
static bool retry_with_csca(struct at_modem *m)
{
        const char *smsc = m->info.smsc[0] ? m->info.smsc : m->smsc_cfg;
        if (m->csca_retried || !smsc[0])
                return false;
        m->csca_retried = true;
        char text[AT_PARSE_NUMBER_MAX + 24];
        snprintf(text, sizeof(text), "AT+CSCA=\"%s\",%d", smsc, smsc[0] == '+' ? 145 : 129);
        if (modem_issue(m, text, NULL, CSCA_TIMEOUT_MS, 0, NULL, NULL, NULL) < 0)
                return false;
        return issue_cmgs(m) == 0;
}

static void on_cmgs(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (!m->sending || r->id != m->send_id)
                return;
        m->send_id = 0;
        int mr = -1;
        int rc = at_result_cmgs_mr(r, &mr);
        char text[AT_MODEM_TEXT_MAX];
        enum at_send_outcome gone = m->pdu_written ? AT_SEND_UNKNOWN : AT_SEND_MODEM_FAULT;

        if (rc == 0) {
                send_report(m, AT_SEND_SENT, mr, -1, "sent");
                return;
        }
        switch (r->status) {
        case AT_STATUS_OK:
                if (rc == -ENOMSG) /* Huawei firmwares: a refused send answered with OK */
                        send_report(m, AT_SEND_TEMPORARY, -1, -1,
                                    "modem answered OK without a message reference: not sent");
                else /* a +CMGS: line we cannot read: it did go */
                        send_report(m, AT_SEND_UNKNOWN, -1, -1, "unreadable +CMGS answer");
                return;
        case AT_STATUS_CMS: {
                if (r->err == 330 && retry_with_csca(m))
                        return;
                const char *what;
                enum at_send_outcome o = at_cms_classify(r->err, &what);
                if (r->err >= 0)
                        snprintf(text, sizeof(text), "%s (+CMS %d)", what, r->err);
                else /* a text the tables do not know (after AT+CMEE=2) */
                        snprintf(text, sizeof(text), "%s (+CMS ERROR: %s)", what, r->err_text);
                if (r->err == 322)
                        modem_storage_full(m);
                send_report(m, o, -1, r->err, text);
                if (r->err == 305 && m->started) /* PDU mode lost: a silent reset */
                        modem_ladder(m, "modem left PDU mode");
                return;
        }
        case AT_STATUS_TIMEOUT:
                snprintf(text, sizeof(text), "no answer to AT+CMGS in %u s%s",
                         m->send_timeout_ms / 1000,
                         gone == AT_SEND_UNKNOWN ? ": may have gone" : "");
                /* Ladder first, so that the caller cannot queue its next part on a modem
                 * about to be re-initialized. */
                modem_ladder(m, "AT+CMGS timed out");
                send_report(m, gone, -1, -1, text);
                return;
        case AT_STATUS_RESET:
                send_report(m, gone, -1, -1,
                            gone == AT_SEND_UNKNOWN ? "modem reset during the send: may have gone"
                                                    : "modem reset before the send");
                return;
        case AT_STATUS_CANCELLED:
                send_report(m, gone, -1, -1,
                            gone == AT_SEND_UNKNOWN ? "send abandoned: may have gone"
                                                    : "send abandoned before it started");
                return;
        default:
                snprintf(text, sizeof(text), "modem refused the send (%s)",
                         r->final[0] ? r->final : at_status_name(r->status));
                send_report(m, AT_SEND_MODEM_FAULT, -1, -1, text);
                return;
        }
}

/* 27.005 3.5.7: AT+CMMS=1 keeps the link between the parts of one message. A modem that
 * refuses it works without; we do not ask again. */
static void on_cmms(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (r->status == AT_STATUS_OK || r->status == AT_STATUS_CANCELLED ||
            r->status == AT_STATUS_RESET)
                return;
        if (r->status == AT_STATUS_TIMEOUT) {
                if (m->started && m->sending)
                        modem_ladder(m, "AT+CMMS timed out");
                return;
        }
        m->info.cmms_refused = true;
        m->burst = false;
        modem_info_changed(m);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int at_modem_send(struct at_modem *m, const char *pdu_hex, size_t tpdu_len, bool more_follow,
                  uint64_t cookie, uint64_t now)
{
        if (!m || !pdu_hex)
                return -EINVAL;
        m->now = now;
        if (m->state != AT_MODEM_READY || m->sending)
                return -EBUSY;
        size_t n = strlen(pdu_hex);
        if (n < 4 || n % 2 != 0 || n > AT_CHAT_PDU_HEX_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (hexval(pdu_hex[i]) < 0)
                        return -EINVAL;
        /* 27.005 3.5.1: <length> counts the TPDU only, the SMSC address octets excluded. */
        size_t sca = (size_t)hexval(pdu_hex[0]) * 16 + (size_t)hexval(pdu_hex[1]);
        if (tpdu_len == 0 || n / 2 != 1 + sca + tpdu_len)
                return -EINVAL;

        memcpy(m->send_pdu, pdu_hex, n + 1);
        m->send_tpdu_len = tpdu_len;
        m->send_cookie = cookie;
        m->csca_retried = false;
        bool cmms = more_follow && !m->burst && !m->info.cmms_refused &&
                    !(m->quirks & AT_QUIRK_NO_CMMS);
        if (cmms && at_chat_queued(m->chat) + 2 > AT_CHAT_QUEUE_MAX)
                return -EBUSY;
        if (cmms && modem_issue(m, "AT+CMMS=1", NULL, 0, 0, on_cmms, NULL, NULL) < 0)
                return -EBUSY;
        int r = issue_cmgs(m);
        if (r < 0)
                return r == -ENOSPC ? -EBUSY : r;
        m->sending = true;
        m->burst = more_follow && !m->info.cmms_refused && !(m->quirks & AT_QUIRK_NO_CMMS);
        modem_enter(m, AT_MODEM_SENDING, "sending a part");
        return 0;
}

static void on_csq(const struct at_result *r, void *userdata)
{
        struct at_modem *m = userdata;
        if (r->id != m->csq_id)
                return;
        m->csq_id = 0;
        if (r->status == AT_STATUS_TIMEOUT) {
                modem_ladder(m, "AT+CSQ timed out");
                return;
        }
        modem_handle_csq(m, r);
}

void modem_poll_signal(struct at_modem *m)
{
        m->csq_at = m->now + m->csq_interval_ms;
        if (m->csq_id == 0)
                modem_issue(m, "AT+CSQ", "+CSQ:", 0, 0, on_csq, NULL, &m->csq_id);
}
