/* SMS PDU codec (3GPP TS 23.040, alphabets and DCS per TS 23.038), I/O-free.
 *
 * Ownership: nothing here allocates. Every function writes only into the
 * caller's structs and buffers and reads only within the lengths it is given.
 * Output parameters (ret_*) are written only on success.
 *
 * Errors: 0 or a positive count on success; a negative errno on failure:
 *   -EBADMSG  malformed, truncated or inconsistent PDU (sms_pdu_error() names what)
 *   -EINVAL   caller's mistake (bad number, NULL text, bad option)
 *   -E2BIG    the text needs more parts than the caller's array (or SMS_PARTS_MAX)
 *   -ENOTSUP  valid but unsupported content (SMS-COMMAND, SMS-SUBMIT-REPORT); compressed
 *             text is not an error: it decodes with sms_pdu.compressed set
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMS_ADDR_DIGITS_MAX  20  /* TS 23.040 9.1.2.5: at most 20 semi-octets */
#define SMS_ADDR_MAX         48  /* UTF-8 bytes of a decoded address, NUL included */
#define SMS_UD_MAX           140 /* octets of TP-User-Data */
#define SMS_SEPTETS_MAX      160 /* septets of TP-User-Data */
#define SMS_TEXT_MAX         641 /* UTF-8 of one part: 160 septets * 4 bytes + NUL */
#define SMS_PDU_MAX          176 /* SMSC (12) + TPDU (164) octets */
#define SMS_PARTS_MAX        255 /* TS 23.040 9.2.3.24.1: an 8-bit part count */
#define SMS_PDU_HEX_MAX      512 /* octets sms_pdu_decode_hex() takes, modem padding included */
#define SMS_SEPTETS_SINGLE   160 /* GSM 7-bit septets in an unconcatenated message */
#define SMS_SEPTETS_CONCAT8  153 /* ... per part with an 8-bit reference UDH (7 septets) */
#define SMS_SEPTETS_CONCAT16 152 /* ... per part with a 16-bit reference UDH (8 septets) */
#define SMS_UCS2_SINGLE      70  /* UTF-16 units in an unconcatenated message */
#define SMS_UCS2_CONCAT8     67  /* ... per part with an 8-bit reference UDH (6 octets) */
#define SMS_UCS2_CONCAT16    66  /* ... per part with a 16-bit reference UDH (7 octets) */
#define SMS_ALNUM_MAX        11  /* GSM septets of an alphanumeric address (TS 23.040 9.1.2.5) */
#define SMS_VALIDITY_MAX     (63 * 7 * 24 * 60) /* minutes: TP-VP 255 = 63 weeks */

enum sms_dir {
        SMS_DIR_MT, /* network -> modem: SMS-DELIVER, SMS-STATUS-REPORT, SMS-SUBMIT-REPORT */
        SMS_DIR_MO, /* modem -> network: SMS-SUBMIT, SMS-COMMAND */
};

enum sms_type {
        SMS_TYPE_DELIVER,
        SMS_TYPE_SUBMIT,
        SMS_TYPE_STATUS_REPORT,
        SMS_TYPE_SUBMIT_REPORT,
        SMS_TYPE_COMMAND,
};

enum sms_charset {
        SMS_CHARSET_GSM7,
        SMS_CHARSET_8BIT,
        SMS_CHARSET_UCS2,
};

/* TS 23.040 9.2.3.15, folded into what the sender needs to decide. */
enum sms_status_class {
        SMS_STATUS_DELIVERED, /* 0x00-0x1F: short message transaction completed */
        SMS_STATUS_TRYING,    /* 0x20-0x3F: temporary error, SC still trying */
        SMS_STATUS_FAILED,    /* 0x40-0x7F: permanent error or SC gave up */
};

/* TS 23.040 9.1.2.5 type of number. */
enum sms_ton {
        SMS_TON_UNKNOWN = 0,
        SMS_TON_INTERNATIONAL = 1,
        SMS_TON_NATIONAL = 2,
        SMS_TON_NETWORK = 3,
        SMS_TON_SUBSCRIBER = 4,
        SMS_TON_ALPHANUMERIC = 5,
        SMS_TON_ABBREVIATED = 6,
};

struct sms_address {
        char number[SMS_ADDR_MAX]; /* UTF-8, "+" prefixed when international; "" when absent */
        enum sms_ton ton;
        uint8_t npi; /* numbering plan, low nibble of the type-of-address octet */
};

/* TS 23.040 9.2.3.11: local time of the SC and its offset from UTC in quarter hours. */
struct sms_time {
        uint16_t year; /* 2000-2099 */
        uint8_t month, day, hour, minute, second;
        int8_t tz_quarters; /* -79..+79 */
};

