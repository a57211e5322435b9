/* Reassembly of concatenated SMS (TS 23.040 9.2.3.24.1 and .8) from decoded parts, I/O-free.
 *
 * Parts go in through sms_concat_feed() in any order, with duplicates; whole messages come
 * out through the table's emit callback, once. Parts are grouped by sender (TP-OA, or TP-DA
 * for SUBMITs), reference, reference width (8/16-bit IE) and part count: parts differing in
 * any of these never mix. The caller passes the current time (ms, any monotonic origin) to
 * every call and decides time-outs with sms_concat_expire(); nothing here reads a clock.
 *
 * Memory is bounded: at most max_groups groups and max_bytes bytes of group storage (see
 * sms_concat_bytes()); when a new part does not fit, the oldest groups are evicted and
 * emitted as incomplete messages. A ring of SMS_CONCAT_RECENT_MAX recently completed keys,
 * with a hash of each part (about 35 KB, allocated with the table and not counted in
 * max_bytes), recognizes late duplicates of completed messages.
 *
 * Ownership: the table allocates (malloc) and frees everything it holds. The part passed to
 * sms_concat_feed() is borrowed for the call only. Each message passed to the emit callback
 * belongs to the callback, which frees it with sms_concat_message_free() (now or later).
 * The callback runs synchronously inside sms_concat_feed()/sms_concat_expire() and must
 * not call back into the same table: such calls fail with -EBUSY. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at/pdu.h"

#define SMS_CONCAT_GROUPS_DEFAULT     64           /* incomplete messages held at once */
#define SMS_CONCAT_BYTES_DEFAULT      (512 * 1024) /* storage of those groups */
#define SMS_CONCAT_BYTES_MIN          4096         /* below this a single part might not fit */
#define SMS_CONCAT_RECENT_MAX         32           /* completed keys remembered for duplicates */
#define SMS_CONCAT_DUP_WINDOW_DEFAULT (60 * 60 * 1000) /* ms a completed key is remembered */

enum sms_concat_reason {
        SMS_CONCAT_COMPLETE,   /* every part arrived (or it was a single-part message) */
        SMS_CONCAT_TIMED_OUT,  /* sms_concat_expire() dropped it */
        SMS_CONCAT_EVICTED,    /* dropped to stay within max_groups / max_bytes */
        SMS_CONCAT_SUPERSEDED, /* a different part with the same key and sequence arrived:
                                * the sender reused the reference, this one cannot complete */
};

/* What sms_concat_feed() did with a part (non-negative returns). */
enum sms_concat_result {
        SMS_CONCAT_HELD,      /* stored, waiting for the other parts */
        SMS_CONCAT_DONE,      /* a whole message was emitted */
        SMS_CONCAT_DUPLICATE, /* same part already held, or of a message completed within the
                               * duplicate window: ignored */
};

/* One received part inside a message: its text is msg->text + offset, len bytes. */
struct sms_concat_piece {
        uint8_t seq;  /* 1-based; 1 for a single-part message */
        uint64_t tag; /* the caller's tag given with the part (e.g. a storage index) */
        size_t offset;
        size_t len;
};

struct sms_concat_message {
        enum sms_concat_reason reason;
        enum sms_type type;        /* of the first part */
        struct sms_address sender; /* pdu->addr of the parts */
        struct sms_time scts;      /* of the lowest-numbered part present */
        enum sms_charset charset;  /* of the lowest-numbered part present */
        int msg_class;             /* of the lowest-numbered part present, -1 none */
        bool concatenated;         /* false: a single-part message */
        bool ref16;                /* reference from IEI 0x08 */
        uint16_t ref;
        unsigned total;             /* parts the UDH announced (1 when single) */
        unsigned received;          /* parts present in pieces[] */
        uint64_t first_ms, last_ms; /* arrival of the first and latest part */
        /* Present parts joined in sequence order, NUL-terminated; missing parts are simply
         * absent (pieces[] tells which are there). UTF-8 for GSM 7-bit and UCS-2 parts; for
         * 8-bit data parts the raw user data octets, so use text_len, not strlen(). */
        size_t text_len;
        char *text;
        struct sms_concat_piece *pieces; /* received entries, ascending seq */
};

/* Receives each message; owns it from then on. */
typedef void (*sms_concat_emit_fn)(struct sms_concat_message *msg, void *userdata);

struct sms_concat_limits {
        size_t max_groups;      /* 0: SMS_CONCAT_GROUPS_DEFAULT */
        size_t max_bytes;       /* 0: SMS_CONCAT_BYTES_DEFAULT; else >= SMS_CONCAT_BYTES_MIN */
        uint64_t dup_window_ms; /* 0: SMS_CONCAT_DUP_WINDOW_DEFAULT */
};

struct sms_concat_table;

/* Creates a table. limits may be NULL for the defaults; emit is required. Returns 0,
 * -EINVAL (no emit, or max_bytes below SMS_CONCAT_BYTES_MIN) or -ENOMEM. */
int sms_concat_new(const struct sms_concat_limits *limits, sms_concat_emit_fn emit, void *userdata,
                   struct sms_concat_table **ret_table);

/* Frees the table and every part it holds, without emitting them (call
 * sms_concat_expire(t, now, 0) first to get them). Accepts NULL; returns NULL. */
struct sms_concat_table *sms_concat_free(struct sms_concat_table *t);

/* Feeds one decoded part arriving at now_ms, with a caller tag copied into the message.
 * A part without a concatenation IE, or whose IE TS 23.040 9.2.3.24.1 says to ignore
 * (total 0, sequence 0 or beyond total) or that announces a single part, is emitted at once
 * as a single-part message. Returns an enum sms_concat_result, or -EINVAL (NULL part),
 * -EBUSY (called from the emit callback) or -ENOMEM (the part is lost; the table stays
 * consistent). */
int sms_concat_feed(struct sms_concat_table *t, const struct sms_pdu *part, uint64_t tag,
                    uint64_t now_ms);

/* Emits, as SMS_CONCAT_TIMED_OUT, and drops every group whose first part arrived at least
 * max_age_ms before now_ms (0 drops them all). Returns how many, or -EBUSY/-ENOMEM (a
 * group that cannot be emitted for lack of memory is dropped all the same). */
int sms_concat_expire(struct sms_concat_table *t, uint64_t now_ms, uint64_t max_age_ms);

/* Arrival time of the oldest group's first part, to arm a timer. -ENOENT when empty. */
int sms_concat_oldest(const struct sms_concat_table *t, uint64_t *ret_ms);

size_t sms_concat_groups(const struct sms_concat_table *t); /* groups held now */
size_t sms_concat_bytes(const struct sms_concat_table *t);  /* bytes they take */

/* Frees a message. Accepts NULL; returns NULL. */
struct sms_concat_message *sms_concat_message_free(struct sms_concat_message *msg);

const char *sms_concat_reason_name(enum sms_concat_reason r); /* "complete", "timed-out", ... */
