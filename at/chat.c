/* AT command channel: queue, time-outs, finals, URCs (see at/chat.h). */
#include "at/chat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at/chat-tables.h"
#include "at/parse.h"

/* Room for ESC + a command + CR, or a PDU + Ctrl-Z, twice over: enough for a timed-out
 * command's ESC and the next command even if the caller drained nothing in between. */
#define OUT_MAX (2 * (AT_CHAT_CMD_MAX + AT_CHAT_PDU_HEX_MAX + 4))

/* Boot lines after this long since the last reset event mean a new reset; closer ones are
 * the rest of the same boot (a SIM800 sends RDY, then Call Ready and SMS Ready seconds
 * later, while the daemon already runs its init commands). */
#define BOOT_WINDOW_MS 30000

/* After ESC ends a PDU command the modem may still answer it (OK, or +CMS ERROR) and is
 * back in command mode only then. The next command waits this long so that answer is not
 * taken for its own (a stray final is reported instead). */
#define ESC_SETTLE_MS 500

#define CTRL_Z 0x1a
#define ESC    0x1b

struct cmd_slot {
        unsigned id;
        char text[AT_CHAT_CMD_MAX + 1];
        char prefix[AT_CHAT_PREFIX_MAX + 1];
        char pdu[AT_CHAT_PDU_HEX_MAX + 1];
        size_t prefix_len;
        bool has_pdu;
        uint32_t timeout_ms;
        unsigned flags;
        at_chat_final_fn is_final;
        at_chat_line_fn on_line;
        at_chat_result_fn on_result;
        void *userdata;
};

struct urc_entry {
        char prefix[AT_CHAT_PREFIX_MAX + 1];
        size_t len;
        bool has_pdu;
        at_chat_urc_fn fn; /* NULL: built-in prefix with no handler, goes to urc_default */
        void *userdata;
};

struct final_entry {
        char text[AT_CHAT_PREFIX_MAX + 1];
        size_t len;
        bool prefix;
        enum at_status status;
};

enum phase {
        PHASE_IDLE,     /* nothing in flight */
        PHASE_WAIT,     /* command written; waiting for the prompt or the answer */
        PHASE_PDU_SENT, /* PDU and Ctrl-Z written after the prompt */
};

enum pending {
        PEND_NONE,
        PEND_URC, /* +CMT:/+CDS: header waiting for its PDU */
        PEND_CMD, /* +CMGR:/+CMGL: header waiting for its PDU */
};

struct at_chat {
        struct at_chat_config cfg;
        struct at_lexer lx;

        struct cmd_slot queue[AT_CHAT_QUEUE_MAX]; /* queue[0] is the head */
        size_t queued;
        unsigned next_id;
        enum phase phase;
        uint64_t deadline;
        bool echo_seen;

        struct at_line lines[AT_RESULT_LINES_MAX];
        size_t n_lines;
        char text[AT_RESULT_TEXT_MAX];
        size_t text_used;
        bool truncated;

        enum pending pend;
        size_t pend_urc;
        char pend_line[AT_LINE_MAX + 1];

        bool booted;
        uint64_t boot_at;
        uint64_t quiet_until; /* no command is written before this time */

        uint8_t out[OUT_MAX];
        size_t out_len;

        struct urc_entry urcs[AT_CHAT_BUILTIN_URCS_MAX + AT_CHAT_URC_MAX];
        size_t n_urcs;
        struct final_entry finals[AT_CHAT_BUILTIN_FINALS_MAX + AT_CHAT_FINALS_MAX];
        size_t n_finals;
};

static bool starts_with(const char *s, const char *prefix, size_t plen)
{
        return strncmp(s, prefix, plen) == 0;
}

/* Length of s without trailing blanks: "OK " is still OK. */
static size_t trimmed_len(const char *s)
{
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return n;
}

static bool line_is(const char *line, const char *text)
{
        size_t n = strlen(text);
        return trimmed_len(line) == n && memcmp(line, text, n) == 0;
}

