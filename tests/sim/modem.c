/* A simulated modem's life: its pseudo-terminal and symlink, boot, reboot and unplug,
 * registration and clock, and the messages the network holds for it until it can take them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

/* ---- life cycle ---- */

void sim_modem_reset_settings(struct sim_modem *m)
{
        m->echo = true;
        m->verbose = true;
        m->quiet = false;
        m->cmee = 0;
        m->cmgf = m->dialect->cmgf_default;
        m->csms = 0;
        m->cmms = 0;
        m->creg_n = m->cgreg_n = m->cereg_n = 0;
        memset(m->cnmi, 0, sizeof(m->cnmi));
        snprintf(m->cscs, sizeof(m->cscs), "IRA");
        struct sim_store *def = (m->dialect->flags & SIM_DF_ME_ONLY) ? &m->me : &m->sm;
        m->mem[0] = m->mem[1] = m->mem[2] = def;
        m->curc = (m->dialect->flags & SIM_DF_CURC_NOISE) != 0;
}

static void emit_boot_urcs(struct sim_modem *m)
{
        if (m->dialect->flags & SIM_DF_CURC_NOISE)
                sim_modem_urc(m, "^BOOT:12345678,0,0,0,75");
        if (m->dialect->flags & SIM_DF_READY_URCS) {
                sim_modem_urc(m, "RDY");
                sim_modem_urc(m, "+CFUN: 1");
                sim_modem_urc(m, "+CPIN: %s",
                              !m->sim_present ? "NOT INSERTED"
                              : m->pin_ok     ? "READY"
                                              : "SIM PIN");
                sim_modem_urc(m, "Call Ready");
                if (sim_modem_registered(m))
                        sim_modem_urc(m, "SMS Ready");
        }
}

