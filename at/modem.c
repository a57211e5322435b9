/* The modem state machine: life cycle, the one transition function, the recovery ladder,
 * reset detection, timers. Sequences are in modem-setup.c, sending and receiving in
 * modem-send.c and modem-recv.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at/modem-internal.h"
#include "at/quirks.h"

static const char *const state_names[] = {
        [AT_MODEM_PROBE] = "probe",           [AT_MODEM_SIM] = "sim",
        [AT_MODEM_NETWORK] = "network",       [AT_MODEM_SMS_SETUP] = "sms-setup",
        [AT_MODEM_READY] = "ready",           [AT_MODEM_SENDING] = "sending",
        [AT_MODEM_RECOVERING] = "recovering", [AT_MODEM_FAILED] = "failed",
};

const char *at_modem_state_name(enum at_modem_state s)
{
        return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

const char *at_send_outcome_name(enum at_send_outcome o)
{
        switch (o) {
        case AT_SEND_SENT:
                return "sent";
        case AT_SEND_PERMANENT:
                return "permanent";
        case AT_SEND_TEMPORARY:
                return "temporary";
        case AT_SEND_MODEM_FAULT:
                return "modem-fault";
        case AT_SEND_UNKNOWN:
                return "unknown";
        case AT_SEND_NO_CREDIT:
                return "no-credit";
        }
        return "?";
}

const char *at_modem_fail_text(enum at_modem_fail f)
{
        switch (f) {
        case AT_MODEM_FAIL_NONE:
                return "not failed";
        case AT_MODEM_FAIL_NO_SIM:
                return "no SIM";
        case AT_MODEM_FAIL_PIN_NEEDED:
                return "SIM needs a PIN";
        case AT_MODEM_FAIL_PIN_REFUSED:
                return "PIN refused";
        case AT_MODEM_FAIL_PUK_NEEDED:
                return "SIM locked (PUK needed)";
        case AT_MODEM_FAIL_SIM:
                return "SIM failure";
        case AT_MODEM_FAIL_NO_SMS:
                return "SMS set-up refused";
        case AT_MODEM_FAIL_NO_ANSWER:
                return "does not answer";
        }
        return "?";
}

/* 27.007 7.2 <stat> in plain words. */
static const char *reg_text(int stat)
{
        switch (stat) {
        case 0:
                return "not registered (not searching)";
        case 1:
                return "registered (home)";
        case 2:
                return "not registered (searching)";
        case 3:
                return "registration denied";
        case 5:
                return "registered (roaming)";
        case 6:
                return "registered (home, SMS only)";
        case 7:
                return "registered (roaming, SMS only)";
        case 8:
                return "emergency calls only";
        case 9:
        case 10:
                return stat == 9 ? "registered (home)" : "registered (roaming)";
        default:
                return "registration unknown";
        }
}

static bool reg_ok(int stat)
{
        return stat == 1 || stat == 5 || stat == 6 || stat == 7 || stat == 9 || stat == 10;
}

void modem_set_error(struct at_modem *m, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->info.last_error, sizeof(m->info.last_error), fmt, ap);
        va_end(ap);
}

static void emit(struct at_modem *m, enum at_modem_event_type type)
{
        struct at_modem_event ev = { .type = type };
        if (m->cb.on_event)
                m->cb.on_event(m, &ev, m->userdata);
}

void modem_info_changed(struct at_modem *m)
{
        emit(m, AT_MODEM_EV_INFO);
}

void modem_set_reg(struct at_modem *m, int stat)
{
        bool changed = stat != m->info.reg;
        m->info.reg = stat;
        m->info.reg_text = reg_text(stat);
        m->registered = reg_ok(stat);
        if (changed)
                modem_info_changed(m);
}

void modem_enter(struct at_modem *m, enum at_modem_state to, const char *reason)
{
        /* Reported even when the state stays (PROBE again after a ladder step): the reason
         * is news to whoever logs it. */
        enum at_modem_state from = m->state;
        m->state = to;
        m->cb.on_state(m, from, to, reason ? reason : "", m->userdata);
}

int modem_issue(struct at_modem *m, const char *text, const char *prefix, uint32_t timeout_ms,
                unsigned flags, at_chat_result_fn fn, at_chat_line_fn on_line, unsigned *ret_id)
{
        struct at_chat_cmd c = {
                .text = text,
                .prefix = prefix,
                .timeout_ms = timeout_ms,
                .flags = flags,
                .on_line = on_line,
                .on_result = fn,
                .userdata = m,
        };
        return at_chat_send(m->chat, &c, m->now, ret_id);
}

/* Forgets every command and timer of the current phase; a send still queued is reported by
 * its cancelled result, one in flight by its own (time-out or reset) later. */
