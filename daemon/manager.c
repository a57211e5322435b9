/* The daemon's manager: the event loop and every source, the modems, signals and reloads. */
#include "daemon/manager-internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "at/quirks.h"
#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/hotplug.h"
#include "daemon/log.h"
#include "daemon/rules-runner.h"
#include "daemon/staff.h"
#include "daemon/store.h"
#include "daemon/upload.h"
#include "daemon/wake.h"

#define MANAGER_TIMER_ACCURACY_US 1000

uint64_t manager_now_ms(const struct manager *m)
{
        uint64_t usec = 0;
        sd_event_now(m->event, CLOCK_MONOTONIC, &usec);
        return usec / 1000;
}

static void arm_in(sd_event_source *s, uint64_t at_ms)
{
        sd_event_source_set_time(s, at_ms * 1000);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* ---- the bank ---- */

static void manager_kick_soon(void *userdata)
{
        struct manager *m = userdata;
        if (!m->stopping)
                sd_event_source_set_enabled(m->kick_defer, SD_EVENT_ONESHOT);
}

static void manager_kick(struct manager *m)
{
        struct bank_time bt;
        if (m->stopping)
                return;
        bank_time_now(&bt);
        int r = bank_kick(m->bank, &bt);
        if (r < 0)
                log_warning("bank: %s", strerror(-r));
        uint64_t next = bank_next_deadline(m->bank);
        if (next == BANK_NO_DEADLINE)
                sd_event_source_set_enabled(m->bank_timer, SD_EVENT_OFF);
        else
                arm_in(m->bank_timer, next);
}

static int on_kick(sd_event_source *s, void *userdata)
{
        manager_kick(userdata);
        return 0;
}

static int on_bank_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        manager_kick(userdata);
        return 0;
}

static void on_wake(void *userdata)
{
        struct manager *m = userdata;
        if (m->rules)
                rules_runner_kick(m->rules); /* puentectl may have changed contacts */
        manager_kick(m);
}

/* ---- incoming messages: staff commands first, then the programme ---- */

static int inbox_rules(const struct manager_inbox_msg *msg, void *userdata)
{
        struct manager *m = userdata;
        if (!m->rules)
                return 0;
        return msg->contact_id > 0
                       ? rules_runner_inbound(m->rules, msg->contact_id, msg->text, msg->now)
                       : rules_runner_inbound_unknown(m->rules, msg->sender, msg->text, msg->now,
                                                      NULL);
}

/* Staff commands are answered (and marked handled) by staff_process(); every other complete
 * message goes to the rules, oldest first, and is marked handled in the same transaction as
 * what the rules did for it, so a restart neither loses nor repeats one.
 * A transient failure (a locked or full store) leaves the message unhandled and the inbox
 * waits MANAGER_INBOX_RETRY_MIN_MS, doubled at each failure in a row up to
 * MANAGER_INBOX_RETRY_MAX_MS, before it tries again: never a busy loop, never a lost one. */
static void manager_inbox(struct manager *m)
{
        int64_t now = (int64_t)time(NULL);
        uint64_t now_ms = manager_now_ms(m);
        bool more = false;

        if (m->staff && staff_process(m->staff, m->store, m->config, now) > 0)
                manager_kick_soon(m);
        if (m->inbox_backoff_ms && now_ms < m->inbox_retry_ms)
                return; /* inbox_timer comes at inbox_retry_ms */
        int r = manager_inbox_pass(m->store, now, inbox_rules, m, &more);
        if (r < 0) {
                m->inbox_backoff_ms = manager_inbox_backoff(m->inbox_backoff_ms);
                m->inbox_retry_ms = now_ms + m->inbox_backoff_ms;
                arm_in(m->inbox_timer, m->inbox_retry_ms);
                log_warning("inbox: %s: the messages stay unhandled; trying again in %llu s",
                            strerror(-r), (unsigned long long)(m->inbox_backoff_ms / 1000));
                return;
        }
        if (m->inbox_backoff_ms)
                log_info("inbox: handled again");
        m->inbox_backoff_ms = 0;
        if (more)
                sd_event_source_set_enabled(m->inbox_defer, SD_EVENT_ONESHOT);
}

