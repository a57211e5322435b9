/* Internal to at/parse*.c: splits an AT response line into its comma-separated fields.
 *
 * Fields borrow the line: p points into it and is not NUL-terminated. Quotes and the
 * parentheses of a test-form list are stripped, and commas inside them do not split.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at/parse.h"

#define AT_FIELDS_MAX 16 /* fields in one response line (+CPMS has 9) */

struct at_field {
        const char *p;
        size_t len;
        bool quoted; /* was in "..." */
        bool list;   /* was in (...) */
};

/* Checks the line starts with prefix, then splits the rest. Returns 0 with *ret_n >= 1
 * (an empty rest is one empty field), -EBADMSG (wrong prefix, unbalanced quote or
 * parenthesis, more than max fields). */
int at_fields_split(const char *line, const char *prefix, struct at_field *f, size_t max,
                    size_t *ret_n);

/* Decimal integer with optional sign; -ENODATA if the field is empty, -EBADMSG if not a
 * number or outside int. */
int at_field_int(const struct at_field *f, int *ret);
/* Hexadecimal (lac, ci); -ENODATA if empty, -EBADMSG otherwise wrong. */
int at_field_hex(const struct at_field *f, long *ret);
/* Copies the field as a NUL-terminated string; -ENOBUFS if it does not fit. */
int at_field_str(const struct at_field *f, char *buf, size_t size);
/* A list "0-2,4" (inside parentheses or not) into ranges; -EBADMSG, -ENOBUFS. */
int at_field_ranges(const struct at_field *f, struct at_ranges *ret);
/* The same list as bits 0-31 (values above 31 are ignored). */
int at_field_bits(const struct at_field *f, uint32_t *ret);
/* Case-insensitive comparison of the field with a word. */
bool at_field_is(const struct at_field *f, const char *word);
