/* rules/arena: chunked bump allocation for a rule set. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/arena.h"

struct rules_chunk {
        struct rules_chunk *next;
        size_t size, used;
        alignas(max_align_t) unsigned char data[];
};

struct rules_arena {
        struct rules_chunk *head;
};

struct rules_arena *rules_arena_new(void)
{
        return calloc(1, sizeof(struct rules_arena));
}

struct rules_arena *rules_arena_free(struct rules_arena *arena)
{
        if (!arena)
                return NULL;
        while (arena->head) {
                struct rules_chunk *next = arena->head->next;

                free(arena->head);
                arena->head = next;
        }
        free(arena);
        return NULL;
}

void *rules_arena_alloc(struct rules_arena *arena, size_t n)
{
        const size_t align = alignof(max_align_t);
        struct rules_chunk *c = arena->head;
        size_t need = (n + align - 1) & ~(align - 1);

        if (need < n)
                return NULL;
        if (need == 0)
                need = align;
        if (!c || c->size - c->used < need) {
                size_t size = need > RULES_ARENA_CHUNK ? need : RULES_ARENA_CHUNK;

                if (size > SIZE_MAX - sizeof(*c))
                        return NULL;
                c = calloc(1, sizeof(*c) + size);
                if (!c)
                        return NULL;
                c->size = size;
                /* a block larger than a chunk goes behind the current one, which may still
                 * have room for small blocks */
                if (arena->head && need > RULES_ARENA_CHUNK) {
                        c->next = arena->head->next;
                        arena->head->next = c;
                        c->used = need;
                        return c->data;
                }
                c->next = arena->head;
                arena->head = c;
        }
        void *p = c->data + c->used;

        c->used += need;
        return p;
}

void *rules_arena_array(struct rules_arena *arena, size_t n, size_t size)
{
        if (size && n > SIZE_MAX / size)
                return NULL;
        return rules_arena_alloc(arena, n * size);
}

char *rules_arena_strndup(struct rules_arena *arena, const char *s, size_t len)
{
        char *p = rules_arena_alloc(arena, len + 1);

        if (p) {
                memcpy(p, s, len);
                p[len] = '\0';
        }
        return p;
}

char *rules_arena_strdup(struct rules_arena *arena, const char *s)
{
        return rules_arena_strndup(arena, s, strlen(s));
}