static int on_inbox(sd_event_source *s, void *userdata)
{
        manager_inbox(userdata);
        return 0;
}

static int on_inbox_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        manager_inbox(userdata);
        return 0;
}

static void host_inbound(void *userdata)
{
        struct manager *m = userdata;
        sd_event_source_set_enabled(m->inbox_defer, SD_EVENT_ONESHOT);
}

static void rules_queued(void *userdata)
{
        manager_kick_soon(userdata);
}

/* ---- modems ---- */

/* The binding of path, by its name first (what a rescan finds for every known port: no
 * system call), then by what it resolves to (a by-id link and its ttyUSB). */
static struct modem *modem_by_path(struct manager *m, const char *path)
{
        char real[PATH_MAX];
        for (unsigned i = 0; i < m->n_modems; i++)
                if (strcmp(modem_path(m->modems[i]), path) == 0)
                        return m->modems[i];
        if (!realpath(path, real))
                return NULL;
        for (unsigned i = 0; i < m->n_modems; i++) {
                char other[PATH_MAX];
                if (realpath(modem_path(m->modems[i]), other) && strcmp(other, real) == 0)
                        return m->modems[i];
        }
        return NULL;
}

static int manager_add_modem(struct manager *m, const char *path, enum modem_origin origin,
                             unsigned quirks)
{
        if (modem_by_path(m, path))
                return -EEXIST;
        if (m->n_modems >= MANAGER_MODEMS_MAX) {
                log_warning("%s: not used: already %d ports", path, MANAGER_MODEMS_MAX);
                return -E2BIG;
        }
        struct modem *md;
        int r = modem_new(&m->host, path, origin, quirks, &md);
        if (r < 0) {
                log_error("%s: %s", path, strerror(-r));
                return r;
        }
        m->modems[m->n_modems++] = md;
        return 0;
}

/* why: what the binding's store row will say (modem_gone_name()). */
static void manager_remove_modem(struct manager *m, unsigned i, enum modem_gone why)
{
        modem_free(m->modems[i], why);
        m->modems[i] = m->modems[--m->n_modems];
        m->modems[m->n_modems] = NULL;
}

static bool host_imei_taken(const struct modem *md, const char *imei, void *userdata)
{
        struct manager *m = userdata;
        for (unsigned i = 0; i < m->n_modems; i++)
                if (m->modems[i] != md && modem_life(m->modems[i]) == MODEM_LIFE_OPEN &&
                    strcmp(modem_imei(m->modems[i]), imei) == 0)
                        return true;
        return false;
}

static void host_changed(struct modem *md, void *userdata)
{
        struct manager *m = userdata;
        uint64_t soon = manager_now_ms(m) + MANAGER_STATUS_SOON;
        if (soon < m->status_due_ms) {
                m->status_due_ms = soon;
                arm_in(m->status_timer, soon);
        }
}

static void host_network_time(struct modem *md, const struct at_time *t, bool sane, void *userdata)
{
        struct manager *m = userdata;
        if (!sane || !t->has_time)
                return;
        struct tm tm = {
                .tm_year = t->year - 1900,
                .tm_mon = t->mon - 1,
                .tm_mday = t->day,
                .tm_hour = t->hour,
                .tm_min = t->min,
                .tm_sec = t->sec,
        };
        /* 27.007 8.15: +CCLK is local time with the zone in quarter hours. */
        int64_t net = (int64_t)timegm(&tm) - (t->has_tz ? (int64_t)t->tz_quarters * 900 : 0);
        int64_t skew = net - (int64_t)time(NULL);
        bool off = skew > MANAGER_CLOCK_SKEW_S || skew < -MANAGER_CLOCK_SKEW_S;
        if (off)
                log_modem(LOG_WARNING, modem_name(md),
                          "the network's clock is %+lld s from ours: is the system clock set?",
                          (long long)skew);
        /* Reminders wait while the box's clock disagrees with the network's. */
        if (m->rules)
                rules_runner_set_clock_trusted(m->rules, !off);
        store_set_clock_trusted(m->store, !off); /* the messages' sms.* events */
}

/* Configured device paths (not globs) get a binding each, kept for ever. */
static void manager_add_configured(struct manager *m)
{
        for (unsigned i = 0; i < m->config->n_modems; i++) {
                const char *dev = m->config->modems[i].device;
                if (dev[0] && !hotplug_is_glob(dev))
                        (void)manager_add_modem(m, dev, MODEM_CONFIGURED, 0);
        }
}

