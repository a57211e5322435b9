/* The simulated network: carries SMS between modems and phones, reassembles what phones
 * receive, records it as JSON lines, sends delivery reports and runs the phones' rules. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

/* Not sd-event's default 250 ms: a job (a delivery, a report) is due when it says. */
#define SIM_JOB_ACCURACY_US 1000

/* TS 23.040 9.2.3.15: what a report says for a phone that never answers. */
#define STATUS_DELIVERED 0x00
#define STATUS_EXPIRED   0x46

uint64_t sim_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void sim_time_from_epoch(int64_t epoch_s, int tz_quarters, struct sms_time *ret)
{
        time_t local = (time_t)(epoch_s + tz_quarters * 15 * 60);
        struct tm tm;
        gmtime_r(&local, &tm);
        int year = tm.tm_year + 1900;
        *ret = (struct sms_time){
                .year = (uint16_t)(year < 2000   ? 2000
                                   : year > 2099 ? 2099
                                                 : year),
                .month = (uint8_t)(tm.tm_mon + 1),
                .day = (uint8_t)tm.tm_mday,
                .hour = (uint8_t)tm.tm_hour,
                .minute = (uint8_t)tm.tm_min,
                .second = (uint8_t)tm.tm_sec,
                .tz_quarters = (int8_t)tz_quarters,
        };
}

/* The service centre's clock, for time stamps: always right, whatever NITZ says. */
static void sc_time(const struct sim_net *net, struct sms_time *ret)
{
        sim_time_from_epoch(time(NULL), net->tz_quarters, ret);
}

/* ---- jobs ---- */

struct sim_job {
        struct sim_net *net;
        sim_job_fn fn;
        void *data;
};

static void job_free(void *p)
{
        struct sim_job *j = p;
        free(j->data);
        free(j);
}

static int on_job(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_job *j = userdata;
        j->fn(j->net, j->data);
        /* drops the loop's only reference: sd-event frees the source (and the job, through
         * its destroy callback) once this dispatch returns */
        sd_event_source_set_floating(s, 0);
        return 0;
}

