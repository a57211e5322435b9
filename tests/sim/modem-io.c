/* A simulated modem's byte stream: output to the host, result codes and URCs, and input:
 * command lines (V.25ter 5.2 syntax: basic and extended commands chained with ';'), the
 * AT+CMGS prompt and what is typed after it. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

/* sd-event's default accuracy (0 = 250 ms) lets it fire a timer up to 250 ms late so it can
 * coalesce wake-ups: every latency then ended on the same 250 ms tick, on every modem at
 * once, and the busy share measured at 3 s per AT+CMGS lost 7% to the simulator. */
#define SIM_TIMER_ACCURACY_US 1000

#define READ_CHUNK 4096

/* ---- buffers ---- */

int sim_buf_add(struct sim_buf *b, const char *data, size_t len, size_t max)
{
        if (b->len + len > max)
                return -ENOBUFS;
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + len)
                        cap *= 2;
                char *p = realloc(b->data, cap);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->cap = cap;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return 0;
}

void sim_buf_drop(struct sim_buf *b, size_t n)
{
        if (n >= b->len) {
                b->len = 0;
                return;
        }
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
}

void sim_buf_free(struct sim_buf *b)
{
        free(b->data);
        *b = (struct sim_buf){ 0 };
}

/* ---- output ---- */

static void flush_out(struct sim_modem *m)
{
        while (m->out.len > 0 && m->master_fd >= 0) {
                ssize_t n = write(m->master_fd, m->out.data, m->out.len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* EAGAIN: the host is not reading; EPOLLOUT resumes */
                }
                sim_buf_drop(&m->out, (size_t)n);
        }
        if (m->io)
                sd_event_source_set_io_events(m->io, EPOLLIN | (m->out.len ? EPOLLOUT : 0));
}

void sim_modem_write(struct sim_modem *m, const char *data, size_t len)
{
        if (m->state == MODEM_UNPLUGGED)
                return;
        if (sim_buf_add(&m->out, data, len, SIM_OUT_MAX) < 0) {
                log_modem(LOG_WARNING, m->name, "host is not reading, %zu bytes dropped", len);
                return;
        }
        flush_out(m);
}

