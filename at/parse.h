/* Pure parsers for AT response lines: one per response form, text in, struct out.
 *
 * Every parser takes one line as the lexer gave it (no CR/LF) and fills a caller-owned
 * struct; nothing allocates, nothing is kept. ret_* structs are written only on success.
 * Returns 0, or -EBADMSG when the line is not of the expected form (wrong prefix, missing
 * or malformed field), -ENOBUFS when a string field is longer than our buffer, -EINVAL for
 * NULL arguments. Fields 27.007/27.005 mark optional are -1 (numbers) or "" (strings)
 * when absent.
 *
 * Modems bend the standard; each parser says which bends it accepts and names the modem.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_PARSE_MEM_MAX    8  /* a storage name, "SM", "ME", "MT", NUL included */
#define AT_PARSE_ALPHA_MAX  96 /* an <alpha> or operator name, NUL included */
#define AT_PARSE_NUMBER_MAX 48 /* a phone number (+CSCA), NUL included */
#define AT_PARSE_TEXT_MAX   96 /* error text kept from +CME/+CMS ERROR, NUL included */
#define AT_PARSE_RANGES_MAX 16 /* ranges in one (...) list */
#define AT_PARSE_ID_MAX     32 /* IMEI, IMSI, ICCID digits, NUL included */

/* --- errors ------------------------------------------------------------------------- */

struct at_error {
        bool cms;                     /* +CMS ERROR (27.005) rather than +CME ERROR (27.007) */
        int code;                     /* number, or -1 when the text maps to none */
        char text[AT_PARSE_TEXT_MAX]; /* what followed "ERROR:", quotes stripped, "" if none */
};

/* "+CME ERROR: <err>" (27.007 9.2) and "+CMS ERROR: <err>" (27.005 3.2.5), numeric or text
 * (after AT+CMEE=2 modems answer in text). Text is mapped to the
 * number 27.007 9.2.1/9.2.2 or 27.005 3.2.5 gives it, case-insensitively. */
int at_parse_error(const char *line, struct at_error *ret);

/* Number for a +CME ERROR text (27.007 9.2), or -1. */
int at_cme_from_text(const char *text);
/* Number for a +CMS ERROR text (27.005 3.2.5), or -1. */
int at_cms_from_text(const char *text);

/* --- SMS (27.005) -------------------------------------------------------------------- */

/* "+CMGS: <mr>[,<ackpdu>]" (27.005 3.5.1): the message reference, 0-255. */
int at_parse_cmgs(const char *line, int *ret_mr);

struct at_msg_ref {
        char mem[AT_PARSE_MEM_MAX];
        int index;
};

/* "+CMTI: <mem>,<index>" (27.005 3.4.1): a new message stored. */
int at_parse_cmti(const char *line, struct at_msg_ref *ret);
/* "+CDSI: <mem>,<index>" (27.005 3.4.1): a status report stored. */
int at_parse_cdsi(const char *line, struct at_msg_ref *ret);

/* Message status, 27.005 3.1 <stat> in PDU mode (text-mode words are mapped too). */
enum at_msg_stat {
        AT_STAT_NONE = -1, /* field absent or empty */
        AT_STAT_REC_UNREAD = 0,
        AT_STAT_REC_READ = 1,
        AT_STAT_STO_UNSENT = 2,
        AT_STAT_STO_SENT = 3,
        AT_STAT_ALL = 4,
};

/* A PDU-mode header line; the PDU itself is the next line. */
struct at_pdu_header {
        int index;                      /* +CMGL only, else -1 */
        int stat;                       /* enum at_msg_stat */
        char alpha[AT_PARSE_ALPHA_MAX]; /* as given, quotes stripped; may be hex (UCS2) */
        int length;                     /* TPDU octets (SMSC address excluded) as the modem says */
};

/* "+CMT: [<alpha>],<length>" (27.005 3.4.1). Also "+CMT: <length>" without the
 * <alpha> field. */
