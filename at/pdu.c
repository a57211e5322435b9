/* SMS PDU decoder: SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT (TS 23.040 9.2.2). */
#include <errno.h>
#include <string.h>

#include "at/charset.h"
#include "at/pdu-internal.h"

#define SMSC_OCTETS_MAX 11 /* TS 24.011 8.2.5.1: type octet + 10 octets of digits */
#define SCTS_OCTETS     7  /* TS 23.040 9.2.3.11 */
#define TZ_SIGN         0x08

/* TP-MTI, TS 23.040 9.2.3.1: the two low bits of the first octet. */
enum {
        MTI_DELIVER = 0,       /* MT; MO: DELIVER-REPORT */
        MTI_SUBMIT = 1,        /* MO; MT: SUBMIT-REPORT */
        MTI_STATUS_REPORT = 2, /* MT; MO: COMMAND */
        MTI_RESERVED = 3,
};

/* First-octet bits, TS 23.040 9.2.2. */
#define FO_MMS  0x04 /* DELIVER, STATUS-REPORT: no more messages waiting */
#define FO_VPF  0x18 /* SUBMIT: validity period format */
#define FO_SR   0x20 /* SRI (DELIVER), SRR (SUBMIT), SRQ (STATUS-REPORT) */
#define FO_UDHI 0x40
#define FO_RP   0x80

/* TP-PI bits, TS 23.040 9.2.3.27. */
#define PI_PID     0x01
#define PI_DCS     0x02
#define PI_UDL     0x04
#define PI_EXT     0x80
#define PI_PADDING 0xFF

/* Reading position in a PDU; every read is checked with need() first. */
struct cursor {
        const uint8_t *buf;
        size_t len;
        size_t pos;
};

static int need(const struct cursor *c, size_t n, const char *what)
{
        if (c->len - c->pos >= n)
                return 0;
        return sms_pdu_fail(-EBADMSG,
                            "PDU truncated in %s at octet %zu: needs %zu octets, %zu left", what,
                            c->pos, n, c->len - c->pos);
}

static int get_octet(struct cursor *c, const char *what, uint8_t *ret)
{
        int r = need(c, 1, what);

        if (r < 0)
                return r;
        *ret = c->buf[c->pos++];
        return 0;
}

/* TS 23.040 9.1.2.3: semi-octets, low nibble first; A-E are '*', '#', 'a'-'c'. */
static const char bcd_digit[16] = "0123456789*#abc";

static void decode_digits(const uint8_t *o, size_t semi_octets, bool intl, char *out)
{
        size_t n = 0;

        if (intl)
                out[n++] = '+';
        for (size_t i = 0; i < semi_octets; i++) {
                uint8_t d = i & 1 ? o[i / 2] >> 4 : o[i / 2] & 0x0F;

                if (d == 0x0F)
                        break; /* filler: only valid last, harmless elsewhere */
                out[n++] = bcd_digit[d];
        }
        out[n] = '\0';
}

/* TS 23.040 9.1.2.5: an alphanumeric address is GSM 7-bit packed; its length counts
 * the semi-octets used. When the septets fill the octets exactly, the last septet
 * may be padding that some networks leave as 0 ('@') or CR (TS 23.038 6.1.2.3.1):
 * dropped, so a 7-character "Telcel1" does not read "Telcel1@". */
static void decode_alnum(const uint8_t *o, size_t semi_octets, char *out)
{
        uint8_t septets[SMS_ALNUM_MAX + 1];
        size_t n = semi_octets * 4 / 7;

        charset_septets_unpack(o, (semi_octets + 1) / 2, 0, n, septets);
        if (n > 0 && n * 7 == semi_octets * 4 && (septets[n - 1] == 0 || septets[n - 1] == '\r'))
                n--;
        charset_gsm7_to_utf8(septets, n, out, SMS_ADDR_MAX);
}

static void decode_toa(uint8_t toa, const uint8_t *digits, size_t semi_octets,
                       struct sms_address *a)
{
        a->ton = (toa >> 4) & 0x07;
        a->npi = toa & 0x0F;
        if (a->ton == SMS_TON_ALPHANUMERIC)
                decode_alnum(digits, semi_octets, a->number);
        else
                decode_digits(digits, semi_octets, a->ton == SMS_TON_INTERNATIONAL, a->number);
}

/* TS 27.005 3.1 / TS 24.011 8.2.5.1: length in octets (type octet included), 0 when
 * the modem gives no SMSC. */