static int add_final(struct at_chat *chat, const char *text, bool prefix, enum at_status st)
{
        size_t n = strlen(text);
        if (n == 0 || n > AT_CHAT_PREFIX_MAX)
                return -EINVAL;
        if (chat->n_finals >= at_chat_builtin_finals_n + AT_CHAT_FINALS_MAX)
                return -ENOSPC;
        struct final_entry *f = &chat->finals[chat->n_finals++];
        memcpy(f->text, text, n + 1);
        f->len = n;
        f->prefix = prefix;
        f->status = st;
        return 0;
}

static int add_urc(struct at_chat *chat, const char *prefix, bool has_pdu, at_chat_urc_fn fn,
                   void *userdata)
{
        size_t n = strlen(prefix);
        if (n == 0 || n > AT_CHAT_PREFIX_MAX)
                return -EINVAL;
        struct urc_entry *u = NULL;
        for (size_t i = 0; i < chat->n_urcs; i++)
                if (chat->urcs[i].len == n && memcmp(chat->urcs[i].prefix, prefix, n) == 0)
                        u = &chat->urcs[i];
        if (!u) {
                if (chat->n_urcs >= at_chat_builtin_urcs_n + AT_CHAT_URC_MAX)
                        return -ENOSPC;
                u = &chat->urcs[chat->n_urcs++];
                memcpy(u->prefix, prefix, n + 1);
                u->len = n;
        }
        u->has_pdu = has_pdu;
        u->fn = fn;
        u->userdata = userdata;
        return 0;
}

int at_chat_new(const struct at_chat_config *cfg, struct at_chat **ret_chat)
{
        if (!ret_chat)
                return -EINVAL;
        struct at_chat *chat = calloc(1, sizeof(*chat));
        if (!chat)
                return -ENOMEM;
        if (cfg)
                chat->cfg = *cfg;
        at_lexer_reset(&chat->lx);
        chat->next_id = 1;
        for (size_t i = 0; i < at_chat_builtin_finals_n; i++)
                add_final(chat, at_chat_builtin_finals[i].text, at_chat_builtin_finals[i].prefix,
                          at_chat_builtin_finals[i].status);
        for (size_t i = 0; i < at_chat_builtin_urcs_n; i++)
                add_urc(chat, at_chat_builtin_urcs[i].prefix, at_chat_builtin_urcs[i].has_pdu, NULL,
                        NULL);
        *ret_chat = chat;
        return 0;
}

int at_chat_register_urc(struct at_chat *chat, const char *prefix, bool has_pdu, at_chat_urc_fn fn,
                         void *userdata)
{
        if (!chat || !prefix)
                return -EINVAL;
        return add_urc(chat, prefix, has_pdu, fn, userdata);
}

int at_chat_add_final(struct at_chat *chat, const char *text, bool prefix, enum at_status status)
{
        if (!chat || !text)
                return -EINVAL;
        if (status != AT_STATUS_OK && status != AT_STATUS_ERROR && status != AT_STATUS_OTHER)
                return -EINVAL;
        return add_final(chat, text, prefix, status);
}

static void emit_event(struct at_chat *chat, enum at_event_type type, const char *line)
{
        if (!chat->cfg.event)
                return;
        struct at_event ev = { .type = type, .line = line ? line : "" };
        ev.cmd_in_flight = chat->phase != PHASE_IDLE;
        chat->cfg.event(&ev, chat->cfg.userdata);
}

static void out_append(struct at_chat *chat, const void *data, size_t n)
{
        /* Cannot overflow while the caller drains between calls (OUT_MAX covers two
         * commands); if it does not, the oldest unwritten bytes belong to commands already
         * ended and are dropped. */
        if (chat->out_len + n > OUT_MAX)
                chat->out_len = 0;
        memcpy(chat->out + chat->out_len, data, n);
        chat->out_len += n;
}

