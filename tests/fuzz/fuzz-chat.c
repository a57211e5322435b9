/* libFuzzer target for at/chat (with at/lexer and at/parse): modem bytes from the fuzzer,
 * split where the fuzzer says, against a queue holding a PDU send and a PDU listing. Asserts
 * only that nothing crashes and that the queue always drains.
 *
 * Input: repeated [n][n bytes]: n (1-64, from n % 64 + 1) is the size of the next piece fed
 * to the chat; after each piece the clock moves on by 250 ms and at_chat_tick() runs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at/chat.h"
#include "at/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
        struct at_chat *chat;
        uint64_t now;
        int resends;
};

/* Runs every parser over a line: they must reject garbage without reading past it. */
static void parse_all(const char *line)
{
        union {
                struct at_msg_ref ref;
                struct at_pdu_header hdr;
                struct at_cpms cpms;
                struct at_cpms_support cpms_s;
                struct at_cnmi_support cnmi;
                struct at_csca csca;
                struct at_cmgd_support cmgd;
                struct at_csq csq;
                struct at_creg creg;
                struct at_cops cops;
                struct at_cpin cpin;
                struct at_time time;
                struct at_error err;
        } u;
        char id[AT_PARSE_ID_MAX];
        int mr;
        at_parse_cmgs(line, &mr);
        at_parse_cmti(line, &u.ref);
        at_parse_cdsi(line, &u.ref);
        at_parse_cmt(line, &u.hdr);
        at_parse_cds(line, &u.hdr);
        at_parse_cmgl(line, &u.hdr);
        at_parse_cmgr(line, &u.hdr);
        at_parse_cpms(line, &u.cpms);
        at_parse_cpms_support(line, &u.cpms_s);
        at_parse_cnmi_support(line, &u.cnmi);
        at_parse_csca(line, &u.csca);
        at_parse_cmgd_support(line, &u.cmgd);
        at_parse_csq(line, &u.csq);
        at_parse_creg(line, true, &u.creg);
        at_parse_creg(line, false, &u.creg);
        at_parse_cops(line, &u.cops);
        at_parse_cpin(line, &u.cpin);
        at_parse_cclk(line, &u.time);
        at_parse_ctzv(line, &u.time);
        at_parse_ctze(line, &u.time);
        at_parse_psuttz(line, &u.time);
        at_parse_error(line, &u.err);
        at_parse_identity(line, id, sizeof(id));
}

static void on_line(const char *line, const char *pdu, void *userdata)
{
        parse_all(line);
}

static void on_result(const struct at_result *r, void *userdata)
{
        struct fz *f = userdata;
        if (r->final)
                parse_all(r->final);
        for (size_t i = 0; i < r->n_lines; i++)
                parse_all(r->lines[i].text);
        /* Re-entry: a result sometimes queues another command, as the daemon's sequencer does. */
        if (r->status == AT_STATUS_OK && f->resends < 4) {
                struct at_chat_cmd c = {
                        .text = "AT+CSQ", .prefix = "+CSQ:", .on_result = on_result, .userdata = f
                };
                f->resends++;
                at_chat_send(f->chat, &c, f->now, NULL);
        }
}

static void on_urc(const char *line, const char *pdu, void *userdata)
{
        parse_all(line);
}

static void on_event(const struct at_event *ev, void *userdata)
{
}

static void drain(struct fz *f)
{
        const uint8_t *p;
        size_t n = at_chat_output(f->chat, &p);
        /* Write it in two parts, as a short write on a slow port would. */
        at_chat_output_done(f->chat, n / 2);
        n = at_chat_output(f->chat, &p);
        at_chat_output_done(f->chat, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz f = { .now = 1000 };
        struct at_chat_config cfg = { .urc_default = on_urc, .event = on_event, .userdata = &f };
        if (at_chat_new(&cfg, &f.chat) < 0)
                abort();
        at_chat_add_final(f.chat, "COMMAND NOT SUPPORT", false, AT_STATUS_ERROR);
        at_chat_register_urc(f.chat, "+CMTI:", false, on_urc, &f);
        const struct at_chat_cmd cmds[] = {
                { .text = "ATE0" },
                { .text = "AT+CGSN" },
                { .text = "AT+CPIN?", .prefix = "+CPIN:", .flags = AT_CMD_PREFIX_IS_FINAL },
                { .text = "AT+CREG?", .prefix = "+CREG:" },
                { .text = "AT+CMGL=4",
                  .prefix = "+CMGL:",
                  .flags = AT_CMD_EXPECT_PDU,
                  .on_line = on_line,
                  .timeout_ms = 30000 },
                { .text = "AT+CMGS=19",
                  .prefix = "+CMGS:",
                  .pdu = "0011000C914477000910320000A705C8329BFD06",
                  .timeout_ms = 60000 },
                { .text = "AT+CMGR=1", .prefix = "+CMGR:", .flags = AT_CMD_EXPECT_PDU },
        };
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                struct at_chat_cmd c = cmds[i];
                c.on_result = on_result;
                c.userdata = &f;
                if (at_chat_send(f.chat, &c, f.now, NULL) < 0)
                        abort();
        }
        drain(&f);
        size_t pos = 0;
        while (pos < size) {
                size_t n = (size_t)(data[pos++] % 64) + 1;
                if (n > size - pos)
                        n = size - pos;
                if (at_chat_feed(f.chat, data + pos, n, f.now) < 0)
                        abort();
                pos += n;
                drain(&f);
                f.now += 250;
                at_chat_tick(f.chat, f.now);
                drain(&f);
        }
        /* The queue must drain: every command ends by a final or by its time-out. */
        for (int i = 0; at_chat_queued(f.chat) > 0; i++) {
                uint64_t d = at_chat_next_deadline(f.chat);
                if (d == UINT64_MAX || i > 2 * AT_CHAT_QUEUE_MAX)
                        abort();
                f.now = d > f.now ? d : f.now;
                at_chat_tick(f.chat, f.now);
                drain(&f);
        }
        if (at_chat_next_deadline(f.chat) != UINT64_MAX)
                abort();
        at_chat_free(f.chat);
        return 0;
}
