/* SMS PDU encoders: SMS-SUBMIT from UTF-8 text (GSM 7-bit or UCS-2 chosen per text,
 * concatenated when long), and SMS-DELIVER and SMS-STATUS-REPORT for the simulator. */
#include <errno.h>
#include <string.h>

#include "at/charset.h"
#include "at/pdu-internal.h"

#define CHAR_UNITS_MAX (CHARSET_FOLD_MAX * 2) /* septets of one folded character */
#define PREFIX_MAX     (SMS_ADDR_OCTETS_MAX + 1 + 1 + SMS_ADDR_OCTETS_MAX + 1 + 1 + 7)
#define UDH_CONCAT8    6 /* UDHL 05, IEI 00, IEDL 03, ref, total, seq */
#define UDH_CONCAT16   7 /* UDHL 06, IEI 08, IEDL 04, ref hi, ref lo, total, seq */

#define FO_SUBMIT         0x01
#define FO_DELIVER        0x00
#define FO_STATUS_REPORT  0x02
#define FO_MMS            0x04 /* TP-MMS = 1: no more messages waiting */
#define FO_VPF_RELATIVE   0x10
#define FO_SR             0x20
#define FO_UDHI           0x40
#define DCS_UCS2          0x08
#define DCS_CLASS_PRESENT 0x10

/* GSM septets for cp, folded when translit. Returns the count (0 for characters that
 * fold to nothing), or -1 when cp has no GSM form and translit is off. */
static int gsm_units(uint32_t cp, bool translit, uint8_t out[CHAR_UNITS_MAX], bool *folded)
{
        uint8_t s = 0;
        int n = charset_gsm7_lookup(cp, &s), k = 0;

        if (n == 1) {
                out[0] = s;
                return 1;
        }
        if (n == 2) {
                out[0] = CHARSET_GSM7_ESC;
                out[1] = s;
                return 2;
        }
        if (!translit)
                return -1;
        *folded = true;
        for (const char *f = charset_fold(cp); *f;) {
                uint32_t fc;

                f += charset_utf8_next(f, &fc); /* our own table: valid UTF-8 */
                n = charset_gsm7_lookup(fc, &s);
                if (n == 2)
                        out[k++] = CHARSET_GSM7_ESC;
                out[k++] = s;
        }
        return k;
}

/* UTF-16 units for cp. TS 23.038 6.2.3 says UCS-2, but phones send and show UTF-16:
 * beyond the BMP (emoji) a surrogate pair. */
static int ucs2_units(uint32_t cp, uint16_t out[2])
{
        if (cp < 0x10000) {
                out[0] = cp;
                return 1;
        }
        cp -= 0x10000;
        out[0] = 0xD800 | cp >> 10;
        out[1] = 0xDC00 | (cp & 0x3FF);
        return 2;
}

/* Greedy split: a character goes whole into the current part or starts the next, so
 * no part ends inside an escape sequence or a surrogate pair. */
struct splitter {
        size_t cap, units, parts, fill;
};

static void split_add(struct splitter *sp, size_t n)
{
        if (sp->fill + n > sp->cap) {
                sp->parts++;
                sp->fill = 0;
        }
        sp->fill += n;
        sp->units += n;
}

struct plan {
        struct sms_text_info info;
        size_t cap; /* units per part: the single-message cap when parts == 1 */
};