struct sms_concat {
        bool present;
        bool ref16; /* IEI 0x08 (16-bit reference) rather than 0x00 */
        uint16_t ref;
        uint8_t total;
        uint8_t seq; /* 1-based */
};

/* One decoded PDU. Fields that do not apply to its type are zero. */
struct sms_pdu {
        enum sms_type type;
        struct sms_address smsc;
        struct sms_address addr; /* originator (DELIVER), destination (SUBMIT),
                                  * recipient (STATUS-REPORT) */
        uint8_t first_octet;
        uint8_t mr;  /* TP-MR (SUBMIT, STATUS-REPORT) */
        uint8_t pid; /* TP-PID */
        uint8_t dcs; /* TP-DCS as received */
        enum sms_charset charset;
        int msg_class;      /* 0-3, or -1 when the DCS gives none */
        bool compressed;    /* TS 23.038 4: text is compressed (text left empty) */
        bool status_report; /* TP-SRR (SUBMIT) / TP-SRI (DELIVER) */
        bool more_messages; /* DELIVER: TP-MMS == 0 */
        bool reply_path;
        int validity_minutes;      /* SUBMIT relative or enhanced validity, minutes rounded
                                    * up; -1 when none or absolute (see validity_abs) */
        struct sms_time scts;      /* DELIVER, STATUS-REPORT */
        struct sms_time discharge; /* STATUS-REPORT: TP-DT */
        uint8_t status;            /* STATUS-REPORT: TP-ST */
        enum sms_status_class status_class;
        struct sms_concat concat;
        size_t udh_len;          /* octets of the UDH including its length octet, 0 none */
        size_t ud_len;           /* octets of user data after the UDH (8-bit, UCS-2) */
        uint8_t ud[SMS_UD_MAX];  /* raw user data after the UDH (8-bit data, UCS-2; for
                                  * GSM 7-bit the packed octets, fill bits first) */
        char text[SMS_TEXT_MAX]; /* decoded UTF-8 text (GSM 7-bit and UCS-2) */
        /* Added after the first version of this contract: */
        uint8_t vp_format; /* SUBMIT: TP-VPF, 0 none, 1 enhanced, 2 relative, 3 absolute */
        struct sms_time validity_abs; /* SUBMIT: the absolute TP-VP when vp_format == 3 */
        bool auto_delete;             /* TS 23.038 4, DCS group 01xx */
        bool mwi;                     /* DCS groups 1100-1110: message waiting indication */
        bool mwi_active;              /* ... set (true) or cleared */
        bool mwi_discard;             /* ... group 1100: the text may be discarded */
        uint8_t mwi_kind;             /* ... 0 voicemail, 1 fax, 2 e-mail, 3 other */
        uint8_t pi;                   /* STATUS-REPORT: TP-PI, 0 when absent */
};

/* Decodes one PDU as a modem shows it in PDU mode (TS 27.005 3.1): the SMSC
 * address octets first (a single 00 when absent), then the TPDU. The TPDU length
 * that +CMT/+CMGR/+CMGL give is advisory only: modems get it wrong, so the PDU's
 * own fields decide. Returns 0 or -EBADMSG/-ENOTSUP; sms_pdu_error() tells why.
 *
 * Octets after a complete TPDU (after the octets TP-UDL says the user data needs,
 * or after TP-ST and the optional fields of a STATUS-REPORT) are ignored: modems
 * pad (a TP-PI of FF is taken as such padding). A TP-UDL that needs more octets than remain is
 * -EBADMSG. Compressed text (TS 23.038 4) decodes with compressed set, text empty and the raw
 * octets in ud. A concatenation element whose sequence number is 0 or above the total is ignored
 * (TS 23.040 9.2.3.24.1), as are elements of unknown or malformed length.
 * In MT direction a reserved TP-MTI reads as SMS-DELIVER (TS 23.040 9.2.3.1).
 * SMS-SUBMIT-REPORT, SMS-COMMAND and SMS-DELIVER-REPORT give -ENOTSUP.
 * Timestamps must be BCD; their ranges are not checked (SIMs store zeros). An
 * alphanumeric address whose septets fill its octets exactly drops a last '@' or CR:
 * networks that count whole octets pad with it. */
int sms_pdu_decode(const uint8_t *buf, size_t len, enum sms_dir dir, struct sms_pdu *ret_pdu);

/* Same, from hexadecimal text (upper or lower case, no spaces), at most
 * SMS_PDU_HEX_MAX octets. Bad hex is -EBADMSG. */
int sms_pdu_decode_hex(const char *hex, enum sms_dir dir, struct sms_pdu *ret_pdu);

/* A static English description of the last decode or encode error of this thread,
 * such as "TP-User-Data-Length 170 exceeds 160 septets at octet 23" (octets count
 * from 0 at the first SMSC octet). Thread-local; valid until the thread's next call
 * into this module. Never NULL. */
