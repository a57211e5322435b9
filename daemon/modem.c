/* The modem binding: a serial port and its sd-event sources driving the modem core. */
#include "daemon/modem-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "at/quirks.h"
#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/serial.h"
#include "daemon/store.h"

#define MODEM_TIMER_ACCURACY_US 1000
/* The core's deadline is a command's time-out (seconds) or a pause after an escape: firing up
 * to 250 ms late costs nothing, and lets sd-event keep one wake-up time for a run of commands
 * instead of re-arming its timerfd for every command (a syscall per command at full speed). */
#define MODEM_CORE_TIMER_ACCURACY_US 250000

static void modem_close_port(struct modem *md);
static int modem_open(struct modem *md);
static void reject_if_refused(struct modem *md);

uint64_t modem_now_ms(const struct modem *md)
{
        uint64_t usec = 0;
        sd_event_now(md->host.event, CLOCK_MONOTONIC, &usec);
        return usec / 1000;
}

bool modem_node_changed(const struct modem *md)
{
        struct hotplug_node now;
        if (md->life != MODEM_LIFE_REJECTED)
                return false;
        return !md->have_rejected_node || hotplug_node_get(md->path, &now) < 0 ||
               !hotplug_node_same(&now, &md->rejected_node);
}

const char *modem_path(const struct modem *md)
{
        return md->path;
}
const char *modem_name(const struct modem *md)
{
        return md->name;
}
const char *modem_imei(const struct modem *md)
{
        return md->imei;
}
int64_t modem_store_id(const struct modem *md)
{
        return md->store_id;
}
enum modem_origin modem_origin(const struct modem *md)
{
        return md->origin;
}
enum modem_life modem_life(const struct modem *md)
{
        return md->life;
}
const struct at_modem *modem_core(const struct modem *md)
{
        return md->core;
}
const char *modem_health(struct modem *md)
{
        struct bank_modem_info bi;
        struct bank_time bt;

        if (md->in_bank && md->host.bank) {
                bank_time_now(&bt);
                if (bank_modem_info(md->host.bank, md, &bt, &bi) == 0 && bi.no_credit_until) {
                        struct tm tm;
                        time_t t = (time_t)bi.no_credit_until;
                        localtime_r(&t, &tm);
                        snprintf(md->credit_text, sizeof(md->credit_text),
                                 "no credit: the network refuses this SIM's messages (+CMS 21); "
                                 "top it up. Other modems send meanwhile; tried again at "
                                 "%02d:%02d or tomorrow",
                                 tm.tm_hour, tm.tm_min);
                        return md->credit_text;
                }
        }
        return md->health;
}

const char *modem_state_word(const struct modem *md)
{
        switch (md->life) {
        case MODEM_LIFE_CLOSED:
                return "closed";
        case MODEM_LIFE_UNPLUGGED:
                return "unplugged";
        case MODEM_LIFE_REJECTED:
                return "rejected";
        case MODEM_LIFE_OPEN:
                break;
        }
        return md->core ? at_modem_state_name(at_modem_state(md->core)) : "closed";
}

bool modem_idle(const struct modem *md)
{
        return !md->core || at_modem_idle(md->core);
}

/* Mirrors the binding's state in the store (puentectl status reads it there). */
static void modem_mirror(struct modem *md)
{
        if (md->store_id > 0 && store_modem_set_state(md->host.store, md->store_id,
                                                      modem_state_word(md), md->health) < 0)
                log_modem(LOG_WARNING, md->name, "store: %s", store_errmsg(md->host.store));
        if (md->host.changed)
                md->host.changed(md, md->host.userdata);
}