/* Walks the text once, following both alphabets, and picks one. */
static int plan_text(const char *utf8, bool translit, bool ref16, bool force_ucs2, struct plan *ret)
{
        struct splitter g = { .cap = ref16 ? SMS_SEPTETS_CONCAT16 : SMS_SEPTETS_CONCAT8,
                              .parts = 1 };
        struct splitter u = { .cap = ref16 ? SMS_UCS2_CONCAT16 : SMS_UCS2_CONCAT8, .parts = 1 };
        bool ucs2 = force_ucs2, folded = false;
        struct plan p = { 0 };

        if (!utf8)
                return sms_pdu_fail(-EINVAL, "text is NULL");
        for (const char *s = utf8; *s;) {
                uint8_t sept[CHAR_UNITS_MAX];
                uint16_t unit[2];
                uint32_t cp;
                int n = charset_utf8_next(s, &cp);

                if (n < 0)
                        return sms_pdu_fail(-EINVAL, "invalid UTF-8 at byte %zu of the text",
                                            (size_t)(s - utf8));
                s += n;
                if (!ucs2) {
                        n = gsm_units(cp, translit, sept, &folded);
                        if (n < 0)
                                ucs2 = true;
                        else
                                split_add(&g, n);
                }
                split_add(&u, ucs2_units(cp, unit));
        }
        if (ucs2) {
                p.info = (struct sms_text_info){ .charset = SMS_CHARSET_UCS2, .units = u.units };
                p.info.parts = u.units <= SMS_UCS2_SINGLE ? 1 : u.parts;
                p.cap = p.info.parts == 1 ? SMS_UCS2_SINGLE : u.cap;
        } else {
                p.info = (struct sms_text_info){ .charset = SMS_CHARSET_GSM7,
                                                 .units = g.units,
                                                 .translit = folded };
                p.info.parts = g.units <= SMS_SEPTETS_SINGLE ? 1 : g.parts;
                p.cap = p.info.parts == 1 ? SMS_SEPTETS_SINGLE : g.cap;
        }
        *ret = p;
        return 0;
}

int sms_text_analyze_ref(const char *utf8, bool translit, bool ref16,
                         struct sms_text_info *ret_info)
{
        struct plan p;
        int r = plan_text(utf8, translit, ref16, false, &p);

        if (r < 0)
                return r;
        if (ret_info)
                *ret_info = p.info;
        return 0;
}

int sms_text_analyze(const char *utf8, bool translit, struct sms_text_info *ret_info)
{
        return sms_text_analyze_ref(utf8, translit, false, ret_info);
}

/* What every part of one message shares. */
struct emitter {
        uint8_t prefix[PREFIX_MAX]; /* SMSC octets, then the TPDU up to TP-UDL */
        size_t prefix_len, smsc_len;
        struct plan plan;
        bool translit, ref16;
        uint16_t ref;
        struct sms_part *parts;
        size_t seq;
        uint8_t sept[SMS_SEPTETS_MAX]; /* the current part's septets (GSM 7-bit) */
        uint16_t ucs[SMS_UCS2_SINGLE]; /* ... or UTF-16 units (UCS-2) */
        size_t fill;
        bool filled; /* plan_single_gsm() already put the whole text in sept */
};

static void emit_part(struct emitter *e)
{
        struct sms_part *out = &e->parts[e->seq++];
        bool gsm = e->plan.info.charset == SMS_CHARSET_GSM7;
        size_t o = e->prefix_len, hdr = 0;
        uint8_t *ud = out->pdu + o + 1;

        memcpy(out->pdu, e->prefix, e->prefix_len);
        if (e->plan.info.parts > 1) {
                out->pdu[e->smsc_len] |= FO_UDHI;
                if (e->ref16) {
                        memcpy(ud,
                               (const uint8_t[]){ UDH_CONCAT16 - 1, 0x08, 4, e->ref >> 8,
                                                  e->ref & 0xFF, e->plan.info.parts, e->seq },
                               UDH_CONCAT16);
                        hdr = UDH_CONCAT16;
                } else {
                        memcpy(ud,
                               (const uint8_t[]){ UDH_CONCAT8 - 1, 0x00, 3, e->ref & 0xFF,
                                                  e->plan.info.parts, e->seq },
                               UDH_CONCAT8);
                        hdr = UDH_CONCAT8;
                }
        }
        if (gsm) {
                size_t skip = (hdr * 8 + 6) / 7; /* TS 23.040 9.2.3.24: fill to a septet */
                size_t octets = charset_septets_octets(skip + e->fill);

                memset(ud + hdr, 0, octets - hdr);
                charset_septets_pack(e->sept, e->fill, skip, ud);
                out->pdu[o] = skip + e->fill;
                o += 1 + octets;
        } else {
                for (size_t i = 0; i < e->fill; i++) {
                        ud[hdr + 2 * i] = e->ucs[i] >> 8;
                        ud[hdr + 2 * i + 1] = e->ucs[i] & 0xFF;
                }
                out->pdu[o] = hdr + 2 * e->fill;
                o += 1 + hdr + 2 * e->fill;
        }
        out->len = o;
        out->tpdu_len = o - e->smsc_len;
        e->fill = 0;
}

