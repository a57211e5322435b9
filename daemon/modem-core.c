/* The modem core's callbacks: identity into the store and the bank, the PIN and its memory
 * of failures, received messages and reports into the store, state into the log and store. */
#include "daemon/modem-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/serial.h"
#include "daemon/store.h"

#define PIN_FAILED_KEY  "pin.failed." /* + ICCID: the PIN the SIM refused */
#define SETTING_KEY_MAX (sizeof(PIN_FAILED_KEY) + AT_PARSE_ID_MAX)
#define BINARY_TEXT     "[binary data]"   /* 8-bit or compressed user data */
#define UNKNOWN_SENDER  "unknown"         /* a DELIVER with an empty TP-OA */
#define EVENT_UNDECODED "sms.undecodable" /* a stored PDU we could not read */

static int modem_bank_send(void *ctx, const char *pdu_hex, size_t tpdu_len, bool more_follow,
                           uint64_t cookie)
{
        struct modem *md = ctx;
        if (md->life != MODEM_LIFE_OPEN || !md->core || md->draining)
                return -ENODEV;
        int r = at_modem_send(md->core, pdu_hex, tpdu_len, more_follow, cookie, modem_now_ms(md));
        if (r < 0)
                return r;
        modem_flush(md);
        return 0;
}

static const struct bank_modem_ops modem_bank_ops = {
        .send = modem_bank_send,
};

static const char *empty_null(const char *s)
{
        return s && *s ? s : NULL;
}

static const struct config_modem *modem_section(const struct modem *md)
{
        const struct at_modem_info *in = md->core ? at_modem_info(md->core) : NULL;
        return config_modem_find(md->host.config, md->path, in ? empty_null(in->imei) : NULL,
                                 in ? empty_null(in->iccid) : NULL);
}

/* Writes the identity to the store (by IMEI: a modem that comes back on another tty keeps
 * its row, counters and queue) and checks that this port is one we should use. Returns
 * false when the binding is being rejected. */
static bool modem_identity(struct modem *md)
{
        const struct at_modem_info *in = at_modem_info(md->core);
        char imei_buf[AT_PARSE_ID_MAX];
        const char *imei = in->imei;
        if (!imei[0] && md->store_id > 0)
                return true; /* known from an earlier probe of this core */
        if (!imei[0] && md->action == MODEM_ACT_RESTART)
                return false; /* already asked for */
        if (imei[0])
                md->imei_tries = 0;
        if (!imei[0]) {
                /* The probe is over without an IMEI (an answer lost among URCs, or a
                 * modem that does not tell): probe again a few times, then let the
                 * port path stand in, so messages waiting on it are not stuck. */
                if (++md->imei_tries < MODEM_IMEI_TRIES) {
                        modem_defer(md, MODEM_ACT_RESTART, "no IMEI in the answers");
                        return false;
                }
                log_modem(LOG_WARNING, md->name, "no IMEI after %u probes: known by its path",
                          md->imei_tries);
                size_t len = strlen(md->path), keep = AT_PARSE_ID_MAX - 6;
                snprintf(imei_buf, sizeof(imei_buf), "path:%s",
                         md->path + (len > keep ? len - keep : 0)); /* the tail tells apart */
                imei = imei_buf;
        }
        if (md->store_id > 0 && strcmp(imei, md->imei) == 0 && strcmp(in->iccid, md->iccid) == 0)
                return true;
        if (strcmp(imei, md->imei) != 0) {
                if (md->host.imei_taken && md->host.imei_taken(md, imei, md->host.userdata)) {
                        char why[128];
                        snprintf(why, sizeof(why), "another port of modem %s is in use", imei);
                        modem_defer(md, MODEM_ACT_REJECT, why);
                        return false;
                }
                const struct serial_info *si = md->port ? serial_get_info(md->port) : NULL;
                if (md->origin == MODEM_DETECTED &&
                    !config_autodetect_allows(md->host.config, si && si->usb ? si->vid : 0,
                                              si && si->usb ? si->pid : 0, imei,
                                              empty_null(in->iccid))) {
                        modem_defer(md, MODEM_ACT_REJECT, "refused by the allow/deny lists");
                        return false;
                }
        }
        struct store_modem_identity id = {
                .imei = imei,
                .iccid = empty_null(in->iccid),
                .imsi = empty_null(in->imsi),
                .maker = empty_null(in->maker),
                .model = empty_null(in->model),
                .revision = empty_null(in->revision),
        };
        int64_t store_id;
        if (store_modem_upsert(md->host.store, &id, md->path, time(NULL), &store_id) < 0) {
                log_modem(LOG_ERR, md->name, "store: %s", store_errmsg(md->host.store));
                return true; /* tried again at the next state change */
        }
        if (md->in_bank && store_id != md->store_id) { /* another modem behind this port */
                bank_modem_remove(md->host.bank, md);
                md->in_bank = md->bank_ready = false;
        }
        if (strcmp(imei, md->imei) != 0) {
                const struct config_modem *cm = modem_section(md);
                snprintf(md->name, sizeof(md->name), "%.*s", MODEM_NAME_MAX - 1,
                         cm && cm->key == CONFIG_KEY_NAME ? cm->name : imei);
                log_modem(LOG_INFO, md->name, "%s is %s %s, IMEI %s, SIM %s", md->path, in->maker,
                          in->model, imei, in->iccid[0] ? in->iccid : "unknown");
        }
        md->store_id = store_id;
        snprintf(md->imei, sizeof(md->imei), "%s", imei);
        snprintf(md->iccid, sizeof(md->iccid), "%s", in->iccid);
        return true;
}

