/* Upload batches: anonymized NDJSON lines, the chained header, gzip (see batch.h). */
#include "daemon/batch.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

#include "rules/hash.h"

#define JSON_FLAGS         (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define BATCH_BUF_FIRST    (64 * 1024)
#define GZIP_WINDOW_BITS   (15 + 16) /* zlib: 15-bit window, gzip wrapper (no name, time 0) */
#define TYPE_MAX           63        /* as the store's CHECK on events.type */
#define WHITELIST_KEYS_MAX 9         /* payload keys of one event type */

/* The payload keys that leave the box, per event type. Values pass only if they are
 * booleans, numbers of magnitude below BATCH_NUMBER_MAX or short [a-z0-9._-] tokens with
 * no more than DIGIT_RUN_MAX digits in a row (rule_set: a SHA-256 in hex): a key added here
 * by mistake still cannot carry a phone number or a sentence. docs/upload.md
 * "Whitelist" repeats this table; keep them in step. */
static const struct {
        const char *type;
        const char *const keys[WHITELIST_KEYS_MAX + 1];
} whitelist[] = {
        /* daemon/rules-apply.c: the programme's events ("rules." and the engine's action
         * name); every one also carries rule_set, the rule files' hash */
        { "rules.enrolled", { "track", "rule_set", NULL } },
        { "rules.arm_assigned", { "arm", "stratum", "method", "rule_set", NULL } },
        { "rules.reminder_queued", { "reminder", "due", "late", "rule_set", NULL } },
        { "rules.reminder_suppressed", { "reminder", "reason", "rule_set", NULL } },
        { "rules.reply_queued", { "keyword", "quiz", "rule_set", NULL } },
        { "rules.alert_escalated", { "reminder", "keyword", "rule_set", NULL } },
        { "rules.inbound_received", { "category", "keyword", "quiz", "rule_set", NULL } },
        { "rules.keyword_matched", { "keyword", "rule_set", NULL } },
        { "rules.field_changed", { "field", "rule_set", NULL } }, /* not its value */
        { "rules.stage_switched", { "from", "to", "rule_set", NULL } },
        { "rules.loss_reported", { "keyword", "rule_set", NULL } }, /* not its value */
        { "rules.loss_choice", { "keyword", "rule_set", NULL } },
        { "rules.quiz_started", { "quiz", "rule_set", NULL } },
        { "rules.quiz_answer", { "quiz", "question", "choice", "right", "rule_set", NULL } },
        { "rules.quiz_timed_out", { "quiz", "question", "rule_set", NULL } },
        { "rules.quiz_completed", { "quiz", "score", "total", "rule_set", NULL } },
        { "rules.quiz_ended", { "quiz", "score", "total", "rule_set", NULL } },
        { "rules.opted_out", { "keyword", "rule_set", NULL } },
        { "rules.opted_in", { "keyword", "rule_set", NULL } },
        { "rules.withdrawn", { "messages", "rule_set", NULL } },
        /* daemon/store-outgoing.c: one event per message, with the part transitions
         * (docs/upload.md "Message events"); reminder and rule_set when a rule queued it */
        { "sms.sent",
          { "message_id", "parts", "encoding", "modem_id", "attempts", "reminder", "rule_set",
            NULL } },
        { "sms.delivered",
          { "message_id", "parts", "modem_id", "status", "reminder", "rule_set", NULL } },
        { "sms.failed",
          { "message_id", "part", "parts", "modem_id", "attempts", "reason", "reminder", "rule_set",
            NULL } },
        /* daemon/upload-heartbeat.c: the daily SMS to the central number, counts only */
        { "upload.heartbeat",
          { "message_id", "days", "backlog_events", "backlog_batches", "disk_near", NULL } },
        /* reserved names, written by nobody yet */
        { "sms.queued", { "message_id", "parts", "priority", NULL } },
        { "sms.undeliverable", { "message_id", "part", "modem_id", "status", NULL } },
        { "sms.unknown", { "message_id", "part", "modem_id", NULL } },
        { "sms.received", { "message_id", "parts", "modem_id", NULL } },
        /* daemon/modem-core.c: its payload holds the raw PDU, and so the sender's number */
        { "sms.undecodable", { NULL } },
        { "modem.health",
          { "modem_id", "state", "health", "signal", "registered", "errors", NULL } },
        { "daemon.start", { "version", NULL } },
        { "daemon.stop", { "version", NULL } },
        { "clock.sync", { "source", "offset", NULL } },
};

static const char *const no_keys[] = { NULL };

const char *const *batch_whitelist(const char *type)
{
        for (size_t i = 0; i < sizeof(whitelist) / sizeof(whitelist[0]); i++)
                if (strcmp(whitelist[i].type, type) == 0)
                        return whitelist[i].keys;
        return no_keys;
}

