/* Tests for at/chat: real-modem transcripts replayed whole, in pieces and with URCs injected
 * at every line boundary; then the time-outs, prompts, echo, resets and limits one by one. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at/chat.h"
#include "at/parse.h"

/* ---- a harness that turns everything the chat reports into a text log --------------- */

#define LOG_MAX 65536
#define TX_MAX  16384
#define CMDS    64

struct harness;
struct hcmd {
        struct harness *h;
        char text[AT_CHAT_CMD_MAX + 1];
};

struct harness {
        struct at_chat *chat;
        uint64_t now;
        char log[LOG_MAX];
        size_t log_len;
        uint8_t tx[TX_MAX];
        size_t tx_len;
        struct hcmd cmds[CMDS];
        size_t n_cmds;
        int results;
        struct at_result last; /* the last result, with its lines copied below */
        char last_final[AT_LINE_MAX + 1];
        char last_lines[AT_RESULT_LINES_MAX][AT_LINE_MAX + 1];
        int on_line_calls;
};

static void log_add(struct harness *h, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(h->log + h->log_len, LOG_MAX - h->log_len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t)n < LOG_MAX - h->log_len - 1);
        h->log_len += (size_t)n;
        h->log[h->log_len++] = '\n';
        h->log[h->log_len] = '\0';
}

/* Printable form of a line for the log: control bytes as \xNN. */
static const char *esc(const char *s, char *buf, size_t size)
{
        size_t o = 0;
        for (; *s && o + 5 < size; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f)
                        o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
                else
                        buf[o++] = (char)c;
        }
        buf[o] = '\0';
        return buf;
}

static void on_result(const struct at_result *r, void *userdata)
{
        struct hcmd *c = userdata;
        struct harness *h = c->h;
        char b[AT_LINE_MAX * 4 + 1];
        if (r->status == AT_STATUS_CME || r->status == AT_STATUS_CMS)
                log_add(h, "result %s %s err=%d%s%s", at_status_name(r->status), c->text, r->err,
                        r->err < 0 ? " text=" : "", r->err < 0 ? r->err_text : "");
        else
                log_add(h, "result %s %s", at_status_name(r->status), c->text);
        for (size_t i = 0; i < r->n_lines; i++) {
                if (r->lines[i].pdu)
                        log_add(h, "line %s pdu=%s", esc(r->lines[i].text, b, sizeof(b)),
                                r->lines[i].pdu);
                else
                        log_add(h, "line %s", esc(r->lines[i].text, b, sizeof(b)));
        }
        if (r->truncated)
                log_add(h, "truncated");
        h->results++;
        h->last = *r;
        snprintf(h->last_final, sizeof(h->last_final), "%s", r->final);
        h->last.final = h->last_final;
        for (size_t i = 0; i < r->n_lines; i++)
                snprintf(h->last_lines[i], sizeof(h->last_lines[i]), "%s", r->lines[i].text);
}

static void on_urc(const char *line, const char *pdu, void *userdata)
{
        struct harness *h = userdata;
        char b[AT_LINE_MAX * 4 + 1];
        if (pdu)
                log_add(h, "urc %s pdu=%s", esc(line, b, sizeof(b)), pdu);
        else
                log_add(h, "urc %s", esc(line, b, sizeof(b)));
}

static void on_event(const struct at_event *ev, void *userdata)
{
        struct harness *h = userdata;
        char b[AT_LINE_MAX * 4 + 1];
        switch (ev->type) {
        case AT_EVENT_DROPPED:
                log_add(h, "event dropped %s %zu", ev->drop == AT_DROP_LONG ? "long" : "control",
                        ev->count);
                break;
        case AT_EVENT_MODEM_RESET:
                log_add(h, "event reset %s %s", ev->line, ev->cmd_in_flight ? "busy" : "idle");
                break;
        case AT_EVENT_STRAY_PROMPT:
                log_add(h, "event stray-prompt");
                break;
        case AT_EVENT_STRAY_FINAL:
                log_add(h, "event stray-final %s", esc(ev->line, b, sizeof(b)));
                break;
        case AT_EVENT_MISSING_PDU:
                log_add(h, "event missing-pdu %s", esc(ev->line, b, sizeof(b)));
                break;
        }
}

static void drain(struct harness *h)
{
        const uint8_t *p;
        size_t n = at_chat_output(h->chat, &p);
        assert_true(h->tx_len + n <= TX_MAX);
        memcpy(h->tx + h->tx_len, p, n);
        h->tx_len += n;
        at_chat_output_done(h->chat, n);
}

static void h_init(struct harness *h)
{
        memset(h, 0, sizeof(*h));
        struct at_chat_config cfg = { .urc_default = on_urc, .event = on_event, .userdata = h };
        assert_int_equal(at_chat_new(&cfg, &h->chat), 0);
}

static void h_fini(struct harness *h)
{
        h->chat = at_chat_free(h->chat);
        assert_null(h->chat);
}

static unsigned h_send(struct harness *h, const struct at_chat_cmd *tmpl)
{
        assert_true(h->n_cmds < CMDS);
        struct hcmd *c = &h->cmds[h->n_cmds++];
        c->h = h;
        snprintf(c->text, sizeof(c->text), "%s", tmpl->text);
        struct at_chat_cmd cmd = *tmpl;
        cmd.on_result = on_result;
        cmd.userdata = c;
        unsigned id = 0;
        assert_int_equal(at_chat_send(h->chat, &cmd, h->now, &id), 0);
        assert_true(id > 0);
        drain(h);
        return id;
}