static void glob_found(const char *path, void *userdata)
{
        (void)manager_add_modem(userdata, path, MODEM_DETECTED, 0);
}

static void manager_scan_globs(struct manager *m)
{
        for (unsigned i = 0; i < m->config->n_modems; i++) {
                const char *dev = m->config->modems[i].device;
                if (hotplug_is_glob(dev))
                        (void)hotplug_glob(dev, glob_found, m);
        }
}

/* Detected ports that went away are forgotten (hotplug or a glob brings them back); the
 * rejected ones are remembered while their path leads to the same node, so they are not
 * probed again (a node made again, maybe another interface now, is probed afresh). */
static void manager_sweep(struct manager *m)
{
        for (unsigned i = 0; i < m->n_modems;) {
                struct modem *md = m->modems[i];
                struct stat st;
                bool gone = modem_origin(md) == MODEM_DETECTED &&
                            (modem_life(md) == MODEM_LIFE_UNPLUGGED ||
                             (modem_life(md) == MODEM_LIFE_REJECTED &&
                              (stat(modem_path(md), &st) < 0 || modem_node_changed(md))));
                if (gone)
                        manager_remove_modem(m, i, MODEM_GONE_UNPLUGGED);
                else
                        i++;
        }
}

/* A tty from udev: an "add", or one of every tty an enumeration goes through (most of them
 * known: a binding, or a port the lists or the quirks table keep out), so the policy checks,
 * pure, come before the look-up, and an enumerated port takes no system call unless new. */
static void hp_added(const struct hotplug_port *p, void *userdata)
{
        struct manager *m = userdata;
        if (p->found == HOTPLUG_FOUND_EVENT) {
                /* A configured path may be this tty coming back. */
                for (unsigned i = 0; i < m->n_modems; i++)
                        modem_poke(m->modems[i]);
        }
        if (!m->config->autodetect || m->stopping)
                return;
        if (p->found == HOTPLUG_FOUND_EVENT)
                manager_sweep(m); /* a rejection or a binding of the node this one replaces */
        if (p->usb && !config_autodetect_may_probe(m->config, p->vendor, p->product))
                return;
        if (p->usb && at_quirks_is_at_port(p->vendor, p->product, p->interface) == 0)
                return; /* the table names it a data, diagnostic or GPS port */
        const struct at_quirk_usb *q = p->usb ? at_quirks_by_usb(p->vendor, p->product) : NULL;
        if (manager_add_modem(m, p->devname, MODEM_DETECTED, q ? q->quirks : 0) != 0)
                return; /* known (-EEXIST), or logged */
        if (p->found == HOTPLUG_FOUND_RESCAN || p->found == HOTPLUG_FOUND_LOST ||
            p->found == HOTPLUG_FOUND_MONITOR)
                log_notice("%s: new port (USB %04x:%04x interface %d), found by the %s", p->devname,
                           p->vendor, p->product, p->interface, hotplug_found_name(p->found));
        else
                log_info("%s: new port (USB %04x:%04x interface %d), found by %s", p->devname,
                         p->vendor, p->product, p->interface, hotplug_found_name(p->found));
}

/* Before an enumeration: what went away is swept once, not once per tty reported. */
static void hp_enumerating(enum hotplug_found why, void *userdata)
{
        struct manager *m = userdata;
        if (m->config->autodetect && !m->stopping)
                manager_sweep(m);
}

static void hp_removed(const char *devname, void *userdata)
{
        struct manager *m = userdata;
        struct modem *md = modem_by_path(m, devname);
        if (md)
                modem_poke(md); /* its binding sees the end of file too */
}

static const struct hotplug_ops manager_hotplug_ops = {
        .added = hp_added,
        .removed = hp_removed,
        .enumerating = hp_enumerating,
};

/* autodetect_rescan (docs/puente.conf.md): a udev event lost is made up within it. */
static int manager_hotplug_start(struct manager *m)
{
        int r = hotplug_new(m->event, m->config->autodetect, &manager_hotplug_ops, m, &m->hotplug);
        if (r < 0)
                return r;
        return hotplug_set_rescan(m->hotplug, (uint64_t)m->config->autodetect_rescan * 1000);
}

