/* test-hash: SHA-256 and HMAC-SHA256 (rules/hash) against the published vectors, run through
 * every entry point that hashes: rules/hash itself, the upload batch hash, pseudonyms and the
 * rule set's content hash. The outputs must not change with the library under them: uploaded
 * batches chain by hash, pseudonyms and arms must stay the same for the whole trial. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/batch.h"
#include "daemon/pseudo.h"
#include "rules/hash.h"
#include "rules/parse.h"

/* A message or key: text, or n copies of one byte (RFC 4231's keys and data are mostly
 * that). */
struct bytes_spec {
        const char *text;
        uint8_t fill;
        size_t n;
};

static uint8_t *make_bytes(const struct bytes_spec *s, size_t *ret_len)
{
        size_t len = s->text ? strlen(s->text) : s->n;
        uint8_t *b = malloc(len ? len : 1);

        assert_non_null(b);
        if (s->text)
                memcpy(b, s->text, len);
        else
                memset(b, s->fill, len);
        *ret_len = len;
        return b;
}

/* FIPS 180-2 appendix B.1, B.2 and B.3 (the same in FIPS 180-4's examples), and the empty
 * message (what `printf '' | sha256sum` prints). */
static const struct {
        const char *what;
        struct bytes_spec msg;
        const char *sha256;
} sha_cases[] = {
        { "FIPS 180-2 B.1, one block",
          { .text = "abc" },
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "FIPS 180-2 B.2, two blocks",
          { .text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" },
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "FIPS 180-2 B.3, a million 'a'",
          { .fill = 'a', .n = 1000000 },
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
        { "empty",
          { .text = "" },
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
};

static void test_sha256_vectors(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(sha_cases) / sizeof(sha_cases[0]); i++) {
                uint8_t md[PUENTE_SHA256_LEN];
                char hex[PUENTE_SHA256_HEX + 1], batch_hex[BATCH_HASH_HEX + 1];
                size_t len;
                uint8_t *msg = make_bytes(&sha_cases[i].msg, &len);

                print_message("%s\n", sha_cases[i].what);
                puente_sha256(msg, len, md);
                puente_hex(md, sizeof(md), hex);
                assert_string_equal(hex, sha_cases[i].sha256);
                batch_sha256_hex(msg, len, batch_hex);
                assert_string_equal(batch_hex, sha_cases[i].sha256);
                /* In three parts, cut at every pair of points for the short messages and at
                 * a few odd ones (inside and across 64-byte blocks) for the long one. */
                size_t step = len > 200 ? len / 7 + 1 : 1;
                for (size_t a = 0; a <= len; a += step)
                        for (size_t b = a; b <= len; b += step) {
                                struct puente_bytes parts[] = { { msg, a },
                                                                { msg + a, b - a },
                                                                { msg + b, len - b } };
                                memset(md, 0, sizeof(md));
                                puente_sha256_parts(parts, 3, md);
                                puente_hex(md, sizeof(md), hex);
                                assert_string_equal(hex, sha_cases[i].sha256);
                        }
                free(msg);
        }
}

/* RFC 4231 4.2 to 4.8, all but 4.6 (test case 5: a MAC truncated to 128 bits, which tests
 * the caller's truncation, not the MAC). Cases 6 and 7 have a 131-byte key, longer than
 * SHA-256's 64-byte block, so it is hashed first. */
static const struct {
        const char *what;
        struct bytes_spec key, data;
        const char *mac;
} hmac_cases[] = {
        { "RFC 4231 case 1",
          { .fill = 0x0b, .n = 20 },
          { .text = "Hi There" },
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { "RFC 4231 case 2",
          { .text = "Jefe" },
          { .text = "what do ya want for nothing?" },
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { "RFC 4231 case 3",
          { .fill = 0xaa, .n = 20 },
          { .fill = 0xdd, .n = 50 },
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { "RFC 4231 case 4",
          { .text = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"
                    "\x13\x14\x15\x16\x17\x18\x19" },
          { .fill = 0xcd, .n = 50 },
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { "RFC 4231 case 6",
          { .fill = 0xaa, .n = 131 },
          { .text = "Test Using Larger Than Block-Size Key - Hash Key First" },
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { "RFC 4231 case 7",
          { .fill = 0xaa, .n = 131 },
          { .text = "This is a test using a larger than block-size key and a larger than "
                    "block-size data. The key needs to be hashed before being used by the "
                    "HMAC algorithm." },
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void test_hmac_rfc4231(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(hmac_cases) / sizeof(hmac_cases[0]); i++) {
                uint8_t mac[PUENTE_SHA256_LEN];
                char hex[PUENTE_SHA256_HEX + 1];
                size_t key_len, data_len;
                uint8_t *key = make_bytes(&hmac_cases[i].key, &key_len);
                uint8_t *data = make_bytes(&hmac_cases[i].data, &data_len);

                print_message("%s\n", hmac_cases[i].what);
                puente_hmac_sha256(key, key_len, data, data_len, mac);
                puente_hex(mac, sizeof(mac), hex);
                assert_string_equal(hex, hmac_cases[i].mac);

                /* A pseudonym is the MAC's first PSEUDO_HEX_CHARS hex digits under a 32-byte
                 * key; a shorter key padded with zeros is the same key to HMAC (RFC 2104 2). */
                if (key_len <= PSEUDO_KEY_BYTES) {
                        struct pseudo_key pk = { { 0 } };
                        char pseudo[PSEUDO_HEX_CHARS + 1], *text = malloc(data_len + 1);

                        assert_non_null(text);
                        memcpy(text, data, data_len);
                        text[data_len] = '\0';
                        memcpy(pk.bytes, key, key_len);
                        assert_int_equal(pseudo_of(&pk, text, pseudo), 0);
                        assert_memory_equal(pseudo, hmac_cases[i].mac, PSEUDO_HEX_CHARS);
                        assert_int_equal(pseudo[PSEUDO_HEX_CHARS], '\0');
                        free(text);
                }
                free(key);
                free(data);
        }
}

/* The rule set's content hash (rules/parse.c): for each file in base-name order, the name,
 * a NUL, the length in 8 big-endian octets, the bytes. The expected value was made apart from
 * our code, with coreutils:
 *   { printf '00.conf\0'; printf '%016x' 76 | xxd -r -p; printf '%s' "$S";
 *     printf '10.conf\0'; printf '%016x' 34 | xxd -r -p; printf '%s' "$C"; } | sha256sum
 * and the OpenSSL build printed the same, so rule_set hashes logged before the change to
 * Nettle still name the same files. */
static void test_rule_set_hash(void **state)
{
        static const char settings[] = "settings {\n"
                                       "    timezone = \"America/Mexico_City\"\n"
                                       "    default_language = es\n"
                                       "}\n";
        static const char comment[] = "# two files, hashed in name order\n";
        const struct rules_source files[] = {
                { "rules.d/10.conf", comment, strlen(comment) },
                { "/etc/puente/rules.d/00.conf", settings, strlen(settings) },
        };
        struct rules_diags d = { 0 };
        struct rules_set *set = NULL;
        char hex[PUENTE_SHA256_HEX + 1];

        (void)state;
        assert_int_equal(strlen(settings), 76);
        assert_int_equal(strlen(comment), 34);
        assert_int_equal(rules_parse(files, 2, NULL, &d, &set), 0);
        assert_string_equal(set->hash_hex,
                            "2ad44e3a3379608f31c9a8546e57b96600f87e7c73afd91cbe20e43f3ba25f06");
        puente_hex(set->hash, RULES_HASH_LEN, hex);
        assert_string_equal(hex, set->hash_hex);
        rules_free(set);
        rules_diags_free(&d);
}

static void test_hex(void **state)
{
        static const uint8_t b[] = { 0x00, 0x09, 0x0a, 0x7f, 0x80, 0xf0, 0xff };
        char out[2 * sizeof(b) + 1];

        (void)state;
        memset(out, 'x', sizeof(out));
        puente_hex(b, sizeof(b), out);
        assert_string_equal(out, "00090a7f80f0ff");
        puente_hex(b, 0, out);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256_vectors),
                cmocka_unit_test(test_hmac_rfc4231),
                cmocka_unit_test(test_rule_set_hash),
                cmocka_unit_test(test_hex),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
