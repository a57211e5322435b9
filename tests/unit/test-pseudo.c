/* daemon/pseudo: HMAC-SHA256 pseudonyms checked against RFC 4231's test vectors, the key
 * file made 0600 once and read back the same, and the files it refuses. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/pseudo.h"

/* RFC 4231 4.2 and 4.3: HMAC keys shorter than the hash block are padded with zeros
 * (RFC 2104 2), so a 20-byte key in our 32 bytes gives the RFC's MAC. */
static void test_rfc4231_vectors(void **state)
{
        static const struct {
                uint8_t key[PSEUDO_KEY_BYTES];
                const char *data, *mac_prefix;
        } cases[] = {
                { { 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b },
                  "Hi There",
                  "b0344c61d8db3853" },
                { { 'J', 'e', 'f', 'e' }, "what do ya want for nothing?", "5bdcc146bf60754e" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct pseudo_key k;
                char out[PSEUDO_HEX_CHARS + 1];
                memcpy(k.bytes, cases[i].key, sizeof(k.bytes));
                assert_int_equal(pseudo_of(&k, cases[i].data, out), 0);
                assert_string_equal(out, cases[i].mac_prefix);
        }
}

static void test_pseudonym_properties(void **state)
{
        struct pseudo_key a = { { 1 } }, b = { { 2 } };
        char p1[PSEUDO_HEX_CHARS + 1], p2[PSEUDO_HEX_CHARS + 1], id[PSEUDO_KEY_ID_HEX + 1];

        assert_int_equal(pseudo_of(&a, "STUDY-0001", p1), 0);
        assert_int_equal(strlen(p1), PSEUDO_HEX_CHARS);
        assert_int_equal(strspn(p1, "0123456789abcdef"), PSEUDO_HEX_CHARS);
        assert_int_equal(pseudo_of(&a, "STUDY-0001", p2), 0);
        assert_string_equal(p1, p2); /* stable */
        assert_int_equal(pseudo_of(&b, "STUDY-0001", p2), 0);
        assert_string_not_equal(p1, p2); /* another trial's key: unlinkable */
        assert_int_equal(pseudo_of(&a, "STUDY-0002", p2), 0);
        assert_string_not_equal(p1, p2);
        assert_int_equal(pseudo_of(&a, "", p2), -EINVAL);
        assert_int_equal(pseudo_key_id(&a, id), 0);
        assert_int_equal(strlen(id), PSEUDO_KEY_ID_HEX);
}

static void test_key_from_hex(void **state)
{
        static const struct {
                const char *text;
                int ret;
        } cases[] = {
                { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0 },
                { "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n", 0 },
                { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", -EBADMSG },
                { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", -EBADMSG },
                { "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EBADMSG },
                { "", -EBADMSG },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct pseudo_key k = { { 0xee } };
                assert_int_equal(pseudo_key_from_hex(cases[i].text, strlen(cases[i].text), &k),
                                 cases[i].ret);
                assert_int_equal(k.bytes[0], 0x00 ^ (cases[i].ret ? 0xee : 0));
                if (cases[i].ret == 0)
                        assert_int_equal(k.bytes[31], 0x1f);
        }
}

static void write_file(const char *path, const char *text, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        fchmod(fd, mode);
        close(fd);
}

static void test_key_file(void **state)
{
        char dir[] = "/tmp/puente-test-pseudo-XXXXXX", path[64], err[PSEUDO_ERRMSG_MAX];
        struct pseudo_key k1, k2;
        struct stat sb;
        bool created = false;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/upload.key", dir);
        assert_int_equal(pseudo_key_load(path, &k1, &created, err), 0);
        assert_true(created);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sb.st_size, 65);
        assert_int_equal(pseudo_key_load(path, &k2, &created, err), 0);
        assert_false(created);
        assert_memory_equal(k1.bytes, k2.bytes, PSEUDO_KEY_BYTES);

        /* a key readable by others is refused, naming the file and the mode */
        chmod(path, 0644);
        assert_int_equal(pseudo_key_load(path, &k2, NULL, err), -EPERM);
        assert_non_null(strstr(err, "0600"));
        assert_non_null(strstr(err, path));

        /* a file that is not a key */
        write_file(path, "not a key\n", 0600);
        assert_int_equal(pseudo_key_load(path, &k2, NULL, err), -EBADMSG);
        assert_non_null(strstr(err, "64 hex digits"));

        /* a key copied from another box of the trial is used as it is */
        write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                   0600);
        assert_int_equal(pseudo_key_load(path, &k2, &created, err), 0);
        assert_false(created);
        assert_int_equal(k2.bytes[1], 1);

        /* a directory that does not exist */
        assert_true(pseudo_key_load("/nonexistent-puente/upload.key", &k2, NULL, err) < 0);
        assert_non_null(strstr(err, "/nonexistent-puente/upload.key"));
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rfc4231_vectors),
                cmocka_unit_test(test_pseudonym_properties),
                cmocka_unit_test(test_key_from_hex),
                cmocka_unit_test(test_key_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
