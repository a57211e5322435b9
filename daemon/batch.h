/* Upload batches: events turned into anonymized NDJSON lines (schema puente.event/1, see
 * docs/upload.md and docs/schema/event-v1.json), a header line that chains the batch to the
 * previous one by SHA-256, the whole gzip-compressed. Pure logic with json-c, zlib and
 * libcrypto's SHA-256: no file, clock or log (daemon/upload-cut.c writes the files).
 *
 * Ownership: a struct batch is the caller's (batch_init() / batch_free()); it owns the lines
 * it has built. batch_finish() hands back a malloc'ed gzip buffer the caller frees. Every
 * string argument is borrowed for the call. The same events and header always give the same
 * bytes (gzip with no name and time 0), so a batch cut again after a crash is identical. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_SCHEMA     "puente.event/1"
#define BATCH_HASH_HEX   64 /* SHA-256 in hex */
#define BATCH_EVENTS_MAX 100000
#define BATCH_DEVICE_MAX 64  /* [A-Za-z0-9._-], also a path component */
#define BATCH_TOKEN_MAX  32  /* longest string value passed through */
#define BATCH_NUMBER_MAX 1e9 /* larger numbers are dropped: a phone number is larger */
#define BATCH_GZIP_LEVEL 6
#define BATCH_ZERO_HASH  "0000000000000000000000000000000000000000000000000000000000000000"

/* One event as the store gives it, with the pseudonym the caller made for its contact. */
struct batch_event {
        int64_t seq, time;
        bool clock_trusted;
        const char *type;
        const char *subject; /* the contact's pseudonym, NULL when the event has no contact */
        const char *json;    /* the store's payload; only whitelisted keys pass */
};

struct batch_header {
        const char *device;      /* the box's id */
        uint64_t batch;          /* 1, 2, 3 ... per device */
        const char *prev_sha256; /* the previous batch file's hash; BATCH_ZERO_HASH first */
        const char *key_id;      /* pseudo_key_id() */
};

struct batch {
        char *buf; /* the event lines, each ending in '\n' */
        size_t len, cap;
        unsigned events;
        int64_t first_seq, last_seq;
};

void batch_init(struct batch *b);
void batch_reset(struct batch *b); /* empties it, keeping the buffer */
void batch_free(struct batch *b);

/* Appends one event line. -EINVAL for a bad type or a seq not above the previous one,
 * -ENOMEM. A payload that is not a JSON object uploads as {} (never an error: the store
 * checked it is JSON; what it holds is filtered, not trusted). */
int batch_add(struct batch *b, const struct batch_event *ev);

/* Compresses the header line and the events into one gzip member; *ret_gz (malloc'ed) and
 * *ret_len get the bytes, ret_sha256 their SHA-256 in hex. -EINVAL for an empty batch or a
 * bad device id. The batch is left as it was. */
int batch_finish(const struct batch *b, const struct batch_header *h, uint8_t **ret_gz,
                 size_t *ret_len, char ret_sha256[static BATCH_HASH_HEX + 1]);

/* Whether `device` may name a box: 1..BATCH_DEVICE_MAX-1 of [A-Za-z0-9._-], not "." or "..". */
bool batch_device_valid(const char *device);

/* The payload keys uploaded for `type` (NULL-terminated; an empty list for an unknown type:
 * it uploads with "data": {}). docs/upload.md has the same table. */
const char *const *batch_whitelist(const char *type);

/* What a batch's header line says, read back from its gzip bytes (the uploader, export and
 * tests). */
struct batch_info {
        uint64_t batch;
        int64_t first_seq, last_seq;
        unsigned events;
        char device[BATCH_DEVICE_MAX];
};

/* Inflates just the header line: -EBADMSG when the bytes are not a batch. */
int batch_peek_header(const uint8_t *gz, size_t len, struct batch_info *ret);

/* SHA-256 of bytes, in hex. */
void batch_sha256_hex(const uint8_t *data, size_t len, char ret[static BATCH_HASH_HEX + 1]);
