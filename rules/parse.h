/* rules/parse: rule files (libconfuse syntax, docs/rules.md) -> a validated struct rules_set,
 * with every error and warning at once as FILE:LINE:COLUMN: what, and what was expected.
 *
 * I/O-free: the caller reads the files (daemon/rules-files.h reads a directory) and hands
 * their bytes here, in the order of their names. No include(), no environment: a rule set is
 * what its bytes say, which is what its content hash promises.
 *
 * Columns: libconfuse only knows lines, so the parser also scans each file with the same
 * lexical rules (rules/parse-scan.c) and records where every key, section and value starts;
 * a message about a value points at its first character, counted in characters (UTF-8 code
 * points, a tab is one) from 1.
 *
 * Ownership: rules_parse() returns a set the caller frees with rules_free(); the sources are
 * borrowed for the call. Diagnostics are appended to a struct rules_diags the caller
 * zero-initializes and frees with rules_diags_free(). Not reentrant across threads at once
 * for the same diags; libconfuse's error callback has no user pointer, so a thread-local one
 * stands in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "rules/rules.h"

#define RULES_FILES_MAX     256           /* *.conf files in a rules directory */
#define RULES_FILE_SIZE_MAX (1024 * 1024) /* larger files are refused unread */
#define RULES_DIAGS_MAX     500           /* kept with their text; more only counted */
#define RULES_DIAG_TEXT_MAX 320
#define RULES_DIAG_FILE_MAX 256
#define RULES_DEFAULT_DIR   "/etc/puente/rules.d"

struct rules_source {
        const char *name; /* shown in messages and hashed: "rules.d/10-programa.conf" */
        const char *data; /* the file's bytes; need not be NUL-terminated */
        size_t len;
};

struct rules_diag {
        bool warning; /* a cost warning: printed, but the set loads */
        char file[RULES_DIAG_FILE_MAX];
        unsigned file_index;   /* its position among the sources, for sorting */
        unsigned line, column; /* from 1; 0 = unknown (a message about the whole set) */
        char text[RULES_DIAG_TEXT_MAX];
};

struct rules_diags {
        struct rules_diag *v; /* sorted by file order, line, column once rules_parse returns */
        size_t n, cap;
        size_t n_errors, n_warnings; /* all of them, also those past RULES_DIAGS_MAX */
};

/* What only the caller can check (the core does no I/O). May be NULL. */
struct rules_parse_opts {
        /* Whether an IANA time zone exists (the daemon looks in /usr/share/zoneinfo). NULL:
         * zone names are only checked for their form. */
        bool (*zone_exists)(void *userdata, const char *zone);
        void *userdata;
};

/* Parses and checks n files. On success (no error; warnings allowed) writes *ret_set and
 * returns 0. Returns -EBADMSG when the files have errors (all in diags, nothing in
 * *ret_set), -EINVAL for bad arguments (more than RULES_FILES_MAX files), -ENOMEM. */
int rules_parse(const struct rules_source *files, size_t n, const struct rules_parse_opts *opts,
                struct rules_diags *diags, struct rules_set **ret_set);

/* "FILE:LINE:COLUMN: TEXT" ("warning: " before TEXT for warnings; FILE:LINE: when the
 * column is unknown; TEXT alone for the whole set) into buf. Returns snprintf's value. */
int rules_diag_format(const struct rules_diag *d, char *buf, size_t size);

void rules_diags_free(struct rules_diags *diags);