static void stop_everything(struct at_modem *m)
{
        at_seq_abort(&m->seq);
        m->creg_id = m->csq_id = m->read_id = m->drain_id = 0;
        m->creg_poll_at = m->reg_deadline = m->setup_retry_at = m->csq_at = m->list_at = UINT64_MAX;
        m->ladder_wait_until = UINT64_MAX;
        m->reopen_wait = false;
        modem_recv_forget(m);
        /* A send still queued is reported from inside: it must not pass through READY on
         * the way to the state the caller is about to enter. */
        m->stopping = true;
        at_chat_cancel_all(m->chat);
        m->stopping = false;
}

static void begin_probe(struct at_modem *m, const char *reason)
{
        modem_enter(m, AT_MODEM_PROBE, reason);
        /* Settings are gone after a reset; storage is read back once READY again. */
        m->drain_wanted = true;
        m->burst = false;
        m->cnma_needed = false;
        modem_start_probe(m);
}

void modem_fail(struct at_modem *m, enum at_modem_fail why, const char *detail)
{
        stop_everything(m);
        m->info.fail = why;
        if (detail)
                modem_set_error(m, "%s: %s", at_modem_fail_text(why), detail);
        else
                modem_set_error(m, "%s", at_modem_fail_text(why));
        modem_enter(m, AT_MODEM_FAILED, m->info.last_error);
        modem_info_changed(m);
}

/* One step up the ladder per failure until READY is reached again (docs/modems.md). */
void modem_ladder(struct at_modem *m, const char *why)
{
        m->info.failures++;
        if (m->info.ladder_step < AT_LADDER_GIVE_UP)
                m->info.ladder_step++;
        modem_set_error(m, "%s", why);
        stop_everything(m);
        char reason[AT_MODEM_TEXT_MAX + 48];
        switch (m->info.ladder_step) {
        case AT_LADDER_REINIT:
                snprintf(reason, sizeof(reason), "%s: re-initializing", why);
                begin_probe(m, reason);
                break;
        case AT_LADDER_CFUN:
                snprintf(reason, sizeof(reason), "%s: resetting the modem (AT+CFUN)", why);
                modem_enter(m, AT_MODEM_RECOVERING, reason);
                /* 27.007 8.2: <fun>=1 with <rst>=1 resets; some modems take only 0 then 1. */
                if (m->quirks & AT_QUIRK_CFUN_SPLIT) {
                        modem_issue(m, "AT+CFUN=0", NULL, MODEM_CFUN_TIMEOUT_MS, 0, NULL, NULL,
                                    NULL);
                        modem_issue(m, "AT+CFUN=1", NULL, MODEM_CFUN_TIMEOUT_MS, 0, NULL, NULL,
                                    NULL);
                } else {
                        modem_issue(m, "AT+CFUN=1,1", NULL, MODEM_CFUN_TIMEOUT_MS, 0, NULL, NULL,
                                    NULL);
                }
                m->ladder_wait_until = m->now + AT_MODEM_RESET_WAIT_MS;
                break;
        case AT_LADDER_REOPEN:
                snprintf(reason, sizeof(reason), "%s: reopening the port", why);
                modem_enter(m, AT_MODEM_RECOVERING, reason);
                m->reopen_wait = true;
                emit(m, AT_MODEM_EV_REOPEN);
                break;
        default:
                modem_fail(m, AT_MODEM_FAIL_NO_ANSWER, why);
                break;
        }
        modem_info_changed(m);
}

void modem_become_ready(struct at_modem *m)
{
        m->info.ladder_step = AT_LADDER_NONE;
        m->info.failures = 0;
        m->info.fail = AT_MODEM_FAIL_NONE;
        m->info.last_error[0] = '\0';
        m->csq_at = m->now + m->csq_interval_ms;
        m->list_at = m->now + m->list_interval_ms; /* READY lists the storage now */
        modem_enter(m, AT_MODEM_READY, "ready");
        modem_info_changed(m);
        if (m->info.storage_total > 0 && m->info.storage_used >= m->info.storage_total)
                modem_storage_full(m);
        modem_recv_pump(m);
}

void modem_storage_full(struct at_modem *m)
{
        m->drain_wanted = true;
        if (!m->storage_full) {
                m->storage_full = true;
                modem_set_error(m, "message storage full (%d of %d)", m->info.storage_used,
                                m->info.storage_total);
                emit(m, AT_MODEM_EV_STORAGE_FULL);
        }
}

/* --- chat events and URCs ------------------------------------------------------------- */