static bool token_ok(const char *s, size_t min, size_t max, bool upper_ok)
{
        size_t n = strlen(s);

        if (n < min || n > max)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-' || (upper_ok && c >= 'A' && c <= 'Z')))
                        return false;
        }
        return true;
}

bool batch_device_valid(const char *device)
{
        return device && token_ok(device, 1, BATCH_DEVICE_MAX - 1, true) &&
               strcmp(device, ".") != 0 && strcmp(device, "..") != 0;
}

static bool hash_valid(const char *h);

/* A token with this many digits in a row could be a phone number without its '+'. */
#define DIGIT_RUN_MAX 6

static bool digit_run_ok(const char *s)
{
        unsigned run = 0;
        for (; *s; s++) {
                run = *s >= '0' && *s <= '9' ? run + 1 : 0;
                if (run > DIGIT_RUN_MAX)
                        return false;
        }
        return true;
}

/* Whether a payload value may leave the box (see the whitelist's comment). */
static bool value_ok(const char *key, struct json_object *v)
{
        if (strcmp(key, "rule_set") == 0) /* a SHA-256: names the rules, not a person */
                return json_object_is_type(v, json_type_string) &&
                       hash_valid(json_object_get_string(v));
        switch (json_object_get_type(v)) {
        case json_type_boolean:
                return true;
        case json_type_int:
                return llabs(json_object_get_int64(v)) < (long long)BATCH_NUMBER_MAX;
        case json_type_double: {
                double d = json_object_get_double(v);
                return isfinite(d) && fabs(d) < BATCH_NUMBER_MAX;
        }
        case json_type_string:
                return token_ok(json_object_get_string(v), 1, BATCH_TOKEN_MAX, false) &&
                       digit_run_ok(json_object_get_string(v));
        default:
                return false; /* null, objects and arrays: nothing nested leaves */
        }
}

static struct json_object *filtered_data(const char *type, const char *json)
{
        struct json_object *out = json_object_new_object();
        const char *const *keys = batch_whitelist(type);

        if (!out || !json || !keys[0])
                return out;
        struct json_object *in = json_tokener_parse(json);
        if (in && json_object_is_type(in, json_type_object)) {
                for (; *keys; keys++) {
                        struct json_object *v;
                        if (json_object_object_get_ex(in, *keys, &v) && value_ok(*keys, v))
                                json_object_object_add(out, *keys, json_object_get(v));
                }
        }
        json_object_put(in);
        return out;
}

static int append(struct batch *b, const char *s, size_t n)
{
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : BATCH_BUF_FIRST;
                while (cap < b->len + n)
                        cap *= 2;
                char *p = realloc(b->buf, cap);
                if (!p)
                        return -ENOMEM;
                b->buf = p;
                b->cap = cap;
        }
        memcpy(b->buf + b->len, s, n);
        b->len += n;
        return 0;
}

void batch_init(struct batch *b)
{
        memset(b, 0, sizeof(*b));
}

void batch_reset(struct batch *b)
{
        b->len = 0;
        b->events = 0;
        b->first_seq = b->last_seq = 0;
}

void batch_free(struct batch *b)
{
        free(b->buf);
        batch_init(b);
}

int batch_add(struct batch *b, const struct batch_event *ev)
{
        if (!ev->type || !token_ok(ev->type, 1, TYPE_MAX, false) || ev->seq <= b->last_seq ||
            b->events >= BATCH_EVENTS_MAX)
                return -EINVAL;
        struct json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "seq", json_object_new_int64(ev->seq));
        json_object_object_add(o, "time", json_object_new_int64(ev->time));
        json_object_object_add(o, "clock_trusted", json_object_new_boolean(ev->clock_trusted));
        json_object_object_add(o, "type", json_object_new_string(ev->type));
        if (ev->subject)
                json_object_object_add(o, "subject", json_object_new_string(ev->subject));
        json_object_object_add(o, "data", filtered_data(ev->type, ev->json));
        size_t n;
        const char *line = json_object_to_json_string_length(o, JSON_FLAGS, &n);
        int r = line ? append(b, line, n) : -ENOMEM;
        if (r == 0)
                r = append(b, "\n", 1);
        json_object_put(o);
        if (r < 0)
                return r;
        if (b->events++ == 0)
                b->first_seq = ev->seq;
        b->last_seq = ev->seq;
        return 0;
}

void batch_sha256_hex(const uint8_t *data, size_t len, char ret[static BATCH_HASH_HEX + 1])
{
        uint8_t md[PUENTE_SHA256_LEN];

        puente_sha256(data, len, md);
        puente_hex(md, sizeof(md), ret);
}

