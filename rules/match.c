/* rules/match: reply normalization (case, accents, spaces, punctuation, number words). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rules/match.h"

#define WORD_MAX 64 /* a longer word is kept whole but never a number word */

/* U+00C0..U+017F folded to ASCII; "" drops nothing but separates words. Built from the
 * Unicode names (LATIN CAPITAL LETTER A WITH GRAVE -> a...). */
static const char *const fold_latin[] = {
        /* C0 */ "a",  "a", "a",  "a",  "a", "a", "ae", "c",
        "e",           "e", "e",  "e",  "i", "i", "i",  "i",
        /* D0 */ "d",  "n", "o",  "o",  "o", "o", "o",  NULL,
        "o",           "u", "u",  "u",  "u", "y", "th", "ss",
        /* E0 */ "a",  "a", "a",  "a",  "a", "a", "ae", "c",
        "e",           "e", "e",  "e",  "i", "i", "i",  "i",
        /* F0 */ "d",  "n", "o",  "o",  "o", "o", "o",  NULL,
        "o",           "u", "u",  "u",  "u", "y", "th", "y",
        /* 100 */ "a", "a", "a",  "a",  "a", "a", "c",  "c",
        "c",           "c", "c",  "c",  "c", "c", "d",  "d",
        /* 110 */ "d", "d", "e",  "e",  "e", "e", "e",  "e",
        "e",           "e", "e",  "e",  "g", "g", "g",  "g",
        /* 120 */ "g", "g", "g",  "g",  "h", "h", "h",  "h",
        "i",           "i", "i",  "i",  "i", "i", "i",  "i",
        /* 130 */ "i", "i", "ij", "ij", "j", "j", "k",  "k",
        "k",           "l", "l",  "l",  "l", "l", "l",  "l",
        /* 140 */ "l", "l", "l",  "n",  "n", "n", "n",  "n",
        "n",           "n", "n",  "n",  "o", "o", "o",  "o",
        /* 150 */ "o", "o", "oe", "oe", "r", "r", "r",  "r",
        "r",           "r", "s",  "s",  "s", "s", "s",  "s",
        /* 160 */ "s", "s", "t",  "t",  "t", "t", "t",  "t",
        "u",           "u", "u",  "u",  "u", "u", "u",  "u",
        /* 170 */ "u", "u", "u",  "u",  "w", "w", "y",  "y",
        "y",           "z", "z",  "z",  "z", "z", "z",  "s",
};

/* Number words and ordinals, Spanish and English, as answers to "reply 1, 2 or 3" come. */
static const struct {
        const char *word;
        const char *digits;
} number_words[] = {
        { "cero", "0" },    { "zero", "0" },    { "uno", "1" },     { "una", "1" },
        { "un", "1" },      { "primero", "1" }, { "primera", "1" }, { "primer", "1" },
        { "1o", "1" },      { "1ro", "1" },     { "1er", "1" },     { "1ero", "1" },
        { "one", "1" },     { "first", "1" },   { "1st", "1" },     { "dos", "2" },
        { "segundo", "2" }, { "segunda", "2" }, { "2o", "2" },      { "2do", "2" },
        { "two", "2" },     { "second", "2" },  { "2nd", "2" },     { "tres", "3" },
        { "tercero", "3" }, { "tercera", "3" }, { "tercer", "3" },  { "3o", "3" },
        { "3ro", "3" },     { "3er", "3" },     { "three", "3" },   { "third", "3" },
        { "3rd", "3" },     { "cuatro", "4" },  { "cuarto", "4" },  { "cuarta", "4" },
        { "4o", "4" },      { "4to", "4" },     { "four", "4" },    { "fourth", "4" },
        { "4th", "4" },     { "cinco", "5" },   { "quinto", "5" },  { "quinta", "5" },
        { "5o", "5" },      { "5to", "5" },     { "five", "5" },    { "fifth", "5" },
        { "5th", "5" },     { "seis", "6" },    { "sexto", "6" },   { "sexta", "6" },
        { "6o", "6" },      { "6to", "6" },     { "six", "6" },     { "sixth", "6" },
        { "siete", "7" },   { "septimo", "7" }, { "septima", "7" }, { "7o", "7" },
        { "7mo", "7" },     { "seven", "7" },   { "ocho", "8" },    { "octavo", "8" },
        { "octava", "8" },  { "8o", "8" },      { "8vo", "8" },     { "eight", "8" },
        { "nueve", "9" },   { "noveno", "9" },  { "novena", "9" },  { "9o", "9" },
        { "9no", "9" },     { "nine", "9" },    { "diez", "10" },   { "decimo", "10" },
        { "decima", "10" }, { "10o", "10" },    { "10mo", "10" },   { "ten", "10" },
};

/* Decodes one UTF-8 sequence; returns its length, with *cp = -1 for an invalid byte (the
 * length is then 1, so the caller skips it). */
