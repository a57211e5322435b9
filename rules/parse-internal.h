/* rules/parse internals: the parse context, the location scanner, value converters and
 * the per-object converters. Shared by rules/parse*.c only; only they see confuse.h.
 *
 * Ownership: a struct parse_ctx lives for one rules_parse() call; the set under
 * construction and its arena belong to it until handed to the caller. Paths and names
 * passed in are borrowed. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/arena.h"
#include "rules/parse.h"
#include "rules/rules.h"

#define PARSE_PATH_MAX  256 /* "quiz:ahorro/question:q1/choice:a" */
#define PARSE_KEY_MAX   64
#define PARSE_DEPTH_MAX 8

/* ---- the scanner: where each key, section and value is ----------------------------- */

enum scan_kind {
        SCAN_KEY,     /* key = ... */
        SCAN_SECTION, /* key [title] { */
        SCAN_VALUE,   /* one value of the last key (index counts from 0) */
};

struct scan_entry {
        enum scan_kind kind;
        char path[PARSE_PATH_MAX]; /* the enclosing sections, "" at top level */
        char key[PARSE_KEY_MAX];
        char title[PARSE_KEY_MAX]; /* SECTION: its title, "" if none */
        unsigned index;            /* VALUE */
        unsigned line, column;
};

struct scan {
        struct scan_entry *e;
        size_t n, cap;
        /* (kind, path, key, title, index) -> the first such entry: lookups and duplicate
         * checks in constant time (a programme of thousands of keys loads in milliseconds) */
        int32_t *index; /* entry numbers, -1 empty; index_size slots, a power of two */
        size_t index_size;
        unsigned stop_line, stop_column; /* where the syntax broke; 0 when it did not */
        size_t unclosed;       /* 1 + the entry of a section still open at the end; 0 if none */
        const char *open_what; /* "string" or "comment" left open at the end, or NULL */
        unsigned env_line, env_column; /* the first "${" inside double quotes, or 0 */
        unsigned open_line, open_column;
};

/* Scans a file with libconfuse's lexical rules. Tolerant: stops quietly where the syntax
 * breaks (libconfuse reports that). Returns 0 or -ENOMEM. */
int scan_file(const char *text, size_t len, struct scan *ret);
void scan_free(struct scan *s);

/* A child path: "parent/key" or "parent/key:title" (titled). */
void scan_path_join(char *out, size_t size, const char *parent, const char *key, const char *title);

/* ---- the context ------------------------------------------------------------------- */

struct parse_file {
        const char *name; /* in the arena */
        struct scan scan;
        void *cfg; /* cfg_t *, NULL when the file did not parse */
};

struct parse_ctx {
        struct rules_arena *arena;
        struct rules_set *set;
        const struct rules_parse_opts *opts; /* may be NULL */
        /* the set's arrays, writable while they are filled */
        struct rules_field *fields;
        struct rules_clinic *clinics;
        struct rules_slot *slots;
        struct rules_arm *arms;
        struct rules_track *tracks;
        struct rules_reminder *reminders;
        struct rules_quiz *quizzes;
        struct rules_keyword *keywords;
        bool have_settings, have_trial;
        struct rules_diags *diags;
        struct parse_file *files;
        size_t n_files;
        struct parse_file *file; /* the one being converted */
        /* counts while filling the set's arrays */
        size_t n_fields, n_clinics, n_slots, n_arms, n_tracks, n_reminders, n_quizzes, n_keywords;
};

/* A location inside the current file. */
struct parse_where {
        const char *path; /* section path, "" for top level */
        const char *key;  /* NULL: the section at `path` itself */
        int index;        /* value index, -1 for the key */
};

