/* rules/match: normalization of replies, keywords and answers, so that "Sí", " si ", "SI!"
 * and "1"/"uno"/"a"/"primero" compare as the technician meant. Pure: no allocation.
 *
 * Normal form: lower case ASCII letters and digits, single spaces between words, no
 * leading or trailing space. Accents are removed (á -> a, ñ -> n, ü -> u), punctuation
 * and symbols become spaces, and a word that is a number word or ordinal ("uno",
 * "primero", "1ro", "1o", "one", "first") becomes its digits. Letters alone stay letters:
 * "a" is "a", so a quiz lists "1", "a" and "uno" as answers if it accepts all three. Other
 * characters outside Latin-1 and Latin Extended-A (emoji, symbols) separate words.
 *
 * Ownership: every argument is borrowed for the call; out buffers belong to the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RULES_MATCH_TEXT_MAX 480 /* bytes: a buffer for one normalized reply */

/* Normalizes UTF-8 `in` (len bytes, need not be NUL-terminated) into out (size bytes,
 * NUL-terminated). Invalid UTF-8 bytes are dropped. Returns the length written, or
 * -ENOBUFS when size is too small for the whole normal form (out then holds as many whole
 * words as fit), -EINVAL for NULL arguments or size 0. */
int rules_match_normalize(const char *in, size_t len, char *out, size_t size);

/* The first word of a normalized text: its length, and *ret_rest the rest after one
 * space (or the end). */
size_t rules_match_first_word(const char *norm, const char **ret_rest);

/* Whether normalized `reply` equals any of the normalized `words` (n of them). */
bool rules_match_any(const char *reply, const char *const *words, size_t n);

/* Whether two raw texts have the same normal form (what duplicate checks use). */
bool rules_match_same(const char *a, const char *b);

/* Reads a date written dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy or dd.mm.yyyy (also two-digit
 * years, taken as 20yy) from the start of s. Writes year, month and day on success.
 * Returns the bytes used, or -EBADMSG (not a valid calendar date). */
int rules_match_date(const char *s, int *ret_year, int *ret_month, int *ret_day);