static void h_rx(struct harness *h, const char *s)
{
        assert_int_equal(at_chat_feed(h->chat, (const uint8_t *)s, strlen(s), h->now), 0);
        drain(h);
}

static void h_rx_n(struct harness *h, const void *s, size_t n)
{
        assert_int_equal(at_chat_feed(h->chat, s, n, h->now), 0);
        drain(h);
}

static void h_tick(struct harness *h, uint64_t now)
{
        h->now = now;
        at_chat_tick(h->chat, now);
        drain(h);
}

static void assert_tx(struct harness *h, const char *want)
{
        char got[TX_MAX * 4 + 1], exp[TX_MAX * 4 + 1];
        char raw[TX_MAX + 1];
        memcpy(raw, h->tx, h->tx_len);
        raw[h->tx_len] = '\0';
        esc(raw, got, sizeof(got));
        esc(want, exp, sizeof(exp));
        if (h->tx_len != strlen(want) || memcmp(h->tx, want, h->tx_len) != 0)
                fail_msg("written \"%s\", want \"%s\"", got, exp);
}

static void assert_log(struct harness *h, const char *want)
{
        if (strcmp(h->log, want) != 0)
                fail_msg("log:\n%s\nwant:\n%s", h->log, want);
}

/* ---- transcripts ----------------------------------------------------------------------- */

/* Decodes the C-like escapes of a transcript's rx/tx line: \r \n \\ \s (space) \z (Ctrl-Z)
 * \e (ESC) \0 \xNN. Returns the byte count. */
static size_t unescape(const char *s, char *out, size_t size, const char *where)
{
        size_t o = 0;
        while (*s) {
                if (o + 1 >= size)
                        fail_msg("%s: line too long", where);
                if (*s != '\\') {
                        out[o++] = *s++;
                        continue;
                }
                s++;
                switch (*s) {
                case 'r':
                        out[o++] = '\r';
                        break;
                case 'n':
                        out[o++] = '\n';
                        break;
                case 's':
                        out[o++] = ' ';
                        break;
                case 'z':
                        out[o++] = 0x1a;
                        break;
                case 'e':
                        out[o++] = 0x1b;
                        break;
                case '0':
                        out[o++] = '\0';
                        break;
                case '\\':
                        out[o++] = '\\';
                        break;
                case 'x': {
                        unsigned v;
                        if (sscanf(s + 1, "%2x", &v) != 1)
                                fail_msg("%s: bad \\x escape", where);
                        out[o++] = (char)v;
                        s += 2;
                        break;
                }
                default:
                        fail_msg("%s: unknown escape \\%c", where, *s);
                }
                s++;
        }
        out[o] = '\0';
        return o;
}

#define SCRIPT_MAX 256
#define RX_MAX     8192

enum dir_type { DIR_SEND, DIR_FINAL, DIR_RX, DIR_TIME, DIR_TICK };

struct directive {
        enum dir_type type;
        char text[AT_CHAT_CMD_MAX + 1];
        char prefix[AT_CHAT_PREFIX_MAX + 1];
        char pdu[AT_CHAT_PDU_HEX_MAX + 1];
        unsigned flags;
        uint32_t timeout;
        enum at_status status;
        uint64_t ms;
        char *rx;
        size_t rx_len;
};

struct script {
        char path[1024];
        char model[128], firmware[128], origin[256];
        struct directive d[SCRIPT_MAX];
        size_t n;
        char expect[LOG_MAX];
        char tx[TX_MAX];
        size_t tx_len;
};

static void script_free(struct script *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->d[i].rx);
}

static void parse_send(struct directive *d, char *args, const char *where)
{
        char *save = NULL;
        char *tok = strtok_r(args, " ", &save);
        if (!tok)
                fail_msg("%s: send without a command", where);
        snprintf(d->text, sizeof(d->text), "%s", tok);
        while ((tok = strtok_r(NULL, " ", &save))) {
                if (strncmp(tok, "prefix=", 7) == 0)
                        snprintf(d->prefix, sizeof(d->prefix), "%s", tok + 7);
                else if (strncmp(tok, "pdu=", 4) == 0)
                        snprintf(d->pdu, sizeof(d->pdu), "%s", tok + 4);
                else if (strncmp(tok, "timeout=", 8) == 0)
                        d->timeout = (uint32_t)strtoul(tok + 8, NULL, 10);
                else if (strcmp(tok, "pdu-lines") == 0)
                        d->flags |= AT_CMD_EXPECT_PDU;
                else if (strcmp(tok, "prefix-final") == 0)
                        d->flags |= AT_CMD_PREFIX_IS_FINAL;
                else
                        fail_msg("%s: unknown send option %s", where, tok);
        }
}

