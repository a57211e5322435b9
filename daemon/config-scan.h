/* A line index of a configuration file: where each key and section is, so that errors found
 * after libconfuse has parsed the file name the right line (libconfuse keeps only the line
 * of its look-ahead token, often the next key's). Used by daemon/config.c only.
 *
 * The scanner follows libconfuse's lexical rules (comments #, // and / * * /, "..." and '...'
 * strings, unquoted words, = += { } ( ) ,) but is tolerant: on input libconfuse would refuse
 * it still indexes what it can, and never fails except for memory.
 *
 * Ownership: config_scan() fills a struct the caller releases with config_scan_free(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_SCAN_KEY_MAX   64
#define CONFIG_SCAN_TITLE_MAX 256
#define CONFIG_SCAN_DEPTH_MAX 8 /* deeper nesting is indexed as depth 8 */

struct config_scan_entry {
        unsigned depth;  /* 0 for top-level keys and sections */
        bool is_section; /* "key [title] {" rather than "key = value" */
        bool titled;
        bool stray; /* a word or string where a key was expected: not libconfuse syntax */
        char section[CONFIG_SCAN_KEY_MAX]; /* the enclosing top-level section; "" at depth 0 */
        char title[CONFIG_SCAN_TITLE_MAX]; /* its title (or this section's, at depth 0) */
        char key[CONFIG_SCAN_KEY_MAX];
        unsigned line;
};

struct config_scan {
        struct config_scan_entry *e;
        size_t n, cap;
        unsigned unclosed_line; /* a section still open at the end of the file, or 0 */
};

/* Indexes `text` (len bytes, need not be NUL-terminated). Returns 0 or -ENOMEM. */
int config_scan(const char *text, size_t len, struct config_scan *ret);
void config_scan_free(struct config_scan *s);

/* The line of the last `key` inside top-level section `section` titled `title` (both "" for
 * a top-level key; title "" for an untitled section); 0 when not found. */
unsigned config_scan_line(const struct config_scan *s, const char *section, const char *title,
                          const char *key);

/* The line of the last top-level section `name` with this title ("" if untitled); 0 if none.
 * *ret_first (may be NULL) gets the line of the first such section, to name duplicates. */
unsigned config_scan_section_line(const struct config_scan *s, const char *name, const char *title,
                                  unsigned *ret_first);

/* The line of the last occurrence of `key` at any depth on or before line `before`. */
unsigned config_scan_key_before(const struct config_scan *s, const char *key, unsigned before);