void modem_join_bank(struct modem *md)
{
        if (md->in_bank && md->rejoin) {
                bank_modem_remove(md->host.bank, md);
                md->in_bank = md->bank_ready = false;
        }
        md->rejoin = false;
        if (md->in_bank || md->store_id <= 0)
                return;
        const struct config *cfg = md->host.config;
        const struct config_modem *cm = modem_section(md);
        unsigned rate = cm ? cm->send_rate : cfg->send_rate;
        unsigned limit = cm ? cm->daily_limit : cfg->daily_limit;
        int r = bank_modem_add(md->host.bank, md->store_id, &modem_bank_ops, md, rate, limit);
        if (r < 0) {
                log_modem(LOG_ERR, md->name, "cannot join the bank: %s", strerror(-r));
                return;
        }
        md->in_bank = true;
        md->bank_ready = false;
}

static void on_state(struct at_modem *m, enum at_modem_state from, enum at_modem_state to,
                     const char *reason, void *userdata)
{
        struct modem *md = userdata;
        const struct at_modem_info *in = at_modem_info(m);
        bool routine = (from == AT_MODEM_READY && to == AT_MODEM_SENDING) ||
                       (from == AT_MODEM_SENDING && to == AT_MODEM_READY);
        int prio = to == AT_MODEM_FAILED       ? LOG_ERR
                   : to == AT_MODEM_RECOVERING ? LOG_WARNING
                   : routine                   ? LOG_DEBUG
                                               : LOG_INFO;
        log_modem(prio, md->name, "%s -> %s: %s", at_modem_state_name(from),
                  at_modem_state_name(to), reason ? reason : "");

        if (to == AT_MODEM_FAILED) {
                const char *why = at_modem_fail_text(in->fail);
                bool same = !in->last_error[0] || strcmp(in->last_error, why) == 0;
                snprintf(md->health, sizeof(md->health), "%.60s%s%.60s", why, same ? "" : ": ",
                         same ? "" : in->last_error);
        } else if (to == AT_MODEM_RECOVERING)
                snprintf(md->health, sizeof(md->health), "recovering: %s", reason ? reason : "");
        else if (to == AT_MODEM_READY)
                md->health[0] = '\0';

        /* A port found by a glob or udev that never told who it is and whose probe failed
         * (no answer to AT, or garbage): probed from scratch once more (a modem just plugged
         * in may take seconds to answer), then taken for another interface of a USB modem
         * (diagnostics, GPS spewing NMEA, a silent one) and left alone while its node stays,
         * logged once, instead of climbing the ladder (AT+CFUN=1,1 written to a GPS port)
         * and probing for ever. */
        if (md->origin == MODEM_DETECTED && md->store_id == 0 && !in->imei[0] && !in->maker[0] &&
            in->ladder_step != AT_LADDER_NONE) {
                if (++md->silent_probes < MODEM_DETECT_PROBES)
                        modem_defer(md, MODEM_ACT_RESTART, "no AT answer yet");
                else
                        modem_defer(md, MODEM_ACT_REJECT, "no AT answer: not a modem's AT port");
                return;
        }
        if (to != AT_MODEM_PROBE && to != AT_MODEM_RECOVERING && to != AT_MODEM_FAILED &&
            !modem_identity(md))
                return;
        if (to == AT_MODEM_FAILED) {
                if (md->store_id == 0 && md->origin == MODEM_DETECTED) {
                        modem_defer(md, MODEM_ACT_REJECT, "no modem answers on this port");
                        return;
                }
                /* A refused or missing PIN stays failed until SIGHUP brings a new one. */
                bool pin = in->fail == AT_MODEM_FAIL_PIN_NEEDED ||
                           in->fail == AT_MODEM_FAIL_PIN_REFUSED ||
                           in->fail == AT_MODEM_FAIL_PUK_NEEDED;
                if (!pin) {
                        uint64_t wait =
                                in->fail == AT_MODEM_FAIL_NO_SIM || in->fail == AT_MODEM_FAIL_SIM
                                        ? MODEM_NOSIM_RETRY_MS
                                        : MODEM_FAILED_RETRY_MS;
                        sd_event_source_set_time(md->retry, (modem_now_ms(md) + wait) * 1000);
                        sd_event_source_set_enabled(md->retry, SD_EVENT_ONESHOT);
                }
        }
        if (to == AT_MODEM_READY)
                modem_join_bank(md);
        modem_bank_sync(md);
        /* Not the routine ready <-> sending of every part: two commits (fsyncs) per part
         * held every modem's next send back (issue 4, busy share); the store keeps "ready"
         * and the status snapshot shows the live state. */
        if (!routine && md->store_id > 0 &&
            store_modem_set_state(md->host.store, md->store_id, at_modem_state_name(to),
                                  md->health) < 0)
                log_modem(LOG_WARNING, md->name, "store: %s", store_errmsg(md->host.store));
        if (md->host.changed && !routine)
                md->host.changed(md, md->host.userdata);
}