static int on_noise(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_modem *m = userdata;
        if (m->curc && !m->hung && m->state == MODEM_READY) {
                sim_modem_urc(m, "^RSSI:%d", m->csq);
                sim_modem_urc(m, "^MODE:5,4");
                sim_modem_urc(m, "^BOOT:12345678,0,0,0,75");
        }
        /* time sources are one-shot: re-arm for the next period */
        sd_event_source_set_time_relative(s, SIM_NOISE_MS * 1000ULL);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static int on_boot(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_modem *m = userdata;
        m->boot_timer = sd_event_source_disable_unref(m->boot_timer);
        m->state = MODEM_READY;
        m->boot_us = sim_now_us();
        m->registered_reported = false;
        log_modem(LOG_INFO, m->name, "ready on %s (%s)", m->link, m->dialect->name);
        emit_boot_urcs(m);
        sim_modem_registration_changed(m);
        if (m->dialect->flags & SIM_DF_CURC_NOISE) {
                sd_event_add_time_relative(m->net->event, &m->noise_timer, CLOCK_MONOTONIC,
                                           SIM_NOISE_MS * 1000ULL, 0, on_noise, m);
                on_noise(m->noise_timer, 0, m);
        }
        sim_modem_pump(m);
        return 0;
}

static void cancel_timers(struct sim_modem *m)
{
        m->boot_timer = sd_event_source_disable_unref(m->boot_timer);
        m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
        m->noise_timer = sd_event_source_disable_unref(m->noise_timer);
        m->cnma_timer = sd_event_source_disable_unref(m->cnma_timer);
}

/* Drops the command in progress and everything typed, as a power cycle does. */
static void drop_session(struct sim_modem *m)
{
        cancel_timers(m);
        if (m->cmt_unacked) /* the network keeps what the modem never acknowledged */
                sim_modem_requeue_unacked(m);
        m->busy = false;
        m->input = INPUT_COMMAND;
        m->line_len = 0;
        m->pdu_hex_len = 0;
        m->inq.len = 0;
        m->urcq.len = 0;
        m->clock_set = false;
}

static int start_boot(struct sim_modem *m, int boot_ms)
{
        m->state = MODEM_BOOTING;
        sim_modem_reset_settings(m);
        m->pin_ok = m->pin[0] == '\0';
        m->cfun = 1;
        return sd_event_add_time_relative(m->net->event, &m->boot_timer, CLOCK_MONOTONIC,
                                          (uint64_t)boot_ms * 1000ULL, 0, on_boot, m);
}

void sim_modem_reboot(struct sim_modem *m, int boot_ms)
{
        if (m->state == MODEM_UNPLUGGED)
                return;
        drop_session(m);
        m->out.len = 0;
        start_boot(m, boot_ms);
}

int sim_modem_plug(struct sim_modem *m)
{
        if (m->state != MODEM_UNPLUGGED)
                return -EALREADY;
        int r = sim_port_link(m->link, sizeof(m->link), m->path, m->renames,
                              m->n_ports ? (int)m->at_port : -1);
        if (r < 0)
                return r;
        /* Holding the slave open keeps the master readable when no host is attached and
         * keeps the line settings across the host's reopenings. */
        r = sim_pty_open(&m->master_fd, &m->slave_fd, m->pts, sizeof(m->pts));
        if (r < 0)
                return r;
        r = sim_link_make(m->pts, m->link);
        if (r < 0)
                goto fail;
        r = sd_event_add_io(m->net->event, &m->io, m->master_fd, EPOLLIN, sim_modem_on_io, m);
        if (r < 0)
                goto fail;
        r = sim_ports_plug(m);
        if (r < 0)
                goto fail;
        r = start_boot(m, m->net->boot_ms);
        if (r < 0)
                goto fail;
        log_modem(LOG_INFO, m->name, "plugged: %s -> %s", m->link, m->pts);
        return 0;
fail:
        sim_ports_unplug(m);
        m->io = sd_event_source_disable_unref(m->io);
        close(m->slave_fd);
        close(m->master_fd);
        m->master_fd = m->slave_fd = -1;
        unlink(m->link);
        m->state = MODEM_UNPLUGGED;
        return r;
}

int sim_modem_replug_renamed(struct sim_modem *m)
{
        int held[SIM_PORTS_MAX + 1];
        size_t n = 0;
        /* The old ptys stay allocated until the new ones exist, so the kernel cannot hand
         * out the same numbers: the host sees new nodes, as after a USB reset, when ttyUSB0
         * comes back as ttyUSB3. The host sees the hang-up once they are closed. */
        if (m->state != MODEM_UNPLUGGED)
                n = sim_ports_hold(m, held);
        sim_modem_unplug(m);
        m->renames++;
        int r = sim_modem_plug(m);
        for (size_t i = 0; i < n; i++)
                close(held[i]);
        return r;
}

void sim_modem_unplug(struct sim_modem *m)
{
        if (m->state == MODEM_UNPLUGGED)
                return;
        drop_session(m);
        sim_ports_unplug(m);
        m->io = sd_event_source_disable_unref(m->io);
        if (m->master_fd >= 0)
                close(m->master_fd);
        if (m->slave_fd >= 0)
                close(m->slave_fd);
        m->master_fd = m->slave_fd = -1;
        m->out.len = 0;
        m->state = MODEM_UNPLUGGED;
        unlink(m->link);
        log_modem(LOG_INFO, m->name, "unplugged");
}

int sim_modem_garbage(struct sim_modem *m, size_t n)
{
        if (m->state == MODEM_UNPLUGGED)
                return -ENODEV;
        char buf[256];
        while (n > 0) {
                size_t k = n < sizeof(buf) ? n : sizeof(buf);
                for (size_t i = 0; i < k; i++)
                        buf[i] = (char)(rand() & 0xff);
                sim_modem_write(m, buf, k);
                n -= k;
        }
        return 0;
}

/* ---- registration and clock ---- */

bool sim_modem_registered(const struct sim_modem *m)
{
        return m->state == MODEM_READY && m->sim_present && m->pin_ok && m->cfun == 1;
}

void sim_modem_registration_changed(struct sim_modem *m)
{
        bool reg = sim_modem_registered(m);
        if (reg == m->registered_reported)
                return;
        m->registered_reported = reg;
        int stat = reg ? 1 : 0;
        if (m->creg_n > 0)
                sim_modem_urc(m, "+CREG: %d", stat);
        if (m->cgreg_n > 0)
                sim_modem_urc(m, "+CGREG: %d", stat);
        if (m->cereg_n > 0)
                sim_modem_urc(m, "+CEREG: %d", stat);
        /* NITZ (TS 24.008 9.2.15a) arrives on registration; CTZU=1 lets it set the clock. */
        if (reg && m->ctzu && m->nettime != NETTIME_ABSENT) {
                m->clock_set = true;
                m->clock_offset_us =
                        m->nettime == NETTIME_WRONG ? (int64_t)m->net->nettime_skew_s * 1000000 : 0;
        }
        if (reg)
                sim_modem_pump(m);
}

/* The modem's real-time clock: the network's time once NITZ or AT+CCLK set it, else the
 * firmware's default epoch (2000-01-01) plus the time since boot. */
void sim_modem_clock(const struct sim_modem *m, struct sms_time *ret, bool *ret_valid)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = ts.tv_sec;
        if (m->clock_set) {
                sim_time_from_epoch(now + m->clock_offset_us / 1000000, m->net->tz_quarters, ret);
                *ret_valid = true;
                return;
        }
        int64_t up = (int64_t)((sim_now_us() - m->boot_us) / 1000000);
        sim_time_from_epoch(946684800 + up, 0, ret);
        *ret_valid = false;
}

