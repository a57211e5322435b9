/* E.164 normalization with a default country; see phone.h for what is accepted. */
#include "at/phone.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NANP_CC          1
#define NANP_NSN_DIGITS  10
#define GENERIC_TRUNK    '0' /* the trunk prefix of most of the world (ITU-T E.164 Annex) */
#define CC_DIGITS_MAX    3
#define MX_MOBILE_PREFIX "1" /* +52 1 XXXXXXXXXX before the 2019 reform */

struct country {
        const char *iso;
        unsigned cc;
};

/* ISO 3166-1 alpha-2 -> ITU-T E.164 country code: Latin America first, then the countries
 * of the partner sites. */
static const struct country countries[] = {
        { "MX", 52 },  { "US", 1 },   { "CA", 1 },   { "GT", 502 }, { "SV", 503 }, { "HN", 504 },
        { "NI", 505 }, { "CR", 506 }, { "PA", 507 }, { "CU", 53 },  { "DO", 1 },   { "PR", 1 },
        { "CO", 57 },  { "VE", 58 },  { "EC", 593 }, { "PE", 51 },  { "BO", 591 }, { "CL", 56 },
        { "AR", 54 },  { "UY", 598 }, { "PY", 595 }, { "BR", 55 },  { "ES", 34 },  { "PT", 351 },
        { "FR", 33 },  { "DE", 49 },  { "GB", 44 },  { "IT", 39 },  { "IN", 91 },  { "BD", 880 },
        { "KE", 254 }, { "UG", 256 }, { "TZ", 255 }, { "RW", 250 }, { "NG", 234 }, { "GH", 233 },
        { "ZA", 27 },  { "MZ", 258 }, { "MW", 265 }, { "ZM", 260 }, { "ZW", 263 }, { "ET", 251 },
        { "PH", 63 },  { "ID", 62 },  { "VN", 84 },  { "HT", 509 }, { "NU", 683 },
};

/* The country codes of one and two digits in ITU-T E.164's list of assigned codes; every
 * other code has three digits and, codes being prefix-free, starts with none of these. */
static const unsigned short short_ccs[] = {
        1,  7,  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53,
        54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
};

bool phone_cc_valid(unsigned cc)
{
        if (cc == 0 || cc > PHONE_CC_MAX)
                return false;
        for (size_t i = 0; i < sizeof(short_ccs) / sizeof(short_ccs[0]); i++) {
                unsigned s = short_ccs[i];

                if (cc == s)
                        return true;
                if ((s < 10 && (cc / 10 == s || cc / 100 == s)) || (cc >= 100 && cc / 10 == s))
                        return false; /* under a shorter code */
        }
        return cc >= 100;
}

static int fail(enum phone_problem p, enum phone_problem *problem)
{
        if (problem)
                *problem = p;
        return -EINVAL;
}

static bool is_separator(char c)
{
        return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')';
}

static bool is_letter(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
        size_t k = strlen(prefix);
        return n >= k && memcmp(s, prefix, k) == 0;
}

/* Keeps the digits of `input`; says whether it began with '+'. */
static enum phone_problem collect_digits(const char *input, char *digits, size_t *ret_n,
                                         bool *ret_plus)
{
        bool plus = false, any = false;
        size_t n = 0;

        for (const char *p = input; *p; p++) {
                if (*p >= '0' && *p <= '9') {
                        digits[n++] = *p;
                        any = true;
                } else if (*p == '+') {
                        if (any || plus)
                                return PHONE_MISPLACED_PLUS;
                        plus = true;
                } else if (is_letter(*p)) {
                        return PHONE_LETTER;
                } else if (!is_separator(*p)) {
                        return PHONE_BAD_CHAR;
                }
        }
        if (n == 0)
                return PHONE_EMPTY;
        *ret_n = n;
        *ret_plus = plus;
        return PHONE_OK;
}

static unsigned digits_of(unsigned cc)
{
        return cc >= 100 ? 3 : cc >= 10 ? 2 : 1;
}

/* Checks a national significant number against what its country allows. */
static enum phone_problem check_nsn(unsigned cc, size_t nsn_len)
{
        size_t total = digits_of(cc) + nsn_len;

        if (cc == PHONE_MX_CC || cc == NANP_CC) {
                size_t want = cc == PHONE_MX_CC ? PHONE_MX_NSN_DIGITS : NANP_NSN_DIGITS;
                if (nsn_len < want)
                        return PHONE_TOO_SHORT;
                if (nsn_len > want)
                        return PHONE_TOO_LONG;
                return PHONE_OK;
        }
        if (total > PHONE_E164_DIGITS_MAX)
                return PHONE_TOO_LONG;
        if (total < PHONE_E164_DIGITS_MIN)
                return PHONE_TOO_SHORT;
        return PHONE_OK;
}

static int emit(unsigned cc, const char *nsn, size_t nsn_len, char *ret_e164,
                enum phone_problem *problem)
{
        enum phone_problem p = check_nsn(cc, nsn_len);
        char out[PHONE_E164_MAX];
        int k;

