/* libFuzzer target for at/pdu: the input is fed to the decoder in both directions,
 * as binary and as hex text; each decode must give a result or an error, never a
 * crash. When the input is valid UTF-8 it is also encoded as SMS-SUBMIT (options from
 * its first byte) and every part must decode back to the text. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at/charset.h"
#include "at/pdu.h"

#define TEXT_MAX 4096 /* bytes of input tried as text: up to ~27 GSM parts */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sms_part parts[SMS_PARTS_MAX];

static void check_decode(int r)
{
        if (r != 0 && r != -EBADMSG && r != -ENOTSUP)
                abort();
        if (r != 0 && !sms_pdu_error()[0])
                abort();
}

/* GSM characters as they are, the others folded: what translit sends. */
static size_t fold_text(const char *in, char *out)
{
        size_t o = 0;

        while (*in) {
                uint32_t cp;
                uint8_t s;
                int n = charset_utf8_next(in, &cp);

                if (charset_gsm7_lookup(cp, &s)) {
                        memcpy(out + o, in, n);
                        o += n;
                } else {
                        const char *f = charset_fold(cp);

                        memcpy(out + o, f, strlen(f));
                        o += strlen(f);
                }
                in += n;
        }
        out[o] = '\0';
        return o;
}

static void roundtrip(const uint8_t *data, size_t size)
{
        static char text[TEXT_MAX + 1], want[2 * TEXT_MAX + 1], got[2 * TEXT_MAX + 1];
        struct sms_submit_opts o = { .msg_class = -1 };
        struct sms_text_info info;
        size_t n = size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX, g = 0;
        int r;

        memcpy(text, data + 1, n);
        text[n] = '\0'; /* an embedded NUL just ends the text earlier */
        o.translit = data[0] & 1;
        o.ref16 = data[0] & 2;
        o.ref = data[0];
        o.status_report = data[0] & 4;
        r = sms_submit_encode(text, "+525512345678", &o, parts, SMS_PARTS_MAX, &info);
        if (r == -EINVAL || r == -E2BIG)
                return; /* invalid UTF-8, or too long */
        if (r <= 0 || (size_t)r != info.parts)
                abort();
        for (int i = 0; i < r; i++) {
                struct sms_pdu p;

                if (sms_pdu_decode(parts[i].pdu, parts[i].len, SMS_DIR_MO, &p) != 0)
                        abort();
                if (r > 1 && (!p.concat.present || p.concat.seq != i + 1 || p.concat.total != r))
                        abort();
                size_t l = strlen(p.text);

                if (g + l >= sizeof(got))
                        abort();
                memcpy(got + g, p.text, l);
                g += l;
        }
        got[g] = '\0';
        if (o.translit)
                fold_text(text, want);
        else
                strcpy(want, text);
        if (strcmp(got, want) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char hex[2 * SMS_PDU_HEX_MAX + 3];
        struct sms_pdu p;
        size_t n = size < sizeof(hex) - 1 ? size : sizeof(hex) - 1;

        check_decode(sms_pdu_decode(data, size, SMS_DIR_MT, &p));
        check_decode(sms_pdu_decode(data, size, SMS_DIR_MO, &p));
        memcpy(hex, data, n);
        hex[n] = '\0';
        check_decode(sms_pdu_decode_hex(hex, size && (data[0] & 1) ? SMS_DIR_MO : SMS_DIR_MT, &p));
        if (size > 0)
                roundtrip(data, size);
        return 0;
}
