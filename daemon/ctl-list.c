/* puentectl outbox and inbox: the newest messages, one line each (or a JSON array). The
 * outbox groups the store's part rows by message and says where each message stands. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/ctl-common.h"
#include "daemon/store.h"

#define CTL_EXCERPT_CHARS 48 /* characters of a text on a listing line */
#define CTL_EXCERPT_MAX   (CTL_EXCERPT_CHARS * 4 + 4)

struct list_opts {
        bool json;
        bool unhandled; /* inbox: only what the rules have not processed */
        unsigned limit;
};

static int list_usage(FILE *f, const char *cmd, int status)
{
        fprintf(f, "Usage: puentectl [--config FILE] %s [--json] [--limit N]%s\n\n", cmd,
                strcmp(cmd, "inbox") == 0 ? " [--unhandled]" : "");
        if (strcmp(cmd, "inbox") == 0)
                fprintf(f, "Lists received messages, newest first: id, time, sender, parts, text.\n"
                           "  --unhandled   only messages the rules have not processed yet\n");
        else
                fprintf(f,
                        "Lists queued and sent messages, newest first: id, recipient, where\n"
                        "its parts stand (queued, sending, sent, delivered, failed...), text.\n");
        fprintf(f,
                "  --json        a JSON array instead of text\n"
                "  --limit N     at most N messages (default %d)\n"
                "\n"
                "Exit status: 0 listed, 1 the database cannot be read, 2 usage.\n",
                CTL_LIMIT_DEFAULT);
        return status;
}

static int parse_list_opts(const char *cmd, int argc, char **argv, struct list_opts *o)
{
        enum { OPT_JSON = 256, OPT_LIMIT, OPT_UNHANDLED };
        static const struct option opts[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "limit", required_argument, NULL, OPT_LIMIT },
                { "unhandled", no_argument, NULL, OPT_UNHANDLED },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        long v;
        int c;

        *o = (struct list_opts){ .limit = CTL_LIMIT_DEFAULT };
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_LIMIT:
                        if (ctl_parse_long(optarg, 1, CTL_LIMIT_MAX, &v) < 0)
                                return ctl_fail(CTL_EXIT_USAGE, cmd,
                                                "--limit '%s': expected a whole number from 1 "
                                                "to %d",
                                                optarg, CTL_LIMIT_MAX);
                        o->limit = (unsigned)v;
                        break;
                case OPT_UNHANDLED:
                        if (strcmp(cmd, "inbox") != 0)
                                return ctl_fail(CTL_EXIT_USAGE, cmd,
                                                "unknown option '--unhandled' (try 'puentectl "
                                                "%s --help')",
                                                cmd);
                        o->unhandled = true;
                        break;
                case 'h':
                        return list_usage(stdout, cmd, -1);
                case ':':
                        return ctl_fail(CTL_EXIT_USAGE, cmd, "option '%s' needs an argument",
                                        argv[optind - 1]);
                default:
                        return ctl_fail(CTL_EXIT_USAGE, cmd,
                                        "unknown option '%s' (try 'puentectl %s --help')",
                                        argv[optind - 1], cmd);
                }
        }
        if (optind < argc)
                return ctl_fail(CTL_EXIT_USAGE, cmd, "unexpected argument '%s'", argv[optind]);
        return CTL_EXIT_OK;
}

/* ---- outbox ---- */

struct outbox_msg {
        int64_t id;
        int priority;
        unsigned part_count, attempts;
        enum store_encoding encoding;
        unsigned by_state[STORE_PART_STATE_COUNT];
        char recipient[STORE_NUMBER_MAX];
        char excerpt[CTL_EXCERPT_MAX];
        struct json_object *text;  /* JSON mode: the whole text */
        struct json_object *parts; /* JSON mode: the message's parts */
};

struct outbox {
        const struct list_opts *o;
        struct outbox_msg cur;
        unsigned shown;
        struct json_object *arr; /* JSON mode */
};