void modem_bank_sync(struct modem *md)
{
        if (!md->in_bank)
                return;
        bool ready = false;
        if (md->life == MODEM_LIFE_OPEN && md->core && !md->draining && !md->held) {
                enum at_modem_state st = at_modem_state(md->core);
                ready = st == AT_MODEM_READY || st == AT_MODEM_SENDING;
        }
        if (ready == md->bank_ready)
                return;
        md->bank_ready = ready;
        bank_modem_ready(md->host.bank, md, ready);
        if (ready && md->host.kick)
                md->host.kick(md->host.userdata);
}

/* -v: the bytes on the line, control characters escaped, for transcripts of field
 * problems. */
static void trace(const struct modem *md, const char *dir, const uint8_t *buf, size_t n)
{
        char out[4 * MODEM_TRACE_MAX + 1];
        size_t k = 0;
        if (!md->host.trace)
                return;
        for (size_t i = 0; i < n && i < MODEM_TRACE_MAX; i++) {
                uint8_t c = buf[i];
                if (c == '\r')
                        k += (size_t)sprintf(out + k, "\\r");
                else if (c == '\n')
                        k += (size_t)sprintf(out + k, "\\n");
                else if (c < 0x20 || c >= 0x7f || c == '\\')
                        k += (size_t)sprintf(out + k, "\\x%02x", c);
                else
                        out[k++] = (char)c;
        }
        out[k] = '\0';
        log_modem(LOG_DEBUG, md->name, "%s %s%s", dir, out, n > MODEM_TRACE_MAX ? "..." : "");
}

static int on_hold(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct modem *md = userdata;
        md->held = false;
        modem_bank_sync(md);
        return 0;
}

void modem_hold(struct modem *md)
{
        md->held = true;
        modem_bank_sync(md);
        sd_event_source_set_time(md->hold, (modem_now_ms(md) + MODEM_FAULT_HOLD_MS) * 1000);
        sd_event_source_set_enabled(md->hold, SD_EVENT_ONESHOT);
}

static void arm_timer(struct modem *md)
{
        if (md->settling)
                return; /* the settle time-out is armed */
        uint64_t at = md->core ? at_modem_next_deadline(md->core) : UINT64_MAX;
        if (at == UINT64_MAX) {
                sd_event_source_set_enabled(md->timer, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(md->timer, at * 1000);
        sd_event_source_set_enabled(md->timer, SD_EVENT_ONESHOT);
}

void modem_flush(struct modem *md)
{
        if (!md->core || md->settling)
                return;
        const uint8_t *buf;
        size_t n;
        bool blocked = false;
        while (md->port && md->life == MODEM_LIFE_OPEN && (n = at_modem_output(md->core, &buf))) {
                ssize_t w = write(serial_fd(md->port), buf, n);
                if (w > 0)
                        trace(md, "->", buf, (size_t)w);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                blocked = true;
                                break;
                        }
                        modem_defer(md, MODEM_ACT_UNPLUG, strerror(errno));
                        break;
                }
                at_modem_output_done(md->core, (size_t)w);
        }
        if (md->io)
                sd_event_source_set_io_events(md->io, blocked ? EPOLLIN | EPOLLOUT : EPOLLIN);
        arm_timer(md);
}

static int on_defer(sd_event_source *s, void *userdata);

void modem_defer(struct modem *md, enum modem_action a, const char *why)
{
        if (md->action != MODEM_ACT_NONE && !(a == MODEM_ACT_UNPLUG))
                return;
        md->action = a;
        snprintf(md->action_why, sizeof(md->action_why), "%s", why ? why : "");
        /* Stop reading a dead fd meanwhile: a hung-up tty is readable for ever. */
        if (a == MODEM_ACT_UNPLUG && md->io)
                sd_event_source_set_enabled(md->io, SD_EVENT_OFF);
        sd_event_source_set_enabled(md->defer, SD_EVENT_ONESHOT);
}

static void arm_retry(struct modem *md, uint64_t after_ms)
{
        sd_event_source_set_time(md->retry, (modem_now_ms(md) + after_ms) * 1000);
        sd_event_source_set_enabled(md->retry, SD_EVENT_ONESHOT);
}