static int read_smsc(struct cursor *c, struct sms_address *a)
{
        uint8_t len;
        int r = get_octet(c, "SMSC address length", &len);

        if (r < 0)
                return r;
        if (len == 0)
                return 0;
        if (len > SMSC_OCTETS_MAX)
                return sms_pdu_fail(-EBADMSG,
                                    "SMSC address length %u exceeds %d octets at octet %zu", len,
                                    SMSC_OCTETS_MAX, c->pos - 1);
        r = need(c, len, "SMSC address");
        if (r < 0)
                return r;
        decode_toa(c->buf[c->pos], c->buf + c->pos + 1, (len - 1) * 2, a);
        c->pos += len;
        return 0;
}

/* TS 23.040 9.1.2.5: length in semi-octets of the number, then the type octet. */
static int read_address(struct cursor *c, const char *what, struct sms_address *a)
{
        uint8_t semi;
        size_t at = c->pos;
        int r = get_octet(c, what, &semi);

        if (r < 0)
                return r;
        if (semi > SMS_ADDR_DIGITS_MAX)
                return sms_pdu_fail(-EBADMSG, "%s length %u exceeds %d semi-octets at octet %zu",
                                    what, semi, SMS_ADDR_DIGITS_MAX, at);
        r = need(c, 1 + (semi + 1) / 2, what);
        if (r < 0)
                return r;
        decode_toa(c->buf[c->pos], c->buf + c->pos + 1, semi, a);
        c->pos += 1 + (semi + 1) / 2;
        return 0;
}

static int bcd(uint8_t o, const char *what, size_t at, uint8_t *ret)
{
        if ((o & 0x0F) > 9 || (o >> 4) > 9)
                return sms_pdu_fail(-EBADMSG, "%s has non-BCD octet %02X at octet %zu", what, o,
                                    at);
        *ret = (o & 0x0F) * 10 + (o >> 4);
        return 0;
}

/* TS 23.040 9.2.3.11: swapped BCD YY MM DD hh mm ss, then the zone in quarter hours
 * whose tens digit carries the sign in bit 3. */
static int read_time(struct cursor *c, const char *what, struct sms_time *t)
{
        const uint8_t *o;
        uint8_t v[6] = { 0 }, tz;
        int r = need(c, SCTS_OCTETS, what);

        if (r < 0)
                return r;
        o = c->buf + c->pos;
        for (int i = 0; i < 6; i++) {
                r = bcd(o[i], what, c->pos + i, &v[i]);
                if (r < 0)
                        return r;
        }
        if ((o[6] >> 4) > 9) /* the tens digit has 3 bits and the sign: always BCD */
                return sms_pdu_fail(-EBADMSG, "%s has non-BCD octet %02X at octet %zu", what, o[6],
                                    c->pos + 6);
        tz = (o[6] & 0x07) * 10 + (o[6] >> 4);
        t->year = 2000 + v[0];
        t->month = v[1];
        t->day = v[2];
        t->hour = v[3];
        t->minute = v[4];
        t->second = v[5];
        t->tz_quarters = o[6] & TZ_SIGN ? -(int)tz : tz;
        c->pos += SCTS_OCTETS;
        return 0;
}

/* TS 23.038 4: SMS data coding scheme. Reserved codings read as GSM 7-bit. */
static void decode_dcs(uint8_t dcs, struct sms_pdu *p)
{
        p->dcs = dcs;
        p->charset = SMS_CHARSET_GSM7;
        p->msg_class = -1;
        switch (dcs >> 4) {
        case 0x4 ... 0x7: /* 01xx: marked for automatic deletion, else as 00xx */
                p->auto_delete = true;
                /* fall through */
        case 0x0 ... 0x3: /* 00xx: general data coding */
                p->compressed = dcs & 0x20;
                if (dcs & 0x10)
                        p->msg_class = dcs & 0x03;
                if ((dcs & 0x0C) == 0x04)
                        p->charset = SMS_CHARSET_8BIT;
                else if ((dcs & 0x0C) == 0x08)
                        p->charset = SMS_CHARSET_UCS2;
                break;
        case 0xC: /* 1100: message waiting, discard message; 1101 store; 1110 store UCS-2 */
        case 0xD:
        case 0xE:
                p->mwi = true;
                p->mwi_discard = (dcs >> 4) == 0xC;
                p->mwi_active = dcs & 0x08;
                p->mwi_kind = dcs & 0x03;
                if ((dcs >> 4) == 0xE)
                        p->charset = SMS_CHARSET_UCS2;
                break;
        case 0xF: /* 1111: data coding / message class */
                p->msg_class = dcs & 0x03;
                if (dcs & 0x04)
                        p->charset = SMS_CHARSET_8BIT;
                break;
        default: /* 1000-1011: reserved */
                break;
        }
}

