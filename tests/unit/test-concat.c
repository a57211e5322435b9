/* Tests for at/concat: reassembly order, duplicates, keys, eviction, time-outs, caps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at/concat.h"

#define SINK_MAX 64

/* What the emit callback received, in order. */
struct sink {
        size_t n;
        struct sms_concat_message *msg[SINK_MAX];
        struct sms_concat_table *reenter; /* when set, the callback tries to re-enter */
        int reenter_result;
};

static void sink_emit(struct sms_concat_message *msg, void *userdata)
{
        struct sink *s = userdata;

        if (s->reenter) {
                struct sms_pdu p = { 0 };

                s->reenter_result = sms_concat_feed(s->reenter, &p, 0, 0);
        }
        if (s->n == SINK_MAX) {
                /* Tests that emit more keep only the count; the cap itself is under test. */
                sms_concat_message_free(msg);
                return;
        }
        s->msg[s->n++] = msg;
}

static void sink_clear(struct sink *s)
{
        for (size_t i = 0; i < s->n; i++)
                sms_concat_message_free(s->msg[i]);
        s->n = 0;
}

/* A GSM 7-bit SMS-DELIVER part; seq 0 and total 0 mean "no concatenation IE". */
static struct sms_pdu part(const char *from, uint16_t ref, bool ref16, unsigned total, unsigned seq,
                           const char *text)
{
        struct sms_pdu p = { 0 };

        p.type = SMS_TYPE_DELIVER;
        snprintf(p.addr.number, sizeof(p.addr.number), "%s", from);
        p.addr.ton = from[0] == '+' ? SMS_TON_INTERNATIONAL : SMS_TON_ALPHANUMERIC;
        p.charset = SMS_CHARSET_GSM7;
        p.msg_class = -1;
        p.scts = (struct sms_time){ 2026, 11, 27, 10, 0, (uint8_t)seq, -24 };
        if (total || seq) {
                p.concat.present = true;
                p.concat.ref16 = ref16;
                p.concat.ref = ref;
                p.concat.total = (uint8_t)total;
                p.concat.seq = (uint8_t)seq;
        }
        snprintf(p.text, sizeof(p.text), "%s", text);
        return p;
}

static struct sms_concat_table *table(struct sink *s, size_t groups, size_t bytes)
{
        struct sms_concat_limits l = { .max_groups = groups, .max_bytes = bytes };
        struct sms_concat_table *t = NULL;

        assert_int_equal(sms_concat_new(&l, sink_emit, s, &t), 0);
        assert_non_null(t);
        return t;
}

static const char *const words[] = { "uno ",  "dos ",   "tres ", "cuatro ", "cinco ",
                                     "seis ", "siete ", "ocho ", "nueve ",  "diez " };

/* Feeds the parts of one message in the order given (1-based seqs, repeats allowed) and
 * checks exactly one whole message came out with the text in sequence order. */
