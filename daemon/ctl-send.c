/* puentectl send: normalize the number, encode the text (a single part is stored as its PDU
 * so the daemon's send path costs nothing; the parts of a longer message are encoded at send
 * time with the reference the store counts for the recipient), queue it and wake the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "at/pdu.h"
#include "at/phone.h"
#include "daemon/config.h"
#include "daemon/ctl-common.h"
#include "daemon/store.h"

#define CTL_PRIORITY_MAX 1000 /* --priority range, either sign */

static const char cmd[] = "send";

static int send_usage(FILE *f, int status)
{
        fprintf(f,
                "Usage: puentectl [--config FILE] send [--priority N] [--json] --to NUMBER TEXT\n"
                "\n"
                "Queues TEXT (UTF-8; '-' reads stdin) for NUMBER and wakes puented. NUMBER is\n"
                "E.164 (+525512345678) or national digits of the configured country.\n"
                "  --to NUMBER     the recipient\n"
                "  --priority N    higher goes first (default 0; -1000 to 1000)\n"
                "  --json          print the result as a JSON object\n"
                "\n"
                "Prints the message id, its parts and encoding. Exit status: 0 queued,\n"
                "1 refused (bad number, text too long, database error), 2 usage.\n");
        return status;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "puentectl send: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (try 'puentectl send --help')\n");
        return CTL_EXIT_USAGE;
}

/* All of stdin without one trailing newline; a text longer than the store takes is kept
 * long enough to be refused by length. */
static char *read_stdin(void)
{
        char *buf = malloc(STORE_TEXT_MAX + 2);
        size_t n;

        if (!buf)
                return NULL;
        n = fread(buf, 1, STORE_TEXT_MAX + 1, stdin);
        if (n > 0 && n <= STORE_TEXT_MAX && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        return buf;
}

struct encoded {
        struct sms_part *parts;
        char (*hex)[STORE_PDU_HEX_MAX];
        const char **hexes;
        struct sms_text_info info;
        int n;
};

static int encode(const char *text, const char *to, struct encoded *e)
{
        struct sms_submit_opts o = {
                .status_report = true, /* delivery reports give each message its state */
                .msg_class = -1,
                /* the reference is the store's (store_queue_message()); only the count and
                 * a single part's PDU are kept from here */
        };

        e->parts = calloc(STORE_PARTS_MAX, sizeof(*e->parts));
        e->hex = calloc(STORE_PARTS_MAX, sizeof(*e->hex));
        e->hexes = calloc(STORE_PARTS_MAX, sizeof(*e->hexes));
        if (!e->parts || !e->hex || !e->hexes)
                return -ENOMEM;
        e->n = sms_submit_encode(text, to, &o, e->parts, STORE_PARTS_MAX, &e->info);
        if (e->n < 0)
                return e->n;
        for (int i = 0; i < e->n; i++) {
                sms_hex_encode(e->parts[i].pdu, e->parts[i].len, e->hex[i]);
                e->hexes[i] = e->hex[i];
        }
        return 0;
}

static void encoded_free(struct encoded *e)
{
        free(e->parts);
        free(e->hex);
        free(e->hexes);
}

static void print_result(bool json, int64_t id, const char *to, const struct encoded *e,
                         int priority, int woke)
{
        const char *enc = sms_charset_name(e->info.charset);

        if (json) {
                struct json_object *o = json_object_new_object();

                json_object_object_add(o, "id", json_object_new_int64(id));
                json_object_object_add(o, "to", json_object_new_string(to));
                json_object_object_add(o, "parts", json_object_new_int(e->n));
                json_object_object_add(o, "encoding", json_object_new_string(enc));
                json_object_object_add(o, "units", json_object_new_int64((int64_t)e->info.units));
                json_object_object_add(o, "priority", json_object_new_int(priority));
                json_object_object_add(o, "daemon_woken", json_object_new_boolean(woke == 0));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                json_object_put(o);
                return;
        }
        printf("queued message %lld to %s: %d part%s, %s (%zu %s)\n", (long long)id, to, e->n,
               e->n == 1 ? "" : "s", enc, e->info.units,
               e->info.charset == SMS_CHARSET_UCS2 ? "UTF-16 units" : "septets");
        if (woke != 0)
                fprintf(stderr, "puentectl send: puented is not listening; the message waits in "
                                "the queue until it runs\n");
}

static int queue_it(const struct ctl_context *ctx, const char *number, const char *text,
                    int priority, bool json)
{
        struct encoded e = { 0 };
        struct store_contact contact;
        struct ctl_env env = { 0 };
        enum phone_problem problem = PHONE_OK;
        char to[PHONE_E164_MAX];
        int64_t id;
        int r, status;

        status = ctl_env_open(ctx, cmd, true, &env);
        if (status != CTL_EXIT_OK)
                return status;
        if (phone_normalize(number, env.config->country_code, to, &problem) < 0) {
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "invalid number '%s': %s", number,
                                  phone_problem_str(problem));
                goto out;
        }
        r = encode(text, to, &e);
        if (r == -E2BIG) {
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "text too long: it needs more than %d parts",
                                  STORE_PARTS_MAX);
                goto out;
        }
        if (r < 0) {
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "cannot encode the text: %s",
                                  r == -ENOMEM ? "out of memory" : sms_pdu_error());
                goto out;
        }
        struct store_outgoing_new m = {
                .recipient = to,
                .contact_id = store_contact_by_phone(env.store, to, &contact) == 0 ? contact.id : 0,
                .text = text,
                .encoding = e.info.charset == SMS_CHARSET_UCS2 ? STORE_ENC_UCS2 : STORE_ENC_GSM7,
                .part_count = (unsigned)e.n,
                .priority = priority,
                .pdus = e.n == 1 ? e.hexes : NULL,
        };
        r = store_queue_message(env.store, &m, time(NULL), &id);
        if (r < 0) {
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "cannot queue the message: %s",
                                  store_errmsg(env.store));
                goto out;
        }
        print_result(json, id, to, &e, priority, ctl_wake(env.config));
