/* AT byte framing: turns the bytes a modem sends into lines, PDU lines and the `>` prompt.
 *
 * The lexer is a small state machine with no I/O and no allocation. The caller owns the
 * struct (embed it or put it on the stack) and feeds it bytes with at_lexer_feed(); each call
 * consumes bytes up to and including the end of one token and says how many it used, so the
 * caller loops until the input is used up. Any split of the input (one byte at a time too)
 * yields the same tokens.
 *
 * Tokens borrow the lexer's line buffer: token.text stays valid until the next call of
 * at_lexer_feed() or at_lexer_reset() on the same lexer. The text is NUL-terminated and
 * carries no line end.
 *
 * Rules (27.007 / V.250 5.7.1 framing, loosened for what modems really send):
 *  - a line ends at CR or LF; empty lines are skipped (so CRLF, LF-only and CR-only all work);
 *  - `>` at the start of a line is the prompt of AT+CMGS/AT+CMGW (27.005 3.5.1); it is
 *    reported at once (some modems send only `>` and wait) and one following space is
 *    swallowed, so "> ", ">" and ">\r\n" all give one prompt token;
 *  - after at_lexer_expect_pdu(), the next line made only of hex digits is a PDU token;
 *    any other line is an ordinary line and the lexer keeps expecting;
 *  - a line holding NUL or another control byte (except TAB, Ctrl-Z and ESC, which modems
 *    echo back around a PDU), or longer than AT_LINE_MAX, is dropped up to the next line end
 *    and reported as one AT_TOKEN_DROPPED token, after which framing goes on as before.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line kept, without its line end. The longest real lines are +COPS=? lists
 * (several hundred bytes where many operators are in range) and PDU lines (2 * 176 hex digits). */
#define AT_LINE_MAX 2048

enum at_token_type {
        AT_TOKEN_NONE,    /* need more bytes: everything given was consumed */
        AT_TOKEN_LINE,    /* a complete non-empty line */
        AT_TOKEN_PDU,     /* a hex line that followed at_lexer_expect_pdu() */
        AT_TOKEN_PROMPT,  /* the `>` prompt */
        AT_TOKEN_DROPPED, /* garbage dropped up to a line end; see .drop */
};

enum at_drop_reason {
        AT_DROP_NONE,
        AT_DROP_CONTROL, /* NUL or another control byte inside a line */
        AT_DROP_LONG,    /* longer than AT_LINE_MAX */
};

struct at_token {
        enum at_token_type type;
        const char *text; /* LINE, PDU: borrowed, NUL-terminated; "" otherwise */
        size_t len;       /* LINE, PDU: bytes of text; DROPPED: bytes dropped */
        enum at_drop_reason drop;
};

enum at_lexer_state {
        AT_LEX_IDLE,        /* between lines */
        AT_LEX_LINE,        /* inside a line */
        AT_LEX_AFTER_PROMPT /* just after `>`: one space may follow */
};

struct at_lexer {
        enum at_lexer_state state;
        bool expect_pdu;
        enum at_drop_reason drop; /* != NONE while dropping the current line */
        size_t len;               /* bytes in buf (or dropped so far) */
        bool hex;                 /* every byte of buf so far is a hex digit */
        char buf[AT_LINE_MAX + 1];
};

/* Puts the lexer in its initial state (between lines, no PDU expected). */
void at_lexer_reset(struct at_lexer *lx);

/* The next hex-only line is returned as AT_TOKEN_PDU (used after +CMT:, +CDS:, +CMGR:, +CMGL:
 * headers in PDU mode, 27.005 3.4.1 and 3.1). Cleared by that PDU or at_lexer_reset(). */
void at_lexer_expect_pdu(struct at_lexer *lx, bool on);

/* Consumes bytes from buf[0..len) up to the end of the next token. Always succeeds: writes
 * *ret_used (<= len) and *ret_tok. AT_TOKEN_NONE means all len bytes were used and no token
 * is complete yet. Returns 0, or -EINVAL if an argument is NULL (buf may be NULL if len is 0). */
int at_lexer_feed(struct at_lexer *lx, const uint8_t *buf, size_t len, size_t *ret_used,
                  struct at_token *ret_tok);