static void script_load(struct script *s, const char *path)
{
        memset(s, 0, sizeof(*s));
        snprintf(s->path, sizeof(s->path), "%s", path);
        FILE *f = fopen(path, "r");
        if (!f)
                fail_msg("cannot open %s", path);
        char line[RX_MAX], buf[RX_MAX], where[1100];
        int lineno = 0;
        size_t exp_len = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                snprintf(where, sizeof(where), "%s:%d", path, lineno);
                line[strcspn(line, "\n")] = '\0';
                if (sscanf(line, "# model: %127[^\n]", s->model) == 1 ||
                    sscanf(line, "# firmware: %127[^\n]", s->firmware) == 1 ||
                    sscanf(line, "# origin: %255[^\n]", s->origin) == 1 || line[0] == '#' ||
                    line[0] == '\0')
                        continue;
                if (s->n >= SCRIPT_MAX)
                        fail_msg("%s: too many directives", where);
                struct directive *d = &s->d[s->n];
                memset(d, 0, sizeof(*d));
                if (strncmp(line, "send ", 5) == 0) {
                        d->type = DIR_SEND;
                        parse_send(d, line + 5, where);
                } else if (strncmp(line, "final ", 6) == 0) {
                        char st[16];
                        int off = 0;
                        d->type = DIR_FINAL;
                        if (sscanf(line + 6, "%15s %n", st, &off) != 1 || off == 0)
                                fail_msg("%s: final STATUS TEXT", where);
                        d->status = strcmp(st, "ok") == 0      ? AT_STATUS_OK
                                    : strcmp(st, "error") == 0 ? AT_STATUS_ERROR
                                                               : AT_STATUS_OTHER;
                        snprintf(d->text, sizeof(d->text), "%s", line + 6 + off);
                } else if (strncmp(line, "rx ", 3) == 0) {
                        d->type = DIR_RX;
                        d->rx_len = unescape(line + 3, buf, sizeof(buf), where);
                        d->rx = malloc(d->rx_len + 1);
                        assert_non_null(d->rx);
                        memcpy(d->rx, buf, d->rx_len + 1);
                } else if (strncmp(line, "time ", 5) == 0 || strncmp(line, "tick ", 5) == 0) {
                        d->type = line[1] == 'i' && line[2] == 'm' ? DIR_TIME : DIR_TICK;
                        d->ms = strtoull(line + 5, NULL, 10);
                } else if (strncmp(line, "expect ", 7) == 0) {
                        size_t n = strlen(line + 7);
                        assert_true(exp_len + n + 2 < sizeof(s->expect));
                        memcpy(s->expect + exp_len, line + 7, n);
                        exp_len += n;
                        s->expect[exp_len++] = '\n';
                        continue;
                } else if (strncmp(line, "tx ", 3) == 0) {
                        size_t n = unescape(line + 3, buf, sizeof(buf), where);
                        assert_true(s->tx_len + n < sizeof(s->tx));
                        memcpy(s->tx + s->tx_len, buf, n);
                        s->tx_len += n;
                        continue;
                } else {
                        fail_msg("%s: unknown directive: %s", where, line);
                }
                s->n++;
        }
        fclose(f);
        s->expect[exp_len] = '\0';
        /* Every transcript says where it comes from (tests/transcripts/README). */
        if (!s->model[0] || !s->firmware[0] || !s->origin[0])
                fail_msg("%s: header must name model, firmware and origin", path);
}

/* Replays a script feeding rx in pieces of `step` bytes (0: whole). inject: if >= 0, a
 * +CMTI URC is inserted after the inject-th LF of the received stream. Returns the number of
 * LFs seen (the positions where a URC may be injected). */
static const char INJECTED[] = "\r\n+CMTI: \"SM\",99\r\n";

static int replay(const struct script *s, struct harness *h, size_t step, int inject)
{
        int lfs = 0;
        h_init(h);
        for (size_t i = 0; i < s->n; i++) {
                const struct directive *d = &s->d[i];
                switch (d->type) {
                case DIR_SEND: {
                        struct at_chat_cmd cmd = {
                                .text = d->text,
                                .prefix = d->prefix[0] ? d->prefix : NULL,
                                .pdu = d->pdu[0] ? d->pdu : NULL,
                                .flags = d->flags,
                                .timeout_ms = d->timeout,
                        };
                        h_send(h, &cmd);
                        break;
                }
                case DIR_FINAL:
                        assert_int_equal(at_chat_add_final(h->chat, d->text, false, d->status), 0);
                        break;
                case DIR_TIME:
                        h->now = d->ms;
                        break;
                case DIR_TICK:
                        h_tick(h, d->ms);
                        break;
                case DIR_RX: {
                        size_t pos = 0;
                        while (pos < d->rx_len) {
                                size_t n = step ? step : d->rx_len - pos;
                                if (n > d->rx_len - pos)
                                        n = d->rx_len - pos;
                                /* Cut the piece after an LF so injection can follow it. */
                                const char *lf = memchr(d->rx + pos, '\n', n);
                                if (lf)
                                        n = (size_t)(lf - (d->rx + pos)) + 1;
                                h_rx_n(h, d->rx + pos, n);
                                pos += n;
                                if (lf && lfs++ == inject)
                                        h_rx(h, INJECTED);
                        }
                        break;
                }
                }
        }
        return lfs;
}

/* The log without the injected URC's line; fails unless it appears exactly once. */
static void remove_injected(struct harness *h)
{
        static const char line[] = "urc +CMTI: \"SM\",99\n";
        char *p = strstr(h->log, line);
        if (!p)
                fail_msg("injected URC not delivered as a URC:\n%s", h->log);
        memmove(p, p + strlen(line), strlen(p + strlen(line)) + 1);
        if (strstr(h->log, line))
                fail_msg("injected URC delivered twice");
        h->log_len = strlen(h->log);
}

static void check_replay(const struct script *s, struct harness *h, const char *how)
{
        if (strcmp(h->log, s->expect) != 0)
                fail_msg("%s (%s [%s], %s)\nlog:\n%s\nwant:\n%s", s->path, s->model, s->firmware,
                         how, h->log, s->expect);
        if (h->tx_len != s->tx_len || memcmp(h->tx, s->tx, s->tx_len) != 0) {
                char a[TX_MAX * 4 + 1], b[TX_MAX * 4 + 1], ra[TX_MAX + 1], rb[TX_MAX + 1];
                memcpy(ra, h->tx, h->tx_len);
                ra[h->tx_len] = '\0';
                memcpy(rb, s->tx, s->tx_len);
                rb[s->tx_len] = '\0';
                fail_msg("%s (%s): written\n%s\nwant\n%s", s->path, how, esc(ra, a, sizeof(a)),
                         esc(rb, b, sizeof(b)));
        }
}