static void on_chat_event(const struct at_event *ev, void *userdata)
{
        struct at_modem *m = userdata;
        switch (ev->type) {
        case AT_EVENT_MODEM_RESET:
                if (!m->started || m->state == AT_MODEM_FAILED || m->reopen_wait)
                        return;
                if (m->state == AT_MODEM_RECOVERING) {
                        stop_everything(m);
                        begin_probe(m, "the modem restarted after AT+CFUN");
                        return;
                }
                /* Echo is on again, settings are gone, a send in flight may have gone. */
                modem_set_error(m, "the modem reset itself (\"%s\")", ev->line);
                emit(m, AT_MODEM_EV_RESET);
                stop_everything(m);
                begin_probe(m, "the modem reset itself");
                break;
        case AT_EVENT_DROPPED:
                /* The rest of a burst that already cost a ladder step costs no second one. */
                if (m->now < m->garbage_quiet_until)
                        break;
                if (m->now - m->garbage_since > MODEM_GARBAGE_WINDOW) {
                        m->garbage_since = m->now;
                        m->garbage = 0;
                }
                if (++m->garbage >= MODEM_GARBAGE_MAX && m->state != AT_MODEM_FAILED &&
                    !m->reopen_wait) {
                        m->garbage = 0;
                        m->garbage_quiet_until = m->now + MODEM_GARBAGE_WINDOW;
                        modem_ladder(m, "garbage on the line");
                }
                break;
        default:
                break;
        }
}

static void on_creg(const char *line, const char *pdu, void *userdata)
{
        struct at_modem *m = userdata;
        struct at_creg c;
        (void)pdu;
        if (at_parse_creg(line, false, &c) < 0)
                return;
        modem_set_reg(m, c.stat);
        modem_network_poll(m);
}

static void on_urc_default(const char *line, const char *pdu, void *userdata)
{
        struct at_modem *m = userdata;
        (void)pdu;
        /* Huawei noise we did not expect (an unknown model): silence it at the next init. */
        if (strncmp(line, "^RSSI:", 6) == 0 || strncmp(line, "^MODE:", 6) == 0)
                m->quirks |= AT_QUIRK_CURC;
}

/* --- public life cycle ---------------------------------------------------------------- */

int at_modem_new(const struct at_modem_config *cfg, const struct at_modem_callbacks *cb,
                 void *userdata, struct at_modem **ret_modem)
{
        if (!cfg || !cb || !ret_modem || !cb->on_state || !cb->on_send_result || !cb->on_sms)
                return -EINVAL;
        if (cfg->smsc && strlen(cfg->smsc) >= AT_PARSE_NUMBER_MAX)
                return -EINVAL;
        struct at_modem *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cb = *cb;
        m->userdata = userdata;
        snprintf(m->name, sizeof(m->name), "%s", cfg->name ? cfg->name : "modem");
        snprintf(m->smsc_cfg, sizeof(m->smsc_cfg), "%s", cfg->smsc ? cfg->smsc : "");
        m->send_timeout_ms = cfg->send_timeout_ms ? cfg->send_timeout_ms : AT_MODEM_SEND_TIMEOUT_MS;
        m->register_timeout_ms =
                cfg->register_timeout_ms ? cfg->register_timeout_ms : AT_MODEM_REGISTER_TIMEOUT_MS;
        m->csq_interval_ms = cfg->csq_interval_ms ? cfg->csq_interval_ms : AT_MODEM_CSQ_INTERVAL_MS;
        m->list_interval_ms =
                cfg->list_interval_ms ? cfg->list_interval_ms : AT_MODEM_LIST_INTERVAL_MS;
        m->quirks = cfg->quirks;

        struct at_chat_config cc = {
                .urc_default = on_urc_default,
                .event = on_chat_event,
                .userdata = m,
        };
        int r = at_chat_new(&cc, &m->chat);
        if (r < 0) {
                free(m);
                return r;
        }
        /* ZTE MF190 and some Huawei firmwares end a refused command with this line. */
        if ((r = at_chat_add_final(m->chat, "COMMAND NOT SUPPORT", false, AT_STATUS_ERROR)) < 0 ||
            (r = at_chat_register_urc(m->chat, "+CREG:", false, on_creg, m)) < 0 ||
            (r = modem_recv_register(m)) < 0) {
                at_chat_free(m->chat);
                free(m);
                return r;
        }
        at_seq_init(&m->seq, m->chat, &m->now, &m->quirks, m, NULL);
        m->state = AT_MODEM_PROBE;
        m->info.rssi = 99;
        m->info.reg = -1;
        m->info.reg_text = reg_text(-1);
        m->info.sim_text = "unknown";
        m->info.storage_used = m->info.storage_total = -1;
        m->info.quirks = m->quirks;
        m->creg_poll_at = m->reg_deadline = m->setup_retry_at = m->csq_at = m->list_at = UINT64_MAX;
        m->ladder_wait_until = UINT64_MAX;
        *ret_modem = m;
        return 0;
}