/* TS 23.040 9.2.3.24: walks the information elements of the UDH at h (h[0] is UDHL).
 * Concatenation elements with a zero or too large sequence number are ignored
 * (9.2.3.24.1), as are those with an unexpected length and unknown ones. */
static int parse_udh(const uint8_t *h, size_t at, struct sms_concat *cc)
{
        size_t end = (size_t)h[0] + 1;

        for (size_t i = 1; i < end;) {
                if (i + 2 > end)
                        return sms_pdu_fail(-EBADMSG, "UDH element at octet %zu truncated", at + i);
                uint8_t iei = h[i], iedl = h[i + 1];
                const uint8_t *d = h + i + 2;

                if (i + 2 + iedl > end)
                        return sms_pdu_fail(
                                -EBADMSG, "UDH element %02X length %u exceeds the UDH at octet %zu",
                                iei, iedl, at + i + 1);
                if (iei == 0x00 && iedl == 3 && d[1] && d[2] && d[2] <= d[1])
                        *cc = (struct sms_concat){
                                .present = true, .ref = d[0], .total = d[1], .seq = d[2]
                        };
                else if (iei == 0x08 && iedl == 4 && d[2] && d[3] && d[3] <= d[2])
                        *cc = (struct sms_concat){ .present = true,
                                                   .ref16 = true,
                                                   .ref = (uint16_t)(d[0] << 8 | d[1]),
                                                   .total = d[2],
                                                   .seq = d[3] };
                i += 2 + iedl;
        }
        return 0;
}

static void decode_ucs2(const uint8_t *o, size_t units, char *out)
{
        size_t n = 0;

        for (size_t i = 0; i < units; i++) {
                uint32_t u = (uint32_t)o[2 * i] << 8 | o[2 * i + 1];

                if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
                        uint32_t lo = (uint32_t)o[2 * i + 2] << 8 | o[2 * i + 3];

                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                i++;
                        }
                }
                if (u >= 0xD800 && u <= 0xDFFF)
                        u = CHARSET_REPLACEMENT; /* lone surrogate, e.g. a pair split by a
                                                  * sender across parts */
                if (u == 0)
                        continue; /* some senders pad with U+0000; it would end the string */
                n += charset_utf8_put(u, out + n);
        }
        out[n] = '\0';
}

/* TP-UDL and TP-UD (TS 23.040 9.2.3.16, 9.2.3.24): UDL counts septets for GSM 7-bit
 * (the UDH and its fill bits included) and octets otherwise. */
static int read_user_data(struct cursor *c, bool udhi, struct sms_pdu *p)
{
        uint8_t udl;
        size_t at = c->pos, octets, hdr = 0;
        bool gsm = p->charset == SMS_CHARSET_GSM7 && !p->compressed;
        int r = get_octet(c, "TP-User-Data-Length", &udl);

        if (r < 0)
                return r;
        if (gsm && udl > SMS_SEPTETS_MAX)
                return sms_pdu_fail(-EBADMSG,
                                    "TP-User-Data-Length %u exceeds %d septets at octet %zu", udl,
                                    SMS_SEPTETS_MAX, at);
        if (!gsm && udl > SMS_UD_MAX)
                return sms_pdu_fail(-EBADMSG,
                                    "TP-User-Data-Length %u exceeds %d octets at octet %zu", udl,
                                    SMS_UD_MAX, at);
        octets = gsm ? charset_septets_octets(udl) : udl;
        r = need(c, octets, "TP-User-Data");
        if (r < 0)
                return r;
        const uint8_t *ud = c->buf + c->pos;

        if (udhi && udl > 0) {
                hdr = (size_t)ud[0] + 1;
                if (hdr > octets)
                        return sms_pdu_fail(
                                -EBADMSG,
                                "UDH length %u exceeds the %zu octets of user data at octet %zu",
                                ud[0], octets, c->pos);
                r = parse_udh(ud, c->pos, &p->concat);
                if (r < 0)
                        return r;
                p->udh_len = hdr;
        }
        p->ud_len = octets - hdr;
        memcpy(p->ud, ud + hdr, p->ud_len);
        if (p->compressed) {
                /* TS 23.042 compression is not implemented: raw octets only. */
        } else if (gsm) {
                uint8_t septets[SMS_SEPTETS_MAX];
                size_t skip = (hdr * 8 + 6) / 7; /* UDH septets, fill bits included */

                if (skip > udl)
                        return sms_pdu_fail(
                                -EBADMSG,
                                "UDH of %zu octets exceeds TP-User-Data-Length %u at octet %zu",
                                hdr, udl, c->pos);
                charset_septets_unpack(ud, octets, skip, udl - skip, septets);
                charset_gsm7_to_utf8(septets, udl - skip, p->text, sizeof(p->text));
        } else if (p->charset == SMS_CHARSET_UCS2) {
                decode_ucs2(p->ud, p->ud_len / 2, p->text);
        }
        c->pos += octets;
        return 0;
}