static const char *transcript_dir(char *buf, size_t size)
{
        const char *src = getenv("PUENTE_SRC");
        snprintf(buf, size, "%s/tests/transcripts", src ? src : ".");
        return buf;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_transcripts(void **state)
{
        char dir[512];
        DIR *d = opendir(transcript_dir(dir, sizeof(dir)));
        if (!d)
                fail_msg("cannot open %s (set PUENTE_SRC)", dir);
        char *names[128];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 3 && strcmp(e->d_name + l - 3, ".at") == 0 && n < 128)
                        names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(names[0]), name_cmp);
        assert_true(n >= 8);

        static struct script s;
        static struct harness h;
        static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };
        for (size_t i = 0; i < n; i++) {
                char path[1024], how[64];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                script_load(&s, path);
                int lfs = 0;
                for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
                        lfs = replay(&s, &h, steps[k], -1);
                        snprintf(how, sizeof(how), "pieces of %zu", steps[k]);
                        check_replay(&s, &h, how);
                        h_fini(&h);
                }
                for (int at = 0; at < lfs; at++) {
                        replay(&s, &h, 0, at);
                        remove_injected(&h);
                        snprintf(how, sizeof(how), "URC injected after LF %d", at);
                        check_replay(&s, &h, how);
                        h_fini(&h);
                }
                script_free(&s);
                free(names[i]);
        }
}

/* ---- one behaviour at a time -------------------------------------------------------- */

static const struct at_chat_cmd CSQ = { .text = "AT+CSQ", .prefix = "+CSQ:" };

static void test_ok_with_and_without_echo(void **state)
{
        struct harness h;
        h_init(&h);
        h_send(&h, &CSQ);
        h_rx(&h, "AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n");
        h_send(&h, &CSQ);
        h_rx(&h, "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
        assert_tx(&h, "AT+CSQ\rAT+CSQ\r");
        assert_log(&h, "result ok AT+CSQ\nline +CSQ: 17,99\nresult ok AT+CSQ\nline +CSQ: 18,99\n");
        struct at_csq q;
        assert_int_equal(at_parse_csq(h.last_lines[0], &q), 0);
        assert_int_equal(q.rssi, 18);
        h_fini(&h);
}

static void test_timeout_fake_clock(void **state)
{
        struct harness h;
        h_init(&h);
        assert_int_equal(at_chat_next_deadline(h.chat), UINT64_MAX);
        h.now = 1000;
        struct at_chat_cmd slow = { .text = "AT+COPS=?", .prefix = "+COPS:", .timeout_ms = 120000 };
        h_send(&h, &CSQ);
        h_send(&h, &slow);
        assert_int_equal(at_chat_next_deadline(h.chat), 1000 + AT_CHAT_TIMEOUT_DEFAULT);
        h_tick(&h, 1000 + AT_CHAT_TIMEOUT_DEFAULT - 1);
        assert_int_equal(h.results, 0);
        assert_tx(&h, "AT+CSQ\r");
        h_tick(&h, 1000 + AT_CHAT_TIMEOUT_DEFAULT);
        assert_log(&h, "result timeout AT+CSQ\n");
        assert_int_equal(h.last.status, AT_STATUS_TIMEOUT);
        /* The next command goes at once and its own time-out counts from now. */
        assert_tx(&h, "AT+CSQ\rAT+COPS=?\r");
        assert_int_equal(at_chat_next_deadline(h.chat), 1000 + AT_CHAT_TIMEOUT_DEFAULT + 120000);
        h_tick(&h, 1000 + AT_CHAT_TIMEOUT_DEFAULT + 119999);
        h_rx(&h, "\r\n+COPS: (2,\"Telcel\",\"TELCEL\",\"334020\",7)\r\n\r\nOK\r\n");
        assert_int_equal(h.last.status, AT_STATUS_OK);
        assert_int_equal(at_chat_next_deadline(h.chat), UINT64_MAX);
        assert_int_equal(at_chat_queued(h.chat), 0);
        h_fini(&h);
}

static const char PDU[] = "0011000B915121551532F40000AA0AE8329BFD4697D9EC37";

static void test_prompt_variants(void **state)
{
        static const char *const prompts[] = { "\r\n> ", "\r\n>", "\r\n>\r\n", "> ", "\n>\n" };
        for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
                struct harness h;
                h_init(&h);
                struct at_chat_cmd cmgs = { .text = "AT+CMGS=23", .prefix = "+CMGS:", .pdu = PDU };
                h_send(&h, &cmgs);
                h_rx(&h, "AT+CMGS=23\r");
                h_rx(&h, prompts[i]);
                char want[256];
                snprintf(want, sizeof(want), "AT+CMGS=23\r%s\x1a", PDU);
                assert_tx(&h, want);
                h_rx(&h, "\r\n+CMGS: 42\r\n\r\nOK\r\n");
                assert_log(&h, "result ok AT+CMGS=23\nline +CMGS: 42\n");
                const struct at_line *l = at_result_find(&h.last, "+CMGS:");
                assert_non_null(l);
                int mr;
                assert_int_equal(at_parse_cmgs(h.last_lines[0], &mr), 0);
                assert_int_equal(mr, 42);
                mr = -1;
                assert_int_equal(at_result_cmgs_mr(&h.last, &mr), 0);
                assert_int_equal(mr, 42);
                h_fini(&h);
        }
}