static void out_byte(struct at_chat *chat, uint8_t b)
{
        out_append(chat, &b, 1);
}

static void clear_result(struct at_chat *chat)
{
        chat->n_lines = 0;
        chat->text_used = 0;
        chat->truncated = false;
}

static void start_next(struct at_chat *chat, uint64_t now)
{
        if (chat->phase != PHASE_IDLE || chat->queued == 0 || now < chat->quiet_until)
                return;
        struct cmd_slot *c = &chat->queue[0];
        clear_result(chat);
        chat->echo_seen = false;
        chat->phase = PHASE_WAIT;
        chat->deadline = now + c->timeout_ms;
        out_append(chat, c->text, strlen(c->text));
        out_byte(chat, '\r');
}

static void drop_pending(struct at_chat *chat)
{
        chat->pend = PEND_NONE;
        at_lexer_expect_pdu(&chat->lx, false);
}

/* Ends the command in flight and starts the next. */
static void complete(struct at_chat *chat, enum at_status st, const char *final, uint64_t now)
{
        struct cmd_slot c = chat->queue[0];
        if (chat->pend == PEND_CMD)
                drop_pending(chat);
        chat->queued--;
        memmove(&chat->queue[0], &chat->queue[1], chat->queued * sizeof(chat->queue[0]));
        chat->phase = PHASE_IDLE;

        struct at_result r = {
                .id = c.id,
                .status = st,
                .err = 0,
                .final = final ? final : "",
                .err_text = "",
                .n_lines = chat->n_lines,
                .lines = chat->lines,
                .truncated = chat->truncated,
        };
        struct at_error e;
        if (st == AT_STATUS_CME || st == AT_STATUS_CMS) {
                r.err = -1;
                if (at_parse_error(final, &e) == 0) {
                        r.err = e.code;
                        r.err_text = e.text;
                }
        }
        if (c.on_result)
                c.on_result(&r, c.userdata);
        clear_result(chat);
        start_next(chat, now);
}

static void keep_line(struct at_chat *chat, const char *text, const char *pdu)
{
        struct cmd_slot *c = &chat->queue[0];
        if (c->on_line)
                c->on_line(text, pdu, c->userdata);
        size_t tn = strlen(text) + 1, pn = pdu ? strlen(pdu) + 1 : 0;
        if (chat->n_lines >= AT_RESULT_LINES_MAX ||
            chat->text_used + tn + pn > AT_RESULT_TEXT_MAX) {
                chat->truncated = true;
                return;
        }
        struct at_line *l = &chat->lines[chat->n_lines++];
        l->text = memcpy(chat->text + chat->text_used, text, tn);
        chat->text_used += tn;
        l->pdu = NULL;
        if (pdu) {
                l->pdu = memcpy(chat->text + chat->text_used, pdu, pn);
                chat->text_used += pn;
        }
}

/* A PDU header did not get its PDU: deliver it alone. */
static void flush_pending(struct at_chat *chat)
{
        enum pending p = chat->pend;
        if (p == PEND_NONE)
                return;
        drop_pending(chat);
        emit_event(chat, AT_EVENT_MISSING_PDU, chat->pend_line);
        if (p == PEND_CMD && chat->phase != PHASE_IDLE) {
                keep_line(chat, chat->pend_line, NULL);
        } else if (p == PEND_URC) {
                const struct urc_entry *u = &chat->urcs[chat->pend_urc];
                if (u->fn)
                        u->fn(chat->pend_line, NULL, u->userdata);
                else if (chat->cfg.urc_default)
                        chat->cfg.urc_default(chat->pend_line, NULL, chat->cfg.userdata);
        }
}

static void set_pending(struct at_chat *chat, enum pending p, const char *line, size_t urc)
{
        flush_pending(chat);
        chat->pend = p;
        chat->pend_urc = urc;
        snprintf(chat->pend_line, sizeof(chat->pend_line), "%s", line);
        at_lexer_expect_pdu(&chat->lx, true);
}

