/* rules/arena: the one allocation a struct rules_set owns; private to rules/.
 *
 * Ownership: an arena owns every block it handed out; rules_arena_free() releases them
 * all at once. Blocks are zeroed and aligned for any type. Not thread-safe. */
#pragma once

#include <stddef.h>

#define RULES_ARENA_CHUNK (64 * 1024) /* a typical programme fits in a few chunks */

struct rules_arena;

/* A new empty arena, or NULL when out of memory. */
struct rules_arena *rules_arena_new(void);

/* NULL is fine. Returns NULL. */
struct rules_arena *rules_arena_free(struct rules_arena *arena);

/* n zeroed bytes, or NULL when out of memory (n == 0 gives a valid unique pointer). */
void *rules_arena_alloc(struct rules_arena *arena, size_t n);

/* n elements of size each, zeroed; NULL on overflow or out of memory. */
void *rules_arena_array(struct rules_arena *arena, size_t n, size_t size);

/* A copy of s (len bytes, NUL added), or NULL when out of memory. */
char *rules_arena_strndup(struct rules_arena *arena, const char *s, size_t len);
char *rules_arena_strdup(struct rules_arena *arena, const char *s);