out:
        encoded_free(&e);
        ctl_env_close(&env);
        return status;
}

int ctl_send(const struct ctl_context *ctx, int argc, char **argv)
{
        enum { OPT_TO = 256, OPT_PRIORITY, OPT_JSON };
        static const struct option opts[] = {
                { "to", required_argument, NULL, OPT_TO },
                { "priority", required_argument, NULL, OPT_PRIORITY },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *to = NULL;
        char *text, *owned = NULL;
        bool json = false;
        long priority = 0;
        int c, status;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_TO:
                        to = optarg;
                        break;
                case OPT_PRIORITY:
                        if (ctl_parse_long(optarg, -CTL_PRIORITY_MAX, CTL_PRIORITY_MAX, &priority) <
                            0)
                                return usage_error("--priority '%s': expected a whole number "
                                                   "from -1000 to 1000",
                                                   optarg);
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case 'h':
                        return send_usage(stdout, CTL_EXIT_OK);
                case ':':
                        return usage_error("option '%s' needs an argument", argv[optind - 1]);
                default:
                        return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        }
        if (!to)
                return usage_error("%s", "no recipient: --to NUMBER is required");
        if (optind != argc - 1)
                return usage_error("%s", optind >= argc
                                                 ? "no text given"
                                                 : "give the text as one argument (quote it)");
        text = argv[optind];
        if (strcmp(text, "-") == 0) {
                text = owned = read_stdin();
                if (!text)
                        return ctl_fail(CTL_EXIT_FAIL, cmd, "cannot read stdin: %s",
                                        strerror(errno));
        }
        if (!*text)
                status = usage_error("%s", "the text is empty");
        else if (strlen(text) >= STORE_TEXT_MAX)
                status = ctl_fail(CTL_EXIT_FAIL, cmd, "text too long: %zu bytes, at most %d",
                                  strlen(text), STORE_TEXT_MAX - 1);
        else
                status = queue_it(ctx, to, text, (int)priority, json);
        free(owned);
        return status;
}
