/* The bank's send path at zero modem latency: N single-part messages queued with their PDUs
 * (as puentectl queues them), 1 and 4 fake modems that answer SENT as soon as the bank hands
 * them a part. Everything real but the modem: store_next_parts, the "sending" and "sent"
 * commits (synchronous = FULL), the daily count. Prints CPU and wall time per part and parts
 * per second. Targets (issue 4): <= 0.25 ms CPU per part, >= 200 parts/s per modem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "at/pdu.h"
#include "daemon/bank.h"
#include "daemon/config.h"
#include "daemon/store.h"

#define PARTS      2000
#define MODEMS_MAX 4

struct fake {
        bool busy;
        uint64_t cookie;
};

static int fake_send(void *ctx, const char *pdu_hex, size_t tpdu_len, bool more, uint64_t cookie)
{
        struct fake *f = ctx;

        (void)pdu_hex, (void)tpdu_len, (void)more;
        f->busy = true;
        f->cookie = cookie;
        return 0;
}

static const struct bank_modem_ops ops = { .send = fake_send };

static double clock_s(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
        fprintf(stderr, "bench-bank: %s: %s\n", what, strerror(-r));
        exit(1);
}

static void run(unsigned n_modems)
{
        char dir[] = "/tmp/puente-bench-bank-XXXXXX", path[64], err[STORE_ERRMSG_MAX];
        struct sms_part part;
        char hex[STORE_PDU_HEX_MAX];
        const char *pdus[1] = { hex };
        struct fake fakes[MODEMS_MAX] = { 0 };
        struct config *c = calloc(1, sizeof(*c));
        struct store *s;
        struct bank *b;
        struct bank_time now;
        unsigned sent = 0;
        int r;

        if (!mkdtemp(dir) || !c)
                die("setup", -errno);
        snprintf(path, sizeof(path), "%s/puente.db", dir);
        config_defaults(c);
        if ((r = store_open(path, NULL, &s, err)) < 0)
                die(err, r);
        struct sms_submit_opts o = { .status_report = true, .msg_class = -1 };
        if ((r = sms_submit_encode("Recordatorio: su cita es mañana a las 9:00", "+525512345678",
                                   &o, &part, 1, NULL)) < 0)
                die("encode", r);
        sms_hex_encode(part.pdu, part.len, hex);
        bank_time_now(&now);
        for (unsigned i = 0; i < PARTS; i++) {
                struct store_outgoing_new m = {
                        .recipient = "+525512345678",
                        .text = "Recordatorio: su cita es mañana a las 9:00",
                        .encoding = STORE_ENC_GSM7,
                        .part_count = 1,
                        .pdus = pdus,
                };
                int64_t id;
                if ((r = store_queue_message(s, &m, now.wall, &id)) < 0)
                        die(store_errmsg(s), r);
        }
        if ((r = bank_new(s, c, &b)) < 0)
                die("bank_new", r);
        for (unsigned i = 0; i < n_modems; i++) {
                char imei[16];
                int64_t id;
                snprintf(imei, sizeof(imei), "35000000000010%u", i);
                if ((r = store_modem_upsert(s, &(struct store_modem_identity){ .imei = imei }, "",
                                            now.wall, &id)) < 0)
                        die(store_errmsg(s), r);
                if ((r = bank_modem_add(b, id, &ops, &fakes[i], 0, 0)) < 0)
                        die("bank_modem_add", r);
                bank_modem_ready(b, &fakes[i], true);
        }
        double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_s(CLOCK_MONOTONIC);
        bank_time_now(&now);
        if ((r = bank_kick(b, &now)) < 0)
                die("kick", r);
        while (sent < PARTS) {
                bool any = false;
                for (unsigned i = 0; i < n_modems; i++) {
                        if (!fakes[i].busy)
                                continue;
                        fakes[i].busy = false;
                        any = true;
                        bank_time_now(&now);
                        r = bank_send_done(b, fakes[i].cookie,
                                           &(struct bank_result){ .outcome = BANK_OUTCOME_SENT,
                                                                  .mr = sent & 0xff,
                                                                  .cms = -1 },
                                           &now);
                        if (r < 0)
                                die("send_done", r);
                        sent++;
                }
                if (!any)
                        die("stalled", -EIO);
        }
        double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
               wall = clock_s(CLOCK_MONOTONIC) - wall0;
        printf("bank %u modem%s: %u parts, %.3f ms CPU/part, %.3f ms wall/part, %.0f parts/s "
               "(%.0f per modem)\n",
               n_modems, n_modems == 1 ? " " : "s", PARTS, cpu * 1e3 / PARTS, wall * 1e3 / PARTS,
               PARTS / wall, PARTS / wall / n_modems);
        bank_free(b);
        store_close(s);
        free(c);
        const char *suffix[] = { "", "-wal", "-shm" };
        for (int i = 0; i < 3; i++) {
                char p[96];
                snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
                unlink(p);
        }
        rmdir(dir);
}

int main(void)
{
        run(1);
        run(4);
        return 0;
}