/* The common case in one walk: a text that fits one GSM 7-bit message with no folding
 * goes straight into e->sept. Returns false when the text needs the general path (a
 * character outside GSM 7-bit, more than one part, or invalid UTF-8, which
 * plan_text() then reports). */
static bool plan_single_gsm(struct emitter *e, const char *utf8)
{
        size_t n = 0;

        if (!utf8)
                return false;
        for (const char *s = utf8; *s;) {
                uint32_t cp;
                uint8_t sept;
                int k = charset_utf8_next(s, &cp);

                if (k < 0)
                        return false;
                s += k;
                k = charset_gsm7_lookup(cp, &sept);
                if (k == 0 || n + k > SMS_SEPTETS_SINGLE)
                        return false;
                if (k == 2)
                        e->sept[n++] = CHARSET_GSM7_ESC;
                e->sept[n++] = sept;
        }
        e->fill = n;
        e->plan = (struct plan){ .info = { .charset = SMS_CHARSET_GSM7, .units = n, .parts = 1 },
                                 .cap = SMS_SEPTETS_SINGLE };
        return true;
}

/* Plans the text, unless plan_single_gsm() already did and filled the one part. */
static int plan_emitter(struct emitter *e, const char *utf8, bool translit, bool ref16,
                        bool force_ucs2)
{
        e->seq = 0;
        e->filled = !force_ucs2 && plan_single_gsm(e, utf8);
        if (e->filled)
                return 0;
        e->fill = 0;
        return plan_text(utf8, translit, ref16, force_ucs2, &e->plan);
}

/* Second walk over the text, the same greedy split as plan_text(). */
static int emit_text(struct emitter *e, const char *utf8)
{
        bool gsm = e->plan.info.charset == SMS_CHARSET_GSM7, folded = false;

        if (e->filled) {
                emit_part(e);
                return 0;
        }
        for (const char *s = utf8; *s;) {
                uint8_t sept[CHAR_UNITS_MAX];
                uint16_t unit[2];
                uint32_t cp;
                int n;

                s += charset_utf8_next(s, &cp); /* plan_text() validated it */
                n = gsm ? gsm_units(cp, e->translit, sept, &folded) : ucs2_units(cp, unit);
                if (e->fill + n > e->plan.cap)
                        emit_part(e);
                if (gsm)
                        memcpy(e->sept + e->fill, sept, n);
                else
                        memcpy(e->ucs + e->fill, unit, n * sizeof(unit[0]));
                e->fill += n;
        }
        emit_part(e);
        if (e->seq != e->plan.info.parts)
                return sms_pdu_fail(-EIO, "internal error: planned %zu parts, wrote %zu",
                                    e->plan.info.parts, e->seq);
        return 0;
}

static int check_parts(const struct plan *p, struct sms_part *parts, size_t max_parts)
{
        if (!parts)
                return sms_pdu_fail(-EINVAL, "parts is NULL");
        if (p->info.parts > max_parts || p->info.parts > SMS_PARTS_MAX)
                return sms_pdu_fail(-E2BIG, "text needs %zu parts, more than the %zu allowed",
                                    p->info.parts,
                                    max_parts < SMS_PARTS_MAX ? max_parts : SMS_PARTS_MAX);
        return 0;
}

int sms_submit_encode(const char *utf8, const char *to, const struct sms_submit_opts *opts,
                      struct sms_part *parts, size_t max_parts, struct sms_text_info *ret_info)
{
        static const struct sms_submit_opts defaults = { .msg_class = -1 };
        struct emitter e;
        uint8_t *x = e.prefix;
        int r, n;