/* The port is gone: the core goes (its send in flight, if its PDU was written, is reported
 * UNKNOWN to the bank), the modem leaves the bank, and the path is tried again later. */
static void modem_unplugged(struct modem *md, const char *why)
{
        if (md->life == MODEM_LIFE_OPEN)
                log_modem(LOG_WARNING, md->name, "%s: unplugged (%s)", md->path, why);
        modem_close_port(md);
        md->life = MODEM_LIFE_UNPLUGGED;
        snprintf(md->health, sizeof(md->health), "unplugged: %.100s", why);
        modem_mirror(md);
        if (md->origin == MODEM_DETECTED) {
                /* Modems are known by IMEI, never by tty: what comes back behind this path
                 * (ttyUSB numbers are handed out again, in another order) is probed as a new
                 * port and finds its store row, counters and queue by IMEI. */
                md->store_id = 0;
                md->imei[0] = md->iccid[0] = '\0';
                md->imei_tries = md->silent_probes = 0;
        }
        arm_retry(md, MODEM_REOPEN_MS);
}

static void modem_reopen(struct modem *md)
{
        serial_close(md->port);
        md->port = NULL;
        md->io = sd_event_source_disable_unref(md->io);
        if (modem_open(md) < 0)
                return; /* modem_open() marked it unplugged */
}

static int on_defer(sd_event_source *s, void *userdata)
{
        struct modem *md = userdata;
        enum modem_action a = md->action;
        char why[sizeof(md->action_why)];

        memcpy(why, md->action_why, sizeof(why));
        md->action = MODEM_ACT_NONE;
        switch (a) {
        case MODEM_ACT_NONE:
                break;
        case MODEM_ACT_UNPLUG:
                modem_unplugged(md, why);
                break;
        case MODEM_ACT_REOPEN:
                log_modem(LOG_NOTICE, md->name, "%s: reopening the port (recovery)", md->path);
                modem_reopen(md);
                break;
        case MODEM_ACT_RESTART:
                if (md->core) {
                        log_modem(LOG_NOTICE, md->name, "probing again: %s", why);
                        at_modem_restart(md->core, modem_now_ms(md));
                        modem_flush(md);
                }
                break;
        case MODEM_ACT_REJECT:
                if (md->refused) { /* a node the lists let in later starts afresh */
                        md->refused = false;
                        md->draining = false;
                }
                log_modem(LOG_NOTICE, md->name, "%s: not used: %s", md->path, why);
                md->have_rejected_node = hotplug_node_get(md->path, &md->rejected_node) == 0;
                modem_close_port(md);
                md->life = MODEM_LIFE_REJECTED;
                snprintf(md->health, sizeof(md->health), "%s", why);
                modem_mirror(md); /* a row it had (refused after a reload) says so */
                if (md->host.changed)
                        md->host.changed(md, md->host.userdata);
                break;
        }
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct modem *md = userdata;
        uint8_t buf[MODEM_READ_MAX];

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n > 0 && md->settling) {
                        return 0; /* an old session's leftovers, see modem_open() */
                } else if (n > 0) {
                        trace(md, "<-", buf, (size_t)n);
                        at_modem_feed(md->core, buf, (size_t)n, modem_now_ms(md));
                } else if (n == 0) {
                        modem_defer(md, MODEM_ACT_UNPLUG, "end of file");
                        return 0;
                } else if (errno != EAGAIN && errno != EINTR) {
                        /* EIO (a USB tty whose device went, a pty whose master closed),
                         * ENXIO, ENODEV: the modem is gone. */
                        modem_defer(md, MODEM_ACT_UNPLUG, strerror(errno));
                        return 0;
                }
        }
        modem_flush(md);
        reject_if_refused(md);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct modem *md = userdata;
        if (md->settling) { /* the port is quiet now: the core starts (or restarts) */
                md->settling = false;
                (void)tcflush(serial_fd(md->port), TCIFLUSH);
                if (md->core_started) {
                        at_modem_reopened(md->core, modem_now_ms(md));
                } else {
                        md->core_started = true;
                        at_modem_start(md->core, modem_now_ms(md));
                }
        } else if (md->core) {
                at_modem_tick(md->core, modem_now_ms(md));
        }
        modem_flush(md);
        reject_if_refused(md);
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct modem *md = userdata;
        if (md->life == MODEM_LIFE_UNPLUGGED) {
                if (modem_open(md) < 0)
                        arm_retry(md, MODEM_REOPEN_MS);
                return 0;
        }
        if (md->life == MODEM_LIFE_OPEN && md->core &&
            at_modem_state(md->core) == AT_MODEM_FAILED) {
                log_modem(LOG_INFO, md->name, "starting over after failure");
                at_modem_restart(md->core, modem_now_ms(md));
                modem_flush(md);
        }
        return 0;
}

