/* AT command channel: one command in flight, per-command time-outs, finals from a table,
 * unsolicited result codes (URCs) to handlers registered by prefix. No I/O, no clock.
 *
 * How the daemon drives it:
 *   - at_chat_feed(chat, bytes, n, now) with whatever the port delivered (any split);
 *   - at_chat_tick(chat, now) when the timer armed for at_chat_next_deadline() fires;
 *   - at_chat_send(chat, &cmd, now) to queue a command;
 *   - after each of these, drain at_chat_output() / at_chat_output_done() to the port and
 *     re-arm the timer from at_chat_next_deadline(): any of them may change it.
 * `now` is a monotonic time in milliseconds chosen by the caller; it must not go backwards.
 *
 * Ownership: at_chat_new() allocates the chat once; nothing else allocates. Command text,
 * prefix and PDU are copied at at_chat_send(); the struct at_chat_cmd may be freed after.
 * Everything handed to callbacks (struct at_result, line and PDU strings) is borrowed and
 * valid only during the callback. userdata pointers are never touched.
 *
 * Re-entrancy: callbacks may call at_chat_send(), at_chat_cancel(), at_chat_cancel_all()
 * and the output functions. They must not call at_chat_feed(), at_chat_tick() or
 * at_chat_free() on the same chat.
 *
 * Classification of a received line, first match wins:
 *   1. while a command is in flight: a line equal to the command text is its echo (dropped;
 *      this also copes with echo switched back on by a modem reset), and after the PDU was
 *      written a line equal to the PDU (with or without Ctrl-Z) is dropped likewise;
 *   2. the command's own final test (AT_CMD_PREFIX_IS_FINAL, is_final callback);
 *   3. the final-response table (OK, ERROR, +CME ERROR:, +CMS ERROR:, NO CARRIER, BUSY,
 *      NO ANSWER, NO DIALTONE, CONNECT, plus vendor entries from at_chat_add_final());
 *   4. a line starting with the in-flight command's prefix is an intermediate line, even if
 *      the same prefix is a URC (+CREG: n,stat answers AT+CREG? and is also a URC);
 *   5. a line starting with a registered or built-in URC prefix is unsolicited; a boot line
 *      (RDY, Call Ready, SMS Ready, PB DONE...) is always unsolicited and, unless another came
 *      less than 30 s before, raises AT_EVENT_MODEM_RESET and ends the command in flight with
 *      AT_STATUS_RESET (a second reboot within those 30 s is not told apart from the first);
 *   6. with a command in flight that has no prefix (AT+CGSN, ATI), any other line is
 *      intermediate; otherwise it goes to the default unsolicited handler.
 * A PDU header (+CMT:/+CDS: URC, or a prefixed line of an AT_CMD_EXPECT_PDU command) waits
 * for the next hex line and is delivered with it; URCs in between are delivered meanwhile;
 * any other line first delivers the header alone with AT_EVENT_MISSING_PDU. PDU text is
 * passed on as given, even if the header's length disagrees: the codec decides.
 *
 * Known limit: if a command times out and its answer arrives late, that answer is taken for
 * the next command's (no AT channel can tell them apart; only after an ESC does the chat
 * wait, see at_chat_tick()); choose time-outs generously.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at/lexer.h"
#include "at/pdu.h"

#define AT_CHAT_QUEUE_MAX       32                /* commands queued, the one in flight included */
#define AT_CHAT_CMD_MAX         256               /* bytes of a command line, without CR */
#define AT_CHAT_PREFIX_MAX      24                /* bytes of a response or URC prefix */
#define AT_CHAT_PDU_HEX_MAX     (2 * SMS_PDU_MAX) /* hex digits written after the prompt */
#define AT_CHAT_URC_MAX         32 /* new URC prefixes a caller may register, beyond the built-ins */
#define AT_CHAT_FINALS_MAX      16   /* final responses a caller may add, beyond the built-ins */
#define AT_RESULT_LINES_MAX     16   /* intermediate lines kept in a result */
#define AT_RESULT_TEXT_MAX      4096 /* bytes of intermediate lines + PDUs kept in a result */
#define AT_CHAT_TIMEOUT_DEFAULT 5000 /* ms, for a command that names no time-out */

