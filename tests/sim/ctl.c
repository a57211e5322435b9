/* puente-sim's control interface: a line protocol on a unix socket (one command a line, the
 * answer ends with a line "OK ..." or "ERR ..."), the same commands from a timed script
 * file, and the `puente-sim ctl` client. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

#define CTL_ARGS_MAX    8
#define CTL_GARBAGE_MAX 65536

struct sim_ctl_client {
        struct sim_net *net;
        int fd;
        sd_event_source *io;
        char buf[SIM_CTL_LINE_MAX];
        size_t len;
};

struct ctl_cmd {
        const char *name;
        int min_args; /* after the command word */
        bool modem;   /* first argument names a modem */
        const char *usage;
        int (*run)(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                   const char *rest, FILE *out);
};

static int on_off(const char *s, bool *ret)
{
        if (strcmp(s, "on") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0)
                *ret = true;
        else if (strcmp(s, "off") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int num_arg(const char *s, long lo, long hi, long *ret)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *state_name(const struct sim_modem *m)
{
        if (m->state == MODEM_UNPLUGGED)
                return "unplugged";
        if (m->state == MODEM_BOOTING)
                return "booting";
        return m->hung ? "hung" : "ready";
}

static int c_status(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        for (size_t i = 0; i < net->n_modems; i++) {
                struct sim_modem *x = &net->modems[i];
                fprintf(out,
                        "modem %s %s %s dialect=%s number=%s parts-sent=%llu held=%zu "
                        "%s=%d/%d sim=%s pin=%s\n",
                        x->name, state_name(x), x->link, x->dialect->name, x->number,
                        (unsigned long long)x->parts_sent, x->inbound_len,
                        x->mem[2] ? x->mem[2]->name : "SM",
                        x->mem[2] ? sim_store_used(x->mem[2]) : 0, x->mem[2] ? x->mem[2]->size : 0,
                        x->sim_present ? "yes" : "no", x->pin_ok ? "ok" : "required");
        }
        for (size_t i = 0; i < net->n_phones; i++)
                fprintf(out, "phone %s %s received=%d rules=%zu\n", net->phones[i].name,
                        net->phones[i].number, net->phones[i].received, net->phones[i].n_rules);
        fprintf(out, "OK %llu messages delivered\n", (unsigned long long)net->messages_delivered);
        return 0;
}

/* send FROM MODEM TEXT...: "\n" in TEXT is a line break, "\\" a backslash. */
static int c_send(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        char text[SIM_TEXT_MAX], err[160];
        size_t k = 0;
        for (const char *p = rest; *p && k + 1 < sizeof(text); p++) {
                if (p[0] == '\\' && p[1] == 'n') {
                        text[k++] = '\n';
                        p++;
                } else if (p[0] == '\\' && p[1] == '\\') {
                        text[k++] = '\\';
                        p++;
                } else {
                        text[k++] = *p;
                }
        }
        text[k] = '\0';
        if (!text[0]) {
                fprintf(out, "ERR send: empty text\n");
                return -EINVAL;
        }
        int n = sim_net_inject(net, argv[0], argv[1], text, err, sizeof(err));
        if (n < 0) {
                fprintf(out, "ERR send: %s\n", err);
                return n;
        }
        fprintf(out, "OK %d part(s)\n", n);
        return 0;
}

static int c_unplug(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        sim_modem_unplug(m);
        fprintf(out, "OK\n");
        return 0;
}

static int c_replug(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        bool renamed = argc > 1 && strcmp(argv[1], "renamed") == 0;
        if (argc > 1 && !renamed) {
                fprintf(out, "ERR replug %s: '%s' is not 'renamed'\n", m->name, argv[1]);
                return -EINVAL;
        }
        int r = renamed ? sim_modem_replug_renamed(m) : sim_modem_plug(m);
        if (r < 0 && r != -EALREADY) {
                fprintf(out, "ERR replug %s: %s\n", m->name, strerror(-r));
                return r;
        }
        fprintf(out, "OK %s %s\n", m->pts, m->link);
        return 0;
}

/* One line per tty interface: "port IF KIND LINK PTS in=BYTES out=BYTES" (the AT port's
 * byte counts are not kept: "-"). */
static int c_ports(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                   const char *rest, FILE *out)
{
        bool up = m->state != MODEM_UNPLUGGED;
        if (m->n_ports == 0)
                fprintf(out, "port - at %s %s in=- out=-\n", m->link, up ? m->pts : "-");
        for (size_t i = 0; i < m->n_ports; i++) {
                const struct sim_port *p = &m->ports[i];
                if (i == m->at_port)
                        fprintf(out, "port %zu at %s %s in=- out=-\n", i, m->link,
                                up ? m->pts : "-");
                else
                        fprintf(out, "port %zu %s %s %s in=%llu out=%llu\n", i,
                                sim_port_kind_name(p->kind), p->link, up ? p->pts : "-",
                                (unsigned long long)p->bytes_in, (unsigned long long)p->bytes_out);
        }
        fprintf(out, "OK %zu port(s), %u renaming replug(s)\n", m->n_ports ? m->n_ports : 1,
                m->renames);
        return 0;
}

static int c_hang(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        m->hung = true;
        fprintf(out, "OK\n");
        return 0;
}

static int c_unhang(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        m->hung = false;
        sim_modem_pump(m);
        fprintf(out, "OK\n");
        return 0;
}

static int c_garbage(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                     const char *rest, FILE *out)
{
        long n = 32;
        if (argc > 1 && num_arg(argv[1], 1, CTL_GARBAGE_MAX, &n) < 0) {
                fprintf(out, "ERR garbage: count '%s' is not 1-%d\n", argv[1], CTL_GARBAGE_MAX);
                return -EINVAL;
        }
        int r = sim_modem_garbage(m, (size_t)n);
        fprintf(out, r < 0 ? "ERR garbage: %s is unplugged\n" : "OK\n", m->name);
        return r;
}

static int c_reboot(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        if (argc > 1) { /* reboot when this command arrives: "mid-command" */
                sim_strlcpy(m->reboot_on, sizeof(m->reboot_on), argv[1]);
                for (char *p = m->reboot_on; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                fprintf(out, "OK armed on %s\n", m->reboot_on);
                return 0;
        }
        sim_modem_reboot(m, net->boot_ms);
        fprintf(out, "OK\n");
        return 0;
}

static int c_sim(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                 FILE *out)
{
        if (strcmp(argv[1], "remove") == 0) {
                m->sim_present = false;
        } else if (strcmp(argv[1], "insert") == 0) {
                m->sim_present = true;
                m->pin_ok = m->pin[0] == '\0';
        } else {
                fprintf(out, "ERR sim: expected remove or insert, not '%s'\n", argv[1]);
                return -EINVAL;
        }
        sim_modem_registration_changed(m);
        fprintf(out, "OK\n");
        return 0;
}

static int c_pin(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                 FILE *out)
{
        const char *code = argc > 1 ? argv[1] : (m->pin[0] ? m->pin : "1234");
        if (strlen(code) < 4 || strlen(code) > 8 || strspn(code, "0123456789") != strlen(code)) {
                fprintf(out, "ERR pin: '%s' is not 4-8 digits\n", code);
                return -EINVAL;
        }
        sim_strlcpy(m->pin, sizeof(m->pin), code);
        m->pin_ok = false;
        sim_modem_registration_changed(m);
        fprintf(out, "OK PIN %s required\n", m->pin);
        return 0;
}

static int c_fail(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        long code, count = 1;
        if (num_arg(argv[1], 0, 511, &code) < 0 ||
            (argc > 2 && num_arg(argv[2], 0, 1000000, &count) < 0)) {
                fprintf(out, "ERR fail: expected a +CMS ERROR code 0-511 and a count\n");
                return -EINVAL;
        }
        m->fail_code = (int)code;
        m->fail_count = (int)count;
        fprintf(out, "OK next %ld AT+CMGS answer +CMS ERROR: %ld\n", count, code);
        return 0;
}

static int c_credit(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        bool v;
        if (on_off(argv[1], &v) < 0) {
                fprintf(out, "ERR credit: expected on or off, not '%s'\n", argv[1]);
                return -EINVAL;
        }
        m->no_credit = !v;
        fprintf(out, "OK\n");
        return 0;
}

static int c_full(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        bool v;
        if (on_off(argv[1], &v) < 0) {
                fprintf(out, "ERR full: expected on or off, not '%s'\n", argv[1]);
                return -EINVAL;
        }
        m->sm.full_fault = m->me.full_fault = v;
        if (!v)
                sim_modem_pump(m);
        fprintf(out, "OK\n");
        return 0;
}

static int c_slow_prompt(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                         const char *rest, FILE *out)
{
        long ms;
        if (num_arg(argv[1], 0, 600000, &ms) < 0) {
                fprintf(out, "ERR slow-prompt: '%s' is not milliseconds\n", argv[1]);
                return -EINVAL;
        }
        m->slow_prompt_ms = (int)ms;
        fprintf(out, "OK\n");
        return 0;
}

static int c_latency(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                     const char *rest, FILE *out)
{
        if (strcmp(argv[1], "default") == 0) {
                m->latency_min_ms = m->latency_max_ms = -1;
        } else if (sim_parse_range_ms(argv[1], &m->latency_min_ms, &m->latency_max_ms) < 0) {
                fprintf(out, "ERR latency: '%s' is not MS, MIN-MAX or default\n", argv[1]);
                return -EINVAL;
        }
        fprintf(out, "OK\n");
        return 0;
}

static int c_report_delay(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                          const char *rest, FILE *out)
{
        long ms;
        if (num_arg(argv[0], 0, 3600000, &ms) < 0) {
                fprintf(out, "ERR report-delay: '%s' is not milliseconds\n", argv[0]);
                return -EINVAL;
        }
        net->report_delay_ms = (int)ms;
        fprintf(out, "OK\n");
        return 0;
}

static int c_cnma_timeout(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                          const char *rest, FILE *out)
{
        long ms;
        if (num_arg(argv[0], 1, 3600000, &ms) < 0) {
                fprintf(out, "ERR cnma-timeout: '%s' is not 1-3600000 ms\n", argv[0]);
                return -EINVAL;
        }
        net->cnma_timeout_ms = (int)ms;
        fprintf(out, "OK\n");
        return 0;
}

static int c_time(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        long skew = 0;
        if (strcmp(argv[1], "ok") == 0)
                m->nettime = NETTIME_OK;
        else if (strcmp(argv[1], "absent") == 0)
                m->nettime = NETTIME_ABSENT;
        else if (strcmp(argv[1], "wrong") == 0 &&
                 (argc < 3 || num_arg(argv[2], -3153600000L, 3153600000L, &skew) == 0)) {
                m->nettime = NETTIME_WRONG;
                net->nettime_skew_s = argc > 2 ? (int)skew : -86400 * 400;
        } else {
                fprintf(out, "ERR time: expected ok, absent or wrong [SECONDS]\n");
                return -EINVAL;
        }
        /* a new NITZ: what the modem believes changes at its next registration */
        m->clock_set = false;
        m->registered_reported = false;
        sim_modem_registration_changed(m);
        fprintf(out, "OK\n");
        return 0;
}

static int c_signal(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                    const char *rest, FILE *out)
{
        long v;
        if (num_arg(argv[1], 0, 99, &v) < 0 || (v > 31 && v != 99)) {
                fprintf(out, "ERR signal: '%s' is not 0-31 or 99\n", argv[1]);
                return -EINVAL;
        }
        m->csq = (int)v;
        fprintf(out, "OK\n");
        return 0;
}

static int c_phone(struct sim_net *net, struct sim_modem *m, int argc, char **argv,
                   const char *rest, FILE *out)
{
        struct sim_phone *p = sim_phone_find(net, argv[0]);
        if (!p && !(p = sim_phone_add(net, argv[0]))) {
                fprintf(out, "ERR phone: cannot add '%s'\n", argv[0]);
                return -EINVAL;
        }
        for (int i = 1; i < argc; i++) {
                bool v;
                if (strncmp(argv[i], "reachable=", 10) == 0 && on_off(argv[i] + 10, &v) == 0) {
                        p->reachable = v;
                } else if (strncmp(argv[i], "sender=", 7) == 0 &&
                           strlen(argv[i] + 7) < sizeof(p->sender)) {
                        sim_strlcpy(p->sender, sizeof(p->sender), argv[i] + 7);
                } else {
                        fprintf(out, "ERR phone: '%s' is not reachable=on|off or sender=S\n",
                                argv[i]);
                        return -EINVAL;
                }
        }
        fprintf(out, "OK\n");
        return 0;
}

static int c_quit(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        sd_event_exit(net->event, 0);
        fprintf(out, "OK bye\n");
        return 0;
}

static int c_help(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out);

static const struct ctl_cmd ctl_cmds[] = {
        { "help", 0, false, "help", c_help },
        { "status", 0, false, "status", c_status },
        { "send", 3, false, "send FROM MODEM TEXT...", c_send },
        { "inject", 3, false, "inject FROM MODEM TEXT...", c_send },
        { "unplug", 1, true, "unplug MODEM", c_unplug },
        { "replug", 1, true, "replug MODEM [renamed]", c_replug },
        { "ports", 1, true, "ports MODEM", c_ports },
        { "hang", 1, true, "hang MODEM", c_hang },
        { "unhang", 1, true, "unhang MODEM", c_unhang },
        { "garbage", 1, true, "garbage MODEM [BYTES]", c_garbage },
        { "reboot", 1, true, "reboot MODEM [ON-COMMAND]", c_reboot },
        { "sim", 2, true, "sim MODEM remove|insert", c_sim },
        { "pin", 1, true, "pin MODEM [CODE]", c_pin },
        { "fail", 2, true, "fail MODEM CMS-CODE [COUNT]", c_fail },
        { "credit", 2, true, "credit MODEM on|off", c_credit },
        { "full", 2, true, "full MODEM on|off", c_full },
        { "slow-prompt", 2, true, "slow-prompt MODEM MS", c_slow_prompt },
        { "latency", 2, true, "latency MODEM MS|MIN-MAX|default", c_latency },
        { "report-delay", 1, false, "report-delay MS", c_report_delay },
        { "cnma-timeout", 1, false, "cnma-timeout MS", c_cnma_timeout },
        { "time", 2, true, "time MODEM ok|absent|wrong [SKEW-SECONDS]", c_time },
        { "signal", 2, true, "signal MODEM 0-31|99", c_signal },
        { "phone", 1, false, "phone NUMBER [reachable=on|off] [sender=NAME]", c_phone },
        { "quit", 0, false, "quit", c_quit },
};

static int c_help(struct sim_net *net, struct sim_modem *m, int argc, char **argv, const char *rest,
                  FILE *out)
{
        for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
                fprintf(out, "%s\n", ctl_cmds[i].usage);
        fprintf(out, "OK\n");
        return 0;
}

int sim_ctl_exec(struct sim_net *net, const char *line, FILE *out)
{
        char buf[SIM_CTL_LINE_MAX];
        char *argv[CTL_ARGS_MAX + 1];
        int argc = 0;
        sim_strlcpy(buf, sizeof(buf), line);
        buf[strcspn(buf, "\r\n")] = '\0';
        /* words, remembering where the text of "send" starts (after three words) */
        const char *rest = "";
        char *p = buf;
        while (*p && argc < CTL_ARGS_MAX + 1) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (argc == 3) {
                        rest = line + (p - buf);
                        break;
                }
                argv[argc++] = p;
                p += strcspn(p, " \t");
                if (*p)
                        *p++ = '\0';
        }
        char restbuf[SIM_CTL_LINE_MAX];
        sim_strlcpy(restbuf, sizeof(restbuf), rest);
        restbuf[strcspn(restbuf, "\r\n")] = '\0';
        /* the words beyond the third, for commands that take more than three */
        int extra = 0;
        char *extras[CTL_ARGS_MAX];
        char wordsbuf[SIM_CTL_LINE_MAX];
        sim_strlcpy(wordsbuf, sizeof(wordsbuf), restbuf);
        for (char *s, *t = strtok_r(wordsbuf, " \t", &s); t && extra < CTL_ARGS_MAX;
             t = strtok_r(NULL, " \t", &s))
                extras[extra++] = t;
        if (argc == 0) {
                fprintf(out, "ERR empty command\n");
                return -EINVAL;
        }
        for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
                const struct ctl_cmd *c = &ctl_cmds[i];
                if (strcmp(c->name, argv[0]) != 0)
                        continue;
                char *args[CTL_ARGS_MAX * 2];
                int n = 0;
                for (int k = 1; k < argc; k++)
                        args[n++] = argv[k];
                if (strcmp(c->name, "send") != 0 && strcmp(c->name, "inject") != 0)
                        for (int k = 0; k < extra; k++)
                                args[n++] = extras[k];
                else if (restbuf[0])
                        args[n++] = restbuf; /* the text counts as one argument */
                /* a modem command needs the modem's name, whatever min_args says */
                if (n < c->min_args || (c->modem && n == 0)) {
                        fprintf(out, "ERR usage: %s\n", c->usage);
                        return -EINVAL;
                }
                struct sim_modem *m = NULL;
                if (c->modem && !(m = sim_modem_find(net, args[0]))) {
                        fprintf(out, "ERR %s: no modem named '%s'\n", c->name, args[0]);
                        return -ENOENT;
                }
                return c->run(net, m, n, args, restbuf, out);
        }
        fprintf(out, "ERR unknown command '%s' (try help)\n", argv[0]);
        return -EINVAL;
}

/* ---- the socket ---- */

static void client_free(struct sim_ctl_client *c)
{
        struct sim_net *net = c->net;
        for (size_t i = 0; i < SIM_CTL_CLIENTS_MAX; i++)
                if (net->clients[i] == c)
                        net->clients[i] = NULL;
        sd_event_source_disable_unref(c->io);
        close(c->fd);
        free(c);
}

static void client_reply(struct sim_ctl_client *c, const char *line)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return;
        sim_ctl_exec(c->net, line, out);
        fclose(out);
        for (size_t off = 0; off < len;) {
                ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
                        if (poll(&pfd, 1, 1000) <= 0)
                                break;
                        continue;
                }
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        free(text);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct sim_ctl_client *c = userdata;
        ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                client_free(c);
                return 0;
        }
        c->len += (size_t)n;
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len))) {
                *nl = '\0';
                client_reply(c, c->buf);
                size_t used = (size_t)(nl - c->buf) + 1;
                memmove(c->buf, nl + 1, c->len - used);
                c->len -= used;
        }
        if (c->len == sizeof(c->buf) - 1) {
                const char msg[] = "ERR line longer than 8191 bytes\n";
                send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
                client_free(c);
        }
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct sim_net *net = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        size_t slot = SIM_CTL_CLIENTS_MAX;
        for (size_t i = 0; i < SIM_CTL_CLIENTS_MAX; i++)
                if (!net->clients[i]) {
                        slot = i;
                        break;
                }
        struct sim_ctl_client *c = slot < SIM_CTL_CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
                const char msg[] = "ERR too many control clients\n";
                send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
                close(cfd);
                return 0;
        }
        c->net = net;
        c->fd = cfd;
        if (sd_event_add_io(net->event, &c->io, cfd, EPOLLIN, on_client, c) < 0) {
                close(cfd);
                free(c);
                return 0;
        }
        net->clients[slot] = c;
        return 0;
}

int sim_ctl_listen(struct sim_net *net)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(net->ctl_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        sim_strlcpy(sa.sun_path, sizeof(sa.sun_path), net->ctl_path);
        net->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (net->ctl_fd < 0)
                return -errno;
        unlink(net->ctl_path);
        if (bind(net->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(net->ctl_fd, SIM_CTL_CLIENTS_MAX) < 0) {
                int r = -errno;
                close(net->ctl_fd);
                net->ctl_fd = -1;
                return r;
        }
        return sd_event_add_io(net->event, &net->ctl_io, net->ctl_fd, EPOLLIN, on_accept, net);
}

void sim_ctl_close(struct sim_net *net)
{
        for (size_t i = 0; i < SIM_CTL_CLIENTS_MAX; i++)
                if (net->clients[i])
                        client_free(net->clients[i]);
        net->ctl_io = sd_event_source_disable_unref(net->ctl_io);
        if (net->ctl_fd >= 0) {
                close(net->ctl_fd);
                net->ctl_fd = -1;
                unlink(net->ctl_path);
        }
}