/* The one word for where a message stands: its least advanced part decides, except that a
 * failed part fails the message. */
static const char *message_state(const struct outbox_msg *m)
{
        static const enum store_part_state order[] = {
                STORE_PART_FAILED,  STORE_PART_UNDELIVERABLE, STORE_PART_UNKNOWN,
                STORE_PART_SENDING, STORE_PART_RETRY,         STORE_PART_QUEUED,
                STORE_PART_SENT,    STORE_PART_DELIVERED,
        };

        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
                if (m->by_state[order[i]])
                        return store_part_state_name(order[i]);
        return "empty";
}

static void outbox_flush(struct outbox *ob)
{
        struct outbox_msg *m = &ob->cur;
        static const char *const enc[] = { "gsm7", "ucs2", "8bit" };

        if (m->id == 0)
                return;
        if (ob->o->json) {
                struct json_object *j = json_object_new_object();

                json_object_object_add(j, "id", json_object_new_int64(m->id));
                json_object_object_add(j, "to", json_object_new_string(m->recipient));
                json_object_object_add(j, "state", json_object_new_string(message_state(m)));
                json_object_object_add(j, "priority", json_object_new_int(m->priority));
                json_object_object_add(j, "encoding", json_object_new_string(enc[m->encoding]));
                json_object_object_add(j, "part_count", json_object_new_int((int)m->part_count));
                json_object_object_add(j, "text", m->text);
                json_object_object_add(j, "parts", m->parts);
                json_object_array_add(ob->arr, j);
                m->text = m->parts = NULL;
        } else {
                char parts[32];

                snprintf(parts, sizeof(parts), "%u/%u",
                         m->by_state[STORE_PART_SENT] + m->by_state[STORE_PART_DELIVERED],
                         m->part_count);
                printf("%-6lld %-16s %-13s %-5s %3d  %s\n", (long long)m->id, m->recipient,
                       message_state(m), parts, m->priority, m->excerpt);
        }
        ob->shown++;
        *m = (struct outbox_msg){ 0 };
}

static int outbox_row(const struct store_part *p, void *userdata)
{
        struct outbox *ob = userdata;
        struct outbox_msg *m = &ob->cur;

        if (p->message_id != m->id) {
                outbox_flush(ob);
                if (ob->shown >= ob->o->limit)
                        return 1; /* enough: stop the listing */
                m->id = p->message_id;
                m->priority = p->priority;
                m->part_count = p->part_count;
                m->encoding = p->encoding;
                snprintf(m->recipient, sizeof(m->recipient), "%s", p->recipient);
                if (ob->o->json) {
                        m->text = json_object_new_string(p->text ? p->text : "");
                        m->parts = json_object_new_array();
                } else {
                        ctl_text_excerpt(p->text, CTL_EXCERPT_CHARS, m->excerpt,
                                         sizeof(m->excerpt));
                }
        }
        if ((unsigned)p->state < STORE_PART_STATE_COUNT)
                m->by_state[p->state]++;
        if (ob->o->json) {
                struct json_object *j = json_object_new_object();

                json_object_object_add(j, "part_id", json_object_new_int64(p->part_id));
                json_object_object_add(j, "seq", json_object_new_int((int)p->seq));
                json_object_object_add(j, "state",
                                       json_object_new_string(store_part_state_name(p->state)));
                json_object_object_add(j, "attempts", json_object_new_int((int)p->attempts));
                json_object_object_add(j, "modem_id", json_object_new_int64(p->modem_id));
                json_object_array_add(m->parts, j);
        }
        return 0;
}