/* How a command ended. */
enum at_status {
        AT_STATUS_OK,
        AT_STATUS_ERROR,     /* ERROR, or a vendor error final such as COMMAND NOT SUPPORT */
        AT_STATUS_CME,       /* +CME ERROR: (27.007 9.2); see at_result.err */
        AT_STATUS_CMS,       /* +CMS ERROR: (27.005 3.2.5); see at_result.err */
        AT_STATUS_TIMEOUT,   /* no final before the command's time-out */
        AT_STATUS_OTHER,     /* NO CARRIER, BUSY, NO ANSWER, NO DIALTONE, CONNECT... */
        AT_STATUS_RESET,     /* the modem rebooted while it ran: outcome unknown */
        AT_STATUS_CANCELLED, /* removed by at_chat_cancel*() or at_chat_free() */
};

/* One intermediate line; pdu is the PDU line that followed it (AT_CMD_EXPECT_PDU), or NULL. */
struct at_line {
        const char *text;
        const char *pdu;
};

struct at_result {
        unsigned id; /* the id at_chat_send() gave */
        enum at_status status;
        int err;              /* CME/CMS: the error number, -1 if given as unknown text */
        const char *final;    /* the final line ("" for TIMEOUT, RESET, CANCELLED) */
        const char *err_text; /* CME/CMS: the text after "ERROR:", trimmed; else "" */
        size_t n_lines;       /* intermediate lines kept (<= AT_RESULT_LINES_MAX) */
        const struct at_line *lines;
        bool truncated; /* more lines arrived than fit: use on_line to see them all */
};

/* Returns the first kept line starting with prefix, or NULL. A send by AT+CMGS counts
 * only if at_result_find(r, "+CMGS:") is non-NULL (27.005 3.5.1): some modems answer a bare
 * OK and the caller must treat that as not sent. */
const struct at_line *at_result_find(const struct at_result *r, const char *prefix);

/* The outcome of an AT+CMGS: writes the message reference of its "+CMGS:" line to *ret_mr.
 * A send counts only then (27.005 3.5.1). Returns 0; -ENOMSG for
 * an OK without that line (a bend the issue reports: treat as not sent); -EBADMSG if the
 * line is malformed; -ETIMEDOUT, -ECANCELED, -ECONNRESET (modem reset: outcome unknown) or
 * -EIO (ERROR, +CMS ERROR: see r->err) for the other statuses. */
int at_result_cmgs_mr(const struct at_result *r, int *ret_mr);

/* Name of a status for logs ("ok", "error", "cme", ...). */
const char *at_status_name(enum at_status s);

typedef void (*at_chat_result_fn)(const struct at_result *r, void *userdata);
typedef void (*at_chat_line_fn)(const char *line, const char *pdu, void *userdata);
typedef bool (*at_chat_final_fn)(const char *line, void *userdata);

enum at_cmd_flags {
        /* A line with the command's prefix ends the command with AT_STATUS_OK. For modems
         * that never send OK after an answer (the issue reports this after +CPIN: READY). */
        AT_CMD_PREFIX_IS_FINAL = 1 << 0,
        /* Each line with the prefix is followed by a PDU line (+CMGR:, +CMGL: in PDU mode). */
        AT_CMD_EXPECT_PDU = 1 << 1,
};

struct at_chat_cmd {
        const char *text;            /* "AT+CSQ", without CR; required */
        const char *prefix;          /* "+CSQ:" or NULL for bare answers (AT+CGSN, ATI) */
        const char *pdu;             /* hex written on the prompt, then Ctrl-Z; NULL if none */
        uint32_t timeout_ms;         /* 0: AT_CHAT_TIMEOUT_DEFAULT */
        unsigned flags;              /* enum at_cmd_flags */
        at_chat_final_fn is_final;   /* optional: true if this line ends the command (OK) */
        at_chat_line_fn on_line;     /* optional: every intermediate line, as it arrives */
        at_chat_result_fn on_result; /* optional: called exactly once */
        void *userdata;
};

enum at_event_type {
        AT_EVENT_DROPPED,      /* garbage dropped by the lexer; detail: reason, count */
        AT_EVENT_MODEM_RESET,  /* a boot line (RDY, SMS Ready, PB DONE...) arrived */
        AT_EVENT_STRAY_PROMPT, /* a prompt nobody asked for (ESC was written) */
        AT_EVENT_STRAY_FINAL,  /* a final response with no command in flight */
        AT_EVENT_MISSING_PDU,  /* a PDU header was not followed by a PDU line */
};

