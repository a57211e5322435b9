/* rules/hash: SHA-256 and HMAC-SHA256 with GNU Nettle (see hash.h). */
#include "rules/hash.h"

#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

_Static_assert(PUENTE_SHA256_LEN == SHA256_DIGEST_SIZE, "SHA-256 is 32 bytes");

void puente_sha256(const void *data, size_t len, uint8_t ret[static PUENTE_SHA256_LEN])
{
        struct puente_bytes one = { data, len };

        puente_sha256_parts(&one, 1, ret);
}

void puente_sha256_parts(const struct puente_bytes *parts, size_t n,
                         uint8_t ret[static PUENTE_SHA256_LEN])
{
        struct sha256_ctx ctx;

        sha256_init(&ctx);
        for (size_t i = 0; i < n; i++)
                sha256_update(&ctx, parts[i].len, parts[i].data);
        sha256_digest(&ctx, PUENTE_SHA256_LEN, ret);
}

void puente_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        uint8_t ret[static PUENTE_SHA256_LEN])
{
        struct hmac_sha256_ctx ctx;

        hmac_sha256_set_key(&ctx, key_len, key);
        hmac_sha256_update(&ctx, msg_len, msg);
        hmac_sha256_digest(&ctx, PUENTE_SHA256_LEN, ret);
        /* The inner and outer states would let anyone who reads them forge MACs. */
        explicit_bzero(&ctx, sizeof(ctx));
}

void puente_hex(const uint8_t *bytes, size_t n, char *ret)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = digits[bytes[i] >> 4];
                ret[2 * i + 1] = digits[bytes[i] & 15];
        }
        ret[2 * n] = '\0';
}