/* ---- timers ---- */

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        manager_inbox(m);
        if (m->upload)
                upload_kick(m->upload, false); /* cuts and sends from the loop, never here */
        manager_sweep(m);
        if (!m->stopping)
                manager_scan_globs(m);
        manager_kick(m);
        arm_in(s, manager_now_ms(m) + MANAGER_POLL_MS);
        return 0;
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        manager_status_write(m);
        m->status_due_ms = manager_now_ms(m) + MANAGER_STATUS_MS;
        arm_in(s, m->status_due_ms);
        return 0;
}

static int on_inbound_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        int64_t now = time(NULL);
        int n = store_inbound_flush(m->store, now - (int64_t)m->config->reassembly_timeout, now);
        if (n < 0)
                log_warning("store: %s", store_errmsg(m->store));
        else if (n > 0)
                log_notice("%d incomplete incoming message(s) delivered with parts missing", n);
        arm_in(s, manager_now_ms(m) + MANAGER_FLUSH_MS);
        return 0;
}

/* ---- status reports joined to the bank's commits (docs/bank.md "Commits") ---- */

static void reports_match_all(void *userdata)
{
        struct manager *m = userdata;
        for (unsigned i = 0; i < m->n_modems; i++)
                if (modem_reports_held(m->modems[i]))
                        (void)modem_reports_match(m->modems[i]);
}

static void reports_settle_all(void *userdata, bool durable)
{
        struct manager *m = userdata;
        /* The timer stays armed when nothing is left: disarming and arming it again for
         * every part would re-arm the loop's timerfd twice a part; it fires at most once per
         * MODEM_REPORT_HOLD_MS and then finds nothing to do. */
        for (unsigned i = 0; i < m->n_modems; i++)
                if (modem_reports_held(m->modems[i]))
                        modem_reports_settle(m->modems[i], durable);
}

static bool reports_held_any(const struct manager *m)
{
        for (unsigned i = 0; i < m->n_modems; i++)
                if (modem_reports_held(m->modems[i]))
                        return true;
        return false;
}

/* Held reports that no send's commit took within MODEM_REPORT_HOLD_MS: one commit for all. */
static void reports_flush(struct manager *m)
{
        if (!reports_held_any(m))
                return; /* no empty transaction */
        bool batch = store_batch_begin(m->store) == 0;
        bool durable = true;

        reports_match_all(m);
        if (batch && store_batch_commit(m->store) < 0) {
                log_warning("store: %s (status reports kept on the modems)",
                            store_errmsg(m->store));
                durable = false;
        }
        reports_settle_all(m, durable);
}

static int on_reports_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        reports_flush(m);
        if (reports_held_any(m)) /* the commit failed: again later */
                arm_in(s, manager_now_ms(m) + MODEM_REPORT_HOLD_MS);
        return 0;
}

/* modem_host.hold_report: worth holding only while a send's result, and so a commit, will
 * come soon; otherwise the report gets its own commit at once, as before. */
static bool host_hold_report(struct modem *md, void *userdata)
{
        struct manager *m = userdata;
        int enabled = SD_EVENT_OFF;

        if (m->stopping || !bank_sending(m->bank))
                return false;
        if (sd_event_source_get_enabled(m->reports_timer, &enabled) >= 0 && enabled == SD_EVENT_OFF)
                arm_in(m->reports_timer, manager_now_ms(m) + MODEM_REPORT_HOLD_MS);
        return true;
}

/* ---- stopping and reloading ---- */

static int on_stop_check(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        bool idle = true;
        for (unsigned i = 0; i < m->n_modems && idle; i++)
                idle = modem_idle(m->modems[i]);
        uint64_t now = manager_now_ms(m);
        if (idle || now >= m->stop_deadline_ms) {
                if (!idle)
                        log_warning("stopping with AT commands still in flight");
                sd_event_exit(m->event, 0);
                return 0;
        }
        arm_in(s, now + MANAGER_STOP_POLL_MS);
        return 0;
}

