/* libFuzzer target for at/concat: parts built from the input, fed in that order; asserts no
 * crash, consistent messages, and storage within the caps at every step. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "at/concat.h"

#define FUZZ_GROUPS 8
#define FUZZ_BYTES  (8 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_senders[] = { "+525511111111", "+525522222222", "TELCEL", "" };

static void fuzz_emit(struct sms_concat_message *m, void *userdata)
{
        size_t *count = userdata;
        size_t sum = 0;

        assert(m->received >= 1 && m->received <= m->total);
        for (unsigned i = 0; i < m->received; i++) {
                assert(m->pieces[i].seq >= 1 && m->pieces[i].seq <= m->total);
                assert(i == 0 || m->pieces[i].seq > m->pieces[i - 1].seq);
                assert(m->pieces[i].offset == sum);
                sum += m->pieces[i].len;
        }
        assert(sum == m->text_len && m->text[m->text_len] == '\0');
        if (m->reason == SMS_CONCAT_COMPLETE)
                assert(m->received == m->total);
        (*count)++;
        sms_concat_message_free(m);
}

/* Record: sender, ref hi, ref lo, flags, total, seq, time step, text length, text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sms_concat_limits lim = { .max_groups = FUZZ_GROUPS,
                                         .max_bytes = FUZZ_BYTES,
                                         .dup_window_ms = 5000 };
        struct sms_concat_table *t = NULL;
        size_t emitted = 0, pos = 0;
        uint64_t now = 0;

        if (sms_concat_new(&lim, fuzz_emit, &emitted, &t) < 0)
                return 0;
        while (size - pos >= 8) {
                const uint8_t *r = data + pos;
                struct sms_pdu p = { 0 };
                size_t len = r[7] % 200; /* room for full-size parts via repetition below */

                pos += 8;
                if (len > size - pos)
                        len = size - pos;
                p.type = (r[3] & 0x40) ? SMS_TYPE_SUBMIT : SMS_TYPE_DELIVER;
                snprintf(p.addr.number, sizeof(p.addr.number), "%s", fuzz_senders[r[0] % 4]);
                p.concat.present = r[3] & 1;
                p.concat.ref16 = r[3] & 2;
                p.concat.ref = (uint16_t)(r[1] << 8 | r[2]);
                p.concat.total = r[4];
                p.concat.seq = r[5];
                p.msg_class = -1;
                if (r[3] & 4) {
                        p.charset = SMS_CHARSET_8BIT;
                        p.ud_len = len < SMS_UD_MAX ? len : SMS_UD_MAX;
                        memcpy(p.ud, data + pos, p.ud_len);
                } else {
                        /* Repeat the text up to 3 times so parts reach SMS_TEXT_MAX. */
                        size_t rep = 1 + (r[3] >> 4) % 3, n = 0;

                        for (size_t k = 0; k < rep; k++)
                                for (size_t i = 0; i < len && n < SMS_TEXT_MAX - 1; i++)
                                        p.text[n++] = data[pos + i] ? (char)data[pos + i] : ' ';
                        p.text[n] = '\0';
                }
                pos += len;
                now += r[6] * 10u;
                assert(sms_concat_feed(t, &p, pos, now) >= 0);
                assert(sms_concat_bytes(t) <= FUZZ_BYTES);
                assert(sms_concat_groups(t) <= FUZZ_GROUPS);
                if (r[3] & 8)
                        assert(sms_concat_expire(t, now, 2000) >= 0);
        }
        assert(sms_concat_expire(t, now, 0) >= 0);
        assert(sms_concat_groups(t) == 0 && sms_concat_bytes(t) == 0);
        sms_concat_free(t);
        return 0;
}