int sim_job_after(struct sim_net *net, int delay_ms, sim_job_fn fn, void *data)
{
        struct sim_job *j = calloc(1, sizeof(*j));
        if (!j) {
                free(data);
                return -ENOMEM;
        }
        *j = (struct sim_job){ net, fn, data };
        sd_event_source *s;
        int r = sd_event_add_time_relative(net->event, &s, CLOCK_MONOTONIC,
                                           (uint64_t)(delay_ms > 0 ? delay_ms : 0) * 1000ULL,
                                           SIM_JOB_ACCURACY_US, on_job, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        sd_event_source_set_destroy_callback(s, job_free);
        sd_event_source_set_floating(s, 1);
        sd_event_source_unref(s);
        return 0;
}

/* ---- records ---- */

/* Writes one JSON line: obj (consumed) plus the wall-clock time. */
static void record(struct sim_net *net, struct json_object *obj)
{
        if (net->record) {
                struct timespec ts;
                char t[64], when[80];
                struct tm tm;
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(when, sizeof(when), "%s.%03ldZ", t, ts.tv_nsec / 1000000);
                json_object_object_add(obj, "time", json_object_new_string(when));
                fprintf(net->record, "%s\n",
                        json_object_to_json_string_ext(
                                obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(net->record);
        }
        json_object_put(obj);
}

static struct json_object *event_obj(const char *event, const char *phone, const char *modem)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "event", json_object_new_string(event));
        json_object_object_add(o, "phone", json_object_new_string(phone));
        json_object_object_add(o, "modem", json_object_new_string(modem));
        return o;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

/* ---- phones ---- */

struct sim_phone *sim_phone_find(struct sim_net *net, const char *number_or_name)
{
        for (size_t i = 0; i < net->n_phones; i++)
                if (strcmp(net->phones[i].number, number_or_name) == 0 ||
                    strcmp(net->phones[i].name, number_or_name) == 0)
                        return &net->phones[i];
        return NULL;
}

struct sim_phone *sim_phone_add(struct sim_net *net, const char *number)
{
        if (net->n_phones >= SIM_PHONES_MAX || strlen(number) >= SIM_NUMBER_MAX)
                return NULL;
        struct sim_phone *p = &net->phones[net->n_phones++];
        *p = (struct sim_phone){ .reachable = true };
        sim_strlcpy(p->number, sizeof(p->number), number);
        sim_strlcpy(p->name, sizeof(p->name), number);
        return p;
}

static struct sim_modem *modem_by_number(struct sim_net *net, const char *number)
{
        for (size_t i = 0; i < net->n_modems; i++)
                if (net->modems[i].number[0] && strcmp(net->modems[i].number, number) == 0)
                        return &net->modems[i];
        return NULL;
}

/* ---- network to modem ---- */

static int deliver(struct sim_net *net, const char *from, struct sim_modem *m, const char *text,
                   char *err, size_t err_len)
{
        struct sms_deliver_opts opts = { .smsc = net->smsc[0] ? net->smsc : NULL,
                                         .ref16 = false,
                                         .ref = (uint8_t)++net->next_ref };
        sc_time(net, &opts.scts);
        struct sms_part parts[SIM_PARTS_MAX];
        int n = sms_deliver_encode(text, from, &opts, parts, SIM_PARTS_MAX);
        if (n < 0) {
                snprintf(err, err_len, "cannot encode the message from %s: %s", from, strerror(-n));
                return n;
        }
        for (int i = 0; i < n; i++) {
                int r = sim_modem_queue(m, &parts[i], false);
                if (r < 0) {
                        snprintf(err, err_len, "the network holds too much for %s", m->name);
                        return r;
                }
        }
        struct json_object *o = event_obj("sent", from, m->name);
        add_str(o, "to", m->number);
        add_str(o, "text", text);
        add_int(o, "parts", n);
        record(net, o);
        sim_modem_pump(m);
        return n;
}

int sim_net_inject(struct sim_net *net, const char *from, const char *modem_name, const char *text,
                   char *err, size_t err_len)
{
        struct sim_modem *m = sim_modem_find(net, modem_name);
        if (!m)
                m = modem_by_number(net, modem_name);
        if (!m) {
                snprintf(err, err_len, "no modem named %s", modem_name);
                return -ENOENT;
        }
        struct sim_phone *p = sim_phone_find(net, from);
        const char *origin = p ? (p->sender[0] ? p->sender : p->number) : from;
        return deliver(net, origin, m, text, err, err_len);
}

struct reply_job {
        char from[SIM_NAME_MAX];
        char modem[SIM_NAME_MAX];
        char text[SIM_TEXT_MAX];
};

static void on_reply(struct sim_net *net, void *data)
{
        struct reply_job *j = data;
        char err[128];
        if (sim_net_inject(net, j->from, j->modem, j->text, err, sizeof(err)) < 0)
                log_warning("reply from %s not sent: %s", j->from, err);
}

/* First matching rule wins (the order of the config file). */
static void run_rules(struct sim_net *net, struct sim_phone *p, struct sim_modem *m,
                      const char *text)
{
        p->received++;
        for (size_t i = 0; i < p->n_rules; i++) {
                struct sim_rule *r = &p->rules[i];
                if (r->nth && r->nth != p->received)
                        continue;
                if (r->times && r->fired >= r->times)
                        continue;
                if (r->match[0] && fnmatch(r->match, text, FNM_CASEFOLD) != 0)
                        continue;
                r->fired++;
                struct reply_job *j = calloc(1, sizeof(*j));
                if (!j)
                        return;
                sim_strlcpy(j->from, sizeof(j->from), p->number);
                sim_strlcpy(j->modem, sizeof(j->modem), m->name);
                sim_strlcpy(j->text, sizeof(j->text), r->reply);
                int delay = r->delay_ms >= 0 ? r->delay_ms : p->delay_ms;
                log_info("phone %s answers rule %zu in %d ms", p->number, i + 1, delay);
                sim_job_after(net, delay, on_reply, j);
                return;
        }
}

/* ---- modem to network ---- */

struct report_job {
        char modem[SIM_NAME_MAX];
        char recipient[SIM_NUMBER_MAX];
        uint8_t mr, status;
};

static void on_report(struct sim_net *net, void *data)
{
        struct report_job *j = data;
        struct sim_modem *m = sim_modem_find(net, j->modem);
        struct sms_time now;
        struct sms_part part;
        sc_time(net, &now);
        if (!m || sms_status_report_encode(j->mr, j->recipient, &now, &now, j->status,
                                           net->smsc[0] ? net->smsc : NULL, &part) < 0)
                return;
        sim_modem_queue(m, &part, true);
        struct json_object *o = event_obj("report", j->recipient, m->name);
        add_int(o, "mr", j->mr);
        add_int(o, "status", j->status);
        record(net, o);
        sim_modem_pump(m);
}

static struct sim_assembly *assembly_for(struct sim_net *net, const char *to, const char *from,
                                         const struct sms_concat *c)
{
        struct sim_assembly *free_one = NULL, *oldest = NULL;
        for (size_t i = 0; i < SIM_ASSEMBLY_MAX; i++) {
                struct sim_assembly *a = &net->asm_[i];
                if (!a->used) {
                        if (!free_one)
                                free_one = a;
                        continue;
                }
                if (a->ref == c->ref && a->total == c->total && strcmp(a->to, to) == 0 &&
                    strcmp(a->from, from) == 0)
                        return a;
                if (!oldest || a->started_us < oldest->started_us)
                        oldest = a;
        }
        /* Each slot is free or used, so with SIM_ASSEMBLY_MAX > 0 one of the two is set. */
        struct sim_assembly *a = free_one ? free_one : oldest;
        if (!free_one)
                log_warning("reassembly of %s -> %s ref %u dropped for room", a->from, a->to,
                            a->ref);
        memset(a, 0, sizeof(*a));
        a->used = true;
        sim_strlcpy(a->to, sizeof(a->to), to);
        sim_strlcpy(a->from, sizeof(a->from), from);
        a->ref = c->ref;
        a->total = c->total;
        a->started_us = sim_now_us();
        return a;
}

/* Called with the whole text a phone (or another modem) has received. */
static void message_complete(struct sim_net *net, struct sim_modem *m, const char *to,
                             const char *text, int parts)
{
        struct sim_modem *dest = modem_by_number(net, to);
        struct json_object *o = event_obj("message", to, m->name);
        add_str(o, "from", m->number);
        add_str(o, "text", text);
        add_int(o, "parts", parts);
        record(net, o);
        net->messages_delivered++;
        if (dest) { /* modem to modem: the network hands it on as an SMS-DELIVER */
                char err[128];
                if (deliver(net, m->number, dest, text, err, sizeof(err)) < 0)
                        log_warning("%s", err);
                return;
        }
        struct sim_phone *p = sim_phone_find(net, to);
        if (p)
                run_rules(net, p, m, text);
}

int sim_net_submit(struct sim_modem *m, const struct sms_pdu *pdu, const uint8_t *raw,
                   size_t raw_len)
{
        struct sim_net *net = m->net;
        const char *to = pdu->addr.number;
        struct sim_phone *p = sim_phone_find(net, to);
        if (!p && !modem_by_number(net, to))
                p = sim_phone_add(net, to); /* unknown numbers become silent phones */
        bool reachable = !p || p->reachable;
        const struct sms_concat *c = &pdu->concat;
        int total = c->present ? c->total : 1, seq = c->present ? c->seq : 1;

        struct json_object *o = event_obj(reachable ? "part" : "undeliverable", to, m->name);
        add_str(o, "from", m->number);
        add_str(o, "text", pdu->text);
        add_str(o, "charset", sms_charset_name(pdu->charset));
        add_int(o, "mr", m->mr);
        add_int(o, "seq", seq);
        add_int(o, "total", total);
        if (c->present)
                add_int(o, "ref", c->ref);
        if (pdu->status_report)
                json_object_object_add(o, "srr", json_object_new_boolean(1));

        if (reachable && c->present && total > 1 && seq >= 1 && seq <= total &&
            total <= SIM_PARTS_MAX) {
                struct sim_assembly *a = assembly_for(net, to, m->number, c);
                if (a->got[seq]) {
                        json_object_object_add(o, "duplicate", json_object_new_boolean(1));
                        record(net, o);
                } else {
                        record(net, o);
                        a->got[seq] = true;
                        a->have++;
                        sim_strlcpy(a->text[seq - 1], sizeof(a->text[seq - 1]), pdu->text);
                }
                if (a->have == a->total) {
                        char full[SIM_PARTS_MAX * SMS_TEXT_MAX];
                        size_t k = 0;
                        for (int i = 0; i < a->total; i++) {
                                sim_strlcpy(full + k, sizeof(full) - k, a->text[i]);
                                k += strlen(full + k);
                        }
                        a->used = false;
                        message_complete(net, m, to, full, total);
                }
        } else {
                record(net, o);
                if (reachable)
                        message_complete(net, m, to, pdu->text, 1);
        }

        if (pdu->status_report) {
                struct report_job *j = calloc(1, sizeof(*j));
                if (!j)
                        return -ENOMEM;
                sim_strlcpy(j->modem, sizeof(j->modem), m->name);
                sim_strlcpy(j->recipient, sizeof(j->recipient), to);
                j->mr = m->mr;
                j->status = reachable ? STATUS_DELIVERED : STATUS_EXPIRED;
                sim_job_after(net, net->report_delay_ms, on_report, j);
        }
        (void)raw;
        (void)raw_len;
        return 0;
}
