/* Throughput of the AT framer and chat on a realistic stream: a +CMGL=4 listing of 250
 * stored messages with their PDUs, Huawei ^RSSI/^HCSQ noise and +CMTI URCs mixed in, fed in
 * 4 KiB reads as a serial port delivers them. Prints MB/s for the lexer alone and for the
 * whole chat (lexer + classification + result lines + URC dispatch). Target: >= 100 MB/s. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "at/chat.h"
#include "at/lexer.h"

#define ENTRIES 250
#define READ    4096
#define TOTAL   (256.0 * 1024 * 1024) /* bytes to push through each measurement */

static const char PDU[] = "0891255155000000F0040D91255115325476F800006211724150334A14D3340B347E"
                          "BBCD6979FB0D6AA741E3343D0C";

static size_t build_stream(char *buf, size_t size)
{
        size_t o = 0;
        o += (size_t)snprintf(buf + o, size - o, "AT+CMGL=4\r");
        for (int i = 0; i < ENTRIES; i++) {
                o += (size_t)snprintf(buf + o, size - o, "\r\n+CMGL: %d,1,,38\r\n%s\r\n", i, PDU);
                if (i % 10 == 5)
                        o += (size_t)snprintf(buf + o, size - o,
                                              "\r\n^RSSI:17\r\n\r\n^HCSQ:\"LTE\",40,35,120,18\r\n");
                if (i % 50 == 25)
                        o += (size_t)snprintf(buf + o, size - o, "\r\n+CMTI: \"SM\",%d\r\n", i);
        }
        o += (size_t)snprintf(buf + o, size - o, "\r\nOK\r\n");
        return o;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long lines_seen, urcs_seen, results_ok;

static void on_line(const char *line, const char *pdu, void *userdata)
{
        lines_seen += pdu != NULL;
}

static void on_result(const struct at_result *r, void *userdata)
{
        results_ok += r->status == AT_STATUS_OK;
}

static void on_urc(const char *line, const char *pdu, void *userdata)
{
        urcs_seen++;
}

static double bench_lexer(const char *s, size_t len)
{
        struct at_lexer lx;
        unsigned long tokens = 0;
        double bytes = 0, t0 = now_s();
        at_lexer_reset(&lx);
        while (bytes < TOTAL) {
                for (size_t pos = 0; pos < len;) {
                        size_t n = len - pos < READ ? len - pos : READ;
                        const uint8_t *p = (const uint8_t *)s + pos;
                        size_t left = n;
                        while (left > 0) {
                                size_t used;
                                struct at_token t;
                                at_lexer_feed(&lx, p, left, &used, &t);
                                p += used;
                                left -= used;
                                tokens += t.type != AT_TOKEN_NONE;
                        }
                        pos += n;
                }
                bytes += (double)len;
        }
        double dt = now_s() - t0;
        if (tokens == 0)
                abort();
        return bytes / dt / 1e6;
}

static double bench_chat(const char *s, size_t len)
{
        struct at_chat *chat;
        struct at_chat_config cfg = { .urc_default = on_urc };
        if (at_chat_new(&cfg, &chat) < 0)
                abort();
        struct at_chat_cmd cmgl = { .text = "AT+CMGL=4",
                                    .prefix = "+CMGL:",
                                    .flags = AT_CMD_EXPECT_PDU,
                                    .timeout_ms = 30000,
                                    .on_line = on_line,
                                    .on_result = on_result };
        double bytes = 0, t0 = now_s();
        uint64_t ms = 0;
        while (bytes < TOTAL) {
                if (at_chat_send(chat, &cmgl, ms, NULL) < 0)
                        abort();
                const uint8_t *out;
                at_chat_output_done(chat, at_chat_output(chat, &out));
                for (size_t pos = 0; pos < len;) {
                        size_t n = len - pos < READ ? len - pos : READ;
                        at_chat_feed(chat, (const uint8_t *)s + pos, n, ms);
                        pos += n;
                }
                ms += 1000;
                bytes += (double)len;
        }
        double dt = now_s() - t0;
        at_chat_free(chat);
        return bytes / dt / 1e6;
}

int main(void)
{
        static char stream[1 << 17];
        size_t len = build_stream(stream, sizeof(stream));
        double lex = bench_lexer(stream, len);
        double chat = bench_chat(stream, len);
        unsigned long rounds = results_ok;
        if (rounds == 0 || lines_seen != rounds * ENTRIES)
                fprintf(stderr, "bench-at: wrong results: %lu rounds, %lu PDUs\n", rounds,
                        lines_seen),
                        exit(1);
        printf("bench-at: stream %zu bytes (+CMGL listing of %d PDUs with URCs), 4 KiB reads\n",
               len, ENTRIES);
        printf("bench-at: lexer %.0f MB/s, chat %.0f MB/s (target >= 100 MB/s)\n", lex, chat);
        printf("bench-at: %lu listings, %lu PDUs, %lu URCs delivered\n", rounds, lines_seen,
               urcs_seen);
        return 0;
}