static size_t utf8_next(const unsigned char *s, size_t len, int32_t *cp)
{
        unsigned char c = s[0];
        size_t n;
        int32_t v, min;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if (c >= 0xC2 && c <= 0xDF)
                n = 2, v = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 3, v = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 4, v = c & 0x07, min = 0x10000;
        else
                goto bad;
        if (n > len)
                goto bad;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        goto bad;
                v = (v << 6) | (s[i] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                goto bad;
        *cp = v;
        return n;
bad:
        *cp = -1;
        return 1;
}

/* What one code point contributes to a word: letters, or NULL for a separator. */
static const char *fold(int32_t cp, char ascii[2])
{
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
                ascii[0] = (char)cp;
                ascii[1] = '\0';
                return ascii;
        }
        if (cp >= 'A' && cp <= 'Z') {
                ascii[0] = (char)(cp - 'A' + 'a');
                ascii[1] = '\0';
                return ascii;
        }
        if (cp == 0xAA) /* feminine ordinal indicator: "1ª" */
                return "a";
        if (cp == 0xBA) /* masculine ordinal indicator: "1º" */
                return "o";
        if (cp >= 0xC0 && cp <= 0x17F)
                return fold_latin[cp - 0xC0];
        return NULL;
}

struct out {
        char *buf;
        size_t size, len;
        bool full;
};

static void emit_word(struct out *o, const char *word, size_t wlen)
{
        if (wlen == 0 || o->full)
                return;
        for (size_t i = 0; i < sizeof(number_words) / sizeof(number_words[0]); i++)
                if (strlen(number_words[i].word) == wlen &&
                    memcmp(number_words[i].word, word, wlen) == 0) {
                        word = number_words[i].digits;
                        wlen = strlen(word);
                        break;
                }
        size_t need = wlen + (o->len ? 1 : 0);

        if (o->len + need >= o->size) {
                o->full = true;
                return;
        }
        if (o->len)
                o->buf[o->len++] = ' ';
        memcpy(o->buf + o->len, word, wlen);
        o->len += wlen;
        o->buf[o->len] = '\0';
}

int rules_match_normalize(const char *in, size_t len, char *out, size_t size)
{
        const unsigned char *s = (const unsigned char *)in;
        struct out o = { .buf = out, .size = size };
        char word[WORD_MAX + 8];
        size_t wlen = 0;

        if (!in || !out || size == 0)
                return -EINVAL;
        out[0] = '\0';
        for (size_t i = 0; i < len;) {
                int32_t cp;
                char ascii[2];
                const char *f;

                i += utf8_next(s + i, len - i, &cp);
                if (cp < 0)
                        continue;
                f = fold(cp, ascii);
                if (f) {
                        size_t flen = strlen(f);

                        if (wlen + flen <= WORD_MAX) {
                                /* word is counted by wlen, never read as a string */
                                // NOLINTNEXTLINE(bugprone-not-null-terminated-result): above
                                memcpy(word + wlen, f, flen);
                                wlen += flen;
                        } /* else: longer than any keyword; the rest of it is cut */
                        continue;
                }
                emit_word(&o, word, wlen);
                wlen = 0;
        }
        emit_word(&o, word, wlen);
        return o.full ? -ENOBUFS : (int)o.len;
}

size_t rules_match_first_word(const char *norm, const char **ret_rest)
{
        const char *sp = strchr(norm, ' ');
        size_t n = sp ? (size_t)(sp - norm) : strlen(norm);

        if (ret_rest)
                *ret_rest = sp ? sp + 1 : norm + n;
        return n;
}

bool rules_match_any(const char *reply, const char *const *words, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (words[i] && strcmp(reply, words[i]) == 0)
                        return true;
        return false;
}

bool rules_match_same(const char *a, const char *b)
{
        char na[RULES_MATCH_TEXT_MAX], nb[RULES_MATCH_TEXT_MAX];

        if (rules_match_normalize(a, strlen(a), na, sizeof(na)) < 0 ||
            rules_match_normalize(b, strlen(b), nb, sizeof(nb)) < 0)
                return false;
        return strcmp(na, nb) == 0;
}

static int read_number(const char *s, size_t *pos, int max_digits, int *ret)
{
        int v = 0, n = 0;

        while (n < max_digits && s[*pos] >= '0' && s[*pos] <= '9') {
                v = v * 10 + (s[*pos] - '0');
                (*pos)++;
                n++;
        }
        if (n == 0 || (s[*pos] >= '0' && s[*pos] <= '9'))
                return -EBADMSG;
        *ret = v;
        return n;
}

static bool is_date_sep(char c)
{
        return c == '/' || c == '-' || c == '.' || c == ' ';
}

static int days_in_month(int y, int m)
{
        static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return 29;
        return days[m - 1];
}

int rules_match_date(const char *s, int *ret_year, int *ret_month, int *ret_day)
{
        size_t pos = 0;
        int d, m, y, ny;

        if (!s)
                return -EINVAL;
        while (s[pos] == ' ')
                pos++;
        if (read_number(s, &pos, 2, &d) < 0 || !is_date_sep(s[pos++]))
                return -EBADMSG;
        if (read_number(s, &pos, 2, &m) < 0 || !is_date_sep(s[pos++]))
                return -EBADMSG;
        ny = read_number(s, &pos, 4, &y);
        if (ny == 2)
                y += 2000;
        else if (ny != 4)
                return -EBADMSG;
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
                return -EBADMSG;
        *ret_year = y;
        *ret_month = m;
        *ret_day = d;
        return (int)pos;
}
