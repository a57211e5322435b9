/* Character sets of the SMS codec: the GSM 7-bit default alphabet with its extension
 * table (3GPP TS 23.038 6.2.1), folding of other characters into it, strict UTF-8,
 * and septet packing (TS 23.038 6.1.2.1).
 *
 * Ownership: all tables are constant and built at compile time; nothing allocates.
 * Every function reads only within the lengths it is given (or up to the NUL of a
 * C string) and writes only into the caller's buffers. All functions are reentrant.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHARSET_GSM7_ESC    0x1B     /* escape to the extension table */
#define CHARSET_UTF8_MAX    4        /* bytes of one UTF-8 encoded code point */
#define CHARSET_FOLD_MAX    3        /* GSM characters a fold may produce ("...", "1/2") */
#define CHARSET_CP_MAX      0x10FFFF /* last Unicode code point */
#define CHARSET_REPLACEMENT 0xFFFD   /* written for a lone UTF-16 surrogate */

/* Reverse tables, built at compile time so encoding needs no search: 0 when absent,
 * CHARSET_REV_BASIC | septet or CHARSET_REV_EXT | septet. Use charset_gsm7_lookup(). */
#define CHARSET_REV_BASIC   0x100
#define CHARSET_REV_EXT     0x200
#define CHARSET_GREEK_FIRST 0x390 /* the Greek capitals of the basic table lie in */
#define CHARSET_GREEK_COUNT 32    /* U+0390-U+03AF */
#define CHARSET_EURO        0x20AC
extern const uint16_t charset_gsm7_rev_latin1[256];
extern const uint16_t charset_gsm7_rev_greek[CHARSET_GREEK_COUNT];

/* Looks code point cp up in GSM 7-bit. Returns 1 with the basic-table septet, 2 with
 * the extension-table septet (sent after CHARSET_GSM7_ESC), or 0 when cp is in
 * neither table. ret_septet is written only when the result is not 0. Inline: the
 * encoder calls it for every character. */
static inline int charset_gsm7_lookup(uint32_t cp, uint8_t *ret_septet)
{
        uint16_t r = 0;

        if (cp < 0x100)
                r = charset_gsm7_rev_latin1[cp];
        else if (cp - CHARSET_GREEK_FIRST < CHARSET_GREEK_COUNT)
                r = charset_gsm7_rev_greek[cp - CHARSET_GREEK_FIRST];
        else if (cp == CHARSET_EURO)
                r = CHARSET_REV_EXT | 0x65;
        if (!r)
                return 0;
        *ret_septet = r & 0x7F;
        return r & CHARSET_REV_EXT ? 2 : 1;
}

/* Code point of a basic-table septet (0-127). The escape septet 0x1B maps to U+00A0
 * (TS 23.038 6.2.1 note 1: shown as a space when no extension follows). */
uint32_t charset_gsm7_basic(uint8_t septet);

/* Code point of an extension-table septet, or 0 when the table has none there
 * (TS 23.038 6.2.1.1: the receiver then shows the basic-table character). */
uint32_t charset_gsm7_ext(uint8_t septet);

/* Transliteration of a code point that GSM 7-bit lacks: a NUL-terminated UTF-8 string
 * of at most CHARSET_FOLD_MAX characters that are all in GSM 7-bit ("a" for U+00E1,
 * "..." for U+2026, "" for invisible characters such as U+200B), or "?" when there is
 * no sensible fold. Never NULL. For characters GSM 7-bit has, the result is
 * unspecified: look them up first. */
const char *charset_fold(uint32_t cp);

/* Decodes one code point from the NUL-terminated UTF-8 string s (which must not be at
 * its NUL). Returns the bytes used (1-4), or -EINVAL for an invalid, overlong or
 * truncated sequence, a surrogate or a value above U+10FFFF. */
int charset_utf8_decode(const char *s, uint32_t *ret_cp);

/* Same, with the ASCII case inline. */
static inline int charset_utf8_next(const char *s, uint32_t *ret_cp)
{
        if ((unsigned char)*s < 0x80) {
                *ret_cp = (unsigned char)*s;
                return 1;
        }
        return charset_utf8_decode(s, ret_cp);
}

/* Writes the UTF-8 form of cp (no NUL) to out, which has room for CHARSET_UTF8_MAX
 * bytes; returns the bytes written. cp must be a valid scalar value. */
size_t charset_utf8_put(uint32_t cp, char *out);

/* Decodes n GSM 7-bit septets to NUL-terminated UTF-8 in out (max bytes, NUL
 * included; max >= 1). Escape sequences follow TS 23.038 6.2.1.1; a trailing lone
 * escape is dropped. Stops early rather than overflow. Returns the bytes written
 * without the NUL. */
size_t charset_gsm7_to_utf8(const uint8_t *septets, size_t n, char *out, size_t max);

/* Packs n septets (each < 128) into out starting at septet position `first`
 * (TS 23.040 9.2.3.24: the septets a UDH occupies plus its fill bits). The octets
 * from first*7/8 up to the last one written must be zero (or hold the UDH and zero
 * fill bits) before the call. */
void charset_septets_pack(const uint8_t *septets, size_t n, size_t first, uint8_t *out);

/* Unpacks n septets starting at septet position `first` from the packed octets in
 * (in_len octets). Septets that would lie past in_len read as 0; callers check lengths
 * before. */
void charset_septets_unpack(const uint8_t *in, size_t in_len, size_t first, size_t n, uint8_t *out);

/* Octets that `septets` septets occupy when packed. */
static inline size_t charset_septets_octets(size_t septets)
{
        return (septets * 7 + 7) / 8;
}