static char *header_line(const struct batch *b, const struct batch_header *h, size_t *ret_len)
{
        struct json_object *o = json_object_new_object();
        char *line = NULL;

        if (!o)
                return NULL;
        json_object_object_add(o, "schema", json_object_new_string(BATCH_SCHEMA));
        json_object_object_add(o, "device", json_object_new_string(h->device));
        json_object_object_add(o, "batch", json_object_new_int64((int64_t)h->batch));
        json_object_object_add(o, "prev_sha256", json_object_new_string(h->prev_sha256));
        json_object_object_add(o, "first_seq", json_object_new_int64(b->first_seq));
        json_object_object_add(o, "last_seq", json_object_new_int64(b->last_seq));
        json_object_object_add(o, "events", json_object_new_int64(b->events));
        json_object_object_add(o, "key_id", json_object_new_string(h->key_id ? h->key_id : ""));
        size_t n;
        const char *s = json_object_to_json_string_length(o, JSON_FLAGS, &n);
        if (s && asprintf(&line, "%s\n", s) >= 0)
                *ret_len = n + 1;
        else
                line = NULL;
        json_object_put(o);
        return line;
}

static bool hash_valid(const char *h)
{
        if (!h || strlen(h) != BATCH_HASH_HEX)
                return false;
        for (; *h; h++)
                if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
                        return false;
        return true;
}

int batch_finish(const struct batch *b, const struct batch_header *h, uint8_t **ret_gz,
                 size_t *ret_len, char ret_sha256[static BATCH_HASH_HEX + 1])
{
        if (b->events == 0 || !batch_device_valid(h->device) || h->batch == 0 ||
            !hash_valid(h->prev_sha256))
                return -EINVAL;
        size_t hlen = 0;
        char *head = header_line(b, h, &hlen);
        if (!head)
                return -ENOMEM;

        z_stream z = { 0 };
        int r = 0;
        if (deflateInit2(&z, BATCH_GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
                free(head);
                return -ENOMEM;
        }
        size_t cap = deflateBound(&z, hlen + b->len) + 64;
        uint8_t *out = malloc(cap);
        if (!out) {
                r = -ENOMEM;
                goto done;
        }
        z.next_out = out;
        z.avail_out = (uInt)cap;
        z.next_in = (Bytef *)head;
        z.avail_in = (uInt)hlen;
        if (deflate(&z, Z_NO_FLUSH) != Z_OK) {
                r = -EIO;
                goto done;
        }
        z.next_in = (Bytef *)b->buf;
        z.avail_in = (uInt)b->len;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
                r = -EIO;
                goto done;
        }
        batch_sha256_hex(out, z.total_out, ret_sha256);
        *ret_len = z.total_out;
        *ret_gz = out;
        out = NULL;
done:
        deflateEnd(&z);
        free(out);
        free(head);
        return r;
}

#define HEADER_LINE_MAX 1024 /* the header is ~300 bytes */

int batch_peek_header(const uint8_t *gz, size_t len, struct batch_info *ret)
{
        char line[HEADER_LINE_MAX + 1];
        z_stream z = { 0 };
        int zr, r = -EBADMSG;

        if (inflateInit2(&z, GZIP_WINDOW_BITS) != Z_OK)
                return -ENOMEM;
        z.next_in = (Bytef *)gz;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)line;
        z.avail_out = HEADER_LINE_MAX;
        zr = inflate(&z, Z_SYNC_FLUSH);
        size_t n = HEADER_LINE_MAX - z.avail_out;
        inflateEnd(&z);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
                return -EBADMSG;
        line[n] = '\0';
        char *nl = memchr(line, '\n', n);
        if (!nl)
                return -EBADMSG;
        *nl = '\0';
        struct json_object *o = json_tokener_parse(line), *v;
        struct batch_info info = { 0 };
        if (!o || !json_object_object_get_ex(o, "schema", &v) ||
            strcmp(json_object_get_string(v), BATCH_SCHEMA) != 0)
                goto out;
        if (!json_object_object_get_ex(o, "batch", &v) || json_object_get_int64(v) <= 0)
                goto out;
        info.batch = (uint64_t)json_object_get_int64(v);
        if (!json_object_object_get_ex(o, "first_seq", &v))
                goto out;
        info.first_seq = json_object_get_int64(v);
        if (!json_object_object_get_ex(o, "last_seq", &v))
                goto out;
        info.last_seq = json_object_get_int64(v);
        if (!json_object_object_get_ex(o, "events", &v))
                goto out;
        info.events = (unsigned)json_object_get_int64(v);
        if (!json_object_object_get_ex(o, "device", &v) ||
            !batch_device_valid(json_object_get_string(v)))
                goto out;
        snprintf(info.device, sizeof(info.device), "%s", json_object_get_string(v));
        *ret = info;
        r = 0;
out:
        json_object_put(o);
        return r;
}
