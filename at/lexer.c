/* AT byte framing: lines, PDU lines, the prompt, dropped garbage (see at/lexer.h). */
#include "at/lexer.h"

#include <errno.h>
#include <string.h>

void at_lexer_reset(struct at_lexer *lx)
{
        lx->state = AT_LEX_IDLE;
        lx->expect_pdu = false;
        lx->drop = AT_DROP_NONE;
        lx->len = 0;
        lx->hex = true;
        lx->buf[0] = '\0';
}

void at_lexer_expect_pdu(struct at_lexer *lx, bool on)
{
        lx->expect_pdu = on;
}

static bool is_hex(uint8_t c)
{
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* Control bytes that make a line garbage. TAB appears in some vendors' ATI output; Ctrl-Z
 * and ESC come back in the echo of a PDU we wrote after the prompt. */
static bool is_bad_control(uint8_t c)
{
        return (c < 0x20 && c != '\t' && c != 0x1a && c != 0x1b) || c == 0x7f;
}

static void start_line(struct at_lexer *lx)
{
        lx->state = AT_LEX_LINE;
        lx->len = 0;
        lx->hex = true;
        lx->drop = AT_DROP_NONE;
}

/* Ends the current line at a line end; returns true if it produced a token. */
static bool end_line(struct at_lexer *lx, struct at_token *tok)
{
        lx->state = AT_LEX_IDLE;
        if (lx->drop != AT_DROP_NONE) {
                tok->type = AT_TOKEN_DROPPED;
                tok->text = "";
                tok->len = lx->len;
                tok->drop = lx->drop;
                lx->drop = AT_DROP_NONE;
                lx->len = 0;
                return true;
        }
        if (lx->len == 0)
                return false;
        lx->buf[lx->len] = '\0';
        tok->text = lx->buf;
        tok->len = lx->len;
        tok->drop = AT_DROP_NONE;
        if (lx->expect_pdu && lx->hex) {
                tok->type = AT_TOKEN_PDU;
                lx->expect_pdu = false;
        } else {
                tok->type = AT_TOKEN_LINE;
        }
        lx->len = 0;
        return true;
}

static void add_byte(struct at_lexer *lx, uint8_t c)
{
        if (lx->drop != AT_DROP_NONE) {
                lx->len++;
                return;
        }
        if (is_bad_control(c)) {
                lx->drop = AT_DROP_CONTROL;
                lx->len++;
                return;
        }
        if (lx->len >= AT_LINE_MAX) {
                lx->drop = AT_DROP_LONG;
                lx->len++;
                return;
        }
        lx->buf[lx->len++] = (char)c;
        lx->hex = lx->hex && is_hex(c);
}

int at_lexer_feed(struct at_lexer *lx, const uint8_t *buf, size_t len, size_t *ret_used,
                  struct at_token *ret_tok)
{
        if (!lx || !ret_used || !ret_tok || (!buf && len > 0))
                return -EINVAL;

        struct at_token tok = { .type = AT_TOKEN_NONE, .text = "" };
        size_t i = 0;
        while (i < len) {
                uint8_t c = buf[i++];
                bool eol = c == '\r' || c == '\n';

                switch (lx->state) {
                case AT_LEX_AFTER_PROMPT:
                        lx->state = AT_LEX_IDLE;
                        if (c == ' ')
                                continue;
                        /* fall through */
                case AT_LEX_IDLE:
                        if (eol)
                                continue;
                        if (c == '>') {
                                lx->state = AT_LEX_AFTER_PROMPT;
                                tok.type = AT_TOKEN_PROMPT;
                                goto out;
                        }
                        start_line(lx);
                        add_byte(lx, c);
                        continue;
                case AT_LEX_LINE:
                        if (!eol) {
                                /* Fast path: copy the run of plain bytes up to a line end. */
                                add_byte(lx, c);
                                while (i < len && lx->drop == AT_DROP_NONE &&
                                       lx->len < AT_LINE_MAX) {
                                        uint8_t d = buf[i];
                                        if (d == '\r' || d == '\n' || is_bad_control(d))
                                                break;
                                        lx->buf[lx->len++] = (char)d;
                                        lx->hex = lx->hex && is_hex(d);
                                        i++;
                                }
                                continue;
                        }
                        if (end_line(lx, &tok))
                                goto out;
                        continue;
                }
        }
out:
        *ret_used = i;
        *ret_tok = tok;
        return 0;
}