static int get_pin(struct at_modem *m, const char *iccid, char *ret_pin, size_t size,
                   void *userdata)
{
        struct modem *md = userdata;
        const char *pin = config_pin_for(md->host.config, modem_section(md), iccid);
        char key[SETTING_KEY_MAX], failed[CONFIG_PIN_MAX + 1];

        if (!pin || !*pin)
                return -ENOENT;
        snprintf(key, sizeof(key), "%s%s", PIN_FAILED_KEY, iccid ? iccid : "");
        if (store_setting_get(md->host.store, key, failed, sizeof(failed)) == 0 &&
            strcmp(failed, pin) == 0) {
                log_modem(LOG_ERR, md->name,
                          "SIM %s refused this PIN before: not trying it again (a third wrong "
                          "PIN locks the SIM); configure the right one and reload",
                          iccid ? iccid : "");
                return -EPERM;
        }
        size_t n = strlen(pin);
        if (n >= size)
                return -ENOBUFS;
        memcpy(ret_pin, pin, n + 1);
        return 0;
}

static void on_send_result(struct at_modem *m, const struct at_modem_send_result *r, void *userdata)
{
        struct modem *md = userdata;
        struct bank_time bt;

        log_modem(r->outcome == AT_SEND_SENT ? LOG_DEBUG : LOG_NOTICE, md->name,
                  "send %llu: %s (%s)", (unsigned long long)r->cookie,
                  at_send_outcome_name(r->outcome), r->text ? r->text : "");
        if (r->outcome == AT_SEND_MODEM_FAULT)
                modem_hold(md); /* before the bank kicks: the part goes elsewhere */
        bank_time_now(&bt);
        int k = bank_send_result(md->host.bank, r->cookie, r, &bt);
        if (k < 0 && k != -ENOENT)
                log_modem(LOG_ERR, md->name, "bank: recording send %llu: %s",
                          (unsigned long long)r->cookie, strerror(-k));
        if (md->host.kick)
                md->host.kick(md->host.userdata); /* re-arms the bank's deadline */
}

/* TS 23.040 9.2.3.11: SC local time and its zone, to Unix seconds; 0 when absent. */
static int64_t sms_time_unix(const struct sms_time *t)
{
        if (t->year == 0 || t->month == 0)
                return 0;
        struct tm tm = {
                .tm_year = t->year - 1900,
                .tm_mon = t->month - 1,
                .tm_mday = t->day,
                .tm_hour = t->hour,
                .tm_min = t->minute,
                .tm_sec = t->second,
        };
        return (int64_t)timegm(&tm) - (int64_t)t->tz_quarters * 15 * 60;
}

/* Records a PDU we cannot decode in the event log, so deleting it loses nothing. */
static int keep_undecodable(struct modem *md, const char *pdu_hex, const char *why)
{
        struct json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "imei", json_object_new_string(md->imei));
        json_object_object_add(o, "pdu", json_object_new_string(pdu_hex));
        json_object_object_add(o, "error", json_object_new_string(why));
        struct store_event ev = {
                .time = time(NULL),
                .type = EVENT_UNDECODED,
                .json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
        };
        int r = store_event_append(md->host.store, &ev, NULL);
        json_object_put(o);
        return r;
}

