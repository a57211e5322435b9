/* Reading a rules directory for rules_parse(): the *.conf files in the order of their names,
 * and the system's zoneinfo for time zone checks. Used by puentectl rules and puented.
 *
 * Ownership: rules_files_read() fills a struct the caller releases with rules_files_free();
 * the sources point into it. `dir` is borrowed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "rules/parse.h"

#define RULES_FILES_ZONEINFO "/usr/share/zoneinfo"

struct rules_files {
        struct rules_source *src; /* names are "DIR/NAME" */
        size_t n;
        char error[RULES_DIAG_TEXT_MAX]; /* why rules_files_read failed, for people */
};

/* Reads every regular file DIR/NAME.conf (hidden files and editor leftovers such as
 * "x.conf~" are skipped, being not *.conf), sorted by name with strcmp. Returns 0 (an empty
 * directory gives n = 0), or a negative errno with files->error set: -ENOENT/-EACCES/
 * -ENOTDIR for the directory or a file, -EFBIG for a file over RULES_FILE_SIZE_MAX, -E2BIG
 * for more than RULES_FILES_MAX files, -ENOMEM. */
int rules_files_read(const char *dir, struct rules_files *files);
void rules_files_free(struct rules_files *files);

/* For struct rules_parse_opts.zone_exists: whether $TZDIR (default RULES_FILES_ZONEINFO)
 * has a zone file of that name. userdata is unused. */
bool rules_files_zone_exists(void *userdata, const char *zone);