/* Opens the path and starts a fresh core (or restarts the kept one after a ladder REOPEN).
 * A failure leaves the binding unplugged with the retry armed. */
static int modem_open(struct modem *md)
{
        const struct config *cfg = md->host.config;
        const struct config_modem *cm = config_modem_find(cfg, md->path, NULL, NULL);
        struct serial_params sp = {
                .baud = cm ? cm->baud : CONFIG_DEFAULT_BAUD,
                .rtscts = cm && cm->flow == CONFIG_FLOW_RTSCTS,
        };
        char err[SERIAL_ERR_MAX];
        int r = serial_open(md->path, &sp, &md->port, err, sizeof(err));
        if (r < 0) {
                if (md->life != MODEM_LIFE_UNPLUGGED) {
                        if (md->core)
                                modem_close_port(md);
                        md->life = MODEM_LIFE_UNPLUGGED;
                        log_modem(r == -ENOENT ? LOG_INFO : LOG_WARNING, md->name,
                                  "cannot open: %s", err);
                        snprintf(md->health, sizeof(md->health), "%.120s",
                                 r == -ENOENT ? "unplugged: no such device" : err);
                        modem_mirror(md);
                }
                arm_retry(md, MODEM_REOPEN_MS);
                return r;
        }
        /* A previous owner killed between AT+CMGS and its PDU leaves the modem waiting for
         * PDU text: everything we write would be swallowed. ESC ends that (27.005 3.5.1);
         * whatever it and any late answer print is read and dropped during the settle
         * time (on_io), so it is not taken for the answer to our first command. */
        (void)tcflush(serial_fd(md->port), TCIOFLUSH);
        if (write(serial_fd(md->port), "\x1b", 1) < 0 && errno != EAGAIN) {
                r = -errno;
                goto fail;
        }
        md->settling = true;
        const struct serial_info *si = serial_get_info(md->port);
        if (si->usb && !md->quirks) {
                const struct at_quirk_usb *q = at_quirks_by_usb(si->vid, si->pid);
                md->quirks = q ? q->quirks : 0;
        }
        r = sd_event_add_io(md->host.event, &md->io, serial_fd(md->port), EPOLLIN, on_io, md);
        if (r < 0)
                goto fail;
        if (md->core) { /* ladder REOPEN: the same core carries on */
                md->life = MODEM_LIFE_OPEN;
        } else {
                struct at_modem_config mc = {
                        .quirks = md->quirks,
                        .name = md->name,
                };
                /* send_timeout (docs/puente.conf.md). The identity is not known yet: the
                 * section found by the device path above, else the top-level value. */
                unsigned secs = cm ? cm->send_timeout : cfg->send_timeout;
                mc.send_timeout_ms = secs * 1000u;
                r = at_modem_new(&mc, &modem_core_callbacks, md, &md->core);
                if (r < 0)
                        goto fail;
                md->life = MODEM_LIFE_OPEN;
                log_modem(LOG_INFO, md->name, "%s opened (%s)", md->path,
                          si->real_path[0] ? si->real_path : md->path);
        }
        md->health[0] = '\0';
        sd_event_source_set_time(md->timer, (modem_now_ms(md) + MODEM_SETTLE_MS) * 1000);
        sd_event_source_set_enabled(md->timer, SD_EVENT_ONESHOT);
        modem_mirror(md);
        return 0;
fail:
        log_modem(LOG_ERR, md->name, "%s: cannot watch the port: %s", md->path, strerror(-r));
        md->io = sd_event_source_disable_unref(md->io);
        md->port = serial_close(md->port);
        md->life = MODEM_LIFE_UNPLUGGED;
        arm_retry(md, MODEM_REOPEN_MS);
        return r;
}