const char *sms_pdu_error(void);

/* How a text will be sent, computed before sending so rules can warn about cost. */
struct sms_text_info {
        enum sms_charset charset; /* GSM7 or UCS2 */
        size_t units;  /* septets (GSM7) or UTF-16 code units (UCS2) for the whole text */
        size_t parts;  /* 1 when it fits a single message, else concatenated parts */
        bool translit; /* characters were transliterated to fit GSM 7-bit */
};

struct sms_submit_opts {
        const char *smsc;     /* "+5255..." or NULL: the SMSC octets become 00 */
        bool status_report;   /* TP-SRR */
        int validity_minutes; /* relative TP-VP (TS 23.040 9.2.3.12.1); 0 = none */
        int msg_class;        /* 0-3, or -1 for none */
        bool translit;        /* fold characters outside GSM 7-bit (á -> a) instead of UCS-2;
                               * characters with no fold become '?' */
        bool ref16;           /* 16-bit concatenation reference */
        uint16_t ref;         /* concatenation reference shared by the parts */
        uint8_t mr;           /* TP-MR; modems overwrite it, 0 is fine */
};

struct sms_part {
        uint8_t pdu[SMS_PDU_MAX]; /* SMSC octets + TPDU, as AT+CMGS takes it in hex */
        size_t len;               /* octets in pdu */
        size_t tpdu_len;          /* the <length> argument of AT+CMGS */
};

/* Computes encoding and part count of a UTF-8 text, assuming 8-bit concatenation
 * references. Returns 0 or -EINVAL (NULL or invalid UTF-8). */
int sms_text_analyze(const char *utf8, bool translit, struct sms_text_info *ret_info);

/* Same for 16-bit references when ref16 (one septet or UTF-16 unit less per part). */
int sms_text_analyze_ref(const char *utf8, bool translit, bool ref16,
                         struct sms_text_info *ret_info);

/* Encodes an SMS-SUBMIT (one part, or concatenated parts with a UDH) to number
 * `to` ("+52...", national digits, or "*#..." service codes; type of address 0x91
 * with "+", else 0x81). Writes at most max_parts parts; returns the number of parts
 * written or a negative errno: -EINVAL for invalid UTF-8, a bad number or option,
 * -E2BIG when the text needs more parts than max_parts. opts may be NULL (no SMSC,
 * no class, no report, no validity). Careful: a zeroed struct means message class 0
 * (flash); set msg_class = -1 for none. ret_info may be NULL. */
int sms_submit_encode(const char *utf8, const char *to, const struct sms_submit_opts *opts,
                      struct sms_part *parts, size_t max_parts, struct sms_text_info *ret_info);

/* The network side, for puente-sim and tests. */
struct sms_deliver_opts {
        const char *smsc; /* NULL: SMSC octets 00 */
        struct sms_time scts;
        bool status_report_ind; /* TP-SRI */
        bool force_ucs2;
        bool ref16;
        uint16_t ref;
};

/* Encodes an SMS-DELIVER from `from` (a number, or an alphanumeric sender of up to
 * 11 GSM characters, packed as TS 23.040 9.1.2.5 says; anything that is not
 * "+digits" or digits/'*'/'#' is taken as alphanumeric). GSM 7-bit when every
 * character has it, else UCS-2. opts may be NULL (all zero). A zero scts encodes as
 * zeros. Same returns as sms_submit_encode(). */
int sms_deliver_encode(const char *utf8, const char *from, const struct sms_deliver_opts *opts,
                       struct sms_part *parts, size_t max_parts);

/* Encodes an SMS-STATUS-REPORT for message reference mr to recipient, with no TP-PI.
 * Returns 0, or -EINVAL for a bad number or time. */
int sms_status_report_encode(uint8_t mr, const char *recipient, const struct sms_time *scts,
                             const struct sms_time *discharge, uint8_t status, const char *smsc,
                             struct sms_part *ret_part);

/* Hex helpers: lengths are in bytes of bin. sms_hex_decode returns 0, -EBADMSG for
 * odd length or a non-hex character (sms_pdu_error() says where), -E2BIG when bin
 * holds fewer than the octets needed. sms_hex_encode writes 2*len+1 chars, upper
 * case, NUL-terminated. */
int sms_hex_decode(const char *hex, uint8_t *bin, size_t max, size_t *ret_len);
void sms_hex_encode(const uint8_t *bin, size_t len, char *hex);

/* Name of a status class, "delivered", "trying" or "failed". */
const char *sms_status_class_name(enum sms_status_class c);
const char *sms_charset_name(enum sms_charset c); /* "gsm7", "8bit", "ucs2" */
const char *sms_type_name(enum sms_type t);       /* "deliver", "submit", ... */