static int read_pid_dcs(struct cursor *c, struct sms_pdu *p)
{
        uint8_t dcs;
        int r = get_octet(c, "TP-Protocol-Identifier", &p->pid);

        if (r < 0)
                return r;
        r = get_octet(c, "TP-Data-Coding-Scheme", &dcs);
        if (r < 0)
                return r;
        decode_dcs(dcs, p);
        return 0;
}

/* TS 23.040 9.2.3.12.1 */
static int relative_minutes(uint8_t vp)
{
        if (vp <= 143)
                return (vp + 1) * 5;
        if (vp <= 167)
                return 12 * 60 + (vp - 143) * 30;
        if (vp <= 196)
                return (vp - 166) * 24 * 60;
        return (vp - 192) * 7 * 24 * 60;
}

/* TS 23.040 9.2.3.12.3: the enhanced format's functionality indicator says how the
 * rest reads: 1 a relative octet, 2 seconds (0-255), 3 swapped BCD hh mm ss; rounded up
 * to minutes. An extension bit moves the value one octet on. -1 for none or unknown. */
static int enhanced_minutes(const uint8_t *vp)
{
        const uint8_t *v = vp + 1 + !!(vp[0] & 0x80);

        switch (vp[0] & 0x07) {
        case 1:
                return relative_minutes(v[0]);
        case 2:
                return v[0] ? (v[0] + 59) / 60 : -1;
        case 3:
                for (int i = 0; i < 3; i++)
                        if ((v[i] & 0x0F) > 9 || (v[i] >> 4) > 9)
                                return -1; /* garbage in an optional field: no validity */
                return ((v[0] & 0x0F) * 10 + (v[0] >> 4)) * 60 + (v[1] & 0x0F) * 10 + (v[1] >> 4) +
                       (v[2] != 0);
        default:
                return -1;
        }
}

/* TP-VP per TP-VPF (TS 23.040 9.2.3.12): relative is one octet, absolute and enhanced
 * are seven. */
static int read_validity(struct cursor *c, struct sms_pdu *p)
{
        int r;

        p->validity_minutes = -1;
        switch (p->vp_format) {
        case 2: {
                uint8_t vp;

                r = get_octet(c, "TP-Validity-Period", &vp);
                if (r < 0)
                        return r;
                p->validity_minutes = relative_minutes(vp);
                return 0;
        }
        case 3:
                return read_time(c, "TP-Validity-Period", &p->validity_abs);
        case 1:
                r = need(c, 7, "TP-Validity-Period");
                if (r < 0)
                        return r;
                p->validity_minutes = enhanced_minutes(c->buf + c->pos);
                c->pos += 7;
                return 0;
        default:
                return 0;
        }
}

static int decode_deliver(struct cursor *c, struct sms_pdu *p)
{
        int r;

        p->type = SMS_TYPE_DELIVER;
        p->more_messages = !(p->first_octet & FO_MMS);
        r = read_address(c, "TP-Originating-Address", &p->addr);
        if (r < 0)
                return r;
        r = read_pid_dcs(c, p);
        if (r < 0)
                return r;
        r = read_time(c, "TP-Service-Centre-Time-Stamp", &p->scts);
        if (r < 0)
                return r;
        return read_user_data(c, p->first_octet & FO_UDHI, p);
}

static int decode_submit(struct cursor *c, struct sms_pdu *p)
{
        int r;

        p->type = SMS_TYPE_SUBMIT;
        p->vp_format = (p->first_octet & FO_VPF) >> 3;
        r = get_octet(c, "TP-Message-Reference", &p->mr);
        if (r < 0)
                return r;
        r = read_address(c, "TP-Destination-Address", &p->addr);
        if (r < 0)
                return r;
        r = read_pid_dcs(c, p);
        if (r < 0)
                return r;
        r = read_validity(c, p);
        if (r < 0)
                return r;
        return read_user_data(c, p->first_octet & FO_UDHI, p);
}