/* Matched reports are routine (the store has them); one that matches nothing is worth a line. */
static void log_report(struct modem *md, const struct modem_report *rp)
{
        log_modem(rp->part_id ? LOG_DEBUG : LOG_INFO, md->name, "report for %s (mr %u): %s%s",
                  rp->recipient, rp->mr, sms_status_class_name(rp->status_class),
                  rp->part_id ? "" : " (no part matched)");
}

static void report_from_pdu(const struct sms_pdu *p, int index, struct modem_report *ret)
{
        int64_t when = sms_time_unix(&p->discharge);

        *ret = (struct modem_report){
                .index = index,
                .mr = p->mr,
                .status = p->status,
                .status_class = p->status_class,
                .when = when ? when : time(NULL),
        };
        snprintf(ret->recipient, sizeof(ret->recipient), "%s", p->addr.number);
}

static int store_report(struct modem *md, struct modem_report *rp)
{
        return store_report_match(md->host.store, md->store_id, rp->mr, rp->recipient, rp->status,
                                  rp->when, &rp->part_id);
}

/* A report the store refused: left on the modem, as on_pdu() leaves any unstored PDU. */
static void report_refused(struct modem *md, int r, int index)
{
        log_modem(LOG_ERR, md->name, "store: %s (message left on the modem)",
                  store_errmsg(md->host.store));
        if (index >= 0 && md->core)
                at_modem_sms_keep(md->core, index);
        if (r == -ENOSPC && md->host.store_full)
                md->host.store_full(md->host.userdata);
}

/* Holds the decoded report for the host's next commit; false when it is to be stored now. */
static bool hold_report(struct modem *md, int index)
{
        if (md->n_reports >= MODEM_REPORTS_HELD || !md->host.hold_report ||
            !md->host.hold_report(md, md->host.userdata))
                return false;
        report_from_pdu(&md->pdu, index, &md->reports[md->n_reports++]);
        return true;
}

static void report_drop(struct modem *md, unsigned i)
{
        memmove(&md->reports[i], &md->reports[i + 1],
                (md->n_reports - i - 1) * sizeof(md->reports[0]));
        md->n_reports--;
}

unsigned modem_reports_match(struct modem *md)
{
        unsigned n = 0;

        for (unsigned i = 0; i < md->n_reports;) {
                struct modem_report *rp = &md->reports[i];
                if (rp->matched) {
                        i++;
                        continue;
                }
                int r = store_report(md, rp);
                if (r < 0) {
                        int index = rp->index;
                        report_drop(md, i);
                        report_refused(md, r, index);
                        continue;
                }
                rp->matched = true;
                n++;
                i++;
        }
        return n;
}

void modem_reports_settle(struct modem *md, bool durable)
{
        bool acked = false;

        for (unsigned i = 0; i < md->n_reports;) {
                struct modem_report *rp = &md->reports[i];
                if (!rp->matched) {
                        i++;
                        continue;
                }
                if (!durable) { /* rolled back: matched again at the next try */
                        rp->matched = false;
                        rp->part_id = 0;
                        i++;
                        continue;
                }
                log_report(md, rp);
                if (md->core) {
                        int r = at_modem_sms_done(md->core, rp->index, modem_now_ms(md));
                        if (r < 0 && r != -ENOENT)
                                log_modem(LOG_WARNING, md->name, "ack of index %d: %s", rp->index,
                                          strerror(-r));
                        acked = true;
                }
                report_drop(md, i);
        }
        if (acked)
                modem_flush(md);
}

unsigned modem_reports_held(const struct modem *md)
{
        return md->n_reports;
}

static int store_deliver(struct modem *md, const struct sms_pdu *p)
{
        const bool c = p->concat.present;
        struct store_inbound_part ip = {
                .modem_id = md->store_id,
                .sender = p->addr.number[0] ? p->addr.number : UNKNOWN_SENDER,
                .ref = c ? p->concat.ref : 0,
                .total = c ? p->concat.total : 1,
                .seq = c ? p->concat.seq : 1,
                .text = p->compressed || p->charset == SMS_CHARSET_8BIT ? BINARY_TEXT : p->text,
                .sc_time = sms_time_unix(&p->scts),
        };
        int64_t msg = 0;
        int r = store_inbound_part_add(md->host.store, &ip, time(NULL), &msg);
        if (r < 0)
                return r;
        log_modem(LOG_INFO, md->name, "received part %u/%u from %s%s", ip.seq, ip.total, ip.sender,
                  msg ? " (message complete)" : "");
        if (msg && md->host.inbound)
                md->host.inbound(md->host.userdata);
        return 0;
}