static const struct final_entry *find_final(const struct at_chat *chat, const char *line)
{
        for (size_t i = 0; i < chat->n_finals; i++) {
                const struct final_entry *f = &chat->finals[i];
                if (f->prefix ? starts_with(line, f->text, f->len) : line_is(line, f->text))
                        return f;
        }
        return NULL;
}

static const struct urc_entry *find_urc(const struct at_chat *chat, const char *line)
{
        for (size_t i = 0; i < chat->n_urcs; i++)
                if (starts_with(line, chat->urcs[i].prefix, chat->urcs[i].len))
                        return &chat->urcs[i];
        return NULL;
}

static void on_boot_line(struct at_chat *chat, const char *line, uint64_t now)
{
        if (chat->booted && now - chat->boot_at < BOOT_WINDOW_MS)
                return;
        chat->booted = true;
        chat->boot_at = now;
        drop_pending(chat);
        emit_event(chat, AT_EVENT_MODEM_RESET, line);
        if (chat->phase != PHASE_IDLE)
                complete(chat, AT_STATUS_RESET, NULL, now);
}

static void dispatch_urc(struct at_chat *chat, const struct urc_entry *u, const char *line)
{
        if (u && u->has_pdu) {
                set_pending(chat, PEND_URC, line, (size_t)(u - chat->urcs));
                return;
        }
        if (u && u->fn)
                u->fn(line, NULL, u->userdata);
        else if (chat->cfg.urc_default)
                chat->cfg.urc_default(line, NULL, chat->cfg.userdata);
}

static bool is_pdu_echo(const struct cmd_slot *c, const char *line)
{
        size_t n = strlen(c->pdu);
        if (strncasecmp(line, c->pdu, n) != 0)
                return false;
        return line[n] == '\0' || (line[n] == CTRL_Z && line[n + 1] == '\0');
}

static void intermediate(struct at_chat *chat, const char *line)
{
        struct cmd_slot *c = &chat->queue[0];
        if (c->flags & AT_CMD_EXPECT_PDU && c->prefix_len > 0 &&
            starts_with(line, c->prefix, c->prefix_len)) {
                set_pending(chat, PEND_CMD, line, 0);
                return;
        }
        keep_line(chat, line, NULL);
}

static void handle_line(struct at_chat *chat, const char *line, uint64_t now)
{
        bool busy = chat->phase != PHASE_IDLE;
        struct cmd_slot *c = &chat->queue[0];

        if (busy && chat->phase == PHASE_WAIT && !chat->echo_seen &&
            strcasecmp(line, c->text) == 0) {
                chat->echo_seen = true;
                return;
        }
        if (busy && chat->phase == PHASE_PDU_SENT && is_pdu_echo(c, line))
                return;

        if (at_chat_is_boot_line(line)) {
                const struct urc_entry *u = find_urc(chat, line);
                flush_pending(chat);
                on_boot_line(chat, line, now);
                dispatch_urc(chat, u, line);
                return;
        }

        bool own = busy && c->prefix_len > 0 && starts_with(line, c->prefix, c->prefix_len);
        if (busy && ((own && c->flags & AT_CMD_PREFIX_IS_FINAL) ||
                     (c->is_final && c->is_final(line, c->userdata)))) {
                flush_pending(chat);
                keep_line(chat, line, NULL);
                complete(chat, AT_STATUS_OK, line, now);
                return;
        }
        const struct final_entry *f = find_final(chat, line);
        if (f) {
                flush_pending(chat);
                if (busy)
                        complete(chat, f->status, line, now);
                else
                        emit_event(chat, AT_EVENT_STRAY_FINAL, line);
                return;
        }
        if (own) {
                flush_pending(chat);
                intermediate(chat, line);
                return;
        }
        const struct urc_entry *u = find_urc(chat, line);
        if (u) {
                /* A URC between a PDU header and its PDU keeps the header waiting. */
                if (u->has_pdu)
                        flush_pending(chat);
                dispatch_urc(chat, u, line);
                return;
        }
        flush_pending(chat);
        if (busy && c->prefix_len == 0)
                intermediate(chat, line);
        else
                dispatch_urc(chat, NULL, line);
}