struct at_modem *at_modem_free(struct at_modem *m)
{
        if (!m)
                return NULL;
        at_seq_abort(&m->seq);
        m->started = false;
        /* The chat fails what is queued: a send gets its result from that. */
        m->chat = at_chat_free(m->chat);
        free(m);
        return NULL;
}

static void restart(struct at_modem *m, uint64_t now, const char *reason)
{
        m->now = now;
        m->started = true;
        stop_everything(m);
        m->info.fail = AT_MODEM_FAIL_NONE;
        m->info.ladder_step = AT_LADDER_NONE;
        m->storage_full = false;
        begin_probe(m, reason);
}

int at_modem_start(struct at_modem *m, uint64_t now)
{
        if (!m)
                return -EINVAL;
        m->now = now;
        m->started = true;
        m->state = AT_MODEM_RECOVERING; /* so that entering PROBE is reported */
        begin_probe(m, "port open: probing");
        return 0;
}

int at_modem_restart(struct at_modem *m, uint64_t now)
{
        if (!m)
                return -EINVAL;
        restart(m, now, "restarting");
        return 0;
}

int at_modem_reopened(struct at_modem *m, uint64_t now)
{
        if (!m)
                return -EINVAL;
        m->now = now;
        /* Whatever was half written went nowhere. */
        const uint8_t *buf;
        size_t n = at_chat_output(m->chat, &buf);
        at_chat_output_done(m->chat, n);
        stop_everything(m);
        m->started = true;
        begin_probe(m, "port reopened: probing");
        return 0;
}

int at_modem_feed(struct at_modem *m, const uint8_t *buf, size_t len, uint64_t now)
{
        if (!m || (!buf && len > 0))
                return -EINVAL;
        m->now = now;
        return at_chat_feed(m->chat, buf, len, now);
}

void at_modem_tick(struct at_modem *m, uint64_t now)
{
        if (!m)
                return;
        m->now = now;
        at_chat_tick(m->chat, now);
        at_seq_tick(&m->seq);
        if (m->state == AT_MODEM_RECOVERING && now >= m->ladder_wait_until) {
                /* No boot line came (or it came before we listened): probe anyway. */
                stop_everything(m);
                begin_probe(m, "reset wait over: probing");
        }
        if (m->state == AT_MODEM_NETWORK)
                modem_network_poll(m);
        if (m->state == AT_MODEM_SMS_SETUP && now >= m->setup_retry_at) {
                m->setup_retry_at = UINT64_MAX;
                modem_start_sms_setup(m);
        }
        if ((m->state == AT_MODEM_READY || m->state == AT_MODEM_SENDING) && now >= m->list_at) {
                m->list_at = now + m->list_interval_ms;
                m->drain_wanted = true;
                modem_recv_pump(m);
        }
        if ((m->state == AT_MODEM_READY || m->state == AT_MODEM_SENDING) && now >= m->csq_at)
                modem_poll_signal(m);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

uint64_t at_modem_next_deadline(const struct at_modem *m)
{
        if (!m)
                return UINT64_MAX;
        uint64_t d = min64(at_chat_next_deadline(m->chat), at_seq_next_deadline(&m->seq));
        switch (m->state) {
        case AT_MODEM_RECOVERING:
                d = min64(d, m->ladder_wait_until);
                break;
        case AT_MODEM_NETWORK:
                if (!at_seq_running(&m->seq))
                        d = min64(d, min64(m->creg_poll_at, m->reg_deadline));
                break;
        case AT_MODEM_SMS_SETUP:
                d = min64(d, m->setup_retry_at);
                break;
        case AT_MODEM_READY:
        case AT_MODEM_SENDING:
                d = min64(d, min64(m->csq_at, m->list_at));
                break;
        default:
                break;
        }
        return d;
}

size_t at_modem_output(const struct at_modem *m, const uint8_t **ret_buf)
{
        return at_chat_output(m->chat, ret_buf);
}

void at_modem_output_done(struct at_modem *m, size_t n)
{
        const uint8_t *buf;
        size_t have = at_chat_output(m->chat, &buf);
        /* The PDU ends with Ctrl-Z (27.005 3.5.1): once that reached the port the part may
         * go out, and a later time-out or reset leaves its outcome unknown. */
        if (m->sending && m->send_id != 0 && memchr(buf, 0x1a, n < have ? n : have))
                m->pdu_written = true;
        at_chat_output_done(m->chat, n);
}

enum at_modem_state at_modem_state(const struct at_modem *m)
{
        return m->state;
}

bool at_modem_idle(const struct at_modem *m)
{
        return at_chat_queued(m->chat) == 0;
}

const struct at_modem_info *at_modem_info(const struct at_modem *m)
{
        return &m->info;
}
