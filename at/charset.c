/* GSM 7-bit default alphabet, folding into it, UTF-8 and septet packing (TS 23.038). */
#include <errno.h>
#include <string.h>

#include "at/charset.h"

/* TS 23.038 6.2.1: code point of each basic-table septet. 0x1B is the escape; it reads
 * as a no-break space when nothing valid follows it. */
static const uint16_t gsm7_basic_cp[128] = {
        0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A,
        0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9,
        0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020,
        0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B,
        0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036,
        0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1, 0x0041,
        0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C,
        0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
        0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062,
        0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D,
        0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078,
        0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Reverse lookup for U+0000-U+00FF (see charset.h), derived from gsm7_basic_cp and the
 * extension table; test-charset checks every entry against the spec's tables. */
const uint16_t charset_gsm7_rev_latin1[256] = {
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x10A, 0x000, 0x20A,
        0x10D, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x120, 0x121, 0x122, 0x123, 0x102, 0x125, 0x126,
        0x127, 0x128, 0x129, 0x12A, 0x12B, 0x12C, 0x12D, 0x12E, 0x12F, 0x130, 0x131, 0x132, 0x133,
        0x134, 0x135, 0x136, 0x137, 0x138, 0x139, 0x13A, 0x13B, 0x13C, 0x13D, 0x13E, 0x13F, 0x100,
        0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147, 0x148, 0x149, 0x14A, 0x14B, 0x14C, 0x14D,
        0x14E, 0x14F, 0x150, 0x151, 0x152, 0x153, 0x154, 0x155, 0x156, 0x157, 0x158, 0x159, 0x15A,
        0x23C, 0x22F, 0x23E, 0x214, 0x111, 0x000, 0x161, 0x162, 0x163, 0x164, 0x165, 0x166, 0x167,
        0x168, 0x169, 0x16A, 0x16B, 0x16C, 0x16D, 0x16E, 0x16F, 0x170, 0x171, 0x172, 0x173, 0x174,
        0x175, 0x176, 0x177, 0x178, 0x179, 0x17A, 0x228, 0x240, 0x229, 0x23D, 0x000, 0x000, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x140, 0x000, 0x101, 0x124, 0x103, 0x000, 0x15F, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
        0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x160, 0x000, 0x000, 0x000,
        0x000, 0x15B, 0x10E, 0x11C, 0x109, 0x000, 0x11F, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
        0x000, 0x15D, 0x000, 0x000, 0x000, 0x000, 0x15C, 0x000, 0x10B, 0x000, 0x000, 0x000, 0x15E,
        0x000, 0x000, 0x11E, 0x17F, 0x000, 0x000, 0x000, 0x17B, 0x10F, 0x11D, 0x000, 0x104, 0x105,
        0x000, 0x000, 0x107, 0x000, 0x000, 0x000, 0x000, 0x17D, 0x108, 0x000, 0x000, 0x000, 0x17C,
        0x000, 0x10C, 0x106, 0x000, 0x000, 0x17E, 0x000, 0x000, 0x000,
};

/* Reverse lookup for U+0390-U+03AF: the Greek capitals of the basic table. */
const uint16_t charset_gsm7_rev_greek[32] = {
        0x000, 0x000, 0x000, 0x113, 0x110, 0x000, 0x000, 0x000, 0x119, 0x000, 0x000,
        0x114, 0x000, 0x000, 0x11A, 0x000, 0x116, 0x000, 0x000, 0x118, 0x000, 0x000,
        0x112, 0x000, 0x117, 0x115, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
};

#define EURO_SEPTET 0x65

/* TS 23.038 6.2.1.1: the extension table. Every other position is empty. */
static uint32_t ext_cp(uint8_t septet)
{
        switch (septet) {
        case 0x0A:
                return 0x0C; /* form feed (page break) */
        case 0x14:
                return '^';
        case 0x28:
                return '{';
        case 0x29:
                return '}';
        case 0x2F:
                return '\\';
        case 0x3C:
                return '[';
        case 0x3D:
                return '~';
        case 0x3E:
                return ']';
        case 0x40:
                return '|';
        case EURO_SEPTET:
                return CHARSET_EURO;
        default:
                return 0;
        }
}

uint32_t charset_gsm7_basic(uint8_t septet)
{
        return gsm7_basic_cp[septet & 0x7F];
}

uint32_t charset_gsm7_ext(uint8_t septet)
{
        return ext_cp(septet & 0x7F);
}

/* Base letters of Latin Extended-A, U+0100-U+017F; '*' marks the ligatures that
 * fold to two letters (handled in charset_fold()). */
static const char latin_ext_a[129] = "AaAaAaCcCcCcCcDd"
                                     "DdEeEeEeEeEeGgGg"
                                     "GgGgHhHhIiIiIiIi"
                                     "Ii**JjKkkLlLlLlL"
                                     "lLlNnNnNnnNnOoOo"
                                     "Oo**RrRrRrSsSsSs"
                                     "SsTtTtTtUuUuUuUu"
                                     "UuUuWwYyYZzZzZzs";

/* Folds of U+00A0-U+00FF that GSM 7-bit lacks; NULL where the basic table has the
 * character. Spanish á í ó ú Á Í Ó Ú lose their accent (é ñ ü ¿ ¡ are in GSM);
 * ç becomes Ç, which TS 23.038 puts at 0x09 and many phones show as ç. */
static const char *const latin1_fold[96] = {
        " ",  NULL,  "c",  NULL, NULL,  NULL,  "|",   NULL,       /* A0-A7 */
        "\"", "(c)", "a",  "\"", "-",   "",    "(R)", "-",        /* A8-AF */
        "o",  "+-",  "2",  "3",  "'",   "u",   "P",   ".",        /* B0-B7 */
        ",",  "1",   "o",  "\"", "1/4", "1/2", "3/4", NULL,       /* B8-BF */
        "A",  "A",   "A",  "A",  NULL,  NULL,  NULL,  NULL,       /* C0-C7 */
        "E",  NULL,  "E",  "E",  "I",   "I",   "I",   "I",        /* C8-CF */
        "D",  NULL,  "O",  "O",  "O",   "O",   NULL,  "x",        /* D0-D7 */
        NULL, "U",   "U",  "U",  NULL,  "Y",   "Th",  NULL,       /* D8-DF */
        NULL, "a",   "a",  "a",  NULL,  NULL,  NULL,  "\xc3\x87", /* E0-E7 */
        NULL, NULL,  "e",  "e",  NULL,  "i",   "i",   "i",        /* E8-EF */
        "d",  NULL,  NULL, "o",  "o",   "o",   NULL,  "/",        /* F0-F7 */
        NULL, NULL,  "u",  "u",  NULL,  "y",   "th",  "y",        /* F8-FF */
};

/* One string per base letter, so charset_fold() can return a pointer for it. */
static const char letters[] = "A\0B\0C\0D\0E\0F\0G\0H\0I\0J\0K\0L\0M\0N\0O\0P\0Q\0R\0S\0T\0"
                              "U\0V\0W\0X\0Y\0Z\0a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0l\0m\0"
                              "n\0o\0p\0q\0r\0s\0t\0u\0v\0w\0x\0y\0z";

/* "?" for anything else: latin_ext_a's '*' entries are folded in charset_fold() first. */
static const char *letter(char c)
{
        if (c >= 'A' && c <= 'Z')
                return letters + 2 * (c - 'A');
        if (c >= 'a' && c <= 'z')
                return letters + 2 * (26 + c - 'a');
        return "?";
}

/* Typographic punctuation and invisible characters that text editors and phones put
 * in messages written elsewhere (word processors, web forms). */
static const char *fold_punct(uint32_t cp)
{
        switch (cp) {
        case 0x09:              /* tab */
        case 0x2002 ... 0x200A: /* en, em, thin... spaces */
        case 0x202F:            /* narrow no-break space */
        case 0x3000:            /* ideographic space */
                return " ";
        case 0x200B ... 0x200D: /* zero-width space, joiners */
        case 0x2060:            /* word joiner */
        case 0xFE0E ... 0xFE0F: /* variation selectors after emoji */
        case 0xFEFF:            /* byte order mark */
                return "";
        case '`':
        case 0x2018 ... 0x201B: /* single quotes */
        case 0x2032:            /* prime */
        case 0x02BC:            /* modifier apostrophe */
                return "'";
        case 0x201C ... 0x201F: /* double quotes */
        case 0x2033:            /* double prime */
                return "\"";
        case 0x2010 ... 0x2015: /* hyphens and dashes */
        case 0x2212:            /* minus sign */
                return "-";
        case 0x2026:
                return "...";
        case 0x2022: /* bullet */
                return "*";
        case 0x2039:
                return "<";
        case 0x203A:
                return ">";
        case 0x2122:
                return "TM";
        case 0x02C6:
                return "^";
        case 0x02DC:
                return "~";
        case 0x0218:
        case 0x021A:
                return cp == 0x0218 ? "S" : "T"; /* Romanian comma-below letters */
        case 0x0219:
        case 0x021B:
                return cp == 0x0219 ? "s" : "t";
        default:
                return "?";
        }
}

const char *charset_fold(uint32_t cp)
{
        if (cp >= 0xA0 && cp < 0x100) {
                const char *f = latin1_fold[cp - 0xA0];
                return f ? f : "?";
        }
        if (cp >= 0x100 && cp < 0x180) {
                switch (cp) {
                case 0x132:
                        return "IJ";
                case 0x133:
                        return "ij";
                case 0x152:
                        return "OE";
                case 0x153:
                        return "oe";
                default:
                        return letter(latin_ext_a[cp - 0x100]);
                }
        }
        return fold_punct(cp);
}

int charset_utf8_decode(const char *s, uint32_t *ret_cp)
{
        const unsigned char *u = (const unsigned char *)s;
        uint32_t cp;
        int n;

        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if (u[0] < 0xC2) /* continuation byte, or overlong 2-byte lead */
                return -EINVAL;
        if (u[0] < 0xE0) {
                n = 2;
                cp = u[0] & 0x1F;
        } else if (u[0] < 0xF0) {
                n = 3;
                cp = u[0] & 0x0F;
        } else if (u[0] < 0xF5) {
                n = 4;
                cp = u[0] & 0x07;
        } else {
                return -EINVAL;
        }
        /* A NUL fails the continuation test, so we never read past the string. */
        for (int i = 1; i < n; i++) {
                if ((u[i] & 0xC0) != 0x80)
                        return -EINVAL;
                cp = cp << 6 | (u[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > CHARSET_CP_MAX ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return -EINVAL;
        *ret_cp = cp;
        return n;
}

size_t charset_utf8_put(uint32_t cp, char *out)
{
        unsigned char *o = (unsigned char *)out;

        if (cp < 0x80) {
                o[0] = cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = 0xC0 | cp >> 6;
                o[1] = 0x80 | (cp & 0x3F);
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = 0xE0 | cp >> 12;
                o[1] = 0x80 | (cp >> 6 & 0x3F);
                o[2] = 0x80 | (cp & 0x3F);
                return 3;
        }
        o[0] = 0xF0 | cp >> 18;
        o[1] = 0x80 | (cp >> 12 & 0x3F);
        o[2] = 0x80 | (cp >> 6 & 0x3F);
        o[3] = 0x80 | (cp & 0x3F);
        return 4;
}

size_t charset_gsm7_to_utf8(const uint8_t *septets, size_t n, char *out, size_t max)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                uint8_t s = septets[i] & 0x7F;
                uint32_t cp;

                if (s == CHARSET_GSM7_ESC) {
                        if (i + 1 == n)
                                break; /* nothing follows: drop it */
                        s = septets[++i] & 0x7F;
                        /* TS 23.038 6.2.1.1: an undefined extension shows the basic
                         * character; ESC ESC (reserved for another table) a space. */
                        cp = s == CHARSET_GSM7_ESC ? ' ' : ext_cp(s);
                        if (!cp)
                                cp = gsm7_basic_cp[s];
                } else {
                        cp = gsm7_basic_cp[s];
                }
                if (o + (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3) >= max)
                        break; /* keep room for the NUL */
                if (cp < 0x80)
                        out[o++] = cp;
                else
                        o += charset_utf8_put(cp, out + o);
        }
        out[o] = '\0';
        return o;
}

void charset_septets_pack(const uint8_t *septets, size_t n, size_t first, uint8_t *out)
{
        size_t bit = first * 7;

        for (size_t i = 0; i < n; i++, bit += 7) {
                unsigned v = (unsigned)(septets[i] & 0x7F) << (bit & 7);

                out[bit >> 3] |= v & 0xFF;
                if ((bit & 7) > 1)
                        out[(bit >> 3) + 1] |= v >> 8;
        }
}

void charset_septets_unpack(const uint8_t *in, size_t in_len, size_t first, size_t n, uint8_t *out)
{
        size_t bit = first * 7;

        for (size_t i = 0; i < n; i++, bit += 7) {
                size_t o = bit >> 3;
                unsigned v = o < in_len ? in[o] : 0;

                if (o + 1 < in_len)
                        v |= (unsigned)in[o + 1] << 8;
                out[i] = (v >> (bit & 7)) & 0x7F;
        }
}
