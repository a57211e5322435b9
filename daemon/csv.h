/* daemon/csv: an RFC 4180 reader for contact imports and sealed lists: quoted fields with
 * "" escapes and line breaks, CRLF or LF records, an optional UTF-8 byte order mark. Strict
 * where a lenient reader would guess: a quote inside an unquoted field, text after a closing
 * quote, an unterminated quote, a NUL byte, invalid UTF-8 and over-long fields are errors
 * naming the line and column.
 *
 * Ownership: the input is borrowed; the row callback gets fields that live until it returns
 * (copy what you keep). It must not call csv_parse() on the same reader. */
#pragma once

#include <stddef.h>

#define CSV_FIELDS_MAX 64   /* columns of one record */
#define CSV_FIELD_MAX  1024 /* bytes of one field */
#define CSV_ERROR_MAX  128

struct csv_error {
        unsigned line;   /* from 1: where the error is */
        unsigned column; /* from 1, in bytes */
        char what[CSV_ERROR_MAX];
};

/* Called per record with its first line's number. Return 0 to go on, a negative errno to
 * stop (csv_parse() returns it). */
typedef int (*csv_row_fn)(void *userdata, unsigned line, const char *const *fields, size_t n);

/* Parses buf (len bytes). 0, the callback's error, or -EBADMSG with *ret_error filled
 * (may be NULL), -ENOMEM. Blank lines are skipped. */
int csv_parse(const char *buf, size_t len, csv_row_fn fn, void *userdata,
              struct csv_error *ret_error);

/* Writes one field to out (size bytes) quoted if it needs it; returns the length, or
 * -ENOBUFS. */
int csv_quote(const char *field, char *out, size_t size);
