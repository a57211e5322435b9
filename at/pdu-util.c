/* Around the SMS PDU codec: the thread's error text, hexadecimal PDUs as AT commands
 * carry them, and names for enums. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "at/pdu-internal.h"

static _Thread_local char error_text[SMS_ERROR_MAX];

void sms_pdu_set_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(error_text, sizeof(error_text), fmt, ap);
        va_end(ap);
}

const char *sms_pdu_error(void)
{
        return error_text[0] ? error_text : "no error";
}

static int hex_value(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
                return (ch | 0x20) - 'a' + 10;
        return -1;
}

int sms_hex_decode(const char *hex, uint8_t *bin, size_t max, size_t *ret_len)
{
        size_t n;

        if (!hex || (!bin && max))
                return sms_pdu_fail(-EINVAL, "invalid arguments to sms_hex_decode");
        /* Characters first: "bad character at" says more than "odd length". */
        for (n = 0; hex[n]; n++)
                if (hex_value(hex[n]) < 0)
                        return sms_pdu_fail(-EBADMSG,
                                            "bad hex character 0x%02X at offset %zu (octet %zu)",
                                            (unsigned char)hex[n], n, n / 2);
        if (n % 2)
                return sms_pdu_fail(-EBADMSG, "odd number of hex digits (%zu)", n);
        if (n / 2 > max)
                return sms_pdu_fail(-E2BIG, "%zu octets of hex exceed the %zu allowed", n / 2, max);
        for (size_t i = 0; i < n / 2; i++)
                bin[i] = hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]);
        *ret_len = n / 2;
        return 0;
}

void sms_hex_encode(const uint8_t *bin, size_t len, char *hex)
{
        static const char digits[16] = "0123456789ABCDEF";

        for (size_t i = 0; i < len; i++) {
                hex[2 * i] = digits[bin[i] >> 4];
                hex[2 * i + 1] = digits[bin[i] & 0x0F];
        }
        hex[2 * len] = '\0';
}

int sms_pdu_decode_hex(const char *hex, enum sms_dir dir, struct sms_pdu *ret_pdu)
{
        uint8_t bin[SMS_PDU_HEX_MAX];
        size_t len;
        int r = sms_hex_decode(hex, bin, sizeof(bin), &len);

        if (r == -E2BIG)
                return -EBADMSG; /* the text already says why */
        if (r < 0)
                return r;
        return sms_pdu_decode(bin, len, dir, ret_pdu);
}

const char *sms_status_class_name(enum sms_status_class c)
{
        switch (c) {
        case SMS_STATUS_DELIVERED:
                return "delivered";
        case SMS_STATUS_TRYING:
                return "trying";
        case SMS_STATUS_FAILED:
                return "failed";
        }
        return "unknown";
}

const char *sms_charset_name(enum sms_charset c)
{
        switch (c) {
        case SMS_CHARSET_GSM7:
                return "gsm7";
        case SMS_CHARSET_8BIT:
                return "8bit";
        case SMS_CHARSET_UCS2:
                return "ucs2";
        }
        return "unknown";
}

const char *sms_type_name(enum sms_type t)
{
        switch (t) {
        case SMS_TYPE_DELIVER:
                return "deliver";
        case SMS_TYPE_SUBMIT:
                return "submit";
        case SMS_TYPE_STATUS_REPORT:
                return "status-report";
        case SMS_TYPE_SUBMIT_REPORT:
                return "submit-report";
        case SMS_TYPE_COMMAND:
                return "command";
        }
        return "unknown";
}
