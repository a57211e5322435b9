/* libFuzzer target for at/modem (with at/seq, at/chat, at/parse): a modem brought to READY by
 * a small responder, a part in flight, then the fuzzer's bytes as everything the modem says,
 * interleaved with clock jumps, more sends, acks and restarts. Asserts that nothing crashes,
 * that every accepted part gets exactly one result (also when the modem is freed), and that
 * the deadline never lies in the past after a tick.
 *
 * Input: repeated [op][arg][...]: op % 5 == 0 feeds the next (arg % 64 + 1) bytes; 1 moves the
 * clock by arg * 97 ms and ticks; 2 sends a part (arg & 1: more follow); 3 acks a message
 * handed on (arg picks which, or an index never given); 4 restarts (arg & 1) or says the port
 * was reopened. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at/modem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUBMIT_PDU "0011000B911326880736F40000AA0AE8329BFD4697D9EC37"
#define HANDED_MAX 64

struct fz {
        struct at_modem *m;
        uint64_t now;
        unsigned accepted, results;
        int handed[HANDED_MAX];
        size_t n_handed;
};

static void on_state(struct at_modem *m, enum at_modem_state from, enum at_modem_state to,
                     const char *reason, void *ud)
{
        (void)m;
        (void)from;
        (void)to;
        (void)ud;
        if (!reason)
                abort();
}

static int get_pin(struct at_modem *m, const char *iccid, char *ret_pin, size_t size, void *ud)
{
        (void)m;
        (void)iccid;
        (void)ud;
        if (size < 5)
                abort();
        memcpy(ret_pin, "1234", 5);
        return 0;
}

static void on_result(struct at_modem *m, const struct at_modem_send_result *r, void *ud)
{
        struct fz *z = ud;
        (void)m;
        if (!r->text || ++z->results > z->accepted)
                abort(); /* a result nobody asked for, or twice */
        if (r->outcome == AT_SEND_SENT && (r->mr < 0 || r->mr > 255))
                abort();
}

static void handed(struct fz *z, int index, const char *pdu)
{
        if (!pdu)
                abort();
        if (index >= 0 && z->n_handed < HANDED_MAX)
                z->handed[z->n_handed++] = index;
}

static void on_sms(struct at_modem *m, const char *pdu, int index, const char *mem, void *ud)
{
        (void)m;
        if (!mem)
                abort();
        handed(ud, index, pdu);
}

static void on_report(struct at_modem *m, const char *pdu, int index, const char *mem, void *ud)
{
        (void)m;
        (void)mem;
        handed(ud, index, pdu);
}

static void on_event(struct at_modem *m, const struct at_modem_event *ev, void *ud)
{
        (void)m;
        (void)ud;
        if (ev->type == AT_MODEM_EV_PIN_REFUSED && (!ev->iccid || !ev->pin))
                abort();
        if (ev->type == AT_MODEM_EV_NETWORK_TIME && !ev->time)
                abort();
}

static const struct at_modem_callbacks cbs = {
        .on_state = on_state,
        .get_pin = get_pin,
        .on_send_result = on_result,
        .on_sms = on_sms,
        .on_report = on_report,
        .on_event = on_event,
};

static void drain(struct fz *z)
{
        const uint8_t *buf;
        size_t n;
        while ((n = at_modem_output(z->m, &buf)) > 0)
                at_modem_output_done(z->m, n);
}

/* Answers the bring-up the way a plain modem does, so the fuzzer starts from READY. */
static void bring_up(struct fz *z)
{
        for (int guard = 0; guard < 200 && at_modem_state(z->m) != AT_MODEM_READY; guard++) {
                const uint8_t *buf;
                size_t n = at_modem_output(z->m, &buf);
                if (n == 0) {
                        z->now += 1000;
                        at_modem_tick(z->m, z->now);
                        continue;
                }
                const char *ans = "\r\nOK\r\n";
                if (n >= 8 && memcmp(buf, "AT+CPIN?", 8) == 0)
                        ans = "\r\n+CPIN: READY\r\nOK\r\n";
                else if (n >= 8 && memcmp(buf, "AT+CREG?", 8) == 0)
                        ans = "\r\n+CREG: 2,1\r\nOK\r\n";
                at_modem_output_done(z->m, n);
                at_modem_feed(z->m, (const uint8_t *)ans, strlen(ans), z->now);
        }
}

static void try_send(struct fz *z, bool more)
{
        int r = at_modem_send(z->m, SUBMIT_PDU, 23, more, z->accepted + 1, z->now);
        if (r == 0)
                z->accepted++;
        else if (r != -EBUSY)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz z = { .now = 1000 };
        struct at_modem_config cfg = { .smsc = "+5294100001410", .name = "fuzz" };
        if (at_modem_new(&cfg, &cbs, &z, &z.m) < 0)
                abort();
        at_modem_start(z.m, z.now);
        bring_up(&z);
        try_send(&z, false);
        drain(&z);

        size_t i = 0;
        while (i + 1 < size) {
                uint8_t op = data[i] % 5, arg = data[i + 1];
                i += 2;
                switch (op) {
                case 0: {
                        size_t n = (size_t)arg % 64 + 1;
                        if (n > size - i)
                                n = size - i;
                        at_modem_feed(z.m, data + i, n, z.now);
                        i += n;
                        break;
                }
                case 1:
                        z.now += (uint64_t)arg * 97;
                        at_modem_tick(z.m, z.now);
                        if (at_modem_next_deadline(z.m) < z.now)
                                abort(); /* a deadline the tick should have run */
                        break;
                case 2:
                        try_send(&z, arg & 1);
                        break;
                case 3:
                        if (z.n_handed > 0 && arg < 200) {
                                size_t k = arg % z.n_handed;
                                at_modem_sms_done(z.m, z.handed[k], z.now);
                                z.handed[k] = z.handed[--z.n_handed];
                        } else {
                                at_modem_sms_done(z.m, (int)arg - 230, z.now);
                        }
                        break;
                default:
                        if (arg & 1)
                                at_modem_restart(z.m, z.now);
                        else
                                at_modem_reopened(z.m, z.now);
                        break;
                }
                drain(&z);
                if (z.accepted - z.results > 1)
                        abort(); /* one part in flight at most */
        }
        at_modem_free(z.m);
        if (z.results != z.accepted)
                abort(); /* a part without a result */
        return 0;
}