static void handle_pdu(struct at_chat *chat, const char *pdu)
{
        enum pending p = chat->pend;
        chat->pend = PEND_NONE;
        if (p == PEND_CMD && chat->phase != PHASE_IDLE) {
                keep_line(chat, chat->pend_line, pdu);
        } else if (p == PEND_URC) {
                const struct urc_entry *u = &chat->urcs[chat->pend_urc];
                if (u->fn)
                        u->fn(chat->pend_line, pdu, u->userdata);
                else if (chat->cfg.urc_default)
                        chat->cfg.urc_default(chat->pend_line, pdu, chat->cfg.userdata);
        }
}

static void handle_prompt(struct at_chat *chat)
{
        struct cmd_slot *c = &chat->queue[0];
        if (chat->phase == PHASE_WAIT && c->has_pdu) {
                out_append(chat, c->pdu, strlen(c->pdu));
                out_byte(chat, CTRL_Z);
                chat->phase = PHASE_PDU_SENT;
                return;
        }
        /* The modem waits for message text nobody will send; ESC leaves that mode
         * (27.005 3.5.1) so that our next command is not taken for the body. */
        out_byte(chat, ESC);
        emit_event(chat, AT_EVENT_STRAY_PROMPT, ">");
}

int at_chat_feed(struct at_chat *chat, const uint8_t *buf, size_t len, uint64_t now)
{
        if (!chat || (!buf && len > 0))
                return -EINVAL;
        while (len > 0) {
                size_t used;
                struct at_token tok;
                at_lexer_feed(&chat->lx, buf, len, &used, &tok);
                buf += used;
                len -= used;
                switch (tok.type) {
                case AT_TOKEN_NONE:
                        break;
                case AT_TOKEN_LINE:
                        handle_line(chat, tok.text, now);
                        break;
                case AT_TOKEN_PDU:
                        handle_pdu(chat, tok.text);
                        break;
                case AT_TOKEN_PROMPT:
                        handle_prompt(chat);
                        break;
                case AT_TOKEN_DROPPED:
                        if (chat->cfg.event) {
                                struct at_event ev = {
                                        .type = AT_EVENT_DROPPED,
                                        .line = "",
                                        .drop = tok.drop,
                                        .count = tok.len,
                                        .cmd_in_flight = chat->phase != PHASE_IDLE,
                                };
                                chat->cfg.event(&ev, chat->cfg.userdata);
                        }
                        break;
                }
        }
        return 0;
}

void at_chat_tick(struct at_chat *chat, uint64_t now)
{
        if (!chat)
                return;
        while (chat->phase != PHASE_IDLE && now >= chat->deadline) {
                /* A PDU command that never got (or never used) its prompt may have left the
                 * modem waiting for text: ESC before the next command. */
                if (chat->phase == PHASE_WAIT && chat->queue[0].has_pdu) {
                        out_byte(chat, ESC);
                        chat->quiet_until = now + ESC_SETTLE_MS;
                }
                complete(chat, AT_STATUS_TIMEOUT, NULL, now);
        }
        start_next(chat, now);
}

uint64_t at_chat_next_deadline(const struct at_chat *chat)
{
        if (!chat)
                return UINT64_MAX;
        if (chat->phase != PHASE_IDLE)
                return chat->deadline;
        return chat->queued > 0 ? chat->quiet_until : UINT64_MAX;
}

static bool all_hex(const char *s)
{
        for (; *s; s++)
                if (!strchr("0123456789abcdefABCDEF", *s))
                        return false;
        return true;
}