/* A PDU from the modem: stored durably first, then deleted or acknowledged (never the other
 * way round: a power cut in between gives a duplicate the store ignores, not a loss). */
static void on_pdu(struct modem *md, const char *pdu_hex, int index)
{
        int r;
        if (md->store_id <= 0)
                return; /* identity unknown: left on the modem for the next drain */
        if (sms_pdu_decode_hex(pdu_hex, SMS_DIR_MT, &md->pdu) < 0) {
                const char *why = sms_pdu_error();
                log_modem(LOG_WARNING, md->name, "undecodable PDU at index %d: %s", index, why);
                r = keep_undecodable(md, pdu_hex, why);
        } else if (md->pdu.type == SMS_TYPE_STATUS_REPORT) {
                struct modem_report rp;
                if (hold_report(md, index))
                        return; /* acknowledged after the host's commit */
                report_from_pdu(&md->pdu, index, &rp);
                if ((r = store_report(md, &rp)) == 0)
                        log_report(md, &rp);
        } else if (md->pdu.type == SMS_TYPE_DELIVER) {
                r = store_deliver(md, &md->pdu);
        } else {
                r = keep_undecodable(md, pdu_hex, sms_type_name(md->pdu.type));
        }
        if (r < 0) {
                log_modem(LOG_ERR, md->name, "store: %s (message left on the modem)",
                          store_errmsg(md->host.store));
                /* Not awaited any more, so that modem_relist() offers it again; a direct
                 * delivery (index -1) stays unacknowledged and the network offers it again. */
                if (index >= 0)
                        at_modem_sms_keep(md->core, index);
                if (r == -ENOSPC && md->host.store_full)
                        md->host.store_full(md->host.userdata);
                return;
        }
        r = at_modem_sms_done(md->core, index, modem_now_ms(md));
        if (r < 0 && r != -ENOENT)
                log_modem(LOG_WARNING, md->name, "ack of index %d: %s", index, strerror(-r));
}

static void on_sms(struct at_modem *m, const char *pdu_hex, int index, const char *mem,
                   void *userdata)
{
        on_pdu(userdata, pdu_hex, index);
}

static void on_report(struct at_modem *m, const char *pdu_hex, int index, const char *mem,
                      void *userdata)
{
        on_pdu(userdata, pdu_hex, index);
}

static void on_event(struct at_modem *m, const struct at_modem_event *ev, void *userdata)
{
        struct modem *md = userdata;
        char key[SETTING_KEY_MAX];

        switch (ev->type) {
        case AT_MODEM_EV_INFO:
                if (at_modem_state(m) != AT_MODEM_PROBE && !modem_identity(md))
                        return;
                if (md->host.changed)
                        md->host.changed(md, md->host.userdata);
                break;
        case AT_MODEM_EV_PIN_REFUSED:
                snprintf(key, sizeof(key), "%s%s", PIN_FAILED_KEY, ev->iccid ? ev->iccid : "");
                if (store_setting_set(md->host.store, key, ev->pin ? ev->pin : "") < 0)
                        log_modem(LOG_ERR, md->name, "store: %s", store_errmsg(md->host.store));
                log_modem(LOG_ERR, md->name,
                          "SIM %s refused the configured PIN; it will not be tried again",
                          ev->iccid ? ev->iccid : "");
                break;
        case AT_MODEM_EV_STORAGE_FULL:
                log_modem(LOG_WARNING, md->name, "message storage full: reading and deleting");
                break;
        case AT_MODEM_EV_REOPEN:
                modem_defer(md, MODEM_ACT_REOPEN, "recovery");
                break;
        case AT_MODEM_EV_NETWORK_TIME:
                if (md->host.network_time && ev->time)
                        md->host.network_time(md, ev->time, ev->time_sane, md->host.userdata);
                break;
        case AT_MODEM_EV_RESET:
                log_modem(LOG_WARNING, md->name, "the modem rebooted by itself");
                break;
        }
}

void modem_relist(struct modem *md)
{
        if (md->life != MODEM_LIFE_OPEN || !md->core)
                return; /* a modem opened later lists its storage when it is ready */
        at_modem_relist(md->core, modem_now_ms(md));
        modem_flush(md);
}

const struct at_modem_callbacks modem_core_callbacks = {
        .on_state = on_state,
        .get_pin = get_pin,
        .on_send_result = on_send_result,
        .on_sms = on_sms,
        .on_report = on_report,
        .on_event = on_event,
};