/* TS 23.040 9.2.2.3. TP-PI and what it announces are optional; absent when the PDU
 * ends after TP-ST. */
static int decode_status_report(struct cursor *c, struct sms_pdu *p)
{
        int r;
        uint8_t pi;

        p->type = SMS_TYPE_STATUS_REPORT;
        p->more_messages = !(p->first_octet & FO_MMS);
        r = get_octet(c, "TP-Message-Reference", &p->mr);
        if (r < 0)
                return r;
        r = read_address(c, "TP-Recipient-Address", &p->addr);
        if (r < 0)
                return r;
        r = read_time(c, "TP-Service-Centre-Time-Stamp", &p->scts);
        if (r < 0)
                return r;
        r = read_time(c, "TP-Discharge-Time", &p->discharge);
        if (r < 0)
                return r;
        r = get_octet(c, "TP-Status", &p->status);
        if (r < 0)
                return r;
        p->status_class = p->status < 0x20   ? SMS_STATUS_DELIVERED
                          : p->status < 0x40 ? SMS_STATUS_TRYING
                                             : SMS_STATUS_FAILED; /* 0x80+ reserved: failed */
        decode_dcs(0, p);
        /* A TP-PI of FF sets every reserved bit: it is padding, as modems pad PDUs with
         * FF, not a parameter indicator. */
        if (c->pos == c->len || c->buf[c->pos] == PI_PADDING)
                return 0;
        p->pi = pi = c->buf[c->pos++];
        /* 9.2.3.27: bit 7 announces another TP-PI octet, whose bits are all reserved. */
        while (pi & PI_EXT) {
                r = get_octet(c, "TP-Parameter-Indicator extension", &pi);
                if (r < 0)
                        return r;
        }
        if (p->pi & PI_PID) {
                r = get_octet(c, "TP-Protocol-Identifier", &p->pid);
                if (r < 0)
                        return r;
        }
        if (p->pi & PI_DCS) {
                uint8_t dcs;

                r = get_octet(c, "TP-Data-Coding-Scheme", &dcs);
                if (r < 0)
                        return r;
                decode_dcs(dcs, p);
        }
        if (p->pi & PI_UDL)
                return read_user_data(c, p->first_octet & FO_UDHI, p);
        return 0;
}

int sms_pdu_decode(const uint8_t *buf, size_t len, enum sms_dir dir, struct sms_pdu *ret_pdu)
{
        struct cursor c = { .buf = buf, .len = len };
        struct sms_pdu p;
        int r;

        if (!buf || !ret_pdu || (dir != SMS_DIR_MT && dir != SMS_DIR_MO))
                return sms_pdu_fail(-EINVAL, "invalid arguments to sms_pdu_decode");
        memset(&p, 0, sizeof(p));
        p.msg_class = -1;
        p.validity_minutes = -1;
        r = read_smsc(&c, &p.smsc);
        if (r < 0)
                return r;
        r = get_octet(&c, "first octet", &p.first_octet);
        if (r < 0)
                return r;
        p.reply_path = p.first_octet & FO_RP;
        p.status_report = p.first_octet & FO_SR;
        switch ((p.first_octet & 0x03) | (dir == SMS_DIR_MO ? 0x04 : 0)) {
        case MTI_DELIVER:
        case MTI_RESERVED: /* TS 23.040 9.2.3.1: an MS treats reserved as DELIVER */
                r = decode_deliver(&c, &p);
                break;
        case MTI_STATUS_REPORT:
                r = decode_status_report(&c, &p);
                break;
        case 0x04 | MTI_SUBMIT:
                r = decode_submit(&c, &p);
                break;
        case MTI_SUBMIT:
                return sms_pdu_fail(-ENOTSUP, "SMS-SUBMIT-REPORT is not supported (octet %zu)",
                                    c.pos - 1);
        case 0x04 | MTI_STATUS_REPORT:
                return sms_pdu_fail(-ENOTSUP, "SMS-COMMAND is not supported (octet %zu)",
                                    c.pos - 1);
        case 0x04 | MTI_DELIVER:
                return sms_pdu_fail(-ENOTSUP, "SMS-DELIVER-REPORT is not supported (octet %zu)",
                                    c.pos - 1);
        default:
                return sms_pdu_fail(-EBADMSG, "reserved TP-MTI 3 in an MO PDU at octet %zu",
                                    c.pos - 1);
        }
        if (r < 0)
                return r;
        memcpy(ret_pdu, &p, sizeof(p));
        return 0;
}