static void test_cmgs_bare_ok_is_reported(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd cmgs = { .text = "AT+CMGS=23", .prefix = "+CMGS:", .pdu = PDU };
        h_send(&h, &cmgs);
        h_rx(&h, "\r\n> ");
        h_rx(&h, "\r\nOK\r\n");
        assert_int_equal(h.last.status, AT_STATUS_OK);
        assert_int_equal(h.last.n_lines, 0);
        assert_null(at_result_find(&h.last, "+CMGS:"));
        int mr = -1;
        assert_int_equal(at_result_cmgs_mr(&h.last, &mr), -ENOMSG);
        assert_int_equal(mr, -1);
        h_fini(&h);
}

static void test_cmgs_timeout_before_prompt_writes_esc(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd cmgs = {
                .text = "AT+CMGS=23", .prefix = "+CMGS:", .pdu = PDU, .timeout_ms = 10000
        };
        h_send(&h, &cmgs);
        h_send(&h, &CSQ);
        h_tick(&h, 10000);
        assert_tx(&h, "AT+CMGS=23\r\x1b");
        assert_int_equal(h.last.status, AT_STATUS_TIMEOUT);
        /* The modem's OK to the ESC comes while the next command waits: not taken for it. */
        assert_int_equal(at_chat_next_deadline(h.chat), 10500);
        h_rx(&h, "\r\nOK\r\n");
        h_tick(&h, 10499);
        assert_tx(&h, "AT+CMGS=23\r\x1b");
        h_tick(&h, 10500);
        assert_tx(&h, "AT+CMGS=23\r\x1b"
                      "AT+CSQ\r");
        assert_int_equal(at_chat_next_deadline(h.chat), 10500 + AT_CHAT_TIMEOUT_DEFAULT);
        h_rx(&h, "\r\n+CSQ: 9,99\r\n\r\nOK\r\n");
        assert_log(&h, "result timeout AT+CMGS=23\nevent stray-final OK\n"
                       "result ok AT+CSQ\nline +CSQ: 9,99\n");
        h_fini(&h);
}

static void test_cmgs_timeout_after_pdu_no_esc(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd cmgs = {
                .text = "AT+CMGS=23", .prefix = "+CMGS:", .pdu = PDU, .timeout_ms = 10000
        };
        h_send(&h, &cmgs);
        h_rx(&h, "\r\n> ");
        h_tick(&h, 10000);
        char want[256];
        snprintf(want, sizeof(want), "AT+CMGS=23\r%s\x1a", PDU);
        assert_tx(&h, want);
        assert_int_equal(h.last.status, AT_STATUS_TIMEOUT);
        h_fini(&h);
}

static void test_cmgs_mr_statuses(void **state)
{
        static const struct {
                enum at_status st;
                int ret;
        } t[] = {
                { AT_STATUS_ERROR, -EIO },
                { AT_STATUS_CMS, -EIO },
                { AT_STATUS_CME, -EIO },
                { AT_STATUS_OTHER, -EIO },
                { AT_STATUS_TIMEOUT, -ETIMEDOUT },
                { AT_STATUS_RESET, -ECONNRESET },
                { AT_STATUS_CANCELLED, -ECANCELED },
        };
        struct at_line bad = { .text = "+CMGS: 300" };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct at_result r = { .status = t[i].st, .final = "", .err_text = "" };
                int mr = -1;
                assert_int_equal(at_result_cmgs_mr(&r, &mr), t[i].ret);
                assert_int_equal(mr, -1);
        }
        struct at_result r = { .status = AT_STATUS_OK, .n_lines = 1, .lines = &bad };
        int mr = -1;
        assert_int_equal(at_result_cmgs_mr(&r, &mr), -EBADMSG);
        assert_int_equal(at_result_cmgs_mr(NULL, &mr), -EINVAL);
}

static void test_stray_prompt_writes_esc(void **state)
{
        struct harness h;
        h_init(&h);
        h_rx(&h, "\r\n> ");
        h_send(&h, &CSQ);
        h_rx(&h, "\r\n> ");
        assert_tx(&h, "\x1b"
                      "AT+CSQ\r\x1b");
        assert_log(&h, "event stray-prompt\nevent stray-prompt\n");
        h_fini(&h);
}

static void test_creg_query_versus_urc(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd q = { .text = "AT+CREG?", .prefix = "+CREG:" };
        h_rx(&h, "\r\n+CREG: 1\r\n");
        h_send(&h, &q);
        h_rx(&h, "\r\n+CREG: 2,1,\"00C3\",\"0000D9A7\"\r\n\r\n+CGREG: 1\r\n\r\nOK\r\n");
        h_send(&h, &CSQ);
        h_rx(&h, "\r\n+CREG: 5,\"00C3\",\"0000D9A7\"\r\n\r\n+CSQ: 9,99\r\n\r\nOK\r\n");
        assert_log(&h, "urc +CREG: 1\n"
                       "urc +CGREG: 1\n"
                       "result ok AT+CREG?\nline +CREG: 2,1,\"00C3\",\"0000D9A7\"\n"
                       "urc +CREG: 5,\"00C3\",\"0000D9A7\"\n"
                       "result ok AT+CSQ\nline +CSQ: 9,99\n");
        h_fini(&h);
}

/* The daemon saw an empty IMEI when a +CMTI arrived during the probe: a bare-answer command
 * (AT+CGSN, rule 6) must keep only its own line, with the URC before, between or after it,
 * whole or cut in pieces. */
