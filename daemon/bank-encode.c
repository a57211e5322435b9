/* PDUs for the bank: the TPDU length of a stored PDU, and encoding a part at send time when
 * the queue stored none (puentectl encodes at queue time, so this is the fall-back). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at/pdu.h"
#include "daemon/bank-internal.h"

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int bank_tpdu_len(const char *pdu_hex, size_t *ret_len)
{
        size_t octets = strlen(pdu_hex) / 2;
        int hi, lo;

        if (strlen(pdu_hex) % 2 != 0 || octets < 2)
                return -EBADMSG;
        hi = hex_digit(pdu_hex[0]);
        lo = hex_digit(pdu_hex[1]);
        if (hi < 0 || lo < 0)
                return -EBADMSG;
        /* 27.005 3.5.1: <length> counts the TPDU only, not the SMSC octets that lead. */
        if ((size_t)(hi * 16 + lo) + 1 >= octets)
                return -EBADMSG;
        *ret_len = octets - 1 - (size_t)(hi * 16 + lo);
        return 0;
}

int bank_encode_part(struct bank *b, const struct store_part *p, struct bank_due *d)
{
        struct sms_submit_opts opts = {
                .status_report = true, /* delivered / failed per message (docs/bank.md) */
                .msg_class = -1,
                .ref16 = p->concat_ref > UINT8_MAX,
                .ref = (uint16_t)p->concat_ref,
                /* Queued as GSM 7-bit: any character outside it was transliterated when the
                 * parts were counted (rules with translit = true), so fold it again here. */
                .translit = p->encoding == STORE_ENC_GSM7,
        };
        int n;

        if (!p->text || p->seq < 1 || p->seq > p->part_count)
                return -EINVAL;
        if (!b->encode_parts) {
                b->encode_parts = calloc(STORE_PARTS_MAX, sizeof(*b->encode_parts));
                if (!b->encode_parts)
                        return -ENOMEM;
        }
        n = sms_submit_encode(p->text, p->recipient, &opts, b->encode_parts, STORE_PARTS_MAX, NULL);
        if (n < 0)
                return n;
        /* The count was fixed at queue time; a different one would not join at the phone. */
        if ((unsigned)n != p->part_count)
                return -EBADMSG;
        sms_hex_encode(b->encode_parts[p->seq - 1].pdu, b->encode_parts[p->seq - 1].len, d->pdu);
        d->tpdu_len = b->encode_parts[p->seq - 1].tpdu_len;
        return 0;
}