static int copy_field(char *dst, size_t size, const char *src)
{
        size_t n = src ? strlen(src) : 0;
        if (n >= size)
                return -EINVAL;
        if (n)
                memcpy(dst, src, n);
        dst[n] = '\0';
        return 0;
}

int at_chat_send(struct at_chat *chat, const struct at_chat_cmd *cmd, uint64_t now,
                 unsigned *ret_id)
{
        if (!chat || !cmd || !cmd->text || !cmd->text[0] || strpbrk(cmd->text, "\r\n"))
                return -EINVAL;
        if (cmd->pdu && (!cmd->pdu[0] || !all_hex(cmd->pdu)))
                return -EINVAL;
        if (chat->queued >= AT_CHAT_QUEUE_MAX)
                return -ENOSPC;
        struct cmd_slot *c = &chat->queue[chat->queued];
        if (copy_field(c->text, sizeof(c->text), cmd->text) < 0 ||
            copy_field(c->prefix, sizeof(c->prefix), cmd->prefix) < 0 ||
            copy_field(c->pdu, sizeof(c->pdu), cmd->pdu) < 0)
                return -EINVAL;
        c->prefix_len = strlen(c->prefix);
        c->has_pdu = cmd->pdu != NULL;
        c->timeout_ms = cmd->timeout_ms ? cmd->timeout_ms : AT_CHAT_TIMEOUT_DEFAULT;
        c->flags = cmd->flags;
        c->is_final = cmd->is_final;
        c->on_line = cmd->on_line;
        c->on_result = cmd->on_result;
        c->userdata = cmd->userdata;
        c->id = chat->next_id++;
        if (chat->next_id == 0)
                chat->next_id = 1;
        chat->queued++;
        if (ret_id)
                *ret_id = c->id;
        start_next(chat, now);
        return 0;
}

static void cancel_at(struct at_chat *chat, size_t i)
{
        struct cmd_slot c = chat->queue[i];
        chat->queued--;
        memmove(&chat->queue[i], &chat->queue[i + 1], (chat->queued - i) * sizeof(chat->queue[0]));
        if (c.on_result) {
                struct at_result r = { .id = c.id,
                                       .status = AT_STATUS_CANCELLED,
                                       .final = "",
                                       .err_text = "",
                                       .lines = chat->lines };
                c.on_result(&r, c.userdata);
        }
}

int at_chat_cancel(struct at_chat *chat, unsigned id)
{
        if (!chat)
                return -EINVAL;
        for (size_t i = 0; i < chat->queued; i++) {
                if (chat->queue[i].id != id)
                        continue;
                if (i == 0 && chat->phase != PHASE_IDLE)
                        return -EBUSY;
                cancel_at(chat, i);
                return 0;
        }
        return -ENOENT;
}

void at_chat_cancel_all(struct at_chat *chat)
{
        if (!chat)
                return;
        size_t first = chat->phase != PHASE_IDLE ? 1 : 0;
        while (chat->queued > first)
                cancel_at(chat, chat->queued - 1);
}

struct at_chat *at_chat_free(struct at_chat *chat)
{
        if (!chat)
                return NULL;
        at_chat_cancel_all(chat);
        if (chat->phase != PHASE_IDLE) {
                chat->phase = PHASE_IDLE;
                cancel_at(chat, 0);
        }
        free(chat);
        return NULL;
}

size_t at_chat_output(const struct at_chat *chat, const uint8_t **ret_buf)
{
        if (!chat || !ret_buf)
                return 0;
        *ret_buf = chat->out;
        return chat->out_len;
}

void at_chat_output_done(struct at_chat *chat, size_t n)
{
        if (!chat)
                return;
        if (n > chat->out_len)
                n = chat->out_len;
        memmove(chat->out, chat->out + n, chat->out_len - n);
        chat->out_len -= n;
}

size_t at_chat_queued(const struct at_chat *chat)
{
        return chat ? chat->queued : 0;
}