static void test_bare_answer_with_urc_in_flight(void **state)
{
        (void)state;
        static const char *const feeds[] = {
                "\r\n+CMTI: \"SM\",3\r\n\r\n356938035643809\r\n\r\nOK\r\n",
                "\r\n356938035643809\r\n\r\n+CMTI: \"SM\",3\r\n\r\nOK\r\n",
                "\r\n356938035643809\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",3\r\n",
                "+CMTI: \"SM\",3\r\n356938035643809\r\nOK\r\n",
        };
        static const struct at_chat_cmd cgsn = { .text = "AT+CGSN" };
        for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
                for (size_t cut = 0; cut < strlen(feeds[i]); cut += 3) {
                        struct harness h;
                        h_init(&h);
                        h_send(&h, &cgsn);
                        h_rx_n(&h, feeds[i], cut);
                        h_rx(&h, feeds[i] + cut);
                        assert_int_equal(h.results, 1);
                        assert_int_equal(h.last.status, AT_STATUS_OK);
                        assert_int_equal(h.last.n_lines, 1);
                        assert_string_equal(h.last_lines[0], "356938035643809");
                        assert_non_null(strstr(h.log, "urc +CMTI: \"SM\",3\n"));
                        h_fini(&h);
                }
        }
}

static bool is_cpin_ready(const char *line, void *userdata)
{
        return strcmp(line, "+CPIN: READY") == 0;
}

static void test_vendor_and_command_finals(void **state)
{
        struct harness h;
        h_init(&h);
        /* A vendor final (ZTE-style COMMAND NOT SUPPORT) added to the table. */
        assert_int_equal(at_chat_add_final(h.chat, "COMMAND NOT SUPPORT", false, AT_STATUS_ERROR),
                         0);
        assert_int_equal(at_chat_add_final(h.chat, "", false, AT_STATUS_ERROR), -EINVAL);
        assert_int_equal(at_chat_add_final(h.chat, "X", false, AT_STATUS_CME), -EINVAL);
        struct at_chat_cmd zte = { .text = "AT^SYSCFG?", .prefix = "^SYSCFG:" };
        h_send(&h, &zte);
        h_rx(&h, "\r\nCOMMAND NOT SUPPORT\r\n");
        /* Modems that send +CPIN: READY and never OK (reported in the issue). */
        struct at_chat_cmd cpin = {
                .text = "AT+CPIN?", .prefix = "+CPIN:", .flags = AT_CMD_PREFIX_IS_FINAL
        };
        h_send(&h, &cpin);
        h_rx(&h, "\r\n+CPIN: READY\r\n");
        struct at_chat_cmd cpin2 = { .text = "AT+CPIN?", .is_final = is_cpin_ready };
        h_send(&h, &cpin2);
        h_rx(&h, "\r\n+CPIN: READY\r\n");
        h_rx(&h, "\r\nOK\r\n");
        assert_log(&h, "result error AT^SYSCFG?\n"
                       "result ok AT+CPIN?\nline +CPIN: READY\n"
                       "result ok AT+CPIN?\nline +CPIN: READY\n"
                       "event stray-final OK\n");
        assert_string_equal(h.last.final, "+CPIN: READY");
        h_fini(&h);
}

static void test_cme_cms_numbers_and_text(void **state)
{
        static const struct {
                const char *line;
                enum at_status status;
                int err;
                const char *text;
        } t[] = {
                { "+CME ERROR: 10", AT_STATUS_CME, 10, "10" },
                { "+CME ERROR: SIM not inserted", AT_STATUS_CME, 10, "SIM not inserted" },
                { "+CME ERROR: sim PIN required", AT_STATUS_CME, 11, "sim PIN required" },
                { "+CME ERROR: Frobnicator jammed", AT_STATUS_CME, -1, "Frobnicator jammed" },
                { "+CME ERROR:3", AT_STATUS_CME, 3, "3" },
                { "+CMS ERROR: 304", AT_STATUS_CMS, 304, "304" },
                { "+CMS ERROR: SMSC address unknown", AT_STATUS_CMS, 330, "SMSC address unknown" },
                { "+CMS ERROR: 500", AT_STATUS_CMS, 500, "500" },
                { "ERROR", AT_STATUS_ERROR, 0, "" },
                { "NO CARRIER", AT_STATUS_OTHER, 0, "" },
                { "CONNECT 9600", AT_STATUS_OTHER, 0, "" },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct harness h;
                char rx[128];
                h_init(&h);
                h_send(&h, &CSQ);
                snprintf(rx, sizeof(rx), "\r\n%s\r\n", t[i].line);
                h_rx(&h, rx);
                assert_int_equal(h.results, 1);
                assert_int_equal(h.last.status, t[i].status);
                assert_int_equal(h.last.err, t[i].err);
                assert_string_equal(h.last.final, t[i].line);
                h_fini(&h);
        }
}

static void test_garbage_nul_long_lines(void **state)
{
        struct harness h;
        static char longline[AT_LINE_MAX + 10];
        h_init(&h);
        h_send(&h, &CSQ);
        h_rx_n(&h,
               "\r\n\0\0\xff\r\n+CSQ: 5,\0"
               "99\r\n",
               20);
        memset(longline, 'Z', sizeof(longline) - 3);
        memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
        h_rx(&h, longline);
        h_rx(&h, "+CSQ: 6,99\r\nOK\r\n");
        char want[256];
        snprintf(want, sizeof(want),
                 "event dropped control 3\nevent dropped control 11\nevent dropped long %d\n"
                 "result ok AT+CSQ\nline +CSQ: 6,99\n",
                 AT_LINE_MAX + 7);
        assert_log(&h, want);
        h_fini(&h);
}