/* Records an error (or warning) at a location. */
void parse_error_at(struct parse_ctx *x, const struct rules_loc *loc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void parse_warning_at(struct parse_ctx *x, const struct rules_loc *loc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void parse_diag_v(struct parse_ctx *x, bool warning, const char *file, unsigned line,
                  unsigned column, const char *fmt, va_list ap);

/* The location of a key, a value of it (index >= 0) or a section (key NULL) of the current
 * file; the section's own location when the key is not written (a default). */
struct rules_loc parse_loc(struct parse_ctx *x, const char *path, const char *key, int index);

/* Schema check of one scanned file: every key and section known, keys and sections not
 * confused, no duplicate key or titled section. Returns the number of errors found. */
unsigned parse_check_schema(struct parse_ctx *x, struct parse_file *f);

/* ---- values (rules/parse-values.c): each returns 0, or reports and returns -EBADMSG --- */

/* "3 days", "-2 weeks", "1 week 3 days", "0"; also "day"/"dia"/"dias"/"semana(s)". */
int parse_days(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               int *ret_days);
/* "30 minutes", "4 hours", "2 days"; >= 0. */
int parse_minutes(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
                  int *ret_minutes);
/* "HH:MM-HH:MM", start != end. */
int parse_window(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
                 int *ret_start, int *ret_end);
/* "mon".."sun", "lun".."dom", full names in English or Spanish; -> bit of tm_wday. */
int parse_day_name(struct parse_ctx *x, const struct rules_loc *loc, const char *s,
                   unsigned *ret_bit);
int parse_uint(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               unsigned max, unsigned *ret);
int parse_bool(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               bool *ret);
/* One of the words in `names` (NULL-terminated), case-insensitive; *ret = its index. */
int parse_enum(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               const char *const *names, int *ret);
/* A name: [a-z0-9_] starting with a letter, at most RULES_NAME_MAX - 1 bytes. */
int parse_name(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s);
/* A word for keywords and answers, normalized into the arena. */
int parse_word(struct parse_ctx *x, const struct rules_loc *loc, const char *s,
               const char **ret_word);

/* ---- libconfuse access (rules/parse-cfg.c) ------------------------------------------ */

extern const char *const parse_languages[]; /* the text sections' keys, NULL-terminated */

/* Parses one file into f->cfg; syntax errors are reported. Returns 0 or -EBADMSG. */
int parse_cfg_file(struct parse_ctx *x, struct parse_file *f, const char *data, size_t len);
void parse_cfg_free(struct parse_file *f);

/* cfg accessors on an opaque section (void * = cfg_t *). */
void *cfg_root(struct parse_file *f);
size_t cfgx_nsec(void *sec, const char *name);
void *cfgx_sec(void *sec, const char *name, size_t i);
const char *cfgx_title(void *sec);
const char *cfgx_str(void *sec, const char *key); /* NULL when not set */
size_t cfgx_nlist(void *sec, const char *key);
const char *cfgx_list(void *sec, const char *key, size_t i);

/* ---- converters ---------------------------------------------------------------------- */

/* Pass 1 (rules/parse-objects.c): settings, fields, clinics, slots, trial, and the names of
 * tracks, quizzes, reminders and keywords (so that pass 2 resolves references across
 * files). */
void parse_pass_declare(struct parse_ctx *x);
/* Pass 2 (rules/parse-flows.c): tracks, reminders, quizzes, keywords in full. */
void parse_pass_define(struct parse_ctx *x);
/* Parts of pass 2: rules/parse-quiz.c, rules/parse-keywords.c. */
void parse_quizzes(struct parse_ctx *x);
void parse_keywords(struct parse_ctx *x);
/* Pass 3 (rules/parse-check.c): texts (placeholders, cost, default language), collisions. */
void parse_pass_check(struct parse_ctx *x);

/* Texts in a "NAME { es = ...; nah = ... }" section under `path` into *ret (arena). */
void parse_texts(struct parse_ctx *x, void *sec, const char *path, const char *key,
                 struct rules_texts *ret);
/* A list of strings (copied into the arena), optionally normalized as words. */
void parse_strings(struct parse_ctx *x, void *sec, const char *path, const char *key, bool words,
                   struct rules_strings *ret);
/* An arm list -> mask; absent -> all arms. */
uint32_t parse_arms(struct parse_ctx *x, void *sec, const char *path, const char *key);
/* A field reference; `type` < 0 for any type. Returns the index or RULES_NONE (reported). */
int parse_field_ref(struct parse_ctx *x, const struct rules_loc *loc, const char *name, int type,
                    const char *what);
/* A section's objects: count over all files, and the section path of one. */
size_t parse_count(struct parse_ctx *x, const char *section);
void parse_path(char *out, const char *section, const char *title);
enum parse_ref_kind { REF_TRACK, REF_QUIZ, REF_SLOT, REF_ARM };
/* A reference to a named object: index or RULES_NONE (reported, with the names declared). */
int parse_ref(struct parse_ctx *x, const struct rules_loc *loc, enum parse_ref_kind kind,
              const char *name);
/* Whether a file that failed to parse (already reported) declares `kind name`: references
 * to it are then not reported again. */
bool parse_declared_in_broken_file(struct parse_ctx *x, const char *kind, const char *name);
/* A string copied into the arena (NULL stays NULL). */
const char *parse_dup(struct parse_ctx *x, const char *s);