static void vwritef(struct sim_modem *m, const char *fmt, va_list ap)
{
        char buf[SIM_TEXT_MAX + 64];
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        if (n < 0)
                return;
        sim_modem_write(m, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void sim_modem_printf(struct sim_modem *m, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vwritef(m, fmt, ap);
        va_end(ap);
}

/* An information text line (V.25ter 5.7.1): <CR><LF>text<CR><LF> in verbose mode. */
void sim_modem_info(struct sim_modem *m, const char *fmt, ...)
{
        char buf[SIM_TEXT_MAX + 64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (m->quiet)
                return;
        sim_modem_printf(m, m->verbose ? "\r\n%s\r\n" : "%s\r\n", buf);
}

/* Unsolicited result: held back while a command runs or a PDU is being typed. */
void sim_modem_urc(struct sim_modem *m, const char *fmt, ...)
{
        char buf[SIM_TEXT_MAX + 64];
        va_list ap;
        buf[0] = '\r';
        buf[1] = '\n';
        va_start(ap, fmt);
        int n = vsnprintf(buf + 2, sizeof(buf) - 4, fmt, ap);
        va_end(ap);
        if (n < 0 || m->state != MODEM_READY || m->hung)
                return; /* a hung modem says nothing at all */
        size_t len = strlen(buf);
        memcpy(buf + len, "\r\n", 3);
        len += 2;
        if (m->busy || m->input != INPUT_COMMAND || m->line_len > 0)
                sim_buf_add(&m->urcq, buf, len, SIM_OUT_MAX);
        else
                sim_modem_write(m, buf, len);
}

static void flush_urcs(struct sim_modem *m)
{
        if (m->urcq.len == 0 || m->busy || m->input != INPUT_COMMAND)
                return;
        sim_modem_write(m, m->urcq.data, m->urcq.len);
        m->urcq.len = 0;
}

static const char *cme_text(int code)
{
        switch (code) {
        case CME_NOT_ALLOWED:
                return "operation not allowed";
        case CME_NOT_SUPPORTED:
                return "operation not supported";
        case CME_SIM_NOT_INSERTED:
                return "SIM not inserted";
        case CME_SIM_PIN:
                return "SIM PIN required";
        case CME_INCORRECT_PASSWORD:
                return "incorrect password";
        case CME_INVALID_INDEX:
                return "invalid index";
        case CME_INVALID_CHAR:
                return "invalid characters in text string";
        case CME_NO_SERVICE:
                return "no network service";
        default:
                return "unknown";
        }
}

static void process_input(struct sim_modem *m);

/* Writes the final result code of the command in progress and resumes input. */
void sim_modem_finish(struct sim_modem *m, int result)
{
        if (!m->quiet) {
                const char *pre = m->verbose ? "\r\n" : "";
                if (result == SIM_OK)
                        sim_modem_printf(m, m->verbose ? "\r\nOK\r\n" : "0\r");
                else if (SIM_IS_CMS(result) && m->cmee > 0)
                        sim_modem_printf(m, "%s+CMS ERROR: %d\r\n", pre, -result - 2000);
                else if (SIM_IS_CME(result) && m->cmee == 1)
                        sim_modem_printf(m, "%s+CME ERROR: %d\r\n", pre, -result - 1000);
                else if (SIM_IS_CME(result) && m->cmee == 2)
                        sim_modem_printf(m, "%s+CME ERROR: %s\r\n", pre, cme_text(-result - 1000));
                else
                        sim_modem_printf(m, m->verbose ? "\r\nERROR\r\n" : "4\r");
        }
        m->busy = false;
        m->input = INPUT_COMMAND;
        flush_urcs(m);
        if (m->cmd_timer)
                m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
        process_input(m);
}

/* ---- command lines ---- */

/* Basic commands (V.25ter 6): a letter or '&'+letter and an optional number. */
static int basic_command(struct sim_modem *m, const char **p)
{
        char c = (char)toupper((unsigned char)*(*p)++);
        bool amp = false;
        if (c == '&') {
                amp = true;
                c = (char)toupper((unsigned char)*(*p)++);
                if (!c)
                        return SIM_ERROR;
        }
        if (!amp && c == 'S') { /* S-registers: Sn=v, Sn? */
                while (isdigit((unsigned char)**p))
                        (*p)++;
                if (**p == '?') {
                        (*p)++;
                        sim_modem_info(m, "000");
                        return SIM_OK;
                }
                if (**p == '=')
                        for ((*p)++; isdigit((unsigned char)**p); (*p)++)
                                ;
                return SIM_OK;
        }
        int v = 0;
        while (isdigit((unsigned char)**p))
                v = v * 10 + (*(*p)++ - '0');
        if (amp) {
                if (c == 'F') /* factory defaults */
                        sim_modem_reset_settings(m);
                return SIM_OK; /* &C, &D, &K, &W: nothing to do on a pty */
        }
        switch (c) {
        case 'E':
                m->echo = v != 0;
                return SIM_OK;
        case 'V':
                m->verbose = v != 0;
                return SIM_OK;
        case 'Q':
                m->quiet = v != 0;
                return SIM_OK;
        case 'Z':
                sim_modem_reset_settings(m);
                return SIM_OK;
        case 'I':
                sim_modem_info(m, "%s\r\n%s\r\n%s", m->dialect->manufacturer, m->dialect->model,
                               m->dialect->revision);
                return SIM_OK;
        case 'X':
        case 'L':
        case 'M':
        case 'H':
                return SIM_OK;
        default:
                return SIM_ERROR;
        }
}

/* Runs the commands of one line after "AT". Returns a result, or SIM_PENDING. */
static int run_commands(struct sim_modem *m, const char *p)
{
        while (*p) {
                while (*p == ' ' || *p == ';')
                        p++;
                if (!*p)
                        break;
                if (!strchr("+^$%*#!", *p)) {
                        if (!isalpha((unsigned char)*p) && *p != '&')
                                return SIM_ERROR;
                        int r = basic_command(m, &p);
                        if (r != SIM_OK)
                                return r;
                        continue;
                }
                char name[SIM_NAME_MAX];
                size_t n = 0;
                name[n++] = *p++;
                while (isalnum((unsigned char)*p) || *p == '_') {
                        if (n + 1 >= sizeof(name))
                                return SIM_ERROR;
                        name[n++] = (char)toupper((unsigned char)*p++);
                }
                name[n] = '\0';
                enum sim_cmd_kind kind = CMD_EXEC;
                char args[SIM_LINE_MAX] = "";
                if (p[0] == '=' && p[1] == '?') {
                        kind = CMD_TEST;
                        p += 2;
                } else if (p[0] == '?') {
                        kind = CMD_READ;
                        p++;
                } else if (p[0] == '=') {
                        kind = CMD_SET;
                        p++;
                        size_t a = 0;
                        bool quoted = false;
                        while (*p && (quoted || *p != ';')) {
                                if (*p == '"')
                                        quoted = !quoted;
                                args[a++] = *p++;
                        }
                        args[a] = '\0';
                }
                if (m->reboot_on[0] && strcmp(m->reboot_on, name) == 0) {
                        log_modem(LOG_NOTICE, m->name, "rebooting on %s as asked", name);
                        m->reboot_on[0] = '\0';
                        sim_modem_reboot(m, m->net->boot_ms);
                        return SIM_PENDING;
                }
                const struct sim_cmd *cmd = sim_cmd_find(name);
                if (!cmd || ((cmd->flags & CMD_HUAWEI) && !(m->dialect->flags & SIM_DF_CURC_NOISE)))
                        return SIM_ERROR; /* unknown commands: plain ERROR (V.25ter 5.7.1) */
                if (cmd->flags & CMD_NEEDS_SIM) {
                        bool sms = cmd->flags & CMD_SMS;
                        if (!m->sim_present)
                                return sms ? SIM_CMS(CMS_SIM_NOT_INSERTED)
                                           : SIM_CME(CME_SIM_NOT_INSERTED);
                        if (!m->pin_ok)
                                return sms ? SIM_CMS(CMS_SIM_PIN) : SIM_CME(CME_SIM_PIN);
                }
                int r = cmd->handler(m, kind, args);
                if (r != SIM_OK)
                        return r;
        }
        return SIM_OK;
}

static void execute_line(struct sim_modem *m, char *line)
{
        /* V.25ter 5.2.1: anything before the "AT" prefix is ignored. */
        char *at = NULL;
        for (char *p = line; p[0] && p[1]; p++)
                if (toupper((unsigned char)p[0]) == 'A' && toupper((unsigned char)p[1]) == 'T') {
                        at = p;
                        break;
                }
        if (!at)
                return;
        log_modem(LOG_DEBUG, m->name, "<- %s", at);
        m->busy = true;
        int r = run_commands(m, at + 2);
        if (r == SIM_PENDING)
                return;
        sim_modem_finish(m, r);
}

static void take_byte(struct sim_modem *m, char c)
{
        if (m->input == INPUT_PDU || m->input == INPUT_TEXT) {
                if (c == 0x1b) { /* TS 27.005 3.5.1: ESC cancels the message */
                        m->pdu_hex_len = 0;
                        sim_modem_finish(m, SIM_OK);
                        return;
                }
                if (c == 0x1a) {
                        m->input = INPUT_COMMAND;
                        m->busy = true;
                        if (m->echo)
                                sim_modem_write(m, "\r\n", 2);
                        size_t len = m->pdu_hex_len;
                        m->pdu_hex_len = 0;
                        m->pdu_hex[len] = '\0';
                        int r = m->pdu_overflow ? SIM_CMS(CMS_INVALID_PDU_PARAM)
                                : m->cmgf       ? sim_cmd_sms_submit_text(m, m->pdu_hex, len)
                                                : sim_cmd_sms_submit(m, m->pdu_hex, len);
                        if (r != SIM_PENDING)
                                sim_modem_finish(m, r);
                        return;
                }
                if (m->echo)
                        sim_modem_write(m, &c, 1);
                if (m->input == INPUT_PDU && (c == '\r' || c == '\n' || c == ' '))
                        return;
                if (m->input == INPUT_TEXT && c == '\r') {
                        c = '\n';
                        sim_modem_write(m, "\r\n> ", 4);
                }
                if (m->pdu_hex_len + 1 >= sizeof(m->pdu_hex)) {
                        m->pdu_overflow = true;
                        return;
                }
                m->pdu_hex[m->pdu_hex_len++] = c;
                return;
        }
        if (m->echo && !m->quiet)
                sim_modem_write(m, &c, 1);
        if (c == '\r') {
                bool overflow = m->line_overflow;
                m->line[m->line_len] = '\0';
                m->line_len = 0;
                m->line_overflow = false;
                if (overflow) {
                        m->busy = true;
                        sim_modem_finish(m, SIM_ERROR);
                } else {
                        execute_line(m, m->line);
                }
                if (!m->busy)
                        flush_urcs(m);
                return;
        }
        if (c == '\n' || c == '\0')
                return;
        if (c == 8) { /* S5 backspace */
                if (m->line_len)
                        m->line_len--;
                return;
        }
        if (m->line_len + 1 >= sizeof(m->line)) {
                m->line_overflow = true;
                return;
        }
        m->line[m->line_len++] = c;
}

/* Runs queued input until a command leaves the modem busy. Calls made while it runs (a
 * command finishing inside take_byte) return at once: the outer loop goes on. */
static void process_input(struct sim_modem *m)
{
        if (m->processing)
                return;
        m->processing = true;
        size_t i = 0;
        while (i < m->inq.len && !m->busy && m->state == MODEM_READY && !m->hung)
                take_byte(m, m->inq.data[i++]);
        sim_buf_drop(&m->inq, i);
        m->processing = false;
}

static int on_prompt(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_modem *m = userdata;
        m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
        sim_modem_prompt(m, 0);
        return 0;
}

/* TS 27.005 3.5.1: "<CR><LF><greater_than><space>", then the PDU or text until Ctrl-Z. */
void sim_modem_prompt(struct sim_modem *m, int delay_ms)
{
        if (delay_ms > 0) {
                m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
                sd_event_add_time_relative(m->net->event, &m->cmd_timer, CLOCK_MONOTONIC,
                                           (uint64_t)delay_ms * 1000ULL, SIM_TIMER_ACCURACY_US,
                                           on_prompt, m);
                return;
        }
        m->input = m->cmgf ? INPUT_TEXT : INPUT_PDU;
        m->pdu_hex_len = 0;
        m->pdu_overflow = false;
        if (m->dialect->flags & SIM_DF_PROMPT_NOSPACE)
                sim_modem_write(m, "\r\n>", 3);
        else
                sim_modem_write(m, "\r\n> ", 4);
        m->busy = false;
        process_input(m);
}

static int on_finish_later(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct sim_modem *m = userdata;
        m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
        if (m->busy_info[0])
                sim_modem_info(m, "%s", m->busy_info);
        sim_modem_finish(m, m->busy_result);
        return 0;
}

void sim_modem_finish_after(struct sim_modem *m, int delay_ms, const char *info, int result)
{
        sim_strlcpy(m->busy_info, sizeof(m->busy_info), info ? info : "");
        m->busy_result = result;
        m->cmd_timer = sd_event_source_disable_unref(m->cmd_timer);
        if (sd_event_add_time_relative(m->net->event, &m->cmd_timer, CLOCK_MONOTONIC,
                                       (uint64_t)delay_ms * 1000ULL, SIM_TIMER_ACCURACY_US,
                                       on_finish_later, m) < 0)
                on_finish_later(NULL, 0, m);
}

int sim_modem_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct sim_modem *m = userdata;
        if (revents & EPOLLOUT)
                flush_out(m);
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        char buf[READ_CHUNK];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
                return 0;
        if (m->hung || m->state != MODEM_READY)
                return 0; /* a hung or booting modem loses what it is sent */
        if (sim_buf_add(&m->inq, buf, (size_t)n, SIM_OUT_MAX) < 0)
                log_modem(LOG_WARNING, m->name, "input queue full, %zd bytes dropped", n);
        process_input(m);
        return 0;
}