static void test_urc_flood_does_not_starve(void **state)
{
        /* Huawei-style ^RSSI/^HCSQ noise several times a second. */
        struct harness h;
        int urcs = 0;
        h_init(&h);
        for (int i = 0; i < 20; i++)
                h_send(&h, &CSQ);
        for (uint64_t t = 0; h.results < 20 && t < 100000; t += 200) {
                h.now = t;
                h_rx(&h, "\r\n^RSSI:14\r\n\r\n^HCSQ:\"LTE\",40,35,120,18\r\n");
                urcs += 2;
                if (t % 600 == 400)
                        h_rx(&h, "\r\n+CSQ: 14,99\r\n\r\nOK\r\n");
                h_tick(&h, t);
        }
        assert_int_equal(h.results, 20);
        assert_null(strstr(h.log, "timeout"));
        assert_true(urcs > 60);
        h_fini(&h);
}

static void test_reset_mid_command(void **state)
{
        struct harness h;
        h_init(&h);
        h.now = 100000;
        struct at_chat_cmd cmgs = {
                .text = "AT+CMGS=23", .prefix = "+CMGS:", .pdu = PDU, .timeout_ms = 60000
        };
        h_send(&h, &cmgs);
        h_send(&h, &CSQ);
        h_rx(&h, "\r\n> ");
        h.now = 101000;
        h_rx(&h, "\r\nRDY\r\n");
        /* Echo is back on after the reset (ATE1 default): the echo is dropped. */
        h_rx(&h, "AT+CSQ\r\r\n+CSQ: 3,99\r\n\r\nOK\r\n");
        h.now = 105000;
        h_rx(&h, "\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n");
        h.now = 200000;
        h_send(&h, &CSQ);
        h_rx(&h, "\r\nSMS Ready\r\n");
        assert_log(&h, "event reset RDY busy\n"
                       "result reset AT+CMGS=23\n"
                       "urc RDY\n"
                       "result ok AT+CSQ\nline +CSQ: 3,99\n"
                       "urc +CFUN: 1\nurc +CPIN: READY\nurc Call Ready\nurc SMS Ready\n"
                       "event reset SMS Ready busy\n"
                       "result reset AT+CSQ\n"
                       "urc SMS Ready\n");
        h_fini(&h);
}

