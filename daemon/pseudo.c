/* Pseudonyms: HMAC-SHA256 (rules/hash.h), and the deployment key file (see pseudo.h). */
#include "daemon/pseudo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/hash.h"

#define KEY_HEX       (2 * PSEUDO_KEY_BYTES)
#define KEY_FILE_READ 256 /* more than 64 hex digits and a newline means a wrong file */

static int fail(char *errmsg, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *errmsg, int err, const char *fmt, ...)
{
        if (errmsg) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errmsg, PSEUDO_ERRMSG_MAX, fmt, ap);
                va_end(ap);
        }
        return err;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int pseudo_key_from_hex(const char *text, size_t len, struct pseudo_key *ret_key)
{
        struct pseudo_key k;

        if (len > 0 && text[len - 1] == '\n')
                len--;
        if (len != KEY_HEX)
                return -EBADMSG;
        for (size_t i = 0; i < PSEUDO_KEY_BYTES; i++) {
                int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                k.bytes[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret_key = k;
        explicit_bzero(&k, sizeof(k));
        return 0;
}

static int read_key(int fd, const char *path, struct pseudo_key *ret_key, char *errmsg)
{
        char buf[KEY_FILE_READ];
        struct stat sb;
        ssize_t n;

        if (fstat(fd, &sb) < 0)
                return fail(errmsg, -errno, "%s: %m", path);
        if (sb.st_mode & (S_IRWXG | S_IRWXO))
                return fail(errmsg, -EPERM, "%s: mode %03o lets others read the key; expected 0600",
                            path, (unsigned)(sb.st_mode & 0777));
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return fail(errmsg, -errno, "%s: %m", path);
        int r = pseudo_key_from_hex(buf, (size_t)n, ret_key);
        explicit_bzero(buf, sizeof(buf));
        if (r < 0)
                return fail(errmsg, r, "%s: not a key; expected 64 hex digits and a newline", path);
        return 0;
}

/* Writes a new key to a temporary file next to `path` and links it into place: link() fails
 * with EEXIST when another process made the key first, and then that one is read. */
static int create_key(const char *path, char *errmsg)
{
        uint8_t raw[PSEUDO_KEY_BYTES];
        char hex[KEY_HEX + 2], tmp[4096];
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
                return fail(errmsg, -ENAMETOOLONG, "%s: path too long", path);
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return fail(errmsg, -EIO, "getrandom: %m");
        puente_hex(raw, sizeof(raw), hex);
        explicit_bzero(raw, sizeof(raw));
        hex[KEY_HEX] = '\n';
        hex[KEY_HEX + 1] = '\0';
        fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
        if (fd < 0)
                return fail(errmsg, -errno, "%s: cannot create: %m", tmp);
        if (write(fd, hex, KEY_HEX + 1) != KEY_HEX + 1 || fsync(fd) < 0)
                r = fail(errmsg, -errno ? -errno : -EIO, "%s: cannot write: %m", tmp);
        explicit_bzero(hex, sizeof(hex));
        close(fd);
        if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
                r = fail(errmsg, -errno, "%s: cannot create: %m", path);
        unlink(tmp);
        return r;
}

int pseudo_key_load(const char *path, struct pseudo_key *ret_key, bool *ret_created, char *errmsg)
{
        bool created = false;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                r = create_key(path, errmsg);
                if (r < 0)
                        return r;
                created = true;
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0)
                return fail(errmsg, -errno, "%s: %m", path);
        r = read_key(fd, path, ret_key, errmsg);
        close(fd);
        if (r == 0 && ret_created)
                *ret_created = created;
        return r;
}

_Static_assert(PSEUDO_HEX_CHARS <= PUENTE_SHA256_HEX && PSEUDO_KEY_ID_HEX <= PUENTE_SHA256_HEX,
               "a pseudonym is a prefix of the HMAC's hex");

static void hmac_hex(const struct pseudo_key *key, const char *msg, size_t hex_chars, char *ret)
{
        uint8_t mac[PUENTE_SHA256_LEN];
        char full[PUENTE_SHA256_HEX + 1];

        puente_hmac_sha256(key->bytes, PSEUDO_KEY_BYTES, msg, strlen(msg), mac);
        puente_hex(mac, sizeof(mac), full);
        memcpy(ret, full, hex_chars);
        ret[hex_chars] = '\0';
}

int pseudo_of(const struct pseudo_key *key, const char *study_id,
              char ret[static PSEUDO_HEX_CHARS + 1])
{
        if (!study_id || !*study_id)
                return -EINVAL;
        hmac_hex(key, study_id, PSEUDO_HEX_CHARS, ret);
        return 0;
}

int pseudo_key_id(const struct pseudo_key *key, char ret[static PSEUDO_KEY_ID_HEX + 1])
{
        hmac_hex(key, "puente key id", PSEUDO_KEY_ID_HEX, ret);
        return 0;
}

void pseudo_key_wipe(struct pseudo_key *key)
{
        explicit_bzero(key, sizeof(*key));
}