int at_parse_cmt(const char *line, struct at_pdu_header *ret);
/* "+CDS: <length>" (27.005 3.4.1). Also "+CDS: ,<length>" with an empty first field
 * (a bend the issue asks us to accept). */
int at_parse_cds(const char *line, struct at_pdu_header *ret);
/* "+CMGL: <index>,<stat>,[<alpha>],<length>" (27.005 3.4.2). Also without <alpha>
 * ("+CMGL: 1,0,23") and with an empty <stat>. */
int at_parse_cmgl(const char *line, struct at_pdu_header *ret);
/* "+CMGR: <stat>,[<alpha>],<length>" (27.005 3.4.3). Also "+CMGR: <stat>,<length>" and
 * "+CMGR: ,,<length>" (no status, no name). */
int at_parse_cmgr(const char *line, struct at_pdu_header *ret);

/* Message storages as bits (27.005 3.2.2 <mem1..3>). */
enum at_mem {
        AT_MEM_SM = 1 << 0,
        AT_MEM_ME = 1 << 1,
        AT_MEM_MT = 1 << 2,
        AT_MEM_BM = 1 << 3,
        AT_MEM_SR = 1 << 4,
        AT_MEM_TA = 1 << 5,
};
/* The bit for a storage name ("SM"), or 0 if unknown. */
unsigned at_mem_from_name(const char *name);

struct at_cpms {
        size_t n; /* storages given: 1 to 3 */
        struct {
                char mem[AT_PARSE_MEM_MAX];
                int used, total;
        } s[3];
};
/* "+CPMS: <mem1>,<used1>,<total1>[,<mem2>,...[,<mem3>,...]]" (27.005 3.2.2, read form). */
int at_parse_cpms(const char *line, struct at_cpms *ret);

struct at_cpms_support {
        unsigned mem[3]; /* enum at_mem bits for <mem1>, <mem2>, <mem3> */
        size_t n;
};
/* "+CPMS: (list),(list),(list)" (27.005 3.2.2, test form). */
int at_parse_cpms_support(const char *line, struct at_cpms_support *ret);

/* Bits 0-31 of supported values for each +CNMI parameter. */
struct at_cnmi_support {
        uint32_t mode, mt, bm, ds, bfr;
};
/* "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)" (27.005 3.4.1, test form). Missing trailing lists
 * are 0 (nothing supported); "(0-2)" and "0-2" both accepted. */
int at_parse_cnmi_support(const char *line, struct at_cnmi_support *ret);

struct at_csca {
        char number[AT_PARSE_NUMBER_MAX];
        int type; /* 129, 145, or -1 */
};
/* "+CSCA: <sca>[,<tosca>]" (27.005 3.3.1). */
int at_parse_csca(const char *line, struct at_csca *ret);

struct at_range {
        int lo, hi;
};
struct at_ranges {
        size_t n;
        struct at_range r[AT_PARSE_RANGES_MAX];
};
/* True if v is in one of the ranges. */
bool at_ranges_contain(const struct at_ranges *rs, int v);

struct at_cmgd_support {
        struct at_ranges index; /* used indexes; may be empty */
        uint32_t delflag;       /* bits of supported <delflag> 0-4, 0 if not given */
};
/* "+CMGD: (1,2,5-7),(0-4)" (27.005 3.5.4, test form). Also "+CMGD: ()" (nothing stored)
 * and a bare "+CMGD: (1-3)". */
int at_parse_cmgd_support(const char *line, struct at_cmgd_support *ret);

/* --- network (27.007) ------------------------------------------------------------------ */

struct at_csq {
        int rssi; /* 0-31, 99 unknown */
        int ber;  /* 0-7, 99 unknown */
};
/* "+CSQ: <rssi>,<ber>" (27.007 8.5). */
int at_parse_csq(const char *line, struct at_csq *ret);
/* rssi (27.007 8.5) to dBm: 0 is -113 or less, 31 is -51 or more. -ENODATA for 99,
 * -EINVAL out of range. */