static void test_limits_and_bad_arguments(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd bad[] = {
                { .text = NULL },
                { .text = "" },
                { .text = "AT\r" },
                { .text = "AT+CMGS=3", .pdu = "00GG" },
                { .text = "AT+CMGS=3", .pdu = "" },
                { .text = "AT", .prefix = "+XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(at_chat_send(h.chat, &bad[i], 0, NULL), -EINVAL);
        char text[AT_CHAT_CMD_MAX + 2];
        memset(text, 'A', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        struct at_chat_cmd toolong = { .text = text };
        assert_int_equal(at_chat_send(h.chat, &toolong, 0, NULL), -EINVAL);
        text[AT_CHAT_CMD_MAX] = '\0';
        assert_int_equal(at_chat_send(h.chat, &toolong, 0, NULL), 0);
        for (int i = 1; i < AT_CHAT_QUEUE_MAX; i++)
                assert_int_equal(at_chat_send(h.chat, &CSQ, 0, NULL), 0);
        assert_int_equal(at_chat_send(h.chat, &CSQ, 0, NULL), -ENOSPC);
        assert_int_equal(at_chat_queued(h.chat), AT_CHAT_QUEUE_MAX);
        assert_int_equal(at_chat_feed(h.chat, NULL, 1, 0), -EINVAL);
        assert_int_equal(at_chat_new(NULL, NULL), -EINVAL);
        assert_int_equal(at_chat_register_urc(h.chat, "", false, on_urc, &h), -EINVAL);
        /* Exactly AT_CHAT_URC_MAX new prefixes fit besides the built-ins; replacing a
         * built-in or an added one takes no room. */
        assert_int_equal(at_chat_register_urc(h.chat, "+CMTI:", false, on_urc, &h), 0);
        for (int i = 0; i < AT_CHAT_URC_MAX; i++) {
                char p[32];
                snprintf(p, sizeof(p), "^X%d:", i);
                assert_int_equal(at_chat_register_urc(h.chat, p, false, on_urc, &h), 0);
        }
        assert_int_equal(at_chat_register_urc(h.chat, "^X0:", true, on_urc, &h), 0);
        assert_int_equal(at_chat_register_urc(h.chat, "RING", false, on_urc, &h), 0);
        assert_int_equal(at_chat_register_urc(h.chat, "^LAST:", false, on_urc, &h), -ENOSPC);
        for (int i = 0; i < AT_CHAT_FINALS_MAX; i++) {
                char f[32];
                snprintf(f, sizeof(f), "VENDOR FAIL %d", i);
                assert_int_equal(at_chat_add_final(h.chat, f, false, AT_STATUS_ERROR), 0);
        }
        assert_int_equal(at_chat_add_final(h.chat, "ONE MORE", false, AT_STATUS_ERROR), -ENOSPC);
        h_fini(&h);
}

static int lines_seen;
static void count_line(const char *line, const char *pdu, void *userdata)
{
        lines_seen++;
}

static void test_result_bounds(void **state)
{
        struct harness h;
        h_init(&h);
        struct at_chat_cmd cmgl = { .text = "AT+CMGL=4",
                                    .prefix = "+CMGL:",
                                    .flags = AT_CMD_EXPECT_PDU,
                                    .on_line = count_line };
        lines_seen = 0;
        h_send(&h, &cmgl);
        /* on_line needs the harness's on_result: h_send replaced userdata, so count only. */
        for (int i = 0; i < AT_RESULT_LINES_MAX + 5; i++) {
                char rx[256];
                snprintf(rx, sizeof(rx), "\r\n+CMGL: %d,1,,23\r\n%s\r\n", i, PDU);
                h_rx(&h, rx);
        }
        h_rx(&h, "\r\nOK\r\n");
        assert_int_equal(h.last.status, AT_STATUS_OK);
        assert_int_equal(h.last.n_lines, AT_RESULT_LINES_MAX);
        assert_true(h.last.truncated);
        assert_int_equal(lines_seen, AT_RESULT_LINES_MAX + 5);
        h_fini(&h);
}

static void test_cancel(void **state)
{
        struct harness h;
        h_init(&h);
        unsigned a = h_send(&h, &CSQ);
        unsigned b = h_send(&h, &CSQ);
        unsigned c = h_send(&h, &CSQ);
        assert_int_equal(at_chat_cancel(h.chat, a), -EBUSY);
        assert_int_equal(at_chat_cancel(h.chat, b), 0);
        assert_int_equal(at_chat_cancel(h.chat, b), -ENOENT);
        assert_int_equal(at_chat_queued(h.chat), 2);
        h_rx(&h, "\r\nOK\r\n");
        assert_tx(&h, "AT+CSQ\rAT+CSQ\r");
        assert_int_equal(h.last.id, a);
        h_send(&h, &CSQ);
        at_chat_cancel_all(h.chat);
        assert_int_equal(at_chat_queued(h.chat), 1);
        h_rx(&h, "\r\nOK\r\n");
        assert_int_equal(h.last.id, c);
        h_send(&h, &CSQ);
        h_send(&h, &CSQ);
        h_fini(&h);
        assert_log(&h, "result cancelled AT+CSQ\nresult ok AT+CSQ\nresult cancelled AT+CSQ\n"
                       "result ok AT+CSQ\nresult cancelled AT+CSQ\nresult cancelled AT+CSQ\n");
}

static struct harness *reenter_h;
static void reenter_result(const struct at_result *r, void *userdata)
{
        struct at_chat_cmd next = { .text = "AT+CMGF=0" };
        if (r->status == AT_STATUS_OK)
                assert_int_equal(at_chat_send(reenter_h->chat, &next, reenter_h->now, NULL), 0);
        on_result(r, userdata);
}

static void test_send_from_callback(void **state)
{
        struct harness h;
        h_init(&h);
        reenter_h = &h;
        struct hcmd *c = &h.cmds[h.n_cmds++];
        c->h = &h;
        snprintf(c->text, sizeof(c->text), "ATE0");
        struct at_chat_cmd e0 = { .text = "ATE0", .on_result = reenter_result, .userdata = c };
        assert_int_equal(at_chat_send(h.chat, &e0, 0, NULL), 0);
        h_send(&h, &CSQ);
        h_rx(&h, "ATE0\r\r\nOK\r\n");
        /* The command sent from the callback queues behind AT+CSQ, already waiting. */
        assert_tx(&h, "ATE0\rAT+CSQ\r");
        h_rx(&h, "\r\n+CSQ: 1,1\r\n\r\nOK\r\n\r\nOK\r\n");
        assert_tx(&h, "ATE0\rAT+CSQ\rAT+CMGF=0\r");
        assert_int_equal(at_chat_queued(h.chat), 0);
        h_fini(&h);
}

static void test_urc_handlers_and_pdus(void **state)
{
        struct harness h;
        h_init(&h);
        assert_int_equal(at_chat_register_urc(h.chat, "+CMTI:", false, on_urc, &h), 0);
        h_rx(&h, "\r\n+CMT: ,23\r\n");
        h_rx(&h, PDU);
        h_rx(&h, "\r\n\r\n+CMTI: \"ME\",4\r\n\r\n+CDS: 25\r\n\r\nOK\r\n\r\n^FOO: 1\r\n");
        assert_log(&h, "urc +CMT: ,23 pdu=0011000B915121551532F40000AA0AE8329BFD4697D9EC37\n"
                       "urc +CMTI: \"ME\",4\n"
                       "event missing-pdu +CDS: 25\n"
                       "urc +CDS: 25\n"
                       "event stray-final OK\n"
                       "urc ^FOO: 1\n");
        h_fini(&h);
}

static void test_free_null(void **state)
{
        assert_null(at_chat_free(NULL));
        assert_int_equal(at_chat_next_deadline(NULL), UINT64_MAX);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_transcripts),
                cmocka_unit_test(test_ok_with_and_without_echo),
                cmocka_unit_test(test_timeout_fake_clock),
                cmocka_unit_test(test_prompt_variants),
                cmocka_unit_test(test_cmgs_bare_ok_is_reported),
                cmocka_unit_test(test_cmgs_timeout_before_prompt_writes_esc),
                cmocka_unit_test(test_cmgs_timeout_after_pdu_no_esc),
                cmocka_unit_test(test_cmgs_mr_statuses),
                cmocka_unit_test(test_stray_prompt_writes_esc),
                cmocka_unit_test(test_creg_query_versus_urc),
                cmocka_unit_test(test_bare_answer_with_urc_in_flight),
                cmocka_unit_test(test_vendor_and_command_finals),
                cmocka_unit_test(test_cme_cms_numbers_and_text),
                cmocka_unit_test(test_garbage_nul_long_lines),
                cmocka_unit_test(test_urc_flood_does_not_starve),
                cmocka_unit_test(test_reset_mid_command),
                cmocka_unit_test(test_limits_and_bad_arguments),
                cmocka_unit_test(test_result_bounds),
                cmocka_unit_test(test_cancel),
                cmocka_unit_test(test_send_from_callback),
                cmocka_unit_test(test_urc_handlers_and_pdus),
                cmocka_unit_test(test_free_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
