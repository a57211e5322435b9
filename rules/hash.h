/* rules/hash: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on GNU Nettle, for the rule
 * set's content hash, keyed arm assignment, upload batch hashes and pseudonyms. The one file
 * that includes Nettle; OpenSSL's libcrypto is not used (issue 4: its set-up cost puented
 * 3.4 MiB of resident memory for four hashes).
 *
 * Pure: no allocation, no I/O, no failure (Nettle's hashes cannot fail). Ownership: every
 * argument is borrowed for the call; digests go to the caller's arrays. An HMAC's state,
 * which is derived from the key, is wiped before returning. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PUENTE_SHA256_LEN 32 /* bytes of a SHA-256 digest */
#define PUENTE_SHA256_HEX (2 * PUENTE_SHA256_LEN)

/* One piece of a message hashed in parts (the bytes need no NUL). */
struct puente_bytes {
        const void *data;
        size_t len;
};

void puente_sha256(const void *data, size_t len, uint8_t ret[static PUENTE_SHA256_LEN]);

/* SHA-256 of the concatenation of parts[0..n): the same digest as of one buffer. */
void puente_sha256_parts(const struct puente_bytes *parts, size_t n,
                         uint8_t ret[static PUENTE_SHA256_LEN]);

/* HMAC-SHA256(key, msg). Keys longer than SHA-256's 64-byte block are hashed first and
 * shorter ones padded with zeros (RFC 2104 2), as every HMAC implementation does. */
void puente_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        uint8_t ret[static PUENTE_SHA256_LEN]);

/* The lower-case hex of n bytes and a NUL: ret holds 2 * n + 1 chars. */
void puente_hex(const uint8_t *bytes, size_t n, char *ret);