static void check_order(const unsigned *order, size_t n, unsigned total)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        char want[256] = "";
        unsigned dups = 0, seen[16] = { 0 };

        for (unsigned i = 1; i <= total; i++)
                strcat(want, words[i - 1]);
        for (size_t i = 0; i < n; i++) {
                struct sms_pdu p =
                        part("+525512345678", 42, false, total, order[i], words[order[i] - 1]);
                int r = sms_concat_feed(t, &p, 100 + order[i], 1000 + i);
                unsigned have = 0;

                for (unsigned k = 1; k <= total; k++)
                        have += seen[k] ? 1 : 0;
                if (have == total || seen[order[i]]) {
                        assert_int_equal(r, SMS_CONCAT_DUPLICATE);
                        dups++;
                } else {
                        seen[order[i]] = 1;
                        assert_int_equal(r, have + 1 == total ? SMS_CONCAT_DONE : SMS_CONCAT_HELD);
                }
        }
        assert_int_equal(s.n, 1);
        assert_int_equal(s.msg[0]->reason, SMS_CONCAT_COMPLETE);
        assert_string_equal(s.msg[0]->text, want);
        assert_int_equal(s.msg[0]->text_len, strlen(want));
        assert_int_equal(s.msg[0]->total, total);
        assert_int_equal(s.msg[0]->received, total);
        assert_true(s.msg[0]->concatenated);
        assert_int_equal(s.msg[0]->ref, 42);
        assert_string_equal(s.msg[0]->sender.number, "+525512345678");
        assert_int_equal(s.msg[0]->scts.second, 1); /* the first part's SCTS */
        assert_int_equal(s.msg[0]->charset, SMS_CHARSET_GSM7);
        for (unsigned k = 0; k < total; k++) {
                const struct sms_concat_piece *pc = &s.msg[0]->pieces[k];

                assert_int_equal(pc->seq, k + 1);
                assert_int_equal(pc->tag, 100 + k + 1);
                assert_memory_equal(s.msg[0]->text + pc->offset, words[k], pc->len);
        }
        assert_int_equal(sms_concat_groups(t), 0);
        assert_int_equal(sms_concat_bytes(t), 0);
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_orders(void **state)
{
        static const struct {
                const char *name;
                unsigned total;
                size_t n;
                unsigned order[12];
        } cases[] = {
                { "in order", 3, 3, { 1, 2, 3 } },
                { "reverse", 5, 5, { 5, 4, 3, 2, 1 } },
                { "middle first", 3, 3, { 2, 3, 1 } },
                { "duplicate while pending", 3, 5, { 1, 1, 3, 3, 2 } },
                { "duplicate after completion", 2, 4, { 2, 1, 2, 1 } },
                { "ten parts shuffled", 10, 12, { 7, 3, 10, 1, 9, 3, 2, 8, 4, 6, 5, 7 } },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                print_message("order: %s\n", cases[i].name);
                check_order(cases[i].order, cases[i].n, cases[i].total);
        }
}

static void test_random_permutations(void **state)
{
        unsigned seed = 12345;

        for (int iter = 0; iter < 500; iter++) {
                unsigned total = 2 + (unsigned)(rand_r(&seed) % 9);
                unsigned order[20];
                size_t n = total;

                for (unsigned i = 0; i < total; i++)
                        order[i] = i + 1;
                for (unsigned i = total - 1; i > 0; i--) {
                        unsigned j = (unsigned)rand_r(&seed) % (i + 1), tmp = order[i];

                        order[i] = order[j];
                        order[j] = tmp;
                }
                /* Sprinkle duplicates in, before and after completion. */
                while (n < total + 5 && rand_r(&seed) % 2) {
                        size_t at = (size_t)rand_r(&seed) % (n + 1);

                        memmove(order + at + 1, order + at, (n - at) * sizeof(order[0]));
                        order[at] = 1 + (unsigned)rand_r(&seed) % total;
                        n++;
                }
                check_order(order, n, total);
        }
}

static void test_single_and_ignored_ie(void **state)
{
        /* TS 23.040 9.2.3.24.1: total 0, seq 0 or seq > total -> ignore the IE. */
        static const struct {
                const char *name;
                unsigned total, seq;
                bool present;
        } cases[] = {
                { "no UDH", 0, 0, false }, { "total 1", 1, 1, true },     { "total 0", 0, 1, true },
                { "seq 0", 3, 0, true },   { "seq > total", 3, 4, true },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sink s = { 0 };
                struct sms_concat_table *t = table(&s, 0, 0);
                struct sms_pdu p = part("TELCEL", 7, false, cases[i].total, cases[i].seq, "hola");

                print_message("single: %s\n", cases[i].name);
                p.concat.present = cases[i].present;
                assert_int_equal(sms_concat_feed(t, &p, 9, 50), SMS_CONCAT_DONE);
                assert_int_equal(s.n, 1);
                assert_int_equal(s.msg[0]->reason, SMS_CONCAT_COMPLETE);
                assert_false(s.msg[0]->concatenated);
                assert_int_equal(s.msg[0]->total, 1);
                assert_int_equal(s.msg[0]->received, 1);
                assert_int_equal(s.msg[0]->pieces[0].tag, 9);
                assert_string_equal(s.msg[0]->text, "hola");
                assert_string_equal(s.msg[0]->sender.number, "TELCEL");
                assert_int_equal(sms_concat_groups(t), 0);
                /* A repeated single is a new message: there is no key to match it by. */
                assert_int_equal(sms_concat_feed(t, &p, 9, 51), SMS_CONCAT_DONE);
                assert_int_equal(s.n, 2);
                sink_clear(&s);
                sms_concat_free(t);
        }
}

