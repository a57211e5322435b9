/* puentectl pdu: encode text into SMS-SUBMIT PDUs as AT+CMGS takes them; decode PDUs to JSON. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "at/pdu.h"
#include "daemon/ctl.h"

#define CTL_PDU_PI_UDL   0x04 /* TS 23.040 9.2.3.27: TP-UDL present */
#define CTL_PDU_TEXT_MAX (SMS_PARTS_MAX * SMS_SEPTETS_CONCAT8 * 4) /* UTF-8 bytes from stdin */

static int pdu_usage(FILE *f, int status)
{
        fprintf(f,
                "Usage: puentectl pdu encode [OPTIONS] --to NUMBER TEXT\n"
                "       puentectl pdu decode [--mt|--mo] [--pretty] HEX...\n"
                "\n"
                "encode prints one line per part, '<tpdu_len> <HEX>': the length argument and\n"
                "the PDU (SMSC octets first, 00 when none) as AT+CMGS takes them; a summary\n"
                "line (parts, encoding, units) goes to stderr. TEXT '-' reads stdin.\n"
                "  --to NUMBER        destination (+52..., national digits)\n"
                "  --smsc NUMBER      service centre address (default: none, 00)\n"
                "  --report           request a status report (TP-SRR)\n"
                "  --validity MINUTES relative validity period (rounded up as TS 23.040 allows)\n"
                "  --class N          message class 0-3\n"
                "  --translit         fold characters outside GSM 7-bit instead of using UCS-2\n"
                "  --ref N            concatenation reference (default 0)\n"
                "  --ref16            16-bit concatenation reference\n"
                "\n"
                "decode prints one JSON object per HEX argument, one per line, in order, each\n"
                "with \"arg\" (its position). Without --mt/--mo it tries MT, then MO.\n"
                "  --mt               network to modem (DELIVER, STATUS-REPORT)\n"
                "  --mo               modem to network (SUBMIT)\n"
                "  --pretty           indented JSON\n"
                "\n"
                "Exit status: 0 done, 1 some input could not be encoded or decoded, 2 usage.\n");
        return status;
}

static int bad_usage(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_usage(const char *what, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "puentectl %s: ", what);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (try 'puentectl pdu --help')\n");
        return CTL_EXIT_USAGE;
}