static void manager_stop(struct manager *m, const char *why)
{
        if (m->stopping) {
                log_notice("%s again: stopping now", why);
                sd_event_exit(m->event, 0);
                return;
        }
        log_info("%s: finishing the AT commands in flight, then stopping", why);
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
        m->stopping = true;
        reports_flush(m); /* acknowledged before the modems drain */
        for (unsigned i = 0; i < m->n_modems; i++)
                modem_drain(m->modems[i]);
        sd_event_source_set_enabled(m->kick_defer, SD_EVENT_OFF);
        sd_event_source_set_enabled(m->bank_timer, SD_EVENT_OFF);
        m->stop_deadline_ms = manager_now_ms(m) + MANAGER_STOP_WAIT_MS;
        arm_in(m->stop_timer, manager_now_ms(m));
}

static bool manager_glob_matches(const struct manager *m, const char *path)
{
        for (unsigned i = 0; i < m->config->n_modems; i++) {
                const char *dev = m->config->modems[i].device;
                if (hotplug_is_glob(dev) && hotplug_glob_matches(dev, path))
                        return true;
        }
        return false;
}

/* After a reload, detected ports are looked at again: with autodetect off only those a
 * configured glob finds stay; with new allow/deny lists the rejected ones are forgotten,
 * to be probed afresh when udev's ttys are enumerated again or the globs scanned (a port
 * refused before may be let in now). */
static void manager_reload_detected(struct manager *m, bool lists_changed)
{
        for (unsigned i = 0; i < m->n_modems;) {
                struct modem *md = m->modems[i];
                bool off = !m->config->autodetect && !manager_glob_matches(m, modem_path(md));
                bool again = lists_changed && modem_life(md) == MODEM_LIFE_REJECTED;
                if (modem_origin(md) == MODEM_DETECTED && (off || again)) {
                        if (off)
                                log_info("%s: let go: autodetect is off", modem_path(md));
                        manager_remove_modem(m, i,
                                             off ? MODEM_GONE_AUTODETECT_OFF : MODEM_GONE_REFUSED);
                } else {
                        i++;
                }
        }
}

