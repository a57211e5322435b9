/* rules/arms: keyed-hash and sealed-list assignment of trial arms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/arms.h"
#include "rules/hash.h"

#define ARMS_DOMAIN "puente-arm-v1" /* changes if the message layout ever does */

int rules_arms_draw(const uint8_t *secret, size_t secret_len, const char *trial,
                    const char *stratum, const char *unit_id, double *ret_u)
{
        uint8_t msg[sizeof(ARMS_DOMAIN) + RULES_NAME_MAX + RULES_ARMS_STRATUM_MAX +
                    RULES_ARMS_UNIT_MAX + 3];
        size_t tl, sl, ul, n = 0;
        uint8_t mac[PUENTE_SHA256_LEN];
        uint64_t x = 0;

        if (!secret || secret_len < RULES_ARMS_SECRET_MIN || secret_len > RULES_ARMS_SECRET_MAX ||
            !unit_id || !*unit_id)
                return -EINVAL;
        trial = trial ? trial : "";
        stratum = stratum ? stratum : "";
        tl = strlen(trial);
        sl = strlen(stratum);
        ul = strlen(unit_id);
        if (tl >= RULES_NAME_MAX || sl >= RULES_ARMS_STRATUM_MAX || ul >= RULES_ARMS_UNIT_MAX)
                return -EINVAL;
        memcpy(msg, ARMS_DOMAIN, sizeof(ARMS_DOMAIN)); /* with its NUL */
        n = sizeof(ARMS_DOMAIN);
        memcpy(msg + n, trial, tl + 1);
        n += tl + 1;
        memcpy(msg + n, stratum, sl + 1);
        n += sl + 1;
        memcpy(msg + n, unit_id, ul);
        n += ul;
        puente_hmac_sha256(secret, secret_len, msg, n, mac);
        for (int i = 0; i < 8; i++)
                x = x << 8 | mac[i];
        /* The top 53 bits: exactly representable, so every platform picks the same arm. */
        *ret_u = (double)(x >> 11) * 0x1.0p-53;
        return 0;
}

int rules_arms_assign(const struct rules_set *set, const uint8_t *secret, size_t secret_len,
                      const char *stratum, const char *unit_id, int *ret_arm)
{
        double u, total = 0, acc = 0;
        int r;

        if (!set || !set->trial.present || set->trial.n_arms == 0)
                return -EINVAL;
        r = rules_arms_draw(secret, secret_len, set->trial.name, stratum, unit_id, &u);
        if (r < 0)
                return r;
        for (size_t i = 0; i < set->trial.n_arms; i++)
                total += set->trial.arms[i].weight;
        for (size_t i = 0; i < set->trial.n_arms; i++) {
                acc += set->trial.arms[i].weight;
                if (u * total < acc) {
                        *ret_arm = (int)i;
                        return 0;
                }
        }
        *ret_arm = (int)set->trial.n_arms - 1; /* rounding at the very top */
        return 0;
}

int rules_arms_stratum(const struct rules_set *set, const char *const *values, char *buf,
                       size_t size)
{
        size_t n = 0;

        if (!set || !buf || size == 0)
                return -EINVAL;
        buf[0] = '\0';
        for (size_t i = 0; i < set->trial.n_strata; i++) {
                int f = set->trial.strata[i];
                const char *v = values && f >= 0 && values[f] && *values[f] ? values[f] : "-";
                size_t vl = strlen(v);

                if (n + (i > 0) + vl + 1 > size)
                        return -ENOBUFS;
                if (i > 0)
                        buf[n++] = '/';
                memcpy(buf + n, v, vl + 1);
                n += vl;
        }
        return 0;
}

/* ---- sealed list ---- */

struct sealed_row {
        char *id;
        int arm;
};

struct rules_sealed {
        struct sealed_row *rows;
        size_t n;
};

static int row_cmp(const void *a, const void *b)
{
        return strcmp(((const struct sealed_row *)a)->id, ((const struct sealed_row *)b)->id);
}