/* Frees the core first (it reports a send in flight), then leaves the bank, then closes. */
static void modem_close_port(struct modem *md)
{
        if (md->in_bank)
                bank_modem_ready(md->host.bank, md, false);
        md->bank_ready = false;
        bool draining = md->draining;
        md->draining = true;     /* the bank may kick while the core goes: refuse sends */
        if (md->n_reports > 0) { /* held reports: into the store now, each its own commit */
                (void)modem_reports_match(md);
                modem_reports_settle(md, true);
        }
        md->core = at_modem_free(md->core);
        md->core_started = false;
        md->settling = false;
        md->draining = draining;
        if (md->in_bank) {
                bank_modem_remove(md->host.bank, md);
                md->in_bank = false;
        }
        md->io = sd_event_source_disable_unref(md->io);
        md->port = serial_close(md->port);
        sd_event_source_set_enabled(md->timer, SD_EVENT_OFF);
        if (md->life == MODEM_LIFE_OPEN)
                md->life = MODEM_LIFE_CLOSED;
}

int modem_new(const struct modem_host *host, const char *path, enum modem_origin origin,
              unsigned quirks, struct modem **ret)
{
        if (!host || !path || !*path || strlen(path) >= PATH_MAX)
                return -EINVAL;
        struct modem *md = calloc(1, sizeof(*md));
        if (!md)
                return -ENOMEM;
        md->host = *host;
        snprintf(md->path, sizeof(md->path), "%s", path);
        const struct config_modem *cm = config_modem_find(host->config, path, NULL, NULL);
        const char *name = cm && cm->key == CONFIG_KEY_NAME ? cm->name : path;
        size_t len = strlen(name);
        /* A long path keeps its end: the interfaces of one USB modem differ only there
         * (/dev/serial/by-id/usb-HUAWEI_..._0123456789-if02-port0). */
        if (len < MODEM_NAME_MAX)
                snprintf(md->name, sizeof(md->name), "%.*s", MODEM_NAME_MAX - 1, name);
        else
                snprintf(md->name, sizeof(md->name), "...%.*s", MODEM_NAME_MAX - 4,
                         name + len - (MODEM_NAME_MAX - 4));
        md->origin = origin;
        md->quirks = quirks;
        md->life = MODEM_LIFE_CLOSED;
        int r = sd_event_add_time(host->event, &md->timer, CLOCK_MONOTONIC, UINT64_MAX,
                                  MODEM_CORE_TIMER_ACCURACY_US, on_timer, md);
        if (r >= 0)
                r = sd_event_add_time(host->event, &md->retry, CLOCK_MONOTONIC, UINT64_MAX,
                                      MODEM_TIMER_ACCURACY_US, on_retry, md);
        if (r >= 0)
                r = sd_event_add_time(host->event, &md->hold, CLOCK_MONOTONIC, UINT64_MAX,
                                      MODEM_TIMER_ACCURACY_US, on_hold, md);
        if (r >= 0)
                r = sd_event_add_defer(host->event, &md->defer, on_defer, md);
        if (r < 0) {
                modem_free(md, MODEM_GONE_STOPPED); /* no store row yet: nothing written */
                return r;
        }
        sd_event_source_set_enabled(md->timer, SD_EVENT_OFF);
        sd_event_source_set_enabled(md->retry, SD_EVENT_OFF);
        sd_event_source_set_enabled(md->defer, SD_EVENT_OFF);
        sd_event_source_set_enabled(md->hold, SD_EVENT_OFF);
        (void)modem_open(md); /* a missing path is "unplugged", retried */
        *ret = md;
        return 0;
}