/* Two parts that share everything but one key field must make two groups. */
static void test_keys_never_mix(void **state)
{
        static const struct {
                const char *name;
                const char *from_b;
                uint16_t ref_b;
                bool ref16_b;
                unsigned total_b;
        } cases[] = {
                { "different sender, same ref", "+525599999999", 42, false, 2 },
                { "8-bit vs 16-bit ref", "+525512345678", 42, true, 2 },
                { "different ref", "+525512345678", 43, false, 2 },
                { "different total", "+525512345678", 42, false, 3 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sink s = { 0 };
                struct sms_concat_table *t = table(&s, 0, 0);
                struct sms_pdu a1 = part("+525512345678", 42, false, 2, 1, "A1 ");
                struct sms_pdu a2 = part("+525512345678", 42, false, 2, 2, "A2");
                struct sms_pdu b1 = part(cases[i].from_b, cases[i].ref_b, cases[i].ref16_b,
                                         cases[i].total_b, 1, "B1 ");
                struct sms_pdu b2 = part(cases[i].from_b, cases[i].ref_b, cases[i].ref16_b,
                                         cases[i].total_b, 2, "B2");

                print_message("keys: %s\n", cases[i].name);
                /* Interleaved: A1 B1 B2 A2. */
                assert_int_equal(sms_concat_feed(t, &a1, 0, 1), SMS_CONCAT_HELD);
                assert_int_equal(sms_concat_feed(t, &b1, 0, 2), SMS_CONCAT_HELD);
                assert_int_equal(sms_concat_groups(t), 2);
                assert_int_equal(sms_concat_feed(t, &b2, 0, 3),
                                 cases[i].total_b == 2 ? SMS_CONCAT_DONE : SMS_CONCAT_HELD);
                assert_int_equal(sms_concat_feed(t, &a2, 0, 4), SMS_CONCAT_DONE);
                if (cases[i].total_b == 2) {
                        assert_int_equal(s.n, 2);
                        assert_string_equal(s.msg[0]->text, "B1 B2");
                        assert_string_equal(s.msg[0]->sender.number, cases[i].from_b);
                        assert_int_equal(s.msg[0]->ref16, cases[i].ref16_b);
                        assert_int_equal(s.msg[0]->ref, cases[i].ref_b);
                        assert_string_equal(s.msg[1]->text, "A1 A2");
                } else {
                        assert_int_equal(s.n, 1);
                        assert_string_equal(s.msg[0]->text, "A1 A2");
                        assert_int_equal(sms_concat_groups(t), 1);
                }
                sink_clear(&s);
                sms_concat_free(t);
        }
}

static void test_interleaved_senders(void **state)
{
        static const char *const senders[] = { "+525511111111", "+525522222222", "AT&T",
                                               "+525533333333" };
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        uint64_t now = 0;

        /* Each sender sends 4 parts with the same 16-bit reference, round robin, backwards. */
        for (unsigned seq = 4; seq >= 1; seq--)
                for (size_t k = 0; k < 4; k++) {
                        char text[32];
                        struct sms_pdu p;

                        snprintf(text, sizeof(text), "%zu.%u ", k, seq);
                        p = part(senders[k], 0xBEEF, true, 4, seq, text);
                        assert_true(sms_concat_feed(t, &p, 0, now++) >= 0);
                }
        assert_int_equal(s.n, 4);
        for (size_t k = 0; k < 4; k++) {
                char want[64];

                snprintf(want, sizeof(want), "%zu.1 %zu.2 %zu.3 %zu.4 ", k, k, k, k);
                assert_string_equal(s.msg[k]->text, want);
                assert_string_equal(s.msg[k]->sender.number, senders[k]);
                assert_true(s.msg[k]->ref16);
                assert_int_equal(s.msg[k]->ref, 0xBEEF);
        }
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_duplicate_window_and_reuse(void **state)
{
        struct sms_concat_limits l = { .dup_window_ms = 1000 };
        struct sink s = { 0 };
        struct sms_concat_table *t = NULL;
        struct sms_pdu p1 = part("+525512345678", 9, false, 2, 1, "hola ");
        struct sms_pdu p2 = part("+525512345678", 9, false, 2, 2, "mundo");
        struct sms_pdu other = part("+525512345678", 9, false, 2, 1, "otro ");

        assert_int_equal(sms_concat_new(&l, sink_emit, &s, &t), 0);
        assert_int_equal(sms_concat_feed(t, &p1, 0, 0), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_feed(t, &p2, 0, 10), SMS_CONCAT_DONE);
        /* A modem re-delivering within the window: duplicates, nothing held. */
        assert_int_equal(sms_concat_feed(t, &p1, 0, 500), SMS_CONCAT_DUPLICATE);
        assert_int_equal(sms_concat_feed(t, &p2, 0, 1009), SMS_CONCAT_DUPLICATE);
        assert_int_equal(sms_concat_groups(t), 0);
        /* The same reference with different text is a new message, not a duplicate. */
        assert_int_equal(sms_concat_feed(t, &other, 0, 600), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_groups(t), 1);
        assert_int_equal(sms_concat_expire(t, 600, 0), 1);
        /* After the window the same part starts over. */
        assert_int_equal(sms_concat_feed(t, &p1, 0, 1010), SMS_CONCAT_HELD);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.msg[1]->reason, SMS_CONCAT_TIMED_OUT);
        assert_string_equal(s.msg[1]->text, "otro ");
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_superseded(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        struct sms_pdu a1 = part("+525512345678", 200, false, 3, 1, "old one ");
        struct sms_pdu a2 = part("+525512345678", 200, false, 3, 2, "old two ");
        struct sms_pdu b1 = part("+525512345678", 200, false, 3, 1, "new one ");

        assert_int_equal(sms_concat_feed(t, &a1, 0, 0), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_feed(t, &a2, 0, 1), SMS_CONCAT_HELD);
        /* Part 1 again with other text: the sender reused reference 200. */
        assert_int_equal(sms_concat_feed(t, &b1, 0, 2), SMS_CONCAT_HELD);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.msg[0]->reason, SMS_CONCAT_SUPERSEDED);
        assert_string_equal(s.msg[0]->text, "old one old two ");
        assert_int_equal(s.msg[0]->received, 2);
        assert_int_equal(sms_concat_groups(t), 1);
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_eviction_by_groups(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 3, 0);

        for (uint16_t ref = 1; ref <= 5; ref++) {
                struct sms_pdu p = part("+525512345678", ref, false, 2, 2, "tail");

                assert_int_equal(sms_concat_feed(t, &p, ref, ref * 10), SMS_CONCAT_HELD);
                assert_true(sms_concat_groups(t) <= 3);
        }
        /* Refs 1 and 2 were the oldest: evicted, in that order, with the part they had. */
        assert_int_equal(s.n, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(s.msg[i]->reason, SMS_CONCAT_EVICTED);
                assert_int_equal(s.msg[i]->ref, i + 1);
                assert_int_equal(s.msg[i]->received, 1);
                assert_int_equal(s.msg[i]->total, 2);
                assert_int_equal(s.msg[i]->pieces[0].seq, 2);
                assert_int_equal(s.msg[i]->pieces[0].tag, i + 1);
                assert_string_equal(s.msg[i]->text, "tail");
        }
        /* Completing a held one still works. */
        {
                struct sms_pdu p = part("+525512345678", 4, false, 2, 1, "head-");

                assert_int_equal(sms_concat_feed(t, &p, 0, 100), SMS_CONCAT_DONE);
                assert_string_equal(s.msg[2]->text, "head-tail");
        }
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_timeout(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        struct sms_pdu a3 = part("+525512345678", 1, false, 3, 3, "C");
        struct sms_pdu a1 = part("+525512345678", 1, false, 3, 1, "A");
        struct sms_pdu b1 = part("+525587654321", 1, false, 2, 1, "X");
        uint64_t oldest = 0;

        assert_int_equal(sms_concat_oldest(t, &oldest), -ENOENT);
        assert_int_equal(sms_concat_feed(t, &a3, 0, 1000), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_feed(t, &a1, 0, 5000), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_feed(t, &b1, 0, 20000), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_oldest(t, &oldest), 0);
        assert_int_equal(oldest, 1000);
        /* Age counts from the first part: A is 60 s old at 61000, B only 41 s. */
        assert_int_equal(sms_concat_expire(t, 60999, 60000), 0);
        assert_int_equal(sms_concat_expire(t, 61000, 60000), 1);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.msg[0]->reason, SMS_CONCAT_TIMED_OUT);
        assert_string_equal(s.msg[0]->text, "AC");
        assert_int_equal(s.msg[0]->received, 2);
        assert_int_equal(s.msg[0]->total, 3);
        assert_int_equal(s.msg[0]->pieces[1].seq, 3);
        assert_int_equal(s.msg[0]->first_ms, 1000);
        assert_int_equal(s.msg[0]->last_ms, 5000);
        assert_int_equal(s.msg[0]->scts.second, 1);
        assert_int_equal(sms_concat_oldest(t, &oldest), 0);
        assert_int_equal(oldest, 20000);
        /* Max age 0 drains everything (shutdown). */
        assert_int_equal(sms_concat_expire(t, 20000, 0), 1);
        assert_int_equal(sms_concat_groups(t), 0);
        assert_int_equal(sms_concat_bytes(t), 0);
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_255_parts(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        size_t want_len = 0;

        /* One part of a 255-part claim costs about what one part of a 2-part message costs. */
        {
                struct sms_pdu p = part("+525512345678", 77, false, 255, 200, "x");

                assert_int_equal(sms_concat_feed(t, &p, 0, 0), SMS_CONCAT_HELD);
                assert_true(sms_concat_bytes(t) < 512);
        }
        for (unsigned seq = 255; seq >= 1; seq--) {
                char text[16];
                struct sms_pdu p;
                int r;

                if (seq == 200)
                        continue;
                snprintf(text, sizeof(text), "%03u", seq);
                p = part("+525512345678", 77, false, 255, seq, text);
                r = sms_concat_feed(t, &p, seq, 255 - seq);
                assert_int_equal(r, seq == 1 ? SMS_CONCAT_DONE : SMS_CONCAT_HELD);
                want_len += 3;
        }
        assert_int_equal(s.n, 1);
        assert_int_equal(s.msg[0]->received, 255);
        assert_int_equal(s.msg[0]->text_len, want_len + 1);
        assert_memory_equal(s.msg[0]->text, "001002003", 9);
        assert_memory_equal(s.msg[0]->text + 3 * 199, "x201", 4);
        assert_int_equal(sms_concat_bytes(t), 0);
        sink_clear(&s);
        sms_concat_free(t);
}

/* Endless parts with new references and full-size texts never exceed the byte cap. */
static void test_memory_cap(void **state)
{
        static const size_t caps[] = { SMS_CONCAT_BYTES_MIN, 16 * 1024, 100 * 1000 };
        char big[SMS_TEXT_MAX];

        memset(big, 'z', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
                struct sink s = { 0 };
                struct sms_concat_table *t = table(&s, 1000, caps[c]);
                size_t emitted_before = 0, peak = 0, held;

                for (unsigned i = 0; i < 5000; i++) {
                        struct sms_pdu p =
                                part("+525512345678", (uint16_t)i, true, 255, 1 + i % 254, big);

                        assert_int_equal(sms_concat_feed(t, &p, i, i), SMS_CONCAT_HELD);
                        assert_true(sms_concat_bytes(t) <= caps[c]);
                        if (sms_concat_bytes(t) > peak)
                                peak = sms_concat_bytes(t);
                        if (s.n == SINK_MAX) {
                                emitted_before += s.n;
                                sink_clear(&s);
                        }
                }
                print_message("cap %zu: peak %zu bytes, %zu groups held\n", caps[c], peak,
                              sms_concat_groups(t));
                assert_true(peak > caps[c] / 2); /* the cap is used, not just respected */
                assert_true(emitted_before + s.n > 0);
                held = sms_concat_groups(t);
                assert_int_equal(sms_concat_expire(t, 5000, 0), (int)held);
                sink_clear(&s);
                sms_concat_free(t);
        }
}

/* One message larger than the cap: its own oldest parts are not dropped silently. */
static void test_group_larger_than_cap(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, SMS_CONCAT_BYTES_MIN);
        char big[SMS_TEXT_MAX];
        unsigned seq;

        memset(big, 'q', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (seq = 1; s.n == 0 && seq < 50; seq++) {
                struct sms_pdu p = part("+525512345678", 3, false, 50, seq, big);

                assert_true(sms_concat_feed(t, &p, 0, seq) >= 0);
                assert_true(sms_concat_bytes(t) <= SMS_CONCAT_BYTES_MIN);
        }
        assert_int_equal(s.n, 1);
        assert_int_equal(s.msg[0]->reason, SMS_CONCAT_EVICTED);
        assert_true(s.msg[0]->received >= 2);
        assert_int_equal(sms_concat_groups(t), 1);
        sink_clear(&s);
        sms_concat_free(t);
}

static void test_8bit_data(void **state)
{
        struct sink s = { 0 };
        struct sms_concat_table *t = table(&s, 0, 0);
        struct sms_pdu a = part("+525512345678", 5, false, 2, 1, "");
        struct sms_pdu b = part("+525512345678", 5, false, 2, 2, "");
        static const uint8_t da[] = { 0x00, 0x01, 0xFF }, db[] = { 0x10, 0x00 };

        a.charset = b.charset = SMS_CHARSET_8BIT;
        memcpy(a.ud, da, sizeof(da));
        a.ud_len = sizeof(da);
        memcpy(b.ud, db, sizeof(db));
        b.ud_len = sizeof(db);
        assert_int_equal(sms_concat_feed(t, &b, 0, 0), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_feed(t, &a, 0, 1), SMS_CONCAT_DONE);
        assert_int_equal(s.msg[0]->charset, SMS_CHARSET_8BIT);
        assert_int_equal(s.msg[0]->text_len, 5);
        assert_memory_equal(s.msg[0]->text, "\x00\x01\xff\x10\x00", 5);
        sink_clear(&s);
        sms_concat_free(t);
}

/* End to end with the codec: a long DELIVER encoded into parts, decoded, fed shuffled. */
static void test_codec_parts(void **state)
{
        static const struct {
                const char *name;
                bool ref16;
                bool ucs2;
                size_t repeat;
                const char *unit;
        } cases[] = {
                { "gsm7 8-bit ref", false, false, 12, "Su cita es mañana a las 10:00 {sala 3}. " },
                { "ucs2 16-bit ref", true, true, 9, "Recordatorio 💊 tome su medicina 😀. " },
        };
        static struct sms_part parts[SMS_PARTS_MAX];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sms_deliver_opts o = { .scts = { 2026, 11, 27, 9, 30, 0, -24 },
                                              .force_ucs2 = cases[i].ucs2,
                                              .ref16 = cases[i].ref16,
                                              .ref = cases[i].ref16 ? 0xABCD : 0xAB };
                char text[2048] = "";
                struct sink s = { 0 };
                struct sms_concat_table *t = table(&s, 0, 0);
                unsigned seed = 7;
                size_t order[SMS_PARTS_MAX];
                int n;

                print_message("codec: %s\n", cases[i].name);
                for (size_t k = 0; k < cases[i].repeat; k++)
                        strcat(text, cases[i].unit);
                n = sms_deliver_encode(text, "+525512345678", &o, parts, SMS_PARTS_MAX);
                assert_true(n >= 3);
                for (int k = 0; k < n; k++)
                        order[k] = (size_t)k;
                for (int k = n - 1; k > 0; k--) {
                        size_t j = (size_t)rand_r(&seed) % (size_t)(k + 1), tmp = order[k];

                        order[k] = order[j];
                        order[j] = tmp;
                }
                for (int k = 0; k < n; k++) {
                        struct sms_pdu p;

                        assert_int_equal(sms_pdu_decode(parts[order[k]].pdu, parts[order[k]].len,
                                                        SMS_DIR_MT, &p),
                                         0);
                        assert_int_equal(sms_concat_feed(t, &p, order[k], (uint64_t)k),
                                         k == n - 1 ? SMS_CONCAT_DONE : SMS_CONCAT_HELD);
                }
                assert_int_equal(s.n, 1);
                assert_string_equal(s.msg[0]->text, text);
                assert_int_equal(s.msg[0]->total, n);
                assert_int_equal(s.msg[0]->ref, o.ref);
                assert_int_equal(s.msg[0]->ref16, cases[i].ref16);
                assert_int_equal(s.msg[0]->charset,
                                 cases[i].ucs2 ? SMS_CHARSET_UCS2 : SMS_CHARSET_GSM7);
                assert_int_equal(s.msg[0]->scts.tz_quarters, -24);
                assert_string_equal(s.msg[0]->sender.number, "+525512345678");
                sink_clear(&s);
                sms_concat_free(t);
        }
}

static void test_bad_calls(void **state)
{
        struct sms_concat_limits small = { .max_bytes = SMS_CONCAT_BYTES_MIN - 1 };
        struct sink s = { 0 };
        struct sms_concat_table *t = NULL;
        struct sms_pdu p = part("+525512345678", 1, false, 2, 1, "a");

        assert_int_equal(sms_concat_new(NULL, NULL, NULL, &t), -EINVAL);
        assert_int_equal(sms_concat_new(&small, sink_emit, &s, &t), -EINVAL);
        assert_null(t);
        assert_int_equal(sms_concat_new(NULL, sink_emit, &s, &t), 0);
        assert_int_equal(sms_concat_feed(t, NULL, 0, 0), -EINVAL);
        assert_int_equal(sms_concat_feed(NULL, &p, 0, 0), -EINVAL);
        /* The callback re-entering the table is refused. */
        s.reenter = t;
        assert_int_equal(sms_concat_feed(t, &p, 0, 0), SMS_CONCAT_HELD);
        assert_int_equal(sms_concat_expire(t, 10, 0), 1);
        assert_int_equal(s.reenter_result, -EBUSY);
        assert_null(sms_concat_free(NULL));
        assert_null(sms_concat_message_free(NULL));
        assert_string_equal(sms_concat_reason_name(SMS_CONCAT_TIMED_OUT), "timed-out");
        sink_clear(&s);
        sms_concat_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_orders),
                cmocka_unit_test(test_random_permutations),
                cmocka_unit_test(test_single_and_ignored_ie),
                cmocka_unit_test(test_keys_never_mix),
                cmocka_unit_test(test_interleaved_senders),
                cmocka_unit_test(test_duplicate_window_and_reuse),
                cmocka_unit_test(test_superseded),
                cmocka_unit_test(test_eviction_by_groups),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_255_parts),
                cmocka_unit_test(test_memory_cap),
                cmocka_unit_test(test_group_larger_than_cap),
                cmocka_unit_test(test_8bit_data),
                cmocka_unit_test(test_codec_parts),
                cmocka_unit_test(test_bad_calls),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