        if (!opts)
                opts = &defaults;
        if (opts->msg_class < -1 || opts->msg_class > 3)
                return sms_pdu_fail(-EINVAL, "message class %d, expected -1 to 3", opts->msg_class);
        if (opts->validity_minutes < 0 || opts->validity_minutes > SMS_VALIDITY_MAX)
                return sms_pdu_fail(-EINVAL, "validity %d minutes, expected 0 to %d",
                                    opts->validity_minutes, SMS_VALIDITY_MAX);
        r = plan_emitter(&e, utf8, opts->translit, opts->ref16, false);
        if (r < 0)
                return r;
        r = check_parts(&e.plan, parts, max_parts);
        if (r < 0)
                return r;
        n = sms_pdu_put_smsc(opts->smsc, x);
        if (n < 0)
                return n;
        e.smsc_len = n;
        x += n;
        *x++ = FO_SUBMIT | (opts->validity_minutes ? FO_VPF_RELATIVE : 0) |
               (opts->status_report ? FO_SR : 0);
        *x++ = opts->mr;
        n = sms_pdu_put_address(to, false, "destination", x);
        if (n < 0)
                return n;
        x += n;
        *x++ = 0; /* TP-PID: plain short message */
        *x++ = (e.plan.info.charset == SMS_CHARSET_UCS2 ? DCS_UCS2 : 0) |
               (opts->msg_class >= 0 ? DCS_CLASS_PRESENT | opts->msg_class : 0);
        if (opts->validity_minutes)
                *x++ = sms_pdu_relative_vp(opts->validity_minutes);
        e.prefix_len = x - e.prefix;
        e.translit = opts->translit;
        e.ref16 = opts->ref16;
        e.ref = opts->ref;
        e.parts = parts;
        r = emit_text(&e, utf8);
        if (r < 0)
                return r;
        if (ret_info)
                *ret_info = e.plan.info;
        return e.seq;
}

int sms_deliver_encode(const char *utf8, const char *from, const struct sms_deliver_opts *opts,
                       struct sms_part *parts, size_t max_parts)
{
        static const struct sms_deliver_opts defaults = { 0 };
        struct emitter e;
        uint8_t *x = e.prefix;
        int r, n;

        if (!opts)
                opts = &defaults;
        r = plan_emitter(&e, utf8, false, opts->ref16, opts->force_ucs2);
        if (r < 0)
                return r;
        r = check_parts(&e.plan, parts, max_parts);
        if (r < 0)
                return r;
        n = sms_pdu_put_smsc(opts->smsc, x);
        if (n < 0)
                return n;
        e.smsc_len = n;
        x += n;
        *x++ = FO_DELIVER | FO_MMS | (opts->status_report_ind ? FO_SR : 0);
        n = sms_pdu_put_address(from, true, "originator", x);
        if (n < 0)
                return n;
        x += n;
        *x++ = 0; /* TP-PID */
        *x++ = e.plan.info.charset == SMS_CHARSET_UCS2 ? DCS_UCS2 : 0;
        n = sms_pdu_put_time(&opts->scts, "TP-SCTS", x);
        if (n < 0)
                return n;
        x += n;
        e.prefix_len = x - e.prefix;
        e.translit = false;
        e.ref16 = opts->ref16;
        e.ref = opts->ref;
        e.parts = parts;
        r = emit_text(&e, utf8);
        if (r < 0)
                return r;
        return e.seq;
}

int sms_status_report_encode(uint8_t mr, const char *recipient, const struct sms_time *scts,
                             const struct sms_time *discharge, uint8_t status, const char *smsc,
                             struct sms_part *ret_part)
{
        uint8_t pdu[SMS_PDU_MAX];
        size_t o, smsc_len;
        int n;

        if (!scts || !discharge || !ret_part)
                return sms_pdu_fail(-EINVAL, "invalid arguments to sms_status_report_encode");
        n = sms_pdu_put_smsc(smsc, pdu);
        if (n < 0)
                return n;
        o = smsc_len = n;
        pdu[o++] = FO_STATUS_REPORT | FO_MMS;
        pdu[o++] = mr;
        n = sms_pdu_put_address(recipient, false, "recipient", pdu + o);
        if (n < 0)
                return n;
        o += n;
        n = sms_pdu_put_time(scts, "TP-SCTS", pdu + o);
        if (n < 0)
                return n;
        o += n;
        n = sms_pdu_put_time(discharge, "TP-DT", pdu + o);
        if (n < 0)
                return n;
        o += n;
        pdu[o++] = status;
        memcpy(ret_part->pdu, pdu, o);
        ret_part->len = o;
        ret_part->tpdu_len = o - smsc_len;
        return 0;
}
