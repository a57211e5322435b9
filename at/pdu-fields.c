/* Writers of the TPDU fields the SMS encoders share: addresses (TS 23.040 9.1.2.5)
 * including 7-bit alphanumeric ones, the SMSC address (TS 24.011 8.2.5.1), time stamps
 * (9.2.3.11) and relative validity (9.2.3.12.1). */
#include <errno.h>
#include <string.h>

#include "at/charset.h"
#include "at/pdu-internal.h"

#define TOA_INTL    0x91 /* TS 23.040 9.1.2.5: international, ISDN numbering plan */
#define TOA_UNKNOWN 0x81 /* unknown type, ISDN plan: what modems send for national */
#define TOA_ALNUM   0xD0 /* alphanumeric, no numbering plan */
#define TZ_SIGN     0x08

/* TS 23.040 9.1.2.5, 7-bit packed sender name such as "TELCEL". */
static int put_alnum(const char *name, uint8_t *out)
{
        uint8_t sept[SMS_ALNUM_MAX + 1];
        size_t n = 0;

        for (const char *s = name; *s;) {
                uint8_t sep = 0;
                uint32_t cp;
                int k = charset_utf8_next(s, &cp);

                if (k < 0)
                        return sms_pdu_fail(-EINVAL, "invalid UTF-8 in address at byte %zu",
                                            (size_t)(s - name));
                s += k;
                k = charset_gsm7_lookup(cp, &sep);
                if (k == 0)
                        return sms_pdu_fail(
                                -EINVAL, "alphanumeric address \"%s\" has U+%04X, not in GSM 7-bit",
                                name, cp);
                if (n + k > SMS_ALNUM_MAX)
                        return sms_pdu_fail(-EINVAL,
                                            "alphanumeric address \"%s\" exceeds %d GSM characters",
                                            name, SMS_ALNUM_MAX);
                if (k == 2)
                        sept[n++] = CHARSET_GSM7_ESC;
                sept[n++] = sep;
        }
        out[0] = (n * 7 + 3) / 4; /* semi-octets used */
        out[1] = TOA_ALNUM;
        memset(out + 2, 0, charset_septets_octets(n));
        charset_septets_pack(sept, n, 0, out + 2);
        return 2 + charset_septets_octets(n);
}

static int digit_value(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch == '*')
                return 0x0A;
        if (ch == '#')
                return 0x0B;
        return -1;
}

/* Writes an address: TP form (length in semi-octets) or, when smsc, the TS 24.011
 * form (length in octets, type octet included). "+" makes it international. Anything
 * else than digits, '*' and '#' is alphanumeric, which only alnum_ok allows. Returns
 * the octets written or -EINVAL. */
static int put_address(const char *num, bool smsc, bool alnum_ok, const char *what, uint8_t *out)
{
        const char *d = num;
        uint8_t toa = TOA_UNKNOWN;
        size_t n;

        if (!num || !*num)
                return sms_pdu_fail(-EINVAL, "%s is empty", what);
        if (*d == '+') {
                toa = TOA_INTL;
                d++;
        }
        for (n = 0; d[n]; n++) {
                if (digit_value(d[n]) >= 0)
                        continue;
                if (alnum_ok)
                        return put_alnum(num, out);
                return sms_pdu_fail(-EINVAL, "%s \"%s\" has a non-digit character at byte %zu",
                                    what, num, (size_t)(d - num) + n);
        }
        if (n == 0 && alnum_ok)
                return put_alnum(num, out); /* a lone "+" */
        if (n == 0 || n > SMS_ADDR_DIGITS_MAX)
                return sms_pdu_fail(-EINVAL, "%s \"%s\" has %zu digits, expected 1 to %d", what,
                                    num, n, SMS_ADDR_DIGITS_MAX);
        out[0] = smsc ? 1 + (n + 1) / 2 : n;
        out[1] = toa;
        for (size_t i = 0; i < n; i += 2) {
                int hi = i + 1 < n ? digit_value(d[i + 1]) : 0x0F; /* F fills an odd count */

                out[2 + i / 2] = digit_value(d[i]) | hi << 4;
        }
        return 2 + (n + 1) / 2;
}

int sms_pdu_put_smsc(const char *smsc, uint8_t *out)
{
        if (!smsc || !*smsc) {
                out[0] = 0; /* TS 27.005 3.1: the modem uses its stored SMSC */
                return 1;
        }
        return put_address(smsc, true, false, "SMSC address", out);
}

int sms_pdu_put_address(const char *num, bool alnum_ok, const char *what, uint8_t *out)
{
        return put_address(num, false, alnum_ok, what, out);
}

static uint8_t swapped_bcd(unsigned v)
{
        return (v / 10) | (v % 10) << 4;
}

/* TS 23.040 9.2.3.11. Years 2000-2099 or 0-99; zero months and days pass as SIMs
 * store them, so decode and encode agree. */
int sms_pdu_put_time(const struct sms_time *t, const char *what, uint8_t *out)
{
        unsigned y = t->year >= 2000 ? t->year - 2000u : t->year;
        int q = t->tz_quarters;

        if (y > 99 || t->month > 12 || t->day > 31 || t->hour > 23 || t->minute > 59 ||
            t->second > 59 || q < -79 || q > 79)
                return sms_pdu_fail(-EINVAL, "%s %u-%02u-%02u %02u:%02u:%02u tz %d out of range",
                                    what, t->year, t->month, t->day, t->hour, t->minute, t->second,
                                    q);
        out[0] = swapped_bcd(y);
        out[1] = swapped_bcd(t->month);
        out[2] = swapped_bcd(t->day);
        out[3] = swapped_bcd(t->hour);
        out[4] = swapped_bcd(t->minute);
        out[5] = swapped_bcd(t->second);
        out[6] = swapped_bcd(q < 0 ? -q : q) | (q < 0 ? TZ_SIGN : 0);
        return 7;
}

/* TS 23.040 9.2.3.12.1, rounded up to the next value the format can express. */
int sms_pdu_relative_vp(int minutes)
{
        if (minutes <= 12 * 60)
                return (minutes + 4) / 5 - 1;
        if (minutes <= 24 * 60)
                return 143 + (minutes - 12 * 60 + 29) / 30;
        if (minutes <= 30 * 24 * 60)
                return 166 + (minutes + 24 * 60 - 1) / (24 * 60);
        return 192 + (minutes + 7 * 24 * 60 - 1) / (7 * 24 * 60);
}