int ctl_outbox(const struct ctl_context *ctx, int argc, char **argv)
{
        struct list_opts o;
        struct ctl_env env = { 0 };
        struct outbox ob = { .o = &o };
        int r, status = parse_list_opts("outbox", argc, argv, &o);

        if (status != CTL_EXIT_OK)
                return status < 0 ? CTL_EXIT_OK : status;
        status = ctl_env_open(ctx, "outbox", false, &env);
        if (status != CTL_EXIT_OK)
                return status;
        if (o.json)
                ob.arr = json_object_new_array();
        else
                printf("%-6s %-16s %-13s %-5s %3s  %s\n", "ID", "TO", "STATE", "SENT", "PRI",
                       "TEXT");
        /* Rows are parts, newest message first; the callback stops after `limit` messages. */
        r = store_outbox_list(env.store, o.limit * STORE_PARTS_MAX, outbox_row, &ob);
        if (r < 0) {
                status = ctl_fail(CTL_EXIT_FAIL, "outbox", "cannot list the outbox: %s",
                                  store_errmsg(env.store));
        } else {
                if (ob.shown < o.limit)
                        outbox_flush(&ob);
                if (o.json)
                        printf("%s\n",
                               json_object_to_json_string_ext(
                                       ob.arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        }
        json_object_put(ob.cur.text);
        json_object_put(ob.cur.parts);
        json_object_put(ob.arr);
        ctl_env_close(&env);
        return status;
}

/* ---- inbox ---- */

struct inbox {
        const struct list_opts *o;
        struct json_object *arr;
};

static int inbox_row(const struct store_incoming *m, void *userdata)
{
        struct inbox *ib = userdata;
        char when[CTL_TIME_MAX], excerpt[CTL_EXCERPT_MAX];

        if (ib->o->json) {
                struct json_object *j = json_object_new_object();

                json_object_object_add(j, "id", json_object_new_int64(m->id));
                json_object_object_add(j, "from", json_object_new_string(m->sender));
                json_object_object_add(j, "received", json_object_new_int64(m->received));
                json_object_object_add(j, "modem_id", json_object_new_int64(m->modem_id));
                json_object_object_add(j, "contact_id", json_object_new_int64(m->contact_id));
                json_object_object_add(j, "parts", json_object_new_int((int)m->parts));
                json_object_object_add(j, "complete", json_object_new_boolean(m->complete));
                json_object_object_add(j, "handled", json_object_new_boolean(m->handled));
                json_object_object_add(j, "text", json_object_new_string(m->text ? m->text : ""));
                json_object_array_add(ib->arr, j);
                return 0;
        }
        ctl_time_str(m->received, when);
        ctl_text_excerpt(m->text, CTL_EXCERPT_CHARS, excerpt, sizeof(excerpt));
        printf("%-6lld %-16s %-16s %5u %-10s %s\n", (long long)m->id, when, m->sender, m->parts,
               !m->complete ? "incomplete"
               : m->handled ? "handled"
                            : "new",
               excerpt);
        return 0;
}

int ctl_inbox(const struct ctl_context *ctx, int argc, char **argv)
{
        struct list_opts o;
        struct ctl_env env = { 0 };
        struct inbox ib = { .o = &o };
        int r, status = parse_list_opts("inbox", argc, argv, &o);

        if (status != CTL_EXIT_OK)
                return status < 0 ? CTL_EXIT_OK : status;
        status = ctl_env_open(ctx, "inbox", false, &env);
        if (status != CTL_EXIT_OK)
                return status;
        if (o.json)
                ib.arr = json_object_new_array();
        else
                printf("%-6s %-16s %-16s %5s %-10s %s\n", "ID", "RECEIVED", "FROM", "PARTS",
                       "STATE", "TEXT");
        r = store_inbox_list(env.store, o.limit, o.unhandled, inbox_row, &ib);
        if (r < 0)
                status = ctl_fail(CTL_EXIT_FAIL, "inbox", "cannot list the inbox: %s",
                                  store_errmsg(env.store));
        else if (o.json)
                printf("%s\n", json_object_to_json_string_ext(
                                       ib.arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(ib.arr);
        ctl_env_close(&env);
        return status;
}