int sim_modem_latency_ms(const struct sim_modem *m)
{
        int lo = m->latency_min_ms >= 0 ? m->latency_min_ms : m->net->latency_min_ms;
        int hi = m->latency_min_ms >= 0 ? m->latency_max_ms : m->net->latency_max_ms;
        if (hi <= lo)
                return lo;
        return lo + rand() % (hi - lo + 1);
}

int sim_modem_index(const struct sim_modem *m, int slot)
{
        return (m->dialect->flags & SIM_DF_INDEX0) ? slot : slot + 1;
}

int sim_modem_slot(const struct sim_modem *m, int index)
{
        return (m->dialect->flags & SIM_DF_INDEX0) ? index : index - 1;
}

struct sim_modem *sim_modem_find(struct sim_net *net, const char *name)
{
        for (size_t i = 0; i < net->n_modems; i++)
                if (strcmp(net->modems[i].name, name) == 0)
                        return &net->modems[i];
        return NULL;
}

/* ---- what the network holds for the modem ---- */

int sim_modem_queue(struct sim_modem *m, const struct sms_part *part, bool status_report)
{
        if (!m->inbound) {
                m->inbound = calloc(SIM_INBOUND_MAX, sizeof(*m->inbound));
                if (!m->inbound)
                        return -ENOMEM;
        }
        if (m->inbound_len >= SIM_INBOUND_MAX)
                return -ENOBUFS;
        struct sim_inbound *in = &m->inbound[(m->inbound_head + m->inbound_len) % SIM_INBOUND_MAX];
        memcpy(in->pdu, part->pdu, part->len);
        in->len = part->len;
        in->tpdu_len = part->tpdu_len;
        in->status_report = status_report;
        m->inbound_len++;
        return 0;
}

void sim_modem_requeue_unacked(struct sim_modem *m)
{
        if (!m->cmt_unacked)
                return;
        m->cmt_unacked = false;
        m->cnma_timer = sd_event_source_disable_unref(m->cnma_timer);
        if (m->inbound_len >= SIM_INBOUND_MAX)
                return;
        m->inbound_head = (m->inbound_head + SIM_INBOUND_MAX - 1) % SIM_INBOUND_MAX;
        m->inbound[m->inbound_head] = m->unacked;
        m->inbound_len++;
}

static int on_cnma_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_modem *m = userdata;
        m->cnma_timer = sd_event_source_disable_unref(m->cnma_timer);
        sim_cmd_cnma_timeout(m);
        return 0;
}

static void show_direct(struct sim_modem *m, const struct sim_inbound *in)
{
        char hex[SIM_PDU_HEX_MAX];
        sms_hex_encode(in->pdu, in->len, hex);
        if (in->status_report)
                sim_modem_urc(m, "+CDS: %zu\r\n%s", in->tpdu_len, hex);
        else
                sim_modem_urc(m, "+CMT: ,%zu\r\n%s", in->tpdu_len, hex);
        if (m->csms == 1) { /* TS 27.005 3.4.1: phase 2+ wants +CNMA for each */
                m->cmt_unacked = true;
                m->unacked = *in;
                sd_event_add_time_relative(m->net->event, &m->cnma_timer, CLOCK_MONOTONIC,
                                           (uint64_t)m->net->cnma_timeout_ms * 1000ULL, 0,
                                           on_cnma_timeout, m);
        }
}

/* Returns false when the part has to wait (storage full, an ack outstanding). */
static bool deliver_one(struct sim_modem *m, const struct sim_inbound *in)
{
        int mode = m->cnmi[0], mt = m->cnmi[1], ds = m->cnmi[3];
        bool direct = in->status_report ? ds == 1 : mt == 2;
        if (in->status_report && ds == 0)
                return true; /* not asked for: the network drops it */
        if (direct && mode != 0) {
                if (m->cmt_unacked)
                        return false;
                show_direct(m, in);
                return true;
        }
        struct sim_store *st = m->mem[2];
        int slot = sim_store_put(st, in->pdu, in->len, in->tpdu_len, STAT_REC_UNREAD,
                                 in->status_report);
        if (slot < 0)
                return false; /* TS 24.011: memory capacity exceeded, the SC retries */
        int idx = sim_modem_index(m, slot);
        if (mode != 0 && in->status_report)
                sim_modem_urc(m, "+CDSI: \"%s\",%d", st->name, idx);
        else if (mode != 0 && (mt == 1 || mt == 3))
                sim_modem_urc(m, "+CMTI: \"%s\",%d", st->name, idx);
        return true;
}

void sim_modem_pump(struct sim_modem *m)
{
        if (!sim_modem_registered(m) || m->hung)
                return;
        while (m->inbound_len > 0) {
                if (!deliver_one(m, &m->inbound[m->inbound_head]))
                        break;
                m->inbound_head = (m->inbound_head + 1) % SIM_INBOUND_MAX;
                m->inbound_len--;
        }
}