struct at_event {
        enum at_event_type type;
        const char *line;         /* the line concerned, or "" */
        enum at_drop_reason drop; /* DROPPED */
        size_t count;             /* DROPPED: bytes dropped */
        bool cmd_in_flight;       /* MODEM_RESET: a command was running (and was failed) */
};

typedef void (*at_chat_urc_fn)(const char *line, const char *pdu, void *userdata);
typedef void (*at_chat_event_fn)(const struct at_event *ev, void *userdata);

struct at_chat_config {
        at_chat_urc_fn urc_default; /* unsolicited lines no handler claims; may be NULL */
        at_chat_event_fn event;     /* may be NULL */
        void *userdata;             /* passed to both */
};

struct at_chat;

/* Allocates a chat with the built-in final table and URC prefixes. Returns 0, -EINVAL,
 * or -ENOMEM. */
int at_chat_new(const struct at_chat_config *cfg, struct at_chat **ret_chat);

/* Fails every queued command with AT_STATUS_CANCELLED (callbacks run), frees, returns NULL.
 * Accepts NULL. */
struct at_chat *at_chat_free(struct at_chat *chat);

/* Registers a handler for unsolicited lines starting with prefix ("+CMTI:", "RING").
 * has_pdu: the line is followed by a PDU line and the handler gets both at once (+CMT:,
 * +CDS:, 27.005 3.4.1). A later registration of the same prefix replaces the earlier one.
 * Returns 0, -EINVAL (empty or too long prefix), -ENOSPC (AT_CHAT_URC_MAX reached). */
int at_chat_register_urc(struct at_chat *chat, const char *prefix, bool has_pdu, at_chat_urc_fn fn,
                         void *userdata);

/* Adds a final response. prefix: match lines starting with text, else the whole line.
 * status: AT_STATUS_OK, _ERROR or _OTHER. Returns 0, -EINVAL, -ENOSPC. */
int at_chat_add_final(struct at_chat *chat, const char *text, bool prefix, enum at_status status);

/* Queues a command; it is written at once if the channel is idle. Writes the command's id
 * (> 0) to *ret_id if ret_id is not NULL. Returns 0, -EINVAL (NULL or empty text, text with
 * CR/LF, PDU not hex, a field too long), -ENOSPC (queue full). */
int at_chat_send(struct at_chat *chat, const struct at_chat_cmd *cmd, uint64_t now,
                 unsigned *ret_id);

/* Removes a queued command that is not yet written (its callback gets CANCELLED).
 * Returns 0, -ENOENT (no such id), -EBUSY (already written: wait for its result). */
int at_chat_cancel(struct at_chat *chat, unsigned id);

/* Cancels every command not yet written. The one in flight runs on. */
void at_chat_cancel_all(struct at_chat *chat);

/* Feeds received bytes; results, URCs and events are delivered by callback before it
 * returns. Returns 0 or -EINVAL. */
int at_chat_feed(struct at_chat *chat, const uint8_t *buf, size_t len, uint64_t now);

/* Ends a command whose deadline has passed (its callback gets AT_STATUS_TIMEOUT) and
 * starts the next one. A PDU command that times out before its prompt was used gets ESC
 * (27.005 3.5.1), and the next command then waits 500 ms for the modem's answer to that ESC
 * to pass (reported as AT_EVENT_STRAY_FINAL). Harmless to call early or often. */
void at_chat_tick(struct at_chat *chat, uint64_t now);

/* The time at which at_chat_tick() must be called, or UINT64_MAX if nothing waits. */
uint64_t at_chat_next_deadline(const struct at_chat *chat);

/* Bytes waiting to be written to the modem: returns their count and points *ret_buf at them
 * (borrowed until the next call on the chat). at_chat_output_done() says how many were
 * written; the rest stay queued. */
size_t at_chat_output(const struct at_chat *chat, const uint8_t **ret_buf);
void at_chat_output_done(struct at_chat *chat, size_t n);

/* Commands queued, the one in flight included. */
size_t at_chat_queued(const struct at_chat *chat);