const char *modem_gone_name(enum modem_gone why)
{
        switch (why) {
        case MODEM_GONE_STOPPED:
                return "daemon stopped";
        case MODEM_GONE_UNCONFIGURED:
                return "removed from configuration";
        case MODEM_GONE_REFUSED:
                return "refused by allow/deny lists";
        case MODEM_GONE_AUTODETECT_OFF:
                return "autodetect turned off";
        case MODEM_GONE_UNPLUGGED:
                return "unplugged";
        }
        return "let go";
}

struct modem *modem_free(struct modem *md, enum modem_gone why)
{
        if (!md)
                return NULL;
        modem_close_port(md);
        if (md->store_id > 0) {
                md->life = MODEM_LIFE_CLOSED;
                store_modem_set_state(md->host.store, md->store_id, "closed", modem_gone_name(why));
        }
        md->timer = sd_event_source_disable_unref(md->timer);
        md->retry = sd_event_source_disable_unref(md->retry);
        md->defer = sd_event_source_disable_unref(md->defer);
        md->hold = sd_event_source_disable_unref(md->hold);
        free(md);
        return NULL;
}

void modem_drain(struct modem *md)
{
        md->draining = true;
        modem_bank_sync(md);
        if (md->in_bank && md->bank_ready) {
                bank_modem_ready(md->host.bank, md, false);
                md->bank_ready = false;
        }
        sd_event_source_set_enabled(md->retry, SD_EVENT_OFF);
}

void modem_poke(struct modem *md)
{
        if (md->life == MODEM_LIFE_UNPLUGGED)
                arm_retry(md, 0);
        else if (md->life == MODEM_LIFE_OPEN && md->core &&
                 at_modem_state(md->core) == AT_MODEM_FAILED)
                arm_retry(md, 0);
}

/* A detected modem the reloaded lists refuse leaves once no AT command is in flight, so a
 * send under way ends with its answer instead of in doubt. */
static void reject_if_refused(struct modem *md)
{
        if (md->refused && md->action == MODEM_ACT_NONE && modem_idle(md))
                modem_defer(md, MODEM_ACT_REJECT, "refused by the reloaded allow/deny lists");
}

static bool lists_refuse(struct modem *md)
{
        if (md->origin != MODEM_DETECTED || md->life != MODEM_LIFE_OPEN || !md->imei[0])
                return false;
        const struct serial_info *si = md->port ? serial_get_info(md->port) : NULL;
        return !config_autodetect_allows(md->host.config, si && si->usb ? si->vid : 0,
                                         si && si->usb ? si->pid : 0, md->imei,
                                         md->iccid[0] ? md->iccid : NULL);
}

void modem_config_changed(struct modem *md)
{
        if (lists_refuse(md)) {
                log_modem(LOG_NOTICE, md->name, "%s: the reloaded allow/deny lists refuse it",
                          md->path);
                md->refused = true;
                md->draining = true; /* no new sends: the bank sees it not ready */
                modem_bank_sync(md);
                reject_if_refused(md);
                return;
        }
        /* The bank has no call to change limits in place: the modem leaves and re-enters it
         * at its next READY, when no send is in flight. */
        if (!md->in_bank || !md->core)
                return;
        md->rejoin = true;
        if (at_modem_state(md->core) == AT_MODEM_READY) {
                modem_join_bank(md);
                modem_bank_sync(md);
        }
}