        if (p != PHONE_OK)
                return fail(p, problem);
        k = snprintf(out, sizeof(out), "+%u%.*s", cc, (int)nsn_len, nsn);
        if (k < 0 || (size_t)k >= sizeof(out))
                return fail(PHONE_TOO_LONG, problem);
        memcpy(ret_e164, out, (size_t)k + 1);
        if (problem)
                *problem = PHONE_OK;
        return 0;
}

/* International digits (after '+' or "00"): country code then national number. Only the
 * countries with known rules are split; for the others the digits are kept whole. */
static int international(const char *d, size_t n, char *ret_e164, enum phone_problem *problem)
{
        if (n == 0)
                return fail(PHONE_EMPTY, problem);
        if (d[0] == '0')
                return fail(PHONE_BAD_COUNTRY, problem);
        if (starts_with(d, n, "52")) {
                d += 2, n -= 2;
                if (n == PHONE_MX_NSN_DIGITS + 1 && starts_with(d, n, MX_MOBILE_PREFIX))
                        d++, n--;
                return emit(PHONE_MX_CC, d, n, ret_e164, problem);
        }
        if (d[0] == '1')
                return emit(NANP_CC, d + 1, n - 1, ret_e164, problem);
        if (n > PHONE_E164_DIGITS_MAX)
                return fail(PHONE_TOO_LONG, problem);
        if (n < PHONE_E164_DIGITS_MIN)
                return fail(PHONE_TOO_SHORT, problem);
        /* Split as cc "d[0]" + rest: emit() prints them back together unchanged. */
        return emit((unsigned)(d[0] - '0'), d + 1, n - 1, ret_e164, problem);
}

static int national_mx(const char *d, size_t n, char *ret_e164, enum phone_problem *problem)
{
        /* Spreadsheets often drop the '+': only the length tells 52XXXXXXXXXX from a
         * national number, which is always 10 digits. */
        if ((n == PHONE_MX_NSN_DIGITS + 2 && starts_with(d, n, "52")) ||
            (n == PHONE_MX_NSN_DIGITS + 3 && starts_with(d, n, "521")))
                return international(d, n, ret_e164, problem);
        if (n == PHONE_MX_NSN_DIGITS + 3 && (starts_with(d, n, "044") || starts_with(d, n, "045")))
                d += 3, n -= 3;
        else if (n == PHONE_MX_NSN_DIGITS + 2 && starts_with(d, n, "01"))
                d += 2, n -= 2;
        return emit(PHONE_MX_CC, d, n, ret_e164, problem);
}

int phone_normalize(const char *input, unsigned default_cc, char ret_e164[PHONE_E164_MAX],
                    enum phone_problem *problem)
{
        char digits[PHONE_INPUT_MAX];
        enum phone_problem p;
        size_t n = 0;
        bool plus = false;

        /* A code that is not one would put national numbers under another country's
         * code: with 115, "5551234" became +1 155 555 1234, a NANP number. */
        if (!phone_cc_valid(default_cc))
                return fail(PHONE_BAD_COUNTRY, problem);
        if (!input || strnlen(input, PHONE_INPUT_MAX + 1) > PHONE_INPUT_MAX)
                return fail(input ? PHONE_INPUT_TOO_LONG : PHONE_EMPTY, problem);
        p = collect_digits(input, digits, &n, &plus);
        if (p != PHONE_OK)
                return fail(p, problem);
        if (plus)
                return international(digits, n, ret_e164, problem);
        if (starts_with(digits, n, "00"))
                return international(digits + 2, n - 2, ret_e164, problem);
        if (default_cc == PHONE_MX_CC)
                return national_mx(digits, n, ret_e164, problem);
        if (default_cc == NANP_CC) {
                if (n == NANP_NSN_DIGITS + 1 && digits[0] == '1')
                        return emit(NANP_CC, digits + 1, n - 1, ret_e164, problem);
                return emit(NANP_CC, digits, n, ret_e164, problem);
        }
        if (digits[0] == GENERIC_TRUNK)
                return emit(default_cc, digits + 1, n - 1, ret_e164, problem);
        return emit(default_cc, digits, n, ret_e164, problem);
}

const char *phone_problem_str(enum phone_problem problem)
{
        switch (problem) {
        case PHONE_OK:
                return "valid";
        case PHONE_EMPTY:
                return "has no digits";
        case PHONE_LETTER:
                return "contains a letter";
        case PHONE_BAD_CHAR:
                return "contains a character other than digits, spaces, '-', '.', '(', ')'";
        case PHONE_MISPLACED_PLUS:
                return "has a '+' that is not the first character";
        case PHONE_BAD_COUNTRY:
                return "has no valid country calling code";
        case PHONE_TOO_SHORT:
                return "is too short for its country";
        case PHONE_TOO_LONG:
                return "is too long (E.164 allows 15 digits; Mexico 52 + 10)";
        case PHONE_INPUT_TOO_LONG:
                return "is longer than 64 characters";
        }
        return "is invalid";
}

int phone_country_code(const char *iso, unsigned *ret_cc)
{
        if (!iso || strlen(iso) != 2)
                return -ENOENT;
        for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++) {
                if ((countries[i].iso[0] == (iso[0] & ~0x20)) &&
                    (countries[i].iso[1] == (iso[1] & ~0x20))) {
                        *ret_cc = countries[i].cc;
                        return 0;
                }
        }
        return -ENOENT;
}
