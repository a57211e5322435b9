/* rules/template: message templates with {placeholders}: the names a template uses, its
 * worst-case length and SMS cost (checked at load), and rendering (done by the engine).
 *
 * Syntax: "{name}" is replaced by a value; "{{" and "}}" are literal braces; a placeholder
 * name is [a-z0-9_]+. "{name|text}" has a fallback: the text (any characters but braces, at
 * most RULES_TEMPLATE_FALLBACK_MAX bytes, may be empty) is rendered when name has no value,
 * so that a contact who enrolled by SMS with no name still gets "Hola amiga". Which names exist,
 * and their longest values, is the caller's business (rules/parse decides from the fields and the
 * context; the engine supplies the values). Pure: no allocation, no I/O.
 *
 * Ownership: every argument is borrowed for the call. Callbacks are called synchronously
 * and must not re-enter the same template call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RULES_TEMPLATE_NAME_MAX     64   /* bytes of a placeholder name */
#define RULES_TEMPLATE_OUT_MAX      2400 /* bytes of a rendered message (15 UCS-2 parts) */
#define RULES_TEMPLATE_WORST_MAX    4800 /* bytes of the worst-case rendering checked */
#define RULES_TEMPLATE_FALLBACK_MAX 60   /* bytes of a placeholder's fallback text */

/* Called for each placeholder: name is not NUL-terminated (name_len bytes, offset its
 * byte offset in the template); fallback is its fallback text (fallback_len bytes, not
 * NUL-terminated), NULL when it has none. Return 0 to go on, a negative errno to stop. */
typedef int (*rules_template_visit_fn)(void *userdata, const char *name, size_t name_len,
                                       size_t offset, const char *fallback, size_t fallback_len);

/* Calls visit for each placeholder in order. Returns 0, visit's error, or -EBADMSG for a
 * lone "{" or "}", an empty or bad name, a fallback with a brace or over
 * RULES_TEMPLATE_FALLBACK_MAX, writing its byte offset to *ret_error_offset (which may be
 * NULL). */
int rules_template_walk(const char *tmpl, rules_template_visit_fn visit, void *userdata,
                        size_t *ret_error_offset);

/* The value of one placeholder: *ret_value (UTF-8, not necessarily NUL-terminated) and
 * *ret_len. Return 0, -ENOENT (rendering fails), or another negative errno. */
typedef int (*rules_template_lookup_fn)(void *userdata, const char *name, size_t name_len,
                                        const char **ret_value, size_t *ret_len);

/* Renders tmpl into out (size bytes, NUL-terminated). A placeholder whose lookup returns
 * -ENOENT renders its fallback when it has one, else `missing` when not NULL (an alert to
 * staff must go out even with a hole in it), else rendering fails. Returns the length,
 * lookup's error, -EBADMSG for bad syntax, or -ENOBUFS when out is too small. */
int rules_template_render(const char *tmpl, rules_template_lookup_fn lookup, void *userdata,
                          const char *missing, char *out, size_t size);

/* The worst case of a template: each placeholder replaced by the longest value it can
 * have, as width_fn tells: `width` characters of one septet each ('x'), or, when
 * `unicode`, of a character outside GSM 7-bit (U+015B, which forces UCS-2 unless
 * transliterated). Text from the technician is costed as written. A placeholder with a
 * fallback costs its fallback padded to `width` characters: at least as much as either. */
typedef int (*rules_template_width_fn)(void *userdata, const char *name, size_t name_len,
                                       unsigned *ret_width, bool *ret_unicode);

struct rules_template_cost {
        unsigned chars; /* characters (code points) of the worst-case rendering */
        unsigned parts; /* SMS parts (at/pdu.h sms_text_analyze) */
        bool ucs2;      /* the worst case needs UCS-2 */
};

/* Computes the worst-case cost; translit as the bank sends (at/pdu.h). Returns 0,
 * width_fn's error, -EBADMSG for bad syntax or invalid UTF-8, -E2BIG when the worst case
 * exceeds RULES_TEMPLATE_WORST_MAX bytes (then it is over any sensible budget). */
int rules_template_cost(const char *tmpl, rules_template_width_fn width_fn, void *userdata,
                        bool translit, struct rules_template_cost *ret_cost);
