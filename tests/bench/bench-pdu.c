/* Speed of the SMS PDU codec on one core: messages per second encoded with
 * sms_submit_encode() and decoded with sms_pdu_decode(), for a single-part GSM 7-bit
 * reminder, the same with transliteration, a UCS-2 message and a 3-part GSM text.
 * Each figure is measured over at least MIN_SECONDS. Target: >= 500,000 single-part
 * GSM 7-bit messages per second each way. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "at/pdu.h"

#define MIN_SECONDS 1.0
#define BATCH       1024 /* calls between clock reads */
#define TARGET      500000.0

static struct sms_part parts[SMS_PARTS_MAX];
static volatile unsigned long sink; /* keeps the work from being optimized away */

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job {
        const char *text;
        bool translit;
};

static void die(const char *what)
{
        fprintf(stderr, "bench-pdu: %s: %s\n", what, sms_pdu_error());
        exit(1);
}

static double bench_encode(const struct job *j, int *ret_parts)
{
        struct sms_submit_opts o = { .msg_class = -1, .translit = j->translit };
        unsigned long n = 0;
        double t0 = now_s(), t;

        do {
                for (int i = 0; i < BATCH; i++) {
                        int r = sms_submit_encode(j->text, "+525512345678", &o, parts,
                                                  SMS_PARTS_MAX, NULL);

                        if (r < 0)
                                die("encode");
                        sink += parts[r - 1].len;
                        *ret_parts = r;
                }
                n += BATCH;
                t = now_s() - t0;
        } while (t < MIN_SECONDS);
        return n / t;
}

/* Decodes the parts of j as the network delivers them (SMS-DELIVER). Returns
 * messages (all parts) per second. */
static double bench_decode(const struct job *j)
{
        struct sms_deliver_opts o = { .smsc = "+525500000000",
                                      .scts = { 2026, 11, 27, 15, 30, 45, -24 } };
        struct sms_pdu p;
        unsigned long n = 0;
        double t0, t;
        int np = sms_deliver_encode(j->text, "+525512345678", &o, parts, SMS_PARTS_MAX);

        if (np < 0)
                die("deliver encode");
        t0 = now_s();
        do {
                for (int i = 0; i < BATCH; i++) {
                        for (int k = 0; k < np; k++) {
                                if (sms_pdu_decode(parts[k].pdu, parts[k].len, SMS_DIR_MT, &p))
                                        die("decode");
                                sink += p.text[0];
                        }
                }
                n += BATCH;
                t = now_s() - t0;
        } while (t < MIN_SECONDS);
        return n / t;
}

int main(void)
{
        static char long_text[3 * 153 + 1];
        const struct job gsm = {
                .text = "Recordatorio: su cita en la Clinica San Jose es el 28/11 a "
                        "las 09:30. Responda SI para confirmar o NO para cancelar."
        };
        const struct job translit = {
                .text = "Recordatorio: su cita en la Cl\xc3\xadnica San Jos\xc3\xa9 "
                        "es ma\xc3\xb1"
                        "ana a las 09:30. \xc2\xbf"
                        "Confirma? Responda S\xc3\xad o No.",
                .translit = true
        };
        const struct job ucs2 = { .text = "Su cita en la cl\xc3\xadnica es ma\xc3\xb1"
                                          "ana a las 09:30 \xf0\x9f\x98\x80 \xc2\xbf"
                                          "Confirma?" };
        const struct job multi = { .text = long_text };
        const struct {
                const char *name;
                const struct job *job;
        } rows[] = {
                { "GSM 7-bit, 1 part", &gsm },
                { "GSM 7-bit translit, 1 part", &translit },
                { "UCS-2, 1 part", &ucs2 },
                { "GSM 7-bit, 3 parts", &multi },
        };
        double single_enc = 0, single_dec = 0;

        for (size_t i = 0; i < sizeof(long_text) - 1; i++)
                long_text[i] = "abcdefghij klmnopqrstuvwxyz, 0123456789."[i % 40];
        printf("%-30s %6s %16s %16s\n", "message", "parts", "encode msg/s", "decode msg/s");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                int np = 0;
                double enc = bench_encode(rows[i].job, &np);
                double dec = bench_decode(rows[i].job);

                printf("%-30s %6d %16.0f %16.0f\n", rows[i].name, np, enc, dec);
                if (i == 0) {
                        single_enc = enc;
                        single_dec = dec;
                }
        }
        printf("target %.0f single-part GSM 7-bit msg/s each way: encode %s, decode %s\n", TARGET,
               single_enc >= TARGET ? "met" : "MISSED", single_dec >= TARGET ? "met" : "MISSED");
        return 0;
}