static void manager_reload(struct manager *m)
{
        struct config *c = NULL;
        struct config_diag diag = { 0 };
        log_info("SIGHUP: reloading %s", m->config_path ? m->config_path : CONFIG_DEFAULT_PATH);
        int r = config_load(m->config_path, &c, &diag);
        if (r < 0) {
                for (unsigned i = 0; i < diag.count && i < CONFIG_ERRORS_MAX; i++)
                        log_error("%s", diag.text[i]);
                log_error("configuration not reloaded (%s): keeping the running one",
                          diag.count ? "errors above" : strerror(-r));
                return;
        }
        if (strcmp(c->database, m->config->database) != 0) {
                log_warning("database: a new path (%s) takes a restart; still using %s",
                            c->database, m->config->database);
                memcpy(c->database, m->config->database, sizeof(c->database));
        }
        if (strcmp(c->state_directory, m->config->state_directory) != 0) {
                log_warning("state_directory: a new path takes a restart");
                memcpy(c->state_directory, m->config->state_directory, sizeof(c->state_directory));
        }
        bool autodetect_was = m->config->autodetect;
        unsigned rescan_was = m->config->autodetect_rescan;
        /* Both come from config_load(): zeroed, so equal lists compare equal byte for byte. */
        bool lists_changed = memcmp(&c->allow, &m->config->allow, sizeof(c->allow)) != 0 ||
                             memcmp(&c->deny, &m->config->deny, sizeof(c->deny)) != 0;
        /* In place: the bank, the rules runner and every binding hold this pointer. */
        *m->config = *c;
        config_free(c);
        if (m->rules) {
                char why[RULES_RUNNER_WHY_MAX] = "";
                if (rules_runner_reload(m->rules, why, sizeof(why)) < 0)
                        log_error("rules not reloaded, the running set stays: %s", why);
                else
                        log_info("%s", rules_runner_status(m->rules));
        }

        /* Configured paths no longer in the file go; new ones come. */
        for (unsigned i = 0; i < m->n_modems;) {
                struct modem *md = m->modems[i];
                bool keep = modem_origin(md) != MODEM_CONFIGURED;
                for (unsigned k = 0; k < m->config->n_modems && !keep; k++)
                        keep = strcmp(m->config->modems[k].device, modem_path(md)) == 0;
                if (!keep) {
                        log_info("%s: no longer configured", modem_path(md));
                        manager_remove_modem(m, i, MODEM_GONE_UNCONFIGURED);
                } else {
                        i++;
                }
        }
        manager_add_configured(m);
        for (unsigned i = 0; i < m->n_modems; i++) {
                modem_config_changed(m->modems[i]);
                modem_poke(m->modems[i]); /* a FAILED modem may have a new PIN now */
        }
        manager_reload_detected(m, lists_changed);
        if (m->config->autodetect != autodetect_was) {
                m->hotplug = hotplug_free(m->hotplug);
                if (manager_hotplug_start(m) < 0)
                        log_warning("hotplug: cannot restart");
        } else {
                if (lists_changed && hotplug_rescan(m->hotplug) < 0)
                        log_warning("hotplug: cannot enumerate again");
                if (m->config->autodetect_rescan != rescan_was &&
                    hotplug_set_rescan(m->hotplug, (uint64_t)m->config->autodetect_rescan * 1000) <
                            0)
                        log_warning("hotplug: cannot set the rescan interval");
        }
        manager_kick(m);
        host_changed(NULL, m);
        log_info("configuration reloaded");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        if (si->ssi_signo == SIGHUP)
                manager_reload(m);
        else
                manager_stop(m, si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return 0;
}

/* ---- setup ---- */

static int add_timer(struct manager *m, sd_event_source **s, sd_event_time_handler_t cb,
                     const char *name)
{
        int r = sd_event_add_time(m->event, s, CLOCK_MONOTONIC, UINT64_MAX,
                                  MANAGER_TIMER_ACCURACY_US, cb, m);
        if (r < 0)
                return r;
        sd_event_source_set_description(*s, name);
        return sd_event_source_set_enabled(*s, SD_EVENT_OFF);
}

static int manager_open_store(struct manager *m)
{
        char err[STORE_ERRMSG_MAX] = "";
        struct store_options so = { .resend_unknown = m->config->unknown_resend };

        if (mkdir(m->config->state_directory, 0750) < 0 && errno != EEXIST)
                log_warning("%s: %s", m->config->state_directory, strerror(errno));
        int r = store_open(m->config->database, &so, &m->store, err);
        if (r < 0) {
                log_error("%s: %s", m->config->database, err);
                return r;
        }
        unsigned settled = store_settled_at_open(m->store);
        if (settled)
                log_warning("%u part(s) were being sent at the last stop: marked %s", settled,
                            m->config->unknown_resend ? "for resending" : "unknown (not resent)");
        return 0;
}

static int manager_sources(struct manager *m)
{
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if ((r = sd_event_add_signal(m->event, &m->sig_term, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sig_int, SIGINT, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sig_hup, SIGHUP, on_signal, m)) < 0)
                return r;
        if ((r = add_timer(m, &m->poll_timer, on_poll, "poll")) < 0 ||
            (r = add_timer(m, &m->status_timer, on_status, "status")) < 0 ||
            (r = add_timer(m, &m->bank_timer, on_bank_timer, "bank")) < 0 ||
            (r = add_timer(m, &m->inbound_timer, on_inbound_flush, "inbound")) < 0 ||
            (r = add_timer(m, &m->stop_timer, on_stop_check, "stop")) < 0 ||
            (r = add_timer(m, &m->inbox_timer, on_inbox_timer, "inbox")) < 0 ||
            (r = add_timer(m, &m->reports_timer, on_reports_timer, "reports")) < 0)
                return r;
        r = sd_event_add_defer(m->event, &m->kick_defer, on_kick, m);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(m->kick_defer, SD_EVENT_OFF);
        r = sd_event_add_defer(m->event, &m->inbox_defer, on_inbox, m);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(m->inbox_defer, SD_EVENT_OFF);
        uint64_t now = manager_now_ms(m);
        arm_in(m->poll_timer, now + MANAGER_POLL_MS);
        m->status_due_ms = now + MANAGER_STATUS_SOON;
        arm_in(m->status_timer, m->status_due_ms);
        arm_in(m->inbound_timer, now + MANAGER_FLUSH_MS);
        /* WATCHDOG=1 from the loop itself, when systemd asks for it (WatchdogSec=). */
        return sd_event_set_watchdog(m->event, true);
}

int manager_new(struct config *cfg, const char *config_path, bool verbose, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof(*m));
        char sock[PATH_MAX];
        int r;

        if (!m) {
                config_free(cfg);
                return -ENOMEM;
        }
        m->config = cfg;
        m->verbose = verbose;
        if (config_path && !(m->config_path = strdup(config_path))) {
                r = -ENOMEM;
                goto fail;
        }
        if ((r = sd_event_default(&m->event)) < 0)
                goto fail;
        if ((r = manager_open_store(m)) < 0)
                goto fail;
        if ((r = bank_new(m->store, m->config, &m->bank)) < 0)
                goto fail;
        if ((r = manager_sources(m)) < 0)
                goto fail;
        if ((r = wake_socket_path(m->config->state_directory, sock, sizeof(sock))) < 0 ||
            (r = wake_open(m->event, sock, on_wake, m, &m->wake)) < 0) {
                log_error("wake socket in %s: %s", m->config->state_directory, strerror(-r));
                goto fail;
        }
        m->host = (struct modem_host){
                .event = m->event,
                .store = m->store,
                .bank = m->bank,
                .config = m->config,
                .trace = m->verbose,
                .imei_taken = host_imei_taken,
                .changed = host_changed,
                .kick = manager_kick_soon,
                .network_time = host_network_time,
                .inbound = host_inbound,
                .store_full = manager_store_full,
                .hold_report = host_hold_report,
                .userdata = m,
        };
        bank_set_batch_hooks(m->bank, &(struct bank_batch_hooks){
                                              .in_batch = reports_match_all,
                                              .committed = reports_settle_all,
                                              .userdata = m,
                                      });
        if ((r = staff_new(&m->staff)) < 0)
                goto fail;
        r = rules_runner_new(
                m->event, m->store, m->config,
                &(struct rules_runner_opts){ .on_queued = rules_queued, .userdata = m }, &m->rules);
        if (r < 0) {
                log_error("rules: %s", strerror(-r));
                goto fail;
        }
        log_info("%s", rules_runner_status(m->rules));
        struct upload_config uc;
        upload_config_from(m->config, &uc);
        if ((r = upload_new(m->event, m->store, &uc, &m->upload)) < 0) {
                log_error("upload: %s", strerror(-r));
                goto fail;
        }
        if ((r = manager_hotplug_start(m)) < 0)
                goto fail;
        manager_add_configured(m);
        manager_scan_globs(m);
        sd_notify(0, "READY=1\nSTATUS=starting the modems");
        log_info("started: database %s, %u modem port(s) configured, autodetect %s",
                 m->config->database, m->n_modems, m->config->autodetect ? "on" : "off");
        manager_kick_soon(m);
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        if (m->store && m->bank && m->reports_timer)
                reports_flush(m);
        while (m->n_modems > 0)
                manager_remove_modem(m, m->n_modems - 1, MODEM_GONE_STOPPED);
        m->hotplug = hotplug_free(m->hotplug);
        m->wake = wake_close(m->wake);
        sd_event_source **sources[] = {
                &m->sig_term,     &m->sig_int,     &m->sig_hup,     &m->poll_timer,
                &m->status_timer, &m->bank_timer,  &m->kick_defer,  &m->inbound_timer,
                &m->stop_timer,   &m->inbox_defer, &m->inbox_timer, &m->reports_timer,
        };
        for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
                *sources[i] = sd_event_source_disable_unref(*sources[i]);
        if (m->store && m->bank) /* a last snapshot says the daemon is gone */
                store_setting_set(m->store, MANAGER_STATUS_KEY, "{\"pid\":0}");
        m->upload = upload_free(m->upload);
        m->rules = rules_runner_free(m->rules);
        m->staff = staff_free(m->staff);
        m->bank = bank_free(m->bank);
        m->store = store_close(m->store);
        m->event = sd_event_unref(m->event);
        config_free(m->config);
        free(m->config_path);
        free(m);
        return NULL;
}

int manager_run(struct manager *m)
{
        int r = sd_event_loop(m->event);
        if (r < 0)
                log_error("event loop: %s", strerror(-r));
        else
                log_info("stopped");
        return r;
}