/* Parses a whole decimal number in [min, max]. */
static int parse_int(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Reads all of stdin as the text, without one trailing newline. */
static char *read_stdin_text(void)
{
        char *buf = malloc(CTL_PDU_TEXT_MAX + 1);
        size_t n;

        if (!buf)
                return NULL;
        n = fread(buf, 1, CTL_PDU_TEXT_MAX + 1, stdin);
        if (n > CTL_PDU_TEXT_MAX) {
                free(buf);
                errno = E2BIG;
                return NULL;
        }
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        return buf;
}

static int pdu_encode(int argc, char **argv)
{
        enum {
                OPT_SMSC = 256,
                OPT_REPORT,
                OPT_VALIDITY,
                OPT_CLASS,
                OPT_TRANSLIT,
                OPT_REF,
                OPT_REF16,
                OPT_TO
        };
        static const struct option opts[] = {
                { "smsc", required_argument, NULL, OPT_SMSC },
                { "report", no_argument, NULL, OPT_REPORT },
                { "validity", required_argument, NULL, OPT_VALIDITY },
                { "class", required_argument, NULL, OPT_CLASS },
                { "translit", no_argument, NULL, OPT_TRANSLIT },
                { "ref", required_argument, NULL, OPT_REF },
                { "ref16", no_argument, NULL, OPT_REF16 },
                { "to", required_argument, NULL, OPT_TO },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct sms_submit_opts so = { .msg_class = -1 };
        struct sms_text_info info;
        struct sms_part *parts;
        const char *to = NULL;
        char *text, *owned = NULL;
        long v, ref = 0;
        int c, n;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_SMSC:
                        so.smsc = optarg;
                        break;
                case OPT_REPORT:
                        so.status_report = true;
                        break;
                case OPT_VALIDITY:
                        if (parse_int(optarg, 1, SMS_VALIDITY_MAX, &v) < 0)
                                return bad_usage("pdu encode",
                                                 "--validity '%s': expected minutes, 1 to %d",
                                                 optarg, SMS_VALIDITY_MAX);
                        so.validity_minutes = (int)v;
                        break;
                case OPT_CLASS:
                        if (parse_int(optarg, 0, 3, &v) < 0)
                                return bad_usage("pdu encode", "--class '%s': expected 0 to 3",
                                                 optarg);
                        so.msg_class = (int)v;
                        break;
                case OPT_TRANSLIT:
                        so.translit = true;
                        break;
                case OPT_REF:
                        if (parse_int(optarg, 0, 65535, &ref) < 0)
                                return bad_usage("pdu encode", "--ref '%s': expected 0 to 65535",
                                                 optarg);
                        break;
                case OPT_REF16:
                        so.ref16 = true;
                        break;
                case OPT_TO:
                        to = optarg;
                        break;
                case 'h':
                        return pdu_usage(stdout, CTL_EXIT_OK);
                case ':':
                        return bad_usage("pdu encode", "option '%s' needs an argument",
                                         argv[optind - 1]);
                default:
                        return bad_usage("pdu encode", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (!to)
                return bad_usage("pdu encode", "--to NUMBER is required");
        if (ref > 255 && !so.ref16)
                return bad_usage("pdu encode",
                                 "--ref %ld needs --ref16 (8-bit references are 0-255)", ref);
        so.ref = (uint16_t)ref;
        if (argc - optind != 1)
                return bad_usage("pdu encode",
                                 "expected one TEXT argument, got %d (quote the text)",
                                 argc - optind);
        text = argv[optind];
        if (strcmp(text, "-") == 0) {
                text = owned = read_stdin_text();
                if (!text) {
                        fprintf(stderr,
                                "puentectl pdu encode: cannot read the text from stdin: %s\n",
                                strerror(errno));
                        return CTL_EXIT_FAIL;
                }
        }
        parts = calloc(SMS_PARTS_MAX, sizeof(*parts));
        if (!parts) {
                free(owned);
                fprintf(stderr, "puentectl pdu encode: out of memory\n");
                return CTL_EXIT_FAIL;
        }
        n = sms_submit_encode(text, to, &so, parts, SMS_PARTS_MAX, &info);
        if (n < 0) {
                fprintf(stderr, "puentectl pdu encode: cannot encode: %s (%s)\n", sms_pdu_error(),
                        strerror(-n));
        } else {
                for (int i = 0; i < n; i++) {
                        char hex[2 * SMS_PDU_MAX + 1];

                        sms_hex_encode(parts[i].pdu, parts[i].len, hex);
                        printf("%zu %s\n", parts[i].tpdu_len, hex);
                }
                fprintf(stderr, "%d part%s, %s, %zu %s%s\n", n, n == 1 ? "" : "s",
                        sms_charset_name(info.charset), info.units,
                        info.charset == SMS_CHARSET_UCS2 ? "UTF-16 units" : "septets",
                        info.translit ? ", transliterated" : "");
        }
        free(parts);
        free(owned);
        return n < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

static const char *ton_name(enum sms_ton t)
{
        static const char *const names[] = {
                [SMS_TON_UNKNOWN] = "unknown",         [SMS_TON_INTERNATIONAL] = "international",
                [SMS_TON_NATIONAL] = "national",       [SMS_TON_NETWORK] = "network",
                [SMS_TON_SUBSCRIBER] = "subscriber",   [SMS_TON_ALPHANUMERIC] = "alphanumeric",
                [SMS_TON_ABBREVIATED] = "abbreviated",
        };

        return (unsigned)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "reserved";
}

static struct json_object *json_address(const struct sms_address *a)
{
        struct json_object *o;

        if (!a->number[0])
                return NULL; /* JSON null */
        o = json_object_new_object();
        json_object_object_add(o, "number", json_object_new_string(a->number));
        json_object_object_add(o, "type", json_object_new_string(ton_name(a->ton)));
        json_object_object_add(o, "npi", json_object_new_int(a->npi));
        return o;
}

/* ISO 8601 with the offset the SC gave (TS 23.040 9.2.3.11: quarter hours). */
static struct json_object *json_time(const struct sms_time *t)
{
        char buf[64];
        int q = t->tz_quarters, off = (q < 0 ? -q : q) * 15;

        snprintf(buf, sizeof(buf), "%04u-%02u-%02uT%02u:%02u:%02u%c%02d:%02d", t->year, t->month,
                 t->day, t->hour, t->minute, t->second, q < 0 ? '-' : '+', off / 60, off % 60);
        return json_object_new_string(buf);
}

static struct json_object *json_hex(const uint8_t *bin, size_t len)
{
        char hex[2 * SMS_UD_MAX + 1];

        sms_hex_encode(bin, len < SMS_UD_MAX ? len : SMS_UD_MAX, hex);
        return json_object_new_string(hex);
}

static void add_validity(struct json_object *o, const struct sms_pdu *p)
{
        static const char *const formats[] = { "none", "enhanced", "relative", "absolute" };
        struct json_object *v = json_object_new_object();

        json_object_object_add(v, "format", json_object_new_string(formats[p->vp_format & 3]));
        if (p->vp_format == 2)
                json_object_object_add(v, "minutes", json_object_new_int(p->validity_minutes));
        else if (p->vp_format == 3)
                json_object_object_add(v, "until", json_time(&p->validity_abs));
        json_object_object_add(o, "validity", v);
}

static struct json_object *pdu_json(const struct sms_pdu *p, int arg, enum sms_dir dir,
                                    bool guessed)
{
        struct json_object *o = json_object_new_object();
        const char *addr_key = p->type == SMS_TYPE_DELIVER  ? "originator"
                               : p->type == SMS_TYPE_SUBMIT ? "destination"
                                                            : "recipient";

        json_object_object_add(o, "arg", json_object_new_int(arg));
        json_object_object_add(o, "direction",
                               json_object_new_string(dir == SMS_DIR_MT ? "mt" : "mo"));
        json_object_object_add(o, "direction_guessed", json_object_new_boolean(guessed));
        json_object_object_add(o, "type", json_object_new_string(sms_type_name(p->type)));
        json_object_object_add(o, "smsc", json_address(&p->smsc));
        json_object_object_add(o, addr_key, json_address(&p->addr));
        json_object_object_add(o, "first_octet", json_object_new_int(p->first_octet));
        if (p->type != SMS_TYPE_DELIVER)
                json_object_object_add(o, "mr", json_object_new_int(p->mr));
        json_object_object_add(o, "pid", json_object_new_int(p->pid));
        json_object_object_add(o, "dcs", json_object_new_int(p->dcs));
        switch (p->type) {
        case SMS_TYPE_DELIVER:
                json_object_object_add(o, "scts", json_time(&p->scts));
                json_object_object_add(o, "more_messages",
                                       json_object_new_boolean(p->more_messages));
                json_object_object_add(o, "status_report_indication",
                                       json_object_new_boolean(p->status_report));
                json_object_object_add(o, "reply_path", json_object_new_boolean(p->reply_path));
                break;
        case SMS_TYPE_SUBMIT:
                json_object_object_add(o, "status_report_request",
                                       json_object_new_boolean(p->status_report));
                json_object_object_add(o, "reply_path", json_object_new_boolean(p->reply_path));
                add_validity(o, p);
                break;
        case SMS_TYPE_STATUS_REPORT:
                json_object_object_add(o, "scts", json_time(&p->scts));
                json_object_object_add(o, "discharge_time", json_time(&p->discharge));
                json_object_object_add(o, "status", json_object_new_int(p->status));
                json_object_object_add(
                        o, "status_class",
                        json_object_new_string(sms_status_class_name(p->status_class)));
                break;
        default:
                break;
        }
        /* TS 23.040 9.2.3.27: a STATUS-REPORT carries user data only when TP-PI says so. */
        if (p->type == SMS_TYPE_STATUS_REPORT && !(p->pi & CTL_PDU_PI_UDL))
                return o;
        json_object_object_add(o, "encoding", json_object_new_string(sms_charset_name(p->charset)));
        json_object_object_add(o, "class",
                               p->msg_class >= 0 ? json_object_new_int(p->msg_class) : NULL);
        json_object_object_add(o, "compressed", json_object_new_boolean(p->compressed));
        if (p->mwi) {
                static const char *const kinds[] = { "voicemail", "fax", "email", "other" };
                struct json_object *w = json_object_new_object();

                json_object_object_add(w, "active", json_object_new_boolean(p->mwi_active));
                json_object_object_add(w, "kind", json_object_new_string(kinds[p->mwi_kind & 3]));
                json_object_object_add(w, "discard", json_object_new_boolean(p->mwi_discard));
                json_object_object_add(o, "message_waiting", w);
        }
        json_object_object_add(o, "udh_length", json_object_new_int((int)p->udh_len));
        if (p->concat.present) {
                struct json_object *c = json_object_new_object();

                json_object_object_add(c, "reference", json_object_new_int(p->concat.ref));
                json_object_object_add(c, "reference_bits",
                                       json_object_new_int(p->concat.ref16 ? 16 : 8));
                json_object_object_add(c, "total", json_object_new_int(p->concat.total));
                json_object_object_add(c, "sequence", json_object_new_int(p->concat.seq));
                json_object_object_add(o, "concatenation", c);
        } else {
                json_object_object_add(o, "concatenation", NULL);
        }
        if (p->charset == SMS_CHARSET_8BIT || p->compressed)
                json_object_object_add(o, "data", json_hex(p->ud, p->ud_len));
        else
                json_object_object_add(o, "text", json_object_new_string(p->text));
        return o;
}

/* Decodes one argument; prints its JSON or a message. Returns 0 or -1. */
static int decode_one(const char *hex, int arg, int dir, int json_flags)
{
        struct sms_pdu *p = malloc(sizeof(*p));
        struct json_object *o;
        char mt_err[256];
        enum sms_dir used = SMS_DIR_MT;
        int r;

        if (!p) {
                fprintf(stderr, "puentectl pdu decode: argument %d: out of memory\n", arg);
                return -1;
        }
        if (dir >= 0) {
                used = (enum sms_dir)dir;
                r = sms_pdu_decode_hex(hex, used, p);
                if (r < 0)
                        fprintf(stderr, "puentectl pdu decode: argument %d: %s\n", arg,
                                sms_pdu_error());
        } else {
                /* MT first: what a modem shows in +CMT/+CMGR is mostly network-to-modem.
                 * A SUBMIT reads as SUBMIT-REPORT there, which the codec refuses. */
                r = sms_pdu_decode_hex(hex, SMS_DIR_MT, p);
                if (r < 0) {
                        snprintf(mt_err, sizeof(mt_err), "%s", sms_pdu_error());
                        used = SMS_DIR_MO;
                        r = sms_pdu_decode_hex(hex, SMS_DIR_MO, p);
                        if (r < 0 && strcmp(mt_err, sms_pdu_error()) == 0)
                                fprintf(stderr, "puentectl pdu decode: argument %d: %s\n", arg,
                                        mt_err);
                        else if (r < 0)
                                fprintf(stderr,
                                        "puentectl pdu decode: argument %d: as MT: %s; as MO: "
                                        "%s\n",
                                        arg, mt_err, sms_pdu_error());
                }
        }
        if (r < 0) {
                free(p);
                return -1;
        }
        o = pdu_json(p, arg, used, dir < 0);
        printf("%s\n", json_object_to_json_string_ext(o, json_flags));
        json_object_put(o);
        free(p);
        return 0;
}

static int pdu_decode(int argc, char **argv)
{
        static const struct option opts[] = {
                { "mt", no_argument, NULL, 't' },
                { "mo", no_argument, NULL, 'o' },
                { "pretty", no_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int c, dir = -1, flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
               failed = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case 't':
                case 'o':
                        if (dir >= 0)
                                return bad_usage("pdu decode", "give only one of --mt and --mo");
                        dir = c == 't' ? SMS_DIR_MT : SMS_DIR_MO;
                        break;
                case 'p':
                        flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;
                        break;
                case 'h':
                        return pdu_usage(stdout, CTL_EXIT_OK);
                default:
                        return bad_usage("pdu decode", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return bad_usage("pdu decode", "no HEX argument given");
        for (int i = optind; i < argc; i++)
                if (decode_one(argv[i], i - optind + 1, dir, flags) < 0)
                        failed++;
        return failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

int ctl_pdu(const struct ctl_context *ctx, int argc, char **argv)
{
        if (argc < 2)
                return bad_usage("pdu", "expected 'encode' or 'decode'");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return pdu_usage(stdout, CTL_EXIT_OK);
        optind = 0;
        if (strcmp(argv[1], "encode") == 0)
                return pdu_encode(argc - 1, argv + 1);
        if (strcmp(argv[1], "decode") == 0)
                return pdu_decode(argc - 1, argv + 1);
        return bad_usage("pdu", "unknown subcommand '%s' (expected 'encode' or 'decode')", argv[1]);
}