int at_csq_to_dbm(int rssi, int *ret_dbm);
/* rssi to 0-4 bars as phones show them (<= -107 dBm: 0, -105..-99: 1, -97..-89: 2,
 * -87..-79: 3, >= -77: 4); 0 for unknown. */
int at_csq_to_bars(int rssi);

struct at_creg {
        int n;    /* query form only (<n>), else -1 */
        int stat; /* 0-10, 27.007 7.2 */
        long lac; /* lac or tac, -1 if absent */
        long ci;  /* cell id, -1 if absent */
        int act;  /* access technology, -1 if absent */
};
/* "+CREG:", "+CGREG:", "+CEREG:" or "+C5GREG:" (27.007 7.2, 10.1.20, 10.1.22). query: the line
 * answers AT+CxREG? and starts with <n>; else it is the URC form starting with <stat>.
 * (The line alone cannot tell: "+CREG: 1,5" is n=1 stat=5 or stat=1 lac=5.) lac/ci quoted
 * or bare hex (27.007 quotes them; bare is accepted too). */
int at_parse_creg(const char *line, bool query, struct at_creg *ret);

struct at_cops {
        int mode;                      /* 0-4 */
        int format;                    /* 0-2, -1 if absent */
        char oper[AT_PARSE_ALPHA_MAX]; /* "" if absent */
        int act;                       /* -1 if absent */
};
/* "+COPS: <mode>[,<format>,<oper>[,<AcT>]]" (27.007 7.3, read form). */
int at_parse_cops(const char *line, struct at_cops *ret);

enum at_pin_state {
        AT_PIN_READY,
        AT_PIN_SIM_PIN,
        AT_PIN_SIM_PUK,
        AT_PIN_SIM_PIN2,
        AT_PIN_SIM_PUK2,
        AT_PIN_PH_SIM_PIN,
        AT_PIN_OTHER, /* another 27.007 8.3 code (PH-NET PIN...): see the text */
};
struct at_cpin {
        enum at_pin_state state;
        char text[AT_PARSE_ALPHA_MAX];
};
/* "+CPIN: <code>" (27.007 8.3). Also quoted ("+CPIN: \"READY\""). */
int at_parse_cpin(const char *line, struct at_cpin *ret);

/* A network or modem clock reading. */
struct at_time {
        bool has_time; /* date and time below are set */
        int year;      /* four digits */
        int mon, day, hour, min, sec;
        bool has_tz;
        int tz_quarters; /* offset from UTC in quarter hours, 27.007 8.15 */
        int dst;         /* daylight saving adjustment in hours (0-2), -1 if absent */
};
/* "+CCLK: \"yy/MM/dd,hh:mm:ss±zz\"" (27.007 8.15); the zone is optional (some modems
 * leave it out) and zz counts quarter hours. */
int at_parse_cclk(const char *line, struct at_time *ret);
/* "+CTZV: <tz>" (27.007 8.41), tz in quarter hours, signed or quoted ("+CTZV: \"+08\""). */
int at_parse_ctzv(const char *line, struct at_time *ret);
/* "+CTZE: <tz>,<dst>[,<time>]" (27.007 8.41), <time> "yy/MM/dd,hh:mm:ss" in local time. */
int at_parse_ctze(const char *line, struct at_time *ret);
/* "*PSUTTZ: yyyy,MM,dd,hh,mm,ss,\"±tz\",dst" (SIMCom SIM800 network time, UTC time). */
int at_parse_psuttz(const char *line, struct at_time *ret);

/* --- identity ------------------------------------------------------------------------ */

/* An identity answer: IMEI (AT+CGSN, "+CGSN: ..."), IMSI (AT+CIMI), ICCID ("+CCID:",
 * "+ICCID:", "+QCCID:" Quectel, "^ICCID:" Huawei, or bare). Strips the prefix, blanks and
 * quotes and checks what is left is 5 to AT_PARSE_ID_MAX-1 digits (an ICCID may end in F,
 * padding). Writes it to ret_id (size bytes). */
int at_parse_identity(const char *line, char *ret_id, size_t size);