struct rules_sealed *rules_arms_sealed_free(struct rules_sealed *sealed)
{
        if (sealed) {
                for (size_t i = 0; i < sealed->n; i++)
                        free(sealed->rows[i].id);
                free(sealed->rows);
                free(sealed);
        }
        return NULL;
}

static char *trimmed(const char *s, size_t len)
{
        while (len && (*s == ' ' || *s == '\t'))
                s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
                len--;
        return strndup(s, len);
}

static int sealed_line(const struct rules_set *set, struct rules_sealed *sl, const char *p,
                       size_t len, unsigned line)
{
        const char *comma = memchr(p, ',', len);
        char *id, *arm;
        int a;

        if (!comma)
                return -EBADMSG;
        id = trimmed(p, (size_t)(comma - p));
        arm = trimmed(comma + 1, len - (size_t)(comma + 1 - p));
        if (!id || !arm) {
                free(id);
                free(arm);
                return -ENOMEM;
        }
        if (line == 1 && strcmp(id, "study_id") == 0 && strcmp(arm, "arm") == 0) {
                free(id);
                free(arm);
                return 0;
        }
        a = rules_arm_find(set, arm);
        free(arm);
        if (!*id || strlen(id) >= RULES_ARMS_UNIT_MAX || a < 0 || sl->n >= RULES_ARMS_SEALED_MAX) {
                free(id);
                return -EBADMSG;
        }
        sl->rows[sl->n++] = (struct sealed_row){ id, a };
        return 0;
}

int rules_arms_sealed_parse(const struct rules_set *set, const char *buf, size_t len,
                            struct rules_sealed **ret_sealed, unsigned *ret_line)
{
        struct rules_sealed *sl;
        size_t lines = 1;
        unsigned line = 0;
        int r = 0;

        if (!set || !set->trial.present || (!buf && len))
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                lines += buf[i] == '\n';
        sl = calloc(1, sizeof(*sl));
        if (!sl || !(sl->rows = calloc(lines, sizeof(*sl->rows)))) {
                free(sl);
                return -ENOMEM;
        }
        for (size_t pos = 0; pos < len && r == 0;) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;

                line++;
                if (!(l == 0 || (l == 1 && buf[pos] == '\r')))
                        r = sealed_line(set, sl, buf + pos, l, line);
                pos += l + 1;
        }
        if (r == 0 && sl->n) {
                qsort(sl->rows, sl->n, sizeof(*sl->rows), row_cmp);
                for (size_t i = 1; i < sl->n && r == 0; i++)
                        if (strcmp(sl->rows[i - 1].id, sl->rows[i].id) == 0) {
                                /* Report the duplicate's second line. */
                                line = 0;
                                r = -EBADMSG;
                                for (size_t pos = 0, ln = 1, seen = 0; pos < len; ln++) {
                                        const char *nl = memchr(buf + pos, '\n', len - pos);
                                        size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;
                                        size_t il = strlen(sl->rows[i].id);
                                        const char *q = buf + pos;

                                        while (l && (*q == ' ' || *q == '\t'))
                                                q++, l--;
                                        if (l > il && memcmp(q, sl->rows[i].id, il) == 0 &&
                                            (q[il] == ',' || q[il] == ' ' || q[il] == '\t') &&
                                            ++seen == 2) {
                                                line = (unsigned)ln;
                                                break;
                                        }
                                        pos = nl ? (size_t)(nl - buf) + 1 : len;
                                }
                        }
        }
        if (r < 0) {
                if (ret_line)
                        *ret_line = line;
                rules_arms_sealed_free(sl);
                return r;
        }
        *ret_sealed = sl;
        return 0;
}

int rules_arms_sealed_lookup(const struct rules_sealed *sealed, const char *study_id)
{
        struct sealed_row key = { (char *)study_id, 0 };
        const struct sealed_row *row;

        if (!sealed || !study_id || sealed->n == 0)
                return -ENOENT;
        row = bsearch(&key, sealed->rows, sealed->n, sizeof(key), row_cmp);
        return row ? row->arm : -ENOENT;
}
