/* rules/schedule: binary min-heap of (due, contact) plus an id -> slot hash map. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "rules/schedule.h"

#define MAP_EMPTY    INT64_MIN
#define MAP_MIN_SIZE 64 /* power of two */

struct heap_entry {
        int64_t due;
        int64_t contact;
};

struct map_entry {
        int64_t contact; /* MAP_EMPTY when free */
        uint32_t slot;
};

struct rules_schedule {
        struct heap_entry *heap;
        size_t n, cap;
        struct map_entry *map; /* linear probing, backward-shift deletion, load <= 1/2 */
        size_t map_size;
};

static size_t hash_id(int64_t id, size_t size)
{
        uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL; /* Fibonacci hashing */

        return (size_t)(x >> 32) & (size - 1);
}

static struct map_entry *map_find(const struct rules_schedule *s, int64_t id)
{
        for (size_t i = hash_id(id, s->map_size);; i = (i + 1) & (s->map_size - 1)) {
                if (s->map[i].contact == id)
                        return &s->map[i];
                if (s->map[i].contact == MAP_EMPTY)
                        return NULL;
        }
}

static void map_put(struct map_entry *map, size_t size, int64_t id, uint32_t slot)
{
        size_t i = hash_id(id, size);

        while (map[i].contact != MAP_EMPTY && map[i].contact != id)
                i = (i + 1) & (size - 1);
        map[i] = (struct map_entry){ id, slot };
}

static void map_del(struct rules_schedule *s, struct map_entry *e)
{
        size_t mask = s->map_size - 1, i = (size_t)(e - s->map), j = i;

        /* Backward shift: keep every entry reachable from its home slot. */
        for (;;) {
                j = (j + 1) & mask;
                if (s->map[j].contact == MAP_EMPTY)
                        break;
                size_t home = hash_id(s->map[j].contact, s->map_size);

                if (((j - home) & mask) >= ((j - i) & mask)) {
                        s->map[i] = s->map[j];
                        i = j;
                }
        }
        s->map[i].contact = MAP_EMPTY;
}

static int map_grow(struct rules_schedule *s)
{
        size_t size = s->map_size ? s->map_size * 2 : MAP_MIN_SIZE;
        /* calloc: the product is checked, and the analyzer, which follows one turn of the
         * loop below, sees no slot left unset */
        struct map_entry *map = calloc(size, sizeof(*map));

        if (!map)
                return -ENOMEM;
        for (size_t i = 0; i < size; i++)
                map[i].contact = MAP_EMPTY;
        for (size_t i = 0; i < s->map_size; i++)
                if (s->map[i].contact != MAP_EMPTY)
                        map_put(map, size, s->map[i].contact, s->map[i].slot);
        free(s->map);
        s->map = map;
        s->map_size = size;
        return 0;
}

struct rules_schedule *rules_schedule_new(void)
{
        struct rules_schedule *s = calloc(1, sizeof(*s));

        if (s && map_grow(s) < 0) {
                free(s);
                return NULL;
        }
        return s;
}

struct rules_schedule *rules_schedule_free(struct rules_schedule *s)
{
        if (s) {
                free(s->heap);
                free(s->map);
                free(s);
        }
        return NULL;
}

static void place(struct rules_schedule *s, size_t i, struct heap_entry e)
{
        s->heap[i] = e;
        map_find(s, e.contact)->slot = (uint32_t)i;
}

static bool before(const struct heap_entry *a, const struct heap_entry *b)
{
        /* Ties by id, so the order of a tick is reproducible. */
        return a->due < b->due || (a->due == b->due && a->contact < b->contact);
}

static void sift_up(struct rules_schedule *s, size_t i)
{
        struct heap_entry e = s->heap[i];

        while (i > 0 && before(&e, &s->heap[(i - 1) / 2])) {
                place(s, i, s->heap[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        place(s, i, e);
}

static void sift_down(struct rules_schedule *s, size_t i)
{
        struct heap_entry e = s->heap[i];

        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= s->n)
                        break;
                if (c + 1 < s->n && before(&s->heap[c + 1], &s->heap[c]))
                        c++;
                if (!before(&s->heap[c], &e))
                        break;
                place(s, i, s->heap[c]);
                i = c;
        }
        place(s, i, e);
}

static void heap_remove_at(struct rules_schedule *s, size_t i)
{
        map_del(s, map_find(s, s->heap[i].contact));
        s->n--;
        if (i == s->n)
                return;
        s->heap[i] = s->heap[s->n];
        map_find(s, s->heap[i].contact)->slot = (uint32_t)i;
        if (i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2]))
                sift_up(s, i);
        else
                sift_down(s, i);
}

int rules_schedule_set(struct rules_schedule *s, int64_t contact, int64_t due)
{
        struct map_entry *e;

        if (!s || contact == MAP_EMPTY)
                return -EINVAL;
        e = map_find(s, contact);
        if (due == RULES_SCHEDULE_NEVER) {
                if (e)
                        heap_remove_at(s, e->slot);
                return 0;
        }
        if (e) {
                size_t i = e->slot;
                int64_t old = s->heap[i].due;

                s->heap[i].due = due;
                if (due < old)
                        sift_up(s, i);
                else
                        sift_down(s, i);
                return 0;
        }
        if (s->n >= RULES_SCHEDULE_MAX)
                return -E2BIG;
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : MAP_MIN_SIZE;
                struct heap_entry *h = realloc(s->heap, cap * sizeof(*h));

                if (!h)
                        return -ENOMEM;
                s->heap = h;
                s->cap = cap;
        }
        if ((s->n + 1) * 2 > s->map_size && map_grow(s) < 0)
                return -ENOMEM;
        map_put(s->map, s->map_size, contact, (uint32_t)s->n);
        s->heap[s->n] = (struct heap_entry){ due, contact };
        sift_up(s, s->n++);
        return 0;
}

int rules_schedule_remove(struct rules_schedule *s, int64_t contact)
{
        struct map_entry *e = s && contact != MAP_EMPTY ? map_find(s, contact) : NULL;

        if (!e)
                return -ENOENT;
        heap_remove_at(s, e->slot);
        return 0;
}

int rules_schedule_get(const struct rules_schedule *s, int64_t contact, int64_t *ret_due)
{
        const struct map_entry *e = s && contact != MAP_EMPTY ? map_find(s, contact) : NULL;

        if (!e)
                return -ENOENT;
        *ret_due = s->heap[e->slot].due;
        return 0;
}

int rules_schedule_peek(const struct rules_schedule *s, int64_t *ret_due, int64_t *ret_contact)
{
        if (!s || s->n == 0)
                return -ENOENT;
        if (ret_due)
                *ret_due = s->heap[0].due;
        if (ret_contact)
                *ret_contact = s->heap[0].contact;
        return 0;
}

int rules_schedule_pop_due(struct rules_schedule *s, int64_t now, int64_t *ret_contact,
                           int64_t *ret_due)
{
        struct heap_entry top;

        if (!s || s->n == 0 || s->heap[0].due > now)
                return -ENOENT;
        top = s->heap[0];
        heap_remove_at(s, 0);
        *ret_contact = top.contact;
        if (ret_due)
                *ret_due = top.due;
        return 0;
}

size_t rules_schedule_count(const struct rules_schedule *s)
{
        return s ? s->n : 0;
}

size_t rules_schedule_memory(const struct rules_schedule *s)
{
        return s ? sizeof(*s) + s->cap * sizeof(*s->heap) + s->map_size * sizeof(*s->map) : 0;
}
